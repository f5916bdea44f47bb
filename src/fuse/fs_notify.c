/* SPDX-License-Identifier: MIT */
/*
 * Telling the kernel what no longer holds (the model's notify hook). Layer:
 * top, beside fs.c.
 *
 * Every invalidation is queued and sent by one notifier thread, never by
 * the thread that found the change. libfuse warns (fuse_lowlevel.h, on
 * fuse_lowlevel_notify_inval_entry) that a notification must not be sent
 * from the path of a related operation or from code holding a lock such an
 * operation needs: the kernel may wait for a directory lock held by a
 * LOOKUP that itself waits for us. Changes are found by cache fetches that
 * other requests wait on (the single flight is such a lock; a fetch returns
 * its change set and its caller hands it here once the fetch is over, but
 * the caller may lead a fetch of another key still), and inside operations
 * during which the kernel holds a directory; from the notifier thread each
 * one waits for nothing of ours. Node ids come from
 * the inode table: nothing here touches the mount.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include "cloudfs/fs.h"

struct fs_note {
	struct fs_note *next;
	fuse_ino_t ino; /* the parent of @name, or the inode itself */
	bool attr; /* drop @ino's attributes; else the entry @name in @ino */
	char name[];
};

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

/* Sends queued notes in order, until stopped. An entry's
 * note blocks in the kernel until the operation holding its directory has
 * been answered. */
static void *notifier(void *arg)
{
	struct cloudfs *fs = arg;
	struct fs_notifier *q = &fs->notifier;
	sigset_t all;

	/* Signals belong to the FUSE loop's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct fs_note *l;

		pthread_mutex_lock(&q->lock);
		while (!q->head && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->stop) {
			pthread_mutex_unlock(&q->lock);
			break;
		}
		l = q->head;
		q->head = l->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		if (l->attr)
			fuse_lowlevel_notify_inval_inode(fs->se, l->ino, -1, 0);
		else
			fuse_lowlevel_notify_inval_entry(fs->se, l->ino, l->name, strlen(l->name));
		free(l);
		pthread_mutex_lock(&q->lock);
		q->sent++;
		pthread_cond_broadcast(&q->sent_cond);
		pthread_mutex_unlock(&q->lock);
	}
	return NULL;
}

/* Queues a note; a burst (a listing that lost thousands of members) costs
 * one thread, not one each. The thread starts with the first note: after
 * fuse_daemonize(), which no thread may precede. */
/* The number the last note this thread queued got (0: none since its last
 * fs_notify_settle_mine()): what the operation it serves must see sent
 * before it answers. */
static __thread uint64_t my_last_note;

static void queue_note(struct cloudfs *fs, fuse_ino_t ino, bool attr, const char *name)
{
	struct fs_notifier *q = &fs->notifier;
	struct fs_note *l = malloc(sizeof(*l) + strlen(name) + 1);

	if (!l)
		return; /* the kernel's copy then lives out its TTL */
	l->next = NULL;
	l->ino = ino;
	l->attr = attr;
	strcpy(l->name, name);
	pthread_mutex_lock(&q->lock);
	if (!q->started && !q->stop)
		q->started = !pthread_create(&q->thread, NULL, notifier, fs);
	if (!q->started || q->stop) {
		pthread_mutex_unlock(&q->lock);
		free(l);
		return;
	}
	if (q->tail)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
	my_last_note = ++q->queued;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void fs_notifier_init(struct fs_notifier *q)
{
	pthread_condattr_t ca;

	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->sent_cond, &ca);
	pthread_condattr_destroy(&ca);
}

/* Bounded: a note waits in the kernel for whatever operation holds its
 * directory (a slow listing of another process), and an opendir must not
 * inherit that wait. Waiters hold nothing the notifier's notes can wait
 * for, so this cannot deadlock; the bound only caps the latency. */
static void settle_until(struct cloudfs *fs, uint64_t mark, int ms)
{
	struct fs_notifier *q = &fs->notifier;
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	if (!mark)
		mark = q->queued;
	while (q->started && !q->stop && q->sent < mark)
		if (pthread_cond_timedwait(&q->sent_cond, &q->lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&q->lock);
}

void fs_notify_settle(struct cloudfs *fs, int ms)
{
	my_last_note = 0;
	settle_until(fs, 0, ms);
}

/* A fetch this thread led found a change: the operation it serves (an
 * open, a getattr) answers after the kernel dropped what it held, so the
 * caller's next stat(2) or lookup sees the new size and names, not the
 * copy the kernel kept for its TTL. Notes queued by other threads are not
 * waited for; no wait at all when this thread queued none. */
void fs_notify_settle_mine(struct cloudfs *fs, int ms)
{
	uint64_t mark = my_last_note;

	if (!mark)
		return;
	my_last_note = 0;
	settle_until(fs, mark, ms);
}

void fs_notifier_stop(struct fs_notifier *q)
{
	bool started;

	pthread_mutex_lock(&q->lock);
	q->stop = true;
	started = q->started;
	pthread_cond_signal(&q->cond);
	pthread_cond_broadcast(&q->sent_cond);
	pthread_mutex_unlock(&q->lock);
	if (started)
		pthread_join(q->thread, NULL);
	/* Unsent notes: the kernel that would have taken them is gone. */
	while (q->head) {
		struct fs_note *next = q->head->next;

		free(q->head);
		q->head = next;
	}
	q->tail = NULL;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	pthread_cond_destroy(&q->sent_cond);
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
		if (!version) {
			queue_note(fs, ino, true, "");
			return;
		}
		/* A version's attributes never change: the name has to lead
		 * to the new version's inode, so the kernel forgets the name. */
	}
	if (!parent_ino(fs, path, &parent))
		queue_note(fs, parent, false, strrchr(path, '/') + 1);
}
