/* SPDX-License-Identifier: MIT */
/*
 * What a user writes to create a resource → the API body that creates it.
 * Accepts the API's own body with or without its wrapper key, resolves
 * friendly references ("image": "cirros") through a callback, base64-encodes
 * plain-text user_data. Pure but for the callback.
 * Layer: beside the model, which supplies the resolver.
 */
#ifndef CLOUDFS_SPEC_H
#define CLOUDFS_SPEC_H

#include <jansson.h>
#include "cloudfs/service.h"

/*
 * Resolves @ref (an id or a unique name) in collection @c.
 * On 0, *id is a malloc'd id; otherwise -errno with a reason in @err.
 */
typedef int (*spec_resolve_fn)(void *ctx, const struct collection_def *c, const char *ref,
			       char **id, char *err, size_t errlen);

/*
 * spec_build() - the body to POST for creating @name in @c
 * @text/@len: the spec as written (JSON, empty, or for keypairs a public key)
 * @out: on 0, a new reference to the (wrapped) body
 * @err: on -EINVAL/-ENOENT..., a message saying what is wrong, for the user
 */
int spec_build(const struct collection_def *c, const char *name, const char *text, size_t len,
	       spec_resolve_fn resolve, void *ctx, json_t **out, char *err,
	       size_t errlen) CFS_WARN_UNUSED;

/*
 * spec_value() - the JSON value for an attribute written as text
 * @current: the attribute's current value (borrowed; decides the type)
 * Strips one final newline; numbers and booleans are parsed when the current
 * value is one; "" becomes null when the current value is null.
 */
int spec_value(const json_t *current, const char *text, size_t len, json_t **out, char *err,
	       size_t errlen) CFS_WARN_UNUSED;

/* Base64 of @len bytes; malloc'd. */
char *spec_base64(const unsigned char *data, size_t len);
/* True when @s is canonical base64 (padding, alphabet, length % 4 == 0). */
bool spec_is_base64(const char *s);

#endif
