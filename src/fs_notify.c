/* SPDX-License-Identifier: MIT */
/*
 * Telling the kernel what no longer holds (the model's notify hook). Layer:
 * top, beside fs.c. Attributes are dropped at once; entries either at once
 * or, for callers inside an operation during which the kernel holds a
 * directory's lock (until we answer), by one notifier thread once that
 * operation has been answered. Node ids come from the inode table: nothing
 * here touches the mount.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include "cloudfs/fs.h"

struct later {
	struct later *next;
	fuse_ino_t parent;
	char name[];
};

/* One mount per process: the queue of entries to forget later. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct later *head, *tail;
	bool started;
	struct cloudfs *fs;
} q = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* The node id of @path's parent, if the kernel was given one (else it
 * holds nothing under it to forget). */
static int parent_ino(struct cloudfs *fs, const char *path, fuse_ino_t *ino)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	uint64_t n;

	if (!slash || !slash[1] || (size_t)(slash - path) >= sizeof(parent))
		return -EINVAL;
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	if (!inodes_find(fs->inodes, parent[0] ? parent : "/", &n, NULL))
		return -ENOENT;
	*ino = n;
	return 0;
}

static void forget_entry(struct cloudfs *fs, fuse_ino_t parent, const char *name)
{
	fuse_lowlevel_notify_inval_entry(fs->se, parent, name, strlen(name));
}

/* Forgets queued entries in order, for the life of the process. Each
 * blocks in the kernel until the operation holding its directory has been
 * answered; nothing here touches the mount. */
static void *notifier(void *arg)
{
	sigset_t all;

	(void)arg;
	/* Signals belong to the FUSE loop's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct later *l;

		pthread_mutex_lock(&q.lock);
		while (!q.head)
			pthread_cond_wait(&q.cond, &q.lock);
		l = q.head;
		q.head = l->next;
		if (!q.head)
			q.tail = NULL;
		pthread_mutex_unlock(&q.lock);
		forget_entry(q.fs, l->parent, l->name);
		free(l);
	}
	return NULL;
}

/* Queues @name in @parent; a burst (a listing that lost thousands of
 * members) costs one thread, not one each. */
static void forget_later(struct cloudfs *fs, fuse_ino_t parent, const char *name)
{
	struct later *l = malloc(sizeof(*l) + strlen(name) + 1);
	pthread_t t;

	if (!l)
		return;
	l->next = NULL;
	l->parent = parent;
	strcpy(l->name, name);
	pthread_mutex_lock(&q.lock);
	if (!q.started) {
		q.fs = fs;
		q.started = !pthread_create(&t, NULL, notifier, NULL);
		if (q.started)
			pthread_detach(t);
	}
	if (!q.started) {
		pthread_mutex_unlock(&q.lock);
		free(l);
		return;
	}
	if (q.tail)
		q.tail->next = l;
	else
		q.head = l;
	q.tail = l;
	pthread_cond_signal(&q.cond);
	pthread_mutex_unlock(&q.lock);
}

void fs_notify(void *arg, const char *path, enum model_notify kind)
{
	struct cloudfs *fs = arg;
	uint64_t ino, version;
	fuse_ino_t parent;

	if (!fs->se)
		return;
	if (kind == MODEL_NOTIFY_ATTR) {
		/* A path the kernel was never given costs a table lookup. */
		if (!inodes_find(fs->inodes, path, &ino, &version))
			return;
		/* Attributes are dropped at once: no directory lock is
		 * involved, and such files hold no page cache (direct_io) for
		 * the kernel to wait on. */
		if (!version) {
			fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
			return;
		}
		/* A version's attributes never change: the name has to lead
		 * to the new version's inode, so the kernel forgets the name. */
		kind = MODEL_NOTIFY_ENTRY;
	}
	if (kind == MODEL_NOTIFY_ENTRY && fs_holds_dir())
		kind = MODEL_NOTIFY_ENTRY_LATER;
	if (parent_ino(fs, path, &parent))
		return;
	if (kind == MODEL_NOTIFY_ENTRY_LATER)
		forget_later(fs, parent, strrchr(path, '/') + 1);
	else
		forget_entry(fs, parent, strrchr(path, '/') + 1);
}
