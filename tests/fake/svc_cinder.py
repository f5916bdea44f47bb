"""Cinder (block-storage v3) for the fake cloud, loaded by fake_openstack.py (see its "service
modules" comment): volumes, snapshots, volume quotas.

  volume    http://127.0.0.1:P/volume/v3/<project>  /volumes[/detail], /volumes/{id}[/metadata[/{key}]],
                                                     /snapshots[/detail], /snapshots/{id},
                                                     /os-quota-sets/{p}[?usage=true] (GET PUT: admin),
                                                     /types[/{id}] (read only)
                                                     (catalog types `volumev3` AND `block-storage`)
Volumes and snapshots go creating -> available after --build-seconds.  Errors: {"itemNotFound":
{"code", "message"}}; lists carry `volumes_links` only when more remain.
"""

import re
import time
import uuid

from fake_common import ApiError, Resp, ServiceBase, fault_body, jresp, nova_invalid, public, stable_id, ts
from svc_keystone import DEMO_PROJECT, DEMO_USER

SERVICE = "volume"
ORDER = 3
CATALOG = [("volumev3", "cinderv3", "/volume/v3/{project}"), ("block-storage", "cinder", "/volume/v3/{project}")]
COLLECTIONS = {                                     # created_at desc, then id desc
    "volumes": ("id", lambda r: (r["created_at"], r["id"]), True),
    "snapshots": ("id", lambda r: (r["created_at"], r["id"]), True),
}
OWNER = {"volumes": ("os-vol-tenant-attr:tenant_id", "project"),
         "snapshots": ("os-extended-snapshot-attributes:project_id", "project")}
QUOTA_COLLECTIONS = ("volumes", "snapshots")
QUOTA_OF_COLLECTION = {"volumes": ("volume", "volumes"), "snapshots": ("volume", "snapshots")}
QUOTA_DEFAULTS = {                                  # Zed's
    "volume": {"volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10, "backup_gigabytes": 1000,
               "groups": 10, "per_volume_gigabytes": -1, "volumes___DEFAULT__": -1, "snapshots___DEFAULT__": -1,
               "gigabytes___DEFAULT__": -1},
}
STAMPS = {"volumes": ("updated_at", "us")}
VOLUME_TYPES = ("__DEFAULT__", "lvmdriver-1")


def error_body(status, message, title, ntype=None, extra=None):
    return fault_body(status, message, extra)


def response_headers(request_id):
    return {"X-Compute-Request-Id": request_id, "OpenStack-API-Version": "volume 3.0",
            "Vary": "OpenStack-API-Version"}


class Service(ServiceBase):
    deleted_types = frozenset()     # names of VOLUME_TYPES an admin deleted (until reset)

    def routes(self):
        name = r"([^/]+)"
        return [  # (method, path regex, handler, needs token)
            ("GET", rf"/volume/v3/{name}/os-quota-sets/{name}", self.cinder_quotas, True),
            ("GET", rf"/volume/v3/{name}/types(?:/{name})?", self.cinder_types, True),
            ("DELETE", rf"/volume/v3/{name}/types/{name}", self.cinder_delete_type, True),
            ("PUT", rf"/volume/v3/{name}/os-quota-sets/{name}", self.cinder_set_quotas, True),
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
        ]

    def cinder_types(self, req, project, tid):
        """GET /types[/{id}]: the public volume types (Cinder's fields; no pagination links)."""
        types = [{"id": stable_id(f"volume-type/{n}"), "name": n, "is_public": True,
                  "description": "Default Volume Type" if n == "__DEFAULT__" else None, "extra_specs": {},
                  "os-volume-type-access:is_public": True} for n in VOLUME_TYPES if n not in self.deleted_types]
        if tid is None:
            return jresp(200, {"volume_types": types})
        got = [t for t in types if t["id"] == tid]
        if not got:
            raise ApiError(404, f"Volume type {tid} could not be found.")
        return jresp(200, {"volume_type": got[0]})

    def cinder_delete_type(self, req, project, tid):
        """DELETE /types/{id}: admins only (Cinder's volume_extension:type_delete); the default
        type cannot go (Cinder refuses it with 400)."""
        self.require_admin(req, "volume_extension:type_delete")
        self.cinder_types(req, project, tid)            # 404 when unknown
        name = [n for n in VOLUME_TYPES if stable_id(f"volume-type/{n}") == tid][0]
        if name == "__DEFAULT__":
            raise ApiError(400, "Target volume type is default and cannot be deleted.")
        self.deleted_types = self.deleted_types | {name}
        return Resp(202)

    def reset(self):
        self.deleted_types = frozenset()

    # ------------------------------------------------------------------------------------ builders
    def links(self, coll, key, project):
        return [{"rel": "self", "href": f"{self.base}/volume/v3/{project}/{coll}/{key}"},
                {"rel": "bookmark", "href": f"{self.base}/volume/{project}/{coll}/{key}"}]

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

    # --------------------------------------------------------------------------------------- hooks
    def visibility(self, proj, user):
        return {"volumes": lambda r: r["os-vol-tenant-attr:tenant_id"] == proj,
                "snapshots": lambda r: r["os-extended-snapshot-attributes:project_id"] == proj}

    def quota_used(self, project):
        vols = [r for r in self.c["volumes"].values() if r["os-vol-tenant-attr:tenant_id"] == project]
        snaps = [r for r in self.c["snapshots"].values()
                 if r["os-extended-snapshot-attributes:project_id"] == project]
        return {"volume": {"volumes": len(vols), "gigabytes": sum(r["size"] for r in vols) +
                            sum(r["size"] for r in snaps), "snapshots": len(snaps)}}

    def quota_exceeded(self, coll, requested, used, limit):
        kind = coll[:-1].capitalize()
        return ApiError(413, f"{kind}LimitExceeded: Maximum number of {coll} allowed ({limit}) exceeded for "
                             f"quota '{coll}'.", extra={"retryAfter": "0"})

    def quota_check(self, wrapper, key, value, known, used):
        if key not in known:
            raise ApiError(400, f"Bad key(s) in quota set: {key}")
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise ApiError(400, f"Invalid input for field/attribute {key}. Value: {value}. "
                                f"{value!r} is not of type 'integer'")

    # -------------------------------------------------------------------------------------- quotas
    def cinder_quotas(self, req, owner, project):
        self.check_project(req, owner)
        self.quota_target(req, project, "volume_extension:quotas:show")
        usage = str(req.arg("usage", "false")).lower() in ("true", "1", "yes")
        return jresp(200, {"quota_set": {**self.quota_set("volume", project, usage, "in_use"), "id": project}})

    def cinder_set_quotas(self, req, owner, project):
        self.check_project(req, owner)
        self.quota_target(req, project, "volume_extension:quotas:update")
        return jresp(200, {"quota_set": self.quota_update(req, "volume", "quota_set", project)})

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
