/* SPDX-License-Identifier: MIT */
/*
 * Keystone (identity v3) as a service of the tree: unified limits. Tokens,
 * the catalog and projects/ are the session's (src/api/auth.c,
 * src/core/projects.c); this file is only what a user browses. Layer:
 * services. Field names follow the Keystone v3 API reference and the
 * captured Zed responses (keystone-limits, keystone-registered-limits).
 *
 * It is the example of the rule "a service is one file" (issue 12): this
 * file, its line in registry.c and meson.build, the fake's routes in
 * tests/fake/svc_keystone.py, and no edit under src/core/ or src/api/.
 */
#include "cloudfs/service.h"

extern const struct service_def service_identity;

static const char *const identity_types[] = { "identity", NULL };

/* Keystone's limits have no name and no timestamps: each is a directory
 * named by its id (32 hex digits, not a dashed UUID). Keystone does not
 * page them by links ("links": {"next": null} is an object, and a long
 * list is cut at list_limit with "truncated": true): one GET. Any user
 * may list both (Keystone's policy: identity:list_limits and
 * identity:list_registered_limits are empty rules). */
#define KEYSTONE_LIMITS(dir, key, wrap)                                                       \
	{                                                                                     \
		.name = dir, .service = &service_identity, .list_path = "/v3/" dir,           \
		.item_path = "/v3/" dir, .list_key = key, .item_key = wrap, .id_field = "id", \
		.nameless = true                                                              \
	}

static const struct collection_def identity_collections[] = {
	/* limits/: the project's own limits (resource_name, resource_limit,
	 * service_id, region_id); registered_limits/: the cloud's defaults
	 * (default_limit) that a project without its own limit gets. */
	KEYSTONE_LIMITS("limits", "limits", "limit"),
	KEYSTONE_LIMITS("registered_limits", "registered_limits", "registered_limit"),
};

const struct service_def service_identity = {
	.name = "identity",
	.types = identity_types,
	.version_suffix = "/v3",
	SERVICE_ROWS(identity_collections),
};
