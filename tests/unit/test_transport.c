/* SPDX-License-Identifier: MIT */
/*
 * The api layer over the fake transport (fake_transport.h): no network, no
 * FUSE. What is checked is what a user of the mount would see: every member
 * of a paged listing, exactly once; a listing that loops or leaves the
 * endpoint fails without sending the token anywhere else; a token revoked
 * early costs one re-login, not an error; a 503 on a GET is retried, on a
 * POST it is not.
 */
#include "cloudfs/service.h"
#include "fake_transport.h"

#define NOVA FAKE_NOVA

static int setup(void **state)
{
	*state = fake_world_setup();
	return 0;
}

static int teardown(void **state)
{
	fake_world_teardown(*state);
	return 0;
}

static int collect(void *arg, const json_t *member)
{
	json_t *ids = arg;

	return json_array_append(ids, json_object_get(member, "id"));
}

static char *ids_text(json_t *ids)
{
	char *s = json_dumps(ids, JSON_COMPACT);

	assert_non_null(s);
	return s;
}

/* Three pages by Nova's servers_links: each member once, in order, with the
 * big page size asked for and the token on every request. */
static void test_list_follows_pages(void **state)
{
	struct world *w = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/detail?limit=1000", 200, 0,
		  "{\"servers\": [{\"id\": \"a\"}, {\"id\": \"b\"}], \"servers_links\": [{\"rel\": "
		  "\"next\", \"href\": \"" NOVA "/servers/detail?limit=1000&marker=b\"}]}",
		  1 },
		{ "GET", NOVA "/servers/detail?limit=1000&marker=b", 200, 0,
		  "{\"servers\": [{\"id\": \"c\"}], \"servers_links\": [{\"rel\": \"next\", "
		  "\"href\": \"" NOVA "/servers/detail?limit=1000&marker=c\"}]}",
		  1 },
		{ "GET", NOVA "/servers/detail?limit=1000&marker=c", 200, 0, "{\"servers\": []}",
		  1 },
	};
	json_t *ids = json_array();
	char *text;

	script(a, 3);
	assert_int_equal(api_list(&w->s, collection_find("servers"), collect, ids), 0);
	text = ids_text(ids);
	assert_string_equal(text, "[\"a\",\"b\",\"c\"]");
	assert_int_equal(fake.nsent, 3);
	for (size_t i = 0; i < fake.nsent; i++)
		assert_string_equal(fake.sent[i].token, "tok-1");
	free(text);
	json_decref(ids);
}

/* A next link back to a page already listed fails the listing (EIO)
 * after two requests, instead of looping until memory runs out. */
static void test_list_loop_fails(void **state)
{
	struct world *w = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/detail?limit=1000&marker=b", 200, 0,
		  "{\"servers\": [{\"id\": \"c\"}], \"servers_links\": [{\"rel\": \"next\", "
		  "\"href\": \"" NOVA "/servers/detail?limit=1000\"}]}",
		  0 },
		{ "GET", NOVA "/servers/detail?limit=1000", 200, 0,
		  "{\"servers\": [{\"id\": \"a\"}], \"servers_links\": [{\"rel\": \"next\", "
		  "\"href\": \"" NOVA "/servers/detail?limit=1000&marker=b\"}]}",
		  0 },
	};
	json_t *ids = json_array();

	script(a, 2);
	assert_int_equal(api_list(&w->s, collection_find("servers"), collect, ids), -EIO);
	assert_int_equal(fake.nsent, 2);
	json_decref(ids);
}

/* A next link to another host is never requested: the token stays home. */
static void test_list_off_host_link_fails_unsent(void **state)
{
	struct world *w = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/detail?limit=1000", 200, 0,
		  "{\"servers\": [{\"id\": \"a\"}], \"servers_links\": [{\"rel\": \"next\", "
		  "\"href\": \"http://127.0.0.2:8774/v2.1/servers/detail?marker=a\"}]}",
		  0 },
	};
	json_t *ids = json_array();

	script(a, 1);
	assert_int_equal(api_list(&w->s, collection_find("servers"), collect, ids), -EIO);
	assert_int_equal(fake.nsent, 1);
	assert_non_null(strstr(fake.sent[0].url, "127.0.0.1:8774"));
	json_decref(ids);
}

/* A chain that never ends stops at max_entries members (EFBIG). */
static void test_list_endless_chain_is_capped(void **state)
{
	struct world *w = *state;
	static char bodies[40][256];
	struct answer a[40];

	w->cfg.max_entries = 25;
	for (int i = 0; i < 40; i++) {
		snprintf(
			bodies[i], sizeof(bodies[i]),
			"{\"servers\": [{\"id\": \"m%d\"}], \"servers_links\": [{\"rel\": \"next\", "
			"\"href\": \"" NOVA "/servers/detail?limit=1000&marker=m%d\"}]}",
			i, i);
		a[i] = (struct answer){ "GET", NOVA "/servers/detail?limit=1000", 200, 0, bodies[i],
					1 };
	}
	json_t *ids = json_array();

	script(a, 40);
	assert_int_equal(api_list(&w->s, collection_find("servers"), collect, ids), -EFBIG);
	assert_true(fake.nsent <= 26);
	json_decref(ids);
}

/* A token revoked before its expiry: one 401, one re-login, the same
 * request again with the new token, and the caller sees success. */
static void test_401_relogs_once(void **state)
{
	struct world *w = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/x", 401, 0,
		  "{\"error\": {\"code\": 401, \"title\": \"Unauthorized\", \"message\": \"The "
		  "request you have made requires authentication.\"}}",
		  1 },
		{ "GET", NOVA "/servers/x", 200, 0, "{\"server\": {\"id\": \"x\"}}", 0 },
	};
	json_t *doc = NULL;

	script(a, 2);
	assert_int_equal(
		api_get_json(&w->s, collection_find("servers")->service, "/servers/x", &doc), 0);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "server"), "id")), "x");
	assert_int_equal(fake.nsent, 3); /* GET (401), POST tokens, GET */
	assert_string_equal(fake.sent[0].token, "tok-1");
	assert_string_equal(fake.sent[1].method, "POST");
	assert_string_equal(fake.sent[2].token, "tok-2");
	json_decref(doc);
}

/* A cloud that keeps saying 401 gets one re-login, then EACCES. */
static void test_401_twice_is_eacces(void **state)
{
	struct world *w = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/x", 401, 0, "{\"error\": {\"code\": 401}}", 0 },
	};
	json_t *doc = NULL;

	script(a, 1);
	assert_int_equal(
		api_get_json(&w->s, collection_find("servers")->service, "/servers/x", &doc),
		-EACCES);
	assert_null(doc);
	assert_int_equal(fake.logins, 2);
	assert_int_equal(fake.nsent, 3);
}

/* A 503 and a reset connection on a GET are retried; a 503 on a POST is
 * not (the server may have been made: sending it again could make two). */
static void test_retries_only_idempotent(void **state)
{
	struct world *w = *state;
	struct answer get[] = {
		{ "GET", NOVA "/servers/x", 503, 0, "{\"computeFault\": {\"code\": 503}}", 1 },
		{ "GET", NOVA "/servers/x", 0, -ECONNRESET, NULL, 1 },
		{ "GET", NOVA "/servers/x", 200, 0, "{\"server\": {\"id\": \"x\"}}", 0 },
	};
	struct answer post[] = {
		{ "POST", NOVA "/servers", 503, 0, "{\"computeFault\": {\"code\": 503}}", 0 },
	};
	json_t *doc = NULL, *body = json_pack("{s:{s:s}}", "server", "name", "web1");

	script(get, 3);
	assert_int_equal(
		api_get_json(&w->s, collection_find("servers")->service, "/servers/x", &doc), 0);
	assert_int_equal(fake.nsent, 3);
	json_decref(doc);
	doc = NULL;

	fake.nsent = 0;
	script(post, 1);
	assert_int_equal(api_send_json(&w->s, collection_find("servers")->service, "POST",
				       "/servers", body, NULL, &doc),
			 -EAGAIN);
	assert_int_equal(fake.nsent, 1);
	assert_null(doc);
	json_decref(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_follows_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_loop_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_off_host_link_fails_unsent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_endless_chain_is_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_401_relogs_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_401_twice_is_eacces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retries_only_idempotent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
