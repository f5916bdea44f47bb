/* SPDX-License-Identifier: MIT */
/*
 * Cloud names ↔ file names. OpenStack allows '/' and leading dots in names
 * and JSON keys; a file name cannot hold '/' and must not be "." or "..".
 * Encoding: '%' → "%25", '/' → "%2F", and the dots of a name that is "."
 * or ".." → "%2E". Everything else is kept byte for byte; an empty name has
 * no file name. Pure.
 */
#ifndef CLOUDFS_NAMES_H
#define CLOUDFS_NAMES_H

#include "cloudfs/common.h"

/* Encodes @name into a new string (malloc'd), or NULL for an empty name or
 * on allocation failure. */
char *names_encode(const char *name);
/* Decodes a file name into a new string; NULL on a malformed escape. */
char *names_decode(const char *file);
/* True when @s looks like a UUID (with or without dashes), the shape of
 * Nova/Glance/Cinder/Neutron ids. */
bool names_is_uuid(const char *s);
/* Percent-encodes everything but RFC 3986 unreserved characters, for a
 * URL path segment; malloc'd or NULL. */
char *names_url_escape(const char *s);

#endif
