/* SPDX-License-Identifier: MIT */
/*
 * Where a URL taken from a response may send the token. Layer: bottom,
 * pure: no I/O, no curl, no logging, no state, so unit tests and fuzz
 * harnesses call it directly. Used by the api layer for every URL a cloud
 * hands back (pagination links) before a token goes with it.
 */
#ifndef CLOUDFS_URL_H
#define CLOUDFS_URL_H

#include "cloudfs/common.h"

/* What decides which server a request reaches. */
struct url_origin {
	bool https;
	char host[256]; /* lowercased; an IPv6 literal keeps its brackets */
	unsigned port; /* as written, or the scheme's default (80, 443) */
};

/*
 * url_origin() - the scheme, host and port of an absolute http(s) URL
 * Strict on purpose: anything a client could read two ways is refused
 * (userinfo "a@b", a backslash, blanks or control bytes anywhere, a
 * percent sign or non-ASCII byte in the host, a port that is not 1-65535).
 * Returns 0 (and fills @out), or -EINVAL.
 */
int url_origin(const char *url, struct url_origin *out) CFS_WARN_UNUSED;

/* url_same_origin() - true when both URLs parse and agree on scheme, host
 * and port (case-insensitive host, default ports made explicit). */
bool url_same_origin(const char *a, const char *b);

/*
 * url_resolve() - the URL to request for a link a service sent back
 * @endpoint: the service's endpoint from the catalog (configured trust)
 * @link:     an absolute URL, or a path relative to @endpoint (Glance's
 *            "next": "/v2/images?marker=..." under the endpoint's own path)
 * @out:      on 0, the URL (malloc'd)
 * An absolute link is followed only when it is on @endpoint's origin; a
 * relative one is appended to @endpoint. Returns 0, -EINVAL (another
 * origin or scheme, or a URL url_origin() refuses) or -ENOMEM.
 */
int url_resolve(const char *endpoint, const char *link, char **out) CFS_WARN_UNUSED;

/*
 * url_redirect() - the URL a redirect's Location leads to, when the token
 * may follow it
 * @from:     the URL that answered with the redirect (an endpoint's)
 * @location: the Location header: an absolute URL, or an absolute path
 * @out:      on 0, the URL (malloc'd)
 * Followed only on @from's own origin (Heat's /stacks/<id> answers 302 to
 * /stacks/<name>/<id> on the same host). Returns 0, -EINVAL (another
 * origin, a scheme-relative or relative reference, a URL url_origin()
 * refuses) or -ENOMEM.
 */
int url_redirect(const char *from, const char *location, char **out) CFS_WARN_UNUSED;

/*
 * url_query_param() - the raw value of @url's query parameter @name
 * Returns a pointer into @url (not decoded, not terminated; its length in
 * *@len) or NULL when the query has no such parameter.
 */
const char *url_query_param(const char *url, const char *name, size_t *len);

#endif
