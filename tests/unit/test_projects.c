/* SPDX-License-Identifier: MIT */
/*
 * projects/ and quotas/ through the model (src/core/projects.c, the group
 * and singleton rows) over the fake transport (fake_transport.h): no
 * network, no FUSE. Keystone answers with the captured token and the
 * captured GET /v3/auth/projects plus two more projects; each login's scope
 * is recorded. What is checked is what a user of the mount sees and what
 * it costs: the list (ids, names as links) for one request and no token, a
 * project's tree for one token scoped to it by id, none for the mount's own
 * project, a bounded number kept, no token tried for an application
 * credential, and the quota documents' files.
 */
#include "cloudfs/model.h"
#include "cloudfs/service.h"
#include "fake_transport.h"

/* The captured token's project (keystone-auth-tokens.json) and others. */
#define OWN "7c808b28bded4680839ac3a2f00d8a87"
#define OTHER "3f1d6a9c2b7e4c0d8a5f1e2b3c4d5e6f"
#define THIRD "b2c3d4e5f6a74b8c9d0e1f2a3b4c5d6e"
#define PROJECTS FAKE_KEYSTONE "/auth/projects"

struct pworld {
	struct world *w;
	struct project p;
	char *projects_body;
	char *quota_body;
	struct answer answers[3];
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
	struct pworld *pw = calloc(1, sizeof(*pw));

	assert_non_null(pw);
	pw->w = fake_world_setup_as(appcred);
	pw->projects_body = projects_body();
	pw->quota_body = fixture_read("nova-quota-detail.json", NULL);
	pw->answers[0] = (struct answer){ "GET", PROJECTS, 200, 0, pw->projects_body, 0 };
	pw->answers[1] =
		(struct answer){ "GET", FAKE_NOVA "/os-quota-sets/", 200, 0, pw->quota_body, 0 };
	pw->answers[2] = (struct answer){ "GET",
					  FAKE_NOVA "/servers/detail",
					  200,
					  0,
					  "{\"servers\": [], \"servers_links\": []}",
					  0 };
	script(pw->answers, 3);
	pw->w->cfg.projects_kept = kept;
	assert_int_equal(model_project_init(&pw->p, &pw->w->s, 60000, 2000), 0);
	assert_int_equal(model_project_add_projects(&pw->p), 0);
	fake.logins = 0;
	fake_forget_sent();
	*state = pw;
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
	struct pworld *pw = *state;

	model_project_cleanup(&pw->p);
	fake_world_teardown(pw->w);
	free(pw->projects_body);
	free(pw->quota_body);
	free(pw);
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

static const char *list(struct pworld *w, const char *path, struct names *n)
{
	n->text[0] = '\0';
	assert_int_equal(model_readdir(&w->p, path, add_name, n), 0);
	return n->text;
}

/* ls -l projects/: ids as directories, the one unique name as a link
 * ("demo" is two projects' name: no link), one request, no token. */
static void test_list_costs_one_request_and_no_token(void **state)
{
	struct pworld *w = *state;
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
	assert_int_equal(fake_count("GET", PROJECTS), 1);
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
	struct pworld *w = *state;
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
	struct pworld *w = *state;
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
	struct pworld *w = *state;
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
	struct pworld *w = *state;
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
 * (svc_request_member) is svc_request_extra()'s, the same request on the wire
 * and the same answer, and a failure is the same errno. */
static void test_hook_requests_share_one_path(void **state)
{
	struct pworld *pw = *state;
	struct extra_ctx x = { .project = &pw->p,
			       .coll = collection_find("servers"),
			       .id = "hook-1" };
	struct answer ok = {
		"POST", FAKE_NOVA "/servers/hook-1/action", 200, 0, "{\"ok\": true}", 0
	};
	json_t *body = json_pack("{s:n}", "os-stop"), *answer = NULL;
	const char *text = "{\"os-stop\":null}";
	struct svc_answer a;

	script(&ok, 1);
	fake_forget_sent();
	assert_int_equal(svc_request_member(&x, "POST", "action", NULL, body, &answer), 0);
	assert_true(json_is_true(json_object_get(answer, "ok")));
	assert_int_equal(svc_request_extra(&x, "POST", "/servers/hook-1/action", NULL, text,
					   strlen(text), NULL, &a),
			 0);
	assert_true(json_equal(a.json, answer));
	svc_answer_free(&a);
	assert_int_equal(fake.nsent, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(fake.sent[i].method, "POST");
		assert_string_equal(fake.sent[i].url, FAKE_NOVA "/servers/hook-1/action");
		assert_string_equal(fake.sent[i].body, text);
	}
	json_decref(answer);
	answer = NULL;

	/* Unscripted: Nova's 404. */
	assert_int_equal(svc_request_json(&x, "GET", "/servers/hook-missing", NULL, &answer),
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
