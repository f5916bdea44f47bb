/* SPDX-License-Identifier: MIT */
/* Endpoint lookup in the real Zed catalog (catalog.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "cloudfs/catalog.h"
#include "cloudfs/service.h"
#include "unit_fixtures.h"

#define PROJECT "7c808b28bded4680839ac3a2f00d8a87"

/* The catalog types of the service serving collection @coll. */
static const char *const *types_of(const char *coll)
{
	return collection_find(coll)->service->types;
}

static int setup(void **state)
{
	json_t *doc = fixture_json("keystone-auth-tokens.json");

	*state = json_incref(json_object_get(json_object_get(doc, "token"), "catalog"));
	json_decref(doc);
	return json_is_array((json_t *)*state) ? 0 : -1;
}

static int teardown(void **state)
{
	json_decref(*state);
	return 0;
}

static void expect_url(const json_t *catalog, const char *const *types, const char *iface,
		       const char *region, const char *want)
{
	char *url = (char *)0x1;
	int rc = catalog_find(catalog, types, iface, region, &url);

	if (!want) {
		if (rc != -ENOENT)
			fail_msg("%s/%s/%s: rc %d, want -ENOENT", types[0], iface,
				 region ? region : "any", rc);
		return;
	}
	if (rc)
		fail_msg("%s/%s/%s: rc %d, want %s", types[0], iface, region ? region : "any", rc,
			 want);
	assert_string_equal(url, want);
	free(url);
}

/* The services' own type lists, against the catalog as Keystone sent it. */
static void test_real_catalog(void **state)
{
	const json_t *cat = *state;

	expect_url(cat, types_of("servers"), "public", "RegionOne", "http://127.0.0.1:8774/v2.1");
	expect_url(cat, types_of("servers"), "public", NULL, "http://127.0.0.1:8774/v2.1");
	expect_url(cat, types_of("images"), "public", NULL, "http://127.0.0.1:9292");
	expect_url(cat, types_of("networks"), "internal", "RegionOne", "http://127.0.0.1:9696");
	expect_url(cat, types_of("volumes"), "admin", "RegionOne",
		   "http://127.0.0.1:8776/v3/" PROJECT);
	expect_url(cat, types_of("servers"), "public", "RegionTwo", NULL);
	expect_url(cat, types_of("servers"), "publicURL", NULL, NULL);
	static const char *const nosuch[] = { "dns", NULL };
	expect_url(cat, nosuch, "public", NULL, NULL);
	static const char *const identity[] = { "identity", NULL };
	expect_url(cat, identity, "public", NULL, "http://127.0.0.1:5000/v3");
}

/* Endpoint of @type/@iface in the copy, for rewriting. */
static json_t *endpoint(json_t *cat, const char *type, const char *iface)
{
	json_t *svc, *ep;
	size_t i, j;

	json_array_foreach(cat, i, svc)
	{
		if (strcmp(json_string_value(json_object_get(svc, "type")), type))
			continue;
		json_array_foreach(json_object_get(svc, "endpoints"), j, ep)
		{
			if (!strcmp(json_string_value(json_object_get(ep, "interface")), iface))
				return ep;
		}
	}
	fail_msg("no %s/%s in the fixture", type, iface);
	return NULL;
}

/* The fixture's three compute interfaces share one URL; give each its own
 * so that picking the wrong interface shows. */
static void test_interface(void **state)
{
	json_t *cat = json_deep_copy(*state);

	json_object_set_new(endpoint(cat, "compute", "internal"), "url",
			    json_string("http://internal:8774/v2.1/"));
	json_object_set_new(endpoint(cat, "compute", "admin"), "url",
			    json_string("http://admin:8774/v2.1"));
	json_object_set_new(endpoint(cat, "compute", "public"), "url",
			    json_string("https://public.example/compute/v2.1"));
	expect_url(cat, types_of("servers"), "public", NULL, "https://public.example/compute/v2.1");
	/* The trailing '/' is dropped. */
	expect_url(cat, types_of("servers"), "internal", NULL, "http://internal:8774/v2.1");
	expect_url(cat, types_of("servers"), "admin", "RegionOne", "http://admin:8774/v2.1");
	json_decref(cat);
}

/* block-storage is preferred over volumev3 wherever it sits in the catalog;
 * volumev3 is used when it is all there is. */
static void test_volume_preference(void **state)
{
	json_t *cat = json_deep_copy(*state), *svc;
	size_t i, bs = 0;
	static const char *const v3_first[] = { "volumev3", "block-storage", NULL };

	json_object_set_new(endpoint(cat, "volumev3", "public"), "url",
			    json_string("http://v3:8776/v3/" PROJECT));
	json_object_set_new(endpoint(cat, "block-storage", "public"), "url",
			    json_string("http://bs:8776/v3/" PROJECT));
	expect_url(cat, types_of("volumes"), "public", NULL, "http://bs:8776/v3/" PROJECT);
	/* The order of the list decides, not the order of the catalog. */
	expect_url(cat, v3_first, "public", NULL, "http://v3:8776/v3/" PROJECT);
	/* Move block-storage to the end of the catalog: still preferred. */
	json_array_foreach(cat, i, svc) if (!strcmp(json_string_value(json_object_get(svc, "type")),
						    "block-storage")) bs = i;
	json_array_append(cat, json_array_get(cat, bs));
	json_array_remove(cat, bs);
	expect_url(cat, types_of("volumes"), "public", NULL, "http://bs:8776/v3/" PROJECT);
	/* block-storage without a public endpoint: fall back to volumev3. */
	json_array_clear(
		json_object_get(json_array_get(cat, json_array_size(cat) - 1), "endpoints"));
	expect_url(cat, types_of("volumes"), "public", NULL, "http://v3:8776/v3/" PROJECT);
	/* Only a legacy "volume" entry. */
	json_array_foreach(cat, i, svc) if (!strcmp(json_string_value(json_object_get(svc, "type")),
						    "volumev3"))
		json_object_set_new(svc, "type", json_string("volume"));
	expect_url(cat, types_of("volumes"), "public", NULL, "http://v3:8776/v3/" PROJECT);
	json_decref(cat);
}

/* Two regions of one service: the region picks; NULL takes any. */
static void test_regions(void **state)
{
	json_t *cat = json_deep_copy(*state);
	json_t *ep = json_pack("{ssssssss}", "interface", "public", "region", "RegionTwo",
			       "region_id", "RegionTwo", "url", "http://r2:8774/v2.1", "id", "x");
	json_t *old = json_pack("{ssssss}", "interface", "public", "region", "Old", "url",
				"http://old:8774/v2.1");
	json_t *svc = NULL, *s;
	size_t i;

	json_array_foreach(cat, i, s) if (!strcmp(json_string_value(json_object_get(s, "type")),
						  "compute")) svc = s;
	assert_non_null(svc);
	assert_non_null(ep);
	assert_non_null(old);
	json_array_insert_new(json_object_get(svc, "endpoints"), 0, ep);
	json_array_append_new(json_object_get(svc, "endpoints"), old);
	expect_url(cat, types_of("servers"), "public", "RegionTwo", "http://r2:8774/v2.1");
	expect_url(cat, types_of("servers"), "public", "RegionOne", "http://127.0.0.1:8774/v2.1");
	/* Only "region" (the pre-Newton field), no region_id. */
	expect_url(cat, types_of("servers"), "public", "Old", "http://old:8774/v2.1");
	expect_url(cat, types_of("servers"), "public", "RegionThree", NULL);
	/* Any region: some public compute endpoint, whichever. */
	char *url = NULL;

	assert_int_equal(catalog_find(cat, types_of("servers"), "public", NULL, &url), 0);
	assert_true(!strcmp(url, "http://r2:8774/v2.1") ||
		    !strcmp(url, "http://127.0.0.1:8774/v2.1") ||
		    !strcmp(url, "http://old:8774/v2.1"));
	free(url);
	/* regions/: each region once, in catalog order, region_id else region;
	 * an interface's only */
	char **v = NULL;
	size_t n = 0;

	assert_int_equal(catalog_regions(cat, "public", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "RegionOne");
	assert_string_equal(v[1], "RegionTwo");
	assert_string_equal(v[2], "Old");
	catalog_regions_free(v, n);
	assert_int_equal(catalog_regions(cat, "internal", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "RegionOne");
	catalog_regions_free(v, n);
	assert_int_equal(catalog_regions(json_object_get(cat, "nope"), "public", &v, &n), 0);
	assert_int_equal(n, 0);
	catalog_regions_free(v, n);
	json_decref(cat);
}

/* Malformed catalogs give -ENOENT, never a crash. */
static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{}",
		"[1, \"x\", null]",
		"[{\"type\": \"compute\"}]",
		"[{\"type\": \"compute\", \"endpoints\": {}}]",
		"[{\"type\": \"compute\", \"endpoints\": [{\"interface\": \"public\"}]}]",
		"[{\"type\": \"compute\", \"endpoints\": [{\"url\": \"http://x\"}]}]",
		"[{\"type\": 5, \"endpoints\": [{\"interface\": \"public\", \"url\": \"http://x\"}]}]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *cat = json_loads(bad[i], 0, NULL);

		assert_non_null(cat);
		expect_url(cat, types_of("servers"), "public", NULL, NULL);
		json_decref(cat);
	}
}

static void test_strip_suffix(void **state)
{
	static const struct {
		const char *in, *suffix, *out;
	} cases[] = {
		{ "http://x:9292/v2/", "/v2", "http://x:9292" },
		{ "http://x:9292/v2", "/v2", "http://x:9292" },
		{ "http://x:9292", "/v2", "http://x:9292" },
		{ "http://x/image", "/v2", "http://x/image" },
		{ "http://x/image/v2", "/v2", "http://x/image" },
		{ "http://x:9696/v2.0/", "/v2.0", "http://x:9696" },
		{ "http://x:9696/", "/v2.0", "http://x:9696" },
		{ "http://x:9292//", NULL, "http://x:9292" },
		{ "http://x/v2/y", "/v2", "http://x/v2/y" },
		{ "", "/v2", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = strdup(cases[i].in);

		assert_non_null(u);
		catalog_strip_suffix(u, cases[i].suffix);
		if (strcmp(u, cases[i].out))
			fail_msg("strip(\"%s\", %s) = \"%s\", want \"%s\"", cases[i].in,
				 cases[i].suffix ? cases[i].suffix : "NULL", u, cases[i].out);
		free(u);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_catalog),	  cmocka_unit_test(test_interface),
		cmocka_unit_test(test_volume_preference), cmocka_unit_test(test_regions),
		cmocka_unit_test(test_malformed),	  cmocka_unit_test(test_strip_suffix),
	};

	return cmocka_run_group_tests_name("test_catalog", tests, setup, teardown);
}
