/* SPDX-License-Identifier: MIT */
/*
 * The polling worker (fs_poll.c): one thread beside libfuse's workers that,
 * after each request it answers, polls up to @spin_us µs for the next one
 * before it sleeps, so a burst of requests is not a thread wake-up each.
 * Knows nothing of cloudfs: bench/floorfs runs it too.
 */
#ifndef CLOUDFS_FS_POLL_H
#define CLOUDFS_FS_POLL_H

#include <fuse_lowlevel.h>

#include "cloudfs/common.h"

struct fs_poller;

/* 0: none (*out = NULL); nor on a single CPU. 0 or -errno. */
int fs_poller_start(struct fuse_session *se, unsigned spin_us,
		    struct fs_poller **out) CFS_WARN_UNUSED;
/* Stops and frees it (NULL is fine), whatever the connection's state. */
void fs_poller_stop(struct fs_poller *p);

#endif
