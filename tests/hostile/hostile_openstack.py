#!/usr/bin/python3
"""A hostile OpenStack for the cloudfs tests: a Keystone that issues a token and a catalog (the shapes
of tests/fake), and service endpoints that answer the way a broken or malicious cloud would.
Standard library only. Unlike tests/fake, nothing here tries to be faithful.

One port P on 127.0.0.1, services told apart by path prefix as in the fake:
  identity  http://127.0.0.1:P/identity/v3     POST /auth/tokens (any password)
  compute   http://127.0.0.1:P/compute/v2.1    /servers/detail is what the scenarios change
  image     http://127.0.0.1:P/image           /v2/images (Glance's relative `next`)
  volume    http://127.0.0.1:P/volume/v3/<p>   empty listings
  network   http://127.0.0.1:P/network         empty listings
A second listener, the "elsewhere" host, on 127.0.0.2:Q answers anything with an empty listing and
records what it was sent: a token arriving there is a token leaked off-host.

Control (no token needed):
  POST /_hostile/scenario   {"name": ..., options}  what the next listings do (see SCENARIOS)
  GET  /_hostile/requests   [{"listener": "main"|"elsewhere", "method", "path", "token": bool}]
  GET  /_hostile/ping       {"ok": true, "elsewhere": "http://127.0.0.2:Q"}
  POST /_hostile/reset      scenario "normal", log cleared

    python3 hostile_openstack.py --port-file FILE     # port P in FILE once listening
"""

import argparse
import gzip
import io
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "gAAAAAB-hostile-" + "x" * 100
PROJECT = "0123456789abcdef0123456789abcdef"

# Names a cloud may hand out for its servers: path separators, dot names, escapes, NUL, newlines,
# a 10k-character name, non-ASCII.
HOSTILE_NAMES = ["a/b", "..", ".", "../../../../etc", "100%", "%2e%2e", "nul\u0000byte", "new\nline",
                 "x" * 10000, "tab\there", "\u00e9t\u00e9", " ", ""]

SCENARIOS = """
normal        one server per listing, no next link
offhost       servers: a next link (absolute href) to the elsewhere host
offhost_glance images: an absolute "next" to the elsewhere host
offhost_port  servers: a next link to this host on another port (the elsewhere port)
redirect      servers: 302 with Location on the elsewhere host
loop          servers: next links A -> B -> A (one new server per page)
endless       servers: a fresh next link on every page, forever; options page_size (members per
              page, default: the limit asked for), delay_ms (before each page)
cl_lie        servers: Content-Length says more than is sent, then the connection closes
head_close    servers: the first `count` answers close inside their head (default 1), then normal
gzip_bomb     servers: Content-Encoding gzip, mib (default 1024) MiB of blanks once inflated
huge          servers: mib (default 80) MiB of blanks inside a valid JSON document
not_json      servers: 200 with an HTML page
deep          servers: one server whose metadata nests `depth` (default 100000) levels
names         servers: one server per hostile name
"""


def jbytes(obj):
    return json.dumps(obj).encode()


def server(sid, name="srv", **extra):
    rec = {"id": sid, "name": name, "status": "ACTIVE", "tenant_id": PROJECT, "user_id": "u",
           "metadata": {}, "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z",
           "addresses": {}, "flavor": {"id": "1"}, "image": "", "links": []}
    rec.update(extra)
    return rec


def uuid_for(n):
    return "%08x-0000-4000-8000-%012x" % (n & 0xffffffff, n)


_bomb_cache = {}


def gzip_bomb(mib):
    """mib MiB of blanks, gzip'd (about 1000:1), built once per size."""
    if mib not in _bomb_cache:
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as g:
            g.write(b'{"servers": [')
            chunk = b" " * (1 << 20)
            for _ in range(mib):
                g.write(chunk)
            g.write(b"]}")
        _bomb_cache[mib] = out.getvalue()
    return _bomb_cache[mib]


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.scenario = {"name": "normal"}
        self.log = []
        self.head_closes = 0
        self.elsewhere = ""

    def reset(self):
        with self.lock:
            self.scenario = {"name": "normal"}
            self.log = []
            self.head_closes = 0


STATE = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    listener = "main"

    def log_message(self, fmt, *args):
        pass

    # ------------------------------------------------------------------ plumbing
    def body_in(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def record(self):
        with STATE.lock:
            STATE.log.append({"listener": self.listener, "method": self.command, "path": self.path,
                              "token": "X-Auth-Token" in self.headers})

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def dispatch(self):
        path = urlsplit(self.path).path
        if path.startswith("/_hostile/"):
            return self.control(path[len("/_hostile/"):])
        self.record()
        if self.listener != "main":
            # Whatever is asked of the elsewhere host: a plausible last page, so a client that
            # follows a link there sees nothing wrong.
            return self.send(200, jbytes({"servers": [], "images": []}))
        if path.startswith("/identity"):
            return self.keystone(path)
        if self.headers.get("X-Auth-Token") != TOKEN:
            return self.send(401, jbytes({"error": {"code": 401, "message": "no token"}}))
        if path == "/compute/v2.1/servers/detail":
            return self.servers()
        if path == "/image/v2/images":
            return self.images()
        if path.startswith("/compute/v2.1/servers/") and self.command == "GET":
            # One member, as the normal listing shows it (a lookup with cache_ttl=0 asks).
            sid = path.rsplit("/", 1)[1]
            if sid == uuid_for(1):
                return self.send(200, jbytes({"server": server(sid, "ok")}))
            return self.send(404, jbytes({"itemNotFound": {"code": 404, "message": "no such server"}}))
        return self.empty_listing(path)

    def control(self, what):
        if what == "ping":
            return self.send(200, jbytes({"ok": True, "elsewhere": STATE.elsewhere}))
        if what == "requests":
            with STATE.lock:
                return self.send(200, jbytes(STATE.log))
        if what == "reset":
            self.body_in()
            STATE.reset()
            return self.send(200, jbytes({"ok": True}))
        if what == "scenario":
            spec = json.loads(self.body_in() or b"{}")
            if spec.get("name") == "gzip_bomb":
                # Built here, before the test mounts: compressing 1 GiB takes seconds on a
                # loaded machine, and built at the first listing it ate the mount's timeout
                # (ETIMEDOUT instead of EFBIG).
                gzip_bomb(int(spec.get("mib", 1024)))
            with STATE.lock:
                STATE.scenario = spec
                STATE.head_closes = 0
            return self.send(200, jbytes({"ok": True}))
        return self.send(404, jbytes({"error": "unknown control " + what}))

    # ------------------------------------------------------------------ keystone
    def keystone(self, path):
        if self.command == "POST" and path.rstrip("/").endswith("/auth/tokens"):
            self.body_in()
            base = "http://%s:%d" % self.server.server_address[:2]
            catalog = [{"type": t, "name": n, "id": t,
                        "endpoints": [{"id": t + i, "interface": i, "region": "RegionOne",
                                       "region_id": "RegionOne", "url": base + p}
                                      for i in ("public", "internal", "admin")]}
                       for t, n, p in (("identity", "keystone", "/identity"),
                                       ("compute", "nova", "/compute/v2.1"),
                                       ("image", "glance", "/image"),
                                       ("volumev3", "cinderv3", "/volume/v3/" + PROJECT),
                                       ("network", "neutron", "/network"))]
            tok = {"token": {"methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
                             "issued_at": "2026-01-01T00:00:00.000000Z",
                             "user": {"id": "u", "name": "demo", "domain": {"id": "default", "name": "Default"}},
                             "project": {"id": PROJECT, "name": "demo",
                                         "domain": {"id": "default", "name": "Default"}},
                             "roles": [{"id": "r", "name": "member"}], "catalog": catalog}}
            return self.send(201, jbytes(tok), headers=[("X-Subject-Token", TOKEN)])
        return self.send(200, jbytes({"version": {"id": "v3.14", "status": "stable"}}))

    # ------------------------------------------------------------------ listings
    def empty_listing(self, path):
        last = [p for p in path.split("/") if p and p != "detail"][-1:] or ["x"]
        key = {"os-keypairs": "keypairs", "floatingips": "floatingips",
               "security-groups": "security_groups"}.get(last[0], last[0].replace("-", "_"))
        return self.send(200, jbytes({key: []}))

    def images(self):
        sc = STATE.scenario
        query = parse_qs(urlsplit(self.path).query)
        if sc.get("name") == "offhost_glance" and "marker" not in query:
            img = {"id": uuid_for(7), "name": "img", "status": "active", "visibility": "private",
                   "size": 1, "owner": PROJECT}
            return self.send(200, jbytes({"images": [img],
                                          "next": STATE.elsewhere + "/image/v2/images?marker=" + uuid_for(7)}))
        return self.send(200, jbytes({"images": []}))

    def servers(self):
        sc = dict(STATE.scenario)
        name = sc.get("name", "normal")
        query = parse_qs(urlsplit(self.path).query)
        marker = (query.get("marker") or [None])[0]
        limit = int((query.get("limit") or ["1000"])[0])
        me = "http://%s:%d/compute/v2.1/servers/detail" % self.server.server_address[:2]

        def page(members, next_href=None):
            doc = {"servers": members}
            if next_href:
                doc["servers_links"] = [{"rel": "next", "href": next_href}]
            return self.send(200, jbytes(doc))

        if name == "normal":
            return page([server(uuid_for(1), "ok")])
        if name == "offhost":
            if marker:
                return page([])
            return page([server(uuid_for(1), "first")],
                        STATE.elsewhere + "/compute/v2.1/servers/detail?marker=" + uuid_for(1))
        if name == "offhost_port":
            if marker:
                return page([])
            port = urlsplit(STATE.elsewhere).port
            return page([server(uuid_for(1), "first")],
                        "http://127.0.0.1:%d/compute/v2.1/servers/detail?marker=%s" % (port, uuid_for(1)))
        if name == "redirect":
            return self.send(302, b"", headers=[("Location", STATE.elsewhere + "/compute/v2.1/servers/detail")])
        if name == "loop":
            nxt = {None: "a", "a": "b", "b": "a"}[marker]
            return page([server(uuid_for(ord(marker or "0")), "p-" + (marker or "0"))],
                        me + "?limit=%d&marker=%s" % (limit, nxt))
        if name == "endless":
            if sc.get("delay_ms"):
                time.sleep(sc["delay_ms"] / 1000)
            n = int(marker or 0)
            size = int(sc.get("page_size") or limit)
            members = [server(uuid_for(n + i), "e%d" % (n + i)) for i in range(size)]
            return page(members, me + "?limit=%d&marker=%d" % (limit, n + size))
        if name == "cl_lie":
            body = jbytes({"servers": [server(uuid_for(1), "lie")]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 100000))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_now()
            return
        if name == "head_close":
            with STATE.lock:
                close = STATE.head_closes < int(sc.get("count", 1))
                STATE.head_closes += close
            if close:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                self.wfile.flush()
                self.close_now()
                return
            return page([server(uuid_for(1), "after-close")])
        if name == "gzip_bomb":
            body = gzip_bomb(int(sc.get("mib", 1024)))
            return self.send(200, body, headers=[("Content-Encoding", "gzip")])
        if name == "huge":
            mib = int(sc.get("mib", 80))
            head, tail = b'{"servers": [', b"]}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(head) + (mib << 20) + len(tail)))
            self.end_headers()
            try:
                self.wfile.write(head)
                chunk = b" " * (1 << 20)
                for _ in range(mib):
                    self.wfile.write(chunk)
                self.wfile.write(tail)
            except OSError:
                self.close_connection = True
            return
        if name == "not_json":
            return self.send(200, b"<html><body>Welcome to nginx!</body></html>", ctype="text/html")
        if name == "deep":
            depth = int(sc.get("depth", 100000))
            meta = b'{"k": ' * depth + b'"v"' + b"}" * depth
            body = b'{"servers": [{"id": "%s", "name": "deep", "metadata": ' % uuid_for(1).encode() + meta + b"}]}"
            return self.send(200, body)
        if name == "names":
            return page([server(uuid_for(100 + i), n) for i, n in enumerate(HOSTILE_NAMES)])
        return self.send(500, jbytes({"error": "unknown scenario " + name}))

    def close_now(self):
        """Ends the connection at once (RST), as a crashed or hostile server would."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class ElsewhereHandler(Handler):
    listener = "elsewhere"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    ap = argparse.ArgumentParser(description="Hostile OpenStack for cloudfs tests.",
                                 epilog="scenarios:\n" + SCENARIOS,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--elsewhere-host", default="127.0.0.2",
                    help="address of the second listener (a host the token must never reach)")
    args = ap.parse_args(argv)
    main_srv = Server(("127.0.0.1", args.port), Handler)
    other = Server((args.elsewhere_host, 0), ElsewhereHandler)
    STATE.elsewhere = "http://%s:%d" % other.server_address[:2]
    for srv in (main_srv, other):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = main_srv.server_address[1]
    if args.port_file:
        tmp = "%s.tmp%d" % (args.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("hostile-openstack on http://127.0.0.1:%d, elsewhere %s" % (port, STATE.elsewhere), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
