/* SPDX-License-Identifier: MIT */
/*
 * Project-wide helpers. Included by every layer; depends on nothing.
 */
#ifndef CLOUDFS_COMMON_H
#define CLOUDFS_COMMON_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define CFS_WARN_UNUSED __attribute__((warn_unused_result))
#define CFS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Hard cap on any HTTP response body we keep in memory (one listing page). */
#define CFS_MAX_BODY (64u << 20)

/* FNV-1a, 64 bits: hash tables and content versions. */
static inline uint64_t cfs_fnv1a(const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t h = 1469598103934665603ULL;

	while (len--)
		h = (h ^ *b++) * 1099511628211ULL;
	return h;
}

/* Secrets are wiped before their memory is released. */
void cfs_free_secret(char *s);

#endif
