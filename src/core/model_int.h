/* SPDX-License-Identifier: MIT */
/*
 * Shared between model.c (reading) and model_write.c (changing): the
 * resolved node and the cache helpers. Not for other layers.
 */
#ifndef CLOUDFS_MODEL_INT_H
#define CLOUDFS_MODEL_INT_H

#include "cloudfs/model.h"
#include "cloudfs/tree.h"

#define MODEL_ID_MAX 256
#define MODEL_DOC_FILE "json"
/* Resources in a transitional state are re-read at least this often. */
#define MODEL_BUSY_TTL_MS 1000

enum node_type {
	NODE_DIR,
	NODE_FILE,
	NODE_LINK
};

/* The context of a tree hook (service.h, struct tree_def): the core's side. */
struct svc_call {
	struct project *p;
	const struct collection_def *c;
};

struct ctl_def {
	const char *name;
	mode_t mode;
	int (*render)(struct project *p, struct buf *out);
	int (*write)(struct project *p, const char *data, size_t len);
	bool (*shown)(const struct project *p); /* NULL: always there */
};

extern const struct ctl_def model_ctl_files[];
extern const size_t model_ctl_count;
const struct ctl_def *model_ctl_find(const char *name);

struct node {
	struct tree_path tp;
	enum node_type type;
	/* A member extra (service.h) or an entry below one: attrs[0] names
	 * it, attrs[1..] the entry. NULL for JSON keys. */
	const struct member_extra *extra;
	bool pending; /* a file being written that the cloud does not have yet */
	bool wait; /* <collection>/<id>/wait: blocks until the member settles (waits.c) */
	/* In a member's tree (an extra with a tree_def): its cloud path ("a/b/c",
	 * a directory's with a trailing '/', the top's ""), size and the
	 * listing's MD5 (model_tree.c). */
	bool tree;
	char *tpath;
	int64_t size;
	char md5[33];
	struct cache_val *res; /* the resource document, for entries and below */
	/* Its cached text (a cdoc value). A lookup (model_getattr) of a member
	 * or of one of its simple keys is answered from it without parsing:
	 * res is then NULL and raw/rawlen (inside text) is the key's JSON. */
	struct cache_val *text;
	const char *raw;
	size_t rawlen;
	uint64_t source; /* serial of the cached text res was parsed from */
	const json_t *value; /* attrs: borrowed from res */
	bool is_doc; /* the "json" file */
	char *link; /* NODE_LINK target */
	int64_t mtime_s;
	mode_t perm;
	const struct ctl_def *ctl;
	char id[MODEL_ID_MAX]; /* the resource's id, for entries and below */
	bool summary; /* res is a listing's summary (collection_def.summary_listing) */
	bool reading; /* its contents are for a read (an open's snapshot), not a stat */
};

/*
 * A cached resource: its document as compact JSON text (model_doc.c says
 * why), with what listings and lookups need without parsing it.
 */
struct cdoc {
	int64_t ttl_ms; /* how long it may be reused (model_doc_ttl) */
	int64_t mtime_s;
	bool summary; /* a summary listing's member: its GET has more keys */
	const char *id; /* these two live in the same allocation */
	const char *name; /* its file name (names_encode_len()); NULL: none */
	size_t len;
	char text[];
};

/* A collection's full listing: its members' cdoc values, in order. */
struct listing {
	size_t n, cap;
	struct cache_val **m;
};

/* Every cache key of a collection: "<prefix>:<collection>/<id>", or with
 * @id NULL "<prefix>:<collection>" (the listing, "L"). An empty @id gives
 * the prefix of all of the collection's keys of that kind. */
void model_res_key(char *key, size_t n, const char *prefix, const struct collection_def *c,
		   const char *id);
/* The cache key of what extra @e of member @id shows: "X:<coll>/<id>/<e>". */
void model_extra_key(char *key, size_t n, const struct collection_def *c, const char *id,
		     const struct member_extra *e);
/* The document of a cdoc value, parsed: a new reference to a value holding
 * a json_t (shared, read-only). */
int model_doc_parse(struct project *p, struct cache_val *dv, struct cache_val **out);
/*
 * What a fetch found changed: the store (model_doc.c) owns the cache keys,
 * TTLs and freshness, and a fetch returns this set instead of calling up.
 * Whoever asked for the fetch, once it has returned (out of the cache's
 * single flight), hands the set to the project's notifier
 * (model_changes_deliver()). A refetch that found nothing new returns an
 * empty set; a first fetch, with nothing earlier to compare, too.
 */
enum model_change_kind {
	/* a member the last listing lacked: the kernel holds nothing of it
	 * (no note is sent) */
	MODEL_CHANGE_ADDED,
	/* a member the last listing had and this one lacks: its id's and
	 * name's entries go */
	MODEL_CHANGE_REMOVED,
	/* a member's document differs from the one it replaces (or none was
	 * known, for a GET): its files' attributes (sizes follow contents),
	 * and its old name's entry when the name changed */
	MODEL_CHANGE_CHANGED,
};

struct model_change {
	enum model_change_kind kind;
	const struct collection_def *c;
	struct cache_val *doc; /* held: the new cdoc; NULL for REMOVED */
	struct cache_val *old; /* held: the cdoc replaced; NULL for ADDED or unknown */
};

struct model_changes {
	struct model_change *v; /* owned */
	size_t n, cap;
	size_t lost; /* changes dropped for want of memory (their notes too) */
};

#define MODEL_CHANGES_INIT \
	{                  \
		.v = NULL  \
	}

/* Frees the set's changes (delivered or not); @ch can be reused. */
void model_changes_free(struct model_changes *ch);
/* Hands @ch to the project's notify hook: the kernel drops what each
 * change left stale (nothing for an added member). Then frees @ch. Only
 * from a caller that leads no fetch (the notes are queued, not sent). */
void model_changes_deliver(struct project *p, struct model_changes *ch);

/* The fetches: @c's listing, member @id, member @id even over a summary,
 * each as model_get_*() below but adding what changed to @ch instead of
 * telling anyone. On an error @ch may still hold what the pages read so
 * far changed (they are stored). */
int model_fetch_listing(struct project *p, const struct collection_def *c, struct cache_val **out,
			struct model_changes *ch);
int model_fetch_item(struct project *p, const struct collection_def *c, const char *id,
		     struct cache_val **out, struct model_changes *ch);
int model_fetch_full(struct project *p, const struct collection_def *c, const char *id,
		     struct cache_val **out, struct model_changes *ch);
/* Caches @doc as its resource's state (takes a reference), adding to @ch
 * when it changes what was known. */
void model_learn_changes(struct project *p, const struct collection_def *c, json_t *doc,
			 struct model_changes *ch);

/* Member @id of @c by GET (cached; a cdoc value); what changed goes to the
 * notifier. */
int model_get_item(struct project *p, const struct collection_def *c, const char *id,
		   struct cache_val **out);

/* Member @id of @c by GET even when a summary of it is cached: a cdoc
 * value that is not a summary (summary_listing collections). */
int model_get_full(struct project *p, const struct collection_def *c, const char *id,
		   struct cache_val **out);

/* What @x->extra's show() gives, cached with the member (EXTRA_CACHED):
 * a value holding a struct buf. */
int model_get_shown(struct project *p, const struct extra_ctx *x, struct cache_val **out);
/* The hook context of node @n (an extra or below one). */
void model_extra_ctx(struct project *p, const struct node *n, struct extra_ctx *x);

int model_resolve(struct project *p, const char *path, struct node *n);

/* Member trees (model_tree.c). */
/* The tree of @c (its extra with a tree_def) and that extra's name, or
 * NULL. */
const struct tree_def *model_tree_def(const struct collection_def *c, const char **dir);
/* @tp is in @c's tree (its directory or below). */
bool model_tree_is(const struct collection_def *c, const struct tree_path *tp);
/* Fills @n (whose member is resolved) from its directory's listing. */
int model_tree_resolve(struct project *p, struct node *n);
int model_tree_readdir(struct project *p, const struct node *n, model_fill_fn fill, void *ctx);
/* At an open for reading of file @n that its listing shows as 0 bytes: its
 * real size, if the service's open_size() knows better (one request),
 * into @n and the cached listing. 1: it changed, 0: it did not, -errno. */
int model_tree_open_size(struct project *p, struct node *n);

/* What this mount wrote (or removed, @gone) at @tpath: listings show it at
 * once, whatever the cloud's say for a while. */
void model_tree_note(struct project *p, const struct collection_def *c, const char *id,
		     const char *tpath, bool gone, int64_t size, const char *md5);
void model_tree_cleanup(struct project *p);
/* Expires every cached directory of member @id's tree, and forgets what
 * this mount wrote or removed there. */
void model_tree_forget(struct project *p, const struct collection_def *c, const char *id);
int model_tree_mkdir(struct project *p, struct node *parent, const char *name);
int model_tree_remove(struct project *p, struct node *n, bool dir);
/* rmdir of @name in @parent that lookups no longer find because this mount
 * emptied it (the listing lags): 0, else -ENOENT. */
int model_tree_rmdir_vanished(struct project *p, struct node *parent, const char *name);
int model_tree_rename(struct project *p, struct node *from, struct node *to_parent,
		      const char *name);
void model_node_release(struct node *n);

/* The full listing of @c (cached; a struct listing value). */
int model_get_listing(struct project *p, const struct collection_def *c, struct cache_val **out);
/* How many members of @c carry @name as id or name (0 when none). */
int model_name_count(struct project *p, const struct collection_def *c, const char *name,
		     size_t *n);
/* Spec resolver: @ref (id or unique name) in @c → malloc'd id. */
int model_find_ref(void *p, const struct collection_def *c, const char *ref, char **id, char *err,
		   size_t errlen);
/* Expires @c's listing and the member @id (NULL: only the listing). */
void model_forget(struct project *p, const struct collection_def *c, const char *id);
/* Expires the project's singleton documents (its quotas: their usage
 * changes with every create and delete). */
void model_forget_singletons(struct project *p);
/* Keeps @len bytes of @text as member @id's create secret (extras.c;
 * collection_def.create_secret), replacing one it had. */
int model_secret_keep(struct project *p, const struct collection_def *c, const char *id,
		      const char *text, size_t len);
/* Forgets (wipes) member @id's secret, if any. */
void model_secret_drop(struct project *p, const struct collection_def *c, const char *id);
void model_secrets_free(struct project *p);
/* Cache @doc as the current state of its resource (takes a reference). */
void model_learn(struct project *p, const struct collection_def *c, json_t *doc);
/* How long @doc may be reused: short while it is changing state. */
int64_t model_doc_ttl(const struct project *p, const struct collection_def *c, const json_t *doc);
/* Tells the kernel to forget what it cached about @path. */
void model_notify(struct project *p, const char *path);
/* The same, once the operation in progress has been answered (from inside
 * mkdir, lookup or readdir, where the kernel holds the directory). */
void model_notify_later(struct project *p, const char *path);
/* Tells the kernel that @path's attributes (its size) may have changed. */
void model_notify_attr(struct project *p, const char *path);

/* The bytes a read of @doc's wait file gives at once (its status line), 0
 * while it is busy or has failed (the read blocks or fails). */
size_t model_wait_size(const struct collection_def *c, const json_t *doc);
/* The blocking waits (waits.c): made by model_project_init(). */
int waits_new(struct waits **out);
void waits_free(struct waits *w);

/* Files being written that the cloud does not know yet, so that stat()
 * between create(2) and close(2) finds them. */
bool model_pending_has(struct project *p, const char *path);
int model_pending_add(struct project *p, const char *path);
/* Keeps (@value NULL: drops) attribute @name of file @path while it is
 * being written: -ENOENT when @path is no file being written. */
int model_pending_setxattr(struct project *p, const char *path, const char *name, const char *value,
			   size_t len);
/* The attributes kept for @path (a new reference, or NULL), taken. */
json_t *model_pending_take_xattrs(struct project *p, const char *path);
/* A name just made with mkdir answers once as a directory (mkdir's own
 * reply must be one); the kernel is then told to forget it, and it
 * resolves as the usual link. */
int model_alias_add(struct project *p, const struct collection_def *c, const char *name,
		    const char *id);
bool model_alias_get(struct project *p, const struct collection_def *c, const char *name, char *id,
		     size_t idlen);

/* The model's entry points for one project (model.h has the routed ones,
 * projects.c routes). */
int model_getattr_in(struct project *p, const char *path, struct stat *st, struct model_seen *seen);
int model_readdir_in(struct project *p, const char *path, model_fill_fn fill, void *ctx);
int model_readlink_in(struct project *p, const char *path, char *buf, size_t size);
int model_read_in(struct project *p, const char *path, struct buf *out, uint64_t *source);
int model_read_from_in(struct project *p, const char *path, struct cache_val *text,
		       struct buf *out);
int model_source_in(struct project *p, const char *path, struct cache_val **text);
int model_open_in(struct project *p, const char *path, int flags);
int model_create_in(struct project *p, const char *path, enum model_wkind *kind);
int model_open_write_in(struct project *p, const char *path, enum model_wkind *kind);
int model_commit_in(struct project *p, const char *path, enum model_wkind kind, const char *data,
		    size_t len);
void model_done_in(struct project *p, const char *path);
int model_write_form_in(struct project *p, const char *path, enum model_wkind kind,
			enum model_form *form);
int model_mkdir_in(struct project *p, const char *path);
int model_rmdir_in(struct project *p, const char *path);
int model_unlink_in(struct project *p, const char *path);
int model_symlink_in(struct project *p, const char *target, const char *path);
int model_statfs_in(struct project *p, const char *path, struct statvfs *st);

/* projects/ (projects.c). */
int projects_new(struct project *root, struct project_set **out);
void projects_free(struct project_set *s);
/* The project serving @path (a reference: projects_leave() it) and the
 * path below it; @inside: projects/<id> itself is the member's root (a
 * listing), else the root's; @peek: -ENODATA rather than make a member. */
int projects_enter(struct project *root, const char *path, bool inside, bool peek,
		   struct project **p, const char **sub);
void projects_leave(struct project *p);
/* projects/<@file>: the project's id (a directory), or the file name of
 * the id a unique name links to (malloc'd); -ENOENT when neither. */
int projects_lookup(struct project *root, const char *file, char **id, char **link);
/* Each project's file name (@link NULL), then each unique name (@link: its
 * id's file name). Stops at @fn's first nonzero answer. */
int projects_each(struct project *root, int (*fn)(void *ctx, const char *file, const char *link),
		  void *ctx);
/* regions/<@file>: the region's name (malloc'd); -ENOENT when the
 * catalog has none of that file name. */
int regions_lookup(struct project *root, const char *file, char **region);
/* Each region's file name, in catalog order. */
int regions_each(struct project *root, int (*fn)(void *ctx, const char *file), void *ctx);
/* "projects_open N\nprojects_made N\n" for the root's status. */
int projects_render_status(struct project *root, struct buf *out);

#endif
