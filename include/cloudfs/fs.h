/* SPDX-License-Identifier: MIT */
/*
 * The FUSE adapter: thin callbacks over the model. With main.c, the only
 * code that includes libfuse.
 */
#ifndef CLOUDFS_FS_H
#define CLOUDFS_FS_H

#include <pthread.h>
#include <fuse_lowlevel.h>

#include "cloudfs/api.h"
#include "cloudfs/auth.h"
#include "cloudfs/config.h"
#include "cloudfs/inodes.h"
#include "cloudfs/model.h"

/* Invalidations waiting for the notifier thread (fs_notify.c). */
struct fs_notifier {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a note was queued */
	pthread_cond_t sent_cond; /* a note was sent */
	struct fs_note *head, *tail; /* protected by lock */
	uint64_t queued, sent; /* protected by lock: notes queued, sent so far */
	bool started; /* protected by lock: the thread runs */
	bool stop; /* protected by lock: fs_notifier_stop() was called */
	pthread_t thread;
};

/* The open files and directories the kernel has not released yet (fs.c).
 * When the session ends with some still open (a process killed while
 * holding one, a lazy unmount), fs_open_free_all() frees them. */
struct fs_open {
	pthread_mutex_t lock;
	struct fs_open_link *head; /* protected by lock */
};

struct fs_open_link {
	struct fs_open_link *prev, *next; /* protected by fs_open.lock */
	bool dir; /* the link heads a struct dir, else a struct fs_file (an open file) */
};

/* Everything a mount owns; reaches callbacks as the session's userdata. */
struct cloudfs {
	struct config cfg;
	struct auth *auth;
	struct session sess;
	struct project project; /* the mount root */
	struct inodes *inodes; /* the kernel's node ids */
	struct fuse_session *se; /* set once mounted */
	struct fs_notifier notifier;
	struct fs_open open;
};

const struct fuse_lowlevel_ops *fs_operations(void);
void fs_notifier_init(struct fs_notifier *q);
/* Ends the notifier thread (once the FUSE loop has ended) and drops what it
 * had not sent. */
void fs_notifier_stop(struct fs_notifier *q);
/* The model's notify hook (fs_notify.c): the kernel will drop what it
 * caches about @path, soon, from the notifier thread (never from the
 * caller's: see fs_notify.c). @fs is the struct cloudfs. */
void fs_notify(void *fs, const char *path, enum model_notify kind);
/* Waits, at most @ms milliseconds, until every note queued so far has been
 * sent. Only from a caller that holds no lock and no directory of the
 * kernel's, and leads no cache fetch (an opendir after its listing). */
void fs_notify_settle(struct cloudfs *fs, int ms);
void fs_open_init(struct fs_open *o);
/* Frees what the kernel never released; after the session has ended. */
void fs_open_free_all(struct fs_open *o);
/* True when the request this thread serves was interrupted (Ctrl-C). */
bool fs_interrupted(void);

#endif
