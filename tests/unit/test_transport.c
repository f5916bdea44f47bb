/* SPDX-License-Identifier: MIT */
/*
 * The api layer over a fake transport (http.h's struct http_transport): no
 * network, no FUSE. The transport answers Keystone with the captured token
 * (keystone-auth-tokens.json, its expiry moved into the future) and every
 * other request from a script of answers, and records what was sent. What
 * is checked is what a user of the mount would see: every member of a paged
 * listing, exactly once; a listing that loops or leaves the endpoint fails
 * without sending the token anywhere else; a token revoked early costs one
 * re-login, not an error; a 503 on a GET is retried, on a POST it is not.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <curl/curl.h> /* the CURLcode a transport failure carries */
#include <jansson.h>

#include "cloudfs/api.h"
#include "cloudfs/auth.h"
#include "cloudfs/config.h"
#include "cloudfs/http.h"
#include "cloudfs/service.h"
#include "unit_fixtures.h"

#define NOVA "http://127.0.0.1:8774/v2.1"

/* One scripted answer: to the first request whose method and URL prefix
 * match, while @times lasts (0: always). */
struct answer {
	const char *method;
	const char *url_prefix;
	long status; /* 0 with @err: a transport failure */
	int err;
	const char *body;
	int times;
};

struct sent {
	char method[8];
	char url[512];
	char token[32];
};

struct fake {
	struct http_transport t; /* first: the transport is the fake */
	struct answer *answers;
	size_t nanswers;
	int used[64]; /* by answer */
	struct sent sent[64];
	size_t nsent;
	unsigned logins;
	char *token_body; /* the captured token, valid for another hour */
};

static struct fake fake;

static int fake_perform(const struct http_transport *t, const struct http_request *req,
			struct http_response *resp)
{
	struct fake *f = (struct fake *)t;
	struct sent *s = &f->sent[f->nsent < 64 ? f->nsent++ : 63];

	snprintf(s->method, sizeof(s->method), "%s", req->method);
	snprintf(s->url, sizeof(s->url), "%s", req->url);
	snprintf(s->token, sizeof(s->token), "%s", req->token ? req->token : "");
	buf_reset(&resp->body);
	resp->status = 0;
	resp->retry_after_s = -1;
	resp->request_id[0] = '\0';
	if (!strcmp(req->method, "POST") && strstr(req->url, "/v3/auth/tokens")) {
		char tok[32];

		snprintf(tok, sizeof(tok), "tok-%u", ++f->logins);
		resp->status = 201;
		resp->subject_token = strdup(tok);
		return buf_addstr(&resp->body, f->token_body);
	}
	for (size_t i = 0; i < f->nanswers; i++) {
		struct answer *a = &f->answers[i];

		if (strcmp(a->method, req->method) ||
		    strncmp(a->url_prefix, req->url, strlen(a->url_prefix)) ||
		    (a->times && f->used[i] >= a->times))
			continue;
		f->used[i]++;
		if (a->err) {
			/* As http_perform() reports a connection reset mid-answer. */
			resp->curl_code = a->err == -ECONNRESET ? CURLE_RECV_ERROR : CURLE_OK;
			snprintf(resp->errbuf, sizeof(resp->errbuf), "scripted failure");
			return a->err;
		}
		resp->status = a->status;
		snprintf(resp->request_id, sizeof(resp->request_id), "req-%zu", f->nsent);
		if (a->status == 503)
			resp->retry_after_s = 0;
		return buf_addstr(&resp->body, a->body ? a->body : "");
	}
	resp->status = 404;
	return buf_addstr(&resp->body,
			  "{\"itemNotFound\": {\"code\": 404, \"message\": \"not scripted\"}}");
}

struct world {
	struct config cfg;
	struct auth *auth;
	struct session s;
};

static void script(struct answer *answers, size_t n)
{
	fake.answers = answers;
	fake.nanswers = n;
	memset(fake.used, 0, sizeof(fake.used));
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	json_t *tok = fixture_json("keystone-auth-tokens.json");
	char exp[32], err[256];
	time_t later = time(NULL) + 3600;

	assert_non_null(w);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%S.000000Z", gmtime(&later));
	json_object_set_new(json_object_get(tok, "token"), "expires_at", json_string(exp));
	memset(&fake, 0, sizeof(fake));
	fake.t.perform = fake_perform;
	fake.token_body = json_dumps(tok, JSON_COMPACT);
	json_decref(tok);

	config_init(&w->cfg);
	assert_int_equal(config_set(&w->cfg, "auth_url", "http://127.0.0.1:5000/v3"), 0);
	assert_int_equal(config_set(&w->cfg, "username", "demo"), 0);
	assert_int_equal(config_set(&w->cfg, "password", "demo"), 0);
	assert_int_equal(config_set(&w->cfg, "project_name", "demo"), 0);
	assert_int_equal(config_set(&w->cfg, "user_domain_name", "Default"), 0);
	assert_int_equal(config_set(&w->cfg, "project_domain_name", "Default"), 0);
	w->auth = auth_new(&w->cfg);
	assert_non_null(w->auth);
	auth_set_transport(w->auth, &fake.t);
	assert_int_equal(auth_login(w->auth, err, sizeof(err)), 0);
	assert_int_equal(session_init(&w->s, &w->cfg, w->auth, err, sizeof(err)), 0);
	fake.nsent = 0;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	session_cleanup(&w->s);
	auth_free(w->auth);
	config_free(&w->cfg);
	free(fake.token_body);
	free(w);
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
