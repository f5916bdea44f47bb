/* SPDX-License-Identifier: MIT */
/*
 * Streamed bodies. Layer: bottom. An upload is driven by the writer's
 * thread: each piece is handed to curl as it arrives. A download has a
 * thread of its own (the pump) that receives into a bounded buffer while
 * readers copy out, so the network and the reader's side of the kernel
 * work at the same time instead of taking turns.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>

#include "cloudfs/errmap.h"
#include "cloudfs/http.h"
#include "cloudfs/loan.h"
#include "http_int.h"

/* How often a waiting reader checks for Ctrl-C. */
#define STREAM_CANCEL_POLL_MS 100

/* The pump resumes below half the buffer; a reader waiting for a whole
 * piece must be able to get one by then. */
_Static_assert(HTTP_STREAM_BUF >= 4 * HTTP_STREAM_PIECE, "buffer holds too few pieces");

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
	/* Download: bytes received and not yet read, in pieces of
	 * HTTP_STREAM_PIECE; a reader is lent them where they lie (a loan)
	 * instead of a copy, since copies bound a download. */
	struct piece *head, *tail;
	size_t buffered; /* bytes in pieces, read or not */
	/* Download: unread bytes the waiting reader needs before it is woken
	 * (0: nobody waits for bytes). Waking a reader at every callback of
	 * curl (often 16 KiB) cost a context switch each. */
	size_t want;
	/* Download: a wait that failed (-ETIMEDOUT, -EINTR) after bytes came;
	 * they were given, and every later read fails with it. */
	int stalled;
	long status; /* download: the answer's status, once known */
	/* Download: what the answer's head says about its body (protected by
	 * lock; set by the pump's header callback). */
	bool head_done; /* the blank line ending the head arrived */
	char content_range[96]; /* "" when absent */
	long long content_length; /* -1 when absent */
	struct http_response *resp; /* headers and error bodies go here */
	struct http_response own;
	int curl_code;
	/* Download: the pump owns the curl handles until it sets done; the
	 * fields above that both sides touch are guarded by lock. */
	pthread_t pump;
	bool pumping;
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* data, room, or the end */
};

/* The real monotonic clock, not clock_now_ms(): condition waits are timed
 * against it, and the fake clock is a seam for cache tests only. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct piece {
	struct piece *next;
	struct block *blk; /* HTTP_STREAM_PIECE bytes; loans hold it too */
	size_t len; /* received */
	size_t off; /* read */
};

static size_t unread(const struct http_stream *s)
{
	return s->buffered - (s->head ? s->head->off : 0);
}

static void piece_free(struct piece *p)
{
	block_unref(p->blk);
	free(p);
}

/* Takes the head piece off the list; the caller owns it. */
static struct piece *unlink_head(struct http_stream *s)
{
	struct piece *p = s->head;

	s->head = p->next;
	if (!s->head)
		s->tail = NULL;
	s->buffered -= p->len;
	return p;
}

/* Drops the head piece once read, unless more is still to come into it. */
static void pop_read(struct http_stream *s)
{
	struct piece *p = s->head;

	if (!p || p->off < p->len || (p->len < HTTP_STREAM_PIECE && p == s->tail && !s->done))
		return;
	piece_free(unlink_head(s));
}

/* Appends @len bytes; 0 or -ENOMEM. */
static int append(struct http_stream *s, const char *data, size_t len)
{
	while (len) {
		struct piece *t = s->tail;
		size_t n;

		if (!t || t->len == HTTP_STREAM_PIECE) {
			t = calloc(1, sizeof(*t));
			if (!t || !(t->blk = block_new(HTTP_STREAM_PIECE))) {
				free(t);
				return -ENOMEM;
			}
			if (s->tail)
				s->tail->next = t;
			else
				s->head = t;
			s->tail = t;
		}
		n = HTTP_STREAM_PIECE - t->len < len ? HTTP_STREAM_PIECE - t->len : len;
		memcpy(t->blk->mem + t->len, data, n);
		t->len += n;
		s->buffered += n;
		data += n;
		len -= n;
	}
	return 0;
}

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

/* Runs in the pump (downloads) or the writer's thread (an upload's answer). */
static size_t stream_take(char *data, size_t size, size_t n, void *arg)
{
	struct http_stream *s = arg;
	size_t len = size * n, rc = len;
	long status = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	pthread_mutex_lock(&s->lock);
	/* An error answer is kept whole for its message, not streamed. */
	if (status >= 300) {
		rc = buf_add(&s->resp->body, data, len) ? 0 : len;
		goto out;
	}
	if (s->buffered + len > HTTP_STREAM_BUF) {
		s->paused = true;
		rc = CURL_WRITEFUNC_PAUSE;
		goto out;
	}
	if (append(s, data, len))
		rc = 0;
	if (s->want && unread(s) >= s->want)
		pthread_cond_broadcast(&s->cond);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Runs in the pump: notes the headers that say which bytes the body
 * holds, then lets the shared callback keep its own. */
static size_t stream_header(char *line, size_t size, size_t n, void *arg)
{
	struct http_stream *s = arg;
	size_t len = size * n, vlen;
	char tmp[32];

	pthread_mutex_lock(&s->lock);
	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new head (after a 100 Continue, say): forget the last. */
		s->head_done = false;
		s->content_range[0] = '\0';
		s->content_length = -1;
	} else if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
		s->head_done = true;
		pthread_cond_broadcast(&s->cond);
	} else if (len > 14 && !strncasecmp(line, "Content-Range:", 14)) {
		vlen = len - 14 < sizeof(s->content_range) - 1 ? len - 14
							       : sizeof(s->content_range) - 1;
		memcpy(s->content_range, line + 14, vlen);
		s->content_range[vlen] = '\0';
	} else if (len > 15 && !strncasecmp(line, "Content-Length:", 15)) {
		vlen = len - 15 < sizeof(tmp) - 1 ? len - 15 : sizeof(tmp) - 1;
		memcpy(tmp, line + 15, vlen);
		tmp[vlen] = '\0';
		s->content_length = strtoll(tmp, NULL, 10);
	}
	pthread_mutex_unlock(&s->lock);
	return http_on_header(line, size, n, s->resp);
}

/* The download's own thread: receives until the end, a full buffer (then
 * waits for a reader to take half of it) or http_stream_free(). */
static void *pump(void *arg)
{
	struct http_stream *s = arg;
	sigset_t all;

	/* Signals belong to the FUSE loop's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		bool resume, paused;
		long status = 0;
		CURLMcode mc;
		CURLMsg *msg;
		int running, left;

		pthread_mutex_lock(&s->lock);
		while (s->paused && !s->stop && s->buffered > HTTP_STREAM_BUF / 2)
			pthread_cond_wait(&s->cond, &s->lock);
		resume = s->paused;
		s->paused = false;
		if (s->stop) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		pthread_mutex_unlock(&s->lock);
		if (resume)
			curl_easy_pause(s->easy, CURLPAUSE_CONT);
		mc = curl_multi_perform(s->multi, &running);
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
		pthread_mutex_lock(&s->lock);
		if (status && !s->status) {
			s->status = status;
			pthread_cond_broadcast(&s->cond);
		}
		if (mc != CURLM_OK) {
			s->done = true;
			s->curl_code = CURLE_RECV_ERROR;
		}
		while ((msg = curl_multi_info_read(s->multi, &left))) {
			if (msg->msg == CURLMSG_DONE) {
				s->done = true;
				s->curl_code = (int)msg->data.result;
			}
		}
		if (s->done) {
			pop_read(s);
			/* The last touch of the handles until free: a reader
			 * may use them from now on. */
			pthread_cond_broadcast(&s->cond);
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		paused = s->paused;
		pthread_mutex_unlock(&s->lock);
		if (!paused)
			curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
	}
}

int http_stream_open(const struct http_request *req, bool upload, struct http_stream **out)
{
	struct http_stream *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	if (!s)
		return -ENOMEM;
	s->upload = upload;
	http_response_init(&s->own);
	s->resp = &s->own;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->multi = curl_multi_init();
	s->easy = curl_easy_init();
	s->url = strdup(req->url);
	if (!s->multi || !s->easy || !s->url)
		goto fail;
	if (http_headers(req, NULL, &s->hdrs, &s->auth))
		goto fail;
	http_setup(s->easy, req, s->hdrs, s->resp);
	s->content_length = -1;
	if (!upload) {
		curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, stream_header);
		curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
	}
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, stream_take);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_BUFFERSIZE, 256L * 1024);
	if (upload) {
		curl_easy_setopt(s->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(s->easy, CURLOPT_READFUNCTION, stream_give);
		curl_easy_setopt(s->easy, CURLOPT_READDATA, s);
		curl_easy_setopt(s->easy, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
	}
	if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
		goto fail;
	if (!upload) {
		if (pthread_create(&s->pump, NULL, pump, s))
			goto fail;
		s->pumping = true;
	}
	*out = s;
	return 0;
fail:
	http_stream_free(s);
	return -ENOMEM;
}

/* Work an upload does on the bytes it sends (http_stream_write_with()). */
struct side_work {
	void (*fn)(void *ctx, const char *data, size_t len);
	void *ctx;
	const char *data;
	size_t len, done;
};

/* Slices of side work between two looks at the socket: small enough that
 * the socket does not sit idle long, big enough to cost no overhead. */
#define STREAM_WORK_SLICE (64u * 1024)

static void work_slice(struct side_work *w, size_t max)
{
	size_t n = w->len - w->done < max ? w->len - w->done : max;

	w->fn(w->ctx, w->data + w->done, n);
	w->done += n;
}

/* Upload: runs the transfer in this thread until @until(s) holds or it
 * ends; -errno on a stall past the deadline or an interrupt. @w (or NULL)
 * is done in slices while curl waits for the socket, and finished before
 * a 0 return. */
static int stream_drive(struct http_stream *s, bool (*until)(struct http_stream *), long timeout_ms,
			struct side_work *w)
{
	int64_t deadline = now_ms() + timeout_ms;
	int running;

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
		if (until(s) || s->done) {
			while (w && w->done < w->len)
				work_slice(w, w->len);
			return 0;
		}
		if (http_cancelled())
			return -EINTR;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		/* The socket is full: work instead of waiting, then look again. */
		if (!s->paused && w && w->done < w->len) {
			work_slice(w, STREAM_WORK_SLICE);
			continue;
		}
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
	return http_stream_write_with(s, data, len, timeout_ms, NULL, NULL);
}

int http_stream_write_with(struct http_stream *s, const char *data, size_t len, long timeout_ms,
			   void (*fn)(void *ctx, const char *data, size_t len), void *ctx)
{
	struct side_work w = { fn, ctx, data, len, 0 };
	int rc;

	if (s->done)
		return s->curl_code ? errmap_curl(s->curl_code) : -EPIPE;
	s->pending = data;
	s->pending_len = len;
	s->paused = true; /* wake the read callback */
	rc = stream_drive(s, all_taken, timeout_ms, fn ? &w : NULL);
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

/* Only once the transfer is done (and the pump has let go of the handles). */
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
		memcpy(resp->etag, s->resp->etag, sizeof(resp->etag));
		buf_reset(&resp->xheaders);
		if (s->resp->xheaders.len &&
		    buf_add(&resp->xheaders, s->resp->xheaders.data, s->resp->xheaders.len))
			return -ENOMEM;
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
	rc = stream_drive(s, finished, timeout_ms, NULL);
	if (rc)
		return rc;
	return stream_result(s, resp);
}

static bool has_bytes(const struct http_stream *s, size_t want)
{
	return unread(s) >= want;
}

static bool has_status(const struct http_stream *s, size_t want)
{
	(void)want;
	return s->status != 0;
}

/* With the lock held: waits until @ready or the transfer is done, Ctrl-C,
 * or no progress for @timeout_ms (a slow link that keeps delivering is not
 * a stall). An error answer is never streamed, so a reader of bytes waits
 * for its whole body. */
static int wait_for(struct http_stream *s, bool (*ready)(const struct http_stream *, size_t),
		    size_t want, long timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t seen = unread(s);

	while (!ready(s, want) && !s->done) {
		int64_t now = now_ms(), until = now + STREAM_CANCEL_POLL_MS;
		struct timespec ts;

		if (unread(s) > seen) {
			seen = unread(s);
			deadline = now + timeout_ms;
		}
		if (http_cancelled())
			return -EINTR;
		if (now > deadline)
			return -ETIMEDOUT;
		if (until > deadline)
			until = deadline;
		ts.tv_sec = until / 1000;
		ts.tv_nsec = (until % 1000) * 1000000;
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	return 0;
}

/* With the lock held: waits for @want unread bytes (or the end), being
 * woken only when they are there. */
static int wait_bytes(struct http_stream *s, size_t want, long timeout_ms)
{
	int rc;

	s->want = want;
	rc = wait_for(s, has_bytes, want, timeout_ms);
	s->want = 0;
	return rc;
}

/* With the lock held, nothing unread and the transfer done: its end (0),
 * or the errno of an error answer or a failed transfer. Unlocks. */
static ssize_t read_end(struct http_stream *s, struct http_response *resp)
{
	long status = s->status;
	int rc;

	pthread_mutex_unlock(&s->lock);
	rc = stream_result(s, resp);
	if (rc)
		return rc;
	return status >= 300 ? errmap_http(status, s->resp->body.data) : 0;
}

/* With the lock held: wakes the pump when the reader made room. */
static void made_room(struct http_stream *s)
{
	/* The pump waits for half the buffer to be free. */
	if (s->paused && s->buffered <= HTTP_STREAM_BUF / 2)
		pthread_cond_broadcast(&s->cond);
}

/* With the lock held and bytes unread: hands the reader up to @len of
 * them, copied into @buf, or lent through @l (bytes below a piece's len
 * are never written again: the pump only appends, so a loan may be read
 * unlocked). Returns how many. */
static ssize_t take(struct http_stream *s, size_t len, char *buf, struct loan *l)
{
	size_t got = 0;

	pop_read(s);
	while (got < len && s->head && s->head->off < s->head->len) {
		struct piece *p = s->head;
		size_t n = p->len - p->off < len - got ? p->len - p->off : len - got;

		if (l) {
			if (loan_add(l, p->blk, p->off, n))
				break;
		} else {
			memcpy(buf + got, p->blk->mem + p->off, n);
		}
		p->off += n;
		got += n;
		pop_read(s);
	}
	made_room(s);
	return (ssize_t)got;
}

ssize_t http_stream_read(struct http_stream *s, char *buf, size_t len, long timeout_ms,
			 struct http_response *resp)
{
	ssize_t rc;

	pthread_mutex_lock(&s->lock);
	rc = wait_bytes(s, 1, timeout_ms);
	if (rc)
		goto out;
	if (!unread(s))
		return read_end(s, resp);
	rc = take(s, len, buf, NULL);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

ssize_t http_stream_read_loan(struct http_stream *s, size_t len, struct loan *l, long timeout_ms,
			      struct http_response *resp)
{
	ssize_t rc;

	pthread_mutex_lock(&s->lock);
	rc = s->stalled;
	if (rc)
		goto out;
	/* The reader would wait for the rest of its bytes anyway; a piece at
	 * most, so a full buffer (which pauses the pump) always has it. */
	rc = wait_bytes(s, len < HTTP_STREAM_PIECE ? len : HTTP_STREAM_PIECE, timeout_ms);
	/* A stall or Ctrl-C after some bytes came: they are the reader's,
	 * and the next call fails at once instead of waiting again. */
	if (rc && unread(s))
		s->stalled = (int)rc;
	else if (rc)
		goto out;
	if (!unread(s))
		return read_end(s, resp);
	rc = take(s, len, NULL, l);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

long http_stream_status(struct http_stream *s, long timeout_ms)
{
	long rc;

	pthread_mutex_lock(&s->lock);
	rc = wait_for(s, has_status, 0, timeout_ms);
	if (!rc)
		rc = s->status;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static bool has_head(const struct http_stream *s, size_t want)
{
	(void)want;
	return s->head_done;
}

/* Parses "bytes FIRST-LAST/TOTAL" (TOTAL may be "*": -1). */
static int parse_content_range(const char *v, struct http_stream_head *h)
{
	char *end;

	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, "bytes ", 6))
		return -EINVAL;
	v += 6;
	while (*v == ' ')
		v++;
	if (*v < '0' || *v > '9')
		return -EINVAL;
	h->range_first = strtoll(v, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	h->range_last = strtoll(end + 1, &end, 10);
	if (*end != '/')
		return -EINVAL;
	if (end[1] == '*') {
		h->range_total = -1;
		end += 2;
	} else {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		h->range_total = strtoll(end + 1, &end, 10);
	}
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (*end || h->range_first > h->range_last ||
	    (h->range_total >= 0 && h->range_last >= h->range_total))
		return -EINVAL;
	return 0;
}

int http_stream_head(struct http_stream *s, long timeout_ms, struct http_stream_head *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->content_length = -1;
	pthread_mutex_lock(&s->lock);
	rc = wait_for(s, has_head, 0, timeout_ms);
	if (!rc) {
		out->status = s->status;
		out->content_length = s->content_length;
		if (s->content_range[0]) {
			out->has_range = true;
			out->range_ok = !parse_content_range(s->content_range, out);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

const char *http_stream_url(const struct http_stream *s)
{
	return s->url;
}

void http_stream_free(struct http_stream *s)
{
	if (!s)
		return;
	if (s->pumping) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		curl_multi_wakeup(s->multi);
		pthread_join(s->pump, NULL);
	}
	if (s->multi && s->easy)
		curl_multi_remove_handle(s->multi, s->easy);
	if (s->easy)
		curl_easy_cleanup(s->easy);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->hdrs);
	cfs_free_secret(s->auth);
	free(s->url);
	while (s->head)
		piece_free(unlink_head(s));
	http_response_free(&s->own);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
