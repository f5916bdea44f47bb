/* SPDX-License-Identifier: MIT */
/*
 * OpenStack API calls. Layer: above auth/http, below model. Each failure is
 * logged here, once, with method, URL, status, the cloud's message and the
 * request id; callers above only see -errno.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloudfs/api.h"
#include "cloudfs/catalog.h"
#include "cloudfs/clock.h"
#include "cloudfs/errmap.h"
#include "cloudfs/http.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "cloudfs/url.h"

int session_init(struct session *s, const struct config *cfg, struct auth *auth, char *err,
		 size_t errlen)
{
	return session_init_region(s, cfg, auth, cfg->region, err, errlen);
}

static int get_json_url(struct session *s, const struct service_def *svc, const char *url,
			int64_t deadline_ms, json_t **out);

int api_version_cmp(const char *a, const char *b)
{
	unsigned long amaj = 0, amin = 0, bmaj = 0, bmin = 0;
	int na = a ? sscanf(a, "%lu.%lu", &amaj, &amin) : 0;
	int nb = b ? sscanf(b, "%lu.%lu", &bmaj, &bmin) : 0;

	if (na != 2 || nb != 2)
		return (na == 2) - (nb == 2);
	if (amaj != bmaj)
		return amaj < bmaj ? -1 : 1;
	return amin < bmin ? -1 : amin > bmin;
}

/* "X.Y" with digits only (what a version document and the option hold). */
static bool version_valid(const char *v)
{
	size_t maj = strspn(v, "0123456789"), min;

	if (!maj || v[maj] != '.')
		return false;
	min = strspn(v + maj + 1, "0123456789");
	return min && !v[maj + 1 + min] && maj + 1 + min < 16;
}

/*
 * The microversion to ask of service @i: its endpoint's version document
 * ({"version": {"version": max, "min_version": min}}, Nova's at the
 * versioned endpoint) says what the cloud offers; we take the highest
 * both know, or the pinned one (-o nova_microversion) when the cloud
 * offers it. A cloud without microversions (no document, or no "version")
 * gets none, and answers at its base version (2.1).
 */
static int negotiate(struct session *s, size_t i, char *err, size_t errlen)
{
	const struct service_def *svc = services[i];
	const char *pin = s->cfg->nova_microversion[0] && !strcmp(svc->microversion_type, "compute")
				  ? s->cfg->nova_microversion
				  : NULL;
	const char *max = NULL, *min = NULL;
	json_t *doc = NULL;
	int rc = get_json_url(s, NULL, s->endpoint[i], 0, &doc);

	if (!rc) {
		const json_t *v = json_object_get(doc, "version");

		max = json_string_value(json_object_get(v, "version"));
		min = json_string_value(json_object_get(v, "min_version"));
	}
	if (max && (!version_valid(max) || !min || !version_valid(min)))
		max = NULL; /* not a document we can read: none */
	if (pin && max && (api_version_cmp(pin, min) < 0 || api_version_cmp(pin, max) > 0)) {
		snprintf(err, errlen,
			 "nova_microversion=%s: the %s endpoint offers microversions %s to %s", pin,
			 svc->name, min, max);
		rc = -EINVAL;
		goto out;
	}
	if (pin)
		snprintf(s->version[i], sizeof(s->version[i]), "%s", pin);
	else if (max)
		snprintf(s->version[i], sizeof(s->version[i]), "%s",
			 api_version_cmp(max, svc->microversion_max) < 0 ? max
									 : svc->microversion_max);
	log_info("%s: microversion %s (the endpoint offers %s to %s)", svc->name,
		 s->version[i][0] ? s->version[i] : "none", min ? min : "-", max ? max : "-");
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

const char *session_version(const struct session *s, const struct service_def *svc)
{
	size_t i = service_index(svc);

	return s->version && i < n_services && s->version[i][0] ? s->version[i] : NULL;
}

int session_init_region(struct session *s, const struct config *cfg, struct auth *auth,
			const char *region, char *err, size_t errlen)
{
	const json_t *catalog =
		json_object_get(json_object_get(auth_token_body(auth), "token"), "catalog");
	int found = 0;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->auth = auth;
	s->region = region;
	s->endpoint = calloc(n_services, sizeof(*s->endpoint));
	s->version = calloc(n_services, sizeof(*s->version));
	if (!s->endpoint || !s->version)
		return -ENOMEM;
	for (size_t i = 0; i < n_services; i++) {
		int rc = catalog_find(catalog, services[i]->types, config_interface(cfg), region,
				      &s->endpoint[i]);

		if (rc == -ENOMEM)
			return rc;
		if (rc) {
			log_info("no %s endpoint (%s, region %s) in the catalog", services[i]->name,
				 config_interface(cfg), region ? region : "any");
			continue;
		}
		catalog_strip_suffix(s->endpoint[i], services[i]->version_suffix);
		found++;
	}
	if (!found) {
		snprintf(
			err, errlen,
			"the catalog has no compute, image, volume or network endpoint for interface '%s' in region '%s'",
			config_interface(cfg), region ? region : "(any)");
		return -ENOENT;
	}
	return 0;
}

int session_negotiate(struct session *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < n_services; i++) {
		int rc = services[i]->microversion_type && s->endpoint[i]
				 ? negotiate(s, i, err, errlen)
				 : 0;

		if (rc)
			return rc;
	}
	return 0;
}

void session_copy_versions(struct session *dst, const struct session *src)
{
	for (size_t i = 0; dst->version && src->version && i < n_services; i++)
		memcpy(dst->version[i], src->version[i], sizeof(dst->version[i]));
}

const char *session_endpoint(const struct session *s, const struct service_def *svc)
{
	size_t i = service_index(svc);

	return s->endpoint && i < n_services ? s->endpoint[i] : NULL;
}

void session_cleanup(struct session *s)
{
	for (size_t i = 0; s->endpoint && i < n_services; i++)
		free(s->endpoint[i]);
	free(s->endpoint);
	s->endpoint = NULL;
	free(s->version);
	s->version = NULL;
}

/*
 * The URL for @path under @svc's endpoint. An absolute @path is taken only
 * on the endpoint's own origin: the token goes nowhere else.
 */
static char *full_url(const struct session *s, const struct service_def *svc, const char *path)
{
	const char *endpoint = session_endpoint(s, svc);
	char *url = NULL;

	if (!endpoint)
		return NULL;
	if (!strncasecmp(path, "http://", 7) || !strncasecmp(path, "https://", 8)) {
		if (!url_same_origin(endpoint, path)) {
			log_cloud_error("refused to send the token to %.200s: not the %s endpoint",
					path, svc->name);
			return NULL;
		}
		return strdup(path);
	}
	if (asprintf(&url, "%s%s", endpoint, path) < 0)
		return NULL;
	return url;
}

/* Backoff before retry @attempt (1-based): 200 ms doubling, honouring
 * Retry-After, never past the deadline. */
static int64_t backoff_ms(int attempt, long retry_after_s)
{
	int64_t ms = 200LL << (attempt - 1);

	if (retry_after_s > 0)
		ms = retry_after_s * 1000;
	if (ms > 5000)
		ms = 5000;
	return ms + (int64_t)(random() % 100);
}

static void log_failure(const char *method, const char *url, long status,
			const struct http_response *resp, int rc)
{
	char msg[512] = "";

	if (status) {
		errmap_cloud_message(resp->body.data, resp->body.len, msg, sizeof(msg));
		if (rc == -ENOENT) {
			log_debug("%s %s: HTTP %ld: %s", method, url, status, msg);
			return;
		}
		log_cloud_error("%s %s: HTTP %ld: %s (%s) [%s]", method, url, status,
				msg[0] ? msg : "no message", strerror(-rc),
				resp->request_id[0] ? resp->request_id : "no request id");
	} else {
		log_cloud_error("%s %s: %s (%s)", method, url, resp->errbuf, strerror(-rc));
	}
}

/* A request to @url with the session's transport settings. */
static struct http_request base_request(const struct session *s, const char *method,
					const char *url, const char *const *headers)
{
	const struct config *c = s->cfg;

	return (struct http_request){
		.method = method,
		.url = url,
		.headers = headers,
		.connect_timeout_ms = (long)(c->connect_timeout_s * 1000),
		.cacert = c->cacert,
		.insecure = c->insecure && !strcmp(c->insecure, "true"),
	};
}

/*
 * One call with the shared token, a single re-auth on 401, and retries of
 * idempotent requests on transport errors, 429 and 5xx within the deadline:
 * @deadline_ms (monotonic) when a listing shares one among its pages, or 0
 * for `timeout` from now. On 0, @resp holds a 2xx answer.
 */
/* A redirect's status: followed on the endpoint's own origin (url_redirect()). */
static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Heat answers /stacks/<id> with a 302 to /stacks/<name>/<id>: one hop;
 * more than this is a loop. */
#define API_MAX_REDIRECTS 3

static int api_call(struct session *s, const struct service_def *svc, const char *method,
		    const char *url, const struct api_body *body, const char *const *extra,
		    int64_t deadline_ms, struct http_response *resp)
{
	const char *version = svc ? session_version(s, svc) : NULL;
	char vhdr[96] = "";
	char *moved = NULL; /* where a redirect led, once one did */
	int hops = 0;
	const char *hdrs[API_MAX_HEADERS + 4] = { NULL };
	size_t nextra = 0;
	char ctype[128];
	const struct config *c = s->cfg;
	const int64_t deadline =
		deadline_ms ? deadline_ms : clock_now_ms() + (int64_t)(c->timeout_s * 1000);
	const bool idempotent = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	bool reauthed = false;
	char *token = NULL;
	int attempt = 0, rc;
	int64_t start = clock_now_ms();

	for (;;) {
		struct http_request req = base_request(s, method, moved ? moved : url, hdrs);
		int64_t left = deadline - clock_now_ms();

		if (body) {
			snprintf(ctype, sizeof(ctype), "Content-Type: %s",
				 body->content_type ? body->content_type : "application/json");
			hdrs[0] = ctype;
			req.body = body->data ? body->data : "";
			req.body_len = body->len;
		}
		/* Ours first (the content type, the session's header, the
		 * service's microversion), each only when there is one, then
		 * the caller's. */
		nextra = body ? 1 : 0;
		if (s->extra_header)
			hdrs[nextra++] = s->extra_header;
		if (version) {
			snprintf(vhdr, sizeof(vhdr), "OpenStack-API-Version: %s %s",
				 svc->microversion_type, version);
			hdrs[nextra++] = vhdr;
		}
		for (size_t i = 0; extra && extra[i] && i < API_MAX_HEADERS; i++)
			hdrs[nextra + i] = extra[i];

		if (left <= 0) {
			rc = -ETIMEDOUT;
			snprintf(resp->errbuf, sizeof(resp->errbuf), "no answer within %g s",
				 c->timeout_s);
			resp->status = 0;
			break;
		}
		req.timeout_ms = (long)left;
		cfs_free_secret(token);
		token = NULL;
		rc = auth_token(s->auth, &token);
		if (rc) {
			snprintf(resp->errbuf, sizeof(resp->errbuf),
				 "no valid token (see earlier errors)");
			resp->status = 0;
			break;
		}
		req.token = token;
		attempt++;
		atomic_fetch_add(&s->requests, 1);
		rc = auth_transport(s->auth)->perform(auth_transport(s->auth), &req, resp);
		if (!rc && resp->status == 401 && !reauthed) {
			/* Expired or revoked early: one fresh token, then give up. */
			reauthed = true;
			auth_invalidate(s->auth, token);
			log_info("%s %s: 401, re-authenticating", method, url);
			continue;
		}
		if (!rc && is_redirect(resp->status)) {
			/* The same request again where it points, as heatclient
			 * does, only on this endpoint's origin: the token goes
			 * nowhere else. */
			char *next = NULL;

			if (!resp->location || hops >= API_MAX_REDIRECTS ||
			    url_redirect(req.url, resp->location, &next)) {
				snprintf(resp->errbuf, sizeof(resp->errbuf),
					 "HTTP %ld to %.160s: not followed (%s)", resp->status,
					 resp->location ? resp->location : "nowhere",
					 hops >= API_MAX_REDIRECTS
						 ? "too many redirects"
						 : "not on the endpoint's origin");
				resp->status = 0;
				rc = -EIO;
				break;
			}
			log_debug("%s %s: HTTP %ld to %s", method, req.url, resp->status, next);
			free(moved);
			moved = next;
			hops++;
			attempt--;
			continue;
		}
		if (!rc)
			rc = errmap_http(resp->status, resp->body.data);
		if (!rc || !idempotent || attempt > c->retries || rc == -EINTR)
			break;
		if (resp->status ? !errmap_http_retryable(resp->status)
				 : !errmap_curl_retryable(resp->curl_code))
			break;
		int64_t wait = backoff_ms(attempt, resp->status ? resp->retry_after_s : -1);

		if (clock_now_ms() + wait >= deadline)
			break;
		log_info("%s %s: %s, retry %d in %lld ms", method, req.url,
			 resp->status ? "server error" : resp->errbuf, attempt, (long long)wait);
		clock_sleep_ms(wait);
	}
	if (rc) {
		atomic_fetch_add(&s->failures, 1);
		log_failure(method, moved ? moved : url, resp->status, resp, rc);
	} else {
		log_debug("%s %s: HTTP %ld, %zu bytes, %lld ms", method, moved ? moved : url,
			  resp->status, resp->body.len, (long long)(clock_now_ms() - start));
	}
	free(moved);
	cfs_free_secret(token);
	return rc;
}

static int get_json_url(struct session *s, const struct service_def *svc, const char *url,
			int64_t deadline_ms, json_t **out)
{
	struct http_response resp;
	json_error_t jerr;
	json_t *root;
	int rc;

	http_response_init(&resp);
	rc = api_call(s, svc, "GET", url, NULL, NULL, deadline_ms, &resp);
	if (rc)
		goto out;
	/* Swift answers an empty listing page with 204 and no body. */
	if (resp.status == 204 && !resp.body.len) {
		*out = json_array();
		rc = *out ? 0 : -ENOMEM;
		goto out;
	}
	/* A string may hold \u0000 (a name): names.h encodes it, so one such
	 * member does not fail the listing. */
	root = json_loadb(resp.body.data, resp.body.len, JSON_ALLOW_NUL, &jerr);
	if (!root) {
		log_cloud_error("GET %s: HTTP %ld but the body is not JSON (%s, line %d) [%s]", url,
				resp.status, jerr.text, jerr.line, resp.request_id);
		rc = -EIO;
		goto out;
	}
	*out = root;
out:
	http_response_free(&resp);
	return rc;
}

void api_projects_free(struct api_project *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].id);
		free(v[i].name);
	}
	free(v);
}

int api_projects(struct session *s, struct api_project **out, size_t *n)
{
	char *url = auth_projects_url(s->cfg->auth_url);
	json_t *doc = NULL, *m;
	const json_t *list;
	struct api_project *v = NULL;
	size_t i, k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!url)
		return -ENOMEM;
	rc = get_json_url(s, NULL, url, 0, &doc);
	if (rc)
		goto out;
	list = json_object_get(doc, "projects");
	if (!json_is_array(list)) {
		log_cloud_error("GET %s: the answer has no 'projects' list", url);
		rc = -EIO;
		goto out;
	}
	/* The same bound as a collection's listing (-o max_entries). */
	if (s->cfg->max_entries > 0 && json_array_size(list) > (size_t)s->cfg->max_entries) {
		log_cloud_error("GET %s: more than %ld projects (max_entries)", url,
				s->cfg->max_entries);
		rc = -EFBIG;
		goto out;
	}
	v = calloc(json_array_size(list) + 1, sizeof(*v));
	if (!v) {
		rc = -ENOMEM;
		goto out;
	}
	json_array_foreach(list, i, m)
	{
		const char *id = json_string_value(json_object_get(m, "id"));
		const char *name = json_string_value(json_object_get(m, "name"));

		if (!id || !*id)
			continue;
		v[k].id = strdup(id);
		v[k].name = name ? strdup(name) : NULL;
		if (!v[k].id || (name && !v[k].name)) {
			k++;
			rc = -ENOMEM;
			goto out;
		}
		k++;
	}
	*out = v;
	*n = k;
	v = NULL;
out:
	api_projects_free(v, k);
	json_decref(doc);
	free(url);
	return rc;
}

int api_get_json(struct session *s, const struct service_def *svc, const char *path, json_t **out)
{
	char *url = full_url(s, svc, path);
	int rc;

	if (!url)
		return session_endpoint(s, svc) ? -ENOMEM : -ENODEV;
	rc = get_json_url(s, svc, url, 0, out);
	free(url);
	return rc;
}

int api_next_url(const struct collection_def *c, const json_t *page, const char *base, char **out)
{
	const char *next = NULL;
	const json_t *link;
	size_t i;

	*out = NULL;
	if (c->next == NEXT_RELATIVE) {
		/* Glance: "next" is a path relative to the endpoint. */
		next = json_string_value(json_object_get(page, "next"));
	} else {
		json_array_foreach(json_object_get(page, c->links_key), i, link)
		{
			const char *rel = json_string_value(json_object_get(link, "rel"));
			const char *href = json_string_value(json_object_get(link, "href"));

			if (rel && href && !strcmp(rel, "next")) {
				next = href;
				break;
			}
		}
	}
	if (!next || !*next)
		return 0;
	/* The token follows this link: only to the service's own origin. */
	return url_resolve(base, next, out);
}

/* Hands each member of @page to @fn, while the listing has room for it
 * (*@left members more); returns how many, or -errno. */
static int take_members(const struct collection_def *c, const json_t *page, api_member_fn fn,
			void *arg, long *left)
{
	const json_t *items = c->list_key ? json_object_get(page, c->list_key) : page, *m;
	size_t i;
	int rc;

	if (!json_is_array(items))
		return -EIO;
	json_array_foreach(items, i, m)
	{
		if (c->member_wrap)
			m = json_object_get(m, c->member_wrap);
		if (!json_is_object(m))
			return -EIO;
		if (*left <= 0)
			return -EFBIG;
		--*left;
		rc = fn(arg, m);
		if (rc)
			return rc;
	}
	return (int)json_array_size(items);
}

/*
 * The pages one listing has asked for, to refuse a next link that goes back
 * to one of them (A -> B -> A). A page is known by its "marker" when it has
 * one (the same marker is the same place in the collection, whatever else
 * the link says), else by its whole URL. Open addressing on 64-bit hashes;
 * a collision can only end a listing early, never make it loop.
 */
struct seen_pages {
	uint64_t *slot; /* 0 = empty */
	size_t size, used; /* size: a power of two, or 0 */
};

static uint64_t page_key(const char *url)
{
	size_t len;
	const char *marker = url_query_param(url, "marker", &len);
	uint64_t h;

	h = marker ? cfs_fnv1a(marker, len) ^ 0x6d61726b6572ULL : cfs_fnv1a(url, strlen(url));
	return h ? h : 1;
}

/* Returns 1 when @url's page was seen before, 0 after recording it, or
 * -ENOMEM. */
static int seen_pages_add(struct seen_pages *sp, const char *url)
{
	uint64_t key = page_key(url);
	size_t i;

	if (2 * (sp->used + 1) > sp->size) {
		size_t size = sp->size ? 2 * sp->size : 64;
		uint64_t *slot = calloc(size, sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		for (size_t j = 0; j < sp->size; j++) {
			if (!sp->slot[j])
				continue;
			for (i = sp->slot[j] & (size - 1); slot[i]; i = (i + 1) & (size - 1))
				;
			slot[i] = sp->slot[j];
		}
		free(sp->slot);
		sp->slot = slot;
		sp->size = size;
	}
	for (i = key & (sp->size - 1); sp->slot[i]; i = (i + 1) & (sp->size - 1))
		if (sp->slot[i] == key)
			return 1;
	sp->slot[i] = key;
	sp->used++;
	return 0;
}

/* NEXT_MARKER: the page after @page is @url with marker= the last member's
 * id (replacing the marker @url had); NULL after an empty page. */
static int marker_url(const struct collection_def *c, const json_t *page, const char *url,
		      char **out)
{
	const json_t *items = c->list_key ? json_object_get(page, c->list_key) : page;
	const json_t *last = json_array_get(items, json_array_size(items) - 1);
	const char *id = json_string_value(json_object_get(last, c->id_field));
	const char *old = strstr(url, "&marker=");
	char *esc;
	int len;

	*out = NULL;
	if (!json_array_size(items))
		return 0;
	if (!id)
		return -EINVAL;
	esc = names_url_escape(id);
	if (!esc)
		return -ENOMEM;
	/* marker= is always the last parameter: it is only ever added here. */
	len = old ? (int)(old - url) : (int)strlen(url);
	if (asprintf(out, "%.*s&marker=%s", len, url, esc) < 0)
		*out = NULL;
	free(esc);
	return *out ? 0 : -ENOMEM;
}

int api_list(struct session *s, const struct collection_def *c, api_member_fn fn, void *arg)
{
	const char *endpoint = session_endpoint(s, c->service);
	/* One deadline for the whole listing, every page and retry within it:
	 * a syscall that lists waits at most `timeout`, however many pages a
	 * cloud keeps offering. */
	const int64_t deadline = clock_now_ms() + (int64_t)(s->cfg->timeout_s * 1000);
	struct seen_pages seen = { 0 };
	long left = s->cfg->max_entries > 0 ? s->cfg->max_entries : CONFIG_MAX_ENTRIES;
	json_t *page = NULL;
	char *url = NULL, *next = NULL;
	int rc = 0;

	if (!endpoint)
		return -ENODEV;
	if (c->paged)
		rc = asprintf(&url, "%s%s%climit=%d", endpoint, c->list_path,
			      strchr(c->list_path, '?') ? '&' : '?', COLLECTION_PAGE_LIMIT) < 0
			     ? -ENOMEM
			     : 0;
	else
		url = full_url(s, c->service, c->list_path);
	if (rc || !url) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		int n;

		rc = seen_pages_add(&seen, url);
		if (rc == 1) {
			log_cloud_error("GET %s: the next link leads back to a page already listed;"
					" listing refused",
					url);
			rc = -EIO;
		}
		if (rc)
			goto out;
		if (clock_now_ms() >= deadline) {
			log_cloud_error("GET %s: the listing did not end within %g s (timeout);"
					" listing refused",
					url, s->cfg->timeout_s);
			rc = -ETIMEDOUT;
			goto out;
		}
		rc = get_json_url(s, c->service, url, deadline, &page);
		if (rc)
			goto out;
		n = take_members(c, page, fn, arg, &left);
		if (n == -EIO)
			log_cloud_error("GET %s: the answer has no '%s' list", url, c->list_key);
		if (n == -EFBIG)
			log_cloud_error(
				"GET %s: the listing has more than %ld members (max_entries);"
				" listing refused",
				url, s->cfg->max_entries);
		if (n < 0) {
			rc = n;
			goto out;
		}
		rc = c->next == NEXT_MARKER ? marker_url(c, page, url, &next)
					    : api_next_url(c, page, endpoint, &next);
		if (rc == -EINVAL)
			log_cloud_error("GET %s: the next link is not on the %s endpoint %s;"
					" not sending the token there, listing refused",
					url, c->service->name, endpoint);
		if (rc) {
			rc = rc == -ENOMEM ? rc : -EIO;
			goto out;
		}
		json_decref(page);
		page = NULL;
		/* An empty page ends the listing even with a next link. */
		if (!next || n == 0)
			break;
		free(url);
		url = next;
		next = NULL;
	}
out:
	free(next);
	free(url);
	free(seen.slot);
	json_decref(page);
	return rc;
}

char *api_item_path(const struct collection_def *c, const char *id, const char *sub,
		    const char *subid)
{
	char *esc = names_url_escape(id), *esc2 = subid ? names_url_escape(subid) : NULL;
	char *path = NULL;

	if (esc && (!subid || esc2) &&
	    asprintf(&path, "%s/%s%s%s%s%s", c->item_path, esc, sub ? "/" : "", sub ? sub : "",
		     esc2 ? "/" : "", esc2 ? esc2 : "") < 0)
		path = NULL;
	free(esc);
	free(esc2);
	return path;
}

int api_get_item(struct session *s, const struct collection_def *c, const char *id, json_t **out)
{
	char *path = api_item_path(c, id, NULL, NULL);

	if (path && c->item_suffix) {
		char *full = NULL;

		if (asprintf(&full, "%s%s", path, c->item_suffix) < 0)
			full = NULL;
		free(path);
		path = full;
	}
	json_t *doc = NULL, *item;
	int rc;

	if (!path) {
		rc = -ENOMEM;
		goto out;
	}
	rc = api_get_json(s, c->service, path, &doc);
	if (rc)
		goto out;
	item = c->item_key ? json_object_get(doc, c->item_key) : doc;
	if (!json_is_object(item)) {
		log_cloud_error("GET %s: the answer has no '%s' object", path,
				c->item_key ? c->item_key : "(bare)");
		rc = -EIO;
		goto out;
	}
	*out = json_incref(item);
out:
	json_decref(doc);
	free(path);
	return rc;
}

int api_send(struct session *s, const struct service_def *svc, const char *method, const char *path,
	     const struct api_body *body, json_t **out)
{
	struct http_response resp;
	char *url = full_url(s, svc, path);
	json_error_t jerr;
	int rc;

	if (!url)
		return session_endpoint(s, svc) ? -ENOMEM : -ENODEV;
	http_response_init(&resp);
	rc = api_call(s, svc, method, url, body, NULL, 0, &resp);
	if (rc || !out)
		goto out;
	*out = NULL;
	if (resp.body.len && strstr(resp.content_type, "json")) {
		*out = json_loadb(resp.body.data, resp.body.len, JSON_ALLOW_NUL, &jerr);
		if (!*out) {
			log_cloud_error("%s %s: HTTP %ld but the body is not JSON (%s) [%s]",
					method, url, resp.status, jerr.text, resp.request_id);
			rc = -EIO;
		}
	}
out:
	http_response_free(&resp);
	free(url);
	return rc;
}

int api_request(struct session *s, const struct service_def *svc, const char *method,
		const char *path, const char *const *headers, const struct api_body *body,
		struct http_response *resp)
{
	char *url = full_url(s, svc, path);
	int rc;

	if (!url)
		return session_endpoint(s, svc) ? -ENOMEM : -ENODEV;
	rc = api_call(s, svc, method, url, body, headers, 0, resp);
	free(url);
	return rc;
}

void api_set_thread_stop(const atomic_bool *flag)
{
	http_set_thread_stop(flag);
}

bool api_cancelled(void)
{
	return http_cancelled();
}

int api_send_json(struct session *s, const struct service_def *svc, const char *method,
		  const char *path, const json_t *body, const char *content_type, json_t **out)
{
	struct api_body b = { NULL, 0, content_type };
	char *text = NULL;
	int rc;

	if (body) {
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!text)
			return -ENOMEM;
		b.data = text;
		b.len = strlen(text);
	}
	rc = api_send(s, svc, method, path, body ? &b : NULL, out);
	free(text);
	return rc;
}

int api_stream_open(struct session *s, const struct service_def *svc, const char *method,
		    const char *path, const char *const *headers, bool upload,
		    struct http_stream **out)
{
	char *url = full_url(s, svc, path), *token = NULL;
	struct http_request req = base_request(s, method, url, headers);
	bool reauthed = false;
	long status;
	int rc;

	*out = NULL;
	if (!url)
		return session_endpoint(s, svc) ? -ENOMEM : -ENODEV;
	for (;;) {
		rc = auth_token(s->auth, &token);
		if (rc)
			break;
		req.token = token;
		atomic_fetch_add(&s->requests, 1);
		rc = http_stream_open(&req, upload, out);
		log_debug("%s %s: streaming", method, url);
		/* An upload's answer comes after its body: nothing to wait for. */
		if (rc || upload)
			break;
		status = http_stream_status(*out, (long)(s->cfg->timeout_s * 1000));
		if (status != 401 || reauthed) {
			rc = status < 0 ? (int)status : 0;
			break;
		}
		/* Revoked early, as in api_call(): one fresh token. */
		reauthed = true;
		auth_invalidate(s->auth, token);
		log_info("%s %s: 401, re-authenticating", method, url);
		http_stream_free(*out);
		*out = NULL;
		cfs_free_secret(token);
		token = NULL;
	}
	if (rc && *out) {
		atomic_fetch_add(&s->failures, 1);
		log_cloud_error("%s %s: %s", method, url, strerror(-rc));
		http_stream_free(*out);
		*out = NULL;
	}
	cfs_free_secret(token);
	free(url);
	return rc;
}

static void stream_failure(struct session *s, const char *method, struct http_stream *hs,
			   const struct http_response *resp, int rc)
{
	atomic_fetch_add(&s->failures, 1);
	log_failure(method, http_stream_url(hs), resp->status, resp, rc);
}

int api_stream_finish_etag(struct session *s, struct http_stream *hs, const char *method,
			   long timeout_ms, char *etag, size_t etag_len)
{
	struct http_response resp;
	int rc;

	http_response_init(&resp);
	rc = http_stream_finish(hs, &resp, timeout_ms);
	if (!rc)
		rc = errmap_http(resp.status, resp.body.data);
	if (rc)
		stream_failure(s, method, hs, &resp, rc);
	if (etag)
		snprintf(etag, etag_len, "%s", resp.etag);
	http_response_free(&resp);
	return rc;
}

int api_stream_finish(struct session *s, struct http_stream *hs, const char *method,
		      long timeout_ms)
{
	return api_stream_finish_etag(s, hs, method, timeout_ms, NULL, 0);
}

ssize_t api_stream_read(struct session *s, struct http_stream *hs, char *buf, size_t len,
			long timeout_ms)
{
	struct http_response resp;
	ssize_t n;

	http_response_init(&resp);
	n = http_stream_read(hs, buf, len, timeout_ms, &resp);
	if (n < 0)
		stream_failure(s, "GET", hs, &resp, (int)n);
	http_response_free(&resp);
	return n;
}

ssize_t api_stream_read_loan(struct session *s, struct http_stream *hs, size_t len, struct loan *l,
			     long timeout_ms)
{
	struct http_response resp;
	ssize_t n;

	http_response_init(&resp);
	n = http_stream_read_loan(hs, len, l, timeout_ms, &resp);
	if (n < 0)
		stream_failure(s, "GET", hs, &resp, (int)n);
	http_response_free(&resp);
	return n;
}

int api_cleanup_delete(struct session *s, const struct service_def *svc, const char *path)
{
	int rc;

	http_ignore_cancel(true);
	rc = api_send(s, svc, "DELETE", path, NULL, NULL);
	http_ignore_cancel(false);
	return rc;
}
