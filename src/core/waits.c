/* SPDX-License-Identifier: MIT */
/*
 * Blocking waits: a member's "wait" file, read, answers once the member is
 * no longer busy (the collection's busy() hook), with its status (the
 * row's status_field) or with the failure failed() names. Layer: model,
 * above cache and api; knows no OpenStack name: the hooks say what busy
 * and failed mean.
 *
 * A waiting reader holds no thread: the FUSE layer parks its request here
 * and returns (model.h), and one thread, started at the first wait, polls
 * for every waiter. Waiters of one member share each poll; when many
 * members of one collection are awaited, one listing answers them all
 * (200 waiting scripts cost one listing a second, not 200 GETs). Polls go
 * through the cache, so a member read in the last second costs nothing,
 * and a busy member's document lives at most MODEL_BUSY_TTL_MS.
 *
 * Locking: w->lock guards the list and each waiter's queued/cancelled
 * flags. It is a leaf: never held across a poll or a done() call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloudfs/clock.h"
#include "cloudfs/log.h"
#include "cloudfs/render.h"
#include "model_int.h"

/* How often an awaited member is looked at again. */
#define WAITS_POLL_MS MODEL_BUSY_TTL_MS
/* From this many members of one collection awaited at once, one listing
 * is cheaper than a GET each. */
#define WAITS_LIST_MIN 8

struct model_wait {
	struct model_wait *next; /* protected by waits.lock */
	const struct collection_def *c;
	char id[MODEL_ID_MAX];
	model_wait_fn done;
	void *ctx;
	int64_t deadline_ms; /* 0: none */
	int64_t due_ms; /* next poll; protected by waits.lock */
	bool queued; /* protected by waits.lock: in the list */
	bool cancelled; /* protected by waits.lock */
};

struct waits {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a waiter came, was cancelled, or stop */
	struct model_wait *head; /* protected by lock */
	size_t n; /* protected by lock: waiters in the list */
	bool started, stop; /* protected by lock */
	pthread_t thread;
};

/* What one look at a member found. */
struct verdict {
	bool settled; /* false: still busy, look again */
	int rc;
	struct buf text; /* the status and "\n", when rc is 0 */
};

int waits_new(struct waits **out)
{
	struct waits *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	{
		pthread_condattr_t attr;

		pthread_mutex_init(&w->lock, NULL);
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cond, &attr);
		pthread_condattr_destroy(&attr);
	}
	*out = w;
	return 0;
}

/* Ends @list's waiters (unlinked, owned by the caller) with @rc and @v. */
static void end_all(struct model_wait *list, int rc, const struct verdict *v)
{
	while (list) {
		struct model_wait *next = list->next;

		list->done(list->ctx, rc, v && !rc ? v->text.data : NULL,
			   v && !rc ? v->text.len : 0);
		free(list);
		list = next;
	}
}

/* Unlinks the waiters for which @take says so into *@out. Call with
 * w->lock held. */
static void unlink_if(struct waits *w, bool (*take)(struct model_wait *, const void *),
		      const void *arg, struct model_wait **out)
{
	for (struct model_wait **q = &w->head; *q;) {
		struct model_wait *e = *q;

		if (!take(e, arg)) {
			q = &e->next;
			continue;
		}
		*q = e->next;
		e->queued = false;
		w->n--;
		e->next = *out;
		*out = e;
	}
}

static bool same_member(struct model_wait *e, const void *arg)
{
	const struct model_wait *m = arg;

	return e->c == m->c && !strcmp(e->id, m->id);
}

static bool is_cancelled(struct model_wait *e, const void *arg)
{
	(void)arg;
	return e->cancelled;
}

static bool is_expired(struct model_wait *e, const void *arg)
{
	return e->deadline_ms && e->deadline_ms <= *(const int64_t *)arg;
}

static bool any(struct model_wait *e, const void *arg)
{
	(void)e;
	(void)arg;
	return true;
}

/* What @doc says of a wait on it. */
static void judge(const struct collection_def *c, const char *id, const json_t *doc,
		  struct verdict *v)
{
	const json_t *status = json_object_get(doc, c->status_field);
	const char *why = c->failed ? c->failed(doc) : NULL;

	if (why) {
		/* The fault goes where the user looks; the errno says only
		 * that the cloud gave up. */
		log_cloud_error("%s/%s: %s %s%s%s", c->name, id, c->status_field,
				json_is_string(status) ? json_string_value(status) : "(none)",
				*why ? ": " : "", why);
		v->settled = true;
		v->rc = -EREMOTEIO;
		return;
	}
	if (c->busy(doc))
		return;
	v->settled = true;
	/* A document without the status (never seen so far): an empty line. */
	v->rc = status ? render_value(status, &v->text) : buf_addstr(&v->text, "\n");
}

size_t model_wait_size(const struct collection_def *c, const json_t *doc)
{
	const json_t *status = json_object_get(doc, c->status_field);

	if (c->busy(doc) || (c->failed && c->failed(doc)))
		return 0;
	return status ? render_value_size(status) : 1;
}

/* One look at a member: from @listing when it lists it, else by GET. */
static void look(struct project *p, const struct collection_def *c, const char *id,
		 const struct cache_val *listing, struct verdict *v)
{
	struct cache_val *dv = NULL, *parsed = NULL;
	int rc = -ENODATA;

	if (listing) {
		const struct listing *l = listing->data;

		for (size_t i = 0; i < l->n && rc; i++)
			if (!strcmp(((const struct cdoc *)l->m[i]->data)->id, id))
				rc = 0, dv = cache_val_ref(l->m[i]);
	}
	/* Not listed: gone, or too new for the listing; the GET tells. */
	if (rc)
		rc = model_get_item(p, c, id, &dv);
	if (!rc)
		rc = model_doc_parse(p, dv, &parsed);
	if (rc) {
		v->settled = true;
		v->rc = rc;
	} else {
		judge(c, id, parsed->data, v);
	}
	cache_val_unref(parsed);
	cache_val_unref(dv);
}

/* The listing of @c, at most WAITS_POLL_MS old. */
static int fresh_listing(struct project *p, const struct collection_def *c, struct cache_val **out)
{
	int rc = model_get_listing(p, c, out);

	if (rc || clock_now_ms() - (*out)->fetched_ms < WAITS_POLL_MS)
		return rc;
	cache_val_unref(*out);
	*out = NULL;
	model_forget(p, c, NULL);
	return model_get_listing(p, c, out);
}

/* One round: every member whose poll is due is looked at once, and its
 * waiters ended when it has settled. Called and returns with w->lock held. */
static void poll_round(struct project *p, struct waits *w)
{
	int64_t now = clock_now_ms();
	struct model_wait *due = NULL;

	/* The members due, one waiter standing for each. */
	for (struct model_wait *e = w->head; e; e = e->next) {
		bool seen = false;

		if (e->due_ms > now)
			continue;
		for (struct model_wait *d = due; d && !seen; d = d->next)
			seen = same_member(d, e);
		if (seen)
			continue;
		struct model_wait *d = malloc(sizeof(*d));

		if (!d)
			break;
		*d = *e;
		d->next = due;
		due = d;
	}
	for (struct model_wait *e = w->head; e; e = e->next)
		if (e->due_ms <= now)
			e->due_ms = now + WAITS_POLL_MS;
	pthread_mutex_unlock(&w->lock);

	while (due) {
		struct model_wait *d = due, *mine = NULL;
		struct cache_val *listing = NULL;
		struct verdict v = { 0 };
		size_t same = 0;

		due = d->next;
		for (struct model_wait *o = due; o; o = o->next)
			same += o->c == d->c;
		if (same + 1 >= WAITS_LIST_MIN && fresh_listing(p, d->c, &listing))
			listing = NULL; /* the GETs will say what is wrong */
		buf_init(&v.text, 4096);
		look(p, d->c, d->id, listing, &v);
		/* The others of this collection are looked at in the same
		 * listing, while it is fresh. */
		for (struct model_wait **o = &due; listing && *o;) {
			struct model_wait *x = *o;
			struct verdict xv = { 0 };

			if (x->c != d->c) {
				o = &x->next;
				continue;
			}
			*o = x->next;
			buf_init(&xv.text, 4096);
			look(p, x->c, x->id, listing, &xv);
			if (xv.settled) {
				struct model_wait *gone = NULL;

				pthread_mutex_lock(&w->lock);
				unlink_if(w, same_member, x, &gone);
				pthread_mutex_unlock(&w->lock);
				end_all(gone, xv.rc, &xv);
			}
			buf_free(&xv.text);
			free(x);
		}
		cache_val_unref(listing);
		if (v.settled) {
			pthread_mutex_lock(&w->lock);
			unlink_if(w, same_member, d, &mine);
			pthread_mutex_unlock(&w->lock);
			end_all(mine, v.rc, &v);
		}
		buf_free(&v.text);
		free(d);
	}
	pthread_mutex_lock(&w->lock);
}

static void *waits_main(void *arg)
{
	struct project *p = arg;
	struct waits *w = p->waits;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct model_wait *ended = NULL, *expired = NULL;
		int64_t now = clock_now_ms(), next = 0;

		unlink_if(w, is_cancelled, NULL, &ended);
		unlink_if(w, is_expired, &now, &expired);
		if (ended || expired) {
			pthread_mutex_unlock(&w->lock);
			end_all(ended, -EINTR, NULL);
			for (struct model_wait *e = expired; e; e = e->next)
				log_cloud_error(
					"%s/%s: still busy after wait_timeout; gave up waiting",
					e->c->name, e->id);
			end_all(expired, -ETIMEDOUT, NULL);
			pthread_mutex_lock(&w->lock);
			continue;
		}
		for (struct model_wait *e = w->head; e; e = e->next) {
			if (!next || e->due_ms < next)
				next = e->due_ms;
			if (e->deadline_ms && e->deadline_ms < next)
				next = e->deadline_ms;
		}
		if (w->head && next <= now) {
			poll_round(p, w);
			continue;
		}
		if (!w->head) {
			pthread_cond_wait(&w->cond, &w->lock);
		} else {
			struct timespec ts;
			int64_t ms = next - now;

			/* The cond waits on CLOCK_MONOTONIC (waits_new()). */
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += ms / 1000;
			ts.tv_nsec += (ms % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int model_wait_start(struct project *p, const char *path, model_wait_fn done, void *ctx,
		     struct model_wait **out)
{
	struct waits *w = p->waits;
	struct model_wait *e;
	struct node n;
	int rc = model_resolve(p, path, &n);

	if (rc)
		return rc;
	if (!n.wait) {
		model_node_release(&n);
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		model_node_release(&n);
		return -ENOMEM;
	}
	e->c = n.tp.coll;
	snprintf(e->id, sizeof(e->id), "%s", n.id);
	model_node_release(&n);
	e->done = done;
	e->ctx = ctx;
	if (p->wait_timeout_ms > 0)
		e->deadline_ms = clock_now_ms() + p->wait_timeout_ms;
	pthread_mutex_lock(&w->lock);
	rc = w->stop ? -ESHUTDOWN : 0;
	/* Started at the first wait: after daemonizing, and never for a
	 * mount that does not wait. */
	if (!rc && !w->started) {
		rc = -pthread_create(&w->thread, NULL, waits_main, p);
		w->started = !rc;
	}
	if (!rc) {
		e->queued = true;
		e->next = w->head;
		w->head = e;
		w->n++;
		*out = e;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	if (rc)
		free(e);
	return rc;
}

void model_wait_cancel(struct project *p, struct model_wait *e)
{
	struct waits *w = p->waits;

	pthread_mutex_lock(&w->lock);
	if (e->queued) {
		e->cancelled = true;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
}

size_t model_waiting(struct project *p)
{
	size_t n;

	pthread_mutex_lock(&p->waits->lock);
	n = p->waits->n;
	pthread_mutex_unlock(&p->waits->lock);
	return n;
}

void model_waits_stop(struct project *p)
{
	struct waits *w = p->waits;
	struct model_wait *left = NULL;
	bool joined;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	joined = w->started;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (joined)
		pthread_join(w->thread, NULL);
	pthread_mutex_lock(&w->lock);
	w->started = false;
	unlink_if(w, any, NULL, &left);
	pthread_mutex_unlock(&w->lock);
	end_all(left, -ESHUTDOWN, NULL);
}

void waits_free(struct waits *w)
{
	if (!w)
		return;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}
