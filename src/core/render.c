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

int64_t render_mtime(const json_t *doc, const char *const *fields, int64_t fallback)
{
	int64_t t;

	for (; fields && *fields; fields++)
		if (!clock_parse_iso8601(json_string_value(json_object_get(doc, *fields)), &t))
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

/* Past the JSON string starting at @s (its opening quote), or NULL. */
static const char *skip_string(const char *s, const char *end)
{
	for (s++; s < end; s++) {
		if (*s == '\\')
			s++;
		else if (*s == '"')
			return s + 1;
	}
	return NULL;
}

/* Past the compact JSON value starting at @s, or NULL: strings are
 * skipped whole, brackets counted, so nested values are stepped over. */
static const char *skip_value(const char *s, const char *end)
{
	int depth = 0;

	while (s < end) {
		switch (*s) {
		case '"':
			s = skip_string(s, end);
			if (!s)
				return NULL;
			break;
		case '{':
		case '[':
			depth++;
			s++;
			break;
		case '}':
		case ']':
			if (!depth)
				return s; /* the end of the enclosing object */
			depth--;
			s++;
			break;
		case ',':
			if (!depth)
				return s;
			s++;
			break;
		default:
			s++;
		}
		if (!depth && s < end && (*s == ',' || *s == '}'))
			return s;
	}
	return NULL;
}

enum render_found render_text_find(const char *text, size_t len, const char *key, const char **val,
				   size_t *vlen)
{
	const char *s = text, *end = text + len, *k, *v;
	size_t klen = strlen(key);
	bool escaped = false;

	*val = NULL;
	*vlen = 0;
	/* A key jansson would escape cannot be compared as bytes. */
	for (const char *c = key; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			return RENDER_UNSURE;
	if (len < 2 || *s != '{')
		return RENDER_UNSURE;
	s++;
	if (*s == '}')
		return RENDER_ABSENT;
	while (s < end) {
		if (*s != '"')
			return RENDER_UNSURE;
		k = s + 1;
		s = skip_string(s, end);
		if (!s || s >= end || *s != ':')
			return RENDER_UNSURE;
		v = s + 1;
		s = skip_value(v, end);
		if (!s || s == v)
			return RENDER_UNSURE;
		if ((size_t)(v - 2 - k) == klen && !memcmp(k, key, klen)) {
			*val = v;
			*vlen = (size_t)(s - v);
			return RENDER_FOUND;
		}
		/* jansson escapes no character @key may hold, but a key
		 * written otherwise might be it: only a parse can say no. */
		if (memchr(k, '\\', (size_t)(v - 2 - k)))
			escaped = true;
		if (*s == '}')
			return s + 1 == end && !escaped ? RENDER_ABSENT : RENDER_UNSURE;
		s++; /* ',' */
	}
	return RENDER_UNSURE;
}

/* A JSON integer as jansson writes it: -?[0-9]+. */
static bool is_integer_text(const char *v, size_t n)
{
	size_t i = v[0] == '-';

	if (i >= n)
		return false;
	for (; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

bool render_text_simple(const char *v, size_t n)
{
	if (!n)
		return false;
	if (v[0] == '"')
		return n >= 2 && v[n - 1] == '"' && !memchr(v, '\\', n);
	return (n == 4 && (!memcmp(v, "true", 4) || !memcmp(v, "null", 4))) ||
	       (n == 5 && !memcmp(v, "false", 5)) || is_integer_text(v, n);
}

int render_text_value(const char *v, size_t n, struct buf *out)
{
	if (!render_text_simple(v, n))
		return -EINVAL;
	if (n == 4 && !memcmp(v, "null", 4))
		return 0;
	if (v[0] == '"' && buf_add(out, v + 1, n - 2))
		return -EFBIG;
	else if (v[0] != '"' && buf_add(out, v, n))
		return -EFBIG;
	return buf_add(out, "\n", 1);
}
