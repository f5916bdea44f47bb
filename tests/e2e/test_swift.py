"""Swift end to end: containers/ and objects/ on devcloud's Swift 2.30 through plain tools, each
result cross-checked with `openstack container/object ...` and `swift` (python3-swiftclient)."""

import errno
import hashlib
import json
import os
import subprocess

import pytest

from conftest import RUN, blob, openrc_env, osc, swift, wait_for
from mountutil import Mount, read, sh, start_cloudfs

CONT = f"e2e-swift-{RUN}"
SEG = 10 << 20          # -o part_size: a 30 MiB copy is three segments


def run(cmd, timeout=900):
    """A long shell command (a thousand files): sh()'s 60 s are not enough on devcloud."""
    return subprocess.run(cmd, shell=True, executable="/bin/bash", capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def env():
    e = openrc_env()
    if not osc("catalog", "show", "object-store", env=e, check=False):
        raise pytest.UsageError("devcloud has no object-store: run contrib/devcloud/up.sh")
    return e


@pytest.fixture(scope="module")
def smnt(tmp_path_factory, env):
    path = str(tmp_path_factory.mktemp("e2e-swift") / "mnt")
    proc, log = start_cloudfs(path, env, ["-o", f"cache_ttl=1,negative_ttl=1,part_size={SEG}"],
                              timeout=30)
    m = Mount(path, proc, log)
    yield m
    m.unmount()
    for c in (CONT, CONT + "_segments", CONT + "-b"):
        swift("delete", c, env=env, check=False)


@pytest.fixture(scope="module")
def cont(smnt, env):
    os.mkdir(smnt.p("containers", CONT))
    return smnt.p("containers", CONT, "objects")


def objects(env, container=CONT):
    """{name: {"Name", "Bytes", "Hash", "Content Type", "Last Modified"}} by the CLI."""
    return {o["Name"]: o for o in osc("object", "list", "--long", "--all", container, env=env)}


def test_container_made_and_listed(smnt, cont, env):
    shown = osc("container", "show", CONT, env=env)
    assert shown["container"] == CONT
    assert CONT in os.listdir(smnt.p("containers"))
    assert int(read(smnt.p("containers", CONT, "count"))) == int(shown["object_count"])


def test_small_object_roundtrip(cont, env, tmp_path):
    data = b"<h1>hello</h1>\n" * 1000
    src = tmp_path / "index.html"
    src.write_bytes(data)
    assert sh(f"cp {src} {cont}/index.html").returncode == 0
    shown = osc("object", "show", CONT, "index.html", env=env)
    assert shown["etag"] == hashlib.md5(data).hexdigest()
    assert int(shown["content-length"]) == len(data)
    assert shown["content-type"] == "text/html"
    out = tmp_path / "back"
    osc("object", "save", "--file", str(out), CONT, "index.html", env=env, parse=False)
    assert out.read_bytes() == data
    assert sh(f"cmp {src} {cont}/index.html").returncode == 0
    assert os.stat(f"{cont}/index.html").st_size == len(data)


def test_large_object_is_an_slo(cont, env, tmp_path):
    data = blob(30 << 20, "big")
    src = tmp_path / "big.iso"
    src.write_bytes(data)
    out = sh(f"cp {src} {cont}/big.iso")
    assert out.returncode == 0, out.stderr
    stat = swift("stat", CONT, "big.iso", env=env)
    assert "Manifest" in stat or "X-Static-Large-Object: True" in stat or "Static Large" in stat, stat
    segs = swift("list", CONT + "_segments", env=env).split()
    assert len(segs) == 3 and all(s.startswith("big.iso/slo/") for s in segs)
    saved = tmp_path / "saved"
    osc("object", "save", "--file", str(saved), CONT, "big.iso", env=env, parse=False)
    assert hashlib.md5(saved.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()
    # The container listing's size is the whole object's: ls -l is exact.
    assert objects(env)["big.iso"]["Bytes"] == len(data)
    assert os.stat(f"{cont}/big.iso").st_size == len(data)
    assert sh(f"cmp {src} {cont}/big.iso").returncode == 0
    with open(f"{cont}/big.iso", "rb") as f:
        f.seek(17 << 20)
        assert f.read(1 << 20) == data[17 << 20:18 << 20]
    # Overwritten by a smaller one: the old segments go once the new one is in.
    small = blob(12 << 20, "again")
    src.write_bytes(small)
    assert sh(f"cp {src} {cont}/big.iso").returncode == 0
    segs2 = swift("list", CONT + "_segments", env=env).split()
    assert len(segs2) == 2 and not set(segs) & set(segs2)
    # rm removes the manifest and its segments.
    os.unlink(f"{cont}/big.iso")
    assert "big.iso" not in objects(env)
    assert swift("list", CONT + "_segments", env=env).split() == []


def test_killed_upload_leaves_nothing(cont, env, tmp_path):
    src = tmp_path / "k"
    src.write_bytes(blob(25 << 20, "kill"))
    writer = ("import sys, time; f = open(sys.argv[2], 'wb'); f.write(open(sys.argv[1], 'rb').read(21 << 20));"
              " f.flush(); time.sleep(60)")
    sh(f"/usr/bin/python3 -c \"{writer}\" {src} {cont}/killed & pid=$!; sleep 8; kill -9 $pid; wait $pid")
    assert wait_for(lambda: swift("list", CONT + "_segments", env=env).split() == [], timeout=60)
    assert "killed" not in objects(env)


def test_tree_markers_and_listing(cont, env, tmp_path):
    # Made with the CLI: a marker "docs/" (swift's convention), objects below it, a bare marker.
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    for name, ctype in (("docs/", "application/directory"), ("docs/a/b.txt", "text/plain"),
                        ("notes", "application/directory"), ("notes/n1", "text/plain")):
        f = tmp_path / "payload"
        f.write_bytes(b"" if ctype == "application/directory" else name.encode())
        swift("upload", "--object-name", name, "-H", f"Content-Type: {ctype}", CONT, str(f), env=env)
    names = os.listdir(cont)
    assert names.count("docs") == 1 and names.count("notes") == 1
    assert os.path.isdir(f"{cont}/docs/a") and read(f"{cont}/docs/a/b.txt") == "docs/a/b.txt"
    listed = sh(f"cd {cont} && find . -type f | sort").stdout.split()
    cli = sorted("./" + n for n, o in objects(env).items()
                 if not n.endswith("/") and o.get("Content Type") != "application/directory")
    assert [p for p in listed if not p.startswith("./index")] == [p for p in cli if not p.startswith("./index")]
    # rmdir of a non-empty directory: ENOTEMPTY; rm -r removes objects and markers.
    with pytest.raises(OSError) as e:
        os.rmdir(f"{cont}/docs")
    assert e.value.errno == errno.ENOTEMPTY
    assert sh(f"rm -r {cont}/docs {cont}/notes").returncode == 0
    assert not os.path.exists(f"{cont}/docs") and not os.path.exists(f"{cont}/notes")
    # Swift's own listing catches up with the deletes (its container updates are asynchronous).
    assert wait_for(lambda: not any(n.startswith(("docs", "notes")) for n in objects(env)), timeout=90), \
        objects(env)


def test_mkdir_writes_a_marker(cont, env):
    os.mkdir(f"{cont}/made")
    o = objects(env)["made/"]
    assert o["Bytes"] == 0 and o["Content Type"] == "application/directory"
    os.rmdir(f"{cont}/made")
    assert "made/" not in objects(env)


def test_rsync_1000_files_then_nothing(cont, env, tmp_path):
    src = tmp_path / "site"
    for i in range(1000):
        d = src / f"d{i % 10}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:04d}.txt").write_bytes(f"file {i}\n".encode())
    out = run(f"rsync -r --size-only --delete {src}/ {cont}/site/")
    assert out.returncode == 0, out.stdout + out.stderr
    names = [n for n in objects(env) if n.startswith("site/") and not n.endswith("/")]
    assert len(names) == 1000
    again = run(f"rsync -r --size-only --delete --stats {src}/ {cont}/site/")
    assert again.returncode == 0, again.stderr
    assert "Number of regular files transferred: 0" in again.stdout
    assert run(f"diff -r {src} {cont}/site").returncode == 0


def test_metadata_xattrs(cont, env, tmp_path):
    (tmp_path / "m").write_bytes(b"meta")
    assert sh(f"cp {tmp_path / 'm'} {cont}/m.txt").returncode == 0
    assert sh(f"setfattr -n user.swift.meta.owner -v ops {cont}/m.txt").returncode == 0
    shown = osc("object", "show", CONT, "m.txt", env=env)
    assert "owner='ops'" in str(shown.get("properties")) or shown.get("properties", {}).get("Owner") == "ops" \
        or "ops" in json.dumps(shown), shown
    stat = swift("stat", CONT, "m.txt", env=env)
    assert "Meta Owner: ops" in stat, stat
    out = sh(f"getfattr -d {cont}/m.txt")
    assert 'user.swift.meta.owner="ops"' in out.stdout
    out = sh(f"getfattr -n user.swift.etag {cont}/m.txt")
    assert f'user.swift.etag="{hashlib.md5(b"meta").hexdigest()}"' in out.stdout


def test_mv_and_container_rmdir(smnt, cont, env):
    assert sh(f"mv {cont}/m.txt {cont}/renamed.txt").returncode == 0
    o = objects(env)
    assert "m.txt" not in o and "renamed.txt" in o
    save = subprocess.run(["/usr/bin/openstack", "object", "save", "--file", "-", CONT, "renamed.txt"],
                          env=env, capture_output=True, timeout=120)
    assert save.stdout == b"meta"
    with pytest.raises(OSError) as e:
        os.rmdir(smnt.p("containers", CONT))
    assert e.value.errno == errno.ENOTEMPTY
    out = run(f"rm -rf {cont}/*")
    assert out.returncode == 0, out.stderr
    assert os.listdir(cont) == []
    # Swift refuses to delete the container (409, ENOTEMPTY) until its object count has caught
    # up with the deletes; then rmdir succeeds.
    assert wait_for(lambda: run(f"rmdir {smnt.p('containers', CONT)}").returncode == 0, timeout=120)
    assert osc("container", "show", CONT, env=env, check=False, parse=False).returncode != 0


def test_container_metadata_and_public_read(smnt, env, tmp_path):
    c = CONT + "-b"
    d = smnt.p("containers", c)
    os.mkdir(d)
    (tmp_path / "p.txt").write_bytes(b"public\n")
    assert sh(f"cp {tmp_path / 'p.txt'} {d}/objects/p.txt").returncode == 0
    out = sh(f"echo Marketing > {d}/metadata/owner && echo '.r:*,.rlistings' > {d}/read")
    assert out.returncode == 0, out.stderr
    stat = swift("stat", c, env=env)
    assert "Meta Owner: Marketing" in stat and ".r:*,.rlistings" in stat, stat
    assert read(f"{d}/metadata/owner") == "Marketing\n"
    # Public now: the object reads without a token.
    url = [e["url"] for e in osc("catalog", "show", "object-store", env=env)["endpoints"]
           if e["interface"] == "public"][0]
    anon = subprocess.run(["curl", "-s", f"{url}/{c}/p.txt"], capture_output=True, timeout=60)
    assert anon.stdout == b"public\n"
    assert sh(f"echo > {d}/read && rm {d}/metadata/owner").returncode == 0
    stat = swift("stat", c, env=env)
    assert "Marketing" not in stat and ".r:*" not in stat, stat


def test_empty_action_bulk_deletes(smnt, env, tmp_path):
    c = CONT + "-b"
    d = smnt.p("containers", c)
    src = tmp_path / "many"
    src.mkdir()
    for i in range(300):
        (src / f"f{i:03d}").write_bytes(b"x" * (i % 7))
    (src / "large").write_bytes(blob(25 << 20, "empty"))
    out = run(f"cp -r {src}/. {d}/objects/")
    assert out.returncode == 0, out.stderr
    assert len(swift("list", c, env=env).split()) >= 301
    out = run(f"echo empty > {d}/action")
    assert out.returncode == 0, out.stderr
    assert wait_for(lambda: swift("list", c, env=env).split() == [], timeout=90)
    assert wait_for(lambda: swift("list", c + "_segments", env=env, check=False).split() == [], timeout=90)
    assert os.listdir(f"{d}/objects") == []
    assert wait_for(lambda: run(f"rmdir {d}").returncode == 0, timeout=120)
    assert osc("container", "show", c, env=env, check=False, parse=False).returncode != 0
