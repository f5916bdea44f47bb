"""Swift's upload marks and the next mount's sweep, for what a killed cloudfs leaves when it
overwrites a large object, and the segments container of a container whose name is too long for
"<name>_segments" (docs/SEMANTICS.md, "Large objects"). Against the fake's Swift
(tests/fake/svc_swift.py), which has real Swift's 256-byte container name limit."""

import json
import os
import subprocess

import pytest

from mountutil import poll, read, sh
from test_swift import C, boot_id, data, demo_project, info_mount, seed, swift_state, write


def scanned(mnt):
    return poll(lambda: "startup_scan done" in read(mnt.p(".cloudfs", "status")), timeout=30)


@pytest.mark.parametrize("new_size", [2 * (1 << 20) + 1, 1000], ids=["large", "small"])
def test_killed_after_overwrite_landed_old_segments_deleted_by_next_mount(fake, mount_factory, tmp_path,
                                                                          new_size):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    os.mkdir(mnt.p(C, "site"))
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, data(3 << 20, 1))
    write(b, data(new_size, 2))
    dst = mnt.p(C, "site", "objects", "big")
    assert sh(f"cp {a} {dst}").returncode == 0
    old = swift_state(fake)["site"]["big"]["segments"]
    assert len(old) == 3
    # Overwrite it; the first DELETE of an old segment (after the new object landed) hangs, and
    # cloudfs is killed right there.
    acct = f"/swift/v1/AUTH_{demo_project(fake)}"
    fake.fault(path=acct + old[0].rsplit("/", 1)[0] + "/", method="DELETE", delay_ms=60000, count=1)
    writer = subprocess.Popen(["cp", str(b), dst], stderr=subprocess.DEVNULL)
    assert poll(lambda: fake._control("GET", "faults") == [], timeout=20)
    state = swift_state(fake)
    assert state["site"]["big"]["size"] == new_size
    assert [k for k in state["site_segments"] if k.startswith(".cloudfs-uploads/")], state
    mnt.kill()
    writer.kill()
    writer.wait()
    fake.clear_faults()
    segs = swift_state(fake)["site_segments"]
    assert {"/site_segments/" + k for k in segs} >= set(old[1:])        # orphans, so far
    # The next mount on this host finds the mark of the process that is gone: the old object's
    # segments go, the new object's stay, and it reads back byte for byte.
    other = mount_factory("-o", "cache_ttl=2", name="next")
    assert scanned(other)
    state = swift_state(fake)
    assert {"/site_segments/" + k for k in state["site_segments"]} == set(state["site"]["big"]["segments"])
    assert len(state["site"]["big"]["segments"]) == (3 if new_size > 1 << 20 else 0)
    assert sh(f"cmp {b} {other.p(C, 'site', 'objects', 'big')}").returncode == 0
    assert "segments of the object a cloudfs that ended" in other.log()


def dead_marker():
    """The marker of a cloudfs of this host and boot that has ended (a pid with another start)."""
    return f"host={os.uname().nodename} boot={boot_id()} pid={os.getpid()} start=1"


def mark(doc):
    return {"data": json.dumps(doc), "content_type": "application/json"}


def test_sweep_never_deletes_segments_the_live_manifest_names(fake, mount_factory, tmp_path):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    os.mkdir(mnt.p(C, "site"))
    write(tmp_path / "big", data(3 << 20))
    assert sh(f"cp {tmp_path / 'big'} {mnt.p(C, 'site', 'objects', 'big')}").returncode == 0
    live = swift_state(fake)["site"]["big"]["segments"]
    # A dead cloudfs's mark that says it replaced these segments (and one other): its upload never
    # landed, and the object's manifest still names them (another client's write, say).
    seed(fake, site_segments={
        "stray/00000000": "x",
        ".cloudfs-uploads/1-2-3-00000000": mark(
            {"marker": dead_marker(), "container": "site", "object": "big",
             "prefix": "big/slo/1-2-3-00000000/", "old": live + ["/site_segments/stray/00000000"]})})
    other = mount_factory("-o", "cache_ttl=2", name="next")
    assert scanned(other)
    state = swift_state(fake)
    # Only the segment no manifest names went, with the mark.
    assert {"/site_segments/" + k for k in state["site_segments"]} == set(live)
    assert sh(f"cmp {tmp_path / 'big'} {other.p(C, 'site', 'objects', 'big')}").returncode == 0


def test_sweep_keeps_old_segments_of_an_object_that_is_gone(fake, mount_factory, tmp_path):
    # The object is gone (deleted, or renamed: the new name's manifest may use the segments):
    # what the mark calls old stays; only the mark goes.
    seed(fake, site={}, site_segments={
        "x/1": "a", "x/2": "b",
        ".cloudfs-uploads/1-2-3-00000000": mark(
            {"marker": dead_marker(), "container": "site", "object": "gone",
             "prefix": "gone/slo/1-2-3-00000000/", "old": ["/site_segments/x/1", "/site_segments/x/2"]})})
    other = mount_factory("-o", "cache_ttl=2", name="next")
    assert scanned(other)
    assert sorted(swift_state(fake)["site_segments"]) == ["x/1", "x/2"]


def test_long_container_name_segments_go_to_a_hashed_container(fake, mount_factory, tmp_path):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    # 250 bytes (a file name's most is 255): "<it>_segments" would be 259, over Swift's 256,
    # which the fake enforces as Swift does (400).
    name = "c" * 240 + "é" * 5
    os.mkdir(mnt.p(C, name))
    blob = data((3 << 20) + 5)
    write(tmp_path / "big", blob)
    dst = mnt.p(C, name, "objects", "big")
    out = sh(f"cp {tmp_path / 'big'} {dst}")
    assert out.returncode == 0, out.stderr
    state = swift_state(fake)
    segs = [c for c in state if c.endswith("_segments")]
    assert len(segs) == 1 and len(segs[0].encode()) == 256, segs
    assert segs[0].startswith("c" * 230 + "-")
    obj = state[name]["big"]
    assert obj["slo"] and obj["size"] == len(blob)
    assert all(s.startswith(f"/{segs[0]}/big/slo/") for s in obj["segments"])
    assert sh(f"cmp {tmp_path / 'big'} {dst}").returncode == 0
    # Overwritten: the old segments go; rm: the rest go.
    write(tmp_path / "b2", data((2 << 20) + 1, 3))
    assert sh(f"cp {tmp_path / 'b2'} {dst}").returncode == 0
    state = swift_state(fake)
    assert {f"/{segs[0]}/" + k for k in state[segs[0]]} == set(state[name]["big"]["segments"])
    os.unlink(dst)
    assert swift_state(fake)[segs[0]] == {}


def test_long_container_name_killed_upload_swept(fake, mount_factory, tmp_path):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    name = "d" * 250
    os.mkdir(mnt.p(C, name))
    write(tmp_path / "big", data(4 << 20))
    writer = subprocess.Popen(["/usr/bin/python3", "-c",
                               "import sys, time; f = open(sys.argv[2], 'wb');"
                               " f.write(open(sys.argv[1], 'rb').read(2500000)); f.flush(); time.sleep(60)",
                               str(tmp_path / "big"), mnt.p(C, name, "objects", "big")],
                              stderr=subprocess.DEVNULL)

    def segs():
        return {c: v for c, v in swift_state(fake).items() if c.endswith("_segments")}
    assert poll(lambda: sum(len(v) for v in segs().values()) >= 3, timeout=20), segs()
    mnt.kill()
    writer.kill()
    writer.wait()
    other = mount_factory("-o", "cache_ttl=2", name="next")
    assert scanned(other)
    assert list(segs().values()) == [{}]
    assert "big" not in swift_state(fake)[name]


def test_old_segments_swift_will_not_delete_are_deleted_by_a_later_mount(fake, mount_factory, tmp_path):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    os.mkdir(mnt.p(C, "site"))
    write(tmp_path / "a", data(3 << 20, 1))
    write(tmp_path / "b", data(100, 2))
    dst = mnt.p(C, "site", "objects", "big")
    assert sh(f"cp {tmp_path / 'a'} {dst}").returncode == 0
    old = swift_state(fake)["site"]["big"]["segments"]
    # Swift refuses to delete the old segments: the overwrite stands (close returns 0), and its
    # mark stays, naming them.
    acct = f"/swift/v1/AUTH_{demo_project(fake)}"
    fake.fault(path=acct + old[0].rsplit("/", 1)[0] + "/", method="DELETE", status=503, count=-1)
    out = sh(f"cp {tmp_path / 'b'} {dst}")
    assert out.returncode == 0, out.stderr
    segs = swift_state(fake)["site_segments"]
    assert {"/site_segments/" + k for k in segs if not k.startswith(".cloudfs-uploads/")} == set(old)
    assert len([k for k in segs if k.startswith(".cloudfs-uploads/")]) == 1
    mnt.unmount()
    fake.clear_faults()
    # The next mount (the process that wrote the mark has ended) deletes them, then the mark.
    other = mount_factory("-o", "cache_ttl=2", name="next")
    assert scanned(other)
    assert swift_state(fake)["site_segments"] == {}
    assert sh(f"cmp {tmp_path / 'b'} {other.p(C, 'site', 'objects', 'big')}").returncode == 0
