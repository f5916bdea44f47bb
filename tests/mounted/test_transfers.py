""".cloudfs/transfers (docs/SEMANTICS.md, "Control files"): a running upload or download of image
data is one line whose bytes-done field moves forward, with the right total (unknown from a pipe),
and the line goes once the transfer ends (after a few seconds showing its result). The fake cloud
reads uploads and sends downloads slowly (its read_bps / rate_bps faults) so a test can watch."""

import os
import subprocess
import time

from mountutil import poll, read

MiB = 1 << 20
FIELDS = ["DIR", "STATE", "DONE", "TOTAL", "PCT", "RATE", "ETA", "PATH"]


def image_id(fake, name):
    # From the cloud, not readlink: right after cp's close(2) the kernel may still hold the
    # name's entry as the file it created (the notifier thread tells it to forget it a moment
    # later), so readlink can fail with EINVAL. Seen once; not this test's subject.
    (img,) = [i for i in fake.state()["images"] if i["name"] == name]
    return img["id"]


def transfers(m):
    """The file's lines as dicts, after checking its header."""
    lines = read(m.p(".cloudfs", "transfers")).splitlines()
    assert lines[0].split() == FIELDS, lines
    rows = []
    for line in lines[1:]:
        f = line.split()
        assert len(f) == len(FIELDS), line
        rows.append(dict(zip(FIELDS, f)))
    return rows


def row(m, path):
    got = [r for r in transfers(m) if r["PATH"] == path]
    assert len(got) <= 1, got
    return got[0] if got else None


def watch(m, proc, path, interval=0.3):
    """Reads the file while @proc runs, as `watch cat` would; the rows seen for @path."""
    seen = []
    while proc.poll() is None:
        r = row(m, path)
        if r:
            seen.append(r)
        time.sleep(interval)
    return seen


def assert_moves(seen, total):
    assert len(seen) >= 3, seen
    dones = [int(r["DONE"]) for r in seen if r["STATE"] == "running"]
    assert len(set(dones)) >= 3, seen                 # seen at three different points at least
    assert dones == sorted(dones), seen               # and only ever forward
    assert all(r["TOTAL"] == total for r in seen), seen
    assert any(r["RATE"] not in ("-", "0") for r in seen), seen


def assert_ends(m, path):
    """The line says done, then goes (TRANSFERS_LINGER_MS: 5 s)."""
    r = row(m, path)
    assert r is None or r["STATE"] == "done", r
    assert poll(lambda: row(m, path) is None, timeout=10), transfers(m)


def test_idle_is_a_header(mnt):
    assert read(mnt.p(".cloudfs", "transfers")).split() == FIELDS
    assert "transfers" in os.listdir(mnt.p(".cloudfs"))


def test_upload_progress_from_a_file(mnt, fake, tmp_path):
    src = tmp_path / "big.img"
    src.write_bytes(os.urandom(40 * MiB))
    fake.fault(method="PUT", path="/image/v2/images/", read_bps=10 * MiB, count=1)
    cp = subprocess.Popen(["cp", str(src), mnt.p("images", "progress.img")],
                          stderr=subprocess.PIPE, text=True)
    seen = watch(mnt, cp, "images/progress.img")
    assert cp.wait() == 0, cp.stderr.read()
    assert all(r["DIR"] == "up" for r in seen), seen
    assert_moves(seen, str(40 * MiB))
    assert_ends(mnt, "images/progress.img")


def test_upload_from_a_pipe_has_no_total(mnt, fake):
    fake.fault(method="PUT", path="/image/v2/images/", read_bps=8 * MiB, count=1)
    dd = subprocess.Popen(f"dd if=/dev/zero bs=1M count=24 status=none | cat > {mnt.p('images', 'piped.img')}",
                          shell=True, stderr=subprocess.PIPE, text=True)
    seen = watch(mnt, dd, "images/piped.img")
    assert dd.wait() == 0, dd.stderr.read()
    assert_moves(seen, "-")
    assert all(r["PCT"] == "-" and r["ETA"] == "-" for r in seen), seen
    assert_ends(mnt, "images/piped.img")


def test_download_progress(mnt, fake, tmp_path):
    src = tmp_path / "down.img"
    src.write_bytes(os.urandom(32 * MiB))
    subprocess.run(["cp", str(src), mnt.p("images", "down.img")], check=True)
    iid = image_id(fake, "down.img")
    path = f"images/{iid}/data"
    fake.fault(method="GET", path=f"/image/v2/images/{iid}/file", rate_bps=8 * MiB, count=1)
    cat = subprocess.Popen(f"cat {mnt.p(path)} > /dev/null", shell=True, stderr=subprocess.PIPE, text=True)
    seen = watch(mnt, cat, path)
    assert cat.wait() == 0, cat.stderr.read()
    assert all(r["DIR"] == "down" for r in seen), seen
    assert_moves(seen, str(32 * MiB))
    assert_ends(mnt, path)


def test_failed_upload_shows_its_cleanup(mount_factory, fake, tmp_path):
    """Glance cuts the upload and refuses the cleanup DELETE: the line says "cleaning" while the
    closing writer retries it (`timeout`), then "failed", and the owed DELETE has its own line
    until the background thread gets it done."""
    m = mount_factory("-o", "timeout=3")
    src = tmp_path / "cut.img"
    src.write_bytes(os.urandom(4 * MiB))
    fake.fault(method="PUT", path="/image/v2/images/", status=500, after_bytes=MiB, count=1)
    fake.fault(method="DELETE", path="/image/v2/images/", status=503, count=-1)
    cp = subprocess.Popen(["cp", str(src), m.p("images", "cut.img")], stderr=subprocess.PIPE)
    seen = watch(m, cp, "images/cut.img")
    assert cp.wait() != 0
    assert "cleaning" in [r["STATE"] for r in seen], seen
    assert row(m, "images/cut.img")["STATE"] == "failed"
    (img,) = [i for i in fake.state()["images"] if i["name"] == "cut.img"]
    owed = row(m, f"images/{img['id']}")
    assert owed and owed["STATE"] == "owed" and owed["DIR"] == "up", transfers(m)
    fake.clear_faults()
    assert poll(lambda: row(m, f"images/{img['id']}") is None, timeout=40), transfers(m)


def test_stalled_download(mount_factory, fake, tmp_path):
    """Glance stops sending: after 5 s without a byte the line says "stalled" (rate 0, no ETA);
    when the read gives up (`timeout`) it says "failed"."""
    m = mount_factory("-o", "timeout=8")
    src = tmp_path / "stall.img"
    src.write_bytes(os.urandom(4 * MiB))
    subprocess.run(["cp", str(src), m.p("images", "stall.img")], check=True)
    iid = image_id(fake, "stall.img")
    path = f"images/{iid}/data"
    fake.update("images", iid, {"_download": {"stall_after": 64 * 1024}})
    cat = subprocess.Popen(f"cat {m.p(path)} > /dev/null", shell=True, stderr=subprocess.PIPE, text=True)
    r = poll(lambda: (row(m, path) or {}).get("STATE") == "stalled" and row(m, path), timeout=8)
    assert r, transfers(m)
    assert r["RATE"] == "0" and r["ETA"] == "-" and r["TOTAL"] == str(4 * MiB), r
    assert cat.wait(timeout=30) != 0
    assert row(m, path)["STATE"] == "failed", transfers(m)
