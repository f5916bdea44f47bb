/* SPDX-License-Identifier: MIT */
/*
 * Neutron (network): networks, subnets, ports, routers, security groups,
 * floating IPs. Layer: services. Field names and pagination follow the
 * Neutron v2.0 API reference and the captured Zed responses.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloudfs/buf.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "cloudfs/service.h"
#include "os_extras.h"

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

/* ---- member extras: router interfaces and gateway, a group's rules,
 * floating IP association (docs/SEMANTICS.md, "Networking") ------------- */

/* An id from the cloud, put in a query string: Neutron's are UUIDs; any
 * other byte would need escaping, and such an id is refused instead. */
static bool plain_id(const char *id)
{
	if (!id || !*id)
		return false;
	for (; *id; id++)
		if (!isalnum((unsigned char)*id) && *id != '-')
			return false;
	return true;
}

/* The string @key of @doc, or NULL (also for one holding a NUL byte). */
static const char *str_of(const json_t *doc, const char *key)
{
	const json_t *v = json_object_get(doc, key);
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* The device owners of a router's interfaces (not its gateway port). */
static bool is_router_interface(const json_t *port)
{
	static const char *const owners[] = {
		"network:router_interface",
		"network:router_interface_distributed",
		"network:ha_router_replicated_interface",
		NULL,
	};

	return service_field_in(port, "device_owner", owners);
}

/* The collection a link target names: "../../../subnets/x" → "subnets",
 * and its last component, decoded (malloc'd); NULL when there are not two. */
static char *target_parts(const char *target, char *coll, size_t collsz)
{
	const char *last = strrchr(target, '/'), *prev;

	if (!last || last == target)
		return NULL;
	for (prev = last - 1; prev > target && *prev != '/'; prev--)
		;
	if (*prev == '/')
		prev++;
	snprintf(coll, collsz, "%.*s", (int)(last - prev), prev);
	return names_decode(last + 1);
}

/* GET /v2.0/ports?device_id=<id>: the ports of a router or a server, in one
 * request (new reference in *ports, the array). */
static int device_ports(const struct extra_ctx *x, const char *device, json_t **ports)
{
	char path[256];
	json_t *answer = NULL;
	int rc;

	*ports = NULL;
	if (!plain_id(device))
		return -EIO;
	snprintf(path, sizeof(path), "/v2.0/ports?device_id=%s", device);
	rc = svc_request_json(x, "GET", path, NULL, &answer);
	if (rc)
		return rc;
	*ports = json_incref(json_object_get(answer, "ports"));
	json_decref(answer);
	return json_is_array(*ports) ? 0 : -EIO;
}

/* The subnet of each interface of the router, in @fn's order: @fn gets
 * (subnet id, port id); > 0 stops. */
static int router_interfaces(const struct extra_ctx *x,
			     int (*fn)(const struct extra_ctx *x, const char *subnet,
				       const char *port, void *arg),
			     void *arg)
{
	json_t *ports, *port, *ip;
	size_t i, j;
	int rc = device_ports(x, x->id, &ports);

	json_array_foreach(ports, i, port)
	{
		if (rc || !is_router_interface(port))
			continue;
		json_array_foreach(json_object_get(port, "fixed_ips"), j, ip)
		{
			const char *subnet = str_of(ip, "subnet_id"), *pid = str_of(port, "id");

			if (!rc && subnet && pid)
				rc = fn(x, subnet, pid, arg);
		}
	}
	json_decref(ports);
	return rc < 0 ? rc : 0;
}

struct iface_fill {
	extra_fill_fn fill;
	void *fill_ctx;
};

static int iface_list_one(const struct extra_ctx *x, const char *subnet, const char *port,
			  void *arg)
{
	struct iface_fill *f = arg;
	struct extra_ctx child = *x;
	char *sub[1] = { (char *)subnet }, *link;
	int rc;

	(void)port;
	child.sub = sub;
	child.nsub = 1;
	link = extra_link_to(&child, "subnets", subnet);
	rc = link ? f->fill(f->fill_ctx, subnet, EXTRA_LINK, link) : -ENOMEM;
	free(link);
	return rc;
}

/* routers/<id>/interfaces/: one link per subnet the router has a port on,
 * to ../../../subnets/<subnet>; one request however many there are. */
static int router_interfaces_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx)
{
	struct iface_fill f = { fill, fill_ctx };

	if (x->nsub)
		return -ENOTDIR;
	return router_interfaces(x, iface_list_one, &f);
}

struct iface_find {
	const char *subnet; /* wanted: a subnet id */
	const char *port; /* or a port id */
	char *found; /* malloc'd: the subnet id of the match */
	char *found_port;
};

static int iface_match(const struct extra_ctx *x, const char *subnet, const char *port, void *arg)
{
	struct iface_find *f = arg;

	(void)x;
	if ((f->subnet && !strcmp(f->subnet, subnet)) || (f->port && !strcmp(f->port, port))) {
		f->found = strdup(subnet);
		f->found_port = strdup(port);
		return f->found && f->found_port ? 1 : -ENOMEM;
	}
	return 0;
}

/* The interface @name stands for: a subnet id on the router, else a subnet
 * or a port by id or unique name. 0 with f->found set, or -ENOENT. */
static int iface_find(const struct extra_ctx *x, const char *name, struct iface_find *f)
{
	char err[256], *id = NULL;
	int rc;

	memset(f, 0, sizeof(*f));
	f->subnet = name;
	f->port = name;
	rc = router_interfaces(x, iface_match, f);
	if (rc || f->found)
		return rc;
	/* By name: `ln -s ../../../subnets/private interfaces/private` looks
	 * "private" up right after adding it. */
	if (!extra_find_ref(x, "subnets", name, &id, err, sizeof(err)))
		f->subnet = id;
	else if (!extra_find_ref(x, "ports", name, &id, err, sizeof(err)))
		f->subnet = NULL, f->port = id;
	else
		return -ENOENT;
	rc = router_interfaces(x, iface_match, f);
	free(id);
	f->subnet = f->port = NULL;
	return rc ? rc : f->found ? 0 : -ENOENT;
}

static int router_interfaces_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	struct iface_find f;
	int rc;

	if (x->nsub != 1)
		return -ENOENT;
	rc = iface_find(x, x->sub[0], &f);
	if (!rc) {
		e->kind = EXTRA_LINK;
		e->link = extra_link_to(x, "subnets", f.found);
		rc = e->link ? 0 : -ENOMEM;
	}
	free(f.found);
	free(f.found_port);
	return rc;
}

/* After an interface came or went: the router's ports, the router. */
static void router_changed(const struct extra_ctx *x)
{
	extra_changed(x, NULL, x->id);
	extra_changed(x, "ports", NULL);
}

/* ln -s ../../../subnets/<subnet> routers/<id>/interfaces/<name>: plug the
 * subnet in (its gateway address becomes the router's); a link to
 * ../../../ports/<port> plugs in that port. */
static int router_interfaces_link(const struct extra_ctx *x, const char *target)
{
	char coll[64], err[512] = "", *id = NULL, *ref = target_parts(target, coll, sizeof(coll));
	bool by_port = !strcmp(coll, "ports");
	struct iface_find f = { 0 };
	json_t *body = NULL;
	int rc = -EINVAL;

	if (!ref || (!by_port && strcmp(coll, "subnets"))) {
		log_cloud_error("routers/%s/interfaces: link to ../../../subnets/<subnet> or "
				"../../../ports/<port>, not '%s'",
				x->id, target);
		goto out;
	}
	rc = extra_find_ref(x, coll, ref, &id, err, sizeof(err));
	if (rc) {
		log_cloud_error("routers/%s/interfaces: %s", x->id, err);
		goto out;
	}
	/* Neutron says 400 for a subnet already plugged in: it is there. */
	f.subnet = by_port ? NULL : id;
	f.port = by_port ? id : NULL;
	rc = router_interfaces(x, iface_match, &f);
	if (!rc && f.found) {
		log_cloud_error("routers/%s/interfaces: already has an interface on subnet %s",
				x->id, f.found);
		rc = -EEXIST;
		goto out;
	}
	body = json_pack("{ss}", by_port ? "port_id" : "subnet_id", id);
	rc = body ? svc_request_member(x, "PUT", "add_router_interface", NULL, body, NULL)
		  : -ENOMEM;
	router_changed(x);
out:
	json_decref(body);
	free(f.found);
	free(f.found_port);
	free(id);
	free(ref);
	return rc;
}

/* rm routers/<id>/interfaces/<subnet>: unplug it (EBUSY while a floating
 * IP needs it, with Neutron's reason). */
static int router_interfaces_unlink(const struct extra_ctx *x)
{
	struct iface_find f;
	json_t *body = NULL;
	int rc = iface_find(x, x->sub[0], &f);

	if (!rc)
		body = json_pack("{ss}", "subnet_id", f.found);
	if (!rc)
		rc = body ? svc_request_member(x, "PUT", "remove_router_interface", NULL, body,
					       NULL)
			  : -ENOMEM;
	router_changed(x);
	json_decref(body);
	free(f.found);
	free(f.found_port);
	return rc;
}

/* The word that clears a router's gateway or a floating IP's port (empty
 * lines are no commands). */
#define NETWORK_NONE "none"

/* routers/<id>/gateway: the external network's id and a newline, or
 * nothing; the external addresses are in external_gateway_info/. */
static int router_gateway_show(const struct extra_ctx *x, struct buf *out)
{
	const char *net = str_of(json_object_get(x->doc, "external_gateway_info"), "network_id");

	if (!net)
		return 0;
	return buf_addstr(out, net) || buf_addstr(out, "\n") ? -ENOMEM : 0;
}

/* echo public > routers/<id>/gateway: set it (a network by id or unique
 * name); echo none > routers/<id>/gateway: clear it. One line, at write(2). */
static int router_gateway_store(const struct extra_ctx *x, const char *line, size_t len)
{
	char err[512] = "", *id = NULL;
	json_t *body;
	int rc;

	(void)len;
	if (!strcmp(line, NETWORK_NONE)) {
		body = json_pack("{s{s{}}}", "router", "external_gateway_info");
	} else {
		rc = extra_find_ref(x, "networks", line, &id, err, sizeof(err));
		if (rc) {
			log_cloud_error("routers/%s/gateway: %s", x->id, err);
			return rc;
		}
		body = json_pack("{s{s{ss}}}", "router", "external_gateway_info", "network_id", id);
	}
	rc = body ? svc_request_member(x, "PUT", NULL, NULL, body, NULL) : -ENOMEM;
	extra_changed(x, NULL, x->id);
	json_decref(body);
	free(id);
	return rc;
}

static const struct member_extra router_extras[] = {
	{ .name = "interfaces",
	  .kind = EXTRA_DIR,
	  .mode = 0755,
	  .readdir = router_interfaces_readdir,
	  .lookup = router_interfaces_lookup,
	  .link = router_interfaces_link,
	  .unlink = router_interfaces_unlink },
	{ .name = "gateway",
	  .kind = EXTRA_FILE,
	  .mode = 0644,
	  .flags = EXTRA_LINES,
	  .show = router_gateway_show,
	  .store = router_gateway_store },
	{ .name = NULL },
};

/* The rules a security group's document embeds. */
static const json_t *group_rules(const json_t *group)
{
	return json_object_get(group, "security_group_rules");
}

/* security_groups/<id>/rules/: its rules as links to
 * ../../../security_group_rules/<rule>, from the group's own document. */
static int group_rules_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx)
{
	const json_t *r;
	size_t i;
	int rc = 0;

	if (x->nsub)
		return -ENOTDIR;
	json_array_foreach(group_rules(x->doc), i, r)
	{
		const char *rid = str_of(r, "id");
		struct extra_ctx child = *x;
		char *sub[1] = { (char *)rid }, *link;

		if (!rid)
			continue;
		child.sub = sub;
		child.nsub = 1;
		link = extra_link_to(&child, "security_group_rules", rid);
		rc = link ? fill(fill_ctx, rid, EXTRA_LINK, link) : -ENOMEM;
		free(link);
		if (rc)
			break;
	}
	return rc;
}

/* A rule of the group by id, or by its description when one rule alone
 * has it (what the spec file that made it was called). */
static const char *group_rule_find(const json_t *group, const char *name)
{
	const char *found = NULL;
	const json_t *r;
	size_t i, n = 0;

	json_array_foreach(group_rules(group), i, r)
	{
		const char *rid = str_of(r, "id"), *desc = str_of(r, "description");

		if (rid && !strcmp(rid, name))
			return rid;
		if (rid && desc && !strcmp(desc, name))
			found = rid, n++;
	}
	return n == 1 ? found : NULL;
}

static int group_rules_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	const char *rid = x->nsub == 1 ? group_rule_find(x->doc, x->sub[0]) : NULL;

	if (!rid)
		return -ENOENT;
	e->kind = EXTRA_LINK;
	e->link = extra_link_to(x, "security_group_rules", rid);
	return e->link ? 0 : -ENOMEM;
}

/* A rule's remote: a CIDR as is, else a security group by name or id. */
static int rule_remote(const struct extra_ctx *x, json_t *body, char *err, size_t errlen)
{
	const json_t *v = json_object_get(body, "remote");
	const char *s = json_string_value(v), *t;
	char *id = NULL;
	bool prefix;
	int rc;

	if (!v)
		return 0;
	if (!s) {
		snprintf(err, errlen, "\"remote\" must be a CIDR or a security group");
		return -EINVAL;
	}
	prefix = strchr(s, '/') || strchr(s, ':');
	for (t = s; *t && !prefix; t++)
		if (!isdigit((unsigned char)*t) && *t != '.')
			break;
	prefix = prefix || (*s && !*t);
	if (prefix) {
		rc = json_object_set(body, "remote_ip_prefix", (json_t *)v) ? -ENOMEM : 0;
	} else {
		rc = extra_find_ref(x, "security_groups", s, &id, err, errlen);
		if (!rc && json_object_set_new(body, "remote_group_id", json_string(id)))
			rc = -ENOMEM;
	}
	if (!rc)
		json_object_del(body, "remote");
	free(id);
	return rc;
}

/* cat > security_groups/<id>/rules/<name> <<< '{"port": 22, ...}': a rule
 * of this group, described as <name>, from the same spec as
 * security_group_rules/ takes (without "group"). */
static int group_rules_store(const struct extra_ctx *x, const char *data, size_t len)
{
	json_error_t jerr;
	json_t *body = NULL, *wrapped = NULL;
	char err[512] = "";
	int rc = -EINVAL;

	if (x->nsub != 1)
		return -EPERM;
	body = len ? json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr) : json_object();
	if (!json_is_object(body)) {
		snprintf(err, sizeof(err), "the spec is not a JSON object%s%s", body ? "" : ": ",
			 body ? "" : jerr.text);
		goto out;
	}
	if (json_object_get(body, "security_group_rule"))
		json_object_update(body, json_object_get(body, "security_group_rule")),
			json_object_del(body, "security_group_rule");
	rc = rule_remote(x, body, err, sizeof(err));
	if (!rc && json_object_get(body, "remote_group")) {
		json_t *rg = json_incref(json_object_get(body, "remote_group"));

		json_object_del(body, "remote_group");
		json_object_set_new(body, "remote", rg);
		rc = rule_remote(x, body, err, sizeof(err));
		json_object_del(body, "remote_ip_prefix"); /* a group, never a CIDR */
	}
	if (rc)
		goto out;
	if (json_object_set_new(body, "security_group_id", json_string(x->id)) ||
	    (!json_object_get(body, "description") &&
	     json_object_set_new(body, "description", json_string(x->sub[0]))) ||
	    sg_rule_complete(body)) {
		rc = -ENOMEM;
		goto out;
	}
	wrapped = json_pack("{sO}", "security_group_rule", body);
	rc = wrapped ? svc_request_json(x, "POST", "/v2.0/security-group-rules", wrapped, NULL)
		     : -ENOMEM;
	extra_changed(x, NULL, x->id);
	extra_changed(x, "security_group_rules", NULL);
out:
	if (err[0])
		log_cloud_error("security_groups/%s/rules/%s: %s", x->id, x->sub[0], err);
	json_decref(wrapped);
	json_decref(body);
	return rc;
}

/* rm security_groups/<id>/rules/<rule>: delete the rule. */
static int group_rules_unlink(const struct extra_ctx *x)
{
	const char *rid = group_rule_find(x->doc, x->sub[0]);
	char path[256];
	int rc;

	if (!rid)
		return -ENOENT;
	if (!plain_id(rid))
		return -EIO;
	snprintf(path, sizeof(path), "/v2.0/security-group-rules/%s", rid);
	rc = svc_request_json(x, "DELETE", path, NULL, NULL);
	extra_changed(x, NULL, x->id);
	extra_changed(x, "security_group_rules", rid);
	return rc;
}

static const struct member_extra group_extras[] = {
	{ .name = "rules",
	  .kind = EXTRA_DIR,
	  .mode = 0755,
	  .readdir = group_rules_readdir,
	  .lookup = group_rules_lookup,
	  .flags = EXTRA_JSON,
	  .store = group_rules_store,
	  .unlink = group_rules_unlink },
	{ .name = NULL },
};

/* floating_ips/<id>/port: the associated port's id, or nothing. */
static int fip_port_show(const struct extra_ctx *x, struct buf *out)
{
	const char *port = str_of(x->doc, "port_id");

	if (!port)
		return 0;
	return buf_addstr(out, port) || buf_addstr(out, "\n") ? -ENOMEM : 0;
}

/* PUT the floating IP's port_id (NULL: disassociate). */
static int fip_set_port(const struct extra_ctx *x, const char *fip, const char *port)
{
	char path[256];
	json_t *body;
	int rc;

	if (!plain_id(fip))
		return -EIO;
	snprintf(path, sizeof(path), "/v2.0/floatingips/%s", fip);
	body = port ? json_pack("{s{ss}}", "floatingip", "port_id", port)
		    : json_pack("{s{sn}}", "floatingip", "port_id");
	rc = body ? svc_request_json(x, "PUT", path, body, NULL) : -ENOMEM;
	json_decref(body);
	extra_changed(x, "floating_ips", fip);
	extra_changed(x, "servers", NULL);
	return rc;
}

/* echo <port> > floating_ips/<id>/port: associate (a port by id or unique
 * name); echo none > floating_ips/<id>/port: disassociate. */
static int fip_port_store(const struct extra_ctx *x, const char *line, size_t len)
{
	char err[512] = "", *id = NULL;
	int rc;

	(void)len;
	if (strcmp(line, NETWORK_NONE)) {
		rc = extra_find_ref(x, "ports", line, &id, err, sizeof(err));
		if (rc) {
			log_cloud_error("floating_ips/%s/port: %s", x->id, err);
			return rc;
		}
	}
	rc = fip_set_port(x, x->id, id);
	free(id);
	return rc;
}

static const struct member_extra fip_extras[] = {
	{ .name = "port",
	  .kind = EXTRA_FILE,
	  .mode = 0644,
	  .flags = EXTRA_LINES,
	  .show = fip_port_show,
	  .store = fip_port_store },
	{ .name = NULL },
};

/* A context for requests to Neutron from a member of another service
 * (servers/<id>/floating_ips/): the same member, Neutron's endpoint. */
static struct extra_ctx neutron_ctx(const struct extra_ctx *x)
{
	struct extra_ctx n = *x;

	n.coll = collection_find("floating_ips");
	return n;
}

/* The floating IPs on @server's ports: GET its ports, then the floating
 * IPs of those ports (two requests, whatever the numbers). */
static int server_fips(const struct extra_ctx *x, json_t **fips)
{
	struct extra_ctx n = neutron_ctx(x);
	json_t *ports = NULL, *port, *answer = NULL;
	struct buf q;
	size_t i;
	int rc = device_ports(&n, x->id, &ports);

	*fips = NULL;
	buf_init(&q, CFS_MAX_BODY);
	if (!rc)
		rc = buf_addstr(&q, "/v2.0/floatingips?");
	json_array_foreach(ports, i, port)
	{
		const char *pid = str_of(port, "id");

		if (!rc && plain_id(pid))
			rc = buf_addstr(&q, "port_id=") || buf_addstr(&q, pid) ||
					     buf_addstr(&q, "&")
				     ? -ENOMEM
				     : 0;
	}
	if (!rc && json_array_size(ports)) {
		q.data[q.len - 1] = '\0';
		rc = svc_request_json(&n, "GET", q.data, NULL, &answer);
		if (!rc)
			*fips = json_incref(json_object_get(answer, "floatingips"));
		rc = rc ? rc : json_is_array(*fips) ? 0 : -EIO;
	} else if (!rc) {
		*fips = json_array();
	}
	buf_free(&q);
	json_decref(answer);
	json_decref(ports);
	return rc;
}

/* The floating addresses Nova lists for @server (its network info, which
 * follows Neutron within seconds): @fn(address) for each; > 0 stops. */
static int doc_fips(const json_t *server, int (*fn)(const char *addr, void *arg), void *arg)
{
	const char *net;
	const json_t *addrs, *a;
	size_t i;
	int rc = 0;

	json_object_foreach((json_t *)json_object_get(server, "addresses"), net, addrs)
	{
		json_array_foreach(addrs, i, a)
		{
			const char *addr = str_of(a, "addr");

			if (!rc && addr && !strcmp(str_of(a, "OS-EXT-IPS:type") ?: "", "floating"))
				rc = fn(addr, arg);
		}
	}
	return rc;
}

struct fips_fill {
	const struct extra_ctx *x;
	extra_fill_fn fill;
	void *fill_ctx;
};

static int fips_fill_one(const char *addr, void *arg)
{
	struct fips_fill *f = arg;
	struct extra_ctx child = *f->x;
	char *sub[1] = { (char *)addr }, *link;
	int rc;

	child.sub = sub;
	child.nsub = 1;
	link = extra_link_to(&child, "floating_ips", addr);
	rc = link ? f->fill(f->fill_ctx, addr, EXTRA_LINK, link) : -ENOMEM;
	free(link);
	return rc;
}

/* servers/<id>/floating_ips/: one link per floating address the server's
 * document lists, to ../../../floating_ips/<address> (the floating IP's
 * name link): no request, so walking servers/ costs none either. */
static int server_fips_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx)
{
	struct fips_fill f = { x, fill, fill_ctx };

	if (x->nsub)
		return -ENOTDIR;
	return doc_fips(x->doc, fips_fill_one, &f);
}

/* The floating IP on the server's ports named @name (by address or id),
 * as Neutron has it: its id and address, malloc'd. */
static int server_fip_find(const struct extra_ctx *x, const char *name, char **fid, char **faddr)
{
	json_t *fips = NULL, *f;
	size_t i;
	int rc = server_fips(x, &fips);

	*fid = *faddr = NULL;
	json_array_foreach(fips, i, f)
	{
		const char *addr = str_of(f, "floating_ip_address"), *id = str_of(f, "id");

		if (!rc && !*fid && id && addr && (!strcmp(addr, name) || !strcmp(id, name))) {
			*fid = strdup(id);
			*faddr = strdup(addr);
			rc = *fid && *faddr ? 0 : -ENOMEM;
		}
	}
	json_decref(fips);
	return rc ? rc : *fid ? 0 : -ENOENT;
}

static int same_addr(const char *addr, void *arg)
{
	return !strcmp(addr, arg);
}

/* An address the document lists costs nothing; any other name (one just
 * associated, before Nova's view has it) is asked of Neutron. */
static int server_fips_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	char *fid = NULL, *addr = NULL;
	int rc = 0;

	if (x->nsub != 1)
		return -ENOENT;
	if (!doc_fips(x->doc, same_addr, x->sub[0]))
		rc = server_fip_find(x, x->sub[0], &fid, &addr);
	if (!rc) {
		e->kind = EXTRA_LINK;
		e->link = extra_link_to(x, "floating_ips", addr ? addr : x->sub[0]);
		rc = e->link ? 0 : -ENOMEM;
	}
	free(fid);
	free(addr);
	return rc;
}

/* 0 when @name is floating IP @fid's address or id; -EINVAL (said why)
 * otherwise. */
static int fip_named(const struct extra_ctx *n, const char *fid, const char *name)
{
	char path[256];
	json_t *answer = NULL;
	const char *addr;
	int rc;

	if (!strcmp(name, fid))
		return 0;
	if (!plain_id(fid))
		return -EIO;
	snprintf(path, sizeof(path), "/v2.0/floatingips/%s", fid);
	rc = svc_request_json(n, "GET", path, NULL, &answer);
	addr = str_of(json_object_get(answer, "floatingip"), "floating_ip_address");
	if (!rc && (!addr || strcmp(addr, name))) {
		log_cloud_error("servers/%s/floating_ips/%s: name the link after the floating IP's "
				"address (%s) or id",
				n->id, name, addr ? addr : "none");
		rc = -EINVAL;
	}
	json_decref(answer);
	return rc;
}

/* ln -s ../../../floating_ips/<fip> servers/<id>/floating_ips/<address>:
 * associate it with the server's port that its network reaches (a router
 * with a gateway on the floating IP's network and an interface on the
 * port's subnet): each port is tried, Neutron says which one it reaches. */
static int server_fips_link(const struct extra_ctx *x, const char *target)
{
	struct extra_ctx n = neutron_ctx(x);
	char coll[64], err[512] = "", *fid = NULL, *ref = target_parts(target, coll, sizeof(coll));
	json_t *ports = NULL, *port;
	size_t i;
	int rc = -EINVAL;

	if (!ref || strcmp(coll, "floating_ips")) {
		log_cloud_error(
			"servers/%s/floating_ips: link to ../../../floating_ips/<address or id>, "
			"not '%s'",
			x->id, target);
		goto out;
	}
	rc = extra_find_ref(x, "floating_ips", ref, &fid, err, sizeof(err));
	if (rc) {
		log_cloud_error("servers/%s/floating_ips: %s", x->id, err);
		goto out;
	}
	/* The link is then found by that name: the address or the id. */
	rc = fip_named(&n, fid, x->sub[0]);
	if (rc)
		goto out;
	rc = device_ports(&n, x->id, &ports);
	if (!rc && !json_array_size(ports)) {
		log_cloud_error("servers/%s/floating_ips: the server has no port", x->id);
		rc = -EINVAL;
	}
	json_array_foreach(ports, i, port)
	{
		if (i > 0 && rc != -ENOENT)
			break;
		/* 404 ExternalGatewayForFloatingIPNotFound: not this one. */
		rc = fip_set_port(&n, fid, str_of(port, "id"));
	}
	/* No port of the server is on a subnet a router connects to the
	 * floating IP's network (Neutron's reason is in .cloudfs/errors). */
	extra_changed(x, NULL, x->id); /* its addresses */
	if (rc == -ENOENT) {
		log_cloud_error(
			"servers/%s/floating_ips: floating IP %s: no port of the server is on a "
			"subnet that a router connects to its network",
			x->id, fid);
		rc = -ENETUNREACH;
	}
out:
	json_decref(ports);
	free(fid);
	free(ref);
	return rc;
}

/* rm servers/<id>/floating_ips/<address>: disassociate it. */
static int server_fips_unlink(const struct extra_ctx *x)
{
	struct extra_ctx n = neutron_ctx(x);
	char *fid = NULL, *addr = NULL;
	int rc = server_fip_find(x, x->sub[0], &fid, &addr);

	if (!rc)
		rc = fip_set_port(&n, fid, NULL);
	extra_changed(x, NULL, x->id);
	free(fid);
	free(addr);
	return rc;
}

/* One POST of a floating IP's create @body; *answer its answer. */
static int fip_post(struct svc_call *x, const json_t *body, json_t **answer)
{
	struct svc_answer a;
	char *text = json_dumps(body, JSON_COMPACT);
	int rc = text ? svc_request(x, "POST", "/v2.0/floatingips", NULL, text, strlen(text), NULL,
				    &a)
		      : -ENOMEM;

	free(text);
	if (text) {
		*answer = rc ? NULL : json_incref(a.json);
		svc_answer_free(&a);
	}
	return rc;
}

/* A floating IP's spec with "server": "web1" is made on the server's port
 * that a router connects to the floating IP's network: Neutron refuses the
 * others (404 ExternalGatewayForFloatingIPNotFound), so each port of the
 * server is tried, in Neutron's order, until one is taken. */
static int fip_create_post(struct svc_call *x, json_t *body, json_t **answer)
{
	json_t *fip = json_object_get(body, "floatingip"), *ports = NULL, *port, *got = NULL;
	/* a copy: the key leaves the body before the POSTs */
	char *ref = str_of(fip, "server") ? strdup(str_of(fip, "server")) : NULL;
	char err[512] = "", path[256], *sid = NULL;
	struct svc_answer a = { 0 };
	size_t i;
	int rc;

	*answer = NULL;
	if (!json_object_get(fip, "server"))
		return fip_post(x, body, answer);
	if (!ref || json_object_get(fip, "port_id")) {
		log_cloud_error("floating_ips: \"server\" names a server (an id or a unique name), "
				"and takes the place of \"port_id\"");
		rc = -EINVAL;
		goto out;
	}
	rc = svc_find_ref(x, "servers", ref, &sid, err, sizeof(err));
	if (rc) {
		log_cloud_error("floating_ips: %s", err);
		goto out;
	}
	rc = -EIO;
	if (!plain_id(sid))
		goto out;
	snprintf(path, sizeof(path), "/v2.0/ports?device_id=%s", sid);
	rc = svc_request(x, "GET", path, NULL, NULL, 0, NULL, &a);
	ports = rc ? NULL : json_object_get(a.json, "ports");
	if (!rc && !json_array_size(ports)) {
		log_cloud_error("floating_ips: server %s has no port", ref);
		rc = -EINVAL;
	}
	json_array_foreach(ports, i, port)
	{
		if (i > 0 && rc != -ENOENT)
			break;
		if (!str_of(port, "id")) {
			rc = -EIO;
			break;
		}
		if (json_object_set_new(fip, "port_id", json_string(str_of(port, "id")))) {
			rc = -ENOMEM;
			break;
		}
		json_object_del(fip, "server"); /* Neutron's body has no such key */
		rc = fip_post(x, body, &got);
	}
	if (rc == -ENOENT) {
		log_cloud_error("floating_ips: no port of server %s is on a subnet that a router "
				"connects to the floating IP's network",
				ref);
		rc = -ENETUNREACH;
	}
	*answer = got;
out:
	svc_answer_free(&a);
	free(sid);
	free(ref);
	return rc;
}

/* Neutron's side of a server (NETWORK_SERVER_FIPS_EXTRA, os_extras.h). */
int network_server_fips_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx)
{
	return server_fips_readdir(x, fill, fill_ctx);
}

int network_server_fips_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	return server_fips_lookup(x, e);
}

int network_server_fips_link(const struct extra_ctx *x, const char *target)
{
	return server_fips_link(x, target);
}

int network_server_fips_unlink(const struct extra_ctx *x)
{
	return server_fips_unlink(x);
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
		.spec_rules = router_spec, .extras = router_extras),
	NEUTRON("security_groups", "security-groups", "security_groups", "security_group", named_rw,
		.mkdir_creates = true, .extras = group_extras),
	/* Nameless: a create sends no name. Its address stands for one (unique
	 * in the cloud): floating_ips/<address> is a link to its id. */
	{ .name = "floating_ips",
	  .service = &service_network,
	  .list_path = "/v2.0/floatingips",
	  .item_path = "/v2.0/floatingips",
	  .list_key = "floatingips",
	  .item_key = "floatingip",
	  .id_field = "id",
	  .name_field = "floating_ip_address",
	  .mtime_fields = network_mtime,
	  .links_key = "floatingips_links",
	  .next = NEXT_LINKS,
	  .paged = true,
	  .uuid_ids = true,
	  .name_links = true,
	  .can_create = true,
	  .writable = fip_rw,
	  .busy = neutron_busy,
	  .nameless = true,
	  .spec_rules = fip_spec,
	  .create_post = fip_create_post,
	  .extras = fip_extras },
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
	/* quotas/network/: Neutron's quota details (network/{limit,used,
	 * reserved}, ...: "used", not Nova's "in_use"). PUT quotas/<project>
	 * {"quota": {...}}: admins. */
	{ .name = "network",
	  .service = &service_network,
	  .group = "quotas",
	  .singleton = true,
	  .item_path = "/v2.0/quotas",
	  .item_suffix = "/details.json",
	  .item_key = "quota",
	  .writable_leaf = "limit" },
};

const struct service_def service_network = {
	.name = "network",
	.types = network_types,
	.version_suffix = "/v2.0",
	SERVICE_ROWS(network_collections),
};
