/* SPDX-License-Identifier: MIT */
/* YAML trees (yamltree.h) and credential discovery (config.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cloudfs/config.h"
#include "cloudfs/yamltree.h"

/* ---- yamltree ---------------------------------------------------------- */

static struct ynode *parse_ok(const char *text)
{
	struct ynode *n = NULL;
	char err[256] = "";
	int rc = yamltree_parse(text, strlen(text), &n, err, sizeof(err));

	if (rc)
		fail_msg("yamltree_parse failed (%d): %s\n---\n%s", rc, err, text);
	assert_non_null(n);
	return n;
}

static void test_yaml_map(void **state)
{
	struct ynode *n = parse_ok("a: 1\nb: hello world\nc: 'quoted: yes'\nd:\n");

	(void)state;
	assert_int_equal(n->kind, YNODE_MAP);
	assert_int_equal(n->n, 4);
	assert_string_equal(ynode_str(n, "a"), "1");
	assert_string_equal(ynode_str(n, "b"), "hello world");
	assert_string_equal(ynode_str(n, "c"), "quoted: yes");
	/* "d:" with no value is an empty scalar, present but empty. */
	assert_non_null(ynode_get(n, "d"));
	assert_string_equal(ynode_str(n, "d"), "");
	assert_null(ynode_get(n, "e"));
	assert_null(ynode_str(n, "e"));
	ynode_free(n);
}

static void test_yaml_nested(void **state)
{
	struct ynode *n = parse_ok("clouds:\n"
				   "  devstack:\n"
				   "    auth:\n"
				   "      auth_url: http://h:5000/v3\n"
				   "      username: demo\n"
				   "    region_name: RegionOne\n"
				   "  other: {auth: {username: x}}\n");
	const struct ynode *clouds, *dev, *auth;

	(void)state;
	clouds = ynode_get(n, "clouds");
	assert_non_null(clouds);
	assert_int_equal(clouds->kind, YNODE_MAP);
	assert_int_equal(clouds->n, 2);
	dev = ynode_get(clouds, "devstack");
	auth = ynode_get(dev, "auth");
	assert_string_equal(ynode_str(auth, "auth_url"), "http://h:5000/v3");
	assert_string_equal(ynode_str(auth, "username"), "demo");
	assert_string_equal(ynode_str(dev, "region_name"), "RegionOne");
	/* A map is not a scalar. */
	assert_null(ynode_str(dev, "auth"));
	assert_string_equal(ynode_str(ynode_get(ynode_get(clouds, "other"), "auth"), "username"),
			    "x");
	/* Lookups through missing or non-map nodes are NULL, not crashes. */
	assert_null(ynode_get(ynode_get(n, "nope"), "x"));
	assert_null(ynode_get(ynode_get(auth, "username"), "x"));
	ynode_free(n);
}

static void test_yaml_sequence(void **state)
{
	struct ynode *n = parse_ok("regions:\n  - RegionOne\n  - RegionTwo\nflow: [a, {b: c}]\n");
	const struct ynode *r, *f;

	(void)state;
	r = ynode_get(n, "regions");
	assert_non_null(r);
	assert_int_equal(r->kind, YNODE_SEQ);
	assert_int_equal(r->n, 2);
	assert_null(r->keys);
	assert_int_equal(r->items[0]->kind, YNODE_SCALAR);
	assert_string_equal(r->items[0]->scalar, "RegionOne");
	assert_string_equal(r->items[1]->scalar, "RegionTwo");
	/* A sequence is neither a scalar nor a map. */
	assert_null(ynode_str(n, "regions"));
	assert_null(ynode_get(r, "RegionOne"));
	f = ynode_get(n, "flow");
	assert_int_equal(f->kind, YNODE_SEQ);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->items[1]->kind, YNODE_MAP);
	assert_string_equal(ynode_str(f->items[1], "b"), "c");
	ynode_free(n);
}

static void test_yaml_empty(void **state)
{
	static const char *const empties[] = {
		"", "\n", "# only a comment\n", "---\n", "--- # x\n...\n", "~\n"
	};

	(void)state;
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		struct ynode *n = parse_ok(empties[i]);

		assert_int_equal(n->kind, YNODE_MAP);
		assert_int_equal(n->n, 0);
		assert_null(ynode_get(n, "clouds"));
		ynode_free(n);
	}
}

/* The input is not NUL-terminated: only @len bytes count. */
static void test_yaml_len(void **state)
{
	const char text[] = "a: 1\nb: 2\n";
	struct ynode *n = NULL;
	char err[128];

	(void)state;
	assert_int_equal(yamltree_parse(text, 5, &n, err, sizeof(err)), 0);
	assert_int_equal(n->n, 1);
	assert_string_equal(ynode_str(n, "a"), "1");
	assert_null(ynode_get(n, "b"));
	ynode_free(n);
}

struct yaml_err_case {
	const char *text;
	const char *prefix; /* err must start with this */
	const char *word; /* and contain this */
};

static const struct yaml_err_case yaml_err_cases[] = {
	{ "a: 1\nb: 2\nc: d: e\n", "line 3: ", "mapping values" },
	{ "a: 1\nb: [1, 2\nc: 3\n", "line ", "" },
	{ "base: &b {x: 1}\nother: *b\n", "line 2: ", "alias" },
	{ "- a\n- b\n", "line 1: ", "not a map" },
	{ "just a scalar\n", "line 1: ", "not a map" },
	{ "? [k]\n: v\n", "line 1: ", "keys" },
	{ "a:\n  b: 1\n c: 2\n", "line 3: ", "" },
	{ "a: \"unterminated\n", "line ", "" },
};

static void test_yaml_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(yaml_err_cases) / sizeof(yaml_err_cases[0]); i++) {
		const struct yaml_err_case *c = &yaml_err_cases[i];
		struct ynode *n = NULL;
		char err[256] = "";
		unsigned line = 0;
		int rc = yamltree_parse(c->text, strlen(c->text), &n, err, sizeof(err));

		if (rc != -EINVAL)
			fail_msg("case %zu: rc %d, want -EINVAL\n%s", i, rc, c->text);
		assert_null(n);
		if (strncmp(err, c->prefix, strlen(c->prefix)) || !strstr(err, c->word))
			fail_msg("case %zu: message \"%s\", want \"%s...%s...\"", i, err, c->prefix,
				 c->word);
		/* Always a 1-based line number within the text. */
		assert_int_equal(sscanf(err, "line %u:", &line), 1);
		assert_true(line >= 1 && line <= 4);
	}
}

static void test_yaml_too_deep(void **state)
{
	char text[256];
	struct ynode *n = NULL;
	char err[256] = "";
	size_t o = 0;

	(void)state;
	o += (size_t)snprintf(text + o, sizeof(text) - o, "a: ");
	for (int i = 0; i < 100; i++)
		text[o++] = '[';
	for (int i = 0; i < 100; i++)
		text[o++] = ']';
	text[o] = '\0';
	assert_int_equal(yamltree_parse(text, o, &n, err, sizeof(err)), -EINVAL);
	assert_null(n);
	assert_non_null(strstr(err, "deep"));
}

/* ---- config_load: temp files and OS_* variables ---------------------------- */

static char tmpdir[256];

static const char *const os_vars[] = {
	"OS_CLOUD",
	"OS_CLIENT_CONFIG_FILE",
	"OS_CLIENT_SECURE_FILE",
	"OS_AUTH_URL",
	"OS_AUTH_TYPE",
	"OS_USERNAME",
	"OS_USER_ID",
	"OS_PASSWORD",
	"OS_USER_DOMAIN_NAME",
	"OS_USER_DOMAIN_ID",
	"OS_PROJECT_NAME",
	"OS_PROJECT_ID",
	"OS_PROJECT_DOMAIN_NAME",
	"OS_PROJECT_DOMAIN_ID",
	"OS_DOMAIN_NAME",
	"OS_DOMAIN_ID",
	"OS_TOKEN",
	"OS_APPLICATION_CREDENTIAL_ID",
	"OS_APPLICATION_CREDENTIAL_NAME",
	"OS_APPLICATION_CREDENTIAL_SECRET",
	"OS_REGION_NAME",
	"OS_INTERFACE",
	"OS_CACERT",
	"OS_INSECURE",
	"OS_TENANT_NAME",
	"OS_TENANT_ID",
	"OS_ENDPOINT_TYPE",
};

static const char clouds_yaml[] = "clouds:\n"
				  "  mycloud:\n"
				  "    auth:\n"
				  "      auth_url: https://keystone.example:5000/v3\n"
				  "      username: alice\n"
				  "      password: from-clouds-yaml\n"
				  "      project_name: proj\n"
				  "      user_domain_name: Default\n"
				  "      project_domain_id: default\n"
				  "    region_name: RegionTwo\n"
				  "    interface: internal\n"
				  "    verify: false\n"
				  "  other:\n"
				  "    auth:\n"
				  "      auth_url: http://other:5000\n"
				  "      username: bob\n"
				  "      password: other-password\n"
				  "      tenant_name: legacy-project\n"
				  "    region_name: RegionOne\n"
				  "    verify: true\n"
				  "  appcred:\n"
				  "    auth_type: v3applicationcredential\n"
				  "    auth:\n"
				  "      auth_url: http://h:5000/v3\n"
				  "      application_credential_id: ac-id\n"
				  "      application_credential_secret: ac-secret\n";

static const char secure_yaml[] = "clouds:\n"
				  "  mycloud:\n"
				  "    auth:\n"
				  "      password: s3cret\n";

static char *tmp_path(const char *name)
{
	static char path[3][512];
	static int next;
	char *p = path[next++ % 3];

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(tmp_path(name), "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cloudfs-test-config-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	write_file("clouds.yaml", clouds_yaml);
	write_file("secure.yaml", secure_yaml);
	write_file("broken.yaml", "clouds:\n  x: [\n");
	return 0;
}

static int group_teardown(void **state)
{
	static const char *const files[] = { "clouds.yaml", "secure.yaml", "broken.yaml" };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(tmp_path(files[i]));
	rmdir(tmpdir);
	return 0;
}

/* Every test starts from a clean environment: no OS_* variable, HOME in the
 * temp directory (so no real ~/.config/openstack is read), and both files
 * pointed at explicitly. */
static int env_setup(void **state)
{
	struct config *cfg = malloc(sizeof(*cfg));

	for (size_t i = 0; i < sizeof(os_vars) / sizeof(os_vars[0]); i++)
		unsetenv(os_vars[i]);
	setenv("HOME", tmpdir, 1);
	setenv("OS_CLIENT_CONFIG_FILE", tmp_path("clouds.yaml"), 1);
	setenv("OS_CLIENT_SECURE_FILE", tmp_path("secure.yaml"), 1);
	if (!cfg)
		return -1;
	config_init(cfg);
	*state = cfg;
	return 0;
}

static int env_teardown(void **state)
{
	struct config *cfg = *state;

	config_free(cfg);
	free(cfg);
	return 0;
}

static void load_ok(struct config *cfg, const char *cloud)
{
	char err[512] = "";
	int rc = config_load(cfg, cloud, err, sizeof(err));

	if (rc)
		fail_msg("config_load(%s) = %d: %s", cloud ? cloud : "NULL", rc, err);
}

static void test_load_os_cloud(void **state)
{
	struct config *cfg = *state;
	char err[256];

	setenv("OS_CLOUD", "mycloud", 1);
	load_ok(cfg, NULL);
	assert_string_equal(cfg->cloud, "mycloud");
	assert_string_equal(cfg->auth_url, "https://keystone.example:5000/v3");
	assert_string_equal(cfg->username, "alice");
	assert_string_equal(cfg->project_name, "proj");
	assert_string_equal(cfg->user_domain_name, "Default");
	assert_string_equal(cfg->project_domain_id, "default");
	assert_string_equal(cfg->region, "RegionTwo");
	assert_string_equal(config_interface(cfg), "internal");
	assert_null(cfg->project_id);
	assert_null(cfg->token);
	/* secure.yaml holds the password and wins over clouds.yaml. */
	assert_string_equal(cfg->password, "s3cret");
	/* verify: false */
	assert_non_null(cfg->insecure);
	assert_string_equal(cfg->insecure, "true");
	assert_non_null(cfg->source);
	assert_non_null(strstr(cfg->source, "mycloud"));
	assert_int_equal(config_auth_method(cfg), AUTH_PASSWORD);
	assert_int_equal(config_validate(cfg, err, sizeof(err)), 0);
}

/* The cloud argument (--os-cloud) wins over $OS_CLOUD. */
static void test_load_cloud_argument(void **state)
{
	struct config *cfg = *state;

	setenv("OS_CLOUD", "mycloud", 1);
	load_ok(cfg, "other");
	assert_string_equal(cfg->cloud, "other");
	assert_string_equal(cfg->auth_url, "http://other:5000");
	assert_string_equal(cfg->username, "bob");
	/* secure.yaml has nothing for "other": clouds.yaml's password. */
	assert_string_equal(cfg->password, "other-password");
	/* tenant_name is the old spelling of project_name. */
	assert_string_equal(cfg->project_name, "legacy-project");
	/* verify: true is not insecure. */
	assert_true(!cfg->insecure || strcmp(cfg->insecure, "true"));
	assert_string_equal(config_interface(cfg), "public");
}

static void test_load_no_secure_file(void **state)
{
	struct config *cfg = *state;

	setenv("OS_CLIENT_SECURE_FILE", tmp_path("absent-secure.yaml"), 1);
	load_ok(cfg, "mycloud");
	assert_string_equal(cfg->password, "from-clouds-yaml");
}

static void test_load_env_overrides_clouds_yaml(void **state)
{
	struct config *cfg = *state;

	setenv("OS_CLOUD", "mycloud", 1);
	setenv("OS_USERNAME", "envuser", 1);
	setenv("OS_REGION_NAME", "RegionEnv", 1);
	setenv("OS_INTERFACE", "admin", 1);
	setenv("OS_PASSWORD", "envpass", 1);
	setenv("OS_PROJECT_NAME", "", 1); /* empty means unset, as in the CLI */
	load_ok(cfg, NULL);
	assert_string_equal(cfg->username, "envuser");
	assert_string_equal(cfg->region, "RegionEnv");
	assert_string_equal(config_interface(cfg), "admin");
	assert_string_equal(cfg->password, "envpass");
	/* Untouched fields still come from the file. */
	assert_string_equal(cfg->project_name, "proj");
	assert_string_equal(cfg->auth_url, "https://keystone.example:5000/v3");
}

static void test_load_command_line_overrides_env(void **state)
{
	struct config *cfg = *state;

	setenv("OS_CLOUD", "mycloud", 1);
	setenv("OS_USERNAME", "envuser", 1);
	setenv("OS_REGION_NAME", "RegionEnv", 1);
	assert_int_equal(config_set(cfg, "username", "cliuser"), 0);
	assert_int_equal(config_set(cfg, "region_name", "RegionCli"), 0);
	assert_int_equal(config_set(cfg, "password", "clipass"), 0);
	load_ok(cfg, NULL);
	assert_string_equal(cfg->username, "cliuser");
	assert_string_equal(cfg->region, "RegionCli");
	assert_string_equal(cfg->password, "clipass");
	assert_string_equal(cfg->project_name, "proj");
}

static void test_load_env_only(void **state)
{
	struct config *cfg = *state;

	setenv("OS_AUTH_URL", "http://env:5000/v3", 1);
	setenv("OS_USERNAME", "u", 1);
	setenv("OS_PASSWORD", "p", 1);
	setenv("OS_TENANT_NAME", "tenant", 1);
	setenv("OS_TENANT_ID", "tenant-id", 1);
	setenv("OS_ENDPOINT_TYPE", "internalURL", 1);
	setenv("OS_INSECURE", "true", 1);
	load_ok(cfg, NULL);
	assert_null(cfg->cloud);
	assert_string_equal(cfg->auth_url, "http://env:5000/v3");
	assert_string_equal(cfg->project_name, "tenant");
	assert_string_equal(cfg->project_id, "tenant-id");
	assert_string_equal(config_interface(cfg), "internal");
	assert_string_equal(cfg->insecure, "true");
	assert_non_null(cfg->source);
	assert_non_null(strstr(cfg->source, "OS_"));
}

/* The current spelling wins over the old one. */
static void test_load_tenant_alias_precedence(void **state)
{
	struct config *cfg = *state;

	setenv("OS_TENANT_NAME", "old", 1);
	setenv("OS_PROJECT_NAME", "new", 1);
	setenv("OS_ENDPOINT_TYPE", "adminURL", 1);
	setenv("OS_INTERFACE", "public", 1);
	load_ok(cfg, NULL);
	assert_string_equal(cfg->project_name, "new");
	assert_string_equal(config_interface(cfg), "public");
}

static void test_load_unknown_cloud(void **state)
{
	struct config *cfg = *state;
	char err[512] = "";

	setenv("OS_CLOUD", "nosuchcloud", 1);
	assert_int_equal(config_load(cfg, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nosuchcloud"));
}

static void test_load_missing_file(void **state)
{
	struct config *cfg = *state;
	char err[512] = "";
	const char *path = tmp_path("absent-clouds.yaml");

	setenv("OS_CLIENT_CONFIG_FILE", path, 1);
	assert_int_equal(config_load(cfg, "mycloud", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
}

/* No OS_CLIENT_CONFIG_FILE and no clouds.yaml anywhere (HOME is empty). */
static void test_load_no_file_anywhere(void **state)
{
	struct config *cfg = *state;
	char err[512] = "";

	if (!access("clouds.yaml", F_OK) || !access("/etc/openstack/clouds.yaml", F_OK))
		skip();
	unsetenv("OS_CLIENT_CONFIG_FILE");
	assert_int_equal(config_load(cfg, "mycloud", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "clouds.yaml"));
	assert_non_null(strstr(err, "mycloud"));
}

static void test_load_broken_file(void **state)
{
	struct config *cfg = *state;
	char err[512] = "";

	setenv("OS_CLIENT_CONFIG_FILE", tmp_path("broken.yaml"), 1);
	assert_int_equal(config_load(cfg, "x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "broken.yaml"));
	assert_non_null(strstr(err, "line "));
}

static void test_yaml_load(void **state)
{
	struct ynode *n = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(yamltree_load(tmp_path("clouds.yaml"), &n, err, sizeof(err)), 0);
	assert_non_null(ynode_get(ynode_get(n, "clouds"), "mycloud"));
	ynode_free(n);
	n = NULL;
	assert_int_equal(yamltree_load(tmp_path("absent.yaml"), &n, err, sizeof(err)), -ENOENT);
	assert_null(n);
	/* A directory cannot be read: an error, not an empty document. */
	err[0] = '\0';
	assert_true(yamltree_load(tmpdir, &n, err, sizeof(err)) < 0);
	assert_null(n);
	assert_true(err[0] != '\0');
}

/* A secure.yaml path that cannot be read is reported, not skipped. */
static void test_load_unreadable_secure_file(void **state)
{
	struct config *cfg = *state;
	char err[512] = "";

	setenv("OS_CLIENT_SECURE_FILE", tmpdir, 1);
	assert_true(config_load(cfg, "mycloud", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, tmpdir));
}

static void test_load_appcred_cloud(void **state)
{
	struct config *cfg = *state;
	char err[256];

	load_ok(cfg, "appcred");
	assert_string_equal(cfg->auth_type, "v3applicationcredential");
	assert_string_equal(cfg->app_cred_id, "ac-id");
	assert_string_equal(cfg->app_cred_secret, "ac-secret");
	assert_int_equal(config_auth_method(cfg), AUTH_APPCRED);
	assert_int_equal(config_validate(cfg, err, sizeof(err)), 0);
}

static void test_config_set(void **state)
{
	struct config *cfg = *state;

	assert_int_equal(config_set(cfg, "no_such_key", "x"), -ENOENT);
	assert_int_equal(config_set(cfg, "tenant_name", "t"), 0);
	assert_string_equal(cfg->project_name, "t");
	/* Setting twice replaces. */
	assert_int_equal(config_set(cfg, "project_name", "p"), 0);
	assert_string_equal(cfg->project_name, "p");
	assert_int_equal(config_set(cfg, "application_credential_secret", "s"), 0);
	assert_string_equal(cfg->app_cred_secret, "s");
}

/* ---- pure helpers ------------------------------------------------------ */

struct method_case {
	const char *auth_type;
	const char *password, *token, *app_cred_id, *app_cred_name;
	enum auth_method want;
};

static const struct method_case method_cases[] = {
	{ "password", NULL, NULL, NULL, NULL, AUTH_PASSWORD },
	{ "v3password", NULL, "tok", NULL, NULL, AUTH_PASSWORD },
	{ "token", "pw", NULL, NULL, NULL, AUTH_TOKEN },
	{ "v3token", NULL, "tok", NULL, NULL, AUTH_TOKEN },
	{ "v3applicationcredential", NULL, NULL, NULL, NULL, AUTH_APPCRED },
	{ "applicationcredential", NULL, NULL, NULL, NULL, AUTH_APPCRED },
	{ "v3application_credential", NULL, NULL, NULL, NULL, AUTH_APPCRED },
	/* No auth_type: inferred from what is there. */
	{ NULL, "pw", NULL, NULL, NULL, AUTH_PASSWORD },
	{ NULL, NULL, "tok", NULL, NULL, AUTH_TOKEN },
	{ NULL, "pw", "tok", NULL, NULL, AUTH_PASSWORD },
	{ NULL, NULL, NULL, "acid", NULL, AUTH_APPCRED },
	{ NULL, "pw", NULL, NULL, "acname", AUTH_APPCRED },
	{ NULL, NULL, NULL, NULL, NULL, AUTH_PASSWORD },
};

static void test_auth_method(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(method_cases) / sizeof(method_cases[0]); i++) {
		const struct method_case *m = &method_cases[i];
		struct config cfg;

		config_init(&cfg);
		cfg.auth_type = (char *)m->auth_type;
		cfg.password = (char *)m->password;
		cfg.token = (char *)m->token;
		cfg.app_cred_id = (char *)m->app_cred_id;
		cfg.app_cred_name = (char *)m->app_cred_name;
		if (config_auth_method(&cfg) != m->want)
			fail_msg("case %zu (auth_type %s): method %d, want %d", i,
				 m->auth_type ? m->auth_type : "NULL", config_auth_method(&cfg),
				 m->want);
	}
}

struct validate_case {
	const char *auth_url, *auth_type, *username, *user_id, *password, *project_name,
		*project_id, *token, *ac_id, *ac_name, *ac_secret;
	const char *msg; /* NULL: valid; else a word the message must hold */
};

static const struct validate_case validate_cases[] = {
	{ "http://h", NULL, "u", NULL, "p", "proj", NULL, NULL, NULL, NULL, NULL, NULL },
	{ "http://h", "password", NULL, "uid", "p", NULL, "pid", NULL, NULL, NULL, NULL, NULL },
	{ NULL, NULL, "u", NULL, "p", "proj", NULL, NULL, NULL, NULL, NULL, "OS_AUTH_URL" },
	{ "http://h", "v3oidcpassword", "u", NULL, "p", "proj", NULL, NULL, NULL, NULL, NULL,
	  "v3oidcpassword" },
	{ "http://h", NULL, NULL, NULL, "p", "proj", NULL, NULL, NULL, NULL, NULL, "OS_USERNAME" },
	{ "http://h", NULL, "u", NULL, NULL, "proj", NULL, NULL, NULL, NULL, NULL, "OS_PASSWORD" },
	{ "http://h", NULL, "u", NULL, "p", NULL, NULL, NULL, NULL, NULL, NULL, "OS_PROJECT_NAME" },
	{ "http://h", "token", NULL, NULL, NULL, "proj", NULL, NULL, NULL, NULL, NULL, "OS_TOKEN" },
	{ "http://h", NULL, NULL, NULL, NULL, NULL, NULL, "tok", NULL, NULL, NULL, "OS_PROJECT" },
	{ "http://h", NULL, NULL, NULL, NULL, NULL, "pid", "tok", NULL, NULL, NULL, NULL },
	/* Application credentials carry their own scope: no project needed. */
	{ "http://h", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "acid", NULL, "s", NULL },
	{ "http://h", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "acid", NULL, NULL, "_SECRET" },
	{ "http://h", "v3applicationcredential", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "s", "APPLICATION_CREDENTIAL_ID" },
	{ "http://h", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "acname", "s",
	  "OS_USERNAME" },
	{ "http://h", NULL, "u", NULL, NULL, NULL, NULL, NULL, NULL, "acname", "s", NULL },
};

static void test_validate(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(validate_cases) / sizeof(validate_cases[0]); i++) {
		const struct validate_case *v = &validate_cases[i];
		struct config cfg;
		char err[512] = "";
		int rc;

		config_init(&cfg);
		cfg.auth_url = (char *)v->auth_url;
		cfg.auth_type = (char *)v->auth_type;
		cfg.username = (char *)v->username;
		cfg.user_id = (char *)v->user_id;
		cfg.password = (char *)v->password;
		cfg.project_name = (char *)v->project_name;
		cfg.project_id = (char *)v->project_id;
		cfg.token = (char *)v->token;
		cfg.app_cred_id = (char *)v->ac_id;
		cfg.app_cred_name = (char *)v->ac_name;
		cfg.app_cred_secret = (char *)v->ac_secret;
		rc = config_validate(&cfg, err, sizeof(err));
		if (!v->msg) {
			if (rc)
				fail_msg("case %zu: want valid, got %d: %s", i, rc, err);
			continue;
		}
		if (rc != -EINVAL || !strstr(err, v->msg))
			fail_msg("case %zu: got %d \"%s\", want -EINVAL mentioning %s", i, rc, err,
				 v->msg);
	}
}

static void test_interface(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ NULL, "public" },	    { "", "public" },
		{ "public", "public" },	    { "publicURL", "public" },
		{ "internal", "internal" }, { "internalURL", "internal" },
		{ "admin", "admin" },	    { "adminURL", "admin" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;

		config_init(&cfg);
		cfg.interface = (char *)cases[i].in;
		assert_string_equal(config_interface(&cfg), cases[i].out);
	}
}

static void test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	assert_null(cfg.auth_url);
	assert_true(cfg.cache_ttl_s > 0);
	assert_true(cfg.negative_ttl_s > 0);
	assert_true(cfg.timeout_s > 0);
	assert_true(cfg.retries >= 0);
	config_free(&cfg);
}

#define ENV_TEST(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_map),
		cmocka_unit_test(test_yaml_nested),
		cmocka_unit_test(test_yaml_sequence),
		cmocka_unit_test(test_yaml_empty),
		cmocka_unit_test(test_yaml_len),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_yaml_too_deep),
		ENV_TEST(test_load_os_cloud),
		ENV_TEST(test_load_cloud_argument),
		ENV_TEST(test_load_no_secure_file),
		ENV_TEST(test_load_env_overrides_clouds_yaml),
		ENV_TEST(test_load_command_line_overrides_env),
		ENV_TEST(test_load_env_only),
		ENV_TEST(test_load_tenant_alias_precedence),
		ENV_TEST(test_load_unknown_cloud),
		ENV_TEST(test_load_missing_file),
		ENV_TEST(test_load_no_file_anywhere),
		ENV_TEST(test_load_broken_file),
		ENV_TEST(test_load_appcred_cloud),
		ENV_TEST(test_yaml_load),
		ENV_TEST(test_load_unreadable_secure_file),
		ENV_TEST(test_config_set),
		cmocka_unit_test(test_auth_method),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_interface),
		cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests_name("test_config", tests, group_setup, group_teardown);
}
