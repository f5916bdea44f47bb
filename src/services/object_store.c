/* SPDX-License-Identifier: MIT */
/*
 * Swift (object-store): containers, and each container's objects as a
 * tree (objects/). Layer: services. Field names, queries and status codes
 * follow the Object Storage API v1 reference and Swift 2.30 (Zed):
 * account and container listings are bare JSON arrays paged by marker
 * until an empty page; a container listing with delimiter=/ and a prefix
 * gives one directory ("subdir" entries and objects, with bytes, hash,
 * content_type and last_modified), so a directory costs one request per
 * page and no HEAD per object. Large files are Static Large Objects whose
 * segments go to <container>_segments (python-swiftclient's convention;
 * segs_name() for a name too long for it).
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cloudfs/buf.h"
#include "cloudfs/clock.h"
#include "cloudfs/log.h"
#include "cloudfs/service.h"

extern const struct service_def service_object_store;

static const char *const swift_types[] = { "object-store", NULL };
static const char *const container_mtime[] = { "last_modified", NULL };

/* The part size when /info allows more: a part is one PUT's worth of
 * bytes on the wire, and a failure costs at most one part's resend. */
#define SWIFT_PART_MAX (1LL << 30)
/* Where a container's segments go: <container>_segments. */
#define SWIFT_SEGMENTS_SUFFIX "_segments"
/* Hex digits of the SHA-256 of a container name too long for the suffix. */
#define SWIFT_SEGMENTS_HASH 16

/*
 * What this Swift takes, from GET /info (swift.*, slo.*): read once per
 * mount, by at_start() in the background, or by the first request that
 * needs it. Swift's documented defaults (swift.conf-sample) stand until
 * it answered, and for good when it has no /info (expose_info = false).
 * One Swift (one proxy) serves every project of a mount.
 */
struct swift_info {
	bool known; /* /info answered, or has none: not asked again */
	bool slo; /* the SLO middleware is there: large files are SLOs */
	int64_t max_file_size, min_segment_size, max_manifest_segments;
	long listing_limit, max_name, meta_name, meta_value, meta_count, meta_overall;
	long max_container; /* max_container_name_length */
};

#define SWIFT_INFO_DEFAULTS                                                                  \
	{                                                                                    \
		.slo = true, .max_file_size = 5368709122LL, .min_segment_size = 1,           \
		.max_manifest_segments = 1000, .listing_limit = 10000, .max_name = 1024,     \
		.meta_name = 128, .meta_value = 256, .meta_count = 90, .meta_overall = 4096, \
		.max_container = 256                                                         \
	}

static pthread_mutex_t info_lock = PTHREAD_MUTEX_INITIALIZER;
static struct swift_info info_cache = SWIFT_INFO_DEFAULTS; /* protected by info_lock */

/* A positive integer /info states, or @def. */
static int64_t info_int(const json_t *section, const char *key, int64_t def)
{
	const json_t *v = json_object_get(section, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (int64_t)json_integer_value(v)
							       : def;
}

/* The limits as known now, without asking (hooks of member extras). */
static struct swift_info swift_info_cached(void)
{
	struct swift_info i;

	pthread_mutex_lock(&info_lock);
	i = info_cache;
	pthread_mutex_unlock(&info_lock);
	return i;
}

/* The limits, asking /info the first time (never under info_lock). */
static struct swift_info info_get(struct svc_call *x)
{
	struct swift_info i = swift_info_cached(), d = SWIFT_INFO_DEFAULTS;
	const char *ep = svc_endpoint(x), *v1;
	const json_t *sw, *slo;
	struct svc_answer a;
	char *url = NULL;
	int rc;

	if (i.known)
		return i;
	/* /info sits beside /v1/AUTH_<project>, at the proxy's root. */
	v1 = ep ? strstr(ep, "/v1/") : NULL;
	if (!v1 || asprintf(&url, "%.*s/info", (int)(v1 - ep), ep) < 0)
		return d;
	rc = svc_request(x, "GET", url, NULL, NULL, 0, NULL, &a);
	free(url);
	if (rc) {
		/* No /info (disabled: 404/401/403): the defaults, for good.
		 * Another failure: the defaults this time, asked again later. */
		if (rc == -ENOENT || rc == -EACCES || rc == -EPERM) {
			log_warn("Swift has no /info (%s): assuming its default limits",
				 strerror(-rc));
			d.known = true;
			pthread_mutex_lock(&info_lock);
			info_cache = d;
			pthread_mutex_unlock(&info_lock);
		}
		return d;
	}
	sw = json_object_get(a.json, "swift");
	slo = json_object_get(a.json, "slo");
	i.known = true;
	i.slo = json_is_object(slo);
	i.max_file_size = info_int(sw, "max_file_size", d.max_file_size);
	i.listing_limit = (long)info_int(sw, "container_listing_limit", d.listing_limit);
	i.max_name = (long)info_int(sw, "max_object_name_length", d.max_name);
	i.max_container = (long)info_int(sw, "max_container_name_length", d.max_container);
	i.meta_name = (long)info_int(sw, "max_meta_name_length", d.meta_name);
	i.meta_value = (long)info_int(sw, "max_meta_value_length", d.meta_value);
	i.meta_count = (long)info_int(sw, "max_meta_count", d.meta_count);
	i.meta_overall = (long)info_int(sw, "max_meta_overall_size", d.meta_overall);
	i.min_segment_size = info_int(slo, "min_segment_size", d.min_segment_size);
	i.max_manifest_segments = info_int(slo, "max_manifest_segments", d.max_manifest_segments);
	svc_answer_free(&a);
	/* Bounds that keep our own arithmetic sane whatever /info says. */
	if (i.listing_limit > 1000000)
		i.listing_limit = 1000000;
	if (i.meta_count > 4096)
		i.meta_count = 4096;
	/* Room for a cut name, its hash and the suffix (segs_name()). */
	if (i.max_container < 64)
		i.max_container = 64;
	pthread_mutex_lock(&info_lock);
	info_cache = i;
	pthread_mutex_unlock(&info_lock);
	return i;
}

/* A directory marker's content type (cloudfuse, rclone, swiftclient). */
static bool is_dir_type(const char *ctype)
{
	return ctype && !strncmp(ctype, "application/directory", 21);
}

struct list_state {
	struct svc_call *x;
	const char *cont; /* the container listed */
	const char *prefix;
	size_t plen;
	tree_fill_fn fill;
	void *ctx;
	char *marker; /* the last name or subdir of the page (malloc'd) */
};

/* @s percent-decoded (malloc'd), or NULL (no memory, or a NUL byte). */
static char *unquote(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	unsigned v;

	for (; out && *s; s++) {
		if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2]) &&
		    sscanf(s + 1, "%2x", &v) == 1) {
			if (!v) {
				free(out);
				return NULL;
			}
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	if (out)
		*o = '\0';
	return out;
}

/* A symlink's "symlink_path" ("/v1/<account>/<container>/<object>",
 * quoted, untrusted) as its container and object (malloc'd, *@cont holds
 * both) when it is in this account; else -EXDEV. */
static int symlink_parts(struct svc_call *x, const char *spath, char **cont, const char **obj)
{
	const char *ep = svc_endpoint(x), *acct = ep ? strrchr(ep, '/') : NULL;
	char *p = unquote(spath), *a, *c, *o;

	*cont = NULL;
	if (!p)
		return -EXDEV;
	/* The account: the endpoint's last component (AUTH_<project>). */
	a = !strncmp(p, "/v1/", 4) ? p + 4 : NULL;
	c = a ? strchr(a, '/') : NULL;
	o = c ? strchr(c + 1, '/') : NULL;
	if (!acct || !o || o == c + 1 || !o[1] || (size_t)(c - a) != strlen(acct + 1) ||
	    strncmp(a, acct + 1, (size_t)(c - a))) {
		free(p);
		return -EXDEV;
	}
	*o = '\0';
	memmove(p, c + 1, strlen(c + 1) + 1 + strlen(o + 1) + 1);
	*cont = p;
	*obj = p + strlen(p) + 1;
	return 0;
}

#define EMPTY_MD5 "d41d8cd98f00b204e9800998ecf8427e"

/* One listing item: a "subdir" (a directory), a marker ("x/", or "x" of
 * type application/directory), a symlink or a file. */
static int list_item(struct list_state *st, const json_t *item)
{
	char *link_cont = NULL;
	int rc;

	const json_t *jname = json_object_get(item, "subdir");
	bool subdir = jname != NULL;
	struct tree_entry e = { 0 };
	const char *name, *rest;
	size_t len;
	int64_t t;

	if (!subdir)
		jname = json_object_get(item, "name");
	name = json_string_value(jname);
	if (!name)
		return -EIO;
	len = json_string_length(jname);
	free(st->marker);
	st->marker = strndup(name, len);
	if (!st->marker)
		return -ENOMEM;
	/* The cloud's answer is untrusted: an item outside the prefix asked
	 * for is no entry of this directory. */
	if (len < st->plen || memcmp(name, st->prefix, st->plen))
		return 0;
	rest = name + st->plen;
	len -= st->plen;
	/* The directory's own marker ("a/" when listing "a/"). */
	if (!len) {
		e.self = true;
		return st->fill(st->ctx, &e);
	}
	e.name = rest;
	e.name_len = len;
	if (rest[len - 1] == '/') {
		e.dir = true;
		e.marker = !subdir;
		e.name_len = len - 1;
	} else if (memchr(rest, '/', len)) {
		return 0; /* a delimiter listing gives none: not ours */
	}
	if (!subdir && !e.dir) {
		const json_t *bytes = json_object_get(item, "bytes");
		const char *ctype = json_string_value(json_object_get(item, "content_type"));
		const char *hash = json_string_value(json_object_get(item, "hash"));
		const char *spath = json_string_value(json_object_get(item, "symlink_path"));

		e.size = json_is_integer(bytes) ? json_integer_value(bytes) : 0;
		e.dir = e.marker = is_dir_type(ctype) && e.size == 0;
		/* A large object's hash is its manifest's, not its bytes'. */
		if (hash && strlen(hash) == 32 && !json_object_get(item, "slo_etag") &&
		    !(ctype && strstr(ctype, "swift_bytes=")))
			e.md5 = hash;
		if (spath && !e.dir) {
			/* A symlink: a link in the tree, if it points into
			 * this account; another account's is left out. */
			if (symlink_parts(st->x, spath, &link_cont, &e.link_path)) {
				log_cloud_error("containers/%s/objects/%s: a symlink to '%.256s' "
						"(another account) is left out",
						st->cont, st->marker, spath);
				return 0;
			}
			e.link_member = link_cont;
			e.md5 = NULL;
		}
		/* A Dynamic Large Object lists as 0 bytes with the empty
		 * MD5, like an empty file: shown so, never HEADed here (one
		 * request per entry of a listing), but at open (swift_open_size). */
	}
	if (!subdir &&
	    !clock_parse_iso8601(json_string_value(json_object_get(item, "last_modified")), &t))
		e.mtime_s = t;
	rc = st->fill(st->ctx, &e);
	free(link_cont);
	return rc;
}

/* One page of a container listing: 0 with @a holding a non-empty array
 * (the caller frees it), 1 at the end (an empty page), or -errno; an
 * answer that is JSON but not an array is EIO. */
static int list_page(struct svc_call *x, const char *url, struct svc_answer *a)
{
	int rc = svc_request(x, "GET", url, NULL, NULL, 0, NULL, a);

	if (!rc && a->json && !json_is_array(a->json))
		rc = -EIO;
	if (rc || !json_array_size(a->json)) {
		svc_answer_free(a);
		return rc ? rc : 1;
	}
	return 0;
}

static int swift_list(struct svc_call *x, const char *id, const char *path, tree_fill_fn fill,
		      void *ctx)
{
	struct list_state st = { x, id, path, strlen(path), fill, ctx, NULL };
	/* The largest page this Swift gives (container_listing_limit). */
	long page = info_get(x).listing_limit;
	char *cont = svc_escape(id, false), *prefix = svc_escape(path, false);
	int rc = cont && prefix ? 0 : -ENOMEM;

	/* Until an empty page: a short page is not the end (rclone#7924). */
	while (!rc) {
		char *marker = st.marker ? svc_escape(st.marker, false) : NULL, *url = NULL;
		struct svc_answer a;
		const json_t *item;
		size_t i;

		if ((st.marker && !marker) ||
		    asprintf(&url, "/%s?format=json&delimiter=/&limit=%ld&prefix=%s%s%s", cont,
			     page, prefix, marker ? "&marker=" : "", marker ? marker : "") < 0) {
			free(marker);
			rc = -ENOMEM;
			break;
		}
		free(marker);
		rc = list_page(x, url, &a);
		free(url);
		if (rc) {
			rc = rc > 0 ? 0 : rc;
			break;
		}
		json_array_foreach(a.json, i, item)
		{
			rc = list_item(&st, item);
			if (rc)
				break;
		}
		svc_answer_free(&a);
	}
	free(st.marker);
	free(cont);
	free(prefix);
	return rc;
}

/* "/<container>/<object>", escaped (the object's slashes kept). */
static char *object_path(const char *container, const char *path)
{
	char *c = svc_escape(container, false), *o = svc_escape(path, true), *url = NULL;

	if (c && o && asprintf(&url, "/%s/%s", c, o) < 0)
		url = NULL;
	free(c);
	free(o);
	return url;
}

static char *swift_data_path(const char *id, const char *path)
{
	return object_path(id, path);
}

/* Swift guesses the type from the name, as `swift upload` does. */
static const char *const swift_put_headers[] = { "X-Detect-Content-Type: true", NULL };

static int64_t swift_part_size(struct svc_call *x)
{
	struct swift_info i = info_get(x);
	int64_t want = svc_part_size_option(x);
	int64_t max = !i.slo				 ? 0
		      : i.max_file_size < SWIFT_PART_MAX ? i.max_file_size
							 : SWIFT_PART_MAX;

	if (!want || !max)
		return max;
	/* Refused early and explicitly (svfs#38): Swift would answer 413 at
	 * the first full segment, or refuse the manifest. */
	if (want > max || want < i.min_segment_size) {
		log_cloud_error("part_size=%lld is outside what this Swift takes (%lld to %lld "
				"bytes, /info)",
				(long long)want, (long long)i.min_segment_size, (long long)max);
		return -EINVAL;
	}
	return want;
}

/* The largest object an upload can make: max_manifest_segments parts of
 * the part size, or (no SLO) max_file_size. */
static int64_t swift_size_limit(struct svc_call *x)
{
	struct swift_info i = info_get(x);
	int64_t part = swift_part_size(x);

	if (part < 0)
		return part;
	if (!part)
		return i.max_file_size;
	return i.max_manifest_segments > INT64_MAX / part ? 0 : i.max_manifest_segments * part;
}

/* An object name over max_object_name_length bytes: Swift would answer
 * 400 at the first PUT, which may be at close(2). */
static int swift_check_name(struct svc_call *x, const char *id, const char *path)
{
	struct swift_info i = info_get(x);
	size_t len = strlen(path);

	if ((long)len <= i.max_name)
		return 0;
	log_cloud_error("containers/%s/objects/%.64s...: the object name is %zu bytes, this Swift "
			"takes %ld (max_object_name_length)",
			id, path, len, i.max_name);
	return -ENAMETOOLONG;
}

static json_t *swift_replacing(struct svc_call *x, const char *id, const char *path);

/* Where an upload's parts go in <container>_segments: "<path>/slo/<stamp>/"
 * (malloc'd); a name too long for max_object_name_length with the part's
 * index is cut (at a character's start: the stamp keeps it unique). */
static char *seg_prefix(struct svc_call *x, const char *path, const char *stamp)
{
	size_t room = (size_t)info_get(x).max_name, len = strlen(path), tail;
	char *out = NULL;

	tail = strlen("/slo/") + strlen(stamp) + 1 + 8;
	if (len + tail > room) {
		len = room > tail ? room - tail : 0;
		while (len && ((unsigned char)path[len] & 0xc0) == 0x80)
			len--;
	}
	if (asprintf(&out, "%.*s/slo/%s/", (int)len, path, stamp) < 0)
		return NULL;
	return out;
}

/*
 * The container that container @id's segments go to (malloc'd): "<id>_segments",
 * or, when that is longer than max_container_name_length (a name over 246
 * bytes of the default 256), "<id cut>-<16 hex digits of the SHA-256 of
 * id>_segments" at that length. Two long names share one only if their cut
 * and hash do; the manifest names each segment's container anyway, and a
 * mark names its container ("container"), so nothing is derived back.
 */
static char *segs_name(struct svc_call *x, const char *id)
{
	size_t max = (size_t)info_get(x).max_container, sl = strlen(SWIFT_SEGMENTS_SUFFIX);
	size_t len = strlen(id), cut;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hash[2 * SWIFT_SEGMENTS_HASH + 1], *out = NULL;

	if (len + sl <= max)
		return asprintf(&out, "%s" SWIFT_SEGMENTS_SUFFIX, id) < 0 ? NULL : out;
	if (!EVP_Digest(id, len, md, &mdlen, EVP_sha256(), NULL) || mdlen * 2 < SWIFT_SEGMENTS_HASH)
		return NULL;
	for (int i = 0; i < SWIFT_SEGMENTS_HASH / 2; i++)
		snprintf(hash + 2 * i, 3, "%02x", md[i]);
	/* At a character's start: the name stays valid UTF-8. */
	cut = max - sl - 1 - SWIFT_SEGMENTS_HASH;
	while (cut && ((unsigned char)id[cut] & 0xc0) == 0x80)
		cut--;
	return asprintf(&out, "%.*s-%s" SWIFT_SEGMENTS_SUFFIX, (int)cut, id, hash) < 0 ? NULL : out;
}

/* PUTs container @segs (made, or found: 202). */
static int segs_make(struct svc_call *x, const char *segs)
{
	char *esc = svc_escape(segs, false), *url = NULL;
	int rc;

	if (esc && asprintf(&url, "/%s", esc) >= 0)
		rc = svc_request(x, "PUT", url, NULL, "", 0, "text/plain", NULL);
	else
		rc = -ENOMEM;
	free(esc);
	free(url);
	return rc;
}

static char *swift_part_path(struct svc_call *x, const char *id, const char *path,
			     const char *stamp, unsigned index)
{
	char *segs = segs_name(x, id), *seg = NULL, *url = NULL, *prefix;
	int rc = 0;

	if (!segs) {
		errno = ENOMEM;
		return NULL;
	}
	/* Made (or found: 202) before the first part goes there. */
	if (index == 0)
		rc = segs_make(x, segs);
	prefix = rc ? NULL : seg_prefix(x, path, stamp);
	if (prefix && asprintf(&seg, "%s%08u", prefix, index) >= 0)
		url = object_path(segs, seg);
	free(prefix);
	free(seg);
	free(segs);
	if (!url)
		errno = rc ? -rc : ENOMEM;
	return url;
}

/*
 * Upload marks: "<segments container>/.cloudfs-uploads/<stamp>", a small
 * JSON object {"marker": <process>, "container": <container>, "object":
 * <name>, "prefix": <parts' prefix>}, there from before the first part
 * until the manifest landed or the parts were deleted. Overwriting a large
 * object adds "old": [<its segments, "/<container>/<object>">] before the
 * new object lands (an upload without parts makes its mark then), and the
 * mark goes once they are deleted. A cloudfs killed meanwhile leaves it;
 * the next mount on this host (at_start) deletes what it names.
 */
#define MARKS_PREFIX ".cloudfs-uploads/"

static int swift_mark_parts(struct svc_call *x, const char *id, const char *path, const char *stamp,
			    const char *marker, const json_t *old, char **mark_path)
{
	char *segs = segs_name(x, id), *name = NULL, *prefix = seg_prefix(x, path, stamp);
	char *body = NULL, *url = NULL;
	json_t *doc = NULL, *names = NULL;
	const json_t *seg;
	size_t i;
	int rc = -ENOMEM;

	if (!prefix || !segs || asprintf(&name, MARKS_PREFIX "%s", stamp) < 0)
		goto out;
	doc = json_pack("{ssssssss}", "marker", marker, "container", id, "object", path, "prefix",
			prefix);
	if (!doc)
		goto out;
	if (old) {
		names = json_array();
		if (!names || json_object_set(doc, "old", names))
			goto out;
		json_array_foreach(old, i, seg)
		{
			const json_t *n = json_object_get(seg, "name");

			if (json_is_string(n) && json_array_append(names, (json_t *)n))
				goto out;
		}
	}
	body = json_dumps(doc, JSON_COMPACT);
	url = object_path(segs, name);
	if (!body || !url)
		goto out;
	/* An upload without parts has no segments container yet (one with
	 * parts made it before its first part). */
	if (old && !*mark_path) {
		rc = segs_make(x, segs);
		if (rc)
			goto out;
	}
	rc = svc_request(x, "PUT", url, NULL, body, strlen(body), "application/json", NULL);
	if (!rc) {
		free(*mark_path);
		*mark_path = url;
		url = NULL;
	}
out:
	json_decref(names);
	json_decref(doc);
	free(url);
	free(body);
	free(name);
	free(segs);
	free(prefix);
	return rc;
}

/* Whether @manifest (an object's, or NULL) has parts under @prefix of
 * @segs: the upload did land before its process died. */
static bool mark_committed(const json_t *manifest, const char *segs, const char *prefix)
{
	const json_t *seg;
	bool found = false;
	size_t i, sl = strlen(segs), pl = strlen(prefix);

	json_array_foreach(manifest, i, seg)
	{
		const char *n = json_string_value(json_object_get(seg, "name"));

		if (n && n[0] == '/' && !strncmp(n + 1, segs, sl) && n[1 + sl] == '/' &&
		    !strncmp(n + 2 + sl, prefix, pl))
			found = true;
	}
	return found;
}

/* Whether @manifest (or NULL) names segment @name ("/<container>/<object>"). */
static bool manifest_names(const json_t *manifest, const char *name)
{
	return service_member_where(manifest, "name", name) != NULL;
}

static int object_manifest(struct svc_call *x, const char *id, const char *path, json_t **segs);

/* Deletes the segments @old names ("/<container>/<object>", untrusted:
 * nothing else is touched) that @keep (the manifest the object has now)
 * does not: 0 when all are gone (404 included), else the last -errno. */
static int delete_old(struct svc_call *x, const json_t *old, const json_t *keep, size_t *count)
{
	const json_t *seg;
	size_t i;
	int failed = 0;

	json_array_foreach(old, i, seg)
	{
		const json_t *v = json_is_object(seg) ? json_object_get(seg, "name") : seg;
		const char *name = json_string_value(v);
		const char *slash = name && name[0] == '/' ? strchr(name + 1, '/') : NULL;
		char *cont, *url;
		int rc;

		if (!slash || slash == name + 1 || !slash[1] || manifest_names(keep, name))
			continue;
		cont = strndup(name + 1, (size_t)(slash - name - 1));
		url = cont ? object_path(cont, slash + 1) : NULL;
		rc = url ? svc_cleanup_delete(x, url) : -ENOMEM;
		if (rc && rc != -ENOENT)
			failed = rc;
		else if (count)
			(*count)++;
		free(url);
		free(cont);
	}
	return failed;
}

/* Deletes every object of @segs under @prefix (the cloud's listing, paged
 * to its end): 0 when all are gone. */
static int delete_prefix(struct svc_call *x, const char *segs, const char *prefix)
{
	char *c = svc_escape(segs, false), *pre = svc_escape(prefix, false);
	long page = info_get(x).listing_limit;
	int rc = c && pre ? 0 : -ENOMEM, failed = 0;

	for (int round = 0; !rc && round < 1000; round++) {
		struct svc_answer a;
		const json_t *item;
		char *url = NULL;
		size_t i, deleted = 0;

		if (asprintf(&url, "/%s?format=json&limit=%ld&prefix=%s", c, page, pre) < 0) {
			rc = -ENOMEM;
			break;
		}
		rc = list_page(x, url, &a);
		free(url);
		if (rc) {
			rc = rc > 0 ? 0 : rc;
			break;
		}
		json_array_foreach(a.json, i, item)
		{
			const char *n = json_string_value(json_object_get(item, "name"));
			char *obj;
			int r;

			/* Untrusted: only what is below the prefix asked for. */
			if (!n || strncmp(n, prefix, strlen(prefix)))
				continue;
			obj = object_path(segs, n);
			r = obj ? svc_cleanup_delete(x, obj) : -ENOMEM;
			free(obj);
			if (r && r != -ENOENT)
				failed = r;
			else
				deleted++;
		}
		svc_answer_free(&a);
		/* What a lagging listing still shows is gone already. */
		if (!deleted || failed)
			break;
	}
	free(c);
	free(pre);
	return rc ? rc : failed;
}

/*
 * One mark of container @segs: a dead process's upload is undone. Its
 * parts are deleted unless the object's manifest names them (it landed);
 * the old segments of the object it replaced ("old") are deleted unless the
 * object's manifest now names them (the old object still stands, or
 * another client's does), and kept when the object is gone (deleted, or
 * renamed: the new name may use them). The manifest is read now, not
 * trusted from the mark: another client may have written meanwhile.
 */
static void sweep_mark(struct svc_call *x, const char *segs, const char *name,
		       bool (*dead)(void *ctx, const char *marker), void *ctx)
{
	const char *stamp = name + strlen(MARKS_PREFIX), *marker, *object, *prefix, *in;
	char *mark = object_path(segs, name), *cont = NULL, *want = NULL, *check = NULL;
	struct svc_answer a = { 0 };
	const json_t *old;
	json_t *now = NULL;
	size_t gone = 0;
	int rc, there;

	if (!mark || svc_request(x, "GET", mark, NULL, NULL, 0, NULL, &a))
		goto out;
	marker = json_string_value(json_object_get(a.json, "marker"));
	object = json_string_value(json_object_get(a.json, "object"));
	prefix = json_string_value(json_object_get(a.json, "prefix"));
	in = json_string_value(json_object_get(a.json, "container"));
	old = json_object_get(a.json, "old");
	/* Untrusted: the parts' prefix must be the one this stamp makes. */
	if (!marker || !object || !prefix || !*stamp || strchr(stamp, '/') ||
	    asprintf(&want, "/slo/%s/", stamp) < 0 || strlen(prefix) <= strlen(want) ||
	    strcmp(prefix + strlen(prefix) - strlen(want), want) || (old && !json_is_array(old)))
		goto out;
	if (!dead(ctx, marker))
		goto out;
	/* The container the mark names must be one whose segments go here
	 * (a mark of an older cloudfs names none: "<it>_segments"). */
	if (in) {
		check = segs_name(x, in);
		if (!check || strcmp(check, segs))
			goto out;
		cont = strdup(in);
	} else {
		cont = strndup(segs, strlen(segs) - strlen(SWIFT_SEGMENTS_SUFFIX));
	}
	if (!cont)
		goto out;
	/* What the object is now: 0 (there; a large one's manifest in
	 * @now), -ENOENT (gone), or a failure: the mark waits. */
	there = object_manifest(x, cont, object, &now);
	if (there && there != -ENOENT)
		goto out;
	if (mark_committed(now, segs, prefix)) {
		log_info("containers/%s/objects/%s: the upload of a cloudfs that ended had landed",
			 cont, object);
	} else {
		log_warn(
			"containers/%s/objects/%s was being uploaded by a cloudfs that ended (%s); "
			"deleting its segments",
			cont, object, marker);
		rc = delete_prefix(x, segs, prefix);
		if (rc) {
			log_cloud_error("containers/%s/objects/%s: segments %s%s of a cloudfs that "
					"ended could not be deleted (%s); tried again at the next "
					"mount",
					cont, object, segs, prefix, strerror(-rc));
			goto out;
		}
	}
	if (old && !there) {
		rc = delete_old(x, old, now, &gone);
		if (gone)
			log_warn("containers/%s/objects/%s: deleted %zu segments of the object a "
				 "cloudfs that ended (%s) replaced",
				 cont, object, gone, marker);
		if (rc) {
			log_cloud_error(
				"containers/%s/objects/%s: segments of the object a cloudfs "
				"that ended replaced could not be deleted (%s); tried "
				"again at the next mount",
				cont, object, strerror(-rc));
			goto out;
		}
	}
	log_info("containers/%s/objects/%s: the mark %s of a cloudfs that ended is removed", cont,
		 object, name);
	rc = svc_cleanup_delete(x, mark);
	(void)rc; /* a mark left is tried again at the next mount */
out:
	json_decref(now);
	svc_answer_free(&a);
	free(check);
	free(want);
	free(cont);
	free(mark);
}

/* The marks of one <container>_segments. */
static void sweep_container(struct svc_call *x, const char *segs,
			    bool (*dead)(void *ctx, const char *marker), void *ctx)
{
	char *c = svc_escape(segs, false), *url = NULL;
	struct svc_answer a = { 0 };
	const json_t *item;
	size_t i;

	if (!c || asprintf(&url, "/%s?format=json&limit=%ld&prefix=" MARKS_PREFIX, c,
			   info_get(x).listing_limit) < 0)
		url = NULL;
	if (url && !svc_request(x, "GET", url, NULL, NULL, 0, NULL, &a) && json_is_array(a.json))
		json_array_foreach(a.json, i, item)
		{
			const char *n = json_string_value(json_object_get(item, "name"));

			if (n && !strncmp(n, MARKS_PREFIX, strlen(MARKS_PREFIX)))
				sweep_mark(x, segs, n, dead, ctx);
		}
	svc_answer_free(&a);
	free(url);
	free(c);
}

/* At mount: /info's limits, then the marks of every <container>_segments
 * of the account (one account listing, one listing per such container). */
static void swift_at_start(struct svc_call *x, bool (*dead)(void *ctx, const char *marker),
			   void *ctx)
{
	char *marker = NULL;
	size_t sl = strlen(SWIFT_SEGMENTS_SUFFIX);

	(void)info_get(x);
	for (int round = 0; round < 1000; round++) {
		struct svc_answer a = { 0 };
		char *url = NULL, *m = marker ? svc_escape(marker, false) : NULL;
		const json_t *item;
		size_t i;

		if ((marker && !m) ||
		    asprintf(&url, "?format=json&limit=%ld%s%s", info_get(x).listing_limit,
			     m ? "&marker=" : "", m ? m : "") < 0)
			url = NULL;
		free(m);
		if (!url || svc_request(x, "GET", url, NULL, NULL, 0, NULL, &a) ||
		    !json_array_size(a.json)) {
			free(url);
			svc_answer_free(&a);
			break;
		}
		free(url);
		json_array_foreach(a.json, i, item)
		{
			const char *n = json_string_value(json_object_get(item, "name"));
			size_t nl = n ? strlen(n) : 0;

			if (!n)
				continue;
			free(marker);
			marker = strdup(n);
			if (nl > sl && !strcmp(n + nl - sl, SWIFT_SEGMENTS_SUFFIX))
				sweep_container(x, n, dead, ctx);
		}
		svc_answer_free(&a);
		if (!marker)
			break;
	}
	free(marker);
}

/* The type /etc/mime.types gives the extension of @path's last component,
 * into @out; application/octet-stream when none. A manifest cannot ask
 * Swift to guess it (X-Detect-Content-Type replaces the content type the
 * SLO middleware marks with the total size, and the container listing
 * then shows the manifest's few hundred bytes as the object's size). */
static void guess_type(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/'), *ext;
	char line[512];
	FILE *f;

	snprintf(out, len, "application/octet-stream");
	base = base ? base + 1 : path;
	ext = strrchr(base, '.');
	if (!ext || !ext[1] || ext == base || strlen(ext + 1) > 32)
		return;
	ext++;
	f = fopen("/etc/mime.types", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *type = strtok_r(line, " \t\r\n", &save), *e;

		if (!type || type[0] == '#')
			continue;
		while ((e = strtok_r(NULL, " \t\r\n", &save)))
			if (!strcasecmp(e, ext)) {
				snprintf(out, len, "%s", type);
				fclose(f);
				return;
			}
	}
	fclose(f);
}

/* PUTs the manifest; Swift checks each segment's ETag and size against it
 * and answers with the SLO's ETag (the MD5 of the segments' MD5s), which
 * the core compares with its own. */
static int swift_parts_commit(struct svc_call *x, const char *id, const char *path,
			      const struct tree_part *parts, size_t n, char *etag, size_t etag_len)
{
	char type[128];
	json_t *manifest = json_array();
	char *body = NULL, *url = NULL, *full = NULL;
	struct svc_answer a = { 0 };
	int rc = manifest ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < n; i++) {
		/* The manifest names segments unescaped: "/<container>/<object>". */
		const char *p = parts[i].path;
		char *plain = NULL;
		json_t *seg;

		plain = malloc(strlen(p) + 1);
		if (!plain) {
			rc = -ENOMEM;
			break;
		}
		/* Undo object_path()'s escaping (only %XX sequences made there). */
		{
			size_t o = 0;

			for (size_t k = 0; p[k]; k++) {
				unsigned v;

				if (p[k] == '%' && sscanf(p + k + 1, "%2x", &v) == 1) {
					plain[o++] = (char)v;
					k += 2;
				} else {
					plain[o++] = p[k];
				}
			}
			plain[o] = '\0';
		}
		seg = json_pack("{sssssI}", "path", plain, "etag", parts[i].md5, "size_bytes",
				(json_int_t)parts[i].size);
		free(plain);
		if (!seg || json_array_append_new(manifest, seg))
			rc = -ENOMEM;
	}
	if (!rc) {
		body = json_dumps(manifest, JSON_COMPACT);
		url = object_path(id, path);
		if (!body || !url || asprintf(&full, "%s?multipart-manifest=put", url) < 0) {
			full = NULL;
			rc = -ENOMEM;
		}
	}
	/* The manifest's own Content-Type is the large object's. */
	guess_type(path, type, sizeof(type));
	if (!rc)
		rc = svc_request(x, "PUT", full, NULL, body, strlen(body), type, &a);
	/* A 2xx without an ETag cannot be checked: a manifest Swift did not
	 * build from our segments. */
	if (!rc && !a.etag[0])
		rc = -EIO;
	if (!rc)
		snprintf(etag, etag_len, "%s", a.etag);
	svc_answer_free(&a);
	free(full);
	free(url);
	free(body);
	json_decref(manifest);
	return rc;
}

/* Object @path as it is: 0 with its manifest (a JSON array) in *@segs
 * when it is a large object, NULL when not; -ENOENT when there is none,
 * or another -errno. */
static int object_manifest(struct svc_call *x, const char *id, const char *path, json_t **segs)
{
	char *url = object_path(id, path), *full = NULL, *slo = NULL;
	struct svc_answer a = { 0 };
	int rc;

	*segs = NULL;
	rc = url ? svc_request(x, "HEAD", url, NULL, NULL, 0, NULL, &a) : -ENOMEM;
	if (rc)
		goto out;
	slo = svc_header(&a, "X-Static-Large-Object");
	svc_answer_free(&a);
	if (!slo || strcasecmp(slo, "true"))
		goto out;
	if (asprintf(&full, "%s?multipart-manifest=get", url) < 0) {
		full = NULL;
		rc = -ENOMEM;
		goto out;
	}
	rc = svc_request(x, "GET", full, NULL, NULL, 0, NULL, &a);
	if (!rc && json_is_array(a.json))
		*segs = json_incref(a.json);
	else if (!rc)
		rc = -EIO;
	svc_answer_free(&a);
out:
	free(slo);
	free(full);
	free(url);
	return rc;
}

/* What overwriting @path replaces: a large object's segments (its
 * manifest, a JSON array), deleted once the new object has landed. */
static json_t *swift_replacing(struct svc_call *x, const char *id, const char *path)
{
	json_t *segs = NULL;

	(void)object_manifest(x, id, path, &segs);
	return segs;
}

static int swift_replaced(struct svc_call *x, const char *id, const char *path, json_t *old)
{
	/* An old segment that stays is the cloud's garbage, not the user's
	 * data: logged (.cloudfs/errors), the write stands, and the mark
	 * that names it stays for a later mount. */
	int rc = delete_old(x, old, NULL, NULL);

	(void)id;
	(void)path;
	json_decref(old);
	return rc;
}

static int swift_mkdir(struct svc_call *x, const char *id, const char *path)
{
	char *url = object_path(id, path);
	int rc;

	if (!url)
		return -ENOMEM;
	/* "a/" of type application/directory: never collides with a file
	 * "a", and every client reads it as a directory. */
	rc = svc_request(x, "PUT", url, NULL, "", 0, "application/directory", NULL);
	free(url);
	return rc;
}

/* The verdict of a DELETE ?multipart-manifest=delete, which Swift answers
 * 200 whatever happened, with the real status and errors in its body: 0,
 * 1 when the object is no SLO (delete it plainly), or -errno. */
static int slo_delete_verdict(const json_t *answer)
{
	const char *status = json_string_value(json_object_get(answer, "Response Status"));
	const json_t *err;
	size_t i;

	if (!status)
		return -EIO;
	if (status[0] == '2')
		return 0;
	json_array_foreach(json_object_get(answer, "Errors"), i, err)
	{
		const char *why = json_string_value(json_array_get(err, 1));

		if (why && strstr(why, "Not an SLO manifest"))
			return 1;
	}
	if (!strncmp(status, "404", 3))
		return -ENOENT;
	if (!strncmp(status, "409", 3))
		return -EBUSY;
	if (!strncmp(status, "401", 3) || !strncmp(status, "403", 3))
		return -EACCES;
	return -EIO;
}

static int swift_remove(struct svc_call *x, const char *id, const char *path, bool dir, bool plain)
{
	static const char *const accept[] = { "Accept: application/json", NULL };
	struct svc_answer a = { 0 };
	char *url = NULL, *full = NULL;
	int rc;

	if (dir) {
		/* Both marker conventions: "a/" and "a" (application/directory).
		 * Neither may exist (a directory made by its objects alone). */
		int r1, r2;
		size_t len = strlen(path);
		char *bare = len ? strndup(path, len - 1) : NULL;

		url = object_path(id, path);
		full = bare ? object_path(id, bare) : NULL;
		free(bare);
		if (!url || !full) {
			rc = -ENOMEM;
			goto out;
		}
		r1 = svc_request(x, "DELETE", url, NULL, NULL, 0, NULL, NULL);
		r2 = svc_request(x, "DELETE", full, NULL, NULL, 0, NULL, NULL);
		rc = r1 && r1 != -ENOENT ? r1 : r2 && r2 != -ENOENT ? r2 : 0;
		goto out;
	}
	url = object_path(id, path);
	if (!url) {
		rc = -ENOMEM;
		goto out;
	}
	/* A plain object (its listing gave its MD5): one DELETE. */
	if (plain) {
		rc = svc_request(x, "DELETE", url, NULL, NULL, 0, NULL, NULL);
		goto out;
	}
	if (asprintf(&full, "%s?multipart-manifest=delete", url) < 0) {
		full = NULL;
		rc = -ENOMEM;
		goto out;
	}
	/* A large object's segments go with it. Swift answers 200 even when
	 * it deleted nothing (the object is no SLO): the body says. */
	rc = svc_request(x, "DELETE", full, accept, NULL, 0, NULL, &a);
	if (!rc)
		rc = slo_delete_verdict(a.json);
	if (rc == 1 || rc == -EINVAL)
		rc = svc_request(x, "DELETE", url, NULL, NULL, 0, NULL, NULL);
out:
	svc_answer_free(&a);
	free(full);
	free(url);
	return rc;
}

static int swift_rename(struct svc_call *x, const char *id, const char *from, const char *to)
{
	char *src = object_path(id, from), *dst = object_path(id, to), *hdr = NULL, *full = NULL;
	const char *hdrs[2] = { NULL, NULL };
	int rc = -ENOMEM;

	/* A server-side copy; a large object's manifest is copied (its
	 * segments stay and are shared), then the old name deleted without
	 * its segments. Not atomic: a failure between leaves both names. */
	if (!src || !dst || asprintf(&hdr, "X-Copy-From: %s", src) < 0 ||
	    asprintf(&full, "%s?multipart-manifest=get", dst) < 0)
		goto out;
	hdrs[0] = hdr;
	rc = svc_request(x, "PUT", full, hdrs, "", 0, "application/octet-stream", NULL);
	if (!rc)
		rc = svc_request(x, "DELETE", src, NULL, NULL, 0, NULL, NULL);
out:
	free(full);
	free(hdr);
	free(src);
	free(dst);
	return rc;
}

/* ---- object metadata as extended attributes ---------------------------- */
/*
 * user.swift.meta.<key>   X-Object-Meta-<Key> (keys lower case, as Swift
 *                         keeps them case-insensitively)
 * user.swift.content_type Content-Type (writable)
 * user.swift.delete_at    X-Delete-At, Unix seconds (writable; removing it
 *                         cancels the expiry)
 * user.swift.etag         ETag (read-only)
 * user.swift.slo          "true" for a Static Large Object (read-only)
 * A POST replaces every X-Object-Meta-* of an object, so a change is the
 * HEAD's set with one key changed, POSTed whole.
 */
#define XA "user.swift."
#define XA_META XA "meta."
#define META_HDR "X-Object-Meta-"

static int head_object(struct svc_call *x, const char *id, const char *path, struct svc_answer *a)
{
	char *url = object_path(id, path);
	int rc = url ? svc_request(x, "HEAD", url, NULL, NULL, 0, NULL, a) : -ENOMEM;

	free(url);
	return rc;
}

/* Each "X-Object-Meta-<Key>: value" line of @a as (key lower-cased,
 * value) into @fn; stops at its non-zero answer. */
static int each_meta(const struct svc_answer *a, int (*fn)(void *, const char *, const char *),
		     void *arg)
{
	size_t hl = strlen(META_HDR);
	int rc = 0;

	for (const char *l = a->xheaders; !rc && l && *l;) {
		const char *end = strchr(l, '\n'), *colon;
		size_t len = end ? (size_t)(end - l) : strlen(l);

		colon = memchr(l, ':', len);
		if (colon && (size_t)(colon - l) > hl && !strncasecmp(l, META_HDR, hl)) {
			size_t kl = (size_t)(colon - l) - hl, vl = len - (size_t)(colon - l) - 1;
			char *key = strndup(l + hl, kl), *value;
			const char *v = colon + 1;

			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\r'))
				vl--;
			for (size_t i = 0; key && i < kl; i++)
				key[i] = (char)tolower((unsigned char)key[i]);
			value = strndup(v, vl);
			rc = key && value ? fn(arg, key, value) : -ENOMEM;
			free(key);
			free(value);
		}
		l = end ? end + 1 : l + len;
	}
	return rc;
}

static int meta_into_json(void *arg, const char *key, const char *value)
{
	char *name = NULL;
	int rc;

	if (asprintf(&name, XA_META "%s", key) < 0)
		return -ENOMEM;
	rc = json_object_set_new(arg, name, json_string(value)) ? -ENOMEM : 0;
	free(name);
	return rc;
}

static int swift_xattrs(struct svc_call *x, const char *id, const char *path, json_t **out)
{
	struct svc_answer a;
	json_t *all = json_object();
	char *v;
	int rc = all ? head_object(x, id, path, &a) : -ENOMEM;

	if (rc) {
		json_decref(all);
		return rc;
	}
	rc = each_meta(&a, meta_into_json, all);
	if (!rc && a.content_type[0])
		rc = json_object_set_new(all, XA "content_type", json_string(a.content_type));
	if (!rc && a.etag[0])
		rc = json_object_set_new(all, XA "etag", json_string(a.etag));
	v = svc_header(&a, "X-Delete-At");
	if (!rc && v)
		rc = json_object_set_new(all, XA "delete_at", json_string(v));
	free(v);
	v = svc_header(&a, "X-Static-Large-Object");
	if (!rc && v && !strcasecmp(v, "true"))
		rc = json_object_set_new(all, XA "slo", json_string("true"));
	free(v);
	svc_answer_free(&a);
	if (rc) {
		json_decref(all);
		return -ENOMEM;
	}
	*out = all;
	return 0;
}

/* A header's value: printable UTF-8, no CR or LF (it would end the
 * header), as Swift stores it. */
static bool header_safe(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	return true;
}

struct meta_set {
	const char *skip; /* the key being changed */
	const char **hdrs;
	size_t n, cap;
	size_t total; /* bytes of keys and values, Swift's overall limit */
	char **owned;
};

static int meta_keep(void *arg, const char *key, const char *value)
{
	struct meta_set *m = arg;
	char *h = NULL;

	if (m->skip && !strcmp(key, m->skip))
		return 0;
	if (m->n + 1 >= m->cap)
		return -E2BIG;
	if (asprintf(&h, META_HDR "%s: %s", key, value) < 0)
		return -ENOMEM;
	m->owned[m->n] = h;
	m->hdrs[m->n++] = h;
	m->total += strlen(key) + strlen(value);
	return 0;
}

static int swift_set_xattr(struct svc_call *x, const char *id, const char *path, const char *name,
			   const char *value, size_t len)
{
	struct swift_info lim = info_get(x);
	/* Every key the object has, the one set, the type and the expiry. */
	size_t cap = (size_t)lim.meta_count + 4;
	const char **hdrs = NULL;
	char **owned = NULL, *url = NULL, *ct = NULL, *del = NULL, *old_del = NULL;
	struct meta_set m = { NULL, NULL, 0, cap, 0, NULL };
	bool is_meta = !strncmp(name, XA_META, strlen(XA_META));
	bool is_ct = !strcmp(name, XA "content_type"), is_del = !strcmp(name, XA "delete_at");
	struct svc_answer a = { 0 };
	int rc;

	if (!strcmp(name, XA "etag") || !strcmp(name, XA "slo"))
		return -EPERM;
	if (!is_meta && !is_ct && !is_del)
		return -ENOTSUP;
	if (value && !header_safe(value, len))
		return -EINVAL;
	/* Past /info's max_meta_value_length (setxattr(2): E2BIG, the value
	 * is too large) and max_meta_name_length (ERANGE, the name is). */
	if (value && is_meta && (long)len > lim.meta_value)
		return -E2BIG;
	if (is_meta) {
		const char *key = name + strlen(XA_META);
		size_t kl = strlen(key);

		if ((long)kl > lim.meta_name)
			return -ERANGE;
		if (!kl)
			return -EINVAL;
		for (size_t i = 0; i < kl; i++)
			if (!(isalnum((unsigned char)key[i]) || key[i] == '-' || key[i] == '_'))
				return -EINVAL;
		m.skip = key;
	}
	hdrs = calloc(cap + 1, sizeof(*hdrs));
	owned = calloc(cap + 1, sizeof(*owned));
	if (!hdrs || !owned) {
		free(hdrs);
		free(owned);
		return -ENOMEM;
	}
	m.hdrs = hdrs;
	m.owned = owned;
	rc = head_object(x, id, path, &a);
	if (rc)
		goto out;
	if (is_meta && !value) {
		/* Removing a key it does not have: ENODATA, as for a file. */
		char *hname = NULL, *cur;

		if (asprintf(&hname, META_HDR "%s", m.skip) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		cur = svc_header(&a, hname);
		free(hname);
		if (!cur) {
			rc = -ENODATA;
			goto out;
		}
		free(cur);
	}
	rc = each_meta(&a, meta_keep, &m);
	if (!rc && is_meta && value) {
		char *h = NULL;

		if (asprintf(&h, META_HDR "%s: %.*s", m.skip, (int)len, value) < 0) {
			rc = -ENOMEM;
		} else if (m.n + 1 >= m.cap) {
			free(h);
			rc = -E2BIG;
		} else {
			owned[m.n] = h;
			hdrs[m.n++] = h;
			m.total += strlen(m.skip) + len;
		}
	}
	if (rc == -E2BIG ||
	    (!rc && ((long)m.n > lim.meta_count || (long)m.total > lim.meta_overall)))
		rc = -ENOSPC;
	if (rc)
		goto out;
	/* The content type and the expiry stay unless they are what changes. */
	if (is_ct) {
		if (!value || !len) {
			rc = -EINVAL;
			goto out;
		}
		if (asprintf(&ct, "Content-Type: %.*s", (int)len, value) < 0)
			ct = NULL;
	} else if (asprintf(&ct, "Content-Type: %s",
			    a.content_type[0] ? a.content_type : "application/octet-stream") < 0) {
		ct = NULL;
	}
	if (is_del && value) {
		for (size_t i = 0; i < len; i++)
			if (value[i] < '0' || value[i] > '9')
				rc = -EINVAL;
		if (!len || rc || asprintf(&del, "X-Delete-At: %.*s", (int)len, value) < 0) {
			rc = rc ? rc : -EINVAL;
			goto out;
		}
	} else if (is_del) {
		del = strdup("X-Remove-Delete-At: 1");
	} else if ((old_del = svc_header(&a, "X-Delete-At")) &&
		   asprintf(&del, "X-Delete-At: %s", old_del) < 0) {
		del = NULL;
	}
	if (!ct || ((is_del || old_del) && !del)) {
		rc = -ENOMEM;
		goto out;
	}
	hdrs[m.n] = ct;
	hdrs[m.n + 1] = del;
	url = object_path(id, path);
	rc = url ? svc_request(x, "POST", url, hdrs, NULL, 0, NULL, NULL) : -ENOMEM;
out:
	for (size_t i = 0; i < m.n; i++)
		free(owned[i]);
	free(owned);
	free(hdrs);
	free(url);
	free(ct);
	free(del);
	free(old_del);
	svc_answer_free(&a);
	return rc;
}

/* Listed (and so copied by cp --preserve=xattr, rsync -X): the user's
 * metadata and expiry; the type, ETag and SLO flag are read by name. */
static bool swift_xattr_listed(const char *name)
{
	return !strncmp(name, XA_META, strlen(XA_META)) || !strcmp(name, XA "delete_at");
}

/* A 0-byte object with the empty MD5 may be a Dynamic Large Object, whose
 * listing says 0 bytes: its HEAD's Content-Length (the concatenation of its
 * segments, as Swift serves it) is its size. One HEAD per open for reading
 * of a 0-byte object, paid by the one who reads it. */
static int swift_open_size(struct svc_call *x, const char *id, const char *path, const char *md5,
			   int64_t *size)
{
	char *url, *m;
	struct svc_answer a;
	int rc;

	if (!md5 || strcmp(md5, EMPTY_MD5))
		return 0;
	url = object_path(id, path);
	rc = url ? svc_request(x, "HEAD", url, NULL, NULL, 0, NULL, &a) : -ENOMEM;
	free(url);
	if (rc)
		return rc;
	m = svc_header(&a, "X-Object-Manifest");
	if (m && a.content_length > 0) {
		*size = a.content_length;
		rc = 1;
	}
	free(m);
	svc_answer_free(&a);
	return rc;
}

static const struct tree_def swift_objects = {
	.open_size = swift_open_size,
	.list = swift_list,
	.data_path = swift_data_path,
	.put_headers = swift_put_headers,
	.part_size = swift_part_size,
	.size_limit = swift_size_limit,
	.check_name = swift_check_name,
	.part_path = swift_part_path,
	.mark_parts = swift_mark_parts,
	.at_start = swift_at_start,
	.parts_commit = swift_parts_commit,
	.replacing = swift_replacing,
	.replaced = swift_replaced,
	.mkdir = swift_mkdir,
	.remove = swift_remove,
	.rename = swift_rename,
	.xattrs = swift_xattrs,
	.set_xattr = swift_set_xattr,
	.xattr_listed = swift_xattr_listed,
};

/* ---- container metadata and ACLs --------------------------------------- */
/*
 * metadata/<key>  X-Container-Meta-<Key> (keys lower case): cat, echo >,
 *                 rm; a new file is a new key
 * read, write     X-Container-Read / X-Container-Write (ACLs): an empty
 *                 value removes the ACL
 * Each read is one HEAD of the container; each change one POST (a
 * container POST changes only the headers it names).
 */
#define CMETA_HDR "X-Container-Meta-"

static int head_container(const struct extra_ctx *x, struct svc_answer *a)
{
	char *c = svc_escape(x->id, false), *url = NULL;
	int rc = c && asprintf(&url, "/%s", c) >= 0
			 ? svc_request_extra(x, "HEAD", url, NULL, NULL, 0, NULL, a)
			 : -ENOMEM;

	free(url);
	free(c);
	return rc;
}

static int post_container(const struct extra_ctx *x, const char *header)
{
	const char *hdrs[] = { header, NULL };
	char *c = svc_escape(x->id, false), *url = NULL;
	int rc = c && asprintf(&url, "/%s", c) >= 0
			 ? svc_request_extra(x, "POST", url, hdrs, NULL, 0, NULL, NULL)
			 : -ENOMEM;

	free(url);
	free(c);
	return rc;
}

/* A value as Swift takes it in a header: one line of printable text
 * (the final newline of echo dropped). */
static int header_text(const struct extra_ctx *x, const char *what, const char *data, size_t *len)
{
	if (*len && data[*len - 1] == '\n')
		(*len)--;
	if (!header_safe(data, *len)) {
		log_cloud_error("containers/%s/%s: a value is one line of text without control "
				"characters",
				x->id, what);
		return -EINVAL;
	}
	return 0;
}

struct cmeta_fill {
	extra_fill_fn fill;
	void *ctx;
};

static int cmeta_each(const struct svc_answer *a, int (*fn)(void *, const char *, const char *),
		      void *arg)
{
	size_t hl = strlen(CMETA_HDR);
	int rc = 0;

	for (const char *l = a->xheaders; !rc && l && *l;) {
		const char *end = strchr(l, '\n'), *colon;
		size_t len = end ? (size_t)(end - l) : strlen(l);

		colon = memchr(l, ':', len);
		if (colon && (size_t)(colon - l) > hl && !strncasecmp(l, CMETA_HDR, hl)) {
			char *key = strndup(l + hl, (size_t)(colon - l) - hl), *value;
			const char *v = colon + 1;
			size_t vl = len - (size_t)(colon - l) - 1;

			while (vl && *v == ' ')
				v++, vl--;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\r'))
				vl--;
			value = strndup(v, vl);
			for (char *k = key; k && *k; k++)
				*k = (char)tolower((unsigned char)*k);
			rc = key && value ? fn(arg, key, value) : -ENOMEM;
			free(key);
			free(value);
		}
		l = end ? end + 1 : l + len;
	}
	return rc;
}

static int cmeta_fill_one(void *arg, const char *key, const char *value)
{
	struct cmeta_fill *f = arg;

	(void)value;
	return f->fill(f->ctx, key, EXTRA_FILE, NULL);
}

static int cmeta_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx)
{
	struct cmeta_fill f = { fill, fill_ctx };
	struct svc_answer a;
	int rc = head_container(x, &a);

	if (!rc)
		rc = cmeta_each(&a, cmeta_fill_one, &f);
	svc_answer_free(&a);
	return rc < 0 ? rc : 0;
}

struct cmeta_find {
	const char *key;
	struct buf *out; /* NULL: only whether it is there */
	bool found;
};

static int cmeta_find_one(void *arg, const char *key, const char *value)
{
	struct cmeta_find *f = arg;

	if (strcasecmp(key, f->key))
		return 0;
	f->found = true;
	if (f->out && (buf_addstr(f->out, value) || buf_add(f->out, "\n", 1)))
		return -ENOMEM;
	return 1;
}

static int cmeta_get(const struct extra_ctx *x, struct buf *out)
{
	struct cmeta_find f = { x->nsub ? x->sub[0] : "", out, false };
	struct svc_answer a;
	int rc = x->nsub == 1 ? head_container(x, &a) : -ENOENT;

	if (rc)
		return rc;
	rc = cmeta_each(&a, cmeta_find_one, &f);
	svc_answer_free(&a);
	if (rc < 0)
		return rc;
	return f.found ? 0 : -ENOENT;
}

static int cmeta_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	int rc = cmeta_get(x, NULL);

	e->kind = EXTRA_FILE;
	e->mode = 0644;
	return rc;
}

static int cmeta_show(const struct extra_ctx *x, struct buf *out)
{
	return cmeta_get(x, out);
}

static int cmeta_store(const struct extra_ctx *x, const char *data, size_t len)
{
	struct swift_info lim = swift_info_cached();
	const char *key = x->nsub ? x->sub[0] : "";
	char *h = NULL;
	int rc;

	if (!*key || (long)strlen(key) > lim.meta_name)
		return -EINVAL;
	for (const char *k = key; *k; k++)
		if (!(isalnum((unsigned char)*k) || *k == '-' || *k == '_'))
			return -EINVAL;
	rc = header_text(x, "metadata", data, &len);
	if (!rc && (long)len > lim.meta_value)
		rc = -EFBIG;
	if (!rc && asprintf(&h, CMETA_HDR "%s: %.*s", key, (int)len, data) < 0)
		rc = -ENOMEM;
	if (!rc)
		rc = post_container(x, h);
	free(h);
	return rc;
}

static int cmeta_unlink(const struct extra_ctx *x)
{
	char *h = NULL;
	int rc = cmeta_get(x, NULL);

	if (!rc && asprintf(&h, "X-Remove-Container-Meta-%s: x", x->sub[0]) < 0)
		rc = -ENOMEM;
	if (!rc)
		rc = post_container(x, h);
	free(h);
	return rc;
}

/* read and write: the ACL headers. */
static const char *acl_header(const struct extra_ctx *x)
{
	return !strcmp(x->extra->name, "read") ? "X-Container-Read" : "X-Container-Write";
}

static int acl_show(const struct extra_ctx *x, struct buf *out)
{
	struct svc_answer a;
	char *v;
	int rc = head_container(x, &a);

	if (rc)
		return rc;
	v = svc_header(&a, acl_header(x));
	if (v && *v && (buf_addstr(out, v) || buf_add(out, "\n", 1)))
		rc = -ENOMEM;
	free(v);
	svc_answer_free(&a);
	return rc;
}

static int acl_store(const struct extra_ctx *x, const char *data, size_t len)
{
	char *h = NULL;
	int rc = header_text(x, x->extra->name, data, &len);

	if (rc)
		return rc;
	/* Empty: no ACL (only the owner). */
	if (!len)
		rc = asprintf(&h, "X-Remove-%s: x", acl_header(x) + 2) < 0 ? -ENOMEM : 0;
	else
		rc = asprintf(&h, "%s: %.*s", acl_header(x), (int)len, data) < 0 ? -ENOMEM : 0;
	if (!rc)
		rc = post_container(x, h);
	free(h);
	return rc;
}

/* ---- emptying a container ---------------------------------------------- */

/* The bulk middleware's verdict (200 whatever happened): 0, or -errno;
 * *deleted gets "Number Deleted". */
static int bulk_verdict(const json_t *answer, json_int_t *deleted)
{
	const char *status = json_string_value(json_object_get(answer, "Response Status"));

	*deleted = json_integer_value(json_object_get(answer, "Number Deleted"));
	if (!status)
		return -EIO;
	if (status[0] == '2')
		return 0;
	log_cloud_error("bulk delete: %s (%zu errors)", status,
			json_array_size(json_object_get(answer, "Errors")));
	return !strncmp(status, "401", 3) || !strncmp(status, "403", 3) ? -EACCES : -EIO;
}

/*
 * `echo empty > containers/<c>/action`: every object goes, with one
 * ?bulk-delete per listing page (10,000 names) and, for a large object,
 * its ?multipart-manifest=delete (its segments with it). Ends when the
 * listing is empty, or when a round deletes nothing (what is still listed
 * is what Swift's lagging listing has not dropped yet).
 */
static int container_empty(const struct extra_ctx *x)
{
	static const char *const accept[] = { "Accept: application/json", NULL };
	char *cont = svc_escape(x->id, false);
	int rc = cont ? 0 : -ENOMEM;

	for (int round = 0; !rc && round < 1000; round++) {
		struct svc_answer a = { 0 }, b = { 0 };
		json_int_t deleted = 0, slo_deleted = 0;
		const json_t *item;
		char *url = NULL;
		struct buf body;
		size_t i;

		buf_init(&body, 64u << 20);
		if (asprintf(&url, "/%s?format=json&limit=%ld", cont,
			     swift_info_cached().listing_limit) < 0) {
			rc = -ENOMEM;
			break;
		}
		rc = svc_request_extra(x, "GET", url, NULL, NULL, 0, NULL, &a);
		free(url);
		if (rc || !json_array_size(a.json)) {
			svc_answer_free(&a);
			buf_free(&body);
			break;
		}
		json_array_foreach(a.json, i, item)
		{
			const char *name = json_string_value(json_object_get(item, "name"));
			char *esc = name ? svc_escape(name, true) : NULL;

			if (!esc) {
				rc = name ? -ENOMEM : -EIO;
				break;
			}
			if (json_object_get(item, "slo_etag")) {
				char *full = NULL;

				if (asprintf(&full, "/%s/%s?multipart-manifest=delete", cont, esc) <
				    0) {
					free(esc);
					rc = -ENOMEM;
					break;
				}
				rc = svc_request_extra(x, "DELETE", full, accept, NULL, 0, NULL,
						       &b);
				if (!rc && !slo_delete_verdict(b.json))
					slo_deleted++;
				rc = rc == -ENOENT ? 0 : rc;
				svc_answer_free(&b);
				free(full);
			} else if (buf_addf(&body, "/%s/%s\n", cont, esc)) {
				rc = -ENOMEM;
			}
			free(esc);
			if (rc)
				break;
		}
		svc_answer_free(&a);
		if (!rc && body.len) {
			rc = svc_request_extra(x, "POST", "?bulk-delete", accept, body.data,
					       body.len, "text/plain", &b);
			if (!rc)
				rc = bulk_verdict(b.json, &deleted);
			svc_answer_free(&b);
		}
		buf_free(&body);
		if (!rc && !deleted && !slo_deleted)
			break;
	}
	free(cont);
	extra_changed(x, NULL, x->id);
	return rc;
}

static int container_action_store(const struct extra_ctx *x, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	if (len == 5 && !memcmp(line, "empty", 5))
		return container_empty(x);
	log_cloud_error("containers/%s/action: unknown action '%.*s' (empty)", x->id,
			(int)(len > 64 ? 64 : len), line);
	return -EINVAL;
}

static const struct member_extra swift_extras[] = {
	{ .name = "action",
	  .kind = EXTRA_FILE,
	  .mode = 0200,
	  .flags = EXTRA_LINES,
	  .store = container_action_store },
	{ .name = "objects", .kind = EXTRA_DIR, .mode = 0755, .tree = &swift_objects },
	{ .name = "metadata",
	  .kind = EXTRA_DIR,
	  .mode = 0755,
	  .flags = EXTRA_LAZY,
	  .readdir = cmeta_readdir,
	  .lookup = cmeta_lookup,
	  .show = cmeta_show,
	  .store = cmeta_store,
	  .unlink = cmeta_unlink },
	{ .name = "read",
	  .kind = EXTRA_FILE,
	  .mode = 0644,
	  .flags = EXTRA_LAZY,
	  .show = acl_show,
	  .store = acl_store },
	{ .name = "write",
	  .kind = EXTRA_FILE,
	  .mode = 0644,
	  .flags = EXTRA_LAZY,
	  .show = acl_show,
	  .store = acl_store },
	{ .name = NULL },
};

static const struct collection_def swift_collections[] = {
	/* The account listing: bare arrays of {name, count, bytes,
	 * last_modified}, paged by marker; a container is known by its name. */
	{ .name = "containers",
	  .service = &service_object_store,
	  .list_path = "?format=json",
	  .item_path = "",
	  .id_field = "name",
	  .name_field = "name",
	  .mtime_fields = container_mtime,
	  .next = NEXT_MARKER,
	  .paged = true,
	  .mkdir_creates = true,
	  .mkdir_put = true,
	  .conflict_notempty = true,
	  .extras = swift_extras },
};

const struct service_def service_object_store = {
	.name = "object-store",
	.types = swift_types,
	SERVICE_ROWS(swift_collections),
};
