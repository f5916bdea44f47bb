/* SPDX-License-Identifier: MIT */
/*
 * The transfers in progress, for .cloudfs/transfers (src/transfers.c): one
 * entry per upload or download of a file's bytes, with its progress, a rate
 * over the last TRANSFERS_WINDOW_MS and its state. Pure: it knows no service,
 * no HTTP and no FUSE; callers give it a path and byte counts, and the time
 * (clock_now_ms()), so tests drive it with any clock.
 *
 * Cheap when idle: no thread and no timer. A transfer costs one allocation at
 * its start; a progress step is two atomic stores, plus a short lock every
 * TRANSFERS_SAMPLE_MS to note a sample for the rate.
 */
#ifndef CLOUDFS_TRANSFERS_H
#define CLOUDFS_TRANSFERS_H

#include <stdint.h>

#include "cloudfs/buf.h"

/* The rate is the bytes moved over this last stretch of time. */
#define TRANSFERS_WINDOW_MS 5000
/* How often a running transfer notes (time, bytes) for the rate. */
#define TRANSFERS_SAMPLE_MS 250
/* No byte moved for this long: the transfer is "stalled". */
#define TRANSFERS_STALL_MS 5000
/* Finished transfers stay listed, with their result, this long... */
#define TRANSFERS_LINGER_MS 5000
/* ...and at most this many of them. */
#define TRANSFERS_LINGER_MAX 8

struct transfers;
struct transfer;

enum transfer_dir {
	TRANSFER_UP,
	TRANSFER_DOWN,
};

/* What a transfer is doing besides moving bytes (running and stalled are
 * told apart by time). */
enum transfer_phase {
	TRANSFER_MOVING, /* bytes move: "running", or "stalled" */
	TRANSFER_FINISHING, /* all bytes given; waiting for the cloud's verdict */
	TRANSFER_CLEANING, /* failed; deleting what it half made */
};

struct transfers *transfers_new(void);
/* Frees the registry and every transfer still in it (their owners must be
 * gone). NULL-safe. */
void transfers_free(struct transfers *t);

/*
 * Registers a transfer of @path (copied; shown relative to the mount, so
 * without a leading '/'), of @total bytes (-1: unknown), starting at @now_ms.
 * *out is borrowed: valid until transfer_end(). Returns 0 or -ENOMEM.
 * @t NULL: *out is NULL and every transfer_*() call on it does nothing.
 */
int transfers_add(struct transfers *t, enum transfer_dir dir, const char *path, int64_t total,
		  int64_t now_ms, struct transfer **out);
/* @done bytes have moved by @now_ms. A smaller @done than before (a reader
 * that seeked back) restarts the rate. One thread at a time per transfer
 * (its owner's lock); never blocks for more than a table operation. */
void transfer_progress(struct transfer *x, int64_t done, int64_t now_ms);
/* The total became known (or unknown: -1). */
void transfer_set_total(struct transfer *x, int64_t total);
void transfer_set_phase(struct transfer *x, enum transfer_phase phase);
/* The transfer is over: 0 (every byte moved and was accepted), -errno, or
 * TRANSFER_STOPPED (a reader closed before the end). It stays listed as
 * "done", "failed" or "stopped" for TRANSFERS_LINGER_MS. @x is not to be
 * used again. */
void transfer_end(struct transfer *x, int result, int64_t now_ms);
#define TRANSFER_STOPPED 1

/* Appends the header line and one line per transfer (oldest first), finished
 * ones after the running ones; see docs/SEMANTICS.md, "Control files".
 * Takes the registry's lock for the copy of each line's numbers only. */
int transfers_render(struct transfers *t, int64_t now_ms, struct buf *out) CFS_WARN_UNUSED;
/* One line of the same format for something that is not a registered
 * transfer (an owed cleanup): no bytes, state @state. */
int transfers_render_other(struct buf *out, enum transfer_dir dir, const char *state,
			   const char *path) CFS_WARN_UNUSED;

/* The numbers a line shows, for tests: -1 where the line says "-". */
struct transfer_view {
	int64_t done, total, rate_bps, eta_s;
	const char *state; /* static string */
};
/* The view of the transfer of @path (the newest if several); -ENOENT. */
int transfers_view(struct transfers *t, const char *path, int64_t now_ms,
		   struct transfer_view *out) CFS_WARN_UNUSED;
/* Transfers listed (running and lingering) at @now_ms. */
size_t transfers_count(struct transfers *t, int64_t now_ms);

#endif
