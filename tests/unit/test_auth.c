/* SPDX-License-Identifier: MIT */
/*
 * The pure parts of Keystone authentication (auth.h): the tokens URL and the
 * POST /v3/auth/tokens body. The expected bodies are the shapes of the
 * Keystone v3 API reference ("Password authentication with scoped
 * authorization", "Token authentication with scoped authorization",
 * "Authenticating with an Application Credential"), and the password one is
 * checked against the request the openstack CLI really sent
 * (keystone-auth-tokens.request).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "cloudfs/auth.h"
#include "unit_fixtures.h"

static void test_tokens_url(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "http://h:5000", "http://h:5000/v3/auth/tokens" },
		{ "http://h:5000/", "http://h:5000/v3/auth/tokens" },
		{ "http://h:5000/v3", "http://h:5000/v3/auth/tokens" },
		{ "http://h:5000/v3/", "http://h:5000/v3/auth/tokens" },
		{ "http://h/identity/v3/", "http://h/identity/v3/auth/tokens" },
		{ "http://h/identity", "http://h/identity/v3/auth/tokens" },
		{ "https://keystone.example.com:443/v3//",
		  "https://keystone.example.com:443/v3/auth/tokens" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = auth_tokens_url(cases[i].in);

		assert_non_null(u);
		if (strcmp(u, cases[i].out))
			fail_msg("auth_tokens_url(\"%s\") = \"%s\", want \"%s\"", cases[i].in, u,
				 cases[i].out);
		free(u);
	}
}

static void test_projects_url(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "http://h:5000", "http://h:5000/v3/auth/projects" },
		{ "http://h/identity/v3/", "http://h/identity/v3/auth/projects" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = auth_projects_url(cases[i].in);

		assert_non_null(u);
		assert_string_equal(u, cases[i].out);
		free(u);
	}
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (!v)
		fail_msg("bad expected JSON: %s\n%s", jerr.text, text);
	return v;
}

static void expect_body(const struct config *cfg, const char *want_text)
{
	json_t *got = auth_request_body(cfg), *want = parse(want_text);

	assert_non_null(got);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);

		fail_msg("auth body\n got: %s\nwant: %s", g, w);
	}
	json_decref(got);
	json_decref(want);
}

/* The body the CLI sent for the captured token, minus the request line and
 * headers of the .request file. */
static void test_password_matches_capture(void **state)
{
	char *req = fixture_read("keystone-auth-tokens.request", NULL);
	const char *brace = strchr(req, '{');
	struct config cfg;

	(void)state;
	assert_non_null(brace);
	config_init(&cfg);
	cfg.auth_url = (char *)"http://127.0.0.1:5000/v3";
	cfg.username = (char *)"demo";
	cfg.password = (char *)"demo";
	cfg.user_domain_name = (char *)"Default";
	cfg.project_name = (char *)"demo";
	cfg.project_domain_name = (char *)"Default";
	expect_body(&cfg, brace);
	free(req);
}

struct body_case {
	const char *what;
	struct config cfg; /* only the credential strings are used */
	const char *want;
};

#define S(x) (char *)(x)

static const struct body_case body_cases[] = {
	{ "password, user by name + domain name, project by name + domain id",
	  { .username = S("alice"),
	    .password = S("pw"),
	    .user_domain_name = S("Users"),
	    .project_name = S("proj"),
	    .project_domain_id = S("d1") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": "
	  "{\"name\": \"alice\", \"domain\": {\"name\": \"Users\"}, \"password\": \"pw\"}}}, "
	  "\"scope\": {\"project\": {\"name\": \"proj\", \"domain\": {\"id\": \"d1\"}}}}}" },
	{ "password, user by id, project by id (no domains needed)",
	  { .user_id = S("uid"),
	    .username = S("ignored"),
	    .password = S("pw"),
	    .user_domain_name = S("ignored"),
	    .project_id = S("pid"),
	    .project_name = S("ignored") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": "
	  "{\"id\": \"uid\", \"password\": \"pw\"}}}, "
	  "\"scope\": {\"project\": {\"id\": \"pid\"}}}}" },
	{ "password, domain id preferred over domain name",
	  { .username = S("u"),
	    .password = S("pw"),
	    .user_domain_id = S("ud"),
	    .user_domain_name = S("ignored"),
	    .project_name = S("p"),
	    .project_domain_name = S("PD") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": "
	  "{\"name\": \"u\", \"domain\": {\"id\": \"ud\"}, \"password\": \"pw\"}}}, "
	  "\"scope\": {\"project\": {\"name\": \"p\", \"domain\": {\"name\": \"PD\"}}}}}" },
	{ "password, OS_DOMAIN_NAME serves both user and project",
	  { .username = S("u"),
	    .password = S("pw"),
	    .domain_name = S("Shared"),
	    .project_name = S("p") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": "
	  "{\"name\": \"u\", \"domain\": {\"name\": \"Shared\"}, \"password\": \"pw\"}}}, "
	  "\"scope\": {\"project\": {\"name\": \"p\", \"domain\": {\"name\": \"Shared\"}}}}}" },
	{ "password, no domain at all: the default domain",
	  { .username = S("u"), .password = S("pw"), .project_name = S("p") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": "
	  "{\"name\": \"u\", \"domain\": {\"id\": \"default\"}, \"password\": \"pw\"}}}, "
	  "\"scope\": {\"project\": {\"name\": \"p\", \"domain\": {\"id\": \"default\"}}}}}" },
	{ "token, project by id",
	  { .token = S("gAAAAB-token"), .project_id = S("pid") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"token\"], \"token\": {\"id\": "
	  "\"gAAAAB-token\"}}, \"scope\": {\"project\": {\"id\": \"pid\"}}}}" },
	{ "token, project by name + domain name",
	  { .auth_type = S("v3token"),
	    .token = S("t"),
	    .project_name = S("p"),
	    .project_domain_name = S("Default") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"token\"], \"token\": {\"id\": \"t\"}}, "
	  "\"scope\": {\"project\": {\"name\": \"p\", \"domain\": {\"name\": \"Default\"}}}}}" },
	/* An application credential is scoped already: a scope is an error. */
	{ "application credential by id",
	  { .auth_type = S("v3applicationcredential"),
	    .app_cred_id = S("acid"),
	    .app_cred_secret = S("acsecret"),
	    .project_name = S("ignored"),
	    .username = S("ignored") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"application_credential\"], "
	  "\"application_credential\": {\"id\": \"acid\", \"secret\": \"acsecret\"}}}}" },
	{ "application credential by name + user name",
	  { .app_cred_name = S("monitoring"),
	    .app_cred_secret = S("s"),
	    .username = S("alice"),
	    .user_domain_name = S("Default") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"application_credential\"], "
	  "\"application_credential\": {\"name\": \"monitoring\", \"secret\": \"s\", "
	  "\"user\": {\"name\": \"alice\", \"domain\": {\"name\": \"Default\"}}}}}}" },
	{ "application credential by name + user id",
	  { .app_cred_name = S("monitoring"), .app_cred_secret = S("s"), .user_id = S("uid") },
	  "{\"auth\": {\"identity\": {\"methods\": [\"application_credential\"], "
	  "\"application_credential\": {\"name\": \"monitoring\", \"secret\": \"s\", "
	  "\"user\": {\"id\": \"uid\"}}}}}" },
};

static void test_request_bodies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		struct config cfg = body_cases[i].cfg;

		print_message("  %s\n", body_cases[i].what);
		expect_body(&cfg, body_cases[i].want);
	}
}

/* The secret is in the body (it must be sent) but the body is built from
 * the config only: no stray fields such as the auth URL. */
static void test_body_has_no_extra_secrets(void **state)
{
	struct config cfg;
	json_t *body;
	char *text;

	(void)state;
	config_init(&cfg);
	cfg.auth_url = S("http://h:5000/v3");
	cfg.token = S("unrelated-token");
	cfg.app_cred_secret = S("unrelated-secret");
	cfg.username = S("u");
	cfg.password = S("pw");
	cfg.project_id = S("p");
	body = auth_request_body(&cfg);
	assert_non_null(body);
	text = json_dumps(body, JSON_COMPACT);
	assert_non_null(strstr(text, "\"pw\""));
	assert_null(strstr(text, "unrelated"));
	assert_null(strstr(text, "http://h"));
	free(text);
	json_decref(body);
}

/* Another project's token: the configured method, the scope by id. */
static void test_scoped_bodies(void **state)
{
	struct config pw = { .username = S("alice"),
			     .password = S("pw"),
			     .user_domain_name = S("Default"),
			     .project_name = S("proj"),
			     .project_domain_name = S("Default") };
	struct config tok = { .token = S("tkn"), .project_name = S("proj") };
	struct config ac = { .app_cred_id = S("acid"), .app_cred_secret = S("s") };
	json_t *b, *want;

	(void)state;
	b = auth_request_body_scoped(&pw, "p2");
	want = parse("{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": "
		     "{\"user\": {\"name\": \"alice\", \"domain\": {\"name\": \"Default\"}, "
		     "\"password\": \"pw\"}}}, \"scope\": {\"project\": {\"id\": \"p2\"}}}}");
	assert_true(json_equal(b, want));
	json_decref(b);
	json_decref(want);
	b = auth_request_body_scoped(&tok, "p2");
	want = parse("{\"auth\": {\"identity\": {\"methods\": [\"token\"], \"token\": "
		     "{\"id\": \"tkn\"}}, \"scope\": {\"project\": {\"id\": \"p2\"}}}}");
	assert_true(json_equal(b, want));
	json_decref(b);
	json_decref(want);
	/* an application credential cannot be scoped elsewhere */
	assert_true(auth_can_rescope(&pw));
	assert_true(auth_can_rescope(&tok));
	assert_false(auth_can_rescope(&ac));
	assert_null(auth_request_body_scoped(&ac, "p2"));
	b = auth_request_body_scoped(&ac, NULL);
	assert_non_null(b);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_url),
		cmocka_unit_test(test_projects_url),
		cmocka_unit_test(test_scoped_bodies),
		cmocka_unit_test(test_password_matches_capture),
		cmocka_unit_test(test_request_bodies),
		cmocka_unit_test(test_body_has_no_extra_secrets),
	};

	return cmocka_run_group_tests_name("test_auth", tests, NULL, NULL);
}
