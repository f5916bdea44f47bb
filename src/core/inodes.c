/* SPDX-License-Identifier: MIT */
/*
 * The kernel's inode numbers (inodes.h). Layer: beside the FUSE adapter;
 * pure. Two chained hash tables under one mutex: every live inode by
 * number, and the inode each path leads to now. Numbers are never reused,
 * so the kernel never mistakes a new inode for an old one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/inodes.h"

/* The attributes an inode was bound with, as few bytes as they need: with
 * 50,000 servers listed and their status read there are 100,000 inodes,
 * and a struct stat is 144 bytes. The model gives whole seconds. */
struct attr {
	uint32_t mode, nlink, uid, gid;
	int32_t blksize;
	int64_t size, blocks;
	int64_t atime, mtime, ctime;
};

struct inode {
	struct inode *next_ino; /* by number */
	struct inode *next_path; /* by path, while bound */
	uint64_t ino;
	uint64_t nlookup;
	uint64_t version;
	uint64_t source; /* what its bytes were last found to come from */
	bool bound; /* the inode its path leads to now */
	bool has_small;
	unsigned char small_len;
	enum {
		UNFILLED,
		FILLING,
		FILLED
	} fill : 8; /* its bytes, to the kernel */
	uint16_t path_len; /* < PATH_MAX */
	struct attr st; /* as bound: a version's attributes never change */
	/* The path, then, for a versioned inode only, INODES_SMALL bytes of
	 * room for a small version's bytes (small_of()): a directory (version
	 * 0) never keeps any, and 50,000 servers' directories were 3 MB of
	 * unused room. */
	char path[];
};

static char *small_of(struct inode *n)
{
	return n->path + n->path_len + 1;
}

static void attr_set(struct attr *a, const struct stat *st)
{
	*a = (struct attr){ .mode = st->st_mode,
			    .nlink = (uint32_t)st->st_nlink,
			    .uid = st->st_uid,
			    .gid = st->st_gid,
			    .blksize = (int32_t)st->st_blksize,
			    .size = st->st_size,
			    .blocks = st->st_blocks,
			    .atime = st->st_atime,
			    .mtime = st->st_mtime,
			    .ctime = st->st_ctime };
}

static void attr_get(const struct attr *a, uint64_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_blksize = a->blksize;
	st->st_size = a->size;
	st->st_blocks = a->blocks;
	st->st_atime = a->atime;
	st->st_mtime = a->mtime;
	st->st_ctime = a->ctime;
}

struct inodes {
	pthread_mutex_t lock;
	pthread_cond_t filled; /* some inode left FILLING */
	struct inode **by_ino, **by_path;
	size_t nbuckets; /* both tables; a power of two */
	size_t count;
	uint64_t next_ino;
};

#define INODES_MIN_BUCKETS 1024u

static size_t path_slot(const struct inodes *t, const char *path)
{
	return (size_t)cfs_fnv1a(path, strlen(path)) & (t->nbuckets - 1);
}

static size_t ino_slot(const struct inodes *t, uint64_t ino)
{
	return (size_t)(ino * 0x9E3779B97F4A7C15ULL >> 17) & (t->nbuckets - 1);
}

static struct inode **find_ino(struct inodes *t, uint64_t ino)
{
	struct inode **p = &t->by_ino[ino_slot(t, ino)];

	while (*p && (*p)->ino != ino)
		p = &(*p)->next_ino;
	return p;
}

static struct inode **find_path(struct inodes *t, const char *path)
{
	struct inode **p = &t->by_path[path_slot(t, path)];

	while (*p && strcmp((*p)->path, path))
		p = &(*p)->next_path;
	return p;
}

static void unbind(struct inodes *t, struct inode *n)
{
	struct inode **p = find_path(t, n->path);

	if (*p == n)
		*p = n->next_path;
	n->bound = false;
	n->next_path = NULL;
}

static void grow(struct inodes *t)
{
	size_t n = t->nbuckets * 2, old = t->nbuckets;
	struct inode **bi = calloc(n, sizeof(*bi)), **bp = calloc(n, sizeof(*bp));
	struct inode **oi = t->by_ino;

	if (!bi || !bp) {
		free(bi);
		free(bp);
		return; /* a fuller table is slower, not wrong */
	}
	free(t->by_path);
	t->by_ino = bi;
	t->by_path = bp;
	t->nbuckets = n;
	for (size_t i = 0; i < old; i++) {
		struct inode *e = oi[i], *next;

		for (; e; e = next) {
			next = e->next_ino;
			e->next_ino = bi[ino_slot(t, e->ino)];
			bi[ino_slot(t, e->ino)] = e;
			if (e->bound) {
				e->next_path = bp[path_slot(t, e->path)];
				bp[path_slot(t, e->path)] = e;
			}
		}
	}
	free(oi);
}

static struct inode *inode_new(struct inodes *t, const char *path, uint64_t ino, bool versioned)
{
	size_t len = strlen(path);
	struct inode *n = len < UINT16_MAX
				  ? calloc(1, sizeof(*n) + len + 1 + (versioned ? INODES_SMALL : 0))
				  : NULL;

	if (!n)
		return NULL;
	n->path_len = (uint16_t)len;
	memcpy(n->path, path, len + 1);
	n->ino = ino;
	n->next_ino = t->by_ino[ino_slot(t, ino)];
	t->by_ino[ino_slot(t, ino)] = n;
	n->bound = true;
	n->next_path = t->by_path[path_slot(t, path)];
	t->by_path[path_slot(t, path)] = n;
	t->count++;
	return n;
}

struct inodes *inodes_new(void)
{
	struct inodes *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nbuckets = INODES_MIN_BUCKETS;
	t->by_ino = calloc(t->nbuckets, sizeof(*t->by_ino));
	t->by_path = calloc(t->nbuckets, sizeof(*t->by_path));
	t->next_ino = INODES_ROOT + 1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->filled, NULL);
	if (!t->by_ino || !t->by_path || !inode_new(t, "/", INODES_ROOT, false)) {
		inodes_free(t);
		return NULL;
	}
	return t;
}

void inodes_free(struct inodes *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->by_ino && i < t->nbuckets; i++) {
		struct inode *e = t->by_ino[i], *next;

		for (; e; e = next) {
			next = e->next_ino;
			free(e);
		}
	}
	free(t->by_ino);
	free(t->by_path);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->filled);
	free(t);
}

int inodes_lookup(struct inodes *t, const char *path, struct stat *st)
{
	uint64_t version = (uint64_t)st->st_ino;
	struct inode *n;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	n = *find_path(t, path);
	if (n && n->ino != INODES_ROOT &&
	    (n->version != version || (n->st.mode ^ st->st_mode) & S_IFMT)) {
		unbind(t, n);
		n = NULL;
	}
	if (!n) {
		if (t->count >= t->nbuckets)
			grow(t);
		n = inode_new(t, path, t->next_ino, version != 0);
		if (!n) {
			rc = -ENOMEM;
			goto out;
		}
		t->next_ino++;
		n->version = version;
	}
	n->nlookup++;
	st->st_ino = (ino_t)n->ino;
	attr_set(&n->st, st);
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void inodes_forget(struct inodes *t, uint64_t ino, uint64_t count)
{
	struct inode **p, *n;

	pthread_mutex_lock(&t->lock);
	p = find_ino(t, ino);
	n = *p;
	if (!n || n->ino == INODES_ROOT)
		goto out;
	n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
	if (n->nlookup)
		goto out;
	if (n->bound)
		unbind(t, n);
	*p = n->next_ino;
	t->count--;
	free(n);
out:
	pthread_mutex_unlock(&t->lock);
}

void inodes_rename(struct inodes *t, const char *from, const char *to)
{
	size_t len = strlen(to), room;
	struct inode *n, *m, **p;

	pthread_mutex_lock(&t->lock);
	n = *find_path(t, to);
	if (n && n->ino != INODES_ROOT)
		unbind(t, n);
	n = *find_path(t, from);
	if (!n || n->ino == INODES_ROOT)
		goto out;
	unbind(t, n);
	/* A directory's descendants keep the old paths (unbound by their
	 * next lookup's mismatch, or forgotten): only a file moves. */
	if (S_ISDIR(n->st.mode) || len >= UINT16_MAX)
		goto out;
	room = n->version ? INODES_SMALL : 0;
	m = malloc(sizeof(*m) + len + 1 + room);
	if (!m)
		goto out; /* unbound: its next stat is ENOENT, as before */
	*m = *n;
	m->path_len = (uint16_t)len;
	memcpy(m->path, to, len + 1);
	if (room)
		memcpy(small_of(m), small_of(n), INODES_SMALL);
	/* The same number, so the kernel's moved dentry stays good. */
	p = find_ino(t, n->ino);
	*p = m;
	m->bound = true;
	m->next_path = t->by_path[path_slot(t, to)];
	t->by_path[path_slot(t, to)] = m;
	free(n);
out:
	pthread_mutex_unlock(&t->lock);
}

int inodes_get(struct inodes *t, uint64_t ino, char **path, uint64_t *version, struct stat *st)
{
	struct inode *n;
	int rc = 0;

	*path = NULL;
	pthread_mutex_lock(&t->lock);
	n = *find_ino(t, ino);
	if (!n) {
		rc = -ENOENT;
		goto out;
	}
	*path = strdup(n->path);
	if (!*path) {
		rc = -ENOMEM;
		goto out;
	}
	if (version)
		*version = n->version;
	if (st)
		attr_get(&n->st, n->ino, st);
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

uint64_t inodes_source(struct inodes *t, uint64_t ino)
{
	struct inode *n;
	uint64_t source = 0;

	pthread_mutex_lock(&t->lock);
	n = *find_ino(t, ino);
	if (n)
		source = n->source;
	pthread_mutex_unlock(&t->lock);
	return source;
}

void inodes_set_seen(struct inodes *t, uint64_t ino, uint64_t source, const void *small, size_t len)
{
	struct inode *n;

	pthread_mutex_lock(&t->lock);
	n = *find_ino(t, ino);
	if (n && n->version) {
		n->source = source;
		if (small && len <= INODES_SMALL) {
			memcpy(small_of(n), small, len);
			n->small_len = (unsigned char)len;
			n->has_small = true;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

bool inodes_small(struct inodes *t, uint64_t ino, char *out, size_t *len)
{
	struct inode *n;
	bool found = false;

	pthread_mutex_lock(&t->lock);
	n = *find_ino(t, ino);
	if (n && n->has_small) {
		memcpy(out, small_of(n), n->small_len);
		*len = n->small_len;
		found = true;
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

bool inodes_find(struct inodes *t, const char *path, uint64_t *ino, uint64_t *version)
{
	struct inode *n;

	pthread_mutex_lock(&t->lock);
	n = *find_path(t, path);
	if (n) {
		*ino = n->ino;
		if (version)
			*version = n->version;
	}
	pthread_mutex_unlock(&t->lock);
	return n != NULL;
}

void inodes_unbind(struct inodes *t, const char *path)
{
	struct inode *n;

	pthread_mutex_lock(&t->lock);
	n = *find_path(t, path);
	if (n && n->ino != INODES_ROOT)
		unbind(t, n);
	pthread_mutex_unlock(&t->lock);
}

bool inodes_fill_begin(struct inodes *t, uint64_t ino)
{
	struct inode *n;
	bool first = false;

	pthread_mutex_lock(&t->lock);
	while ((n = *find_ino(t, ino)) && n->fill == FILLING)
		pthread_cond_wait(&t->filled, &t->lock);
	if (n && n->fill == UNFILLED) {
		n->fill = FILLING;
		first = true;
	}
	pthread_mutex_unlock(&t->lock);
	return first;
}

void inodes_fill_end(struct inodes *t, uint64_t ino)
{
	struct inode *n;

	pthread_mutex_lock(&t->lock);
	n = *find_ino(t, ino);
	if (n)
		n->fill = FILLED;
	pthread_cond_broadcast(&t->filled);
	pthread_mutex_unlock(&t->lock);
}

size_t inodes_count(struct inodes *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
