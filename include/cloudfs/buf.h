/* SPDX-License-Identifier: MIT */
/*
 * Growable byte buffer with a hard size cap (curl's dynbuf idea): a response
 * body or a rendered file can never grow past the cap the owner chose.
 */
#ifndef CLOUDFS_BUF_H
#define CLOUDFS_BUF_H

#include "cloudfs/common.h"

struct buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t alloc;
	size_t cap; /* max len; appends past it fail with -EFBIG */
};

void buf_init(struct buf *b, size_t cap);
/* Returns 0, -ENOMEM or -EFBIG (cap reached; the buffer keeps what fit). */
int buf_add(struct buf *b, const void *data, size_t len) CFS_WARN_UNUSED;
int buf_addstr(struct buf *b, const char *s) CFS_WARN_UNUSED;
int buf_addf(struct buf *b, const char *fmt, ...) CFS_PRINTF(2, 3) CFS_WARN_UNUSED;
/* Moves the bytes out; the buffer is reset. Returns "" (malloc'd) when empty. */
char *buf_take(struct buf *b, size_t *len);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
