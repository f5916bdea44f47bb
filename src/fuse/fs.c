/* SPDX-License-Identifier: MIT */
/*
 * FUSE callbacks, on libfuse's low-level API. Layer: top. Each callback
 * turns node ids into paths (inodes.c), calls the model and replies with
 * its -errno unchanged.
 *
 * Reads: a read-only file rendered from documents is one inode per version
 * of its contents (inodes.h), so the kernel keeps its bytes: a warm read
 * costs one OPEN, where it cost five requests when every read went to us.
 * An open whose file has changed since the kernel looked it up answers
 * ESTALE, and the kernel looks the name up again (once) and opens the new
 * version. Every other file is snapshotted at open and served with
 * direct_io, so a read always returns whole, consistent bytes.
 * Writes are buffered and applied at flush, so close(2) reports them;
 * commands (actions, control files) run per line, so write(2) does.
 * Image data streams both ways (stream.c) with bounded memory.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sys/stat.h>

#include "cloudfs/clock.h"
#include "cloudfs/fs.h"
#include "cloudfs/leftovers.h"
#include "cloudfs/loan.h"
#include "cloudfs/stream.h"

/* Specs, attribute values and commands are small. */
#define FS_WRITE_MAX (1u << 20)
/* d_ino of an entry the kernel has no inode for yet (as libfuse's). */
#define FS_UNKNOWN_INO 0xffffffffu

struct handle {
	struct fs_open_link link; /* first: a link is its handle */
	struct cloudfs *fs;
	char *path;
	struct buf data; /* read snapshot, or bytes written so far */
	bool writing;
	bool dirty; /* written since the last commit */
	bool created; /* made by create(2): pending until release */
	bool committed; /* its bytes reached the cloud (or were refused) */
	/* A failure that ends the file's use: a write past FS_WRITE_MAX, a
	 * refused commit. Later writes and flushes return it; nothing more is
	 * committed, so no part of a value that failed reaches the cloud. */
	int failed;
	/* Every write fails with it, and nothing is committed (a tree file
	 * opened without O_TRUNC: it can only be replaced whole). */
	int refuse;
	enum model_wkind kind;
	bool wait; /* a "wait" file: its first read is parked (park_read()) */
	bool waited; /* a wait ended with data: the bytes are its status */
	struct stream *stream; /* image upload or download */
	/* An unchanged version's cached text (open_unchanged()): its bytes
	 * are rendered from it only if a READ comes. */
	struct cache_val *source;
	/* One operation at a time per open file; protects every field above
	 * but path, writing and kind (set at open). */
	pthread_mutex_t lock;
};

struct dent {
	char *name;
	struct stat st; /* st_ino: the model's version */
};

/* An open directory: its entries as of the opendir, or of the last readdir
 * at offset 0 (a rewinddir), so later offsets index the same list. */
struct dir {
	struct fs_open_link link; /* first: a link is its dir */
	struct cloudfs *fs;
	char *path;
	struct dent *e;
	size_t n, cap;
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

static struct handle *handle_of(const struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
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
	if (h && !h->stream && (!rc || rc == -ENOENT)) {
		if (rc) {
			memset(st, 0, sizeof(*st));
			st->st_mode = S_IFREG | 0644;
		}
		pthread_mutex_lock(&h->lock);
		st->st_size = (off_t)h->data.len;
		pthread_mutex_unlock(&h->lock);
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

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		struct dent *e = realloc(d->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		d->e = e;
		d->cap = cap;
	}
	d->e[d->n].name = strdup(name);
	if (!d->e[d->n].name)
		return -ENOMEM;
	/* Unknown: no type, and no attributes for readdirplus. */
	d->e[d->n].st = st ? *st : (struct stat){ 0 };
	d->n++;
	return 0;
}

static void dir_clear(struct dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->e[i].name);
	d->n = 0;
	d->filled = false;
}

static void dir_free(struct dir *d)
{
	open_del(&d->fs->open, &d->link);
	dir_clear(d);
	free(d->e);
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

/* Adds d->e[i] to @buf (@left bytes free) as a readdirplus entry, which
 * counts as a lookup; 0 if it does not fit. */
static size_t add_plus(fuse_req_t req, struct cloudfs *fs, struct dir *d, size_t i, char *buf,
		       size_t left, fuse_ino_t self)
{
	const char *name = d->e[i].name;
	struct fuse_entry_param e = { .attr = d->e[i].st };
	size_t need = fuse_add_direntry_plus(req, NULL, 0, name, NULL, 0);
	char *path;

	if (need > left)
		return 0;
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
	const char *name = d->e[i].name;
	struct stat st = { .st_mode = d->e[i].st.st_mode, .st_ino = FS_UNKNOWN_INO };
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
	for (size_t i = (size_t)off; !rc && i < d->n; i++) {
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

static struct handle *handle_new(struct cloudfs *fs, const char *path, bool writing)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->path = strdup(path);
	if (!h->path) {
		free(h);
		return NULL;
	}
	h->writing = writing;
	buf_init(&h->data, writing ? FS_WRITE_MAX : CFS_MAX_BODY);
	pthread_mutex_init(&h->lock, NULL);
	h->fs = fs;
	open_add(&fs->open, &h->link, false);
	return h;
}

static void handle_free(struct handle *h)
{
	open_del(&h->fs->open, &h->link);
	cache_val_unref(h->source);
	stream_free(h->stream);
	buf_free(&h->data);
	pthread_mutex_destroy(&h->lock);
	free(h->path);
	free(h);
}

static int open_handle(struct cloudfs *fs, const char *path, struct fuse_file_info *fi,
		       bool created, enum model_wkind kind)
{
	struct handle *h = handle_new(fs, path, true);
	int rc = 0;

	if (!h)
		return -ENOMEM;
	h->created = created;
	h->kind = kind;
	if (kind == MODEL_W_UPLOAD)
		rc = stream_upload_new(&fs->project, path, &h->stream);
	else if (kind == MODEL_W_TREE)
		rc = stream_tree_upload_new(&fs->project, path, &h->stream);
	if (rc) {
		handle_free(h);
		return rc;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

/* A handle whose writes fail with EOPNOTSUPP and whose close is a no-op. */
static int open_refusing(struct cloudfs *fs, const char *path, struct fuse_file_info *fi)
{
	struct handle *h = handle_new(fs, path, true);

	if (!h)
		return -ENOMEM;
	h->kind = MODEL_W_TREE;
	h->refuse = -EOPNOTSUPP;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

/* What release does, also for an open the kernel never got (interrupted). */
static void handle_close(struct cloudfs *fs, struct handle *h)
{
	if (h->stream)
		stream_abort(h->stream);
	/* A new file closed without a byte (`touch`) creates with an empty
	 * spec; nobody waits for this result, so it is only logged. */
	if (h->created && !h->committed && !h->failed && !h->stream && h->kind == MODEL_W_SPEC) {
		int rc = model_commit(&fs->project, h->path, h->kind, "", 0);

		(void)rc; /* already in .cloudfs/errors */
	}
	/* Until now the kernel had a file here; the cloud may have a
	 * directory (or a link) by that name from now on. */
	if (h->created)
		model_done(&fs->project, h->path);
	handle_free(h);
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	struct fuse_entry_param e = { 0 };
	enum model_wkind kind;
	char *path;
	int rc = child_path(fs, parent, name, &path);

	(void)mode;
	if (!rc)
		rc = model_create(&fs->project, path, &kind);
	if (rc)
		goto out;
	rc = open_handle(fs, path, fi, true, kind);
	if (rc) {
		model_done(&fs->project, path);
		goto out;
	}
	rc = model_getattr(&fs->project, path, &e.attr);
	if (!rc)
		rc = entry_bind(fs, path, &e);
	if (rc) {
		handle_close(fs, handle_of(fi));
		goto out;
	}
	leave();
	if (fuse_reply_create(req, &e, fi)) {
		handle_close(fs, handle_of(fi));
		inodes_forget(fs->inodes, e.ino, 1);
	}
out:
	if (rc)
		reply_err(req, rc);
	free(path);
}

/* A versioned file whose cached text is still the one its bytes were last
 * rendered from is unchanged: its open needs no rendering (nor parsing),
 * which is most of what an open of a cached file costs. */
static bool open_unchanged(struct cloudfs *fs, fuse_ino_t ino, struct handle *h)
{
	uint64_t source = inodes_source(fs->inodes, ino);
	struct cache_val *text;

	if (!source || model_source(&fs->project, h->path, &text))
		return false;
	if (text->serial != source) {
		cache_val_unref(text);
		return false;
	}
	h->source = text;
	return true;
}

/* An unchanged version's bytes, rendered from its text when first needed
 * (a READ, or the fill). Call with h->lock held. */
static int handle_render(struct cloudfs *fs, struct handle *h)
{
	int rc;

	if (!h->source)
		return 0;
	rc = model_read_from(&fs->project, h->path, h->source, &h->data);
	if (!rc) {
		cache_val_unref(h->source);
		h->source = NULL;
	}
	return rc;
}

/* A reader's snapshot: the file's bytes now (or its data stream). */
static int open_read(struct cloudfs *fs, fuse_ino_t ino, const char *path, uint64_t version,
		     struct fuse_file_info *fi)
{
	struct handle *h = handle_new(fs, path, false);
	uint64_t source = 0;
	int rc;

	if (!h)
		return -ENOMEM;
	if (version && open_unchanged(fs, ino, h))
		goto out;
	rc = model_open(&fs->project, path, fi->flags);
	/* A versioned file is rendered, never a data stream. */
	if (!rc)
		rc = version ? -ENOTSUP : stream_download_new(&fs->project, path, &h->stream);
	if (rc == -ENOTSUP)
		rc = model_read(&fs->project, path, &h->data, &source);
	/* A wait file: its bytes come when the wait ends, at the first read. */
	if (rc == -EINPROGRESS) {
		h->wait = true;
		rc = 0;
	}
	/* Changed since the kernel looked the name up: it looks again. */
	if (!rc && version && model_version(h->data.data, h->data.len) != version)
		rc = -ESTALE;
	if (rc) {
		handle_free(h);
		return rc;
	}
	if (version && source)
		inodes_set_seen(fs->inodes, ino, source, NULL, 0);
out:
	fi->fh = (uint64_t)(uintptr_t)h;
	/* A version's bytes never change: the kernel may keep them. */
	fi->keep_cache = version != 0;
	fi->direct_io = version == 0;
	/* Nothing to commit when a reader closes: spare the kernel the FLUSH. */
	fi->noflush = 1;
	return 0;
}

/* Hands a version's bytes to the kernel's page cache at its first open,
 * before the open is answered: the reader's read(2) then finds them there
 * and costs no READ (nor the GETATTR the kernel sends after a READ to
 * refresh atime). Should the kernel drop them later, a READ brings them.
 * Other opens of the inode wait meanwhile (inodes.h). */
static void fill_cache(struct cloudfs *fs, fuse_ino_t ino, struct handle *h)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(0);
	char small[INODES_SMALL];

	if (!inodes_fill_begin(fs->inodes, ino))
		return;
	pthread_mutex_lock(&h->lock);
	/* An unchanged open has no bytes yet: a small version's are kept
	 * with its inode, others are rendered from the text it holds. */
	if (h->source && inodes_small(fs->inodes, ino, small, &bv.buf[0].size)) {
		bv.buf[0].mem = small;
	} else if (!handle_render(fs, h)) {
		bv.buf[0].mem = h->data.data;
		bv.buf[0].size = h->data.len;
	}
	if (bv.buf[0].size)
		fuse_lowlevel_notify_store(fs->se, ino, 0, &bv, 0);
	pthread_mutex_unlock(&h->lock);
	inodes_fill_end(fs->inodes, ino);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	enum model_wkind kind;
	uint64_t version;
	char *path = NULL;
	int rc = inodes_get(fs->inodes, ino, &path, &version, NULL);

	if (rc)
		goto out;
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		rc = model_open_write(&fs->project, path, &kind);
		/* A tree's file is replaced whole, never changed in place:
		 * without O_TRUNC (touch, dd conv=notrunc) it opens, but every
		 * write fails, and its close changes nothing. */
		if (!rc && kind == MODEL_W_TREE && !(fi->flags & O_TRUNC))
			rc = open_refusing(fs, path, fi);
		else if (!rc)
			rc = open_handle(fs, path, fi, false, kind);
	} else {
		rc = open_read(fs, ino, path, version, fi);
	}
	if (rc)
		goto out;
	if (fi->keep_cache)
		fill_cache(fs, ino, handle_of(fi));
	leave();
	if (fuse_reply_open(req, fi))
		handle_close(fs, handle_of(fi));
out:
	if (rc)
		reply_err(req, rc);
	free(path);
}

/*
 * A read of a "wait" file, parked: no thread waits for the resource, so a
 * hundred waiting scripts hold none of the FUSE workers. The model's waits
 * thread answers it (parked_done()); Ctrl-C cancels it (parked_interrupt()).
 * The request is answered exactly once, by parked_done(), and @lock keeps
 * the answer from overtaking the parking.
 */
struct parked {
	pthread_mutex_t lock; /* held while the read is being parked */
	fuse_req_t req;
	struct cloudfs *fs;
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
	model_wait_cancel(&pk->fs->project, pk->w);
}

static void parked_done(void *ctx, int rc, const char *text, size_t len)
{
	struct parked *pk = ctx;
	struct handle *h = pk->h;
	char *mem = NULL;

	/* The parking is complete (its interrupt hook is set)... */
	pthread_mutex_lock(&pk->lock);
	pthread_mutex_unlock(&pk->lock);
	/* ...and no interrupt hook runs from now on: this waits for one
	 * that does, under the request's lock. */
	fuse_req_interrupt_func(pk->req, NULL, NULL);
	if (!rc) {
		pthread_mutex_lock(&h->lock);
		if (!h->waited) {
			buf_reset(&h->data);
			rc = buf_add(&h->data, text, len);
			h->waited = !rc;
		}
		len = h->data.len;
		if (!rc && pk->off >= 0 && (size_t)pk->off < len)
			rc = (int)(pk->size < len - (size_t)pk->off ? pk->size
								    : len - (size_t)pk->off);
		mem = rc > 0 ? malloc((size_t)rc) : NULL;
		if (mem)
			memcpy(mem, h->data.data + pk->off, (size_t)rc);
		else if (rc > 0)
			rc = -ENOMEM;
		pthread_mutex_unlock(&h->lock);
	}
	if (rc < 0)
		fuse_reply_err(pk->req, -rc);
	else
		fuse_reply_buf(pk->req, mem, (size_t)rc);
	free(mem);
	pthread_mutex_destroy(&pk->lock);
	free(pk);
}

static void park_read(fuse_req_t req, struct cloudfs *fs, struct handle *h, size_t size, off_t off)
{
	struct parked *pk = calloc(1, sizeof(*pk));
	int rc;

	if (!pk) {
		reply_err(req, -ENOMEM);
		return;
	}
	pk->req = req;
	pk->fs = fs;
	pk->h = h;
	pk->size = size;
	pk->off = off;
	pthread_mutex_init(&pk->lock, NULL);
	leave(); /* answered from another thread */
	pthread_mutex_lock(&pk->lock);
	rc = model_wait_start(&fs->project, h->path, parked_done, pk, &pk->w);
	if (!rc)
		fuse_req_interrupt_func(req, parked_interrupt, pk);
	pthread_mutex_unlock(&pk->lock);
	if (rc) {
		pthread_mutex_destroy(&pk->lock);
		free(pk);
		fuse_reply_err(req, -rc);
	}
}

static bool wait_pending(struct handle *h)
{
	bool pending;

	if (!h->wait)
		return false;
	pthread_mutex_lock(&h->lock);
	pending = !h->waited;
	pthread_mutex_unlock(&h->lock);
	return pending;
}

/* Downloaded data goes to the kernel from the memory it was received in:
 * the loan keeps that memory after the unlock, even if the file is
 * released as soon as the reply lands. */
static void reply_stream(fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	struct loan l = LOAN_INIT;
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = stream_read(h->stream, &l, size, off);
	pthread_mutex_unlock(&h->lock);
	if (rc < 0) {
		reply_err(req, rc);
		return;
	}
	leave();
	if (l.n)
		fuse_reply_iov(req, l.iov, l.n);
	else
		fuse_reply_buf(req, NULL, 0);
	loan_release(&l);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	struct handle *h = handle_of(fi);
	char *mem = NULL;
	int rc;

	(void)ino;
	if (wait_pending(h)) {
		park_read(req, fs, h, size, off);
		return;
	}
	if (h->stream) {
		reply_stream(req, h, size, off);
		return;
	} else {
		/* A copy: once the kernel has the reply it may release the
		 * file, and the snapshot with it, while writev() returns. */
		size_t len;

		pthread_mutex_lock(&h->lock);
		rc = handle_render(fs, h);
		len = h->data.len;
		if (!rc && off >= 0 && (size_t)off < len)
			rc = (int)(size < len - (size_t)off ? size : len - (size_t)off);
		mem = rc > 0 ? malloc((size_t)rc) : NULL;
		if (mem)
			memcpy(mem, h->data.data + off, (size_t)rc);
		else if (rc > 0)
			rc = -ENOMEM;
		pthread_mutex_unlock(&h->lock);
	}
	if (rc < 0) {
		reply_err(req, rc);
		return;
	}
	leave();
	fuse_reply_buf(req, mem, (size_t)rc);
	free(mem);
}

/* Commands run per complete line, so write(2) fails on a bad one (shells
 * ignore close(2) errors of builtins like echo). */
static bool runs_per_line(enum model_wkind kind)
{
	return kind == MODEL_W_LINES || kind == MODEL_W_CTL || kind == MODEL_W_ATTR_LINE;
}

static int handle_write(struct cloudfs *fs, struct handle *h, const char *buf, size_t size,
			off_t off, pid_t pid)
{
	int rc;

	if (!h->writing)
		return -EBADF;
	pthread_mutex_lock(&h->lock);
	if (h->failed || h->refuse) {
		rc = h->failed ? h->failed : h->refuse;
		goto out;
	}
	if (h->stream) {
		stream_note_writer(h->stream, pid);
		rc = stream_write(h->stream, buf, size, off);
		goto out;
	}
	/* A spec makes one resource: bytes written after it was made (through
	 * a dup'ed descriptor, after another one was closed) make no second. */
	if (h->committed && h->kind == MODEL_W_SPEC) {
		rc = -EEXIST;
		goto out;
	}
	rc = (int)size;
	if (buf_add(&h->data, buf, size)) {
		h->failed = rc = -EFBIG;
		goto out;
	}
	h->dirty = true;
	if (runs_per_line(h->kind) && h->data.data[h->data.len - 1] == '\n') {
		int err = model_commit(&fs->project, h->path, h->kind, h->data.data, h->data.len);

		h->dirty = false;
		buf_reset(&h->data);
		if (err)
			rc = err;
	}
out:
	pthread_mutex_unlock(&h->lock);
	return rc;
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);
	int rc = handle_write(fs, handle_of(fi), buf, size, off, fuse_req_ctx(req)->pid);

	(void)ino;
	if (rc < 0) {
		reply_err(req, rc);
		return;
	}
	leave();
	fuse_reply_write(req, (size_t)rc);
}

static int handle_flush(struct cloudfs *fs, struct handle *h, pid_t pid)
{
	int rc = 0;

	if (!h->writing)
		return 0;
	pthread_mutex_lock(&h->lock);
	if (h->stream) {
		rc = stream_finish(h->stream, pid);
		if (!rc && h->created && stream_completed(h->stream)) {
			model_done(&fs->project, h->path);
			fs_notify_settle(fs, 250); /* as for a spec, below */
		}
		goto out;
	}
	if (h->failed) {
		rc = h->failed;
		goto out;
	}
	/* Commit on the first flush that has data: close(2) reports it. A
	 * flush before any write (a shell dup'ing the fd before writing) has
	 * nothing to commit yet. Tested under the lock: two descriptors closed
	 * at once commit once. */
	if (!h->dirty)
		goto out;
	h->dirty = false;
	h->committed = true;
	rc = model_commit(&fs->project, h->path, h->kind, h->data.data ? h->data.data : "",
			  h->data.len);
	/* A refused spec or value is not sent again by a later close. */
	if (rc && !runs_per_line(h->kind))
		h->failed = rc;
	/* What comes next through another descriptor is a new value. */
	if (!rc && h->kind != MODEL_W_SPEC)
		buf_reset(&h->data);
	/* The resource exists from now on: the name stops being this file
	 * before close(2) returns, so the next command finds the link. */
	if (!rc && h->created && h->kind == MODEL_W_SPEC) {
		model_done(&fs->project, h->path);
		/* ...and before close(2) returns: `cp t stacks/web && cat
		 * stacks/web/wait` must not find the file the kernel still
		 * holds (ENOTDIR). A flush holds no directory of the kernel's,
		 * so waiting for the notifier here cannot deadlock. */
		fs_notify_settle(fs, 250);
	}
out:
	pthread_mutex_unlock(&h->lock);
	return rc;
}

static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);

	(void)ino;
	reply_err(req, handle_flush(fs, handle_of(fi), fuse_req_ctx(req)->pid));
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cloudfs *fs = begin(req);

	(void)ino;
	handle_close(fs, handle_of(fi));
	reply_err(req, 0);
}

static int do_truncate(struct cloudfs *fs, const char *path, off_t size, struct handle *h)
{
	enum model_wkind kind;
	int rc;

	if (h && h->stream) {
		pthread_mutex_lock(&h->lock);
		rc = stream_truncate(h->stream, size);
		pthread_mutex_unlock(&h->lock);
		return rc;
	}
	if (h && h->refuse)
		return h->refuse;
	/* open(O_TRUNC) of a writable file: its new value comes with close. */
	if (h && h->writing)
		return size == 0 ? 0 : -EINVAL;
	if (size == 0 && !model_open_write(&fs->project, path, &kind))
		return kind == MODEL_W_TREE ? -EOPNOTSUPP : 0;
	return -EACCES;
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
		rc = do_truncate(fs, path, attr->st_size, h);
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
	if (!rc) {
		inodes_unbind(fs->inodes, from);
		inodes_unbind(fs->inodes, to);
	}
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
			struct handle *h = (struct handle *)l;

			if (h->stream)
				stream_abort(h->stream);
			handle_free(h);
		}
	}
	pthread_mutex_destroy(&o->lock);
}
