/* SPDX-License-Identifier: MIT */
/*
 * The filesystem core, without FUSE: path → stat, directory entries, bytes.
 * A project (the mount root today) is a node whose children are the
 * collections; everything below is derived from cached API documents.
 * Layer: called by fs.c; calls tree/render (pure), cache and api.
 */
#ifndef CLOUDFS_MODEL_H
#define CLOUDFS_MODEL_H

#include <sys/stat.h>
#include <sys/types.h>

#include "cloudfs/api.h"
#include "cloudfs/buf.h"
#include "cloudfs/cache.h"

struct project {
	struct session *sess; /* borrowed */
	struct cache *cache; /* owned */
	int64_t ttl_ms;
	int64_t neg_ttl_ms;
	int64_t mount_time_s;
	uid_t uid;
	gid_t gid;
};

/* Called for each directory entry; @st is complete (for readdirplus).
 * Returns non-zero to stop. */
typedef int (*model_fill_fn)(void *ctx, const char *name, const struct stat *st);

int model_project_init(struct project *p, struct session *sess, int64_t ttl_ms,
		       int64_t neg_ttl_ms) CFS_WARN_UNUSED;
void model_project_cleanup(struct project *p);

/* Paths are relative to the project and start with '/'. All return 0 or
 * -errno. */
int model_getattr(struct project *p, const char *path, struct stat *st) CFS_WARN_UNUSED;
int model_readdir(struct project *p, const char *path, model_fill_fn fill,
		  void *ctx) CFS_WARN_UNUSED;
int model_readlink(struct project *p, const char *path, char *buf, size_t size) CFS_WARN_UNUSED;
/* The file's whole contents now (callers snapshot it at open). */
int model_read(struct project *p, const char *path, struct buf *out) CFS_WARN_UNUSED;
/* May @path be opened with @flags? -EROFS for writes to cloud files. */
int model_open(struct project *p, const char *path, int flags) CFS_WARN_UNUSED;
/* A write to a control file (whole contents, at close). */
int model_write(struct project *p, const char *path, const char *data, size_t len) CFS_WARN_UNUSED;

#endif
