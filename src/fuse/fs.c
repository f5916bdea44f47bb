/* SPDX-License-Identifier: MIT */
/*
 * FUSE callbacks, on libfuse's low-level API. Layer: top. Each callback
 * turns node ids into paths (inodes.c), calls the core and replies with
 * its -errno unchanged: what an open file means (snapshots, ESTALE, the
 * write buffer, commit at flush, a wait's status) is src/core/handle.c's;
 * this file keeps what only FUSE has: the reply flags (keep_cache,
 * direct_io, noflush), the page cache filled at a version's first open, a
 * parked READ (its request and interrupt hook), waiting for the notifier
 * before a create's close returns, directory snapshots with readdirplus,
 * xattr replies, and the list of what the kernel still holds open.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sys/stat.h>

#include "cloudfs/clock.h"
#include "cloudfs/dirlist.h"
#include "cloudfs/fs.h"
#include "cloudfs/handle.h"
#include "cloudfs/leftovers.h"
#include "cloudfs/loan.h"

/* d_ino of an entry the kernel has no inode for yet (as libfuse's). */
#define FS_UNKNOWN_INO 0xffffffffu

/* What a file's fi->fh points at: the core's open file, on the list of
 * what the kernel holds open. */
struct fs_file {
	struct fs_open_link link; /* first: a link is its file */
	struct handle *h;
};

static struct handle *handle_of(const struct fuse_file_info *fi)
{
	return ((struct fs_file *)(uintptr_t)fi->fh)->h;
}

/* An open directory: its entries as of the opendir, or of the last readdir
 * at offset 0 (a rewinddir), so later offsets index the same list. */
struct dir {
	struct fs_open_link link; /* first: a link is its dir */
	struct cloudfs *fs;
	char *path;
	struct dirlist e; /* st_ino: the model's version */
	bool filled;
	bool unread; /* filled by the opendir, not yet read from offset 0 */
	pthread_mutex_t lock;
};

/* ---- what the kernel holds open ------------------------------------- */

void fs_open_init(struct fs_open *o)
{
	o->head = NULL;
	pthread_mutex_init(&o->lock, NULL);
}

static void open_add(struct fs_open *o, struct fs_open_link *l, bool dir)
{
	l->dir = dir;
	l->prev = NULL;
	pthread_mutex_lock(&o->lock);
	l->next = o->head;
	if (o->head)
		o->head->prev = l;
	o->head = l;
	pthread_mutex_unlock(&o->lock);
}

static void open_del(struct fs_open *o, struct fs_open_link *l)
{
	pthread_mutex_lock(&o->lock);
	if (l->prev)
		l->prev->next = l->next;
	else if (o->head == l)
		o->head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
	pthread_mutex_unlock(&o->lock);
}

/* The request this thread serves, until it is answered: interrupts are
 * asked of it. */
static __thread fuse_req_t cur_req;

static struct cloudfs *begin(fuse_req_t req)
{
	cur_req = req;
	return fuse_req_userdata(req);
}

/* Called before each reply: the request is freed by it. */
static void leave(void)
{
	cur_req = NULL;
}

static void reply_err(fuse_req_t req, int rc)
{
	leave();
	fuse_reply_err(req, -rc);
}

bool fs_interrupted(void)
{
	return cur_req && fuse_req_interrupted(cur_req);
}

static double ttl(const struct cloudfs *fs)
{
	return fs->cfg.cache_ttl_s;
}

/* @dir/@name, to free(). */
static int join(const char *dir, const char *name, char **out)
{
	*out = NULL;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	if (asprintf(out, "%s/%s", strcmp(dir, "/") ? dir : "", name) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	if (strlen(*out) >= PATH_MAX) {
		free(*out);
		*out = NULL;
		return -ENAMETOOLONG;
	}
	return 0;
}

/* The path of @name in directory @parent, to free(). */
static int child_path(struct cloudfs *fs, fuse_ino_t parent, const char *name, char **out)
{
	char *dir = NULL;
	int rc = inodes_get(fs->inodes, parent, &dir, NULL, NULL);

	*out = NULL;
	if (!rc)
		rc = join(dir, name, out);
	free(dir);
	return rc;
}

/* Gives the file e->attr describes, at @path, its inode (counting one
 * kernel lookup) and the kernel's timeouts. */
static int entry_bind(struct cloudfs *fs, const char *path, struct fuse_entry_param *e)
{
	int rc = inodes_lookup(fs->inodes, path, &e->attr);

	if (rc)
		return rc;
	e->ino = e->attr.st_ino;
	e->attr_timeout = e->entry_timeout = ttl(fs);
	return 0;
}

/* Answers a lookup-like request with @path's inode. On failure nothing is
 * sent: the caller answers. */
_Static_assert(sizeof(((struct model_seen *)0)->bytes) <= INODES_SMALL,
	       "the bytes a lookup sees fit in an inode");

static int reply_entry(fuse_req_t req, struct cloudfs *fs, const char *path)
{
	struct fuse_entry_param e = { 0 };
	struct model_seen seen;
	int rc = model_getattr_seen(&fs->project, path, &e.attr, &seen);

	if (!rc)
		rc = entry_bind(fs, path, &e);
	if (rc)
		return rc;
	/* The inode is this version's: what rendering it saw spares its
	 * first open from rendering it again (open_unchanged()). */
	if (seen.source)
		inodes_set_seen(fs->inodes, e.ino, seen.source, seen.small ? seen.bytes : NULL,
				seen.len);
	leave();
	/* Not delivered (interrupted): the kernel will not forget it. */
	if (fuse_reply_entry(req, &e))
		inodes_forget(fs->inodes, e.ino, 1);
	return 0;
}

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct cloudfs *fs = userdata;

	/* Uploads stream as the kernel delivers: big writes, never cached. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* Parallel pieces of one direct write would reach an upload out of
	 * order; the stream takes them one after the other. */
	conn->want &= ~FUSE_CAP_ASYNC_DIO;
	/* An inode's cached bytes go only with the inode (one per version),
	 * never because of its times. */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	conn->max_write = 1u << 20;
	/* Every READDIR carries the entries' attributes, not only the first
	 * (the kernel's "auto" mode): ls -l reads the whole directory before
	 * it stats, so each entry past the first batch cost a LOOKUP round
	 * trip (10,000 for a 10,000-object directory). */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	fs->project.notify = fs_notify;
	fs->project.notify_ctx = fs;
	/* Deletes what an earlier, killed cloudfs left half-uploaded, and
	 * retries cleanups Glance refused. */
	leftovers_start(fs->project.leftovers);
}

/* At unmount: owed cleanup DELETEs get one more try, within `timeout`. */
static void fs_destroy(void *userdata)
{
	struct cloudfs *fs = userdata;

	leftovers_stop(fs->project.leftovers,
		       clock_now_ms() + (int64_t)(fs->project.sess->cfg->timeout_s * 1000));
	/* Waits still parked end now, while their requests can be answered. */
	model_waits_stop(&fs->project);
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct cloudfs *fs = begin(req);
	char *path;
	int rc = child_path(fs, parent, name, &path);

	if (!rc)
		rc = reply_entry(req, fs, path);
	if (rc == -ENOENT) {
		struct fuse_entry_param e = { .ino = 0 };

		e.entry_timeout = fs->cfg.negative_ttl_s < 1.0 ? fs->cfg.negative_ttl_s : 1.0;
		leave();
		fuse_reply_entry(req, &e);
	} else if (rc) {
		reply_err(req, rc);
	}
	free(path);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct cloudfs *fs = fuse_req_userdata(req);

	inodes_forget(fs->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	struct cloudfs *fs = fuse_req_userdata(req);

	for (size_t i = 0; i < count; i++)
		inodes_forget(fs->inodes, f[i].ino, f[i].nlookup);
	fuse_reply_none(req);
}

/* @ino's attributes now. A version's never change: one whose file has
 * new contents by now still describes the bytes its holders read (and is
 * known even when the cloud cannot be asked). An open file being written
 * describes what it holds. */
static int attrs_of(struct cloudfs *fs, fuse_ino_t ino, struct handle *h, struct stat *st)
{
	struct stat bound;
	uint64_t version;
	off_t size;
	char *path;
	int rc = inodes_get(fs->inodes, ino, &path, &version, &bound);

	if (rc)
		return rc;
	rc = model_getattr(&fs->project, path, st);
	free(path);
	if (version && rc != -ENOENT && (rc || (uint64_t)st->st_ino != version)) {
		*st = bound;
		rc = 0;
	}
	/* What the kernel holds as a file cannot turn into a directory or a
	 * link: that is another inode, found by looking the name up. */
	if (!rc && !h && ino != INODES_ROOT && (st->st_mode ^ bound.st_mode) & S_IFMT)
		rc = -ENOENT;
	if (h && (!rc || rc == -ENOENT) && handle_size(h, &size)) {
		if (rc) {
			memset(st, 0, sizeof(*st));
			st->st_mode = S_IFREG | 0644;
		}
		st->st_size = size;
		rc = 0;
	}
	st->st_ino = ino;
	return rc;
}

static void reply_attrs(fuse_req_t req, struct cloudfs *fs, fuse_ino_t ino, struct handle *h)
{
	struct stat st;
	int rc = attrs_of(fs, ino, h, &st);

	if (rc) {
		reply_err(req, rc);
		return;
	}
	/* A refetch this getattr led may have changed other files' sizes. */
	fs_notify_settle_mine(fs, 250);
	leave();
	fuse_reply_attr(req, &st, ttl(fs));
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);

	reply_attrs(req, fs, ino, fi ? handle_of(fi) : NULL);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct cloudfs *fs = begin(req);
	char target[PATH_MAX], *path = NULL;
	int rc = inodes_get(fs->inodes, ino, &path, NULL, NULL);

	if (!rc)
		rc = model_readlink(&fs->project, path, target, sizeof(target));
	free(path);
	if (rc) {
		reply_err(req, rc);
		return;
	}
	leave();
	fuse_reply_readlink(req, target);
}

/* ---- directories ------------------------------------------------------ */

static int dir_add(void *arg, const char *name, const struct stat *st)
{
	struct dir *d = arg;

	/* Unknown (NULL): no type, and no attributes for readdirplus. */
	return dirlist_add(&d->e, name, st);
}

static void dir_clear(struct dir *d)
{
	dirlist_clear(&d->e);
	d->filled = false;
}

static void dir_free(struct dir *d)
{
	open_del(&d->fs->open, &d->link);
	dirlist_free(&d->e);
	free(d->path);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static int dir_fill(struct cloudfs *fs, struct dir *d)
{
	int rc;

	dir_clear(d);
	rc = dir_add(d, ".", &(struct stat){ .st_mode = S_IFDIR });
	if (!rc)
		rc = dir_add(d, "..", &(struct stat){ .st_mode = S_IFDIR });
	if (!rc)
		rc = model_readdir(&fs->project, d->path, dir_add, d);
	d->filled = !rc;
	return rc;
}

/* The listing is read here rather than at the first readdir: during a
 * readdir the kernel holds the directory, so the names found gone could be
 * forgotten by the kernel only after it, and an `ls` that no longer shows a
 * name could be followed by a `test -e` that still finds it. An opendir
 * holds nothing: it waits (bounded) until the notifier has told the kernel,
 * then answers. */
static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	struct dir *d = calloc(1, sizeof(*d));
	int rc = d ? inodes_get(fs->inodes, ino, &d->path, NULL, NULL) : -ENOMEM;

	if (rc) {
		free(d);
		reply_err(req, rc);
		return;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->fs = fs;
	open_add(&fs->open, &d->link, true);
	rc = dir_fill(fs, d);
	if (rc) {
		dir_free(d);
		reply_err(req, rc);
		return;
	}
	d->unread = true;
	fs_notify_settle(fs, 250);
	fi->fh = (uint64_t)(uintptr_t)d;
	leave();
	if (fuse_reply_open(req, fi))
		dir_free(d);
}

static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/* Adds entry @i to @buf (@left bytes free) as a readdirplus entry, which
 * counts as a lookup; 0 if it does not fit. */
static size_t add_plus(fuse_req_t req, struct cloudfs *fs, struct dir *d, size_t i, char *buf,
		       size_t left, fuse_ino_t self)
{
	const char *name = dirlist_name(&d->e, i);
	struct fuse_entry_param e = { .ino = 0 };
	size_t need = fuse_add_direntry_plus(req, NULL, 0, name, NULL, 0);
	char *path;

	if (need > left)
		return 0;
	dirlist_stat(&d->e, i, &e.attr);
	if (is_dot(name)) {
		/* No inode: the kernel does not link "." and "..". */
		e.attr.st_ino = strcmp(name, ".") ? FS_UNKNOWN_INO : self;
	} else if (!e.attr.st_mode) {
		e.attr.st_ino = FS_UNKNOWN_INO; /* the kernel looks it up */
	} else if (!join(d->path, name, &path)) {
		if (entry_bind(fs, path, &e))
			e.attr.st_ino = FS_UNKNOWN_INO;
		free(path);
	}
	return fuse_add_direntry_plus(req, buf, left, name, &e, (off_t)i + 1);
}

static size_t add_plain(fuse_req_t req, struct cloudfs *fs, struct dir *d, size_t i, char *buf,
			size_t left)
{
	const char *name = dirlist_name(&d->e, i);
	struct stat st = { .st_mode = dirlist_mode(&d->e, i), .st_ino = FS_UNKNOWN_INO };
	size_t need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	uint64_t ino;
	char *path;

	if (need > left)
		return 0;
	if (!is_dot(name) && !join(d->path, name, &path)) {
		if (inodes_find(fs->inodes, path, &ino, NULL))
			st.st_ino = (ino_t)ino;
		free(path);
	}
	return fuse_add_direntry(req, buf, left, name, &st, (off_t)i + 1);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct cloudfs *fs = begin(req);
	struct dir *d = (struct dir *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	size_t pos = 0;
	int rc = buf ? 0 : -ENOMEM;

	pthread_mutex_lock(&d->lock);
	if (!rc && ((off == 0 && !d->unread) || !d->filled))
		rc = dir_fill(fs, d);
	d->unread = false;
	for (size_t i = (size_t)off; !rc && i < d->e.n; i++) {
		size_t n = plus ? add_plus(req, fs, d, i, buf + pos, size - pos, ino)
				: add_plain(req, fs, d, i, buf + pos, size - pos);

		if (!n)
			break;
		pos += n;
	}
	pthread_mutex_unlock(&d->lock);
	if (rc) {
		reply_err(req, rc);
	} else {
		leave();
		fuse_reply_buf(req, buf, pos);
	}
	free(buf);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir *d = (struct dir *)(uintptr_t)fi->fh;

	(void)ino;
	dir_free(d);
	fuse_reply_err(req, 0);
}

/* ---- files ------------------------------------------------------------ */

/* Puts @h, in @f (allocated before the handle was opened, so that
 * nothing fails once it is), on the open list and in @fi. */
static void file_add(struct cloudfs *fs, struct fs_file *f, struct handle *h,
		     struct fuse_file_info *fi)
{
	f->h = h;
	open_add(&fs->open, &f->link, false);
	fi->fh = (uint64_t)(uintptr_t)f;
	/* A version's bytes never change: the kernel may keep them. */
	fi->keep_cache = handle_versioned(h);
	fi->direct_io = !fi->keep_cache;
	/* Nothing to commit when a reader closes: spare the kernel the FLUSH. */
	fi->noflush = !handle_writing(h);
}

/* What release does, also for an open the kernel never got (interrupted). */
static void file_close(struct cloudfs *fs, struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;

	open_del(&fs->open, &f->link);
	handle_close(f->h);
	free(f);
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	struct fuse_entry_param e = { 0 };
	struct fs_file *f = NULL;
	struct handle *h;
	char *path;
	int rc = child_path(fs, parent, name, &path);

	(void)mode;
	if (!rc && !(f = calloc(1, sizeof(*f))))
		rc = -ENOMEM;
	if (!rc)
		rc = handle_create(&fs->project, path, &h);
	if (rc) {
		free(f);
		goto out;
	}
	file_add(fs, f, h, fi);
	rc = model_getattr(&fs->project, path, &e.attr);
	if (!rc)
		rc = entry_bind(fs, path, &e);
	if (rc) {
		file_close(fs, fi);
		goto out;
	}
	leave();
	if (fuse_reply_create(req, &e, fi)) {
		file_close(fs, fi);
		inodes_forget(fs->inodes, e.ino, 1);
	}
out:
	if (rc)
		reply_err(req, rc);
	free(path);
}

/* handle_fill()'s store: into the kernel's page cache. */
static void store_pages(void *ctx, uint64_t ino, const void *data, size_t len)
{
	struct cloudfs *fs = ctx;
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(len);

	bv.buf[0].mem = (void *)data;
	fuse_lowlevel_notify_store(fs->se, ino, 0, &bv, 0);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	struct fs_file *f = NULL;
	struct handle *h;
	uint64_t version;
	char *path = NULL;
	int rc = inodes_get(fs->inodes, ino, &path, &version, NULL);

	if (!rc && !(f = calloc(1, sizeof(*f))))
		rc = -ENOMEM;
	if (!rc)
		rc = handle_open(&fs->project, fs->inodes, ino, path, version, fi->flags, &h);
	if (rc) {
		free(f);
		goto out;
	}
	file_add(fs, f, h, fi);
	/* At a version's first open its bytes go to the page cache before
	 * the open is answered: the reader's read(2) then costs no READ (nor
	 * the GETATTR after one). */
	handle_fill(h, fs->inodes, ino, store_pages, fs);
	/* Its size became known at this open: the kernel drops the 0 it
	 * holds before the open is answered, so the opener's fstat(2) (cp,
	 * which sizes its copy by it) asks again. */
	if (handle_resized(h))
		fs_notify_settle(fs, 250);
	else
		fs_notify_settle_mine(fs, 250);
	leave();
	if (fuse_reply_open(req, fi))
		file_close(fs, fi);
out:
	if (rc)
		reply_err(req, rc);
	free(path);
}

/*
 * A read of a "wait" file, parked: no thread waits for the resource, so a
 * hundred waiting scripts hold none of the FUSE workers. The core's waits
 * thread answers it (parked_done()); Ctrl-C cancels it (parked_interrupt()).
 * The request is answered exactly once, by parked_done(), and @lock keeps
 * the answer from overtaking the parking.
 */
struct parked {
	pthread_mutex_t lock; /* held while the read is being parked */
	fuse_req_t req;
	struct handle *h;
	size_t size;
	off_t off;
	struct model_wait *w; /* valid until parked_done() returns */
};

/* From the thread that reads the kernel's INTERRUPT, under libfuse's
 * request lock; parked_done() clears it before answering. */
static void parked_interrupt(fuse_req_t req, void *data)
{
	struct parked *pk = data;

	(void)req;
	handle_wait_cancel(pk->h, pk->w);
}

static void parked_done(void *ctx, int rc, const char *text, size_t len)
{
	struct parked *pk = ctx;
	char *mem = NULL;

	/* The parking is complete (its interrupt hook is set)... */
	pthread_mutex_lock(&pk->lock);
	pthread_mutex_unlock(&pk->lock);
	/* ...and no interrupt hook runs from now on: this waits for one
	 * that does, under the request's lock. */
	fuse_req_interrupt_func(pk->req, NULL, NULL);
	rc = handle_waited(pk->h, rc, text, len, pk->size, pk->off, &mem);
	if (rc < 0)
		fuse_reply_err(pk->req, -rc);
	else
		fuse_reply_buf(pk->req, mem, (size_t)rc);
	free(mem);
	pthread_mutex_destroy(&pk->lock);
	free(pk);
}

static void park_read(fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	struct parked *pk = calloc(1, sizeof(*pk));
	int rc;

	if (!pk) {
		reply_err(req, -ENOMEM);
		return;
	}
	pk->req = req;
	pk->h = h;
	pk->size = size;
	pk->off = off;
	pthread_mutex_init(&pk->lock, NULL);
	leave(); /* answered from another thread */
	pthread_mutex_lock(&pk->lock);
	rc = handle_wait_start(h, parked_done, pk, &pk->w);
	if (!rc)
		fuse_req_interrupt_func(req, parked_interrupt, pk);
	pthread_mutex_unlock(&pk->lock);
	if (rc) {
		pthread_mutex_destroy(&pk->lock);
		free(pk);
		fuse_reply_err(req, -rc);
	}
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct loan l = LOAN_INIT;
	char *mem = NULL;
	int rc;

	(void)begin(req);
	(void)ino;
	/* A download's bytes are lent where they were received: the loan keeps
	 * that memory even if the file is released as soon as the reply lands. */
	rc = handle_read_loan(handle_of(fi), size, off, &mem, &l);
	if (rc == -EINPROGRESS) {
		park_read(req, handle_of(fi), size, off);
		return;
	}
	if (rc < 0) {
		reply_err(req, rc);
		return;
	}
	leave();
	if (l.n)
		fuse_reply_iov(req, l.iov, l.n);
	else
		fuse_reply_buf(req, mem, (size_t)rc);
	free(mem);
	loan_release(&l);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	bool made;
	int rc = handle_write(handle_of(fi), buf, size, off, fuse_req_ctx(req)->pid, &made);

	(void)ino;
	/* The write that completed a spec made the resource: as fs_flush(). */
	if (made)
		fs_notify_settle(fs, 250);
	if (rc < 0) {
		reply_err(req, rc);
		return;
	}
	leave();
	fuse_reply_write(req, (size_t)rc);
}

static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	bool made;
	int rc = handle_flush(handle_of(fi), fuse_req_ctx(req)->pid, &made);

	(void)ino;
	/* A created name is a directory from now on, and the kernel is told
	 * so before close(2) returns: `cp t stacks/web && cat stacks/web/wait`
	 * must not find the file the kernel still holds (ENOTDIR). A flush
	 * holds no directory of the kernel's and no lock of the core's, so
	 * waiting for the notifier here cannot deadlock. */
	if (made)
		fs_notify_settle(fs, 250);
	reply_err(req, rc);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);

	(void)ino;
	file_close(fs, fi);
	reply_err(req, 0);
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	struct handle *h = fi ? handle_of(fi) : NULL;
	struct stat st;
	char *path;
	int rc = inodes_get(fs->inodes, ino, &path, NULL, NULL);

	if (rc)
		goto out;
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		rc = -EPERM;
	else if (to_set & FUSE_SET_ATTR_SIZE)
		rc = handle_truncate(&fs->project, path, h, attr->st_size);
	/* Explicit times (cp -p, rsync -t, touch -d) are refused where the
	 * cloud keeps its own; "now" (touch) changes nothing anywhere. */
	if (!rc && (((to_set & FUSE_SET_ATTR_MTIME) && !(to_set & FUSE_SET_ATTR_MTIME_NOW)) ||
		    ((to_set & FUSE_SET_ATTR_ATIME) && !(to_set & FUSE_SET_ATTR_ATIME_NOW))))
		rc = model_set_times(&fs->project, path);
	/* Times: `touch` on something that exists has nothing to change, and
	 * is not an error worth failing a script for. */
	if (!rc)
		rc = attrs_of(fs, ino, h, &st);
	free(path);
out:
	if (rc) {
		reply_err(req, rc);
		return;
	}
	/* A refetch this getattr led may have changed other files' sizes. */
	fs_notify_settle_mine(fs, 250);
	leave();
	fuse_reply_attr(req, &st, ttl(fs));
}

/* ---- names ------------------------------------------------------------ */

/* mkdir and symlink: @rc is the model's; the new name is looked up. */
static void reply_made(fuse_req_t req, struct cloudfs *fs, const char *path, int rc)
{
	if (!rc)
		rc = reply_entry(req, fs, path);
	if (rc)
		reply_err(req, rc);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct cloudfs *fs = begin(req);
	char *path;
	int rc = child_path(fs, parent, name, &path);

	(void)mode;
	if (!rc)
		rc = model_mkdir(&fs->project, path);
	reply_made(req, fs, path, rc);
	free(path);
}

static void fs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	struct cloudfs *fs = begin(req);
	char *path;
	int rc = child_path(fs, parent, name, &path);

	if (!rc)
		rc = model_symlink(&fs->project, target, path);
	reply_made(req, fs, path, rc);
	free(path);
}

/* rmdir and unlink: a removed name's next lookup is a new inode. */
static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name,
			int (*op)(struct project *, const char *))
{
	struct cloudfs *fs = begin(req);
	char *path;
	int rc = child_path(fs, parent, name, &path);

	if (!rc)
		rc = op(&fs->project, path);
	if (!rc)
		inodes_unbind(fs->inodes, path);
	free(path);
	reply_err(req, rc);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, model_rmdir);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, model_unlink);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	(void)ino;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct cloudfs *fs = begin(req);
	char *from = NULL, *to = NULL;
	int rc;

	/* RENAME_NOREPLACE and RENAME_EXCHANGE are not atomic with a copy. */
	if (flags) {
		reply_err(req, -EINVAL);
		return;
	}
	rc = child_path(fs, parent, name, &from);
	if (!rc)
		rc = child_path(fs, newparent, newname, &to);
	/* Renaming a resource is `echo new-name > <dir>/name`; a file of a
	 * member's tree is copied and deleted by the cloud. */
	if (!rc)
		rc = model_rename(&fs->project, from, to);
	/* The kernel moves the old name's dentry, with its inode, to the new
	 * name: that inode's path becomes the new one, or a stat of the new
	 * name would ask for the old path (ENOENT: rsync's rename of its
	 * temporary file). */
	if (!rc)
		inodes_rename(fs->inodes, from, to);
	free(from);
	free(to);
	reply_err(req, rc);
}

/* ---- extended attributes (a member tree's files: user.swift.*) ------- */

/* The getxattr/listxattr answer: the size when asked for it (@size 0),
 * the bytes when they fit, else ERANGE. */
static void reply_xattr(fuse_req_t req, int rc, const struct buf *b, size_t size)
{
	if (rc) {
		reply_err(req, rc);
		return;
	}
	leave();
	if (!size)
		fuse_reply_xattr(req, b->len);
	else if (b->len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, b->data ? b->data : "", b->len);
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct cloudfs *fs = begin(req);
	struct buf b;
	char *path = NULL;
	int rc = inodes_get(fs->inodes, ino, &path, NULL, NULL);

	buf_init(&b, 64u << 10);
	if (!rc)
		rc = model_getxattr(&fs->project, path, name, &b);
	reply_xattr(req, rc, &b, size);
	buf_free(&b);
	free(path);
}

static void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct cloudfs *fs = begin(req);
	struct buf b;
	char *path = NULL;
	int rc = inodes_get(fs->inodes, ino, &path, NULL, NULL);

	buf_init(&b, 64u << 10);
	if (!rc)
		rc = model_listxattr(&fs->project, path, &b);
	reply_xattr(req, rc, &b, size);
	buf_free(&b);
	free(path);
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct cloudfs *fs = begin(req);
	char *path = NULL;
	int rc = inodes_get(fs->inodes, ino, &path, NULL, NULL);

	/* XATTR_CREATE/XATTR_REPLACE would need a read first: not atomic. */
	if (!rc && flags)
		rc = -EINVAL;
	if (!rc)
		rc = model_setxattr(&fs->project, path, name, value, size);
	reply_err(req, rc);
	free(path);
}

static void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct cloudfs *fs = begin(req);
	char *path = NULL;
	int rc = inodes_get(fs->inodes, ino, &path, NULL, NULL);

	if (!rc)
		rc = model_setxattr(&fs->project, path, name, NULL, 0);
	reply_err(req, rc);
	free(path);
}

/* df: below a collection filled against a quota (volumes/), its limit and
 * what is used; elsewhere, or when the quota cannot be read, no size. */
static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct cloudfs *fs = fuse_req_userdata(req);
	struct statvfs st;
	uint64_t version;
	struct stat bound;
	char *path = NULL;

	if (inodes_get(fs->inodes, ino, &path, &version, &bound) ||
	    model_statfs(&fs->project, path, &st)) {
		memset(&st, 0, sizeof(st));
		st.f_bsize = st.f_frsize = 4096;
		st.f_namemax = NAME_MAX;
	}
	free(path);
	fuse_reply_statfs(req, &st);
}

static const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_init,
	.destroy = fs_destroy,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readlink = fs_readlink,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.readdirplus = fs_readdirplus,
	.releasedir = fs_releasedir,
	.open = fs_open,
	.create = fs_create,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.statfs = fs_statfs,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.unlink = fs_unlink,
	.symlink = fs_symlink,
	.link = fs_link,
	.rename = fs_rename,
	.getxattr = fs_getxattr,
	.listxattr = fs_listxattr,
	.setxattr = fs_setxattr,
	.removexattr = fs_removexattr,
};

const struct fuse_lowlevel_ops *fs_operations(void)
{
	return &fs_ops;
}

/* The session has ended: nobody calls back any more, so no lock is needed
 * beyond the list's. An upload still open is aborted (its half-made
 * resource deleted) as a release would; nothing is committed. */
void fs_open_free_all(struct fs_open *o)
{
	while (o->head) {
		struct fs_open_link *l = o->head;

		if (l->dir) {
			dir_free((struct dir *)l);
		} else {
			struct fs_file *f = (struct fs_file *)l;

			handle_discard(f->h);
			open_del(o, l);
			free(f);
		}
	}
	pthread_mutex_destroy(&o->lock);
}
