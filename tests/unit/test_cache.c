/* SPDX-License-Identifier: MIT */
/* TTL cache with negative entries and single-flight fetches (cache.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/cache.h"
#include "cloudfs/clock.h"

#define T0 1000000 /* fake monotonic start, ms */

/* ---- values whose destruction we can count ------------------------------ */

#define MAX_IDS 64
static atomic_int destroyed[MAX_IDS];

static void tval_destroy(void *data)
{
	int *id = data;

	atomic_fetch_add(&destroyed[*id], 1);
	free(id);
}

static struct cache_val *tval_new(int id)
{
	int *data = malloc(sizeof(*data));
	struct cache_val *v;

	assert_non_null(data);
	*data = id;
	v = cache_val_new(data, tval_destroy);
	assert_non_null(v);
	assert_int_equal(v->refs, 1);
	return v;
}

static int tval_id(const struct cache_val *v)
{
	return *(const int *)v->data;
}

static int setup(void **state)
{
	struct cache *c = cache_new();

	for (int i = 0; i < MAX_IDS; i++)
		atomic_store(&destroyed[i], 0);
	clock_set_fake(T0, 1700000000);
	*state = c;
	return c ? 0 : -1;
}

static int teardown(void **state)
{
	cache_free(*state);
	clock_set_fake(-1, -1);
	return 0;
}

static struct cache_stats stats(struct cache *c)
{
	struct cache_stats st;

	cache_get_stats(c, &st);
	return st;
}

/* ---- put / lookup / expiry ---------------------------------------------- */

static void test_put_lookup(void **state)
{
	struct cache *c = *state;
	struct cache_val *v = tval_new(1), *got = NULL;

	assert_int_equal(cache_lookup(c, "/servers", &got), -ENODATA);
	assert_null(got);
	assert_int_equal(cache_put(c, "/servers", v, 5000), 0);
	assert_int_equal(v->refs, 2); /* ours and the cache's */
	assert_int_equal(cache_lookup(c, "/servers", &got), 0);
	assert_ptr_equal(got, v);
	assert_int_equal(v->refs, 3);
	cache_val_unref(got);
	/* Keys are whole strings, not prefixes. */
	assert_int_equal(cache_lookup(c, "/server", &got), -ENODATA);
	assert_int_equal(cache_lookup(c, "/servers/", &got), -ENODATA);
	assert_int_equal(stats(c).entries, 1);
	cache_val_unref(v);
	assert_int_equal(atomic_load(&destroyed[1]), 0); /* the cache still holds it */
}

/* Serials tell values apart where addresses cannot: a freed value's
 * address may come back for the next one. */
static void test_serials_are_never_reused(void **state)
{
	struct cache_val *a = tval_new(2), *b;
	uint64_t first = a->serial;

	(void)state;
	assert_int_not_equal(first, 0);
	cache_val_unref(a);
	b = tval_new(3);
	assert_true(b->serial > first);
	assert_int_equal(cache_val_ref(b)->serial, b->serial);
	cache_val_unref(b);
	cache_val_unref(b);
}

static void test_expiry_exactly_at_ttl(void **state)
{
	struct cache *c = *state;
	struct cache_val *v = tval_new(1), *got = NULL;

	assert_int_equal(cache_put(c, "k", v, 100), 0);
	cache_val_unref(v);
	clock_set_fake(T0 + 99, 1700000000);
	assert_int_equal(cache_lookup(c, "k", &got), 0);
	cache_val_unref(got);
	clock_set_fake(T0 + 100, 1700000000);
	got = NULL;
	assert_int_equal(cache_lookup(c, "k", &got), -ENODATA);
	assert_null(got);
	/* The expired value stays for cache_peek() until replaced. */
	assert_int_equal(cache_peek(c, "k", &got), 0);
	assert_int_equal(tval_id(got), 1);
	cache_val_unref(got);
	assert_int_equal(atomic_load(&destroyed[1]), 0);
	v = tval_new(2);
	assert_int_equal(cache_put(c, "k", v, 100), 0);
	cache_val_unref(v);
	assert_int_equal(atomic_load(&destroyed[1]), 1);
	assert_int_equal(stats(c).entries, 1);
	/* Nothing to peek at for a missing key or a negative entry. */
	assert_int_equal(cache_put_negative(c, "n", -ENOENT, 100), 0);
	got = NULL;
	assert_int_equal(cache_peek(c, "n", &got), -ENODATA);
	assert_int_equal(cache_peek(c, "missing", &got), -ENODATA);
	assert_null(got);
}

static void test_put_replaces(void **state)
{
	struct cache *c = *state;
	struct cache_val *a = tval_new(1), *b = tval_new(2), *got = NULL;

	assert_int_equal(cache_put(c, "k", a, 100), 0);
	cache_val_unref(a);
	assert_int_equal(cache_put(c, "k", b, 1000), 0);
	cache_val_unref(b);
	assert_int_equal(atomic_load(&destroyed[1]), 1); /* the old value was released */
	assert_int_equal(atomic_load(&destroyed[2]), 0);
	assert_int_equal(stats(c).entries, 1);
	/* The new TTL applies. */
	clock_set_fake(T0 + 500, 1700000000);
	assert_int_equal(cache_lookup(c, "k", &got), 0);
	assert_int_equal(tval_id(got), 2);
	cache_val_unref(got);
	/* A negative entry replaces a positive one too. */
	assert_int_equal(cache_put_negative(c, "k", -ENOENT, 100), 0);
	assert_int_equal(atomic_load(&destroyed[2]), 1);
	assert_int_equal(cache_lookup(c, "k", &got), -ENOENT);
}

static void test_negative_entries(void **state)
{
	struct cache *c = *state;
	struct cache_val *got = NULL;

	assert_int_equal(cache_put_negative(c, "gone", -ENOENT, 50), 0);
	assert_int_equal(cache_put_negative(c, "denied", -EACCES, 200), 0);
	assert_int_equal(cache_lookup(c, "gone", &got), -ENOENT);
	assert_null(got);
	assert_int_equal(cache_lookup(c, "denied", &got), -EACCES);
	assert_null(got);
	clock_set_fake(T0 + 49, 1700000000);
	assert_int_equal(cache_lookup(c, "gone", &got), -ENOENT);
	clock_set_fake(T0 + 50, 1700000000);
	assert_int_equal(cache_lookup(c, "gone", &got), -ENODATA);
	assert_int_equal(cache_lookup(c, "denied", &got), -EACCES);
	clock_set_fake(T0 + 200, 1700000000);
	assert_int_equal(cache_lookup(c, "denied", &got), -ENODATA);
	assert_null(got);
}

static void test_invalidate(void **state)
{
	static const char *const keys[] = { "/servers",	 "/servers/1", "/servers/1/name",
					    "/servers2", "/images/1",  "/server" };
	struct cache *c = *state;
	struct cache_val *got;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct cache_val *v = tval_new((int)i);

		assert_int_equal(cache_put(c, keys[i], v, 1000), 0);
		cache_val_unref(v);
	}
	assert_int_equal(cache_put_negative(c, "/servers/9", -ENOENT, 1000), 0);
	assert_int_equal(stats(c).entries, 7);

	cache_invalidate(c, "/servers/1");
	assert_int_equal(cache_lookup(c, "/servers/1", &got), -ENODATA);
	assert_int_equal(atomic_load(&destroyed[1]), 1);
	assert_int_equal(cache_lookup(c, "/servers/1/name", &got), 0);
	cache_val_unref(got);
	cache_invalidate(c, "/not-there"); /* harmless */
	assert_int_equal(stats(c).entries, 6);

	/* Prefix: "/servers/" takes the members and the negative entry, not
	 * the listing "/servers" nor "/servers2". */
	cache_invalidate_prefix(c, "/servers/");
	assert_int_equal(cache_lookup(c, "/servers/1/name", &got), -ENODATA);
	assert_int_equal(cache_lookup(c, "/servers/9", &got), -ENODATA);
	assert_int_equal(cache_lookup(c, "/servers", &got), 0);
	cache_val_unref(got);
	assert_int_equal(cache_lookup(c, "/servers2", &got), 0);
	cache_val_unref(got);
	assert_int_equal(cache_lookup(c, "/server", &got), 0);
	cache_val_unref(got);
	assert_int_equal(stats(c).entries, 4);

	/* Expiring keeps the value for cache_peek(), not for lookups. */
	cache_expire_prefix(c, "/servers2");
	assert_int_equal(cache_lookup(c, "/servers2", &got), -ENODATA);
	assert_int_equal(cache_peek(c, "/servers2", &got), 0);
	cache_val_unref(got);
	assert_int_equal(cache_lookup(c, "/server", &got), 0);
	cache_val_unref(got);
	/* One key exactly: "/servers" stays. */
	cache_expire(c, "/server");
	assert_int_equal(cache_lookup(c, "/server", &got), -ENODATA);
	assert_int_equal(cache_peek(c, "/server", &got), 0);
	cache_val_unref(got);
	assert_int_equal(cache_lookup(c, "/servers", &got), 0);
	cache_val_unref(got);
	assert_int_equal(stats(c).entries, 4);

	cache_clear(c);
	assert_int_equal(stats(c).entries, 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(cache_lookup(c, keys[i], &got), -ENODATA);
		assert_int_equal(atomic_load(&destroyed[i]), 1);
	}
}

/* ---- cache_get ----------------------------------------------------------- */

struct fetch_arg {
	atomic_int calls;
	int rc; /* what the fetch returns */
	int id; /* the value it returns on 0 */
	struct cache *c;
	const char *invalidate; /* invalidated from inside the fetch */
	const char *side_key; /* cache_put from inside the fetch */
};

static int fetch_fn(void *p, struct cache_val **out, int64_t *ttl_ms)
{
	(void)ttl_ms;
	struct fetch_arg *a = p;

	atomic_fetch_add(&a->calls, 1);
	if (a->side_key) {
		struct cache_val *side = tval_new(a->id + 1);

		assert_int_equal(cache_put(a->c, a->side_key, side, 1000), 0);
		cache_val_unref(side);
	}
	if (a->invalidate)
		cache_invalidate(a->c, a->invalidate);
	if (a->rc)
		return a->rc;
	*out = tval_new(a->id);
	return 0;
}

static void test_get_fetches_once_within_ttl(void **state)
{
	struct cache *c = *state;
	struct fetch_arg a = { .id = 3, .c = c };
	struct cache_val *v1 = NULL, *v2 = NULL, *v3 = NULL;

	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 100, 50, &v1), 0);
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_int_equal(tval_id(v1), 3);
	clock_set_fake(T0 + 99, 1700000000);
	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 100, 50, &v2), 0);
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_ptr_equal(v1, v2);
	clock_set_fake(T0 + 100, 1700000000);
	a.id = 4;
	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 100, 50, &v3), 0);
	assert_int_equal(atomic_load(&a.calls), 2);
	assert_int_equal(tval_id(v3), 4);
	/* The first value lives on while we hold it, then goes exactly once. */
	assert_int_equal(atomic_load(&destroyed[3]), 0);
	cache_val_unref(v1);
	assert_int_equal(atomic_load(&destroyed[3]), 0);
	cache_val_unref(v2);
	assert_int_equal(atomic_load(&destroyed[3]), 1);
	cache_val_unref(v3);
	assert_int_equal(atomic_load(&destroyed[4]), 0); /* still cached */
	struct cache_stats st = stats(c);

	assert_int_equal(st.fetches, 2);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 2);
}

static void test_get_enoent_cached_for_neg_ttl(void **state)
{
	struct cache *c = *state;
	struct fetch_arg a = { .rc = -ENOENT, .c = c };
	struct cache_val *v = NULL;

	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 50, &v), -ENOENT);
	assert_null(v);
	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 50, &v), -ENOENT);
	assert_int_equal(atomic_load(&a.calls), 1);
	clock_set_fake(T0 + 49, 1700000000);
	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 50, &v), -ENOENT);
	assert_int_equal(atomic_load(&a.calls), 1);
	/* After the negative TTL (not the positive one) it asks again, and a
	 * resource that appeared meanwhile is found. */
	clock_set_fake(T0 + 50, 1700000000);
	a.rc = 0;
	a.id = 5;
	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 50, &v), 0);
	assert_int_equal(atomic_load(&a.calls), 2);
	assert_int_equal(tval_id(v), 5);
	cache_val_unref(v);
}

static void test_get_other_errors_not_cached(void **state)
{
	static const int errs[] = { -EIO, -EACCES, -ETIMEDOUT, -EAGAIN };
	struct cache *c = *state;
	struct cache_val *v = NULL;

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct fetch_arg a = { .rc = errs[i], .c = c };

		assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 1000, &v), errs[i]);
		assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 1000, &v), errs[i]);
		assert_int_equal(atomic_load(&a.calls), 2);
		assert_null(v);
		assert_int_equal(stats(c).entries, 0);
	}
	/* -ENOENT with no negative TTL is not cached either. */
	struct fetch_arg a = { .rc = -ENOENT, .c = c };

	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 0, &v), -ENOENT);
	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 0, &v), -ENOENT);
	assert_int_equal(atomic_load(&a.calls), 2);
}

/* A change made while the fetch was on the wire: the caller gets the answer
 * but the cache must not keep it. */
static void test_get_invalidated_during_fetch(void **state)
{
	struct cache *c = *state;
	struct fetch_arg a = { .id = 6, .c = c, .invalidate = "k" };
	struct cache_val *v = NULL, *got = NULL;

	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 1000, &v), 0);
	assert_non_null(v);
	assert_int_equal(tval_id(v), 6);
	assert_int_equal(v->refs, 1); /* only ours: the cache kept none */
	assert_int_equal(cache_lookup(c, "k", &got), -ENODATA);
	cache_val_unref(v);
	assert_int_equal(atomic_load(&destroyed[6]), 1);
	/* The next get fetches again, and this time stores. */
	a.invalidate = NULL;
	assert_int_equal(cache_get(c, "k", fetch_fn, &a, 1000, 1000, &v), 0);
	assert_int_equal(atomic_load(&a.calls), 2);
	assert_int_equal(cache_lookup(c, "k", &got), 0);
	assert_ptr_equal(got, v);
	cache_val_unref(got);
	cache_val_unref(v);

	/* Any invalidation counts (a prefix one, for another key): the
	 * answer may predate it. A negative answer is not stored either. */
	struct fetch_arg b = { .rc = -ENOENT, .c = c, .invalidate = "other" };

	assert_int_equal(cache_get(c, "n", fetch_fn, &b, 1000, 1000, &v), -ENOENT);
	assert_int_equal(cache_lookup(c, "n", &got), -ENODATA);
}

/* A fetch may cache_put related keys (a listing caching its members). */
static void test_get_fetch_puts_related(void **state)
{
	struct cache *c = *state;
	struct fetch_arg a = { .id = 7, .c = c, .side_key = "/servers/1" };
	struct cache_val *v = NULL, *got = NULL;

	assert_int_equal(cache_get(c, "/servers", fetch_fn, &a, 1000, 1000, &v), 0);
	cache_val_unref(v);
	assert_int_equal(cache_lookup(c, "/servers", &got), 0);
	assert_int_equal(tval_id(got), 7);
	cache_val_unref(got);
	assert_int_equal(cache_lookup(c, "/servers/1", &got), 0);
	assert_int_equal(tval_id(got), 8);
	cache_val_unref(got);
}

/* ---- single flight --------------------------------------------------------- */

#define NTHREADS 8

struct flight_arg {
	struct cache *c;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool release; /* protected by lock */
	atomic_int calls;
	struct cache_val *got[NTHREADS];
	int rc[NTHREADS];
	atomic_int next_slot;
};

static int blocking_fetch(void *p, struct cache_val **out, int64_t *ttl_ms)
{
	(void)ttl_ms;
	struct flight_arg *f = p;

	atomic_fetch_add(&f->calls, 1);
	pthread_mutex_lock(&f->lock);
	while (!f->release)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
	*out = tval_new(9);
	return 0;
}

static void *flight_thread(void *p)
{
	struct flight_arg *f = p;
	int slot = atomic_fetch_add(&f->next_slot, 1);

	f->rc[slot] = cache_get(f->c, "/servers", blocking_fetch, f, 1000, 1000, &f->got[slot]);
	return NULL;
}

static void test_single_flight(void **state)
{
	struct flight_arg f = { .c = *state };
	pthread_t th[NTHREADS];
	int waited_ms = 0;

	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.cond, NULL);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, flight_thread, &f), 0);
	/* Every other thread must end up waiting on the one fetch. The clock
	 * is fake, so entries cannot expire while we wait in real time. */
	while (stats(f.c).coalesced < NTHREADS - 1 && waited_ms < 5000) {
		clock_sleep_ms(2);
		waited_ms += 2;
	}
	assert_int_equal(atomic_load(&f.calls), 1);
	pthread_mutex_lock(&f.lock);
	f.release = true;
	pthread_cond_broadcast(&f.cond);
	pthread_mutex_unlock(&f.lock);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);

	struct cache_stats st = stats(f.c);

	assert_int_equal(atomic_load(&f.calls), 1);
	assert_int_equal(st.fetches, 1);
	assert_int_equal(st.coalesced, NTHREADS - 1);
	assert_int_equal(st.misses, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(f.rc[i], 0);
		assert_non_null(f.got[i]);
		assert_ptr_equal(f.got[i], f.got[0]);
	}
	/* NTHREADS references handed out plus the cache's own. */
	assert_int_equal(f.got[0]->refs, NTHREADS + 1);
	for (int i = 0; i < NTHREADS; i++)
		cache_val_unref(f.got[i]);
	assert_int_equal(atomic_load(&destroyed[9]), 0);
	cache_clear(f.c);
	assert_int_equal(atomic_load(&destroyed[9]), 1);
	pthread_mutex_destroy(&f.lock);
	pthread_cond_destroy(&f.cond);
}

/* Waiters share an error too, and nobody caches it. */
static int blocking_fail(void *p, struct cache_val **out, int64_t *ttl_ms)
{
	(void)ttl_ms;
	(void)out;
	blocking_fetch(p, out, ttl_ms);
	cache_val_unref(*out);
	*out = NULL;
	return -EIO;
}

static void *fail_thread(void *p)
{
	struct flight_arg *f = p;
	int slot = atomic_fetch_add(&f->next_slot, 1);

	f->rc[slot] = cache_get(f->c, "/x", blocking_fail, f, 1000, 1000, &f->got[slot]);
	return NULL;
}

static void test_single_flight_error(void **state)
{
	struct flight_arg f = { .c = *state };
	pthread_t th[NTHREADS];
	int waited_ms = 0;

	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.cond, NULL);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, fail_thread, &f), 0);
	while (stats(f.c).coalesced < NTHREADS - 1 && waited_ms < 5000) {
		clock_sleep_ms(2);
		waited_ms += 2;
	}
	pthread_mutex_lock(&f.lock);
	f.release = true;
	pthread_cond_broadcast(&f.cond);
	pthread_mutex_unlock(&f.lock);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(atomic_load(&f.calls), 1);
	assert_int_equal(stats(f.c).coalesced, NTHREADS - 1);
	assert_int_equal(stats(f.c).entries, 0);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(f.rc[i], -EIO);
		assert_null(f.got[i]);
	}
	assert_int_equal(atomic_load(&destroyed[9]), 1); /* the discarded value */
	pthread_mutex_destroy(&f.lock);
	pthread_cond_destroy(&f.cond);
}

/* ---- refcounts and size ---------------------------------------------------- */

static void test_refcounts(void **state)
{
	struct cache *c = *state;
	struct cache_val *v = tval_new(10), *got;

	assert_ptr_equal(cache_val_ref(v), v);
	assert_int_equal(v->refs, 2);
	assert_int_equal(cache_put(c, "a", v, 1000), 0);
	assert_int_equal(cache_put(c, "b", v, 1000), 0); /* one value, two keys */
	assert_int_equal(v->refs, 4);
	cache_val_unref(v);
	cache_val_unref(v);
	cache_invalidate(c, "a");
	assert_int_equal(atomic_load(&destroyed[10]), 0);
	assert_int_equal(cache_lookup(c, "b", &got), 0);
	cache_invalidate(c, "b");
	assert_int_equal(atomic_load(&destroyed[10]), 0); /* we still hold got */
	cache_val_unref(got);
	assert_int_equal(atomic_load(&destroyed[10]), 1);
	cache_val_unref(NULL); /* allowed, like free(NULL) */
	assert_int_equal(atomic_load(&destroyed[10]), 1);

	/* cache_free() releases what the cache holds, once. */
	struct cache *c2 = cache_new();

	v = tval_new(11);
	assert_int_equal(cache_put(c2, "a", v, 1000), 0);
	cache_val_unref(v);
	assert_int_equal(atomic_load(&destroyed[11]), 0);
	cache_free(c2);
	assert_int_equal(atomic_load(&destroyed[11]), 1);
}

static void test_many_keys_and_sweep(void **state)
{
	struct cache *c = *state;
	struct cache_val *v = tval_new(12), *got;
	char key[32];

	/* Enough keys to make the table grow: all stay reachable. */
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "/old/%d", i);
		assert_int_equal(cache_put(c, key, v, 10), 0);
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(key, sizeof(key), "/old/%d", i);
		assert_int_equal(cache_lookup(c, key, &got), 0);
		cache_val_unref(got);
	}
	/* Once those expired, filling the table again sweeps them out. */
	clock_set_fake(T0 + 100, 1700000000);
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "/new/%d", i);
		assert_int_equal(cache_put(c, key, v, 1000), 0);
	}
	assert_true(stats(c).entries < 10000);
	for (int i = 0; i < 5000; i += 7) {
		snprintf(key, sizeof(key), "/new/%d", i);
		assert_int_equal(cache_lookup(c, key, &got), 0);
		cache_val_unref(got);
		snprintf(key, sizeof(key), "/old/%d", i);
		assert_int_equal(cache_lookup(c, key, &got), -ENODATA);
	}
	cache_clear(c);
	assert_int_equal(v->refs, 1);
	cache_val_unref(v);
	assert_int_equal(atomic_load(&destroyed[12]), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_put_lookup),
		T(test_serials_are_never_reused),
		T(test_expiry_exactly_at_ttl),
		T(test_put_replaces),
		T(test_negative_entries),
		T(test_invalidate),
		T(test_get_fetches_once_within_ttl),
		T(test_get_enoent_cached_for_neg_ttl),
		T(test_get_other_errors_not_cached),
		T(test_get_invalidated_during_fetch),
		T(test_get_fetch_puts_related),
		T(test_single_flight),
		T(test_single_flight_error),
		T(test_refcounts),
		T(test_many_keys_and_sweep),
	};

	return cmocka_run_group_tests_name("test_cache", tests, NULL, NULL);
}
