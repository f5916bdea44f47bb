"""End-to-end tests: the real cloudfs binary mounted on a real OpenStack
(contrib/devcloud), every assertion cross-checked with the openstack CLI or
the cloud's own API. One mount per module; the module's own resources are
created with the CLI first and deleted afterwards."""

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "mounted"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from mountutil import Mount, start_cloudfs  # noqa: E402

STATE = os.environ.get("DEVCLOUD_STATE", "/var/tmp/cloudfs-devcloud")
RUN = uuid.uuid4().hex[:6]


def openrc_env(name="openrc.demo"):
    """The environment an operator gets from `. openrc.demo`."""
    path = os.path.join(STATE, name)
    if not os.path.exists(path):
        raise pytest.UsageError(f"{path} missing: run contrib/devcloud/up.sh first")
    out = subprocess.run(["bash", "-c", f"set -a; . {path}; env -0"], check=True,
                         capture_output=True).stdout
    env = dict(kv.split("=", 1) for kv in out.decode().split("\0") if "=" in kv)
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    env.pop("PYTHONPATH", None)
    return env


def osc(*args, env=None, parse=True, check=True):
    """Runs /usr/bin/openstack as the demo user; returns parsed JSON."""
    cmd = ["/usr/bin/openstack", *args]
    if parse:
        cmd += ["-f", "json"]
    res = subprocess.run(cmd, env=env or openrc_env(), capture_output=True, text=True,
                         timeout=300)
    if check and res.returncode:
        raise AssertionError(f"{' '.join(cmd)} failed: {res.stderr}")
    return json.loads(res.stdout) if parse and res.stdout.strip() else res


def swift(*args, env, check=True):
    """The swift client (python3-swiftclient), for cross-checks of containers and objects."""
    res = subprocess.run(["/usr/bin/swift", *args], env=env, capture_output=True, text=True,
                         timeout=300)
    if check and res.returncode:
        raise AssertionError(f"swift {' '.join(args)} failed: {res.stderr}")
    return res.stdout


def blob(n, salt):
    """@n bytes that differ with @salt: contents both sides of a cross-check can make."""
    block = hashlib.sha256(salt.encode()).digest() * 2048
    return (block * (n // len(block) + 1))[:n]


def wait_for(fn, timeout=120, every=1.0):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value or time.time() > deadline:
            return value
        time.sleep(every)


@pytest.fixture(scope="session")
def demo_env():
    return openrc_env()


@pytest.fixture(scope="session")
def token(demo_env):
    return osc("token", "issue", env=demo_env)["id"]


@pytest.fixture(scope="session")
def seeded(demo_env):
    """A keypair, a volume and a server of our own, made with the CLI."""
    names = {"key": f"e2e-key-{RUN}", "vol": f"e2e-vol-{RUN}", "srv": f"e2e-srv-{RUN}"}
    keyfile = f"/tmp/{names['key']}"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyfile], check=True)
    made = {}
    try:
        made["key"] = osc("keypair", "create", "--public-key", keyfile + ".pub", names["key"],
                          env=demo_env)
        made["vol"] = osc("volume", "create", "--size", "1", names["vol"], env=demo_env)
        made["srv"] = osc("server", "create", "--image", "devcloud-tiny", "--flavor", "m1.nano",
                          "--network", "private", "--key-name", names["key"], names["srv"],
                          env=demo_env)
        wait_for(lambda: osc("server", "show", made["srv"]["id"], env=demo_env)["status"]
                 in ("ACTIVE", "ERROR"))
        wait_for(lambda: osc("volume", "show", made["vol"]["id"], env=demo_env)["status"]
                 in ("available", "error"))
        yield {k: {"name": names[k], **made[k]} for k in made}
    finally:
        if "srv" in made:
            osc("server", "delete", "--wait", made["srv"]["id"], env=demo_env, parse=False,
                check=False)
        if "vol" in made:
            osc("volume", "delete", made["vol"]["id"], env=demo_env, parse=False, check=False)
        if "key" in made:
            osc("keypair", "delete", names["key"], env=demo_env, parse=False, check=False)
        for f in (keyfile, keyfile + ".pub"):
            if os.path.exists(f):
                os.unlink(f)


@pytest.fixture(scope="module")
def mnt(tmp_path_factory, demo_env, seeded):
    path = str(tmp_path_factory.mktemp("e2e") / "mnt")
    proc, log = start_cloudfs(path, demo_env, ["-o", "cache_ttl=1,negative_ttl=1"], timeout=30)
    m = Mount(path, proc, log)
    yield m
    m.unmount()
