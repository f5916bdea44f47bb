/* SPDX-License-Identifier: MIT */
/* A directory snapshot, compact (dirlist.h says why). Layer: util, pure. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/dirlist.h"

#define NO_SHAPE UINT32_MAX

/* What a run of entries has alike: all but the mtime and st_ino, with
 * atime and ctime as distances from the mtime (all three are one time for
 * a collection's members). */
struct dirlist_shape {
	uint32_t mode, nlink, uid, gid;
	int32_t blksize;
	int64_t size, blocks;
	int64_t atime_d, ctime_d;
};

struct dirlist_ent {
	uint32_t name; /* offset in names */
	uint32_t shape; /* in shapes, or NO_SHAPE: attributes unknown */
	int64_t mtime;
	uint64_t ino;
};

static struct dirlist_shape shape_of(const struct stat *st)
{
	return (struct dirlist_shape){ .mode = st->st_mode,
				       .nlink = (uint32_t)st->st_nlink,
				       .uid = st->st_uid,
				       .gid = st->st_gid,
				       .blksize = (int32_t)st->st_blksize,
				       .size = st->st_size,
				       .blocks = st->st_blocks,
				       .atime_d = (int64_t)st->st_atime - st->st_mtime,
				       .ctime_d = (int64_t)st->st_ctime - st->st_mtime };
}

static bool shape_eq(const struct dirlist_shape *a, const struct dirlist_shape *b)
{
	return a->mode == b->mode && a->nlink == b->nlink && a->uid == b->uid && a->gid == b->gid &&
	       a->blksize == b->blksize && a->size == b->size && a->blocks == b->blocks &&
	       a->atime_d == b->atime_d && a->ctime_d == b->ctime_d;
}

/* Room for one more of @size bytes in *@p (capacity *@cap, *@n used). */
static int reserve(void **p, size_t *cap, size_t n, size_t more, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *np;

	if (n + more <= *cap)
		return 0;
	while (c < n + more)
		c *= 2;
	np = realloc(*p, c * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = c;
	return 0;
}

/* The shape index of @st: the last shape when it matches (a collection
 * has one), else a new one. */
static int shape_index(struct dirlist *l, const struct stat *st, uint32_t *out)
{
	struct dirlist_shape s = shape_of(st);

	if (l->nshapes && shape_eq(&l->shapes[l->nshapes - 1], &s)) {
		*out = (uint32_t)(l->nshapes - 1);
		return 0;
	}
	if (l->nshapes >= NO_SHAPE)
		return -EFBIG;
	if (reserve((void **)&l->shapes, &l->shapes_cap, l->nshapes, 1, sizeof(s)))
		return -ENOMEM;
	l->shapes[l->nshapes] = s;
	*out = (uint32_t)l->nshapes++;
	return 0;
}

int dirlist_add(struct dirlist *l, const char *name, const struct stat *st)
{
	size_t len = strlen(name) + 1;
	struct dirlist_ent *e;
	uint32_t shape = NO_SHAPE;
	int rc;

	if (l->names_len + len > UINT32_MAX)
		return -EFBIG;
	if (reserve((void **)&l->e, &l->cap, l->n, 1, sizeof(*l->e)) ||
	    reserve((void **)&l->names, &l->names_cap, l->names_len, len, 1))
		return -ENOMEM;
	if (st && (rc = shape_index(l, st, &shape)))
		return rc;
	e = &l->e[l->n++];
	e->name = (uint32_t)l->names_len;
	e->shape = shape;
	e->mtime = st ? (int64_t)st->st_mtime : 0;
	e->ino = st ? (uint64_t)st->st_ino : 0;
	memcpy(l->names + l->names_len, name, len);
	l->names_len += len;
	return 0;
}

const char *dirlist_name(const struct dirlist *l, size_t i)
{
	return l->names + l->e[i].name;
}

void dirlist_stat(const struct dirlist *l, size_t i, struct stat *st)
{
	const struct dirlist_ent *e = &l->e[i];
	const struct dirlist_shape *s;

	memset(st, 0, sizeof(*st));
	if (e->shape == NO_SHAPE)
		return;
	s = &l->shapes[e->shape];
	st->st_mode = s->mode;
	st->st_nlink = s->nlink;
	st->st_uid = s->uid;
	st->st_gid = s->gid;
	st->st_blksize = s->blksize;
	st->st_size = s->size;
	st->st_blocks = s->blocks;
	st->st_mtime = (time_t)e->mtime;
	st->st_atime = (time_t)(e->mtime + s->atime_d);
	st->st_ctime = (time_t)(e->mtime + s->ctime_d);
	st->st_ino = (ino_t)e->ino;
}

mode_t dirlist_mode(const struct dirlist *l, size_t i)
{
	const struct dirlist_ent *e = &l->e[i];

	return e->shape == NO_SHAPE ? 0 : l->shapes[e->shape].mode;
}

void dirlist_clear(struct dirlist *l)
{
	l->n = 0;
	l->names_len = 0;
	l->nshapes = 0;
}

void dirlist_free(struct dirlist *l)
{
	free(l->e);
	free(l->names);
	free(l->shapes);
	*l = (struct dirlist)DIRLIST_INIT;
}
