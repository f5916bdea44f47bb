/* SPDX-License-Identifier: MIT */
/*
 * Credential discovery, as the openstack CLI does it. One table maps every
 * field to its OS_* variable and its clouds.yaml key, so the three sources
 * cannot drift apart. Layer: config; includes yamltree, nothing networked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cloudfs/config.h"
#include "cloudfs/yamltree.h"

struct field {
	const char *env; /* OS_* variable */
	const char *key; /* key under clouds.<name>.auth, or top-level */
	bool in_auth; /* lives under the auth: map in clouds.yaml */
	size_t off; /* offsetof(struct config, ...) */
	bool secret;
};

#define F(env, key, in_auth, member, secret)                               \
	{                                                                  \
		env, key, in_auth, offsetof(struct config, member), secret \
	}

static const struct field fields[] = {
	F("OS_AUTH_URL", "auth_url", true, auth_url, false),
	F("OS_AUTH_TYPE", "auth_type", false, auth_type, false),
	F("OS_USERNAME", "username", true, username, false),
	F("OS_USER_ID", "user_id", true, user_id, false),
	F("OS_PASSWORD", "password", true, password, true),
	F("OS_USER_DOMAIN_NAME", "user_domain_name", true, user_domain_name, false),
	F("OS_USER_DOMAIN_ID", "user_domain_id", true, user_domain_id, false),
	F("OS_PROJECT_NAME", "project_name", true, project_name, false),
	F("OS_PROJECT_ID", "project_id", true, project_id, false),
	F("OS_PROJECT_DOMAIN_NAME", "project_domain_name", true, project_domain_name, false),
	F("OS_PROJECT_DOMAIN_ID", "project_domain_id", true, project_domain_id, false),
	F("OS_DOMAIN_NAME", "domain_name", true, domain_name, false),
	F("OS_DOMAIN_ID", "domain_id", true, domain_id, false),
	F("OS_TOKEN", "token", true, token, true),
	F("OS_APPLICATION_CREDENTIAL_ID", "application_credential_id", true, app_cred_id, false),
	F("OS_APPLICATION_CREDENTIAL_NAME", "application_credential_name", true, app_cred_name,
	  false),
	F("OS_APPLICATION_CREDENTIAL_SECRET", "application_credential_secret", true,
	  app_cred_secret, true),
	F("OS_REGION_NAME", "region_name", false, region, false),
	F("OS_INTERFACE", "interface", false, interface, false),
	F("OS_CACERT", "cacert", false, cacert, false),
	F("OS_INSECURE", "insecure", false, insecure, false),
	/* Older openrc files spell these differently; the CLI still reads them. */
	F("OS_TENANT_NAME", "tenant_name", true, project_name, false),
	F("OS_TENANT_ID", "tenant_id", true, project_id, false),
	F("OS_ENDPOINT_TYPE", "endpoint_type", false, interface, false),
};

static char **field_ptr(struct config *cfg, const struct field *f)
{
	return (char **)((char *)cfg + f->off);
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cache_ttl_s = 5.0;
	cfg->negative_ttl_s = 2.0;
	cfg->timeout_s = 30.0;
	cfg->connect_timeout_s = 5.0;
	cfg->wait_timeout_s = 3600.0;
	cfg->retries = 3;
	cfg->max_entries = CONFIG_MAX_ENTRIES;
	cfg->projects_kept = CONFIG_PROJECTS_KEPT;
	cfg->projects_idle_s = CONFIG_PROJECTS_IDLE_S;
}

void config_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		char **p = field_ptr(cfg, &fields[i]);

		if (fields[i].secret)
			cfs_free_secret(*p);
		else
			free(*p);
		*p = NULL;
	}
	free(cfg->cloud);
	free(cfg->source);
	cfg->cloud = cfg->source = NULL;
}

/* Sets the field unless it already has a value (earlier sources win). */
static int set_if_unset(struct config *cfg, const struct field *f, const char *value)
{
	char **p = field_ptr(cfg, f);

	if (*p || !value || !*value)
		return 0;
	*p = strdup(value);
	return *p ? 0 : -ENOMEM;
}

static const struct field *field_by_key(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fields); i++)
		if (!strcmp(fields[i].key, key))
			return &fields[i];
	return NULL;
}

int config_set(struct config *cfg, const char *key, const char *value)
{
	const struct field *f = field_by_key(key);
	char **p;

	if (!f)
		return -ENOENT;
	p = field_ptr(cfg, f);
	if (f->secret)
		cfs_free_secret(*p);
	else
		free(*p);
	*p = strdup(value);
	return *p ? 0 : -ENOMEM;
}

static int apply_env(struct config *cfg)
{
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		rc = set_if_unset(cfg, &fields[i], getenv(fields[i].env));
		if (rc)
			return rc;
	}
	return 0;
}

static int apply_cloud(struct config *cfg, const struct ynode *cloud)
{
	const struct ynode *auth = ynode_get(cloud, "auth");
	const char *verify = ynode_str(cloud, "verify");
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct ynode *from = fields[i].in_auth ? auth : cloud;

		rc = set_if_unset(cfg, &fields[i], ynode_str(from, fields[i].key));
		if (rc)
			return rc;
	}
	/* clouds.yaml spells "insecure" as "verify: false". */
	const struct field *insecure = field_by_key("insecure");

	if (insecure && verify && (!strcasecmp(verify, "false") || !strcasecmp(verify, "no")))
		return set_if_unset(cfg, insecure, "true");
	return 0;
}

/* The first clouds.yaml/secure.yaml found, in the openstack CLI's order. */
static char *find_file(const char *env, const char *base)
{
	const char *e = getenv(env), *home = getenv("HOME");
	char *path = NULL;

	if (e && *e)
		return strdup(e);
	if (asprintf(&path, "./%s", base) >= 0 && !access(path, R_OK))
		return path;
	free(path);
	path = NULL;
	if (home && asprintf(&path, "%s/.config/openstack/%s", home, base) >= 0 &&
	    !access(path, R_OK))
		return path;
	free(path);
	path = NULL;
	if (asprintf(&path, "/etc/openstack/%s", base) >= 0 && !access(path, R_OK))
		return path;
	free(path);
	return NULL;
}

static int load_cloud_file(struct config *cfg, const char *path, const char *cloud, bool required,
			   char *err, size_t errlen)
{
	struct ynode *doc = NULL;
	const struct ynode *c;
	char yerr[256] = "";
	int rc;

	rc = yamltree_load(path, &doc, yerr, sizeof(yerr));
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, rc == -ENOENT ? "not found" : yerr);
		return rc;
	}
	c = ynode_get(ynode_get(doc, "clouds"), cloud);
	if (!c) {
		if (required) {
			snprintf(err, errlen, "%s: no cloud named '%s'", path, cloud);
			rc = -ENOENT;
		}
		goto out;
	}
	if (c->kind != YNODE_MAP) {
		snprintf(err, errlen, "%s: clouds.%s is not a map", path, cloud);
		rc = -EINVAL;
		goto out;
	}
	rc = apply_cloud(cfg, c);
out:
	ynode_free(doc);
	return rc;
}

int config_load(struct config *cfg, const char *cloud, char *err, size_t errlen)
{
	char *clouds = NULL, *secure = NULL;
	int rc;

	if (!cloud || !*cloud)
		cloud = getenv("OS_CLOUD");
	/* Command-line values are already in cfg; environment comes next. */
	rc = apply_env(cfg);
	if (rc || !cloud || !*cloud) {
		cfg->source = strdup("OS_* environment variables");
		return rc;
	}
	cfg->cloud = strdup(cloud);
	clouds = find_file("OS_CLIENT_CONFIG_FILE", "clouds.yaml");
	secure = find_file("OS_CLIENT_SECURE_FILE", "secure.yaml");
	if (!clouds) {
		snprintf(
			err, errlen,
			"OS_CLOUD=%s but no clouds.yaml found (looked in ./, ~/.config/openstack/, /etc/openstack/)",
			cloud);
		rc = -ENOENT;
		goto out;
	}
	/* secure.yaml holds the secrets and overrides clouds.yaml. */
	if (secure) {
		rc = load_cloud_file(cfg, secure, cloud, false, err, errlen);
		if (rc && rc != -ENOENT)
			goto out;
	}
	rc = load_cloud_file(cfg, clouds, cloud, true, err, errlen);
	if (!rc && asprintf(&cfg->source, "cloud '%s' in %s", cloud, clouds) < 0)
		rc = -ENOMEM;
out:
	free(clouds);
	free(secure);
	return rc;
}

enum auth_method config_auth_method(const struct config *cfg)
{
	const char *t = cfg->auth_type;

	if (t) {
		if (strstr(t, "applicationcredential") || strstr(t, "application_credential"))
			return AUTH_APPCRED;
		if (!strcmp(t, "token") || !strcmp(t, "v3token"))
			return AUTH_TOKEN;
		return AUTH_PASSWORD;
	}
	if (cfg->app_cred_id || cfg->app_cred_name)
		return AUTH_APPCRED;
	if (cfg->token && !cfg->password)
		return AUTH_TOKEN;
	return AUTH_PASSWORD;
}

int config_validate(const struct config *cfg, char *err, size_t errlen)
{
	const char *t = cfg->auth_type;

	if (!cfg->auth_url) {
		snprintf(
			err, errlen,
			"no auth URL: source an openrc file (OS_AUTH_URL) or name a cloud with OS_CLOUD / --os-cloud");
		return -EINVAL;
	}
	if (t && strcmp(t, "password") && strcmp(t, "v3password") && strcmp(t, "token") &&
	    strcmp(t, "v3token") && !strstr(t, "applicationcredential") &&
	    !strstr(t, "application_credential")) {
		snprintf(
			err, errlen,
			"auth type '%s' is not supported (password, token, v3applicationcredential)",
			t);
		return -EINVAL;
	}
	switch (config_auth_method(cfg)) {
	case AUTH_PASSWORD:
		if (!cfg->username && !cfg->user_id) {
			snprintf(err, errlen, "no user: set OS_USERNAME or OS_USER_ID");
			return -EINVAL;
		}
		if (!cfg->password) {
			snprintf(err, errlen, "no password: set OS_PASSWORD");
			return -EINVAL;
		}
		if (!cfg->project_name && !cfg->project_id) {
			snprintf(
				err, errlen,
				"no project: set OS_PROJECT_NAME or OS_PROJECT_ID (cloudfs mounts one project)");
			return -EINVAL;
		}
		break;
	case AUTH_TOKEN:
		if (!cfg->token) {
			snprintf(err, errlen, "auth type token needs OS_TOKEN");
			return -EINVAL;
		}
		if (!cfg->project_name && !cfg->project_id) {
			snprintf(err, errlen, "no project: set OS_PROJECT_NAME or OS_PROJECT_ID");
			return -EINVAL;
		}
		break;
	case AUTH_APPCRED:
		if (!cfg->app_cred_secret || (!cfg->app_cred_id && !cfg->app_cred_name)) {
			snprintf(
				err, errlen,
				"application credential needs OS_APPLICATION_CREDENTIAL_ID (or _NAME) and _SECRET");
			return -EINVAL;
		}
		if (!cfg->app_cred_id && !cfg->username && !cfg->user_id) {
			snprintf(
				err, errlen,
				"an application credential given by name needs OS_USERNAME or OS_USER_ID");
			return -EINVAL;
		}
		break;
	}
	return 0;
}

const char *config_interface(const struct config *cfg)
{
	const char *i = cfg->interface;

	if (!i || !*i)
		return "public";
	if (!strncmp(i, "internal", 8))
		return "internal";
	if (!strncmp(i, "admin", 5))
		return "admin";
	return "public";
}
