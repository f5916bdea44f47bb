/* SPDX-License-Identifier: MIT */
/*
 * JSON → file contents, the one rule applied everywhere:
 *   string      → its text and "\n"
 *   number/bool → its JSON text and "\n"
 *   null        → an empty file
 *   list        → pretty JSON and "\n"
 *   object      → a directory (handled by the model, not here)
 * and the whole document as "json": pretty JSON and "\n". Pure.
 */
#ifndef CLOUDFS_RENDER_H
#define CLOUDFS_RENDER_H

#include <jansson.h>
#include "cloudfs/buf.h"

/* Contents of an attribute file for a non-object value. */
int render_value(const json_t *v, struct buf *out) CFS_WARN_UNUSED;
/* Contents of the "json" file. */
int render_document(const json_t *doc, struct buf *out) CFS_WARN_UNUSED;
/* Byte length render_value() produces. */
size_t render_value_size(const json_t *v);

/* The resource's modification time from the first of @fields (NULL-terminated,
 * or NULL for none) that holds an ISO 8601 time, or @fallback. */
int64_t render_mtime(const json_t *doc, const char *const *fields, int64_t fallback);

/*
 * render_walk() - the value an attribute path names inside a document
 * @attrs/@n: decoded path components below the resource directory
 * Returns: the borrowed value, or NULL (-ENOENT) when a component is missing,
 * and sets *notdir when a component tried to descend into a non-object.
 */
const json_t *render_walk(const json_t *doc, char *const *attrs, size_t n, bool *notdir);

/* The member's id as text (ids may be numbers), into @out; false when it
 * has none, it does not fit, or it holds a NUL byte. */
bool render_id(const json_t *member, const char *id_field, char *out, size_t outlen);

/* The file name (names_encode_len(), all its bytes) of a JSON string the
 * cloud sent, malloc'd; NULL when @s is not a non-empty string or on
 * allocation failure. */
char *render_name(const json_t *s);

/*
 * Reading a document's compact JSON text (json_dumps(JSON_COMPACT), as the
 * model caches it) without parsing it: a lookup of one key of a listed
 * member finds its bytes there, where a parse would build the whole tree.
 */
enum render_found {
	RENDER_FOUND, /* the value's JSON text found */
	RENDER_ABSENT, /* the object has no such key */
	RENDER_UNSURE, /* escaped keys, or not a compact object: parse it */
};
/* Top-level key @key of the compact JSON object @text/@len. */
enum render_found render_text_find(const char *text, size_t len, const char *key, const char **val,
				   size_t *vlen);
/* The JSON text @v/@n renders without a parse: a string without escapes,
 * an integer, true, false or null. */
bool render_text_simple(const char *v, size_t n);
/* render_value() of the simple value whose JSON text is @v/@n (the same
 * bytes); -EINVAL when it is not simple. */
int render_text_value(const char *v, size_t n, struct buf *out) CFS_WARN_UNUSED;

#endif
