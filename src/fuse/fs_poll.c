/* SPDX-License-Identifier: MIT */
/*
 * The polling worker: one more thread serving FUSE requests beside
 * libfuse's, which after each request it answers keeps polling /dev/fuse
 * for a while before it goes to sleep.
 *
 * Why: a script reading many files sends requests one after the other, each
 * only once the last is answered. A sleeping worker must be woken for each,
 * and on a VM that wake-up (an interrupt to another CPU, the scheduler)
 * costs more than serving the request: bench/floorfs, which serves from
 * memory, spends most of its time there. A worker that is still awake when
 * the next request comes takes it at once.
 *
 * It reads the session's own descriptor, blocking, like libfuse's workers
 * do, and only polls with a zero timeout between requests: no O_NONBLOCK, so
 * libfuse's workers (which treat EAGAIN as fatal) are untouched, and a
 * request another worker takes first only means a blocking read.
 *
 * Whether it polls adapts (src/util/spin.c, include/cloudfs/spin.h): not
 * after a request that needed work, and a poll ends as soon as the worker
 * lost its CPU, so that it does not take the CPU a cold listing's client
 * (or the worker fetching for it) needs.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloudfs/fs_poll.h"
#include "cloudfs/log.h"
#include "cloudfs/spin.h"

struct fs_poller {
	struct fuse_session *se;
	struct spin_policy spin; /* the poller's own thread only */
	pthread_t thread;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Polls @fd for up to @spin_us from @start, until a request waits: true
 * when one does. A turn of the loop takes a microsecond or two; one that
 * took SPIN_PREEMPTED_US means the scheduler gave this CPU to someone
 * else meanwhile: it is wanted, so the poll ends (*@preempted). */
static bool await_next(int fd, int64_t start, int64_t spin_us, bool *preempted)
{
	int64_t end = start + spin_us, last = start, t;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	*preempted = false;
	for (;;) {
		if (poll(&pfd, 1, 0) > 0)
			return true;
		t = now_us();
		if (t - last >= SPIN_PREEMPTED_US) {
			*preempted = true;
			return false;
		}
		if (t >= end)
			return false;
		last = t;
	}
}

static void free_buf(void *arg)
{
	free(((struct fuse_buf *)arg)->mem);
}

static void *poller_main(void *arg)
{
	struct fs_poller *p = arg;
	struct fuse_buf buf = { .mem = NULL };
	int fd = fuse_session_fd(p->se);
	sigset_t all;
	int64_t start, answered, spun;
	bool preempted;
	int rc = 0;

	/* A SIGTERM it took would end only this thread, not the loop that
	 * waits for libfuse's workers: signals go to those. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* Cancelled only while it waits for a request (fs_poller_stop),
	 * never in the middle of one. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_push(free_buf, &buf);
	while (!fuse_session_exited(p->se)) {
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		rc = fuse_session_receive_buf(p->se, &buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (rc == -EINTR || rc == 0)
			continue; /* interrupted, or unmounted (then exited) */
		if (rc < 0)
			break;
		start = now_us();
		fuse_session_process_buf(p->se, &buf);
		answered = now_us();
		spun = spin_next(&p->spin, answered - start);
		if (!spun)
			continue;
		if (await_next(fd, answered, spun, &preempted))
			spin_note(&p->spin, true, spun);
		else if (preempted)
			spin_preempted(&p->spin);
		else
			spin_note(&p->spin, false, spun);
	}
	/* libfuse's workers go on serving: only the polling stops. */
	if (rc < 0)
		log_warn("polling worker stopped: %s", strerror(-rc));
	pthread_cleanup_pop(1);
	return NULL;
}

int fs_poller_start(struct fuse_session *se, unsigned spin_us, struct fs_poller **out)
{
	struct fs_poller *p;
	cpu_set_t cpus;
	int rc;

	*out = NULL;
	if (!spin_us)
		return 0;
	/* Polling pays only while the requester runs on another CPU. */
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2) {
		log_info("one CPU: no polling worker");
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->se = se;
	spin_init(&p->spin, spin_us);
	rc = -pthread_create(&p->thread, NULL, poller_main, p);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void fs_poller_stop(struct fs_poller *p)
{
	if (!p)
		return;
	/* It may be asleep in read(2) on a connection that lives on (a lazy
	 * unmount with files still open): cancel that read. */
	pthread_cancel(p->thread);
	pthread_join(p->thread, NULL);
	log_info("polling worker: %llu polls, %llu caught a request, %llu caught none, "
		 "%llu preempted, %llu requests that needed work not followed by one",
		 (unsigned long long)p->spin.polls, (unsigned long long)p->spin.hits,
		 (unsigned long long)p->spin.misses, (unsigned long long)p->spin.preempted,
		 (unsigned long long)p->spin.skipped);
	free(p);
}
