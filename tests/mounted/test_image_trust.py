"""Image data from a Glance that cannot be trusted (docs/SEMANTICS.md, "Security and trust"): a
download gives the image's bytes or fails (EIO, ETIMEDOUT), never wrong bytes, a short or a long
file; a failed upload leaves no image behind even when Glance refuses the cleanup for a while.

The fake's "_download" knobs (tests/fake/fake_openstack.py) make it misbehave; each test turns one
on for one image, so the fake stays faithful for everything else."""

import errno
import hashlib
import os
import subprocess
import sys
import time

import pytest

from mountutil import poll, read, sh, start_cloudfs

MiB = 1 << 20


def upload(m, fake, tmp_path, name, data):
    src = tmp_path / name
    src.write_bytes(data)
    out = sh(f"cp {src} {m.p('images')}/")
    assert out.returncode == 0, out.stderr
    (img,) = [i for i in fake.state()["images"] if i["name"] == name]
    return img["id"]


def knob(fake, iid, **download):
    fake.update("images", iid, _download=download)


def dd(path, *args, timeout=60):
    return subprocess.run(["dd", f"if={path}", "status=none", *args], capture_output=True, timeout=timeout)


def read_errno(path, offset=0, size=MiB):
    """Reads @path from @offset to its end in @size pieces: (bytes, errno or 0)."""
    got = bytearray()
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            try:
                b = os.pread(fd, size, offset + len(got))
            except OSError as e:
                return bytes(got), e.errno
            if not b:
                return bytes(got), 0
            got += b
    finally:
        os.close(fd)


# ------------------------------------------------------------------------- downloads
def test_range_answered_with_200_never_gives_bytes_from_the_start(mnt, fake, tmp_path):
    data = os.urandom(3 * MiB + 77)
    iid = upload(mnt, fake, tmp_path, "norange.raw", data)
    knob(fake, iid, ignore_range=True)
    path = mnt.p("images", iid, "data")
    out = dd(path, "bs=4096", "skip=300", "count=10")
    # Either the right bytes or a failure: never the image's first bytes at offset 1.2 MiB.
    assert out.stdout == data[300 * 4096:310 * 4096], "wrong bytes served for a Range answered 200"
    assert out.returncode == 0
    got, err = read_errno(path, len(data) - 1000)
    assert (got, err) == (data[-1000:], 0)


def test_content_range_that_is_not_the_one_asked_for_is_eio(mnt, fake, tmp_path):
    data = os.urandom(2 * MiB)
    iid = upload(mnt, fake, tmp_path, "badrange.raw", data)
    knob(fake, iid, content_range=f"bytes 0-{MiB - 1}/{2 * MiB}")
    got, err = read_errno(mnt.p("images", iid, "data"), MiB)
    assert err == errno.EIO and got == b""
    assert "Content-Range" in read(mnt.p(".cloudfs", "errors"))


def test_short_body_fails_cp_with_eio(mnt, fake, tmp_path):
    data = os.urandom(2 * MiB + 5)
    iid = upload(mnt, fake, tmp_path, "short.raw", data)
    knob(fake, iid, short=1000)
    out = sh(f"cp {mnt.p('images', iid, 'data')} {tmp_path / 'copy'}")
    assert out.returncode != 0, "cp exited 0 with a short copy"
    assert "Input/output error" in out.stderr
    got, err = read_errno(mnt.p("images", iid, "data"))
    assert err == errno.EIO and data.startswith(got)


def test_long_body_fails_with_eio_and_gives_no_byte_past_the_size(mnt, fake, tmp_path):
    data = os.urandom(MiB + 3)
    iid = upload(mnt, fake, tmp_path, "long.raw", data)
    knob(fake, iid, extra="X" * 5000)
    out = sh(f"cp {mnt.p('images', iid, 'data')} {tmp_path / 'copy'}")
    assert out.returncode != 0 and "Input/output error" in out.stderr
    got, err = read_errno(mnt.p("images", iid, "data"))
    assert err == errno.EIO and len(got) <= len(data) and data.startswith(got)


def test_bytes_that_do_not_match_glances_checksum_fail_the_copy(mnt, fake, tmp_path):
    data = os.urandom(3 * MiB)
    iid = upload(mnt, fake, tmp_path, "flipped.raw", data)
    knob(fake, iid, corrupt=True)
    out = sh(f"cp {mnt.p('images', iid, 'data')} {tmp_path / 'copy'}")
    assert out.returncode != 0 and "Input/output error" in out.stderr
    assert "checksum" in read(mnt.p(".cloudfs", "errors"))
    # The digest is known only at the end: a reader that stops before (cmp at the first
    # difference, head) is not told. Documented in SEMANTICS ("Security and trust").


def test_a_mismatch_far_behind_the_reads_fails_the_last_read(mnt, fake, tmp_path):
    # The digest is computed by a thread of its own, up to HASHER_BACKLOG (2 MiB) behind the
    # reads: with 24 MiB, the flipped byte (at 12 MiB) is hashed long after the read that gave
    # it, and the read that reaches the end must still wait for the verdict and fail.
    data = os.urandom(24 * MiB + 5)
    iid = upload(mnt, fake, tmp_path, "far.raw", data)
    knob(fake, iid, corrupt=True)
    path = mnt.p("images", iid, "data")
    got, err = read_errno(path)
    assert err == errno.EIO, "a whole read of bytes that are not the image's ended without EIO"
    # every read before the end was answered; only the one that reached the end failed
    assert len(got) == 24 * MiB and got[:12 * MiB] == data[:12 * MiB]
    # the same when the read starts at an offset and Glance ignores the Range (200, whole
    # body): the bytes before the offset are dropped, but hashed first and in order
    knob(fake, iid, corrupt=True, ignore_range=True)
    at = 5 * MiB + 4097  # not a whole number of the hasher's 1 MiB copy blocks
    got, err = read_errno(path, at)
    assert err == errno.EIO and len(got) == 18 * MiB  # the last read (to the end) failed
    # and a faithful Glance that ignores the Range: the same bytes, no error
    knob(fake, iid, ignore_range=True)
    assert read_errno(path, at) == (data[at:], 0)


def test_a_stalled_body_fails_the_read_once_and_does_not_reopen(mount_factory, fake, tmp_path):
    # timeout=1: one second without a byte is a stall. The fake sends 64 KiB of each answer and
    # then nothing; reopening at each read would take a second per 64 KiB (a minute for 4 MiB).
    m = mount_factory("-o", "timeout=1")
    data = os.urandom(4 * MiB)
    iid = upload(m, fake, tmp_path, "stall.raw", data)
    knob(fake, iid, stall_after=64 * 1024)
    fake.clear_requests()
    # reads bigger than the 64 KiB that arrive: the first gets them after a wait, and the
    # next fails at once; it must not reopen with a Range and wait again at each read
    out = sh(f"dd if={m.p('images', iid, 'data')} of={tmp_path / 'copy'} bs=100k status=none")
    assert out.returncode != 0 and "Connection timed out" in out.stderr, out
    gets = fake.requests(method="GET", path_prefix=f"/image/v2/images/{iid}/file")
    assert len(gets) == 1, f"{len(gets)} GETs for one stalled copy"
    assert (tmp_path / "copy").read_bytes() == data[:64 * 1024]
    # cp's bigger reads: the first one waits, and fails
    out = sh(f"cp {m.p('images', iid, 'data')} {tmp_path / 'copy1'}")
    assert out.returncode != 0 and "Connection timed out" in out.stderr
    # the mount answers, and a new open after the cloud recovers reads it whole
    knob(fake, iid)
    out = sh(f"cp {m.p('images', iid, 'data')} {tmp_path / 'copy2'}")
    assert out.returncode == 0 and (tmp_path / "copy2").read_bytes() == data


def test_whole_reads_still_match(mnt, fake, tmp_path):
    # the checks cost nothing to a faithful Glance: cp, cmp and dd skip= see the image
    data = os.urandom(5 * MiB + 11)
    iid = upload(mnt, fake, tmp_path, "fine.raw", data)
    path = mnt.p("images", iid, "data")
    assert sh(f"cmp {path} {tmp_path / 'fine.raw'}").returncode == 0
    out = dd(path, "bs=1M", "skip=2")
    assert out.returncode == 0 and out.stdout == data[2 * MiB:]


# --------------------------------------------------------------------------- cleanup
def images_named(fake, name):
    return [i for i in fake.state()["images"] if i["name"] == name]


def status(m):
    return read(m.p(".cloudfs", "status"))


def test_cleanup_delete_is_retried_after_503s(mount_factory, fake, tmp_path):
    m = mount_factory("-o", "timeout=5")
    src = tmp_path / "retry.raw"
    src.write_bytes(os.urandom(2 * MiB))
    fake.fault(method="PUT", path="/image/v2/images/", status=500, after_bytes=MiB, count=1)
    fake.fault(method="DELETE", path="/image/v2/images/", status=503, count=2)
    out = sh(f"cp {src} {m.p('images')}/")
    assert out.returncode != 0
    assert images_named(fake, "retry.raw") == [], "a 503 to the cleanup DELETE left the image"
    deletes = fake.requests(method="DELETE", path_prefix="/image/v2/images/")
    assert [d["status"] for d in deletes] == [503, 503, 204]
    assert "images_to_delete 0" in status(m)


def test_cleanup_glance_keeps_refusing_is_owed_then_done_in_the_background(mount_factory, fake, tmp_path):
    m = mount_factory("-o", "timeout=1")
    src = tmp_path / "owed.raw"
    src.write_bytes(os.urandom(2 * MiB))
    fake.fault(method="PUT", path="/image/v2/images/", status=500, after_bytes=MiB, count=1)
    fake.fault(method="DELETE", path="/image/v2/images/", status=503, count=-1)
    out = sh(f"cp {src} {m.p('images')}/")
    assert out.returncode != 0
    (img,) = images_named(fake, "owed.raw")
    st = status(m)
    assert "images_to_delete 1" in st and f"image_to_delete {img['id']} owed.raw" in st, st
    fake.clear_faults()
    assert poll(lambda: images_named(fake, "owed.raw") == [], timeout=40), "never deleted in the background"
    assert poll(lambda: "images_to_delete 0" in status(m), timeout=5)


def test_cleanup_owed_at_unmount_is_tried_then(mount_factory, fake, tmp_path):
    m = mount_factory("-o", "timeout=1")
    src = tmp_path / "atexit.raw"
    src.write_bytes(os.urandom(2 * MiB))
    fake.fault(method="PUT", path="/image/v2/images/", status=500, after_bytes=MiB, count=1)
    fake.fault(method="DELETE", path="/image/v2/images/", status=503, count=-1)
    assert sh(f"cp {src} {m.p('images')}/").returncode != 0
    assert len(images_named(fake, "atexit.raw")) == 1
    fake.clear_faults()
    m.unmount()
    assert images_named(fake, "atexit.raw") == []


def test_upload_carries_a_marker_until_it_completes(mnt, fake, tmp_path):
    src = tmp_path / "marked.raw"
    src.write_bytes(os.urandom(MiB))
    assert sh(f"cp {src} {mnt.p('images')}/").returncode == 0
    creates = [r for r in fake.requests(method="POST", path_prefix="/image/v2/images") if r["status"] == 201]
    assert creates and "cloudfs_upload" in creates[-1]["body"]
    (img,) = images_named(fake, "marked.raw")
    assert "cloudfs_upload" not in img


def test_leftover_of_a_killed_daemon_is_deleted_at_the_next_mount(mount_factory, fake, tmp_path):
    # A daemon killed mid-upload cannot clean up (documented); its image carries the marker, and
    # the next mount on this host deletes it because that process is gone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(fake.env())
    path = str(tmp_path / "killed")
    proc, _ = start_cloudfs(path, env, ("-o", "timeout=2"))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, os.path.join(path, "images", "orphan.raw")],
                              stdout=subprocess.PIPE)
    try:
        assert writer.stdout.readline() == b"written\n"
        assert poll(lambda: images_named(fake, "orphan.raw"), timeout=10)
        proc.kill()
        proc.wait()
    finally:
        writer.kill()
        writer.wait()
        subprocess.run(["fusermount3", "-u", "-z", path], check=False)
    (img,) = images_named(fake, "orphan.raw")
    assert img["status"] in ("queued", "saving") and "cloudfs_upload" in img
    # one some other host's cloudfs is uploading, one without a marker, one of a live process
    # (this test's own): all left alone
    fake.seed(images=[{"name": "elsewhere", "status": "queued",
                       "cloudfs_upload": "host=another-host boot=x pid=1 start=1"},
                      {"name": "plain", "status": "queued"},
                      {"name": "alive", "status": "queued", "cloudfs_upload": img["cloudfs_upload"].replace(
                          f"pid={proc.pid} ", f"pid={os.getpid()} ").rsplit("start=", 1)[0]
                       + f"start={start_ticks(os.getpid())}"}])
    m2 = mount_factory("-o", "timeout=2")
    assert poll(lambda: images_named(fake, "orphan.raw") == [], timeout=15), "the leftover stayed"
    time.sleep(0.5)
    assert images_named(fake, "elsewhere") and images_named(fake, "plain") and images_named(fake, "alive")
    assert img["id"] in m2.log()


WRITER = """
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, os.urandom(1 << 20))
print("written", flush=True)
time.sleep(60)
"""


def start_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]
