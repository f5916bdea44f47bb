/* SPDX-License-Identifier: MIT */
/*
 * Member extras (service.h) dispatched by the core, through a toy service
 * that replaces the registry: this test defines services[] itself, so the
 * linker takes no src/services/ file and no request leaves the process
 * (the toy's hooks record what they are handed instead).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/http.h"
#include "cloudfs/log.h"
#include "cloudfs/model.h"
#include "../../src/core/model_int.h"

/* What the hooks saw (the test is single-threaded). */
static struct {
	int shows, stores, links, unlinks, mkdirs, rmdirs;
	char last[8][64]; /* the stored lines */
	char sub[128]; /* x->sub of the last hook, joined with '|' */
	char target[128];
	char id[64];
} seen;

static void note_ctx(const struct extra_ctx *x)
{
	seen.sub[0] = '\0';
	for (size_t i = 0; i < x->nsub; i++)
		snprintf(seen.sub + strlen(seen.sub), sizeof(seen.sub) - strlen(seen.sub), "%s%s",
			 i ? "|" : "", x->sub[i]);
	snprintf(seen.id, sizeof(seen.id), "%s", x->id);
}

static int note_show(const struct extra_ctx *x, struct buf *out)
{
	const char *colour = json_string_value(json_object_get(x->doc, "colour"));

	note_ctx(x);
	seen.shows++;
	return buf_addf(out, "%s box %s\n", colour ? colour : "?", x->id);
}

static int note_store(const struct extra_ctx *x, const char *data, size_t len)
{
	note_ctx(x);
	if (seen.stores < 8)
		snprintf(seen.last[seen.stores], sizeof(seen.last[0]), "%.*s", (int)len, data);
	seen.stores++;
	return len && data[0] == '!' ? -EINVAL : 0;
}

/* links/: one link per "friends" id, to boxes/<id>. */
static int links_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx)
{
	const json_t *v;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(x->doc, "friends"), i, v)
	{
		char *sub[1] = { (char *)json_string_value(v) };
		struct extra_ctx child = *x;
		char *link;

		child.sub = sub;
		child.nsub = 1;
		link = extra_link_to(&child, "boxes", sub[0]);
		rc = link ? fill(fill_ctx, sub[0], EXTRA_LINK, link) : -ENOMEM;
		free(link);
		if (rc)
			break;
	}
	return rc;
}

static int links_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	const json_t *v;
	size_t i;

	note_ctx(x);
	if (x->nsub == 1 && !strcmp(x->sub[0], "sub")) {
		e->kind = EXTRA_DIR;
		return 0;
	}
	if (x->nsub == 2 && !strcmp(x->sub[0], "sub") && !strcmp(x->sub[1], "readme"))
		return 0; /* a file: read with show() */
	json_array_foreach(json_object_get(x->doc, "friends"), i, v)
	{
		if (x->nsub == 1 && !strcmp(json_string_value(v), x->sub[0])) {
			e->kind = EXTRA_LINK;
			e->link = extra_link_to(x, "boxes", x->sub[0]);
			return e->link ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
}

static int links_link(const struct extra_ctx *x, const char *target)
{
	note_ctx(x);
	snprintf(seen.target, sizeof(seen.target), "%s", target);
	seen.links++;
	return 0;
}

static int links_unlink(const struct extra_ctx *x)
{
	note_ctx(x);
	seen.unlinks++;
	return 0;
}

static int links_mkdir(const struct extra_ctx *x)
{
	note_ctx(x);
	seen.mkdirs++;
	return 0;
}

static int links_rmdir(const struct extra_ctx *x)
{
	note_ctx(x);
	seen.rmdirs++;
	return 0;
}

static int blob_size(const struct extra_ctx *x, int64_t *size)
{
	(void)x;
	*size = 12345;
	return 0;
}

static const struct member_extra box_extras[] = {
	{ .name = "note",
	  .kind = EXTRA_FILE,
	  .mode = 0644,
	  .show = note_show,
	  .store = note_store },
	{ .name = "slow",
	  .kind = EXTRA_FILE,
	  .mode = 0444,
	  .flags = EXTRA_CACHED | EXTRA_LAZY,
	  .show = note_show },
	{ .name = "cmd",
	  .kind = EXTRA_FILE,
	  .mode = 0200,
	  .flags = EXTRA_LINES,
	  .store = note_store },
	{ .name = "blob",
	  .kind = EXTRA_FILE,
	  .mode = 0444,
	  .flags = EXTRA_STREAM,
	  .size = blob_size },
	{ .name = "links",
	  .kind = EXTRA_DIR,
	  .mode = 0755,
	  .readdir = links_readdir,
	  .lookup = links_lookup,
	  .show = note_show,
	  .link = links_link,
	  .unlink = links_unlink,
	  .mkdir = links_mkdir,
	  .rmdir = links_rmdir },
	{ .name = "drop", .kind = EXTRA_DIR, .mode = 0755, .store = note_store },
	{ .name = "tags",
	  .kind = EXTRA_DIR,
	  .mode = 0755,
	  .flags = EXTRA_ON_KEY,
	  .store = note_store,
	  .unlink = links_unlink },
	{ .name = NULL },
};

extern const struct service_def toy_service;

static const struct collection_def toy_rows[] = {
	{ .name = "boxes",
	  .service = &toy_service,
	  .list_path = "/boxes",
	  .item_path = "/boxes",
	  .list_key = "boxes",
	  .id_field = "id",
	  .name_field = "name",
	  .extras = box_extras },
};

static const char *const toy_types[] = { "toy", NULL };

const struct service_def toy_service = {
	.name = "toy",
	.types = toy_types,
	SERVICE_ROWS(toy_rows),
};

/* The registry of this test: the toy alone. */
const struct service_def *const services[] = { &toy_service, NULL };
const size_t n_services = 1;

/* Caches @doc (taken) as box's state, as a fetch would. */
static void learn(struct project *p, json_t *doc)
{
	assert_non_null(doc);
	model_learn(p, &toy_rows[0], doc);
	json_decref(doc);
}

struct fixture {
	struct config cfg;
	struct session sess;
	struct project p;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memset(&seen, 0, sizeof(seen));
	config_init(&f->cfg);
	f->sess.cfg = &f->cfg;
	f->sess.endpoint = calloc(n_services, sizeof(*f->sess.endpoint));
	assert_non_null(f->sess.endpoint);
	f->sess.endpoint[0] = strdup("http://127.0.0.1:9/toy");
	assert_int_equal(model_project_init(&f->p, &f->sess, 60000, 1000), 0);
	learn(&f->p, json_pack("{ss ss ss s[ss] s{ss}}", "id", "b1", "name", "one", "colour", "red",
			       "friends", "b2", "b3", "tags", "k", "v"));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	model_project_cleanup(&f->p);
	session_cleanup(&f->sess);
	config_free(&f->cfg);
	free(f);
	return 0;
}

struct listed {
	char names[16][32];
	mode_t modes[16]; /* 0: listed without a stat */
	off_t sizes[16];
	size_t n;
};

static int fill(void *ctx, const char *name, const struct stat *st)
{
	struct listed *l = ctx;

	assert_true(l->n < 16);
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
	l->modes[l->n] = st ? st->st_mode : 0;
	l->sizes[l->n] = st ? st->st_size : -1;
	l->n++;
	return 0;
}

static int find(const struct listed *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return (int)i;
	return -1;
}

/* The member lists its extras beside its keys, each with its mode; a lazy
 * one without a stat (not shown to list), an EXTRA_ON_KEY one once, as
 * the key it is. */
static void test_member_lists_extras(void **state)
{
	struct fixture *f = *state;
	struct listed l = { 0 };
	int i;

	assert_int_equal(model_readdir(&f->p, "/boxes/b1", fill, &l), 0);
	assert_true((i = find(&l, "note")) >= 0);
	assert_int_equal(l.modes[i], S_IFREG | 0644);
	assert_int_equal(l.sizes[i], strlen("red box b1\n"));
	assert_true((i = find(&l, "slow")) >= 0);
	assert_int_equal(l.modes[i], 0);
	assert_true((i = find(&l, "cmd")) >= 0);
	assert_int_equal(l.modes[i], S_IFREG | 0200);
	assert_true((i = find(&l, "blob")) >= 0);
	assert_int_equal(l.sizes[i], 12345);
	assert_true((i = find(&l, "links")) >= 0);
	assert_int_equal(l.modes[i], S_IFDIR | 0755);
	assert_true((i = find(&l, "tags")) >= 0);
	assert_int_equal(l.modes[i], S_IFDIR | 0755);
	assert_int_equal(find(&l, "tags"), (int)l.n - 1); /* the key, last */
	assert_true(find(&l, "json") >= 0);
	assert_true(find(&l, "colour") >= 0);
	assert_int_equal(seen.shows, 1); /* note's size; never slow's */
}

/* show() gives a read's bytes and st_size; EXTRA_CACHED shows once until
 * the member is forgotten. */
static void test_show_and_cache(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(model_read(&f->p, "/boxes/b1/note", &b, NULL), 0);
	assert_string_equal(b.data, "red box b1\n");
	assert_string_equal(seen.id, "b1");
	assert_string_equal(seen.sub, "");
	buf_reset(&b);
	assert_int_equal(model_getattr(&f->p, "/boxes/b1/slow", &st), 0);
	assert_int_equal(st.st_size, strlen("red box b1\n"));
	assert_int_equal(model_read(&f->p, "/boxes/b1/slow", &b, NULL), 0);
	assert_string_equal(b.data, "red box b1\n");
	assert_int_equal(seen.shows, 2); /* note once, slow once */
	model_forget(&f->p, &toy_rows[0], "b1");
	learn(&f->p, json_pack("{ss ss ss}", "id", "b1", "name", "one", "colour", "blue"));
	buf_reset(&b);
	assert_int_equal(model_read(&f->p, "/boxes/b1/slow", &b, NULL), 0);
	assert_string_equal(b.data, "blue box b1\n");
	assert_int_equal(seen.shows, 3);
	/* A streamed file is never snapshotted: its size is the hook's. */
	assert_int_equal(model_getattr(&f->p, "/boxes/b1/blob", &st), 0);
	assert_int_equal(st.st_size, 12345);
	assert_int_equal(st.st_blksize, 1 << 20);
	assert_int_equal(model_read(&f->p, "/boxes/b1/blob", &b, NULL), -EOPNOTSUPP);
	buf_free(&b);
}

/* store() takes what was written: at close, or per line (EXTRA_LINES,
 * blanks trimmed, empty lines skipped, the first failure stops). */
static void test_store_and_lines(void **state)
{
	struct fixture *f = *state;
	enum model_wkind kind;

	assert_int_equal(model_open_write(&f->p, "/boxes/b1/note", &kind), 0);
	assert_int_equal(kind, MODEL_W_EXTRA);
	assert_int_equal(model_commit(&f->p, "/boxes/b1/note", kind, "hello\n", 6), 0);
	assert_int_equal(seen.stores, 1);
	assert_string_equal(seen.last[0], "hello\n");
	assert_int_equal(model_open_write(&f->p, "/boxes/b1/cmd", &kind), 0);
	assert_int_equal(kind, MODEL_W_LINES);
	assert_int_equal(model_commit(&f->p, "/boxes/b1/cmd", kind, "a\nb \r\n\n!c\nd\n", 12),
			 -EINVAL);
	assert_int_equal(seen.stores, 4);
	assert_string_equal(seen.last[1], "a");
	assert_string_equal(seen.last[2], "b");
	assert_string_equal(seen.last[3], "!c");
	/* Read-only extras refuse writers; write-only ones readers. */
	assert_int_equal(model_open_write(&f->p, "/boxes/b1/slow", &kind), -EACCES);
	assert_int_equal(model_open(&f->p, "/boxes/b1/cmd", O_RDONLY), -EACCES);
}

/* A directory extra: readdir and lookup from its hooks, links whose
 * targets climb to the root, ln -s / rm / mkdir / rmdir to its hooks with
 * the entry's name in x->sub. */
static void test_directory_extra(void **state)
{
	struct fixture *f = *state;
	struct listed l = { 0 };
	char target[256];
	struct stat st;

	assert_int_equal(model_readdir(&f->p, "/boxes/b1/links", fill, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.names[0], "b2");
	assert_int_equal(l.modes[0], S_IFLNK | 0777);
	assert_int_equal(l.sizes[0], strlen("../../../boxes/b2"));
	assert_int_equal(model_readlink(&f->p, "/boxes/b1/links/b3", target, sizeof(target)), 0);
	assert_string_equal(target, "../../../boxes/b3");
	assert_string_equal(seen.sub, "b3");
	assert_int_equal(model_getattr(&f->p, "/boxes/b1/links/b9", &st), -ENOENT);
	assert_int_equal(model_getattr(&f->p, "/boxes/b1/links/sub", &st), 0);
	assert_int_equal(st.st_mode, S_IFDIR | 0755);
	/* A file deeper down: read-only (the extra stores nothing), shown
	 * with the whole path below the extra. */
	assert_int_equal(model_getattr(&f->p, "/boxes/b1/links/sub/readme", &st), 0);
	assert_int_equal(st.st_mode, S_IFREG | 0444);
	assert_int_equal(st.st_size, strlen("red box b1\n"));
	assert_string_equal(seen.sub, "sub|readme");
	assert_int_equal(model_getattr(&f->p, "/boxes/b1/links/sub/other", &st), -ENOENT);

	assert_int_equal(model_symlink(&f->p, "../../../boxes/b9", "/boxes/b1/links/b9"), 0);
	assert_int_equal(seen.links, 1);
	assert_string_equal(seen.target, "../../../boxes/b9");
	assert_string_equal(seen.sub, "b9");
	assert_int_equal(model_unlink(&f->p, "/boxes/b1/links/b2"), 0);
	assert_int_equal(seen.unlinks, 1);
	assert_string_equal(seen.sub, "b2");
	assert_int_equal(model_mkdir(&f->p, "/boxes/b1/links/new"), 0);
	assert_int_equal(seen.mkdirs, 1);
	assert_string_equal(seen.sub, "new");
	assert_int_equal(model_rmdir(&f->p, "/boxes/b1/links/sub"), 0);
	assert_int_equal(seen.rmdirs, 1);
	assert_string_equal(seen.sub, "sub");

	/* Nowhere else: not beside the member's keys, not on a file extra. */
	assert_int_equal(model_symlink(&f->p, "x", "/boxes/b1/other"), -EPERM);
	assert_int_equal(model_symlink(&f->p, "x", "/boxes/b1/note/x"), -EPERM);
	assert_int_equal(model_unlink(&f->p, "/boxes/b1/note"), -EPERM);
	assert_int_equal(model_unlink(&f->p, "/boxes/b1/links"), -EISDIR);
	assert_int_equal(seen.links + seen.unlinks, 2);
}

/* An EXTRA_ON_KEY directory: the JSON object as usual, its keys writable
 * (0644), a new key created then stored, rm to unlink(). */
static void test_on_key_extra(void **state)
{
	struct fixture *f = *state;
	enum model_wkind kind;
	struct stat st;

	assert_int_equal(model_getattr(&f->p, "/boxes/b1/tags/k", &st), 0);
	assert_int_equal(st.st_mode, S_IFREG | 0644);
	assert_int_equal(model_open_write(&f->p, "/boxes/b1/tags/k", &kind), 0);
	assert_int_equal(kind, MODEL_W_EXTRA);
	assert_int_equal(model_create(&f->p, "/boxes/b1/tags/new", &kind), 0);
	assert_int_equal(kind, MODEL_W_EXTRA);
	assert_int_equal(model_getattr(&f->p, "/boxes/b1/tags/new", &st), 0); /* pending */
	assert_int_equal(model_commit(&f->p, "/boxes/b1/tags/new", kind, "v2\n", 3), 0);
	assert_int_equal(seen.stores, 1);
	assert_string_equal(seen.sub, "new");
	assert_string_equal(seen.last[0], "v2\n");
	model_done(&f->p, "/boxes/b1/tags/new");
	assert_int_equal(model_unlink(&f->p, "/boxes/b1/tags/k"), 0);
	assert_int_equal(seen.unlinks, 1);
	assert_string_equal(seen.sub, "k");
	/* Other keys are not writable. */
	assert_int_equal(model_create(&f->p, "/boxes/b1/colourful", &kind), -EACCES);
}

/* A new file in an extra directory that stores: created (a pending file
 * until close), then stored with its name in x->sub. */
static void test_new_file_in_extra_dir(void **state)
{
	struct fixture *f = *state;
	enum model_wkind kind;
	struct stat st;

	assert_int_equal(model_getattr(&f->p, "/boxes/b1/drop/new", &st), -ENOENT);
	assert_int_equal(model_create(&f->p, "/boxes/b1/drop/new", &kind), 0);
	assert_int_equal(kind, MODEL_W_EXTRA);
	assert_int_equal(model_getattr(&f->p, "/boxes/b1/drop/new", &st), 0);
	assert_int_equal(st.st_mode, S_IFREG | 0644);
	assert_int_equal(model_commit(&f->p, "/boxes/b1/drop/new", kind, "bytes", 5), 0);
	assert_int_equal(seen.stores, 1);
	assert_string_equal(seen.sub, "new");
	assert_string_equal(seen.last[0], "bytes");
	model_done(&f->p, "/boxes/b1/drop/new");
	/* Where nothing stores, nothing is made. */
	assert_int_equal(model_create(&f->p, "/boxes/b1/links/new", &kind), -EACCES);
}

/* The helpers: extra_find, and link targets that climb as deep as the
 * link sits. */
static void test_helpers(void **state)
{
	struct fixture *f = *state;
	char a[] = "a", b[] = "b", *sub[2] = { a, b };
	struct extra_ctx x = { .project = &f->p, .coll = &toy_rows[0], .id = "b1" };
	char *t;

	(void)state;
	assert_ptr_equal(extra_find(&toy_rows[0], "links"), &box_extras[4]);
	assert_ptr_equal(extra_find(&toy_rows[0], "tags"), &box_extras[6]);
	assert_null(extra_find(&toy_rows[0], "json"));
	t = extra_link_to(&x, "boxes", "b/2");
	assert_string_equal(t, "../../boxes/b%2F2");
	free(t);
	x.sub = sub;
	x.nsub = 2;
	t = extra_link_to(&x, "boxes", "b2");
	assert_string_equal(t, "../../../../boxes/b2");
	free(t);
}

static bool cancelled;

static bool cancel_hook(void)
{
	return cancelled;
}

/* A blocking hook's sleep ends early, with EINTR, on an interruption. */
static void test_sleep_is_interruptible(void **state)
{
	struct fixture *f = *state;
	struct extra_ctx x = { .project = &f->p, .coll = &toy_rows[0], .id = "b1" };

	http_set_cancel_hook(cancel_hook);
	cancelled = false;
	assert_int_equal(extra_sleep(&x, 1), 0);
	cancelled = true;
	assert_int_equal(extra_sleep(&x, 60000), -EINTR);
	cancelled = false;
	http_set_cancel_hook(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_member_lists_extras, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_and_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_and_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_extra, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_key_extra, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_file_in_extra_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helpers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sleep_is_interruptible, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
