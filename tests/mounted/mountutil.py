"""Helpers shared by the mounted and end-to-end tests: start cloudfs on a
real FUSE mount, unmount it cleanly, run shell commands as a user would."""

import os
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLOUDFS = os.environ.get("CLOUDFS_BIN", os.path.join(ROOT, "build", "cloudfs"))
SUSPICIOUS = ("segmentation fault", "addresssanitizer", "runtime error", "assertion",
              "double free", "invalid read", "invalid write", "leaked")


def fuse_available():
    return os.path.exists("/dev/fuse") and any(
        os.access(os.path.join(d, "fusermount3"), os.X_OK)
        for d in os.environ.get("PATH", "/usr/bin").split(":"))


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

    def kill(self):
        """SIGKILL the daemon (it cleans nothing up, as when a machine dies) and detach its
        mount point; a later unmount() counts it as a clean end (killed on purpose)."""
        self.proc.kill()
        self.proc.wait()
        subprocess.run(["fusermount3", "-u", "-z", self.path], check=False)
        self.proc.returncode = 0
        self.log = lambda: ""

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



# The compute microversion a mount asks of a cloud that offers it (compute.c's
# microversion_max): the fake answers as Nova does at that version.
NOVA_MICROVERSION = "2.70"
NOVA_HEADERS = {"OpenStack-API-Version": f"compute {NOVA_MICROVERSION}"}


def sh(cmd, **kw):
    """Runs a shell command the way a user would; returns CompletedProcess."""
    return subprocess.run(cmd, shell=True, executable="/bin/bash", capture_output=True,
                          text=True, timeout=60, **kw)


def read(path):
    with open(path) as f:
        return f.read()


def ok(out):
    """A shell command's result that must have succeeded; returns it."""
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr}"
    return out


def failed(out, message):
    """A shell command's result that must have failed with @message on stderr."""
    assert out.returncode != 0, f"expected failure with {message!r}, got success: {out.stdout}"
    assert message in out.stderr, f"expected {message!r} in: {out.stderr!r}"


def errors(m):
    """What the mount's .cloudfs/errors says."""
    return read(m.p(".cloudfs", "errors"))


def poll(fn, timeout=10, interval=0.05):
    """Calls fn until it returns something true; returns that, or the last
    value once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(interval)
