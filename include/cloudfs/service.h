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

enum service {
	SVC_COMPUTE,
	SVC_IMAGE,
	SVC_VOLUME,
	SVC_NETWORK,
	SVC_ORCHESTRATION,
	SVC_COUNT
};

struct json_t;

/* How a friendly key of a create spec becomes the API's (spec.c applies them). */
enum spec_rule_kind {
	SPEC_REF, /* "key": ref → "target": id */
	SPEC_REF_LIST, /* "key": [ref | object] → "target": [{inner: id} | object] */
	SPEC_REF_NESTED, /* "key": ref → "target": {inner: id} */
	SPEC_NAME_LIST, /* "key": ["n"] → "target": [{inner: "n"}] */
	SPEC_RENAME, /* "key" → "target" */
	SPEC_BASE64, /* "key": text → base64 unless it already is */
};

struct spec_rule {
	const char *key; /* NULL ends a collection's list */
	enum spec_rule_kind kind;
	const char *target;
	const char *ref_coll; /* SPEC_REF*: the collection the reference is looked up in */
	const char *inner; /* SPEC_REF_LIST/_NESTED, SPEC_NAME_LIST: the key inside */
	const char *const *as_is; /* SPEC_REF_LIST: words passed on unresolved */
};

/* A line written to a member's "action" file, and the request it makes:
 * POST <item>/<action_path> {"<action>": {"<arg_key>": "<arg_value>"}}, or
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
};

struct collection_def {
	const char *name; /* directory name */
	enum service service;
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
				    * new resource's data (Glance images) */
	bool mkdir_creates; /* mkdir <name> creates with just a name */
	bool nameless; /* the resource has no name (floating IPs) */
	bool patch_update; /* updates are JSON patches (Glance) */
	bool metadata; /* <id>/metadata/<key> can be set and removed */
	const char *spec_text_key; /* a non-JSON spec is this field (keypairs) */
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
	/* The listing's members are summaries: a member's own GET has keys
	 * the listing lacks (Heat's outputs, parameters). The listing answers
	 * what it has; a file it lacks, the member's "json" and a listing of
	 * the member's directory come from one GET of the member, cached. */
	bool summary_listing;
	const struct spec_rule *spec_rules; /* friendly keys of a create spec, or NULL */
	/* Completes a create body after the rules (defaults that follow from
	 * other keys); 0 or -ENOMEM. NULL when there is nothing to complete. */
	int (*spec_complete)(struct json_t *body);
	/* True when @doc is on its way somewhere else (building, attaching,
	 * saving...): it is then kept for at most MODEL_BUSY_TTL_MS. NULL when
	 * a member is never busy. */
	bool (*busy)(const struct json_t *doc);
	/* When @doc is in a failure state (ERROR, error, killed, *_FAILED):
	 * the reason the cloud gives (borrowed from @doc), or "" when it gives
	 * none; NULL when @doc has not failed. What a blocking wait ends with.
	 * NULL when a member never fails. */
	const char *(*failed)(const struct json_t *doc);
	/* Files of a member beside its JSON keys ("action", "console",
	 * "volumes", "data"; model.c says what each is), NULL-terminated. */
	const char *const *extra_files;
	const char *const *writable; /* attributes that can be written */
	/* The "action" extra file: its verbs, the path they are POSTed to below
	 * the member, and the list a wrong verb's message shows. */
	const struct action_verb *actions;
	const char *action_path;
	const char *actions_help;
};

struct service_def {
	enum service id;
	const char *name; /* for messages: "compute" */
	const char *const *types; /* catalog types, preferred first */
	const char *version_suffix; /* stripped from the endpoint when present:
					* paths below carry the version instead */
	/* The directories this service contributes, in the order the mount's
	 * root lists them; each row's .service is this service's id. */
	const struct collection_def *collections;
	size_t n_collections;
};

/* The registry (src/services/registry.c): every service by id. */
extern const struct service_def *const services[SVC_COUNT];

/* The page size we ask for: the usual server-side maximum (Nova max_limit,
 * Glance api_limit_max, Cinder osapi_max_limit). Servers clamp larger asks. */
#define COLLECTION_PAGE_LIMIT 1000

/* Borrowed definition by directory name, or NULL. */
const struct collection_def *collection_find(const char *name);

/* The collection after @c in the registry (the first for NULL), or NULL
 * after the last: services in id order, each one's rows in order. */
const struct collection_def *collection_next(const struct collection_def *c);

/* True when @doc's string @field is one of the NULL-terminated @words:
 * the usual body of a busy() hook. */
bool service_field_in(const struct json_t *doc, const char *field, const char *const *words);

/* @doc's name value (borrowed from @doc), or NULL when @c has no name
 * field or @doc has nothing there. */
const struct json_t *collection_member_name(const struct collection_def *c,
					    const struct json_t *doc);

#define SERVICE_ROWS(rows) .collections = rows, .n_collections = sizeof(rows) / sizeof((rows)[0])

#endif
