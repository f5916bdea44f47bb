/* SPDX-License-Identifier: MIT */
/*
 * Bytes on loan: memory blocks with a reference count, and a loan that
 * holds references to the parts of blocks a reader is given. A download
 * receives into blocks (http_stream.c) and a read hands the kernel the
 * received bytes where they lie (fuse_reply_iov) instead of a copy; the
 * block goes when the stream and every loan have let it go, whichever
 * thread is last.
 */
#ifndef CLOUDFS_LOAN_H
#define CLOUDFS_LOAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/uio.h>

#include "cloudfs/common.h"

struct block {
	atomic_int refs;
	size_t cap; /* bytes of mem */
	char mem[];
};

/* A block of @cap bytes with one reference (the caller's), or NULL. */
struct block *block_new(size_t cap);
void block_ref(struct block *b);
/* Drops a reference; the last one frees the block. NULL is ignored. */
void block_unref(struct block *b);

/* At most this many parts per loan: a FUSE read (≤ 1 MiB) of 1 MiB
 * blocks spans two, and a loan never needs to be partial for it. */
#define LOAN_MAX 8

/* iov[0..n) point into b[0..n), each held by one reference; len is the
 * sum of their lengths. Zeroed (LOAN_INIT) it is empty. */
struct loan {
	struct iovec iov[LOAN_MAX];
	struct block *b[LOAN_MAX];
	int n;
	size_t len;
};

#define LOAN_INIT      \
	{              \
		.n = 0 \
	}

/* Adds @len bytes of @b at @off (taking a reference; a part that
 * continues the last one's bytes in the same block extends it). Returns 0,
 * or -ENOSPC when the loan has LOAN_MAX parts already, -EINVAL when the
 * range is not inside the block. */
int loan_add(struct loan *l, struct block *b, size_t off, size_t len) CFS_WARN_UNUSED;
/* Copies up to @size bytes from @skip on into @dst; returns how many. */
size_t loan_copy(const struct loan *l, size_t skip, char *dst, size_t size);
/* Drops every reference; the loan is empty after. */
void loan_release(struct loan *l);

#endif
