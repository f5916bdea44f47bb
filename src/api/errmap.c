/* SPDX-License-Identifier: MIT */
/*
 * Error mapping. Layer: HTTP/API boundary. Includes <curl/curl.h> only for
 * the CURLcode constants; performs no I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <jansson.h>

#include "cloudfs/errmap.h"

static bool mentions(const char *body, const char *word)
{
	return body && strcasestr(body, word);
}

int errmap_http(long status, const char *body)
{
	if (status >= 200 && status < 400)
		return 0;
	switch (status) {
	case 400:
		/* Cinder refuses to delete an attached volume with a 400. */
		if (mentions(body, "status must be") || mentions(body, "in-use") ||
		    mentions(body, "still attached"))
			return -EBUSY;
		return -EINVAL;
	case 401:
		return -EACCES;
	case 403:
		/* Nova and Cinder refuse over-quota requests with 403 ("Quota
		 * exceeded for instances..."); a policy refusal may name a
		 * quota API ("os_compute_api:os-quota-sets:update") and is not
		 * one. */
		return mentions(body, "quota") && mentions(body, "exceed") ? -EDQUOT : -EACCES;
	case 404:
		return -ENOENT;
	case 405:
	case 501:
		return -EOPNOTSUPP;
	case 409:
		/* Neutron/Glance say "already exists" for duplicates; the rest
		 * of 409 is "in use" or "wrong state". */
		if (mentions(body, "quota"))
			return -EDQUOT;
		return mentions(body, "already exists") || mentions(body, "duplicate") ? -EEXIST
										       : -EBUSY;
	case 413:
		return mentions(body, "quota") || mentions(body, "limit") ? -EDQUOT : -EFBIG;
	case 408:
	case 504:
		return -ETIMEDOUT;
	case 429:
		return -EAGAIN;
	case 503:
		return -EAGAIN;
	}
	if (status >= 500)
		return -EIO;
	return status >= 400 ? -EIO : -EPROTO;
}

bool errmap_http_retryable(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

int errmap_curl(int code)
{
	switch ((CURLcode)code) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_ABORTED_BY_CALLBACK:
		return -EINTR;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
		return -EPROTO;
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WRITE_ERROR:
		return -EFBIG;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

bool errmap_curl_retryable(int code)
{
	switch ((CURLcode)code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

/* Copies @s into @out as one line: whitespace runs folded to one space. */
static void one_line(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	bool space = false;

	for (size_t i = 0; i < len && s[i] && o + 1 < outlen; i++) {
		if (isspace((unsigned char)s[i])) {
			space = o > 0;
			continue;
		}
		if (space) {
			/* No room for the space and the next character: stop
			 * rather than glue two words together. */
			if (o + 2 >= outlen)
				break;
			out[o++] = ' ';
		}
		space = false;
		out[o++] = s[i];
	}
	out[o] = '\0';
}

/* Text of an HTML page without its tags and without the <title>/<h1> echo. */
static void html_text(const char *body, size_t len, char *out, size_t outlen)
{
	char text[1024];
	size_t t = 0;
	bool tag = false;
	const char *start = strcasestr(body, "</h1>");

	if (!start)
		start = strcasestr(body, "<body>");
	start = start ? strchr(start, '>') + 1 : body;
	for (const char *p = start; p < body + len && *p && t + 1 < sizeof(text); p++) {
		if (*p == '<') {
			tag = true;
			text[t++] = ' ';
		} else if (*p == '>') {
			tag = false;
		} else if (!tag) {
			text[t++] = *p;
		}
	}
	text[t] = '\0';
	one_line(text, t, out, outlen);
}

void errmap_cloud_message(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *root, *v;
	const char *key;
	char *text;

	out[0] = '\0';
	if (!body || !len)
		return;
	/* A body is @len bytes, not a C string: the HTML search needs one. */
	text = malloc(len + 1);
	if (!text)
		return;
	memcpy(text, body, len);
	text[len] = '\0';
	body = text;
	root = json_loadb(body, len, 0, NULL);
	if (!root) {
		if (strcasestr(body, "<html") || strcasestr(body, "<body"))
			html_text(body, len, out, outlen);
		else
			one_line(body, len, out, outlen);
		free(text);
		return;
	}
	/* {"itemNotFound": {"message": ...}}, {"NeutronError": {...}},
	 * {"error": {...}}, or a bare {"message": ...}. */
	v = json_object_get(root, "message");
	if (!json_is_string(v)) {
		json_object_foreach(root, key, v)
		{
			if (json_is_object(v) && json_is_string(json_object_get(v, "message"))) {
				v = json_object_get(v, "message");
				break;
			}
			v = NULL;
		}
	}
	if (json_is_string(v))
		one_line(json_string_value(v), json_string_length(v), out, outlen);
	else
		one_line(body, len, out, outlen);
	json_decref(root);
	free(text);
}
