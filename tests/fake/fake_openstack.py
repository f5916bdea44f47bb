#!/usr/bin/python3
"""Fake OpenStack (Zed) cloud for the cloudfs tests: one stdlib HTTP server, every service.

URL layout -- one port P, services told apart by path prefix, like devstack:
  identity  http://127.0.0.1:P/identity/v3          POST /auth/tokens (password | token |
                                                     application_credential), GET/DELETE /auth/tokens
  compute   http://127.0.0.1:P/compute/v2.1         /servers[/detail], /servers/{id}[/action],
                                                     /flavors[/detail], /flavors/{id}, /os-keypairs[/{name}]
  image     http://127.0.0.1:P/image                /v2/images[/{id}[/file]]  (list `next` is relative)
  volume    http://127.0.0.1:P/volume/v3/<project>  /volumes[/detail], /volumes/{id}
                                                     (catalog types `volumev3` AND `block-storage`)
  network   http://127.0.0.1:P/network              /v2.0/{networks,subnets,ports,security-groups,routers}
The catalog also lists every service in RegionTwo, at a port that refuses connections, so a client
that ignores OS_REGION_NAME fails.  Users: demo/demo (project demo), admin/admin (project admin),
domain Default (id default); application credential appcred-id / appcred-secret (demo).

Bodies, error shapes, headers and pagination copy the captures in shared/fixtures/openstack-zed:
Nova/Cinder {"itemNotFound": {...}}, Neutron {"NeutronError": {...}}, Keystone {"error": {...}},
Glance errors as HTML pages; Nova `servers_links` next when a page is full, Cinder `volumes_links`
only when more remain, Glance relative `next`, Neutron `next` + `previous` (page_reverse=True).
Servers and volumes created through the API go BUILD/creating -> ACTIVE/available after
--build-seconds, and disappear --delete-seconds after DELETE (computed lazily on each request).

Test-control API (no token needed, never logged, never faulted):
  GET    /_fake/ping                 -> {"ok": true}
  GET    /_fake/requests             log [{"method","path","query","status","service","token"}]
                                     (optional ?service=&method=&path_prefix=)
  DELETE /_fake/requests             clear the log
  POST   /_fake/faults               {"method","path" (prefix, no query),"status","count" (-1 =
                                     forever, default 1),"delay_ms","body","drop"} or a list of them
  GET | DELETE /_fake/faults         show | clear pending faults
  POST   /_fake/expire_tokens        every token issued so far stops working
  POST   /_fake/seed                 {"servers": [{partial}], "images": [...], "volumes", "networks",
                                     "subnets", "ports", "security_groups", "routers", "keypairs"}
                                     -> the created objects, every other field filled in
  POST   /_fake/delete               {"collection", "id"}             remove one out of band
  POST   /_fake/update               {"collection", "id", "fields"}   change fields out of band
  POST   /_fake/reset                back to the startup data (same ids), log and faults cleared
  GET    /_fake/state                every collection, for debugging

Run standalone:  /usr/bin/python3 tests/fake/fake_openstack.py --port 5000
"""

import argparse
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
DOMAIN = {"id": "default", "name": "Default"}
PROJECTS = {DEMO_PROJECT: "demo", ADMIN_PROJECT: "admin"}
ROLE_IDS = {"reader": "1bea47271d5d475d95bf664ab062f0f6", "member": "36e04fc25b7442ed8b3a3408b6c23a9d",
            "admin": "c0e2cb2bb8bb4d2f9a3f63e4b1f1a0d7"}
USERS = {DEMO_USER: {"name": "demo", "password": "demo", "roles": {DEMO_PROJECT: ["reader", "member"]}},
         ADMIN_USER: {"name": "admin", "password": "admin",
                      "roles": {ADMIN_PROJECT: ["admin", "member", "reader"]}}}
APP_CREDS = {"appcred-id": {"name": "appcred", "secret": "appcred-secret", "user_id": DEMO_USER,
                            "project_id": DEMO_PROJECT}}
CATALOG = [("identity", "keystone", "/identity/v3"), ("compute", "nova", "/compute/v2.1"),
           ("image", "glance", "/image"), ("volumev3", "cinderv3", "/volume/v3/{project}"),
           ("block-storage", "cinder", "/volume/v3/{project}"), ("network", "neutron", "/network")]
SERVICES = ("identity", "compute", "image", "volume", "network")
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
    "networks": ("id", lambda r: r["id"], False),
    "subnets": ("id", lambda r: r["id"], False),
    "ports": ("id", lambda r: r["id"], False),
    "security_groups": ("id", lambda r: r["id"], False),
    "routers": ("id", lambda r: r["id"], False),
}
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
                 "SOFT_DELETED": ("soft-delete", None, 4), "DELETED": ("deleted", None, 0)}
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."
NEUTRON_RESOURCES = {"networks": "Network", "subnets": "Subnet", "ports": "Port", "routers": "Router",
                     "security_groups": "SecurityGroup"}
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

    def __init__(self, status, message, ntype=None, headers=None):
        super().__init__(message)
        self.status, self.message, self.ntype, self.headers = status, message, ntype, headers or {}


def error_body(service, status, message, ntype=None):
    """-> (content type, body) for an error, shaped like the real service's."""
    title = phrase(status)
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
    return ctype, jdump({NOVA_FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}})


class Resp:
    def __init__(self, status, body=b"", ctype="application/json", headers=None):
        self.status, self.body, self.ctype, self.headers = status, body, ctype, headers or {}


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
        self.pending = []                              # heap of (when, seq, collection, key, "ready"|"gone")
        self.routes = self._routes()
        self.seed_startup(opts.seed, opts.servers)
        self.initial = (json.dumps(self.c), dict(self.blobs), dict(self.counters))

    def reset(self):
        data, blobs, counters = self.initial
        self.c, self.blobs, self.counters = json.loads(data), dict(blobs), dict(counters)
        self.pending, self.log, self.faults = [], [], []

    # ----------------------------------------------------------------------- collection primitives
    def add(self, coll, rec):
        self.c[coll][rec[COLLECTIONS[coll][0]]] = rec
        return rec

    def new(self, coll, partial):
        """Create a record from a partial dict, every other field filled in realistically."""
        return self.add(coll, getattr(self, "build_" + coll)(dict(partial or {})))

    def remove(self, coll, key):
        rec = self.c[coll].pop(key, None)
        if rec is None:
            return None
        if coll == "servers":
            for port in [p for p in self.c["ports"].values() if p["device_id"] == key]:
                self.remove("ports", port["id"])
            for vol in self.c["volumes"].values():
                if any(a["server_id"] == key for a in vol["attachments"]):
                    vol.update(status="available", attachments=[])
        elif coll == "subnets" and rec["network_id"] in self.c["networks"]:
            self.c["networks"][rec["network_id"]]["subnets"].remove(key)
        elif coll == "images":
            self.blobs.pop(key, None)
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
            "images": lambda r: r["owner"] == proj or r["visibility"] in ("public", "community"),
            "networks": lambda r: r["project_id"] == proj or r["shared"] or r["router:external"],
            "subnets": lambda r: r["project_id"] == proj or self.c["networks"].get(
                r["network_id"], {}).get("shared", False),
            "keypairs": lambda r: r["user_id"] == user,
            "flavors": lambda r: True,
        }.get(coll, lambda r: r["project_id"] == proj)
        return rule

    def listable(self, coll, token):
        _, sort_key, newest_first = COLLECTIONS[coll]
        return sorted(filter(self.visible(coll, token), self.c[coll].values()), key=sort_key,
                      reverse=newest_first)

    def find(self, req, coll, key):
        rec = self.c[coll].get(key)
        return rec if rec is not None and self.visible(coll, req.token)(rec) else None

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
               "cidr": str(cidr), "allocation_pools": [{"start": str(cidr.network_address + 2),
                                                         "end": str(cidr.broadcast_address - 1)}],
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
               "binding:vnic_type": "normal", "port_security_enabled": True, "qos_policy_id": None,
               "qos_network_policy_id": None, **common, "revision_number": 2}
        rec.update(p)
        return rec

    def build_security_groups(self, p):
        t = p.pop("_t", None) or time.time()
        common = self._neutron_common(p, t)
        sid = p.pop("id", None) or str(uuid.uuid4())
        rules = [{"id": str(uuid.uuid4()), "tenant_id": common["tenant_id"], "security_group_id": sid,
                  "ethertype": eth, "direction": direction, "protocol": None, "port_range_min": None,
                  "port_range_max": None, "remote_ip_prefix": None, "remote_address_group_id": None,
                  "normalized_cidr": None, "remote_group_id": sid if direction == "ingress" else None,
                  "description": "", "tags": [], "created_at": ts(t), "updated_at": ts(t),
                  "revision_number": 0, "project_id": common["project_id"]}
                 for direction in ("egress", "ingress") for eth in ("IPv4", "IPv6")]
        rec = {"id": sid, "name": "default", "tenant_id": common["tenant_id"],
               "description": "Default security group", "security_group_rules": rules, "stateful": True,
               **{k: v for k, v in common.items() if k != "description"}}
        rec.update(p)
        return rec

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

    def build_keypairs(self, p):
        t = p.pop("_t", None) or time.time()
        blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + self.rng.randbytes(32)
        key = p.pop("public_key", None) or f"ssh-ed25519 {b64encode(blob).decode()} Generated-by-Nova"
        try:
            digest = hashlib.md5(b64decode(key.split()[1])).hexdigest()
        except (IndexError, ValueError):
            digest = hashlib.md5(key.encode()).hexdigest()
        self.counters["keypair"] += 1
        rec = {"name": p.pop("name", "key"), "public_key": key,
               "fingerprint": ":".join(digest[i:i + 2] for i in range(0, 32, 2)),
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
        table = [  # (method, path regex, handler, needs token)
            ("GET", r"/", self.root, False),
            ("GET", r"/identity/?", self.ks_versions, False),
            ("GET", r"/identity/v3/?", self.ks_version, False),
            ("POST", r"/identity/v3/auth/tokens", self.ks_issue, False),
            ("GET", r"/identity/v3/auth/tokens", self.ks_validate, True),
            ("DELETE", r"/identity/v3/auth/tokens", self.ks_revoke, True),
            ("GET", r"/compute/v2\.1/?", self.nova_version, False),
            ("GET", r"/compute/v2\.1/servers(/detail)?", self.nova_list_servers, True),
            ("POST", r"/compute/v2\.1/servers", self.nova_create_server, True),
            ("GET", rf"/compute/v2\.1/servers/{name}", self.nova_show_server, True),
            ("DELETE", rf"/compute/v2\.1/servers/{name}", self.nova_delete_server, True),
            ("POST", rf"/compute/v2\.1/servers/{name}/action", self.nova_action, True),
            ("GET", r"/compute/v2\.1/flavors(/detail)?", self.nova_list_flavors, True),
            ("GET", rf"/compute/v2\.1/flavors/{name}", self.nova_show_flavor, True),
            ("GET", r"/compute/v2\.1/os-keypairs", self.nova_list_keypairs, True),
            ("GET", rf"/compute/v2\.1/os-keypairs/{name}", self.nova_show_keypair, True),
            ("GET", r"/image/v2/images", self.glance_list, True),
            ("POST", r"/image/v2/images", self.glance_create, True),
            ("GET", rf"/image/v2/images/{name}", self.glance_show, True),
            ("PATCH", rf"/image/v2/images/{name}", self.glance_patch, True),
            ("DELETE", rf"/image/v2/images/{name}", self.glance_delete, True),
            ("PUT", rf"/image/v2/images/{name}/file", self.glance_upload, True),
            ("GET", rf"/image/v2/images/{name}/file", self.glance_download, True),
            ("GET", rf"/volume/v3/{name}/volumes(/detail)?", self.cinder_list, True),
            ("POST", rf"/volume/v3/{name}/volumes", self.cinder_create, True),
            ("GET", rf"/volume/v3/{name}/volumes/{name}", self.cinder_show, True),
            ("DELETE", rf"/volume/v3/{name}/volumes/{name}", self.cinder_delete, True),
            ("GET", r"/network/v2\.0/(networks|subnets|ports|security-groups|routers)", self.neutron_list, True),
            ("GET", rf"/network/v2\.0/(networks|subnets|ports|security-groups|routers)/{name}",
             self.neutron_show, True),
            ("POST", r"/network/v2\.0/networks", self.neutron_create_network, True),
            ("DELETE", rf"/network/v2\.0/networks/{name}", self.neutron_delete_network, True),
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
            ctype, body = error_body(req.service, e.status, e.message, e.ntype)
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
                         "service": req.service, "token": token_present})

    def root(self, req):
        return jresp(200, {"fake-openstack": {name: self.base + path.format(project="<project_id>")
                                              for _, name, path in CATALOG}})

    # ------------------------------------------------------------------------------------ listings
    def listing(self, req, coll, style, href, view=public):
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
        key = coll
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

    # ---------------------------------------------------------------------------------------- nova
    def nova_version(self, req):
        return jresp(200, {"version": {"id": "v2.1", "status": "CURRENT", "version": "2.93",
                                       "min_version": "2.1", "updated": "2013-07-23T11:33:21Z",
                                       "links": [{"rel": "self", "href": f"{self.base}/compute/v2.1/"}]}})

    def brief(self, rec):
        return {"id": rec["id"], "name": rec["name"], "links": rec["links"]}

    def nova_list_servers(self, req, detail):
        return self.listing(req, "servers", "nova", f"{self.base}/compute/v2.1/servers{detail or ''}",
                            public if detail else self.brief)

    def server_or_404(self, req, sid):
        rec = self.find(req, "servers", sid)
        if rec is None:
            raise ApiError(404, f"Instance {sid} could not be found.")
        return rec

    def nova_show_server(self, req, sid):
        return jresp(200, {"server": public(self.server_or_404(req, sid))})

    def nova_delete_server(self, req, sid):
        rec = self.server_or_404(req, sid)
        if rec["OS-EXT-STS:task_state"] != "deleting":
            rec.pop("_ready", None)
            rec["OS-EXT-STS:task_state"] = "deleting"
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
        if not isinstance(name, str):
            raise nova_invalid("name", name, f"{name!r} is not of type 'string'")
        if not 1 <= len(name) <= 255 or name != name.strip():
            raise nova_invalid("name", name, f"{name!r} is not a valid name (1-255 characters, "
                                             "no leading or trailing whitespace)")
        networks = s.get("networks")
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
        if not net_ids:
            available = self.listable("networks", req.token)
            if len(available) > 1:
                raise ApiError(409, "Multiple possible networks found, use a Network ID to be more specific.")
            net_ids = [n["id"] for n in available]
        rec = self.new("servers", {"name": name, "image": image["id"], "flavor": flavor["id"],
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
        self.later(self.build_s, "servers", rec["id"], "ready")
        return jresp(202, {"server": {"id": rec["id"], "links": rec["links"], "OS-DCF:diskConfig": "MANUAL",
                                      "security_groups": rec["security_groups"],
                                      "adminPass": secrets.token_urlsafe(9)}},
                     Location=rec["links"][0]["href"])

    def nova_action(self, req, sid):
        rec = self.server_or_404(req, sid)
        body = req.json()
        if not isinstance(body, dict) or len(body) != 1:
            raise ApiError(400, "Malformed request body")
        action, args = next(iter(body.items()))
        if action != "os-getConsoleOutput":
            raise ApiError(400, f"There is no such action: {action}")
        lines = ([f"[    0.000000] Linux version 5.15.0 (fake-openstack) booting {rec['name']}"] +
                 [f"[    {i}.{i * 137 % 1000:06d}] cloud-init step {i}" for i in range(1, 18)] +
                 [f"{rec['name']} login: "])
        length = (args or {}).get("length")
        if length is not None:
            try:
                length = int(length)
            except (TypeError, ValueError):
                raise nova_invalid("length", length, f"{length!r} is not of type 'integer'") from None
            if length < -1:
                raise nova_invalid("length", length, f"{length} is less than the minimum of -1")
            lines = lines[-length:] if length > 0 else [] if length == 0 else lines
        return jresp(200, {"output": "\n".join(lines)})

    def nova_list_flavors(self, req, detail):
        return self.listing(req, "flavors", "nova", f"{self.base}/compute/v2.1/flavors{detail or ''}",
                            public if detail else self.brief)

    def nova_show_flavor(self, req, fid):
        rec = self.c["flavors"].get(fid)
        if rec is None:
            raise ApiError(404, f"Flavor {fid} could not be found.")
        return jresp(200, {"flavor": public(rec)})

    def nova_list_keypairs(self, req):   # microversion 2.1: no pagination, each item wrapped
        return jresp(200, {"keypairs": [{"keypair": {k: r[k] for k in ("name", "public_key", "fingerprint")}}
                                        for r in self.listable("keypairs", req.token)]})

    def nova_show_keypair(self, req, name):
        rec = self.find(req, "keypairs", name)
        if rec is None:
            raise ApiError(404, f"Keypair {name} not found for user {req.token['user_id']}")
        return jresp(200, {"keypair": public(rec)})

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
        self.store_image_data(rec, req.body)
        return Resp(204, ctype="text/html; charset=UTF-8")

    def glance_download(self, req, iid):
        rec = self.image_or_404(req, iid)
        data = self.blobs.get(iid)
        if data is None:
            return Resp(204, ctype="text/html; charset=UTF-8")
        headers = {"Content-MD5": rec["checksum"]}
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", req.headers.get("Range", "").strip())
        if not m or m.groups() == ("", ""):
            return Resp(200, data, "application/octet-stream", headers)
        first, last = m.groups()
        start, end = (len(data) - int(last), len(data) - 1) if first == "" else \
            (int(first), min(int(last), len(data) - 1) if last else len(data) - 1)
        if start < 0 or start >= len(data) or start > end:
            ctype, body = error_body("image", 416, "Requested range not satisfiable")
            return Resp(416, body, ctype, {"Content-Range": f"bytes */{len(data)}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return Resp(206, data[start:end + 1], "application/octet-stream", headers)

    # -------------------------------------------------------------------------------------- cinder
    def check_project(self, req, project):
        if project != req.token["project_id"]:
            raise ApiError(400, "Malformed request url")

    def volume_or_404(self, req, project, vid):
        self.check_project(req, project)
        rec = self.find(req, "volumes", vid)
        if rec is None:
            raise ApiError(404, f"Volume {vid} could not be found.")
        return rec

    def cinder_list(self, req, project, detail):
        self.check_project(req, project)
        return self.listing(req, "volumes", "cinder", f"{self.base}/volume/v3/{project}/volumes{detail or ''}",
                            public if detail else self.brief)

    def cinder_show(self, req, project, vid):
        return jresp(200, {"volume": public(self.volume_or_404(req, project, vid))})

    def cinder_create(self, req, project):
        self.check_project(req, project)
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("volume"), dict):
            raise ApiError(400, "Missing required element 'volume' in request body.")
        v = body["volume"]
        size = v.get("size")
        if size is None:
            raise nova_invalid("volume", v, "'size' is a required property")
        if not re.fullmatch(r"[0-9]+", str(size)) or isinstance(size, bool):
            raise nova_invalid("size", size, f"{size!r} does not match '^[0-9]+$'")
        if int(size) < 1:
            raise nova_invalid("size", size, f"{size} is less than the minimum of 1")
        rec = self.new("volumes", {"size": int(size), "name": v.get("name"), "description": v.get("description"),
                                   "metadata": v.get("metadata") or {}, "status": "creating",
                                   "volume_type": v.get("volume_type") or "__DEFAULT__",
                                   "os-vol-tenant-attr:tenant_id": project, "user_id": req.token["user_id"],
                                   "_ready": {"status": "available"}})
        self.later(self.build_s, "volumes", rec["id"], "ready")
        return jresp(202, {"volume": public(rec)})

    def cinder_delete(self, req, project, vid):
        rec = self.volume_or_404(req, project, vid)
        if rec["status"] not in ("available", "error", "error_restoring", "error_extending", "error_managing"):
            raise ApiError(400, "Invalid volume: Volume status must be available or error or error_restoring "
                                "or error_extending or error_managing and must not be migrating, attached, "
                                "belong to a group, have snapshots, awaiting a transfer, or be disassociated "
                                "from snapshots after volume transfer.")
        rec.pop("_ready", None)
        rec["status"] = "deleting"
        self.later(self.delete_s, "volumes", vid, "gone")
        return Resp(202)

    # ------------------------------------------------------------------------------------- neutron
    @staticmethod
    def neutron_not_found(coll, key):
        label = NEUTRON_RESOURCES[coll]
        if coll == "security_groups":
            return ApiError(404, f"Security group {key} does not exist", "SecurityGroupNotFound")
        return ApiError(404, f"{label} {key} could not be found.", f"{label}NotFound")

    def neutron_list(self, req, resource):
        return self.listing(req, resource.replace("-", "_"), "neutron", f"{self.base}/network/v2.0/{resource}")

    def neutron_show(self, req, resource, key):
        coll = resource.replace("-", "_")
        rec = self.find(req, coll, key)
        if rec is None:
            raise self.neutron_not_found(coll, key)
        return jresp(200, {coll[:-1]: public(rec)})

    def neutron_create_network(self, req):
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("network"), dict):
            raise ApiError(400, "Resource body required", "BadRequest")
        n = body["network"]
        allowed = {"name", "admin_state_up", "shared", "description", "mtu", "router:external",
                   "port_security_enabled", "availability_zone_hints", "tags", "project_id", "tenant_id"}
        unknown = sorted(set(n) - allowed)
        if unknown:
            raise ApiError(400, f"Unrecognized attribute(s) '{', '.join(unknown)}'", "HTTPBadRequest")
        fields = {k: v for k, v in n.items() if k != "tenant_id"}
        fields["project_id"] = n.get("project_id") or n.get("tenant_id") or req.token["project_id"]
        return jresp(201, {"network": public(self.new("networks", fields))})

    def neutron_delete_network(self, req, key):
        rec = self.find(req, "networks", key)
        if rec is None:
            raise self.neutron_not_found("networks", key)
        if rec["subnets"] or any(p["network_id"] == key for p in self.c["ports"].values()):
            raise ApiError(409, f"Unable to complete operation on network {key}. There are one or more ports "
                                "still in use on the network.", "NetworkInUse")
        self.remove("networks", key)
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
                    self.faults.append({"method": f.get("method"), "path": f.get("path", ""),
                                        "status": f.get("status"), "count": int(f.get("count", 1)),
                                        "delay_ms": f.get("delay_ms", 0), "body": f.get("body"),
                                        "drop": bool(f.get("drop"))})
                return jresp(201, self.faults)
            if method == "DELETE":
                self.faults = []
                return Resp(204)
            return jresp(200, self.faults)
        if (method, op) == ("POST", "expire_tokens"):
            expired = len(self.tokens)
            self.tokens.clear()
            return jresp(200, {"expired": expired})
        if (method, op) == ("POST", "seed"):
            data = {k.replace("-", "_"): v for k, v in data.items()}
            if set(data) - set(COLLECTIONS):
                raise ValueError(f"unknown collections {sorted(set(data) - set(COLLECTIONS))}")
            # networks before subnets before servers/volumes, so later items can refer to earlier ones
            order = ["flavors", "keypairs", "security_groups", "networks", "subnets", "routers", "images",
                     "servers", "ports", "volumes"]
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
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path, split.query
        body = self.read_body()
        if path.startswith("/_fake/"):
            with cloud.lock:
                resp = cloud.control(self.command, path, query, body)
            return self.reply(resp, None)
        first = path.split("/")[1] if path.count("/") else ""
        service = first if first in SERVICES else None
        req = Req(self.command, path, query, self.headers, body, service)
        token_present = "X-Auth-Token" in self.headers
        with cloud.lock:
            fault = cloud.take_fault(self.command, path)
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
        with cloud.lock:
            try:
                resp = cloud.fault_response(fault, service) if fault and fault["status"] else cloud.handle(req)
            except Exception:                 # a bug in the fake: answer 500, keep serving
                traceback.print_exc()
                ctype, data = error_body(service, 500, "Unexpected error in fake-openstack (see its log).")
                resp = Resp(500, data, ctype)
            cloud.record(req, resp.status, token_present)
        return self.reply(resp, service)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = dispatch

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():    # trailers, up to the blank line
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, resp, service):
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
            self.wfile.write(resp.body)

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
