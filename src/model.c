/* SPDX-License-Identifier: MIT */
/*
 * Filesystem core. Layer: below fs.c, above cache and api. Cache keys:
 *   "L:<collection>"       the member array of one full listing
 *   "R:<collection>/<id>"  one member's document
 * A listing stores every member under its R: key too, so `ls -l` and a
 * `cat` of every member's status after it cost no further requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudfs/clock.h"
#include "cloudfs/log.h"
#include "cloudfs/model.h"
#include "cloudfs/names.h"
#include "cloudfs/render.h"
#include "cloudfs/tree.h"

/* A listing younger than this answers "no such id" without asking again;
 * an older one is double-checked with a GET of the id. */
#define MODEL_LISTING_TRUST_MS 1000
#define MODEL_ID_MAX 256
#define MODEL_DOC_FILE "json"

enum node_type {
	NODE_DIR,
	NODE_FILE,
	NODE_LINK
};

struct ctl_def;

struct node {
	struct tree_path tp;
	enum node_type type;
	struct cache_val *res; /* the resource document, for entries and attrs */
	const json_t *value; /* attrs: borrowed from res */
	bool is_doc; /* the "json" file */
	char *link; /* NODE_LINK target */
	int64_t mtime_s;
	const struct ctl_def *ctl;
};

struct ctl_def {
	const char *name;
	mode_t mode;
	int (*render)(struct project *p, struct buf *out);
	int (*write)(struct project *p, const char *data, size_t len);
};

static void json_destroy(void *data)
{
	json_decref(data);
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
	return 0;
}

void model_project_cleanup(struct project *p)
{
	cache_free(p->cache);
	p->cache = NULL;
}

/* ---- control files ---------------------------------------------------- */

static int ctl_version(struct project *p, struct buf *out)
{
	(void)p;
	return buf_addstr(out, "cloudfs " CLOUDFS_VERSION "\n");
}

static int ctl_errors(struct project *p, struct buf *out)
{
	(void)p;
	return log_ring_render(out);
}

static int ctl_endpoints(struct project *p, struct buf *out)
{
	int rc = 0;

	for (int i = 0; i < SVC_COUNT && !rc; i++)
		rc = buf_addf(out, "%s %s\n", services[i].name,
			      p->sess->endpoint[i] ? p->sess->endpoint[i] : "-");
	return rc;
}

static int ctl_status(struct project *p, struct buf *out)
{
	const json_t *tok = json_object_get(auth_token_body(p->sess->auth), "token");
	const json_t *proj = json_object_get(tok, "project"), *user = json_object_get(tok, "user");
	struct cache_stats st;

	cache_get_stats(p->cache, &st);
	return buf_addf(out,
			"project %s (%s)\nuser %s\nauth_url %s\ncredentials %s\n"
			"token_expires_in_s %lld\ntokens_issued %u\n"
			"requests %lu\nfailed_requests %lu\n"
			"cache_ttl_ms %lld\nnegative_ttl_ms %lld\n"
			"cache_entries %lu\ncache_hits %lu\ncache_misses %lu\ncache_fetches %lu\n"
			"cache_coalesced %lu\n",
			json_string_value(json_object_get(proj, "name")),
			json_string_value(json_object_get(proj, "id")),
			json_string_value(json_object_get(user, "name")), p->sess->cfg->auth_url,
			p->sess->cfg->source ? p->sess->cfg->source : "-",
			(long long)auth_expires_in_s(p->sess->auth),
			auth_issued_count(p->sess->auth), atomic_load(&p->sess->requests),
			atomic_load(&p->sess->failures), (long long)p->ttl_ms,
			(long long)p->neg_ttl_ms, st.entries, st.hits, st.misses, st.fetches,
			st.coalesced);
}

static int ctl_project(struct project *p, struct buf *out)
{
	const json_t *tok = json_object_get(auth_token_body(p->sess->auth), "token");
	json_t *info =
		json_pack("{sOsOsO}", "project", json_object_get(tok, "project"), "user",
			  json_object_get(tok, "user"), "roles", json_object_get(tok, "roles"));
	int rc;

	if (!info)
		return -EIO;
	rc = render_document(info, out);
	json_decref(info);
	return rc;
}

/* "echo > refresh" forgets everything; "echo servers > refresh" one
 * collection. The next access asks the cloud again. */
static int ctl_refresh(struct project *p, const char *data, size_t len)
{
	char what[64];
	const struct collection_def *c;
	char prefix[96];

	while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
		len--;
	if (len >= sizeof(what))
		return -EINVAL;
	memcpy(what, data, len);
	what[len] = '\0';
	if (!len || !strcmp(what, "all")) {
		cache_clear(p->cache);
		log_info("cache cleared by request");
		return 0;
	}
	c = collection_find(what);
	if (!c)
		return -EINVAL;
	snprintf(prefix, sizeof(prefix), "L:%s", c->name);
	cache_invalidate(p->cache, prefix);
	snprintf(prefix, sizeof(prefix), "R:%s/", c->name);
	cache_invalidate_prefix(p->cache, prefix);
	return 0;
}

static const struct ctl_def ctl_files[] = {
	{ "version", 0444, ctl_version, NULL }, { "status", 0444, ctl_status, NULL },
	{ "errors", 0444, ctl_errors, NULL },	{ "endpoints", 0444, ctl_endpoints, NULL },
	{ "project", 0444, ctl_project, NULL }, { "refresh", 0200, NULL, ctl_refresh },
};

/* ---- fetching --------------------------------------------------------- */

struct fetch {
	struct project *p;
	const struct collection_def *c;
	const char *id;
};

static void res_key(char *key, size_t n, const struct collection_def *c, const char *id)
{
	snprintf(key, n, "R:%s/%s", c->name, id);
}

static int fetch_listing(void *arg, struct cache_val **out)
{
	struct fetch *f = arg;
	char id[MODEL_ID_MAX], key[MODEL_ID_MAX + 64];
	json_t *items, *m;
	size_t i;
	int rc;

	rc = api_list(f->p->sess, f->c, &items);
	if (rc)
		return rc;
	json_array_foreach(items, i, m)
	{
		struct cache_val *v;

		if (!render_id(m, f->c->id_field, id, sizeof(id)))
			continue;
		res_key(key, sizeof(key), f->c, id);
		v = cache_val_new(json_incref(m), json_destroy);
		if (!v || cache_put(f->p->cache, key, v, f->p->ttl_ms))
			rc = -ENOMEM;
		cache_val_unref(v);
		if (rc)
			break;
	}
	*out = rc ? NULL : cache_val_new(items, json_destroy);
	if (rc)
		json_decref(items);
	return rc ? rc : (*out ? 0 : -ENOMEM);
}

static int fetch_item(void *arg, struct cache_val **out)
{
	struct fetch *f = arg;
	json_t *doc;
	int rc;

	rc = api_get_item(f->p->sess, f->c, f->id, &doc);
	if (rc)
		return rc;
	*out = cache_val_new(doc, json_destroy);
	return *out ? 0 : -ENOMEM;
}

static int get_listing(struct project *p, const struct collection_def *c, struct cache_val **out)
{
	struct fetch f = { p, c, NULL };
	char key[96];

	snprintf(key, sizeof(key), "L:%s", c->name);
	return cache_get(p->cache, key, fetch_listing, &f, p->ttl_ms, 0, out);
}

/*
 * Looks @name up in a listing: a member id → *res; a name carried by
 * exactly one member (and no id) → *link. -ENOENT otherwise.
 */
static int scan_listing(struct project *p, const struct collection_def *c,
			const struct cache_val *listing, const char *name, struct cache_val **res,
			char **link)
{
	const json_t *items = listing->data, *m, *named = NULL;
	char id[MODEL_ID_MAX], key[MODEL_ID_MAX + 64];
	size_t i, nnamed = 0;

	json_array_foreach(items, i, m)
	{
		const char *n;

		if (render_id(m, c->id_field, id, sizeof(id)) && !strcmp(id, name)) {
			*res = cache_val_new(json_incref((json_t *)m), json_destroy);
			if (!*res)
				return -ENOMEM;
			res_key(key, sizeof(key), c, id);
			cache_put(p->cache, key, *res, p->ttl_ms);
			return 0;
		}
		n = json_string_value(json_object_get(m, "name"));
		if (c->name_links && n && !strcmp(n, name)) {
			named = m;
			nnamed++;
		}
	}
	if (nnamed != 1 || !render_id(named, c->id_field, id, sizeof(id)))
		return -ENOENT;
	*link = names_encode(id);
	return *link ? 0 : -ENOMEM;
}

/* Resolves /<collection>/<name> to a resource or a name link. */
static int resolve_entry(struct project *p, const struct collection_def *c, const char *name,
			 struct cache_val **res, char **link)
{
	struct fetch f = { p, c, name };
	struct cache_val *listing = NULL;
	char key[MODEL_ID_MAX + 64], lkey[96];
	bool uuid = c->uuid_ids && names_is_uuid(name);
	int rc;

	if (strlen(name) >= MODEL_ID_MAX)
		return -ENOENT;
	res_key(key, sizeof(key), c, name);
	rc = cache_lookup(p->cache, key, res);
	if (rc != -ENODATA)
		return rc;
	snprintf(lkey, sizeof(lkey), "L:%s", c->name);
	rc = cache_lookup(p->cache, lkey, &listing);
	if (rc == -ENODATA && !uuid)
		rc = get_listing(p, c, &listing);
	if (!rc) {
		rc = scan_listing(p, c, listing, name, res, link);
		/* Not in an older listing: it may be newer than the listing. */
		if (rc == -ENOENT && uuid &&
		    clock_now_ms() - listing->fetched_ms >= MODEL_LISTING_TRUST_MS)
			rc = -ENODATA;
		cache_val_unref(listing);
		if (rc != -ENODATA)
			return rc;
	} else if (rc != -ENODATA) {
		return rc;
	}
	if (!uuid)
		return -ENOENT;
	return cache_get(p->cache, key, fetch_item, &f, p->ttl_ms, p->neg_ttl_ms, res);
}

/* ---- resolution ------------------------------------------------------- */

static void node_release(struct node *n)
{
	tree_path_free(&n->tp);
	cache_val_unref(n->res);
	free(n->link);
	memset(n, 0, sizeof(*n));
}

static const struct ctl_def *ctl_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ctl_files); i++)
		if (!strcmp(ctl_files[i].name, name))
			return &ctl_files[i];
	return NULL;
}

static int resolve(struct project *p, const char *path, struct node *n)
{
	const json_t *doc;
	bool notdir;
	int rc;

	memset(n, 0, sizeof(*n));
	rc = tree_parse(path, &n->tp);
	if (rc)
		return rc;
	n->type = NODE_DIR;
	n->mtime_s = p->mount_time_s;
	switch (n->tp.kind) {
	case TREE_ROOT:
	case TREE_CTL_DIR_NODE:
		return 0;
	case TREE_CTL_FILE:
		n->ctl = ctl_find(n->tp.ctl);
		n->type = NODE_FILE;
		rc = n->ctl ? 0 : -ENOENT;
		goto out;
	case TREE_COLLECTION:
		rc = p->sess->endpoint[n->tp.coll->service] ? 0 : -ENOENT;
		goto out;
	case TREE_ENTRY:
	case TREE_ATTR:
		break;
	}
	if (!p->sess->endpoint[n->tp.coll->service]) {
		rc = -ENOENT;
		goto out;
	}
	rc = resolve_entry(p, n->tp.coll, n->tp.entry, &n->res, &n->link);
	if (rc)
		goto out;
	if (n->link) {
		n->type = NODE_LINK;
		rc = n->tp.kind == TREE_ENTRY ? 0 : -ENOTDIR;
		goto out;
	}
	doc = n->res->data;
	n->mtime_s = render_mtime(doc, p->mount_time_s);
	if (n->tp.kind == TREE_ENTRY)
		goto out;
	if (n->tp.nattrs == 1 && !strcmp(n->tp.attrs[0], MODEL_DOC_FILE)) {
		n->is_doc = true;
		n->type = NODE_FILE;
		goto out;
	}
	n->value = render_walk(doc, n->tp.attrs, n->tp.nattrs, &notdir);
	if (!n->value) {
		rc = notdir ? -ENOTDIR : -ENOENT;
		goto out;
	}
	n->type = json_is_object(n->value) ? NODE_DIR : NODE_FILE;
out:
	if (rc)
		node_release(n);
	return rc;
}

/* The bytes of a file node. */
static int node_contents(struct project *p, const struct node *n, struct buf *out)
{
	if (n->ctl)
		return n->ctl->render ? n->ctl->render(p, out) : 0;
	if (n->is_doc)
		return render_document(n->res->data, out);
	return render_value(n->value, out);
}

static int node_stat(struct project *p, const struct node *n, struct stat *st)
{
	struct buf b;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	st->st_uid = p->uid;
	st->st_gid = p->gid;
	st->st_mtime = st->st_ctime = st->st_atime = (time_t)n->mtime_s;
	switch (n->type) {
	case NODE_DIR:
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		break;
	case NODE_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(n->link);
		break;
	case NODE_FILE:
		st->st_mode = S_IFREG | (n->ctl ? n->ctl->mode : 0444);
		st->st_nlink = 1;
		buf_init(&b, CFS_MAX_BODY);
		rc = node_contents(p, n, &b);
		st->st_size = (off_t)b.len;
		buf_free(&b);
		break;
	}
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_blksize = 4096;
	return rc;
}

int model_getattr(struct project *p, const char *path, struct stat *st)
{
	struct node n;
	int rc = resolve(p, path, &n);

	if (rc)
		return rc;
	rc = node_stat(p, &n, st);
	node_release(&n);
	return rc;
}

int model_readlink(struct project *p, const char *path, char *buf, size_t size)
{
	struct node n;
	int rc = resolve(p, path, &n);

	if (rc)
		return rc;
	if (n.type != NODE_LINK)
		rc = -EINVAL;
	else
		snprintf(buf, size, "%s", n.link);
	node_release(&n);
	return rc;
}

int model_read(struct project *p, const char *path, struct buf *out)
{
	struct node n;
	int rc = resolve(p, path, &n);

	if (rc)
		return rc;
	rc = n.type == NODE_FILE ? node_contents(p, &n, out) : -EISDIR;
	node_release(&n);
	return rc;
}

int model_open(struct project *p, const char *path, int flags)
{
	struct node n;
	int rc = resolve(p, path, &n);
	bool writing = (flags & O_ACCMODE) != O_RDONLY;

	if (rc)
		return rc;
	if (n.type == NODE_DIR)
		rc = -EISDIR;
	else if (writing && !(n.ctl && n.ctl->write))
		rc = -EROFS;
	else if (!writing && n.ctl && !n.ctl->render)
		rc = -EACCES;
	node_release(&n);
	return rc;
}

int model_write(struct project *p, const char *path, const char *data, size_t len)
{
	struct node n;
	int rc = resolve(p, path, &n);

	if (rc)
		return rc;
	rc = n.ctl && n.ctl->write ? n.ctl->write(p, data, len) : -EROFS;
	node_release(&n);
	return rc;
}

/* ---- directories ------------------------------------------------------ */

static void dir_stat(const struct project *p, struct stat *st, int64_t mtime_s)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_uid = p->uid;
	st->st_gid = p->gid;
	st->st_mtime = st->st_ctime = st->st_atime = (time_t)mtime_s;
	st->st_blksize = 4096;
}

static int readdir_root(struct project *p, model_fill_fn fill, void *ctx)
{
	struct stat st;

	dir_stat(p, &st, p->mount_time_s);
	if (fill(ctx, TREE_CTL_DIR, &st))
		return 0;
	for (size_t i = 0; i < collections_count; i++)
		if (p->sess->endpoint[collections[i].service] &&
		    fill(ctx, collections[i].name, &st))
			break;
	return 0;
}

static int readdir_ctl(struct project *p, model_fill_fn fill, void *ctx)
{
	for (size_t i = 0; i < ARRAY_SIZE(ctl_files); i++) {
		struct node n = { .type = NODE_FILE, .ctl = &ctl_files[i] };
		struct stat st;

		n.mtime_s = p->mount_time_s;
		if (node_stat(p, &n, &st) || fill(ctx, ctl_files[i].name, &st))
			break;
	}
	return 0;
}

static int readdir_collection(struct project *p, const struct collection_def *c, model_fill_fn fill,
			      void *ctx)
{
	struct cache_val *listing;
	const json_t *m;
	char id[MODEL_ID_MAX];
	size_t i;
	int rc;

	rc = get_listing(p, c, &listing);
	if (rc)
		return rc;
	json_array_foreach((json_t *)listing->data, i, m)
	{
		struct stat st;
		char *file;

		if (!render_id(m, c->id_field, id, sizeof(id)))
			continue;
		file = names_encode(id);
		if (!file)
			continue;
		dir_stat(p, &st, render_mtime(m, p->mount_time_s));
		rc = fill(ctx, file, &st);
		free(file);
		if (rc)
			break;
	}
	cache_val_unref(listing);
	return 0;
}

/* Children of a resource directory or of an object inside it. */
static int readdir_object(struct project *p, const struct node *n, model_fill_fn fill, void *ctx)
{
	const json_t *obj = n->value ? n->value : n->res->data, *v;
	struct node child = { .res = n->res, .mtime_s = n->mtime_s };
	const char *key;
	struct stat st;

	if (!n->value) {
		child.is_doc = true;
		child.type = NODE_FILE;
		if (node_stat(p, &child, &st) || fill(ctx, MODEL_DOC_FILE, &st))
			return 0;
		child.is_doc = false;
	}
	json_object_foreach((json_t *)obj, key, v)
	{
		char *file;
		int stop;

		/* The document file wins over a top-level key of the same name. */
		if (!n->value && !strcmp(key, MODEL_DOC_FILE))
			continue;
		file = names_encode(key);
		if (!file)
			continue;
		child.value = v;
		child.type = json_is_object(v) ? NODE_DIR : NODE_FILE;
		stop = node_stat(p, &child, &st) || fill(ctx, file, &st);
		free(file);
		if (stop)
			break;
	}
	return 0;
}

int model_readdir(struct project *p, const char *path, model_fill_fn fill, void *ctx)
{
	struct node n;
	int rc = resolve(p, path, &n);

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
	case TREE_COLLECTION:
		rc = readdir_collection(p, n.tp.coll, fill, ctx);
		break;
	default:
		rc = readdir_object(p, &n, fill, ctx);
		break;
	}
out:
	node_release(&n);
	return rc;
}
