/* SPDX-License-Identifier: MIT */
/*
 * Keystone v3 authentication: password, token and application credential,
 * project-scoped. One token shared by every thread; renewed before it
 * expires and once when a service answers 401, by a single thread while the
 * others wait. Layer: above http, below api. Never logs a secret.
 */
#ifndef CLOUDFS_AUTH_H
#define CLOUDFS_AUTH_H

#include <jansson.h>
#include "cloudfs/common.h"
#include "cloudfs/config.h"

struct auth;

/* @cfg is borrowed and must outlive the auth. NULL on -ENOMEM. */
struct auth *auth_new(const struct config *cfg);
/* The same, scoped to project @project_id instead of the configured
 * project (the projects/ view): the configured method, another scope. */
struct auth *auth_new_scoped(const struct config *cfg, const char *project_id);
/* False for application credentials: they are bound to one project. */
bool auth_can_rescope(const struct config *cfg);
void auth_free(struct auth *a);

struct http_transport;
/* The transport every request of this login goes through (the token's and
 * the api layer's): http_curl unless a unit test sets another before
 * auth_login(). Borrowed; it outlives @a. */
void auth_set_transport(struct auth *a, const struct http_transport *t);
const struct http_transport *auth_transport(const struct auth *a);

/*
 * auth_login() - first authentication, before the mount exists
 * Returns 0, or -errno with Keystone's own message in @err (for the terminal).
 */
int auth_login(struct auth *a, char *err, size_t errlen) CFS_WARN_UNUSED;

/*
 * auth_token() - a valid token
 * @out: on 0, a malloc'd copy the caller frees with cfs_free_secret()
 * Renews first when the token is near expiry (or was invalidated).
 * Context: any thread; must hold no other lock (may block on one refresh).
 */
int auth_token(struct auth *a, char **out) CFS_WARN_UNUSED;

/* A service refused @token with 401: renew before the next use, unless
 * another thread already replaced it. */
void auth_invalidate(struct auth *a, const char *token);

/* The first token's body ("token": catalog, project, user, roles...).
 * Borrowed, immutable once auth_login() succeeded. */
const json_t *auth_token_body(const struct auth *a);

/* The first token's service catalog (a JSON array), project id and name:
 * borrowed from auth_token_body(). */
const json_t *auth_catalog(const struct auth *a);
const char *auth_project_id(const struct auth *a);
const char *auth_project_name(const struct auth *a);
/* The user's name in that token; borrowed. */
const char *auth_user_name(const struct auth *a);
/* The token's project, user and roles as one document (what
 * .cloudfs/project shows); a new reference, NULL without memory. */
json_t *auth_identity(const struct auth *a);

/* Seconds until the current token expires (for /.cloudfs/status). */
int64_t auth_expires_in_s(struct auth *a);
/* How many times a token was issued (first login included). */
unsigned auth_issued_count(struct auth *a);

/* Builds the POST /v3/auth/tokens body for @cfg; new reference. Pure. */
json_t *auth_request_body(const struct config *cfg);
/* The same with the scope @project_id (by id) when not NULL; NULL for an
 * application credential asked for another scope. Pure. */
json_t *auth_request_body_scoped(const struct config *cfg, const char *project_id);
/* "<auth_url>/auth/tokens" whatever form auth_url has; malloc'd. Pure. */
char *auth_tokens_url(const char *auth_url);
/* "<auth_url>/v3/auth/projects" (the projects a token can scope to); malloc'd. Pure. */
char *auth_projects_url(const char *auth_url);

#endif
