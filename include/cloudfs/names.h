/* SPDX-License-Identifier: MIT */
/*
 * Cloud names ↔ file names. OpenStack allows '/' and leading dots in names
 * and JSON keys; a file name cannot hold '/' and must not be "." or "..".
 * Encoding: '%' → "%25", '/' → "%2F", a NUL byte (JSON's \u0000) → "%00",
 * and the dots of a name that is "." or ".." → "%2E". Everything else is
 * kept byte for byte; an empty name has no file name. This is the one
 * encoder: every cloud-provided string that becomes a file name or part of
 * a link target goes through it, so none can hold '/' or be "..". Pure.
 */
#ifndef CLOUDFS_NAMES_H
#define CLOUDFS_NAMES_H

#include "cloudfs/common.h"

/* Encodes the @len bytes at @name (NULs included) into a new string
 * (malloc'd): a valid single path component. NULL for an empty name or on
 * allocation failure. */
char *names_encode_len(const char *name, size_t len);
/* names_encode_len() of a C string. */
char *names_encode(const char *name);
/* Decodes a file name into a new buffer of *@len bytes (NUL-terminated
 * beyond them; "%00" decodes to a NUL inside); NULL on a malformed escape. */
char *names_decode_len(const char *file, size_t *len);
/* Decodes a file name into a new C string; NULL on a malformed escape or a
 * "%00" (a C string cannot hold it). */
char *names_decode(const char *file);
/* True when the @len bytes at @s are valid UTF-8 (what JSON strings hold). */
bool names_is_utf8(const char *s, size_t len);
/* True when @s looks like a UUID (with or without dashes), the shape of
 * Nova/Glance/Cinder/Neutron ids. */
bool names_is_uuid(const char *s);
/* Percent-encodes everything but RFC 3986 unreserved characters, for a
 * URL path segment; malloc'd or NULL. */
char *names_url_escape(const char *s);

#endif
