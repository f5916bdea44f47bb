/* SPDX-License-Identifier: MIT */
/*
 * Digests beside a transfer (hasher.h). Layer: util. A ring of block
 * ranges, appended by the feeder; each digest's thread walks it at its own
 * pace, and a range is let go once every digest has passed it. On this
 * 2-core machine SHA-512 runs at ~860 MB/s and MD5 at ~750 MB/s, slower
 * than Glance serves from its page cache (~1.2 GB/s): hashed in the
 * reader's thread, the digest and the copy to the kernel took turns.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/hasher.h"

/* Ranges in the ring: a download gives one or two per FUSE read (up to
 * 1 MiB each), an upload one per copy block; the byte bound binds first. */
#define HASHER_RING 64
/* hasher_add() copies into blocks of this size (the pool's, loan.c). */
#define HASHER_CHUNK ((size_t)1 << 20)
/* The first bytes are hashed by the feeder itself, and the threads start
 * only past them: a small file (most of an rsync) costs no thread. */
#define HASHER_INLINE ((size_t)1 << 20)

struct range {
	struct block *b;
	size_t off, len;
};

struct hasher;

struct digest {
	struct hasher *h;
	EVP_MD_CTX *ctx;
	pthread_t thread;
	bool started;
	uint64_t pos; /* next range to hash (protected by h->lock) */
	bool failed; /* an update failed (protected by h->lock) */
	char hex[HASHER_HEX_MAX];
};

struct hasher {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a range was added, or stop */
	pthread_cond_t room; /* a range was hashed by every digest */
	struct range ring[HASHER_RING]; /* [head, tail) (protected by lock) */
	uint64_t head, tail; /* protected by lock */
	size_t backlog; /* bytes in [head, tail) (protected by lock) */
	bool stop; /* protected by lock */
	bool finished; /* hasher_finish() ran (feeder's only) */
	bool threaded; /* the digests' threads run (set by the feeder) */
	size_t inline_bytes; /* hashed by the feeder before they started */
	int n;
	struct digest d[HASHER_MAX_MD];
	/* hasher_add()'s block being filled, not in the ring yet (feeder's). */
	struct block *fill;
	size_t fill_len;
};

/* With the lock held: lets go of the ranges every digest has hashed. */
static void release_hashed(struct hasher *h)
{
	uint64_t min = h->tail;

	for (int i = 0; i < h->n; i++)
		if (h->d[i].pos < min)
			min = h->d[i].pos;
	if (min == h->head)
		return;
	while (h->head < min) {
		struct range *r = &h->ring[h->head % HASHER_RING];

		block_unref(r->b);
		h->backlog -= r->len;
		h->head++;
	}
	pthread_cond_broadcast(&h->room);
}

static void *digest_thread(void *arg)
{
	struct digest *d = arg;
	struct hasher *h = d->h;
	sigset_t all;

	/* Signals belong to the FUSE loop's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct range r;
		bool ok;

		while (d->pos == h->tail && !h->stop)
			pthread_cond_wait(&h->work, &h->lock);
		if (h->stop)
			break;
		/* The range stays in the ring (and its block held) until
		 * every digest is past it: read unlocked. */
		r = h->ring[d->pos % HASHER_RING];
		pthread_mutex_unlock(&h->lock);
		ok = EVP_DigestUpdate(d->ctx, r.b->mem + r.off, r.len) == 1;
		pthread_mutex_lock(&h->lock);
		if (!ok)
			d->failed = true;
		d->pos++;
		release_hashed(h);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int hasher_new(const EVP_MD *const *mds, int n, struct hasher **out)
{
	struct hasher *h;

	if (n < 1 || n > HASHER_MAX_MD)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->room, NULL);
	h->n = n;
	for (int i = 0; i < n; i++) {
		struct digest *d = &h->d[i];

		d->h = h;
		d->ctx = EVP_MD_CTX_new();
		if (!d->ctx || EVP_DigestInit_ex(d->ctx, mds[i], NULL) != 1) {
			hasher_free(h);
			return -ENOMEM;
		}
	}
	*out = h;
	return 0;
}

/* Past HASHER_INLINE: a thread per digest (0), or -ENOMEM. */
static int start_threads(struct hasher *h)
{
	for (int i = 0; i < h->n; i++) {
		if (h->d[i].started)
			continue;
		if (pthread_create(&h->d[i].thread, NULL, digest_thread, &h->d[i]))
			return -ENOMEM;
		h->d[i].started = true;
	}
	h->threaded = true;
	return 0;
}

/* Appends a range, holding a reference to its block; waits for room. */
static int push(struct hasher *h, struct block *b, size_t off, size_t len)
{
	if (!h->threaded && h->inline_bytes + len <= HASHER_INLINE) {
		/* No thread has started, so nothing is queued: in order. */
		for (int i = 0; i < h->n; i++)
			if (EVP_DigestUpdate(h->d[i].ctx, b->mem + off, len) != 1)
				h->d[i].failed = true;
		h->inline_bytes += len;
		return 0;
	}
	if (!h->threaded) {
		int rc = start_threads(h);

		if (rc)
			return rc;
	}
	pthread_mutex_lock(&h->lock);
	/* A range bigger than the bound waits for an empty ring only. */
	while (h->tail - h->head == HASHER_RING ||
	       (h->tail != h->head && h->backlog + len > HASHER_BACKLOG))
		pthread_cond_wait(&h->room, &h->lock);
	block_ref(b);
	h->ring[h->tail % HASHER_RING] = (struct range){ b, off, len };
	h->tail++;
	h->backlog += len;
	pthread_cond_broadcast(&h->work);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* Hands the copy block to the digests. */
static int flush_fill(struct hasher *h)
{
	int rc = 0;

	if (h->fill && h->fill_len)
		rc = push(h, h->fill, 0, h->fill_len);
	block_unref(h->fill);
	h->fill = NULL;
	h->fill_len = 0;
	return rc;
}

int hasher_add_block(struct hasher *h, struct block *b, size_t off, size_t len)
{
	int rc;

	if (h->finished)
		return -EINVAL;
	if (off > b->cap || len > b->cap - off)
		return -EINVAL;
	if (!len)
		return 0;
	/* Copied bytes given before go first (a download that skipped to
	 * its offset, then lent). */
	rc = flush_fill(h);
	return rc ? rc : push(h, b, off, len);
}

int hasher_add(struct hasher *h, const char *data, size_t len)
{
	int rc = 0;

	if (h->finished)
		return -EINVAL;
	while (!rc && len) {
		size_t n;

		if (!h->fill) {
			h->fill = block_new(HASHER_CHUNK);
			if (!h->fill)
				return -ENOMEM;
		}
		n = HASHER_CHUNK - h->fill_len < len ? HASHER_CHUNK - h->fill_len : len;
		memcpy(h->fill->mem + h->fill_len, data, n);
		h->fill_len += n;
		data += n;
		len -= n;
		if (h->fill_len == HASHER_CHUNK)
			rc = flush_fill(h);
	}
	return rc;
}

int hasher_finish(struct hasher *h)
{
	bool failed = false;
	int rc;

	if (h->finished)
		return -EINVAL;
	rc = flush_fill(h);
	h->finished = true;
	pthread_mutex_lock(&h->lock);
	while (h->head != h->tail)
		pthread_cond_wait(&h->room, &h->lock);
	for (int i = 0; i < h->n; i++)
		failed |= h->d[i].failed;
	pthread_mutex_unlock(&h->lock);
	/* Every digest is idle now (its ranges are all hashed). */
	for (int i = 0; i < h->n; i++) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned len = 0;

		if (EVP_DigestFinal_ex(h->d[i].ctx, md, &len) != 1)
			failed = true;
		for (unsigned j = 0; j < len; j++)
			snprintf(h->d[i].hex + 2 * j, 3, "%02x", md[j]);
		h->d[i].hex[2 * len] = '\0';
	}
	return rc ? rc : failed ? -EIO : 0;
}

const char *hasher_hex(const struct hasher *h, int i)
{
	return i >= 0 && i < h->n ? h->d[i].hex : "";
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->work);
	pthread_mutex_unlock(&h->lock);
	for (int i = 0; i < h->n; i++) {
		if (h->d[i].started)
			pthread_join(h->d[i].thread, NULL);
		EVP_MD_CTX_free(h->d[i].ctx);
	}
	while (h->head != h->tail) {
		block_unref(h->ring[h->head % HASHER_RING].b);
		h->head++;
	}
	block_unref(h->fill);
	pthread_cond_destroy(&h->room);
	pthread_cond_destroy(&h->work);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
