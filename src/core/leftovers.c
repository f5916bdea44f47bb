/* SPDX-License-Identifier: MIT */
/*
 * Half-made images, and parts of failed tree uploads (Swift's segments),
 * that are still to be deleted. Layer: model. A failed upload's DELETE is
 * retried until a deadline; what is still owed then is retried by a
 * thread of its own (backing off to LEFTOVERS_MAX_WAIT_MS) and once more
 * at unmount, and listed in .cloudfs/status meanwhile. At start the same
 * thread looks for what a killed cloudfs left: images by the marker
 * property each upload carries until it completes, parts by the marks a
 * tree's service keeps beside them (tree_def.at_start).
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloudfs/clock.h"
#include "cloudfs/leftovers.h"
#include "cloudfs/log.h"
#include "model_int.h"

#define LEFTOVERS_FIRST_WAIT_MS 1000
#define LEFTOVERS_MAX_WAIT_MS 30000
/* Between two DELETEs of one image inside the deadline. */
#define LEFTOVERS_RETRY_MS 200

struct owed {
	struct owed *next;
	char id[MODEL_ID_MAX]; /* an image's; "" for a path */
	/* A tree upload's part (or its mark): a request path of @c's
	 * service (malloc'd), in @group (the upload's stamp); a mark is
	 * tried only once no part of its group is owed. */
	const struct collection_def *c;
	char *path;
	char group[64];
	bool last;
	char name[256];
	int64_t wait_ms; /* before the next try, doubling */
	int64_t next_ms; /* clock_now_ms() of the next try */
};

struct leftovers {
	struct project *p; /* borrowed */
	const struct collection_def *images;
	char marker[LEFTOVERS_MARKER_MAX];
	char host[128], boot[64];
	pthread_mutex_t lock;
	pthread_cond_t cond; /* an image owed, or stop */
	struct owed *owed; /* protected by lock */
	size_t count; /* images owed; protected by lock */
	size_t parts; /* paths owed; protected by lock */
	bool stop; /* protected by lock */
	/* The start's look for what an earlier cloudfs left (images, upload
	 * marks, a tree's limits) is over; protected by lock. */
	bool scanned;
	/* stop, for the worker's requests: set at unmount, so a slow cloud
	 * does not hold the unmount (its requests end with -EINTR). */
	atomic_bool abandon;
	bool started;
	pthread_t thread;
};

/* The 22nd field of /proc/<pid>/stat: when the process started, in clock
 * ticks since boot. With the boot id it names one process for good. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long long t = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	p = p ? strrchr(line, ')') : NULL;
	for (int field = 3; p && field <= 22; field++) {
		p = strchr(p + 1, ' ');
		if (p && field == 22)
			t = strtoull(p + 1, NULL, 10);
	}
	return t;
}

static void read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");

	out[0] = '\0';
	if (!f)
		return;
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\n ")] = '\0';
}

int leftovers_new(struct project *p, struct leftovers **out)
{
	struct leftovers *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->p = p;
	/* Uploads leave partial members behind: the collection that
	 * takes them (at most one has .upload; the streaming engine's). */
	for (const struct collection_def *c = collection_next(NULL); c && !l->images;
	     c = collection_next(c))
		if (c->upload)
			l->images = c;
	if (gethostname(l->host, sizeof(l->host) - 1))
		snprintf(l->host, sizeof(l->host), "?");
	for (char *c = l->host; *c; c++)
		if (!isgraph((unsigned char)*c))
			*c = '_';
	read_line("/proc/sys/kernel/random/boot_id", l->boot, sizeof(l->boot));
	snprintf(l->marker, sizeof(l->marker), "host=%s boot=%s pid=%d start=%llu", l->host,
		 l->boot[0] ? l->boot : "?", (int)getpid(), start_time(getpid()));
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	*out = l;
	return 0;
}

const char *leftovers_marker(const struct leftovers *l)
{
	return l->marker;
}

/* One DELETE of an owed path: 0 when gone (404 included), else -errno. */
static int delete_path(struct leftovers *l, const struct owed *o)
{
	struct svc_call x = { l->p, o->c };
	int rc = svc_cleanup_delete(&x, o->path);

	return rc == -ENOENT ? 0 : rc;
}

/* One DELETE: 0 when the image is gone (404 included), else -errno. */
static int delete_once(struct leftovers *l, const char *id)
{
	char *path = api_item_path(l->images, id, NULL, NULL);
	int rc = path ? api_cleanup_delete(l->p->sess, l->images->service, path) : -ENOMEM;

	free(path);
	if (rc == -ENOENT)
		rc = 0;
	if (!rc)
		model_forget(l->p, l->images, id);
	return rc;
}

/* Notes @id as owed; its first background try is at @first_ms. */
static void owe(struct leftovers *l, const char *id, const char *name, int64_t first_ms)
{
	struct owed *o = calloc(1, sizeof(*o));

	pthread_mutex_lock(&l->lock);
	for (struct owed *x = l->owed; x; x = x->next)
		if (!strcmp(x->id, id)) {
			free(o);
			o = NULL;
			goto out;
		}
	if (!o) {
		log_cloud_error("could not note the incomplete image %s; delete it by hand", id);
		goto out;
	}
	snprintf(o->id, sizeof(o->id), "%s", id);
	snprintf(o->name, sizeof(o->name), "%s", name ? name : "-");
	o->wait_ms = LEFTOVERS_FIRST_WAIT_MS;
	o->next_ms = first_ms;
	o->next = l->owed;
	l->owed = o;
	l->count++;
	pthread_cond_broadcast(&l->cond);
out:
	pthread_mutex_unlock(&l->lock);
}

int leftovers_delete(struct leftovers *l, const char *id, const char *name, int64_t deadline_ms)
{
	int rc;

	for (;;) {
		rc = delete_once(l, id);
		if (!rc) {
			log_info("deleted the incomplete image %s (%s)", id, name ? name : "-");
			return 0;
		}
		if (clock_now_ms() + LEFTOVERS_RETRY_MS > deadline_ms)
			break;
		clock_sleep_ms(LEFTOVERS_RETRY_MS);
	}
	log_cloud_error("could not delete the incomplete image %s (%s): %s; retrying in the "
			"background (see .cloudfs/status)",
			id, name ? name : "-", strerror(-rc));
	owe(l, id, name, clock_now_ms() + LEFTOVERS_FIRST_WAIT_MS);
	return rc;
}

void leftovers_owe_path(struct leftovers *l, const struct collection_def *c, const char *path,
			const char *group, const char *name, bool last)
{
	struct owed *o = l ? calloc(1, sizeof(*o)) : NULL;

	if (o)
		o->path = strdup(path);
	if (!o || !o->path) {
		if (o)
			free(o);
		log_cloud_error("could not note %s (of %s) to delete later; delete it by hand",
				path, name ? name : "-");
		return;
	}
	o->c = c;
	o->last = last;
	snprintf(o->group, sizeof(o->group), "%s", group ? group : "");
	snprintf(o->name, sizeof(o->name), "%s", name ? name : "-");
	o->wait_ms = LEFTOVERS_FIRST_WAIT_MS;
	o->next_ms = clock_now_ms() + LEFTOVERS_FIRST_WAIT_MS;
	pthread_mutex_lock(&l->lock);
	o->next = l->owed;
	l->owed = o;
	l->parts++;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

static void owed_free(struct owed *o)
{
	if (o)
		free(o->path);
	free(o);
}

/* Whether a part of @group other than @o is still owed. With lock held. */
static bool group_busy(const struct leftovers *l, const struct owed *o)
{
	for (const struct owed *x = l->owed; x; x = x->next)
		if (x != o && x->path && !x->last && !strcmp(x->group, o->group))
			return true;
	return false;
}

/* Takes the first owed image whose time has come off the list (the caller
 * tries it and puts it back), or says how long to wait. With lock held. */
static struct owed *due(struct leftovers *l, int64_t *wait_ms)
{
	int64_t now = clock_now_ms();

	*wait_ms = LEFTOVERS_MAX_WAIT_MS;
	for (struct owed **pp = &l->owed; *pp; pp = &(*pp)->next) {
		struct owed *o = *pp;

		/* A mark waits for its parts (it is due again after them). */
		if (o->last && group_busy(l, o))
			continue;
		if (o->next_ms <= now) {
			*pp = o->next;
			if (o->path)
				l->parts--;
			else
				l->count--;
			return o;
		}
		if (o->next_ms - now < *wait_ms)
			*wait_ms = o->next_ms - now;
	}
	return NULL;
}

/* Whether the marker names a cloudfs process that is gone for good: one
 * on this host, of an earlier boot or no longer running. Others (another
 * host's, a live one's) are never touched. */
static bool marker_is_dead(struct leftovers *l, const char *marker)
{
	char host[128], boot[64];
	unsigned long long start;
	int pid;

	if (sscanf(marker, "host=%127s boot=%63s pid=%d start=%llu", host, boot, &pid, &start) != 4)
		return false;
	if (strcmp(host, l->host))
		return false;
	if (strcmp(boot, l->boot))
		return true;
	if (pid == (int)getpid())
		return false;
	return start_time(pid) != start;
}

static int sweep_member(void *arg, const json_t *m)
{
	struct leftovers *l = arg;
	const struct collection_def *c = l->images;
	const char *marker = json_string_value(json_object_get(m, LEFTOVERS_PROPERTY));
	const char *id = json_string_value(json_object_get(m, c->id_field));

	/* Only a member still being made (the row's busy(): Glance's queued
	 * or saving) is a half-made upload; a finished one is the user's. */
	if (!marker || !id || !c->busy || !c->busy(m))
		return 0;
	if (!marker_is_dead(l, marker))
		return 0;
	log_warn("%s/%s was being uploaded by a cloudfs that ended (%s); deleting it", c->name, id,
		 marker);
	owe(l, id, json_string_value(collection_member_name(c, m)), 0);
	return 0;
}

/* Unmounting: no more sweeping (nothing is judged dead), so the join in
 * leftovers_stop() waits for one request at most. */
static bool mark_is_dead(void *ctx, const char *marker)
{
	struct leftovers *l = ctx;
	bool stop;

	pthread_mutex_lock(&l->lock);
	stop = l->stop;
	pthread_mutex_unlock(&l->lock);
	return !stop && marker_is_dead(l, marker);
}

static void *worker(void *arg)
{
	struct leftovers *l = arg;
	sigset_t all;
	int rc;

	/* Signals belong to the FUSE loop's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	api_set_thread_stop(&l->abandon);
	if (l->images && session_endpoint(l->p->sess, l->images->service)) {
		rc = api_list(l->p->sess, l->images, sweep_member, l);
		if (rc)
			log_warn("could not look for images left by an earlier cloudfs: %s",
				 strerror(-rc));
	}
	/* Each tree's service: its limits, and what killed uploads left. */
	for (const struct collection_def *c = collection_next(NULL); c; c = collection_next(c)) {
		const struct tree_def *t = model_tree_def(c, NULL);
		struct svc_call x = { l->p, c };

		if (t && t->at_start && session_endpoint(l->p->sess, c->service))
			t->at_start(&x, mark_is_dead, l);
		pthread_mutex_lock(&l->lock);
		rc = l->stop;
		pthread_mutex_unlock(&l->lock);
		if (rc)
			break;
	}
	pthread_mutex_lock(&l->lock);
	l->scanned = true;
	while (!l->stop) {
		int64_t wait_ms;
		struct owed *o = due(l, &wait_ms);

		if (!o) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait_ms / 1000;
			ts.tv_nsec += (wait_ms % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&l->cond, &l->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&l->lock);
		rc = o->path ? delete_path(l, o) : delete_once(l, o->id);
		pthread_mutex_lock(&l->lock);
		if (!rc) {
			if (o->path)
				log_info("deleted %s (left by the failed upload of %s)", o->path,
					 o->name);
			else
				log_info("deleted the incomplete image %s (%s)", o->id, o->name);
			owed_free(o);
			continue;
		}
		o->wait_ms = o->wait_ms * 2 < LEFTOVERS_MAX_WAIT_MS ? o->wait_ms * 2
								    : LEFTOVERS_MAX_WAIT_MS;
		o->next_ms = clock_now_ms() + o->wait_ms;
		o->next = l->owed;
		l->owed = o;
		if (o->path)
			l->parts++;
		else
			l->count++;
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

void leftovers_start(struct leftovers *l)
{
	bool any = false;

	if (!l || l->started)
		return;
	/* Something to look for: images, or a tree that keeps marks. */
	for (const struct collection_def *c = collection_next(NULL); c; c = collection_next(c))
		if ((c == l->images ||
		     (model_tree_def(c, NULL) && model_tree_def(c, NULL)->at_start)) &&
		    session_endpoint(l->p->sess, c->service))
			any = true;
	if (!any)
		return;
	l->started = !pthread_create(&l->thread, NULL, worker, l);
	if (!l->started)
		log_warn("no thread to delete incomplete images later");
}

int leftovers_render(struct leftovers *l, struct buf *out)
{
	int rc;

	if (!l)
		return buf_addstr(out,
				  "startup_scan done\nimages_to_delete 0\nparts_to_delete 0\n");
	pthread_mutex_lock(&l->lock);
	/* Scripts (and tests) that count requests wait for "done": until then
	 * the scan's own requests are still being made. No thread: nothing to
	 * look for. */
	rc = buf_addf(out, "startup_scan %s\nimages_to_delete %zu\n",
		      l->scanned || !l->started ? "done" : "running", l->count);
	for (struct owed *o = l->owed; o && !rc; o = o->next)
		if (!o->path)
			rc = buf_addf(out, "image_to_delete %s %s\n", o->id, o->name);
	if (!rc)
		rc = buf_addf(out, "parts_to_delete %zu\n", l->parts);
	for (struct owed *o = l->owed; o && !rc; o = o->next)
		if (o->path)
			rc = buf_addf(out, "part_to_delete %s %s\n", o->path, o->name);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

int leftovers_each(struct leftovers *l, int (*fn)(void *ctx, const char *id, const char *name),
		   void *ctx)
{
	int rc = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	/* An upload's parts once, by its mark (the one entry each has). */
	for (struct owed *o = l->owed; o && !rc; o = o->next)
		if (!o->path || o->last)
			rc = fn(ctx, o->path ? NULL : o->id, o->name);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void leftovers_stop(struct leftovers *l, int64_t deadline_ms)
{
	struct owed *o;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	atomic_store(&l->abandon, true);
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	/* Its request in flight ends within a second (curl's progress
	 * callback): what it was doing is retried below, or next mount. */
	if (l->started)
		pthread_join(l->thread, NULL);
	l->started = false;
	/* Last tries, one round inside the deadline; what stays is said. */
	while ((o = l->owed)) {
		l->owed = o->next;
		if (o->path) {
			l->parts--;
			/* A mark stays when a part of its upload does (a later
			 * mount finishes the cleanup). */
			if (clock_now_ms() < deadline_ms && !(o->last && group_busy(l, o)) &&
			    !delete_path(l, o))
				log_info("deleted %s (left by the failed upload of %s)", o->path,
					 o->name);
			else
				log_cloud_error(
					"%s (of the failed upload of %s) is left in the cloud",
					o->path, o->name);
			owed_free(o);
			continue;
		}
		l->count--;
		if (clock_now_ms() < deadline_ms && !delete_once(l, o->id))
			log_info("deleted the incomplete image %s (%s)", o->id, o->name);
		else
			log_cloud_error(
				"the incomplete image %s (%s) is left in the cloud; delete it by hand",
				o->id, o->name);
		free(o);
	}
}

void leftovers_free(struct leftovers *l)
{
	if (!l)
		return;
	leftovers_stop(l, 0);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
