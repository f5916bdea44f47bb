/* SPDX-License-Identifier: MIT */
/*
 * The service interface: what a service (src/services/<service>.c) hands the
 * core. A service is one row (its catalog types) and the rows of the
 * collections it contributes; adding a collection is one row in its
 * service's file, and the generic core does listing, pagination, caching
 * and rendering. The core finds services and collections only through the
 * registry (src/services/registry.c), never by including a service.
 * Layer: the core owns this interface; services implement it.
 */
#ifndef CLOUDFS_SERVICE_H
#define CLOUDFS_SERVICE_H

#include "cloudfs/common.h"

struct json_t;
struct extra_ctx;
struct service_def;
struct buf;
struct project;

/* How a friendly key of a create spec becomes the API's (spec.c applies them). */
enum spec_rule_kind {
	SPEC_REF, /* "key": ref → "target": id */
	SPEC_REF_LIST, /* "key": [ref | object] → "target": [{inner: id} | object] */
	SPEC_REF_NESTED, /* "key": ref → "target": {inner: id} */
	SPEC_NAME_LIST, /* "key": ["n"] → "target": [{inner: "n"}] */
	SPEC_RENAME, /* "key" → "target" */
	SPEC_BASE64, /* "key": text → base64 unless it already is */
	/* "key": an address or prefix (holds '/' or ':', or is dotted digits) →
	 * "inner": the text as is; anything else is a ref → "target": id
	 * (Neutron's "remote": a CIDR, or a remote security group by name) */
	SPEC_REF_OR_PREFIX,
};

struct spec_rule {
	const char *key; /* NULL ends a collection's list */
	enum spec_rule_kind kind;
	const char *target;
	const char *ref_coll; /* SPEC_REF*: the collection the reference is looked up in */
	const char *inner; /* SPEC_REF_LIST/_NESTED, SPEC_NAME_LIST: the key inside */
	const char *const *as_is; /* SPEC_REF_LIST: words passed on unresolved */
};

/* A line a service's action file takes, and the request it makes (the
 * service's store hook looks the line up with action_verb_find()):
 * POST <item>/<path> {"<action>": {"<arg_key>": "<arg_value>"}}, or
 * {"<action>": null} without an argument. */
struct action_verb {
	const char *word; /* NULL ends a collection's list */
	const char *action;
	const char *arg_key; /* NULL: the action's value is null */
	const char *arg_value;
};

enum next_style {
	NEXT_LINKS, /* "<key>_links": [{"rel": "next", "href": absolute URL}] */
	NEXT_RELATIVE, /* Glance: top-level "next", a path relative to the endpoint */
	/* Swift: the next page is the same URL with marker=<the last member's
	 * id_field>, until an empty page (never a short one: a page may be
	 * short before the end). Needs .paged. */
	NEXT_MARKER,
};

/* ---- member trees ------------------------------------------------------ */
/*
 * A member's tree: one directory of a member (Swift's objects/: a member
 * extra whose .tree is set) below
 * which entries are paths of any depth, listed one directory at a time by
 * the service, whose files stream both ways. The core caches each
 * directory's listing and answers lookups and stat from it (never a
 * request per entry), merges a directory and a file of the same name (the
 * directory wins; the file is reported), encodes names (names.h), streams
 * data with its checks, and remembers what it wrote until the cloud's
 * listings show it. The service says how its cloud lists, names, makes
 * and removes things, through the hooks of struct tree_def and the svc_*
 * request helpers, which are the core's.
 *
 * A hook's @path is an entry's name in the cloud: its components, decoded,
 * joined by '/' ("a/b/c.txt"); a directory's ends with '/' ("a/b/"), the
 * top's is "". @id is the member's id.
 */
struct tree_entry {
	const char *name; /* one component: cloud bytes, no '/', not encoded */
	size_t name_len;
	bool dir;
	int64_t size; /* files: exact bytes */
	int64_t mtime_s;
	/* files: the MD5 of the bytes, as 32 hex digits, when the listing
	 * states it (a download is then checked against it), else NULL */
	const char *md5;
	/* dir: a marker object makes it (it exists even when empty), as
	 * against a name below which objects happen to be */
	bool marker;
	/* the listed directory's own marker (name_len 0): it exists even
	 * when empty */
	bool self;
	/* a link (a Swift symlink): to file @link_path (cloud bytes, '/'
	 * between components) of member @link_member's tree, both untrusted:
	 * shown as a relative symlink that stays in the mount, its components
	 * encoded by the names rule, or left out when the rule cannot */
	const char *link_member, *link_path;
};

/* Takes one entry (borrowed for the call); 0 goes on, -errno fails. */
typedef int (*tree_fill_fn)(void *ctx, const struct tree_entry *e);

/* The core's context of a hook: the session, the service, the member. */
struct svc_call;

/* A digest the cloud states for a member's data (data_stream_def). */
struct data_digest {
	const char *algo; /* OpenSSL's name: "md5", "sha512" */
	const char *hex; /* borrowed from the document; NULL: not stated */
	bool required; /* an upload whose document does not state it fails */
};

/* The most digests data_stream_def.digests() gives. */
#define DATA_DIGESTS_MAX 4

/*
 * A collection whose members are data (Glance's images): a file written in
 * its directory (collection_def.upload) is uploaded as a new member's
 * bytes, and its members' EXTRA_STREAM file streams them back, by the
 * core's streaming engine (src/core/stream.c: the head kept until the
 * format is known, one streamed request, digests computed and checked,
 * Range reads, the failed upload's member deleted). What is the service's
 * is here: where the bytes are, how a member is made for them and what
 * its document says they hash to.
 */
struct data_stream_def {
	/* The bytes of member <id> are at its URL + "/" data_below. */
	const char *data_below;
	/* The upload's verb on that path (one streamed request). */
	const char *upload_method;
	/* Makes the member @name whose bytes follow (@format: what
	 * stream_detect_format() tells of their head), carrying the property
	 * @mark_key = @mark_value, which lets a later mount find it if this
	 * process dies before it could delete a failed upload. Its id into
	 * @id (@idlen bytes). 0 or -errno (logged). */
	int (*create)(struct svc_call *x, const char *name, const char *format,
		      const char *mark_key, const char *mark_value, char *id, size_t idlen);
	/* The digests @doc states for its member's bytes into @out (at most
	 * DATA_DIGESTS_MAX), the one a download is checked against first
	 * (the first of an algorithm OpenSSL knows); how many. An upload is
	 * checked against each one of an algorithm the core computes (md5,
	 * sha512). */
	size_t (*digests)(const struct json_t *doc, struct data_digest *out);
	/* The checked upload's member @id loses its @mark_key property (NULL:
	 * nothing to do). *doc is its document; it may be replaced by the
	 * cloud's newer answer. 0 or -errno (the mark stays: harmless). */
	int (*unmark)(struct svc_call *x, const char *id, const char *mark_key,
		      struct json_t **doc);
};

/* One part of a large file, as the core uploaded and checked it. */
struct tree_part {
	char *path; /* request path it was PUT to */
	char md5[33]; /* its bytes' MD5, which the cloud's ETag matched */
	int64_t size;
};

struct tree_def {
	/* The entries of directory @path, through @fill, in any order,
	 * paging as the cloud needs: one listing per directory. */
	int (*list)(struct svc_call *x, const char *id, const char *path, tree_fill_fn fill,
		    void *ctx);
	/* The request path of file @path's bytes (GET with Range; PUT of a
	 * small file, with its MD5 in an ETag header), malloc'd or NULL. */
	char *(*data_path)(const char *id, const char *path);
	/* Asked when a file the listing shows as 0 bytes is opened for
	 * reading (never while listing: that costs a request per entry): 1
	 * and its real size in *@size when it has more bytes than the listing
	 * says (a Swift DLO: its bytes are then not checked against @md5, the
	 * listing's MD5 or NULL), 0 when the listing is right, or -errno.
	 * NULL: the listing is always right. */
	int (*open_size)(struct svc_call *x, const char *id, const char *path, const char *md5,
			 int64_t *size);
	/* Headers sent with a file's PUT (NULL-terminated), or NULL. */
	const char *const *put_headers;
	/* A file over this many bytes is uploaded in parts of that size
	 * (0: never). Asked once per upload; the service may ask the cloud
	 * (Swift's /info) the first time. -errno on failure. */
	int64_t (*part_size)(struct svc_call *x);
	/* The largest file an upload can make (0: no limit), asked with
	 * part_size: a write past it fails EFBIG at once. -errno on failure. */
	int64_t (*size_limit)(struct svc_call *x);
	/* 0 when @path (a file, or a directory "a/b/") can be named in the
	 * cloud, else -ENAMETOOLONG (or another -errno): asked before a create,
	 * a mkdir or a rename makes it, so the error comes at open(2). */
	int (*check_name)(struct svc_call *x, const char *id, const char *path);
	/* The request path of part @index of an upload of @path started at
	 * @stamp (unique per upload), malloc'd; the first call for an upload
	 * (index 0) may prepare where parts go. NULL with errno set. */
	char *(*part_path)(struct svc_call *x, const char *id, const char *path, const char *stamp,
			   unsigned index);
	/* Marks the parts of the upload of @path at @stamp as this process's
	 * (@marker: leftovers_marker()), before the first part is sent; gives
	 * the request path of the mark (malloc'd), whose DELETE removes it once
	 * the file landed or its parts were deleted. A mount whose process
	 * died leaves it for a later mount's at_start(). Asked again with
	 * @old (replacing()'s answer) before the file lands over one it
	 * replaces: the mark (made then if *@mark_path is NULL: an upload
	 * without parts) also names what replaced() will clean, so a process
	 * killed between the landing and the cleaning leaves nothing behind. */
	int (*mark_parts)(struct svc_call *x, const char *id, const char *path, const char *stamp,
			  const char *marker, const struct json_t *old, char **mark_path);
	/* At mount, in the background (leftovers.c's thread): learns the
	 * cloud's limits, then for each mark whose @dead(@ctx, marker) is
	 * true deletes the parts it names (unless their file landed) and the
	 * mark. */
	void (*at_start)(struct svc_call *x, bool (*dead)(void *ctx, const char *marker),
			 void *ctx);
	/* Makes @path the file made of @parts (checked, in order), and gives
	 * the ETag the cloud answered: the core compares it with the MD5 of
	 * the parts' MD5s (hex, concatenated), so 0 is not enough alone. */
	int (*parts_commit)(struct svc_call *x, const char *id, const char *path,
			    const struct tree_part *parts, size_t n, char *etag, size_t etag_len);
	/* Called before an upload replaces an existing file @path: what
	 * replaced() will clean once the new file has landed (a large file's
	 * old parts), or NULL. The core json_decref()s it if the upload fails. */
	struct json_t *(*replacing)(struct svc_call *x, const char *id, const char *path);
	/* Cleans what replacing() found (and json_decref()s it): 0 when all
	 * of it is gone, else -errno (the upload's mark then stays, for a
	 * later mount to finish the cleaning). */
	int (*replaced)(struct svc_call *x, const char *id, const char *path, struct json_t *old);
	/* mkdir: directory @path ("a/b/") */
	int (*mkdir)(struct svc_call *x, const char *id, const char *path);
	/* Removes file @path, or the marker(s) of empty directory @path ("a/").
	 * @plain: the listing stated the file's MD5 (it is no large file). */
	int (*remove)(struct svc_call *x, const char *id, const char *path, bool dir, bool plain);
	/* Renames file @from to @to (may replace a file @to). */
	int (*rename)(struct svc_call *x, const char *id, const char *from, const char *to);
	/* File @path's extended attributes, as an object {"user.<...>":
	 * "value"}: one request, asked only by getfattr-like calls. */
	int (*xattrs)(struct svc_call *x, const char *id, const char *path, struct json_t **out);
	/* Sets attribute @name of file @path to the @len bytes at @value, or
	 * removes it (@value NULL): -ENOTSUP for a name it has no place for,
	 * -EPERM for a read-only one, -EINVAL for a value the cloud refuses. */
	int (*set_xattr)(struct svc_call *x, const char *id, const char *path, const char *name,
			 const char *value, size_t len);
	/* Whether listxattr shows @name (NULL: all): what the cloud derives is
	 * read by name only, so copies carry only what the user set. */
	bool (*xattr_listed)(const char *name);
};

/* What svc_request() brings back. */
struct svc_answer {
	struct json_t *json; /* a JSON body, parsed (owned), or NULL */
	char etag[80]; /* ETag without quotes, or "" */
	char content_type[96];
	int64_t content_length; /* Content-Length (a HEAD's: the object's), or -1 */
	char *xheaders; /* "X-Name: value\n" lines (owned), or NULL */
};

/*
 * svc_request() - one request of a hook, through the core (the session's
 * token, retries of GETs, the errno table, .cloudfs/errors)
 * @path:    relative to the service's endpoint, or an absolute URL on its
 *           origin
 * @headers: extra "Name: value" lines, NULL-terminated, or NULL
 * @body:    sent with @ctype (NULL: application/json) when non-NULL
 * @out:     may be NULL; else svc_answer_free() it, whatever the result
 */
int svc_request(struct svc_call *x, const char *method, const char *path,
		const char *const *headers, const char *body, size_t len, const char *ctype,
		struct svc_answer *out) CFS_WARN_UNUSED;
/* svc_request() from a member extra's hook (its member's service). */
int svc_request_extra(const struct extra_ctx *x, const char *method, const char *path,
		      const char *const *headers, const char *body, size_t len, const char *ctype,
		      struct svc_answer *out) CFS_WARN_UNUSED;
/* @ref (id or unique name) in collection @coll → malloc'd *id, as
 * extra_find_ref() does, from a hook that has no member. */
int svc_find_ref(struct svc_call *x, const char *coll, const char *ref, char **id, char *err,
		 size_t errlen);
/* A DELETE that runs even when the user's operation was interrupted. */
int svc_cleanup_delete(struct svc_call *x, const char *path) CFS_WARN_UNUSED;
void svc_answer_free(struct svc_answer *a);
/* The -o part_size the user asked for, or 0. */
int64_t svc_part_size_option(const struct svc_call *x);
/* The service's endpoint (borrowed), for /info-style requests beside it. */
const char *svc_endpoint(const struct svc_call *x);
/* The value of header @name in @a's X- headers (malloc'd), or NULL. */
char *svc_header(const struct svc_answer *a, const char *name);
/* The URL-escaped @s (RFC 3986 unreserved kept), malloc'd or NULL. With
 * @keep_slash, a path: '/' kept, and every '.' escaped, so that no "." or
 * ".." segment is resolved away on its way to the cloud. */
char *svc_escape(const char *s, bool keep_slash);

/* Where `df` on a collection's directory takes its numbers: one key of a
 * singleton in a group (volumes/: quotas/volume's gigabytes). */
struct space_def {
	const char *group, *coll; /* the singleton: <group>/<coll> */
	const char *key; /* its key holding the numbers */
	const char *limit, *used; /* the key's fields: the size, what is used */
	unsigned long long unit; /* bytes in one unit of them */
};

struct collection_def {
	const char *name; /* directory name */
	const struct service_def *service; /* the service serving it */
	/* The directory the collection is listed in, below the project
	 * ("quotas": quotas/<name>/), or NULL for the project's own level.
	 * Several services' rows share a group directory. */
	const char *group;
	/* The collection is one document about the project itself, not a
	 * list of members: its directory is that document's (json and one
	 * file per key). It is GET item_path/<project id><item_suffix> and
	 * updated with PUT item_path/<project id>; list_path is unused. Only
	 * in a group. */
	bool singleton;
	const char *item_suffix; /* appended to a singleton's GET, or NULL */
	/* A singleton's <key>/<writable_leaf> files can be written: PUT
	 * {item_key: {<key>: value}} (a quota's limit). NULL: none. */
	const char *writable_leaf;
	/* `df` on this directory: the quota it is filled against, or NULL. */
	const struct space_def *space;
	const char *list_path; /* detail listing, relative to the endpoint */
	const char *item_path; /* a member is item_path + "/" + escaped id */
	const char *list_key; /* array in the listing body */
	const char *item_key; /* wrapper of a single GET body, NULL when bare */
	const char *member_wrap; /* wrapper of each listed member, or NULL */
	const char *id_field; /* "id", or "name" for keypairs */
	/* The member's name (its link beside the id, the name a create
	 * sends): "name" for every OpenStack resource so far. */
	const char *name_field;
	/* Where its modification time is, first present wins (NULL-terminated);
	 * NULL: the mount's time. */
	const char *const *mtime_fields;
	const char *links_key; /* for NEXT_LINKS */
	enum next_style next;
	bool paged; /* accepts ?limit= (ask for big pages) */
	bool uuid_ids; /* ids are UUIDs: a non-UUID name is never an id */
	bool name_links; /* unique names appear as symlinks to the id */

	/* Writing. Creates POST to item_path with the body wrapped in
	 * item_key (bare when NULL); updates PUT item_path/<id> the same way,
	 * or send a JSON patch (Glance). */
	bool can_create; /* a spec file written in the directory creates */
	bool upload; /* a file written in the directory is uploaded as a
				    * new resource's data (Glance images), by @stream */
	/* How members' data is uploaded and read (upload, EXTRA_STREAM). */
	const struct data_stream_def *stream;
	bool mkdir_creates; /* mkdir <name> creates with just a name */
	bool mkdir_put; /* ... by a PUT of item_path/<name> without a body (Swift) */
	/* rmdir of a member the cloud refuses with 409 is ENOTEMPTY (a
	 * Swift container that still holds objects), not EBUSY */
	bool conflict_notempty;
	bool nameless; /* the resource has no name (floating IPs) */
	bool patch_update; /* updates are JSON patches (Glance) */
	const char *spec_text_key; /* a non-JSON spec is this field (keypairs) */
	/* A key of the create answer that the cloud sends that once and never
	 * again (Nova's generated private_key): it is taken out of the answer,
	 * never cached or logged, and kept in memory for the member's extras
	 * (extra_secret()) until read or unmount. NULL: none. */
	const char *create_secret;
	/* The text goes into spec_text_key exactly as written, not trimmed
	 * (Heat templates: the cloud parses them, so nothing re-serialises). */
	bool spec_text_raw;
	/* A JSON object holding one of these top-level keys is a document of
	 * its own, sent as text under spec_text_key, not a spec (a JSON Heat
	 * template: "heat_template_version"). NULL-terminated, or NULL. */
	const char *const *spec_text_marks;
	/* A create body is sent bare although a single GET answers wrapped in
	 * item_key (Heat: POST {"stack_name", ...}, GET {"stack": {...}}). */
	bool create_bare;
	/* A text spec (spec_text_key) holding a second YAML document (after a
	 * line "---") sends that document, as written, under this key: Heat's
	 * environment after its template. NULL: the text is one document. */
	const char *spec_text_second_key;
	/* The listing's members are summaries: a member's own GET has keys
	 * the listing lacks (Heat's outputs, parameters). The listing answers
	 * what it has; a file it lacks, the member's "json" and a listing of
	 * the member's directory come from one GET of the member, cached. */
	bool summary_listing;
	const struct spec_rule *spec_rules; /* friendly keys of a create spec, or NULL */
	/* Completes a create body after the rules (defaults that follow from
	 * other keys); 0 or -ENOMEM. NULL when there is nothing to complete. */
	int (*spec_complete)(struct json_t *body);
	/* Completes a create body (unwrapped) for the microversion the
	 * session asks of the service (NULL: none); 0 or -ENOMEM. NULL: no
	 * such hook. (Nova wants "networks" from 2.37 on.) */
	int (*create_complete)(struct json_t *body, const char *microversion);
	/* Makes the create itself instead of one POST of @body (the wrapped
	 * body; the hook may change it): a floating IP for a server tries the
	 * server's ports in turn. *answer as the POST's (a new reference).
	 * NULL: the core POSTs. */
	int (*create_post)(struct svc_call *x, struct json_t *body, struct json_t **answer);
	/* True when @doc is on its way somewhere else (building, attaching,
	 * saving...): it is then kept for at most MODEL_BUSY_TTL_MS. NULL when
	 * a member is never busy. */
	bool (*busy)(const struct json_t *doc);
	/* When @doc is in a failure state (ERROR, error, killed, *_FAILED):
	 * the reason the cloud gives (borrowed from @doc), or "" when it gives
	 * none; NULL when @doc has not failed. What a blocking wait ends with.
	 * NULL when a member never fails. */
	const char *(*failed)(const struct json_t *doc);
	/* The key whose value a member's "wait" file prints once busy() is
	 * over (Nova's "status", Heat's "stack_status"). A collection with
	 * busy() and a status_field has a wait file in each member (the core
	 * implements it on busy() and failed(); docs/SEMANTICS.md). NULL: none. */
	const char *status_field;
	/* A member that belongs to a member of another collection, whose
	 * document shows it (a rule in its security group's document): the
	 * owner's collection and the key holding its id. Creating or deleting
	 * a member forgets its owner too, so nothing stale is served. */
	const char *owner_coll;
	const char *owner_field;
	/* Files, directories and links of a member beside its JSON keys
	 * (struct member_extra), ended by a row without a name; NULL: none. */
	const struct member_extra *extras;
	const char *const *writable; /* attributes that can be written */
};

/*
 * Member extras: what a member directory holds beside its JSON keys, as
 * configfs attributes are what an item holds. A collection row names a
 * table of them (.extras); the core resolves, lists, stats, reads and
 * writes them and calls the hooks below, which know the cloud. A hook
 * returns 0 or -errno; the core turns that into the reply (and, for a
 * store, into write(2)'s or close(2)'s error as docs/SEMANTICS.md says).
 */
enum extra_kind {
	EXTRA_FILE,
	EXTRA_DIR,
	EXTRA_LINK,
};

enum extra_flags {
	/* store runs once per complete line, at write(2) (a shell sees a bad
	 * line's error, as it ignores close(2) of echo); else at flush. */
	EXTRA_LINES = 1 << 0,
	/* show's bytes are cached with the member (same TTL, dropped when the
	 * member is forgotten): a stat then a read make one request. */
	EXTRA_CACHED = 1 << 1,
	/* Costly: not shown to list the member directory (its size is only
	 * known to a lookup), not re-stat'ed when the member changes. */
	EXTRA_LAZY = 1 << 2,
	/* Read by the core's streaming engine (src/core/stream.c, the member's
	 * data: Range GETs, digest check), never snapshotted; size() gives
	 * st_size. */
	EXTRA_STREAM = 1 << 3,
	/* A directory over the member's JSON object of the same name: the core
	 * lists and reads its keys as any object; store() sets one (new names
	 * are created), unlink() removes one. Mode of its keys: 0644 with a
	 * store hook. */
	EXTRA_ON_KEY = 1 << 4,
	/* A file store()s one JSON object: it is stored by the write(2) that
	 * completes the object, and a write that breaks it fails at once
	 * (handle.c; a shell ignores close(2) of echo); else at flush. */
	EXTRA_JSON = 1 << 5,
	/* Not listed by readdir, like a member's "wait": read by its name. For
	 * a file whose every stat is a request that may fail (a console URL),
	 * so that nothing walking the tree (find, ls -lR) makes it. */
	EXTRA_UNLISTED = 1 << 6,
};

/*
 * What a hook is handed: which member, which entry. Read-only; valid for
 * the call only.
 */
struct extra_ctx {
	struct project *project; /* opaque: pass it back through the helpers */
	const struct collection_def *coll;
	const struct member_extra *extra;
	const char *id; /* the member's id */
	const struct json_t *doc; /* the member's cached document */
	/* The entry concerned, below the extra: decoded names, nsub 0 for the
	 * extra itself; for readdir the directory listed. */
	char *const *sub;
	size_t nsub;
	/* show() is making an open file's bytes (a read), not stat's size */
	bool reading;
};

/* What lookup() finds at x->sub. */
struct extra_entry {
	enum extra_kind kind;
	char *link; /* EXTRA_LINK: its target, malloc'd (extra_link_to()) */
	/* Permission bits; 0: a file 0444 (0644 when the extra has store),
	 * a directory the extra's mode. A file's st_size is size()'s when the
	 * extra has one, else the length of what show() gives. */
	unsigned mode;
};

/* readdir()'s callback: one entry named @name (decoded; the core encodes
 * it), with @link its target for EXTRA_LINK. > 0 stops, < 0 fails. */
typedef int (*extra_fill_fn)(void *fill_ctx, const char *name, enum extra_kind kind,
			     const char *link);

struct member_extra {
	const char *name; /* NULL ends a table */
	enum extra_kind kind;
	unsigned mode; /* permission bits: 0444, 0200, 0755... */
	unsigned flags; /* enum extra_flags */
	/* Files. show: the bytes a read returns (may block: it is bounded by
	 * the api layer's timeouts and interruptible like any request).
	 * size: st_size without reading (EXTRA_STREAM). store: the bytes
	 * written, committed at flush (or per line). For a directory's
	 * entries (nsub > 0) the same hooks serve its files. */
	int (*show)(const struct extra_ctx *x, struct buf *out);
	int (*size)(const struct extra_ctx *x, int64_t *size);
	int (*store)(const struct extra_ctx *x, const char *data, size_t len);
	/* Links: the target of an EXTRA_LINK extra, malloc'd in *target. */
	int (*target)(const struct extra_ctx *x, char **target);
	/* Directories. readdir lists x->sub; lookup finds x->sub (-ENOENT
	 * when absent); link makes x->sub a link to @target (`ln -s`);
	 * unlink removes x->sub (`rm`); mkdir/rmdir make and remove a
	 * directory x->sub. A missing hook is EPERM. */
	int (*readdir)(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx);
	int (*lookup)(const struct extra_ctx *x, struct extra_entry *e);
	int (*link)(const struct extra_ctx *x, const char *target);
	int (*unlink)(const struct extra_ctx *x);
	int (*mkdir)(const struct extra_ctx *x);
	int (*rmdir)(const struct extra_ctx *x);
	/* An EXTRA_DIR that is a tree of any depth (struct tree_def above:
	 * Swift's objects/): the core lists, resolves and streams below it
	 * with the tree's hooks, and the directory hooks above are unused. */
	const struct tree_def *tree;
};

/* The extra of @c called @name, or NULL. */
const struct member_extra *extra_find(const struct collection_def *c, const char *name);

/*
 * Helpers the core gives hooks (src/core/extras.c), so that a service
 * needs no core internal. Requests are svc_request()'s (one path for every
 * hook, one name for its forms: svc_request() and svc_request_extra() take
 * and give bytes, svc_request_json() and svc_request_member() JSON):
 * failures are mapped by errmap and logged to .cloudfs/errors there.
 */
/* @method on the member's URL [+ "/" @below [+ "/" @key]] (URL-escaped),
 * with @body (JSON, NULL: none); *answer (may be NULL) gets the answer. */
int svc_request_member(const struct extra_ctx *x, const char *method, const char *below,
		       const char *key, const struct json_t *body, struct json_t **answer);
/* GET the member's URL + "/" @below (a sub-resource listing, a query
 * allowed: "events?sort_dir=asc"), cached as the member is (its TTL,
 * short while busy; forgotten with it), so the lookups and reads of a
 * directory made from it cost one request. *answer: a new reference,
 * shared: read it, never change it. */
int extra_get(const struct extra_ctx *x, const char *below, struct json_t **answer);
/* @method on @path of the member's service (relative to its endpoint): the
 * JSON form of svc_request_extra() (@body serialised, the answer parsed),
 * the same request path. */
int svc_request_json(const struct extra_ctx *x, const char *method, const char *path,
		     const struct json_t *body, struct json_t **answer);
/* @ref (id or unique name) in collection @coll → malloc'd *id; -EINVAL
 * with the reason in @err when there is none or several. */
int extra_find_ref(const struct extra_ctx *x, const char *coll, const char *ref, char **id,
		   char *err, size_t errlen);
/* The target of a link at x->sub (x->nsub 0: the extra itself) to member
 * @id of collection @coll: "../" up to the root, then coll/<id encoded>.
 * Malloc'd, NULL on ENOMEM. */
char *extra_link_to(const struct extra_ctx *x, const char *coll, const char *id);
/* Member @id of @coll (NULL @coll: x's collection; NULL @id: only its
 * listing) changed: the cache forgets it and the kernel is told once it
 * is fetched again (the notifier path; never from inside a fetch). */
void extra_changed(const struct extra_ctx *x, const char *coll, const char *id);
/* The member's document fetched again (the cache and the kernel learn
 * it as from any fetch): a new reference in *doc. For a hook that waits
 * for the member to change (a blocking read). */
int extra_refetch(const struct extra_ctx *x, struct json_t **doc);
/* Sleeps @ms, waking early with -EINTR when the operation is interrupted
 * (Ctrl-C): a blocking hook polls with it between requests. */
int extra_sleep(const struct extra_ctx *x, int64_t ms);
/* The member's create secret (collection_def.create_secret) into @out
 * (NULL: only whether there is one). A read (x->reading) takes it: the
 * core forgets it, wiped, so it is shown once. -ENOENT when none is held. */
int extra_secret(const struct extra_ctx *x, struct buf *out);
/* The microversion the session asks of the member's service ("2.70"), or
 * NULL when it asks none (the service's base version). */
const char *extra_microversion(const struct extra_ctx *x);
/* True when @version (NULL: none, the base) is at least @want ("2.6"). */
bool service_version_at_least(const char *version, const char *want);
/* The verb of @verbs (ended by a NULL word) written as @line, or NULL. */
const struct action_verb *action_verb_find(const struct action_verb *verbs, const char *line);

struct service_def {
	const char *name; /* for messages: "compute" */
	const char *const *types; /* catalog types, preferred first */
	const char *version_suffix; /* stripped from the endpoint when present:
					* paths below carry the version instead */
	/* Microversions: the service type the OpenStack-API-Version header
	 * names ("compute"), and the highest microversion its rows and hooks
	 * were written for. At session start the endpoint's version document
	 * is read and min(its "version", this) is asked for in every request
	 * (the session's version[]); NULL: the service has none. */
	const char *microversion_type;
	const char *microversion_max;
	/* The directories this service contributes, in the order the mount's
	 * root lists them; each row's .service points back here. */
	const struct collection_def *collections;
	size_t n_collections;
};

/* The registry (src/services/registry.c): every service, NULL-terminated,
 * and how many. A service's index in it is where per-service state (the
 * session's endpoints) is kept: service_index(). */
extern const struct service_def *const services[];
extern const size_t n_services;

/* @svc's index in services[], or n_services when it is not registered. */
size_t service_index(const struct service_def *svc);

/* The page size we ask for: the usual server-side maximum (Nova max_limit,
 * Glance api_limit_max, Cinder osapi_max_limit). Servers clamp larger asks. */
#define COLLECTION_PAGE_LIMIT 1000

/* Borrowed definition by directory name, or NULL (a project-level
 * collection: not one in a group). */
const struct collection_def *collection_find(const char *name);
/* The collection @name in group directory @group, or NULL. */
const struct collection_def *collection_find_in(const char *group, const char *name);
/* The registry's own string for group directory @name when some
 * collection is listed in it, else NULL. */
const char *collection_group(const char *name);

/* The collection after @c in the registry (the first for NULL), or NULL
 * after the last: services in id order, each one's rows in order. */
const struct collection_def *collection_next(const struct collection_def *c);

/* True when @doc's string @field is one of the NULL-terminated @words:
 * the usual body of a busy() hook. */
bool service_field_in(const struct json_t *doc, const char *field, const char *const *words);
/* The first object of the array @list whose string @field is @value
 * (borrowed), or NULL; @list may be NULL or not an array. */
const struct json_t *service_member_where(const struct json_t *list, const char *field,
					  const char *value);

/* @doc's name value (borrowed from @doc), or NULL when @c has no name
 * field or @doc has nothing there. */
const struct json_t *collection_member_name(const struct collection_def *c,
					    const struct json_t *doc);

#define SERVICE_ROWS(rows) .collections = rows, .n_collections = sizeof(rows) / sizeof((rows)[0])

#endif
