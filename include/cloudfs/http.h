/* SPDX-License-Identifier: MIT */
/*
 * One HTTP exchange over libcurl. Layer: bottom. Knows nothing of JSON,
 * OpenStack or errno policy beyond transport failures. The only file that
 * includes <curl/curl.h> (with errmap.c, for the constants).
 */
#ifndef CLOUDFS_HTTP_H
#define CLOUDFS_HTTP_H

#include "cloudfs/common.h"
#include <stdatomic.h>
#include <sys/types.h>

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
	char *location; /* Location (a redirect's), malloc'd or NULL */
	long retry_after_s; /* Retry-After in seconds, or -1 */
	char errbuf[256]; /* libcurl's reason on transport failure */
	int curl_code; /* raw CURLcode, for errmap_curl_retryable() */
	bool head_done; /* the last response head arrived whole (its blank line) */
	char etag[80]; /* ETag, without quotes: what a checked upload compares */
	long long content_length; /* Content-Length (a HEAD's too), or -1 */
	/* The "X-" headers (X-Object-Meta-*, X-Container-Read, ...), as
	 * "Name: value\n" lines, at most HTTP_MAX_XHEADERS bytes. */
	struct buf xheaders;
};

#define HTTP_MAX_XHEADERS (16u << 10)

/* Called once from main() before any thread exists. */
int http_global_init(void) CFS_WARN_UNUSED;
void http_global_cleanup(void);

/*
 * Lets the FUSE layer report that the request being served was interrupted
 * (Ctrl-C); polled during transfers. Set once before threads start.
 */
void http_set_cancel_hook(bool (*cancelled)(void));
/* While set, this thread's requests ignore the hook (cleanup that must run
 * even though the user's operation was interrupted). */
void http_ignore_cancel(bool ignore);
/* This thread's requests also end (-EINTR) once *@flag is true, even
 * cleanup: a background thread that must stop at unmount, whose work is
 * tried again later (NULL: none). */
void http_set_thread_stop(const atomic_bool *flag);
/* True when the operation this thread serves was cancelled (Ctrl-C), or
 * its thread is told to stop. */
bool http_cancelled(void);

void http_response_init(struct http_response *resp);
void http_response_free(struct http_response *resp);

/*
 * http_perform() - send @req and collect the answer into @resp
 * Returns: 0 when an HTTP response arrived (whatever its status), or a
 * negative errno for transport failures: -ETIMEDOUT, -ECONNREFUSED,
 * -EHOSTUNREACH, -EINTR (cancelled), -EFBIG (body over the cap, counted
 * after decompression), -ECONNRESET (also for a connection closed inside
 * the response head: curl_code CURLE_RECV_ERROR, retryable), -EIO. Redirects are never
 * followed: a 3xx is returned as it is, and the token stays on this host.
 * Context: any thread; each thread uses its own curl handle.
 */
int http_perform(const struct http_request *req, struct http_response *resp) CFS_WARN_UNUSED;

/*
 * The transport: how one exchange reaches the network. The binary only ever
 * uses http_curl (http_perform() above); the api layer calls through the
 * transport its auth holds, so the unit tests hand it one that replays
 * captured answers, records what was asked and injects faults, and test
 * pagination, re-authentication and retries with no network.
 * Streams (below) are libcurl only.
 */
struct http_transport {
	int (*perform)(const struct http_transport *t, const struct http_request *req,
		       struct http_response *resp);
};

extern const struct http_transport http_curl;

/*
 * Streaming transfers (http_stream.c): an upload's body is handed over
 * piece by piece as it arrives, driven by the writer's thread; a download
 * is received by a thread of its own, at most HTTP_STREAM_BUF ahead of its
 * reader, so receiving and reading overlap. Memory stays bounded by curl's
 * own buffers plus HTTP_STREAM_BUF. One reader or writer at a time.
 */
#define HTTP_STREAM_BUF (4u << 20)
/* Downloads arrive in pieces this big: the largest read FUSE sends. */
#define HTTP_STREAM_PIECE (1u << 20)

struct http_stream;
struct loan;

/* Starts @req; @upload: the body comes from http_stream_write(). The
 * request's strings are copied. On 0, *out must be http_stream_free()d. */
int http_stream_open(const struct http_request *req, bool upload,
		     struct http_stream **out) CFS_WARN_UNUSED;
/* Upload: returns once the transfer has taken all @len bytes; -errno if it
 * ended (the server answered early) or stalled past @timeout_ms. */
int http_stream_write(struct http_stream *s, const char *data, size_t len,
		      long timeout_ms) CFS_WARN_UNUSED;
/* The same, and @data is also handed to @fn, in order and in slices, while
 * curl waits for the socket to take more: work on the bytes sent (a
 * digest) fills the waits instead of adding to them. On 0, all of @data
 * has been handed to @fn; on an error, maybe not. */
int http_stream_write_with(struct http_stream *s, const char *data, size_t len, long timeout_ms,
			   void (*fn)(void *ctx, const char *data, size_t len),
			   void *ctx) CFS_WARN_UNUSED;
/* Upload: ends the body, waits for the answer (into @resp). Download: not
 * needed. Returns 0 when an HTTP answer arrived, or a transport -errno. */
int http_stream_finish(struct http_stream *s, struct http_response *resp,
		       long timeout_ms) CFS_WARN_UNUSED;
/* Download: up to @len bytes into @buf (0 at the end), or -errno. The
 * status of a non-2xx answer is reported as its errno with the body in
 * @resp. */
ssize_t http_stream_read(struct http_stream *s, char *buf, size_t len, long timeout_ms,
			 struct http_response *resp);
/* Download: as http_stream_read(), but the next bytes (up to @len; fewer
 * only at the end or when @l is full) are added to the loan @l where they
 * were received, not copied. Waits for min(@len, HTTP_STREAM_PIECE). */
ssize_t http_stream_read_loan(struct http_stream *s, size_t len, struct loan *l, long timeout_ms,
			      struct http_response *resp);
/* Download: waits for the answer's status; returns it, 0 when the transfer
 * ended without one (see http_stream_read()), or -EINTR / -ETIMEDOUT. */
long http_stream_status(struct http_stream *s, long timeout_ms);
/* Download: what the answer's head says about the body that follows. */
struct http_stream_head {
	long status; /* 0: the transfer ended without an answer */
	long long content_length; /* -1: not stated (chunked) */
	bool has_range; /* a Content-Range header came */
	bool range_ok; /* ... and reads "bytes FIRST-LAST/TOTAL" */
	long long range_first, range_last, range_total; /* range_total -1: "*" */
};
/* Download: waits until the answer's head has arrived (or the transfer
 * ended), then describes it. 0, or -EINTR / -ETIMEDOUT. */
int http_stream_head(struct http_stream *s, long timeout_ms,
		     struct http_stream_head *out) CFS_WARN_UNUSED;
/* The URL the stream was opened for, for messages. */
const char *http_stream_url(const struct http_stream *s);
void http_stream_free(struct http_stream *s);

#endif
