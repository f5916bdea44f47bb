/* SPDX-License-Identifier: MIT */
/*
 * What a daemon owes the system around it: exit codes a shell script can
 * test, systemd's readiness protocol, and the health check (--check).
 * Layer: beside main.c; check.c is above api/auth, notify.c needs nothing.
 */
#ifndef CLOUDFS_DAEMON_H
#define CLOUDFS_DAEMON_H

#include <stdio.h>

#include "cloudfs/common.h"
#include "cloudfs/config.h"

/* Exit codes; docs/cloudfs.1 (EXIT STATUS) lists the same. */
enum cfs_exit {
	CFS_EXIT_OK = 0,
	CFS_EXIT_FAIL = 1, /* the mount failed, or the daemon ended with an error */
	CFS_EXIT_USAGE = 2, /* bad command line */
	CFS_EXIT_CONFIG = 3, /* credentials incomplete, clouds.yaml missing or wrong */
	CFS_EXIT_AUTH = 4, /* Keystone answered and refused the credentials */
	CFS_EXIT_UNREACHABLE = 5, /* Keystone did not answer (down, timeout, 5xx) */
	CFS_EXIT_SERVICE = 6, /* --check: a service in the catalog did not answer */
};

/* The exit code for auth_login()'s -errno: did Keystone answer at all? */
enum cfs_exit cfs_exit_for_login(int rc);

/*
 * notify_send() - one message to systemd's notify socket ($NOTIFY_SOCKET)
 * @state: "READY=1", "STOPPING=1", ... (newline-separated assignments)
 * Returns 1 when sent, 0 when NOTIFY_SOCKET is not set (not run by systemd
 * with Type=notify), -errno when sending failed. Never blocks for long: the
 * socket is a datagram socket. Context: any thread.
 */
int notify_send(const char *state);

/*
 * check_run() - cloudfs --check: authenticate, list the catalog, reach
 * every service cloudfs uses, and print a table to @out
 * @cfg: loaded and validated credentials and timeouts
 * Returns the exit code (CFS_EXIT_OK only when every service answered).
 * Needs http_global_init().
 */
enum cfs_exit check_run(const struct config *cfg, FILE *out);

#endif
