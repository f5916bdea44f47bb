/* SPDX-License-Identifier: MIT */
/*
 * The service and collection tables. Layer: pure data. Field names and
 * pagination styles follow the OpenStack API references and the captured
 * Zed responses in the fixtures.
 */
#include <string.h>

#include "cloudfs/collections.h"

static const char *const compute_types[] = { "compute", NULL };
static const char *const image_types[] = { "image", NULL };
/* Zed catalogs carry both; openstacksdk prefers block-storage. */
static const char *const volume_types[] = { "block-storage", "volumev3", "volume", NULL };
static const char *const network_types[] = { "network", NULL };

const struct service_def services[SVC_COUNT] = {
	[SVC_COMPUTE] = { SVC_COMPUTE, "compute", compute_types, NULL },
	[SVC_IMAGE] = { SVC_IMAGE, "image", image_types, "/v2" },
	[SVC_VOLUME] = { SVC_VOLUME, "block-storage", volume_types, NULL },
	[SVC_NETWORK] = { SVC_NETWORK, "network", network_types, "/v2.0" },
};

#define NOVA(dir, list, item, key, wrap, idf, page, uuid, names)                              \
	{ dir, SVC_COMPUTE, list, item, key, wrap, NULL, idf, key "_links", NEXT_LINKS, page, \
	  uuid, names }
#define NEUTRON(dir, path, key, wrap)                                                      \
	{ dir, SVC_NETWORK, "/v2.0/" path, "/v2.0/" path, key, wrap, NULL, "id",     \
	  key "_links", NEXT_LINKS, true, true, true }
#define CINDER(dir, path, key, wrap)                                                    \
	{ dir, SVC_VOLUME, "/" path "/detail", "/" path, key, wrap, NULL, "id",     \
	  key "_links", NEXT_LINKS, true, true, true }

const struct collection_def collections[] = {
	NOVA("servers", "/servers/detail", "/servers", "servers", "server", "id", true, true,
	     true),
	{ "images", SVC_IMAGE, "/v2/images", "/v2/images", "images", NULL, NULL, "id", NULL,
	  NEXT_RELATIVE, true, true, true },
	CINDER("volumes", "volumes", "volumes", "volume"),
	CINDER("snapshots", "snapshots", "snapshots", "snapshot"),
	NEUTRON("networks", "networks", "networks", "network"),
	NEUTRON("subnets", "subnets", "subnets", "subnet"),
	NEUTRON("ports", "ports", "ports", "port"),
	NEUTRON("routers", "routers", "routers", "router"),
	NEUTRON("security_groups", "security-groups", "security_groups", "security_group"),
	NEUTRON("floating_ips", "floatingips", "floatingips", "floatingip"),
	NOVA("flavors", "/flavors/detail", "/flavors", "flavors", "flavor", "id", true, false,
	     true),
	/* Nova 2.1 wraps every listed keypair in {"keypair": {...}} and pages
	 * them only from microversion 2.35; a keypair is named, not numbered. */
	{ "keypairs", SVC_COMPUTE, "/os-keypairs", "/os-keypairs", "keypairs", "keypair",
	  "keypair", "name", "keypairs_links", NEXT_LINKS, false, false, false },
};

const size_t collections_count = sizeof(collections) / sizeof(collections[0]);

const struct collection_def *collection_find(const char *name)
{
	for (size_t i = 0; i < collections_count; i++)
		if (!strcmp(collections[i].name, name))
			return &collections[i];
	return NULL;
}
