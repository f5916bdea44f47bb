/* SPDX-License-Identifier: MIT */
/*
 * Neutron (network): networks, subnets, ports, routers, security groups,
 * floating IPs. Layer: services. Field names and pagination follow the
 * Neutron v2.0 API reference and the captured Zed responses.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "cloudfs/service.h"

extern const struct service_def service_network;

static const char *const network_types[] = { "network", NULL };
/* Where OpenStack keeps a member's modification time. */
static const char *const network_mtime[] = { "updated", "updated_at", "created", "created_at",
					     NULL };

static const char *const network_rw[] = { "name", "description", "admin_state_up", "mtu", NULL };
static const char *const subnet_rw[] = { "name", "description", "gateway_ip", "enable_dhcp", NULL };
static const char *const port_rw[] = { "name", "description", "admin_state_up", NULL };
static const char *const named_rw[] = { "name", "description", NULL };
static const char *const fip_rw[] = { "description", NULL };

static const struct spec_rule subnet_spec[] = {
	{ "network", SPEC_REF, "network_id", "networks", NULL, NULL },
	{ "gateway", SPEC_RENAME, "gateway_ip", NULL, NULL, NULL },
	{ "dhcp", SPEC_RENAME, "enable_dhcp", NULL, NULL, NULL },
	{ "dns", SPEC_RENAME, "dns_nameservers", NULL, NULL, NULL },
	{ .key = NULL },
};
static const struct spec_rule port_spec[] = {
	{ "network", SPEC_REF, "network_id", "networks", NULL, NULL },
	{ .key = NULL },
};
static const struct spec_rule router_spec[] = {
	{ "external_network", SPEC_REF_NESTED, "external_gateway_info", "networks", "network_id",
	  NULL },
	{ .key = NULL },
};
static const struct spec_rule fip_spec[] = {
	{ "network", SPEC_REF, "floating_network_id", "networks", NULL, NULL },
	{ .key = NULL },
};

/* Neutron wants ip_version; it follows from the CIDR. */
static int subnet_complete(json_t *body)
{
	const char *cidr;

	if (json_object_get(body, "ip_version"))
		return 0;
	cidr = json_string_value(json_object_get(body, "cidr"));
	return json_object_set_new(body, "ip_version",
				   json_integer(cidr && strchr(cidr, ':') ? 6 : 4))
		       ? -ENOMEM
		       : 0;
}

/* Neutron's statuses on the way somewhere else ("BUILD" for ports and
 * networks, the PENDING_* of its agents' resources). */
static bool neutron_busy(const json_t *doc)
{
	static const char *const statuses[] = {
		"BUILD", "BUILDING", "PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE", NULL,
	};

	return service_field_in(doc, "status", statuses);
}

/* Neutron resources share one URL scheme and pagination. */
#define NEUTRON(dir, path, key, wrap, rw, ...)                                                   \
	{                                                                                        \
		.name = dir, .service = &service_network, .list_path = "/v2.0/" path,            \
		.item_path = "/v2.0/" path, .list_key = key, .item_key = wrap, .id_field = "id", \
		.name_field = "name", .mtime_fields = network_mtime, .links_key = key "_links",  \
		.next = NEXT_LINKS, .paged = true, .uuid_ids = true, .name_links = true,         \
		.can_create = true, .writable = rw, .busy = neutron_busy, __VA_ARGS__            \
	}

static const struct collection_def network_collections[] = {
	NEUTRON("networks", "networks", "networks", "network", network_rw, .mkdir_creates = true),
	NEUTRON("subnets", "subnets", "subnets", "subnet", subnet_rw, .spec_rules = subnet_spec,
		.spec_complete = subnet_complete),
	NEUTRON("ports", "ports", "ports", "port", port_rw, .spec_rules = port_spec),
	NEUTRON("routers", "routers", "routers", "router", port_rw, .mkdir_creates = true,
		.spec_rules = router_spec),
	NEUTRON("security_groups", "security-groups", "security_groups", "security_group", named_rw,
		.mkdir_creates = true),
	NEUTRON("floating_ips", "floatingips", "floatingips", "floatingip", fip_rw,
		.nameless = true, .spec_rules = fip_spec),
};

const struct service_def service_network = {
	.name = "network",
	.types = network_types,
	.version_suffix = "/v2.0",
	SERVICE_ROWS(network_collections),
};
