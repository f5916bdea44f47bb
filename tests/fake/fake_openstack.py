#!/usr/bin/python3
"""Fake OpenStack (Zed) cloud for the cloudfs tests: one stdlib HTTP server, every service.

One port P, services told apart by path prefix, like devstack: identity /identity/v3, compute
/compute/v2.1, image /image, volume /volume/v3/<project>, network /network, orchestration
/orchestration/v1/<project>, object-store /swift/v1/AUTH_<project>.  Each service is a module beside
this file, tests/fake/svc_<name>.py (see "service modules" below; its docstring lists its URLs); this
file is the server: the route table, authentication, the request log, faults, the control API.
The catalog also lists every service in RegionTwo, at a port that refuses connections, so a client
that ignores OS_REGION_NAME fails.

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
import heapq
import itertools
import json
import os
import random
import re
import socket
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ApiError, Resp, jresp and ts are also read from here by svc_heat's bind() (sys.modules of the cloud).
from fake_common import UNAUTHENTICATED, ApiError, Req, Resp, jdump, jresp, phrase, public, ts  # noqa: F401

# ------------------------------------------------------------------------ service modules
# Each service lives in its own module, tests/fake/svc_<name>.py, beside this file:
#   SERVICE = "compute"              the first path segment of its URLs (also Req.service)
#   CATALOG = [(type, name, path)]   its catalog rows ({project} allowed)
#   ORDER = n                        (optional) catalog and route order, default 100, then by file name
#   def error_body(status, message, title, ntype, extra) -> (content type, bytes)   its error shape
#   def response_headers(request_id) -> {header: value}   (optional) headers on each of its answers
#   COLLECTIONS = {coll: (key field, sort key, newest first)}   (optional) the records it keeps in the
#       cloud's store (cloud.c), each made by its Service.build_<coll>(partial) -> record
#   STAMPS   (optional) its rows of the table of that name below
#   OWNER, QUOTA_COLLECTIONS, QUOTA_OF_COLLECTION, QUOTA_DEFAULTS   (optional) its rows of the quota
#       engine's tables (fake_quota.py)
#   listings are paged in one of the styles of fake_paging.py (nova, cinder, glance, neutron), which
#       its handlers name: self.listing(req, coll, style, href)
#   class Service(fake_common.ServiceBase): __init__(self, cloud); routes(self) -> [(method, path
#       regex, handler(req, *groups), needs token)]; reset(self) back to the state after startup;
#       control(self, method, op, args, data) -> Resp or None for its own /_fake/<op> (optional);
#       the hooks of ServiceBase (created, removed, visibility, quota_used, quota_exceeded,
#       quota_check, fake_update, state_view) for its collections and quota sets.
# Modules import fake_common, fake_paging and fake_quota (never this file: it runs as __main__) and
# each other (svc_keystone's users and projects).
def load_service_modules():
    import importlib
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    modules = [importlib.import_module(f[:-3]) for f in sorted(os.listdir(here))
               if f.startswith("svc_") and f.endswith(".py")]
    return sorted(modules, key=lambda m: getattr(m, "ORDER", 100))


SERVICE_MODULES = load_service_modules()
import fake_quota  # noqa: E402
import fake_seed  # noqa: E402  (after the modules: it reads svc_nova's flavors)


def merged(table):
    return {k: v for m in SERVICE_MODULES for k, v in getattr(m, table, {}).items()}


MODULE_OF = {m.SERVICE: m for m in SERVICE_MODULES}
CATALOG = [row for m in SERVICE_MODULES for row in m.CATALOG]
SERVICES = tuple(m.SERVICE for m in SERVICE_MODULES)
COLLECTIONS = merged("COLLECTIONS")                  # collection -> (key field, sort key, newest first)
QUOTA_COLLECTIONS = fake_quota.quota_collections(SERVICE_MODULES)   # --quota and /_fake/quota
STAMPS = merged("STAMPS")            # /_fake/update stamps this field (style), default updated_at (z)


def error_body(service, status, message, ntype=None, extra=None):
    """-> (content type, body) for an error, shaped like the real service's (its module's error_body)."""
    title = phrase(status)
    if status == 401 and service != "identity":      # keystonemiddleware answers for every service
        return "application/json", jdump({"error": {"code": 401, "title": title, "message": message}})
    module = MODULE_OF.get(service)
    if not hasattr(module, "error_body"):            # outside every service: Keystone's shape
        module = MODULE_OF["identity"]
    return module.error_body(status, message, title, ntype, extra)


# ------------------------------------------------------------------------------------------ cloud
class Cloud:
    """All state (collections, tokens, request log, faults), the route table and the control API; the
    API handlers are the service modules'.  Callers hold self.lock around handle()/control()."""

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
        self.collections = COLLECTIONS
        self.quota = fake_quota.Quotas(self, SERVICE_MODULES, opts.quota)   # limits, sets, usage
        self.catalog_rows = CATALOG
        self.services = [m.Service(self) for m in SERVICE_MODULES]
        self.service_of = {m.SERVICE: svc for m, svc in zip(SERVICE_MODULES, self.services)}
        self.owner = {coll: svc for m, svc in zip(SERVICE_MODULES, self.services)   # collection -> its service
                      for coll in getattr(m, "COLLECTIONS", {})}
        self.routes = self._routes() + [(m, re.compile(rx), fn, auth) for svc in self.services
                                         for m, rx, fn, auth in svc.routes()]
        fake_seed.seed_startup(self, opts.seed, opts.servers)
        self.initial = (json.dumps(self.c), dict(self.blobs), dict(self.counters))

    def reset(self):
        data, blobs, counters = self.initial
        self.c, self.blobs, self.counters = json.loads(data), dict(blobs), dict(counters)
        self.quota.reset()
        self.pending, self.log, self.faults = [], [], []
        for svc in self.services:
            svc.reset()

    # ----------------------------------------------------------------------- collection primitives
    def hooks(self, name):
        """The services' hooks of that name (see fake_common.ServiceBase; svc_heat and svc_swift
        keep no records in the store and have none)."""
        return [getattr(svc, name) for svc in self.services if hasattr(svc, name)]

    def add(self, coll, rec):
        self.c[coll][rec[COLLECTIONS[coll][0]]] = rec
        return rec

    def new(self, coll, partial):
        """Create a record from a partial dict, every other field filled in realistically (by the
        build_<coll> of the service that owns the collection)."""
        rec = self.add(coll, getattr(self.owner[coll], "build_" + coll)(dict(partial or {})))
        for created in self.hooks("created"):
            created(coll, rec)
        return rec

    def remove(self, coll, key):
        rec = self.c[coll].pop(key, None)
        if rec is None:
            return None
        for removed in self.hooks("removed"):      # each service cascades as the real one does
            removed(coll, key, rec)
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
        rules = {}
        for visibility in self.hooks("visibility"):
            rules.update(visibility(proj, user))
        return rules.get(coll, lambda r: r["project_id"] == proj)

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

    # ------------------------------------------------------------------------------------ dispatch
    def _routes(self):
        return [("GET", re.compile(r"/"), self.root, False)]

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
                self.quota.limits.update(self.quota.parse(data or {}))
            return jresp(200, {coll: self.quota.limits.get(coll) for coll in QUOTA_COLLECTIONS})
        if (method, op) == ("POST", "expire_tokens"):
            expired = len(self.tokens)
            self.tokens.clear()
            return jresp(200, {"expired": expired})
        if (method, op) == ("POST", "seed"):
            data = {k.replace("-", "_"): v for k, v in data.items()}
            if set(data) - set(COLLECTIONS):
                raise ValueError(f"unknown collections {sorted(set(data) - set(COLLECTIONS))}")
            created = {coll: [public(self.new(coll, p)) for p in
                              (data[coll] if isinstance(data[coll], list) else [data[coll]])]
                       for coll in fake_seed.SEED_ORDER if coll in data}
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
            stamp, style = STAMPS.get(coll, ("updated_at", "z"))
            if stamp in rec and stamp not in fields:
                fields[stamp] = ts(time.time(), style)
            fields = self.owner[coll].fake_update(coll, rec, fields)
            rec.update(fields)
            return jresp(200, public(rec))
        if (method, op) == ("POST", "reset"):
            self.reset()
            return jresp(200, {"ok": True})
        if (method, op) == ("GET", "state"):
            state = {coll: [public(r) for r in self.c[coll].values()] for coll in COLLECTIONS}
            for state_view in self.hooks("state_view"):
                state_view(state)
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
        module = MODULE_OF.get(service)
        if hasattr(module, "response_headers"):
            headers.update(module.response_headers(request_id))
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
