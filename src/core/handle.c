/* SPDX-License-Identifier: MIT */
/*
 * Open-file semantics (handle.h), without FUSE: src/fuse/fs.c decodes a
 * request, calls one function here and replies with what it returns.
 * Layer: core; calls the model, inodes and the streaming engine. Never
 * includes libfuse.
 *
 * Reads: a read-only file rendered from documents is one inode per version
 * of its contents (inodes.h), so the kernel keeps its bytes. An open whose
 * file has changed since the kernel looked it up is -ESTALE, and the kernel
 * looks the name up again (once) and opens the new version. Every other
 * file is snapshotted at open and read whole and consistent.
 * Writes are buffered and applied at flush, so close(2) reports them;
 * commands (actions, control files) run per line, so write(2) does.
 * Image data and a member tree's files stream both ways (stream.c) with
 * bounded memory. A "wait" file's read is parked until the wait ends
 * (handle_read() says so; the caller parks it, handle_waited() answers).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "cloudfs/handle.h"
#include "cloudfs/jsonscan.h"
#include "cloudfs/loan.h"
#include "cloudfs/log.h"
#include "cloudfs/stream.h"

struct handle {
	struct project *p; /* borrowed: outlives every handle */
	char *path;
	bool writing;
	enum model_wkind kind; /* a writer's */
	uint64_t version; /* a reader's: its inode's version, 0 if none */
	/* Image upload or download: the pointer is set at open, the stream
	 * used under lock. */
	struct stream *stream;
	/* One operation at a time per open file; protects every field below
	 * (those above are set at open and never change). */
	pthread_mutex_t lock;
	struct buf data; /* read snapshot, or bytes written so far */
	bool dirty; /* written since the last commit */
	bool created; /* made by create(2): pending until release */
	bool committed; /* its bytes reached the cloud (or were refused) */
	/* A failure that ends the file's use: a write past HANDLE_WRITE_MAX, a
	 * refused commit. Later writes and flushes return it; nothing more is
	 * committed, so no part of a value that failed reaches the cloud. */
	int failed;
	/* Every write and truncate fails with it, and nothing is committed (a
	 * tree's file opened without O_TRUNC: it can only be replaced whole).
	 * Set at open. */
	int refuse;
	bool wait; /* a "wait" file: its bytes come when the wait ends (set at open) */
	bool resized; /* the open learned the file's size (set at open) */
	bool waited; /* the wait ended with a status: the bytes are it */
	/* What ends a writer's bytes (model_write_form()): a JSON object is
	 * committed by the write that completes it, and a write that breaks
	 * it fails at once. JSON_OR_TEXT turns into one of the two at the
	 * first non-blank byte. */
	enum model_form form;
	struct jscan js; /* the JSON written so far, unless the form is text */
	/* An unchanged version's cached text (open_unchanged()): its bytes
	 * are rendered from it only if a READ comes. */
	struct cache_val *source;
};

static struct handle *handle_new(struct project *p, const char *path, bool writing)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->path = strdup(path);
	if (!h->path) {
		free(h);
		return NULL;
	}
	h->p = p;
	h->writing = writing;
	buf_init(&h->data, writing ? HANDLE_WRITE_MAX : CFS_MAX_BODY);
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

static void handle_free(struct handle *h)
{
	cache_val_unref(h->source);
	stream_free(h->stream);
	buf_free(&h->data);
	pthread_mutex_destroy(&h->lock);
	free(h->path);
	free(h);
}

/* A writer of @path whose bytes are for @kind. */
static int open_writer(struct project *p, const char *path, bool created, enum model_wkind kind,
		       struct handle **out)
{
	struct handle *h = handle_new(p, path, true);
	int rc = 0;

	if (!h)
		return -ENOMEM;
	h->created = created;
	h->kind = kind;
	h->form = MODEL_FORM_TEXT;
	if ((kind == MODEL_W_SPEC || kind == MODEL_W_EXTRA) &&
	    model_write_form(p, path, kind, &h->form))
		h->form = MODEL_FORM_TEXT; /* as before: committed at close */
	jscan_init(&h->js, true);
	if (kind == MODEL_W_UPLOAD)
		rc = stream_upload_new(p, path, &h->stream);
	else if (kind == MODEL_W_TREE)
		rc = stream_tree_upload_new(p, path, &h->stream);
	if (rc) {
		handle_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/* A versioned file whose cached text is still the one its bytes were last
 * rendered from is unchanged: its open needs no rendering (nor parsing),
 * which is most of what an open of a cached file costs. */
static bool open_unchanged(struct inodes *t, uint64_t ino, struct handle *h)
{
	uint64_t source = inodes_source(t, ino);
	struct cache_val *text;

	if (!source || model_source(h->p, h->path, &text))
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
static int handle_render(struct handle *h)
{
	int rc;

	if (!h->source)
		return 0;
	rc = model_read_from(h->p, h->path, h->source, &h->data);
	if (!rc) {
		cache_val_unref(h->source);
		h->source = NULL;
	}
	return rc;
}

/* A reader's snapshot: the file's bytes now (or its data stream). */
static int open_reader(struct project *p, struct inodes *t, uint64_t ino, const char *path,
		       uint64_t version, int flags, struct handle **out)
{
	struct handle *h = handle_new(p, path, false);
	uint64_t source = 0;
	int rc;

	if (!h)
		return -ENOMEM;
	h->version = version;
	if (version && open_unchanged(t, ino, h))
		goto out;
	rc = model_open(p, path, flags);
	if (rc > 0) {
		h->resized = true;
		rc = 0;
	}
	/* A versioned file is rendered, never a data stream. */
	if (!rc)
		rc = version ? -ENOTSUP : stream_download_new(p, path, &h->stream);
	if (rc == -ENOTSUP)
		rc = model_read(p, path, &h->data, &source);
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
		inodes_set_seen(t, ino, source, NULL, 0);
out:
	*out = h;
	return 0;
}

int handle_open(struct project *p, struct inodes *t, uint64_t ino, const char *path,
		uint64_t version, int flags, struct handle **out)
{
	enum model_wkind kind;
	int rc;

	*out = NULL;
	if ((flags & O_ACCMODE) == O_RDONLY)
		return open_reader(p, t, ino, path, version, flags, out);
	rc = model_open_write(p, path, &kind);
	if (rc)
		return rc;
	/* A tree's file is replaced whole, never changed in place: without
	 * O_TRUNC (touch, dd conv=notrunc) it opens, but every write fails,
	 * and its close changes nothing. */
	if (kind == MODEL_W_TREE && !(flags & O_TRUNC)) {
		struct handle *h = handle_new(p, path, true);

		if (!h)
			return -ENOMEM;
		h->kind = kind;
		h->refuse = -EOPNOTSUPP;
		*out = h;
		return 0;
	}
	return open_writer(p, path, false, kind, out);
}

int handle_create(struct project *p, const char *path, struct handle **out)
{
	enum model_wkind kind;
	int rc = model_create(p, path, &kind);

	*out = NULL;
	if (rc)
		return rc;
	rc = open_writer(p, path, true, kind, out);
	if (rc)
		model_done(p, path);
	return rc;
}

bool handle_versioned(const struct handle *h)
{
	return !h->writing && h->version != 0;
}

bool handle_writing(const struct handle *h)
{
	return h->writing;
}

bool handle_resized(const struct handle *h)
{
	return h->resized;
}

void handle_fill(struct handle *h, struct inodes *t, uint64_t ino, handle_store_fn store, void *ctx)
{
	char small[INODES_SMALL];
	const void *data = NULL;
	size_t len = 0;

	if (!handle_versioned(h) || !inodes_fill_begin(t, ino))
		return;
	pthread_mutex_lock(&h->lock);
	/* An unchanged open has no bytes yet: a small version's are kept
	 * with its inode, others are rendered from the text it holds. */
	if (h->source && inodes_small(t, ino, small, &len)) {
		data = small;
	} else if (!handle_render(h)) {
		data = h->data.data;
		len = h->data.len;
	}
	if (len)
		store(ctx, ino, data, len);
	pthread_mutex_unlock(&h->lock);
	inodes_fill_end(t, ino);
}

/* Up to @size bytes of h->data at @off, copied into *@data: once the
 * kernel has the reply it may release the file, and the snapshot with it,
 * while the reply is still being written. Call with h->lock held. */
static int copy_out(struct handle *h, size_t size, off_t off, char **data)
{
	size_t len = h->data.len;
	char *mem = NULL;
	int rc = 0;

	if (off >= 0 && (size_t)off < len)
		rc = (int)(size < len - (size_t)off ? size : len - (size_t)off);
	mem = rc > 0 ? malloc((size_t)rc) : NULL;
	if (mem)
		memcpy(mem, h->data.data + off, (size_t)rc);
	else if (rc > 0)
		rc = -ENOMEM;
	*data = mem;
	return rc;
}

int handle_read(struct handle *h, size_t size, off_t off, char **data)
{
	struct loan l = LOAN_INIT;
	int rc = handle_read_loan(h, size, off, data, &l);

	/* A stream's bytes, copied for a caller that wants its own. */
	if (rc > 0 && l.n) {
		*data = malloc((size_t)rc);
		if (*data)
			loan_copy(&l, 0, *data, (size_t)rc);
		else
			rc = -ENOMEM;
	}
	loan_release(&l);
	return rc;
}

int handle_read_loan(struct handle *h, size_t size, off_t off, char **data, struct loan *l)
{
	int rc;

	*data = NULL;
	pthread_mutex_lock(&h->lock);
	/* A wait not ended yet: the caller parks the read (handle_waited()). */
	if (h->wait && !h->waited) {
		rc = -EINPROGRESS;
		goto out;
	}
	if (h->stream) {
		/* Downloaded data goes to the kernel from the memory it was
		 * received in: lent, not copied (stream_read()). */
		rc = stream_read(h->stream, l, size, off);
		goto out;
	}
	rc = handle_render(h);
	if (!rc)
		rc = copy_out(h, size, off, data);
out:
	pthread_mutex_unlock(&h->lock);
	return rc;
}

int handle_wait_start(struct handle *h, model_wait_fn done, void *ctx, struct model_wait **w)
{
	return model_wait_start(h->p, h->path, done, ctx, w);
}

void handle_wait_cancel(struct handle *h, struct model_wait *w)
{
	model_wait_cancel(h->p, w);
}

int handle_waited(struct handle *h, int rc, const char *text, size_t len, size_t size, off_t off,
		  char **data)
{
	*data = NULL;
	if (rc)
		return rc;
	pthread_mutex_lock(&h->lock);
	/* Two reads parked at once: the first status ended the wait, and
	 * both read it. */
	if (!h->waited) {
		buf_reset(&h->data);
		rc = buf_add(&h->data, text, len);
		h->waited = !rc;
	}
	if (!rc)
		rc = copy_out(h, size, off, data);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/* Commands run per complete line, so write(2) fails on a bad one (shells
 * ignore close(2) errors of builtins like echo). */
static bool runs_per_line(enum model_wkind kind)
{
	return kind == MODEL_W_LINES || kind == MODEL_W_CTL || kind == MODEL_W_ATTR_LINE;
}

/* The first non-blank byte of a JSON_OR_TEXT file decides its form: '{'
 * is a JSON spec, anything else text (a public key). */
static void settle_form(struct handle *h, const char *buf, size_t size)
{
	for (size_t i = 0; i < size && h->form == MODEL_FORM_JSON_OR_TEXT; i++)
		if (!strchr(" \t\r\n", buf[i]) || !buf[i])
			h->form = buf[i] == '{' ? MODEL_FORM_JSON : MODEL_FORM_TEXT;
}

/* Commits what was written (one request), as a flush or the write that
 * completes a JSON object does. Call with h->lock held. */
static int commit(struct handle *h, bool *made)
{
	int rc;

	h->dirty = false;
	h->committed = true;
	rc = model_commit(h->p, h->path, h->kind, h->data.data ? h->data.data : "", h->data.len);
	/* A refused spec or value is not sent again by a later close. */
	if (rc && !runs_per_line(h->kind))
		h->failed = rc;
	/* What comes next through another descriptor is a new value. */
	if (!rc && h->kind != MODEL_W_SPEC)
		buf_reset(&h->data);
	/* The resource exists from now on: the name stops being this file
	 * before the call returns, so the next command finds the link. */
	if (!rc && h->created && h->kind == MODEL_W_SPEC) {
		model_done(h->p, h->path);
		*made = true;
	}
	return rc;
}

/*
 * A JSON object's bytes, @size at @buf, already in h->data: committed by
 * the write that completes the object (its errno is the cloud's verdict),
 * refused by the write that breaks it (nothing is sent, the file's use
 * ends). Only whitespace may follow a committed object. Returns @size or
 * -errno. Call with h->lock held.
 */
static int json_write(struct handle *h, const char *buf, size_t size, bool *made)
{
	enum jscan_status st = jscan_feed(&h->js, buf, size);
	int rc;

	if (st == JSCAN_BAD) {
		log_cloud_error("%s: the spec is not valid JSON: %s (at offset %zu)%s", h->path,
				h->js.why, h->js.at,
				h->committed ? "; the object before it was committed" : "");
		if (!h->committed)
			h->failed = -EINVAL;
		return -EINVAL;
	}
	if (h->committed)
		return (int)size; /* whitespace after the object */
	h->dirty = true;
	if (st == JSCAN_MORE)
		return (int)size;
	rc = commit(h, made);
	return rc ? rc : (int)size;
}

int handle_write(struct handle *h, const char *buf, size_t size, off_t off, pid_t pid, bool *made)
{
	int rc;

	*made = false;
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
	settle_form(h, buf, size);
	/* A JSON object committed at a write: what follows is checked, not
	 * kept (whitespace is fine, anything else EINVAL). */
	if (h->committed && h->form == MODEL_FORM_JSON && h->js.status == JSCAN_DONE) {
		rc = json_write(h, buf, size, made);
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
	if (h->form == MODEL_FORM_JSON) {
		rc = json_write(h, buf, size, made);
		goto out;
	}
	/* Blanks before the first byte that says which form it is. */
	if (h->form == MODEL_FORM_JSON_OR_TEXT)
		jscan_feed(&h->js, buf, size);
	h->dirty = true;
	if (runs_per_line(h->kind) && h->data.data[h->data.len - 1] == '\n') {
		int err = model_commit(h->p, h->path, h->kind, h->data.data, h->data.len);

		h->dirty = false;
		buf_reset(&h->data);
		if (err)
			rc = err;
	}
out:
	pthread_mutex_unlock(&h->lock);
	return rc;
}

int handle_flush(struct handle *h, pid_t pid, bool *made)
{
	int rc = 0;

	*made = false;
	if (!h->writing)
		return 0;
	pthread_mutex_lock(&h->lock);
	if (h->stream) {
		rc = stream_finish(h->stream, pid);
		if (!rc && h->created && stream_completed(h->stream)) {
			model_done(h->p, h->path);
			*made = true;
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
	if (h->dirty)
		rc = commit(h, made);
out:
	pthread_mutex_unlock(&h->lock);
	return rc;
}

int handle_truncate(struct project *p, const char *path, struct handle *h, off_t size)
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
	/* A tree's file is replaced whole: truncate(1) on it changes nothing. */
	if (size == 0 && !model_open_write(p, path, &kind))
		return kind == MODEL_W_TREE ? -EOPNOTSUPP : 0;
	return -EACCES;
}

bool handle_size(struct handle *h, off_t *size)
{
	if (h->stream)
		return false;
	pthread_mutex_lock(&h->lock);
	*size = (off_t)h->data.len;
	pthread_mutex_unlock(&h->lock);
	return true;
}

void handle_close(struct handle *h)
{
	if (h->stream)
		stream_abort(h->stream);
	/* A new file closed without a byte (`touch`) creates with an empty
	 * spec; nobody waits for this result, so it is only logged. */
	if (h->created && !h->committed && !h->failed && !h->stream && h->kind == MODEL_W_SPEC) {
		int rc = model_commit(h->p, h->path, h->kind, "", 0);

		(void)rc; /* already in .cloudfs/errors */
	}
	/* Until now the kernel had a file here; the cloud may have a
	 * directory (or a link) by that name from now on. */
	if (h->created)
		model_done(h->p, h->path);
	handle_free(h);
}

void handle_discard(struct handle *h)
{
	if (h->stream)
		stream_abort(h->stream);
	handle_free(h);
}
