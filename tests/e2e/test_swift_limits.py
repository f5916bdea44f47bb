"""Swift's limits and leftovers end to end, on devcloud's Swift 2.30 (max_file_size 10 MiB,
contrib/devcloud/up.sh): the part size and name/metadata limits from /info, the segments of a
killed cloudfs deleted by the next mount, metadata carried by cp --preserve=xattr and rsync -X.
Each result is cross-checked with `openstack object ...` and `swift`."""

import errno
import os
import subprocess

import pytest

from conftest import RUN, blob, openrc_env, osc, swift, wait_for
from mountutil import Mount, sh, start_cloudfs

CONT = f"e2e-swiftx-{RUN}"
SEGS = CONT + "_segments"
MAX_FILE = 10 << 20     # devcloud's [swift-constraints] max_file_size


def objects(env, container=CONT):
    return {o["Name"]: o for o in osc("object", "list", "--long", "--all", container, env=env)}


@pytest.fixture(scope="module")
def env():
    e = openrc_env()
    if not osc("catalog", "show", "object-store", env=e, check=False):
        raise pytest.UsageError("devcloud has no object-store: run contrib/devcloud/up.sh")
    info = subprocess.run(["curl", "-s", "http://127.0.0.1:8080/info"], capture_output=True,
                          text=True, timeout=30).stdout
    if f'"max_file_size": {MAX_FILE}' not in info:
        raise pytest.UsageError("devcloud's Swift has another max_file_size: run contrib/devcloud/up.sh")
    return e


def mount(tmp_path_factory, env, name):
    path = str(tmp_path_factory.mktemp(name) / "mnt")
    # No -o part_size: the part size is /info's max_file_size.
    proc, log = start_cloudfs(path, env, ["-o", "cache_ttl=1,negative_ttl=1"], timeout=30)
    return Mount(path, proc, log)


@pytest.fixture(scope="module")
def smnt(tmp_path_factory, env):
    m = mount(tmp_path_factory, env, "e2e-swiftx")
    yield m
    m.unmount()
    for c in (CONT, SEGS):
        swift("delete", c, env=env, check=False)


@pytest.fixture(scope="module")
def cont(smnt, env):
    os.mkdir(smnt.p("containers", CONT))
    return smnt.p("containers", CONT, "objects")


def test_30_mib_is_an_slo_of_info_sized_segments(cont, env, tmp_path):
    data = blob(30 << 20, "limits")
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    out = sh(f"cp {src} {cont}/big.bin")
    assert out.returncode == 0, out.stderr
    shown = osc("object", "show", CONT, "big.bin", env=env)
    assert int(shown["content-length"]) == len(data)
    stat = swift("stat", CONT, "big.bin", env=env)
    assert "Manifest" in stat or "Static Large" in stat or "X-Static-Large-Object" in stat, stat
    segs = swift("list", "--long", SEGS, env=env).split("\n")
    sizes = [int(line.split()[0]) for line in segs if "big.bin/slo/" in line]
    assert sizes == [MAX_FILE] * 3, segs
    assert not [line for line in segs if ".cloudfs-uploads/" in line], "the upload's mark stayed"
    saved = tmp_path / "saved"
    osc("object", "save", "--file", str(saved), CONT, "big.bin", env=env, parse=False)
    assert subprocess.run(["cmp", str(src), str(saved)]).returncode == 0
    assert subprocess.run(["cmp", str(src), f"{cont}/big.bin"]).returncode == 0
    assert objects(env)["big.bin"]["Bytes"] == len(data)


def test_name_and_metadata_limits(cont, env, tmp_path):
    # Swift's max_object_name_length is 1024 bytes: a path of 1025 is refused at open(2).
    parts = ["a" * 200, "b" * 200, "c" * 200, "d" * 200]
    os.makedirs(os.path.join(cont, *parts))
    ok = os.path.join(cont, *parts, "e" * (1024 - 4 * 201))
    too_long = ok + "e"
    with pytest.raises(OSError) as e:
        open(too_long, "wb")
    assert e.value.errno == errno.ENAMETOOLONG
    with open(ok, "wb") as f:
        f.write(b"fits")
    names = objects(env)
    assert "/".join(parts) + "/" + "e" * (1024 - 4 * 201) in names
    assert not [n for n in names if len(n.encode()) > 1024]
    # max_meta_value_length is 256: one byte more is E2BIG, and Swift keeps what it had.
    (tmp_path / "m").write_bytes(b"m")
    assert sh(f"cp {tmp_path / 'm'} {cont}/m.txt").returncode == 0
    out = sh(f"setfattr -n user.swift.meta.big -v {'v' * 257} {cont}/m.txt")
    assert out.returncode != 0 and "Argument list too long" in out.stderr, out.stderr
    assert sh(f"setfattr -n user.swift.meta.big -v {'v' * 256} {cont}/m.txt").returncode == 0
    assert f"Meta Big: {'v' * 256}" in swift("stat", CONT, "m.txt", env=env)
    assert sh(f"rm -r {cont}/{parts[0]}").returncode == 0


def test_cp_preserve_xattr_and_rsync_X(cont, env, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"alpha\n")
    (src / "b.txt").write_bytes(b"beta\n")
    for f, v in (("a.txt", "ops"), ("b.txt", "dev")):
        assert sh(f"setfattr -n user.swift.meta.owner -v {v} {src / f}").returncode == 0
    out = sh(f"cp --preserve=xattr {src / 'a.txt'} {cont}/a.txt")
    assert out.returncode == 0, out.stderr
    assert "Meta Owner: ops" in swift("stat", CONT, "a.txt", env=env)
    out = sh(f"mkdir -p {cont}/synced && rsync -r -X --size-only {src}/ {cont}/synced/")
    assert out.returncode == 0, out.stderr
    assert "Meta Owner: dev" in swift("stat", CONT, "synced/b.txt", env=env)
    assert "Meta Owner: ops" in swift("stat", CONT, "synced/a.txt", env=env)
    saved = tmp_path / "saved"
    osc("object", "save", "--file", str(saved), CONT, "synced/b.txt", env=env, parse=False)
    assert saved.read_bytes() == b"beta\n"
    # And back: a copy out of the mount carries the object's metadata.
    back = tmp_path / "back"
    out = sh(f"cp --preserve=xattr {cont}/a.txt {back} && getfattr -d {back}")
    assert out.returncode == 0 and 'user.swift.meta.owner="ops"' in out.stdout, out.stdout + out.stderr


def test_killed_cloudfs_segments_deleted_by_next_mount(smnt, cont, env, tmp_path_factory, tmp_path):
    victim = mount(tmp_path_factory, env, "e2e-swiftx-victim")
    src = tmp_path / "k"
    src.write_bytes(blob(25 << 20, "killed"))
    dst = victim.p("containers", CONT, "objects", "killed")
    writer = subprocess.Popen(["/usr/bin/python3", "-c",
                               "import sys, time; f = open(sys.argv[2], 'wb');"
                               " f.write(open(sys.argv[1], 'rb').read(21 << 20)); f.flush(); time.sleep(120)",
                               str(src), dst], stderr=subprocess.DEVNULL)
    try:
        # Two whole segments and the mark are in Swift; then cloudfs itself is killed.
        def sent():
            names = swift("list", SEGS, env=env, check=False).split()
            return len([n for n in names if n.startswith("killed/slo/")]) >= 2 and \
                [n for n in names if n.startswith(".cloudfs-uploads/")]
        assert wait_for(sent, timeout=120), swift("list", SEGS, env=env, check=False)
    finally:
        victim.kill()
        writer.kill()
        writer.wait()
    left = swift("list", SEGS, env=env).split()
    assert [n for n in left if n.startswith("killed/slo/")], left
    assert "killed" not in objects(env)
    # The next mount on this host: its background sweep deletes the segments and the mark.
    nxt = mount(tmp_path_factory, env, "e2e-swiftx-next")
    try:
        gone = wait_for(lambda: not [n for n in swift("list", SEGS, env=env).split()
                                     if n.startswith(("killed/", ".cloudfs-uploads/"))], timeout=120)
        assert gone, swift("list", SEGS, env=env)
        assert "deleting its segments" in nxt.log()
    finally:
        nxt.unmount()
    # The segments of the object that did land (big.bin) are untouched.
    assert len([n for n in swift("list", SEGS, env=env).split() if n.startswith("big.bin/slo/")]) == 3
    assert objects(env)["big.bin"]["Bytes"] == 30 << 20


def test_dlo_and_symlinks_in_the_tree(cont, env, tmp_path):
    # Made with the swift client and curl, as another tool would: a DLO over two segments, a
    # symlink to an object, one in a subdirectory, one to another account.
    for i, text in enumerate((b"hello ", b"world")):
        (tmp_path / f"s{i}").write_bytes(text)
        swift("upload", "--object-name", f"dseg/{i}", CONT, str(tmp_path / f"s{i}"), env=env)
    (tmp_path / "t").write_bytes(b"target\n")
    swift("upload", "--object-name", "sub/t.txt", CONT, str(tmp_path / "t"), env=env)
    token = osc("token", "issue", env=env)["id"]
    url = [e["url"] for e in osc("catalog", "show", "object-store", env=env)["endpoints"]
           if e["interface"] == "public"][0]
    for name, hdrs in (("dlo", [f"X-Object-Manifest: {CONT}/dseg/"]),
                       ("ln", [f"X-Symlink-Target: {CONT}/sub/t.txt"]),
                       ("sub/up", [f"X-Symlink-Target: {CONT}/dseg/0"]),
                       ("far", [f"X-Symlink-Target: {CONT}/sub/t.txt", "X-Symlink-Target-Account: AUTH_elsewhere"])):
        cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", f"X-Auth-Token: {token}",
               "--data-binary", ""]
        for h in hdrs:
            cmd += ["-H", h]
        assert subprocess.run(cmd + [f"{url}/{CONT}/{name}"], capture_output=True, text=True).stdout == "201"
    assert wait_for(lambda: {"dlo", "ln", "sub/up", "far"} <= set(objects(env)), timeout=60)
    assert objects(env)["dlo"]["Bytes"] == 0            # what the listing says of a DLO
    # The mount: the DLO as listed (0 bytes: ls -l never HEADs) until it is opened; then its
    # real size and all its bytes. The symlinks are links that stay in the tree.
    assert os.stat(f"{cont}/dlo").st_size == 0
    saved = tmp_path / "dlo.saved"
    osc("object", "save", "--file", str(saved), CONT, "dlo", env=env, parse=False)
    assert saved.read_bytes() == b"hello world"
    assert subprocess.run(["cmp", str(saved), f"{cont}/dlo"]).returncode == 0
    assert os.stat(f"{cont}/dlo").st_size == 11
    assert subprocess.run(["cp", f"{cont}/dlo", str(tmp_path / "dlo.cp")]).returncode == 0
    assert (tmp_path / "dlo.cp").read_bytes() == b"hello world"
    assert os.readlink(f"{cont}/ln") == f"../../{CONT}/objects/sub/t.txt"
    assert os.readlink(f"{cont}/sub/up") == f"../../../{CONT}/objects/dseg/0"
    with open(f"{cont}/ln", "rb") as f:
        assert f.read() == b"target\n"
    assert "far" not in os.listdir(cont)
    # rm of a link: the link object goes, its target stays.
    os.unlink(f"{cont}/ln")
    assert wait_for(lambda: "ln" not in objects(env), timeout=60)
    assert "sub/t.txt" in objects(env)


def test_explicit_times_fail_eperm(cont, env, tmp_path):
    (tmp_path / "p").write_bytes(b"times")
    assert sh(f"cp {tmp_path / 'p'} {cont}/p.txt").returncode == 0
    out = sh(f"touch -d 2001-01-01 {cont}/p.txt")
    assert out.returncode != 0 and "Operation not permitted" in out.stderr
    out = sh(f"cp -p {tmp_path / 'p'} {cont}/p2.txt")
    assert out.returncode != 0 and "preserving times" in out.stderr and "Operation not permitted" in out.stderr
    # The bytes are in nonetheless; Swift's time is the upload's.
    saved = tmp_path / "p2.saved"
    osc("object", "save", "--file", str(saved), CONT, "p2.txt", env=env, parse=False)
    assert saved.read_bytes() == b"times"
