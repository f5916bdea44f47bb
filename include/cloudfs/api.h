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
#include "cloudfs/service.h"
#include "cloudfs/config.h"
#include "cloudfs/http.h"

struct session {
	const struct config *cfg; /* borrowed */
	struct auth *auth; /* borrowed */
	/* By service_index(): NULL when the catalog lacks the service. */
	char **endpoint;
	atomic_ulong requests; /* HTTP requests sent, retries included */
	atomic_ulong failures; /* requests that ended in an error */
	const char *extra_header; /* sent with every call, or NULL */
	/* By service_index(): the microversion asked of that service ("2.70",
	 * negotiated or pinned), or "" for none. Set at init, then read-only. */
	char (*version)[16];
	/* The region its endpoints were taken from (borrowed: the config's or
	 * the caller's of session_init_region()), or NULL: the first of each. */
	const char *region;
};

/* session_init() with @region instead of the configured one (regions/);
 * @region must outlive the session. */
int session_init_region(struct session *s, const struct config *cfg, struct auth *auth,
			const char *region, char *err, size_t errlen) CFS_WARN_UNUSED;

/* The microversion asked of @svc ("2.70"), or NULL when none is. */
const char *session_version(const struct session *s, const struct service_def *svc);
/* Compares two microversions "X.Y" numerically (<0, 0, >0); an
 * unparseable one is lowest. */
int api_version_cmp(const char *a, const char *b);

/* Reads the version document of each service with microversions and
 * chooses what to ask (service_def.microversion_*; -o nova_microversion):
 * one GET each. -EINVAL with @err when a pinned one is not offered. */
int session_negotiate(struct session *s, char *err, size_t errlen) CFS_WARN_UNUSED;
/* @src's microversions for @dst: a session of the same endpoints (another
 * project in the same region) asks the same without asking the cloud. */
void session_copy_versions(struct session *dst, const struct session *src);

/* Resolves every service endpoint from the token's catalog. */
/* @svc's endpoint URL, or NULL when the catalog lacks it. */
const char *session_endpoint(const struct session *s, const struct service_def *svc);
int session_init(struct session *s, const struct config *cfg, struct auth *auth, char *err,
		 size_t errlen) CFS_WARN_UNUSED;
void session_cleanup(struct session *s);

/* A project the session's user can scope to (GET /v3/auth/projects). */
struct api_project {
	char *id;
	char *name; /* may be NULL */
};

/*
 * api_projects() - the projects the token's user can scope to
 * @out: on 0, an array of @n (malloc'd; free with api_projects_free())
 * Members without a string id are skipped. Returns 0 or -errno.
 */
int api_projects(struct session *s, struct api_project **out, size_t *n) CFS_WARN_UNUSED;
void api_projects_free(struct api_project *v, size_t n);

/*
 * api_get_json() - GET a JSON document
 * @path: relative to the service endpoint ("/servers/x"), or an absolute URL
 * @out:  on 0, a new reference
 * Returns 0 or -errno (-ENOENT, -EACCES, -ETIMEDOUT, -EIO for bad JSON, ...).
 */
int api_get_json(struct session *s, const struct service_def *svc, const char *path,
		 json_t **out) CFS_WARN_UNUSED;

/* Receives one member of a listing (borrowed: valid during the call). */
typedef int (*api_member_fn)(void *arg, const json_t *member);

/*
 * api_list() - every member of a collection, following pagination to the end
 * @fn: called for each member, page by page, so only one page is ever held
 * Returns 0 or -errno (also @fn's); a failure part way through means the
 * caller must drop what it gathered: never a partial listing. The whole
 * listing shares one `timeout` deadline (-ETIMEDOUT); a next link off the
 * endpoint's origin or back to a page already listed fails it (-EIO), and
 * so do more than `max_entries` members (-EFBIG).
 */
int api_list(struct session *s, const struct collection_def *c, api_member_fn fn,
	     void *arg) CFS_WARN_UNUSED;

/*
 * api_item_path() - "<item_path>/<id>[/<sub>[/<subid>]]", ids URL-escaped
 * The one place member URLs are made (show, update, delete, actions,
 * metadata keys, attachments, image data). Returns malloc'd or NULL.
 */
char *api_item_path(const struct collection_def *c, const char *id, const char *sub,
		    const char *subid);

/*
 * api_get_item() - one member of a collection, unwrapped
 * @id: the member's id (or name for keypairs); URL-escaped here
 */
int api_get_item(struct session *s, const struct collection_def *c, const char *id,
		 json_t **out) CFS_WARN_UNUSED;

struct api_body {
	const char *data;
	size_t len;
	const char *content_type; /* NULL: application/json */
};

/*
 * api_send() - one non-GET (or GET) call with an optional body
 * @out: if non-NULL, on 0 the parsed JSON answer (new reference), or NULL
 *       when the answer has no JSON body (204, 202 without body)
 * Only GETs are retried; a 401 is retried once after re-authentication.
 */
int api_send(struct session *s, const struct service_def *svc, const char *method, const char *path,
	     const struct api_body *body, json_t **out) CFS_WARN_UNUSED;
/* Extra request headers api_request() sends at most. */
#define API_MAX_HEADERS 32

/*
 * api_request() - api_send() with extra @headers ("Name: value",
 * NULL-terminated), the whole answer in @resp (http_response_init()ed by
 * the caller): its body, ETag and X- headers. A body without a content
 * type (@body->content_type NULL) is sent as application/json, as in
 * api_send(). Returns 0 on a 2xx, else -errno (logged once).
 */
int api_request(struct session *s, const struct service_def *svc, const char *method,
		const char *path, const char *const *headers, const struct api_body *body,
		struct http_response *resp) CFS_WARN_UNUSED;
/* api_send() with a JSON body serialised from @body (may be NULL). */
int api_send_json(struct session *s, const struct service_def *svc, const char *method,
		  const char *path, const json_t *body, const char *content_type,
		  json_t **out) CFS_WARN_UNUSED;

/*
 * api_stream_open() - a streaming request with the session's token
 * @upload: the body is written with http_stream_write()
 * Long transfers are not retried. A download waits for its status, so a
 * token revoked early gets one fresh token and a second try, as in every
 * other call; an upload's body cannot be sent twice.
 */
int api_stream_open(struct session *s, const struct service_def *svc, const char *method,
		    const char *path, const char *const *headers, bool upload,
		    struct http_stream **out) CFS_WARN_UNUSED;
/* Ends an upload stream: 0 on a 2xx answer, else -errno (logged once,
 * with the cloud's message). */
int api_stream_finish(struct session *s, struct http_stream *hs, const char *method,
		      long timeout_ms) CFS_WARN_UNUSED;
/* api_stream_finish(), and the answer's ETag (without quotes, "" when
 * none) into @etag. */
int api_stream_finish_etag(struct session *s, struct http_stream *hs, const char *method,
			   long timeout_ms, char *etag, size_t etag_len) CFS_WARN_UNUSED;
/* Reads a download stream: bytes, 0 at the end, or -errno (logged once). */
ssize_t api_stream_read(struct session *s, struct http_stream *hs, char *buf, size_t len,
			long timeout_ms);
/* The same, the bytes lent into @l instead of copied (http_stream_read_loan()). */
ssize_t api_stream_read_loan(struct session *s, struct http_stream *hs, size_t len, struct loan *l,
			     long timeout_ms);

/* This thread's requests end (-EINTR) once *@flag is true, cleanup
 * DELETEs included: a background thread that unmount must not wait for
 * (http_set_thread_stop()). NULL: none. */
void api_set_thread_stop(const atomic_bool *flag);

/* True when the operation this thread serves was interrupted (Ctrl-C):
 * for waits between requests, which no transfer polls. */
bool api_cancelled(void);

/* DELETE that runs to the end even when the user's operation was
 * interrupted (removing a half-made resource). */
int api_cleanup_delete(struct session *s, const struct service_def *svc,
		       const char *path) CFS_WARN_UNUSED;

/*
 * api_next_url() - the URL of @page's next page, checked before a token
 * goes there
 * @base: the service endpoint (Glance's links are relative to it)
 * @out:  on 0, the URL (malloc'd), or NULL on the last page (no link, or a
 *        link that is not a string)
 * Returns 0, -EINVAL when the link points off the endpoint's origin (or
 * is not a URL url_origin() accepts), or -ENOMEM. Pure.
 */
int api_next_url(const struct collection_def *c, const json_t *page, const char *base,
		 char **out) CFS_WARN_UNUSED;

#endif
