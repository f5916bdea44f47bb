"""Hostile tests: the real cloudfs binary on a real FUSE mount, talking to a cloud that lies, loops,
floods and breaks connections (hostile_openstack.py, and the fault proxy in front of the faithful
fake). They assert what a user sees: the errno, that it comes within the documented deadline, that
no token reaches another host, that the daemon's memory stays bounded, and that the mount answers
afterwards."""

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "mounted"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fake"))

from mountutil import CLOUDFS, Mount, fuse_available, start_cloudfs  # noqa: E402

PYTHON = "/usr/bin/python3"


def pytest_collection_modifyitems(config, items):
    # As in tests/mounted: no FUSE is a failure, never a skip that looks like a pass.
    if not fuse_available():
        raise pytest.UsageError("hostile tests need /dev/fuse and fusermount3")
    if not os.access(CLOUDFS, os.X_OK):
        raise pytest.UsageError(f"{CLOUDFS} is not built")


class Hostile:
    """The hostile OpenStack, run as its own process."""

    def __init__(self, tmpdir):
        port_file = os.path.join(tmpdir, "hostile.port")
        self.log = open(os.path.join(tmpdir, "hostile.log"), "wb")
        self.proc = subprocess.Popen([PYTHON, os.path.join(HERE, "hostile_openstack.py"),
                                      "--port-file", port_file],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hostile_openstack.py did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = f"http://127.0.0.1:{self.port}"
        self.elsewhere = self._control("GET", "ping")["elsewhere"]

    def _control(self, method, what, body=None, timeout=10):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}/_hostile/{what}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def scenario(self, name, **opts):
        # A scenario may build its body first (the gzip bomb: seconds under load).
        self._control("POST", "scenario", {"name": name, **opts}, timeout=120)

    def reset(self):
        self._control("POST", "reset", {})

    def requests(self, listener=None):
        return [r for r in self._control("GET", "requests") if listener in (None, r["listener"])]

    def env(self, small_quarantine=False):
        """OS_* for cloudfs. @small_quarantine: under AddressSanitizer, keep freed memory for
        reuse checks in 16 MiB rather than 256, so the daemon's RSS measures what it holds."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        if small_quarantine:
            env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "quarantine_size_mb=16"]))
        env.update({"OS_AUTH_URL": self.url + "/identity/v3", "OS_USERNAME": "demo", "OS_PASSWORD": "demo",
                    "OS_PROJECT_NAME": "demo", "OS_USER_DOMAIN_NAME": "Default",
                    "OS_PROJECT_DOMAIN_NAME": "Default", "OS_REGION_NAME": "RegionOne",
                    "OS_IDENTITY_API_VERSION": "3", "OS_INTERFACE": "public"})
        return env

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="session")
def hostile_cloud(tmp_path_factory):
    h = Hostile(str(tmp_path_factory.mktemp("hostile")))
    yield h
    h.stop()


@pytest.fixture
def hostile(hostile_cloud):
    hostile_cloud.reset()
    yield hostile_cloud


@pytest.fixture
def mount_factory(tmp_path):
    mounts = []

    def make(env, *args, name="mnt"):
        path = str(tmp_path / name)
        proc, log = start_cloudfs(path, env, args)
        m = Mount(path, proc, log)
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        m.unmount()


def syscall(what, path, limit):
    """Runs one call (listdir, read, stat) on @path in a child process, as a user's command would.
    Returns (errno or 0, seconds, result). A call still running after @limit seconds fails the test
    (the child is killed): a deadline the daemon did not keep."""
    code = ("import os, sys, json, errno, time\n"
            "t = time.monotonic()\n"
            "try:\n"
            f"    r = {what}(sys.argv[1]); e = 0\n"
            "    r = sorted(r) if isinstance(r, list) else (r if isinstance(r, str) else str(r))\n"
            "except OSError as x:\n"
            "    r, e = None, x.errno\n"
            "print(json.dumps([e, time.monotonic() - t, r]))\n")
    if what == "read":
        code = "def read(p):\n    return open(p, errors='replace').read()\n" + code
    start = time.monotonic()
    try:
        out = subprocess.run([PYTHON, "-c", code, path], capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{what}({path}) still running after {limit} s "
                             f"(started {time.monotonic() - start:.1f} s ago)") from None
    assert out.returncode == 0, out.stderr
    return tuple(json.loads(out.stdout))


def peak_rss_kib(mount):
    """The daemon's peak resident memory so far (VmHWM), KiB."""
    with open(f"/proc/{mount.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def rss_kib(mount):
    with open(f"/proc/{mount.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")
