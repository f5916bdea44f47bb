/* SPDX-License-Identifier: MIT */
/*
 * Same-origin checks for URLs found in responses. Layer: bottom, pure (see
 * url.h). A cloud that answers with a link to another host must not get
 * the token sent there: this file decides, nothing else does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloudfs/url.h"

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Bytes no URL we follow may hold: a server that sends them is either
 * broken or trying to make curl and us read the URL differently. */
static bool bad_byte(unsigned char c)
{
	return c <= ' ' || c == 0x7f || c == '\\';
}

/* Copies "scheme://" and returns what follows it, or NULL. */
static const char *parse_scheme(const char *url, bool *https)
{
	if (!strncasecmp(url, "http://", 7)) {
		*https = false;
		return url + 7;
	}
	if (!strncasecmp(url, "https://", 8)) {
		*https = true;
		return url + 8;
	}
	return NULL;
}

static bool host_char(char c, bool ipv6)
{
	if (ipv6)
		return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f') || c == ':' || c == '.';
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

int url_origin(const char *url, struct url_origin *out)
{
	struct url_origin o = { 0 };
	const char *p, *host, *end;
	size_t hlen;

	for (p = url; *p; p++)
		if (bad_byte((unsigned char)*p))
			return -EINVAL;
	p = parse_scheme(url, &o.https);
	if (!p)
		return -EINVAL;
	o.port = o.https ? 443 : 80;
	host = p;
	if (*p == '[') {
		for (p++; *p && *p != ']'; p++)
			if (!host_char(*p, true))
				return -EINVAL;
		if (*p != ']' || p == host + 1)
			return -EINVAL;
		end = ++p;
	} else {
		while (*p && host_char(*p, false))
			p++;
		end = p;
		if (end == host)
			return -EINVAL;
	}
	hlen = (size_t)(end - host);
	if (hlen >= sizeof(o.host))
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++)
		o.host[i] = lower(host[i]);
	o.host[hlen] = '\0';
	if (*p == ':') {
		unsigned long port = 0;
		int digits = 0;

		/* "host:" means the default port (RFC 3986 3.2.3). */
		for (p++; is_digit(*p); p++) {
			if (++digits > 5)
				return -EINVAL;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (digits) {
			if (port < 1 || port > 65535)
				return -EINVAL;
			o.port = (unsigned)port;
		}
	}
	/* Whatever else ends the host ("@" of userinfo, "%", a non-ASCII
	 * byte) is refused: only a path, query or fragment may follow. */
	if (*p && *p != '/' && *p != '?' && *p != '#')
		return -EINVAL;
	*out = o;
	return 0;
}

bool url_same_origin(const char *a, const char *b)
{
	struct url_origin oa, ob;

	if (url_origin(a, &oa) || url_origin(b, &ob))
		return false;
	return oa.https == ob.https && oa.port == ob.port && !strcmp(oa.host, ob.host);
}

/* True when @link names its own scheme ("x:" before any "/", "?" or "#"). */
static bool has_scheme(const char *link)
{
	for (const char *p = link; *p && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == ':')
			return true;
	return false;
}

int url_resolve(const char *endpoint, const char *link, char **out)
{
	size_t elen = strlen(endpoint);
	char *url;
	int rc;

	*out = NULL;
	if (has_scheme(link)) {
		if (!url_same_origin(endpoint, link))
			return -EINVAL;
		url = strdup(link);
		if (!url)
			return -ENOMEM;
		*out = url;
		return 0;
	}
	/* Relative: under the endpoint's own path, as Glance means it. */
	while (elen && endpoint[elen - 1] == '/')
		elen--;
	if (*link == '/')
		link++;
	url = malloc(elen + 1 + strlen(link) + 1);
	if (!url)
		return -ENOMEM;
	memcpy(url, endpoint, elen);
	url[elen] = '/';
	strcpy(url + elen + 1, link);
	/* The endpoint is trusted, but the result must still parse as one of
	 * its own URLs (no control bytes smuggled in by the link). */
	rc = url_same_origin(endpoint, url) ? 0 : -EINVAL;
	if (rc) {
		free(url);
		return rc;
	}
	*out = url;
	return 0;
}

int url_redirect(const char *from, const char *location, char **out)
{
	const char *host, *path;
	char *url;
	int rc;

	*out = NULL;
	if (has_scheme(location)) {
		if (!url_same_origin(from, location))
			return -EINVAL;
		url = strdup(location);
		if (!url)
			return -ENOMEM;
		*out = url;
		return 0;
	}
	/* "/path": on @from's scheme, host and port. "//host/..." and
	 * "path" (relative to the request's directory) are not followed. */
	if (location[0] != '/' || location[1] == '/')
		return -EINVAL;
	host = strstr(from, "://");
	if (!host)
		return -EINVAL;
	path = strchr(host + 3, '/');
	if (asprintf(&url, "%.*s%s", (int)(path ? (size_t)(path - from) : strlen(from)), from,
		     location) < 0)
		return -ENOMEM;
	rc = url_same_origin(from, url) ? 0 : -EINVAL;
	if (rc) {
		free(url);
		return rc;
	}
	*out = url;
	return 0;
}

const char *url_query_param(const char *url, const char *name, size_t *len)
{
	size_t nlen = strlen(name);
	const char *p = strchr(url, '?'), *end;

	if (!p)
		return NULL;
	for (p++; *p && *p != '#'; p = *end == '&' ? end + 1 : end) {
		end = p + strcspn(p, "&#");
		if ((size_t)(end - p) > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
			*len = (size_t)(end - p) - nlen - 1;
			return p + nlen + 1;
		}
		if (!*end || *end == '#')
			break;
	}
	return NULL;
}
