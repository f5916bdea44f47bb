/* SPDX-License-Identifier: MIT */
/*
 * The kernel's inode numbers. Layer: used by the FUSE adapter only; pure.
 *
 * A path leads to one inode at a time. A read-only file's inode stands for
 * one version of its contents: when they change, the path leads to a new
 * inode and the old one lives on, unchanged, for whoever still holds it —
 * as if the file had been replaced by rename(2). That is what lets the
 * kernel keep file contents in its page cache: an inode's bytes and size
 * never change, so a reader never sees two versions mixed, nor one cut
 * short by another's size. Everything else (directories, links, writable
 * files, streams) is version 0: one inode per path, read afresh each time.
 */
#ifndef CLOUDFS_INODES_H
#define CLOUDFS_INODES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cloudfs/common.h"

#define INODES_ROOT 1 /* FUSE's root node id; always "/" */

struct inodes;

struct inodes *inodes_new(void);
void inodes_free(struct inodes *t);

/*
 * Binds @path to an inode for @st (in: st_mode, and st_ino = the contents'
 * version, 0 for none) and counts one kernel lookup of it: the inode @path
 * has if type and version are unchanged, else a new one. Sets st->st_ino to
 * the inode number. -ENOMEM.
 */
int inodes_lookup(struct inodes *t, const char *path, struct stat *st) CFS_WARN_UNUSED;
/* The kernel forgot @n lookups of @ino; at zero it is freed. */
void inodes_forget(struct inodes *t, uint64_t ino, uint64_t n);

/* What @ino is: a copy of its path (free it), its version and, for a
 * versioned inode, the attributes it was bound with. -ENOENT, -ENOMEM;
 * *@path is NULL then, so a caller frees it whatever the result. */
int inodes_get(struct inodes *t, uint64_t ino, char **path, uint64_t *version,
	       struct stat *st) CFS_WARN_UNUSED;
/*
 * What is known of a versioned inode's bytes (nothing for version 0): the
 * model's serial of the cached text they were last found to be rendered
 * from (0: nothing yet), and, when they are few (at most INODES_SMALL), the
 * bytes themselves, kept as they never change. The caller vouches that
 * @source renders exactly this version, and @small is it (NULL: bytes not
 * at hand; those kept stay). An open that finds the same source may skip
 * rendering, and a first open hands the kept bytes to the kernel.
 */
#define INODES_SMALL 64
void inodes_set_seen(struct inodes *t, uint64_t ino, uint64_t source, const void *small,
		     size_t len);
uint64_t inodes_source(struct inodes *t, uint64_t ino);
/* Copies the kept bytes to @out (INODES_SMALL bytes): true if kept. */
bool inodes_small(struct inodes *t, uint64_t ino, char *out, size_t *len);
/* The inode @path leads to now, if the kernel was given one. */
bool inodes_find(struct inodes *t, const char *path, uint64_t *ino, uint64_t *version);
/* @path leads nowhere now (it was removed): its next lookup gets a new
 * inode. Holders of the old one keep it. */
void inodes_unbind(struct inodes *t, const char *path);
/* The cloud renamed @from to @to (a file: the kernel moved its dentry, with
 * the inode @from led to, to @to): that inode is @to's now, its path
 * changed; what @to led to before leads nowhere. A directory is only
 * unbound (its descendants' inodes keep the old paths). */
void inodes_rename(struct inodes *t, const char *from, const char *to);
/*
 * Handing a version's bytes to the kernel, once per inode: true for the
 * first caller, who must call inodes_fill_end() when done. Later callers
 * wait until then, so no reader of @ino can be in the middle of a READ
 * (holding pages the filler would wait for) while it is filled.
 */
bool inodes_fill_begin(struct inodes *t, uint64_t ino);
void inodes_fill_end(struct inodes *t, uint64_t ino);
/* Inodes alive, the root included. */
size_t inodes_count(struct inodes *t);

#endif
