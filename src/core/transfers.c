/* SPDX-License-Identifier: MIT */
/*
 * The registry of transfers behind .cloudfs/transfers. Layer: pure (below
 * the model, beside cache.c); includes nothing of FUSE, HTTP or JSON.
 *
 * A transfer's owner (an open file's stream, under its handle's lock)
 * stores its progress in atomics and, at most every TRANSFERS_SAMPLE_MS,
 * a (time, bytes) sample under t->lock. A reader of the control file takes
 * t->lock once and copies each line's numbers; nobody holds it across
 * anything but a list or ring operation, so reading the file never waits
 * for a transfer's I/O.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/transfers.h"

/* Samples kept: at one per TRANSFERS_SAMPLE_MS they span 8 s, more than
 * the window, so the window's start is always among them. */
#define RING 32
/* A rate over less time than this says more about the kernel's request
 * sizes than about the link: it is shown as unknown. */
#define MIN_SPAN_MS 500

struct sample {
	int64_t t_ms, bytes;
};

struct transfer {
	struct transfers *t;
	struct transfer *next; /* protected by t->lock */
	enum transfer_dir dir;
	char *path; /* immutable */
	_Atomic int64_t done;
	_Atomic int64_t total; /* -1: unknown */
	_Atomic int64_t moved_ms; /* when done last changed */
	_Atomic int phase; /* enum transfer_phase */
	int64_t last_sample_ms; /* the owner's alone */
	struct sample ring[RING]; /* protected by t->lock */
	unsigned first, count; /* protected by t->lock: ring[first] is the oldest */
	bool ended; /* protected by t->lock */
	int result; /* protected by t->lock, once ended */
	int64_t ended_ms; /* protected by t->lock */
};

struct transfers {
	pthread_mutex_t lock; /* a leaf: held for list and ring operations only */
	struct transfer *head; /* protected by lock; oldest first */
};

struct transfers *transfers_new(void)
{
	struct transfers *t = calloc(1, sizeof(*t));

	if (t)
		pthread_mutex_init(&t->lock, NULL);
	return t;
}

static void transfer_free(struct transfer *x)
{
	free(x->path);
	free(x);
}

void transfers_free(struct transfers *t)
{
	if (!t)
		return;
	while (t->head) {
		struct transfer *x = t->head;

		t->head = x->next;
		transfer_free(x);
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* Drops finished transfers shown long enough, and all but the newest
 * TRANSFERS_LINGER_MAX. With t->lock held. */
static void prune(struct transfers *t, int64_t now_ms)
{
	size_t ended = 0;

	for (struct transfer *x = t->head; x; x = x->next)
		ended += x->ended;
	for (struct transfer **pp = &t->head; *pp;) {
		struct transfer *x = *pp;

		if (x->ended &&
		    (now_ms - x->ended_ms >= TRANSFERS_LINGER_MS || ended > TRANSFERS_LINGER_MAX)) {
			*pp = x->next;
			ended--;
			transfer_free(x);
			continue;
		}
		pp = &x->next;
	}
}

static void push_sample(struct transfer *x, int64_t t_ms, int64_t bytes)
{
	if (x->count == RING) {
		x->first = (x->first + 1) % RING;
		x->count--;
	}
	x->ring[(x->first + x->count) % RING] = (struct sample){ t_ms, bytes };
	x->count++;
}

int transfers_add(struct transfers *t, enum transfer_dir dir, const char *path, int64_t total,
		  int64_t now_ms, struct transfer **out)
{
	struct transfer *x;

	*out = NULL;
	if (!t)
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	while (*path == '/')
		path++;
	x->path = strdup(path);
	if (!x->path) {
		free(x);
		return -ENOMEM;
	}
	x->t = t;
	x->dir = dir;
	atomic_init(&x->done, 0);
	atomic_init(&x->total, total < 0 ? -1 : total);
	atomic_init(&x->moved_ms, now_ms);
	atomic_init(&x->phase, TRANSFER_MOVING);
	x->last_sample_ms = now_ms;
	push_sample(x, now_ms, 0);
	pthread_mutex_lock(&t->lock);
	prune(t, now_ms);
	{
		struct transfer **pp = &t->head;

		while (*pp)
			pp = &(*pp)->next;
		*pp = x;
	}
	pthread_mutex_unlock(&t->lock);
	*out = x;
	return 0;
}

void transfer_progress(struct transfer *x, int64_t done, int64_t now_ms)
{
	int64_t prev, total;
	bool back;

	if (!x)
		return;
	prev = atomic_load(&x->done);
	if (done == prev)
		return;
	back = done < prev;
	atomic_store(&x->done, done);
	atomic_store(&x->moved_ms, now_ms);
	/* More bytes than announced: the total was a guess that failed. */
	total = atomic_load(&x->total);
	if (total >= 0 && done > total)
		atomic_store(&x->total, -1);
	if (!back && now_ms - x->last_sample_ms < TRANSFERS_SAMPLE_MS)
		return;
	x->last_sample_ms = now_ms;
	pthread_mutex_lock(&x->t->lock);
	/* Bytes before a seek back say nothing of the rate from here on. */
	if (back)
		x->count = 0;
	push_sample(x, now_ms, done);
	pthread_mutex_unlock(&x->t->lock);
}

void transfer_set_total(struct transfer *x, int64_t total)
{
	if (x)
		atomic_store(&x->total, total < 0 ? -1 : total);
}

void transfer_set_phase(struct transfer *x, enum transfer_phase phase)
{
	if (x)
		atomic_store(&x->phase, (int)phase);
}

void transfer_end(struct transfer *x, int result, int64_t now_ms)
{
	struct transfers *t;

	if (!x)
		return;
	t = x->t;
	pthread_mutex_lock(&t->lock);
	x->ended = true;
	x->result = result;
	x->ended_ms = now_ms;
	prune(t, now_ms);
	pthread_mutex_unlock(&t->lock);
}

/* The numbers of @x at @now_ms. With t->lock held. */
static void view_of(const struct transfer *x, int64_t now_ms, struct transfer_view *v)
{
	const struct sample *ref = NULL;
	int64_t span;

	v->done = atomic_load(&x->done);
	v->total = atomic_load(&x->total);
	v->rate_bps = -1;
	v->eta_s = -1;
	if (x->ended) {
		v->state = x->result == 0		   ? "done"
			   : x->result == TRANSFER_STOPPED ? "stopped"
							   : "failed";
		return;
	}
	switch ((enum transfer_phase)atomic_load(&x->phase)) {
	case TRANSFER_FINISHING:
		v->state = "finishing";
		return;
	case TRANSFER_CLEANING:
		v->state = "cleaning";
		return;
	case TRANSFER_MOVING:
		break;
	}
	if (now_ms - atomic_load(&x->moved_ms) >= TRANSFERS_STALL_MS) {
		v->state = "stalled";
		v->rate_bps = 0;
		return;
	}
	v->state = "running";
	/* The window starts at the newest sample at least a window old, or at
	 * the oldest one while the transfer is younger than that. */
	for (unsigned i = 0; i < x->count; i++) {
		const struct sample *s = &x->ring[(x->first + i) % RING];

		if (!ref || s->t_ms <= now_ms - TRANSFERS_WINDOW_MS)
			ref = s;
		else
			break;
	}
	if (!ref)
		return;
	span = now_ms - ref->t_ms;
	if (span < MIN_SPAN_MS || v->done < ref->bytes)
		return;
	v->rate_bps = (v->done - ref->bytes) * 1000 / span;
	if (v->total >= 0 && v->rate_bps > 0)
		v->eta_s = (v->total - v->done + v->rate_bps - 1) / v->rate_bps;
}

/* The path as one field: blanks, control bytes and backslashes are written
 * as \ooo (octal), as /proc/mounts does. */
static int add_path(struct buf *out, const char *path)
{
	int rc = 0;

	for (const unsigned char *c = (const unsigned char *)path; *c && !rc; c++) {
		if (*c <= ' ' || *c == '\\' || *c == 0x7f)
			rc = buf_addf(out, "\\%03o", *c);
		else
			rc = buf_add(out, c, 1);
	}
	return rc ? rc : buf_addstr(out, "\n");
}

/* @n right-aligned in @width columns and a blank; "-" when negative. */
static int add_num(struct buf *out, int width, int64_t n)
{
	char tmp[32] = "-";

	if (n >= 0)
		snprintf(tmp, sizeof(tmp), "%lld", (long long)n);
	return buf_addf(out, "%*s ", width, tmp);
}

static int render_line(struct buf *out, enum transfer_dir dir, const struct transfer_view *v,
		       const char *path)
{
	char pct[8] = "-";
	int rc;

	if (v->done >= 0 && v->total > 0)
		snprintf(pct, sizeof(pct), "%d%%", (int)(v->done * 100 / v->total));
	else if (v->done == 0 && v->total == 0)
		snprintf(pct, sizeof(pct), "100%%");
	rc = buf_addf(out, "%-4s %-9s ", dir == TRANSFER_UP ? "up" : "down", v->state);
	if (!rc)
		rc = add_num(out, 12, v->done);
	if (!rc)
		rc = add_num(out, 12, v->total);
	if (!rc)
		rc = buf_addf(out, "%4s ", pct);
	if (!rc)
		rc = add_num(out, 10, v->rate_bps);
	if (!rc)
		rc = add_num(out, 6, v->eta_s);
	return rc ? rc : add_path(out, path);
}

int transfers_render_other(struct buf *out, enum transfer_dir dir, const char *state,
			   const char *path)
{
	struct transfer_view v = { -1, -1, -1, -1, state };

	return render_line(out, dir, &v, path);
}

int transfers_render(struct transfers *t, int64_t now_ms, struct buf *out)
{
	struct transfer_view v;
	int rc = buf_addf(out, "%-4s %-9s %12s %12s %4s %10s %6s %s\n", "DIR", "STATE", "DONE",
			  "TOTAL", "PCT", "RATE", "ETA", "PATH");

	if (rc || !t)
		return rc;
	pthread_mutex_lock(&t->lock);
	prune(t, now_ms);
	/* Running first, then what finished, each oldest first. */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		for (struct transfer *x = t->head; x && !rc; x = x->next) {
			if (x->ended != (pass == 1))
				continue;
			view_of(x, now_ms, &v);
			rc = render_line(out, x->dir, &v, x->path);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int transfers_view(struct transfers *t, const char *path, int64_t now_ms, struct transfer_view *out)
{
	int rc = -ENOENT;

	while (*path == '/')
		path++;
	pthread_mutex_lock(&t->lock);
	prune(t, now_ms);
	for (struct transfer *x = t->head; x; x = x->next) {
		if (!strcmp(x->path, path)) {
			view_of(x, now_ms, out);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

size_t transfers_count(struct transfers *t, int64_t now_ms)
{
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	prune(t, now_ms);
	for (struct transfer *x = t->head; x; x = x->next)
		n++;
	pthread_mutex_unlock(&t->lock);
	return n;
}
