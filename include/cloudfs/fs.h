/* SPDX-License-Identifier: MIT */
/*
 * The FUSE adapter: thin callbacks over the model. With main.c, the only
 * code that includes <fuse.h>.
 */
#ifndef CLOUDFS_FS_H
#define CLOUDFS_FS_H

#include <fuse.h>

#include "cloudfs/api.h"
#include "cloudfs/auth.h"
#include "cloudfs/config.h"
#include "cloudfs/model.h"

/* Everything a mount owns; reaches callbacks as fuse private_data. */
struct cloudfs {
	struct config cfg;
	struct auth *auth;
	struct session sess;
	struct project project; /* the mount root */
	char *mountpoint; /* absolute */
	struct fuse *fuse;
};

const struct fuse_operations *fs_operations(void);
/* The model's notify hook (fs_notify.c): tells the kernel to drop what it
 * caches about @path. @fs is the struct cloudfs. */
void fs_notify(void *fs, const char *path, enum model_notify kind);
/* True when the request this thread serves was interrupted (Ctrl-C). */
bool fs_interrupted(void);

#endif
