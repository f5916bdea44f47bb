/* SPDX-License-Identifier: MIT */
/*
 * Refcounted blocks and loans of their bytes (loan.h). Layer: util. The
 * count is atomic: a stream drops its reference in the reader's thread
 * under the stream's lock, a loan after the reply, unlocked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/loan.h"

/*
 * Freed blocks of BLOCK_POOL_CAP bytes kept for the next block_new(): a
 * fresh block's pages are faulted in and zeroed by the kernel at first
 * touch, which was a fifth of a download's CPU (perf: clear_page_erms
 * under the pump's memcpy); a kept one's pages are there already. A
 * download circulates a handful (HTTP_STREAM_BUF, the loans in flight,
 * the digest's backlog), so BLOCK_POOL_MAX of them is what stays resident
 * when no transfer runs.
 */
#define BLOCK_POOL_CAP ((size_t)1 << 20)
#if defined(__SANITIZE_ADDRESS__)
/* A use after free must stay one for ASan: nothing is kept. */
#define BLOCK_POOL_MAX 1
#define BLOCK_POOL_OFF 1
#else
#define BLOCK_POOL_MAX 8
#define BLOCK_POOL_OFF 0
#endif

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block *pool[BLOCK_POOL_MAX]; /* protected by pool_lock */
static int pool_n; /* protected by pool_lock */

struct block *block_new(size_t cap)
{
	struct block *b = NULL;

	if (cap == BLOCK_POOL_CAP) {
		pthread_mutex_lock(&pool_lock);
		if (pool_n)
			b = pool[--pool_n];
		pthread_mutex_unlock(&pool_lock);
	}
	if (!b)
		b = malloc(sizeof(*b) + cap);
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->cap = cap;
	return b;
}

static void block_free(struct block *b)
{
	if (b->cap == BLOCK_POOL_CAP) {
		pthread_mutex_lock(&pool_lock);
		if (pool_n < BLOCK_POOL_MAX) {
			pool[pool_n++] = b;
			b = NULL;
		}
		pthread_mutex_unlock(&pool_lock);
	}
	free(b);
}

void block_ref(struct block *b)
{
	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void block_unref(struct block *b)
{
	/* Release/acquire: every use of the bytes happens before the free. */
	if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
		block_free(b);
}

int loan_add(struct loan *l, struct block *b, size_t off, size_t len)
{
	struct iovec *last = l->n ? &l->iov[l->n - 1] : NULL;

	if (off > b->cap || len > b->cap - off)
		return -EINVAL;
	if (!len)
		return 0;
	if (last && l->b[l->n - 1] == b && (char *)last->iov_base + last->iov_len == b->mem + off) {
		last->iov_len += len;
		l->len += len;
		return 0;
	}
	if (l->n == LOAN_MAX)
		return -ENOSPC;
	block_ref(b);
	l->b[l->n] = b;
	l->iov[l->n].iov_base = b->mem + off;
	l->iov[l->n].iov_len = len;
	l->n++;
	l->len += len;
	return 0;
}

size_t loan_copy(const struct loan *l, size_t skip, char *dst, size_t size)
{
	size_t done = 0;

	for (int i = 0; i < l->n && done < size; i++) {
		size_t n = l->iov[i].iov_len;

		if (skip >= n) {
			skip -= n;
			continue;
		}
		n -= skip;
		if (n > size - done)
			n = size - done;
		memcpy(dst + done, (char *)l->iov[i].iov_base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

void loan_release(struct loan *l)
{
	for (int i = 0; i < l->n; i++)
		block_unref(l->b[i]);
	l->n = 0;
	l->len = 0;
}
