/* SPDX-License-Identifier: MIT */
/*
 * When the polling worker (src/fuse/fs_poll.c) keeps polling for the next
 * request, and when it goes to sleep. Pure: it only sees durations, so it
 * is tested without a mount.
 *
 * Polling pays when the next request comes within the poll: the wake-up of
 * a sleeping worker is saved (a warm burst: `cat` of many files, each
 * answered from memory in microseconds). It costs when nothing comes: the
 * CPU is taken from whoever needs it, on a 2-CPU machine the client
 * itself, the cloud, or the worker doing the real work (a cold listing,
 * where requests fetch and render). So:
 *  - after a request that needed work (served in spin_work_us or more),
 *    the worker does not poll: requests that need work come at the pace of
 *    that work, and the client wants the CPU meanwhile;
 *  - after a fast answer it polls for up to its budget, which halves each
 *    time nothing came, down to SPIN_MIN_US (a poll that short costs little
 *    and still sees a burst start: the worker sleeping in read(2) is one of
 *    many, so the gaps it sees asleep say nothing), and is back at the full
 *    spin_us as soon as a request comes within spin_us of the last answer;
 *  - a poll during which the worker lost its CPU (the scheduler ran someone
 *    else: the machine has no CPU to spare) ends, and the budget drops to
 *    the floor: on a busy machine polling only competes.
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
/* The budget never halves below this. */
#define SPIN_MIN_US 20

struct spin_policy {
	int64_t max_us; /* spin_us: the budget's ceiling */
	int64_t budget_us; /* how long the next poll may last */
	/* counters for .cloudfs/status and bench */
	uint64_t polls, hits, misses, preempted, skipped;
};

void spin_init(struct spin_policy *s, int64_t max_us);
/* How long to poll after a request served in @served_us: 0 = sleep. */
int64_t spin_next(struct spin_policy *s, int64_t served_us);
/* After a poll of @spun_us (0: the worker slept at once): the next request
 * came (@came) @gap_us after the last answer, or the poll ended with none. */
void spin_note(struct spin_policy *s, bool came, int64_t gap_us, int64_t spun_us);
/* A poll ended because the worker lost its CPU. */
void spin_preempted(struct spin_policy *s);

#endif
