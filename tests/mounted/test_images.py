"""Images through the tree (docs/SEMANTICS.md, "Images"): `cp file images/` streams a new image to
Glance with a disk_format from the content, `images/<id>/data` streams it back at any offset, and an
upload that fails in any way (cut off, refused, corrupted, writer killed, non-sequential writes)
leaves no image behind and fails close(2)."""

import errno
import hashlib
import os
import signal
import struct
import subprocess
import sys
import time

import pytest

from mountutil import ok, poll, read, sh

MiB = 1 << 20


# ------------------------------------------------------------------------------------ helpers
def images_named(fake, name):
    return [i for i in fake.state()["images"] if i["name"] == name]


def assert_is_image(img, path):
    """The file at @path holds exactly the image's bytes (Glance's md5 checksum)."""
    with open(path, "rb") as f:
        assert hashlib.md5(f.read()).hexdigest() == img["checksum"]


def value(path):
    return read(path).rstrip("\n")


def qcow2(rest):
    # magic, version 3, then a header-ish body
    return b"QFI\xfb" + struct.pack(">I", 3) + rest


def vmdk(rest):
    return b"KDMV" + struct.pack("<I", 1) + rest


def vdi(rest):
    head = b"<<< Oracle VM VirtualBox Disk Image >>>\n".ljust(64, b"\0") + struct.pack("<I", 0xBEDA107F)
    return head + rest


def vhd(rest):
    return b"conectix" + rest


def iso(rest):
    return b"\0" * 32769 + b"CD001" + b"\x01" + rest


def raw(rest):
    return b"\0\0\0\0" + rest          # starts with no signature at all


FORMATS = [("qcow2", qcow2), ("vmdk", vmdk), ("vdi", vdi), ("vhd", vhd), ("iso", iso), ("raw", raw)]


def write_file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def check_stored(fake, name, data, disk_format=None):
    """The cloud holds exactly `data` as one active image named `name`; -> the image."""
    (img,) = images_named(fake, name)
    md5 = hashlib.md5(data).hexdigest()
    assert img["status"] == "active"
    assert img["container_format"] == "bare"
    if disk_format:
        assert img["disk_format"] == disk_format
    assert img["size"] == len(data)
    assert img["checksum"] == md5 and img["_data_md5"] == md5
    assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    return img


# ------------------------------------------------------------------------------------ uploads
@pytest.mark.parametrize("fmt,make", FORMATS, ids=[f for f, _ in FORMATS])
def test_cp_uploads_with_the_disk_format_of_the_content(mnt, fake, tmp_path, fmt, make):
    data = make(os.urandom(300 * 1024 + 17))
    src = write_file(tmp_path, f"disk-{fmt}.img", data)
    ok(sh(f"cp {src} {mnt.p('images')}/"))
    img = check_stored(fake, f"disk-{fmt}.img", data, fmt)
    (post,) = [r for r in fake.requests(method="POST", path_prefix="/image/v2/images")]
    assert post["body"]["name"] == f"disk-{fmt}.img" and post["body"]["disk_format"] == fmt
    assert post["body"]["container_format"] == "bare"
    puts = fake.requests(method="PUT", path_prefix=f"/image/v2/images/{img['id']}/file")
    assert [p["status"] for p in puts] == [204] and puts[0]["length"] == len(data)
    # visible at once, by name and id, with the cloud's values
    iid = os.readlink(mnt.p("images", f"disk-{fmt}.img"))
    assert iid == img["id"]
    d = mnt.p("images", iid)
    assert value(os.path.join(d, "status")) == "active"
    assert value(os.path.join(d, "disk_format")) == fmt
    assert value(os.path.join(d, "checksum")) == hashlib.md5(data).hexdigest()
    # and back, byte for byte
    out = tmp_path / "back"
    ok(sh(f"cp {mnt.p('images', iid, 'data')} {out} && cmp {src} {out}"))
    assert os.stat(mnt.p("images", iid, "data")).st_size == len(data)


def test_big_image_round_trip(mnt, fake, tmp_path):
    data = os.urandom(50 * MiB)
    src = write_file(tmp_path, "big.raw", data)
    t0 = time.monotonic()
    ok(sh(f"cp {src} {mnt.p('images')}/"))
    up = time.monotonic() - t0
    img = check_stored(fake, "big.raw", data, "raw")
    out = tmp_path / "big.back"
    ok(sh(f"cp {mnt.p('images', img['id'], 'data')} {out}"))
    ok(sh(f"cmp {src} {out}"))
    assert up < 30, f"upload of 50 MiB took {up:.1f} s"


def test_read_at_an_offset(mnt, fake, tmp_path):
    data = os.urandom(3 * MiB + 123)
    src = write_file(tmp_path, "ranged.raw", data)
    ok(sh(f"cp {src} {mnt.p('images')}/"))
    iid = images_named(fake, "ranged.raw")[0]["id"]
    path = mnt.p("images", iid, "data")
    fake.clear_requests()
    out = subprocess.run(["dd", f"if={path}", "bs=4096", "skip=300", "count=10", "status=none"],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == data[300 * 4096:310 * 4096]
    # the bytes came from a ranged GET, not the whole image
    gets = fake.requests(method="GET", path_prefix=f"/image/v2/images/{iid}/file")
    assert gets and all(g["status"] in (200, 206) for g in gets)
    with open(path, "rb") as f:
        assert os.pread(f.fileno(), 1000, len(data) - 500) == data[-500:]
        assert os.pread(f.fileno(), 100, len(data)) == b""


def test_data_reads_whole_at_any_block_size(mnt, fake, tmp_path):
    # More than the download buffer (4 MiB), so it fills and drains; reads that match the 1 MiB
    # pieces it arrives in, reads that straddle them, small ones, and a reader that stops early.
    data = os.urandom(6 * MiB + 4321)
    src = write_file(tmp_path, "blocks.raw", data)
    ok(sh(f"cp {src} {mnt.p('images')}/"))
    path = mnt.p("images", images_named(fake, "blocks.raw")[0]["id"], "data")
    for cmd in (f"cat {path}", f"dd if={path} bs=1M status=none", f"dd if={path} bs=1536k status=none",
                f"dd if={path} bs=100k status=none", f"dd if={path} bs=1M skip=1 status=none"):
        out = subprocess.run(cmd, shell=True, capture_output=True, timeout=60)
        assert out.returncode == 0, (cmd, out.stderr)
        want = data[MiB:] if "skip=1" in cmd else data
        assert hashlib.md5(out.stdout).hexdigest() == hashlib.md5(want).hexdigest(), cmd
    out = subprocess.run(f"head -c 1500000 {path}", shell=True, capture_output=True, timeout=60)
    assert out.returncode == 0 and out.stdout == data[:1500000]


def test_a_slow_download_that_keeps_delivering_is_not_a_timeout(mount_factory, fake, tmp_path):
    # -o timeout=1: a stall of a second fails a read; a link delivering 400 KiB/s takes 2.5 s
    # per 1 MiB piece but never stalls, so the copy must succeed, whole.
    m = mount_factory("-o", "timeout=1")
    data = os.urandom(MiB + 300 * 1024)
    src = write_file(tmp_path, "slow.raw", data)
    ok(sh(f"cp {src} {m.p('images')}/"))
    iid = images_named(fake, "slow.raw")[0]["id"]
    fake.fault(method="GET", path=f"/image/v2/images/{iid}/file", rate_bps=400 * 1024)
    out = tmp_path / "slow.back"
    ok(sh(f"cp {m.p('images', iid, 'data')} {out}"))
    assert out.read_bytes() == data


def test_download_glance_refuses_is_eio_with_its_message(mnt, fake, tmp_path):
    (img,) = images_named(fake, "cirros")
    fake.fault(method="GET", path=f"/image/v2/images/{img['id']}/file", status=500, count=-1)
    out = sh(f"cp {mnt.p('images', img['id'], 'data')} {tmp_path / 'x'}")
    fake.clear_faults()
    assert out.returncode != 0 and "Input/output error" in out.stderr
    # the request that failed, as sent
    assert f"GET {fake.url}/image/v2/images/{img['id']}/file: HTTP 500" in read(mnt.p(".cloudfs", "errors"))
    # nothing stuck: the next copy is whole
    ok(sh(f"cp {mnt.p('images', img['id'], 'data')} {tmp_path / 'y'}"))
    assert_is_image(img, tmp_path / "y")


def test_ctrl_c_interrupts_a_stalled_download(mnt, fake, tmp_path):
    (img,) = images_named(fake, "cirros")
    path = mnt.p("images", img["id"], "data")
    os.stat(path)
    fake.fault(method="GET", path=f"/image/v2/images/{img['id']}/file", delay_ms=20000, count=1)
    proc = subprocess.Popen(["cat", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    assert proc.poll() is None, "the stalled download did not stall"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=5)
    assert time.monotonic() - t0 < 3
    assert proc.returncode != 0
    ok(sh(f"cp {path} {tmp_path / 'y'}"))
    assert_is_image(img, tmp_path / "y")


def test_data_of_a_seeded_image(mnt, fake, tmp_path):
    (img,) = images_named(fake, "cirros")
    out = tmp_path / "cirros"
    ok(sh(f"cp {mnt.p('images', img['id'], 'data')} {out}"))
    assert_is_image(img, out)


# ---------------------------------------------------------------------------- failed uploads
def check_nothing_left(fake, name, m):
    assert images_named(fake, name) == [], f"image {name} left behind: {images_named(fake, name)}"
    assert name not in [os.path.basename(p) for p in os.listdir(m.p("images"))]
    assert not os.path.lexists(m.p("images", name))
    deletes = fake.requests(method="DELETE", path_prefix="/image/v2/images/")
    assert deletes, "cloudfs did not delete the half-made image"


def test_upload_cut_off_midway_fails_and_leaves_nothing(mnt, fake, tmp_path):
    src = write_file(tmp_path, "cut.raw", os.urandom(4 * MiB))
    fake.fault(method="PUT", path="/image/v2/images/", drop_after_bytes=MiB)
    out = sh(f"cp {src} {mnt.p('images')}/")
    assert out.returncode != 0, "cp reported success for an upload Glance never finished"
    check_nothing_left(fake, "cut.raw", mnt)
    assert "cut.raw" in read(mnt.p(".cloudfs", "errors")) or "/file" in read(mnt.p(".cloudfs", "errors"))


def test_upload_refused_midway_fails_and_leaves_nothing(mnt, fake, tmp_path):
    src = write_file(tmp_path, "refused.raw", os.urandom(4 * MiB))
    fake.fault(method="PUT", path="/image/v2/images/", status=500, after_bytes=MiB, count=-1)
    out = sh(f"cp {src} {mnt.p('images')}/")
    assert out.returncode != 0
    fake.clear_faults()
    check_nothing_left(fake, "refused.raw", mnt)


def test_checksum_mismatch_fails_and_leaves_nothing(mnt, fake, tmp_path):
    src = write_file(tmp_path, "corrupt.raw", os.urandom(2 * MiB))
    fake.fault(method="PUT", path="/image/v2/images/", corrupt=True)
    out = sh(f"cp {src} {mnt.p('images')}/")
    assert out.returncode != 0, "cp reported success though Glance stored other bytes"
    check_nothing_left(fake, "corrupt.raw", mnt)
    assert "checksum" in read(mnt.p(".cloudfs", "errors")).lower()


WRITER = r"""
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
block = os.urandom(1 << 20)
for i in range(int(sys.argv[2])):
    os.write(fd, block)
print("written", flush=True)
time.sleep(60)
"""


def test_writer_killed_midway_leaves_nothing(mnt, fake, tmp_path):
    target = mnt.p("images", "killed.raw")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, target, "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
        assert poll(lambda: images_named(fake, "killed.raw")), "the image was not created while writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert poll(lambda: images_named(fake, "killed.raw") == [], timeout=10), \
        f"left behind: {images_named(fake, 'killed.raw')}"
    assert poll(lambda: "killed.raw" not in os.listdir(mnt.p("images")) and
                not os.path.lexists(mnt.p("images", "killed.raw")))


def test_sparse_copies_upload_their_holes_as_zeros(mnt, fake, tmp_path):
    # GNU cp seeks over runs of zeros and ends a trailing hole with ftruncate.
    src = tmp_path / "sparse.raw"
    with open(src, "wb") as f:
        f.write(os.urandom(100 * 1024))
        f.seek(3 * MiB)
        f.write(os.urandom(100 * 1024))
        f.truncate(5 * MiB)
    out = sh(f"cp --sparse=always {src} {mnt.p('images')}/")
    assert out.returncode == 0, out.stderr
    (img,) = images_named(fake, "sparse.raw")
    assert img["size"] == 5 * MiB
    back = tmp_path / "back.raw"
    assert sh(f"cp {mnt.p('images', img['id'], 'data')} {back}").returncode == 0
    assert back.read_bytes() == src.read_bytes()


def test_backward_writes_are_einval_and_leave_nothing(mnt, fake, tmp_path):
    target = mnt.p("images", "holes.raw")
    err = None
    try:
        with open(target, "wb") as f:
            f.write(os.urandom(64 * 1024))
            f.flush()
            f.seek(4096)
            f.write(os.urandom(64 * 1024))
            f.flush()
    except OSError as e:
        err = e
    assert err is not None and err.errno == errno.EINVAL, f"expected EINVAL, got {err!r}"
    assert poll(lambda: images_named(fake, "holes.raw") == []), images_named(fake, "holes.raw")
    assert not os.path.lexists(target)


def test_dd_with_big_blocks_uploads_in_order(mnt, fake, tmp_path):
    # dd's 4 MiB writes reach the filesystem as several 1 MiB pieces, and
    # dd closes a duplicate descriptor before writing.
    data = os.urandom(9 * MiB)
    src = write_file(tmp_path, "dd.raw", data)
    out = sh(f"dd if={src} of={mnt.p('images', 'dd.raw')} bs=4M status=none")
    assert out.returncode == 0, out.stderr
    (img,) = images_named(fake, "dd.raw")
    assert img["size"] == 9 * MiB and img["status"] == "active"
    assert img["_data_md5"] == hashlib.md5(data).hexdigest()


def test_an_empty_file_makes_an_empty_image(mnt, fake):
    out = sh(f"cp /dev/null {mnt.p('images', 'empty.raw')}")
    assert out.returncode == 0, out.stderr
    assert poll(lambda: [i["size"] for i in images_named(fake, "empty.raw")] == [0])


def test_download_and_upload_survive_a_revoked_token(mnt, fake, tmp_path):
    # Keystone revoked every token (password change, restart with new keys): cloudfs gets a new
    # one on the 401 and the transfer goes on, for the data stream as for every other request.
    (img,) = images_named(fake, "cirros")
    path = mnt.p("images", img["id"], "data")
    os.stat(path)                     # the image's document is cached: only the data GET is left
    fake.expire_tokens()
    fake.clear_requests()
    out = tmp_path / "cirros"
    ok(sh(f"cp {path} {out}"))
    assert_is_image(img, out)
    gets = [r["status"] for r in fake.requests(method="GET", path_prefix=f"/image/v2/images/{img['id']}/file")]
    assert gets[0] == 401 and gets[-1] in (200, 206), gets
    fake.expire_tokens()
    data = os.urandom(300 * 1024)
    src = write_file(tmp_path, "after-revoke.raw", data)
    ok(sh(f"cp {src} {mnt.p('images')}/"))
    check_stored(fake, "after-revoke.raw", data, "raw")
