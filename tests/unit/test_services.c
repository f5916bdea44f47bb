/* SPDX-License-Identifier: MIT */
/* The registry and the core's walk over it (service.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "cloudfs/service.h"

/* The registry's count is its length, every service is found at its
 * index, and every row it holds names that service: collection_next()
 * finds a row's holder by it. */
static void test_rows_name_their_service(void **state)
{
	(void)state;
	assert_true(n_services > 0);
	assert_null(services[n_services]);
	for (size_t s = 0; s < n_services; s++) {
		assert_non_null(services[s]);
		assert_int_equal(service_index(services[s]), s);
		assert_non_null(services[s]->name);
		assert_non_null(services[s]->types);
		for (size_t i = 0; i < services[s]->n_collections; i++)
			assert_ptr_equal(services[s]->collections[i].service, services[s]);
	}
}

/* The walk visits each row once, services in id order, and every
 * directory name is found again, as itself. */
static void test_walk_and_find(void **state)
{
	size_t n = 0, total = 0, last = 0;

	(void)state;
	for (size_t s = 0; s < n_services; s++)
		total += services[s]->n_collections;
	for (const struct collection_def *c = collection_next(NULL); c; c = collection_next(c)) {
		assert_true(service_index(c->service) >= last);
		last = service_index(c->service);
		/* a grouped row is found in its group only (quotas/compute is
		 * no compute/ at the root) */
		if (c->group) {
			assert_ptr_equal(collection_find_in(c->group, c->name), c);
			assert_string_equal(collection_group(c->group), c->group);
			assert_null(collection_find(c->name));
			assert_true(c->singleton);
		} else {
			assert_ptr_equal(collection_find(c->name), c);
		}
		n++;
		assert_true(n <= total);
	}
	assert_int_equal(n, total);
	assert_null(collection_find("nosuch"));
	assert_null(collection_find(""));
	assert_non_null(collection_find("servers"));
	assert_non_null(collection_find("floating_ips"));
	assert_null(collection_group("servers"));
	assert_null(collection_group("nosuch"));
	assert_non_null(collection_find_in("quotas", "compute"));
	assert_non_null(collection_find_in("quotas", "volume"));
	assert_non_null(collection_find_in("quotas", "network"));
	assert_null(collection_find_in("quotas", "servers"));
	assert_null(collection_find_in("nosuch", "compute"));
}

/* Each collection says when a member is busy (kept briefly: model_doc_ttl). */
static const struct busy_case {
	const char *coll;
	const char *json;
	bool busy;
} busy_cases[] = {
	{ "servers", "{\"status\": \"BUILD\"}", true },
	{ "servers", "{\"status\": \"ACTIVE\", \"OS-EXT-STS:task_state\": \"rebooting\"}", true },
	{ "servers", "{\"status\": \"ACTIVE\", \"OS-EXT-STS:task_state\": null}", false },
	{ "images", "{\"status\": \"queued\"}", true },
	{ "images", "{\"status\": \"active\"}", false },
	{ "volumes", "{\"status\": \"attaching\"}", true },
	{ "volumes", "{\"status\": \"in-use\"}", false },
	{ "snapshots", "{\"status\": \"creating\"}", true },
	{ "ports", "{\"status\": \"BUILD\"}", true },
	{ "ports", "{\"status\": \"DOWN\"}", false },
	{ "networks", "{\"status\": 5}", false },
	{ "flavors", "{\"status\": \"BUILD\"}", false },
};

static void test_busy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(busy_cases) / sizeof(busy_cases[0]); i++) {
		const struct collection_def *c = collection_find(busy_cases[i].coll);
		json_t *doc = json_loads(busy_cases[i].json, 0, NULL);
		bool got;

		assert_non_null(c);
		assert_non_null(doc);
		got = c->busy && c->busy(doc);
		if (got != busy_cases[i].busy)
			fail_msg("%s %s: busy %d, want %d", busy_cases[i].coll, busy_cases[i].json,
				 got, busy_cases[i].busy);
		json_decref(doc);
	}
}

/* The image row's data stream: the digests a document states, the one a
 * download checks first leading (Glance's multihash, then the md5 an
 * upload must have, stated or not). Every row that uploads or streams has
 * one. */
/* The array lookup the service files share (Heat's outputs and resources,
 * Swift's manifest segments). */
static void test_member_where(void **state)
{
	json_t *list = json_loads(
		"[{\"k\": 1}, {\"k\": \"a\", \"n\": 1}, {\"k\": \"a\", \"n\": 2}]", 0, NULL);

	(void)state;
	assert_non_null(list);
	assert_int_equal(
		json_integer_value(json_object_get(service_member_where(list, "k", "a"), "n")), 1);
	assert_null(service_member_where(list, "k", "b"));
	assert_null(service_member_where(NULL, "k", "a"));
	assert_null(service_member_where(json_object_get(list, "x"), "k", "a"));
	json_decref(list);
}

static void test_image_data_stream(void **state)
{
	const struct collection_def *c = collection_find("images");
	struct data_digest d[DATA_DIGESTS_MAX];
	json_t *full = json_pack("{ssssssss}", "status", "active", "checksum", "abc",
				 "os_hash_algo", "sha512", "os_hash_value", "def");
	json_t *bare = json_pack("{ss}", "status", "saving");

	(void)state;
	assert_non_null(c);
	assert_non_null(c->stream);
	assert_string_equal(c->stream->data_below, "file");
	assert_int_equal(c->stream->digests(full, d), 2);
	assert_string_equal(d[0].algo, "sha512");
	assert_string_equal(d[0].hex, "def");
	assert_false(d[0].required);
	assert_string_equal(d[1].algo, "md5");
	assert_string_equal(d[1].hex, "abc");
	assert_true(d[1].required);
	assert_int_equal(c->stream->digests(bare, d), 1);
	assert_string_equal(d[0].algo, "md5");
	assert_null(d[0].hex);
	for (const struct collection_def *r = collection_next(NULL); r; r = collection_next(r)) {
		bool streams = r->upload;

		for (const struct member_extra *e = r->extras; e && e->name; e++)
			streams = streams || (e->flags & EXTRA_STREAM);
		if (streams && !r->stream)
			fail_msg("%s uploads or streams without a data stream row", r->name);
	}
	json_decref(full);
	json_decref(bare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_name_their_service),
		cmocka_unit_test(test_walk_and_find),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_member_where),
		cmocka_unit_test(test_image_data_stream),
	};

	return cmocka_run_group_tests_name("test_services", tests, NULL, NULL);
}
