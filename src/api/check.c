/* SPDX-License-Identifier: MIT */
/*
 * cloudfs --check: the first thing a new user or a support request runs.
 * Authenticates, shows what the catalog offers, and sends one small
 * authenticated GET to every service cloudfs uses, timing each. Prints a
 * table; the exit code says whether everything answered.
 * Layer: above auth, catalog and http (talks to the endpoints directly, so a
 * failure is reported as it happened, without api.c's retries).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/api.h"
#include "cloudfs/auth.h"
#include "cloudfs/clock.h"
#include "cloudfs/service.h"
#include "cloudfs/daemon.h"
#include "cloudfs/errmap.h"
#include "cloudfs/http.h"

enum cfs_exit cfs_exit_for_login(int rc)
{
	switch (rc) {
	case 0:
		return CFS_EXIT_OK;
	case -EACCES:
	case -EPERM:
	case -ENOENT:
	case -EINVAL:
		/* Keystone answered: wrong credentials, project or URL path. */
		return CFS_EXIT_AUTH;
	case -ENOMEM:
		return CFS_EXIT_FAIL;
	default:
		return CFS_EXIT_UNREACHABLE;
	}
}

/* A cheap authenticated listing of the first collection a service serves. */
static const char *probe_path(const struct service_def *svc)
{
	return svc->n_collections ? svc->collections[0].item_path : "";
}

/* Probes one endpoint: 0 and the latency when it answered 2xx; otherwise
 * -errno and why in @why. */
static int probe(const struct config *cfg, const char *token, const char *endpoint,
		 const struct service_def *svc, int64_t *ms, char *why, size_t whylen)
{
	struct http_response resp;
	struct http_request req = {
		.method = "GET",
		.token = token,
		.timeout_ms = (long)(cfg->timeout_s * 1000),
		.connect_timeout_ms = (long)(cfg->connect_timeout_s * 1000),
		.max_body = 1u << 20,
		.cacert = cfg->cacert,
		.insecure = cfg->insecure && !strcmp(cfg->insecure, "true"),
	};
	char *url = NULL;
	int64_t t0;
	int rc;

	if (asprintf(&url, "%s%s?limit=1", endpoint, probe_path(svc)) < 0) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	req.url = url;
	http_response_init(&resp);
	t0 = clock_now_ms();
	rc = http_perform(&req, &resp);
	*ms = clock_now_ms() - t0;
	if (rc) {
		snprintf(why, whylen, "%s", resp.errbuf[0] ? resp.errbuf : strerror(-rc));
	} else if (resp.status < 200 || resp.status > 299) {
		rc = errmap_http(resp.status, resp.body.data);
		if (!rc)
			rc = -EIO;
		snprintf(why, whylen, "HTTP %ld%s%s", resp.status, resp.request_id[0] ? " " : "",
			 resp.request_id);
	}
	http_response_free(&resp);
	free(url);
	return rc;
}

/* "compute identity image ..." : every service type in the catalog. */
static void print_catalog(const json_t *catalog, FILE *out)
{
	size_t i;
	json_t *entry;

	fprintf(out, "catalog:");
	json_array_foreach(catalog, i, entry)
	{
		const char *type = json_string_value(json_object_get(entry, "type"));

		fprintf(out, " %s", type ? type : "?");
	}
	fprintf(out, "\n");
}

enum cfs_exit check_run(const struct config *cfg, FILE *out)
{
	struct auth *auth = auth_new(cfg);
	struct session sess;
	char err[1024] = "", why[256];
	char *token = NULL;
	enum cfs_exit ret = CFS_EXIT_OK;
	bool have_session = false;
	int64_t t0, ms;
	int rc, w;

	if (!auth)
		return CFS_EXIT_FAIL;
	t0 = clock_now_ms();
	rc = auth_login(auth, err, sizeof(err));
	ms = clock_now_ms() - t0;
	if (rc) {
		fprintf(out, "%-14s %s  %lld ms  FAILED: %s\n", "identity", cfg->auth_url,
			(long long)ms, err);
		ret = cfs_exit_for_login(rc);
		goto out;
	}
	rc = session_init(&sess, cfg, auth, err, sizeof(err));
	if (rc) {
		fprintf(out, "%s\n", err);
		ret = CFS_EXIT_SERVICE;
		goto out;
	}
	have_session = true;
	/* The endpoint column is as wide as the longest one. */
	w = (int)strlen(cfg->auth_url);
	for (size_t i = 0; i < n_services; i++)
		if (sess.endpoint[i] && (int)strlen(sess.endpoint[i]) > w)
			w = (int)strlen(sess.endpoint[i]);
	fprintf(out, "%-14s %-*s %8s  %s\n", "SERVICE", w, "ENDPOINT", "LATENCY", "STATUS");
	fprintf(out, "%-14s %-*s %5lld ms  OK\n", "identity", w, cfg->auth_url, (long long)ms);
	rc = auth_token(auth, &token);
	if (rc) {
		ret = cfs_exit_for_login(rc);
		goto out;
	}
	for (size_t i = 0; i < n_services; i++) {
		if (!sess.endpoint[i]) {
			fprintf(out, "%-14s %-*s %8s  not in the catalog (%s, region %s)\n",
				services[i]->name, w, "-", "-", config_interface(cfg),
				cfg->region ? cfg->region : "any");
			continue;
		}
		rc = probe(cfg, token, sess.endpoint[i], services[i], &ms, why, sizeof(why));
		fprintf(out, "%-14s %-*s %5lld ms  %s%s\n", services[i]->name, w, sess.endpoint[i],
			(long long)ms, rc ? "FAILED: " : "OK", rc ? why : "");
		if (rc)
			ret = CFS_EXIT_SERVICE;
	}
	print_catalog(json_object_get(json_object_get(auth_token_body(auth), "token"), "catalog"),
		      out);
out:
	cfs_free_secret(token);
	if (have_session)
		session_cleanup(&sess);
	auth_free(auth);
	return ret;
}
