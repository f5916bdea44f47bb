"""Swift on a mount: containers/ and each container's objects/ tree, driven with the tools users
run (mkdir, cp, cp -r, rsync, ls -l, cmp, rm -r, rmdir, mv) against the fake's Swift
(tests/fake/svc_swift.py). Each test checks what the user sees and what Swift holds."""

import errno
import hashlib
import json
import os
import re
import subprocess
import time
import urllib.parse

import pytest

from mountutil import poll, read, sh

C = "containers"


def swift_state(fake):
    """{container: {object: {size, etag, content_type, meta, slo, segments}}} of the demo project."""
    state = fake._control("GET", "swift")
    assert len(state) <= 1
    return {c: v["objects"] for c, v in (next(iter(state.values())) if state else {}).items()}


def info_mount(fake, mount_factory, info):
    """A mount of a Swift whose /info says @info: read at mount, so set before it."""
    fake._control("POST", "swift_info", info)
    return mount_factory("-o", "cache_ttl=2,negative_ttl=1", name="small")


def seed(fake, **containers):
    fake._control("POST", "swift", containers)


def swift_requests(fake, method=None):
    return [r for r in fake.requests(service="swift", method=method)]


def listing_gets(fake, container):
    """GETs of one container's listing (not of its objects)."""
    return [r for r in fake.requests(service="swift", method="GET")
            if r["path"].rstrip("/").endswith("/" + container)]


def data(n, seed_byte=7):
    """n bytes that differ per position (a shifted part would not compare equal)."""
    block = hashlib.sha256(bytes([seed_byte])).digest() * 2048   # 64 KiB
    out = (block * (n // len(block) + 1))[:n]
    return bytes((b + i // 65536) & 0xFF for i, b in enumerate(out)) if n > 65536 else out


def write(path, blob):
    with open(path, "wb") as f:
        f.write(blob)


def test_containers_mkdir_list_rmdir(mnt, fake):
    root = mnt.p(C)
    os.mkdir(os.path.join(root, "site"))
    assert "site" in swift_state(fake)
    assert "site" in os.listdir(root)
    assert sorted(os.listdir(os.path.join(root, "site"))) == sorted(
        ["json", "name", "count", "bytes", "last_modified", "objects", "metadata", "read", "write",
         "action"])
    seed(fake, site={"a.txt": "hello"})
    # A container that holds objects is not empty: rmdir says so, and it stays.
    with pytest.raises(OSError) as e:
        os.rmdir(os.path.join(root, "site"))
    assert e.value.errno == errno.ENOTEMPTY
    assert "site" in swift_state(fake)
    os.unlink(os.path.join(root, "site", "objects", "a.txt"))
    os.rmdir(os.path.join(root, "site"))
    assert "site" not in swift_state(fake)
    assert poll(lambda: "site" not in os.listdir(root))


def test_container_listing_paged_by_marker(mnt, fake):
    # More containers than one page of ours (1000): the marker carries on to an empty page.
    seed(fake, **{f"c{i:04d}": {} for i in range(1203)})
    names = os.listdir(mnt.p(C))
    assert len(names) == 1203 and "c1202" in names
    # (The mount's own look for upload marks lists the account too, by pages of Swift's limit.)
    gets = [r for r in swift_requests(fake, "GET") if re.fullmatch(r"/swift/v1/AUTH_[0-9a-f]+/?", r["path"])
            and "limit=10000" not in r["query"]]
    assert len(gets) == 3, gets      # 1000, 203, then the empty page that ends it
    assert "marker=c0999" in gets[1]["query"] and "marker=c1202" in gets[2]["query"]


def test_tree_listing_one_request_per_directory_no_head(mnt, fake):
    seed(fake, site={
        "top.txt": "12345",
        "a/": {"data": "", "content_type": "application/directory"},      # marker, slash convention
        "a/b/c.txt": "x" * 300,
        "a/d.txt": "dd",
        "e": {"data": "", "content_type": "application/directory"},       # marker, bare convention
        "e/x.bin": "xyz",
    })
    fake.clear_requests()
    out = sh(f"ls -l {mnt.p(C, 'site', 'objects')}")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()[1:]
    names = [line.split()[-1] for line in lines]
    # Each directory once, however many markers and prefixes say it exists.
    assert names == ["a", "e", "top.txt"]
    sizes = {line.split()[-1]: (line[0], int(line.split()[4])) for line in lines}
    assert sizes["top.txt"] == ("-", 5) and sizes["a"][0] == "d" and sizes["e"][0] == "d"
    out = sh(f"ls -lR {mnt.p(C, 'site', 'objects')}")
    assert out.returncode == 0, out.stderr
    assert " 300 " in out.stdout and "c.txt" in out.stdout and "x.bin" in out.stdout
    # One listing per directory (/, a/, a/b/, e/), each one page plus the empty one; never a HEAD.
    assert swift_requests(fake, "HEAD") == []
    prefixes = sorted({json.dumps(r["query"]) for r in listing_gets(fake, "site")})
    assert all("delimiter=%2F" in q or "delimiter=/" in q for q in prefixes)
    gets = listing_gets(fake, "site")
    assert len(gets) == 8, [g["query"] for g in gets]


def test_listing_pages_until_empty_page(mnt, fake):
    # 10,050 objects in one directory: two pages of Swift's 10,000 limit and the empty third.
    seed(fake, big={f"f{i:05d}": "z" for i in range(10050)})
    fake.clear_requests()
    names = os.listdir(mnt.p(C, "big", "objects"))
    assert len(names) == 10050
    assert len(listing_gets(fake, "big")) == 3
    assert os.stat(mnt.p(C, "big", "objects", "f10049")).st_size == 1
    assert swift_requests(fake, "HEAD") == []


def test_names_rule(mnt, fake):
    seed(fake, odd={
        "100%.txt": "p",          # '%' is escaped
        "..": "dots",             # a "." or ".." component is escaped
        "a//b": "empty",          # an empty component: left out, reported
        "dup": "file",            # a file beside a directory of its name: the directory wins
        "dup/in": "inner",
        ("n" * 300): "long",      # over NAME_MAX: left out, reported
    })
    names = sorted(os.listdir(mnt.p(C, "odd", "objects")))
    assert names == ["%2E%2E", "100%25.txt", "a", "dup"]
    assert read(mnt.p(C, "odd", "objects", "100%25.txt")) == "p"
    assert read(mnt.p(C, "odd", "objects", "%2E%2E")) == "dots"
    assert os.path.isdir(mnt.p(C, "odd", "objects", "dup"))
    assert os.listdir(mnt.p(C, "odd", "objects", "a")) == []
    errors = read(mnt.p(".cloudfs", "errors"))
    assert "the directory is shown, the file left out" in errors
    assert "longer than a file name may be" in errors
    assert "an empty name" in errors


def test_cp_small_is_one_checked_put(mnt, fake, tmp_path):
    os.mkdir(mnt.p(C, "site"))
    src = tmp_path / "page.html"
    blob = b"<h1>hello</h1>\n" * 100
    write(src, blob)
    fake.clear_requests()
    out = sh(f"cp {src} {mnt.p(C, 'site', 'objects', 'page.html')}")
    assert out.returncode == 0, out.stderr
    puts = [r for r in swift_requests(fake, "PUT") if urllib.parse.unquote(r["path"]).endswith("/page.html")]
    assert len(puts) == 1 and puts[0]["length"] == len(blob)
    obj = swift_state(fake)["site"]["page.html"]
    assert obj["etag"] == hashlib.md5(blob).hexdigest() and obj["size"] == len(blob)
    assert obj["content_type"] == "text/html"      # Swift guessed it from the name
    # Listed at once, with its size; read back equal.
    assert os.stat(mnt.p(C, "site", "objects", "page.html")).st_size == len(blob)
    assert sh(f"cmp {src} {mnt.p(C, 'site', 'objects', 'page.html')}").returncode == 0


def test_corrupted_small_put_fails_and_leaves_nothing(mnt, fake, tmp_path):
    os.mkdir(mnt.p(C, "site"))
    src = tmp_path / "f.bin"
    write(src, data(200_000))
    # One byte flipped on the way: Swift's ETag check refuses it (422); cp must fail.
    fake.fault(path="/swift/v1/", method="PUT", corrupt=True)
    out = sh(f"cp {src} {mnt.p(C, 'site', 'objects', 'f.bin')}")
    assert out.returncode != 0
    assert "f.bin" not in swift_state(fake)["site"]


def test_large_file_is_a_checked_slo(fake, tmp_path, mount_factory):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    os.mkdir(mnt.p(C, "site"))
    blob = data(5 * (1 << 20) + 12345)
    src = tmp_path / "big.iso"
    write(src, blob)
    out = sh(f"cp {src} {mnt.p(C, 'site', 'objects', 'big.iso')}")
    assert out.returncode == 0, out.stderr
    state = swift_state(fake)
    obj = state["site"]["big.iso"]
    assert obj["slo"] and obj["size"] == len(blob) and len(obj["segments"]) == 6
    assert all(s.startswith("/site_segments/big.iso/slo/") for s in obj["segments"])
    assert len(state["site_segments"]) == 6
    # The listing's size is the whole object's (never 0, never the manifest's), read back byte
    # for byte; also on another mount, which knows only Swift's listing.
    assert obj["content_type"] == "application/x-iso9660-image"
    out = sh(f"ls -l {mnt.p(C, 'site', 'objects')}")
    assert f" {len(blob)} " in out.stdout, out.stdout
    other = mount_factory("-o", "cache_ttl=2", name="other")
    assert os.stat(other.p(C, "site", "objects", "big.iso")).st_size == len(blob)
    assert sh(f"cmp {src} {mnt.p(C, 'site', 'objects', 'big.iso')}").returncode == 0
    # Read at an offset (Range), as tail and dd do.
    with open(mnt.p(C, "site", "objects", "big.iso"), "rb") as f:
        f.seek(3 * (1 << 20) + 5)
        assert f.read(100_000) == blob[3 * (1 << 20) + 5:3 * (1 << 20) + 5 + 100_000]
    # rm deletes the segments with the manifest.
    os.unlink(mnt.p(C, "site", "objects", "big.iso"))
    state = swift_state(fake)
    assert "big.iso" not in state["site"] and state["site_segments"] == {}


def test_failed_manifest_leaves_no_segments(fake, tmp_path, mount_factory):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    os.mkdir(mnt.p(C, "site"))
    src = tmp_path / "big"
    write(src, data(3 * (1 << 20) + 7))
    # The manifest PUT fails: every segment already sent is deleted, no manifest exists.
    fake.fault(path=f"/swift/v1/AUTH_{demo_project(fake)}/site/big", method="PUT", status=503, count=-1)
    out = sh(f"cp {src} {mnt.p(C, 'site', 'objects', 'big')}")
    assert out.returncode != 0
    state = swift_state(fake)
    assert "big" not in state["site"]
    assert state.get("site_segments", {}) == {}
    assert not os.path.exists(mnt.p(C, "site", "objects", "big"))


def demo_project(fake):
    tok, body = fake.token()
    return body["token"]["project"]["id"]


def test_killed_upload_leaves_nothing(fake, tmp_path, mount_factory):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    os.mkdir(mnt.p(C, "site"))
    src = tmp_path / "big"
    write(src, data(4 * (1 << 20)))
    dst = mnt.p(C, "site", "objects", "big")
    # A writer killed half way: its close is no commit; the parts sent are deleted.
    writer = ("import sys, time; f = open(sys.argv[2], 'wb'); f.write(open(sys.argv[1], 'rb').read(2500000));"
              " f.flush(); time.sleep(30)")
    out = sh(f"/usr/bin/python3 -c \"{writer}\" {src} {dst} & pid=$!; sleep 2; kill -9 $pid; wait $pid; true")
    assert out.returncode == 0
    assert poll(lambda: swift_state(fake).get("site_segments", {}) == {}), swift_state(fake)
    assert "big" not in swift_state(fake)["site"]


def test_overwrite_slo_removes_old_segments_after(fake, tmp_path, mount_factory):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    os.mkdir(mnt.p(C, "site"))
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, data(3 * (1 << 20), 1))
    write(b, data(2 * (1 << 20) + 1, 2))
    dst = mnt.p(C, "site", "objects", "big")
    assert sh(f"cp {a} {dst}").returncode == 0
    old = set(swift_state(fake)["site"]["big"]["segments"])
    assert sh(f"cp {b} {dst}").returncode == 0
    state = swift_state(fake)
    new = set(state["site"]["big"]["segments"])
    assert len(new) == 3 and not (old & new)
    # Only the new object's segments are left.
    assert {"/site_segments/" + k for k in state["site_segments"]} == new
    assert sh(f"cmp {b} {dst}").returncode == 0


def test_mkdir_rmdir_rm_r_in_objects(mnt, fake, tmp_path):
    os.mkdir(mnt.p(C, "site"))
    objs = mnt.p(C, "site", "objects")
    os.makedirs(os.path.join(objs, "x", "y"))
    state = swift_state(fake)["site"]
    assert state["x/"]["content_type"] == "application/directory"
    assert state["x/y/"]["size"] == 0
    assert sorted(os.listdir(objs)) == ["x"]
    write(os.path.join(objs, "x", "y", "f"), b"1")
    with pytest.raises(OSError) as e:
        os.rmdir(os.path.join(objs, "x", "y"))
    assert e.value.errno == errno.ENOTEMPTY
    out = sh(f"rm -r {os.path.join(objs, 'x')}")
    assert out.returncode == 0, out.stderr
    assert swift_state(fake)["site"] == {}
    assert os.listdir(objs) == []


def test_cp_r_and_rsync_delete(mnt, fake, tmp_path):
    os.mkdir(mnt.p(C, "site"))
    objs = mnt.p(C, "site", "objects")
    src = tmp_path / "build"
    (src / "css").mkdir(parents=True)
    (src / "img" / "deep").mkdir(parents=True)
    files = {"index.html": b"<p>hi</p>", "css/site.css": b"p{}", "img/deep/logo.png": data(70_000)}
    for k, v in files.items():
        write(src / k, v)
    out = sh(f"cp -r {src}/. {objs}/")
    assert out.returncode == 0, out.stderr
    state = swift_state(fake)["site"]
    for k, v in files.items():
        assert state[k]["etag"] == hashlib.md5(v).hexdigest()
    assert sh(f"diff -r {src} {objs}").returncode == 0
    # rsync --delete: removes what is gone from the source, adds what is new.
    os.unlink(src / "css" / "site.css")
    write(src / "new.txt", b"new")
    out = sh(f"rsync -r --size-only --delete {src}/ {objs}/")
    assert out.returncode == 0, out.stderr
    state = swift_state(fake)["site"]
    assert "css/site.css" not in state and state["new.txt"]["size"] == 3
    assert sh(f"diff -r {src} {objs}").returncode == 0
    # A second rsync transfers nothing.
    fake.clear_requests()
    out = sh(f"rsync -r --size-only --delete --stats {src}/ {objs}/")
    assert out.returncode == 0, out.stderr
    assert "Number of regular files transferred: 0" in out.stdout
    assert swift_requests(fake, "PUT") == [] and swift_requests(fake, "DELETE") == []


def test_mv_is_copy_then_delete(mnt, fake):
    seed(fake, site={"a.txt": "alpha"})
    objs = mnt.p(C, "site", "objects")
    out = sh(f"mv {objs}/a.txt {objs}/b.txt")
    assert out.returncode == 0, out.stderr
    state = swift_state(fake)["site"]
    assert "a.txt" not in state and state["b.txt"]["etag"] == hashlib.md5(b"alpha").hexdigest()
    assert sorted(os.listdir(objs)) == ["b.txt"]
    assert read(os.path.join(objs, "b.txt")) == "alpha"


def test_read_your_own_writes_despite_lagging_listing(mnt, fake, tmp_path):
    os.mkdir(mnt.p(C, "site"))
    objs = mnt.p(C, "site", "objects")
    fake._control("POST", "swift_lag", {"seconds": 30})
    src = tmp_path / "f"
    write(src, b"fresh")
    assert sh(f"mkdir -p {objs}/d && cp {src} {objs}/d/f").returncode == 0
    # Swift's listing does not show them yet; this mount does, at once.
    assert os.listdir(objs) == ["d"]
    assert os.listdir(os.path.join(objs, "d")) == ["f"]
    assert os.stat(os.path.join(objs, "d", "f")).st_size == 5
    assert read(os.path.join(objs, "d", "f")) == "fresh"
    os.unlink(os.path.join(objs, "d", "f"))
    assert os.listdir(os.path.join(objs, "d")) == []
    # Deletes lag too: a tree removed with rm -r is gone at once, and its directories with it.
    seed(fake, site={"t/a/1": "1", "t/a/2": "2", "t/b": "b"})
    fake._control("POST", "swift_lag", {"seconds": 0})
    assert sh(f"echo containers > {mnt.p('.cloudfs', 'refresh')}").returncode == 0
    assert sorted(os.listdir(os.path.join(objs, "t"))) == ["a", "b"]
    fake._control("POST", "swift_lag", {"seconds": 30})
    out = sh(f"rm -r {objs}/t")
    assert out.returncode == 0, out.stderr
    assert "t" not in os.listdir(objs)
    assert not any(k.startswith("t/") for k in swift_state(fake)["site"])


def test_download_checked_against_listing_md5(mnt, fake):
    seed(fake, site={"f.bin": "0123456789" * 1000})
    path = mnt.p(C, "site", "objects", "f.bin")
    assert os.stat(path).st_size == 10000
    # The cloud sends other bytes than its listing's MD5 says: the read fails, never wrong bytes.
    fake.fault(path=f"/swift/v1/AUTH_{demo_project(fake)}/site/f", method="GET", body="x" * 10000,
               status=200)
    out = sh(f"cat {path} > /dev/null")
    assert out.returncode != 0


def test_transfers_show_object_upload(mnt, fake, tmp_path):
    os.mkdir(mnt.p(C, "site"))
    src = tmp_path / "f"
    write(src, data(3 << 20))
    dst = mnt.p(C, "site", "objects", "slow")
    fake.fault(path="/swift/v1/", method="PUT", read_bps=1 << 20, count=-1)
    proc = sh(f"cp {src} {dst} & sleep 1; cat {mnt.p('.cloudfs', 'transfers')}; wait")
    assert proc.returncode == 0, proc.stderr
    assert "containers/site/objects/slow" in proc.stdout


def test_object_metadata_as_xattrs(mnt, fake):
    seed(fake, site={"big.iso": {"data": "abc", "content_type": "application/x-iso9660-image",
                                 "meta": {"color": "blue"}}})
    f = mnt.p(C, "site", "objects", "big.iso")
    out = sh(f"setfattr -n user.swift.meta.owner -v ops {f} && getfattr -d {f}")
    assert out.returncode == 0, out.stderr
    assert 'user.swift.meta.owner="ops"' in out.stdout
    assert 'user.swift.meta.color="blue"' in out.stdout      # a POST keeps the other keys
    # What Swift derives is read by name, not listed (a copy must not carry the source's ETag).
    assert "etag" not in out.stdout and "content_type" not in out.stdout
    out = sh(f"getfattr -n user.swift.content_type {f}; getfattr -n user.swift.etag {f}")
    assert 'user.swift.content_type="application/x-iso9660-image"' in out.stdout
    assert f'user.swift.etag="{hashlib.md5(b"abc").hexdigest()}"' in out.stdout
    obj = swift_state(fake)["site"]["big.iso"]
    assert obj["meta"] == {"owner": "ops", "color": "blue"}
    assert obj["content_type"] == "application/x-iso9660-image"
    assert sh(f"setfattr -x user.swift.meta.color {f}").returncode == 0
    assert swift_state(fake)["site"]["big.iso"]["meta"] == {"owner": "ops"}
    assert sh(f"setfattr -n user.swift.content_type -v text/plain {f}").returncode == 0
    assert swift_state(fake)["site"]["big.iso"]["content_type"] == "text/plain"
    assert sh(f"setfattr -n user.swift.delete_at -v 4102444800 {f}").returncode == 0
    assert swift_state(fake)["site"]["big.iso"]["delete_at"] == "4102444800"
    assert swift_state(fake)["site"]["big.iso"]["meta"] == {"owner": "ops"}
    # Read-only, unknown and too long: refused with the errno setxattr(2) documents.
    for name, value, err in (("user.swift.etag", "x", "Operation not permitted"),
                             ("user.other", "x", "Operation not supported"),
                             ("user.swift.meta.big", "v" * 300, "Argument list too long")):
        out = sh(f"setfattr -n {name} -v {value} {f}")
        assert out.returncode != 0 and err in out.stderr, (name, out.stderr)
    out = sh(f"getfattr -n user.swift.meta.nope {f}")
    assert out.returncode != 0 and "No such attribute" in out.stderr


def test_explicit_times_refused_touch_accepted(mnt, fake):
    seed(fake, site={"a": "1"})
    f = mnt.p(C, "site", "objects", "a")
    assert sh(f"touch {f}").returncode == 0
    out = sh(f"touch -d '2001-01-01' {f}")
    assert out.returncode != 0 and "Operation not permitted" in out.stderr
    fake.clear_requests()
    assert sh(f"ls -l {mnt.p(C, 'site', 'objects')}").returncode == 0
    assert swift_requests(fake, "HEAD") == []


def test_part_size_option(mount_factory, fake, tmp_path):
    m = mount_factory("-o", "part_size=1048576,cache_ttl=2")
    os.mkdir(m.p(C, "site"))
    blob = data(3 * (1 << 20) + 1)
    write(tmp_path / "f", blob)
    assert sh(f"cp {tmp_path / 'f'} {m.p(C, 'site', 'objects', 'f')}").returncode == 0
    assert len(swift_state(fake)["site"]["f"]["segments"]) == 4
    # A part size this Swift cannot take fails the upload early, with the reason.
    fake._control("POST", "swift_info", {"max_file_size": 1 << 19})
    m2 = mount_factory("-o", "part_size=1048576", name="mnt2")
    out = sh(f"cp {tmp_path / 'f'} {m2.p(C, 'site', 'objects', 'g')}")
    assert out.returncode != 0 and "Invalid argument" in out.stderr
    assert "part_size=1048576 is outside" in read(m2.p(".cloudfs", "errors"))
    assert "g" not in swift_state(fake)["site"]


def test_max_entries_bounds_a_directory(mount_factory, fake):
    seed(fake, big={f"f{i:03d}": "z" for i in range(150)})
    m = mount_factory("-o", "max_entries=100")
    out = sh(f"ls {m.p(C, 'big', 'objects')}")
    assert out.returncode != 0 and "File too large" in out.stderr


def test_container_metadata_and_acls(mnt, fake):
    seed(fake, site={})
    d = mnt.p(C, "site")
    out = sh(f"echo Marketing > {d}/metadata/owner && echo '.r:*,.rlistings' > {d}/read")
    assert out.returncode == 0, out.stderr
    state = fake._control("GET", "swift")
    c = next(iter(state.values()))["site"]
    assert c["meta"] == {"owner": "Marketing"} and c["read"] == ".r:*,.rlistings"
    assert read(f"{d}/metadata/owner") == "Marketing\n"
    assert os.listdir(f"{d}/metadata") == ["owner"]
    assert read(f"{d}/read") == ".r:*,.rlistings\n" and read(f"{d}/write") == ""
    # rm removes a key; an empty value removes an ACL.
    os.unlink(f"{d}/metadata/owner")
    assert sh(f"echo > {d}/read").returncode == 0
    c = next(iter(fake._control("GET", "swift").values()))["site"]
    assert c["meta"] == {} and c["read"] is None
    assert os.listdir(f"{d}/metadata") == []
    # Two lines cannot be one header: close(2) says so (cp, not a shell builtin, checks it).
    with pytest.raises(OSError) as e:
        with open(f"{d}/metadata/bad", "w") as f:
            f.write("a\nb\n")
    assert e.value.errno == errno.EINVAL


def test_empty_container_is_one_bulk_delete(fake, tmp_path, mount_factory):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    seed(fake, site={f"d/f{i}": str(i) for i in range(25)})
    write(tmp_path / "big", data(3 << 20))
    assert sh(f"cp {tmp_path / 'big'} {mnt.p(C, 'site', 'objects', 'big')}").returncode == 0
    assert os.listdir(mnt.p(C, "site", "objects")) == ["big", "d"]
    fake.clear_requests()
    out = sh(f"echo empty > {mnt.p(C, 'site', 'action')}")
    assert out.returncode == 0, out.stderr
    bulk = [r for r in swift_requests(fake, "POST") if "bulk-delete" in r["query"]]
    assert len(bulk) == 1
    state = swift_state(fake)
    assert state["site"] == {} and state["site_segments"] == {}
    assert os.listdir(mnt.p(C, "site", "objects")) == []
    os.rmdir(mnt.p(C, "site"))
    out = sh(f"echo nonsense > {mnt.p(C, 'site_segments', 'action')}")
    assert out.returncode != 0 and "Invalid argument" in out.stderr


def test_rsync_X_carries_metadata(mnt, fake, tmp_path):
    os.mkdir(mnt.p(C, "site"))
    src = tmp_path / "src"
    src.mkdir()
    write(src / "f.txt", b"meta")
    assert sh(f"setfattr -n user.swift.meta.owner -v ops {src / 'f.txt'}").returncode == 0
    # rsync sets the attributes on its temporary file, then renames it: the copy keeps them.
    out = sh(f"rsync -r -X --size-only {src}/ {mnt.p(C, 'site', 'objects')}/")
    assert out.returncode == 0, out.stderr
    obj = swift_state(fake)["site"]["f.txt"]
    assert obj["meta"] == {"owner": "ops"}
    assert [k for k in swift_state(fake)["site"] if k != "f.txt"] == []


def test_limits_come_from_info(fake, mount_factory, tmp_path):
    # A Swift whose /info says: names of 60 bytes at most, meta values of 10, pages of 7 names,
    # objects of 1 MiB and manifests of 3 segments (so 3 MiB at most through cloudfs).
    mnt = info_mount(fake, mount_factory, {
        "max_object_name_length": 60, "max_meta_value_length": 10, "container_listing_limit": 7,
        "max_file_size": 1 << 20, "max_manifest_segments": 3})
    seed(fake, site={f"d/f{i:02d}": "x" for i in range(20)})
    objs = mnt.p(C, "site", "objects")
    # Listings page by Swift's own limit, to the empty page.
    fake.clear_requests()
    assert len(os.listdir(os.path.join(objs, "d"))) == 20
    pages = [r for r in listing_gets(fake, "site") if "prefix=d%2F" in r["query"] or "prefix=d/" in r["query"]]
    assert len(pages) == 4 and all("limit=7" in r["query"] for r in pages), pages
    # A name past max_object_name_length: refused at open and mkdir, nothing sent.
    long_name = "n" * 61
    with pytest.raises(OSError) as e:
        open(os.path.join(objs, long_name), "wb")
    assert e.value.errno == errno.ENAMETOOLONG
    with pytest.raises(OSError) as e:
        os.mkdir(os.path.join(objs, "m" * 60))      # "mmm.../" is 61 bytes
    assert e.value.errno == errno.ENAMETOOLONG
    assert "max_object_name_length" in read(mnt.p(".cloudfs", "errors"))
    write(os.path.join(objs, "n" * 60), b"fits")
    assert swift_state(fake)["site"]["n" * 60]["size"] == 4
    # A metadata value past max_meta_value_length: E2BIG; one that fits is stored.
    f = os.path.join(objs, "d", "f00")
    out = sh(f"setfattr -n user.swift.meta.k -v 12345678901 {f}")
    assert out.returncode != 0 and "Argument list too long" in out.stderr, out.stderr
    assert sh(f"setfattr -n user.swift.meta.k -v 1234567890 {f}").returncode == 0
    assert swift_state(fake)["site"]["d/f00"]["meta"] == {"k": "1234567890"}
    # 3 segments of 1 MiB fit; one byte more is EFBIG at write(2), and nothing is left.
    write(tmp_path / "three", data(3 << 20))
    assert sh(f"cp {tmp_path / 'three'} {objs}/three").returncode == 0
    assert len(swift_state(fake)["site"]["three"]["segments"]) == 3
    write(tmp_path / "over", data((3 << 20) + 1))
    out = sh(f"cp {tmp_path / 'over'} {objs}/over")
    assert out.returncode != 0 and "File too large" in out.stderr, out.stderr
    state = swift_state(fake)
    assert "over" not in state["site"]
    assert sorted(k.split("/")[0] for k in state["site_segments"]) == ["three"] * 3


def test_killed_daemon_segments_deleted_by_next_mount(fake, mount_factory, tmp_path):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    os.mkdir(mnt.p(C, "site"))
    src = tmp_path / "big"
    write(src, data(4 << 20))
    dst = mnt.p(C, "site", "objects", "big")
    # Half an upload (2 segments sent), then the daemon itself is killed: it cannot clean up.
    writer = subprocess.Popen(["/usr/bin/python3", "-c",
                               "import sys, time; f = open(sys.argv[2], 'wb');"
                               " f.write(open(sys.argv[1], 'rb').read(2500000)); f.flush(); time.sleep(60)",
                               str(src), dst], stderr=subprocess.DEVNULL)
    assert poll(lambda: len(swift_state(fake).get("site_segments", {})) >= 3, timeout=20), swift_state(fake)
    segs = swift_state(fake)["site_segments"]
    marks = [k for k in segs if k.startswith(".cloudfs-uploads/")]
    assert len(marks) == 1, segs
    mnt.kill()
    writer.kill()
    writer.wait()
    assert len(swift_state(fake)["site_segments"]) == 3 and "big" not in swift_state(fake)["site"]
    # The next mount on this host finds the mark of a process that is gone, and deletes it all.
    other = mount_factory("-o", "cache_ttl=2", name="next")
    assert poll(lambda: swift_state(fake)["site_segments"] == {}, timeout=20), swift_state(fake)
    assert "big" not in swift_state(fake)["site"]
    assert "deleting its segments" in other.log()


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def start_time():
    with open("/proc/self/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def test_live_mount_marks_are_left_alone_and_landed_uploads_unmarked(fake, mount_factory, tmp_path):
    mnt = info_mount(fake, mount_factory, {"max_file_size": 1 << 20})
    os.mkdir(mnt.p(C, "site"))
    write(tmp_path / "big", data(3 << 20))
    assert sh(f"cp {tmp_path / 'big'} {mnt.p(C, 'site', 'objects', 'big')}").returncode == 0
    # A completed upload leaves no mark; its segments are the object's.
    segs = swift_state(fake)["site_segments"]
    assert len(segs) == 3 and not [k for k in segs if k.startswith(".cloudfs-")]
    # A mark of a live process (this test's own pid) is never touched by another mount.
    seed(fake, site_segments={".cloudfs-uploads/1-2-3-00000000": json.dumps(
        {"marker": f"host={os.uname().nodename} boot={boot_id()} pid={os.getpid()} start={start_time()}",
         "object": "big", "prefix": "big/slo/1-2-3-00000000/"})})
    other = mount_factory("-o", "cache_ttl=2", name="next")
    assert os.listdir(other.p(C, "site", "objects")) == ["big"]
    assert poll(lambda: "swift/info" in " ".join(r["path"] for r in fake.requests(service="swift")))
    assert len(swift_state(fake)["site_segments"]) == 4
    assert sh(f"cmp {tmp_path / 'big'} {other.p(C, 'site', 'objects', 'big')}").returncode == 0


def test_segments_swift_will_not_delete_are_owed_then_deleted(fake, mount_factory, tmp_path):
    fake._control("POST", "swift_info", {"max_file_size": 1 << 20})
    m = mount_factory("-o", "timeout=1,cache_ttl=2", name="owed")
    os.mkdir(m.p(C, "site"))
    write(tmp_path / "big", data(3 << 20))
    acct = f"/swift/v1/AUTH_{demo_project(fake)}"
    fake.fault(path=f"{acct}/site/big", method="PUT", status=503, count=-1)
    fake.fault(path=f"{acct}/site_segments/", method="DELETE", status=503, count=-1)
    out = sh(f"cp {tmp_path / 'big'} {m.p(C, 'site', 'objects', 'big')}")
    assert out.returncode != 0
    st = read(m.p(".cloudfs", "status"))
    assert "parts_to_delete 4" in st and "part_to_delete " in st, st      # 3 segments and the mark
    assert "owed" in read(m.p(".cloudfs", "transfers"))
    fake.clear_faults()
    assert poll(lambda: swift_state(fake)["site_segments"] == {}, timeout=40), swift_state(fake)
    assert poll(lambda: "parts_to_delete 0" in read(m.p(".cloudfs", "status")), timeout=5)


def test_cp_preserve_xattr_carries_metadata(mnt, fake, tmp_path):
    os.mkdir(mnt.p(C, "site"))
    src = tmp_path / "f.txt"
    write(src, b"meta")
    assert sh(f"setfattr -n user.swift.meta.owner -v ops {src}").returncode == 0
    out = sh(f"cp --preserve=xattr {src} {mnt.p(C, 'site', 'objects', 'f.txt')}")
    assert out.returncode == 0, out.stderr
    assert swift_state(fake)["site"]["f.txt"]["meta"] == {"owner": "ops"}
    # And back out: a copy from the mount carries the object's metadata, not its ETag.
    back = tmp_path / "back.txt"
    out = sh(f"cp --preserve=xattr {mnt.p(C, 'site', 'objects', 'f.txt')} {back} && getfattr -d {back}")
    assert out.returncode == 0, out.stderr
    assert 'user.swift.meta.owner="ops"' in out.stdout and "etag" not in out.stdout


def test_unmount_does_not_wait_for_a_slow_background_sweep(fake, mount_factory):
    # The mount's background thread looks for leftovers at start (the images, the containers'
    # upload marks). A cloud slow to answer it must not hold the unmount: the sweep is
    # abandoned, and cloudfs exits at once (the teardown's unmount allows 10 s).
    fake.fault(path="/swift/v1/", method="GET", delay_ms=20000, count=-1)
    fake.fault(path="/image/v2/images", method="GET", delay_ms=20000, count=-1)
    m = mount_factory("-o", "cache_ttl=2", name="slow")
    time.sleep(1.5)     # its first request is on its way
    assert os.path.ismount(m.path)
    t0 = time.monotonic()
    m.unmount()
    assert time.monotonic() - t0 < 8


def test_dlo_size_and_symlinks_inside_the_tree(mnt, fake):
    acct = f"AUTH_{demo_project(fake)}"
    seed(fake, other={"x%y": "other data"}, site={
        "seg/0": "hello ", "seg/1": "world",
        "dlo": {"data": "", "dlo": "site/seg/"},
        "empty": "",
        "dir/t.txt": "target",
        "link": {"data": "", "symlink_path": f"/v1/{acct}/site/dir/t.txt"},
        "dir/up": {"data": "", "symlink_path": f"/v1/{acct}/site/seg/0"},
        "cross": {"data": "", "symlink_path": f"/v1/{acct}/other/x%25y"},
        "far": {"data": "", "symlink_path": "/v1/AUTH_elsewhere/site/dir/t.txt"},
        "bad": {"data": "", "symlink_path": f"/v1/{acct}/site/a//b"},
    })
    objs = mnt.p(C, "site", "objects")
    fake.clear_requests()
    names = sorted(os.listdir(objs))
    assert names == ["cross", "dir", "dlo", "empty", "link", "seg"], names
    # A DLO lists as 0 bytes, like an empty file, and is shown so until it is opened:
    # listing and stat never HEAD.
    assert os.stat(os.path.join(objs, "dlo")).st_size == 0
    assert sh(f"ls -l {objs}").returncode == 0
    assert swift_requests(fake, "HEAD") == []
    # Opened for reading: one HEAD; the open's fstat, a later stat and the read say all of it.
    with open(os.path.join(objs, "dlo"), "rb") as f:
        assert os.fstat(f.fileno()).st_size == 11
        assert f.read() == b"hello world"
    assert os.stat(os.path.join(objs, "dlo")).st_size == 11
    assert read(os.path.join(objs, "empty")) == ""
    assert os.stat(os.path.join(objs, "empty")).st_size == 0
    heads = sorted(r["path"].rsplit("/", 1)[1] for r in swift_requests(fake, "HEAD"))
    assert heads == ["dlo", "empty"], heads      # one per 0-byte object opened
    # Symlinks are relative links that stay in the mount, each component by the names rule.
    assert os.readlink(os.path.join(objs, "link")) == "../../site/objects/dir/t.txt"
    assert os.readlink(os.path.join(objs, "dir", "up")) == "../../../site/objects/seg/0"
    assert os.readlink(os.path.join(objs, "cross")) == "../../other/objects/x%25y"
    assert read(os.path.join(objs, "link")) == "target"
    assert read(os.path.join(objs, "cross")) == "other data"
    out = sh(f"ls -l {objs}")
    assert re.search(r"^l\S+ .* link -> \.\./\.\./site/objects/dir/t\.txt$", out.stdout, re.M), out.stdout
    # Another account's target, or one the rule cannot show: left out, and said.
    errors = read(mnt.p(".cloudfs", "errors"))
    assert "another account" in errors and "names rule cannot show" in errors
    # Links are shown, not made.
    with pytest.raises(OSError) as e:
        os.symlink("dir/t.txt", os.path.join(objs, "new"))
    assert e.value.errno == errno.EPERM, e.value
    # rm of a link removes the link object, never its target.
    os.unlink(os.path.join(objs, "link"))
    state = swift_state(fake)["site"]
    assert "link" not in state and "dir/t.txt" in state


def test_ls_l_of_empty_files_makes_no_head(mnt, fake):
    # 300 empty objects (touch'd files, __init__.py, .gitkeep) and a DLO among them: ls -l
    # costs the listing's pages and nothing else, never a HEAD per 0-byte object.
    objs = {f"pkg{i:03d}/__init__.py": "" for i in range(3)}
    objs.update({f"e{i:03d}": "" for i in range(300)})
    objs.update({"seg/0": "part one, ", "seg/1": "part two", "dlo": {"data": "", "dlo": "tree/seg/"}})
    seed(fake, tree=objs)
    top = mnt.p(C, "tree", "objects")
    fake.clear_requests()
    out = sh(f"ls -l {top} {top}/pkg000")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) > 300
    assert re.search(r" 0 \S+ +\S+ +\S+ dlo$", out.stdout, re.M), out.stdout
    assert swift_requests(fake, "HEAD") == []
    # Only listings: the container's two directories, each one page and the empty one (and
    # the account's, which finds the container; /info may still be on its way at mount).
    gets = listing_gets(fake, "tree")
    assert len(gets) == 4, [g["query"] for g in gets]
    others = [(r["method"], r["path"].rstrip("/").rsplit("/", 1)[1]) for r in swift_requests(fake)
              if r not in gets]
    assert all(m == "GET" and (p.startswith("AUTH_") or p == "info") for m, p in others), others


def test_cat_cp_cmp_of_a_dlo_give_all_its_bytes(mnt, fake, tmp_path):
    whole = data(3 << 20)
    parts = {f"seg/{i:02d}": whole[i << 20:(i + 1) << 20] for i in range(3)}
    seed(fake, big={**{k: {"data": v.decode("utf-8", "surrogateescape")} for k, v in parts.items()},
                    "dlo": {"data": "", "dlo": "big/seg/"}})
    dlo = mnt.p(C, "big", "objects", "dlo")
    ref = tmp_path / "ref"
    ref.write_bytes(whole)
    out = sh(f"cp {dlo} {tmp_path / 'copy'}")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "copy").read_bytes() == whole
    out = sh(f"cat {dlo} > {tmp_path / 'cat'} && cmp {ref} {dlo}")
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "cat").read_bytes() == whole
    assert os.stat(dlo).st_size == 3 << 20
    # One HEAD, at the first open: the size is kept with the cached listing.
    assert len(swift_requests(fake, "HEAD")) == 1


def test_rm_right_after_close_and_rsync_a_refused_cleanly(mnt, fake, tmp_path):
    # A new file is pending until the kernel's RELEASE, which comes after close(2) returned:
    # `touch f; rm f`, or rsync removing the temporary file it just closed, used to find it
    # pending and crash the daemon (a null path in the tree's remove).
    os.mkdir(mnt.p(C, "site"))
    objs = mnt.p(C, "site", "objects")
    for i in range(10):
        out = sh(f"cd {objs} && touch t{i} && rm t{i} && printf x > d{i} && rm d{i}")
        assert out.returncode == 0, out.stderr
    assert os.listdir(objs) == []
    # rsync -a makes its temporary file 0600 with fchmod: modes are not Swift's (EPERM, as
    # documented); rsync removes its temporary file and says so, and the mount lives on.
    src = tmp_path / "src"
    src.mkdir()
    write(src / "f", b"data")
    out = sh(f"rsync -a {src}/ {objs}/")
    assert out.returncode != 0 and "Operation not permitted" in out.stderr, out
    assert mnt.proc.poll() is None
    assert [n for n in os.listdir(objs) if n.startswith(".f.")] == []
    out = sh(f"rsync -r --size-only {src}/ {objs}/")
    assert out.returncode == 0, out.stderr
    assert os.path.exists(os.path.join(objs, "f"))
    assert read(os.path.join(objs, "f")) == "data"
