"""Nova (compute v2.1) for the fake cloud, loaded by fake_openstack.py (see its "service modules"
comment): servers, flavors, keypairs, server groups, compute quotas.

  compute   http://127.0.0.1:P/compute/v2.1     /servers[/detail], /servers/{id} (GET PUT DELETE),
                                                 /servers/{id}/action (console, reboot, os-stop, os-start,
                                                 pause, unpause, suspend, resume, lock, unlock, shelve,
                                                 unshelve), /servers/{id}/metadata[/{key}],
                                                 /servers/{id}/os-volume_attachments[/{volume}],
                                                 /flavors[/detail], /flavors/{id} (POST/DELETE: admin),
                                                 /os-keypairs[/{name}] (GET POST DELETE),
                                                 /os-server-groups[/{id}] (GET),
                                                 /os-quota-sets/{p}[/detail] (GET PUT: admin)
Servers go BUILD -> ACTIVE after --build-seconds; actions pass through their transitional state
(REBOOT, powering-off, ...) for as long.  Errors: {"itemNotFound": {"code", "message"}}; lists carry
`servers_links` next when a page is full.
"""

import base64
import hashlib
import ipaddress
import re
import secrets
import time
import uuid
from base64 import b64decode, b64encode

from fake_common import ApiError, Resp, ServiceBase, fault_body, jresp, nova_invalid, public, ts
from svc_keystone import DEMO_PROJECT, DEMO_USER

SERVICE = "compute"
ORDER = 1
CATALOG = [("compute", "nova", "/compute/v2.1")]
# collection -> (key field, sort key, newest first): by created_at desc then id desc; flavors by
# flavorid (a string, as in nova-flavors-detail.json).
COLLECTIONS = {
    "servers": ("id", lambda r: (r["created"], r["id"]), True),
    "flavors": ("id", lambda r: r["id"], False),
    "keypairs": ("name", lambda r: r["id"], False),
    "server_groups": ("id", lambda r: r["id"], False),
}
# who owns a record, for quotas: (field, "project" | "user")
OWNER = {"servers": ("tenant_id", "project"), "keypairs": ("user_id", "user"), "flavors": (None, None)}
QUOTA_COLLECTIONS = ("servers", "keypairs")          # --quota and /_fake/quota
QUOTA_OF_COLLECTION = {"servers": ("compute", "instances")}
# Zed's default quotas (Nova at microversion 2.1)
QUOTA_DEFAULTS = {
    "compute": {"cores": 20, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240,
                "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10, "key_pairs": 100,
                "metadata_items": 128, "ram": 51200, "security_group_rules": -1, "security_groups": -1,
                "server_group_members": 10, "server_groups": 10},
}
STAMPS = {"servers": ("updated", "z")}             # /_fake/update: the field stamped, and its style
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
ATTACHABLE_VM_STATES = {"active", "paused", "stopped", "soft-delete", "shelved", "shelved_offloaded", "resized"}
SSH_KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                 "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")


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


def error_body(status, message, title, ntype=None, extra=None):
    return fault_body(status, message, extra, "application/json; charset=UTF-8")


def response_headers(request_id):
    return {"X-Compute-Request-Id": request_id, "OpenStack-API-Version": "compute 2.1",
            "X-OpenStack-Nova-API-Version": "2.1", "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"}


class Service(ServiceBase):
    def routes(self):
        name = r"([^/]+)"
        return [  # (method, path regex, handler, needs token)
            ("GET", rf"/compute/v2\.1/os-quota-sets/{name}(/detail)?", self.nova_quotas, True),
            ("PUT", rf"/compute/v2\.1/os-quota-sets/{name}", self.nova_set_quotas, True),
            ("GET", r"/compute/v2\.1/?", self.nova_version, False),
            ("GET", r"/compute/v2\.1/servers(/detail)?", self.nova_list_servers, True),
            ("POST", r"/compute/v2\.1/servers", self.nova_create_server, True),
            ("GET", rf"/compute/v2\.1/servers/{name}", self.nova_show_server, True),
            ("PUT", rf"/compute/v2\.1/servers/{name}", self.nova_update_server, True),
            ("DELETE", rf"/compute/v2\.1/servers/{name}", self.nova_delete_server, True),
            ("POST", rf"/compute/v2\.1/servers/{name}/action", self.nova_action, True),
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
        ]

    # ------------------------------------------------------------------------------------ builders
    def links(self, coll, key):
        return [{"rel": "self", "href": f"{self.base}/compute/v2.1/{coll}/{key}"},
                {"rel": "bookmark", "href": f"{self.base}/compute/{coll}/{key}"}]

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

    # --------------------------------------------------------------------------------------- hooks
    def removed(self, coll, key, rec):
        if coll == "servers":             # the server's ports go, its volumes are detached
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

    def visibility(self, proj, user):
        return {"servers": lambda r: r["tenant_id"] == proj, "keypairs": lambda r: r["user_id"] == user,
                "flavors": lambda r: True, "server_groups": lambda r: r["_project"] == proj}

    def quota_used(self, project):
        servers = [r for r in self.c["servers"].values() if r["tenant_id"] == project]
        flavors = [self.c["flavors"].get(str((r["flavor"] or {}).get("id") if isinstance(r["flavor"], dict)
                                             else r["flavor"])) or {} for r in servers]
        return {"compute": {"instances": len(servers), "cores": sum(f.get("vcpus", 0) for f in flavors),
                             "ram": sum(f.get("ram", 0) for f in flavors),
                             "server_groups": sum(1 for r in self.c["server_groups"].values()
                                                  if r["_project"] == project)}}

    def quota_exceeded(self, coll, requested, used, limit):
        if coll == "servers":
            return ApiError(403, f"Quota exceeded for instances: Requested {requested}, but already used {used} "
                                 f"of {limit} instances")
        return ApiError(403, "Quota exceeded, too many key pairs.")

    def quota_check(self, wrapper, key, value, known, used):
        if key not in known:
            raise nova_invalid(wrapper, key, "Additional properties are not allowed")
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise ApiError(400, f"Invalid input for field/attribute {key}. Value: {value}. "
                                f"{value!r} is not of type 'integer'")
        if value != -1 and value < used:
            raise ApiError(400, f"Quota limit {value} for {key} must be greater than or equal to already used and "
                                f"reserved {used}.")

    def fake_update(self, coll, rec, fields):
        if coll != "servers" or "status" not in fields:
            return super().fake_update(coll, rec, fields)
        rec.pop("_ready", None)
        vm_state, task_state, power_state = SERVER_STATES.get(fields["status"], ("active", None, 1))
        fields = {"OS-EXT-STS:vm_state": vm_state, "OS-EXT-STS:task_state": task_state,
                  "OS-EXT-STS:power_state": power_state, **fields}
        if fields["status"] == "ERROR":
            fields.setdefault("fault", {"code": 500, "created": ts(time.time()), "message": NO_VALID_HOST})
        else:
            rec.pop("fault", None)
        return fields

    # -------------------------------------------------------------------------------------- quotas
    def nova_quotas(self, req, project, detail):
        self.quota_target(req, project, "os_compute_api:os-quota-sets:show")
        return jresp(200, {"quota_set": {"id": project, **self.quota_set("compute", project, detail, "in_use")}})

    def nova_set_quotas(self, req, project):
        self.quota_target(req, project, "os_compute_api:os-quota-sets:update")
        return jresp(200, {"quota_set": self.quota_update(req, "compute", "quota_set", project)})

    # ---------------------------------------------------------------------------------------- nova
    def nova_version(self, req):
        return jresp(200, {"version": {"id": "v2.1", "status": "CURRENT", "version": "2.93",
                                       "min_version": "2.1", "updated": "2013-07-23T11:33:21Z",
                                       "links": [{"rel": "self", "href": f"{self.base}/compute/v2.1/"}]}})

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
        return jresp(200, {"server": public(rec)})

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

    def nova_list_keypairs(self, req):   # microversion 2.1: no pagination, each item wrapped
        return jresp(200, {"keypairs": [{"keypair": {k: r[k] for k in ("name", "public_key", "fingerprint")}}
                                        for r in self.listable("keypairs", req.token)]})

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
