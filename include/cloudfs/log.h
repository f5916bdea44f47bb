/* SPDX-License-Identifier: MIT */
/*
 * The only logging entry point. Messages go to stderr in the foreground,
 * to syslog ("cloudfs[pid]", facility daemon) once daemonized, or to the
 * file -o log=FILE names. Errors reported by the cloud are also kept in a
 * small ring that users read as /.cloudfs/errors, because an errno alone
 * does not say why the cloud refused. Never pass a token or password here.
 */
#ifndef CLOUDFS_LOG_H
#define CLOUDFS_LOG_H

#include "cloudfs/common.h"
#include "cloudfs/buf.h"

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG
};

/* Called from main() before any thread starts. */
void log_init(enum log_level level, bool use_syslog);
void log_set_syslog(bool use_syslog);
/* -o log=FILE: from now on every message is appended to @path (created
 * 0600), with a time stamp, in the foreground and once detached. Called
 * before threads start. Returns 0 or -errno. */
int log_open_file(const char *path) CFS_WARN_UNUSED;
/* Closes the log file and syslog (at exit). */
void log_close(void);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) CFS_PRINTF(2, 3);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                       \
	do {                                                 \
		if (log_enabled(LOG_LVL_DEBUG))              \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__); \
	} while (0)

/* How many cloud errors /.cloudfs/errors keeps, oldest dropped first. */
#define LOG_RING_SIZE 64

/* Logs at warning level and remembers the line for /.cloudfs/errors. */
void log_cloud_error(const char *fmt, ...) CFS_PRINTF(1, 2);
/* Appends the remembered lines, oldest first, one per line. */
int log_ring_render(struct buf *out) CFS_WARN_UNUSED;

#endif
