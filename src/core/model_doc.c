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
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/api.h"
#include "cloudfs/names.h"
#include "cloudfs/render.h"
#include "model_int.h"

/* A listing this long is followed by a malloc_trim() (fetch_listing()). */
#define MODEL_TRIM_MEMBERS 1000

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

void model_extra_key(char *key, size_t n, const struct collection_def *c, const char *id,
		     const struct member_extra *e)
{
	snprintf(key, n, "X:%s/%s/%s", c->name, id, e->name);
}

void model_res_key(char *key, size_t n, const char *prefix, const struct collection_def *c,
		   const char *id)
{
	/* A collection in a group ("quotas") is keyed by both names. */
	if (id)
		snprintf(key, n, "%s:%s%s%s/%s", prefix, c->group ? c->group : "",
			 c->group ? "/" : "", c->name, id);
	else
		snprintf(key, n, "%s:%s%s%s", prefix, c->group ? c->group : "", c->group ? "/" : "",
			 c->name);
}

/* @doc as a cache value holding a struct cdoc: 0, -ENOENT (no id) or
 * -ENOMEM. A singleton's id is the one it was fetched by (@asked). */
static int doc_val(struct project *p, const struct collection_def *c, const json_t *doc,
		   bool summary, const char *asked, struct cache_val **out)
{
	/* The name as its file name: a name may hold '/' or a NUL byte. */
	char *name = render_name(collection_member_name(c, doc));
	char id[MODEL_ID_MAX];
	struct cdoc *d = NULL;
	size_t len, idlen, namelen = name ? strlen(name) + 1 : 0;
	char *text = NULL;

	*out = NULL;
	if (c->singleton && asked)
		snprintf(id, sizeof(id), "%s", asked);
	else if (!render_id(doc, c->id_field, id, sizeof(id))) {
		free(name);
		return -ENOENT;
	}
	/* Key order is kept: it is the order of a directory's files. */
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		goto out;
	len = strlen(text);
	idlen = strlen(id) + 1;
	d = malloc(sizeof(*d) + len + idlen + namelen);
	if (!d)
		goto out;
	d->ttl_ms = model_doc_ttl(p, c, doc);
	d->summary = summary;
	d->mtime_s = render_mtime(doc, c->mtime_fields, p->mount_time_s);
	d->len = len;
	memcpy(d->text, text, len);
	d->id = memcpy(d->text + len, id, idlen);
	d->name = name ? memcpy(d->text + len + idlen, name, namelen) : NULL;
out:
	free(text);
	free(name);
	*out = d ? cache_val_new(d, free) : NULL;
	return *out ? 0 : -ENOMEM;
}

int model_doc_parse(struct project *p, struct cache_val *dv, struct cache_val **out)
{
	const struct cdoc *d = dv->data;
	struct model_memo *m;
	json_t *doc;

	*out = NULL;
	pthread_mutex_lock(&p->memo_lock);
	for (size_t i = 0; i < MODEL_MEMO_SIZE && !*out; i++)
		if (p->memo[i].from == dv)
			*out = cache_val_ref(p->memo[i].parsed);
	pthread_mutex_unlock(&p->memo_lock);
	if (*out)
		return 0;
	/* JSON_ALLOW_NUL: the cloud's strings may hold \u0000 (api.c). */
	doc = json_loadb(d->text, d->len, JSON_ALLOW_NUL, NULL);
	if (!doc)
		return -ENOMEM; /* we wrote the text: only memory can fail */
	*out = cache_val_new(doc, json_destroy);
	if (!*out)
		return -ENOMEM;
	(*out)->fetched_ms = dv->fetched_ms;
	pthread_mutex_lock(&p->memo_lock);
	p->parsed++;
	m = &p->memo[p->memo_next++ % MODEL_MEMO_SIZE];
	cache_val_unref(m->from);
	cache_val_unref(m->parsed);
	m->from = cache_val_ref(dv);
	m->parsed = cache_val_ref(*out);
	pthread_mutex_unlock(&p->memo_lock);
	return 0;
}

/* Appends "/<@file>" (a file name) to @path (length @len); false if too long. */
static bool path_push_file(char *path, size_t len, const char *file)
{
	int n = snprintf(path + len, PATH_MAX - len, "/%s", file);

	return n > 0 && (size_t)n < PATH_MAX - len;
}

/* Appends "/<name, encoded>" to @path (length @len); false if too long. */
static bool path_push(char *path, size_t len, const char *name)
{
	char *enc = names_encode(name);
	bool ok = enc && path_push_file(path, len, enc);

	free(enc);
	return ok;
}

/* Drops the kernel's attributes for @obj's files under @path, recursively:
 * objects are directories. */
static void notify_object(struct project *p, char *path, const json_t *obj, int depth)
{
	size_t len = strlen(path);
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		if (!path_push(path, len, key))
			continue;
		model_notify_attr(p, path);
		if (json_is_object(v) && depth < TREE_MAX_DEPTH)
			notify_object(p, path, v, depth + 1);
	}
	path[len] = '\0';
}

/*
 * @c/@d (parsed: @doc) changed (@old: what it replaces, NULL if unknown).
 * The kernel keeps names and attributes for the cache TTL, so it is told
 * what no longer holds: every file's attributes (sizes follow contents) and
 * the old name.
 */
static void notify_change(struct project *p, const struct collection_def *c, const struct cdoc *d,
			  const json_t *doc, const struct cdoc *old)
{
	char path[PATH_MAX];
	size_t len;

	if (!p->notify)
		return;
	if (c->singleton) {
		/* its directory is the document's */
		snprintf(path, sizeof(path), "/%s/%s", c->group, c->name);
		len = strlen(path);
		model_notify_attr(p, path);
		if (path_push(path, len, MODEL_DOC_FILE))
			model_notify_attr(p, path);
		path[len] = '\0';
		notify_object(p, path, doc, 1);
		return;
	}
	snprintf(path, sizeof(path), "/%s", c->name);
	if (old && old->name && (!d->name || strcmp(old->name, d->name)) &&
	    path_push_file(path, strlen(path), old->name))
		model_notify_later(p, path);
	snprintf(path, sizeof(path), "/%s", c->name);
	if (!path_push(path, strlen(path), d->id))
		return;
	model_notify_attr(p, path);
	len = strlen(path);
	if (path_push(path, len, MODEL_DOC_FILE))
		model_notify_attr(p, path);
	path[len] = '\0';
	/* The extras whose stat follows the document (sizes, listings): not
	 * a lazy one (fetched only when read), not a file with nothing to
	 * show, not one over a key (notify_object() walks the keys). */
	for (const struct member_extra *e = c->extras; e && e->name; e++) {
		if ((e->flags & (EXTRA_LAZY | EXTRA_ON_KEY)) ||
		    (e->kind == EXTRA_FILE && !e->show && !e->size))
			continue;
		if (path_push(path, len, e->name))
			model_notify_attr(p, path);
		path[len] = '\0';
	}
	notify_object(p, path, doc, 1);
}

/* ---- change sets ------------------------------------------------------ */

/* Adds a change (holding @doc and @old) to @ch; without memory it is lost,
 * and the kernel's copy lives out its TTL. */
static void change_add(struct model_changes *ch, enum model_change_kind kind,
		       const struct collection_def *c, struct cache_val *doc, struct cache_val *old)
{
	struct model_change *e;

	if (ch->n == ch->cap) {
		size_t cap = ch->cap ? 2 * ch->cap : 8;
		struct model_change *nv = realloc(ch->v, cap * sizeof(*nv));

		if (!nv) {
			ch->lost++;
			return;
		}
		ch->v = nv;
		ch->cap = cap;
	}
	e = &ch->v[ch->n++];
	e->kind = kind;
	e->c = c;
	e->doc = doc ? cache_val_ref(doc) : NULL;
	e->old = old ? cache_val_ref(old) : NULL;
}

void model_changes_free(struct model_changes *ch)
{
	for (size_t i = 0; i < ch->n; i++) {
		cache_val_unref(ch->v[i].doc);
		cache_val_unref(ch->v[i].old);
	}
	free(ch->v);
	ch->v = NULL;
	ch->n = ch->cap = ch->lost = 0;
}

/* Member @d of @c is gone: the kernel forgets its id's and name's entries
 * (once the lookup or readdir that listed them is answered). */
static void notify_removed(struct project *p, const struct collection_def *c, const struct cdoc *d)
{
	char path[PATH_MAX];
	size_t len;

	snprintf(path, sizeof(path), "/%s", c->name);
	len = strlen(path);
	if (path_push(path, len, d->id))
		model_notify_later(p, path);
	path[len] = '\0';
	if (d->name && path_push_file(path, len, d->name))
		model_notify_later(p, path);
}

void model_changes_deliver(struct project *p, struct model_changes *ch)
{
	for (size_t i = 0; p->notify && i < ch->n; i++) {
		const struct model_change *e = &ch->v[i];
		struct cache_val *parsed = NULL;

		switch (e->kind) {
		case MODEL_CHANGE_ADDED:
			break; /* the kernel never heard of the name */
		case MODEL_CHANGE_REMOVED:
			notify_removed(p, e->c, e->old->data);
			break;
		case MODEL_CHANGE_CHANGED:
			/* Parsed again (the memo has it when it was just read):
			 * a set holds texts, not trees seven times their size. */
			if (!model_doc_parse(p, e->doc, &parsed))
				notify_change(p, e->c, e->doc->data, parsed->data,
					      e->old ? e->old->data : NULL);
			cache_val_unref(parsed);
			break;
		}
	}
	model_changes_free(ch);
}

/* ---- fetching --------------------------------------------------------- */

/*
 * @dv becomes its resource's state: stored if @store (else cache_get()
 * stores it). If it replaces a different document, or none is known and
 * @always, it goes into @ch; a listing passes !@always, since on a first
 * listing the kernel knows nothing.
 */
static void doc_update(struct project *p, const struct collection_def *c, struct cache_val *dv,
		       bool store, bool always, struct model_changes *ch)
{
	const struct cdoc *d = dv->data, *od;
	struct cache_val *old = NULL;
	char key[MODEL_ID_MAX + 64];

	model_res_key(key, sizeof(key), "R", c, d->id);
	cache_peek(p->cache, key, &old); /* expired or not */
	if (store)
		cache_put(p->cache, key, dv, d->ttl_ms);
	/* After the put: whatever the kernel asks next is answered from it. */
	od = old ? old->data : NULL;
	if (od ? od->len != d->len || memcmp(od->text, d->text, d->len) : always)
		change_add(ch, MODEL_CHANGE_CHANGED, c, dv, old);
	cache_val_unref(old);
}

void model_learn_changes(struct project *p, const struct collection_def *c, json_t *doc,
			 struct model_changes *ch)
{
	struct cache_val *v;

	if (doc_val(p, c, doc, false, NULL, &v))
		return; /* only costs a later refetch */
	doc_update(p, c, v, true, true, ch);
	cache_val_unref(v);
}

void model_learn(struct project *p, const struct collection_def *c, json_t *doc)
{
	struct model_changes ch = MODEL_CHANGES_INIT;

	model_learn_changes(p, c, doc, &ch);
	model_changes_deliver(p, &ch);
}

struct fetch {
	struct project *p;
	const struct collection_def *c;
	const char *id;
	struct listing *l;
	struct model_changes *ch; /* what the fetch found changed */
};

/*
 * A summary listing's member @d (parsed: @m) whose full document is cached
 * and live and agrees with every key of the summary: the full one stays,
 * so the files only the member's GET has do not cost another GET at each
 * listing. Anything that differs (a status moved on) replaces it.
 */
static bool full_still_holds(struct project *p, const struct collection_def *c,
			     const struct cdoc *d, const json_t *m)
{
	struct cache_val *old = NULL, *parsed = NULL;
	char key[MODEL_ID_MAX + 64];
	const json_t *v;
	const char *k;
	bool same = false;

	if (!d->summary)
		return false;
	model_res_key(key, sizeof(key), "R", c, d->id);
	if (cache_lookup(p->cache, key, &old))
		return false;
	if (!((const struct cdoc *)old->data)->summary && !model_doc_parse(p, old, &parsed)) {
		same = true;
		json_object_foreach((json_t *)m, k, v)
		{
			if (!json_equal((json_t *)v, json_object_get(parsed->data, k))) {
				same = false;
				break;
			}
		}
	}
	cache_val_unref(parsed);
	cache_val_unref(old);
	return same;
}

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
	rc = doc_val(f->p, f->c, m, f->c->summary_listing, NULL, &v);
	if (rc)
		return rc == -ENOENT ? 0 : rc; /* no id: not a member we can show */
	l->m[l->n++] = v;
	if (!full_still_holds(f->p, f->c, v->data, m))
		doc_update(f->p, f->c, v, true, false, f->ch);
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of @l's members, sorted (for bsearch with cmp_id); NULL without
 * memory. */
static const char **sorted_ids(const struct listing *l)
{
	const char **ids = malloc((l->n + 1) * sizeof(*ids));

	if (!ids)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		ids[i] = ((const struct cdoc *)l->m[i]->data)->id;
	qsort(ids, l->n, sizeof(*ids), cmp_id);
	return ids;
}

/* Members of @old that @new lacks are removed, members of @new that @old
 * lacks are added: both go into @ch. */
static void listing_diff(const struct collection_def *c, const struct listing *old,
			 const struct listing *new, struct model_changes *ch)
{
	const char **ids = sorted_ids(new);

	if (!ids) {
		ch->lost++;
		return;
	}
	for (size_t i = 0; i < old->n; i++) {
		const struct cdoc *d = old->m[i]->data;

		if (!bsearch(&d->id, ids, new->n, sizeof(*ids), cmp_id))
			change_add(ch, MODEL_CHANGE_REMOVED, c, NULL, old->m[i]);
	}
	free(ids);
	ids = sorted_ids(old);
	if (!ids) {
		ch->lost++;
		return;
	}
	for (size_t i = 0; i < new->n; i++) {
		const struct cdoc *d = new->m[i]->data;

		if (!bsearch(&d->id, ids, old->n, sizeof(*ids), cmp_id))
			change_add(ch, MODEL_CHANGE_ADDED, c, new->m[i], NULL);
	}
	free(ids);
}

static int fetch_listing(void *arg, struct cache_val **out, int64_t *ttl_ms)
{
	char key[96];
	struct cache_val *old = NULL;
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
	model_res_key(key, sizeof(key), "L", f->c, NULL);
	if (!cache_peek(f->p->cache, key, &old)) {
		listing_diff(f->c, old->data, f->l, f->ch);
		cache_val_unref(old);
	}
	*out = cache_val_new(f->l, listing_destroy);
	/* Each page was parsed into a tree about seven times its text, freed
	 * in small pieces between the members' texts that stay: the pages
	 * that are now wholly free go back to the system (a few MiB per 10,000
	 * members), where glibc would keep them resident. */
	if (f->l->n >= MODEL_TRIM_MEMBERS)
		malloc_trim(0);
	return *out ? 0 : -ENOMEM;
}

int model_fetch_listing(struct project *p, const struct collection_def *c, struct cache_val **out,
			struct model_changes *ch)
{
	struct fetch f = { p, c, NULL, NULL, ch };
	char key[96];

	model_res_key(key, sizeof(key), "L", c, NULL);
	return cache_get(p->cache, key, fetch_listing, &f, p->ttl_ms, 0, out);
}

int model_get_listing(struct project *p, const struct collection_def *c, struct cache_val **out)
{
	struct model_changes ch = MODEL_CHANGES_INIT;
	int rc = model_fetch_listing(p, c, out, &ch);

	model_changes_deliver(p, &ch);
	return rc;
}

static int fetch_item(void *arg, struct cache_val **out, int64_t *ttl_ms)
{
	struct fetch *f = arg;
	json_t *doc;
	int rc;

	rc = api_get_item(f->p->sess, f->c, f->id, &doc);
	if (rc)
		return rc;
	rc = doc_val(f->p, f->c, doc, false, f->id, out);
	if (!rc) {
		*ttl_ms = ((const struct cdoc *)(*out)->data)->ttl_ms;
		doc_update(f->p, f->c, *out, false, true, f->ch);
	}
	json_decref(doc);
	return rc == -ENOENT ? -EIO : rc;
}

int model_fetch_item(struct project *p, const struct collection_def *c, const char *id,
		     struct cache_val **out, struct model_changes *ch)
{
	struct fetch f = { p, c, id, NULL, ch };
	char key[MODEL_ID_MAX + 64];

	model_res_key(key, sizeof(key), "R", c, id);
	return cache_get(p->cache, key, fetch_item, &f, p->ttl_ms, p->neg_ttl_ms, out);
}

int model_get_item(struct project *p, const struct collection_def *c, const char *id,
		   struct cache_val **out)
{
	struct model_changes ch = MODEL_CHANGES_INIT;
	int rc = model_fetch_item(p, c, id, out, &ch);

	model_changes_deliver(p, &ch);
	return rc;
}

int model_get_full(struct project *p, const struct collection_def *c, const char *id,
		   struct cache_val **out)
{
	struct model_changes ch = MODEL_CHANGES_INIT;
	int rc = model_fetch_full(p, c, id, out, &ch);

	model_changes_deliver(p, &ch);
	return rc;
}

int model_fetch_full(struct project *p, const struct collection_def *c, const char *id,
		     struct cache_val **out, struct model_changes *ch)
{
	char key[MODEL_ID_MAX + 64];
	int rc;

	/* Expired, not dropped: the GET's answer is compared with the summary
	 * and the kernel hears of what changed. */
	model_res_key(key, sizeof(key), "R", c, id);
	cache_expire(p->cache, key);
	rc = model_fetch_item(p, c, id, out, ch);
	if (!rc && ((const struct cdoc *)(*out)->data)->summary) {
		/* A listing put a summary back in between: once more. */
		cache_val_unref(*out);
		cache_expire(p->cache, key);
		rc = model_fetch_item(p, c, id, out, ch);
	}
	return rc;
}

static void buf_destroy(void *data)
{
	buf_free(data);
	free(data);
}

struct show {
	struct project *p;
	const struct extra_ctx *x;
};

/* Runs the show hook for the cache: the bytes become the cached value. */
static int fetch_shown(void *arg, struct cache_val **out, int64_t *ttl_ms)
{
	struct show *f = arg;
	struct buf *b = malloc(sizeof(*b));
	int rc;

	(void)ttl_ms;
	if (!b)
		return -ENOMEM;
	buf_init(b, CFS_MAX_BODY);
	rc = f->x->extra->show(f->x, b);
	if (rc) {
		buf_destroy(b);
		return rc;
	}
	*out = cache_val_new(b, buf_destroy);
	if (!*out)
		buf_destroy(b);
	return *out ? 0 : -ENOMEM;
}

int model_get_shown(struct project *p, const struct extra_ctx *x, struct cache_val **out)
{
	struct show f = { p, x };
	char key[MODEL_ID_MAX + 64];

	model_extra_key(key, sizeof(key), x->coll, x->id, x->extra);
	return cache_get(p->cache, key, fetch_shown, &f, p->ttl_ms, 0, out);
}
