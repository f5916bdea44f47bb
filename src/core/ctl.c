/* SPDX-License-Identifier: MIT */
/*
 * The .cloudfs/ control and status files. Layer: model. Counters come from
 * the session, the cache and the log's error ring.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cloudfs/clock.h"
#include "cloudfs/leftovers.h"
#include "cloudfs/log.h"
#include "cloudfs/render.h"
#include "cloudfs/transfers.h"
#include "model_int.h"

static int ctl_version(struct project *p, struct buf *out)
{
	(void)p;
	return buf_addstr(out, "cloudfs " CLOUDFS_VERSION "\n");
}

static int ctl_errors(struct project *p, struct buf *out)
{
	(void)p;
	return log_ring_render(out);
}

static int ctl_endpoints(struct project *p, struct buf *out)
{
	int rc = 0;

	for (size_t i = 0; i < n_services && !rc; i++) {
		const char *url = session_endpoint(p->sess, services[i]);

		rc = buf_addf(out, "%s %s\n", services[i]->name, url ? url : "-");
	}
	return rc;
}

static int ctl_status(struct project *p, struct buf *out)
{
	int rc;
	struct cache_stats st;

	cache_get_stats(p->cache, &st);
	rc = buf_addf(out,
		      "project %s (%s)\nuser %s\nauth_url %s\nregion %s\ncredentials %s\n"
		      "token_expires_in_s %lld\ntokens_issued %u\n"
		      "requests %lu\nfailed_requests %lu\n"
		      "cache_ttl_ms %lld\nnegative_ttl_ms %lld\n"
		      "cache_entries %lu\ncache_hits %lu\ncache_misses %lu\ncache_fetches %lu\n"
		      "cache_coalesced %lu\n",
		      auth_project_name(p->sess->auth), auth_project_id(p->sess->auth),
		      auth_user_name(p->sess->auth), p->sess->cfg->auth_url,
		      p->sess->region ? p->sess->region : "-",
		      p->sess->cfg->source ? p->sess->cfg->source : "-",
		      (long long)auth_expires_in_s(p->sess->auth), auth_issued_count(p->sess->auth),
		      atomic_load(&p->sess->requests), atomic_load(&p->sess->failures),
		      (long long)p->ttl_ms, (long long)p->neg_ttl_ms, st.entries, st.hits,
		      st.misses, st.fetches, st.coalesced);
	if (!rc) {
		unsigned long parsed;

		pthread_mutex_lock(&p->memo_lock);
		parsed = p->parsed;
		pthread_mutex_unlock(&p->memo_lock);
		rc = buf_addf(out, "documents_parsed %lu\n", parsed);
	}
	/* The microversion asked of each service that has them (negotiated
	 * at mount, or pinned): what the files of its documents follow. */
	for (size_t i = 0; i < n_services && !rc; i++)
		if (services[i]->microversion_type && session_endpoint(p->sess, services[i]))
			rc = buf_addf(out, "microversion %s %s\n", services[i]->name,
				      session_version(p->sess, services[i])
					      ? session_version(p->sess, services[i])
					      : "-");
	/* Reads of "wait" files in progress (waits.c). */
	if (!rc)
		rc = buf_addf(out, "waiting %zu\n", model_waiting(p));
	if (!rc)
		rc = projects_render_status(p, out);
	/* Cleanup DELETEs still owed (failed uploads' half-made images). */
	return rc ? rc : leftovers_render(p->leftovers, out);
}

static int owed_line(void *ctx, const char *id, const char *name)
{
	char path[MODEL_ID_MAX + 16];

	/* An image by its id; a tree upload's parts by the file's path. */
	if (!id)
		return transfers_render_other(ctx, TRANSFER_UP, "owed", name);
	snprintf(path, sizeof(path), "images/%s", id);
	return transfers_render_other(ctx, TRANSFER_UP, "owed", path);
}

/* Uploads and downloads in progress, then the cleanups still owed. Never
 * waits for a transfer: the registry's lock guards copies of numbers. */
static int ctl_transfers(struct project *p, struct buf *out)
{
	int rc = transfers_render(p->transfers, clock_now_ms(), out);

	return rc ? rc : leftovers_each(p->leftovers, owed_line, out);
}

static int ctl_project(struct project *p, struct buf *out)
{
	json_t *info = auth_identity(p->sess->auth);
	int rc;

	if (!info)
		return -EIO;
	rc = render_document(info, out);
	json_decref(info);
	return rc;
}

/* "echo > refresh" forgets everything; "echo servers > refresh" one
 * collection. The next access asks the cloud again. */
static int ctl_refresh(struct project *p, const char *data, size_t len)
{
	char what[64];
	const struct collection_def *c;
	char prefix[96];

	while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
		len--;
	if (len >= sizeof(what))
		return -EINVAL;
	memcpy(what, data, len);
	what[len] = '\0';
	/* Expired, not dropped: refetches compare with what they replace and
	 * tell the kernel what changed (model_doc.c). */
	if (!len || !strcmp(what, "all")) {
		cache_expire_prefix(p->cache, "");
		log_info("cache expired by request");
		return 0;
	}
	/* A group ("quotas") expires its singletons. */
	if (!collection_find(what) && collection_group(what)) {
		model_forget_singletons(p);
		return 0;
	}
	c = collection_find(what);
	if (!c)
		return -EINVAL;
	model_res_key(prefix, sizeof(prefix), "L", c, NULL);
	cache_expire(p->cache, prefix);
	model_res_key(prefix, sizeof(prefix), "R", c, "");
	cache_expire_prefix(p->cache, prefix);
	model_res_key(prefix, sizeof(prefix), "C", c, "");
	cache_expire_prefix(p->cache, prefix);
	/* its members' trees' directories (model_tree.c) */
	model_res_key(prefix, sizeof(prefix), "T", c, "");
	cache_expire_prefix(p->cache, prefix);
	return 0;
}

/* The token's whole service catalog, as Keystone gave it. */
static int ctl_catalog(struct project *p, struct buf *out)
{
	const json_t *catalog = auth_catalog(p->sess->auth);

	return catalog ? render_document(catalog, out) : -ENOENT;
}

/* The project's current token (renewed first when due), for a script's
 * curl: only with -o expose_token. Read afresh at each open (version 0). */
static int ctl_token(struct project *p, struct buf *out)
{
	char *token = NULL;
	int rc = auth_token(p->sess->auth, &token);

	if (rc)
		return rc;
	rc = buf_addf(out, "%s\n", token);
	cfs_free_secret(token);
	return rc;
}

static bool token_shown(const struct project *p)
{
	return p->sess->cfg->expose_token;
}

const struct ctl_def model_ctl_files[] = {
	{ .name = "version", .mode = 0444, .render = ctl_version },
	{ .name = "status", .mode = 0444, .render = ctl_status },
	{ .name = "errors", .mode = 0444, .render = ctl_errors },
	{ .name = "endpoints", .mode = 0444, .render = ctl_endpoints },
	{ .name = "catalog", .mode = 0444, .render = ctl_catalog },
	{ .name = "project", .mode = 0444, .render = ctl_project },
	{ .name = "refresh", .mode = 0200, .write = ctl_refresh },
	{ .name = "transfers", .mode = 0444, .render = ctl_transfers },
	{ .name = "token", .mode = 0400, .render = ctl_token, .shown = token_shown },
};

const size_t model_ctl_count = ARRAY_SIZE(model_ctl_files);

const struct ctl_def *model_ctl_find(const char *name)
{
	for (size_t i = 0; i < model_ctl_count; i++)
		if (!strcmp(model_ctl_files[i].name, name))
			return &model_ctl_files[i];
	return NULL;
}
