"""Issue 11's concurrency and local-user defects, each as a user would meet it: many writers racing
for one name, one open file closed from several descriptors at once, bytes written after a file was
committed, a value too big, other local users on an allow_other mount, and a status change found
while the kernel holds the directory being looked up."""

import errno
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import base_env
from mountutil import Mount, poll, read, sh, start_cloudfs

NOVA = "/compute/v2.1"
PROJECT = "7c808b28bded4680839ac3a2f00d8a87"
CINDER = f"/volume/v3/{PROJECT}"
SPEC = '{"image": "cirros", "flavor": "m1.tiny", "networks": ["private"]}\n'


@pytest.fixture(scope="module")
def cloud_opts():
    return {"build_seconds": 0.8, "delete_seconds": 0.3}


def posts(fake, path):
    return [r for r in fake.requests(method="POST", path_prefix=path) if r["path"] == path]


def named(fake, coll, name):
    return [r for r in fake.state()[coll] if r.get("name") == name]


def race(n, fn):
    """Runs fn(i) in n threads released at the same instant; -> their results."""
    gate, out = threading.Barrier(n), [None] * n

    def run(i):
        gate.wait()
        out[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


@pytest.mark.parametrize("coll,path,spec", [
    ("servers", f"{NOVA}/servers", SPEC),
    ("volumes", f"{CINDER}/volumes", '{"size": 1}\n'),
])
def test_racing_writers_of_one_name_create_it_once(mnt, fake, coll, path, spec):
    # Eight `cat spec > coll/race1` at once: one creates, the others are told it exists.
    procs = race(8, lambda i: sh(f"cat > {mnt.p(coll, 'race1')}", input=spec))
    good = [p for p in procs if p.returncode == 0]
    bad = [p for p in procs if p.returncode != 0]
    assert len(good) == 1, [p.stderr for p in procs]
    assert all("File exists" in p.stderr for p in bad), [p.stderr for p in bad]
    assert len(posts(fake, path)) == 1
    assert len(named(fake, coll, "race1")) == 1
    assert "being created by another writer" in read(mnt.p(".cloudfs", "errors"))
    # The name is the one resource's link afterwards.
    rid = named(fake, coll, "race1")[0]["id"]
    assert poll(lambda: os.path.islink(mnt.p(coll, "race1")))
    assert os.readlink(mnt.p(coll, "race1")) == rid


def test_descriptors_of_one_file_closed_at_once_commit_once(mnt, fake):
    # dup'ed descriptors closed by eight threads together: each close is a FLUSH; one POST.
    fd = os.open(mnt.p("servers", "dup1"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, SPEC.encode())
    fds = [os.dup(fd) for _ in range(7)] + [fd]
    results = race(8, lambda i: _close(fds[i]))
    assert results.count(0) == 8, results
    assert len(posts(fake, f"{NOVA}/servers")) == 1
    assert len(named(fake, "servers", "dup1")) == 1


def _close(fd):
    try:
        os.close(fd)
        return 0
    except OSError as e:
        return e.errno


def test_bytes_written_after_a_spec_was_committed_make_no_second_resource(mnt, fake):
    fd = os.open(mnt.p("servers", "late1"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    other = os.dup(fd)
    try:
        os.write(fd, SPEC.encode())  # a complete JSON object: committed, the server exists
        assert len(posts(fake, f"{NOVA}/servers")) == 1
        # After the object only whitespace may come (docs/SEMANTICS.md, "A spec written by
        # echo"): another object, through any descriptor, is EINVAL and makes no second server.
        os.write(other, b"\n ")
        with pytest.raises(OSError) as e:
            os.write(other, SPEC.encode())
        assert e.value.errno == errno.EINVAL
    finally:
        os.close(fd)  # nothing new to commit
        os.close(other)
    assert len(posts(fake, f"{NOVA}/servers")) == 1
    assert len(named(fake, "servers", "late1")) == 1


def test_a_value_too_big_commits_nothing_at_close(mnt, fake):
    # The first MiB fits the buffer, the next write does not: neither it nor the close may send
    # the truncated spec.
    fd = os.open(mnt.p("servers", "big1"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"{" + b" " * ((1 << 20) - 1))
    with pytest.raises(OSError) as e:
        os.write(fd, b" " * 4096 + b"}")
    assert e.value.errno == errno.EFBIG
    with pytest.raises(OSError) as e:
        os.close(fd)
    assert e.value.errno == errno.EFBIG
    assert posts(fake, f"{NOVA}/servers") == []
    assert named(fake, "servers", "big1") == []
    # Nor does the release of the never-committed file create an empty one.
    time.sleep(0.3)
    assert posts(fake, f"{NOVA}/servers") == []


def test_a_name_several_resources_share_is_not_made_again(mnt, fake):
    fake.seed(servers=[{"name": "twin"}, {"name": "twin"}])
    out = sh(f"cat > {mnt.p('servers', 'twin')}", input=SPEC)
    assert out.returncode != 0 and "File exists" in out.stderr, out.stderr
    assert posts(fake, f"{NOVA}/servers") == []
    assert len(named(fake, "servers", "twin")) == 2
    assert "2 servers are named 'twin' already" in read(mnt.p(".cloudfs", "errors"))


def test_creating_where_nothing_can_be_made_is_permission_denied(mnt, fake):
    for cmd in (f"touch {mnt.p('newfile')}", f"ln -s servers {mnt.p('newlink')}",
                f"mkdir {mnt.p('newdir')}", f"echo x > {mnt.p('.cloudfs', 'newfile')}"):
        out = sh(cmd)
        assert out.returncode != 0 and "Permission denied" in out.stderr, (cmd, out.stderr)
    assert not os.path.exists(mnt.p("newfile"))


def test_a_spec_over_a_resource_name_is_a_directory(mnt, fake):
    # The name is a link to the resource's directory; the kernel follows it.
    out = sh(f"echo '{{}}' > {mnt.p('servers', 'web1')}")
    assert out.returncode != 0 and "Is a directory" in out.stderr, out.stderr
    assert posts(fake, f"{NOVA}/servers") == []


# ------------------------------------------------------------------------- allow_other
NOBODY = 65534


def as_nobody(cmd):
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           "bash", "-c", cmd], capture_output=True, text=True, timeout=60)


@pytest.fixture
def shared_mount(fake):
    """A mount other users can reach (pytest's own temporary tree is private to root)."""
    top = tempfile.mkdtemp(prefix="cloudfs-shared-")
    os.chmod(top, 0o755)
    path = os.path.join(top, "mnt")
    proc, log = start_cloudfs(path, base_env(fake), ["-o", "allow_other,cache_ttl=1"])
    m = Mount(path, proc, log)
    yield m
    m.unmount()
    shutil.rmtree(top, ignore_errors=True)


def test_other_users_of_an_allow_other_mount_can_read_but_not_change(shared_mount, fake):
    m = shared_mount
    web1 = os.readlink(m.p("servers", "web1"))
    # What the modes allow: reading.
    out = as_nobody(f"cat {m.p('servers', web1, 'status')}; ls {m.p('servers')} | wc -l")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ACTIVE\n")
    # What they forbid: every change, each refused by the kernel before cloudfs is asked.
    before = len(fake.requests(method="POST")) + len(fake.requests(method="PUT")) + \
        len(fake.requests(method="DELETE"))
    for cmd in (f"rmdir {m.p('servers', web1)}",
                f"echo evil > {m.p('servers', web1, 'name')}",
                f"echo reboot > {m.p('servers', web1, 'action')}",
                f"mkdir {m.p('networks', 'evilnet')}",
                f"echo '{{}}' > {m.p('servers', 'evil1')}",
                f"echo > {m.p('.cloudfs', 'refresh')}"):
        out = as_nobody(cmd)
        assert out.returncode != 0 and "Permission denied" in out.stderr, (cmd, out.stderr)
    after = len(fake.requests(method="POST")) + len(fake.requests(method="PUT")) + \
        len(fake.requests(method="DELETE"))
    assert after == before
    assert [s for s in fake.state()["servers"] if s["id"] == web1][0]["name"] == "web1"
    # The owner still can.
    assert sh(f"echo web-one > {m.p('servers', web1, 'name')}").returncode == 0


# ------------------------------------------------------------------- notifications vs lookups
def test_changes_found_while_a_lookup_holds_the_directory_do_not_hang(mount_factory, fake):
    # A status change is found by a fetch that lookups of the same directory wait on; the kernel
    # must be told from a thread that waits for nothing of ours. Many readers of fresh names
    # under one server while its status keeps changing: every command must finish.
    m = mount_factory("-o", "cache_ttl=0.2,negative_ttl=0.1")
    web1 = os.readlink(m.p("servers", "web1"))
    stop = time.monotonic() + 4
    states = ["ACTIVE", "SHUTOFF"]

    def flip():
        i = 0
        while time.monotonic() < stop:
            fake.update("servers", web1, status=states[i % 2])
            i += 1
            time.sleep(0.05)

    def reader(i):
        n = 0
        while time.monotonic() < stop:
            out = sh(f"stat {m.p('servers', web1, 'json')} >/dev/null; "
                     f"cat {m.p('servers', web1, 'status')} {m.p('servers', web1, 'name')} "
                     f"{m.p('servers', web1, 'metadata')}/nokey{i}{n} 2>/dev/null; "
                     f"ls {m.p('servers', web1)} >/dev/null")
            n += 1
        return n

    flipper = threading.Thread(target=flip)
    flipper.start()
    counts = race(6, reader)
    flipper.join()
    assert all(c and c > 0 for c in counts), counts
    # And the mount still answers at once.
    out = subprocess.run(["cat", m.p("servers", web1, "status")], capture_output=True, text=True,
                         timeout=10)
    assert out.stdout.strip() in states
