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

static pthread_key_t handle_key;
static bool (*cancel_hook)(void);
/* Cleanup after an interrupted operation must itself run to completion. */
static __thread bool cancel_ignored;

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

static bool cancelled(void)
{
	return !cancel_ignored && cancel_hook && cancel_hook();
}

void http_response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, CFS_MAX_BODY);
	resp->retry_after_s = -1;
}

void http_response_free(struct http_response *resp)
{
	buf_free(&resp->body);
	cfs_free_secret(resp->subject_token);
	resp->subject_token = NULL;
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

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct http_response *resp = arg;
	size_t len = size * n, vlen;
	const char *v;
	char tmp[32];

	if (header_is(line, len, "X-Openstack-Request-Id", &v, &vlen))
		header_value(v, vlen, resp->request_id, sizeof(resp->request_id));
	else if (header_is(line, len, "Content-Type", &v, &vlen))
		header_value(v, vlen, resp->content_type, sizeof(resp->content_type));
	else if (header_is(line, len, "Retry-After", &v, &vlen)) {
		header_value(v, vlen, tmp, sizeof(tmp));
		resp->retry_after_s = isdigit((unsigned char)tmp[0]) ? atol(tmp) : -1;
	} else if (header_is(line, len, "X-Subject-Token", &v, &vlen)) {
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
	return cancelled() ? 1 : 0;
}

int http_perform(const struct http_request *req, struct http_response *resp)
{
	struct curl_slist *hdrs = NULL, *tmp;
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

	hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (req->token) {
		if (asprintf(&auth, "X-Auth-Token: %s", req->token) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		tmp = curl_slist_append(hdrs, auth);
		hdrs = tmp ? tmp : hdrs;
	}
	for (const char *const *p = req->headers; p && *p; p++) {
		tmp = curl_slist_append(hdrs, *p);
		hdrs = tmp ? tmp : hdrs;
	}
	/* Don't let curl stall a POST waiting for "100 Continue". */
	tmp = curl_slist_append(hdrs, "Expect:");
	hdrs = tmp ? tmp : hdrs;

	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (!strcmp(req->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->errbuf);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cloudfs/" CLOUDFS_VERSION);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (req->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, req->cacert);
	if (req->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}

	cc = curl_easy_perform(h);
	resp->curl_code = (int)cc;
	if (cc == CURLE_OK) {
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

/* ---- streaming --------------------------------------------------------- */

struct http_stream {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdrs;
	char *url;
	char *auth;
	bool upload;
	bool done; /* the transfer ended (curl_code says how) */
	bool paused; /* the read/write callback paused the transfer */
	bool eof; /* upload: no more body */
	const char *pending; /* upload: bytes not yet taken by curl */
	size_t pending_len;
	struct buf in; /* download: bytes received; those before in_off were read */
	size_t in_off;
	char *dst; /* download: the reader's buffer, filled first when @in is empty */
	size_t dst_len, dst_got;
	struct http_response *resp; /* headers and error bodies go here */
	struct http_response own;
	int curl_code;
};

static size_t stream_give(char *dst, size_t size, size_t n, void *arg)
{
	struct http_stream *s = arg;
	size_t want = size * n;

	if (s->pending_len == 0) {
		if (s->eof)
			return 0;
		s->paused = true;
		return CURL_READFUNC_PAUSE;
	}
	if (want > s->pending_len)
		want = s->pending_len;
	memcpy(dst, s->pending, want);
	s->pending += want;
	s->pending_len -= want;
	return want;
}

static size_t stream_take(char *data, size_t size, size_t n, void *arg)
{
	struct http_stream *s = arg;
	size_t len = size * n, direct = 0;
	long status = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	/* An error answer is kept whole for its message, not streamed. */
	if (status >= 300)
		return buf_add(&s->resp->body, data, len) ? 0 : len;
	/* Straight into a waiting reader's buffer: downloads are bound by
	 * copying, and this saves one copy of most bytes. The reader waits
	 * only when @in is empty, so a rest spilling over fits there. */
	if (s->dst && s->dst_got < s->dst_len) {
		direct = len < s->dst_len - s->dst_got ? len : s->dst_len - s->dst_got;
		memcpy(s->dst + s->dst_got, data, direct);
		s->dst_got += direct;
		if (direct == len)
			return len;
		return buf_add(&s->in, data + direct, len - direct) ? 0 : len;
	}
	/* Room is made by moving the unread rest down only when needed, not
	 * at every read: reads are smaller than the buffer. */
	if (s->in.len + len > s->in.cap && s->in_off) {
		memmove(s->in.data, s->in.data + s->in_off, s->in.len - s->in_off);
		s->in.len -= s->in_off;
		s->in_off = 0;
	}
	if (s->in.len + len > s->in.cap) {
		s->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	return buf_add(&s->in, data, len) ? 0 : len;
}

int http_stream_open(const struct http_request *req, bool upload, struct http_stream **out)
{
	struct http_stream *s = calloc(1, sizeof(*s));
	struct curl_slist *tmp;

	if (!s)
		return -ENOMEM;
	s->upload = upload;
	http_response_init(&s->own);
	s->resp = &s->own;
	buf_init(&s->in, HTTP_STREAM_BUF);
	s->multi = curl_multi_init();
	s->easy = curl_easy_init();
	s->url = strdup(req->url);
	if (!s->multi || !s->easy || !s->url)
		goto fail;
	if (req->token && asprintf(&s->auth, "X-Auth-Token: %s", req->token) < 0) {
		s->auth = NULL;
		goto fail;
	}
	s->hdrs = curl_slist_append(NULL, "Expect:");
	if (s->auth && (tmp = curl_slist_append(s->hdrs, s->auth)))
		s->hdrs = tmp;
	for (const char *const *p = req->headers; p && *p; p++)
		if ((tmp = curl_slist_append(s->hdrs, *p)))
			s->hdrs = tmp;
	curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
	curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s->resp);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->resp->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, stream_take);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "cloudfs/" CLOUDFS_VERSION);
	curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->easy, CURLOPT_BUFFERSIZE, 256L * 1024);
	if (req->cacert)
		curl_easy_setopt(s->easy, CURLOPT_CAINFO, req->cacert);
	if (req->insecure) {
		curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (upload) {
		curl_easy_setopt(s->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(s->easy, CURLOPT_READFUNCTION, stream_give);
		curl_easy_setopt(s->easy, CURLOPT_READDATA, s);
		curl_easy_setopt(s->easy, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
	}
	if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
		goto fail;
	*out = s;
	return 0;
fail:
	http_stream_free(s);
	return -ENOMEM;
}

/* Runs the transfer until @until(s) holds or it ends; -errno on a stall
 * past the deadline or an interrupt. */
static int stream_drive(struct http_stream *s, bool (*until)(struct http_stream *), long timeout_ms)
{
	int64_t deadline = 0;
	struct timespec ts;
	int running;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	for (;;) {
		CURLMsg *msg;
		int left;

		if (s->paused) {
			s->paused = false;
			curl_easy_pause(s->easy, CURLPAUSE_CONT);
		}
		if (curl_multi_perform(s->multi, &running) != CURLM_OK)
			return -EIO;
		while ((msg = curl_multi_info_read(s->multi, &left))) {
			if (msg->msg == CURLMSG_DONE) {
				s->done = true;
				s->curl_code = (int)msg->data.result;
			}
		}
		if (until(s) || s->done)
			return 0;
		if (cancelled())
			return -EINTR;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 > deadline)
			return -ETIMEDOUT;
		/* Paused by our own callback: nothing to wait for on the wire. */
		if (!s->paused)
			curl_multi_poll(s->multi, NULL, 0, 100, NULL);
	}
}

static bool all_taken(struct http_stream *s)
{
	return s->pending_len == 0;
}

static bool finished(struct http_stream *s)
{
	return s->done;
}

int http_stream_write(struct http_stream *s, const char *data, size_t len, long timeout_ms)
{
	int rc;

	if (s->done)
		return s->curl_code ? errmap_curl(s->curl_code) : -EPIPE;
	s->pending = data;
	s->pending_len = len;
	s->paused = true; /* wake the read callback */
	rc = stream_drive(s, all_taken, timeout_ms);
	s->pending = NULL;
	if (rc)
		return rc;
	if (s->pending_len) {
		/* The server ended the request before taking the body. */
		s->pending_len = 0;
		return s->curl_code ? errmap_curl(s->curl_code) : -EPIPE;
	}
	return 0;
}

static int stream_result(struct http_stream *s, struct http_response *resp)
{
	if (s->curl_code) {
		if (!s->resp->errbuf[0])
			snprintf(s->resp->errbuf, sizeof(s->resp->errbuf), "%s",
				 curl_easy_strerror((CURLcode)s->curl_code));
	} else {
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->resp->status);
	}
	if (resp && resp != s->resp) {
		resp->status = s->resp->status;
		memcpy(resp->request_id, s->resp->request_id, sizeof(resp->request_id));
		memcpy(resp->errbuf, s->resp->errbuf, sizeof(resp->errbuf));
		buf_reset(&resp->body);
		if (s->resp->body.len &&
		    buf_add(&resp->body, s->resp->body.data, s->resp->body.len))
			return -ENOMEM;
	}
	return s->curl_code ? errmap_curl(s->curl_code) : 0;
}

int http_stream_finish(struct http_stream *s, struct http_response *resp, long timeout_ms)
{
	int rc;

	s->eof = true;
	s->paused = true;
	rc = stream_drive(s, finished, timeout_ms);
	if (rc)
		return rc;
	return stream_result(s, resp);
}

static bool have_data(struct http_stream *s)
{
	return s->in.len > s->in_off || s->dst_got;
}

ssize_t http_stream_read(struct http_stream *s, char *buf, size_t len, long timeout_ms,
			 struct http_response *resp)
{
	long status = 0;
	int rc = 0;

	if (!have_data(s) && !s->done) {
		size_t got;

		s->dst = buf;
		s->dst_len = len;
		rc = stream_drive(s, have_data, timeout_ms);
		got = s->dst_got;
		s->dst = NULL;
		s->dst_got = 0;
		if (got)
			return (ssize_t)got;
		if (rc)
			return rc;
	}
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300 && !s->done) {
		/* Collect the whole error answer for its message. */
		rc = stream_drive(s, finished, timeout_ms);
		if (rc)
			return rc;
	}
	if (!have_data(s) && s->done) {
		rc = stream_result(s, resp);
		if (rc)
			return rc;
		return status >= 300 ? errmap_http(status, s->resp->body.data) : 0;
	}
	if (len > s->in.len - s->in_off)
		len = s->in.len - s->in_off;
	memcpy(buf, s->in.data + s->in_off, len);
	s->in_off += len;
	if (s->in_off == s->in.len)
		s->in.len = s->in_off = 0;
	return (ssize_t)len;
}

void http_stream_free(struct http_stream *s)
{
	if (!s)
		return;
	if (s->multi && s->easy)
		curl_multi_remove_handle(s->multi, s->easy);
	if (s->easy)
		curl_easy_cleanup(s->easy);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->hdrs);
	cfs_free_secret(s->auth);
	free(s->url);
	buf_free(&s->in);
	http_response_free(&s->own);
	free(s);
}
