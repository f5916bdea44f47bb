"""Defect 1 of issue 11: a URL a cloud hands back must not take the token to another host. The
hostile cloud points its pagination links (and a redirect) at a second listener on 127.0.0.2; no
request may arrive there, and the listing fails with EIO and says why in .cloudfs/errors."""

import errno
import os

from conftest import syscall
from mountutil import poll, read

OPTS = ("-o", "timeout=5,cache_ttl=0,negative_ttl=0,retries=1")


def assert_nothing_elsewhere(hostile):
    got = hostile.requests("elsewhere")
    assert not got, f"requests reached the other host: {got}"


def test_next_link_to_another_host(hostile, mount_factory):
    hostile.scenario("offhost")
    m = mount_factory(hostile.env(), *OPTS)
    e, secs, _ = syscall("os.listdir", m.p("servers"), 15)
    assert e == errno.EIO
    assert_nothing_elsewhere(hostile)
    errors = read(m.p(".cloudfs", "errors"))
    assert "not on the compute endpoint" in errors and "not sending the token" in errors
    # The first page was asked for, with the token, on the endpoint itself.
    assert [r for r in hostile.requests("main") if "/servers/detail" in r["path"] and r["token"]]


def test_next_link_to_another_port(hostile, mount_factory):
    hostile.scenario("offhost_port")
    m = mount_factory(hostile.env(), *OPTS)
    e, _, _ = syscall("os.listdir", m.p("servers"), 15)
    assert e == errno.EIO
    # The other port is the elsewhere listener's, but on 127.0.0.1: nothing listens there, and
    # nothing may have been tried either.
    assert not [r for r in hostile.requests() if "marker=" in r["path"]]


def test_glance_absolute_next_to_another_host(hostile, mount_factory):
    hostile.scenario("offhost_glance")
    m = mount_factory(hostile.env(), *OPTS)
    e, _, _ = syscall("os.listdir", m.p("images"), 15)
    assert e == errno.EIO
    assert_nothing_elsewhere(hostile)
    assert "not on the image endpoint" in read(m.p(".cloudfs", "errors"))


def test_redirect_is_not_followed(hostile, mount_factory):
    hostile.scenario("redirect")
    m = mount_factory(hostile.env(), *OPTS)
    e, _, _ = syscall("os.listdir", m.p("servers"), 15)
    assert e == errno.EIO
    assert_nothing_elsewhere(hostile)


def test_mount_answers_after_refusing(hostile, mount_factory):
    hostile.scenario("offhost")
    m = mount_factory(hostile.env(), *OPTS)
    assert syscall("os.listdir", m.p("servers"), 15)[0] == errno.EIO
    hostile.scenario("normal")
    sid = "00000001-0000-4000-8000-000000000001"
    assert sid in (poll(lambda: syscall("os.listdir", m.p("servers"), 15)[2], timeout=5) or [])
    assert os.path.isdir(m.p("servers", sid))
