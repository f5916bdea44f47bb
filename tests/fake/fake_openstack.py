#!/usr/bin/python3
"""Fake OpenStack (Zed) cloud for the cloudfs tests: one stdlib HTTP server, every service.

URL layout -- one port P, services told apart by path prefix, like devstack:
  identity  http://127.0.0.1:P/identity/v3          POST /auth/tokens (password | token |
                                                     application_credential), GET/DELETE /auth/tokens,
                                                     GET /auth/projects
  quotas    compute /os-quota-sets/{p}[/detail] (GET PUT: admin), volume /os-quota-sets/{p}[?usage=true]
            (GET PUT: admin), network /v2.0/quotas/{p}[/details] (GET PUT: admin); limits set by PUT
            are enforced per project, beside --quota
  compute   http://127.0.0.1:P/compute/v2.1         /servers[/detail], /servers/{id} (GET PUT DELETE),
                                                     /servers/{id}/action (console, reboot, os-stop, os-start,
                                                     pause, unpause, suspend, resume, lock, unlock, shelve,
                                                     unshelve, resize, confirmResize, revertResize, rebuild,
                                                     createImage, rescue, unrescue, os-getVNCConsole),
                                                     /servers/{id}/remote-consoles (2.6 on),
                                                     /servers/{id}/metadata[/{key}],
                                                     /servers/{id}/os-volume_attachments[/{volume}],
                                                     /flavors[/detail], /flavors/{id} (POST/DELETE: admin),
                                                     /os-keypairs[/{name}] (GET POST DELETE),
                                                     /os-server-groups[/{id}] (GET)
  image     http://127.0.0.1:P/image                /v2/images[/{id}[/file]]  (list `next` is relative)
  volume    http://127.0.0.1:P/volume/v3/<project>  /volumes[/detail], /volumes/{id}[/metadata[/{key}]],
                                                     /snapshots[/detail], /snapshots/{id}
                                                     (catalog types `volumev3` AND `block-storage`)
  network   http://127.0.0.1:P/network              /v2.0/{networks,subnets,ports,security-groups,routers,
                                                     floatingips}[/{id}]  (GET POST PUT DELETE)
The catalog also lists every service in RegionTwo, at a port that refuses connections, so a client
that ignores OS_REGION_NAME fails.  Users: demo/demo (projects demo and ops), admin/admin (admin
in projects admin, demo and hidden), domain Default (id default); application credential appcred-id / appcred-secret (demo).

Bodies, error shapes, headers and pagination copy the captures in tests/fixtures/openstack-zed:
Nova/Cinder {"itemNotFound": {...}}, Neutron {"NeutronError": {...}}, Keystone {"error": {...}},
Glance errors as HTML pages; Nova `servers_links` next when a page is full, Cinder `volumes_links`
only when more remain, Glance relative `next`, Neutron `next` + `previous` (page_reverse=True).
Writes are validated like the real services (references must exist, Neutron CIDR rules, Nova server
state rules, volumes in use, quotas).  Servers, volumes and snapshots created through the API go
BUILD/creating -> ACTIVE/available after --build-seconds, server actions and volume attach/detach
pass through their transitional state (REBOOT, powering-off, attaching, ...) for as long, and
deleted objects disappear --delete-seconds after DELETE (computed lazily on each request).

Test-control API (no token needed, never logged, never faulted):
  GET    /_fake/ping                 -> {"ok": true}
  GET    /_fake/requests             log [{"method","path","query","status","service","token","body",
                                     "length","api_version"}]: body = the request body parsed as JSON
                                     (null when it is not JSON), length = its size, api_version = the
                                     OpenStack-API-Version header or null (optional
                                     ?service=&method=&path_prefix=)
  DELETE /_fake/requests             clear the log
  POST   /_fake/faults               {"method","path" (prefix, no query),"status","count" (-1 =
                                     forever, default 1),"delay_ms","body","drop",
                                     "after_bytes" (read that many bytes of the request body first;
                                     with "drop": close without answering, with "status": answer it),
                                     "drop_after_bytes": N (= "drop": true, "after_bytes": N),
                                     "corrupt" (serve the request with one byte of its body flipped),
                                     "rate_bps" (send the answer's body at that many bytes a second),
                                     "read_bps" (read the request's body at that many bytes a second:
                                     a slow upload)}
                                     or a list of them
  GET | DELETE /_fake/faults         show | clear pending faults
  GET | POST /_fake/quota            show | set per-project limits {"servers": 5, "volumes": null, ...}
                                     (collections: servers keypairs volumes snapshots networks subnets
                                     ports routers security_groups floating_ips; null = unlimited)
  POST   /_fake/expire_tokens        every token issued so far stops working
  POST   /_fake/seed                 {"servers": [{partial}], "images": [...], "volumes", "snapshots",
                                     "networks", "subnets", "ports", "security_groups", "routers",
                                     "floating_ips", "keypairs", "flavors", "server_groups"}
                                     -> the created objects, every other field filled in
  POST   /_fake/delete               {"collection", "id"}             remove one out of band
  POST   /_fake/update               {"collection", "id", "fields"}   change fields out of band
  POST   /_fake/reset                back to the startup data (same ids) and --quota limits, log and
                                     faults cleared
  GET    /_fake/state                every collection, for debugging (images also carry "_data_md5")

Image download knobs (off unless a test sets them): POST /_fake/update with fields {"_download": {...}}
on an image makes GET .../file misbehave as a broken Glance or proxy might:
  "ignore_range": true    answer a Range request with 200 and the whole body
  "short": N              serve N bytes fewer than the image's size (Content-Length agrees)
  "extra": "text"         serve these bytes after the image's (Content-Length agrees)
  "corrupt": true         flip one byte in the middle (size unchanged; only a checksum tells)
  "stall_after": N        send N bytes of the body, then nothing for 60 s (connection held open)
  "content_range": "..."  send this Content-Range with a 206 instead of the true one

Run standalone:  /usr/bin/python3 tests/fake/fake_openstack.py --port 5000
"""

import argparse
import base64
import functools
import hashlib
import heapq
import ipaddress
import itertools
import json
import os
import random
import re
import secrets
import socket
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from base64 import b64decode, b64encode, urlsafe_b64encode
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------------------------------- identity
DEMO_PROJECT = "7c808b28bded4680839ac3a2f00d8a87"     # same ids as in the fixtures
DEMO_USER = "ba5804b743f1465fb58da464a642feed"
ADMIN_PROJECT = "9437e3370b3d4498aea15d6831ba2e0a"
ADMIN_USER = "4f0c2b8e61a94d7f9b3e5a1c7d2e8f60"
OPS_PROJECT = "3f1d6a9c2b7e4c0d8a5f1e2b3c4d5e6f"     # a second project of demo's (member)
HIDDEN_PROJECT = "b2c3d4e5f6a74b8c9d0e1f2a3b4c5d6e"  # nobody's but admin's
DOMAIN = {"id": "default", "name": "Default"}
PROJECTS = {DEMO_PROJECT: "demo", ADMIN_PROJECT: "admin", OPS_PROJECT: "ops", HIDDEN_PROJECT: "hidden"}
ROLE_IDS = {"reader": "1bea47271d5d475d95bf664ab062f0f6", "member": "36e04fc25b7442ed8b3a3408b6c23a9d",
            "admin": "c0e2cb2bb8bb4d2f9a3f63e4b1f1a0d7"}
USERS = {DEMO_USER: {"name": "demo", "password": "demo", "roles": {DEMO_PROJECT: ["reader", "member"],
                                                                   OPS_PROJECT: ["reader", "member"]}},
         ADMIN_USER: {"name": "admin", "password": "admin",
                      "roles": {ADMIN_PROJECT: ["admin", "member", "reader"],
                                DEMO_PROJECT: ["admin", "member", "reader"],
                                HIDDEN_PROJECT: ["admin", "member", "reader"]}}}
APP_CREDS = {"appcred-id": {"name": "appcred", "secret": "appcred-secret", "user_id": DEMO_USER,
                            "project_id": DEMO_PROJECT}}
CATALOG = [("identity", "keystone", "/identity/v3"), ("compute", "nova", "/compute/v2.1"),
           ("image", "glance", "/image"), ("volumev3", "cinderv3", "/volume/v3/{project}"),
           ("block-storage", "cinder", "/volume/v3/{project}"), ("network", "neutron", "/network")]
SERVICES = ("identity", "compute", "image", "volume", "network")


# ------------------------------------------------------------------------ service modules
# A service added later lives in its own module, tests/fake/svc_<name>.py, beside this file:
#   SERVICE = "orchestration"        the first path segment of its URLs (also Req.service)
#   CATALOG = [(type, name, path)]   its catalog rows, as CATALOG above ({project} allowed)
#   def error_body(status, message, title) -> (content type, bytes)   (optional) its error shape
#   class Service: __init__(self, cloud) (keep cloud: its helpers, lock, tokens, faults);
#       routes(self) -> [(method, path regex, handler(req, *groups), needs token)];
#       reset(self) back to the state after startup; control(self, method, op, args, data) ->
#       Resp or None for its own /_fake/<op> (optional)
def load_service_modules():
    import importlib
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    return [importlib.import_module(f[:-3]) for f in sorted(os.listdir(here))
            if f.startswith("svc_") and f.endswith(".py")]


SERVICE_MODULES = load_service_modules()
CATALOG += [row for m in SERVICE_MODULES for row in m.CATALOG]
SERVICES += tuple(m.SERVICE for m in SERVICE_MODULES)
UNAUTHENTICATED = "The request you have made requires authentication."

# ------------------------------------------------------------------------------------ data model
# collection -> (key field, sort key, newest first).  Nova/Glance/Cinder list by created_at desc
# then id desc; Neutron by id; flavors by flavorid (a string, as in nova-flavors-detail.json).
COLLECTIONS = {
    "servers": ("id", lambda r: (r["created"], r["id"]), True),
    "flavors": ("id", lambda r: r["id"], False),
    "keypairs": ("name", lambda r: r["id"], False),
    "images": ("id", lambda r: (r["created_at"], r["id"]), True),
    "volumes": ("id", lambda r: (r["created_at"], r["id"]), True),
    "snapshots": ("id", lambda r: (r["created_at"], r["id"]), True),
    "networks": ("id", lambda r: r["id"], False),
    "subnets": ("id", lambda r: r["id"], False),
    "ports": ("id", lambda r: r["id"], False),
    "security_groups": ("id", lambda r: r["id"], False),
    "security_group_rules": ("id", lambda r: r["id"], False),
    "routers": ("id", lambda r: r["id"], False),
    "floating_ips": ("id", lambda r: r["id"], False),
    "server_groups": ("id", lambda r: r["id"], False),
}
# Zed's default quotas (Nova at microversion 2.1, Cinder, Neutron), and the collection each limits.
QUOTA_DEFAULTS = {
    "compute": {"cores": 20, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240,
                "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10, "key_pairs": 100,
                "metadata_items": 128, "ram": 51200, "security_group_rules": -1, "security_groups": -1,
                "server_group_members": 10, "server_groups": 10},
    "volume": {"volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10, "backup_gigabytes": 1000,
               "groups": 10, "per_volume_gigabytes": -1, "volumes___DEFAULT__": -1, "snapshots___DEFAULT__": -1,
               "gigabytes___DEFAULT__": -1},
    "network": {"network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10, "floatingip": 50,
                "security_group": 10, "security_group_rule": 100, "rbac_policy": 10},
}
QUOTA_OF_COLLECTION = {"servers": ("compute", "instances"), "volumes": ("volume", "volumes"),
                       "snapshots": ("volume", "snapshots"), "networks": ("network", "network"),
                       "subnets": ("network", "subnet"), "ports": ("network", "port"),
                       "routers": ("network", "router"), "security_groups": ("network", "security_group"),
                       "floating_ips": ("network", "floatingip")}

# who owns a record, for visibility and quotas: (field, "project" | "user")
OWNER = {"servers": ("tenant_id", "project"), "volumes": ("os-vol-tenant-attr:tenant_id", "project"),
         "snapshots": ("os-extended-snapshot-attributes:project_id", "project"), "keypairs": ("user_id", "user"),
         "images": ("owner", "project"), "flavors": (None, None)}
FLAVORS = [("1", "m1.tiny", 512, 1, 1), ("2", "m1.small", 2048, 20, 1), ("3", "m1.medium", 4096, 40, 2),
           ("4", "m1.large", 8192, 80, 4), ("42", "m1.nano", 128, 1, 1), ("5", "m1.xlarge", 16384, 160, 8),
           ("84", "m1.micro", 192, 1, 1)]
# Nova server status -> (vm_state, task_state, power_state)
SERVER_STATES = {"ACTIVE": ("active", None, 1), "BUILD": ("building", "spawning", 0),
                 "SHUTOFF": ("stopped", None, 4), "PAUSED": ("paused", None, 3),
                 "SUSPENDED": ("suspended", None, 4), "ERROR": ("error", None, 0),
                 "REBOOT": ("active", "rebooting", 1), "HARD_REBOOT": ("active", "rebooting_hard", 1),
                 "RESIZE": ("active", "resize_prep", 1), "VERIFY_RESIZE": ("resized", None, 1),
                 "RESCUE": ("rescued", None, 1), "SHELVED_OFFLOADED": ("shelved_offloaded", None, 4),
                 "SHELVED": ("shelved", None, 4), "SOFT_DELETED": ("soft-delete", None, 4),
                 "DELETED": ("deleted", None, 0)}
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."
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
VOLUME_TYPES = ("__DEFAULT__", "lvmdriver-1")
GLANCE_DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
GLANCE_CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
SSH_KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                 "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
QUOTA_COLLECTIONS = ("servers", "keypairs", "volumes", "snapshots") + tuple(NEUTRON)
# Nova server actions: body key -> (method named in Nova's errors, vm_states allowed, transitional
# task_state, status while in it (None = unchanged), final status); reboot and lock are special.
SERVER_ACTIONS = {
    "os-stop": ("stop", {"active", "error"}, "powering-off", None, "SHUTOFF"),
    "os-start": ("start", {"stopped"}, "powering-on", None, "ACTIVE"),
    "pause": ("pause", {"active"}, "pausing", None, "PAUSED"),
    "unpause": ("unpause", {"paused"}, "unpausing", None, "ACTIVE"),
    "suspend": ("suspend", {"active"}, "suspending", None, "SUSPENDED"),
    "resume": ("resume", {"suspended"}, "resuming", None, "ACTIVE"),
    "shelve": ("shelve", {"active", "stopped", "paused", "suspended"}, "shelving", None, "SHELVED_OFFLOADED"),
    "unshelve": ("unshelve", {"shelved", "shelved_offloaded"}, "unshelving", None, "ACTIVE"),
    "reboot": ("reboot", {"active", "stopped", "paused", "suspended", "error"}, "reboot_started", "REBOOT",
               "ACTIVE"),
}
# More Nova server actions (nova_verb): body key -> (vm_states allowed, transitional task_state or
# None when done at once, status while in it (None = unchanged), final status (None = unchanged)).
SERVER_VERBS = {
    "resize": ({"active", "stopped"}, "resize_prep", "RESIZE", "VERIFY_RESIZE"),
    "confirmResize": ({"resized"}, None, None, "ACTIVE"),
    "revertResize": ({"resized"}, "resize_reverting", "REVERT_RESIZE", "ACTIVE"),
    "rebuild": ({"active", "stopped", "error"}, "rebuilding", "REBUILD", "ACTIVE"),
    "createImage": ({"active", "stopped", "paused", "suspended"}, "image_snapshot", None, None),
    "rescue": ({"active", "stopped", "error"}, "rescuing", None, "RESCUE"),
    "unrescue": ({"rescued"}, "unrescuing", None, "ACTIVE"),
}
ATTACHABLE_VM_STATES = {"active", "paused", "stopped", "soft-delete", "shelved", "shelved_offloaded", "resized"}
NOVA_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                    405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
                    429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}
LIST_PARAMS = {"limit", "marker", "page_reverse", "fields", "sort_key", "sort_dir", "all_tenants"}
GLANCE_READONLY = {"status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
                   "created_at", "updated_at", "self", "file", "schema", "stores"}


def ts(t, style="z"):
    """OpenStack timestamps: z 2026-11-23T04:24:05Z (Nova, Glance, Neutron), us ...05.000000
    (Cinder, Nova launched_at), usz ...05.000000Z (Keystone)."""
    fmt = {"z": "%Y-%m-%dT%H:%M:%SZ", "us": "%Y-%m-%dT%H:%M:%S.000000",
           "usz": "%Y-%m-%dT%H:%M:%S.000000Z"}[style]
    return datetime.fromtimestamp(int(t), timezone.utc).strftime(fmt)


def stable_id(name):
    return uuid.uuid5(uuid.NAMESPACE_URL, "fake-openstack/" + name).hex


cidr_network = functools.lru_cache(maxsize=None)(ipaddress.ip_network)


def public(rec):
    """The API view of a stored record: private bookkeeping keys start with '_'."""
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def jdump(obj):
    return json.dumps(obj).encode()


def phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def with_query(query, drop=(), **updates):
    """Re-encode a query string with some parameters dropped and others set (in place if present,
    appended otherwise) -- how Nova, Neutron and Glance build their pagination links."""
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k not in drop]
    for key, value in updates.items():
        pos = next((i for i, (k, _) in enumerate(pairs) if k == key), None)
        if pos is None:
            pairs.append((key, value))
        else:
            pairs = [(k, value if i == pos else v) for i, (k, v) in enumerate(pairs) if k != key or i == pos]
    return urllib.parse.urlencode(pairs)


def paginate(items, limit, marker, key="id", reverse=False):
    """Slice a sorted list like the OpenStack DB layer: `limit` items after `marker` (before it when
    `reverse`, Neutron's page_reverse).  -> (page, more_remain).  LookupError for an unknown marker."""
    if marker is None:
        pos = len(items) if reverse else 0
    else:
        pos = next((i for i, r in enumerate(items) if r[key] == marker), None)
        if pos is None:
            raise LookupError(marker)
        pos += 0 if reverse else 1
    if reverse:
        start = max(0, pos - limit)
        return items[start:pos], start > 0
    return items[pos:pos + limit], pos + limit < len(items)


class ApiError(Exception):
    """An error answer; rendered in the style of the service that raised it (see error_body)."""

    def __init__(self, status, message, ntype=None, headers=None, extra=None):
        super().__init__(message)
        self.status, self.message, self.ntype, self.headers = status, message, ntype, headers or {}
        self.extra = extra or {}        # more fields of a Nova/Cinder fault (Cinder's overLimit retryAfter)


def error_body(service, status, message, ntype=None, extra=None):
    """-> (content type, body) for an error, shaped like the real service's."""
    title = phrase(status)
    for m in SERVICE_MODULES:
        if m.SERVICE == service and hasattr(m, "error_body") and not (status == 401):
            return m.error_body(status, message, title)
    if status == 401 and service != "identity":      # keystonemiddleware answers for every service
        return "application/json", jdump({"error": {"code": 401, "title": title, "message": message}})
    if service == "identity" or service is None:
        return "application/json", jdump({"error": {"code": status, "message": message, "title": title}})
    if service == "image":                            # webob's HTML error page
        head = f"{status} {title}"
        return "text/html; charset=UTF-8", (
            f"<html>\n <head>\n  <title>{head}</title>\n </head>\n <body>\n  <h1>{head}</h1>\n"
            f"  {message}<br /><br />\n\n\n\n </body>\n</html>").encode()
    if service == "network":
        ntype = ntype or "HTTP" + title.replace(" ", "")
        return "application/json", jdump({"NeutronError": {"type": ntype, "message": message, "detail": ""}})
    ctype = "application/json; charset=UTF-8" if service == "compute" else "application/json"
    return ctype, jdump({NOVA_FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message,
                                                                        **(extra or {})}})


class Resp:
    def __init__(self, status, body=b"", ctype="application/json", headers=None):
        self.status, self.body, self.ctype, self.headers = status, body, ctype, headers or {}
        self.stall_after = None       # send this many body bytes, then nothing more (image knob)


def jresp(status, obj, **headers):
    return Resp(status, jdump(obj), headers=headers)


class Req:
    def __init__(self, method, path, query, headers, body, service):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body
        self.service, self.token = service, None
        self.args = urllib.parse.parse_qs(query, keep_blank_values=True)

    def arg(self, name, default=None):
        values = self.args.get(name)
        return values[-1] if values else default

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise ApiError(400, "Malformed request body") from None

    def wrapped(self, key, message=None):
        """The object under `key` of a JSON body ({"server": {...}}), else a Nova/Cinder-style 400."""
        body = self.json()
        if not isinstance(body, dict) or not isinstance(body.get(key), dict):
            raise ApiError(400, message or f"'{key}' is a required property")
        return body[key]

    def logged_body(self):
        """The body as the request log shows it: parsed JSON, or None (binary, or not JSON)."""
        if not self.body or len(self.body) > 1 << 20 or self.body[:1] not in (b"{", b"["):
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def microversion(self):
        """Nova's requested microversion as (2, N); 2.1 unless a header asks for another."""
        value = self.headers.get("X-OpenStack-Nova-API-Version") or ""
        m = re.search(r"compute\s+(\d+)\.(\d+)", self.headers.get("OpenStack-API-Version") or "")
        m = m or re.fullmatch(r"\s*(\d+)\.(\d+)\s*", value)
        return (int(m.group(1)), int(m.group(2))) if m else (2, 1)


def parse_quotas(spec):
    """--quota servers=5,volumes=3 (or a dict from /_fake/quota) -> {collection: int | None}."""
    if isinstance(spec, dict):
        items = spec.items()
    else:
        items = [part.split("=", 1) for part in (spec or "").split(",") if part.strip()]
    quotas = {}
    for coll, limit in items:
        coll = coll.strip().replace("-", "_")
        if coll not in QUOTA_COLLECTIONS:
            raise ValueError(f"no quota for {coll!r} (one of {', '.join(QUOTA_COLLECTIONS)})")
        quotas[coll] = None if limit in (None, "", -1, "-1") else int(limit)
    return quotas


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


def ssh_fingerprint(public_key):
    """Nova's MD5 fingerprint ("aa:bb:...") of an OpenSSH public key line, or None when the line is
    not a key (unknown type, blob not base64, or a blob that does not start with the key type)."""
    parts = public_key.split() if isinstance(public_key, str) else []
    if len(parts) < 2 or parts[0] not in SSH_KEY_TYPES:
        return None
    try:
        blob = b64decode(parts[1], validate=True)
    except ValueError:
        return None
    n = int.from_bytes(blob[:4], "big")
    if len(blob) < 4 + n or blob[4:4 + n] != parts[0].encode() or len(blob) < 4 + n + 4 + 16:
        return None
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def nova_invalid(field, value, problem):
    """Nova/Cinder jsonschema error text, e.g. "Invalid input for field/attribute networks. Value: none.
    'none' is not of type 'array'" (nova-server-create-bad-request.json)."""
    return ApiError(400, f"Invalid input for field/attribute {field}. Value: {value}. {problem}")


# ------------------------------------------------------------------------------------------ cloud
class Cloud:
    """All state (collections, tokens, request log, faults) and every API handler.  Callers hold
    self.lock around handle()/control()."""

    def __init__(self, base, dead_base, opts):
        self.base, self.dead_base = base, dead_base
        self.ttl, self.page_max = opts.token_ttl, max(1, opts.page_max)
        self.build_s, self.delete_s = opts.build_seconds, opts.delete_seconds
        self.latency = opts.latency_ms / 1000.0
        self.lock = threading.RLock()
        self.tokens, self.log, self.faults = {}, [], []
        self.rng = random.Random()
        self.seq = itertools.count()
        self.c = {name: {} for name in COLLECTIONS}   # collection -> key -> record
        self.blobs = {}                                # image id -> uploaded bytes
        self.counters = {"keypair": 0, "subnet": 0}    # keypair ids; auto CIDRs; "ip:<subnet>" per subnet
        self.pending = []             # heap of (when, seq, collection, key, "ready" | "gone" | fn(record))
        self.quotas = parse_quotas(opts.quota)         # collection -> limit per project (or user)
        self.project_quotas = {}                       # (service, project) -> {key: limit} set by PUT
        self.services = [m.Service(self) for m in SERVICE_MODULES]
        self.routes = self._routes() + [(m, re.compile(rx), fn, auth) for svc in self.services
                                         for m, rx, fn, auth in svc.routes()]
        self.seed_startup(opts.seed, opts.servers)
        self.initial = (json.dumps(self.c), dict(self.blobs), dict(self.counters), dict(self.quotas))

    def reset(self):
        data, blobs, counters, quotas = self.initial
        self.c, self.blobs, self.counters = json.loads(data), dict(blobs), dict(counters)
        self.quotas = dict(quotas)
        self.project_quotas = {}
        self.pending, self.log, self.faults = [], [], []
        for svc in self.services:
            svc.reset()

    # ----------------------------------------------------------------------- collection primitives
    def add(self, coll, rec):
        self.c[coll][rec[COLLECTIONS[coll][0]]] = rec
        return rec

    def new(self, coll, partial):
        """Create a record from a partial dict, every other field filled in realistically."""
        rec = self.add(coll, getattr(self, "build_" + coll)(dict(partial or {})))
        if coll in ("security_groups", "security_group_rules"):
            self.sync_rules(rec["id"] if coll == "security_groups" else rec["security_group_id"])
        return rec

    def remove(self, coll, key):
        rec = self.c[coll].pop(key, None)
        if rec is None:
            return None
        if coll == "servers":
            for port in [p for p in self.c["ports"].values() if p["device_id"] == key]:
                self.remove("ports", port["id"])
            for vol in self.c["volumes"].values():
                if any(a["server_id"] == key for a in vol["attachments"]) or vol.get("_server") == key:
                    vol.pop("_server", None)
                    vol.pop("_ready", None)
                    vol.update(status="available", attachments=[])
        elif coll == "volumes":
            for srv in self.c["servers"].values():
                srv["os-extended-volumes:volumes_attached"] = [
                    a for a in srv["os-extended-volumes:volumes_attached"] if a["id"] != key]
        elif coll == "networks":
            for sub in [s for s in self.c["subnets"].values() if s["network_id"] == key]:
                self.remove("subnets", sub["id"])
            for port in [p for p in self.c["ports"].values() if p["network_id"] == key]:
                self.remove("ports", port["id"])
        elif coll == "subnets" and rec["network_id"] in self.c["networks"]:
            self.c["networks"][rec["network_id"]]["subnets"].remove(key)
        elif coll == "images":
            self.blobs.pop(key, None)
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
        return rec

    def later(self, delay, coll, key, action):
        heapq.heappush(self.pending, (time.time() + delay, next(self.seq), coll, key, action))

    def tick(self):
        """Apply due lifecycle steps: '_ready' fields (BUILD -> ACTIVE...) or removal after DELETE."""
        now = time.time()
        while self.pending and self.pending[0][0] <= now:
            _, _, coll, key, action = heapq.heappop(self.pending)
            rec = self.c[coll].get(key)
            if rec is not None and action == "gone":
                self.remove(coll, key)
            elif rec is not None and callable(action):
                action(rec)
            elif rec is not None:
                rec.update(rec.pop("_ready", {}))

    def lookup(self, coll, ref):
        """A record by key, else by name (seed conveniences such as "image": "cirros")."""
        recs = self.c[coll]
        return recs.get(ref) or next((r for r in recs.values() if r.get("name") == ref), None)

    def visible(self, coll, token):
        proj, user = token["project_id"], token["user_id"]
        rule = {
            "servers": lambda r: r["tenant_id"] == proj,
            "volumes": lambda r: r["os-vol-tenant-attr:tenant_id"] == proj,
            "snapshots": lambda r: r["os-extended-snapshot-attributes:project_id"] == proj,
            "images": lambda r: r["owner"] == proj or r["visibility"] in ("public", "community"),
            "networks": lambda r: r["project_id"] == proj or r["shared"] or r["router:external"],
            "subnets": lambda r: r["project_id"] == proj or self.c["networks"].get(
                r["network_id"], {}).get("shared", False),
            "keypairs": lambda r: r["user_id"] == user,
            "flavors": lambda r: True,
            "server_groups": lambda r: r["_project"] == proj,
        }.get(coll, lambda r: r["project_id"] == proj)
        return rule

    def listable(self, coll, token):
        _, sort_key, newest_first = COLLECTIONS[coll]
        return sorted(filter(self.visible(coll, token), self.c[coll].values()), key=sort_key,
                      reverse=newest_first)

    def find(self, req, coll, key):
        rec = self.c[coll].get(key)
        return rec if rec is not None and self.visible(coll, req.token)(rec) else None

    def find_by_name_or_id(self, req, coll, ref):
        """What the services do with a reference that may be a name (Nova's security groups): the
        visible record with that key, else the one visible record with that name; None otherwise."""
        rec = self.find(req, coll, ref)
        if rec is not None:
            return rec
        named = [r for r in self.listable(coll, req.token) if r.get("name") == ref]
        return named[0] if len(named) == 1 else None

    def owned(self, coll, token):
        field, kind = OWNER.get(coll, ("project_id", "project"))
        want = token["user_id"] if kind == "user" else token["project_id"]
        return [r for r in self.c[coll].values() if r.get(field) == want]

    def check_quota(self, req, coll, requested=1):
        """Refuse a create over the collection's --quota / /_fake/quota limit, as the service would."""
        limit = self.quotas.get(coll)
        svc_key = QUOTA_OF_COLLECTION.get(coll)
        if svc_key:
            limit = self.project_quotas.get((svc_key[0], req.token["project_id"]), {}).get(svc_key[1], limit)
        if limit is None or limit < 0:
            return
        used = len(self.owned(coll, req.token))
        if used + requested <= limit:
            return
        if coll == "servers":
            raise ApiError(403, f"Quota exceeded for instances: Requested {requested}, but already used {used} "
                                f"of {limit} instances")
        if coll == "keypairs":
            raise ApiError(403, "Quota exceeded, too many key pairs.")
        if coll in ("volumes", "snapshots"):
            kind = coll[:-1].capitalize()
            raise ApiError(413, f"{kind}LimitExceeded: Maximum number of {coll} allowed ({limit}) exceeded for "
                                f"quota '{coll}'.", extra={"retryAfter": "0"})
        raise ApiError(409, f"Quota exceeded for resources: ['{NEUTRON[coll][3]}'].", "OverQuota")

    # ------------------------------------------------------------------------------------ builders
    def links(self, coll, key, project=None):
        if coll == "volumes":
            return [{"rel": "self", "href": f"{self.base}/volume/v3/{project}/volumes/{key}"},
                    {"rel": "bookmark", "href": f"{self.base}/volume/{project}/volumes/{key}"}]
        return [{"rel": "self", "href": f"{self.base}/compute/v2.1/{coll}/{key}"},
                {"rel": "bookmark", "href": f"{self.base}/compute/{coll}/{key}"}]

    def mac(self):
        return "fa:16:3e:" + ":".join(f"{self.rng.randrange(256):02x}" for _ in range(3))

    def alloc_ip(self, subnet):
        net = cidr_network(subnet["cidr"])
        n = self.counters.get("ip:" + subnet["id"], 0)
        self.counters["ip:" + subnet["id"]] = n + 1
        return str(net.network_address + 3 + n % max(1, min(net.num_addresses - 4, 1 << 20)))

    def build_flavors(self, p):
        fid = str(p.pop("id"))
        return {"id": fid, "name": p.pop("name"), "ram": p.pop("ram", 512), "disk": p.pop("disk", 1),
                "swap": "", "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": False,
                "vcpus": p.pop("vcpus", 1), "os-flavor-access:is_public": True, "rxtx_factor": 1,
                "links": self.links("flavors", fid), **p}

    def build_server_groups(self, p):   # devcloud's Nova at 2.1: these keys in this order
        return {"id": p.pop("id", None) or str(uuid.uuid4()), "name": p.pop("name", "group"),
                "policies": p.pop("policies", ["anti-affinity"]), "metadata": p.pop("metadata", {}),
                "members": p.pop("members", []), "_project": p.pop("_project", DEMO_PROJECT), **p}

    def build_servers(self, p):
        sid = p.pop("id", None) or str(uuid.uuid4())
        t = p.pop("_t", None) or time.time()
        status = p.pop("status", "ACTIVE")
        project, user = p.pop("tenant_id", DEMO_PROJECT), p.pop("user_id", DEMO_USER)
        image = p.pop("image", None)             # id or name; "" = booted from volume; default cirros
        if image is None or (isinstance(image, str) and image):
            img = self.lookup("images", image or "cirros")
            image_id = img["id"] if img else (image or "")
            image = image_id and {"id": image_id, "links": [
                {"rel": "bookmark", "href": f"{self.base}/compute/images/{image_id}"}]}
        flavor = p.pop("flavor", "1")
        if not isinstance(flavor, dict):
            flv = self.lookup("flavors", str(flavor))
            fid = flv["id"] if flv else str(flavor)
            flavor = {"id": fid, "links": [{"rel": "bookmark", "href": f"{self.base}/compute/flavors/{fid}"}]}
        nets = p.pop("networks", None)
        if nets is None:
            nets = ["private"] if self.lookup("networks", "private") else []
        addresses = {}
        if status != "ERROR":
            for ref in nets:
                net = self.lookup("networks", ref)
                if net is None:
                    raise ValueError(f"no network {ref!r}")
                port = self.new("ports", {"network_id": net["id"], "device_id": sid, "project_id": project,
                                          "device_owner": "compute:nova", "_t": t})
                addresses.setdefault(net["name"], []).extend(
                    {"version": ipaddress.ip_address(ip["ip_address"]).version, "addr": ip["ip_address"],
                     "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}
                    for ip in port["fixed_ips"])
        vm_state, task_state, power_state = SERVER_STATES.get(status, ("active", None, 1))
        rec = {"id": sid, "name": p.pop("name", "server"), "status": status, "tenant_id": project,
               "user_id": user, "metadata": p.pop("metadata", {}),
               "hostId": hashlib.sha224((project + "devstack").encode()).hexdigest(),
               "image": image, "flavor": flavor, "created": ts(t), "updated": ts(t + 1),
               "addresses": addresses, "accessIPv4": "", "accessIPv6": "", "links": self.links("servers", sid),
               "OS-DCF:diskConfig": "MANUAL", "progress": 0, "OS-EXT-AZ:availability_zone": "nova",
               "config_drive": "", "key_name": p.pop("key_name", None),
               "OS-SRV-USG:launched_at": ts(t + 1, "us"), "OS-SRV-USG:terminated_at": None,
               "security_groups": [{"name": "default"}], "OS-EXT-STS:task_state": task_state,
               "OS-EXT-STS:vm_state": vm_state, "OS-EXT-STS:power_state": power_state,
               "os-extended-volumes:volumes_attached": []}
        if status == "ERROR":
            rec.update({"hostId": "", "OS-SRV-USG:launched_at": None,
                        "fault": {"code": 500, "created": ts(t + 1), "message": NO_VALID_HOST}})
        elif status == "BUILD":
            rec.update({"OS-SRV-USG:launched_at": None, "updated": ts(t)})
        rec.update(p)
        return rec

    def build_images(self, p):
        iid = p.pop("id", None) or str(uuid.uuid4())
        t = p.pop("_t", None) or time.time()
        data, size, status = p.pop("data", None), p.pop("size", None), p.pop("status", "active")
        if data is None and status == "active":
            data = random.Random(iid).randbytes(4096 if size is None else size)
        core = {"name": None, "disk_format": "qcow2", "container_format": "bare", "visibility": "shared",
                "size": None, "virtual_size": None, "status": "queued", "checksum": None,
                "protected": False, "min_ram": 0, "min_disk": 0, "owner": DEMO_PROJECT, "os_hidden": False,
                "os_hash_algo": None, "os_hash_value": None, "id": iid, "created_at": ts(t),
                "updated_at": ts(t), "tags": [], "self": f"/v2/images/{iid}", "file": f"/v2/images/{iid}/file",
                "schema": "/v2/schemas/image"}
        extra = {k: v for k, v in p.items() if k not in core}        # extra properties come first
        rec = {**extra, **core, **{k: v for k, v in p.items() if k in core}}
        if data is not None:
            self.store_image_data(rec, data.encode() if isinstance(data, str) else data, t)
        if status != "active":                   # queued, or e.g. deactivated / killed when seeding
            rec["status"] = status
        return rec

    def store_image_data(self, rec, data, t=None):
        self.blobs[rec["id"]] = data
        rec.update(size=len(data), virtual_size=rec.get("virtual_size") or len(data), status="active",
                   checksum=hashlib.md5(data).hexdigest(), os_hash_algo="sha512",
                   os_hash_value=hashlib.sha512(data).hexdigest(), updated_at=ts(t or time.time()),
                   stores="file")

    def build_volumes(self, p):
        vid = p.pop("id", None) or str(uuid.uuid4())
        t = p.pop("_t", None) or time.time()
        project = p.pop("os-vol-tenant-attr:tenant_id", DEMO_PROJECT)
        rec = {"id": vid, "status": "available", "size": 1, "availability_zone": "nova",
               "created_at": ts(t, "us"), "updated_at": ts(t, "us"), "name": None, "description": None,
               "volume_type": "__DEFAULT__", "snapshot_id": None, "source_volid": None, "metadata": {},
               "links": self.links("volumes", vid, project), "user_id": DEMO_USER, "bootable": "false",
               "encrypted": False, "replication_status": None, "consistencygroup_id": None,
               "multiattach": False, "attachments": [], "os-vol-tenant-attr:tenant_id": project}
        server = p.pop("server", None)
        rec.update(p)
        if server:
            srv = self.lookup("servers", server)
            if srv is None:
                raise ValueError(f"no server {server!r}")
            rec.update(status="in-use", attachments=[
                {"id": vid, "attachment_id": str(uuid.uuid4()), "volume_id": vid, "server_id": srv["id"],
                 "host_name": None, "device": "/dev/vdb", "attached_at": ts(t + 60, "us")}])
            srv["os-extended-volumes:volumes_attached"].append({"id": vid})
        return rec

    def build_snapshots(self, p):
        sid = p.pop("id", None) or str(uuid.uuid4())
        t = p.pop("_t", None) or time.time()
        vol = self.lookup("volumes", p.pop("volume", None) or p.pop("volume_id", None) or "")
        if vol is None:
            raise ValueError("a snapshot needs an existing volume")
        rec = {"id": sid, "created_at": ts(t, "us"), "updated_at": ts(t, "us"), "name": None,
               "description": None, "volume_id": vol["id"], "status": "available", "size": vol["size"],
               "metadata": {}, "os-extended-snapshot-attributes:progress": "100%",
               "os-extended-snapshot-attributes:project_id": vol["os-vol-tenant-attr:tenant_id"]}
        rec.update(p)
        return rec

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

    def build_keypairs(self, p):
        t = p.pop("_t", None) or time.time()
        blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + self.rng.randbytes(32)
        key = p.pop("public_key", None) or f"ssh-ed25519 {b64encode(blob).decode()} Generated-by-Nova"
        digest = hashlib.md5(key.encode()).hexdigest()
        self.counters["keypair"] += 1
        rec = {"name": p.pop("name", "key"), "public_key": key, "type": p.pop("type", "ssh"),
               "fingerprint": ssh_fingerprint(key) or ":".join(digest[i:i + 2] for i in range(0, 32, 2)),
               "user_id": DEMO_USER, "deleted": False, "created_at": ts(t, "us"), "updated_at": None,
               "deleted_at": None, "id": self.counters["keypair"]}
        rec.update(p)
        return rec

    def seed_startup(self, kind, bulk):
        for fid, name, ram, disk, vcpus in FLAVORS:
            self.new("flavors", {"id": fid, "name": name, "ram": ram, "disk": disk, "vcpus": vcpus})
        now, day = time.time(), 86400
        if kind == "default":
            old = now - 30 * day
            self.new("security_groups", {"_t": old})
            self.new("security_groups", {"_t": old, "project_id": ADMIN_PROJECT})
            self.new("networks", {"name": "public", "shared": True, "router:external": True,
                                  "project_id": ADMIN_PROJECT, "_t": old})
            self.new("subnets", {"name": "public-subnet", "network": "public", "cidr": "172.24.4.0/24",
                                 "enable_dhcp": False, "project_id": ADMIN_PROJECT, "_t": old})
            self.new("networks", {"name": "private", "_t": old + 60})
            self.new("subnets", {"name": "private-subnet", "network": "private", "cidr": "10.0.0.0/24",
                                 "dns_nameservers": ["8.8.8.8"], "_t": old + 60})
            self.new("routers", {"name": "router1", "external_network": "public", "_t": old + 120})
            self.new("images", {"name": "cirros", "visibility": "public", "owner": ADMIN_PROJECT,
                                "size": 1234567, "virtual_size": 117440512, "_t": old,
                                "owner_specified.openstack.md5": "", "owner_specified.openstack.sha256": "",
                                "owner_specified.openstack.object": "images/cirros"})
            self.new("images", {"name": "pending-upload", "status": "queued", "disk_format": "raw",
                                "visibility": "private", "_t": now - 2 * day})
            self.new("keypairs", {"name": "mykey", "_t": old})
            servers = [{"name": "web1"}, {"name": "db1", "metadata": {"role": "db"}, "key_name": "mykey"},
                       {"name": "broken", "status": "ERROR", "flavor": "42"}, {"name": "dup"}, {"name": "dup"},
                       {"name": "a/b", "flavor": "42"}]
            for i, partial in enumerate(servers):
                self.new("servers", {**partial, "_t": now - (len(servers) - i) * 3600})
            self.new("volumes", {"name": "data1", "size": 1, "_t": now - 3 * day})
            self.new("volumes", {"name": None, "size": 2, "server": "db1", "_t": now - 2 * day})
        for i in range(bulk):
            self.new("servers", {"name": f"bulk-{i}", "_t": now - 40 * day + i})

    # ------------------------------------------------------------------------------------ dispatch
    def _routes(self):
        name = r"([^/]+)"
        neutron = "|".join(re.escape(seg) for seg in NEUTRON_BY_URL)
        table = [  # (method, path regex, handler, needs token)
            ("GET", r"/", self.root, False),
            ("GET", r"/identity/?", self.ks_versions, False),
            ("GET", r"/identity/v3/?", self.ks_version, False),
            ("POST", r"/identity/v3/auth/tokens", self.ks_issue, False),
            ("GET", r"/identity/v3/auth/tokens", self.ks_validate, True),
            ("DELETE", r"/identity/v3/auth/tokens", self.ks_revoke, True),
            ("GET", r"/identity/v3/auth/projects", self.ks_auth_projects, True),
            ("GET", rf"/compute/v2\.1/os-quota-sets/{name}(/detail)?", self.nova_quotas, True),
            ("PUT", rf"/compute/v2\.1/os-quota-sets/{name}", self.nova_set_quotas, True),
            ("GET", rf"/volume/v3/{name}/os-quota-sets/{name}", self.cinder_quotas, True),
            ("PUT", rf"/volume/v3/{name}/os-quota-sets/{name}", self.cinder_set_quotas, True),
            ("GET", rf"/network/v2\.0/quotas/{name}(/details)?", self.neutron_quotas, True),
            ("PUT", rf"/network/v2\.0/quotas/{name}", self.neutron_set_quotas, True),
            ("GET", r"/compute/v2\.1/?", self.nova_version, False),
            ("GET", r"/compute/v2\.1/servers(/detail)?", self.nova_list_servers, True),
            ("POST", r"/compute/v2\.1/servers", self.nova_create_server, True),
            ("GET", rf"/compute/v2\.1/servers/{name}", self.nova_show_server, True),
            ("PUT", rf"/compute/v2\.1/servers/{name}", self.nova_update_server, True),
            ("DELETE", rf"/compute/v2\.1/servers/{name}", self.nova_delete_server, True),
            ("POST", rf"/compute/v2\.1/servers/{name}/action", self.nova_action, True),
            ("POST", rf"/compute/v2\.1/servers/{name}/remote-consoles", self.nova_remote_console, True),
            ("GET", rf"/compute/v2\.1/servers/{name}/metadata(?:/{name})?", self.nova_metadata, True),
            ("POST", rf"/compute/v2\.1/servers/{name}/metadata()", self.nova_metadata, True),
            ("PUT", rf"/compute/v2\.1/servers/{name}/metadata(?:/{name})?", self.nova_metadata, True),
            ("DELETE", rf"/compute/v2\.1/servers/{name}/metadata/{name}", self.nova_metadata, True),
            ("GET", rf"/compute/v2\.1/servers/{name}/os-volume_attachments", self.nova_list_attachments, True),
            ("POST", rf"/compute/v2\.1/servers/{name}/os-volume_attachments", self.nova_attach, True),
            ("GET", rf"/compute/v2\.1/servers/{name}/os-volume_attachments/{name}", self.nova_show_attachment,
             True),
            ("DELETE", rf"/compute/v2\.1/servers/{name}/os-volume_attachments/{name}", self.nova_detach, True),
            ("GET", r"/compute/v2\.1/flavors(/detail)?", self.nova_list_flavors, True),
            ("POST", r"/compute/v2\.1/flavors", self.nova_create_flavor, True),
            ("GET", rf"/compute/v2\.1/flavors/{name}", self.nova_show_flavor, True),
            ("DELETE", rf"/compute/v2\.1/flavors/{name}", self.nova_delete_flavor, True),
            ("GET", r"/compute/v2\.1/os-keypairs", self.nova_list_keypairs, True),
            ("POST", r"/compute/v2\.1/os-keypairs", self.nova_create_keypair, True),
            ("GET", rf"/compute/v2\.1/os-keypairs/{name}", self.nova_show_keypair, True),
            ("DELETE", rf"/compute/v2\.1/os-keypairs/{name}", self.nova_delete_keypair, True),
            ("GET", r"/compute/v2\.1/os-server-groups", self.nova_list_server_groups, True),
            ("GET", rf"/compute/v2\.1/os-server-groups/{name}", self.nova_show_server_group, True),
            ("GET", r"/image/v2/images", self.glance_list, True),
            ("POST", r"/image/v2/images", self.glance_create, True),
            ("GET", rf"/image/v2/images/{name}", self.glance_show, True),
            ("PATCH", rf"/image/v2/images/{name}", self.glance_patch, True),
            ("DELETE", rf"/image/v2/images/{name}", self.glance_delete, True),
            ("PUT", rf"/image/v2/images/{name}/file", self.glance_upload, True),
            ("GET", rf"/image/v2/images/{name}/file", self.glance_download, True),
            ("GET", rf"/volume/v3/{name}/(volumes|snapshots)(/detail)?", self.cinder_list, True),
            ("POST", rf"/volume/v3/{name}/volumes", self.cinder_create, True),
            ("POST", rf"/volume/v3/{name}/snapshots", self.cinder_create_snapshot, True),
            ("GET", rf"/volume/v3/{name}/(volumes|snapshots)/{name}", self.cinder_show, True),
            ("PUT", rf"/volume/v3/{name}/(volumes|snapshots)/{name}", self.cinder_update, True),
            ("DELETE", rf"/volume/v3/{name}/volumes/{name}", self.cinder_delete, True),
            ("DELETE", rf"/volume/v3/{name}/snapshots/{name}", self.cinder_delete_snapshot, True),
            ("GET", rf"/volume/v3/{name}/volumes/{name}/metadata(?:/{name})?", self.cinder_metadata, True),
            ("POST", rf"/volume/v3/{name}/volumes/{name}/metadata()", self.cinder_metadata, True),
            ("PUT", rf"/volume/v3/{name}/volumes/{name}/metadata(?:/{name})?", self.cinder_metadata, True),
            ("DELETE", rf"/volume/v3/{name}/volumes/{name}/metadata/{name}", self.cinder_metadata, True),
            ("GET", rf"/network/v2\.0/({neutron})", self.neutron_list, True),
            ("POST", rf"/network/v2\.0/({neutron})", self.neutron_create, True),
            ("GET", rf"/network/v2\.0/({neutron})/{name}", self.neutron_show, True),
            ("PUT", rf"/network/v2\.0/({neutron})/{name}", self.neutron_update, True),
            ("DELETE", rf"/network/v2\.0/({neutron})/{name}", self.neutron_delete, True),
            ("PUT", rf"/network/v2\.0/routers/{name}/(add|remove)_router_interface", self.neutron_router_interface,
             True),
        ]
        return [(m, re.compile(rx + r"(?:\.json)?" if rx.startswith("/network") else rx), fn, auth)
                for m, rx, fn, auth in table]

    def valid_token(self, value):
        tok = self.tokens.get(value or "")
        return tok if tok and tok["expires"] > time.time() else None

    def handle(self, req):
        self.tick()
        try:
            return self._route(req)
        except ApiError as e:
            ctype, body = error_body(req.service, e.status, e.message, e.ntype, e.extra)
            return Resp(e.status, body, ctype, e.headers)

    def _route(self, req):
        path_matched = False
        for method, rx, fn, needs_token in self.routes:
            m = rx.fullmatch(req.path)
            if m is None:
                continue
            path_matched = True
            if method != req.method:
                continue
            if needs_token:
                self.authenticate(req)
            return fn(req, *[urllib.parse.unquote(g) if g else g for g in m.groups()])
        if req.service not in (None, "identity"):
            self.authenticate(req)      # keystonemiddleware runs before routing
        if path_matched:
            raise ApiError(405, "The method specified is not allowed for this resource.")
        raise ApiError(404, "The resource could not be found.")

    def authenticate(self, req):
        req.token = self.valid_token(req.headers.get("X-Auth-Token"))
        if req.token is None:
            raise ApiError(401, UNAUTHENTICATED,
                           headers={"WWW-Authenticate": f'Keystone uri="{self.base}/identity"'})

    def fault_response(self, fault, service):
        status, body = fault["status"], fault.get("body")
        if body is None:
            ctype, data = (error_body(service, status, phrase(status)) if status >= 400 else ("application/json", b""))
        elif isinstance(body, str):
            ctype, data = "text/plain; charset=UTF-8", body.encode()
        else:
            ctype, data = "application/json", jdump(body)
        headers = {"WWW-Authenticate": f'Keystone uri="{self.base}/identity"'} if status == 401 else {}
        return Resp(status, data, ctype, headers)

    def take_fault(self, method, path):
        for fault in self.faults:
            if fault.get("method") in (None, "*", method) and path.startswith(fault.get("path") or ""):
                if fault["count"] > 0:
                    fault["count"] -= 1
                if fault["count"] == 0:
                    self.faults.remove(fault)
                return dict(fault)
        return None

    def record(self, req, status, token_present):
        self.log.append({"method": req.method, "path": req.path, "query": req.query, "status": status,
                         "service": req.service, "token": token_present, "body": req.logged_body(),
                         "length": len(req.body or b""),
                         "api_version": req.headers.get("OpenStack-API-Version")})

    def root(self, req):
        return jresp(200, {"fake-openstack": {name: self.base + path.format(project="<project_id>")
                                              for _, name, path in CATALOG}})

    # ------------------------------------------------------------------------------------ listings
    def listing(self, req, coll, style, href, view=public, key=None):
        """Filter, sort and paginate `coll`, and add the service's own kind of pagination links.
        style: nova (next when the page is full), cinder (next when more remain), glance (relative
        first/next), neutron (next + previous, page_reverse)."""
        items = [r for r in self.listable(coll, req.token) if self.matches(r, req.args, style)]
        raw = req.arg("limit")
        if raw is not None and not re.fullmatch(r"\d+", raw):
            raise ApiError(400, {"nova": f"Invalid input for query parameters limit. Value: {raw}. "
                                         f"'{raw}' does not match '^[0-9]*$'",
                                 "neutron": f"Bad limit request: Limit must be an integer 0 or greater "
                                            f"and not '{raw}'."}.get(style, "limit param must be an integer"))
        limit = None if raw is None or (style == "neutron" and raw == "0") else int(raw)
        size = min(self.page_max, limit if limit is not None else 25 if style == "glance" else self.page_max)
        reverse = style == "neutron" and req.arg("page_reverse", "").lower() == "true"
        key_field = COLLECTIONS[coll][0]
        marker = req.arg("marker")
        try:
            page, more = paginate(items, size, marker, key_field, reverse)
        except LookupError:
            raise self.marker_error(style, coll, marker) from None
        key = key or coll
        body = {key: [view(r) for r in page]}
        full = bool(page) and len(page) == size

        def link(**updates):
            return f"{href}?{with_query(req.query, **updates)}"

        if (style == "nova" and full) or (style == "cinder" and more):
            body[key + "_links"] = [{"rel": "next", "href": link(marker=page[-1][key_field])}]
        elif style == "glance":
            first = with_query(req.query, drop=("marker",))
            body.update(first=href + (f"?{first}" if first else ""), schema="/v2/schemas/images")
            if full:
                body["next"] = link(drop=("marker",), marker=page[-1]["id"])
        elif style == "neutron" and page and (limit is not None or full):
            links = []
            if not (len(page) < size and not reverse):
                links.append({"rel": "next", "href": link(drop=("page_reverse",), marker=page[-1]["id"])})
            if not (len(page) < size and reverse):
                links.append({"rel": "previous", "href": link(marker=page[0]["id"], page_reverse="True")})
            body[key + "_links"] = links
        if style == "neutron" and req.args.get("fields"):
            wanted = {f for value in req.args["fields"] for f in value.split(",")}
            body[key] = [{k: v for k, v in r.items() if k in wanted} for r in body[key]]
        return jresp(200, body)

    @staticmethod
    def matches(rec, args, style):
        """Query filters: Nova name (a regex) and status; Glance/Cinder exact match on top-level
        fields; Neutron exact match on any field (repeated values OR-ed)."""
        for key, values in args.items():
            if key in LIST_PARAMS:
                continue
            have = rec.get(key)
            if style == "nova":
                if key == "name":
                    try:
                        if not re.search(values[-1], have or ""):
                            return False
                    except re.error:
                        if values[-1] not in (have or ""):
                            return False
                elif key == "status" and (have or "").upper() != values[-1].upper():
                    return False
            elif style in ("glance", "cinder"):
                if key in rec and str(have) != values[-1]:
                    return False
            elif not any(v in have if isinstance(have, list) else
                         str(have).lower() == v.lower() if isinstance(have, bool) else
                         str(have) == v for v in values):
                return False
        return True

    def marker_error(self, style, coll, marker):
        if style == "nova":
            return ApiError(400, f"marker [{marker}] not found")
        if style == "glance":
            return ApiError(400, f"Invalid marker. Image {marker} could not be found.")
        if style == "cinder":
            return ApiError(404, f"Marker {marker} could not be found.")
        return self.neutron_not_found(coll, marker)

    # ------------------------------------------------------------------------------------ keystone
    def _ks_version_doc(self):
        return {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": f"{self.base}/identity/v3/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.identity-v3+json"}]}

    def ks_versions(self, req):
        return jresp(300, {"versions": {"values": [self._ks_version_doc()]}})

    def ks_version(self, req):
        return jresp(200, {"version": self._ks_version_doc()})

    def ks_issue(self, req):
        unauthorized = ApiError(401, UNAUTHENTICATED,
                                headers={"WWW-Authenticate": f'Keystone uri="{self.base}/identity/v3"'})
        body = req.json()
        try:
            auth = body["auth"]
            identity, methods, scope = auth["identity"], auth["identity"]["methods"], auth.get("scope")
            appcred = None
            if "password" in methods:
                user = identity["password"]["user"]
                user_id = self.find_user(user)
                if user_id is None or USERS[user_id]["password"] != user.get("password"):
                    raise unauthorized
            elif "token" in methods:
                old = self.valid_token(identity["token"]["id"])
                if old is None:
                    raise unauthorized
                user_id = old["user_id"]
            elif "application_credential" in methods:
                ac = identity["application_credential"]
                appcred = ac.get("id") or next(
                    (k for k, v in APP_CREDS.items() if v["name"] == ac.get("name")
                     and v["user_id"] == self.find_user(ac.get("user") or {})), None)
                if appcred not in APP_CREDS or APP_CREDS[appcred]["secret"] != ac.get("secret") or scope:
                    raise unauthorized
                user_id = APP_CREDS[appcred]["user_id"]
                scope = {"project": {"id": APP_CREDS[appcred]["project_id"]}}
            else:
                raise unauthorized
        except (KeyError, TypeError):
            raise ApiError(400, "The request you have made is malformed: expecting auth.identity.methods "
                                "and the credentials of each method.") from None
        project_id = self.find_project((scope or {}).get("project") if isinstance(scope, dict) else None)
        roles = USERS[user_id]["roles"].get(project_id)
        if not roles:        # unscoped, unknown project or not a member
            raise unauthorized
        now = time.time()
        token = "gAAAAAB" + secrets.token_urlsafe(132)
        self.tokens[token] = {"user_id": user_id, "project_id": project_id, "roles": roles,
                              "methods": [m for m in methods if m in identity] or methods,
                              "issued": now, "expires": now + self.ttl, "appcred": appcred,
                              "audit_id": urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")}
        return jresp(201, self.token_body(self.tokens[token]), **{"X-Subject-Token": token})

    @staticmethod
    def find_user(user):
        if user.get("id"):
            return user["id"] if user["id"] in USERS else None
        domain = user.get("domain") or {}
        if domain.get("id", DOMAIN["id"]) != DOMAIN["id"] or domain.get("name", DOMAIN["name"]) != DOMAIN["name"]:
            return None
        return next((uid for uid, u in USERS.items() if u["name"] == user.get("name")), None)

    @staticmethod
    def find_project(project):
        if not isinstance(project, dict):
            return None
        if project.get("id"):
            return project["id"] if project["id"] in PROJECTS else None
        domain = project.get("domain") or {}
        if not domain or domain.get("id", DOMAIN["id"]) != DOMAIN["id"] or \
                domain.get("name", DOMAIN["name"]) != DOMAIN["name"]:
            return None
        return next((pid for pid, name in PROJECTS.items() if name == project.get("name")), None)

    def token_body(self, tok):
        user, project = tok["user_id"], tok["project_id"]
        body = {"methods": tok["methods"],
                "user": {"domain": DOMAIN, "id": user, "name": USERS[user]["name"], "password_expires_at": None},
                "audit_ids": [tok["audit_id"]], "expires_at": ts(tok["expires"], "usz"),
                "issued_at": ts(tok["issued"], "usz"),
                "project": {"domain": DOMAIN, "id": project, "name": PROJECTS[project]}, "is_domain": False,
                "roles": [{"id": ROLE_IDS[r], "name": r} for r in tok["roles"]], "catalog": self.catalog(project)}
        if tok["appcred"]:
            body["application_credential"] = {"id": tok["appcred"], "name": APP_CREDS[tok["appcred"]]["name"],
                                              "restricted": True}
        return {"token": body}

    def catalog(self, project):
        return [{"endpoints": [{"id": stable_id(f"{stype}/{region}/{iface}"), "interface": iface,
                                "region_id": region, "url": base + path.format(project=project), "region": region}
                               for region, base in (("RegionOne", self.base), ("RegionTwo", self.dead_base))
                               for iface in ("public", "internal", "admin")],
                 "id": stable_id(stype), "type": stype, "name": name}
                for stype, name, path in CATALOG]

    def ks_validate(self, req):
        subject = req.headers.get("X-Subject-Token")
        tok = self.valid_token(subject)
        if tok is None:
            raise ApiError(404, f"Could not find token: {subject}.")
        return jresp(200, self.token_body(tok), **{"X-Subject-Token": subject})

    def ks_revoke(self, req):
        if self.tokens.pop(req.headers.get("X-Subject-Token") or "", None) is None:
            raise ApiError(404, f"Could not find token: {req.headers.get('X-Subject-Token')}.")
        return Resp(204)

    def ks_auth_projects(self, req):
        """GET /v3/auth/projects: the projects the token's user has a role in (an application
        credential's token too: Keystone lists the user's projects)."""
        uid = req.token["user_id"]
        projects = [{"is_domain": False, "description": "", "links": {"self": f"{self.base}/identity/v3/projects/{pid}"},
                     "tags": [], "enabled": True, "id": pid, "parent_id": DOMAIN["id"], "domain_id": DOMAIN["id"],
                     "name": PROJECTS[pid], "options": {}}
                    for pid in sorted(USERS[uid]["roles"])]
        return jresp(200, {"links": {"self": f"{self.base}/identity/v3/auth/projects", "previous": None,
                                     "next": None}, "projects": projects})

    # -------------------------------------------------------------------------------------- quotas
    def quota_target(self, req, project, rule):
        """Reading another project's quotas, or changing any, is for admins (Zed's default policy)."""
        if project != req.token["project_id"] or rule.endswith(":update"):
            self.require_admin(req, rule)

    def quota_used(self, project):
        servers = [r for r in self.c["servers"].values() if r["tenant_id"] == project]
        flavors = [self.c["flavors"].get(str((r["flavor"] or {}).get("id") if isinstance(r["flavor"], dict)
                                             else r["flavor"])) or {} for r in servers]
        vols = [r for r in self.c["volumes"].values() if r["os-vol-tenant-attr:tenant_id"] == project]
        snaps = [r for r in self.c["snapshots"].values()
                 if r["os-extended-snapshot-attributes:project_id"] == project]
        neutron = {NEUTRON[c][3]: sum(1 for r in self.c[c].values() if r.get("project_id") == project)
                   for c in NEUTRON}
        return {"compute": {"instances": len(servers), "cores": sum(f.get("vcpus", 0) for f in flavors),
                            "ram": sum(f.get("ram", 0) for f in flavors),
                            "server_groups": sum(1 for r in self.c["server_groups"].values()
                                                 if r["_project"] == project)},
                "volume": {"volumes": len(vols), "gigabytes": sum(r["size"] for r in vols) +
                           sum(r["size"] for r in snaps), "snapshots": len(snaps)},
                "network": neutron}

    def quota_limits(self, service, project):
        defaults = dict(QUOTA_DEFAULTS[service])
        for coll, (svc, key) in QUOTA_OF_COLLECTION.items():
            if svc == service and self.quotas.get(coll) is not None:
                defaults[key] = self.quotas[coll]
        defaults.update(self.project_quotas.get((service, project), {}))
        return defaults

    def quota_set(self, service, project, detail, used_key, extra=()):
        limits, used = self.quota_limits(service, project), self.quota_used(project)[service]
        if not detail:
            return dict(limits)
        return {k: {"limit": v, used_key: used.get(k, 0), "reserved": 0, **{e: 0 for e in extra}}
                for k, v in limits.items()}

    def quota_update(self, req, service, wrapper, project):
        body = req.wrapped(wrapper)
        known = QUOTA_DEFAULTS[service]
        for k, v in body.items():
            if k not in known:
                if service == "network":
                    raise ApiError(400, f"Unrecognized attribute(s) '{k}'", "HTTPBadRequest")
                raise nova_invalid(wrapper, k, "Additional properties are not allowed") if service == "compute" \
                    else ApiError(400, f"Bad key(s) in quota set: {k}")
            if isinstance(v, bool) or not isinstance(v, int) or v < -1:
                if service == "network":
                    raise ApiError(400, f"Invalid input for {k}. Reason: '{v}' is not an integer.", "HTTPBadRequest")
                raise ApiError(400, f"Invalid input for field/attribute {k}. Value: {v}. "
                                    f"{v!r} is not of type 'integer'")
            used = self.quota_used(project)[service].get(k, 0)
            if service == "compute" and v != -1 and v < used:
                raise ApiError(400, f"Quota limit {v} for {k} must be greater than or equal to already used and "
                                    f"reserved {used}.")
        self.project_quotas.setdefault((service, project), {}).update(body)
        return self.quota_limits(service, project)

    def nova_quotas(self, req, project, detail):
        self.quota_target(req, project, "os_compute_api:os-quota-sets:show")
        qs = self.quota_set("compute", project, detail, "in_use")
        gone = (("fixed_ips", "floating_ips", "security_group_rules", "security_groups", "networks")
                if req.microversion() >= (2, 36) else ())
        gone += (("injected_file_content_bytes", "injected_file_path_bytes", "injected_files")
                 if req.microversion() >= (2, 57) else ())
        return jresp(200, {"quota_set": {"id": project, **{k: v for k, v in qs.items() if k not in gone}}})

    def nova_set_quotas(self, req, project):
        self.quota_target(req, project, "os_compute_api:os-quota-sets:update")
        return jresp(200, {"quota_set": self.quota_update(req, "compute", "quota_set", project)})

    def cinder_quotas(self, req, owner, project):
        self.check_project(req, owner)
        self.quota_target(req, project, "volume_extension:quotas:show")
        usage = str(req.arg("usage", "false")).lower() in ("true", "1", "yes")
        return jresp(200, {"quota_set": {**self.quota_set("volume", project, usage, "in_use"), "id": project}})

    def cinder_set_quotas(self, req, owner, project):
        self.check_project(req, owner)
        self.quota_target(req, project, "volume_extension:quotas:update")
        return jresp(200, {"quota_set": self.quota_update(req, "volume", "quota_set", project)})

    def neutron_quotas(self, req, project, details):
        self.quota_target(req, project, "get_quota")
        return jresp(200, {"quota": self.quota_set("network", project, details, "used")})

    def neutron_set_quotas(self, req, project):
        if "admin" not in req.token["roles"]:
            raise ApiError(403, "rule:update_quota is disallowed by policy", "PolicyNotAuthorized")
        return jresp(200, {"quota": self.quota_update(req, "network", "quota", project)})

    # ---------------------------------------------------------------------------------------- nova
    def nova_version(self, req):
        return jresp(200, {"version": {"id": "v2.1", "status": "CURRENT", "version": "2.93",
                                       "min_version": "2.1", "updated": "2013-07-23T11:33:21Z",
                                       "links": [{"rel": "self", "href": f"{self.base}/compute/v2.1/"}]}})

    def brief(self, rec):
        return {"id": rec["id"], "name": rec["name"], "links": rec["links"]}

    def nova_list_servers(self, req, detail):
        return self.listing(req, "servers", "nova", f"{self.base}/compute/v2.1/servers{detail or ''}",
                            functools.partial(self.server_view, req) if detail else self.brief)

    def server_view(self, req, rec):
        """A server as Nova shows it at the request's microversion: 2.9 locked, 2.19 description,
        2.26 tags, 2.47 the flavor embedded (no id: its name is original_name)."""
        view, mv = public(rec), req.microversion()
        if mv >= (2, 9):
            view["locked"] = bool(rec.get("_locked"))
        if mv >= (2, 19):
            view.setdefault("description", None)
        elif "description" in view:
            del view["description"]
        if mv >= (2, 26):
            view["tags"] = list(rec.get("_tags", []))
        if mv >= (2, 47) and isinstance(rec.get("flavor"), dict):
            flv = self.c["flavors"].get(rec["flavor"].get("id"))
            if flv is not None:
                view["flavor"] = {"vcpus": flv["vcpus"], "ram": flv["ram"], "disk": flv["disk"],
                                  "ephemeral": flv["OS-FLV-EXT-DATA:ephemeral"],
                                  "swap": flv["swap"] or 0, "original_name": flv["name"], "extra_specs": {}}
        return view

    def server_or_404(self, req, sid):
        rec = self.find(req, "servers", sid)
        if rec is None:
            raise ApiError(404, f"Instance {sid} could not be found.")
        return rec

    def nova_show_server(self, req, sid):
        return jresp(200, {"server": self.server_view(req, self.server_or_404(req, sid))})

    @staticmethod
    def check_unlocked(req, rec):
        if rec.get("_locked") and "admin" not in req.token["roles"]:
            raise ApiError(409, f"Instance {rec['id']} is locked")

    def nova_update_server(self, req, sid):
        rec = self.server_or_404(req, sid)
        s = req.wrapped("server")
        extra = sorted(set(s) - {"name", "accessIPv4", "accessIPv6", "description"})
        if extra:
            raise nova_invalid("server", s, "Additional properties are not allowed "
                                            f"({', '.join(repr(k) for k in extra)} was unexpected)")
        if "description" in s and req.microversion() < (2, 19):
            raise nova_invalid("server", s, "Additional properties are not allowed ('description' was unexpected)")
        if "name" in s:
            self.check_server_name(s["name"])
        for field, version in (("accessIPv4", 4), ("accessIPv6", 6)):
            value = s.get(field)
            if value not in (None, ""):
                try:
                    ok = ipaddress.ip_address(value).version == version
                except (ValueError, TypeError):
                    ok = False
                if not ok:
                    raise nova_invalid(field, value, f"{value!r} is not a 'ipv{version}'")
        self.check_unlocked(req, rec)
        rec.update({k: ("" if v is None and k.startswith("access") else v) for k, v in s.items()})
        rec["updated"] = ts(time.time())
        return jresp(200, {"server": self.server_view(req, rec)})

    @staticmethod
    def check_server_name(name):
        if not isinstance(name, str):
            raise nova_invalid("name", name, f"{name!r} is not of type 'string'")
        if not 1 <= len(name) <= 255 or name != name.strip():
            raise nova_invalid("name", name, f"{name!r} is not a valid name (1-255 characters, "
                                             "no leading or trailing whitespace)")

    def nova_delete_server(self, req, sid):
        rec = self.server_or_404(req, sid)
        self.check_unlocked(req, rec)
        if rec["OS-EXT-STS:task_state"] != "deleting":
            rec.pop("_ready", None)
            rec["OS-EXT-STS:task_state"] = "deleting"
            # Nova's terminate: DELETED (vm_state deleted, no task) for a moment before the 404
            self.later(self.delete_s / 2, "servers", sid, lambda r: r.update(
                {"status": "DELETED", "OS-EXT-STS:vm_state": "deleted", "OS-EXT-STS:task_state": None,
                 "OS-EXT-STS:power_state": 0}))
            self.later(self.delete_s, "servers", sid, "gone")
        return Resp(204)

    def nova_create_server(self, req):
        body = req.json()
        if not isinstance(body, dict) or "server" not in body:
            raise ApiError(400, "'server' is a required property")
        s = body["server"]
        if not isinstance(s, dict):
            raise nova_invalid("server", s, f"{s!r} is not of type 'object'")
        for field in ("name", "flavorRef"):
            if field not in s:
                raise nova_invalid("server", s, f"'{field}' is a required property")
        name = s["name"]
        self.check_server_name(name)
        user_data = s.get("user_data")
        if user_data is not None:
            try:       # Nova's 'base64' format checker: base64.decodebytes, which skips non-alphabet bytes
                if not isinstance(user_data, str):
                    raise ValueError
                base64.decodebytes(user_data.encode())
            except (ValueError, base64.binascii.Error):
                raise nova_invalid("user_data", user_data, f"{user_data!r} is not a 'base64'") from None
        groups = s.get("security_groups")
        if groups is not None and (not isinstance(groups, list) or
                                   not all(isinstance(g, dict) and isinstance(g.get("name"), str) for g in groups)):
            raise nova_invalid("security_groups", groups, f"{groups!r} is not an array of {{'name': string}}")
        networks = s.get("networks")
        if req.microversion() >= (2, 37):
            if networks is None:
                raise nova_invalid("server", s, "'networks' is a required property")
            if networks in ("auto", "none"):
                networks = None if networks == "auto" else []
        if networks is not None and not isinstance(networks, list):
            raise nova_invalid("networks", networks, f"{networks!r} is not of type 'array'")
        metadata = s.get("metadata", {})
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise nova_invalid("metadata", metadata, f"{metadata!r} is not of type 'object' of strings")
        if not s.get("imageRef"):
            raise ApiError(400, "Block Device Mapping is Invalid: Boot sequence for the instance and "
                                "image/block device mapping combination is not valid.")
        image = self.find(req, "images", str(s["imageRef"]).rstrip("/").split("/")[-1])
        if image is None:
            raise ApiError(400, "Can not find requested image")
        if image["status"] != "active":
            raise ApiError(400, f"Image {image['id']} is not active.")
        flavor = self.c["flavors"].get(str(s["flavorRef"]).rstrip("/").split("/")[-1])
        if flavor is None:
            raise ApiError(400, "Invalid flavorRef provided.")
        if s.get("key_name") is not None and self.find(req, "keypairs", s["key_name"]) is None:
            raise ApiError(400, "Invalid key_name provided.")
        net_ids = []
        for item in networks or []:
            if not isinstance(item, dict) or "uuid" not in item:
                raise nova_invalid("networks", item, f"{item!r} does not have a network 'uuid'")
            try:
                uuid.UUID(str(item["uuid"]))
            except ValueError:
                raise nova_invalid("uuid", item["uuid"], f"{item['uuid']!r} is not a 'uuid'") from None
            if self.find(req, "networks", item["uuid"]) is None:
                raise ApiError(400, f"Network {item['uuid']} could not be found.")
            net_ids.append(item["uuid"])
        if not net_ids and networks is None:
            available = self.listable("networks", req.token)
            if len(available) > 1:
                raise ApiError(409, "Multiple possible networks found, use a Network ID to be more specific.")
            net_ids = [n["id"] for n in available]
        for group in groups or []:
            if self.find_by_name_or_id(req, "security_groups", group["name"]) is None:
                raise ApiError(400, f"Security group {group['name']} not found.")
        self.check_quota(req, "servers")
        rec = self.new("servers", {"_user_data": user_data,"name": name, "image": image["id"], "flavor": flavor["id"],
                                   "networks": net_ids, "metadata": metadata, "key_name": s.get("key_name"),
                                   "tenant_id": req.token["project_id"], "user_id": req.token["user_id"],
                                   "security_groups": [{"name": g.get("name", "default")} for g in
                                                       s.get("security_groups") or [{"name": "default"}]]})
        ready = {k: rec[k] for k in ("status", "addresses", "updated", "OS-SRV-USG:launched_at",
                                     "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state")}
        ready["updated"] = ts(time.time() + self.build_s)
        ready["OS-SRV-USG:launched_at"] = ts(time.time() + self.build_s, "us")
        rec.update({"status": "BUILD", "addresses": {}, "OS-SRV-USG:launched_at": None,
                    "OS-EXT-STS:task_state": "spawning", "OS-EXT-STS:vm_state": "building",
                    "OS-EXT-STS:power_state": 0, "_ready": ready})
        group = self.scheduler_group(req, body)
        if group is not None and "anti-affinity" in group["policies"] and \
                any(m in self.c["servers"] for m in group["members"]):
            # One compute host (devcloud's): the scheduler finds no host apart from the other members.
            self.later(self.build_s, "servers", rec["id"], self.fail_build)
        else:
            self.later(self.build_s, "servers", rec["id"], "ready")
        if group is not None:
            group["members"].append(rec["id"])
        return jresp(202, {"server": {"id": rec["id"], "links": rec["links"], "OS-DCF:diskConfig": "MANUAL",
                                      "security_groups": rec["security_groups"],
                                      "adminPass": secrets.token_urlsafe(9)}},
                     Location=rec["links"][0]["href"])

    def scheduler_group(self, req, body):
        """The server group named by the scheduler hints beside the wrapper ("os:scheduler_hints")."""
        hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
        gid = hints.get("group") if isinstance(hints, dict) else None
        if gid is None:
            return None
        group = self.c["server_groups"].get(gid)
        if group is None or not self.visible("server_groups", req.token)(group):
            raise ApiError(400, f"Invalid input for field/attribute group. Value: {gid}. '{gid}' is not a 'uuid'"
                           if not re.fullmatch(r"[0-9a-f-]{36}", str(gid)) else f"Server group {gid} could not be found.")
        return group

    def fail_build(self, rec):
        """What Nova does when scheduling fails: ERROR, a fault, no ports, no addresses."""
        for port in [p for p in self.c["ports"].values() if p["device_id"] == rec["id"]]:
            self.remove("ports", port["id"])
        rec.pop("_ready", None)
        rec.update({"status": "ERROR", "OS-EXT-STS:vm_state": "error", "OS-EXT-STS:task_state": None,
                    "OS-EXT-STS:power_state": 0, "addresses": {}, "hostId": "", "updated": ts(time.time()),
                    "fault": {"code": 500, "created": ts(time.time()), "message": NO_VALID_HOST}})

    def nova_action(self, req, sid):
        rec = self.server_or_404(req, sid)
        body = req.json()
        if not isinstance(body, dict) or len(body) != 1:
            raise ApiError(400, "Malformed request body")
        action, args = next(iter(body.items()))
        if action == "os-getConsoleOutput":
            return self.nova_console(rec, args)
        if action in ("lock", "unlock"):
            rec["_locked"] = action == "lock"
            return Resp(202, ctype="application/json; charset=UTF-8")
        if action == "os-getVNCConsole":
            if req.microversion() >= (2, 6):
                raise ApiError(404, "The resource could not be found.")
            return jresp(200, {"console": self.nova_vnc_console(req, rec, args)})
        if action in SERVER_VERBS:
            return self.nova_verb(req, rec, action, args)
        if action not in SERVER_ACTIONS:
            raise ApiError(400, f"There is no such action: {action}")
        method, vm_states, task, during, final = SERVER_ACTIONS[action]
        if action == "reboot":
            kind = (args or {}).get("type") if isinstance(args, dict) else None
            if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
                raise nova_invalid("type", kind, f"{kind!r} is not one of ['HARD', 'Hard', 'hard', 'SOFT', "
                                                 "'Soft', 'soft']")
            if kind.upper() == "SOFT":
                vm_states = {"active"}
            else:
                task, during = "reboot_started_hard", "HARD_REBOOT"
        self.check_unlocked(req, rec)
        vm_state, task_state = rec["OS-EXT-STS:vm_state"], rec["OS-EXT-STS:task_state"]
        if task_state is not None:
            raise ApiError(409, f"Cannot '{method}' instance {sid} while it is in task_state {task_state}")
        if vm_state not in vm_states:
            raise ApiError(409, f"Cannot '{method}' instance {sid} while it is in vm_state {vm_state}")
        vm_final, _, power_final = SERVER_STATES[final]
        rec.update({"status": during or rec["status"], "OS-EXT-STS:task_state": task, "updated": ts(time.time()),
                    "_ready": {"status": final, "OS-EXT-STS:vm_state": vm_final, "OS-EXT-STS:task_state": None,
                               "OS-EXT-STS:power_state": power_final, "updated": ts(time.time() + self.build_s)}})
        self.later(self.build_s, "servers", sid, "ready")
        return Resp(202, ctype="application/json; charset=UTF-8")

    # Nova's resize, confirmResize, revertResize, rebuild, createImage, rescue and unrescue (their
    # vm_states and task_states as nova/compute/api.py checks and sets them, the statuses as
    # nova/api/openstack/common.py maps them), and the console URL.
    def nova_verb(self, req, rec, action, args):
        sid = rec["id"]
        vm_states, task, during, final = SERVER_VERBS[action]
        ready, answer = {}, Resp(202, ctype="application/json; charset=UTF-8")
        if action == "resize":
            ref = args.get("flavorRef") if isinstance(args, dict) else None
            if ref is None:
                raise nova_invalid("resize", args, "'flavorRef' is a required property")
            flavor = self.c["flavors"].get(str(ref).rstrip("/").split("/")[-1])
            if flavor is None:
                raise ApiError(400, f"Flavor {ref} could not be found.")
            if flavor["id"] == rec["flavor"]["id"]:
                raise ApiError(400, "When resizing, instances must change flavor!")
            ready["flavor"] = {"id": flavor["id"], "links": [
                {"rel": "bookmark", "href": f"{self.base}/compute/flavors/{flavor['id']}"}]}
        elif action in ("rebuild", "rescue"):
            key = "imageRef" if action == "rebuild" else "rescue_image_ref"
            ref = args.get(key) if isinstance(args, dict) else None
            if action == "rebuild" and ref is None:
                raise nova_invalid("rebuild", args, "'imageRef' is a required property")
            image = None if ref is None else self.find(req, "images", str(ref).rstrip("/").split("/")[-1])
            if ref is not None and image is None:
                raise ApiError(400, f"Image {ref} could not be found.")
            if action == "rebuild":
                ready["image"] = {"id": image["id"], "links": [
                    {"rel": "bookmark", "href": f"{self.base}/compute/images/{image['id']}"}]}
        elif action == "createImage":
            name = args.get("name") if isinstance(args, dict) else None
            if not isinstance(name, str) or not name.strip():
                raise nova_invalid("name", name, f"{name!r} is not a valid name")
        elif args is not None:
            raise nova_invalid(action, args, f"{args!r} is not of type 'null'")
        self.check_unlocked(req, rec)
        vm_state, task_state = rec["OS-EXT-STS:vm_state"], rec["OS-EXT-STS:task_state"]
        if task_state is not None:
            raise ApiError(409, f"Cannot '{action}' instance {sid} while it is in task_state {task_state}")
        if vm_state not in vm_states:
            raise ApiError(409, f"Cannot '{action}' instance {sid} while it is in vm_state {vm_state}")
        if action == "resize":
            rec["_old_flavor"] = rec["flavor"]
        elif action == "revertResize":
            ready["flavor"] = rec.pop("_old_flavor", rec["flavor"])
        elif action == "confirmResize":
            rec.pop("_old_flavor", None)
        elif action == "rebuild":
            answer = jresp(202, {"server": {**public(rec), "status": "REBUILD", "adminPass": secrets.token_urlsafe(9)}})
        elif action == "rescue":
            answer = jresp(200, {"adminPass": secrets.token_urlsafe(9)})
        elif action == "createImage":
            image = self.new("images", {"name": args["name"], "status": "queued", "visibility": "private",
                                        "owner": rec["tenant_id"], "image_type": "snapshot",
                                        "instance_uuid": sid, "user_id": rec["user_id"],
                                        "base_image_ref": (rec["image"] or {}).get("id", "")})
            self.later(self.build_s, "images", image["id"], lambda r: (
                self.store_image_data(r, random.Random(r["id"]).randbytes(4096)), r.update(status="active")))
            location = f"{self.base}/image/v2/images/{image['id']}"
            answer = (jresp(202, {"image_id": image["id"]}) if req.microversion() >= (2, 45)
                      else Resp(202, ctype="application/json; charset=UTF-8", headers={"Location": location}))
        final = final or rec["status"]
        vm_final, _, power_final = SERVER_STATES[final]
        ready.update({"status": final, "OS-EXT-STS:vm_state": vm_final, "OS-EXT-STS:task_state": None,
                      "OS-EXT-STS:power_state": power_final, "updated": ts(time.time() + self.build_s)})
        if task is None:            # done by the time the API answers
            rec.update(ready, updated=ts(time.time()))
            return answer
        rec.update({"status": during or rec["status"], "OS-EXT-STS:task_state": task, "updated": ts(time.time()),
                    "_ready": ready})
        self.later(self.build_s, "servers", sid, "ready")
        return answer

    def nova_vnc_console(self, req, rec, args):
        """os-getVNCConsole (up to 2.5) and POST remote-consoles (2.6 on): a noVNC URL with a token."""
        kind = (args or {}).get("type") if isinstance(args, dict) else None
        if kind not in ("novnc", "xvpvnc"):
            raise nova_invalid("type", kind, f"{kind!r} is not one of ['novnc', 'xvpvnc']")
        if rec["status"] != "ACTIVE":
            raise ApiError(409, f"Instance {rec['id']} is not ready")
        return {"type": kind, "url": f"http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D{uuid.uuid4()}"}

    def nova_remote_console(self, req, sid):
        rec = self.server_or_404(req, sid)
        if req.microversion() < (2, 6):
            raise ApiError(404, "The resource could not be found.")
        c = req.wrapped("remote_console")
        if c.get("protocol") != "vnc":
            raise nova_invalid("protocol", c.get("protocol"), "only 'vnc' is served by this cloud")
        return jresp(200, {"remote_console": {"protocol": "vnc", **self.nova_vnc_console(req, rec, c)}})

    @staticmethod
    def nova_console(rec, args):
        lines = ([f"[    0.000000] Linux version 5.15.0 (fake-openstack) booting {rec['name']}"] +
                 [f"[    {i}.{i * 137 % 1000:06d}] cloud-init step {i}" for i in range(1, 18)] +
                 [f"{rec['name']} login: "])
        length = (args or {}).get("length") if isinstance(args, dict) else None
        if length is not None:
            try:
                length = int(length)
            except (TypeError, ValueError):
                raise nova_invalid("length", length, f"{length!r} is not of type 'integer'") from None
            if length < -1:
                raise nova_invalid("length", length, f"{length} is less than the minimum of -1")
            lines = lines[-length:] if length > 0 else [] if length == 0 else lines
        return jresp(200, {"output": "\n".join(lines)})

    def metadata(self, req, rec, key, service):
        """Nova's /servers/{id}/metadata and Cinder's /volumes/{id}/metadata, which behave alike:
        GET all or one ({"meta": {key: value}}), POST merges, PUT replaces all or sets one, DELETE one."""
        meta = rec["metadata"]
        key = key or None
        if req.method == "GET":
            if key is None:
                return jresp(200, {"metadata": meta})
            if key not in meta:
                raise ApiError(404, "Metadata item was not found")
            return jresp(200, {"meta": {key: meta[key]}})
        if req.method == "DELETE":
            if key not in meta:
                raise ApiError(404, "Metadata item was not found")
            del meta[key]
            return Resp(204 if service == "compute" else 200)
        if key is not None:
            item = req.wrapped("meta", "Malformed request body")
            if len(item) != 1:
                raise ApiError(400, "Request body contains too many items")
            if key not in item:
                raise ApiError(400, "Request body and URI mismatch")
            new = item
        else:
            new = req.wrapped("metadata", "Malformed request body")
        for k, v in new.items():
            if not 1 <= len(k) <= 255:
                raise nova_invalid("metadata", new, f"{k!r} does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{{1,255}}$'")
            if not isinstance(v, str) or len(v) > 255:
                raise nova_invalid(k, v, f"{v!r} is not of type 'string' of at most 255 characters")
        if req.method == "PUT" and key is None:
            meta.clear()
        meta.update(new)
        return jresp(200, {"meta": new} if key is not None else {"metadata": meta})

    def nova_metadata(self, req, sid, key=None):
        rec = self.server_or_404(req, sid)
        if req.method != "GET":
            self.check_unlocked(req, rec)
        return self.metadata(req, rec, key, "compute")

    @staticmethod
    def attachment_view(vol, sid):
        att = next((a for a in vol["attachments"] if a["server_id"] == sid), None) or vol.get("_attaching") or {}
        return {"id": vol["id"], "volumeId": vol["id"], "serverId": sid, "device": att.get("device")}

    def server_volumes(self, sid):
        return [v for v in self.c["volumes"].values()
                if v.get("_server") == sid or any(a["server_id"] == sid for a in v["attachments"])]

    def nova_list_attachments(self, req, sid):
        self.server_or_404(req, sid)
        return jresp(200, {"volumeAttachments": [self.attachment_view(v, sid) for v in self.server_volumes(sid)]})

    def nova_show_attachment(self, req, sid, vid):
        self.server_or_404(req, sid)
        vol = next((v for v in self.server_volumes(sid) if v["id"] == vid), None)
        if vol is None:
            raise ApiError(404, f"Volume {vid} is not attached to the instance {sid}")
        return jresp(200, {"volumeAttachment": self.attachment_view(vol, sid)})

    def nova_attach(self, req, sid):
        rec = self.server_or_404(req, sid)
        att = req.wrapped("volumeAttachment")
        vid = att.get("volumeId")
        if not isinstance(vid, str):
            raise nova_invalid("volumeAttachment", att, "'volumeId' is a required property")
        vol = self.find(req, "volumes", vid)
        if vol is None:
            raise ApiError(404, f"Volume {vid} could not be found.")
        self.check_unlocked(req, rec)
        if rec["OS-EXT-STS:task_state"] is not None:
            raise ApiError(409, f"Cannot 'attach_volume' instance {sid} while it is in task_state "
                                f"{rec['OS-EXT-STS:task_state']}")
        if rec["OS-EXT-STS:vm_state"] not in ATTACHABLE_VM_STATES:
            raise ApiError(409, f"Cannot 'attach_volume' instance {sid} while it is in vm_state "
                                f"{rec['OS-EXT-STS:vm_state']}")
        if vol["status"] != "available":
            raise ApiError(400, f"Invalid volume: Volume {vid} status must be available or downloading to "
                                f"reserve, but the current status is {vol['status']}.")
        used = {a.get("device") for v in self.server_volumes(sid) for a in
                v["attachments"] + [v.get("_attaching") or {}]}
        device = next(f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz" if f"/dev/vd{c}" not in used)
        now = time.time()
        attachment = {"id": vid, "attachment_id": str(uuid.uuid4()), "volume_id": vid, "server_id": sid,
                      "host_name": None, "device": device, "attached_at": ts(now + self.build_s, "us")}
        vol.update(status="attaching", _server=sid, _attaching=attachment, updated_at=ts(now, "us"))
        rec["os-extended-volumes:volumes_attached"].append({"id": vid})

        def attached(v):
            v.pop("_attaching", None)
            v.update(status="in-use", attachments=[attachment], updated_at=ts(time.time(), "us"))
        self.later(self.build_s, "volumes", vid, attached)
        return jresp(200, {"volumeAttachment": {"device": device, "id": vid, "serverId": sid, "volumeId": vid}})

    def nova_detach(self, req, sid, vid):
        rec = self.server_or_404(req, sid)
        vol = next((v for v in self.server_volumes(sid) if v["id"] == vid), None)
        if vol is None:
            raise ApiError(404, f"volume_id not found: {vid}")
        self.check_unlocked(req, rec)
        if vol["status"] != "in-use":
            raise ApiError(400, f"Invalid volume: Unable to detach volume. Volume status must be 'in-use' and "
                                f"attach_status must be 'attached' to detach.")
        vol.update(status="detaching", updated_at=ts(time.time(), "us"))

        def detached(v):
            v.pop("_server", None)
            v.update(status="available", attachments=[], updated_at=ts(time.time(), "us"))
            srv = self.c["servers"].get(sid)
            if srv is not None:
                srv["os-extended-volumes:volumes_attached"] = [
                    a for a in srv["os-extended-volumes:volumes_attached"] if a["id"] != vid]
        self.later(self.build_s, "volumes", vid, detached)
        return Resp(202, ctype="application/json; charset=UTF-8")

    def nova_list_flavors(self, req, detail):
        return self.listing(req, "flavors", "nova", f"{self.base}/compute/v2.1/flavors{detail or ''}",
                            public if detail else self.brief)

    def nova_show_flavor(self, req, fid):
        rec = self.c["flavors"].get(fid)
        if rec is None:
            raise ApiError(404, f"Flavor {fid} could not be found.")
        return jresp(200, {"flavor": public(rec)})

    @staticmethod
    def require_admin(req, rule):
        if "admin" not in req.token["roles"]:
            raise ApiError(403, f"Policy doesn't allow {rule} to be performed.")

    def nova_create_flavor(self, req):
        self.require_admin(req, "os_compute_api:os-flavor-manage:create")
        f = req.wrapped("flavor")
        for field in ("name", "ram", "vcpus", "disk"):
            if field not in f:
                raise nova_invalid("flavor", f, f"'{field}' is a required property")
        for field in ("ram", "vcpus", "disk", "swap", "OS-FLV-EXT-DATA:ephemeral"):
            value = f.get(field, 0)
            if isinstance(value, bool) or not re.fullmatch(r"\s*[0-9]+\s*", str(value)):
                raise nova_invalid(field, value, f"{value!r} does not match '^[0-9]+$'")
        if any(r["name"] == f["name"] for r in self.c["flavors"].values()):
            raise ApiError(409, f"Flavor with name {f['name']} already exists.")
        fid = str(f.get("id") or uuid.uuid4())
        if fid in self.c["flavors"]:
            raise ApiError(409, f"Flavor with ID {fid} already exists.")
        rec = self.new("flavors", {"id": fid, "name": f["name"], "ram": int(f["ram"]), "vcpus": int(f["vcpus"]),
                                   "disk": int(f["disk"]), "swap": int(f.get("swap") or 0) or "",
                                   "OS-FLV-EXT-DATA:ephemeral": int(f.get("OS-FLV-EXT-DATA:ephemeral") or 0),
                                   "os-flavor-access:is_public": bool(f.get("os-flavor-access:is_public", True)),
                                   "rxtx_factor": f.get("rxtx_factor", 1.0)})
        return jresp(200, {"flavor": public(rec)})

    def nova_delete_flavor(self, req, fid):
        self.require_admin(req, "os_compute_api:os-flavor-manage:delete")
        if self.c["flavors"].pop(fid, None) is None:
            raise ApiError(404, f"Flavor {fid} could not be found.")
        return Resp(202, ctype="application/json; charset=UTF-8")

    def nova_list_keypairs(self, req):   # each item wrapped; paged by limit/marker from 2.35
        fields = ("name", "public_key", "fingerprint") + (("type",) if req.microversion() >= (2, 2) else ())
        if req.microversion() < (2, 35):
            return jresp(200, {"keypairs": [{"keypair": {k: r[k] for k in fields}}
                                            for r in self.listable("keypairs", req.token)]})
        return self.listing(req, "keypairs", "nova", f"{self.base}/compute/v2.1/os-keypairs",
                            lambda r: {"keypair": {k: r[k] for k in fields}})

    def nova_list_server_groups(self, req):   # no links: Nova pages these by limit/offset only
        return jresp(200, {"server_groups": [public(r) for r in self.listable("server_groups", req.token)]})

    def nova_show_server_group(self, req, gid):
        rec = self.c["server_groups"].get(gid)
        if rec is None or not self.visible("server_groups", req.token)(rec):
            raise ApiError(404, f"Server group {gid} could not be found.")
        return jresp(200, {"server_group": public(rec)})

    def nova_show_keypair(self, req, name):
        rec = self.find(req, "keypairs", name)
        if rec is None:
            raise ApiError(404, f"Keypair {name} not found for user {req.token['user_id']}")
        return jresp(200, {"keypair": self.keypair_view(req, rec)})

    @staticmethod
    def keypair_view(req, rec, fields=None):
        view = {k: v for k, v in public(rec).items() if fields is None or k in fields}
        if req.microversion() < (2, 2):
            view.pop("type", None)
        return view

    def nova_create_keypair(self, req):
        k = req.wrapped("keypair")
        name = k.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise ApiError(400, "Keypair data is invalid: Keypair name must be string and between 1 and 255 "
                                "characters long")
        if not re.fullmatch(r"[A-Za-z0-9 _.@-]+", name) or name != name.strip():
            raise ApiError(400, "Keypair data is invalid: Keypair name contains unsafe characters")
        if self.find(req, "keypairs", name) is not None:
            raise ApiError(409, f"Key pair '{name}' already exists.")
        self.check_quota(req, "keypairs")
        private = None
        if k.get("public_key") is None and req.microversion() >= (2, 92):
            raise nova_invalid("keypair", k, "'public_key' is a required property")
        if k.get("public_key") is None:       # Nova generates the pair and returns the private half once
            blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + self.rng.randbytes(32)
            public_key = f"ssh-ed25519 {b64encode(blob).decode()} Generated-by-Nova"
            private = ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + b64encode(self.rng.randbytes(300)).decode() +
                       "\n-----END OPENSSH PRIVATE KEY-----\n")
        else:
            public_key = k["public_key"]
        if ssh_fingerprint(public_key) is None:
            raise ApiError(400, "Keypair data is invalid: failed to generate fingerprint")
        rec = self.new("keypairs", {"name": name, "public_key": public_key, "user_id": req.token["user_id"],
                                    "type": k.get("type", "ssh")})
        view = self.keypair_view(req, rec, ("name", "public_key", "fingerprint", "user_id", "type"))
        if private:
            view["private_key"] = private
        return jresp(200 if req.microversion() < (2, 2) else 201, {"keypair": view})

    def nova_delete_keypair(self, req, name):
        if self.find(req, "keypairs", name) is None:
            raise ApiError(404, f"Keypair {name} not found for user {req.token['user_id']}")
        del self.c["keypairs"][name]
        return Resp(202 if req.microversion() < (2, 2) else 204, ctype="application/json; charset=UTF-8")

    # -------------------------------------------------------------------------------------- glance
    def image_or_404(self, req, iid):
        rec = self.find(req, "images", iid)
        if rec is None:
            raise ApiError(404, f"No image found with ID {iid}")
        return rec

    def glance_list(self, req):
        return self.listing(req, "images", "glance", "/v2/images")

    def glance_show(self, req, iid):
        return jresp(200, public(self.image_or_404(req, iid)))

    def glance_create(self, req):
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        for key in body:
            if key in GLANCE_READONLY:
                raise ApiError(403, f"Attribute '{key}' is read-only.")
        for field, allowed in (("container_format", GLANCE_CONTAINER_FORMATS), ("disk_format", GLANCE_DISK_FORMATS)):
            if body.get(field) is not None and body[field] not in allowed:
                raise ApiError(400, f"Provided object does not match schema 'image': {body[field]!r} is not one of "
                                    f"{[None] + allowed}\n\nFailed validating 'enum' in "
                                    f"schema['properties']['{field}']")
        if body.get("visibility") not in (None, "public", "private", "shared", "community"):
            raise ApiError(400, f"Provided object does not match schema 'image': {body['visibility']!r} is not "
                                "one of ['community', 'public', 'private', 'shared']")
        if body.get("id") is not None and body["id"] in self.c["images"]:
            raise ApiError(409, f"Image with identifier {body['id']} already exists!")
        fields = {"disk_format": None, "container_format": None, **body, "status": "queued",
                  "owner": body.get("owner") or req.token["project_id"]}
        rec = self.new("images", fields)
        return Resp(201, jdump(public(rec)), headers={
            "Location": f"{self.base}/image/v2/images/{rec['id']}",
            "OpenStack-Image-Import-Methods": "glance-direct,web-download,copy-image",
            "OpenStack-Image-Store-Ids": "file"})

    def glance_patch(self, req, iid):
        rec = self.image_or_404(req, iid)
        ops = req.json()
        if not isinstance(ops, list):
            raise ApiError(400, "Request body must be a JSON array of operation objects.")
        for op in ops:
            field = str(op.get("path", "")).lstrip("/") if isinstance(op, dict) else ""
            if not field or op.get("op") not in ("add", "replace", "remove"):
                raise ApiError(400, f"Unable to apply patch operation {op!r}.")
            if field in GLANCE_READONLY or field == "id":
                raise ApiError(403, f"Attribute '{field}' is read-only.")
            if op["op"] == "remove":
                rec.pop(field, None)
            else:
                rec[field] = op.get("value")
        rec["updated_at"] = ts(time.time())
        return jresp(200, public(rec))

    def glance_delete(self, req, iid):
        rec = self.image_or_404(req, iid)
        if rec["protected"]:
            raise ApiError(403, f"Image {iid} is protected and cannot be deleted.")
        self.remove("images", iid)
        return Resp(204, ctype="text/html; charset=UTF-8")

    def glance_upload(self, req, iid):
        rec = self.image_or_404(req, iid)
        if rec["status"] != "queued":
            raise ApiError(409, f"Image status transition from {rec['status']} to saving is not allowed")
        missing = [f for f in ("container_format", "disk_format") if rec.get(f) is None]
        if missing:
            raise ApiError(400, f"Properties {', '.join(missing)} must be set prior to saving data.")
        self.store_image_data(rec, req.body)
        return Resp(204, ctype="text/html; charset=UTF-8")

    def glance_download(self, req, iid):
        rec = self.image_or_404(req, iid)
        data = self.blobs.get(iid)
        if data is None:
            return Resp(204, ctype="text/html; charset=UTF-8")
        headers = {"Content-MD5": rec["checksum"]}
        # Misbehaviour a test asked for (off unless set: see the "_download" knob in the docstring).
        knob = rec.get("_download") or {}
        if knob.get("short"):
            data = data[:-int(knob["short"])]
        data += (knob.get("extra") or "").encode()
        if knob.get("corrupt") and data:
            flipped = bytearray(data)
            flipped[len(flipped) // 2] ^= 0xFF
            data = bytes(flipped)
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", req.headers.get("Range", "").strip())
        if not m or m.groups() == ("", "") or knob.get("ignore_range"):
            resp = Resp(200, data, "application/octet-stream", headers)
            resp.stall_after = knob.get("stall_after")
            return resp
        first, last = m.groups()
        start, end = (len(data) - int(last), len(data) - 1) if first == "" else \
            (int(first), min(int(last), len(data) - 1) if last else len(data) - 1)
        if start < 0 or start >= len(data) or start > end:
            ctype, body = error_body("image", 416, "Requested range not satisfiable")
            return Resp(416, body, ctype, {"Content-Range": f"bytes */{len(data)}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        if knob.get("content_range"):
            headers["Content-Range"] = knob["content_range"]
        resp = Resp(206, data[start:end + 1], "application/octet-stream", headers)
        resp.stall_after = knob.get("stall_after")
        return resp

    # -------------------------------------------------------------------------------------- cinder
    def check_project(self, req, project):
        if project != req.token["project_id"]:
            raise ApiError(400, "Malformed request url")

    def cinder_or_404(self, req, project, coll, key):
        self.check_project(req, project)
        rec = self.find(req, coll, key)
        if rec is None:
            raise ApiError(404, f"{coll[:-1].capitalize()} {key} could not be found.")
        return rec

    def cinder_list(self, req, project, coll, detail):
        self.check_project(req, project)
        return self.listing(req, coll, "cinder", f"{self.base}/volume/v3/{project}/{coll}{detail or ''}",
                            public if detail else self.brief if coll == "volumes" else
                            (lambda r: {k: v for k, v in public(r).items() if not k.startswith("os-extended")}))

    def cinder_show(self, req, project, coll, key):
        return jresp(200, {coll[:-1]: public(self.cinder_or_404(req, project, coll, key))})

    def cinder_update(self, req, project, coll, key):
        rec = self.cinder_or_404(req, project, coll, key)
        wrap = coll[:-1]
        fields = req.wrapped(wrap, f"Missing required element '{wrap}' in request body.")
        extra = sorted(set(fields) - {"name", "description", "metadata", "display_name", "display_description"})
        if extra or not fields:
            raise nova_invalid(wrap, fields, "Additional properties are not allowed "
                                             f"({', '.join(repr(k) for k in extra)} was unexpected)"
                               if extra else "{} does not have enough properties")
        for field in ("name", "description"):
            value = fields.get(field, fields.get("display_" + field, rec[field]))
            if value is not None and (not isinstance(value, str) or len(value) > 255):
                raise nova_invalid(field, value, f"{value!r} is not of type 'string' of at most 255 characters")
            rec[field] = value
        if isinstance(fields.get("metadata"), dict):
            rec["metadata"] = dict(fields["metadata"])
        rec["updated_at"] = ts(time.time(), "us")
        return jresp(200, {wrap: public(rec)})

    def cinder_create(self, req, project):
        self.check_project(req, project)
        v = req.wrapped("volume", "Missing required element 'volume' in request body.")
        size = v.get("size")
        if size is None and not v.get("snapshot_id") and not v.get("source_volid"):
            raise nova_invalid("volume", v, "'size' is a required property")
        if size is not None and (not re.fullmatch(r"[0-9]+", str(size)) or isinstance(size, bool)):
            raise nova_invalid("size", size, f"{size!r} does not match '^[0-9]+$'")
        if size is not None and int(size) < 1:
            raise nova_invalid("size", size, f"{size} is less than the minimum of 1")
        image = v.get("imageRef")
        if image is not None and self.find(req, "images", str(image)) is None:
            raise ApiError(400, "Invalid image identifier or unable to access requested image.")
        vtype = v.get("volume_type")
        if vtype is not None and vtype not in VOLUME_TYPES:
            raise ApiError(404, f"Volume type with name {vtype} could not be found.")
        source = None
        if v.get("snapshot_id"):
            source = self.cinder_or_404(req, project, "snapshots", v["snapshot_id"])
        size = int(size) if size is not None else source["size"] if source else 1
        self.check_quota(req, "volumes")
        rec = self.new("volumes", {"size": size, "name": v.get("name"), "description": v.get("description"),
                                   "metadata": v.get("metadata") or {}, "status": "creating",
                                   "volume_type": vtype or "__DEFAULT__", "bootable": str(bool(image)).lower(),
                                   "snapshot_id": v.get("snapshot_id"),
                                   "os-vol-tenant-attr:tenant_id": project, "user_id": req.token["user_id"],
                                   "_ready": {"status": "available"}})
        self.later(self.build_s, "volumes", rec["id"], "ready")
        return jresp(202, {"volume": public(rec)})

    def cinder_delete(self, req, project, vid):
        rec = self.cinder_or_404(req, project, "volumes", vid)
        if rec["status"] not in ("available", "error", "error_restoring", "error_extending", "error_managing") \
                or any(snap["volume_id"] == vid for snap in self.c["snapshots"].values()):
            raise ApiError(400, "Invalid volume: Volume status must be available or error or error_restoring "
                                "or error_extending or error_managing and must not be migrating, attached, "
                                "belong to a group, have snapshots, awaiting a transfer, or be disassociated "
                                "from snapshots after volume transfer.")
        rec.pop("_ready", None)
        rec["status"] = "deleting"
        self.later(self.delete_s, "volumes", vid, "gone")
        return Resp(202)

    def cinder_metadata(self, req, project, vid, key=None):
        return self.metadata(req, self.cinder_or_404(req, project, "volumes", vid), key, "volume")

    def cinder_create_snapshot(self, req, project):
        self.check_project(req, project)
        snap = req.wrapped("snapshot", "Missing required element 'snapshot' in request body.")
        if not isinstance(snap.get("volume_id"), str):
            raise nova_invalid("snapshot", snap, "'volume_id' is a required property")
        vol = self.cinder_or_404(req, project, "volumes", snap["volume_id"])
        force = str(snap.get("force", False)).lower() in ("true", "1", "yes", "on")
        if vol["status"] != "available" and not (force and vol["status"] == "in-use"):
            raise ApiError(400, f"Invalid volume: Volume {vol['id']} status must be available, but current status "
                                f"is: {vol['status']}.")
        self.check_quota(req, "snapshots")
        rec = self.new("snapshots", {"volume": vol["id"], "name": snap.get("name"),
                                     "description": snap.get("description"), "metadata": snap.get("metadata") or {},
                                     "status": "creating", "os-extended-snapshot-attributes:progress": "0%",
                                     "_ready": {"status": "available",
                                                "os-extended-snapshot-attributes:progress": "100%"}})
        self.later(self.build_s, "snapshots", rec["id"], "ready")
        return jresp(202, {"snapshot": public(rec)})

    def cinder_delete_snapshot(self, req, project, sid):
        rec = self.cinder_or_404(req, project, "snapshots", sid)
        if rec["status"] not in ("available", "error", "error_deleting"):
            raise ApiError(400, "Invalid snapshot: Volume Snapshot status must be available or error.")
        rec.pop("_ready", None)
        rec["status"] = "deleting"
        self.later(self.delete_s, "snapshots", sid, "gone")
        return Resp(202)

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

    # ------------------------------------------------------------------------------ control (/_fake)
    def control(self, method, path, query, body):
        self.tick()
        op = path[len("/_fake/"):].strip("/")
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return jresp(400, {"error": "body is not JSON"})
        try:
            return self._control(method, op, urllib.parse.parse_qs(query), data)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            return jresp(400, {"error": f"{type(e).__name__}: {e}"})

    def _control(self, method, op, args, data):
        for svc in self.services:
            resp = svc.control(method, op, args, data) if hasattr(svc, "control") else None
            if resp is not None:
                return resp
        if (method, op) == ("GET", "ping"):
            return jresp(200, {"ok": True})
        if (method, op) == ("GET", "requests"):
            want = {k: v[-1] for k, v in args.items()}
            return jresp(200, [r for r in self.log
                               if want.get("service") in (None, r["service"])
                               and want.get("method") in (None, r["method"])
                               and r["path"].startswith(want.get("path_prefix", ""))])
        if (method, op) == ("DELETE", "requests"):
            self.log = []
            return Resp(204)
        if op == "faults":
            if method == "POST":
                for f in data if isinstance(data, list) else [data]:
                    if int(f.get("count", 1)) == 0:
                        continue
                    after = f.get("drop_after_bytes", f.get("after_bytes"))
                    self.faults.append({"method": f.get("method"), "path": f.get("path", ""),
                                        "status": f.get("status"), "count": int(f.get("count", 1)),
                                        "delay_ms": f.get("delay_ms", 0), "body": f.get("body"),
                                        "drop": bool(f.get("drop")) or f.get("drop_after_bytes") is not None,
                                        "after_bytes": None if after is None else int(after),
                                        "corrupt": bool(f.get("corrupt")),
                                        "rate_bps": f.get("rate_bps"), "read_bps": f.get("read_bps")})
                return jresp(201, self.faults)
            if method == "DELETE":
                self.faults = []
                return Resp(204)
            return jresp(200, self.faults)
        if op == "quota":
            if method == "POST":
                self.quotas.update(parse_quotas(data or {}))
            return jresp(200, {coll: self.quotas.get(coll) for coll in QUOTA_COLLECTIONS})
        if (method, op) == ("POST", "expire_tokens"):
            expired = len(self.tokens)
            self.tokens.clear()
            return jresp(200, {"expired": expired})
        if (method, op) == ("POST", "seed"):
            data = {k.replace("-", "_"): v for k, v in data.items()}
            if set(data) - set(COLLECTIONS):
                raise ValueError(f"unknown collections {sorted(set(data) - set(COLLECTIONS))}")
            # networks before subnets before servers/volumes, so later items can refer to earlier ones
            order = ["flavors", "keypairs", "security_groups", "security_group_rules", "networks", "subnets", "routers", "floating_ips",
                     "images", "servers", "ports", "volumes", "snapshots", "server_groups"]
            created = {coll: [public(self.new(coll, p)) for p in
                              (data[coll] if isinstance(data[coll], list) else [data[coll]])]
                       for coll in order if coll in data}
            return jresp(201, created)
        if (method, op) == ("POST", "delete"):
            rec = self.remove(data["collection"].replace("-", "_"), data["id"])
            return jresp(200, {"deleted": public(rec)}) if rec else jresp(404, {"error": "no such object"})
        if (method, op) == ("POST", "update"):
            coll = data["collection"].replace("-", "_")
            rec = self.c[coll].get(data["id"])
            if rec is None:
                return jresp(404, {"error": "no such object"})
            fields = dict(data.get("fields") or {})
            if coll == "servers" and "status" in fields:
                rec.pop("_ready", None)
                vm_state, task_state, power_state = SERVER_STATES.get(fields["status"], ("active", None, 1))
                fields = {"OS-EXT-STS:vm_state": vm_state, "OS-EXT-STS:task_state": task_state,
                          "OS-EXT-STS:power_state": power_state, **fields}
                if fields["status"] == "ERROR":
                    fields.setdefault("fault", {"code": 500, "created": ts(time.time()), "message": NO_VALID_HOST})
                else:
                    rec.pop("fault", None)
            elif "status" in fields:
                rec.pop("_ready", None)
            stamp = {"servers": "updated", "volumes": "updated_at"}.get(coll, "updated_at")
            if stamp in rec and stamp not in fields:
                fields[stamp] = ts(time.time(), "us" if coll == "volumes" else "z")
            if coll == "images" and "data" in fields:
                raw = fields.pop("data")
                self.store_image_data(rec, raw.encode() if isinstance(raw, str) else bytes(raw))
            rec.update(fields)
            return jresp(200, public(rec))
        if (method, op) == ("POST", "reset"):
            self.reset()
            return jresp(200, {"ok": True})
        if (method, op) == ("GET", "state"):
            state = {coll: [public(r) for r in self.c[coll].values()] for coll in COLLECTIONS}
            for img in state["images"]:
                blob = self.blobs.get(img["id"])
                img["_data_md5"] = hashlib.md5(blob).hexdigest() if blob is not None else None
            state.update(tokens=len(self.tokens), faults=self.faults, requests=len(self.log))
            return jresp(200, state)
        return jresp(404, {"error": f"no control endpoint {method} /_fake/{op}"})


# ------------------------------------------------------------------------------------------- HTTP
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, like the real services behind Apache/uwsgi
    server_version = "fake-openstack"
    sys_version = ""

    def dispatch(self):
        cloud = self.server.cloud
        self.read_bps = None                  # a fault's, for this request only (keep-alive)
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path, split.query
        if path.startswith("/_fake/"):
            body = self.read_body()
            with cloud.lock:
                resp = cloud.control(self.command, path, query, body)
            return self.reply(resp, None)
        first = path.split("/")[1] if path.count("/") else ""
        service = first if first in SERVICES else None
        token_present = "X-Auth-Token" in self.headers
        with cloud.lock:
            fault = cloud.take_fault(self.command, path)
        cut = (fault or {}).get("after_bytes") if fault and (fault["drop"] or fault["status"]) else None
        self.read_bps = (fault or {}).get("read_bps")
        try:
            body = self.read_body(cut)
        except EOFError as e:             # the client went away mid-body: no answer, nothing changes
            req = Req(self.command, path, query, self.headers, bytes(e.args[0]), service)
            with cloud.lock:
                cloud.record(req, None, token_present)
            self.close_connection = True
            return None
        req = Req(self.command, path, query, self.headers, body, service)
        delay = cloud.latency + (fault or {}).get("delay_ms", 0) / 1000.0
        if delay:
            time.sleep(delay)                 # outside the lock: other requests go on meanwhile
        if fault and fault["drop"]:
            with cloud.lock:
                cloud.record(req, None, token_present)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        if cut is not None:                   # answered before the whole body was read
            self.close_connection = True
        if fault and fault.get("corrupt") and req.body:
            flipped = bytearray(req.body)
            flipped[len(flipped) // 2] ^= 0xFF
            req.body = bytes(flipped)
        with cloud.lock:
            try:
                resp = cloud.fault_response(fault, service) if fault and fault["status"] else cloud.handle(req)
            except Exception:                 # a bug in the fake: answer 500, keep serving
                traceback.print_exc()
                ctype, data = error_body(service, 500, "Unexpected error in fake-openstack (see its log).")
                resp = Resp(500, data, ctype)
            cloud.record(req, resp.status, token_present)
        return self.reply(resp, service, (fault or {}).get("rate_bps"))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = dispatch

    def read_exactly(self, n, got):
        bps = getattr(self, "read_bps", None)
        while bps and n > 0:                 # a slow link: 1/20 s worth at a time
            step = min(n, max(1, int(bps) // 20))
            data = self.rfile.read(step)
            got += data
            if len(data) < step:
                raise EOFError(got)
            n -= step
            time.sleep(step / bps)
        data = self.rfile.read(n)
        got += data
        if len(data) < n:
            raise EOFError(got)

    def read_body(self, limit=None):
        """The request body (chunked or Content-Length), or its first `limit` bytes.  EOFError(bytes so
        far) when the client closes the connection before the end."""
        got = bytearray()
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while limit is None or len(got) < limit:
                line = self.rfile.readline()
                if not line.endswith(b"\n"):
                    raise EOFError(got)
                try:
                    size = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    raise EOFError(got) from None
                if size == 0:
                    while True:                      # trailers, up to the blank line
                        line = self.rfile.readline()
                        if not line.endswith(b"\n"):
                            raise EOFError(got)
                        if not line.strip():
                            return bytes(got)
                want = size if limit is None else min(size, limit - len(got))
                self.read_exactly(want, got)
                if want < size:
                    break
                if self.rfile.readline().strip():
                    raise EOFError(got)
            return bytes(got)
        length = int(self.headers.get("Content-Length") or 0)
        if limit is not None:
            length = min(length, limit)
        while len(got) < length:
            before = len(got)
            try:
                self.read_exactly(min(1 << 20, length - len(got)), got)
            except EOFError:
                raise EOFError(got) from None
            if len(got) == before:
                raise EOFError(got)
        return bytes(got)

    def reply(self, resp, service, rate_bps=None):
        request_id = f"req-{uuid.uuid4()}"
        self.send_response(resp.status)
        headers = {"Content-Type": resp.ctype, "Content-Length": str(len(resp.body)),
                   "X-Openstack-Request-Id": request_id}
        if service in ("compute", "volume"):
            headers["X-Compute-Request-Id"] = request_id
        if service == "compute":
            headers.update({"OpenStack-API-Version": "compute 2.1", "X-OpenStack-Nova-API-Version": "2.1",
                            "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"})
        elif service == "volume":
            headers.update({"OpenStack-API-Version": "volume 3.0", "Vary": "OpenStack-API-Version"})
        elif service == "identity":
            headers["Vary"] = "X-Auth-Token"
        headers.update(resp.headers)
        for key, value in headers.items():
            if value is not None:
                self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            if resp.stall_after is not None:          # a body that stops coming, connection open
                self.wfile.write(resp.body[:int(resp.stall_after)])
                self.wfile.flush()
                time.sleep(60)
                self.close_connection = True
                return
            if not rate_bps:
                self.wfile.write(resp.body)
                return
            step = max(1, int(rate_bps) // 20)         # a slow link that keeps delivering
            for i in range(0, len(resp.body), step):
                self.wfile.write(resp.body[i:i + step])
                self.wfile.flush()
                time.sleep(0.05)

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write("fake-openstack: %s\n" % (fmt % args))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128          # many parallel clients (cloudfs benchmarks) must not get refused


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake OpenStack (Zed) API server for cloudfs tests.")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    ap.add_argument("--port-file", help="write the chosen port to this file once listening")
    ap.add_argument("--token-ttl", type=float, default=3600, help="token lifetime in seconds")
    ap.add_argument("--latency-ms", type=float, default=0, help="sleep this long before every response")
    ap.add_argument("--page-max", type=int, default=1000, help="server-side maximum page size")
    ap.add_argument("--seed", choices=("default", "empty"), default="default", help="startup data set")
    ap.add_argument("--servers", type=int, default=0, help="also create N ACTIVE servers bulk-0..bulk-<N-1>")
    ap.add_argument("--build-seconds", type=float, default=1.0, help="BUILD/creating -> ACTIVE/available delay")
    ap.add_argument("--delete-seconds", type=float, default=0.5, help="delay before a deleted object is gone")
    ap.add_argument("--quota", default="", metavar="COLL=N,...",
                    help="per-project limits, e.g. servers=5,volumes=3,networks=2 (collections: "
                         + ", ".join(QUOTA_COLLECTIONS) + ")")
    ap.add_argument("--quiet", action="store_true", help="do not log each request on stderr")
    args = ap.parse_args(argv)

    server = Server(("127.0.0.1", args.port), Handler)
    server.quiet = args.quiet
    port = server.server_address[1]
    # RegionTwo's endpoints: a port bound but never listening, so connections are refused.
    dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    dead.bind(("127.0.0.1", 0))
    server.cloud = Cloud(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{dead.getsockname()[1]}", args)
    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"fake-openstack listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        dead.close()


if __name__ == "__main__":
    main()
