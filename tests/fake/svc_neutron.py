"""Neutron (network v2.0) for the fake cloud, loaded by fake_openstack.py (see its "service modules"
comment): networks, subnets, ports, security groups and rules, routers, floating IPs, network quotas.

  network   http://127.0.0.1:P/network   /v2.0/{networks,subnets,ports,security-groups,security-group-rules,
                                          routers,floatingips}[/{id}]  (GET POST PUT DELETE),
                                          /v2.0/routers/{id}/add_router_interface | remove_router_interface,
                                          /v2.0/quotas/{p}[/details] (GET PUT: admin)
Writes are validated as Neutron does (references exist, CIDR rules, ports in use).  Errors:
{"NeutronError": {"type", "message", "detail"}}; lists carry `next` + `previous` (page_reverse=True).
"""

import ipaddress
import re
import time
import uuid

from fake_common import ApiError, Resp, ServiceBase, cidr_network, jdump, jresp, public, ts
from svc_keystone import DEMO_PROJECT

SERVICE = "network"
ORDER = 4
CATALOG = [("network", "neutron", "/network")]
# Neutron: collection -> (URL segment, body key, exception label, quota resource name)
NEUTRON = {"networks": ("networks", "network", "Network", "network"),
           "subnets": ("subnets", "subnet", "Subnet", "subnet"),
           "ports": ("ports", "port", "Port", "port"),
           "routers": ("routers", "router", "Router", "router"),
           "security_groups": ("security-groups", "security_group", "SecurityGroup", "security_group"),
           "security_group_rules": ("security-group-rules", "security_group_rule", "SecurityGroupRule",
                                    "security_group_rule"),
           "floating_ips": ("floatingips", "floatingip", "FloatingIP", "floatingip")}
NEUTRON_BY_URL = {seg: coll for coll, (seg, *_) in NEUTRON.items()}
COLLECTIONS = {coll: ("id", lambda r: r["id"], False) for coll in NEUTRON}     # Neutron lists by id
QUOTA_COLLECTIONS = tuple(NEUTRON)
QUOTA_OF_COLLECTION = {"networks": ("network", "network"), "subnets": ("network", "subnet"),
                       "ports": ("network", "port"), "routers": ("network", "router"),
                       "security_groups": ("network", "security_group"), "floating_ips": ("network", "floatingip")}
QUOTA_DEFAULTS = {                                  # Zed's
    "network": {"network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10, "floatingip": 50,
                "security_group": 10, "security_group_rule": 100, "rbac_policy": 10},
}
# Attributes Neutron takes on POST (required ones first, marked by REQUIRED) and on PUT.
NEUTRON_ATTRS = {
    "networks": ((), {"name", "admin_state_up", "shared", "description", "mtu", "router:external",
                      "port_security_enabled", "availability_zone_hints", "tags", "qos_policy_id", "dns_domain"},
                 {"name", "admin_state_up", "shared", "description", "mtu", "router:external",
                  "port_security_enabled", "qos_policy_id", "dns_domain"}),
    "subnets": (("network_id", "ip_version"), {"name", "cidr", "gateway_ip", "enable_dhcp", "dns_nameservers",
                                                "allocation_pools", "host_routes", "description", "ipv6_ra_mode",
                                                "ipv6_address_mode", "subnetpool_id", "prefixlen", "service_types",
                                                "segment_id", "tags", "dns_publish_fixed_ip"},
                {"name", "description", "gateway_ip", "enable_dhcp", "dns_nameservers", "allocation_pools",
                 "host_routes", "service_types", "segment_id", "dns_publish_fixed_ip"}),
    "ports": (("network_id",), {"name", "admin_state_up", "mac_address", "fixed_ips", "device_id",
                                "device_owner", "description", "security_groups", "allowed_address_pairs",
                                "port_security_enabled", "binding:vnic_type", "binding:host_id",
                                "binding:profile", "extra_dhcp_opts", "qos_policy_id", "dns_name", "tags"},
              {"name", "admin_state_up", "fixed_ips", "device_id", "device_owner", "description",
               "security_groups", "allowed_address_pairs", "port_security_enabled", "binding:vnic_type",
               "binding:host_id", "binding:profile", "extra_dhcp_opts", "qos_policy_id", "dns_name"}),
    "routers": ((), {"name", "admin_state_up", "external_gateway_info", "description", "distributed", "ha",
                     "availability_zone_hints", "flavor_id", "tags"},
                {"name", "admin_state_up", "external_gateway_info", "description", "routes", "distributed",
                 "ha"}),
    "security_groups": ((), {"name", "description", "stateful", "tags"}, {"name", "description", "stateful"}),
    # Neutron has no PUT for rules (Zed answers one with a 500); nothing is updatable here.
    "security_group_rules": (("security_group_id",), {"direction", "ethertype", "protocol", "port_range_min",
                                                      "port_range_max", "remote_ip_prefix", "remote_group_id",
                                                      "remote_address_group_id", "description"}, set()),
    "floating_ips": (("floating_network_id",), {"port_id", "fixed_ip_address", "floating_ip_address",
                                                "subnet_id", "description", "tags"},
                     {"port_id", "fixed_ip_address", "description"}),
}
NEUTRON_BOOLS, NEUTRON_INTS = {"admin_state_up", "shared", "router:external", "port_security_enabled",
                               "enable_dhcp", "stateful", "distributed", "ha"}, {"mtu", "ip_version"}
SG_PROTOCOLS = [None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap',
                'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp',
                'sctp', 'tcp', 'udp', 'udplite', 'vrrp']
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                           "network:ha_router_replicated_interface")
AUTO_DELETE_PORT_OWNERS = ("network:dhcp", "network:distributed", "network:floatingip_agent_gateway")


def default_pools(cidr, gateway):
    """Neutron's allocation pools when none are given: every host address but the gateway."""
    first, last = cidr.network_address + 1, cidr.broadcast_address - (1 if cidr.version == 4 else 0)
    if cidr.num_addresses <= 2:
        return []
    pools, start = [], first
    if gateway is not None and first <= gateway <= last:
        if gateway > first:
            pools.append({"start": str(first), "end": str(gateway - 1)})
        start = gateway + 1
    if start <= last:
        pools.append({"start": str(start), "end": str(last)})
    return pools


def error_body(status, message, title, ntype=None, extra=None):
    ntype = ntype or "HTTP" + title.replace(" ", "")
    return "application/json", jdump({"NeutronError": {"type": ntype, "message": message, "detail": ""}})


class Service(ServiceBase):
    def routes(self):
        name = r"([^/]+)"
        neutron = "|".join(re.escape(seg) for seg in NEUTRON_BY_URL)
        table = [  # (method, path regex, handler, needs token)
            ("GET", rf"/network/v2\.0/quotas/{name}(/details)?", self.neutron_quotas, True),
            ("PUT", rf"/network/v2\.0/quotas/{name}", self.neutron_set_quotas, True),
            ("GET", rf"/network/v2\.0/({neutron})", self.neutron_list, True),
            ("POST", rf"/network/v2\.0/({neutron})", self.neutron_create, True),
            ("GET", rf"/network/v2\.0/({neutron})/{name}", self.neutron_show, True),
            ("PUT", rf"/network/v2\.0/({neutron})/{name}", self.neutron_update, True),
            ("DELETE", rf"/network/v2\.0/({neutron})/{name}", self.neutron_delete, True),
            ("PUT", rf"/network/v2\.0/routers/{name}/(add|remove)_router_interface", self.neutron_router_interface,
             True),
        ]
        return [(m, rx + r"(?:\.json)?", fn, auth) for m, rx, fn, auth in table]

    # ------------------------------------------------------------------------------------ builders
    def mac(self):
        return "fa:16:3e:" + ":".join(f"{self.rng.randrange(256):02x}" for _ in range(3))

    def alloc_ip(self, subnet):
        net = cidr_network(subnet["cidr"])
        n = self.counters.get("ip:" + subnet["id"], 0)
        self.counters["ip:" + subnet["id"]] = n + 1
        return str(net.network_address + 3 + n % max(1, min(net.num_addresses - 4, 1 << 20)))

    def _neutron_common(self, p, t):
        project = p.pop("project_id", DEMO_PROJECT)
        return {"tenant_id": project, "description": "", "tags": [], "created_at": ts(t), "updated_at": ts(t),
                "revision_number": 1, "project_id": project}

    def build_networks(self, p):
        t = p.pop("_t", None) or time.time()
        common = self._neutron_common(p, t)
        rec = {"id": p.pop("id", None) or str(uuid.uuid4()), "name": "", "tenant_id": common["tenant_id"],
               "admin_state_up": True, "mtu": 1450, "status": "ACTIVE", "subnets": [], "shared": False,
               "availability_zone_hints": [], "availability_zones": [], "ipv4_address_scope": None,
               "ipv6_address_scope": None, "router:external": False, "description": "",
               "port_security_enabled": True, **common}
        rec.update(p)
        return rec

    def build_subnets(self, p):
        t = p.pop("_t", None) or time.time()
        net = self.lookup("networks", p.pop("network_id", None) or p.pop("network", "private"))
        if net is None:
            raise ValueError("subnet needs an existing network")
        if "cidr" not in p:
            self.counters["subnet"] += 1
        cidr = ipaddress.ip_network(p.pop("cidr", None) or f"10.{100 + self.counters['subnet'] % 150}.0.0/24")
        common = self._neutron_common(p, t)
        rec = {"id": p.pop("id", None) or str(uuid.uuid4()), "name": "", "tenant_id": common["tenant_id"],
               "network_id": net["id"], "ip_version": cidr.version, "subnetpool_id": None, "enable_dhcp": True,
               "ipv6_ra_mode": None, "ipv6_address_mode": None, "gateway_ip": str(cidr.network_address + 1),
               "cidr": str(cidr), "allocation_pools": default_pools(cidr, cidr.network_address + 1),
               "host_routes": [], "dns_nameservers": [], "service_types": [], **common, "revision_number": 0}
        rec.update(p)
        net["subnets"].append(rec["id"])
        return rec

    def build_ports(self, p):
        t = p.pop("_t", None) or time.time()
        net = self.lookup("networks", p.pop("network_id", None) or p.pop("network", "private"))
        if net is None:
            raise ValueError("port needs an existing network")
        common = self._neutron_common(p, t)
        subnets = [self.c["subnets"][s] for s in net["subnets"] if s in self.c["subnets"]]
        sg = next((s["id"] for s in self.c["security_groups"].values()
                   if s["name"] == "default" and s["project_id"] == common["project_id"]), None)
        rec = {"id": p.pop("id", None) or str(uuid.uuid4()), "name": "", "network_id": net["id"],
               "tenant_id": common["tenant_id"], "mac_address": self.mac(), "admin_state_up": True,
               "status": "ACTIVE", "device_id": "", "device_owner": "",
               "fixed_ips": [{"subnet_id": s["id"], "ip_address": self.alloc_ip(s)} for s in subnets[:1]],
               "allowed_address_pairs": [], "extra_dhcp_opts": [], "security_groups": [sg] if sg else [],
               "binding:vnic_type": "normal", "port_security_enabled": True,   # no qos: Zed's without it
               **common, "revision_number": 2}
        rec.update(p)
        return rec

    def build_security_groups(self, p):
        t = p.pop("_t", None) or time.time()
        common = self._neutron_common(p, t)
        sid = p.pop("id", None) or str(uuid.uuid4())
        # Neutron gives every group egress rules; only the default group lets its members in too.
        directions = ("egress", "ingress") if p.get("name", "default") == "default" else ("egress",)
        rules = [self.add("security_group_rules", self.build_security_group_rules(
                    {"security_group_id": sid, "ethertype": eth, "direction": direction, "_t": t,
                     "description": None, "project_id": common["project_id"],
                     "remote_group_id": sid if direction == "ingress" else None}))
                 for direction in directions for eth in ("IPv6", "IPv4")]
        rec = {"id": sid, "name": "default", "tenant_id": common["tenant_id"],
               "description": "Default security group", "security_group_rules": rules, "stateful": True,
               "shared": False,
               **{k: v for k, v in common.items() if k != "description"}}
        rec.update(p)
        return rec

    def build_security_group_rules(self, p):
        t = p.pop("_t", None) or time.time()
        common = self._neutron_common(p, t)
        prefix = p.get("remote_ip_prefix")
        rec = {"id": p.pop("id", None) or str(uuid.uuid4()), "tenant_id": common["tenant_id"],
               "security_group_id": p.pop("security_group_id"), "ethertype": "IPv4", "direction": "ingress",
               "protocol": None, "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
               "remote_address_group_id": None,
               "normalized_cidr": str(ipaddress.ip_network(prefix, strict=False)) if prefix else None,
               "remote_group_id": None, "description": "", "created_at": ts(t), "updated_at": ts(t),
               "revision_number": 0, "project_id": common["project_id"], "_attr_id": next(self.seq)}
        rec.update(p)
        return rec

    def sync_rules(self, sg_id):
        """A security group's document embeds its rules, as Neutron's does."""
        sg = self.c["security_groups"].get(sg_id)
        if sg is not None:
            # Embedded, a rule also shows its standard_attr_id and tags (Zed's security group show).
            sg["security_group_rules"] = [{**public(r), "standard_attr_id": r["_attr_id"], "tags": []}
                                          for r in self.c["security_group_rules"].values()
                                          if r["security_group_id"] == sg_id]

    def build_routers(self, p):
        t = p.pop("_t", None) or time.time()
        common = self._neutron_common(p, t)
        gateway = p.pop("external_network", None)
        info = None
        if gateway:
            ext = self.lookup("networks", gateway)
            sub = self.c["subnets"].get((ext or {}).get("subnets", [None])[0])
            info = {"network_id": ext["id"], "enable_snat": True, "external_fixed_ips":
                    [{"subnet_id": sub["id"], "ip_address": self.alloc_ip(sub)}] if sub else []}
        rec = {"id": p.pop("id", None) or str(uuid.uuid4()), "name": "", "tenant_id": common["tenant_id"],
               "admin_state_up": True, "status": "ACTIVE", "external_gateway_info": info,
               "availability_zones": [], "availability_zone_hints": [], "routes": [], "flavor_id": None,
               **common, "revision_number": 3}
        rec.update(p)
        return rec

    def build_floating_ips(self, p):
        t = p.pop("_t", None) or time.time()
        net = self.lookup("networks", p.pop("floating_network_id", None) or p.pop("network", "public"))
        if net is None:
            raise ValueError("a floating IP needs an existing network")
        common = self._neutron_common(p, t)
        sub = next((self.c["subnets"][s] for s in net["subnets"] if s in self.c["subnets"]), None)
        rec = {"id": p.pop("id", None) or str(uuid.uuid4()), "tenant_id": common["tenant_id"],
               "floating_ip_address": self.alloc_ip(sub) if sub else None, "floating_network_id": net["id"],
               "router_id": None, "port_id": None, "fixed_ip_address": None, "status": "DOWN",
               "port_details": None, **common, "revision_number": 0}     # Zed without dns, qos
        rec.update(p)
        return rec

    # --------------------------------------------------------------------------------------- hooks
    def created(self, coll, rec):
        if coll in ("security_groups", "security_group_rules"):
            self.sync_rules(rec["id"] if coll == "security_groups" else rec["security_group_id"])

    def removed(self, coll, key, rec):
        if coll == "networks":
            for sub in [s for s in self.c["subnets"].values() if s["network_id"] == key]:
                self.remove("subnets", sub["id"])
            for port in [p for p in self.c["ports"].values() if p["network_id"] == key]:
                self.remove("ports", port["id"])
        elif coll == "subnets" and rec["network_id"] in self.c["networks"]:
            self.c["networks"][rec["network_id"]]["subnets"].remove(key)
        elif coll == "security_groups":
            for rule in [r for r in self.c["security_group_rules"].values() if r["security_group_id"] == key]:
                self.c["security_group_rules"].pop(rule["id"])
        elif coll == "security_group_rules":
            self.sync_rules(rec["security_group_id"])
        elif coll == "ports":
            for fip in self.c["floating_ips"].values():       # Neutron disassociates a deleted port's FIPs
                if fip["port_id"] == key:
                    fip.update(port_id=None, fixed_ip_address=None, router_id=None, port_details=None,
                               status="DOWN")
            self.sync_server_fips(rec.get("device_id"))

    def visibility(self, proj, user):
        return {"networks": lambda r: r["project_id"] == proj or r["shared"] or r["router:external"],
                "subnets": lambda r: r["project_id"] == proj or self.c["networks"].get(
                    r["network_id"], {}).get("shared", False)}

    def quota_used(self, project):
        return {"network": {NEUTRON[c][3]: sum(1 for r in self.c[c].values() if r.get("project_id") == project)
                             for c in NEUTRON}}

    def quota_exceeded(self, coll, requested, used, limit):
        return ApiError(409, f"Quota exceeded for resources: ['{NEUTRON[coll][3]}'].", "OverQuota")

    def quota_check(self, wrapper, key, value, known, used):
        if key not in known:
            raise ApiError(400, f"Unrecognized attribute(s) '{key}'", "HTTPBadRequest")
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise ApiError(400, f"Invalid input for {key}. Reason: '{value}' is not an integer.", "HTTPBadRequest")

    # -------------------------------------------------------------------------------------- quotas
    def neutron_quotas(self, req, project, details):
        self.quota_target(req, project, "get_quota")
        return jresp(200, {"quota": self.quota_set("network", project, details, "used")})

    def neutron_set_quotas(self, req, project):
        if "admin" not in req.token["roles"]:
            raise ApiError(403, "rule:update_quota is disallowed by policy", "PolicyNotAuthorized")
        return jresp(200, {"quota": self.quota_update(req, "network", "quota", project)})

    # ------------------------------------------------------------------------------------- neutron
    @staticmethod
    def neutron_not_found(coll, key):
        label = NEUTRON[coll][2]
        if coll == "security_groups":
            return ApiError(404, f"Security group {key} does not exist", "SecurityGroupNotFound")
        if coll == "floating_ips":
            return ApiError(404, f"Floating IP {key} could not be found", "FloatingIPNotFound")
        if coll == "security_group_rules":
            return ApiError(404, f"Security group rule {key} does not exist", "SecurityGroupRuleNotFound")
        return ApiError(404, f"{label} {key} could not be found.", f"{label}NotFound")

    def neutron_get(self, req, coll, key):
        rec = self.find(req, coll, key)
        if rec is None:
            raise self.neutron_not_found(coll, key)
        return rec

    def neutron_list(self, req, resource):
        coll = NEUTRON_BY_URL[resource]
        return self.listing(req, coll, "neutron", f"{self.base}/network/v2.0/{resource}", key=NEUTRON[coll][1] + "s")

    def neutron_show(self, req, resource, key):
        coll = NEUTRON_BY_URL[resource]
        return jresp(200, {NEUTRON[coll][1]: public(self.neutron_get(req, coll, key))})

    @staticmethod
    def neutron_invalid(field, reason):
        return ApiError(400, f"Invalid input for {field}. Reason: {reason}.", "HTTPBadRequest")

    def neutron_body(self, req, coll, create):
        """The resource's attributes from a POST/PUT body, converted and checked like Neutron's
        attribute map does (unknown -> 400, read-only on PUT -> 400, required on POST, bools, ints)."""
        wrap = NEUTRON[coll][1]
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get(wrap), dict):
            raise ApiError(400, "Resource body required" if create else "Resource body required", "BadRequest")
        fields = dict(body[wrap])
        required, post, put = NEUTRON_ATTRS[coll]
        if create and "tenant_id" in fields:
            fields["project_id"] = fields.get("project_id") or fields.pop("tenant_id")
        known = set(required) | post | put | {"id", "project_id", "tenant_id", "status", "created_at",
                                               "updated_at", "revision_number"}
        unknown = sorted(k for k in fields if k not in known)
        if unknown:
            raise ApiError(400, f"Unrecognized attribute(s) '{', '.join(unknown)}'", "HTTPBadRequest")
        allowed = (set(required) | post | {"project_id"}) if create else put
        readonly = sorted(set(fields) - allowed)
        if readonly and create:
            raise ApiError(400, f"Attribute '{readonly[0]}' not allowed in POST", "HTTPBadRequest")
        if readonly:
            raise ApiError(400, f"Cannot update read-only attribute {readonly[0]}", "HTTPBadRequest")
        if create:
            for field in required:
                if field not in fields:
                    raise ApiError(400, f"Failed to parse request. Required attribute '{field}' not specified",
                                   "HTTPBadRequest")
        for field, value in list(fields.items()):
            if field in NEUTRON_BOOLS:
                if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                    value = value.lower() in ("true", "1")
                if not isinstance(value, bool):
                    raise self.neutron_invalid(field, f"'{value}' cannot be converted to boolean")
            elif field in NEUTRON_INTS:
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise self.neutron_invalid(field, f"'{value}' is not an integer") from None
            elif field in ("name", "description") and (not isinstance(value, str) or len(value) > 255):
                raise self.neutron_invalid(field, f"'{value}' is not a valid string")
            fields[field] = value
        if "mtu" in fields and not 68 <= fields["mtu"] <= 9000:
            raise self.neutron_invalid("mtu", f"'{fields['mtu']}' is not in range 68 through 9000")
        return fields

    def neutron_create(self, req, resource):
        coll = NEUTRON_BY_URL[resource]
        fields = self.neutron_body(req, coll, True)
        fields["project_id"] = fields.get("project_id") or req.token["project_id"]
        getattr(self, "neutron_check_" + coll, lambda *_: None)(req, fields, None)
        self.check_quota(req, coll)
        rec = self.new(coll, fields)
        if coll == "floating_ips" and rec["port_id"]:
            self.sync_server_fips(self.c["ports"].get(rec["port_id"], {}).get("device_id"))
        return jresp(201, {NEUTRON[coll][1]: public(rec)})

    def neutron_update(self, req, resource, key):
        coll = NEUTRON_BY_URL[resource]
        rec = self.neutron_get(req, coll, key)
        fields = self.neutron_body(req, coll, False)
        getattr(self, "neutron_check_" + coll, lambda *_: None)(req, fields, rec)
        old_port = rec.get("port_id") if coll == "floating_ips" else None
        rec.update(fields, revision_number=rec["revision_number"] + 1, updated_at=ts(time.time()))
        if coll == "floating_ips":
            for port_id in {old_port, rec["port_id"]} - {None}:
                self.sync_server_fips(self.c["ports"].get(port_id, {}).get("device_id"))
        return jresp(200, {NEUTRON[coll][1]: public(rec)})

    def neutron_check_subnets(self, req, f, old):
        """Neutron's subnet rules: the network exists, the CIDR is valid, canonical, of ip_version and
        overlaps no other subnet of the network; the gateway and the pools fit the CIDR."""
        if old is None:
            net = self.neutron_get(req, "networks", f["network_id"])
            if f["ip_version"] not in (4, 6):
                raise self.neutron_invalid("ip_version", f"{f['ip_version']} is not in [4, 6]")
            if "cidr" not in f:
                raise ApiError(400, "Bad subnets request: a subnetpool must be specified in the absence of a "
                                    "cidr.", "BadRequest")
            try:
                cidr = ipaddress.ip_network(f["cidr"], strict=False)
            except (ValueError, TypeError):
                raise self.neutron_invalid("cidr", f"'{f['cidr']}' is not a valid IP subnet") from None
            if str(cidr) != f["cidr"]:
                raise self.neutron_invalid("cidr", f"'{f['cidr']}' isn't a recommended CIDR, '{cidr}' is recommended")
            if cidr.version != f["ip_version"]:
                raise ApiError(400, f"Invalid input for operation: cidr '{f['cidr']}' does not match the "
                                    f"ip_version '{f['ip_version']}'.", "InvalidInput")
            for sid in net["subnets"]:
                other = self.c["subnets"].get(sid)
                if other and cidr.overlaps(ipaddress.ip_network(other["cidr"])):
                    raise ApiError(400, f"Invalid input for operation: Requested subnet with cidr: {cidr} for "
                                        f"network: {net['id']} overlaps with another subnet.", "InvalidInput")
        else:
            cidr = ipaddress.ip_network(old["cidr"])
        gateway = old["gateway_ip"] if old else str(cidr.network_address + 1)
        if "gateway_ip" in f:
            gateway = f["gateway_ip"]
            if gateway is not None:
                try:
                    gw = ipaddress.ip_address(gateway)
                except (ValueError, TypeError):
                    raise self.neutron_invalid("gateway_ip", f"'{gateway}' is not a valid IP address") from None
                if gw.version != cidr.version:
                    raise ApiError(400, f"Invalid input for operation: gateway_ip '{gateway}' does not match the "
                                        f"ip_version '{cidr.version}'.", "InvalidInput")
                if gw in cidr and (gw == cidr.network_address or
                                   (cidr.version == 4 and gw == cidr.broadcast_address)):
                    raise ApiError(400, "Invalid input for operation: Gateway is not valid on subnet.",
                                   "InvalidInput")
        gw = ipaddress.ip_address(gateway) if gateway else None
        for server in f.get("dns_nameservers") or []:
            try:
                ipaddress.ip_address(server)
            except (ValueError, TypeError):
                raise self.neutron_invalid("dns_nameservers", f"'{server}' is not a valid nameserver") from None
        if "allocation_pools" in f and f["allocation_pools"] is not None:
            ranges = []
            for pool in f["allocation_pools"]:
                try:
                    start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
                except (ValueError, TypeError, KeyError):
                    raise self.neutron_invalid("allocation_pools", f"Invalid data format for IP pool: '{pool}'") \
                        from None
                text = f"{pool['start']}-{pool['end']}"
                if start.version != cidr.version or end.version != cidr.version or start > end:
                    raise ApiError(400, f"The allocation pool {text} is not valid.", "InvalidAllocationPool")
                if start not in cidr or end not in cidr:
                    raise ApiError(400, f"The allocation pool {text} spans beyond the subnet cidr {cidr}.",
                                   "OutOfBoundsAllocationPool")
                if any(start <= e and s <= end for s, e, _ in ranges):
                    raise ApiError(409, f"Found overlapping allocation pools: {text} and "
                                        f"{next(t for s, e, t in ranges if start <= e and s <= end)}",
                                   "OverlappingAllocationPools")
                ranges.append((start, end, text))
                if gw is not None and start <= gw <= end:
                    raise ApiError(409, f"Gateway ip {gateway} conflicts with allocation pool {text}",
                                   "GatewayConflictWithAllocationPools")
        elif old is None:
            f["allocation_pools"] = default_pools(cidr, gw)
        if old is None:
            f.setdefault("gateway_ip", gateway)

    def neutron_check_security_groups(self, req, f, old):
        if f.get("name") == "default" and (old is None or old["name"] != "default"):
            raise ApiError(409, "Default security group already exists.", "SecurityGroupDefaultAlreadyExists")
        if old is None:
            f.setdefault("name", "")
            f.setdefault("description", "")

    def neutron_check_security_group_rules(self, req, f, old):
        """Neutron's rule checks, in its order (devcloud's answers: tests/fixtures/openstack-zed)."""
        sg_id = f["security_group_id"]
        if self.find(req, "security_groups", sg_id) is None:
            raise ApiError(404, f"Security group {sg_id} does not exist", "SecurityGroupNotFound")
        f.setdefault("direction", "ingress")
        f.setdefault("ethertype", "IPv4")
        if f["direction"] not in ("ingress", "egress"):
            raise self.neutron_invalid("direction", f"{f['direction']} is not in valid_values")
        if f["ethertype"] not in ("IPv4", "IPv6"):
            raise self.neutron_invalid("ethertype", f"{f['ethertype']} is not in valid_values")
        proto = f.get("protocol")
        if isinstance(proto, str) and proto.isdigit():
            proto = f["protocol"] = proto
        if proto is not None and proto not in SG_PROTOCOLS and not (str(proto).isdigit() and int(proto) <= 255):
            raise ApiError(400, f"Security group rule protocol {proto} not supported. Only protocol values "
                                f"{SG_PROTOCOLS} and integer representations [0 to 255] are supported.",
                           "SecurityGroupRuleInvalidProtocol")
        for field in ("port_range_min", "port_range_max"):
            if f.get(field) is not None:
                try:
                    f[field] = int(f[field])
                except (TypeError, ValueError):
                    raise self.neutron_invalid(field, f"'{f[field]}' is not an integer") from None
                if not 0 <= f[field] <= 65535:
                    raise ApiError(400, f"Invalid value for port {f[field]}.", "SecurityGroupInvalidPortValue")
        lo, hi = f.get("port_range_min"), f.get("port_range_max")
        if (lo is not None or hi is not None) and proto is None:
            raise ApiError(400, "Must also specify protocol if port range is given.",
                           "SecurityGroupProtocolRequiredWithPorts")
        if proto in ("tcp", "udp", "sctp", "dccp", "udplite", "6", "17") and lo is not None and hi is not None \
                and lo > hi:
            raise ApiError(400, "For TCP/UDP protocols, port_range_min must be <= port_range_max",
                           "SecurityGroupInvalidPortRange")
        remotes = [k for k in ("remote_ip_prefix", "remote_group_id", "remote_address_group_id") if f.get(k)]
        if len(remotes) > 1:
            raise ApiError(400, "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may "
                                "be provided.", "SecurityGroupMultipleRemoteEntites")
        if f.get("remote_group_id") and self.find(req, "security_groups", f["remote_group_id"]) is None:
            raise ApiError(404, f"Security group {f['remote_group_id']} does not exist", "SecurityGroupNotFound")
        prefix = f.get("remote_ip_prefix")
        if prefix:
            try:
                net = ipaddress.ip_network(prefix, strict=False)
            except (ValueError, TypeError):
                raise self.neutron_invalid("remote_ip_prefix", f"'{prefix}' is not a valid IP subnet") from None
            if f"IPv{net.version}" != f["ethertype"]:
                raise ApiError(400, f"Conflicting value ethertype {f['ethertype']} for CIDR {prefix}",
                               "SecurityGroupRuleParameterConflict")
        same = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_group_id",
                "remote_address_group_id")
        norm = str(ipaddress.ip_network(prefix, strict=False)) if prefix else None
        for rule in self.c["security_group_rules"].values():
            if rule["security_group_id"] == sg_id and all(rule.get(k) == f.get(k) for k in same) and \
                    rule["normalized_cidr"] == norm:
                raise ApiError(409, f"Security group rule already exists. Rule id is {rule['id']}.",
                               "SecurityGroupRuleExists")

    def neutron_check_ports(self, req, f, old):
        if old is None:
            self.neutron_get(req, "networks", f["network_id"])
        for sg in f.get("security_groups") or []:
            self.neutron_get(req, "security_groups", sg)

    def external_network(self, req, net_id, resource, why):
        net = self.neutron_get(req, "networks", net_id)
        if not net["router:external"]:
            raise ApiError(400, f"Bad {resource} request: Network {net_id} is not {why}.", "BadRequest")
        return net

    def neutron_check_routers(self, req, f, old):
        if "external_gateway_info" not in f:
            return
        info = f["external_gateway_info"] or None       # {} clears the gateway, as null does
        f["external_gateway_info"] = info
        have = (old or {}).get("external_gateway_info")
        if have and (info is None or info.get("network_id") != have["network_id"]) and \
                any(fip["router_id"] == old["id"] for fip in self.c["floating_ips"].values()):
            raise ApiError(409, f"Gateway cannot be updated for router {old['id']}, since a gateway to external "
                                f"network {have['network_id']} is required by one or more floating IPs.",
                           "RouterExternalGatewayInUseByFloatingIp")
        if info is None:
            return
        if not isinstance(info, dict) or not isinstance(info.get("network_id"), str):
            raise self.neutron_invalid("external_gateway_info", f"{info!r} is not a valid dictionary "
                                                                "with a network_id")
        net = self.external_network(req, info["network_id"], "router", "an external network")
        sub = next((self.c["subnets"][s] for s in net["subnets"] if s in self.c["subnets"]), None)
        f["external_gateway_info"] = {"network_id": net["id"], "enable_snat": info.get("enable_snat", True),
                                      "external_fixed_ips": [{"subnet_id": sub["id"], "ip_address":
                                                              self.alloc_ip(sub)}] if sub else []}

    def neutron_check_floating_ips(self, req, f, old):
        if old is None:
            self.external_network(req, f["floating_network_id"], "floatingip", "a valid external network")
        ext_id = old["floating_network_id"] if old else f["floating_network_id"]
        if f.get("port_id") is not None:
            port = self.neutron_get(req, "ports", f["port_id"])
            fixed = f.get("fixed_ip_address") or (port["fixed_ips"] or [{}])[0].get("ip_address")
            subnet = next((ip["subnet_id"] for ip in port["fixed_ips"] if ip["ip_address"] == fixed), None)
            router = self.router_reaching(subnet, ext_id)
            if router is None:
                raise ApiError(404, f"External network {ext_id} is not reachable from subnet {subnet}.  Therefore, "
                                    f"cannot associate Port {port['id']} with a Floating IP.",
                               "ExternalGatewayForFloatingIPNotFound")
            other = next((x for x in self.c["floating_ips"].values() if x["port_id"] == port["id"]
                          and x["fixed_ip_address"] == fixed and (old is None or x["id"] != old["id"])), None)
            if other is not None:
                raise ApiError(409, f"Cannot associate floating IP {(old or f).get('floating_ip_address')} "
                                    f"({(old or {}).get('id')}) with port {port['id']} using fixed IP {fixed}, as "
                                    f"that fixed IP already has a floating IP on external network {ext_id}.",
                               "FloatingIPPortAlreadyAssociated")
            f.update(fixed_ip_address=fixed, router_id=router["id"], status="ACTIVE", port_details={
                k: port[k] for k in ("name", "network_id", "mac_address", "admin_state_up", "status", "device_id",
                                     "device_owner")})
        elif "port_id" in f:
            f.update(fixed_ip_address=None, router_id=None, port_details=None, status="DOWN")

    def router_reaching(self, subnet_id, ext_id):
        """The router with an interface on the subnet and its gateway on the external network."""
        for port in self.c["ports"].values():
            if port["device_owner"] in ROUTER_INTERFACE_OWNERS and \
                    any(ip["subnet_id"] == subnet_id for ip in port["fixed_ips"]):
                router = self.c["routers"].get(port["device_id"])
                if router and (router["external_gateway_info"] or {}).get("network_id") == ext_id:
                    return router
        return None

    def sync_server_fips(self, server_id):
        """Nova's view: a server's addresses list the floating IPs of its ports (OS-EXT-IPS:type floating)."""
        srv = self.c["servers"].get(server_id or "")
        if srv is None:
            return
        for net, addrs in srv["addresses"].items():
            addrs[:] = [a for a in addrs if a.get("OS-EXT-IPS:type") != "floating"]
        for fip in self.c["floating_ips"].values():
            port = self.c["ports"].get(fip["port_id"] or "")
            if port is None or port["device_id"] != server_id:
                continue
            net = self.c["networks"].get(port["network_id"], {}).get("name", "")
            srv["addresses"].setdefault(net, []).append(
                {"version": ipaddress.ip_address(fip["floating_ip_address"]).version,
                 "addr": fip["floating_ip_address"], "OS-EXT-IPS:type": "floating",
                 "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]})

    def neutron_router_interface(self, req, rid, verb):
        """PUT /v2.0/routers/{id}/add_router_interface | remove_router_interface, {subnet_id} or {port_id}."""
        router = self.neutron_get(req, "routers", rid)
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Bad router request: Either subnet_id or port_id must be specified.", "BadRequest")
        for field in ("subnet_id", "port_id"):
            if field in body:
                try:
                    uuid.UUID(str(body[field]))
                except ValueError:
                    raise ApiError(400, f"Bad router request: '{body[field]}' is not a valid UUID.",
                                   "BadRequest") from None
        sid, pid = body.get("subnet_id"), body.get("port_id")
        if not sid and not pid:
            raise ApiError(400, "Bad router request: Either subnet_id or port_id must be specified.", "BadRequest")
        if sid and pid:
            raise ApiError(400, "Bad router request: Cannot specify both subnet-id and port-id.", "BadRequest")
        mine = [p for p in self.c["ports"].values()
                if p["device_id"] == rid and p["device_owner"] in ROUTER_INTERFACE_OWNERS]
        if verb == "add":
            if sid:
                subnet = self.neutron_get(req, "subnets", sid)
                if any(ip["subnet_id"] == sid for p in mine for ip in p["fixed_ips"]):
                    raise ApiError(400, f"Bad router request: Router already has a port on subnet {sid}.",
                                   "BadRequest")
                if not subnet["gateway_ip"]:
                    raise ApiError(400, f"Bad router request: Subnet for router interface must have a gateway IP.",
                                   "BadRequest")
                port = self.new("ports", {"network_id": subnet["network_id"], "device_id": rid,
                                          "device_owner": "network:router_interface", "status": "DOWN",
                                          "project_id": router["project_id"], "security_groups": [],
                                          "port_security_enabled": False,
                                          "fixed_ips": [{"subnet_id": sid, "ip_address": subnet["gateway_ip"]}]})
            else:
                port = self.neutron_get(req, "ports", pid)
                if port["device_id"] or port["device_owner"]:
                    raise ApiError(409, f"Port {pid} has owner {port['device_owner']} and therefore cannot be "
                                        "deleted directly via the port API." if port["device_owner"] else
                                   f"Port {pid} is still in use.", "PortInUse")
                if not port["fixed_ips"]:
                    raise ApiError(400, f"Bad router request: Router port must have at least one fixed IP.",
                                   "BadRequest")
                port.update(device_id=rid, device_owner="network:router_interface", updated_at=ts(time.time()))
        else:
            if sid:
                port = next((p for p in mine if any(ip["subnet_id"] == sid for ip in p["fixed_ips"])), None)
                if port is None:
                    raise ApiError(404, f"Router {rid} has no interface on subnet {sid}",
                                   "RouterInterfaceNotFoundForSubnet")
            else:
                port = next((p for p in mine if p["id"] == pid), None)
                if port is None:
                    raise ApiError(404, f"Router {rid} does not have an interface with id {pid}",
                                   "RouterInterfaceNotFound")
            subnet_ids = {ip["subnet_id"] for ip in port["fixed_ips"]}
            for fip in self.c["floating_ips"].values():
                fport = self.c["ports"].get(fip["port_id"] or "")
                if fip["router_id"] == rid and fport and \
                        any(ip["subnet_id"] in subnet_ids for ip in fport["fixed_ips"]):
                    raise ApiError(409, f"Router interface for subnet {sorted(subnet_ids)[0]} on router {rid} cannot "
                                        "be deleted, as it is required by one or more floating IPs.",
                                   "RouterInterfaceInUseByFloatingIP")
            self.remove("ports", port["id"])
        router.update(revision_number=router["revision_number"] + 1, updated_at=ts(time.time()))
        subnets = [ip["subnet_id"] for ip in port["fixed_ips"]]
        return jresp(200, {"id": rid, "tenant_id": router["tenant_id"], "port_id": port["id"],
                           "network_id": port["network_id"], "subnet_id": subnets[0] if subnets else None,
                           "subnet_ids": subnets})

    def neutron_delete(self, req, resource, key):
        coll = NEUTRON_BY_URL[resource]
        rec = self.neutron_get(req, coll, key)
        ports = list(self.c["ports"].values())
        if coll == "networks":
            if any(p["network_id"] == key and p["device_owner"] not in AUTO_DELETE_PORT_OWNERS for p in ports) \
                    or any(r["external_gateway_info"] and r["external_gateway_info"]["network_id"] == key
                           for r in self.c["routers"].values()) \
                    or any(f["floating_network_id"] == key for f in self.c["floating_ips"].values()):
                raise ApiError(409, f"Unable to complete operation on network {key}. There are one or more ports "
                                    "still in use on the network.", "NetworkInUse")
        elif coll == "subnets":
            if any(ip["subnet_id"] == key for p in ports if p["device_owner"] not in AUTO_DELETE_PORT_OWNERS
                   for ip in p["fixed_ips"]):
                raise ApiError(409, f"Unable to complete operation on subnet {key}: One or more ports have an IP "
                                    "allocation from this subnet.", "SubnetInUse")
        elif coll == "ports":
            if rec["device_owner"] == "network:router_interface":
                raise ApiError(409, f"Port {key} cannot be deleted directly via the port API: has device owner "
                                    "network:router_interface.", "ServicePortInUse")
        elif coll == "routers":
            if any(p["device_id"] == key and p["device_owner"] == "network:router_interface" for p in ports):
                raise ApiError(409, f"Router {key} still has ports", "RouterInUse")
        elif coll == "security_groups":
            if rec["name"] == "default" and "admin" not in req.token["roles"]:
                raise ApiError(409, "Insufficient rights for removing default security group.",
                               "SecurityGroupCannotRemoveDefault")
            if any(key in p["security_groups"] for p in ports):
                raise ApiError(409, f"Security Group {key} in use.", "SecurityGroupInUse")
        self.remove(coll, key)
        return Resp(204)
