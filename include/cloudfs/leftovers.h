/* SPDX-License-Identifier: MIT */
/*
 * Incomplete images still to be deleted (src/leftovers.c): a failed
 * upload's cleanup DELETE, retried until a deadline, then in the background
 * and at unmount; and images a killed cloudfs left, found at start by the
 * marker property every upload carries until it completes.
 */
#ifndef CLOUDFS_LEFTOVERS_H
#define CLOUDFS_LEFTOVERS_H

#include <stdbool.h>
#include <stdint.h>

#include "cloudfs/buf.h"

struct project;
struct leftovers;
struct collection_def;

/* The image property an upload carries until it completes. Its value names
 * the process: "host=<hostname> boot=<boot id> pid=<pid> start=<ticks>". */
#define LEFTOVERS_PROPERTY "cloudfs_upload"
#define LEFTOVERS_MARKER_MAX 256

int leftovers_new(struct project *p, struct leftovers **out) CFS_WARN_UNUSED;
/* This process's marker value (borrowed, lives as long as @l). */
const char *leftovers_marker(const struct leftovers *l);
/* Starts the background thread: it first deletes images that dead cloudfs
 * processes on this host left, then retries what is owed. Once. */
void leftovers_start(struct leftovers *l);
/* Deletes image @id (404 counts as done), retrying until @deadline_ms
 * (clock_now_ms()); then it is owed and retried in the background. 0 when
 * deleted, else the last -errno. Context: any thread; takes no lock of the
 * caller's. */
int leftovers_delete(struct leftovers *l, const char *id, const char *name, int64_t deadline_ms);
/* Owes the DELETE of request path @path of collection @c's service: a part
 * of the failed upload @name (a file's path, for messages), or with @last
 * its mark, tried only once no part of @group (the upload's stamp) is
 * owed. Retried in the background and at unmount, like an image. */
void leftovers_owe_path(struct leftovers *l, const struct collection_def *c, const char *path,
			const char *group, const char *name, bool last);
/* "images_to_delete N" and one "image_to_delete <id> <name>" line each,
 * then "parts_to_delete N" and one "part_to_delete <path> <name>" each. */
int leftovers_render(struct leftovers *l, struct buf *out) CFS_WARN_UNUSED;
/* Calls @fn for each owed image (@id), and once for each upload whose
 * parts are owed (@id NULL, @name its path), with l->lock held (so @fn takes no lock
 * and makes no request); stops at the first non-zero return, returned. */
int leftovers_each(struct leftovers *l, int (*fn)(void *ctx, const char *id, const char *name),
		   void *ctx) CFS_WARN_UNUSED;
/* At unmount: stops the thread, tries each owed image once more until
 * @deadline_ms and logs what is left in Glance. */
void leftovers_stop(struct leftovers *l, int64_t deadline_ms);
void leftovers_free(struct leftovers *l);

#endif
