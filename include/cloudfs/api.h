/* SPDX-License-Identifier: MIT */
/*
 * Authenticated OpenStack calls returning -errno. Owns the token header, the
 * one re-authentication on 401, retries with backoff for idempotent calls,
 * pagination, and logging each failure once with the cloud's own message
 * and request id. HTTP status codes do not escape this layer.
 * Layer: above auth/catalog/http, below the cache users (model).
 */
#ifndef CLOUDFS_API_H
#define CLOUDFS_API_H

#include <stdatomic.h>
#include <jansson.h>
#include "cloudfs/auth.h"
#include "cloudfs/collections.h"
#include "cloudfs/config.h"

struct session {
	const struct config *cfg; /* borrowed */
	struct auth *auth; /* borrowed */
	char *endpoint[SVC_COUNT]; /* NULL when the catalog lacks the service */
	atomic_ulong requests; /* HTTP requests sent, retries included */
	atomic_ulong failures; /* requests that ended in an error */
};

/* Resolves every service endpoint from the token's catalog. */
int session_init(struct session *s, const struct config *cfg, struct auth *auth, char *err,
		 size_t errlen) CFS_WARN_UNUSED;
void session_cleanup(struct session *s);

/*
 * api_get_json() - GET a JSON document
 * @path: relative to the service endpoint ("/servers/x"), or an absolute URL
 * @out:  on 0, a new reference
 * Returns 0 or -errno (-ENOENT, -EACCES, -ETIMEDOUT, -EIO for bad JSON, ...).
 */
int api_get_json(struct session *s, enum service svc, const char *path,
		 json_t **out) CFS_WARN_UNUSED;

/*
 * api_list() - every member of a collection, following pagination to the end
 * @out: on 0, a new reference to an array of member objects (unwrapped)
 * Returns 0 or -errno; never a partial listing.
 */
int api_list(struct session *s, const struct collection_def *c, json_t **out) CFS_WARN_UNUSED;

/*
 * api_get_item() - one member of a collection, unwrapped
 * @id: the member's id (or name for keypairs); URL-escaped here
 */
int api_get_item(struct session *s, const struct collection_def *c, const char *id,
		 json_t **out) CFS_WARN_UNUSED;

/* The absolute URL of the next page, or NULL (no next page / bad link).
 * @base is the service endpoint (for Glance's relative links). Pure. */
char *api_next_url(const struct collection_def *c, const json_t *page, const char *base);

#endif
