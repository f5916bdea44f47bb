/* SPDX-License-Identifier: MIT */
/*
 * The helpers the core gives member-extra hooks (include/cloudfs/service.h):
 * requests below a member or on its service, references into other
 * collections, link targets, and "this changed". A hook never sees the
 * session, the cache or the notifier; it goes through these.
 * Layer: core.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/clock.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "model_int.h"

int svc_request_member(const struct extra_ctx *x, const char *method, const char *below,
		       const char *key, const json_t *body, json_t **answer)
{
	char *path = api_item_path(x->coll, x->id, below, key);
	int rc;

	if (!path)
		return -ENOMEM;
	rc = svc_request_json(x, method, path, body, answer);
	free(path);
	return rc;
}

/* The JSON form of svc_request_extra(): one request path for every hook,
 * whatever its context or body (svc_call.c). */
int svc_request_json(const struct extra_ctx *x, const char *method, const char *path,
		     const json_t *body, json_t **answer)
{
	struct svc_answer a;
	char *text = NULL;
	int rc;

	if (answer)
		*answer = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!text)
			return -ENOMEM;
	}
	rc = svc_request_extra(x, method, path, NULL, text, text ? strlen(text) : 0, NULL,
			       answer ? &a : NULL);
	if (!rc && answer) {
		*answer = a.json; /* moved: the answer's reference is the caller's */
		a.json = NULL;
	}
	if (answer)
		svc_answer_free(&a);
	free(text);
	return rc;
}

int extra_find_ref(const struct extra_ctx *x, const char *coll, const char *ref, char **id,
		   char *err, size_t errlen)
{
	const struct collection_def *c = collection_find(coll);

	*id = NULL;
	if (!c) {
		snprintf(err, errlen, "no collection '%s'", coll);
		return -EINVAL;
	}
	return model_find_ref(x->project, c, ref, id, err, errlen);
}

/* The link sits at <coll>/<member>/<extra>[/<sub>...]: one ".." per
 * component below the root but itself. */
char *extra_link_to(const struct extra_ctx *x, const char *coll, const char *id)
{
	size_t up = 2 + x->nsub;
	char *file = names_encode(id), *link = NULL;
	struct buf b;

	if (!file)
		return NULL;
	buf_init(&b, CFS_MAX_BODY);
	for (size_t i = 0; i < up; i++)
		if (buf_addstr(&b, "../"))
			goto out;
	if (buf_addstr(&b, coll) || buf_addstr(&b, "/") || buf_addstr(&b, file))
		goto out;
	link = b.data;
	b.data = NULL;
out:
	buf_free(&b);
	free(file);
	return link;
}

void extra_changed(const struct extra_ctx *x, const char *coll, const char *id)
{
	const struct collection_def *c = coll ? collection_find(coll) : x->coll;

	/* Expired, not dropped: the refetch compares and notifies. */
	if (c)
		model_forget(x->project, c, id);
	/* ... and every directory of its tree (objects/), if it has one. */
	if (c && id)
		model_tree_forget(x->project, c, id);
}

int extra_refetch(const struct extra_ctx *x, json_t **doc)
{
	struct cache_val *dv = NULL, *parsed = NULL;
	char key[MODEL_ID_MAX + 64];
	int rc;

	*doc = NULL;
	/* Only the member: its listing stays what it was. */
	model_res_key(key, sizeof(key), "R", x->coll, x->id);
	cache_expire(x->project->cache, key);
	rc = model_get_item(x->project, x->coll, x->id, &dv);
	if (!rc)
		rc = model_doc_parse(x->project, dv, &parsed);
	if (!rc)
		*doc = json_incref(parsed->data);
	cache_val_unref(parsed);
	cache_val_unref(dv);
	return rc;
}

/* How often a sleeping hook looks for an interruption. */
#define EXTRA_SLEEP_SLICE_MS 50

int extra_sleep(const struct extra_ctx *x, int64_t ms)
{
	int64_t end = clock_now_ms() + ms;

	(void)x;
	for (;;) {
		int64_t left = end - clock_now_ms();

		if (api_cancelled())
			return -EINTR;
		if (left <= 0)
			return 0;
		clock_sleep_ms(left < EXTRA_SLEEP_SLICE_MS ? left : EXTRA_SLEEP_SLICE_MS);
	}
}

static void json_destroy(void *data)
{
	json_decref(data);
}

struct below {
	const struct extra_ctx *x;
	const char *below;
};

/* GETs what extra_get() caches: the answer, kept as the member is. */
static int fetch_below(void *arg, struct cache_val **out, int64_t *ttl_ms)
{
	struct below *f = arg;
	json_t *answer = NULL;
	int rc = svc_request_member(f->x, "GET", f->below, NULL, NULL, &answer);

	if (rc)
		return rc;
	if (!answer)
		return -EIO; /* a 2xx without a JSON body */
	*ttl_ms = model_doc_ttl(f->x->project, f->x->coll, f->x->doc);
	*out = cache_val_new(answer, json_destroy);
	if (!*out) {
		json_decref(answer);
		return -ENOMEM;
	}
	return 0;
}

int extra_get(const struct extra_ctx *x, const char *below, json_t **answer)
{
	struct below f = { x, below };
	struct cache_val *v = NULL;
	char key[MODEL_ID_MAX + 256];
	int rc;

	*answer = NULL;
	model_res_key(key, sizeof(key), "X", x->coll, x->id);
	if (strlen(key) + 2 + strlen(below) >= sizeof(key))
		return -ENAMETOOLONG;
	strcat(key, "/@");
	strcat(key, below);
	rc = cache_get(x->project->cache, key, fetch_below, &f, x->project->ttl_ms, 0, &v);
	if (rc)
		return rc;
	/* Shared read-only; jansson's reference counts are atomic. */
	*answer = json_incref(v->data);
	cache_val_unref(v);
	return 0;
}

/*
 * Create secrets: what a create answered once and the cloud never shows
 * again (Nova's generated private key). A short list (creates that had
 * one since mount, until each is read), kept out of the cache so that no
 * listing, json file or log can carry it.
 */
struct model_secret {
	struct model_secret *next;
	const struct collection_def *c;
	char *id;
	char *text; /* wiped before it is freed */
	size_t len;
};

static void secret_free(struct model_secret *s)
{
	explicit_bzero(s->text, s->len);
	free(s->text);
	free(s->id);
	free(s);
}

/* The link that points at member @id's secret. Call with pending_lock. */
static struct model_secret **secret_find(struct project *p, const struct collection_def *c,
					 const char *id)
{
	struct model_secret **at = &p->secrets;

	while (*at && ((*at)->c != c || strcmp((*at)->id, id)))
		at = &(*at)->next;
	return at;
}

int model_secret_keep(struct project *p, const struct collection_def *c, const char *id,
		      const char *text, size_t len)
{
	struct model_secret *s = calloc(1, sizeof(*s));

	if (!s || !(s->id = strdup(id)) || !(s->text = malloc(len + 1))) {
		if (s)
			free(s->id);
		free(s);
		return -ENOMEM;
	}
	memcpy(s->text, text, len);
	s->text[len] = '\0';
	s->len = len;
	s->c = c;
	model_secret_drop(p, c, id);
	pthread_mutex_lock(&p->pending_lock);
	s->next = p->secrets;
	p->secrets = s;
	pthread_mutex_unlock(&p->pending_lock);
	return 0;
}

void model_secret_drop(struct project *p, const struct collection_def *c, const char *id)
{
	struct model_secret **at, *s = NULL;

	pthread_mutex_lock(&p->pending_lock);
	at = secret_find(p, c, id);
	if (*at) {
		s = *at;
		*at = s->next;
	}
	pthread_mutex_unlock(&p->pending_lock);
	if (s)
		secret_free(s);
}

void model_secrets_free(struct project *p)
{
	while (p->secrets) {
		struct model_secret *next = p->secrets->next;

		secret_free(p->secrets);
		p->secrets = next;
	}
}

/* The secret's file is gone: the kernel forgets its entry. */
static void secret_gone(const struct extra_ctx *x)
{
	char *file = names_encode(x->id), *path = NULL;

	if (file && asprintf(&path, "/%s/%s/%s", x->coll->name, file, x->extra->name) >= 0)
		model_notify_later(x->project, path);
	free(path);
	free(file);
}

int extra_secret(const struct extra_ctx *x, struct buf *out)
{
	struct project *p = x->project;
	struct model_secret **at, *taken = NULL;
	int rc = -ENOENT;

	pthread_mutex_lock(&p->pending_lock);
	at = secret_find(p, x->coll, x->id);
	if (*at) {
		rc = out ? buf_add(out, (*at)->text, (*at)->len) : 0;
		if (!rc && out && x->reading) {
			taken = *at;
			*at = taken->next;
		}
	}
	pthread_mutex_unlock(&p->pending_lock);
	if (taken) {
		log_info("%s/%s: the create's secret was read; it is forgotten", x->coll->name,
			 x->id);
		secret_free(taken);
		secret_gone(x);
	}
	return rc;
}

const char *extra_microversion(const struct extra_ctx *x)
{
	return session_version(x->project->sess, x->coll->service);
}
