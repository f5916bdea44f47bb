"""Defect 2 of issue 11: pagination that never ends. One listing has one deadline (`timeout`), a
next link back to a page already listed fails it, and more than `max_entries` members fail it with
EFBIG; the daemon's memory stays bounded and the mount answers afterwards."""

import errno

from conftest import peak_rss_kib, syscall
from mountutil import poll, read

SID = "00000001-0000-4000-8000-000000000001"


def answers_again(hostile, m):
    hostile.scenario("normal")
    return SID in (poll(lambda: syscall("os.listdir", m.p("servers"), 15)[2], timeout=5) or [])


def test_next_links_in_a_loop(hostile, mount_factory):
    hostile.scenario("loop")
    m = mount_factory(hostile.env(), "-o", "timeout=20,cache_ttl=0,negative_ttl=0")
    e, _, _ = syscall("os.listdir", m.p("servers"), 15)
    assert e == errno.EIO
    assert "leads back to a page already listed" in read(m.p(".cloudfs", "errors"))
    # A -> B -> A: three pages asked for, not thousands.
    pages = [r for r in hostile.requests("main") if "/servers/detail" in r["path"]]
    assert len(pages) == 3, pages
    assert answers_again(hostile, m)


def test_endless_next_chain_meets_the_deadline(hostile, mount_factory):
    # A fresh link on every page, one member each, slowly: only the deadline can end it. The
    # documented bound is `timeout` for the whole listing (2 s here); the child is given 15 s.
    hostile.scenario("endless", page_size=1, delay_ms=20)
    m = mount_factory(hostile.env(), "-o", "timeout=2,cache_ttl=0,negative_ttl=0")
    e, secs, _ = syscall("os.listdir", m.p("servers"), 15)
    assert e == errno.ETIMEDOUT
    assert secs < 2 + 3, secs
    errors = read(m.p(".cloudfs", "errors"))
    assert "did not end within 2 s" in errors or "timed out" in errors
    assert answers_again(hostile, m)


def test_endless_next_chain_is_capped(hostile, mount_factory):
    # Fast pages of 1000 members: the member cap ends it, with EFBIG, and memory stays bounded.
    hostile.scenario("endless")
    m = mount_factory(hostile.env(), "-o", "timeout=60,cache_ttl=0,negative_ttl=0,max_entries=5000")
    e, _, _ = syscall("os.listdir", m.p("servers"), 50)
    assert e == errno.EFBIG
    assert "more than 5000 members (max_entries)" in read(m.p(".cloudfs", "errors"))
    pages = [r for r in hostile.requests("main") if "/servers/detail" in r["path"]]
    assert len(pages) == 6, len(pages)
    assert answers_again(hostile, m)


def test_a_listing_at_the_cap_is_whole(hostile, mount_factory):
    # Exactly max_entries members is allowed; the cap refuses only more.
    hostile.scenario("endless", page_size=10)
    m = mount_factory(hostile.env(), "-o", "timeout=20,cache_ttl=0,negative_ttl=0,max_entries=10")
    e, _, _ = syscall("os.listdir", m.p("servers"), 15)
    assert e == errno.EFBIG
    hostile.scenario("normal")
    m2 = mount_factory(hostile.env(), "-o", "max_entries=1", name="m2")
    e, _, names = syscall("os.listdir", m2.p("servers"), 15)
    assert e == 0 and SID in names


def test_endless_chain_memory_is_bounded(hostile, mount_factory):
    # The default cap (100000 members) bounds what one listing can make the daemon hold.
    hostile.scenario("endless")
    m = mount_factory(hostile.env(small_quarantine=True), "-o", "timeout=60,cache_ttl=0,negative_ttl=0")
    e, _, _ = syscall("os.listdir", m.p("servers"), 60)
    assert e == errno.EFBIG
    peak = peak_rss_kib(m)
    print(f"peak RSS after an endless listing: {peak // 1024} MiB")
    assert peak < 256 * 1024, f"peak RSS {peak // 1024} MiB"
    assert answers_again(hostile, m)
