"""Mounted tests: the real cloudfs binary on a real FUSE mount, talking to the
fake OpenStack in tests/fake, driven with the tools users run (ls, cat, stat,
find, grep). Each test gets a fresh mount; the fake cloud is shared by a
module and reset between tests."""

import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fake"))

from client import FakeCloud  # noqa: E402

CLOUDFS = os.environ.get("CLOUDFS_BIN", os.path.join(ROOT, "build", "cloudfs"))
SUSPICIOUS = ("segmentation fault", "addresssanitizer", "runtime error", "assertion",
              "double free", "invalid read", "invalid write", "leaked")


def fuse_available():
    return os.path.exists("/dev/fuse") and any(
        os.access(os.path.join(d, "fusermount3"), os.X_OK)
        for d in os.environ.get("PATH", "/usr/bin").split(":"))


def pytest_collection_modifyitems(config, items):
    # No FUSE means these tests cannot run: fail loudly rather than skip,
    # since a skipped mounted test would look like a pass.
    if not fuse_available():
        raise pytest.UsageError("mounted tests need /dev/fuse and fusermount3")
    if not os.access(CLOUDFS, os.X_OK):
        raise pytest.UsageError(f"{CLOUDFS} is not built")


class Mount:
    """One cloudfs process mounted on a directory."""

    def __init__(self, path, proc, log_path):
        self.path = path
        self.proc = proc
        self.log_path = log_path

    def p(self, *parts):
        return os.path.join(self.path, *parts)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def unmount(self):
        if self.proc.poll() is None:
            subprocess.run(["fusermount3", "-u", self.path], check=False)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                subprocess.run(["fusermount3", "-u", "-z", self.path], check=False)
                raise AssertionError("cloudfs did not exit after unmount")
        text = self.log().lower()
        bad = [w for w in SUSPICIOUS if w in text]
        assert not bad, f"suspicious daemon output {bad}:\n{self.log()[-3000:]}"
        assert self.proc.returncode == 0, f"cloudfs exited {self.proc.returncode}:\n{self.log()[-3000:]}"


def start_cloudfs(mnt, env, args=(), wait=True, timeout=10):
    """Starts cloudfs in the foreground; returns (proc, log_path)."""
    os.makedirs(mnt, exist_ok=True)
    log_path = mnt + ".log"
    cmd = [CLOUDFS, "-f", *args, mnt]
    if os.environ.get("TEST_WITH_VALGRIND"):
        cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=no"] + cmd
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    if not wait:
        return proc, log_path
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.ismount(mnt):
            return proc, log_path
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    with open(log_path, errors="replace") as f:
        raise AssertionError(f"cloudfs did not mount (exit {proc.returncode}):\n{f.read()}")


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


def sh(cmd, **kw):
    """Runs a shell command the way a user would; returns CompletedProcess."""
    return subprocess.run(cmd, shell=True, executable="/bin/bash", capture_output=True,
                          text=True, timeout=60, **kw)


def read(path):
    with open(path) as f:
        return f.read()
