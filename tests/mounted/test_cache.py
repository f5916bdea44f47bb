"""Freshness: TTL reuse, expiry, negative entries, manual refresh, coalescing."""

import json
import os
import threading
import time

from mountutil import poll, read, sh


def server(fake, name):
    (s,) = [s for s in fake.state()["servers"] if s["name"] == name]
    return s


def test_within_ttl_reads_cost_no_requests(mnt, fake):
    s = server(fake, "web1")
    read(mnt.p("servers", s["id"], "status"))
    os.listdir(mnt.p("servers"))
    fake.clear_requests()
    for _ in range(5):
        read(mnt.p("servers", s["id"], "status"))
        os.listdir(mnt.p("servers"))
    assert fake.requests(service="compute") == []


def test_changes_show_after_the_ttl(mnt, fake):
    s = server(fake, "web1")
    path = mnt.p("servers", s["id"], "status")
    assert read(path) == "ACTIVE\n"
    fake.update("servers", s["id"], status="SHUTOFF")
    # The mount uses cache_ttl=2: still the cached value right away...
    assert read(path) == "ACTIVE\n"
    time.sleep(2.2)
    # ...and the cloud's value once it expired, with one request.
    fake.clear_requests()
    assert read(path) == "SHUTOFF\n"
    assert len(fake.requests(service="compute")) == 1


def test_sizes_and_names_follow_a_change_the_kernel_had_cached(mount_factory, fake):
    # The kernel keeps names and attributes for the whole TTL (30 s here); a
    # refetch that finds the document changed must make it drop them, or
    # stat would report the old size and the old name would still resolve.
    m = mount_factory("-o", "cache_ttl=30")
    s = server(fake, "web1")
    d = m.p("servers", s["id"])
    assert os.stat(os.path.join(d, "status")).st_size == len("ACTIVE\n")
    assert os.stat(os.path.join(d, "name")).st_size == len("web1\n")
    assert os.path.islink(m.p("servers", "web1"))
    fake.update("servers", s["id"], status="SHUTOFF", name="web1-renamed")
    assert sh(f"echo servers > {m.p('.cloudfs', 'refresh')}").returncode == 0
    assert read(os.path.join(d, "status")) == "SHUTOFF\n"  # the refetch
    assert os.stat(os.path.join(d, "status")).st_size == len("SHUTOFF\n")
    assert sh(f"ls -l {d}/name").stdout.split()[4] == str(len("web1-renamed\n"))
    os.listdir(m.p("servers"))  # the listing refetch, where names come from
    assert poll(lambda: not os.path.lexists(m.p("servers", "web1")), timeout=2)
    assert os.readlink(m.p("servers", "web1-renamed")) == s["id"]


def padded_web1(mount_factory, fake):
    """A mount with a 30 s TTL where web1's json spans pages. Returns web1's
    directory and change(), which makes web1 ERROR with a shorter json and
    has the mount refetch it."""
    m = mount_factory("-o", "cache_ttl=30")
    s = server(fake, "web1")
    refresh = f"echo servers > {m.p('.cloudfs', 'refresh')}"
    fake.update("servers", s["id"], metadata={"pad": "x" * 10000})
    assert sh(refresh).returncode == 0

    def change():
        fake.update("servers", s["id"], status="ERROR", metadata={"pad": "y" * 6000})
        assert sh(refresh).returncode == 0

    return m.p("servers", s["id"]), change


def test_a_reader_keeps_the_version_it_opened_whole(mount_factory, fake):
    # The kernel keeps file contents: a file that changes becomes a new
    # inode, like a file replaced by rename(2). Whoever opened the old one
    # reads all of it, at its own size, even when the new version is
    # shorter and others have already looked at it (a shared page cache
    # would cut the old reader short at the new size, or mix the two).
    d, change = padded_web1(mount_factory, fake)
    old_doc = read(os.path.join(d, "json")).encode()
    assert len(old_doc) > 2 * 4096  # spans pages
    with open(os.path.join(d, "status"), "rb") as st, open(os.path.join(d, "json"), "rb") as js:
        head = js.read(1000)
        change()
        # Everyone else sees the new version at once, at its exact size.
        assert read(os.path.join(d, "status")) == "ERROR\n"
        assert os.stat(os.path.join(d, "status")).st_size == len("ERROR\n")
        new_doc = read(os.path.join(d, "json")).encode()
        assert json.loads(new_doc)["metadata"]["pad"] == "y" * 6000
        assert os.stat(os.path.join(d, "json")).st_size == len(new_doc)
        # The holders read on: exactly the version they opened.
        assert st.read() == b"ACTIVE\n"
        assert os.fstat(st.fileno()).st_size == len("ACTIVE\n")
        assert head + js.read() == old_doc
        assert os.fstat(js.fileno()).st_size == len(old_doc)
    # A new open of an old name finds the new version.
    assert read(os.path.join(d, "status")) == "ERROR\n"


def drop_page_cache():
    # What memory pressure does to clean pages, now: the next read of them
    # goes to the filesystem.
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1")


def test_a_reopened_file_keeps_its_version_when_the_kernel_drops_its_pages(mount_factory, fake):
    # Opening a file again renders nothing while its document is unchanged:
    # its bytes are in the page cache. If the kernel drops them while the
    # file is open and the server has changed since, the READ that follows
    # must still bring the version that was opened, whole.
    d, change = padded_web1(mount_factory, fake)
    old_doc = read(os.path.join(d, "json")).encode()
    assert read(os.path.join(d, "status")) == "ACTIVE\n"
    assert read(os.path.join(d, "json")).encode() == old_doc
    with open(os.path.join(d, "status"), "rb") as st, open(os.path.join(d, "json"), "rb") as js:
        change()
        assert read(os.path.join(d, "status")) == "ERROR\n"
        drop_page_cache()
        assert st.read() == b"ACTIVE\n"
        assert js.read() == old_doc
        assert os.fstat(js.fileno()).st_size == len(old_doc)
    assert json.loads(read(os.path.join(d, "json")))["metadata"]["pad"] == "y" * 6000


def test_many_deleted_at_once_all_disappear_within_the_ttl(mount_factory, fake):
    # A refetched listing that lost hundreds of members: each one's id and name must stop
    # resolving although the kernel was told it could keep them for 30 s.
    m = mount_factory("-o", "cache_ttl=30")
    made = fake.seed(servers=[{"name": f"burst{i}"} for i in range(150)])["servers"]
    names = os.listdir(m.p("servers"))
    for s in made:
        assert s["id"] in names
        os.lstat(m.p("servers", s["id"], "status"))
        assert os.readlink(m.p("servers", s["name"])) == s["id"]
    for s in made:
        fake.delete("servers", s["id"])
    assert sh(f"echo servers > {m.p('.cloudfs', 'refresh')}").returncode == 0
    left = set(os.listdir(m.p("servers")))
    assert not left & {s["id"] for s in made}
    gone = lambda: not any(os.path.lexists(m.p("servers", s["id"])) or os.path.lexists(m.p("servers", s["name"]))
                           for s in made)
    assert poll(gone, timeout=5)
    assert os.path.islink(m.p("servers", "web1"))    # the others stay


def test_deleted_elsewhere_disappears_after_the_ttl(mnt, fake):
    s = server(fake, "db1")
    assert s["id"] in os.listdir(mnt.p("servers"))
    fake.delete("servers", s["id"])
    time.sleep(2.2)
    assert s["id"] not in os.listdir(mnt.p("servers"))
    assert not os.path.exists(mnt.p("servers", s["id"]))


def test_created_elsewhere_is_found_by_id_before_the_listing_expires(mnt, fake):
    os.listdir(mnt.p("servers"))
    (new,) = fake.seed(servers=[{"name": "late"}])["servers"]
    time.sleep(1.1)  # the listing is no longer trusted to prove absence
    assert read(mnt.p("servers", new["id"], "name")) == "late\n"


def test_not_found_is_remembered_briefly(mnt, fake):
    missing = mnt.p("servers", "11111111-2222-3333-4444-555555555555")
    fake.clear_requests()
    assert not os.path.exists(missing)
    assert not os.path.exists(missing)
    gets = [r for r in fake.requests(service="compute") if "11111111" in r["path"]]
    assert len(gets) == 1
    time.sleep(1.2)  # negative_ttl=1
    assert not os.path.exists(missing)
    gets = [r for r in fake.requests(service="compute") if "11111111" in r["path"]]
    assert len(gets) == 2


def test_manual_refresh_forgets_now(mnt, fake):
    s = server(fake, "web1")
    path = mnt.p("servers", s["id"], "status")
    assert read(path) == "ACTIVE\n"
    fake.update("servers", s["id"], status="PAUSED")
    out = sh(f"echo servers > {mnt.p('.cloudfs', 'refresh')}")
    assert out.returncode == 0, out.stderr
    assert read(path) == "PAUSED\n"
    fake.update("servers", s["id"], status="ACTIVE")
    assert sh(f"echo > {mnt.p('.cloudfs', 'refresh')}").returncode == 0
    assert read(path) == "ACTIVE\n"
    bad = sh(f"echo nosuch > {mnt.p('.cloudfs', 'refresh')}")
    assert bad.returncode != 0 and "Invalid argument" in bad.stderr


def test_concurrent_cold_readers_share_one_request(mnt, fake):
    s = server(fake, "web1")
    # Slow the cloud down so the readers overlap.
    fake.fault(method="GET", path=f"/compute/v2.1/servers/{s['id']}", delay_ms=500, count=1)
    fake.clear_requests()
    results = []

    def reader():
        results.append(read(mnt.p("servers", s["id"], "status")))

    threads = [threading.Thread(target=reader) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["ACTIVE\n"] * 20
    gets = [r for r in fake.requests(service="compute") if r["path"].endswith(s["id"])]
    assert len(gets) == 1


def test_pagination_is_followed_to_the_end(mount_factory, fake):
    fake.seed(servers=[{"name": f"p{i}"} for i in range(2500)])
    m = mount_factory()
    fake.clear_requests()
    names = os.listdir(m.p("servers"))
    assert len(names) == len(fake.state()["servers"])
    assert len(set(names)) == len(names)
    pages = fake.requests(service="compute", path_prefix="/compute/v2.1/servers/detail")
    assert len(pages) == 3  # 2500+ servers at 1000 a page


def test_a_name_the_listing_no_longer_shows_is_gone_at_once(mount_factory, fake):
    # `ls` then `test -e`: once a listing stops showing a resource, the name
    # must not resolve from what the kernel kept of an earlier listing (its
    # entries live for the whole TTL, 30 s here, unless cloudfs makes it drop
    # them).
    m = mount_factory("-o", "cache_ttl=30")
    refresh = f"echo networks > {m.p('.cloudfs', 'refresh')}"
    stale = []
    for i in range(5):
        (net,) = fake.seed(networks=[{"name": f"gone-{i}"}])["networks"]
        assert sh(refresh).returncode == 0
        assert net["id"] in os.listdir(m.p("networks"))
        assert os.path.isdir(m.p("networks", net["id"]))  # the kernel has the entry now
        fake.delete("networks", net["id"])
        assert sh(refresh).returncode == 0
        assert net["id"] not in os.listdir(m.p("networks"))
        if os.path.exists(m.p("networks", net["id"])):
            stale.append(i)
    assert stale == [], f"listed as gone but still found by stat in rounds {stale}"
