"""Glance (image v2) for the fake cloud, loaded by fake_openstack.py (see its "service modules"
comment): images and their data.

  image     http://127.0.0.1:P/image   /v2/images[/{id}[/file]]  (list `next` is relative)
Errors are webob's HTML pages.  Image download knobs: see "_download" in fake_openstack.py.
"""

import hashlib
import random
import re
import time
import uuid

from fake_common import ApiError, Resp, ServiceBase, jdump, jresp, phrase, public, ts
from svc_keystone import DEMO_PROJECT

SERVICE = "image"
ORDER = 2
CATALOG = [("image", "glance", "/image")]
COLLECTIONS = {"images": ("id", lambda r: (r["created_at"], r["id"]), True)}   # created_at desc, id desc
OWNER = {"images": ("owner", "project")}
GLANCE_DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
GLANCE_CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
GLANCE_READONLY = {"status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
                   "created_at", "updated_at", "self", "file", "schema", "stores"}


def error_body(status, message, title, ntype=None, extra=None):
    """webob's HTML error page."""
    head = f"{status} {title}"
    return "text/html; charset=UTF-8", (
        f"<html>\n <head>\n  <title>{head}</title>\n </head>\n <body>\n  <h1>{head}</h1>\n"
        f"  {message}<br /><br />\n\n\n\n </body>\n</html>").encode()


class Service(ServiceBase):
    def routes(self):
        name = r"([^/]+)"
        return [  # (method, path regex, handler, needs token)
            ("GET", r"/image/v2/images", self.glance_list, True),
            ("POST", r"/image/v2/images", self.glance_create, True),
            ("GET", rf"/image/v2/images/{name}", self.glance_show, True),
            ("PATCH", rf"/image/v2/images/{name}", self.glance_patch, True),
            ("DELETE", rf"/image/v2/images/{name}", self.glance_delete, True),
            ("PUT", rf"/image/v2/images/{name}/file", self.glance_upload, True),
            ("GET", rf"/image/v2/images/{name}/file", self.glance_download, True),
        ]

    # ------------------------------------------------------------------------------------ builders
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

    # --------------------------------------------------------------------------------------- hooks
    def removed(self, coll, key, rec):
        if coll == "images":
            self.blobs.pop(key, None)

    def visibility(self, proj, user):
        return {"images": lambda r: r["owner"] == proj or r["visibility"] in ("public", "community")}

    def fake_update(self, coll, rec, fields):
        fields = super().fake_update(coll, rec, fields)
        if coll == "images" and "data" in fields:
            raw = fields.pop("data")
            self.store_image_data(rec, raw.encode() if isinstance(raw, str) else bytes(raw))
        return fields

    def state_view(self, state):
        for img in state["images"]:
            blob = self.blobs.get(img["id"])
            img["_data_md5"] = hashlib.md5(blob).hexdigest() if blob is not None else None

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
            ctype, body = error_body(416, "Requested range not satisfiable", phrase(416))
            return Resp(416, body, ctype, {"Content-Range": f"bytes */{len(data)}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        if knob.get("content_range"):
            headers["Content-Range"] = knob["content_range"]
        resp = Resp(206, data[start:end + 1], "application/octet-stream", headers)
        resp.stall_after = knob.get("stall_after")
        return resp
