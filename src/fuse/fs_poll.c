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

struct fs_poller {
	struct fuse_session *se;
	int64_t spin_us;
	pthread_t thread;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Polls @fd for up to @spin_us, until a request waits. */
static void await_next(int fd, int64_t spin_us)
{
	int64_t end = now_us() + spin_us;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (poll(&pfd, 1, 0) == 0 && now_us() < end)
		;
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
		fuse_session_process_buf(p->se, &buf);
		await_next(fd, p->spin_us);
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
	p->spin_us = spin_us;
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
	free(p);
}
