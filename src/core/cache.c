/* SPDX-License-Identifier: MIT */
/*
 * TTL cache. Layer: below model. A chained hash table under one mutex;
 * fetches run without the lock (never hold a lock across I/O). Expired
 * entries are swept whenever the table doubles since the last sweep, so
 * memory stays proportional to what was fetched within one TTL.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/cache.h"
#include "cloudfs/clock.h"

struct entry {
	char *key;
	struct cache_val *val; /* NULL for a negative entry */
	int err; /* negative entries: the -errno */
	int64_t expires_ms;
	struct entry *next;
};

/* A fetch in progress; waiters sleep on c->done until it finishes. */
struct flight {
	char *key;
	bool done;
	int rc;
	struct cache_val *val;
	int refs; /* the leader plus each waiter */
	struct flight *next;
};

struct cache {
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct entry **buckets; /* protected by lock */
	size_t nbuckets; /* protected by lock */
	size_t count; /* protected by lock */
	size_t swept_at; /* protected by lock: count after the last sweep */
	uint64_t generation; /* protected by lock */
	struct flight *flights; /* protected by lock */
	struct cache_stats stats; /* protected by lock */
};

static uint64_t next_serial; /* atomic */

struct cache_val *cache_val_new(void *data, void (*destroy)(void *data))
{
	struct cache_val *v = malloc(sizeof(*v));

	if (!v) {
		destroy(data);
		return NULL;
	}
	v->refs = 1;
	v->data = data;
	v->destroy = destroy;
	v->fetched_ms = clock_now_ms();
	v->serial = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
	return v;
}

struct cache_val *cache_val_ref(struct cache_val *v)
{
	__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	return v;
}

void cache_val_unref(struct cache_val *v)
{
	if (v && __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		v->destroy(v->data);
		free(v);
	}
}

struct cache *cache_new(void)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nbuckets = 1024;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	c->swept_at = 1024;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->done, NULL);
	return c;
}

static void entry_free(struct entry *e)
{
	cache_val_unref(e->val);
	free(e->key);
	free(e);
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	cache_clear(c);
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->done);
	free(c);
}

static size_t hash(const char *s)
{
	return (size_t)cfs_fnv1a(s, strlen(s));
}

static struct entry **slot(struct cache *c, const char *key)
{
	struct entry **p = &c->buckets[hash(key) & (c->nbuckets - 1)];

	while (*p && strcmp((*p)->key, key))
		p = &(*p)->next;
	return p;
}

static void remove_at(struct cache *c, struct entry **p)
{
	struct entry *e = *p;

	*p = e->next;
	c->count--;
	entry_free(e);
}

static void sweep(struct cache *c)
{
	int64_t now = clock_now_ms();

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry **p = &c->buckets[i];

		while (*p) {
			if ((*p)->expires_ms <= now)
				remove_at(c, p);
			else
				p = &(*p)->next;
		}
	}
	c->swept_at = c->count > 1024 ? c->count : 1024;
}

static void grow(struct cache *c)
{
	size_t n = c->nbuckets * 2;
	struct entry **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* a fuller table is slower, not wrong */
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry *e = c->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[hash(e->key) & (n - 1)];
			b[hash(e->key) & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

/* Live lookup under c->lock. */
static int lookup_locked(struct cache *c, const char *key, struct cache_val **out)
{
	struct entry **p = slot(c, key);

	if (!*p)
		return -ENODATA;
	/* An expired entry stays until swept or replaced: cache_peek() lets
	 * the refetch compare old with new. */
	if ((*p)->expires_ms <= clock_now_ms())
		return -ENODATA;
	if (!(*p)->val)
		return (*p)->err;
	*out = cache_val_ref((*p)->val);
	return 0;
}

int cache_lookup(struct cache *c, const char *key, struct cache_val **out)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = lookup_locked(c, key, out);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cache_peek(struct cache *c, const char *key, struct cache_val **out)
{
	struct entry **p;
	int rc = -ENODATA;

	pthread_mutex_lock(&c->lock);
	p = slot(c, key);
	if (*p && (*p)->val) {
		*out = cache_val_ref((*p)->val);
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static int put_locked(struct cache *c, const char *key, struct cache_val *v, int err,
		      int64_t ttl_ms)
{
	struct entry **p = slot(c, key), *e;

	if (*p) {
		e = *p;
		cache_val_unref(e->val);
	} else {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->key = strdup(key);
		if (!e->key) {
			free(e);
			return -ENOMEM;
		}
		*p = e;
		c->count++;
	}
	e->val = v ? cache_val_ref(v) : NULL;
	e->err = err;
	e->expires_ms = clock_now_ms() + ttl_ms;
	if (c->count > 2 * c->swept_at)
		sweep(c);
	if (c->count > 2 * c->nbuckets)
		grow(c);
	return 0;
}

int cache_put(struct cache *c, const char *key, struct cache_val *v, int64_t ttl_ms)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = put_locked(c, key, v, 0, ttl_ms);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cache_put_negative(struct cache *c, const char *key, int err, int64_t ttl_ms)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = put_locked(c, key, NULL, err, ttl_ms);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void cache_invalidate(struct cache *c, const char *key)
{
	struct entry **p;

	pthread_mutex_lock(&c->lock);
	p = slot(c, key);
	if (*p)
		remove_at(c, p);
	c->generation++;
	pthread_mutex_unlock(&c->lock);
}

void cache_invalidate_prefix(struct cache *c, const char *prefix)
{
	size_t n = strlen(prefix);

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry **p = &c->buckets[i];

		while (*p) {
			if (!strncmp((*p)->key, prefix, n))
				remove_at(c, p);
			else
				p = &(*p)->next;
		}
	}
	c->generation++;
	pthread_mutex_unlock(&c->lock);
}

void cache_expire(struct cache *c, const char *key)
{
	struct entry *e;
	int64_t now = clock_now_ms();

	pthread_mutex_lock(&c->lock);
	e = *slot(c, key);
	if (e && e->expires_ms > now)
		e->expires_ms = now;
	c->generation++;
	pthread_mutex_unlock(&c->lock);
}

void cache_expire_prefix(struct cache *c, const char *prefix)
{
	size_t n = strlen(prefix);
	int64_t now = clock_now_ms();

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct entry *e = c->buckets[i]; e; e = e->next)
			if (!strncmp(e->key, prefix, n) && e->expires_ms > now)
				e->expires_ms = now;
	c->generation++;
	pthread_mutex_unlock(&c->lock);
}

void cache_clear(struct cache *c)
{
	cache_invalidate_prefix(c, "");
}

static void flight_put(struct cache *c, struct flight *f)
{
	if (--f->refs)
		return;
	(void)c;
	cache_val_unref(f->val);
	free(f->key);
	free(f);
}

int cache_get(struct cache *c, const char *key, cache_fetch_fn fetch, void *arg, int64_t ttl_ms,
	      int64_t neg_ttl_ms, struct cache_val **out)
{
	struct cache_val *v = NULL;
	struct flight *f;
	uint64_t gen;
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = lookup_locked(c, key, out);
	if (rc != -ENODATA) {
		c->stats.hits++;
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	c->stats.misses++;
	for (f = c->flights; f; f = f->next) {
		if (!strcmp(f->key, key))
			break;
	}
	if (f) {
		/* Someone is fetching this already: share the answer. */
		c->stats.coalesced++;
		f->refs++;
		while (!f->done)
			pthread_cond_wait(&c->done, &c->lock);
		rc = f->rc;
		if (!rc)
			*out = cache_val_ref(f->val);
		flight_put(c, f);
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->key = strdup(key))) {
		free(f);
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	f->refs = 1;
	f->next = c->flights;
	c->flights = f;
	c->stats.fetches++;
	gen = c->generation;
	pthread_mutex_unlock(&c->lock);

	rc = fetch(arg, &v, &ttl_ms);

	pthread_mutex_lock(&c->lock);
	/* An invalidation during the fetch means the answer may predate a
	 * change we made: hand it to the waiters, but don't keep it. */
	if (c->generation == gen) {
		if (!rc)
			(void)put_locked(c, key, v, 0, ttl_ms);
		else if (rc == -ENOENT && neg_ttl_ms > 0)
			(void)put_locked(c, key, NULL, rc, neg_ttl_ms);
	}
	f->rc = rc;
	f->val = v; /* the flight owns the fetched reference */
	f->done = true;
	for (struct flight **p = &c->flights; *p; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			break;
		}
	}
	pthread_cond_broadcast(&c->done);
	if (!rc)
		*out = cache_val_ref(v);
	flight_put(c, f);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void cache_get_stats(struct cache *c, struct cache_stats *st)
{
	pthread_mutex_lock(&c->lock);
	*st = c->stats;
	st->entries = c->count;
	pthread_mutex_unlock(&c->lock);
}
