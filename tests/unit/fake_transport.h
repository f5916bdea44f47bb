/* SPDX-License-Identifier: MIT */
/*
 * A fake transport (http.h's struct http_transport) for the unit tests: no
 * network, no FUSE. It answers Keystone with the captured token
 * (keystone-auth-tokens.json, its expiry moved into the future: logins
 * count and each gets a new token, "tok-N", its scope recorded), every
 * other request from a
 * script of answers matched by method and URL prefix (a status and body, or
 * a transport failure), and records what was sent (method, URL, token,
 * body). An unscripted request is Nova's 404. Header-only and static like
 * unit_fixtures.h; the one fake of every unit test program that talks to a
 * cloud (the tests are single-threaded).
 *
 * fake_world_setup() logs in through it and builds the session from the
 * token's catalog, so a test reaches api.c, the model and the core's open
 * files exactly as the mount does.
 */
#ifndef CLOUDFS_FAKE_TRANSPORT_H
#define CLOUDFS_FAKE_TRANSPORT_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "unit_fixtures.h"

#define FAKE_NOVA "http://127.0.0.1:8774/v2.1"
#define FAKE_KEYSTONE "http://127.0.0.1:5000/v3"
#define FAKE_MAX_SENT 64

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
	char body[1024];
};

struct fake {
	struct http_transport t; /* first: the transport is the fake */
	struct answer *answers;
	size_t nanswers;
	int used[64]; /* by answer */
	struct sent sent[FAKE_MAX_SENT];
	size_t nsent;
	unsigned logins;
	/* Each login's scope: the project id asked for, "" when by name (the
	 * last 8, by login number modulo 8). */
	char scopes[8][64];
	char *token_body; /* the captured token, valid for another hour */
};

static struct fake fake __attribute__((unused));

static inline int fake_perform(const struct http_transport *t, const struct http_request *req,
			       struct http_response *resp)
{
	struct fake *f = (struct fake *)t;
	struct sent *s = &f->sent[f->nsent < FAKE_MAX_SENT ? f->nsent++ : FAKE_MAX_SENT - 1];

	snprintf(s->method, sizeof(s->method), "%s", req->method);
	snprintf(s->url, sizeof(s->url), "%s", req->url);
	snprintf(s->token, sizeof(s->token), "%s", req->token ? req->token : "");
	snprintf(s->body, sizeof(s->body), "%.*s", req->body ? (int)req->body_len : 0,
		 req->body ? req->body : "");
	buf_reset(&resp->body);
	resp->status = 0;
	resp->retry_after_s = -1;
	resp->request_id[0] = '\0';
	/* As OpenStack labels its answers (api_send() parses only JSON). */
	snprintf(resp->content_type, sizeof(resp->content_type), "application/json");
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

/* Answers from now on from @answers (@n of them; kept by the caller). */
static inline void script(struct answer *answers, size_t n)
{
	fake.answers = answers;
	fake.nanswers = n;
	memset(fake.used, 0, sizeof(fake.used));
}

/* Forgets what was sent so far. */
static inline void fake_forget_sent(void)
{
	fake.nsent = 0;
}

/* How many requests were sent with @method (NULL: any) to a URL that
 * starts with @url_prefix (NULL: any). */
static inline size_t fake_count(const char *method, const char *url_prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < fake.nsent; i++)
		if ((!method || !strcmp(fake.sent[i].method, method)) &&
		    (!url_prefix || !strncmp(fake.sent[i].url, url_prefix, strlen(url_prefix))))
			n++;
	return n;
}

/* A session logged in through the fake: the config, its auth, the
 * session whose endpoints come from the captured token's catalog. */
struct world {
	struct config cfg;
	struct auth *auth;
	struct session s;
};

/* @appcred: an application credential's login (it cannot be scoped to
 * another project), else a user's and password's. */
static inline struct world *fake_world_setup_as(bool appcred)
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
	assert_int_equal(config_set(&w->cfg, "auth_url", FAKE_KEYSTONE), 0);
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
	w->auth = auth_new(&w->cfg);
	assert_non_null(w->auth);
	auth_set_transport(w->auth, &fake.t);
	assert_int_equal(auth_login(w->auth, err, sizeof(err)), 0);
	assert_int_equal(session_init(&w->s, &w->cfg, w->auth, err, sizeof(err)), 0);
	fake.nsent = 0;
	return w;
}

static inline struct world *fake_world_setup(void)
{
	return fake_world_setup_as(false);
}

static inline void fake_world_teardown(struct world *w)
{
	session_cleanup(&w->s);
	auth_free(w->auth);
	config_free(&w->cfg);
	free(fake.token_body);
	fake.token_body = NULL;
	free(w);
}

#endif
