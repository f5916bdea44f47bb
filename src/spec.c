/* SPDX-License-Identifier: MIT */
/*
 * Create specs. Layer: pure helper of the model. The friendly keys are one
 * table, so a new collection's conveniences are rows, not code.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/names.h"
#include "cloudfs/spec.h"

enum rule_kind {
	RULE_REF, /* "key": ref → "target": id */
	RULE_REF_LIST, /* "key": [ref | object] → "target": [{"uuid": id} | object] */
	RULE_REF_NESTED, /* "key": ref → "target": {"network_id": id} */
	RULE_NAME_LIST, /* "key": ["n"] → "target": [{"name": "n"}] */
	RULE_RENAME, /* "key" → "target" */
	RULE_BASE64, /* "key": text → base64 unless it already is */
};

struct rule {
	const char *coll;
	const char *key;
	enum rule_kind kind;
	const char *target;
	const char *ref_coll; /* RULE_REF*: where the reference is looked up */
};

static const struct rule rules[] = {
	{ "servers", "image", RULE_REF, "imageRef", "images" },
	{ "servers", "flavor", RULE_REF, "flavorRef", "flavors" },
	{ "servers", "networks", RULE_REF_LIST, "networks", "networks" },
	{ "servers", "network", RULE_REF_LIST, "networks", "networks" },
	{ "servers", "security_groups", RULE_NAME_LIST, "security_groups", NULL },
	{ "servers", "user_data", RULE_BASE64, "user_data", NULL },
	{ "volumes", "image", RULE_REF, "imageRef", "images" },
	{ "volumes", "type", RULE_RENAME, "volume_type", NULL },
	{ "snapshots", "volume", RULE_REF, "volume_id", "volumes" },
	{ "subnets", "network", RULE_REF, "network_id", "networks" },
	{ "subnets", "gateway", RULE_RENAME, "gateway_ip", NULL },
	{ "subnets", "dhcp", RULE_RENAME, "enable_dhcp", NULL },
	{ "subnets", "dns", RULE_RENAME, "dns_nameservers", NULL },
	{ "ports", "network", RULE_REF, "network_id", "networks" },
	{ "routers", "external_network", RULE_REF_NESTED, "external_gateway_info", "networks" },
	{ "floating_ips", "network", RULE_REF, "floating_network_id", "networks" },
};

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
static int resolve_ref(const struct rule *r, const json_t *v, spec_resolve_fn resolve, void *ctx,
		       json_t **out, char *err, size_t errlen)
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

static int apply_rule(const struct rule *r, json_t *obj, const json_t *v, spec_resolve_fn resolve,
		      void *ctx, char *err, size_t errlen)
{
	json_t *nv = NULL, *item;
	size_t i;
	int rc = 0;

	switch (r->kind) {
	case RULE_RENAME:
		nv = json_incref((json_t *)v);
		break;
	case RULE_REF:
		rc = resolve_ref(r, v, resolve, ctx, &nv, err, errlen);
		break;
	case RULE_REF_NESTED: {
		json_t *id = NULL;

		rc = resolve_ref(r, v, resolve, ctx, &id, err, errlen);
		if (!rc)
			nv = json_pack("{so}", "network_id", id);
		break;
	}
	case RULE_REF_LIST: {
		const json_t *list = v;
		json_t *one = NULL;

		/* "auto" and "none" are Nova's own network shortcuts. */
		if (json_is_string(v) && (!strcmp(json_string_value(v), "auto") ||
					  !strcmp(json_string_value(v), "none"))) {
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
			json_array_append_new(nv, json_pack("{so}", "uuid", id));
		}
		json_decref(one);
		break;
	}
	case RULE_NAME_LIST: {
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
							  ? json_pack("{sO}", "name", item)
							  : json_incref(item));
		}
		json_decref(one);
		break;
	}
	case RULE_BASE64:
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
	if (!root && c->spec_text_key) {
		/* Keypairs: the file is the public key itself. */
		while (n && isspace((unsigned char)text[n - 1]))
			n--;
		*out = json_pack("{ss#}", c->spec_text_key, text, (int)n);
		return *out ? 0 : -ENOMEM;
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
	inner = c->item_key ? json_object_get(root, c->item_key) : NULL;
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
	if (!c->nameless && json_object_set_new(obj, "name", json_string(name))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];

		if (strcmp(r->coll, c->name) || !(v = json_object_get(obj, r->key)))
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
	/* Neutron wants ip_version; it follows from the CIDR. */
	if (!strcmp(c->name, "subnets") && !json_object_get(obj, "ip_version")) {
		const char *cidr = json_string_value(json_object_get(obj, "cidr"));

		json_object_set_new(obj, "ip_version",
				    json_integer(cidr && strchr(cidr, ':') ? 6 : 4));
	}
	if (c->item_key) {
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
