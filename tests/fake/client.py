"""FakeCloud: start the fake OpenStack server (fake_openstack.py) for a test and drive its /_fake
control API.  Standard library only (urllib).

    cloud = FakeCloud.start(tmp_path, servers=100, latency_ms=5)   # options = fake_openstack.py flags
    env = {**os.environ, **cloud.env()}                            # OS_* variables for cloudfs
    cloud.fault(path="/compute/v2.1/servers/detail", status=503, count=2)
    assert cloud.requests(service="compute")[-1]["status"] == 200
    cloud.stop()
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_openstack.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


class FakeCloud:
    def __init__(self, proc, port, tmpdir, log):
        self.proc, self.port, self.tmpdir, self._log = proc, port, tmpdir, log
        self.url = f"http://127.0.0.1:{port}"
        self.auth_url = f"{self.url}/identity/v3"

    @classmethod
    def start(cls, tmpdir, timeout=20, **opts):
        """Launch on a free port; opts become flags: servers=10 -> --servers 10, quiet=True -> --quiet.
        The server's output goes to <tmpdir>/fake-openstack.log."""
        tmpdir = str(tmpdir)
        os.makedirs(tmpdir, exist_ok=True)
        port_file = os.path.join(tmpdir, "fake-openstack.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        args = [PYTHON, SERVER, "--port", "0", "--port-file", port_file]
        for key, value in opts.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                args.append(flag)
            elif value not in (False, None):
                args += [flag, str(value)]
        log_path = os.path.join(tmpdir, "fake-openstack.log")
        log = open(log_path, "wb")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.close()
                with open(log_path, errors="replace") as f:
                    raise RuntimeError(f"fake-openstack did not start ({' '.join(args)}):\n{f.read()}")
            try:
                with open(port_file) as f:
                    port = int(f.read().strip())
                cloud = cls(proc, port, tmpdir, log)
                if cloud._control("GET", "ping") == {"ok": True}:
                    return cloud
            except (OSError, ValueError):
                pass
            time.sleep(0.02)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def env(self, username="demo", password="demo", project="demo"):
        """OS_* variables, as a clouds.yaml-less user would export them."""
        return {"OS_AUTH_URL": self.auth_url, "OS_USERNAME": username, "OS_PASSWORD": password,
                "OS_PROJECT_NAME": project, "OS_USER_DOMAIN_NAME": "Default",
                "OS_PROJECT_DOMAIN_NAME": "Default", "OS_REGION_NAME": "RegionOne",
                "OS_IDENTITY_API_VERSION": "3", "OS_INTERFACE": "public"}

    # ------------------------------------------------------------------------- raw HTTP helpers
    def request(self, method, path, body=None, token=None, headers=None, timeout=30):
        """One HTTP request to the fake (path relative to its root, or a full URL); never raises on
        HTTP errors.  -> (status, headers, body bytes).  A dict/list body is sent as JSON."""
        url = path if path.startswith("http") else self.url + path
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        if token:
            headers["X-Auth-Token"] = token
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get_json(self, path, token, headers=None):
        status, _, body = self.request("GET", path, token=token, headers=headers)
        return status, json.loads(body) if body else None

    def token(self, username="demo", password="demo", project="demo"):
        """Password-authenticate; -> (token, token body)."""
        auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": username, "domain": {"name": "Default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
        status, headers, body = self.request("POST", "/identity/v3/auth/tokens", auth)
        if status != 201:
            raise RuntimeError(f"auth failed: {status} {body!r}")
        return headers["X-Subject-Token"], json.loads(body)

    def _control(self, method, name, payload=None, query=None):
        path = f"/_fake/{name}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        status, _, body = self.request(method, path, payload)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {body.decode(errors='replace')}")
        return json.loads(body) if body else None

    # ----------------------------------------------------------------------------- control API
    def requests(self, service=None, method=None, path_prefix=None):
        """Requests served so far (oldest first): dicts with method, path, query, status (None: no
        answer), service, token, body (the JSON body parsed, else None) and length (body bytes)."""
        query = {k: v for k, v in (("service", service), ("method", method), ("path_prefix", path_prefix)) if v}
        return self._control("GET", "requests", query=query)

    def clear_requests(self):
        self._control("DELETE", "requests")

    def fault(self, path="", status=None, method=None, count=1, delay_ms=0, body=None, drop=False,
              after_bytes=None, drop_after_bytes=None, corrupt=False, rate_bps=None, read_bps=None):
        """Make the next `count` (-1 = all) requests whose path starts with `path` fail / stall / drop.
        after_bytes=N: read N bytes of the request body first, then answer `status` (or drop);
        drop_after_bytes=N: read N bytes, then close without answering (an upload cut off mid-way);
        corrupt=True: serve the request normally but with one byte of its body flipped;
        rate_bps=N: serve it normally, sending the answer's body at N bytes a second;
        read_bps=N: serve it normally, reading the request's body at N bytes a second."""
        fault = {"method": method, "path": path, "status": status, "count": count, "delay_ms": delay_ms,
                 "body": body, "drop": drop, "corrupt": corrupt}
        if after_bytes is not None:
            fault["after_bytes"] = after_bytes
        if drop_after_bytes is not None:
            fault["drop_after_bytes"] = drop_after_bytes
        if rate_bps is not None:
            fault["rate_bps"] = rate_bps
        if read_bps is not None:
            fault["read_bps"] = read_bps
        return self._control("POST", "faults", fault)

    def clear_faults(self):
        self._control("DELETE", "faults")

    def quota(self, **limits):
        """quota(servers=5, volumes=3, networks=None) -> every limit (None = unlimited); no args: show."""
        return self._control("POST", "quota", limits) if limits else self._control("GET", "quota")

    def expire_tokens(self):
        return self._control("POST", "expire_tokens")

    def seed(self, **collections):
        """seed(servers=[{"name": "x", "status": "SHUTOFF"}], volumes=[...]) -> created objects by collection."""
        return self._control("POST", "seed", collections)

    def delete(self, collection, id):
        return self._control("POST", "delete", {"collection": collection, "id": id})

    def update(self, collection, id, fields=None, **more):
        return self._control("POST", "update", {"collection": collection, "id": id, "fields": {**(fields or {}),
                                                                                              **more}})

    def reset(self):
        return self._control("POST", "reset")

    def state(self):
        return self._control("GET", "state")
