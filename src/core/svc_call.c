/* SPDX-License-Identifier: MIT */
/*
 * The request helpers a service's hooks call (service.h: svc_request() and
 * friends): the session's token, the errno table and .cloudfs/errors, as
 * every request of the core has them. Every request of a hook goes through
 * svc_request(), a tree's or an extra's (extras.c's JSON helpers are its
 * JSON form). Knows no service.
 * Layer: core; calls api.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloudfs/api.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "model_int.h"

int svc_request(struct svc_call *x, const char *method, const char *path,
		const char *const *headers, const char *body, size_t len, const char *ctype,
		struct svc_answer *out)
{
	struct api_body b = { body, len, ctype };
	struct http_response resp;
	json_error_t jerr;
	int rc;

	if (out) {
		memset(out, 0, sizeof(*out));
		out->content_length = -1;
	}
	http_response_init(&resp);
	rc = api_request(x->p->sess, x->c->service, method, path, headers, body ? &b : NULL, &resp);
	if (rc || !out)
		goto out;
	snprintf(out->etag, sizeof(out->etag), "%s", resp.etag);
	snprintf(out->content_type, sizeof(out->content_type), "%s", resp.content_type);
	out->content_length = resp.content_length;
	if (resp.xheaders.len) {
		out->xheaders = strndup(resp.xheaders.data, resp.xheaders.len);
		if (!out->xheaders) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (resp.body.len && strstr(resp.content_type, "json")) {
		out->json = json_loadb(resp.body.data, resp.body.len, JSON_ALLOW_NUL, &jerr);
		if (!out->json) {
			log_cloud_error("%s %s: HTTP %ld but the body is not JSON (%s) [%s]",
					method, path, resp.status, jerr.text, resp.request_id);
			rc = -EIO;
		}
	} else if (resp.status == 204 || !resp.body.len) {
		/* No body: an empty listing page says so with 204. */
		out->json = NULL;
	}
out:
	http_response_free(&resp);
	return rc;
}

int svc_request_extra(const struct extra_ctx *x, const char *method, const char *path,
		      const char *const *headers, const char *body, size_t len, const char *ctype,
		      struct svc_answer *out)
{
	struct svc_call c = { x->project, x->coll };

	return svc_request(&c, method, path, headers, body, len, ctype, out);
}

int svc_cleanup_delete(struct svc_call *x, const char *path)
{
	return api_cleanup_delete(x->p->sess, x->c->service, path);
}

void svc_answer_free(struct svc_answer *a)
{
	if (!a)
		return;
	json_decref(a->json);
	free(a->xheaders);
	memset(a, 0, sizeof(*a));
}

int64_t svc_part_size_option(const struct svc_call *x)
{
	return x->p->sess->cfg->part_size > 0 ? (int64_t)x->p->sess->cfg->part_size : 0;
}

const char *svc_endpoint(const struct svc_call *x)
{
	return session_endpoint(x->p->sess, x->c->service);
}

char *svc_header(const struct svc_answer *a, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = a->xheaders; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);

		if (len > n && !strncasecmp(l, name, n) && l[n] == ':') {
			const char *v = l + n + 1;
			size_t vl = len - n - 1;

			while (vl && isspace((unsigned char)*v)) {
				v++;
				vl--;
			}
			while (vl && isspace((unsigned char)v[vl - 1]))
				vl--;
			return strndup(v, vl);
		}
		l = end ? end + 1 : l + len;
	}
	return NULL;
}

char *svc_escape(const char *s, bool keep_slash)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		/* A path's dots are escaped: a "." or ".." segment would be
		 * resolved away by the URL parser, and another object asked. */
		if (isalnum(*p) || strchr("-_~", *p) || (*p == '.' && !keep_slash) ||
		    (keep_slash && *p == '/'))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}
