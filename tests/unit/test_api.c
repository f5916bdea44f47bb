/* SPDX-License-Identifier: MIT */
/* Pagination links (api_next_url) on the captured Zed pages, with the real
 * collection definitions. */
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "cloudfs/api.h"
#include "cloudfs/service.h"
#include "unit_fixtures.h"

static const struct collection_def *coll(const char *name)
{
	const struct collection_def *c = collection_find(name);

	if (!c)
		fail_msg("no collection %s", name);
	return c;
}

static void expect_next(const char *collection, const json_t *page, const char *base,
			const char *want)
{
	char *got = NULL;

	assert_int_equal(api_next_url(coll(collection), page, base, &got), 0);
	if (!want) {
		if (got)
			fail_msg("%s: next \"%s\", want none", collection, got);
		return;
	}
	if (!got)
		fail_msg("%s: no next, want \"%s\"", collection, want);
	assert_string_equal(got, want);
	free(got);
}

static void test_nova_links(void **state)
{
	json_t *page = fixture_json("nova-servers-detail-limit2.json");

	(void)state;
	/* The servers carry "self"/"bookmark" links of their own; only the
	 * page's servers_links "next" counts. */
	expect_next("servers", page, "http://127.0.0.1:8774/v2.1",
		    "http://127.0.0.1:8774/v2.1/servers/detail?limit=2&marker="
		    "5b5e85a6-9a8d-4608-b6ad-14cfaf0b35ed");
	/* The same page under another collection has no links of its kind. */
	expect_next("flavors", page, "http://127.0.0.1:8774/v2.1", NULL);
	json_decref(page);
}

static void test_neutron_next_not_previous(void **state)
{
	json_t *page = fixture_json("neutron-networks-limit1.json");
	json_t *links = json_object_get(page, "networks_links");
	static const char next[] =
		"http://127.0.0.1:9696/v2.0/networks?limit=1&marker=cbc7ce85-a928-480a-aa18-209564a98367";

	(void)state;
	assert_int_equal(json_array_size(links), 2);
	expect_next("networks", page, "http://127.0.0.1:9696", next);
	/* Whatever the order of the links. */
	json_t *prev = json_incref(json_array_get(links, 1));

	json_array_remove(links, 1);
	json_array_insert_new(links, 0, prev);
	assert_string_equal(json_string_value(json_object_get(json_array_get(links, 0), "rel")),
			    "previous");
	expect_next("networks", page, "http://127.0.0.1:9696", next);
	/* Only a "previous" link: the last page. */
	json_array_remove(links, 1);
	expect_next("networks", page, "http://127.0.0.1:9696", NULL);
	json_decref(page);
}

static void test_glance_relative(void **state)
{
	json_t *page = fixture_json("glance-images-limit1.json");
	static const char rel[] = "/v2/images?limit=1&marker=548b40e6-11b4-4ada-8c38-30252b4f8b41";

	(void)state;
	assert_string_equal(json_string_value(json_object_get(page, "next")), rel);
	expect_next("images", page, "http://h:9292",
		    "http://h:9292/v2/images?limit=1&marker="
		    "548b40e6-11b4-4ada-8c38-30252b4f8b41");
	/* An endpoint behind a path prefix (devstack's /image) keeps it. */
	expect_next("images", page, "http://h/image",
		    "http://h/image/v2/images?limit=1&marker="
		    "548b40e6-11b4-4ada-8c38-30252b4f8b41");
	/* An absolute "next" on the endpoint's origin is taken as it is. */
	json_object_set_new(page, "next", json_string("http://H:9292/v2/images?marker=x"));
	expect_next("images", page, "http://h:9292", "http://H:9292/v2/images?marker=x");
	/* The last page has no "next" (or an empty one). */
	json_object_set_new(page, "next", json_string(""));
	expect_next("images", page, "http://h:9292", NULL);
	json_object_del(page, "next");
	expect_next("images", page, "http://h:9292", NULL);
	json_decref(page);
}

static void test_cinder_without_links(void **state)
{
	json_t *page = fixture_json("cinder-volumes-detail.json");

	(void)state;
	assert_null(json_object_get(page, "volumes_links"));
	expect_next("volumes", page, "http://127.0.0.1:8776/v3/p", NULL);
	/* With a next link, as Cinder sends when the page is full. */
	json_object_set_new(page, "volumes_links",
			    json_pack("[{ssss}]", "href",
				      "http://127.0.0.1:8776/v3/p/volumes/detail?marker=m", "rel",
				      "next"));
	expect_next("volumes", page, "http://127.0.0.1:8776/v3/p",
		    "http://127.0.0.1:8776/v3/p/volumes/detail?marker=m");
	json_decref(page);
}

static void test_malformed_links(void **state)
{
	static const char *const pages[] = {
		"{\"servers\": [], \"servers_links\": {}}",
		"{\"servers\": [], \"servers_links\": [1, null, \"next\"]}",
		"{\"servers\": [], \"servers_links\": [{\"rel\": \"next\"}]}",
		"{\"servers\": [], \"servers_links\": [{\"rel\": \"next\", \"href\": 5}]}",
		"{\"servers\": [], \"servers_links\": [{\"href\": \"http://x\"}]}",
		"{\"servers\": []}",
		"[]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		json_t *page = json_loads(pages[i], 0, NULL);

		assert_non_null(page);
		expect_next("servers", page, "http://h", NULL);
		json_decref(page);
	}
	json_t *glance = json_loads("{\"images\": [], \"next\": 5}", 0, NULL);

	expect_next("images", glance, "http://h", NULL);
	json_decref(glance);
}

/* A next link to any other scheme, host or port is refused: the token
 * would go with it (issue 11, defect 1). */
static void test_offhost_links_refused(void **state)
{
	static const char *const hrefs[] = {
		"http://127.0.0.2:8774/v2.1/servers/detail?marker=m",
		"https://127.0.0.1:8774/v2.1/servers/detail?marker=m",
		"http://127.0.0.1:8775/v2.1/servers/detail?marker=m",
		"http://127.0.0.1/v2.1/servers/detail?marker=m",
		"http://127.0.0.1:8774@evil/v2.1/servers/detail",
		"ftp://127.0.0.1:8774/v2.1/servers/detail",
		"http://127.0.0.1:8774\\@evil/x",
	};
	char *got = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(hrefs) / sizeof(hrefs[0]); i++) {
		json_t *page = json_pack("{s:[], s:[{s:s, s:s}]}", "servers", "servers_links",
					 "rel", "next", "href", hrefs[i]);

		assert_non_null(page);
		if (api_next_url(coll("servers"), page, "http://127.0.0.1:8774/v2.1", &got) !=
		    -EINVAL)
			fail_msg("followed %s", hrefs[i]);
		assert_null(got);
		json_decref(page);
	}
	/* Glance's absolute next, too. */
	json_t *glance = json_pack("{s:[], s:s}", "images", "next", "http://evil:9292/v2/images");

	assert_int_equal(api_next_url(coll("images"), glance, "http://h:9292", &got), -EINVAL);
	assert_null(got);
	json_decref(glance);
}

/* The table agrees with the captured listings: the list key names an array
 * and each member (unwrapped) has the id field. */
static void test_collections_match_fixtures(void **state)
{
	static const struct {
		const char *coll, *fixture;
	} cases[] = {
		{ "servers", "nova-servers-detail-limit2.json" },
		{ "networks", "neutron-networks-limit1.json" },
		{ "images", "glance-images-limit1.json" },
		{ "volumes", "cinder-volumes-detail.json" },
		{ "flavors", "nova-flavors-detail.json" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct collection_def *c = coll(cases[i].coll);
		json_t *page = fixture_json(cases[i].fixture), *m;
		json_t *list = json_object_get(page, c->list_key);
		size_t j;

		if (!json_is_array(list) || !json_array_size(list))
			fail_msg("%s: no '%s' array in %s", c->name, c->list_key, cases[i].fixture);
		json_array_foreach(list, j, m)
		{
			json_t *member = c->member_wrap ? json_object_get(m, c->member_wrap) : m;

			assert_true(json_is_object(member));
			assert_non_null(json_object_get(member, c->id_field));
		}
		json_decref(page);
	}
}

/* An empty "next" href is no next page (found by tests/fuzz/fuzz_nextlink:
 * it was answered as the URL ""). */
static void test_empty_next_href(void **state)
{
	json_t *page = json_loads("{\"networks\": [], \"networks_links\":"
				  " [{\"rel\": \"next\", \"href\": \"\"}]}",
				  0, NULL);

	(void)state;
	assert_non_null(page);
	expect_next("networks", page, "http://127.0.0.1:9696", NULL);
	json_decref(page);
}

/* Microversions compare as numbers, not text: 2.10 is after 2.9. */
static void test_version_cmp(void **state)
{
	(void)state;
	assert_true(api_version_cmp("2.9", "2.10") < 0);
	assert_true(api_version_cmp("2.91", "2.93") < 0);
	assert_true(api_version_cmp("2.93", "2.91") > 0);
	assert_int_equal(api_version_cmp("2.1", "2.1"), 0);
	assert_true(api_version_cmp("3.0", "2.99") > 0);
	/* what is not a version is lowest */
	assert_true(api_version_cmp("latest", "2.1") < 0);
	assert_true(api_version_cmp(NULL, "2.1") < 0);
	assert_true(service_version_at_least("2.91", "2.6"));
	assert_true(service_version_at_least("2.37", "2.37"));
	assert_false(service_version_at_least("2.5", "2.6"));
	assert_false(service_version_at_least(NULL, "2.6"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nova_links),
		cmocka_unit_test(test_neutron_next_not_previous),
		cmocka_unit_test(test_glance_relative),
		cmocka_unit_test(test_cinder_without_links),
		cmocka_unit_test(test_malformed_links),
		cmocka_unit_test(test_offhost_links_refused),
		cmocka_unit_test(test_empty_next_href),
		cmocka_unit_test(test_collections_match_fixtures),
		cmocka_unit_test(test_version_cmp),
	};

	return cmocka_run_group_tests_name("test_api", tests, NULL, NULL);
}
