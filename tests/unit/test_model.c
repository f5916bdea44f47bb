/* SPDX-License-Identifier: MIT */
/* The filesystem core without FUSE or network: a project whose cache
 * already holds what the cloud said (model.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/log.h"
#include "cloudfs/model.h"
#include "../../src/core/model_int.h"

struct fixture {
	struct config cfg;
	struct session sess;
	struct project p;
};

static void listing_free(void *data)
{
	struct listing *l = data;

	for (size_t i = 0; i < l->n; i++)
		cache_val_unref(l->m[i]);
	free(l->m);
	free(l);
}

/* A cached member as a listing leaves it: its text, id and name. */
static struct cache_val *member(const char *id, const char *name)
{
	char text[256];
	size_t len =
		(size_t)snprintf(text, sizeof(text), "{\"id\":\"%s\",\"name\":\"%s\"}", id, name);
	size_t idlen = strlen(id) + 1, namelen = strlen(name) + 1;
	struct cdoc *d = malloc(sizeof(*d) + len + idlen + namelen);

	assert_non_null(d);
	d->ttl_ms = 60000;
	d->mtime_s = 0;
	d->summary = false;
	d->len = len;
	memcpy(d->text, text, len);
	d->id = memcpy(d->text + len, id, idlen);
	d->name = memcpy(d->text + len + idlen, name, namelen);
	return cache_val_new(d, free);
}

/* servers/ listed with @n members s0..s<n-1>. */
static void cache_servers(struct fixture *f, size_t n)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct cache_val *v;

	assert_non_null(l);
	l->m = calloc(n, sizeof(*l->m));
	assert_non_null(l->m);
	for (size_t i = 0; i < n; i++) {
		char id[16], name[16];

		snprintf(id, sizeof(id), "s%zu", i);
		snprintf(name, sizeof(name), "name%zu", i);
		l->m[l->n++] = member(id, name);
	}
	v = cache_val_new(l, listing_free);
	assert_non_null(v);
	assert_int_equal(cache_put(f->p.cache, "L:servers", v, 60000), 0);
	cache_val_unref(v);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	config_init(&f->cfg);
	f->sess.cfg = &f->cfg;
	f->sess.endpoint = calloc(n_services, sizeof(*f->sess.endpoint));
	assert_non_null(f->sess.endpoint);
	f->sess.endpoint[service_index(collection_find("servers")->service)] =
		strdup("http://127.0.0.1:9/compute/v2.1");
	assert_int_equal(model_project_init(&f->p, &f->sess, 60000, 1000), 0);
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

/* servers/ listed with the given documents, cached as a listing caches them
 * (model_learn(), as the cloud's JSON with \u0000 allowed). */
static void cache_server_docs(struct fixture *f, const char *const *docs, size_t n)
{
	const struct collection_def *c = collection_find("servers");
	struct listing *l = calloc(1, sizeof(*l));
	struct cache_val *v;

	assert_non_null(l);
	l->m = calloc(n, sizeof(*l->m));
	assert_non_null(l->m);
	for (size_t i = 0; i < n; i++) {
		json_t *doc = json_loads(docs[i], JSON_ALLOW_NUL, NULL);
		char key[128];

		assert_non_null(doc);
		model_learn(&f->p, c, doc);
		snprintf(key, sizeof(key), "R:servers/%s",
			 json_string_value(json_object_get(doc, "id")));
		json_decref(doc);
		assert_int_equal(cache_lookup(f->p.cache, key, &l->m[l->n]), 0);
		l->n++;
	}
	v = cache_val_new(l, listing_free);
	assert_non_null(v);
	assert_int_equal(cache_put(f->p.cache, "L:servers", v, 60000), 0);
	cache_val_unref(v);
}

/* A filler that keeps the names it is given, joined by '|'. */
struct names {
	char all[1024];
};

static int keep_name(void *ctx, const char *name, const struct stat *st)
{
	struct names *nm = ctx;

	(void)st;
	strncat(nm->all, name, sizeof(nm->all) - strlen(nm->all) - 2);
	strcat(nm->all, "|");
	return 0;
}

struct filler {
	size_t seen, fail_at;
	int rc;
};

static int fill(void *ctx, const char *name, const struct stat *st)
{
	struct filler *fl = ctx;

	(void)name;
	(void)st;
	return ++fl->seen == fl->fail_at ? fl->rc : 0;
}

/* A filler that runs out of memory fails the listing: never a silent cut. */
static void test_readdir_filler_failure_fails_the_listing(void **state)
{
	struct fixture *f = *state;
	struct filler fl = { .fail_at = 3, .rc = -ENOMEM };

	cache_servers(f, 10);
	assert_int_equal(model_readdir(&f->p, "/servers", fill, &fl), -ENOMEM);
	assert_int_equal(fl.seen, 3);
	/* Stopping (a positive answer) is not a failure. */
	fl = (struct filler){ .fail_at = 2, .rc = 1 };
	assert_int_equal(model_readdir(&f->p, "/servers", fill, &fl), 0);
	assert_int_equal(fl.seen, 2);
	fl = (struct filler){ .fail_at = 3, .rc = -ENOMEM };
	assert_int_equal(model_readdir(&f->p, "/", fill, &fl), -ENOMEM);
	/* A resource directory: json, then its keys. */
	fl = (struct filler){ .fail_at = 2, .rc = -ENOMEM };
	assert_int_equal(model_readdir(&f->p, "/servers/s4", fill, &fl), -ENOMEM);
	fl = (struct filler){ .fail_at = 0 };
	assert_int_equal(model_readdir(&f->p, "/servers/s4", fill, &fl), 0);
	/* json, id, name, action, console, volumes, floating_ips */
	assert_int_equal(fl.seen, 1 + 2 + 4);
}

/* Of two writers of one new name, the second is told it exists. */
static void test_one_pending_file_per_name(void **state)
{
	struct fixture *f = *state;
	enum model_wkind kind;

	cache_servers(f, 2);
	assert_int_equal(model_create(&f->p, "/servers/new1", &kind), 0);
	assert_int_equal(kind, MODEL_W_SPEC);
	assert_int_equal(model_create(&f->p, "/servers/new1", &kind), -EEXIST);
	assert_int_equal(model_open_write(&f->p, "/servers/new1", &kind), -EEXIST);
	assert_int_equal(model_pending_add(&f->p, "/servers/new1"), -EEXIST);
	model_done(&f->p, "/servers/new1");
	assert_int_equal(model_create(&f->p, "/servers/new1", &kind), 0);
	model_done(&f->p, "/servers/new1");
	/* A name a member carries exists already. */
	assert_int_equal(model_create(&f->p, "/servers/name1", &kind), -EEXIST);
	/* Nothing can be made at the root or in .cloudfs. */
	assert_int_equal(model_create(&f->p, "/newfile", &kind), -EACCES);
	assert_int_equal(model_create(&f->p, "/.cloudfs/newfile", &kind), -EACCES);
	assert_int_equal(model_mkdir(&f->p, "/newdir"), -EACCES);
	assert_int_equal(model_symlink(&f->p, "servers", "/newlink"), -EACCES);
}

/* A path below a name (the kernel still holding the directory mkdir
 * answered with) reaches the id's files. */
static void test_walk_through_a_name(void **state)
{
	struct fixture *f = *state;
	struct buf b;

	cache_servers(f, 3);
	buf_init(&b, 4096);
	assert_int_equal(model_read(&f->p, "/servers/name2/id", &b, NULL), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "s2\n", 3);
	buf_free(&b);
}

/* Attached-volume ids are file names: encoded, and their links never leave
 * the tree (issue 11, defect 7). */
static void test_attached_volume_ids_are_encoded(void **state)
{
	static const char *const docs[] = {
		"{\"id\": \"s0\", \"name\": \"vm\", \"os-extended-volumes:volumes_attached\":"
		" [{\"id\": \"a/b\"}, {\"id\": \"../../..\"}, {\"id\": \"..\"},"
		" {\"id\": \"x\\u0000y\"}, {\"id\": 7}, {\"id\": \"\"}]}",
	};
	struct fixture *f = *state;
	struct names nm = { "" };
	char target[256];

	cache_server_docs(f, docs, 1);
	assert_int_equal(model_readdir(&f->p, "/servers/s0/volumes", keep_name, &nm), 0);
	/* No id holds a NUL byte, and "" and 7 are none. */
	assert_string_equal(nm.all, "a%2Fb|..%2F..%2F..|%2E%2E|");
	assert_int_equal(
		model_readlink(&f->p, "/servers/s0/volumes/..%2F..%2F..", target, sizeof(target)),
		0);
	assert_string_equal(target, "../../../volumes/..%2F..%2F..");
	assert_int_equal(model_readlink(&f->p, "/servers/s0/volumes/a%2Fb", target, sizeof(target)),
			 0);
	assert_string_equal(target, "../../../volumes/a%2Fb");
	assert_int_equal(
		model_readlink(&f->p, "/servers/s0/volumes/%2E%2E", target, sizeof(target)), 0);
	assert_string_equal(target, "../../../volumes/%2E%2E");
}

/* A member whose name holds \u0000 is listed, and its name link is the
 * name encoded (NUL -> %00), not its truncated prefix (defect 9). */
static void test_a_name_holding_nul(void **state)
{
	static const char *const docs[] = {
		"{\"id\": \"s0\", \"name\": \"evil\\u0000name\"}",
		"{\"id\": \"s1\", \"name\": \"evil\"}",
		"{\"id\": \"s2\\u0000x\", \"name\": \"noid\"}",
	};
	struct fixture *f = *state;
	struct names nm = { "" };
	enum model_wkind kind;
	char target[64];

	cache_server_docs(f, docs, 2);
	assert_int_equal(model_readdir(&f->p, "/servers", keep_name, &nm), 0);
	assert_string_equal(nm.all, "s0|s1|");
	assert_int_equal(model_readlink(&f->p, "/servers/evil%00name", target, sizeof(target)), 0);
	assert_string_equal(target, "s0");
	assert_int_equal(model_readlink(&f->p, "/servers/evil", target, sizeof(target)), 0);
	assert_string_equal(target, "s1");
	/* A NUL-named file cannot be made: the cloud would not get that name. */
	assert_int_equal(model_create(&f->p, "/servers/new%00x", &kind), -EINVAL);
}

/* A JSON key "" has no file name: the rest of the directory is listed. */
static void test_an_empty_key_is_left_out(void **state)
{
	static const char *const docs[] = { "{\"id\": \"s0\", \"\": 1, \"a\": {\"\": 2}}" };
	struct fixture *f = *state;
	struct names nm = { "" };

	cache_server_docs(f, docs, 1);
	assert_int_equal(model_readdir(&f->p, "/servers/s0", keep_name, &nm), 0);
	assert_string_equal(nm.all, "json|action|console|volumes|floating_ips|id|a|");
	nm.all[0] = '\0';
	assert_int_equal(model_readdir(&f->p, "/servers/s0/a", keep_name, &nm), 0);
	assert_string_equal(nm.all, "");
}

/* A name that is not UTF-8 is EINVAL, with the reason (was ENOMEM). */
static void test_a_non_utf8_name_is_einval(void **state)
{
	static const char want[] = "bad\xffname: a name must be UTF-8";
	struct fixture *f = *state;
	enum model_wkind kind;
	struct buf b;

	cache_servers(f, 2);
	assert_int_equal(model_create(&f->p, "/servers/bad\xffname", &kind), -EINVAL);
	assert_int_equal(model_mkdir(&f->p, "/servers/bad\xc0\xafname"), -EINVAL);
	buf_init(&b, 65536);
	assert_int_equal(log_ring_render(&b), 0);
	assert_non_null(memmem(b.data, b.len, want, sizeof(want) - 1));
	buf_free(&b);
	/* UTF-8 is fine. */
	assert_int_equal(model_create(&f->p, "/servers/caf\xc3\xa9", &kind), 0);
	model_done(&f->p, "/servers/caf\xc3\xa9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_readdir_filler_failure_fails_the_listing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_pending_file_per_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_through_a_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attached_volume_ids_are_encoded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_name_holding_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_empty_key_is_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_non_utf8_name_is_einval, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
