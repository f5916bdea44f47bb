"""`.cloudfs/transfers` on a real Glance (issue 17's "done when"): a 1 GiB `cp` into images/
shows as one line whose bytes-done moves forward to the file's size and then goes; the image
that results is the file (size and checksum by the openstack CLI), and is deleted afterwards."""

import hashlib
import os
import subprocess
import time

import pytest

from conftest import RUN, osc, wait_for
from mountutil import Mount, start_cloudfs

GiB = 1 << 30
FIELDS = ["DIR", "STATE", "DONE", "TOTAL", "PCT", "RATE", "ETA", "PATH"]


@pytest.fixture(scope="module")
def mnt(tmp_path_factory, demo_env):
    path = str(tmp_path_factory.mktemp("e2e-transfers") / "mnt")
    proc, log = start_cloudfs(path, demo_env, ["-o", "cache_ttl=1,negative_ttl=1"], timeout=30)
    m = Mount(path, proc, log)
    yield m
    m.unmount()


def rows(m, path):
    with open(m.p(".cloudfs", "transfers")) as f:
        lines = f.read().splitlines()
    assert lines[0].split() == FIELDS, lines
    return [dict(zip(FIELDS, ln.split())) for ln in lines[1:] if ln.split()[-1] == path]


def test_a_1gib_upload_moves_and_ends(mnt, demo_env, tmp_path):
    src = tmp_path / "big.raw"
    md5 = hashlib.md5()
    with open(src, "wb") as f:              # 1 GiB, not sparse: every byte goes over the wire
        block = os.urandom(1 << 20)
        for i in range(1024):
            chunk = block[:8] + i.to_bytes(8, "big") + block[16:]
            md5.update(chunk)
            f.write(chunk)
    name = f"e2e-transfer-{RUN}"
    path = f"images/{name}"
    seen = []
    cp = subprocess.Popen(["cp", str(src), mnt.p("images", name)], stderr=subprocess.PIPE,
                          text=True)
    try:
        while cp.poll() is None:            # as `watch -n 0.5 cat .cloudfs/transfers` would
            seen += rows(mnt, path)
            time.sleep(0.5)
        assert cp.wait() == 0, cp.stderr.read()
        running = [int(r["DONE"]) for r in seen if r["STATE"] == "running"]
        assert len(set(running)) >= 3, seen           # seen moving, at three points at least
        assert running == sorted(running), seen       # only ever forward
        assert all(r["DIR"] == "up" and r["TOTAL"] == str(GiB) for r in seen), seen
        assert wait_for(lambda: not rows(mnt, path), timeout=15), rows(mnt, path)

        img = wait_for(lambda: [i for i in osc("image", "list", "--name", name, "--long",
                                               env=demo_env) if i["Status"] == "active"])
        assert len(img) == 1, img
        shown = osc("image", "show", img[0]["ID"], env=demo_env)
        assert shown["size"] == GiB
        assert shown["checksum"] == md5.hexdigest()
    finally:
        if cp.poll() is None:
            cp.kill()
        for i in osc("image", "list", "--name", name, env=demo_env):
            osc("image", "delete", i["ID"], env=demo_env, parse=False, check=False)
