"""Swift (object-store) for the fake cloud: the account, containers and objects of the
Object Storage API v1 as Swift 2.30 (Zed) answers them, loaded by fake_openstack.py (see its
"service modules" comment).

  GET    /swift/info                                 capabilities: swift.max_file_size, slo limits
  GET    /swift/v1/AUTH_<project>[?format=json&marker=&limit=&prefix=&end_marker=&reverse=]
  HEAD   /swift/v1/AUTH_<project>                    X-Account-Container-Count, -Object-Count, -Bytes-Used
  POST   /swift/v1/AUTH_<project>?bulk-delete        text/plain body: one /container/object a line
  PUT | HEAD | POST | DELETE /swift/v1/AUTH_<project>/<container>
                                                     201/202 | counts, X-Container-Meta-*, -Read, -Write |
                                                     metadata and ACLs (204) | 204, 409 when not empty
  GET    .../<container>?format=json&prefix=&delimiter=&marker=&end_marker=&limit=&reverse=
         [{"name","hash","bytes","content_type","last_modified"} | {"subdir"}], 200 "[]" when empty
         (plain text: one name a line, 204 when empty); limit capped at 10,000
  PUT    .../<container>/<object>                    201 Etag; ETag request header checked (422);
                                                     > max_file_size: 413; X-Copy-From: server-side copy
  PUT    ...?multipart-manifest=put                  an SLO manifest [{"path","etag","size_bytes"}],
                                                     each segment checked (400 "Errors:" on mismatch)
  GET | HEAD .../<object>[?multipart-manifest=get]   bytes (Range: 206/416) or the stored manifest
  POST   .../<object>                                replaces every X-Object-Meta-* (202)
  DELETE .../<object>[?multipart-manifest=delete]    204 (the SLO's segments too with the query)

Errors are Swift's small HTML pages (<html><h1>Not Found</h1><p>...</p></html>), except the SLO
middleware's text/plain "Errors:" lists.

Control: GET /_fake/swift (every container and object, without data), POST /_fake/swift
{"container": {"name": "text" | {"data": "text", "content_type": ..., "meta": {...}}}} seeds,
POST /_fake/swift_lag {"seconds": N} makes listings omit objects written in the last N seconds
(Swift's container listings lag behind the objects), POST /_fake/swift_info {...} overrides
/info's limits (max_file_size, min_segment_size, max_manifest_segments).
"""

import hashlib
import json
import mimetypes
import time
import urllib.parse
from email.utils import formatdate

SERVICE = "swift"
CATALOG = [("object-store", "swift", "/swift/v1/AUTH_{project}")]

LISTING_LIMIT = 10000
MAX_NAME = 1024
DEFAULT_INFO = {"max_file_size": 5368709122, "container_listing_limit": LISTING_LIMIT,
                "max_object_name_length": MAX_NAME, "max_meta_name_length": 128,
                "max_meta_value_length": 256, "max_meta_count": 90, "max_meta_overall_size": 4096,
                "min_segment_size": 1, "max_manifest_segments": 1000, "max_manifest_size": 8388608}
MESSAGES = {
    400: ("Bad Request", "The server could not comply with the request since it is either malformed or "
                         "otherwise incorrect."),
    404: ("Not Found", "The resource could not be found."),
    409: ("Conflict", "There was a conflict when trying to complete your request."),
    411: ("Length Required", "Length Required"),
    413: ("Request Entity Too Large", "The body of your request was too large for this server."),
    416: ("Requested Range Not Satisfiable", "The Range requested is not available."),
    422: ("Unprocessable Entity", "Unable to process the contained instructions"),
}


def error_body(status, message, title, ntype=None, extra=None):
    h1, text = MESSAGES.get(status, (title, message))
    return "text/html; charset=UTF-8", f"<html><h1>{h1}</h1><p>{text}</p></html>".encode()


class SwiftError(Exception):
    def __init__(self, status, body=None, ctype="text/html; charset=UTF-8"):
        super().__init__(status)
        self.status, self.body, self.ctype = status, body, ctype


def md5(data):
    return hashlib.md5(data).hexdigest()


def swift_time(ts):
    """last_modified as container listings show it: ISO 8601, microseconds, no zone."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%06d" % int((ts % 1) * 1e6)


def http_date(ts):
    return formatdate(int(ts), usegmt=True)


class Service:
    def __init__(self, cloud):
        self.cloud = cloud
        self.reset()

    def reset(self):
        self.accounts = {}            # project id -> {container: {meta, read, write, created, objects}}
        self.lag_s = 0.0
        self.info = dict(DEFAULT_INFO)

    # --------------------------------------------------------------------------------- plumbing
    def routes(self):
        acct = r"/swift/v1/AUTH_([0-9a-f]+)"
        return [
            ("GET", r"/swift/info", self.get_info, False),
            ("HEAD", r"/swift/info", self.get_info, False),
            ("GET", acct + r"/?", self.wrap(self.account_get), True),
            ("HEAD", acct + r"/?", self.wrap(self.account_head), True),
            ("POST", acct + r"/?", self.wrap(self.account_post), True),
            ("PUT", acct + r"/([^/]+)/?", self.wrap(self.container_put), True),
            ("GET", acct + r"/([^/]+)/?", self.wrap(self.container_get), True),
            ("HEAD", acct + r"/([^/]+)/?", self.wrap(self.container_head), True),
            ("POST", acct + r"/([^/]+)/?", self.wrap(self.container_post), True),
            ("DELETE", acct + r"/([^/]+)/?", self.wrap(self.container_delete), True),
            ("PUT", acct + r"/([^/]+)/(.+)", self.wrap(self.object_put), True),
            ("GET", acct + r"/([^/]+)/(.+)", self.wrap(self.object_get), True),
            ("HEAD", acct + r"/([^/]+)/(.+)", self.wrap(self.object_get), True),
            ("POST", acct + r"/([^/]+)/(.+)", self.wrap(self.object_post), True),
            ("DELETE", acct + r"/([^/]+)/(.+)", self.wrap(self.object_delete), True),
        ]

    def wrap(self, fn):
        def handler(req, project, *rest):
            from fake_common import Resp
            if req.token is None or req.token["project_id"] != project:
                return Resp(403, *reversed(error_body(403, "Forbidden", "Forbidden")))
            try:
                return fn(req, self.accounts.setdefault(project, {}), *rest)
            except SwiftError as e:
                if e.body is None:
                    ctype, body = error_body(e.status, "", "")
                else:
                    ctype, body = e.ctype, e.body
                return Resp(e.status, body, ctype)
        return handler

    @staticmethod
    def resp(status, body=b"", ctype="text/html; charset=UTF-8", headers=None):
        from fake_common import Resp
        trans = "tx" + md5(str(time.time()).encode())[:21] + "-%010x" % int(time.time())
        h = {"X-Trans-Id": trans, "X-Openstack-Request-Id": trans}
        h.update(headers or {})
        if isinstance(body, (dict, list)):
            body, ctype = json.dumps(body).encode(), "application/json; charset=utf-8"
        return Resp(status, body, ctype, h)

    def get_info(self, req):
        from fake_common import Resp
        i = self.info
        return Resp(200, json.dumps({
            "swift": {"version": "2.30.1", "max_file_size": i["max_file_size"],
                      "container_listing_limit": i["container_listing_limit"],
                      "max_object_name_length": i["max_object_name_length"],
                      "max_meta_name_length": i["max_meta_name_length"],
                      "max_meta_value_length": i["max_meta_value_length"],
                      "max_meta_count": i["max_meta_count"],
                      "max_meta_overall_size": i["max_meta_overall_size"],
                      "account_listing_limit": LISTING_LIMIT, "max_container_name_length": 256,
                      "max_header_size": 8192, "extra_header_count": 0, "strict_cors_mode": True,
                      "policies": [{"name": "Policy-0", "aliases": "Policy-0", "default": True}]},
            "slo": {"max_manifest_segments": i["max_manifest_segments"],
                    "max_manifest_size": i["max_manifest_size"], "yield_frequency": 10,
                    "min_segment_size": i["min_segment_size"], "allow_async_delete": True},
            "bulk_delete": {"max_deletes_per_request": 10000, "max_failed_deletes": 1000},
            "symlink": {"symlink_loop_limit": 2}, "versioned_writes": {"allowed_flags": []},
            "tempurl": {"methods": ["GET", "HEAD", "PUT", "POST", "DELETE"]}}).encode(),
            "application/json; charset=UTF-8")

    def visible(self, obj):
        return time.time() - obj["written"] >= self.lag_s

    # ---------------------------------------------------------------------------------- listings
    @staticmethod
    def page(req, names, entry):
        """One listing page of sorted `names` with Swift's query: prefix, delimiter, marker,
        end_marker, limit, reverse. -> list of dicts (entry(name) or {"subdir"})."""
        prefix = req.arg("prefix", "") or ""
        delim = req.arg("delimiter", "") or ""
        marker, end = req.arg("marker", "") or "", req.arg("end_marker", "") or ""
        try:
            limit = int(req.arg("limit", LISTING_LIMIT))
        except ValueError:
            raise SwiftError(412, b"Value of limit must be a positive integer", "text/plain") from None
        if limit < 0 or limit > LISTING_LIMIT:
            raise SwiftError(412, f"Maximum limit is {LISTING_LIMIT}".encode(), "text/plain")
        reverse = (req.arg("reverse", "") or "").lower() in ("1", "true", "yes", "on")
        if len(delim) > 1:
            raise SwiftError(412, b"Bad delimiter", "text/plain")
        names = sorted(names, reverse=reverse)
        out, seen_sub = [], set()
        for n in names:
            if not n.startswith(prefix):
                continue
            if marker and ((n <= marker) if not reverse else (n >= marker)):
                continue
            if end and ((n >= end) if not reverse else (n <= end)):
                continue
            if delim:
                cut = n.find(delim, len(prefix))
                if cut >= 0:
                    sub = n[:cut + 1]
                    # A subdir past the marker only (a page that ended on it goes on after it).
                    if sub in seen_sub or (marker and not reverse and sub <= marker):
                        continue
                    seen_sub.add(sub)
                    out.append({"subdir": sub})
                    if len(out) >= limit:
                        break
                    continue
            out.append(entry(n))
            if len(out) >= limit:
                break
        return out

    def listing(self, req, items, key):
        fmt = (req.arg("format", "") or "").lower()
        if fmt == "json" or "json" in req.headers.get("Accept", ""):
            return self.resp(200, items, headers=self.count_headers(key))
        names = [i.get("subdir") or i.get("name") for i in items]
        if not names:
            return self.resp(204, b"", "text/plain; charset=utf-8", self.count_headers(key))
        return self.resp(200, ("\n".join(names) + "\n").encode(), "text/plain; charset=utf-8",
                         self.count_headers(key))

    def count_headers(self, what):
        return what() if callable(what) else {}

    # ------------------------------------------------------------------------------- account
    def account_stats(self, acct):
        objs = [o for c in acct.values() for o in c["objects"].values() if self.visible(o)]
        return {"X-Account-Container-Count": str(len(acct)), "X-Account-Object-Count": str(len(objs)),
                "X-Account-Bytes-Used": str(sum(o["size"] for o in objs)),
                "X-Timestamp": "%.5f" % self.cloud_start(), "X-Account-Storage-Policy-Policy-0-Container-Count":
                str(len(acct))}

    def cloud_start(self):
        return getattr(self.cloud, "started", None) or 1764000000.0

    def container_entry(self, acct, name):
        c = acct[name]
        objs = [o for o in c["objects"].values() if self.visible(o)]
        return {"name": name, "count": len(objs), "bytes": sum(o["size"] for o in objs),
                "last_modified": swift_time(c["changed"])}

    def account_get(self, req, acct):
        items = self.page(req, list(acct), lambda n: self.container_entry(acct, n))
        return self.listing(req, items, lambda: self.account_stats(acct))

    def account_head(self, req, acct):
        return self.resp(204, b"", "text/plain; charset=utf-8", self.account_stats(acct))

    def account_post(self, req, acct):
        if "bulk-delete" not in req.args:
            return self.resp(204, b"")
        deleted, missing, errors = 0, 0, []
        for line in (req.body or b"").decode().splitlines():
            path = urllib.parse.unquote(line.strip()).lstrip("/")
            if not path:
                continue
            cname, _, oname = path.partition("/")
            c = acct.get(cname)
            if c is None or (oname and oname not in c["objects"]):
                missing += 1
            elif oname:
                del c["objects"][oname]
                c["changed"] = time.time()
                deleted += 1
            elif c["objects"]:
                errors.append([urllib.parse.quote("/" + cname), "409 Conflict"])
            else:
                del acct[cname]
                deleted += 1
        return self.resp(200, {"Number Deleted": deleted, "Number Not Found": missing,
                               "Response Body": "", "Response Status": "400 Bad Request" if errors
                               else "200 OK", "Errors": errors})

    # ----------------------------------------------------------------------------- containers
    @staticmethod
    def container(acct, name):
        c = acct.get(name)
        if c is None:
            raise SwiftError(404)
        return c

    def container_put(self, req, acct, name):
        if len(name.encode()) > 256:
            raise SwiftError(400, b"Container name length of 257 longer than 256", "text/plain")
        if name in acct:
            self.set_container_meta(req, acct[name])
            return self.resp(202, b"<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>")
        now = time.time()
        acct[name] = {"meta": {}, "read": None, "write": None, "created": now, "changed": now, "objects": {}}
        self.set_container_meta(req, acct[name])
        return self.resp(201, b"<html><h1>Created</h1><p></p></html>")

    @staticmethod
    def set_container_meta(req, c):
        for k, v in req.headers.items():
            lk = k.lower()
            if lk.startswith("x-container-meta-"):
                key = k[len("x-container-meta-"):].lower()
                if v:
                    c["meta"][key] = v
                else:
                    c["meta"].pop(key, None)
            elif lk.startswith("x-remove-container-meta-"):
                c["meta"].pop(k[len("x-remove-container-meta-"):].lower(), None)
            elif lk in ("x-container-read", "x-container-write"):
                c[lk[len("x-container-"):]] = v or None
            elif lk in ("x-remove-container-read", "x-remove-container-write"):
                c[lk[len("x-remove-container-"):]] = None

    def container_headers(self, name, c):
        objs = [o for o in c["objects"].values() if self.visible(o)]
        h = {"X-Container-Object-Count": str(len(objs)),
             "X-Container-Bytes-Used": str(sum(o["size"] for o in objs)),
             "X-Timestamp": "%.5f" % c["created"], "Last-Modified": http_date(c["changed"]),
             "X-Storage-Policy": "Policy-0", "Accept-Ranges": "bytes"}
        for k, v in c["meta"].items():
            h["X-Container-Meta-" + k.title()] = v
        if c["read"]:
            h["X-Container-Read"] = c["read"]
        if c["write"]:
            h["X-Container-Write"] = c["write"]
        return h

    def object_entry(self, o, name):
        e = {"name": name, "hash": o["etag"], "bytes": o.get("listing_bytes", o["size"]),
             "content_type": o["ctype"],
             "last_modified": swift_time(o["mtime"])}
        if o.get("manifest") is not None:
            e["slo_etag"] = '"%s"' % o["slo_etag"]
        if o.get("symlink_path"):
            # Swift 2.30: a symlink's listing entry names its target, quoted; its bytes and
            # hash are the empty link object's. A DLO's entry is its empty manifest's.
            e["symlink_path"] = o["symlink_path"]
        return e

    def container_get(self, req, acct, name):
        c = self.container(acct, name)
        # Deleted objects stay listed while the listing lags (swift_lag), as new ones stay unlisted.
        now = time.time()
        ghosts = {n: o for n, (o, t) in c.get("ghosts", {}).items()
                  if now - t < self.lag_s and n not in c["objects"]}
        listed = {**ghosts, **{n: o for n, o in c["objects"].items() if self.visible(o)}}
        items = self.page(req, list(listed), lambda n: self.object_entry(listed[n], n))
        return self.listing(req, items, lambda: self.container_headers(name, c))

    def container_head(self, req, acct, name):
        c = self.container(acct, name)
        return self.resp(204, b"", "text/plain; charset=utf-8", self.container_headers(name, c))

    def container_post(self, req, acct, name):
        c = self.container(acct, name)
        self.set_container_meta(req, c)
        return self.resp(204, b"")

    def container_delete(self, req, acct, name):
        c = self.container(acct, name)
        if c["objects"]:
            raise SwiftError(409)
        del acct[name]
        return self.resp(204, b"")

    # -------------------------------------------------------------------------------- objects
    def lookup(self, acct, cname, oname):
        c = self.container(acct, cname)
        o = c["objects"].get(oname)
        if o is None:
            raise SwiftError(404)
        return c, o

    def data_of(self, acct, o):
        """An object's bytes: an SLO's are its segments' (which must still be there)."""
        if o.get("dlo"):
            # A DLO: the objects named <container>/<prefix>..., in name order, as they are now.
            dcname, _, prefix = o["dlo"].partition("/")
            objs = acct.get(dcname, {}).get("objects", {})
            return b"".join(self.data_of(acct, objs[n]) for n in sorted(objs) if n.startswith(prefix))
        if o.get("symlink_path"):
            _, _, _, tcname, toname = urllib.parse.unquote(o["symlink_path"]).split("/", 4)
            t = acct.get(tcname, {}).get("objects", {}).get(toname)
            if t is None:
                raise SwiftError(404)
            return self.data_of(acct, t)
        if o.get("manifest") is None:
            return o["data"]
        parts = []
        for seg in o["manifest"]:
            cname, _, oname = seg["name"].lstrip("/").partition("/")
            s = acct.get(cname, {}).get("objects", {}).get(oname)
            if s is None or s["etag"] != seg["hash"]:
                raise SwiftError(409, b"<html><h1>Conflict</h1><p>There was a conflict when trying "
                                      b"to complete your request.</p></html>")
            parts.append(self.data_of(acct, s))
        return b"".join(parts)

    def user_meta(self, req):
        meta = {}
        for k, v in req.headers.items():
            if k.lower().startswith("x-object-meta-"):
                meta[k[len("x-object-meta-"):].lower()] = v
        total = sum(len(k) + len(v.encode()) for k, v in meta.items())
        i = self.info
        if (len(meta) > i["max_meta_count"] or total > i["max_meta_overall_size"]
                or any(len(k) > i["max_meta_name_length"] or len(v.encode()) > i["max_meta_value_length"]
                       for k, v in meta.items())):
            raise SwiftError(400, b"Metadata too large", "text/plain")
        return meta

    def store(self, c, oname, data, ctype, meta, manifest=None, slo_etag=None, delete_at=None):
        now = time.time()
        o = {"data": data, "size": len(data), "etag": md5(data), "ctype": ctype, "meta": meta,
             "mtime": now, "written": now, "manifest": manifest, "delete_at": delete_at}
        if manifest is not None:
            o["size"] = sum(s["bytes"] for s in manifest)
            o["etag"] = md5(json.dumps(manifest).encode())
            o["slo_etag"] = slo_etag
        c["objects"][oname] = o
        c["changed"] = now
        return o

    def object_put(self, req, acct, cname, oname):
        c = self.container(acct, cname)
        if len(oname.encode()) > self.info["max_object_name_length"]:
            raise SwiftError(400, b"Object name length of %d longer than %d" % (
                len(oname.encode()), self.info["max_object_name_length"]), "text/plain")
        meta = self.user_meta(req)
        ctype = req.headers.get("Content-Type") or "application/octet-stream"
        if (req.headers.get("X-Detect-Content-Type") or "").lower() == "true":
            ctype = mimetypes.guess_type(oname, strict=False)[0] or "application/octet-stream"
        delete_at = req.headers.get("X-Delete-At")
        if req.headers.get("X-Copy-From"):
            src = urllib.parse.unquote(req.headers["X-Copy-From"]).lstrip("/")
            scname, _, soname = src.partition("/")
            _, so = self.lookup(acct, scname, soname)
            if so.get("manifest") is not None and req.arg("multipart-manifest") == "get":
                o = self.store(c, oname, b"", so["ctype"], dict(so["meta"]), [dict(s) for s in so["manifest"]],
                               so["slo_etag"])
            else:
                data = self.data_of(acct, so)
                if len(data) > self.info["max_file_size"]:
                    raise SwiftError(413)
                o = self.store(c, oname, data, so["ctype"], {**so["meta"], **meta})
            return self.resp(201, b"", headers={"Etag": o["etag"] if o.get("manifest") is None
                                                else '"%s"' % o["slo_etag"],
                                                "Last-Modified": http_date(o["mtime"]),
                                                "X-Copied-From": urllib.parse.quote(src)})
        chunked = "chunked" in req.headers.get("Transfer-Encoding", "").lower()
        if not chunked and req.headers.get("Content-Length") is None:
            raise SwiftError(411)
        data = req.body or b""
        if req.arg("multipart-manifest") == "put":
            return self.manifest_put(req, acct, c, oname, data, ctype, meta)
        if len(data) > self.info["max_file_size"]:
            raise SwiftError(413)
        want = (req.headers.get("ETag") or "").strip('"').lower()
        if want and want != md5(data):
            raise SwiftError(422)
        o = self.store(c, oname, data, ctype, meta, delete_at=delete_at)
        if req.headers.get("X-Object-Manifest"):
            o["dlo"] = urllib.parse.unquote(req.headers["X-Object-Manifest"])
        if req.headers.get("X-Symlink-Target"):
            account = req.headers.get("X-Symlink-Target-Account") or req.path.split("/")[3]
            o["symlink_path"] = urllib.parse.quote(
                f"/v1/{account}/{urllib.parse.unquote(req.headers['X-Symlink-Target'])}")
        return self.resp(201, b"", headers={"Etag": o["etag"], "Last-Modified": http_date(o["mtime"])})

    def manifest_put(self, req, acct, c, oname, data, ctype, meta):
        try:
            segs = json.loads(data)
        except ValueError:
            raise SwiftError(400, b"Manifest must be valid JSON.\n", "text/plain") from None
        if not isinstance(segs, list) or not segs:
            raise SwiftError(400, b"Manifest must be a list.\n", "text/plain")
        if len(segs) > self.info["max_manifest_segments"]:
            raise SwiftError(400, b"Too many segments.\n", "text/plain")
        if len(data) > self.info["max_manifest_size"]:
            raise SwiftError(413, b"Manifest File > %d bytes" % self.info["max_manifest_size"], "text/plain")
        errors, manifest = [], []
        for i, seg in enumerate(segs):
            path = seg.get("path") if isinstance(seg, dict) else None
            if not isinstance(path, str) or path.count("/") < 2:
                errors.append((str(path), "Invalid path"))
                continue
            scname, _, soname = path.lstrip("/").partition("/")
            s = acct.get(scname, {}).get("objects", {}).get(soname)
            if s is None:
                errors.append((path, "404 Not Found"))
                continue
            if seg.get("etag") not in (None, "") and seg["etag"].strip('"') != s["etag"]:
                errors.append((path, "Etag Mismatch"))
            if seg.get("size_bytes") is not None and seg["size_bytes"] != s["size"]:
                errors.append((path, "Size Mismatch"))
            if i < len(segs) - 1 and s["size"] < self.info["min_segment_size"]:
                errors.append((path, "Too small; each segment must be at least %d bytes."
                               % self.info["min_segment_size"]))
            manifest.append({"name": "/" + scname + "/" + soname, "hash": s["etag"], "bytes": s["size"],
                             "content_type": s["ctype"], "last_modified": swift_time(s["mtime"])})
        if errors:
            text = "Errors:\n" + "".join(f"{p}, {why}\n" for p, why in errors)
            raise SwiftError(400, text.encode(), "text/plain")
        slo_etag = md5("".join(s["hash"] for s in manifest).encode())
        o = self.store(c, oname, b"", ctype, meta, manifest, slo_etag)
        # The SLO middleware marks the content type with swift_bytes=<total>, which the listing
        # turns into bytes; X-Detect-Content-Type replaces the type, mark and all (Swift 2.30):
        # the listing then shows the manifest's size.
        if (req.headers.get("X-Detect-Content-Type") or "").lower() == "true":
            o["listing_bytes"] = len(data)
        return self.resp(201, b"", headers={"Etag": '"%s"' % slo_etag})

    def object_headers(self, o):
        h = {"Content-Type": o["ctype"], "Last-Modified": http_date(o["mtime"]),
             "X-Timestamp": "%.5f" % o["mtime"], "Accept-Ranges": "bytes"}
        if o.get("manifest") is not None:
            h["Etag"] = '"%s"' % o["slo_etag"]
            h["X-Static-Large-Object"] = "True"
        else:
            h["Etag"] = o["etag"]
        for k, v in o["meta"].items():
            h["X-Object-Meta-" + k.title()] = v
        if o.get("delete_at"):
            h["X-Delete-At"] = o["delete_at"]
        if o.get("dlo"):
            h["X-Object-Manifest"] = urllib.parse.quote(o["dlo"])
        return h

    def object_get(self, req, acct, cname, oname):
        _, o = self.lookup(acct, cname, oname)
        if o.get("manifest") is not None and req.arg("multipart-manifest") == "get":
            body = json.dumps(o["manifest"]).encode()
            h = self.object_headers(o)
            h["Etag"] = o["etag"]
            h["Content-Length"] = str(len(body))
            h["Content-Type"] = "application/json; charset=utf-8"
            return self.resp(200, body, "application/json; charset=utf-8", h)
        data = self.data_of(acct, o)
        h = self.object_headers(o)
        rng = req.headers.get("Range")
        if rng and rng.startswith("bytes=") and "," not in rng:
            first, _, last = rng[6:].partition("-")
            size = len(data)
            if first == "":
                start, end = max(0, size - int(last)), size - 1
            else:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
            if start >= size or start > end:
                h["Content-Range"] = f"bytes */{size}"
                raise SwiftError(416)
            h["Content-Range"] = f"bytes {start}-{end}/{size}"
            h["Content-Length"] = str(end - start + 1)
            return self.resp(206, data[start:end + 1], o["ctype"], h)
        h["Content-Length"] = str(len(data))
        return self.resp(200, data, o["ctype"], h)

    def object_post(self, req, acct, cname, oname):
        _, o = self.lookup(acct, cname, oname)
        o["meta"] = self.user_meta(req)
        if req.headers.get("Content-Type"):
            o["ctype"] = req.headers["Content-Type"]
        if "X-Delete-At" in req.headers:
            o["delete_at"] = req.headers["X-Delete-At"] or None
        if "X-Remove-Delete-At" in req.headers:
            o["delete_at"] = None
        return self.resp(202, b"<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>")

    def object_delete(self, req, acct, cname, oname):
        c, o = self.lookup(acct, cname, oname)
        if o.get("manifest") is None and req.arg("multipart-manifest") == "delete":
            # Swift 2.30: 200 whatever happened, the real status and errors in the body.
            errors = [[urllib.parse.quote(f"/{cname}/{oname}"), "Not an SLO manifest"]]
            fields = {"Number Deleted": 0, "Number Not Found": 0, "Response Body": "",
                      "Response Status": "400 Bad Request", "Errors": errors}
            if "json" in req.headers.get("Accept", ""):
                return self.resp(200, fields)
            text = "".join(f"{k}: {v}\n" for k, v in fields.items() if k != "Errors")
            text += "Errors:\n" + "".join(f"{p}, {why}\n" for p, why in errors)
            return self.resp(200, text.encode(), "text/plain")
        if o.get("manifest") is not None and req.arg("multipart-manifest") == "delete":
            for seg in o["manifest"]:
                scname, _, soname = seg["name"].lstrip("/").partition("/")
                acct.get(scname, {}).get("objects", {}).pop(soname, None)
        if self.lag_s:
            c.setdefault("ghosts", {})[oname] = (o, time.time())
        del c["objects"][oname]
        c["changed"] = time.time()
        if req.arg("multipart-manifest") == "delete":
            fields = {"Number Deleted": 1 + len(o["manifest"]), "Number Not Found": 0,
                      "Response Body": "", "Response Status": "200 OK", "Errors": []}
            return self.resp(200, fields if "json" in req.headers.get("Accept", "") else
                             "".join(f"{k}: {v}\n" for k, v in fields.items()).encode())
        return self.resp(204, b"")

    # -------------------------------------------------------------------------------- control
    def control(self, method, op, args, data):
        from fake_common import jresp
        if op == "swift" and method == "GET":
            return jresp(200, {p: {cn: {"meta": c["meta"], "read": c["read"], "write": c["write"],
                                        "objects": {on: {"size": o["size"], "etag": o["etag"],
                                                         "content_type": o["ctype"], "meta": o["meta"],
                                                         "slo": o.get("manifest") is not None,
                                                         "segments": [s["name"] for s in o.get("manifest") or []],
                                                         "delete_at": o.get("delete_at")}
                                                    for on, o in c["objects"].items()}}
                                   for cn, c in acct.items()} for p, acct in self.accounts.items()})
        if op == "swift" and method == "POST":
            from svc_keystone import DEMO_PROJECT
            acct = self.accounts.setdefault(args.get("project", [DEMO_PROJECT])[0], {})
            for cname, objs in (data or {}).items():
                now = time.time()
                c = acct.setdefault(cname, {"meta": {}, "read": None, "write": None, "created": now,
                                            "changed": now, "objects": {}})
                for oname, spec in (objs or {}).items():
                    spec = spec if isinstance(spec, dict) else {"data": spec}
                    o = self.store(c, oname, spec.get("data", "").encode("utf-8", "surrogateescape"),
                                   spec.get("content_type", "application/octet-stream"),
                                   {k.lower(): v for k, v in (spec.get("meta") or {}).items()})
                    o["written"] = 0
                    # "dlo": "<container>/<prefix>" (X-Object-Manifest); "symlink_path":
                    # "/v1/<account>/<container>/<object>" as a listing gives it
                    for k in ("dlo", "symlink_path"):
                        if spec.get(k):
                            o[k] = spec[k]
            return jresp(200, {"ok": True})
        if op == "swift_lag" and method == "POST":
            self.lag_s = float((data or {}).get("seconds", 0))
            return jresp(200, {"lag": self.lag_s})
        if op == "swift_info" and method == "POST":
            self.info.update(data or {})
            return jresp(200, self.info)
        return None
