"""Swift on devcloud: a cloudfs killed after its overwrite of a large object landed, while it
deletes the old object's segments, leaves a mark the next mount finishes (docs/SEMANTICS.md,
"What is left behind"); a container name too long for "<name>_segments". Cross-checked with the
swift client and `openstack object save` + cmp."""

import os
import subprocess
import time
import urllib.request

import pytest

from conftest import RUN, blob, openrc_env, osc, swift, wait_for
from mountutil import Mount, sh, start_cloudfs

CONT = f"e2e-swiftm-{RUN}"
SEGS = CONT + "_segments"
OLD_SEGMENTS = 400


@pytest.fixture(scope="module")
def env():
    e = openrc_env()
    if not osc("catalog", "show", "object-store", env=e, check=False):
        raise pytest.UsageError("devcloud has no object-store: run contrib/devcloud/up.sh")
    yield e
    for c in (CONT, SEGS):
        swift("delete", c, env=e, check=False)


def mount(tmp_path_factory, env, name):
    path = str(tmp_path_factory.mktemp(name) / "mnt")
    proc, log = start_cloudfs(path, env, ["-o", "cache_ttl=1,negative_ttl=1"], timeout=30)
    return Mount(path, proc, log)


def storage(env):
    """The storage URL and a token, as `swift auth` gives them."""
    out = dict(line.replace("export ", "", 1).split("=", 1)
               for line in swift("auth", env=env).splitlines() if "=" in line)
    return out["OS_STORAGE_URL"], out["OS_AUTH_TOKEN"]


def is_slo(url, token, obj):
    req = urllib.request.Request(f"{url}/{CONT}/{obj}", method="HEAD", headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=30) as r:
        return (r.headers.get("X-Static-Large-Object") or "").lower() == "true"


def listed(env, container, prefix):
    return [n for n in swift("list", container, env=env, check=False).split() if n.startswith(prefix)]


def test_killed_while_deleting_the_old_segments_next_mount_finishes(env, tmp_path_factory, tmp_path):
    # The old object: a large object of 400 segments of 1 KiB, made by the swift client.
    swift("post", CONT, env=env)
    old = tmp_path / "old"
    old.write_bytes(blob(OLD_SEGMENTS << 10, "old"))
    swift("upload", "--use-slo", "-S", "1024", "--object-name", "obj", CONT, str(old), env=env)
    old_segs = listed(env, SEGS, "obj/")
    assert len(old_segs) == OLD_SEGMENTS
    url, token = storage(env)
    assert is_slo(url, token, "obj")
    # cloudfs overwrites it with a small file; the moment the new object has landed (no longer a
    # large object) it is deleting the old segments one by one, and is killed there.
    new = tmp_path / "new"
    new.write_bytes(blob(5000, "new"))
    victim = mount(tmp_path_factory, env, "e2e-swiftm-victim")
    writer = subprocess.Popen(["cp", str(new), victim.p("containers", CONT, "objects", "obj")],
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while is_slo(url, token, "obj") and time.time() < deadline and writer.poll() is None:
            time.sleep(0.005)
    finally:
        victim.kill()
        writer.kill()
        writer.wait()
    assert not is_slo(url, token, "obj")
    # Killed inside the window: old segments and the mark are still there. (Swift may list them
    # late when its container server is slow: the next mount's sweep reads the listing, so it
    # starts once they show.)
    left = listed(env, SEGS, "obj/")
    assert wait_for(lambda: listed(env, SEGS, ".cloudfs-uploads/"), timeout=60)
    assert left, "cloudfs was killed after it deleted all the old segments"
    # The next mount on this host deletes the old segments the object no longer uses, and the mark.
    nxt = mount(tmp_path_factory, env, "e2e-swiftm-next")
    try:
        assert wait_for(lambda: not listed(env, SEGS, "obj/") and not listed(env, SEGS, ".cloudfs-uploads/"),
                        timeout=180), (len(listed(env, SEGS, "obj/")), listed(env, SEGS, ".cloudfs-uploads/"))
        assert "segments of the object a cloudfs that ended" in nxt.log()
    finally:
        nxt.unmount()
    back = tmp_path / "back"
    osc("object", "save", "--file", str(back), CONT, "obj", env=env, parse=False)
    assert back.read_bytes() == new.read_bytes()


def test_long_container_name_large_object(env, tmp_path_factory, tmp_path):
    # 250 bytes: "<it>_segments" would pass Swift's 256; cloudfs uses a hashed one of 256.
    name = f"e2e-{RUN}-" + "l" * (250 - len(f"e2e-{RUN}-"))
    m = mount(tmp_path_factory, env, "e2e-swiftm-long")
    segs = None
    try:
        os.mkdir(m.p("containers", name))
        src = tmp_path / "big"
        src.write_bytes(blob(25 << 20, "long"))      # devcloud's max_file_size is 10 MiB
        out = sh(f"cp {src} {m.p('containers', name, 'objects', 'big')}")
        assert out.returncode == 0, out.stderr
        conts = [c for c in swift("list", env=env).split() if c.startswith(name[:230]) and c.endswith("_segments")]
        assert len(conts) == 1 and len(conts[0]) == 256, conts
        segs = conts[0]
        assert len(listed(env, segs, "big/slo/")) == 3
        back = tmp_path / "back"
        osc("object", "save", "--file", str(back), name, "big", env=env, parse=False)
        assert sh(f"cmp {src} {back}").returncode == 0
        os.unlink(m.p("containers", name, "objects", "big"))
        assert wait_for(lambda: not listed(env, segs, "big/"), timeout=60)
    finally:
        m.unmount()
        for c in (name, segs):
            if c:
                swift("delete", c, env=env, check=False)
