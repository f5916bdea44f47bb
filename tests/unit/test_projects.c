/* SPDX-License-Identifier: MIT */
/*
 * projects/ and quotas/ through the model (src/core/projects.c, the group
 * and singleton rows) over a fake transport: no network, no FUSE. Keystone
 * answers with the captured token and the captured GET /v3/auth/projects
 * plus a second project; each login's scope is recorded. What is checked is
 * what a user of the mount sees and what it costs: the list (ids, names as
 * links) for one request and no token, a project's tree for one token
 * scoped to it by id, none for the mount's own project, a bounded number
 * kept, no token tried for an application credential, and the quota
 * documents' files.
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
#include <jansson.h>

#include "cloudfs/api.h"
#include "cloudfs/auth.h"
#include "cloudfs/config.h"
#include "cloudfs/http.h"
#include "cloudfs/model.h"
#include "cloudfs/service.h"
#include "unit_fixtures.h"

/* The captured token's project (keystone-auth-tokens.json) and another. */
#define OWN "7c808b28bded4680839ac3a2f00d8a87"
#define OTHER "3f1d6a9c2b7e4c0d8a5f1e2b3c4d5e6f"
#define THIRD "b2c3d4e5f6a74b8c9d0e1f2a3b4c5d6e"
#define NOVA "http://127.0.0.1:8774/v2.1"

struct fake {
	struct http_transport t; /* first: the transport is the fake */
	char *token_body;
	char *projects_body;
	char *quota_body;
	unsigned logins, gets_projects, gets_other;
	char scopes[8][64]; /* each login's scope project id, "" when by name */
	/* The last request to a ".../hook-*" URL, as it reached the wire. */
	char hook[1024]; /* "METHOD URL\nheader lines\nbody" */
};

static struct fake fake;

static int fake_perform(const struct http_transport *t, const struct http_request *req,
			struct http_response *resp)
{
	struct fake *f = (struct fake *)t;

	buf_reset(&resp->body);
	resp->status = 200;
	resp->retry_after_s = -1;
	snprintf(resp->request_id, sizeof(resp->request_id), "req-unit");
	if (!strcmp(req->method, "POST") && strstr(req->url, "/v3/auth/tokens")) {
		json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
		const char *id = json_string_value(json_object_get(
			json_object_get(json_object_get(json_object_get(body, "auth"), "scope"),
					"project"),
			"id"));
		char tok[32];

		snprintf(f->scopes[f->logins % 8], sizeof(f->scopes[0]), "%s", id ? id : "");
		json_decref(body);
		snprintf(tok, sizeof(tok), "tok-%u", ++f->logins);
		resp->status = 201;
		resp->subject_token = strdup(tok);
		return buf_addstr(&resp->body, f->token_body);
	}
	if (strstr(req->url, "/v3/auth/projects")) {
		f->gets_projects++;
		return buf_addstr(&resp->body, f->projects_body);
	}
	if (strstr(req->url, "/os-quota-sets/"))
		return buf_addstr(&resp->body, f->quota_body);
	if (strstr(req->url, "/hook-")) {
		int n = snprintf(f->hook, sizeof(f->hook), "%s %s\n", req->method, req->url);

		for (size_t i = 0; req->headers && req->headers[i]; i++)
			n += snprintf(f->hook + n, sizeof(f->hook) - (size_t)n, "%s\n",
				      req->headers[i]);
		snprintf(f->hook + n, sizeof(f->hook) - (size_t)n, "%.*s", (int)req->body_len,
			 req->body ? req->body : "");
		snprintf(resp->content_type, sizeof(resp->content_type), "application/json");
		if (strstr(req->url, "/hook-missing")) {
			resp->status = 404;
			return buf_addstr(
				&resp->body,
				"{\"itemNotFound\": {\"code\": 404, \"message\": \"no\"}}");
		}
		return buf_addstr(&resp->body, "{\"ok\": true}");
	}
	f->gets_other++;
	if (strstr(req->url, "/servers/detail"))
		return buf_addstr(&resp->body, "{\"servers\": [], \"servers_links\": []}");
	resp->status = 404;
	return buf_addstr(&resp->body, "{\"itemNotFound\": {\"code\": 404, \"message\": \"no\"}}");
}

struct world {
	struct config cfg;
	struct auth *auth;
	struct session s;
	struct project p;
};

/* The captured list with OTHER (named "ops") and THIRD (named like OWN's
 * name, "demo": no link for either then) added. */
static char *projects_body(void)
{
	json_t *doc = fixture_json("keystone-auth-projects.json");
	json_t *list = json_object_get(doc, "projects"), *first = json_array_get(list, 0);
	json_t *other = json_deep_copy(first), *third = json_deep_copy(first);
	char *text;

	json_object_set_new(first, "id", json_string(OWN));
	json_object_set_new(other, "id", json_string(OTHER));
	json_object_set_new(other, "name", json_string("ops"));
	json_object_set_new(third, "id", json_string(THIRD));
	json_array_append_new(list, other);
	json_array_append_new(list, third);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}

static int setup_with(void **state, bool appcred, int kept)
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
	fake.projects_body = projects_body();
	fake.quota_body = fixture_read("nova-quota-detail.json", NULL);
	json_decref(tok);

	config_init(&w->cfg);
	assert_int_equal(config_set(&w->cfg, "auth_url", "http://127.0.0.1:5000/v3"), 0);
	if (appcred) {
		assert_int_equal(config_set(&w->cfg, "application_credential_id", "ac"), 0);
		assert_int_equal(config_set(&w->cfg, "application_credential_secret", "s"), 0);
	} else {
		assert_int_equal(config_set(&w->cfg, "username", "demo"), 0);
		assert_int_equal(config_set(&w->cfg, "password", "demo"), 0);
		assert_int_equal(config_set(&w->cfg, "project_name", "demo"), 0);
		assert_int_equal(config_set(&w->cfg, "user_domain_name", "Default"), 0);
		assert_int_equal(config_set(&w->cfg, "project_domain_name", "Default"), 0);
	}
	w->cfg.projects_kept = kept;
	w->auth = auth_new(&w->cfg);
	assert_non_null(w->auth);
	auth_set_transport(w->auth, &fake.t);
	assert_int_equal(auth_login(w->auth, err, sizeof(err)), 0);
	assert_int_equal(session_init(&w->s, &w->cfg, w->auth, err, sizeof(err)), 0);
	assert_int_equal(model_project_init(&w->p, &w->s, 60000, 2000), 0);
	assert_int_equal(model_project_add_projects(&w->p), 0);
	fake.logins = 0;
	*state = w;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false, 8);
}

static int setup_kept1(void **state)
{
	return setup_with(state, false, 1);
}

static int setup_appcred(void **state)
{
	return setup_with(state, true, 8);
}

static int teardown(void **state)
{
	struct world *w = *state;

	model_project_cleanup(&w->p);
	session_cleanup(&w->s);
	auth_free(w->auth);
	config_free(&w->cfg);
	free(fake.token_body);
	free(fake.projects_body);
	free(fake.quota_body);
	free(w);
	return 0;
}

struct names {
	char text[1024];
};

static int add_name(void *ctx, const char *name, const struct stat *st)
{
	struct names *n = ctx;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%s%s%s", len ? " " : "", name,
		 st && S_ISLNK(st->st_mode) ? "@" : "");
	return 0;
}

static const char *list(struct world *w, const char *path, struct names *n)
{
	n->text[0] = '\0';
	assert_int_equal(model_readdir(&w->p, path, add_name, n), 0);
	return n->text;
}

/* ls -l projects/: ids as directories, the one unique name as a link
 * ("demo" is two projects' name: no link), one request, no token. */
static void test_list_costs_one_request_and_no_token(void **state)
{
	struct world *w = *state;
	struct names n;
	struct stat st;
	char target[64];

	assert_string_equal(list(w, "/projects", &n), OWN " " OTHER " " THIRD " ops@");
	assert_int_equal(model_getattr(&w->p, "/projects/" OTHER, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(model_readlink(&w->p, "/projects/ops", target, sizeof(target)), 0);
	assert_string_equal(target, OTHER);
	assert_int_equal(model_getattr(&w->p, "/projects/demo", &st), -ENOENT);
	assert_int_equal(model_getattr(&w->p, "/projects/nope/servers", &st), -ENOENT);
	assert_int_equal(fake.gets_projects, 1);
	assert_int_equal(fake.logins, 0);
	/* the root lists it, and quotas/ */
	list(w, "/", &n);
	assert_non_null(strstr(n.text, "projects"));
	assert_non_null(strstr(n.text, "quotas"));
}

/* A project's tree: one token, scoped to it by id, then kept; the mount's
 * own project needs none. A member has no projects/ of its own. */
static void test_a_project_costs_one_token(void **state)
{
	struct world *w = *state;
	struct names n;
	struct stat st;

	list(w, "/projects/" OTHER "/servers", &n);
	assert_int_equal(fake.logins, 1);
	assert_string_equal(fake.scopes[0], OTHER);
	list(w, "/projects/" OTHER "/servers", &n);
	list(w, "/projects/" OTHER, &n);
	assert_null(strstr(n.text, "projects"));
	assert_non_null(strstr(n.text, "servers"));
	assert_int_equal(model_getattr(&w->p, "/projects/" OTHER "/projects", &st), -ENOENT);
	assert_int_equal(fake.logins, 1);
	list(w, "/projects/" OWN "/servers", &n);
	assert_int_equal(fake.logins, 1);
}

/* projects_kept=1: a second project drops the first (idle), which then
 * costs a token again. */
static void test_kept_is_bounded(void **state)
{
	struct world *w = *state;
	struct names n;

	list(w, "/projects/" OTHER "/servers", &n);
	list(w, "/projects/" THIRD "/servers", &n);
	assert_int_equal(fake.logins, 2);
	list(w, "/projects/" THIRD "/servers", &n);
	assert_int_equal(fake.logins, 2);
	list(w, "/projects/" OTHER "/servers", &n);
	assert_int_equal(fake.logins, 3);
}

/* An application credential cannot be scoped elsewhere: EACCES, no token
 * asked for, its own project still there. */
static void test_appcred_other_project_is_eacces(void **state)
{
	struct world *w = *state;
	struct names n;

	assert_int_equal(model_readdir(&w->p, "/projects/" OTHER "/servers", add_name, &n),
			 -EACCES);
	assert_int_equal(fake.logins, 0);
	list(w, "/projects/" OWN "/servers", &n);
	assert_int_equal(fake.logins, 0);
}

/* quotas/compute/: Nova's document by the project's id, a directory per
 * key, limit writable, the rest not, no rmdir. */
static void test_quota_document(void **state)
{
	struct world *w = *state;
	json_t *doc = fixture_json("nova-quota-detail.json");
	long long limit = json_integer_value(json_object_get(
		json_object_get(json_object_get(doc, "quota_set"), "cores"), "limit"));
	struct buf b;
	struct stat st;
	char want[32];

	buf_init(&b, 1 << 20);
	assert_int_equal(model_read(&w->p, "/quotas/compute/cores/limit", &b, NULL), 0);
	snprintf(want, sizeof(want), "%lld\n", limit);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	assert_int_equal(model_getattr(&w->p, "/quotas/compute/cores/limit", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(model_getattr(&w->p, "/quotas/compute/cores/in_use", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	assert_int_equal(model_getattr(&w->p, "/quotas/compute", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(model_rmdir(&w->p, "/quotas/compute"), -EPERM);
	assert_int_equal(model_getattr(&w->p, "/compute", &st), -ENOENT);
	buf_free(&b);
	json_decref(doc);
}

/* A hook's requests take one path (svc_call.c): an extra's JSON request
 * (extra_request) is svc_request_extra()'s, the same bytes on the wire and
 * the same answer, and a failure is the same errno. */
static void test_hook_requests_share_one_path(void **state)
{
	struct world *w = *state;
	struct extra_ctx x = { .project = &w->p,
			       .coll = collection_find("servers"),
			       .id = "hook-1" };
	json_t *body = json_pack("{s:n}", "os-stop"), *answer = NULL;
	const char *text = "{\"os-stop\":null}";
	struct svc_answer a;
	char first[1024];

	assert_int_equal(extra_request(&x, "POST", "action", NULL, body, &answer), 0);
	assert_non_null(strstr(fake.hook, "POST " NOVA "/servers/hook-1/action\n"));
	assert_non_null(strstr(fake.hook, "Content-Type: application/json\n"));
	assert_non_null(strstr(fake.hook, "\n{\"os-stop\":null}"));
	assert_true(json_is_true(json_object_get(answer, "ok")));
	snprintf(first, sizeof(first), "%s", fake.hook);

	assert_int_equal(svc_request_extra(&x, "POST", "/servers/hook-1/action", NULL, text,
					   strlen(text), NULL, &a),
			 0);
	assert_string_equal(fake.hook, first);
	assert_true(json_equal(a.json, answer));
	svc_answer_free(&a);
	json_decref(answer);
	answer = NULL;

	assert_int_equal(extra_request_at(&x, "GET", "/servers/hook-missing", NULL, &answer),
			 -ENOENT);
	assert_null(answer);
	assert_int_equal(
		svc_request_extra(&x, "GET", "/servers/hook-missing", NULL, NULL, 0, NULL, &a),
		-ENOENT);
	assert_null(a.json);
	svc_answer_free(&a);
	json_decref(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_costs_one_request_and_no_token, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_project_costs_one_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_is_bounded, setup_kept1, teardown),
		cmocka_unit_test_setup_teardown(test_appcred_other_project_is_eacces, setup_appcred,
						teardown),
		cmocka_unit_test_setup_teardown(test_quota_document, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_requests_share_one_path, setup, teardown),
	};

	return cmocka_run_group_tests_name("test_projects", tests, NULL, NULL);
}
