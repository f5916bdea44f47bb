/* SPDX-License-Identifier: MIT */
/* JSON → bytes. Layer: pure helper of the model. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cloudfs/clock.h"
#include "cloudfs/names.h"
#include "cloudfs/render.h"

/* 15 significant digits print 0.1 as 0.1, not 0.10000000000000001. */
#define RENDER_JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY)

static int dump_cb(const char *data, size_t size, void *arg)
{
	return buf_add(arg, data, size) ? -1 : 0;
}

static int dump_pretty(const json_t *v, struct buf *out)
{
	if (json_dump_callback(v, dump_cb, out, RENDER_JSON_FLAGS))
		return -EFBIG;
	return buf_add(out, "\n", 1);
}

int render_value(const json_t *v, struct buf *out)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		if (buf_add(out, json_string_value(v), json_string_length(v)))
			return -EFBIG;
		return buf_add(out, "\n", 1);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
		return buf_addstr(out, num);
	case JSON_REAL:
	case JSON_TRUE:
	case JSON_FALSE:
		return dump_pretty(v, out);
	case JSON_NULL:
		return 0;
	case JSON_ARRAY:
	case JSON_OBJECT:
		return dump_pretty(v, out);
	}
	return -EINVAL;
}

int render_document(const json_t *doc, struct buf *out)
{
	return dump_pretty(doc, out);
}

size_t render_value_size(const json_t *v)
{
	struct buf b;
	size_t n;

	buf_init(&b, CFS_MAX_BODY);
	n = render_value(v, &b) ? 0 : b.len;
	buf_free(&b);
	return n;
}

int64_t render_mtime(const json_t *doc, int64_t fallback)
{
	static const char *const keys[] = { "updated", "updated_at", "created", "created_at" };
	int64_t t;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!clock_parse_iso8601(json_string_value(json_object_get(doc, keys[i])), &t))
			return t;
	return fallback;
}

const json_t *render_walk(const json_t *doc, char *const *attrs, size_t n, bool *notdir)
{
	const json_t *v = doc;

	*notdir = false;
	for (size_t i = 0; i < n; i++) {
		if (!json_is_object(v)) {
			*notdir = true;
			return NULL;
		}
		v = json_object_get(v, attrs[i]);
		if (!v)
			return NULL;
	}
	return v;
}

bool render_id(const json_t *member, const char *id_field, char *out, size_t outlen)
{
	const json_t *id = json_object_get(member, id_field);
	int n;

	/* An id holding a NUL byte cannot be a C string, a cache key or a URL:
	 * such a member has no id we can show. */
	if (json_is_string(id) && strlen(json_string_value(id)) != json_string_length(id))
		return false;
	if (json_is_string(id))
		n = snprintf(out, outlen, "%s", json_string_value(id));
	else if (json_is_integer(id))
		n = snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	else
		return false;
	return n > 0 && (size_t)n < outlen;
}

char *render_name(const json_t *s)
{
	return json_is_string(s) ? names_encode_len(json_string_value(s), json_string_length(s))
				 : NULL;
}
