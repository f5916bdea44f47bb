/* SPDX-License-Identifier: MIT */
/*
 * FUSE callbacks. Layer: top. Each callback resolves its context, calls the
 * model and returns its -errno unchanged. File contents are snapshotted at
 * open and served with direct_io, so a read always returns whole,
 * consistent bytes even when the cloud changes between stat and read.
 * Writes are buffered and applied at flush, so close(2) reports them;
 * commands (actions, control files) run per line, so write(2) does.
 * Image data streams both ways (stream.c) with bounded memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sys/stat.h>

#include "cloudfs/fs.h"
#include "cloudfs/stream.h"

/* Specs, attribute values and commands are small. */
#define FS_WRITE_MAX (1u << 20)

struct handle {
	struct buf data; /* read snapshot, or bytes written so far */
	bool writing;
	bool dirty; /* written since the last commit */
	bool created; /* made by create(2): pending until release */
	bool committed; /* its bytes reached the cloud (or were refused) */
	enum model_wkind kind;
	struct stream *stream; /* image upload or download */
	pthread_mutex_t lock; /* one operation at a time per open file */
};

static struct project *project(void)
{
	return &((struct cloudfs *)fuse_get_context()->private_data)->project;
}

static struct handle *handle_of(const struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

bool fs_interrupted(void)
{
	return fuse_interrupted() != 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct cloudfs *fs = fuse_get_context()->private_data;
	double ttl = fs->cfg.cache_ttl_s, neg = fs->cfg.negative_ttl_s;

	/* The kernel may trust names and attributes as long as our cache
	 * would: whenever a document is refetched and differs, or we change
	 * it, the model tells the kernel to drop what it holds about its
	 * files (model_doc.c), and contents are always read afresh
	 * (direct_io). Each expiry would otherwise cost a LOOKUP and a
	 * GETATTR per file. */
	cfg->entry_timeout = ttl;
	cfg->attr_timeout = ttl;
	cfg->negative_timeout = neg < 1.0 ? neg : 1.0;
	cfg->use_ino = 0;
	cfg->kernel_cache = 0;
	cfg->nullpath_ok = 0;
	/* Uploads stream as the kernel delivers: big writes, never cached. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* Parallel pieces of one direct write would reach an upload out of
	 * order; the stream takes them one after the other. */
	conn->want &= ~FUSE_CAP_ASYNC_DIO;
	conn->max_write = 1u << 20;
	fs->project.notify = fs_notify;
	fs->project.notify_ctx = fs;
	return fs;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct handle *h = fi ? handle_of(fi) : NULL;
	int rc = model_getattr(project(), path, st);

	/* fstat on an open file describes what it holds. */
	if (h && !h->stream && (!rc || rc == -ENOENT)) {
		if (rc) {
			memset(st, 0, sizeof(*st));
			st->st_mode = S_IFREG | 0644;
		}
		st->st_size = (off_t)h->data.len;
		rc = 0;
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

static struct handle *handle_new(bool writing)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (h) {
		h->writing = writing;
		buf_init(&h->data, writing ? FS_WRITE_MAX : CFS_MAX_BODY);
		pthread_mutex_init(&h->lock, NULL);
	}
	return h;
}

static void handle_free(struct handle *h)
{
	stream_free(h->stream);
	buf_free(&h->data);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static int open_handle(const char *path, struct fuse_file_info *fi, bool created,
		       enum model_wkind kind)
{
	struct handle *h = handle_new(true);
	int rc = 0;

	if (!h)
		return -ENOMEM;
	h->created = created;
	h->kind = kind;
	if (kind == MODEL_W_UPLOAD)
		rc = stream_upload_new(project(), path, &h->stream);
	if (rc) {
		handle_free(h);
		return rc;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	enum model_wkind kind;
	int rc;

	(void)mode;
	rc = model_create(project(), path, &kind);
	if (rc)
		return rc;
	rc = open_handle(path, fi, true, kind);
	if (rc)
		model_done(project(), path);
	return rc;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct handle *h;
	enum model_wkind kind;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		rc = model_open_write(project(), path, &kind);
		return rc ? rc : open_handle(path, fi, false, kind);
	}
	rc = model_open(project(), path, fi->flags);
	if (rc)
		return rc;
	h = handle_new(false);
	if (!h)
		return -ENOMEM;
	rc = stream_download_new(project(), path, &h->stream);
	if (rc == -ENOTSUP)
		rc = model_read(project(), path, &h->data);
	if (rc) {
		handle_free(h);
		return rc;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	/* Nothing to commit when a reader closes: spare the kernel the FLUSH. */
	fi->noflush = 1;
	return 0;
}

/* read_buf, not read: image data is handed to the kernel in the memory it
 * was received in (libfuse frees it), not copied once more. */
static int fs_read_buf(const char *path, struct fuse_bufvec **bufp, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	struct fuse_bufvec *bv = malloc(sizeof(*bv));
	char *mem = NULL;
	int rc = 0;

	(void)path;
	if (!bv)
		return -ENOMEM;
	if (h->stream) {
		pthread_mutex_lock(&h->lock);
		rc = stream_read(h->stream, &mem, size, off);
		pthread_mutex_unlock(&h->lock);
	} else if (off >= 0 && (size_t)off < h->data.len) {
		if (size > h->data.len - (size_t)off)
			size = h->data.len - (size_t)off;
		mem = malloc(size);
		rc = mem ? (int)size : -ENOMEM;
		if (mem)
			memcpy(mem, h->data.data + off, size);
	}
	if (rc < 0) {
		free(bv);
		return rc;
	}
	*bv = (struct fuse_bufvec)FUSE_BUFVEC_INIT((size_t)rc);
	bv->buf[0].mem = mem;
	*bufp = bv;
	return 0;
}

/* Commands run per complete line, so write(2) fails on a bad one (shells
 * ignore close(2) errors of builtins like echo). */
static bool runs_per_line(enum model_wkind kind)
{
	return kind == MODEL_W_ACTION || kind == MODEL_W_CTL;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc;

	if (!h->writing)
		return -EBADF;
	pthread_mutex_lock(&h->lock);
	if (h->stream) {
		rc = stream_write(h->stream, buf, size, off);
		goto out;
	}
	rc = (int)size;
	if (buf_add(&h->data, buf, size)) {
		rc = -EFBIG;
		goto out;
	}
	h->dirty = true;
	if (runs_per_line(h->kind) && h->data.data[h->data.len - 1] == '\n') {
		int err = model_commit(project(), path, h->kind, h->data.data, h->data.len);

		h->dirty = false;
		buf_reset(&h->data);
		if (err)
			rc = err;
	}
out:
	pthread_mutex_unlock(&h->lock);
	return rc;
}

static int fs_flush(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc;

	if (!h->writing)
		return 0;
	if (h->stream) {
		pthread_mutex_lock(&h->lock);
		rc = stream_finish(h->stream, fuse_get_context()->pid);
		if (!rc && h->created && stream_completed(h->stream))
			model_done(project(), path);
		pthread_mutex_unlock(&h->lock);
		return rc;
	}
	/* Commit on the first flush that has data: close(2) reports it. A
	 * flush before any write (a shell dup'ing the fd before writing) has
	 * nothing to commit yet. */
	if (!h->dirty)
		return 0;
	pthread_mutex_lock(&h->lock);
	h->dirty = false;
	h->committed = true;
	rc = model_commit(project(), path, h->kind, h->data.data ? h->data.data : "", h->data.len);
	/* The resource exists from now on: the name stops being this file
	 * before close(2) returns, so the next command finds the link. */
	if (!rc && h->created && h->kind == MODEL_W_SPEC)
		model_done(project(), path);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);

	if (h->stream)
		stream_abort(h->stream);
	/* A new file closed without a byte (`touch`) creates with an empty
	 * spec; nobody waits for this result, so it is only logged. */
	if (h->created && !h->committed && !h->stream && h->kind == MODEL_W_SPEC) {
		int rc = model_commit(project(), path, h->kind, "", 0);

		(void)rc; /* already in .cloudfs/errors */
	}
	/* Until now the kernel had a file here; the cloud may have a
	 * directory (or a link) by that name from now on. */
	if (h->created)
		model_done(project(), path);
	handle_free(h);
	return 0;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct handle *h = fi ? handle_of(fi) : NULL;
	enum model_wkind kind;
	int rc;

	if (h && h->stream) {
		pthread_mutex_lock(&h->lock);
		rc = stream_truncate(h->stream, size);
		pthread_mutex_unlock(&h->lock);
		return rc;
	}
	/* open(O_TRUNC) of a writable file: its new value comes with close. */
	if (h && h->writing)
		return size == 0 ? 0 : -EINVAL;
	if (size == 0 && !model_open_write(project(), path, &kind))
		return 0;
	return -EACCES;
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

static int fs_mkdir(const char *path, mode_t mode)
{
	(void)mode;
	return model_mkdir(project(), path);
}

static int fs_rmdir(const char *path)
{
	return model_rmdir(project(), path);
}

static int fs_unlink(const char *path)
{
	return model_unlink(project(), path);
}

static int fs_symlink(const char *target, const char *path)
{
	return model_symlink(project(), target, path);
}

static int fs_refuse_link(const char *from, const char *to)
{
	(void)from;
	(void)to;
	return -EPERM;
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
	(void)flags;
	/* Renaming is `echo new-name > <dir>/name`. */
	return fs_refuse_link(from, to);
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EPERM;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)path;
	(void)uid;
	(void)gid;
	(void)fi;
	return -EPERM;
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	(void)tv;
	(void)fi;
	/* `touch` on something that exists: nothing to change, not an error
	 * worth failing a script for. */
	return model_getattr(project(), path, &(struct stat){ 0 });
}

static const struct fuse_operations fs_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.readdir = fs_readdir,
	.open = fs_open,
	.create = fs_create,
	.read_buf = fs_read_buf,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.truncate = fs_truncate,
	.statfs = fs_statfs,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.unlink = fs_unlink,
	.symlink = fs_symlink,
	.link = fs_refuse_link,
	.rename = fs_rename,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.utimens = fs_utimens,
};

const struct fuse_operations *fs_operations(void)
{
	return &fs_ops;
}
