/* SPDX-License-Identifier: MIT */
/*
 * Neutron (network): networks, subnets, ports, routers, security groups,
 * floating IPs. Layer: services. Field names and pagination follow the
 * Neutron v2.0 API reference and the captured Zed responses.
 */
#include "cloudfs/service.h"

static const char *const network_types[] = { "network", NULL };

static const char *const network_rw[] = { "name", "description", "admin_state_up", "mtu", NULL };
static const char *const subnet_rw[] = { "name", "description", "gateway_ip", "enable_dhcp", NULL };
static const char *const port_rw[] = { "name", "description", "admin_state_up", NULL };
static const char *const named_rw[] = { "name", "description", NULL };
static const char *const fip_rw[] = { "description", NULL };

/* Neutron resources share one URL scheme and pagination. */
#define NEUTRON(dir, path, key, wrap, rw, ...)                                                   \
	{                                                                                        \
		.name = dir, .service = SVC_NETWORK, .list_path = "/v2.0/" path,                 \
		.item_path = "/v2.0/" path, .list_key = key, .item_key = wrap, .id_field = "id", \
		.links_key = key "_links", .next = NEXT_LINKS, .paged = true, .uuid_ids = true,  \
		.name_links = true, .can_create = true, .writable = rw, __VA_ARGS__              \
	}

static const struct collection_def network_collections[] = {
	NEUTRON("networks", "networks", "networks", "network", network_rw, .mkdir_creates = true),
	NEUTRON("subnets", "subnets", "subnets", "subnet", subnet_rw),
	NEUTRON("ports", "ports", "ports", "port", port_rw),
	NEUTRON("routers", "routers", "routers", "router", port_rw, .mkdir_creates = true),
	NEUTRON("security_groups", "security-groups", "security_groups", "security_group", named_rw,
		.mkdir_creates = true),
	NEUTRON("floating_ips", "floatingips", "floatingips", "floatingip", fip_rw,
		.nameless = true),
};

const struct service_def service_network = {
	.id = SVC_NETWORK,
	.name = "network",
	.types = network_types,
	.version_suffix = "/v2.0",
	SERVICE_ROWS(network_collections),
};
