/* SPDX-License-Identifier: MIT */
/*
 * Member trees (service.h, struct tree_def): a directory of a member below
 * which paths of any depth are the cloud's entries (Swift's objects/).
 * Layer: model. Knows no service: the collection's tree_def lists, names,
 * makes and removes things.
 *
 * Cache keys: "T:<collection>/<id>\x01<dir>" is one directory's listing
 * (struct tdir), <dir> its cloud path ("" the top, "a/b/"). A lookup, a
 * stat or a readdir below the tree costs that one listing, never a
 * request per entry.
 *
 * Names (the one rule, docs/SEMANTICS.md "Object trees"): a component is
 * shown as names_encode() makes it ('%' → %25, "."/".." → %2E...). An
 * entry the rule cannot show is left out of the directory and reported in
 * .cloudfs/errors: an empty component ("a//b"), a component holding a NUL
 * byte, one whose file name is over NAME_MAX, and a file that has the
 * name of a directory beside it (the directory wins: a marker "a/" or an
 * application/directory "a" and the prefix "a/" are one directory).
 *
 * What this mount wrote or removed is remembered for
 * MODEL_TREE_RECENT_MS (p->recent, under p->pending_lock): a listing that
 * lags behind (Swift updates container listings asynchronously) is
 * corrected with it, so a file just written is listed at once.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/clock.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "model_int.h"

#define MODEL_TREE_RECENT_MS 60000

/* One entry of a directory, by its file name. */
struct tent {
	char *file; /* names_encode()d component */
	bool dir;
	int64_t size, mtime_s;
	char md5[33];
	bool drop; /* removed by this mount; the listing lags */
	/* a directory below which this mount removed something: it may be
	 * empty now though the listing still shows it (dir_empty()) */
	bool suspect;
	bool marker; /* a marker object makes this directory: it stays when empty */
	char *link; /* a symlink's relative target (malloc'd), or NULL */
};

struct tdir {
	size_t n, cap;
	struct tent *e; /* sorted by file, unique */
	int64_t mtime_s; /* the newest entry's */
	bool marked; /* the directory's own marker is listed in it */
};

/* A write or a removal of this mount, until listings show it. */
struct model_recent {
	const struct collection_def *c;
	char *id, *tpath;
	bool gone; /* removed; else written, with: */
	int64_t size, mtime_s;
	char md5[33];
	int64_t expires_ms;
	struct model_recent *next;
};

static void tdir_free(void *data)
{
	struct tdir *d = data;

	for (size_t i = 0; i < d->n; i++) {
		free(d->e[i].file);
		free(d->e[i].link);
	}
	free(d->e);
	free(d);
}

/* The tree's directory name in a member ("objects"). */
static const char *tree_dir(const struct collection_def *c)
{
	const char *dir = "?";

	model_tree_def(c, &dir);
	return dir;
}

static int tdir_add(struct tdir *d, char *file, bool dir, int64_t size, int64_t mtime_s,
		    const char *md5)
{
	struct tent *e;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		struct tent *ne = realloc(d->e, cap * sizeof(*ne));

		if (!ne) {
			free(file);
			return -ENOMEM;
		}
		d->e = ne;
		d->cap = cap;
	}
	e = &d->e[d->n++];
	memset(e, 0, sizeof(*e));
	e->file = file;
	e->dir = dir;
	e->size = size;
	e->mtime_s = mtime_s;
	if (md5)
		snprintf(e->md5, sizeof(e->md5), "%s", md5);
	if (mtime_s > d->mtime_s)
		d->mtime_s = mtime_s;
	return 0;
}

static int tent_cmp(const void *a, const void *b)
{
	const struct tent *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	/* Directories first among equal names: the one kept. */
	return c ? c : (int)y->dir - (int)x->dir;
}

/* Sorts and merges equal names: a directory and its marker are one; a
 * file beside a directory of its name is left out (and reported, unless
 * @where is NULL: under a lock, where no other may be taken). */
static void tdir_settle(struct tdir *d, const char *where)
{
	size_t o = 0;

	if (d->n > 1)
		qsort(d->e, d->n, sizeof(*d->e), tent_cmp);
	for (size_t i = 0; i < d->n; i++) {
		if (o && !strcmp(d->e[o - 1].file, d->e[i].file)) {
			d->e[o - 1].marker |= d->e[i].marker;
			if (!d->e[i].dir && where)
				log_cloud_error("%s%s: a file and a directory have this name; the "
						"directory is shown, the file left out",
						where, d->e[i].file);
			free(d->e[i].file);
			free(d->e[i].link);
			continue;
		}
		d->e[o++] = d->e[i];
	}
	d->n = o;
}

static struct tent *tdir_find(const struct tdir *d, const char *file)
{
	struct tent key = { .file = (char *)file, .dir = true };
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(d->e[mid].file, key.file);

		if (!c)
			return &d->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct fetch_dir {
	struct project *p;
	const struct collection_def *c;
	const char *id, *dir;
	struct tdir *d;
	char *where; /* "containers/<id>/objects/<dir>" for messages */
};

/* A link's target, relative to the directory @f lists: up to the
 * collection ("../" for each component of f->dir, the tree's directory
 * and the member), then member/tree/path, each component encoded by the
 * names rule, so it never leaves the mount. -EINVAL (reported) when the
 * rule cannot show the target. */
static int link_target(struct fetch_dir *f, const struct tree_entry *e, char **out)
{
	struct buf b;
	char *m = names_encode(e->link_member);
	const char *p = e->link_path, *slash;
	int rc = m ? 0 : -ENOMEM;

	buf_init(&b, 64u << 10);
	for (const char *d = f->dir; !rc && *d; d++)
		if (*d == '/')
			rc = buf_addstr(&b, "../");
	if (!rc)
		rc = buf_addf(&b, "../../%s/%s", m, tree_dir(f->c));
	if (!rc && (!*m || !*p))
		rc = -EINVAL;
	for (; !rc && p; p = slash ? slash + 1 : NULL) {
		size_t len;
		char *part;

		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		part = len ? names_encode_len(p, len) : NULL;
		if (!part || strlen(part) > NAME_MAX)
			rc = part || !len ? -EINVAL : -ENOMEM;
		else
			rc = buf_addf(&b, "/%s", part);
		free(part);
	}
	if (!rc && b.len >= PATH_MAX)
		rc = -EINVAL;
	if (rc == -EINVAL)
		log_cloud_error(
			"%s%.*s: a link to '%s' in '%s' the names rule cannot show; left out",
			f->where, (int)e->name_len, e->name, e->link_path, e->link_member);
	free(m);
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*out = strndup(b.data, b.len);
	buf_free(&b);
	return *out ? 0 : -ENOMEM;
}

static int take_entry(void *ctx, const struct tree_entry *e)
{
	struct fetch_dir *f = ctx;
	long max = f->p->sess->cfg->max_entries > 0 ? f->p->sess->cfg->max_entries
						    : CONFIG_MAX_ENTRIES;
	char *file, *link = NULL;

	/* A listing that never ends must not grow the daemon without bound. */
	if ((long)f->d->n >= max) {
		log_cloud_error("%s: the directory has more than %ld entries (max_entries); "
				"listing refused",
				f->where, max);
		return -EFBIG;
	}
	if (e->self) {
		f->d->marked = true;
		return 0;
	}
	if (!e->name_len || memchr(e->name, '\0', e->name_len)) {
		log_cloud_error("%s: an entry with %s name is left out (%.*s)", f->where,
				e->name_len ? "a NUL byte in its" : "an empty", (int)e->name_len,
				e->name);
		return 0;
	}
	file = names_encode_len(e->name, e->name_len);
	if (!file)
		return -ENOMEM;
	if (strlen(file) > NAME_MAX) {
		log_cloud_error("%s: '%.64s...' (%zu bytes) is longer than a file name may be; "
				"left out",
				f->where, file, strlen(file));
		free(file);
		return 0;
	}
	if (!e->dir && e->link_member) {
		int rc = link_target(f, e, &link);

		if (rc) {
			free(file);
			return rc == -EINVAL ? 0 : rc;
		}
	}
	if (tdir_add(f->d, file, e->dir, e->dir ? 0 : e->size, e->mtime_s, e->md5)) {
		free(link);
		return -ENOMEM;
	}
	f->d->e[f->d->n - 1].marker = e->dir && e->marker;
	f->d->e[f->d->n - 1].link = link;
	return 0;
}

/* The component of @tpath right below directory @dir (malloc'd), or NULL
 * (not below it). *is_dir: it is a directory (more follows); *self: it is
 * that directory itself ("a/" below ""). */
static char *child_of(const char *dir, const char *tpath, bool *is_dir, bool *self)
{
	size_t n = strlen(dir);
	const char *rest, *slash;

	if (strncmp(tpath, dir, n) || !tpath[n])
		return NULL;
	rest = tpath + n;
	slash = strchr(rest, '/');
	*is_dir = slash != NULL;
	*self = slash && !slash[1];
	return slash ? strndup(rest, (size_t)(slash - rest)) : strdup(rest);
}

/* Corrects a fetched listing with this mount's recent writes. */
static int apply_recent(struct fetch_dir *f)
{
	struct project *p = f->p;
	int64_t now = clock_now_ms();
	int rc = 0;

	pthread_mutex_lock(&p->pending_lock);
	for (struct model_recent **q = &p->recent; *q;) {
		struct model_recent *r = *q;
		bool is_dir, self;
		char *name, *file;
		struct tent *e;

		if (r->expires_ms <= now) {
			*q = r->next;
			free(r->id);
			free(r->tpath);
			free(r);
			continue;
		}
		q = &r->next;
		if (rc || r->c != f->c || strcmp(r->id, f->id))
			continue;
		/* The directory's own marker, made or removed here. */
		if (*f->dir && !strcmp(r->tpath, f->dir)) {
			f->d->marked = !r->gone;
			continue;
		}
		name = child_of(f->dir, r->tpath, &is_dir, &self);
		if (!name)
			continue;
		file = names_encode(name);
		free(name);
		if (!file) {
			rc = -ENOMEM;
			continue;
		}
		e = tdir_find(f->d, file);
		if (r->gone) {
			/* A removed file, or a directory removed (empty) with
			 * rmdir, is dropped; a directory something was removed
			 * from may be empty now: listed only if it is not. */
			if (e && e->dir == is_dir && (!is_dir || self))
				e->drop = true;
			else if (e && e->dir && is_dir)
				e->suspect = true;
			free(file);
		} else if (e && (is_dir || e->dir)) {
			if (self && e->dir)
				e->marker = true;
			free(file);
		} else if (e) {
			free(e->link);
			e->link = NULL;
			e->size = r->size;
			e->mtime_s = r->mtime_s;
			snprintf(e->md5, sizeof(e->md5), "%s", r->md5);
			free(file);
		} else {
			rc = tdir_add(f->d, file, is_dir, is_dir ? 0 : r->size, r->mtime_s,
				      is_dir ? NULL : r->md5);
			/* mkdir made a marker: the directory stays when empty. */
			if (!rc)
				f->d->e[f->d->n - 1].marker = self;
			/* Under pending_lock: nothing is logged. */
			tdir_settle(f->d, NULL);
		}
	}
	pthread_mutex_unlock(&p->pending_lock);
	if (!rc) {
		size_t o = 0;

		for (size_t i = 0; i < f->d->n; i++) {
			if (!f->d->e[i].drop) {
				f->d->e[o++] = f->d->e[i];
			} else {
				free(f->d->e[i].file);
				free(f->d->e[i].link);
			}
		}
		f->d->n = o;
	}
	return rc;
}

static int fetch_dir(void *arg, struct cache_val **out, int64_t *ttl_ms)
{
	struct fetch_dir *f = arg;
	struct svc_call x = { f->p, f->c };
	int rc;

	(void)ttl_ms;
	f->d = calloc(1, sizeof(*f->d));
	if (!f->d)
		return -ENOMEM;
	rc = model_tree_def(f->c, NULL)->list(&x, f->id, f->dir, take_entry, f);
	if (!rc) {
		tdir_settle(f->d, f->where);
		rc = apply_recent(f);
	}
	if (!rc) {
		*out = cache_val_new(f->d, tdir_free);
		rc = *out ? 0 : -ENOMEM;
	}
	if (rc)
		tdir_free(f->d);
	f->d = NULL;
	return rc;
}

static char *dir_key(const struct collection_def *c, const char *id, const char *dir)
{
	char *key = NULL;

	if (asprintf(&key, "T:%s/%s\x01%s", c->name, id, dir) < 0)
		return NULL;
	return key;
}

/* Directory @dir of member @id (cached; a struct tdir value). */
static int get_dir(struct project *p, const struct collection_def *c, const char *id,
		   const char *dir, struct cache_val **out)
{
	struct fetch_dir f = { p, c, id, dir, NULL, NULL };
	char *key = dir_key(c, id, dir);
	int rc;

	if (!key || asprintf(&f.where, "%s/%s/%s/%s", c->name, id, tree_dir(c), dir) < 0) {
		free(key);
		return -ENOMEM;
	}
	rc = cache_get(p->cache, key, fetch_dir, &f, p->ttl_ms, 0, out);
	free(f.where);
	free(key);
	return rc;
}

/* Whether directory @dir holds nothing, by its listing and this mount's
 * recent removals: a suspect subdirectory counts only if it holds
 * something itself. 1: empty, 0: not, or -errno. */
static int dir_empty(struct project *p, const struct collection_def *c, const char *id,
		     const char *dir, unsigned depth, bool *marked)
{
	struct cache_val *v;
	const struct tdir *d;
	int rc = depth > TREE_PATH_DEPTH ? -ELOOP : get_dir(p, c, id, dir, &v);

	if (rc)
		return rc;
	d = v->data;
	if (marked)
		*marked = d->marked;
	rc = 1;
	for (size_t i = 0; rc == 1 && i < d->n; i++) {
		char *sub = NULL, *name;

		if (!d->e[i].suspect || d->e[i].marker) {
			rc = 0;
			break;
		}
		name = names_decode(d->e[i].file);
		if (!name || asprintf(&sub, "%s%s/", dir, name) < 0)
			sub = NULL;
		free(name);
		rc = sub ? dir_empty(p, c, id, sub, depth + 1, NULL) : -ENOMEM;
		free(sub);
	}
	cache_val_unref(v);
	return rc;
}

/* A suspect directory entry that turned out empty is not shown. */
static bool gone_dir(struct project *p, const struct collection_def *c, const char *id,
		     const char *dir, const struct tent *e)
{
	char *sub = NULL, *name;
	bool marked = false;
	int rc;

	/* A marker keeps a directory, empty or not. */
	if (!e->suspect || e->marker)
		return false;
	name = names_decode(e->file);
	if (!name || asprintf(&sub, "%s%s/", dir, name) < 0)
		sub = NULL;
	free(name);
	rc = sub ? dir_empty(p, c, id, sub, 0, &marked) : 0;
	free(sub);
	return rc == 1 && !marked;
}

static void forget_dir(struct project *p, const struct collection_def *c, const char *id,
		       const char *dir)
{
	char *key = dir_key(c, id, dir);

	if (key)
		cache_expire(p->cache, key);
	free(key);
}

/* The cloud path of attrs[1..@n) (below the tree's directory), with a
 * trailing '/' for a directory. */
static char *join_path(char *const *attrs, size_t n, bool dir)
{
	size_t len = 1;
	char *out, *o;

	for (size_t i = 1; i < n; i++)
		len += strlen(attrs[i]) + 1;
	out = o = malloc(len);
	if (!out)
		return NULL;
	*o = '\0';
	for (size_t i = 1; i < n; i++) {
		o += sprintf(o, "%s", attrs[i]);
		if (i + 1 < n || dir)
			*o++ = '/', *o = '\0';
	}
	return out;
}

const struct tree_def *model_tree_def(const struct collection_def *c, const char **dir)
{
	for (const struct member_extra *e = c->extras; e && e->name; e++)
		if (e->tree) {
			if (dir)
				*dir = e->name;
			return e->tree;
		}
	return NULL;
}

bool model_tree_is(const struct collection_def *c, const struct tree_path *tp)
{
	const char *dir;

	return model_tree_def(c, &dir) && tp->kind == TREE_ATTR && tp->nattrs >= 1 &&
	       !strcmp(tp->attrs[0], dir);
}

int model_tree_resolve(struct project *p, struct node *n)
{
	const struct tree_path *tp = &n->tp;
	struct cache_val *v;
	const struct tent *e;
	char *dir, *file;
	int rc;

	n->tree = true;
	n->type = NODE_DIR;
	n->perm = 0755;
	if (tp->nattrs == 1) {
		n->tpath = strdup("");
		return n->tpath ? 0 : -ENOMEM;
	}
	/* A component is compared as its file name: the listing's names. */
	dir = join_path(tp->attrs, tp->nattrs - 1, true);
	file = names_encode(tp->attrs[tp->nattrs - 1]);
	rc = dir && file ? get_dir(p, tp->coll, n->id, dir, &v) : -ENOMEM;
	if (!rc) {
		e = tdir_find(v->data, file);
		if (!e || gone_dir(p, tp->coll, n->id, dir, e)) {
			rc = -ENOENT;
		} else {
			n->type = e->dir ? NODE_DIR : e->link ? NODE_LINK : NODE_FILE;
			n->perm = e->dir ? 0755 : 0644;
			if (e->link && !(n->link = strdup(e->link)))
				rc = -ENOMEM;
			n->size = e->size;
			if (e->mtime_s)
				n->mtime_s = e->mtime_s;
			snprintf(n->md5, sizeof(n->md5), "%s", e->md5);
			n->tpath = join_path(tp->attrs, tp->nattrs, e->dir);
			if (!n->tpath)
				rc = -ENOMEM;
		}
		cache_val_unref(v);
	}
	free(dir);
	free(file);
	return rc;
}

int model_tree_readdir(struct project *p, const struct node *n, model_fill_fn fill, void *ctx)
{
	struct cache_val *v;
	const struct tdir *d;
	int rc = get_dir(p, n->tp.coll, n->id, n->tpath, &v);

	if (rc)
		return rc;
	d = v->data;
	for (size_t i = 0; !rc && i < d->n; i++) {
		const struct tent *e = &d->e[i];
		struct stat st = { 0 };

		if (gone_dir(p, n->tp.coll, n->id, n->tpath, e))
			continue;
		st.st_mode = e->dir ? S_IFDIR | 0755 : e->link ? S_IFLNK | 0777 : S_IFREG | 0644;
		st.st_nlink = e->dir ? 2 : 1;
		st.st_uid = p->uid;
		st.st_gid = p->gid;
		st.st_size = e->dir ? 0 : e->link ? (off_t)strlen(e->link) : (off_t)e->size;
		st.st_blocks = (st.st_size + 511) / 512;
		st.st_blksize = e->dir ? 4096 : 1 << 20;
		st.st_mtime = st.st_ctime = st.st_atime =
			(time_t)(e->mtime_s ? e->mtime_s : n->mtime_s);
		rc = fill(ctx, e->file, &st);
	}
	cache_val_unref(v);
	return rc < 0 ? rc : 0;
}

/* The directory part of @tpath ("a/b/" of "a/b/c" and of "a/b/c/"). */
static char *parent_of(const char *tpath)
{
	size_t n = strlen(tpath);

	if (n && tpath[n - 1] == '/')
		n--;
	while (n && tpath[n - 1] != '/')
		n--;
	return strndup(tpath, n);
}

static struct tdir *tdir_copy(const struct tdir *d)
{
	struct tdir *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->mtime_s = d->mtime_s;
	for (size_t i = 0; i < d->n; i++) {
		char *file = strdup(d->e[i].file);

		if (!file || tdir_add(c, file, d->e[i].dir, d->e[i].size, d->e[i].mtime_s,
				      d->e[i].md5[0] ? d->e[i].md5 : NULL)) {
			tdir_free(c);
			return NULL;
		}
		c->e[c->n - 1].suspect = d->e[i].suspect;
		c->e[c->n - 1].marker = d->e[i].marker;
		if (d->e[i].link && !(c->e[c->n - 1].link = strdup(d->e[i].link))) {
			tdir_free(c);
			return NULL;
		}
	}
	c->marked = d->marked;
	return c;
}

/* A live cached listing of @dir, with this mount's recent changes applied
 * (a copy: cached values are shared and never change). Not cached: the
 * next fetch applies them. */
static void patch_dir(struct project *p, const struct collection_def *c, const char *id,
		      const char *dir)
{
	struct fetch_dir f = { p, c, id, dir, NULL, NULL };
	char *key = dir_key(c, id, dir);
	struct cache_val *v, *nv;

	if (!key || cache_lookup(p->cache, key, &v)) {
		free(key);
		return;
	}
	f.d = tdir_copy(v->data);
	cache_val_unref(v);
	if (f.d && asprintf(&f.where, "%s/%s/%s/%s", c->name, id, tree_dir(c), dir) < 0)
		f.where = NULL;
	if (!f.d || !f.where || apply_recent(&f) || !(nv = cache_val_new(f.d, tdir_free))) {
		/* Cannot correct it: fetched again, and corrected then. */
		if (f.d)
			tdir_free(f.d);
		cache_expire(p->cache, key);
	} else {
		cache_put(p->cache, key, nv, p->ttl_ms);
		cache_val_unref(nv);
	}
	free(f.where);
	free(key);
}

/* The cached listing of @n's directory with @n's size now @size and no
 * MD5 (a copy: cached values are shared and never change). Without
 * memory it stays as listed: the next open asks again. */
static void set_size(struct project *p, const struct node *n, int64_t size)
{
	const struct tree_path *tp = &n->tp;
	char *dir = join_path(tp->attrs, tp->nattrs - 1, true);
	char *file = names_encode(tp->attrs[tp->nattrs - 1]);
	char *key = dir ? dir_key(tp->coll, n->id, dir) : NULL;
	struct cache_val *v, *nv;
	struct tdir *d = NULL;
	struct tent *e;

	if (!file || !key || cache_lookup(p->cache, key, &v))
		goto out;
	d = tdir_copy(v->data);
	cache_val_unref(v);
	e = d ? tdir_find(d, file) : NULL;
	if (!e || e->dir || e->link)
		goto out;
	e->size = size;
	e->md5[0] = '\0';
	if ((nv = cache_val_new(d, tdir_free))) {
		d = NULL;
		cache_put(p->cache, key, nv, p->ttl_ms);
		cache_val_unref(nv);
	}
out:
	if (d)
		tdir_free(d);
	free(key);
	free(file);
	free(dir);
}

int model_tree_open_size(struct project *p, struct node *n)
{
	const struct tree_def *t = model_tree_def(n->tp.coll, NULL);
	struct svc_call x = { p, n->tp.coll };
	int64_t size = 0;
	int rc;

	if (!n->tree || n->type != NODE_FILE || n->pending || n->size || !t->open_size ||
	    n->tp.nattrs < 2)
		return 0;
	rc = t->open_size(&x, n->id, n->tpath, n->md5[0] ? n->md5 : NULL, &size);
	if (rc <= 0)
		return rc;
	n->size = size;
	n->md5[0] = '\0';
	set_size(p, n, size);
	return 1;
}

void model_tree_note(struct project *p, const struct collection_def *c, const char *id,
		     const char *tpath, bool gone, int64_t size, const char *md5)
{
	struct model_recent *r = calloc(1, sizeof(*r));
	char *dir = parent_of(tpath);

	/* Without memory the listing is only as fresh as the cloud's. */
	if (r && (r->id = strdup(id)) && (r->tpath = strdup(tpath))) {
		r->c = c;
		r->gone = gone;
		r->size = size;
		r->mtime_s = clock_wall_s();
		if (md5)
			snprintf(r->md5, sizeof(r->md5), "%s", md5);
		r->expires_ms = clock_now_ms() + MODEL_TREE_RECENT_MS;
		pthread_mutex_lock(&p->pending_lock);
		/* The latest word on a path replaces the earlier one. */
		for (struct model_recent **q = &p->recent; *q;) {
			struct model_recent *o = *q;

			if (o->c == c && !strcmp(o->id, id) && !strcmp(o->tpath, tpath)) {
				*q = o->next;
				free(o->id);
				free(o->tpath);
				free(o);
				continue;
			}
			q = &o->next;
		}
		r->next = p->recent;
		p->recent = r;
		pthread_mutex_unlock(&p->pending_lock);
		r = NULL;
	}
	if (r) {
		free(r->id);
		free(r->tpath);
		free(r);
	}
	/* Every directory on the way may gain (or lose) an entry: a cached
	 * listing is corrected in place, not fetched again (rsync writes a
	 * thousand files into one directory). */
	for (char *d = dir; d;) {
		char *up;

		patch_dir(p, c, id, d);
		if (!*d) {
			free(d);
			break;
		}
		up = parent_of(d);
		free(d);
		d = up;
	}
}

void model_tree_forget(struct project *p, const struct collection_def *c, const char *id)
{
	char *prefix = dir_key(c, id, "");

	/* What this mount wrote there is no longer known to be there (the
	 * member was emptied, say): the next listings are the cloud's. */
	pthread_mutex_lock(&p->pending_lock);
	for (struct model_recent **q = &p->recent; *q;) {
		struct model_recent *r = *q;

		if (r->c == c && !strcmp(r->id, id)) {
			*q = r->next;
			free(r->id);
			free(r->tpath);
			free(r);
			continue;
		}
		q = &r->next;
	}
	pthread_mutex_unlock(&p->pending_lock);
	if (prefix)
		cache_expire_prefix(p->cache, prefix);
	free(prefix);
}

void model_tree_cleanup(struct project *p)
{
	while (p->recent) {
		struct model_recent *r = p->recent;

		p->recent = r->next;
		free(r->id);
		free(r->tpath);
		free(r);
	}
}

/* ---- changes ---------------------------------------------------------- */

int model_tree_mkdir(struct project *p, struct node *parent, const char *name)
{
	const struct collection_def *c = parent->tp.coll;
	struct svc_call x = { p, c };
	char *tpath = NULL;
	int rc;

	if (!model_tree_def(c, NULL)->mkdir)
		return -EPERM;
	if (asprintf(&tpath, "%s%s/", parent->tpath, name) < 0)
		return -ENOMEM;
	rc = model_tree_def(c, NULL)->check_name
		     ? model_tree_def(c, NULL)->check_name(&x, parent->id, tpath)
		     : 0;
	if (!rc)
		rc = model_tree_def(c, NULL)->mkdir(&x, parent->id, tpath);
	if (!rc)
		model_tree_note(p, c, parent->id, tpath, false, 0, NULL);
	free(tpath);
	return rc;
}

int model_tree_remove(struct project *p, struct node *n, bool dir)
{
	const struct collection_def *c = n->tp.coll;
	struct svc_call x = { p, c };
	int rc;

	/* A file still being written has no path in the tree yet. */
	if (n->pending)
		return -EBUSY;
	if (!n->tree || !n->tpath || !*n->tpath)
		return dir ? -EPERM : -EISDIR;
	if (dir != (n->type == NODE_DIR))
		return dir ? -ENOTDIR : -EISDIR;
	if (!model_tree_def(c, NULL)->remove)
		return -EPERM;
	if (dir) {
		/* Empty by a fresh listing (and what this mount removed from
		 * it meanwhile: Swift's listings lag behind deletes too). */
		forget_dir(p, c, n->id, n->tpath);
		rc = dir_empty(p, c, n->id, n->tpath, 0, NULL);
		if (rc < 0)
			return rc;
		if (!rc)
			return -ENOTEMPTY;
	}
	rc = model_tree_def(c, NULL)->remove(&x, n->id, n->tpath, dir, n->md5[0] != '\0');
	/* Gone already is what was wanted. */
	if (rc == -ENOENT)
		rc = 0;
	if (!rc)
		model_tree_note(p, c, n->id, n->tpath, true, 0, NULL);
	return rc;
}

int model_tree_rename(struct project *p, struct node *from, struct node *to_parent,
		      const char *name)
{
	const struct collection_def *c = from->tp.coll;
	struct svc_call x = { p, c };
	char *to = NULL;
	int rc;

	if (from->type != NODE_FILE)
		return -EXDEV; /* mv copies a directory, file by file */
	if (!model_tree_def(c, NULL)->rename || to_parent->tp.coll != c ||
	    strcmp(to_parent->id, from->id))
		return -EXDEV;
	if (asprintf(&to, "%s%s", to_parent->tpath, name) < 0)
		return -ENOMEM;
	rc = model_tree_def(c, NULL)->check_name
		     ? model_tree_def(c, NULL)->check_name(&x, from->id, to)
		     : 0;
	if (!rc)
		rc = model_tree_def(c, NULL)->rename(&x, from->id, from->tpath, to);
	if (!rc) {
		model_tree_note(p, c, from->id, to, false, from->size, from->md5);
		model_tree_note(p, c, from->id, from->tpath, true, 0, NULL);
	}
	free(to);
	return rc;
}

/* ---- extended attributes ---------------------------------------------- */

/* The tree file @path names, or -ENODATA/-ENOTSUP when it has no
 * attributes to offer (anything else, a directory). */
static int xattr_node(struct project *p, const char *path, struct node *n, bool writing)
{
	int rc = model_resolve(p, path, n);

	if (rc)
		return rc;
	/* A file being written (not in the cloud yet) has none to read. */
	if (!n->tree || n->type != NODE_FILE || !n->tpath ||
	    !model_tree_def(n->tp.coll, NULL)->xattrs) {
		model_node_release(n);
		return writing ? -ENOTSUP : -ENODATA;
	}
	return 0;
}

static int get_xattrs(struct project *p, struct node *n, json_t **out)
{
	struct svc_call x = { p, n->tp.coll };

	return model_tree_def(n->tp.coll, NULL)->xattrs(&x, n->id, n->tpath, out);
}

int model_getxattr(struct project *p, const char *path, const char *name, struct buf *out)
{
	const json_t *v;
	json_t *all = NULL;
	struct node n;
	int rc;

	/* Only the user namespace is the cloud's: ls asks for security.* and
	 * system.* of every file, which must cost no request. ENOTSUP, as the
	 * kernel answers for a namespace a filesystem has no handler for:
	 * `ls -l` then remembers that the mount has none and stops asking
	 * (three round trips per entry otherwise, most of a warm `ls -l`). */
	if (strncmp(name, "user.", 5))
		return -ENOTSUP;
	rc = xattr_node(p, path, &n, false);
	if (rc)
		return rc;
	rc = get_xattrs(p, &n, &all);
	if (!rc) {
		v = json_object_get(all, name);
		rc = json_is_string(v) ? buf_add(out, json_string_value(v), json_string_length(v))
				       : -ENODATA;
	}
	json_decref(all);
	model_node_release(&n);
	return rc;
}

int model_listxattr(struct project *p, const char *path, struct buf *out)
{
	json_t *all = NULL;
	const json_t *v;
	const char *key;
	struct node n;
	int rc = xattr_node(p, path, &n, false);

	if (rc)
		return rc == -ENODATA ? 0 : rc;
	rc = get_xattrs(p, &n, &all);
	json_object_foreach(all, key, v)
	{
		if (rc)
			break;
		/* What the cloud derives (etag, content type...) is read by
		 * name only: a copy (cp --preserve=xattr, rsync -X) carries the
		 * user's metadata, never the source's ETag. */
		if (model_tree_def(n.tp.coll, NULL)->xattr_listed &&
		    !model_tree_def(n.tp.coll, NULL)->xattr_listed(key))
			continue;
		rc = buf_add(out, key, strlen(key) + 1);
	}
	json_decref(all);
	model_node_release(&n);
	return rc;
}

int model_setxattr(struct project *p, const char *path, const char *name, const char *value,
		   size_t len)
{
	struct svc_call x;
	struct node n;
	int rc;

	/* Being written (cp --preserve=xattr sets them before close): kept,
	 * and set once the file is in the cloud. */
	if (!strncmp(name, "user.", 5) && model_pending_has(p, path))
		return model_pending_setxattr(p, path, name, value, len);
	rc = xattr_node(p, path, &n, true);
	if (rc)
		return rc;
	x = (struct svc_call){ p, n.tp.coll };
	rc = model_tree_def(n.tp.coll, NULL)->set_xattr
		     ? model_tree_def(n.tp.coll, NULL)
			       ->set_xattr(&x, n.id, n.tpath, name, value, len)
		     : -ENOTSUP;
	model_node_release(&n);
	return rc;
}

int model_set_times(struct project *p, const char *path)
{
	struct node n;
	int rc = model_resolve(p, path, &n);

	if (rc)
		return rc;
	/* The cloud sets a tree file's time itself (its upload's): a time
	 * asked for would be a lie the next listing tells. */
	if (n.tp.kind == TREE_ATTR && model_tree_is(n.tp.coll, &n.tp) && n.type == NODE_FILE)
		rc = -EPERM;
	model_node_release(&n);
	return rc;
}

int model_tree_rmdir_vanished(struct project *p, struct node *parent, const char *name)
{
	const struct collection_def *c = parent->tp.coll;
	char *file = names_encode(name), *dir = NULL;
	struct cache_val *v;
	const struct tent *e;
	int rc;

	if (!file)
		return -ENOMEM;
	rc = get_dir(p, c, parent->id, parent->tpath, &v);
	if (!rc) {
		e = tdir_find(v->data, file);
		/* Listed, but emptied by this mount: a directory that only
		 * objects made, which went with them. Nothing is left to remove
		 * (what rm -r expects after emptying it). */
		rc = e && e->dir && gone_dir(p, c, parent->id, parent->tpath, e) ? 0 : -ENOENT;
		cache_val_unref(v);
	}
	if (!rc && asprintf(&dir, "%s%s/", parent->tpath, name) >= 0)
		model_tree_note(p, c, parent->id, dir, true, 0, NULL);
	free(dir);
	free(file);
	return rc;
}
