/* SPDX-License-Identifier: MIT */
/*
 * Create specs. Layer: pure helper of the model. The friendly keys are rows
 * of each collection (struct spec_rule, in src/services/), so a new
 * collection's conveniences are rows, not code; this engine knows no service.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/names.h"
#include "cloudfs/spec.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *spec_base64(const unsigned char *d, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)d[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)d[i + 1] << 8;
		if (i + 2 < len)
			v |= d[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

bool spec_is_base64(const char *s)
{
	size_t n = strlen(s), pad = 0;

	if (n == 0 || n % 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=') {
			if (i < n - 2)
				return false;
			pad++;
		} else if (pad || !strchr(b64, s[i])) {
			return false;
		}
	}
	return true;
}

/* Resolves a string reference with the callback; sets *out to a new string. */
static int resolve_ref(const struct spec_rule *r, const json_t *v, spec_resolve_fn resolve,
		       void *ctx, json_t **out, char *err, size_t errlen)
{
	const struct collection_def *rc = collection_find(r->ref_coll);
	char *id = NULL;
	int rc_;

	if (!json_is_string(v)) {
		snprintf(err, errlen, "\"%s\" must be a name or an id", r->key);
		return -EINVAL;
	}
	rc_ = resolve(ctx, rc, json_string_value(v), &id, err, errlen);
	if (rc_)
		return rc_;
	*out = json_string(id);
	free(id);
	return *out ? 0 : -ENOMEM;
}

static bool as_is(const struct spec_rule *r, const char *word)
{
	for (const char *const *w = r->as_is; w && *w; w++)
		if (!strcmp(*w, word))
			return true;
	return false;
}

/* An address or a prefix rather than a name: "0.0.0.0/0", "2001:db8::/32",
 * "10.0.0.1". A name made of dotted digits would need its id. */
static bool is_prefix(const char *s)
{
	if (strchr(s, '/') || strchr(s, ':'))
		return true;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
	return true;
}

static int apply_rule(const struct spec_rule *r, json_t *obj, const json_t *v,
		      spec_resolve_fn resolve, void *ctx, char *err, size_t errlen)
{
	json_t *nv = NULL, *item;
	size_t i;
	int rc = 0;

	switch (r->kind) {
	case SPEC_RENAME:
		nv = json_incref((json_t *)v);
		break;
	case SPEC_REF:
		rc = resolve_ref(r, v, resolve, ctx, &nv, err, errlen);
		break;
	case SPEC_REF_OR_PREFIX:
		if (json_is_string(v) && is_prefix(json_string_value(v)))
			return json_object_set(obj, r->inner, (json_t *)v) ? -ENOMEM : 0;
		rc = resolve_ref(r, v, resolve, ctx, &nv, err, errlen);
		break;
	case SPEC_REF_NESTED: {
		json_t *id = NULL;

		rc = resolve_ref(r, v, resolve, ctx, &id, err, errlen);
		if (!rc)
			nv = json_pack("{so}", r->inner, id);
		break;
	}
	case SPEC_REF_LIST: {
		const json_t *list = v;
		json_t *one = NULL;

		/* Words the API takes itself (Nova's "auto" and "none"). */
		if (json_is_string(v) && as_is(r, json_string_value(v))) {
			nv = json_incref((json_t *)v);
			break;
		}
		if (!json_is_array(v)) {
			one = json_pack("[O]", v);
			list = one;
		}
		nv = json_array();
		json_array_foreach(list, i, item)
		{
			json_t *id = NULL;

			if (json_is_object(item)) {
				json_array_append(nv, item);
				continue;
			}
			rc = resolve_ref(r, item, resolve, ctx, &id, err, errlen);
			if (rc)
				break;
			json_array_append_new(nv, json_pack("{so}", r->inner, id));
		}
		json_decref(one);
		break;
	}
	case SPEC_NAME_LIST: {
		json_t *one = json_is_string(v) ? json_pack("[O]", v) : NULL;

		if (one)
			v = one;
		if (!json_is_array(v)) {
			snprintf(err, errlen, "\"%s\" must be a list", r->key);
			return -EINVAL;
		}
		nv = json_array();
		json_array_foreach(v, i, item)
		{
			json_array_append_new(nv, json_is_string(item)
							  ? json_pack("{sO}", r->inner, item)
							  : json_incref(item));
		}
		json_decref(one);
		break;
	}
	case SPEC_BASE64:
		if (!json_is_string(v)) {
			snprintf(err, errlen, "\"%s\" must be text", r->key);
			return -EINVAL;
		}
		if (spec_is_base64(json_string_value(v))) {
			nv = json_incref((json_t *)v);
		} else {
			char *enc = spec_base64((const unsigned char *)json_string_value(v),
						json_string_length(v));

			nv = enc ? json_string(enc) : NULL;
			free(enc);
		}
		break;
	}
	if (rc) {
		json_decref(nv);
		return rc;
	}
	if (!nv)
		return -ENOMEM;
	return json_object_set_new(obj, r->target, nv) ? -ENOMEM : 0;
}

static bool blank(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)t[i]))
			return false;
	return true;
}

/* @root (parsed from a spec file) is a document to send as text: it holds
 * one of the collection's marks (a JSON Heat template). */
static bool is_text_document(const struct collection_def *c, const json_t *root)
{
	for (const char *const *m = c->spec_text_marks; m && *m; m++)
		if (json_object_get(root, *m))
			return true;
	return false;
}

/* The length of the line at @t (up to @end), without its '\n'. */
static size_t line_len(const char *t, const char *end)
{
	const char *nl = memchr(t, '\n', (size_t)(end - t));

	return nl ? (size_t)(nl - t) : (size_t)(end - t);
}

/* A YAML document start marker: "---" alone, or with blanks or a comment. */
static bool is_doc_start(const char *t, size_t len)
{
	size_t i = 3;

	if (len < 3 || memcmp(t, "---", 3))
		return false;
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r'))
		i++;
	return i == len || t[i] == '#';
}

/*
 * Where the second document of the YAML stream @text starts: the offset
 * of its "---" line (*@second: of the line after it), or 0 when the text is
 * one document. A "---" before any content opens the first document. At
 * column 0 a "---" line cannot be inside an indented block scalar.
 */
static size_t second_document(const char *text, size_t len, size_t *second)
{
	const char *t = text, *end = text + len;
	bool content = false;

	while (t < end) {
		size_t l = line_len(t, end);
		size_t i = 0;

		if (is_doc_start(t, l)) {
			if (content) {
				*second = (size_t)(t - text) + l + (t + l < end);
				return (size_t)(t - text);
			}
		} else {
			while (i < l && isspace((unsigned char)t[i]))
				i++;
			if (i < l && t[i] != '#')
				content = true;
		}
		t += l + (t + l < end);
	}
	return 0;
}

/* The text spec of @c: @text under spec_text_key, or two documents under
 * spec_text_key and spec_text_second_key (new reference in *out). */
static int text_spec(const struct collection_def *c, const char *text, size_t n, json_t **out)
{
	size_t second = 0, at = c->spec_text_second_key ? second_document(text, n, &second) : 0;

	if (!at) {
		*out = json_pack("{ss#}", c->spec_text_key, text, (int)n);
		return *out ? 0 : -ENOMEM;
	}
	*out = json_pack("{ss#ss#}", c->spec_text_key, text, (int)at, c->spec_text_second_key,
			 text + second, (int)(n - second));
	return *out ? 0 : -ENOMEM;
}

/* Parses the spec text into a bare object (new reference). */
static int parse_spec(const struct collection_def *c, const char *text, size_t len, json_t **out,
		      json_t **extra, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *inner;
	size_t n = len;

	if (blank(text, len)) {
		*out = json_object();
		return *out ? 0 : -ENOMEM;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (c->spec_text_key && (!root || is_text_document(c, root))) {
		/* Keypairs: the file is the public key itself; Heat: the
		 * template, YAML or JSON, as the user wrote it. */
		json_decref(root);
		while (!c->spec_text_raw && n && isspace((unsigned char)text[n - 1]))
			n--;
		if (!names_is_utf8(text, n) || memchr(text, '\0', n)) {
			snprintf(err, errlen, "the file is not UTF-8 text");
			return -EINVAL;
		}
		return text_spec(c, text, n, out);
	}
	if (!root) {
		snprintf(err, errlen, "the spec is not valid JSON: %s (line %d, column %d)",
			 jerr.text, jerr.line, jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "the spec must be a JSON object");
		json_decref(root);
		return -EINVAL;
	}
	inner = c->item_key && !c->create_bare ? json_object_get(root, c->item_key) : NULL;
	if (inner && json_is_object(inner)) {
		/* The API's own body; keys beside the wrapper (Nova's
		 * "os:scheduler_hints") stay beside it. */
		*out = json_incref(inner);
		json_object_del(root, c->item_key);
		*extra = root;
	} else {
		*out = root;
	}
	return 0;
}

int spec_build(const struct collection_def *c, const char *name, const char *text, size_t len,
	       spec_resolve_fn resolve, void *ctx, json_t **out, char *err, size_t errlen)
{
	json_t *obj = NULL, *extra = NULL, *v;
	int rc;

	rc = parse_spec(c, text, len, &obj, &extra, err, errlen);
	if (rc)
		return rc;
	if (!c->nameless && !names_is_utf8(name, strlen(name))) {
		snprintf(err, errlen, "the name is not valid UTF-8");
		rc = -EINVAL;
		goto out;
	}
	if (!c->nameless && c->name_field &&
	    json_object_set_new(obj, c->name_field, json_string(name))) {
		rc = -ENOMEM;
		goto out;
	}
	for (const struct spec_rule *r = c->spec_rules; r && r->key; r++) {
		if (!(v = json_object_get(obj, r->key)))
			continue;
		json_incref(v);
		/* A renamed friendly key goes away; the API's own key is kept. */
		if (strcmp(r->key, r->target))
			json_object_del(obj, r->key);
		rc = apply_rule(r, obj, v, resolve, ctx, err, errlen);
		json_decref(v);
		if (rc)
			goto out;
	}
	if (c->spec_complete) {
		rc = c->spec_complete(obj);
		if (rc)
			goto out;
	}
	if (c->item_key && !c->create_bare) {
		*out = extra ? json_incref(extra) : json_object();
		rc = *out && !json_object_set_new(*out, c->item_key, obj) ? 0 : -ENOMEM;
		obj = NULL;
	} else {
		*out = obj;
		obj = NULL;
	}
out:
	json_decref(obj);
	json_decref(extra);
	return rc;
}

int spec_value(const json_t *current, const char *text, size_t len, json_t **out, char *err,
	       size_t errlen)
{
	json_error_t jerr;

	if (len && text[len - 1] == '\n')
		len--;
	if (json_is_number(current) || json_is_boolean(current)) {
		*out = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
		if (!*out || !(json_is_number(*out) || json_is_boolean(*out)) ||
		    json_is_boolean(*out) != json_is_boolean(current)) {
			json_decref(*out);
			*out = NULL;
			snprintf(err, errlen, "expected %s, got '%.*s'",
				 json_is_boolean(current) ? "true or false" : "a number",
				 (int)(len > 64 ? 64 : len), text);
			return -EINVAL;
		}
		return 0;
	}
	if (json_is_null(current) && len == 0) {
		*out = json_null();
		return 0;
	}
	*out = json_stringn(text, len);
	if (!*out) {
		snprintf(err, errlen, "the value is not valid UTF-8");
		return -EINVAL;
	}
	return 0;
}
