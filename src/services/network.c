/* SPDX-License-Identifier: MIT */
/*
 * Neutron (network): networks, subnets, ports, routers, security groups,
 * floating IPs. Layer: services. Field names and pagination follow the
 * Neutron v2.0 API reference and the captured Zed responses.
 */
#include <errno.h>
#include <stdio.h>
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

/* A rule's remote: a CIDR, or a security group by name or id. */
static const struct spec_rule sg_rule_spec[] = {
	{ "group", SPEC_REF, "security_group_id", "security_groups", NULL, NULL },
	{ "remote_group", SPEC_REF, "remote_group_id", "security_groups", NULL, NULL },
	{ "remote", SPEC_REF_OR_PREFIX, "remote_group_id", "security_groups", "remote_ip_prefix",
	  NULL },
	{ .key = NULL },
};

/* "port": 22, "22", or a range "8000:8080" → port_range_min/max. Anything
 * else is left for Neutron to refuse with its own message. */
static int sg_rule_ports(json_t *body)
{
	const json_t *port = json_object_get(body, "port");
	long long lo, hi;
	int used = 0;

	if (json_is_integer(port)) {
		lo = hi = json_integer_value(port);
	} else if (!json_is_string(port)) {
		return 0;
	} else if (sscanf(json_string_value(port), "%lld:%lld%n", &lo, &hi, &used) == 2 &&
		   (size_t)used == json_string_length(port)) {
		/* a range */
	} else if (sscanf(json_string_value(port), "%lld%n", &lo, &used) == 1 &&
		   (size_t)used == json_string_length(port)) {
		hi = lo;
	} else {
		return 0;
	}
	if (json_object_set_new(body, "port_range_min", json_integer(lo)) ||
	    json_object_set_new(body, "port_range_max", json_integer(hi)))
		return -ENOMEM;
	json_object_del(body, "port");
	/* A port means TCP unless said otherwise, as with `openstack
	 * security group rule create --dst-port`. */
	if (!json_object_get(body, "protocol") &&
	    json_object_set_new(body, "protocol", json_string("tcp")))
		return -ENOMEM;
	return 0;
}

/* Neutron wants a direction; the ethertype follows from the remote CIDR. */
static int sg_rule_complete(json_t *body)
{
	const char *prefix = json_string_value(json_object_get(body, "remote_ip_prefix"));
	int rc = sg_rule_ports(body);

	if (rc)
		return rc;
	if (!json_object_get(body, "direction") &&
	    json_object_set_new(body, "direction", json_string("ingress")))
		return -ENOMEM;
	if (!json_object_get(body, "ethertype") && prefix &&
	    json_object_set_new(body, "ethertype",
				json_string(strchr(prefix, ':') ? "IPv6" : "IPv4")))
		return -ENOMEM;
	return 0;
}

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
	/* Rules have no name and cannot be changed (Neutron has no PUT for
	 * them); their description stands for a name: what a spec file is
	 * called becomes the description, and a unique one is a link. */
	{ .name = "security_group_rules",
	  .service = &service_network,
	  .list_path = "/v2.0/security-group-rules",
	  .item_path = "/v2.0/security-group-rules",
	  .list_key = "security_group_rules",
	  .item_key = "security_group_rule",
	  .id_field = "id",
	  .name_field = "description",
	  .mtime_fields = network_mtime,
	  .links_key = "security_group_rules_links",
	  .next = NEXT_LINKS,
	  .paged = true,
	  .uuid_ids = true,
	  .name_links = true,
	  .can_create = true,
	  .spec_rules = sg_rule_spec,
	  .spec_complete = sg_rule_complete,
	  .owner_coll = "security_groups",
	  .owner_field = "security_group_id" },
};

const struct service_def service_network = {
	.name = "network",
	.types = network_types,
	.version_suffix = "/v2.0",
	SERVICE_ROWS(network_collections),
};
