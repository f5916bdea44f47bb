/* SPDX-License-Identifier: MIT */
/*
 * TTL cache of refcounted, immutable values keyed by string, with negative
 * entries and single-flight fetching: concurrent misses on one key wait for
 * one fetch instead of each sending a request. Knows nothing of HTTP, JSON
 * or FUSE. Time comes from clock_now_ms() (fake in tests).
 * Layer: below model, beside api.
 */
#ifndef CLOUDFS_CACHE_H
#define CLOUDFS_CACHE_H

#include "cloudfs/common.h"

struct cache_val {
	int refs; /* atomic */
	void *data;
	void (*destroy)(void *data);
	int64_t fetched_ms; /* when the data was fetched */
	/* Unique to this value, never reused (an address can be): equal
	 * serials, the same immutable data. */
	uint64_t serial;
};

/* A value holding @data (ownership moves in); refs = 1. NULL on -ENOMEM,
 * in which case @data is destroyed. */
struct cache_val *cache_val_new(void *data, void (*destroy)(void *data));
struct cache_val *cache_val_ref(struct cache_val *v);
void cache_val_unref(struct cache_val *v);

struct cache;

struct cache *cache_new(void);
void cache_free(struct cache *c);

/*
 * cache_lookup() - a live entry
 * @out: on 0, a new reference
 * Returns: 0 on hit; the stored -errno on a live negative entry; -ENODATA
 * on a miss or an expired entry.
 * Context: takes c->lock; never blocks on I/O.
 */
int cache_lookup(struct cache *c, const char *key, struct cache_val **out);

/* The stored value for @key even if expired (not a negative entry): 0 and
 * a new reference, or -ENODATA. For comparing a refetch with what it
 * replaces. */
int cache_peek(struct cache *c, const char *key, struct cache_val **out);

/* Stores @v (takes its own reference) for @ttl_ms. Returns 0 or -ENOMEM;
 * a failed put only costs a later refetch. */
int cache_put(struct cache *c, const char *key, struct cache_val *v, int64_t ttl_ms);
/* Remembers that @key failed with @err (e.g. -ENOENT) for @ttl_ms. */
int cache_put_negative(struct cache *c, const char *key, int err, int64_t ttl_ms);

/* Drops entries; bumps the generation so in-flight fetches don't store. */
void cache_invalidate(struct cache *c, const char *key);
void cache_invalidate_prefix(struct cache *c, const char *prefix);
void cache_clear(struct cache *c);
/* Makes @key (or every key starting with @prefix) miss as if its TTL were
 * over, but keeps the value for cache_peek(), so the refetch can tell what
 * changed. Bumps the generation like cache_invalidate(). */
void cache_expire(struct cache *c, const char *key);
void cache_expire_prefix(struct cache *c, const char *prefix);

/*
 * Called by cache_get() without any lock held. On 0, *out is a new
 * reference, kept for *ttl_ms (preset to cache_get()'s ttl; the fetch may
 * shorten it, e.g. for a resource in a transitional state). May itself
 * cache_put() related keys.
 */
typedef int (*cache_fetch_fn)(void *arg, struct cache_val **out, int64_t *ttl_ms);

/*
 * cache_get() - a live entry, or one fetch shared by every concurrent caller
 * @ttl_ms:     lifetime of a fetched value
 * @neg_ttl_ms: lifetime of a -ENOENT answer (other errors are not cached)
 * @out:        on 0, a new reference
 * Returns 0 or the -errno of the lookup or fetch.
 * Context: any thread; blocks while another thread fetches the same key.
 */
int cache_get(struct cache *c, const char *key, cache_fetch_fn fetch, void *arg, int64_t ttl_ms,
	      int64_t neg_ttl_ms, struct cache_val **out) CFS_WARN_UNUSED;

struct cache_stats {
	unsigned long hits, misses, fetches, coalesced, entries;
};
void cache_get_stats(struct cache *c, struct cache_stats *st);

#endif
