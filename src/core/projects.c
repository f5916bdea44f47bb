/* SPDX-License-Identifier: MIT */
/*
 * projects/: every project the user can scope to, each one a whole tree
 * served by the same model code as the root (a struct project of its own:
 * its session, its token, its cache). The public model_*() entry points
 * are here: they find the project a path belongs to and call the model
 * with the path below it.
 *
 *   /projects/                 the list (the root's session asks for it)
 *   /projects/<id>             a directory: that project's root, served by a
 *                              member made on first use (a token scoped to it)
 *   /projects/<name>           a link to <id> when the name is unique
 *
 * A member's stat needs no token (`ls -l projects/` costs one listing);
 * anything below it, or listing it, makes the member. A member nobody uses
 * for projects_idle_s is dropped, and at most projects_kept are kept. The
 * default project is a member too, with the root's own token, so the root's
 * projects/ is never reached again below it (no loop for find).
 *
 *   /regions/<name>            the root's project in another region of the
 *                              catalog: a member with the root's token and
 *                              that region's endpoints (not listed at the
 *                              root: model.c's readdir_root says why)
 * Layer: model (core); knows no service.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/catalog.h"
#include "cloudfs/clock.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "model_int.h"

#define PROJECTS_PREFIX "/" TREE_PROJECTS_DIR "/"
#define REGIONS_PREFIX "/" TREE_REGIONS_DIR "/"

struct member {
	struct project_set *set; /* borrowed: the set it belongs to */
	char *id; /* the project's id */
	char *region; /* regions/<region>: the root's project there; NULL: projects/<id> */
	char *prefix; /* "/projects/<id>" or "/regions/<name>" (file names): its paths' prefix */
	struct auth *auth; /* owned; NULL when it is the root's (the default project) */
	struct session sess;
	struct project p;
	bool making; /* protected by set->lock: its token is being obtained */
	bool ready; /* protected by set->lock: sess and p are usable */
	int err; /* protected by set->lock: why making it failed, until err_until_ms */
	int64_t err_until_ms;
	unsigned refs; /* protected by set->lock */
	int64_t used_ms; /* protected by set->lock: monotonic, last release */
	uint64_t used_seq; /* protected by set->lock: order of last use (LRU) */
	struct member *next; /* protected by set->lock */
};

/* One project of the list, with its names as file names. */
struct listed {
	char *id;
	char *id_file;
	char *name_file; /* NULL: none, or not unique (no link) */
};

struct project_set {
	struct project *root; /* borrowed: the set's owner */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct member *members; /* protected by lock */
	struct listed *list; /* protected by lock */
	size_t nlist; /* protected by lock */
	int64_t list_ms; /* protected by lock: when it was fetched; 0: never */
	bool listing; /* protected by lock: one thread fetches, the others wait */
	unsigned made; /* protected by lock: members made (tokens asked for) */
	uint64_t seq; /* protected by lock: the use counter members' used_seq come from */
};

static void list_free(struct listed *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++) {
		free(l[i].id);
		free(l[i].id_file);
		free(l[i].name_file);
	}
	free(l);
}

int projects_new(struct project *root, struct project_set **out)
{
	struct project_set *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->root = root;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	*out = s;
	return 0;
}

static void member_free(struct member *m)
{
	if (!m)
		return;
	model_project_cleanup(&m->p);
	session_cleanup(&m->sess);
	auth_free(m->auth);
	free(m->id);
	free(m->region);
	free(m->prefix);
	free(m);
}

void projects_free(struct project_set *s)
{
	if (!s)
		return;
	while (s->members) {
		struct member *next = s->members->next;

		member_free(s->members);
		s->members = next;
	}
	list_free(s->list, s->nlist);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

/* ---- the list --------------------------------------------------------- */

/* The list as file names; a name is a link only when no other project
 * has it and it is no project's id. */
static int list_build(const struct api_project *v, size_t n, struct listed **out)
{
	struct listed *l = calloc(n + 1, sizeof(*l));

	*out = NULL;
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		l[i].id = strdup(v[i].id);
		l[i].id_file = names_encode(v[i].id);
		l[i].name_file = v[i].name && *v[i].name ? names_encode(v[i].name) : NULL;
		if (!l[i].id || !l[i].id_file || (v[i].name && *v[i].name && !l[i].name_file)) {
			list_free(l, n);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t j = 0; l[i].name_file && j < n; j++)
			dup = dup || !strcmp(l[i].name_file, l[j].id_file) ||
			      (j != i && v[j].name && *v[j].name && !strcmp(v[i].name, v[j].name));
		if (dup) {
			free(l[i].name_file);
			l[i].name_file = NULL;
		}
	}
	*out = l;
	return 0;
}

/* Makes the list fresh (the root's TTL) under s->lock, which it may drop
 * to fetch; returns with it held. */
static int list_fresh_locked(struct project_set *s)
{
	struct project *root = s->root;
	struct api_project *v = NULL;
	struct listed *l = NULL;
	size_t n = 0;
	int rc;

	while (s->listing)
		pthread_cond_wait(&s->cond, &s->lock);
	if (s->list_ms && clock_now_ms() - s->list_ms < root->ttl_ms)
		return 0;
	s->listing = true;
	pthread_mutex_unlock(&s->lock);
	rc = api_projects(root->sess, &v, &n);
	if (!rc)
		rc = list_build(v, n, &l);
	api_projects_free(v, n);
	pthread_mutex_lock(&s->lock);
	s->listing = false;
	pthread_cond_broadcast(&s->cond);
	if (rc)
		return s->list_ms ? 0 : rc; /* the last list while the cloud fails */
	list_free(s->list, s->nlist);
	s->list = l;
	s->nlist = n;
	s->list_ms = clock_now_ms();
	return 0;
}

int projects_lookup(struct project *root, const char *file, char **id, char **link)
{
	struct project_set *s = root->set;
	int rc;

	*id = *link = NULL;
	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&s->lock);
	rc = list_fresh_locked(s);
	for (size_t i = 0; !rc && i < s->nlist; i++) {
		if (!strcmp(s->list[i].id_file, file)) {
			*id = strdup(s->list[i].id);
			rc = *id ? 0 : -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; !rc && i < s->nlist; i++) {
		if (s->list[i].name_file && !strcmp(s->list[i].name_file, file)) {
			*link = strdup(s->list[i].id_file);
			rc = *link ? 0 : -ENOMEM;
			goto out;
		}
	}
	if (!rc)
		rc = -ENOENT;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int projects_each(struct project *root, int (*fn)(void *ctx, const char *file, const char *link),
		  void *ctx)
{
	struct project_set *s = root->set;
	struct listed *copy = NULL;
	size_t n = 0;
	int rc;

	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&s->lock);
	rc = list_fresh_locked(s);
	if (!rc) {
		/* A copy, so that the filler runs without the lock. */
		copy = calloc(s->nlist + 1, sizeof(*copy));
		for (size_t i = 0; copy && i < s->nlist; i++, n++) {
			copy[i].id_file = strdup(s->list[i].id_file);
			copy[i].name_file =
				s->list[i].name_file ? strdup(s->list[i].name_file) : NULL;
		}
		rc = copy ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; !rc && i < n; i++)
		rc = copy[i].id_file ? fn(ctx, copy[i].id_file, NULL) : -ENOMEM;
	for (size_t i = 0; !rc && i < n; i++)
		if (copy[i].name_file)
			rc = fn(ctx, copy[i].name_file, copy[i].id_file);
	list_free(copy, n);
	return rc;
}

/* ---- members ---------------------------------------------------------- */

/* What a member's model tells the kernel, with the member's prefix. */
static void member_notify(void *ctx, const char *path, enum model_notify kind)
{
	struct member *m = ctx;
	struct project *root = m->set->root;
	char full[4096];

	if (!root->notify)
		return;
	if (snprintf(full, sizeof(full), "%s%s", m->prefix, strcmp(path, "/") ? path : "") >=
	    (int)sizeof(full))
		return;
	root->notify(root->notify_ctx, full, kind);
}

/* The member's session and project: HTTP (a token), no lock held. */
static int member_make(struct member *m)
{
	struct project *root = m->set->root;
	const struct config *cfg = root->sess->cfg;
	const char *own = auth_project_id(root->sess->auth);
	struct auth *auth = root->sess->auth;
	char err[512];
	int rc;

	if (!m->region && (!own || strcmp(m->id, own))) {
		if (!auth_can_rescope(cfg)) {
			log_cloud_error(
				"%s: application credentials are bound to one project (%s, %s): they cannot be scoped to project %s; mount with a password or a token to see it",
				m->prefix + 1, own ? own : "?",
				auth_project_name(root->sess->auth)
					? auth_project_name(root->sess->auth)
					: "?",
				m->id);
			return -EACCES;
		}
		m->auth = auth_new_scoped(cfg, m->id);
		if (!m->auth)
			return -ENOMEM;
		/* the root's way to the cloud (the tests' scripted one too) */
		auth_set_transport(m->auth, auth_transport(root->sess->auth));
		rc = auth_login(m->auth, err, sizeof(err));
		if (rc) {
			log_cloud_error("%s: no token for project %s: %s", m->prefix + 1, m->id,
					err);
			return rc; /* Keystone's refusal is EACCES, a timeout ETIMEDOUT */
		}
		auth = m->auth;
		log_info("%s: token issued for project %s", m->prefix + 1, m->id);
	}
	rc = m->region ? session_init_region(&m->sess, cfg, auth, m->region, err, sizeof(err))
		       : session_init(&m->sess, cfg, auth, err, sizeof(err));
	if (rc) {
		log_cloud_error("%s: %s", m->prefix + 1, err);
		return rc;
	}
	m->sess.extra_header = root->sess->extra_header;
	rc = model_project_init(&m->p, &m->sess, root->ttl_ms, root->neg_ttl_ms);
	if (rc)
		return rc;
	m->p.uid = root->uid;
	m->p.gid = root->gid;
	m->p.notify = member_notify;
	m->p.notify_ctx = m;
	m->p.member = m;
	return 0;
}

/* Unlinks the members to drop now onto *@dead (freed by the caller after
 * the lock): idle ones, failed ones whose failure is forgotten, and the
 * least recently used beyond projects_kept. */
static void sweep_locked(struct project_set *s, struct member **dead)
{
	const struct config *cfg = s->root->sess->cfg;
	const int64_t now = clock_now_ms(), idle_ms = (int64_t)(cfg->projects_idle_s * 1000);
	size_t kept = 0;

	for (struct member **pm = &s->members; *pm;) {
		struct member *m = *pm;
		bool drop = !m->refs && !m->making &&
			    (m->ready ? now - m->used_ms >= idle_ms : now >= m->err_until_ms);

		if (drop) {
			*pm = m->next;
			m->next = *dead;
			*dead = m;
			continue;
		}
		kept += m->ready;
		pm = &m->next;
	}
	while (kept > (size_t)(cfg->projects_kept > 0 ? cfg->projects_kept : 0)) {
		struct member **lru = NULL;

		for (struct member **pm = &s->members; *pm; pm = &(*pm)->next)
			if ((*pm)->ready && !(*pm)->refs &&
			    (!lru || (*pm)->used_seq < (*lru)->used_seq))
				lru = pm;
		if (!lru)
			break; /* all in use: dropped when released */
		struct member *m = *lru;

		*lru = m->next;
		m->next = *dead;
		*dead = m;
		kept--;
	}
}

static void free_list(struct member *dead)
{
	while (dead) {
		struct member *next = dead->next;

		member_free(dead);
		dead = next;
	}
}

/* The member for @id (a reference), made on first use; with @peek, only
 * one already made (-ENODATA otherwise). */
static int member_get(struct project_set *s, const char *id, const char *region, const char *prefix,
		      bool peek, struct member **out)
{
	struct member *m, *dead = NULL;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&s->lock);
	sweep_locked(s, &dead);
again:
	for (m = s->members; m; m = m->next)
		if (!strcmp(m->id, id) &&
		    (region ? m->region && !strcmp(m->region, region) : !m->region))
			break;
	if (m && m->making) {
		if (peek) {
			rc = -ENODATA;
			goto out;
		}
		pthread_cond_wait(&s->cond, &s->lock);
		goto again;
	}
	if (m) {
		if (m->ready) {
			m->refs++;
			m->used_seq = ++s->seq;
			*out = m;
		} else {
			rc = m->err; /* failed a moment ago: not asked again yet */
		}
		goto out;
	}
	if (peek) {
		rc = -ENODATA;
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m || !(m->id = strdup(id)) || !(m->prefix = strdup(prefix)) ||
	    (region && !(m->region = strdup(region)))) {
		member_free(m);
		rc = -ENOMEM;
		goto out;
	}
	m->set = s;
	m->making = true;
	m->refs = 1;
	m->next = s->members;
	s->members = m;
	s->made++;
	pthread_mutex_unlock(&s->lock);
	free_list(dead);
	dead = NULL;

	rc = member_make(m);

	pthread_mutex_lock(&s->lock);
	m->making = false;
	m->used_ms = clock_now_ms();
	m->used_seq = ++s->seq;
	if (rc) {
		m->err = rc;
		m->err_until_ms = clock_now_ms() + s->root->neg_ttl_ms;
		m->refs--;
	} else {
		m->ready = true;
		*out = m;
	}
	pthread_cond_broadcast(&s->cond);
out:
	pthread_mutex_unlock(&s->lock);
	free_list(dead);
	return rc;
}

void projects_leave(struct project *p)
{
	struct member *m = p ? p->member : NULL, *dead = NULL;
	struct project_set *s;

	if (!m)
		return;
	s = m->set;
	pthread_mutex_lock(&s->lock);
	m->refs--;
	m->used_ms = clock_now_ms();
	m->used_seq = ++s->seq;
	sweep_locked(s, &dead);
	pthread_mutex_unlock(&s->lock);
	free_list(dead);
}

/*
 * The project serving @path, and the path below it. A path outside
 * projects/<id>/ is the root's own; so is projects/<id> itself unless
 * @inside (listing it: the member's root). @peek: never make a member.
 */
int projects_enter(struct project *root, const char *path, bool inside, bool peek,
		   struct project **p, const char **sub)
{
	const char *comp, *end, *own;
	char *file = NULL, *id = NULL, *link = NULL, *prefix = NULL;
	bool region = false;
	struct member *m;
	int rc;

	*p = root;
	*sub = path;
	if (!root->set)
		return 0;
	if (!strncmp(path, REGIONS_PREFIX, strlen(REGIONS_PREFIX)))
		region = true;
	else if (strncmp(path, PROJECTS_PREFIX, strlen(PROJECTS_PREFIX)))
		return 0;
	comp = path + strlen(region ? REGIONS_PREFIX : PROJECTS_PREFIX);
	end = strchr(comp, '/');
	if (!*comp || ((!end || !end[1]) && !inside))
		return 0;
	file = strndup(comp, end ? (size_t)(end - comp) : strlen(comp));
	if (!file)
		return -ENOMEM;
	own = auth_project_id(root->sess->auth);
	if (region)
		rc = own ? regions_lookup(root, file, &id) : -ENOENT; /* id: the region */
	else
		rc = projects_lookup(root, file, &id, &link);
	if (!rc && link)
		rc = -ENOTDIR; /* the kernel follows the link itself */
	if (!rc && asprintf(&prefix, "%s%s", region ? REGIONS_PREFIX : PROJECTS_PREFIX, file) < 0) {
		prefix = NULL;
		rc = -ENOMEM;
	}
	if (rc)
		goto out;
	rc = member_get(root->set, region ? own : id, region ? id : NULL, prefix, peek, &m);
	if (rc)
		goto out;
	*p = &m->p;
	*sub = end && end[1] ? end : "/";
out:
	free(file);
	free(id);
	free(link);
	free(prefix);
	return rc;
}

/* ---- regions/ ---------------------------------------------------------- */

/* The regions of the root token's catalog, for the mount's interface. */
static int regions_of(struct project *root, char ***v, size_t *n)
{
	return catalog_regions(auth_catalog(root->sess->auth), config_interface(root->sess->cfg), v,
			       n);
}

int regions_lookup(struct project *root, const char *file, char **region)
{
	char **v = NULL;
	size_t n = 0;
	int rc = root->set ? regions_of(root, &v, &n) : -ENOENT;

	*region = NULL;
	for (size_t i = 0; !rc && i < n && !*region; i++) {
		char *enc = names_encode(v[i]);

		if (!enc)
			rc = -ENOMEM;
		else if (!strcmp(enc, file) && !(*region = strdup(v[i])))
			rc = -ENOMEM;
		free(enc);
	}
	catalog_regions_free(v, n);
	return rc ? rc : *region ? 0 : -ENOENT;
}

int regions_each(struct project *root, int (*fn)(void *ctx, const char *file), void *ctx)
{
	char **v = NULL;
	size_t n = 0;
	int rc = root->set ? regions_of(root, &v, &n) : -ENOENT;

	for (size_t i = 0; !rc && i < n; i++) {
		char *enc = names_encode(v[i]);

		rc = enc ? fn(ctx, enc) : -ENOMEM;
		free(enc);
	}
	catalog_regions_free(v, n);
	return rc;
}

int projects_render_status(struct project *root, struct buf *out)
{
	struct project_set *s = root->set;
	size_t live = 0;
	unsigned made;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (struct member *m = s->members; m; m = m->next)
		live += m->ready;
	made = s->made;
	pthread_mutex_unlock(&s->lock);
	return buf_addf(out, "projects_open %zu\nprojects_made %u\n", live, made);
}

/* ---- the model's entry points, routed --------------------------------- */

#define ROUTED(inside, peek, call)                                             \
	do {                                                                   \
		struct project *p_;                                            \
		const char *sub;                                               \
		int rc_ = projects_enter(root, path, inside, peek, &p_, &sub); \
		if (rc_)                                                       \
			return rc_;                                            \
		rc_ = call;                                                    \
		projects_leave(p_);                                            \
		return rc_;                                                    \
	} while (0)

int model_getattr_seen(struct project *root, const char *path, struct stat *st,
		       struct model_seen *seen)
{
	if (seen)
		memset(seen, 0, sizeof(*seen));
	ROUTED(false, false, model_getattr_in(p_, sub, st, seen));
}

int model_getattr(struct project *root, const char *path, struct stat *st)
{
	return model_getattr_seen(root, path, st, NULL);
}

int model_readdir(struct project *root, const char *path, model_fill_fn fill, void *ctx)
{
	ROUTED(true, false, model_readdir_in(p_, sub, fill, ctx));
}

int model_readlink(struct project *root, const char *path, char *buf, size_t size)
{
	ROUTED(false, false, model_readlink_in(p_, sub, buf, size));
}

int model_read(struct project *root, const char *path, struct buf *out, uint64_t *source)
{
	ROUTED(false, false, model_read_in(p_, sub, out, source));
}

int model_read_from(struct project *root, const char *path, struct cache_val *text, struct buf *out)
{
	ROUTED(false, false, model_read_from_in(p_, sub, text, out));
}

int model_source(struct project *root, const char *path, struct cache_val **text)
{
	*text = NULL;
	ROUTED(false, true, model_source_in(p_, sub, text));
}

int model_open(struct project *root, const char *path, int flags)
{
	ROUTED(false, false, model_open_in(p_, sub, flags));
}

int model_create(struct project *root, const char *path, enum model_wkind *kind)
{
	ROUTED(false, false, model_create_in(p_, sub, kind));
}

int model_open_write(struct project *root, const char *path, enum model_wkind *kind)
{
	ROUTED(false, false, model_open_write_in(p_, sub, kind));
}

int model_commit(struct project *root, const char *path, enum model_wkind kind, const char *data,
		 size_t len)
{
	ROUTED(false, false, model_commit_in(p_, sub, kind, data, len));
}

int model_write_form(struct project *root, const char *path, enum model_wkind kind,
		     enum model_form *form)
{
	*form = MODEL_FORM_TEXT;
	ROUTED(false, false, model_write_form_in(p_, sub, kind, form));
}

void model_done(struct project *root, const char *path)
{
	struct project *p;
	const char *sub;

	if (projects_enter(root, path, false, true, &p, &sub))
		return;
	model_done_in(p, sub);
	projects_leave(p);
}

int model_mkdir(struct project *root, const char *path)
{
	ROUTED(false, false, model_mkdir_in(p_, sub));
}

int model_rmdir(struct project *root, const char *path)
{
	ROUTED(false, false, model_rmdir_in(p_, sub));
}

int model_unlink(struct project *root, const char *path)
{
	ROUTED(false, false, model_unlink_in(p_, sub));
}

int model_symlink(struct project *root, const char *target, const char *path)
{
	ROUTED(false, false, model_symlink_in(p_, target, sub));
}

int model_statfs(struct project *root, const char *path, struct statvfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = 4096;
	st->f_namemax = 255;
	ROUTED(false, false, model_statfs_in(p_, sub, st));
}
