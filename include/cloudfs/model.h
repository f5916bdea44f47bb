/* SPDX-License-Identifier: MIT */
/*
 * The filesystem core, without FUSE: path → stat, directory entries, bytes.
 * A project (the mount root today) is a node whose children are the
 * collections; everything below is derived from cached API documents.
 * Layer: called by fs.c; calls tree/render (pure), cache and api.
 */
#ifndef CLOUDFS_MODEL_H
#define CLOUDFS_MODEL_H

#include <pthread.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "cloudfs/api.h"
#include "cloudfs/buf.h"
#include "cloudfs/cache.h"

struct pending;
struct waits;
struct model_wait;
struct project_set;
struct member;

/* Parsed documents kept: the handful a burst of operations on one
 * resource's files uses again and again. */
#define MODEL_MEMO_SIZE 16

enum model_notify {
	MODEL_NOTIFY_ENTRY, /* forget the name */
	/* the same, once the operation in progress is answered (the kernel
	 * holds the name's directory during mkdir, lookup and readdir) */
	MODEL_NOTIFY_ENTRY_LATER,
	MODEL_NOTIFY_ATTR, /* re-read the path's attributes before using them */
};

struct project {
	struct session *sess; /* borrowed */
	struct cache *cache; /* owned */
	int64_t ttl_ms;
	int64_t neg_ttl_ms;
	int64_t mount_time_s;
	uid_t uid;
	gid_t gid;
	/* Tells the kernel to drop what it cached about a path (set by the
	 * FUSE layer). */
	void (*notify)(void *ctx, const char *path, enum model_notify kind);
	void *notify_ctx;
	/* The last documents parsed, with the cached values they came from
	 * (held, so an address is never reused while remembered). */
	struct model_memo {
		struct cache_val *from, *parsed;
	} memo[MODEL_MEMO_SIZE]; /* protected by memo_lock */
	unsigned memo_next; /* protected by memo_lock */
	pthread_mutex_t memo_lock;
	pthread_mutex_t pending_lock;
	struct pending *pending; /* protected by pending_lock: files being written */
	/* protected by pending_lock: what this mount wrote in member trees
	 * and removed, until listings show it (model_tree.c) */
	struct model_recent *recent;
	struct leftovers *leftovers; /* owned: incomplete images still to delete */
	struct transfers *transfers; /* owned: uploads and downloads in progress */
	struct waits *waits; /* owned: reads of "wait" files in progress (waits.c) */
	int64_t wait_timeout_ms; /* a wait gives up after this (ETIMEDOUT); 0: never */
	/* The root: projects/ and its members (owned). NULL in a member, which
	 * has no projects/ of its own. */
	struct project_set *set;
	struct member *member; /* a member of projects/: itself (projects.c); NULL: the root */
};

/* What a file opened for writing does with its bytes. */
enum model_wkind {
	MODEL_W_SPEC, /* create a resource from a spec, at close */
	MODEL_W_UPLOAD, /* stream an image's data */
	MODEL_W_ATTR, /* update one attribute, at close */
	/* the same once a complete line is written, at write(2): a singleton's
	 * leaf (a quota limit), so the shell's echo sees the cloud's refusal */
	MODEL_W_ATTR_LINE,
	MODEL_W_EXTRA, /* a member extra's store(), at close */
	MODEL_W_LINES, /* a member extra's store(), per complete line */
	MODEL_W_CTL, /* run each line as a control command */
	MODEL_W_TREE, /* stream a file of a member's tree (objects/) */
};

/* What ends the bytes of a file being written, so that they can be
 * committed before close(2) (model_write_form()). */
enum model_form {
	MODEL_FORM_TEXT, /* no end marker (a public key, a template): at flush */
	MODEL_FORM_JSON, /* one JSON object: at the write that completes it */
	/* a JSON object when its first non-blank byte is '{', else text (a
	 * keypair's spec: a JSON spec, or the public key itself) */
	MODEL_FORM_JSON_OR_TEXT,
};

/* Called for each directory entry; @st is complete (for readdirplus), or
 * NULL when the entry's attributes are not known without fetching it.
 * Returns 0 to go on, > 0 to stop (the caller has enough), -errno to fail
 * the whole listing. */
typedef int (*model_fill_fn)(void *ctx, const char *name, const struct stat *st);

int model_project_init(struct project *p, struct session *sess, int64_t ttl_ms,
		       int64_t neg_ttl_ms) CFS_WARN_UNUSED;
/* Gives the project (the mount's root) its projects/ directory: every
 * project the user can scope to, each a tree like this one. */
int model_project_add_projects(struct project *p) CFS_WARN_UNUSED;
void model_project_cleanup(struct project *p);

/*
 * Paths are relative to the project and start with '/'; paths below
 * /projects/<id>/ are served by that project (projects.c). All return 0 or
 * -errno. A read-only file rendered from documents has st_ino set to its
 * contents' version (a hash, never 0): equal versions, equal bytes. Every
 * other entry has 0 (its bytes are only known by reading: read it afresh).
 */
int model_getattr(struct project *p, const char *path, struct stat *st) CFS_WARN_UNUSED;

/* What rendering a versioned file for its attributes also found out. */
struct model_seen {
	uint64_t source; /* serial of the cached text it came from; 0: none */
	size_t len;
	bool small; /* its bytes fit in @bytes, and are there */
	char bytes[64];
};
/* model_getattr(), and for a versioned file what it saw (zeroed if not
 * versioned): a lookup hands it to the open that follows, which then need
 * not render the file again. */
int model_getattr_seen(struct project *p, const char *path, struct stat *st,
		       struct model_seen *seen) CFS_WARN_UNUSED;
/* The version of file contents @data, as st_ino carries it. */
uint64_t model_version(const void *data, size_t len);
int model_readdir(struct project *p, const char *path, model_fill_fn fill,
		  void *ctx) CFS_WARN_UNUSED;
int model_readlink(struct project *p, const char *path, char *buf, size_t size) CFS_WARN_UNUSED;
/* The file's whole contents now (callers snapshot it at open), and in
 * @source (may be NULL) the serial of the cached text they were rendered
 * from, 0 if none. */
int model_read(struct project *p, const char *path, struct buf *out,
	       uint64_t *source) CFS_WARN_UNUSED;
/*
 * The cached text (a new reference) a versioned file's bytes come from, if
 * it is cached and live: found without fetching or parsing anything, so an
 * open can tell cheaply that a file is unchanged — the same text (the same
 * serial) renders the same bytes. -ENODATA when it would take more.
 */
int model_source(struct project *p, const char *path, struct cache_val **text) CFS_WARN_UNUSED;
/* The bytes of @path rendered from @text, as model_source() gave it. */
int model_read_from(struct project *p, const char *path, struct cache_val *text,
		    struct buf *out) CFS_WARN_UNUSED;
/* May @path be opened with @flags? -EROFS for writes to cloud files. */
int model_open(struct project *p, const char *path, int flags) CFS_WARN_UNUSED;
/*
 * Writing. model_create() makes a new file (a spec, an upload, a metadata
 * key) and model_open_write() opens an existing one; both say what the
 * bytes are for. model_commit() applies them (at close, or per line for
 * actions and control files); model_done() ends a new file's life.
 */
int model_create(struct project *p, const char *path, enum model_wkind *kind) CFS_WARN_UNUSED;
int model_open_write(struct project *p, const char *path, enum model_wkind *kind) CFS_WARN_UNUSED;
int model_commit(struct project *p, const char *path, enum model_wkind kind, const char *data,
		 size_t len) CFS_WARN_UNUSED;
void model_done(struct project *p, const char *path);
/* The form of what a writer of @path (opened as @kind) writes: a
 * collection's spec is JSON unless it takes text (spec_text_key), an
 * extra's file is JSON with EXTRA_JSON; everything else is text. */
int model_write_form(struct project *p, const char *path, enum model_wkind kind,
		     enum model_form *form) CFS_WARN_UNUSED;
int model_mkdir(struct project *p, const char *path) CFS_WARN_UNUSED;
int model_rmdir(struct project *p, const char *path) CFS_WARN_UNUSED;
int model_unlink(struct project *p, const char *path) CFS_WARN_UNUSED;
int model_symlink(struct project *p, const char *target, const char *path) CFS_WARN_UNUSED;
/* Extended attributes (a member tree's files; model_tree.c): the value of
 * @name into @out, -ENODATA when it has none; the names, each followed by
 * a NUL; set (@value non-NULL) or remove. */
int model_getxattr(struct project *p, const char *path, const char *name,
		   struct buf *out) CFS_WARN_UNUSED;
int model_listxattr(struct project *p, const char *path, struct buf *out) CFS_WARN_UNUSED;
int model_setxattr(struct project *p, const char *path, const char *name, const char *value,
		   size_t len) CFS_WARN_UNUSED;
/* utimensat(2) with explicit times: -EPERM where the cloud keeps its own
 * (a member tree's files: the upload time), else 0 (nothing to change). */
int model_set_times(struct project *p, const char *path) CFS_WARN_UNUSED;
/* rename(2) within a member's tree; -EXDEV elsewhere (mv then copies). */
int model_rename(struct project *p, const char *from, const char *to) CFS_WARN_UNUSED;

/*
 * Blocking waits. model_read() of a member's "wait" file fails with
 * -EINPROGRESS: its bytes come from model_wait_start(), which registers a
 * wait and returns at once, so no thread is held while the member is busy.
 * @done is called exactly once, from the waits thread, with no lock held
 * and never before model_wait_start() has returned: rc 0 and the status
 * line (@text/@len, valid during the call), or -ENOENT (the member is
 * gone), -EREMOTEIO (it failed; the reason is in .cloudfs/errors),
 * -ETIMEDOUT (wait_timeout_ms passed), -EINTR (cancelled), -ESHUTDOWN
 * (unmounting), or the errno of a failed poll. *@w stays valid until
 * @done returns.
 */
typedef void (*model_wait_fn)(void *ctx, int rc, const char *text, size_t len);
int model_wait_start(struct project *p, const char *path, model_wait_fn done, void *ctx,
		     struct model_wait **w) CFS_WARN_UNUSED;
/* Asks for @w to end with -EINTR (Ctrl-C); a no-op once it has ended. */
void model_wait_cancel(struct project *p, struct model_wait *w);
/* Waits in progress (.cloudfs/status). */
size_t model_waiting(struct project *p);
/* Ends the waits thread and every wait still in progress (-ESHUTDOWN);
 * before the session goes away. */
void model_waits_stop(struct project *p);

/*
 * What `df` says for @path: @st is filled in (block size, name length) and,
 * below a collection with a space_def whose quota is limited, its size and
 * free space from that quota; 0, or -errno when the quota could not be read
 * (@st still holds the defaults).
 */
int model_statfs(struct project *p, const char *path, struct statvfs *st) CFS_WARN_UNUSED;

#endif
