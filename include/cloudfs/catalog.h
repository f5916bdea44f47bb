/* SPDX-License-Identifier: MIT */
/*
 * Endpoint lookup in a Keystone v3 service catalog. Pure.
 */
#ifndef CLOUDFS_CATALOG_H
#define CLOUDFS_CATALOG_H

#include <jansson.h>
#include "cloudfs/common.h"

/*
 * catalog_find() - the URL of a service
 * @catalog:   the token's "catalog" array (borrowed)
 * @types:     acceptable service types, preferred first, NULL-terminated
 * @interface: "public", "internal" or "admin"
 * @region:    region name/id to match, or NULL for any
 * @out:       on 0, a new malloc'd URL without a trailing '/'
 * Returns: 0, -ENOENT when no endpoint matches, -ENOMEM.
 */
int catalog_find(const json_t *catalog, const char *const *types, const char *interface,
		 const char *region, char **out) CFS_WARN_UNUSED;

/*
 * catalog_regions() - every region the catalog has an @interface endpoint in
 * @out: on 0, a malloc'd array of @n malloc'd names (region_id, else region),
 *       in catalog order, each once; free with catalog_regions_free()
 * Returns 0 or -ENOMEM.
 */
int catalog_regions(const json_t *catalog, const char *interface, char ***out,
		    size_t *n) CFS_WARN_UNUSED;
void catalog_regions_free(char **v, size_t n);

/* Endpoint URL with @suffix ("/v2") and trailing slashes removed, in place. */
void catalog_strip_suffix(char *url, const char *suffix);

#endif
