/* SPDX-License-Identifier: MIT */
/*
 * Keystone v3. Layer: above http/errmap, below api. The token is the only
 * shared mutable state; a->lock guards it and is never held across HTTP.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/auth.h"
#include "cloudfs/clock.h"
#include "cloudfs/errmap.h"
#include "cloudfs/http.h"
#include "cloudfs/log.h"

struct auth {
	const struct config *cfg;
	const struct http_transport *transport; /* set before threads start */
	char *tokens_url;
	char *project_id; /* the scope instead of the configured one, or NULL */
	json_t *body; /* first login's body; immutable afterwards */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *token; /* protected by lock (secret) */
	int64_t expires_s; /* protected by lock; wall clock */
	int64_t lifetime_s; /* protected by lock */
	bool refreshing; /* protected by lock */
	unsigned issued; /* protected by lock */
};

void auth_set_transport(struct auth *a, const struct http_transport *t)
{
	a->transport = t;
}

const struct http_transport *auth_transport(const struct auth *a)
{
	return a->transport;
}

struct auth *auth_new(const struct config *cfg)
{
	return auth_new_scoped(cfg, NULL);
}

struct auth *auth_new_scoped(const struct config *cfg, const char *project_id)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->cfg = cfg;
	a->transport = &http_curl;
	a->tokens_url = auth_tokens_url(cfg->auth_url);
	a->project_id = project_id ? strdup(project_id) : NULL;
	if (!a->tokens_url || (project_id && !a->project_id)) {
		free(a->tokens_url);
		free(a->project_id);
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	cfs_free_secret(a->token);
	json_decref(a->body);
	free(a->tokens_url);
	free(a->project_id);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}

char *auth_tokens_url(const char *auth_url)
{
	size_t n = strlen(auth_url);
	char *out = NULL;

	while (n && auth_url[n - 1] == '/')
		n--;
	/* OS_AUTH_URL is written both with and without the /v3. */
	if (n >= 3 && !strncmp(auth_url + n - 3, "/v3", 3))
		n -= 3;
	if (asprintf(&out, "%.*s/v3/auth/tokens", (int)n, auth_url) < 0)
		return NULL;
	return out;
}

char *auth_projects_url(const char *auth_url)
{
	char *tokens = auth_tokens_url(auth_url), *out = NULL;
	size_t n;

	if (!tokens)
		return NULL;
	n = strlen(tokens) - strlen("/tokens");
	if (asprintf(&out, "%.*s/projects", (int)n, tokens) < 0)
		out = NULL;
	free(tokens);
	return out;
}

/* {"name": ...} or {"id": ...} for a domain, or NULL when none is given. */
static json_t *domain_ref(const char *id, const char *name, const char *fb_id, const char *fb_name)
{
	if (id)
		return json_pack("{ss}", "id", id);
	if (name)
		return json_pack("{ss}", "name", name);
	if (fb_id)
		return json_pack("{ss}", "id", fb_id);
	if (fb_name)
		return json_pack("{ss}", "name", fb_name);
	return json_pack("{ss}", "id", "default");
}

static json_t *user_ref(const struct config *c)
{
	if (c->user_id)
		return json_pack("{ss}", "id", c->user_id);
	return json_pack(
		"{ssso}", "name", c->username ? c->username : "", "domain",
		domain_ref(c->user_domain_id, c->user_domain_name, c->domain_id, c->domain_name));
}

static json_t *project_scope(const struct config *c, const char *project_id)
{
	if (project_id)
		return json_pack("{s{ss}}", "project", "id", project_id);
	if (c->project_id)
		return json_pack("{s{ss}}", "project", "id", c->project_id);
	return json_pack("{s{ssso}}", "project", "name", c->project_name, "domain",
			 domain_ref(c->project_domain_id, c->project_domain_name, c->domain_id,
				    c->domain_name));
}

json_t *auth_request_body(const struct config *c)
{
	return auth_request_body_scoped(c, NULL);
}

bool auth_can_rescope(const struct config *c)
{
	return config_auth_method(c) != AUTH_APPCRED;
}

json_t *auth_request_body_scoped(const struct config *c, const char *project_id)
{
	json_t *identity = NULL, *auth;

	switch (config_auth_method(c)) {
	case AUTH_PASSWORD:
		identity = json_pack("{s[s]s{so}}", "methods", "password", "password", "user",
				     user_ref(c));
		if (identity)
			json_object_set_new(
				json_object_get(json_object_get(identity, "password"), "user"),
				"password", json_string(c->password ? c->password : ""));
		break;
	case AUTH_TOKEN:
		identity = json_pack("{s[s]s{ss}}", "methods", "token", "token", "id",
				     c->token ? c->token : "");
		break;
	case AUTH_APPCRED: {
		json_t *ac = c->app_cred_id ? json_pack("{ss}", "id", c->app_cred_id)
					    : json_pack("{ssso}", "name", c->app_cred_name, "user",
							user_ref(c));

		if (ac)
			json_object_set_new(
				ac, "secret",
				json_string(c->app_cred_secret ? c->app_cred_secret : ""));
		identity = json_pack("{s[s]so}", "methods", "application_credential",
				     "application_credential", ac);
		/* An application credential is already scoped to its project
		 * (and cannot be scoped to another: auth_can_rescope()). */
		if (project_id) {
			json_decref(identity);
			return NULL;
		}
		return identity ? json_pack("{s{so}}", "auth", "identity", identity) : NULL;
	}
	}
	if (!identity)
		return NULL;
	auth = json_pack("{s{soso}}", "auth", "identity", identity, "scope",
			 project_scope(c, project_id));
	return auth;
}

/* One POST to Keystone. On 0: *token (secret), *body (new ref), expiry. */
static int login(struct auth *a, char **token, json_t **body, int64_t *expires_s,
		 int64_t *lifetime_s, char *err, size_t errlen)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	const struct config *c = a->cfg;
	struct http_request req = {
		.method = "POST",
		.url = a->tokens_url,
		.headers = hdrs,
		.timeout_ms = (long)(c->timeout_s * 1000),
		.connect_timeout_ms = (long)(c->connect_timeout_s * 1000),
		.max_body = 16u << 20,
		.cacert = c->cacert,
		.insecure = c->insecure && !strcmp(c->insecure, "true"),
	};
	struct http_response resp;
	json_t *reqbody = auth_request_body_scoped(c, a->project_id), *root = NULL;
	char *text = NULL, msg[512];
	int64_t exp = 0, iss = 0;
	int rc;

	http_response_init(&resp);
	if (!reqbody || !(text = json_dumps(reqbody, JSON_COMPACT))) {
		rc = -ENOMEM;
		goto out;
	}
	req.body = text;
	req.body_len = strlen(text);
	rc = a->transport->perform(a->transport, &req, &resp);
	if (rc) {
		snprintf(err, errlen, "cannot reach Keystone at %s: %s", a->tokens_url,
			 resp.errbuf);
		goto out;
	}
	rc = errmap_http(resp.status, resp.body.data);
	if (rc) {
		errmap_cloud_message(resp.body.data, resp.body.len, msg, sizeof(msg));
		/* Only 401/403 are a verdict on the credentials; a 404 says
		 * the auth URL is not Keystone v3's. */
		if (resp.status == 401 || resp.status == 403)
			snprintf(err, errlen,
				 "Keystone refused the credentials (%s): %s (HTTP %ld%s%s)",
				 c->source ? c->source : "?", msg[0] ? msg : "no message",
				 resp.status, resp.request_id[0] ? ", " : "", resp.request_id);
		else
			snprintf(err, errlen,
				 "Keystone at %s (%s) did not issue a token: %s (HTTP %ld%s%s)",
				 a->tokens_url, c->source ? c->source : "?",
				 msg[0] ? msg : "no message", resp.status,
				 resp.request_id[0] ? ", " : "", resp.request_id);
		goto out;
	}
	root = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	if (!root || !resp.subject_token) {
		snprintf(err, errlen, "Keystone at %s answered without a token", a->tokens_url);
		rc = -EPROTO;
		goto out;
	}
	if (clock_parse_iso8601(json_string_value(json_object_get(json_object_get(root, "token"),
								  "expires_at")),
				&exp))
		exp = clock_wall_s() + 3600;
	if (clock_parse_iso8601(
		    json_string_value(json_object_get(json_object_get(root, "token"), "issued_at")),
		    &iss))
		iss = clock_wall_s();
	*token = resp.subject_token;
	resp.subject_token = NULL;
	*body = root;
	root = NULL;
	*expires_s = exp;
	*lifetime_s = exp > iss ? exp - iss : 3600;
out:
	json_decref(reqbody);
	json_decref(root);
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	http_response_free(&resp);
	return rc;
}

int auth_login(struct auth *a, char *err, size_t errlen)
{
	json_t *body = NULL;
	char *token = NULL;
	int64_t exp, life;
	int rc;

	rc = login(a, &token, &body, &exp, &life, err, errlen);
	if (rc)
		return rc;
	if (!json_is_array(json_object_get(json_object_get(body, "token"), "catalog"))) {
		snprintf(err, errlen,
			 "the token has no service catalog (is the project scope right?)");
		cfs_free_secret(token);
		json_decref(body);
		return -EPROTO;
	}
	pthread_mutex_lock(&a->lock);
	cfs_free_secret(a->token);
	a->token = token;
	a->expires_s = exp;
	a->lifetime_s = life;
	a->issued++;
	pthread_mutex_unlock(&a->lock);
	json_decref(a->body);
	a->body = body;
	return 0;
}

/* Renew when less than half the lifetime or ten minutes remain. */
static bool needs_renewal(const struct auth *a)
{
	int64_t margin = a->lifetime_s / 2 < 600 ? a->lifetime_s / 2 : 600;

	return !a->token || clock_wall_s() >= a->expires_s - margin;
}

int auth_token(struct auth *a, char **out)
{
	char err[512], *token = NULL;
	json_t *body = NULL;
	int64_t exp = 0, life = 0;
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	while (a->refreshing)
		pthread_cond_wait(&a->cond, &a->lock);
	if (!needs_renewal(a))
		goto copy;
	a->refreshing = true;
	pthread_mutex_unlock(&a->lock);

	rc = login(a, &token, &body, &exp, &life, err, sizeof(err));
	if (rc)
		log_cloud_error("token renewal failed: %s", err);
	else
		log_info("token renewed; valid for %lld s", (long long)(exp - clock_wall_s()));
	json_decref(body);

	pthread_mutex_lock(&a->lock);
	a->refreshing = false;
	pthread_cond_broadcast(&a->cond);
	if (!rc) {
		cfs_free_secret(a->token);
		a->token = token;
		a->expires_s = exp;
		a->lifetime_s = life;
		a->issued++;
	} else if (a->token && clock_wall_s() < a->expires_s) {
		rc = 0; /* keep using the old one while it lasts */
	}
copy:
	if (!rc) {
		*out = a->token ? strdup(a->token) : NULL;
		rc = *out ? 0 : (a->token ? -ENOMEM : -EACCES);
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void auth_invalidate(struct auth *a, const char *token)
{
	pthread_mutex_lock(&a->lock);
	if (a->token && !strcmp(a->token, token)) {
		cfs_free_secret(a->token);
		a->token = NULL;
	}
	pthread_mutex_unlock(&a->lock);
}

const json_t *auth_token_body(const struct auth *a)
{
	return a->body;
}

const json_t *auth_catalog(const struct auth *a)
{
	if (!a)
		return NULL;
	return json_object_get(json_object_get(a->body, "token"), "catalog");
}

const char *auth_project_id(const struct auth *a)
{
	if (!a)
		return NULL;
	return json_string_value(json_object_get(
		json_object_get(json_object_get(a->body, "token"), "project"), "id"));
}

const char *auth_project_name(const struct auth *a)
{
	if (!a)
		return NULL;
	return json_string_value(json_object_get(
		json_object_get(json_object_get(a->body, "token"), "project"), "name"));
}

const char *auth_user_name(const struct auth *a)
{
	if (!a)
		return NULL;
	return json_string_value(json_object_get(
		json_object_get(json_object_get(a->body, "token"), "user"), "name"));
}

json_t *auth_identity(const struct auth *a)
{
	const json_t *tok = a ? json_object_get(a->body, "token") : NULL;

	/* "O" takes a reference of each; a missing member packs as null. */
	return json_pack("{sOsOsO}", "project", json_object_get(tok, "project") ?: json_null(),
			 "user", json_object_get(tok, "user") ?: json_null(), "roles",
			 json_object_get(tok, "roles") ?: json_null());
}

int64_t auth_expires_in_s(struct auth *a)
{
	int64_t left;

	pthread_mutex_lock(&a->lock);
	left = a->token ? a->expires_s - clock_wall_s() : 0;
	pthread_mutex_unlock(&a->lock);
	return left;
}

unsigned auth_issued_count(struct auth *a)
{
	unsigned n;

	pthread_mutex_lock(&a->lock);
	n = a->issued;
	pthread_mutex_unlock(&a->lock);
	return n;
}
