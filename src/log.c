/* SPDX-License-Identifier: MIT */
/*
 * Logging and the user-readable error ring. Layer: utility. One of the two
 * files allowed mutable globals (the sink is process-wide by nature).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cloudfs/log.h"

static enum log_level log_level = LOG_LVL_WARN;
static bool log_syslog;
/* -o log=FILE: every message goes there, before and after detaching. Set
 * once by main() before threads start; stdio locks each line. */
static FILE *log_file;

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static char *ring[LOG_RING_SIZE]; /* protected by ring_lock */
static unsigned ring_next; /* protected by ring_lock */

void log_init(enum log_level level, bool use_syslog)
{
	log_level = level;
	log_set_syslog(use_syslog);
}

void log_set_syslog(bool use_syslog)
{
	if (use_syslog && !log_syslog)
		openlog("cloudfs", LOG_PID, LOG_DAEMON);
	log_syslog = use_syslog;
}

int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	FILE *f;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "a");
	if (!f) {
		close(fd);
		return -errno;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	if (log_file)
		fclose(log_file);
	log_file = f;
	return 0;
}

void log_close(void)
{
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	if (log_syslog)
		closelog();
	log_syslog = false;
}

bool log_enabled(enum log_level level)
{
	return level <= log_level;
}

static void log_emit(enum log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	if (log_file) {
		/* A file has no syslog header: time, program and pid go in the line. */
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(log_file, "%s.%03ldZ cloudfs[%ld]: %s: %s\n", stamp, ts.tv_nsec / 1000000,
			(long)getpid(), names[level], msg);
	} else if (log_syslog) {
		syslog(prio[level], "%s", msg);
	} else {
		fprintf(stderr, "cloudfs: %s: %s\n", names[level], msg);
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emit(level, msg);
}

void log_cloud_error(const char *fmt, ...)
{
	char msg[2048], stamp[32], *line = NULL;
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_LVL_WARN, "%s", msg);

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (asprintf(&line, "%s %s", stamp, msg) < 0)
		return;
	pthread_mutex_lock(&ring_lock);
	free(ring[ring_next % LOG_RING_SIZE]);
	ring[ring_next % LOG_RING_SIZE] = line;
	ring_next++;
	pthread_mutex_unlock(&ring_lock);
}

int log_ring_render(struct buf *out)
{
	unsigned i, first;
	int rc = 0;

	pthread_mutex_lock(&ring_lock);
	first = ring_next > LOG_RING_SIZE ? ring_next - LOG_RING_SIZE : 0;
	for (i = first; i < ring_next && !rc; i++) {
		rc = buf_addstr(out, ring[i % LOG_RING_SIZE]);
		if (!rc)
			rc = buf_add(out, "\n", 1);
	}
	pthread_mutex_unlock(&ring_lock);
	return rc;
}
