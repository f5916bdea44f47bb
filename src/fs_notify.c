/* SPDX-License-Identifier: MIT */
/*
 * Telling the kernel what no longer holds (the model's notify hook). Layer:
 * top, beside fs.c. Attributes are dropped at once; entries either at once
 * or, for callers inside an operation on the directory itself (whose lock
 * the kernel holds until we answer), by one notifier thread once that
 * operation has been answered.
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

/*
 * The node id of @path's parent. The high-level API hides node ids, but
 * without use_ino st_ino *is* the node id, so it comes from stat()ing the
 * parent through the mount. Only ever called while serving an operation:
 * its syscall keeps the mount busy anyway, so this walk can never be what
 * makes an unmount fail with EBUSY (a walk from a thread of its own could).
 * The parent's entry is cached by the kernel, and the walk takes no lock
 * the kernel holds for the operation being served.
 */
static int parent_ino(struct cloudfs *fs, const char *path, fuse_ino_t *ino)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	struct stat st;

	if (!slash || !slash[1] || !fs->mountpoint)
		return -EINVAL;
	*ino = FUSE_ROOT_ID;
	if (slash == path)
		return 0;
	snprintf(parent, sizeof(parent), "%s%.*s", fs->mountpoint, (int)(slash - path), path);
	if (lstat(parent, &st))
		return -errno;
	*ino = st.st_ino;
	return 0;
}

static void forget_entry(struct cloudfs *fs, fuse_ino_t parent, const char *name)
{
	fuse_lowlevel_notify_inval_entry(fuse_get_session(fs->fuse), parent, name, strlen(name));
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
	fuse_ino_t parent;

	/* Attributes are dropped at once: no directory lock is involved, and
	 * files hold no page cache (direct_io) for the kernel to wait on. A
	 * path the kernel does not know costs a table lookup. */
	if (kind == MODEL_NOTIFY_ATTR) {
		if (fs->fuse)
			fuse_invalidate_path(fs->fuse, path);
		return;
	}
	if (!fs->fuse || parent_ino(fs, path, &parent))
		return;
	if (kind == MODEL_NOTIFY_ENTRY_LATER)
		forget_later(fs, parent, strrchr(path, '/') + 1);
	else
		forget_entry(fs, parent, strrchr(path, '/') + 1);
}
