/* SPDX-License-Identifier: MIT */
/*
 * libcurl transport. Layer: bottom. One easy handle per thread (a handle is
 * never shared), kept across requests so connections are reused. No locks.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>

#include "cloudfs/errmap.h"
#include "cloudfs/http.h"
#include "http_int.h"

static pthread_key_t handle_key;
static bool (*cancel_hook)(void);
/* Cleanup after an interrupted operation must itself run to completion. */
static __thread bool cancel_ignored;
/* A background thread's stop flag (leftovers.c at unmount), or NULL. */
static __thread const atomic_bool *thread_stop;

static void handle_destroy(void *h)
{
	curl_easy_cleanup(h);
}

int http_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -EIO;
	return -pthread_key_create(&handle_key, handle_destroy);
}

void http_global_cleanup(void)
{
	CURL *h = pthread_getspecific(handle_key);

	if (h) {
		curl_easy_cleanup(h);
		pthread_setspecific(handle_key, NULL);
	}
	curl_global_cleanup();
}

void http_set_cancel_hook(bool (*cancelled)(void))
{
	cancel_hook = cancelled;
}

void http_ignore_cancel(bool ignore)
{
	cancel_ignored = ignore;
}

void http_set_thread_stop(const atomic_bool *flag)
{
	thread_stop = flag;
}

bool http_cancelled(void)
{
	if (thread_stop && atomic_load(thread_stop))
		return true;
	return !cancel_ignored && cancel_hook && cancel_hook();
}

void http_response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, CFS_MAX_BODY);
	buf_init(&resp->xheaders, HTTP_MAX_XHEADERS);
	resp->retry_after_s = -1;
	resp->content_length = -1;
}

void http_response_free(struct http_response *resp)
{
	buf_free(&resp->body);
	buf_free(&resp->xheaders);
	cfs_free_secret(resp->subject_token);
	resp->subject_token = NULL;
	free(resp->location);
	resp->location = NULL;
}

static CURL *thread_handle(void)
{
	CURL *h = pthread_getspecific(handle_key);

	if (h) {
		curl_easy_reset(h);
		return h;
	}
	h = curl_easy_init();
	if (h && pthread_setspecific(handle_key, h)) {
		curl_easy_cleanup(h);
		h = NULL;
	}
	return h;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_response *resp = arg;

	/* Returning short makes curl fail with CURLE_WRITE_ERROR → -EFBIG. */
	return buf_add(&resp->body, data, size * n) ? 0 : size * n;
}

/* Copies a header value without surrounding blanks. */
static void header_value(const char *v, size_t len, char *out, size_t outlen)
{
	while (len && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, v, len);
	out[len] = '\0';
}

static bool header_is(const char *line, size_t len, const char *name, const char **value,
		      size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return false;
	*value = line + n + 1;
	*vlen = len - n - 1;
	return true;
}

size_t http_on_header(char *line, size_t size, size_t n, void *arg)
{
	struct http_response *resp = arg;
	size_t len = size * n, vlen;
	const char *v;
	char tmp[32];

	/* A head ends with an empty line; a status line starts the next one
	 * (after a 1xx). curl takes a connection closed before the empty
	 * line as the end of the head, so this is how we tell. */
	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new head (after a 1xx): its headers replace the last's. */
		resp->head_done = false;
		resp->etag[0] = '\0';
		resp->content_length = -1;
		buf_reset(&resp->xheaders);
	} else if ((len == 2 && line[0] == '\r' && line[1] == '\n') ||
		   (len == 1 && line[0] == '\n'))
		resp->head_done = true;
	else if (header_is(line, len, "X-Openstack-Request-Id", &v, &vlen))
		header_value(v, vlen, resp->request_id, sizeof(resp->request_id));
	else if (header_is(line, len, "Content-Type", &v, &vlen))
		header_value(v, vlen, resp->content_type, sizeof(resp->content_type));
	else if (header_is(line, len, "Content-Length", &v, &vlen)) {
		header_value(v, vlen, tmp, sizeof(tmp));
		resp->content_length = isdigit((unsigned char)tmp[0]) ? atoll(tmp) : -1;
	} else if (header_is(line, len, "Retry-After", &v, &vlen)) {
		header_value(v, vlen, tmp, sizeof(tmp));
		resp->retry_after_s = isdigit((unsigned char)tmp[0]) ? atol(tmp) : -1;
	} else if (header_is(line, len, "Location", &v, &vlen)) {
		char *loc = malloc(vlen + 1);

		if (!loc)
			return 0;
		header_value(v, vlen, loc, vlen + 1);
		free(resp->location);
		resp->location = loc;
	} else if (header_is(line, len, "ETag", &v, &vlen)) {
		char tag[sizeof(resp->etag)];
		size_t tl;

		header_value(v, vlen, tag, sizeof(tag));
		tl = strlen(tag);
		if (tl >= 2 && tag[0] == '"' && tag[tl - 1] == '"') {
			tag[tl - 1] = '\0';
			memmove(tag, tag + 1, tl - 1);
		}
		snprintf(resp->etag, sizeof(resp->etag), "%s", tag);
	} else if (len > 2 && (line[0] == 'X' || line[0] == 'x') && line[1] == '-' &&
		   !header_is(line, len, "X-Subject-Token", &v, &vlen)) {
		/* Kept whole for whoever asked (metadata); a head too big for
		 * the cap loses the rest, never the answer. */
		size_t l = len;

		while (l && (line[l - 1] == '\r' || line[l - 1] == '\n'))
			l--;
		if (resp->xheaders.len + l + 1 <= HTTP_MAX_XHEADERS) {
			/* Room was checked: both fit. */
			int ok = !buf_add(&resp->xheaders, line, l) &&
				 !buf_add(&resp->xheaders, "\n", 1);

			(void)ok;
		}
	}
	if (header_is(line, len, "X-Subject-Token", &v, &vlen)) {
		char *tok = malloc(vlen + 1);

		if (!tok)
			return 0;
		header_value(v, vlen, tok, vlen + 1);
		cfs_free_secret(resp->subject_token);
		resp->subject_token = tok;
	}
	return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)arg;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return http_cancelled() ? 1 : 0;
}

int http_headers(const struct http_request *req, const char *first, struct curl_slist **out,
		 char **auth)
{
	struct curl_slist *hdrs = NULL, *tmp;

	*auth = NULL;
	if (req->token && asprintf(auth, "X-Auth-Token: %s", req->token) < 0) {
		*auth = NULL;
		return -ENOMEM;
	}
	/* Don't let curl stall a POST or PUT waiting for "100 Continue". */
	hdrs = curl_slist_append(NULL, "Expect:");
	if (first && (tmp = curl_slist_append(hdrs, first)))
		hdrs = tmp;
	if (*auth && (tmp = curl_slist_append(hdrs, *auth)))
		hdrs = tmp;
	for (const char *const *p = req->headers; p && *p; p++)
		if ((tmp = curl_slist_append(hdrs, *p)))
			hdrs = tmp;
	*out = hdrs;
	return 0;
}

void http_setup(CURL *h, const struct http_request *req, struct curl_slist *hdrs,
		struct http_response *resp)
{
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cloudfs/" CLOUDFS_VERSION);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Never follow a redirect: curl would send our headers, the token
	 * among them, to wherever a Location points. (The default, restated
	 * because curl_easy_reset() is all that stands between requests.) */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (req->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, req->cacert);
	if (req->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

int http_perform(const struct http_request *req, struct http_response *resp)
{
	struct curl_slist *hdrs = NULL;
	char *auth = NULL;
	CURLcode cc;
	CURL *h;
	int rc = 0;

	h = thread_handle();
	if (!h)
		return -ENOMEM;
	buf_reset(&resp->body);
	resp->body.cap = req->max_body ? req->max_body : CFS_MAX_BODY;
	resp->status = 0;
	resp->request_id[0] = resp->content_type[0] = resp->errbuf[0] = '\0';
	resp->retry_after_s = -1;
	resp->head_done = false;
	free(resp->location);
	resp->location = NULL;

	rc = http_headers(req, "Accept: application/json", &hdrs, &auth);
	if (rc)
		goto out;
	http_setup(h, req, hdrs, resp);
	if (!strcmp(req->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");

	cc = curl_easy_perform(h);
	resp->curl_code = (int)cc;
	if (cc == CURLE_OK && !resp->head_done) {
		/* Closed inside the head: no answer at all, whatever the status
		 * line said. A transport error, retried like one. */
		resp->curl_code = CURLE_RECV_ERROR;
		snprintf(resp->errbuf, sizeof(resp->errbuf),
			 "the connection closed inside the response head");
		rc = errmap_curl(CURLE_RECV_ERROR);
	} else if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	} else {
		if (!resp->errbuf[0])
			snprintf(resp->errbuf, sizeof(resp->errbuf), "%s", curl_easy_strerror(cc));
		rc = errmap_curl((int)cc);
	}
	/* The handle outlives this call: drop pointers into our stack. */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
out:
	curl_slist_free_all(hdrs);
	cfs_free_secret(auth);
	return rc;
}

static int curl_transport_perform(const struct http_transport *t, const struct http_request *req,
				  struct http_response *resp)
{
	(void)t;
	return http_perform(req, resp);
}

const struct http_transport http_curl = { .perform = curl_transport_perform };
