/* SPDX-License-Identifier: MIT */
/*
 * FUSE callbacks. Layer: top. Each callback resolves its context, calls one
 * model function and returns its -errno unchanged. File contents are
 * snapshotted at open and served with direct_io, so a read always returns
 * whole, consistent bytes even when the cloud changes between stat and read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/fs.h"

/* An open file: the snapshot to read, or the bytes written to a control
 * file, committed at flush so close(2) reports the result. */
struct handle {
	struct buf data;
	bool writing;
	bool dirty;
};

#define FS_CTL_WRITE_MAX 4096

static struct project *project(void)
{
	return &((struct cloudfs *)fuse_get_context()->private_data)->project;
}

bool fs_interrupted(void)
{
	return fuse_interrupted() != 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct cloudfs *fs = fuse_get_context()->private_data;
	double ttl = fs->cfg.cache_ttl_s, neg = fs->cfg.negative_ttl_s;

	(void)conn;
	/* The kernel may trust an entry for as long as our cache would, but
	 * never long: an entry older than a second is re-checked against the
	 * cache, which is cheap, so cache expiry shows within the TTL. */
	cfg->entry_timeout = ttl < 1.0 ? ttl : 1.0;
	cfg->attr_timeout = cfg->entry_timeout;
	cfg->negative_timeout = neg < 1.0 ? neg : 1.0;
	cfg->use_ino = 0;
	cfg->kernel_cache = 0;
	cfg->nullpath_ok = 0;
	return fs;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	int rc = model_getattr(project(), path, st);

	/* fstat on an open file describes its snapshot. */
	if (fi && fi->fh) {
		struct handle *h = (struct handle *)(uintptr_t)fi->fh;

		if (!rc || rc == -ENOENT) {
			st->st_size = (off_t)h->data.len;
			rc = 0;
		}
	}
	return rc;
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	return model_readlink(project(), path, buf, size);
}

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

static int fill_one(void *arg, const char *name, const struct stat *st)
{
	struct fill_ctx *fc = arg;

	return fc->filler(fc->buf, name, st, 0, FUSE_FILL_DIR_PLUS);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fill_ctx fc = { buf, filler };

	(void)off;
	(void)fi;
	(void)flags;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	return model_readdir(project(), path, fill_one, &fc);
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct handle *h;
	int rc = model_open(project(), path, fi->flags);

	if (rc)
		return rc;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	buf_init(&h->data, h->writing ? FS_CTL_WRITE_MAX : CFS_MAX_BODY);
	if (!h->writing) {
		rc = model_read(project(), path, &h->data);
		if (rc) {
			buf_free(&h->data);
			free(h);
			return rc;
		}
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	(void)path;
	if (off < 0 || (size_t)off >= h->data.len)
		return 0;
	if (size > h->data.len - (size_t)off)
		size = h->data.len - (size_t)off;
	memcpy(buf, h->data.data + off, size);
	return (int)size;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	(void)off;
	if (!h->writing)
		return -EBADF;
	if (buf_add(&h->data, buf, size))
		return -EFBIG;
	h->dirty = true;
	/* A complete line is a command: run it now, so the writer's write(2)
	 * fails on a bad one (shells ignore close(2) errors of builtins). */
	if (h->data.data[h->data.len - 1] == '\n') {
		int rc = model_write(project(), path, h->data.data, h->data.len);

		h->dirty = false;
		buf_reset(&h->data);
		if (rc)
			return rc;
	}
	return (int)size;
}

static int fs_flush(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	int rc;

	if (!h->writing || !h->dirty)
		return 0;
	/* Commit on the first flush that has data: close(2) sees the result. */
	h->dirty = false;
	rc = model_write(project(), path, h->data.data ? h->data.data : "", h->data.len);
	buf_reset(&h->data);
	return rc;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	(void)path;
	buf_free(&h->data);
	free(h);
	return 0;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	/* `echo x > .cloudfs/refresh` truncates before writing. */
	if (size == 0 && !model_open(project(), path, O_WRONLY))
		return 0;
	return -EROFS;
}

static int fs_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_namemax = 255;
	return 0;
}

static int fs_rofs_path(const char *path, mode_t mode)
{
	(void)path;
	(void)mode;
	return -EROFS;
}

static int fs_rofs_1(const char *path)
{
	(void)path;
	return -EROFS;
}

static int fs_rofs_2(const char *from, const char *to)
{
	(void)from;
	(void)to;
	return -EROFS;
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
	(void)flags;
	return fs_rofs_2(from, to);
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	return fs_rofs_path(path, mode);
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	return fs_rofs_path(path, mode);
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)uid;
	(void)gid;
	(void)fi;
	return fs_rofs_1(path);
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	(void)tv;
	(void)fi;
	return fs_rofs_1(path);
}

static const struct fuse_operations fs_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.truncate = fs_truncate,
	.statfs = fs_statfs,
	.mkdir = fs_rofs_path,
	.create = fs_create,
	.mknod = NULL,
	.unlink = fs_rofs_1,
	.rmdir = fs_rofs_1,
	.symlink = fs_rofs_2,
	.link = fs_rofs_2,
	.rename = fs_rename,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.utimens = fs_utimens,
};

const struct fuse_operations *fs_operations(void)
{
	return &fs_ops;
}
