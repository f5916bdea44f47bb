"""Mounted tests: the real cloudfs binary on a real FUSE mount, talking to the
fake OpenStack in tests/fake, driven with the tools users run (ls, cat, stat,
find, grep). Each test gets a fresh mount; the fake cloud is shared by a
module and reset between tests."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fake"))

from client import FakeCloud  # noqa: E402
from mountutil import CLOUDFS, Mount, fuse_available, start_cloudfs  # noqa: E402


def pytest_collection_modifyitems(config, items):
    # No FUSE means these tests cannot run: fail loudly rather than skip,
    # since a skipped mounted test would look like a pass.
    if not fuse_available():
        raise pytest.UsageError("mounted tests need /dev/fuse and fusermount3")
    if not os.access(CLOUDFS, os.X_OK):
        raise pytest.UsageError(f"{CLOUDFS} is not built")



def base_env(cloud, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(cloud.env())
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def cloud_opts():
    """Modules override this to start the fake with other options."""
    return {}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, cloud_opts):
    fc = FakeCloud.start(str(tmp_path_factory.mktemp("fake")), **cloud_opts)
    yield fc
    fc.stop()


@pytest.fixture
def fake(cloud):
    cloud.reset()
    yield cloud


@pytest.fixture
def mount_factory(tmp_path, fake):
    mounts = []

    def make(*args, env=None, name="mnt"):
        e = base_env(fake) if env is None else env
        path = str(tmp_path / name)
        proc, log = start_cloudfs(path, e, args)
        m = Mount(path, proc, log)
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        m.unmount()


@pytest.fixture
def mnt(mount_factory):
    """A mount with a 2 s cache TTL and default everything else."""
    return mount_factory("-o", "cache_ttl=2,negative_ttl=1")


