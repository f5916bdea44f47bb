/* SPDX-License-Identifier: MIT */
/*
 * When the polling worker (src/fuse/fs_poll.c) keeps polling for the next
 * request, and when it goes to sleep. Pure: it only sees durations, so it
 * is tested without a mount.
 *
 * Polling pays when the next request comes within the poll: the wake-up of
 * a sleeping worker is saved (a warm burst: `cat` of many files, each
 * answered from memory in microseconds). It costs when nothing comes or
 * when the CPU was wanted: on a 2-CPU machine by the client itself, the
 * cloud, or the worker doing the real work (a cold listing, where
 * requests fetch and render). So:
 *  - after a request that needed work (served in SPIN_WORK_US or more),
 *    the worker does not poll: requests that need work come at the pace of
 *    that work, and the client and the other workers want the CPU;
 *  - after a fast answer it polls for up to spin_us;
 *  - a poll during which the worker lost its CPU (a turn of the loop took
 *    SPIN_PREEMPTED_US: the scheduler ran someone else, the machine has no
 *    CPU to spare) ends there.
 * Measured (bench/README.md, issue 18): halving the poll after polls that
 * caught nothing as well made the poller sleep through warm bursts, which
 * the other workers then took, each woken.
 */
#ifndef CLOUDFS_SPIN_H
#define CLOUDFS_SPIN_H

#include <stdbool.h>
#include <stdint.h>

/* A request served in this long or more did work (a fetch, a render of a
 * large document): no polling after it. */
#define SPIN_WORK_US 50
/* A turn of the poll loop this long means the worker was preempted. */
#define SPIN_PREEMPTED_US 30

struct spin_policy {
	int64_t max_us; /* spin_us */
	/* what happened, logged at unmount with -v */
	uint64_t polls, hits, misses, preempted, skipped;
};

void spin_init(struct spin_policy *s, int64_t max_us);
/* How long to poll after a request served in @served_us: 0 = sleep. */
int64_t spin_next(struct spin_policy *s, int64_t served_us);
/* A poll of up to @spun_us caught a request (@came) or ended with none. */
void spin_note(struct spin_policy *s, bool came, int64_t spun_us);
/* A poll ended because the worker lost its CPU. */
void spin_preempted(struct spin_policy *s);

#endif
