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

static const char *const server_rw[] = { "name", "accessIPv4", "accessIPv6", NULL };
static const char *const image_rw[] = { "name",	    "visibility", "min_ram",
					"min_disk", "protected",  NULL };
static const char *const volume_rw[] = { "name", "description", NULL };
static const char *const network_rw[] = { "name", "description", "admin_state_up", "mtu", NULL };
static const char *const subnet_rw[] = { "name", "description", "gateway_ip", "enable_dhcp", NULL };
static const char *const port_rw[] = { "name", "description", "admin_state_up", NULL };
static const char *const named_rw[] = { "name", "description", NULL };
static const char *const fip_rw[] = { "description", NULL };
static const char *const server_files[] = { "action", "console", "volumes", NULL };
static const char *const image_files[] = { "data", NULL };

/* Neutron resources share one URL scheme and pagination. */
#define NEUTRON(dir, path, key, wrap, rw, ...)                                                   \
	{                                                                                        \
		.name = dir, .service = SVC_NETWORK, .list_path = "/v2.0/" path,                 \
		.item_path = "/v2.0/" path, .list_key = key, .item_key = wrap, .id_field = "id", \
		.links_key = key "_links", .next = NEXT_LINKS, .paged = true, .uuid_ids = true,  \
		.name_links = true, .can_create = true, .writable = rw, __VA_ARGS__              \
	}
#define CINDER(dir, path, key, wrap, rw, ...)                                                   \
	{                                                                                       \
		.name = dir, .service = SVC_VOLUME, .list_path = "/" path "/detail",            \
		.item_path = "/" path, .list_key = key, .item_key = wrap, .id_field = "id",     \
		.links_key = key "_links", .next = NEXT_LINKS, .paged = true, .uuid_ids = true, \
		.name_links = true, .can_create = true, .writable = rw, __VA_ARGS__             \
	}

const struct collection_def collections[] = {
	{ .name = "servers",
	  .service = SVC_COMPUTE,
	  .list_path = "/servers/detail",
	  .item_path = "/servers",
	  .list_key = "servers",
	  .item_key = "server",
	  .id_field = "id",
	  .links_key = "servers_links",
	  .next = NEXT_LINKS,
	  .paged = true,
	  .uuid_ids = true,
	  .name_links = true,
	  .can_create = true,
	  .metadata = true,
	  .writable = server_rw,
	  .extra_files = server_files },
	/* Glance: bare documents, a relative "next", JSON-patch updates. */
	{ .name = "images",
	  .service = SVC_IMAGE,
	  .list_path = "/v2/images",
	  .item_path = "/v2/images",
	  .list_key = "images",
	  .id_field = "id",
	  .next = NEXT_RELATIVE,
	  .paged = true,
	  .uuid_ids = true,
	  .name_links = true,
	  .patch_update = true,
	  .upload = true,
	  .writable = image_rw,
	  .extra_files = image_files },
	CINDER("volumes", "volumes", "volumes", "volume", volume_rw, .metadata = true),
	CINDER("snapshots", "snapshots", "snapshots", "snapshot", volume_rw),
	NEUTRON("networks", "networks", "networks", "network", network_rw, .mkdir_creates = true),
	NEUTRON("subnets", "subnets", "subnets", "subnet", subnet_rw),
	NEUTRON("ports", "ports", "ports", "port", port_rw),
	NEUTRON("routers", "routers", "routers", "router", port_rw, .mkdir_creates = true),
	NEUTRON("security_groups", "security-groups", "security_groups", "security_group", named_rw,
		.mkdir_creates = true),
	NEUTRON("floating_ips", "floatingips", "floatingips", "floatingip", fip_rw,
		.nameless = true),
	{ .name = "flavors",
	  .service = SVC_COMPUTE,
	  .list_path = "/flavors/detail",
	  .item_path = "/flavors",
	  .list_key = "flavors",
	  .item_key = "flavor",
	  .id_field = "id",
	  .links_key = "flavors_links",
	  .next = NEXT_LINKS,
	  .paged = true,
	  .name_links = true,
	  .can_create = true },
	/* Nova 2.1 wraps every listed keypair in {"keypair": {...}} and pages
	 * them only from microversion 2.35; a keypair is named, not numbered. */
	{ .name = "keypairs",
	  .service = SVC_COMPUTE,
	  .list_path = "/os-keypairs",
	  .item_path = "/os-keypairs",
	  .list_key = "keypairs",
	  .item_key = "keypair",
	  .member_wrap = "keypair",
	  .id_field = "name",
	  .links_key = "keypairs_links",
	  .next = NEXT_LINKS,
	  .can_create = true,
	  .spec_text_key = "public_key" },
};

const size_t collections_count = sizeof(collections) / sizeof(collections[0]);

const struct collection_def *collection_find(const char *name)
{
	for (size_t i = 0; i < collections_count; i++)
		if (!strcmp(collections[i].name, name))
			return &collections[i];
	return NULL;
}
