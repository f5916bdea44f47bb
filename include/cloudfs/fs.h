/* SPDX-License-Identifier: MIT */
/*
 * The FUSE adapter: thin callbacks over the model. With main.c, the only
 * code that includes libfuse.
 */
#ifndef CLOUDFS_FS_H
#define CLOUDFS_FS_H

#include <fuse_lowlevel.h>

#include "cloudfs/api.h"
#include "cloudfs/auth.h"
#include "cloudfs/config.h"
#include "cloudfs/inodes.h"
#include "cloudfs/model.h"

/* Everything a mount owns; reaches callbacks as the session's userdata. */
struct cloudfs {
	struct config cfg;
	struct auth *auth;
	struct session sess;
	struct project project; /* the mount root */
	struct inodes *inodes; /* the kernel's node ids */
	struct fuse_session *se; /* set once mounted */
};

const struct fuse_lowlevel_ops *fs_operations(void);
/* The model's notify hook (fs_notify.c): tells the kernel to drop what it
 * caches about @path. @fs is the struct cloudfs. */
void fs_notify(void *fs, const char *path, enum model_notify kind);
/* True when the request this thread serves was interrupted (Ctrl-C). */
bool fs_interrupted(void);
/* True while this thread serves a request during which the kernel holds a
 * directory's lock (lookup, readdir, mkdir, ...): the kernel cannot be told
 * to forget a name in it until the request is answered. */
bool fs_holds_dir(void);

#endif
