/* SPDX-License-Identifier: MIT */
/*
 * One HTTP exchange over libcurl. Layer: bottom. Knows nothing of JSON,
 * OpenStack or errno policy beyond transport failures. The only file that
 * includes <curl/curl.h> (with errmap.c, for the constants).
 */
#ifndef CLOUDFS_HTTP_H
#define CLOUDFS_HTTP_H

#include "cloudfs/common.h"
#include "cloudfs/buf.h"

struct http_request {
	const char *method;
	const char *url;
	const char *token; /* sent as X-Auth-Token; never logged */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated */
	const char *body; /* request body or NULL */
	size_t body_len;
	long timeout_ms; /* whole exchange; 0 = none */
	long connect_timeout_ms;
	size_t max_body; /* response cap; 0 = CFS_MAX_BODY */
	const char *cacert; /* CA bundle or NULL */
	bool insecure; /* skip TLS verification */
};

struct http_response {
	long status;
	struct buf body;
	char request_id[96]; /* X-Openstack-Request-Id */
	char content_type[96];
	char *subject_token; /* X-Subject-Token (secret), malloc'd or NULL */
	long retry_after_s; /* Retry-After in seconds, or -1 */
	char errbuf[256]; /* libcurl's reason on transport failure */
	int curl_code; /* raw CURLcode, for errmap_curl_retryable() */
};

/* Called once from main() before any thread exists. */
int http_global_init(void) CFS_WARN_UNUSED;
void http_global_cleanup(void);

/*
 * Lets the FUSE layer report that the request being served was interrupted
 * (Ctrl-C); polled during transfers. Set once before threads start.
 */
void http_set_cancel_hook(bool (*cancelled)(void));

void http_response_init(struct http_response *resp);
void http_response_free(struct http_response *resp);

/*
 * http_perform() - send @req and collect the answer into @resp
 * Returns: 0 when an HTTP response arrived (whatever its status), or a
 * negative errno for transport failures: -ETIMEDOUT, -ECONNREFUSED,
 * -EHOSTUNREACH, -EINTR (cancelled), -EFBIG (body over the cap), -EIO.
 * Context: any thread; each thread uses its own curl handle.
 */
int http_perform(const struct http_request *req, struct http_response *resp) CFS_WARN_UNUSED;

#endif
