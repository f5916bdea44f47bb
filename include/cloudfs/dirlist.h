/* SPDX-License-Identifier: MIT */
/*
 * A directory's entries as of one readdir of the model: names and
 * attributes, kept compact. Layer: util, pure.
 *
 * Why compact: an open directory holds its snapshot while `ls -l` reads
 * it, and a collection of 50,000 servers made it 152 bytes per entry (a
 * struct stat and a pointer) plus a malloc'd name: ~12 MB on top of the
 * cache at the very moment the cache is fullest (bench/README.md, issue
 * 18). Here the names share one buffer, and the attributes every member
 * of a collection has alike (mode, owner, links, size...) are kept once
 * for a run of entries that share them: each entry is 24 bytes and its
 * name.
 */
#ifndef CLOUDFS_DIRLIST_H
#define CLOUDFS_DIRLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct dirlist_shape;
struct dirlist_ent;

struct dirlist {
	size_t n, cap;
	struct dirlist_ent *e;
	char *names; /* every entry's name, each NUL-terminated */
	size_t names_len, names_cap;
	struct dirlist_shape *shapes;
	size_t nshapes, shapes_cap;
};

#define DIRLIST_INIT \
	{            \
		0    \
	}

/* Appends @name with @st (NULL: attributes unknown, a lookup finds them).
 * Kept of @st: type and mode, nlink, uid, gid, blksize, size, blocks, the
 * three times in whole seconds, and st_ino. -ENOMEM, or -EFBIG past 4 GiB
 * of names. */
int dirlist_add(struct dirlist *l, const char *name, const struct stat *st);
/* Entry @i's name: valid until the list changes. */
const char *dirlist_name(const struct dirlist *l, size_t i);
/* Entry @i's attributes as added (all zero when unknown: st_mode 0). */
void dirlist_stat(const struct dirlist *l, size_t i, struct stat *st);
/* Entry @i's st_mode (0: unknown). */
mode_t dirlist_mode(const struct dirlist *l, size_t i);
/* Empties the list, keeping its memory for the next fill. */
void dirlist_clear(struct dirlist *l);
void dirlist_free(struct dirlist *l);

#endif
