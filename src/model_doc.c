/* SPDX-License-Identifier: MIT */
/*
 * Cached documents. Layer: model, above cache and api.
 *
 * A resource is cached as its compact JSON text and parsed again for each
 * use: a parsed jansson tree costs about seven times the bytes (a Nova
 * server: ~1.4 KiB of text, ~10 KiB as a tree), and parsing one document
 * takes microseconds. A listing holds its members' cached values, which
 * are also stored under their own R: keys, so the text exists once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/api.h"
#include "cloudfs/render.h"
#include "model_int.h"

#define MODEL_CONSOLE_LINES 1000

static void json_destroy(void *data)
{
	json_decref(data);
}

static void listing_destroy(void *data)
{
	struct listing *l = data;

	for (size_t i = 0; i < l->n; i++)
		cache_val_unref(l->m[i]);
	free(l->m);
	free(l);
}

void model_res_key(char *key, size_t n, const char *prefix, const struct collection_def *c,
		   const char *id)
{
	snprintf(key, n, "%s:%s/%s", prefix, c->name, id);
}

/* @doc as a cache value holding a struct cdoc: 0, -ENOENT (no id) or -ENOMEM. */
static int doc_val(struct project *p, const struct collection_def *c, const json_t *doc,
		   struct cache_val **out)
{
	const char *name = json_string_value(json_object_get(doc, "name"));
	char id[MODEL_ID_MAX];
	struct cdoc *d = NULL;
	size_t len, idlen, namelen = name ? strlen(name) + 1 : 0;
	char *text = NULL;

	*out = NULL;
	if (!render_id(doc, c->id_field, id, sizeof(id)))
		return -ENOENT;
	/* Key order is kept: it is the order of a directory's files. */
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	idlen = strlen(id) + 1;
	d = malloc(sizeof(*d) + len + idlen + namelen);
	if (!d)
		goto out;
	d->ttl_ms = model_doc_ttl(p, doc);
	d->mtime_s = render_mtime(doc, p->mount_time_s);
	d->len = len;
	memcpy(d->text, text, len);
	d->id = memcpy(d->text + len, id, idlen);
	d->name = name ? memcpy(d->text + len + idlen, name, namelen) : NULL;
out:
	free(text);
	*out = d ? cache_val_new(d, free) : NULL;
	return *out ? 0 : -ENOMEM;
}

int model_doc_parse(const struct cache_val *dv, struct cache_val **out)
{
	const struct cdoc *d = dv->data;
	json_t *doc = json_loadb(d->text, d->len, 0, NULL);

	*out = NULL;
	if (!doc)
		return -ENOMEM; /* we wrote the text: only memory can fail */
	*out = cache_val_new(doc, json_destroy);
	if (!*out)
		return -ENOMEM;
	(*out)->fetched_ms = dv->fetched_ms;
	return 0;
}

/* Stores @dv as its resource's current state. */
static void doc_store(struct project *p, const struct collection_def *c, struct cache_val *dv)
{
	const struct cdoc *d = dv->data;
	char key[MODEL_ID_MAX + 64];

	model_res_key(key, sizeof(key), "R", c, d->id);
	cache_put(p->cache, key, dv, d->ttl_ms);
}

void model_learn(struct project *p, const struct collection_def *c, json_t *doc)
{
	struct cache_val *v;

	if (doc_val(p, c, doc, &v))
		return; /* only costs a later refetch */
	doc_store(p, c, v);
	cache_val_unref(v);
}

struct fetch {
	struct project *p;
	const struct collection_def *c;
	const char *id;
	struct listing *l;
};

static int add_member(void *arg, const json_t *m)
{
	struct fetch *f = arg;
	struct listing *l = f->l;
	struct cache_val *v;
	int rc;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct cache_val **nm = realloc(l->m, cap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		l->m = nm;
		l->cap = cap;
	}
	rc = doc_val(f->p, f->c, m, &v);
	if (rc)
		return rc == -ENOENT ? 0 : rc; /* no id: not a member we can show */
	l->m[l->n++] = v;
	doc_store(f->p, f->c, v);
	return 0;
}

static int fetch_listing(void *arg, struct cache_val **out, int64_t *ttl_ms)
{
	struct fetch *f = arg;
	int rc;

	(void)ttl_ms;
	f->l = calloc(1, sizeof(*f->l));
	if (!f->l)
		return -ENOMEM;
	rc = api_list(f->p->sess, f->c, add_member, f);
	if (rc) {
		listing_destroy(f->l);
		return rc;
	}
	*out = cache_val_new(f->l, listing_destroy);
	return *out ? 0 : -ENOMEM;
}

int model_get_listing(struct project *p, const struct collection_def *c, struct cache_val **out)
{
	struct fetch f = { p, c, NULL, NULL };
	char key[96];

	snprintf(key, sizeof(key), "L:%s", c->name);
	return cache_get(p->cache, key, fetch_listing, &f, p->ttl_ms, 0, out);
}

static int fetch_item(void *arg, struct cache_val **out, int64_t *ttl_ms)
{
	struct fetch *f = arg;
	json_t *doc;
	int rc;

	rc = api_get_item(f->p->sess, f->c, f->id, &doc);
	if (rc)
		return rc;
	rc = doc_val(f->p, f->c, doc, out);
	json_decref(doc);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
	*ttl_ms = ((const struct cdoc *)(*out)->data)->ttl_ms;
	return 0;
}

int model_get_item(struct project *p, const struct collection_def *c, const char *id,
		   struct cache_val **out)
{
	struct fetch f = { p, c, id, NULL };
	char key[MODEL_ID_MAX + 64];

	model_res_key(key, sizeof(key), "R", c, id);
	return cache_get(p->cache, key, fetch_item, &f, p->ttl_ms, p->neg_ttl_ms, out);
}

static int fetch_console(void *arg, struct cache_val **out, int64_t *ttl_ms)
{
	struct fetch *f = arg;
	char *path = api_item_path(f->c, f->id, "action", NULL);
	json_t *body, *answer = NULL;
	int rc;

	(void)ttl_ms;
	body = json_pack("{s{si}}", "os-getConsoleOutput", "length", MODEL_CONSOLE_LINES);
	rc = path && body
		     ? api_send_json(f->p->sess, f->c->service, "POST", path, body, NULL, &answer)
		     : -ENOMEM;
	json_decref(body);
	free(path);
	if (rc)
		return rc;
	if (!json_is_string(json_object_get(answer, "output"))) {
		json_decref(answer);
		return -EIO;
	}
	*out = cache_val_new(answer, json_destroy);
	return *out ? 0 : -ENOMEM;
}

int model_get_console(struct project *p, const struct collection_def *c, const char *id,
		      struct cache_val **out)
{
	struct fetch f = { p, c, id, NULL };
	char key[MODEL_ID_MAX + 64];

	model_res_key(key, sizeof(key), "C", c, id);
	return cache_get(p->cache, key, fetch_console, &f, p->ttl_ms, 0, out);
}
