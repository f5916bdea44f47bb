/* SPDX-License-Identifier: MIT */
/*
 * Filesystem core, reading side. Layer: below fs.c, above cache and api.
 * Cache keys:
 *   "L:<collection>"       one full listing (struct listing, model_doc.c)
 *   "R:<collection>/<id>"  one member's document (struct cdoc)
 *   "X:<collection>/<id>/<extra>"  what a member extra shows (EXTRA_CACHED)
 *   "X:<collection>/<id>/@<below>" a GET below a member (extra_get())
 * A listing stores every member under its R: key too, so `ls -l` and a
 * `cat` of every member's status after it cost no further requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cloudfs/leftovers.h"
#include "cloudfs/transfers.h"
#include "cloudfs/clock.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "cloudfs/render.h"
#include "model_int.h"

/* A listing younger than this answers "no such id" without asking again;
 * an older one is double-checked with a GET of the id. */
#define MODEL_LISTING_TRUST_MS 1000

/* How long an unused mkdir alias is kept: mkdir's own lookup comes at once. */
#define MODEL_ALIAS_MS 2000

struct pending {
	char *path;
	char *alias_id; /* mkdir aliases: the id the name stands for */
	int64_t expires_ms; /* aliases only */
	/* Extended attributes set while the file is written (cp
	 * --preserve=xattr sets them before close): {name: value}, applied
	 * once the file is in the cloud (stream.c). */
	json_t *xattrs;
	struct pending *next;
};

static void pending_push(struct project *p, struct pending *q)
{
	pthread_mutex_lock(&p->pending_lock);
	q->next = p->pending;
	p->pending = q;
	pthread_mutex_unlock(&p->pending_lock);
}

static void pending_free(struct pending *q)
{
	free(q->path);
	free(q->alias_id);
	json_decref(q->xattrs);
	free(q);
}

int model_project_init(struct project *p, struct session *sess, int64_t ttl_ms, int64_t neg_ttl_ms)
{
	memset(p, 0, sizeof(*p));
	p->sess = sess;
	p->cache = cache_new();
	if (!p->cache)
		return -ENOMEM;
	p->ttl_ms = ttl_ms;
	p->neg_ttl_ms = neg_ttl_ms;
	p->mount_time_s = clock_wall_s();
	p->uid = getuid();
	p->gid = getgid();
	pthread_mutex_init(&p->pending_lock, NULL);
	pthread_mutex_init(&p->memo_lock, NULL);
	p->transfers = transfers_new();
	if (!p->transfers || waits_new(&p->waits))
		return -ENOMEM;
	return leftovers_new(p, &p->leftovers);
}

int model_project_add_projects(struct project *p)
{
	return projects_new(p, &p->set);
}

void model_project_cleanup(struct project *p)
{
	projects_free(p->set);
	p->set = NULL;
	if (!p->cache)
		return;
	leftovers_free(p->leftovers);
	p->leftovers = NULL;
	model_waits_stop(p);
	waits_free(p->waits);
	p->waits = NULL;
	transfers_free(p->transfers);
	p->transfers = NULL;
	cache_free(p->cache);
	p->cache = NULL;
	while (p->pending) {
		struct pending *next = p->pending->next;

		pending_free(p->pending);
		p->pending = next;
	}
	model_tree_cleanup(p);
	pthread_mutex_destroy(&p->pending_lock);
	for (size_t i = 0; i < MODEL_MEMO_SIZE; i++) {
		cache_val_unref(p->memo[i].from);
		cache_val_unref(p->memo[i].parsed);
	}
	pthread_mutex_destroy(&p->memo_lock);
}

void model_notify(struct project *p, const char *path)
{
	if (p->notify)
		p->notify(p->notify_ctx, path, MODEL_NOTIFY_ENTRY);
}

void model_notify_later(struct project *p, const char *path)
{
	if (p->notify)
		p->notify(p->notify_ctx, path, MODEL_NOTIFY_ENTRY_LATER);
}

void model_notify_attr(struct project *p, const char *path)
{
	if (p->notify)
		p->notify(p->notify_ctx, path, MODEL_NOTIFY_ATTR);
}

/* ---- fetching --------------------------------------------------------- */

int64_t model_doc_ttl(const struct project *p, const struct collection_def *c, const json_t *doc)
{
	/* The collection says when a member is on its way somewhere else. */
	if (c->busy && c->busy(doc))
		return p->ttl_ms < MODEL_BUSY_TTL_MS ? p->ttl_ms : MODEL_BUSY_TTL_MS;
	return p->ttl_ms;
}

void model_forget_singletons(struct project *p)
{
	const char *own = auth_project_id(p->sess->auth);

	for (const struct collection_def *c = collection_next(NULL); own && c;
	     c = collection_next(c))
		if (c->singleton)
			model_forget(p, c, own);
}

void model_forget(struct project *p, const struct collection_def *c, const char *id)
{
	char key[MODEL_ID_MAX + 64];

	/* Expired, not dropped: the refetch compares with what we knew and
	 * tells the kernel what changed (an old name, sizes). */
	model_res_key(key, sizeof(key), "L", c, NULL);
	cache_expire(p->cache, key);
	if (!id)
		return;
	model_res_key(key, sizeof(key), "R", c, id);
	cache_expire(p->cache, key);
	/* What extra_get() fetched below the member. */
	model_res_key(key, sizeof(key), "X", c, id);
	strncat(key, "/@", sizeof(key) - strlen(key) - 1);
	cache_expire_prefix(p->cache, key);
	for (const struct member_extra *e = c->extras; e && e->name; e++) {
		if (!(e->flags & EXTRA_CACHED))
			continue;
		model_extra_key(key, sizeof(key), c, id, e);
		cache_expire(p->cache, key);
	}
}

/*
 * Looks @name up in a listing (@is_file: @name is a file name, for a name
 * holding a NUL byte; it is no id): a member id → *res; a name carried by
 * exactly one member (and no id) → *link (the id). -ENODATA when the
 * member is listed but its listed state is too old; -ENOENT otherwise, and
 * *nnamed says how many members carry the name.
 */
static int scan_listing(struct project *p, const struct collection_def *c,
			const struct cache_val *listing, const char *name, bool is_file,
			struct cache_val **res, char **link, size_t *nnamed)
{
	const struct listing *l = listing->data;
	const struct cdoc *named = NULL;
	char key[MODEL_ID_MAX + 64];
	/* Names are kept as file names (struct cdoc): compare those. */
	char *file = is_file || !*name ? NULL : names_encode(name);
	const char *want = is_file ? name : file;
	int rc = -ENOENT;

	*nnamed = 0;
	if (!is_file && *name && !file)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const struct cdoc *d = l->m[i]->data;

		if (!is_file && !strcmp(d->id, name)) {
			/* A member that was changing state when listed is
			 * re-read once its own, shorter, lifetime is over. */
			if (clock_now_ms() - listing->fetched_ms >= d->ttl_ms) {
				rc = -ENODATA;
				goto out;
			}
			*res = cache_val_ref(l->m[i]);
			model_res_key(key, sizeof(key), "R", c, d->id);
			cache_put(p->cache, key, *res, d->ttl_ms);
			rc = 0;
			goto out;
		}
		if (c->name_links && d->name && want && !strcmp(d->name, want)) {
			named = d;
			(*nnamed)++;
		}
	}
	if (*nnamed == 1) {
		*link = strdup(named->id);
		rc = *link ? 0 : -ENOMEM;
	}
out:
	free(file);
	return rc;
}

/* The live cached document of @c's member *@name (a mkdir's name leads to
 * its id, in @alias), as cache_lookup() answers: -ENODATA when not cached
 * or expired. */
static int cached_member(struct project *p, const struct collection_def *c, const char **name,
			 char alias[MODEL_ID_MAX], struct cache_val **res)
{
	char key[MODEL_ID_MAX + 64];

	if (strlen(*name) >= MODEL_ID_MAX)
		return -ENOENT;
	if (model_alias_get(p, c, *name, alias, MODEL_ID_MAX))
		*name = alias;
	model_res_key(key, sizeof(key), "R", c, *name);
	return cache_lookup(p->cache, key, res);
}

/* Resolves /<collection>/<name> to a cached resource (a cdoc value) or,
 * by name, to its id (@is_file: @name is the file name of a name holding a
 * NUL byte, found through the listing alone). */
static int resolve_cached(struct project *p, const struct collection_def *c, const char *name,
			  bool is_file, struct cache_val **res, char **link, size_t *nnamed)
{
	struct cache_val *listing = NULL;
	char lkey[96], alias[MODEL_ID_MAX];
	bool uuid;
	int rc;

	*nnamed = 0;
	rc = is_file ? -ENODATA : cached_member(p, c, &name, alias, res);
	if (rc != -ENODATA)
		return rc;
	if (c->singleton) /* one document, by the project's id */
		return model_get_item(p, c, name, res);
	uuid = !is_file && c->uuid_ids && names_is_uuid(name);
	model_res_key(lkey, sizeof(lkey), "L", c, NULL);
	rc = cache_lookup(p->cache, lkey, &listing);
	if (rc == -ENODATA && !uuid)
		rc = model_get_listing(p, c, &listing);
	if (!rc) {
		rc = scan_listing(p, c, listing, name, is_file, res, link, nnamed);
		/* Not in an older listing: it may be newer than the listing. */
		if (rc == -ENOENT && uuid &&
		    clock_now_ms() - listing->fetched_ms >= MODEL_LISTING_TRUST_MS)
			rc = -ENODATA;
		cache_val_unref(listing);
		if (rc != -ENODATA)
			return rc;
		if (!uuid) {
			/* No GET by id for these: list again. */
			model_forget(p, c, NULL);
			rc = model_get_listing(p, c, &listing);
			if (rc)
				return rc;
			rc = scan_listing(p, c, listing, name, is_file, res, link, nnamed);
			cache_val_unref(listing);
			return rc == -ENODATA ? -ENOENT : rc;
		}
	} else if (rc != -ENODATA) {
		return rc;
	}
	if (!uuid)
		return -ENOENT;
	return model_get_item(p, c, name, res);
}

/* resolve_cached(), with the resource's document parsed into *res, or
 * @given's (its cached text, from model_source()) parsed; *source (may be
 * NULL) is the text's serial. */
static int resolve_entry(struct project *p, const struct collection_def *c, const char *name,
			 bool is_file, struct cache_val *given, struct cache_val **res,
			 uint64_t *source, char **link, size_t *nnamed, bool *summary)
{
	struct cache_val *dv = given ? cache_val_ref(given) : NULL;
	int rc = given ? 0 : resolve_cached(p, c, name, is_file, &dv, link, nnamed);

	*res = NULL;
	if (rc || !dv)
		return rc;
	if (source)
		*source = dv->serial;
	if (summary)
		*summary = ((const struct cdoc *)dv->data)->summary;
	rc = model_doc_parse(p, dv, res);
	cache_val_unref(dv);
	return rc;
}

int model_name_count(struct project *p, const struct collection_def *c, const char *name, size_t *n)
{
	struct cache_val *res = NULL;
	char *link = NULL;
	int rc = resolve_cached(p, c, name, false, &res, &link, n);

	if (!rc)
		*n = 1; /* an id, or the one member carrying the name */
	cache_val_unref(res);
	free(link);
	return rc == -ENOENT ? 0 : rc;
}

int model_find_ref(void *arg, const struct collection_def *c, const char *ref, char **id, char *err,
		   size_t errlen)
{
	struct project *p = arg;
	struct cache_val *res = NULL;
	char *link = NULL, buf[MODEL_ID_MAX];
	size_t nnamed;
	int rc;

	rc = resolve_entry(p, c, ref, false, NULL, &res, NULL, &link, &nnamed, NULL);
	if (!rc && res) {
		rc = render_id(res->data, c->id_field, buf, sizeof(buf)) ? 0 : -EIO;
		*id = rc ? NULL : strdup(buf);
		cache_val_unref(res);
		return rc ? rc : (*id ? 0 : -ENOMEM);
	}
	if (!rc) {
		*id = link;
		return 0;
	}
	if (nnamed > 1)
		snprintf(err, errlen, "%s name '%s' is ambiguous: %zu %s carry it; use the id",
			 c->name, ref, nnamed, c->name);
	else if (rc == -ENOENT)
		snprintf(err, errlen, "no %s with id or name '%s'", c->name, ref);
	else
		snprintf(err, errlen, "cannot look up %s '%s': %s", c->name, ref, strerror(-rc));
	return rc == -ENOENT || nnamed > 1 ? -EINVAL : rc;
}

/* ---- pending files ---------------------------------------------------- */

bool model_pending_has(struct project *p, const char *path)
{
	bool found = false;

	pthread_mutex_lock(&p->pending_lock);
	for (struct pending *q = p->pending; q && !found; q = q->next)
		found = !q->alias_id && !strcmp(q->path, path);
	pthread_mutex_unlock(&p->pending_lock);
	return found;
}

int model_pending_setxattr(struct project *p, const char *path, const char *name, const char *value,
			   size_t len)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&p->pending_lock);
	for (struct pending *q = p->pending; q && rc == -ENOENT; q = q->next) {
		if (q->alias_id || strcmp(q->path, path))
			continue;
		if (!q->xattrs && !(q->xattrs = json_object())) {
			rc = -ENOMEM;
		} else if (!value) {
			rc = json_object_del(q->xattrs, name) ? -ENODATA : 0;
		} else {
			json_t *v = json_stringn(value, len);

			/* Not UTF-8: no value the cloud's headers take. */
			rc = !v ? -EINVAL : json_object_set_new(q->xattrs, name, v) ? -ENOMEM : 0;
		}
	}
	pthread_mutex_unlock(&p->pending_lock);
	return rc;
}

json_t *model_pending_take_xattrs(struct project *p, const char *path)
{
	json_t *out = NULL;

	pthread_mutex_lock(&p->pending_lock);
	for (struct pending *q = p->pending; q && !out; q = q->next)
		if (!q->alias_id && !strcmp(q->path, path)) {
			out = q->xattrs;
			q->xattrs = NULL;
		}
	pthread_mutex_unlock(&p->pending_lock);
	return out;
}

int model_pending_add(struct project *p, const char *path)
{
	struct pending *q = calloc(1, sizeof(*q));
	int rc = 0;

	if (!q || !(q->path = strdup(path))) {
		free(q);
		return -ENOMEM;
	}
	/* Checked and added under one lock: of two writers racing to create
	 * one name, exactly one gets the file (and makes the one POST). */
	pthread_mutex_lock(&p->pending_lock);
	for (struct pending *e = p->pending; e && !rc; e = e->next)
		if (!e->alias_id && !strcmp(e->path, path))
			rc = -EEXIST;
	if (!rc) {
		q->next = p->pending;
		p->pending = q;
	}
	pthread_mutex_unlock(&p->pending_lock);
	if (rc)
		pending_free(q);
	return rc;
}

void model_done_in(struct project *p, const char *path)
{
	model_notify(p, path);
	pthread_mutex_lock(&p->pending_lock);
	for (struct pending **q = &p->pending; *q; q = &(*q)->next) {
		if (!(*q)->alias_id && !strcmp((*q)->path, path)) {
			struct pending *dead = *q;

			*q = dead->next;
			pending_free(dead);
			break;
		}
	}
	pthread_mutex_unlock(&p->pending_lock);
}

int model_alias_add(struct project *p, const struct collection_def *c, const char *name,
		    const char *id)
{
	struct pending *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	if (asprintf(&q->path, "%s/%s", c->name, name) < 0) {
		free(q);
		return -ENOMEM;
	}
	q->alias_id = strdup(id);
	if (!q->alias_id) {
		pending_free(q);
		return -ENOMEM;
	}
	q->expires_ms = clock_now_ms() + MODEL_ALIAS_MS;
	pending_push(p, q);
	return 0;
}

bool model_alias_get(struct project *p, const struct collection_def *c, const char *name, char *id,
		     size_t idlen)
{
	size_t n = strlen(c->name);
	int64_t now = clock_now_ms();
	bool found = false;

	pthread_mutex_lock(&p->pending_lock);
	for (struct pending **q = &p->pending; *q;) {
		struct pending *e = *q;

		bool match = e->alias_id && !strncmp(e->path, c->name, n) && e->path[n] == '/' &&
			     !strcmp(e->path + n + 1, name);

		if (match) {
			snprintf(id, idlen, "%s", e->alias_id);
			found = true;
		}
		/* Used (only mkdir's own reply needs it) or expired: gone. */
		if (match || (e->alias_id && e->expires_ms <= now)) {
			*q = e->next;
			pending_free(e);
			continue;
		}
		q = &e->next;
	}
	pthread_mutex_unlock(&p->pending_lock);
	return found;
}

/* ---- resolution ------------------------------------------------------- */

void model_node_release(struct node *n)
{
	tree_path_free(&n->tp);
	cache_val_unref(n->res);
	free(n->link);
	free(n->tpath);
	memset(n, 0, sizeof(*n));
}

/* The EXTRA_ON_KEY extra whose object holds @attrs/@n (n > 1), or NULL. */
static const struct member_extra *on_key_extra(const struct collection_def *c, char *const *attrs,
					       size_t n)
{
	const struct member_extra *e = n ? extra_find(c, attrs[0]) : NULL;

	return e && (e->flags & EXTRA_ON_KEY) ? e : NULL;
}

/* Attribute @attrs/@n of a resource can be written (keys of a writable
 * EXTRA_ON_KEY object too). */
static bool is_writable_attr(const struct collection_def *c, char *const *attrs, size_t n)
{
	const struct member_extra *e = on_key_extra(c, attrs, n);

	if (e && n == 2)
		return e->store != NULL;
	if (c->writable_leaf && n == 2 && !strcmp(attrs[1], c->writable_leaf))
		return true;
	if (n != 1 || !c->writable)
		return false;
	for (const char *const *w = c->writable; *w; w++)
		if (!strcmp(*w, attrs[0]))
			return true;
	return false;
}

/* A file can be created at @attrs/@n: a writable key, or a file of an
 * extra directory that stores. */
static bool can_create_attr(const struct collection_def *c, char *const *attrs, size_t n)
{
	const struct member_extra *e = n > 1 ? extra_find(c, attrs[0]) : NULL;

	if (e && !(e->flags & EXTRA_ON_KEY))
		return e->kind == EXTRA_DIR && e->store;
	return is_writable_attr(c, attrs, n);
}

/* The mode bits of the JSON value @v at @attrs/@n: the one rule for
 * lookups and directory listings alike. */
static mode_t value_perm(const struct collection_def *c, char *const *attrs, size_t n,
			 const json_t *v)
{
	const struct member_extra *e = on_key_extra(c, attrs, n);

	if (json_is_object(v))
		return e && n == 1 ? (mode_t)e->mode : 0555;
	return is_writable_attr(c, attrs, n) ? 0644 : 0444;
}

static mode_t collection_perm(const struct collection_def *c)
{
	return c->can_create || c->upload || c->mkdir_creates ? 0755 : 0555;
}

void model_extra_ctx(struct project *p, const struct node *n, struct extra_ctx *x)
{
	*x = (struct extra_ctx){
		.project = p,
		.coll = n->tp.coll,
		.extra = n->extra,
		.id = n->id,
		.doc = n->res->data,
		.sub = n->tp.attrs + 1,
		.nsub = n->tp.nattrs ? n->tp.nattrs - 1 : 0,
	};
}

/* The file every member of a collection with a lifecycle has: reading it
 * waits until the member settles (waits.c). Like a name link it is not
 * listed, so that nothing that walks the tree (find, grep -r, rsync, cp -r)
 * blocks on it: it is read by its name. */
#define MODEL_WAIT_FILE "wait"

static bool has_wait(const struct collection_def *c)
{
	return c->busy && c->status_field;
}

/* The extra called @name that stands in place of a JSON key of that name
 * (any but EXTRA_ON_KEY, which is that key), or NULL. */
static const struct member_extra *shadowing_extra(const struct collection_def *c, const char *name)
{
	const struct member_extra *e = extra_find(c, name);

	return e && !(e->flags & EXTRA_ON_KEY) ? e : NULL;
}

/* Files, directories and links that are not JSON keys: the member extras
 * of the collection (service.h), the entries below a directory one, and
 * the wait file. */
static int resolve_extra(struct project *p, const struct collection_def *c, struct node *n)
{
	const struct member_extra *e = extra_find(c, n->tp.attrs[0]);
	struct extra_entry ent = { .kind = EXTRA_FILE };
	struct extra_ctx x;
	int rc;

	if (!e && has_wait(c) && n->tp.nattrs == 1 && !strcmp(n->tp.attrs[0], MODEL_WAIT_FILE)) {
		n->wait = true;
		n->type = NODE_FILE;
		n->perm = 0444;
		return 0;
	}
	if (!e || (e->flags & EXTRA_ON_KEY))
		return -ENOENT;
	n->extra = e;
	n->perm = e->mode;
	model_extra_ctx(p, n, &x);
	if (n->tp.nattrs == 1) {
		ent.kind = e->kind;
		if (e->kind == EXTRA_LINK)
			rc = e->target ? e->target(&x, &ent.link) : -EIO;
		else
			rc = 0;
	} else {
		if (e->kind != EXTRA_DIR || !e->lookup)
			return -ENOENT;
		rc = e->lookup(&x, &ent);
	}
	if (rc) {
		free(ent.link);
		n->extra = NULL;
		return rc;
	}
	n->type = ent.kind == EXTRA_DIR ? NODE_DIR : ent.kind == EXTRA_LINK ? NODE_LINK : NODE_FILE;
	n->link = ent.link;
	/* An entry below the extra: its own mode, or the defaults. */
	if (n->tp.nattrs > 1 && ent.mode)
		n->perm = ent.mode;
	else if (n->tp.nattrs > 1 && n->type == NODE_FILE)
		n->perm = e->store ? 0644 : 0444;
	if (n->type == NODE_LINK && !n->link)
		return -EIO;
	return 0;
}

/* @n's document, a summary, becomes the member's full one (one GET, cached). */
static int node_full(struct project *p, struct node *n)
{
	struct cache_val *dv = NULL, *res = NULL;
	int rc = model_get_full(p, n->tp.coll, n->id, &dv);

	if (!rc)
		rc = model_doc_parse(p, dv, &res);
	if (!rc) {
		cache_val_unref(n->res);
		n->res = res;
		n->source = dv->serial;
		n->summary = false;
		n->mtime_s = render_mtime(res->data, n->tp.coll->mtime_fields, p->mount_time_s);
	}
	cache_val_unref(dv);
	return rc;
}

/* model_resolve(), or with @given as the resource's cached text. */
/* The id a singleton (a document about the project) is fetched by, or
 * the path's entry for any other collection. */
static const char *entry_id(const struct project *p, const struct tree_path *tp)
{
	const char *own;

	if (!tp->coll || !tp->coll->singleton)
		return tp->entry;
	own = auth_project_id(p->sess->auth);
	return own ? own : "";
}

/* Some collection of group @group has an endpoint. */
static bool group_served(const struct project *p, const char *group)
{
	for (const struct collection_def *c = collection_next(NULL); c; c = collection_next(c))
		if (c->group && !strcmp(c->group, group) && session_endpoint(p->sess, c->service))
			return true;
	return false;
}

/* projects/<file>: a project's directory, or a name's link to its id. */
static int resolve_project(struct project *p, struct node *n)
{
	char *id = NULL;
	int rc = projects_lookup(p, n->tp.entry, &id, &n->link);

	free(id);
	if (rc)
		return rc;
	if (n->link)
		n->type = NODE_LINK;
	return 0;
}

static int resolve(struct project *p, const char *path, struct cache_val *given, struct node *n)
{
	const struct collection_def *c;
	const json_t *doc;
	size_t nnamed;
	bool notdir = false;
	int rc;

	memset(n, 0, sizeof(*n));
	rc = tree_parse(path, &n->tp);
	if (rc)
		return rc;
	n->type = NODE_DIR;
	n->perm = 0555;
	n->mtime_s = p->mount_time_s;
	c = n->tp.coll;
	switch (n->tp.kind) {
	case TREE_ROOT:
	case TREE_CTL_DIR_NODE:
		return 0;
	case TREE_GROUP:
		rc = group_served(p, n->tp.group) ? 0 : -ENOENT;
		goto out;
	case TREE_PROJECTS:
		rc = p->set ? 0 : -ENOENT;
		goto out;
	case TREE_PROJECT:
		rc = p->set ? resolve_project(p, n) : -ENOENT;
		goto out;
	case TREE_REGIONS:
		rc = p->set ? 0 : -ENOENT;
		goto out;
	case TREE_REGION: {
		char *region = NULL;

		rc = p->set ? regions_lookup(p, n->tp.entry, &region) : -ENOENT;
		free(region);
		goto out;
	}
	case TREE_CTL_FILE:
		n->ctl = model_ctl_find(n->tp.ctl);
		n->type = NODE_FILE;
		rc = n->ctl && (!n->ctl->shown || n->ctl->shown(p)) ? 0 : -ENOENT;
		if (n->ctl)
			n->perm = n->ctl->mode;
		goto out;
	case TREE_COLLECTION:
		n->perm = collection_perm(c);
		rc = session_endpoint(p->sess, c->service) ? 0 : -ENOENT;
		goto out;
	case TREE_ENTRY:
	case TREE_ATTR:
		break;
	}
	if (!session_endpoint(p->sess, c->service)) {
		rc = -ENOENT;
		goto out;
	}
	/* A file being written stays a file until it is closed, even once
	 * the cloud has the resource: the kernel holds it as one. */
	if (n->tp.kind == TREE_ENTRY && model_pending_has(p, path)) {
		n->type = NODE_FILE;
		n->pending = true;
		n->perm = 0644;
		goto out;
	}
	rc = resolve_entry(p, c, entry_id(p, &n->tp), n->tp.entry_is_file, given, &n->res,
			   &n->source, &n->link, &nnamed, &n->summary);
	if (!rc && n->link && n->tp.kind != TREE_ENTRY) {
		/* The kernel walks through a name only while it holds it as a
		 * directory: the one mkdir answered with, until the notifier
		 * has made it forget. Below it are the id's files. */
		char *id = n->link;

		n->link = NULL;
		rc = resolve_entry(p, c, id, false, NULL, &n->res, &n->source, &n->link, &nnamed,
				   &n->summary);
		free(id);
		if (!rc && n->link)
			rc = -ENOTDIR;
	}
	if (rc)
		goto out;
	if (n->link) {
		char *enc = names_encode(n->link);

		free(n->link);
		n->link = enc;
		n->type = NODE_LINK;
		rc = !enc ? -ENOMEM : n->tp.kind == TREE_ENTRY ? 0 : -ENOTDIR;
		goto out;
	}
	doc = n->res->data;
	if (c->singleton)
		snprintf(n->id, sizeof(n->id), "%s", entry_id(p, &n->tp));
	else
		render_id(doc, c->id_field, n->id, sizeof(n->id));
	n->mtime_s = render_mtime(doc, c->mtime_fields, p->mount_time_s);
	n->perm = c->singleton ? 0555 : 0755;
	if (n->tp.kind == TREE_ENTRY)
		goto out;
	if (model_tree_is(c, &n->tp)) {
		rc = model_tree_resolve(p, n);
		/* A file being written is one until it is closed. */
		if (rc == -ENOENT && model_pending_has(p, path)) {
			n->type = NODE_FILE;
			n->pending = true;
			n->perm = 0644;
			rc = 0;
		}
		goto out;
	}
	/* A summary answers the files it has; the rest is the member's GET. */
	if (n->summary &&
	    (!strcmp(n->tp.attrs[0], MODEL_DOC_FILE) || !json_object_get(doc, n->tp.attrs[0]))) {
		rc = node_full(p, n);
		if (rc)
			goto out;
		doc = n->res->data;
	}
	if (n->tp.nattrs == 1 && !strcmp(n->tp.attrs[0], MODEL_DOC_FILE)) {
		n->is_doc = true;
		n->type = NODE_FILE;
		n->perm = 0444;
		goto out;
	}
	/* An extra wins over a JSON key of its name, as "json" does (Heat's
	 * outputs: a list in the document, a directory of values as an extra). */
	n->value = shadowing_extra(c, n->tp.attrs[0])
			   ? NULL
			   : render_walk(doc, n->tp.attrs, n->tp.nattrs, &notdir);
	if (!n->value) {
		rc = notdir ? -ENOTDIR : resolve_extra(p, c, n);
		if (rc == -ENOENT && can_create_attr(c, n->tp.attrs, n->tp.nattrs) &&
		    model_pending_has(p, path)) {
			n->type = NODE_FILE;
			n->pending = true;
			n->perm = 0644;
			rc = 0;
		}
		goto out;
	}
	n->type = json_is_object(n->value) ? NODE_DIR : NODE_FILE;
	n->perm = value_perm(c, n->tp.attrs, n->tp.nattrs, n->value);
out:
	if (rc)
		model_node_release(n);
	return rc;
}

int model_resolve(struct project *p, const char *path, struct node *n)
{
	return resolve(p, path, NULL, n);
}

int model_source_in(struct project *p, const char *path, struct cache_val **text)
{
	struct tree_path tp;
	char alias[MODEL_ID_MAX];
	const char *name;
	int rc = tree_parse(path, &tp);

	*text = NULL;
	if (rc)
		return rc;
	name = tp.coll ? entry_id(p, &tp) : tp.entry;
	rc = -ENODATA;
	/* resolve_cached()'s first step, never its fetches */
	if (tp.kind == TREE_ATTR && !tp.entry_is_file &&
	    session_endpoint(p->sess, tp.coll->service) &&
	    cached_member(p, tp.coll, &name, alias, text) == 0)
		rc = 0;
	tree_path_free(&tp);
	return rc;
}

/* ---- contents --------------------------------------------------------- */

/* What an extra's file shows: through the cache when the extra says so. */
static int extra_contents(struct project *p, const struct node *n, struct buf *out)
{
	const struct member_extra *e = n->extra;
	const struct buf *b;
	struct cache_val *v;
	struct extra_ctx x;
	int rc;

	if (e->flags & EXTRA_STREAM)
		return -EOPNOTSUPP; /* streamed (stream.c), never snapshotted */
	if (!e->show)
		return 0;
	model_extra_ctx(p, n, &x);
	if (!(e->flags & EXTRA_CACHED) || x.nsub)
		return e->show(&x, out);
	rc = model_get_shown(p, &x, &v);
	if (rc)
		return rc;
	b = v->data;
	rc = buf_add(out, b->data, b->len);
	cache_val_unref(v);
	return rc;
}

static int node_contents(struct project *p, const struct node *n, struct buf *out)
{
	if (n->ctl)
		return n->ctl->render ? n->ctl->render(p, out) : 0;
	if (n->is_doc)
		return render_document(n->res->data, out);
	if (n->wait)
		return -EINPROGRESS; /* answered by model_wait_start() */
	if (n->tree)
		return -EOPNOTSUPP; /* streamed (stream.c), never snapshotted */
	if (n->extra)
		return extra_contents(p, n, out);
	if (n->pending)
		return 0;
	return render_value(n->value, out);
}

uint64_t model_version(const void *data, size_t len)
{
	return cfs_fnv1a(data, len) | 1; /* 0 means "no version" */
}

/* Read-only files rendered from documents get a version (see model.h). */
static bool is_versioned(const struct node *n)
{
	return !n->ctl && !n->extra && !n->pending && !n->wait && !n->tree && !(n->perm & 0222);
}

static int node_stat(struct project *p, const struct node *n, struct stat *st,
		     struct model_seen *seen)
{
	struct buf b;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	st->st_uid = p->uid;
	st->st_gid = p->gid;
	st->st_mtime = st->st_ctime = st->st_atime = (time_t)n->mtime_s;
	switch (n->type) {
	case NODE_DIR:
		st->st_mode = S_IFDIR | n->perm;
		st->st_nlink = 2;
		break;
	case NODE_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(n->link);
		break;
	case NODE_FILE:
		st->st_mode = S_IFREG | n->perm;
		st->st_nlink = 1;
		if (n->tree) {
			st->st_size = (off_t)n->size;
			break;
		}
		if (n->extra && n->extra->size) {
			struct extra_ctx x;
			int64_t size = 0;

			model_extra_ctx(p, n, &x);
			rc = n->extra->size(&x, &size);
			st->st_size = (off_t)size;
			break;
		}
		/* A settled member's wait answers at once: its size is that
		 * answer's. A busy one's answer is not known yet (0, as a /proc
		 * file's: read it to EOF). */
		if (n->wait) {
			st->st_size = (off_t)model_wait_size(n->tp.coll, n->res->data);
			break;
		}
		if (n->pending || (n->extra && !n->extra->show))
			break;
		buf_init(&b, CFS_MAX_BODY);
		rc = node_contents(p, n, &b);
		st->st_size = (off_t)b.len;
		if (!rc && is_versioned(n)) {
			st->st_ino = (ino_t)model_version(b.data, b.len);
			if (seen) {
				seen->source = n->source;
				seen->len = b.len;
				seen->small = b.len <= sizeof(seen->bytes);
				if (seen->small && b.len)
					memcpy(seen->bytes, b.data, b.len);
			}
		}
		buf_free(&b);
		break;
	}
	st->st_blocks = (st->st_size + 511) / 512;
	/* Tools size their buffers from st_blksize: image data moves in
	 * 1 MiB pieces (the kernel's largest FUSE request), not 4 KiB ones. */
	st->st_blksize = n->pending || (n->tree && n->type == NODE_FILE) ||
					 (n->extra && (n->extra->flags & EXTRA_STREAM))
				 ? 1 << 20
				 : 4096;
	return rc;
}

int model_getattr_in(struct project *p, const char *path, struct stat *st, struct model_seen *seen)
{
	struct node n;
	int rc;

	if (seen)
		memset(seen, 0, sizeof(*seen));
	rc = model_resolve(p, path, &n);
	if (rc)
		return rc;
	rc = node_stat(p, &n, st, seen);
	model_node_release(&n);
	return rc;
}

int model_readlink_in(struct project *p, const char *path, char *buf, size_t size)
{
	struct node n;
	int rc = model_resolve(p, path, &n);

	if (rc)
		return rc;
	if (n.type != NODE_LINK)
		rc = -EINVAL;
	else
		snprintf(buf, size, "%s", n.link);
	model_node_release(&n);
	return rc;
}

static int read_node(struct project *p, const char *path, struct cache_val *given, struct buf *out,
		     uint64_t *source)
{
	struct node n;
	int rc = resolve(p, path, given, &n);

	if (rc)
		return rc;
	rc = n.type == NODE_FILE ? node_contents(p, &n, out) : -EISDIR;
	if (source)
		*source = n.source;
	model_node_release(&n);
	return rc;
}

int model_read_in(struct project *p, const char *path, struct buf *out, uint64_t *source)
{
	return read_node(p, path, NULL, out, source);
}

int model_read_from_in(struct project *p, const char *path, struct cache_val *text, struct buf *out)
{
	return read_node(p, path, text, out, NULL);
}

int model_open_in(struct project *p, const char *path, int flags)
{
	struct node n;
	int rc = model_resolve(p, path, &n);
	bool writing = (flags & O_ACCMODE) != O_RDONLY;

	if (rc)
		return rc;
	if (n.type == NODE_DIR)
		rc = -EISDIR;
	else if (writing && !(n.perm & 0200))
		rc = -EACCES;
	else if (!writing && !(n.perm & 0400))
		rc = -EACCES;
	model_node_release(&n);
	return rc;
}

/* ---- directories ------------------------------------------------------ */

static void dir_stat(const struct project *p, struct stat *st, int64_t mtime_s, mode_t perm)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | perm;
	st->st_nlink = 2;
	st->st_uid = p->uid;
	st->st_gid = p->gid;
	st->st_mtime = st->st_ctime = st->st_atime = (time_t)mtime_s;
	st->st_blksize = 4096;
}

/* A filler's answer as a readdir result: > 0 stops the listing (the
 * caller has what it wants), -errno fails it (never a silent cut). */
static int fill_result(int rc)
{
	return rc < 0 ? rc : 0;
}

static int readdir_root(struct project *p, model_fill_fn fill, void *ctx)
{
	struct stat st;
	int rc;

	dir_stat(p, &st, p->mount_time_s, 0555);
	rc = fill(ctx, TREE_CTL_DIR, &st);
	for (const struct collection_def *c = collection_next(NULL); !rc && c;
	     c = collection_next(c)) {
		const struct collection_def *first;

		dir_stat(p, &st, p->mount_time_s, c->group ? 0555 : collection_perm(c));
		if (!c->group) {
			if (session_endpoint(p->sess, c->service))
				rc = fill(ctx, c->name, &st);
			continue;
		}
		/* A group once, where its first served row is. */
		for (first = collection_next(NULL); first; first = collection_next(first))
			if (first->group && !strcmp(first->group, c->group) &&
			    session_endpoint(p->sess, first->service))
				break;
		if (first == c)
			rc = fill(ctx, c->group, &st);
	}
	dir_stat(p, &st, p->mount_time_s, 0555);
	if (!rc && p->set)
		rc = fill(ctx, TREE_PROJECTS_DIR, &st);
	/* regions/ is reachable, not listed (as autofs's nobrowse): find and
	 * ls -R walk every project, but not every region again (one may be
	 * down, and each is the default project once more). */
	return fill_result(rc);
}

static int readdir_group(struct project *p, const char *group, model_fill_fn fill, void *ctx)
{
	struct stat st;
	int rc = 0;

	dir_stat(p, &st, p->mount_time_s, 0555);
	for (const struct collection_def *c = collection_next(NULL); !rc && c;
	     c = collection_next(c))
		if (c->group && !strcmp(c->group, group) && session_endpoint(p->sess, c->service))
			rc = fill(ctx, c->name, NULL); /* its stat is a fetch */
	return fill_result(rc);
}

struct projects_fill {
	struct project *p;
	model_fill_fn fill;
	void *ctx;
};

static int fill_project(void *arg, const char *file, const char *link)
{
	struct projects_fill *f = arg;
	struct stat st;

	dir_stat(f->p, &st, f->p->mount_time_s, 0555);
	if (link) {
		st.st_mode = S_IFLNK | 0777;
		st.st_nlink = 1;
		st.st_size = (off_t)strlen(link);
	}
	return f->fill(f->ctx, file, &st);
}

static int fill_region(void *arg, const char *file)
{
	struct projects_fill *f = arg;
	struct stat st;

	dir_stat(f->p, &st, f->p->mount_time_s, 0555);
	return f->fill(f->ctx, file, &st);
}

/* Every region of the catalog (a directory each). */
static int readdir_regions(struct project *p, model_fill_fn fill, void *ctx)
{
	struct projects_fill f = { p, fill, ctx };

	return fill_result(regions_each(p, fill_region, &f));
}

/* Every project's id (a directory), then the unique names (links). */
static int readdir_projects(struct project *p, model_fill_fn fill, void *ctx)
{
	struct projects_fill f = { p, fill, ctx };

	return fill_result(projects_each(p, fill_project, &f));
}

static int readdir_ctl(struct project *p, model_fill_fn fill, void *ctx)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < model_ctl_count; i++) {
		struct node n = { .type = NODE_FILE, .ctl = &model_ctl_files[i] };
		struct stat st;

		if (n.ctl->shown && !n.ctl->shown(p))
			continue;
		n.mtime_s = p->mount_time_s;
		n.perm = n.ctl->mode;
		rc = node_stat(p, &n, &st, NULL);
		if (!rc)
			rc = fill(ctx, n.ctl->name, &st);
	}
	return fill_result(rc);
}

/* fill() under @name encoded for a file name. */
static int fill_encoded(model_fill_fn fill, void *ctx, const char *name, const struct stat *st)
{
	char *file;
	int rc;

	/* A JSON key may be "": it has no file name, and the rest is listed. */
	if (!*name)
		return 0;
	file = names_encode(name);
	rc = file ? fill(ctx, file, st) : -ENOMEM;

	free(file);
	return rc;
}

static int readdir_collection(struct project *p, const struct collection_def *c, model_fill_fn fill,
			      void *ctx)
{
	struct cache_val *listing;
	const struct listing *l;
	int rc;

	rc = model_get_listing(p, c, &listing);
	if (rc)
		return rc;
	l = listing->data;
	for (size_t i = 0; !rc && i < l->n; i++) {
		const struct cdoc *d = l->m[i]->data;
		struct stat st;

		dir_stat(p, &st, d->mtime_s, 0755);
		rc = fill_encoded(fill, ctx, d->id, &st);
	}
	cache_val_unref(listing);
	return fill_result(rc);
}

struct extra_fill {
	struct project *p;
	const struct node *n;
	model_fill_fn fill;
	void *ctx;
};

/* An extra directory's entry, as the kernel sees it. */
static int fill_extra(void *arg, const char *name, enum extra_kind kind, const char *link)
{
	struct extra_fill *f = arg;
	struct stat st = { .st_nlink = 1 };

	st.st_uid = f->p->uid;
	st.st_gid = f->p->gid;
	st.st_mtime = (time_t)f->n->mtime_s;
	switch (kind) {
	case EXTRA_LINK:
		st.st_mode = S_IFLNK | 0777;
		st.st_size = link ? (off_t)strlen(link) : 0;
		break;
	case EXTRA_DIR:
		st.st_mode = S_IFDIR | f->n->extra->mode;
		st.st_nlink = 2;
		break;
	case EXTRA_FILE:
		/* Its size is known to a lookup. */
		return fill_encoded(f->fill, f->ctx, name, NULL);
	}
	return fill_encoded(f->fill, f->ctx, name, &st);
}

/* The entries of an extra directory, from its readdir hook. */
static int readdir_extra(struct project *p, const struct node *n, model_fill_fn fill, void *ctx)
{
	struct extra_fill f = { p, n, fill, ctx };
	struct extra_ctx x;

	if (!n->extra->readdir)
		return 0;
	model_extra_ctx(p, n, &x);
	return fill_result(n->extra->readdir(&x, fill_extra, &f));
}

/* Children of a resource directory or of an object inside it. */
static int readdir_object(struct project *p, const struct node *n, model_fill_fn fill, void *ctx)
{
	const json_t *obj = n->value ? n->value : n->res->data, *v;
	const struct collection_def *c = n->tp.coll;
	struct node child = { .res = n->res, .mtime_s = n->mtime_s, .tp = n->tp };
	const size_t nparent = n->value ? n->tp.nattrs : 0;
	const char *key;
	struct stat st;
	int rc = 0;

	if (nparent >= TREE_MAX_DEPTH)
		return -ENAMETOOLONG;
	if (!n->value) {
		const struct member_extra *e = c->extras;

		child.is_doc = true;
		child.type = NODE_FILE;
		child.perm = 0444;
		rc = node_stat(p, &child, &st, NULL);
		if (!rc)
			rc = fill(ctx, MODEL_DOC_FILE, &st);
		child.is_doc = false;
		render_id(n->res->data, c->id_field, child.id, sizeof(child.id));
		for (; !rc && e && e->name; e++) {
			struct node vn = child;
			char *attrs[1] = { (char *)e->name };

			if (e->flags & EXTRA_ON_KEY)
				continue; /* listed as the key it is */
			vn.tp.attrs[0] = attrs[0];
			vn.tp.nattrs = 1;
			if (resolve_extra(p, c, &vn))
				continue;
			/* A lazy extra is fetched on read, not to list a
			 * directory: its size is only known to a lookup. */
			if (!(e->flags & EXTRA_LAZY))
				rc = node_stat(p, &vn, &st, NULL);
			free(vn.link);
			if (!rc)
				rc = fill(ctx, e->name, (e->flags & EXTRA_LAZY) ? NULL : &st);
		}
	}
	json_object_foreach((json_t *)obj, key, v)
	{
		if (rc)
			break;
		/* The document file and the extras win over a top-level key of
		 * the same name. */
		if (!n->value && (!strcmp(key, MODEL_DOC_FILE) || shadowing_extra(c, key)))
			continue;
		child.value = v;
		child.type = json_is_object(v) ? NODE_DIR : NODE_FILE;
		child.tp.attrs[nparent] = (char *)key;
		child.perm = value_perm(c, child.tp.attrs, nparent + 1, v);
		rc = node_stat(p, &child, &st, NULL);
		if (!rc)
			rc = fill_encoded(fill, ctx, key, &st);
	}
	return fill_result(rc);
}

int model_readdir_in(struct project *p, const char *path, model_fill_fn fill, void *ctx)
{
	struct node n;
	int rc = model_resolve(p, path, &n);

	if (rc)
		return rc;
	if (n.type != NODE_DIR) {
		rc = -ENOTDIR;
		goto out;
	}
	switch (n.tp.kind) {
	case TREE_ROOT:
		rc = readdir_root(p, fill, ctx);
		break;
	case TREE_CTL_DIR_NODE:
		rc = readdir_ctl(p, fill, ctx);
		break;
	case TREE_GROUP:
		rc = readdir_group(p, n.tp.group, fill, ctx);
		break;
	case TREE_PROJECTS:
		rc = readdir_projects(p, fill, ctx);
		break;
	case TREE_REGIONS:
		rc = readdir_regions(p, fill, ctx);
		break;
	case TREE_COLLECTION:
		rc = readdir_collection(p, n.tp.coll, fill, ctx);
		break;
	default:
		if (n.tree) {
			rc = model_tree_readdir(p, &n, fill, ctx);
			break;
		}
		if (n.extra) {
			rc = readdir_extra(p, &n, fill, ctx);
			break;
		}
		/* A summary lists what it has: the member's own keys are its GET. */
		if (n.summary)
			rc = node_full(p, &n);
		if (!rc)
			rc = readdir_object(p, &n, fill, ctx);
		break;
	}
out:
	model_node_release(&n);
	return rc;
}

/* ---- df ---------------------------------------------------------------- */

int model_statfs_in(struct project *p, const char *path, struct statvfs *st)
{
	const struct space_def *sp;
	const struct collection_def *q;
	struct cache_val *dv = NULL, *doc = NULL;
	struct tree_path tp;
	const json_t *key, *limit, *used;
	const char *own = auth_project_id(p->sess->auth);
	unsigned long long per_block;
	int rc = tree_parse(path, &tp);

	if (rc)
		return rc;
	sp = tp.coll ? tp.coll->space : NULL;
	q = sp ? collection_find_in(sp->group, sp->coll) : NULL;
	if (!q || !own || !session_endpoint(p->sess, q->service))
		goto out;
	rc = model_get_item(p, q, own, &dv);
	if (!rc)
		rc = model_doc_parse(p, dv, &doc);
	if (rc)
		goto out;
	key = json_object_get(doc->data, sp->key);
	limit = json_object_get(key, sp->limit);
	used = json_object_get(key, sp->used);
	/* -1 is unlimited: no size to show */
	if (!json_is_integer(limit) || json_integer_value(limit) < 0 || !json_is_integer(used))
		goto out;
	per_block = sp->unit / st->f_frsize;
	st->f_blocks = (fsblkcnt_t)json_integer_value(limit) * per_block;
	st->f_bfree = json_integer_value(used) >= json_integer_value(limit)
			      ? 0
			      : (fsblkcnt_t)(json_integer_value(limit) - json_integer_value(used)) *
					per_block;
	st->f_bavail = st->f_bfree;
out:
	cache_val_unref(doc);
	cache_val_unref(dv);
	tree_path_free(&tp);
	return rc;
}
