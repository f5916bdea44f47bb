/* SPDX-License-Identifier: MIT */
/*
 * Digests computed beside a transfer (hasher.c): each digest has a thread
 * of its own that hashes blocks (loan.h) it is given, so the thread moving
 * the bytes never stops to hash them; it waits only when the hashing is
 * HASHER_BACKLOG bytes behind (the memory bound), and at hasher_finish(),
 * where every byte given has been hashed. Bytes that do not lie in a block
 * (a download's bytes skipped to reach an offset) are copied into blocks
 * of the hasher's own. The first MiB is hashed by the feeder itself. One
 * feeding thread at a time. (Uploads do not use it: see stream.c.)
 */
#ifndef CLOUDFS_HASHER_H
#define CLOUDFS_HASHER_H

#include <stddef.h>
#include <openssl/evp.h>

#include "cloudfs/common.h"
#include "cloudfs/loan.h"

/* Digests one hasher computes over the same bytes (a thread each). */
#define HASHER_MAX_MD 2
/* Bytes given and not yet hashed by every digest, at most (the feeder
 * waits past it); with the copy block, what a hasher holds. */
#define HASHER_BACKLOG ((size_t)2 << 20)
/* A digest in lowercase hex with its NUL. */
#define HASHER_HEX_MAX (2 * EVP_MAX_MD_SIZE + 1)

struct hasher;

/* A hasher of the @n (1..HASHER_MAX_MD) digests @mds; 0 or -errno. */
int hasher_new(const EVP_MD *const *mds, int n, struct hasher **out) CFS_WARN_UNUSED;
/* Hashes @len bytes of @b at @off next (a reference to @b is held until
 * they are hashed). 0, or -errno if the hasher failed or finished. */
int hasher_add_block(struct hasher *h, struct block *b, size_t off, size_t len) CFS_WARN_UNUSED;
/* Hashes a copy of @data next. 0 or -errno. */
int hasher_add(struct hasher *h, const char *data, size_t len) CFS_WARN_UNUSED;
/* Waits until every byte given is hashed and ends the digests; their hex
 * is hasher_hex() from then on. 0, or -EIO if OpenSSL failed (-ENOMEM,
 * say, from hasher_add()). Nothing can be added after. */
int hasher_finish(struct hasher *h) CFS_WARN_UNUSED;
/* Digest @i (the order of hasher_new()'s @mds) after hasher_finish(). */
const char *hasher_hex(const struct hasher *h, int i);
/* Stops the threads (whatever is not hashed yet is dropped) and frees.
 * NULL is ignored. */
void hasher_free(struct hasher *h);

#endif
