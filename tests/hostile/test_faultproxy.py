"""The faithful fake behind the TCP fault proxy: connections reset inside the head or the body, a
stalled answer, a slow drip. Reads are retried where the docs say so, a stall or a drip ends within
`timeout` with ETIMEDOUT, and the mount answers once the network is well again."""

import errno
import os
import sys

import pytest

from conftest import HERE, syscall
from mountutil import poll, read

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fake"))
from client import FakeCloud  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

LIST = "/compute/v2.1/servers/detail"


@pytest.fixture(scope="module")
def fake_cloud(tmp_path_factory):
    fc = FakeCloud.start(str(tmp_path_factory.mktemp("fake")), quiet=True)
    yield fc
    fc.stop()


@pytest.fixture
def proxied(fake_cloud):
    fake_cloud.reset()
    with FaultProxy([fake_cloud.port]) as px:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(fake_cloud.env())
        env["OS_AUTH_URL"] = px.url(fake_cloud.port) + "/identity/v3"
        yield fake_cloud, px, env


def server_ids(fake):
    _, body = fake.get_json("/compute/v2.1/servers", fake.token()[0])
    return sorted(s["id"] for s in body["servers"])


def test_every_call_goes_through_the_proxy(proxied, mount_factory):
    fake, px, env = proxied
    m = mount_factory(env, "-o", "timeout=5,cache_ttl=0")
    e, _, names = syscall("os.listdir", m.p("servers"), 15)
    assert e == 0 and set(server_ids(fake)) <= set(names)
    # The catalog the fake sent was rewritten: the listing came through the proxy too.
    px.arm("reset_head", path=LIST, count=1)
    syscall("os.listdir", m.p("servers"), 15)
    assert px.fired == [("reset_head", LIST)]


@pytest.mark.parametrize("fault", ["reset_head", "close_head", "reset_body"])
def test_reset_is_retried(proxied, mount_factory, fault):
    fake, px, env = proxied
    m = mount_factory(env, "-o", "timeout=5,cache_ttl=0")
    px.arm(fault, path=LIST, count=1)
    e, _, names = syscall("os.listdir", m.p("servers"), 15)
    assert e == 0, read(m.p(".cloudfs", "errors"))
    assert set(server_ids(fake)) <= set(names)
    assert px.fired == [(fault, LIST)]


@pytest.mark.parametrize("fault", ["reset_head", "close_head", "reset_body"])
def test_reset_every_time(proxied, mount_factory, fault):
    fake, px, env = proxied
    m = mount_factory(env, "-o", "timeout=5,cache_ttl=0,negative_ttl=0,retries=2")
    px.arm(fault, path=LIST, count=-1)
    e, secs, _ = syscall("os.listdir", m.p("servers"), 15)
    assert e == errno.ECONNRESET
    assert secs < 5 + 3
    assert len(px.fired) == 3     # the first try and two retries
    px.disarm()
    assert poll(lambda: syscall("os.listdir", m.p("servers"), 15)[0] == 0, timeout=5)


@pytest.mark.parametrize("fault", ["stall", "drip"])
def test_stall_and_drip_meet_the_deadline(proxied, mount_factory, fault):
    fake, px, env = proxied
    m = mount_factory(env, "-o", "timeout=2,cache_ttl=0,negative_ttl=0")
    px.arm(fault, path=LIST, count=-1, delay_ms=100)
    e, secs, _ = syscall("os.listdir", m.p("servers"), 15)
    assert e == errno.ETIMEDOUT
    assert secs < 2 + 3, secs
    px.disarm()
    assert poll(lambda: syscall("os.listdir", m.p("servers"), 15)[0] == 0, timeout=5)
