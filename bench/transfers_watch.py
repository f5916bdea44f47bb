#!/usr/bin/python3
"""Watches .cloudfs/transfers during one large upload and its download, as `watch cat` would, and
prints what it saw once a second with the time it took to read the file.  A measurement, not a test.

  bench/transfers_watch.py [--mib 1024] [--pipe] [--bin build/cloudfs]        against the fake cloud
  . /var/tmp/cloudfs-devcloud/openrc.demo; bench/transfers_watch.py --cloud   against OS_* (devcloud);
                                                                              the image is deleted after
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fake"))
sys.path.insert(0, os.path.join(ROOT, "tests", "mounted"))

from client import FakeCloud  # noqa: E402
from mountutil import Mount, start_cloudfs  # noqa: E402

MiB = 1 << 20


def watch(m, proc, name):
    """Reads .cloudfs/transfers every second while proc runs; prints the lines naming @name."""
    t0 = time.monotonic()
    worst = 0.0
    reads = 0
    while proc.poll() is None:
        a = time.monotonic()
        with open(m.p(".cloudfs", "transfers")) as f:
            text = f.read()
        took = time.monotonic() - a
        worst = max(worst, took)
        reads += 1
        for line in text.splitlines()[1:]:
            if name in line:
                print(f"{time.monotonic() - t0:6.1f}s  {line}   (read in {took * 1000:.1f} ms)", flush=True)
        time.sleep(1)
    print(f"{time.monotonic() - t0:6.1f}s  {' '.join(proc.args) if isinstance(proc.args, list) else proc.args}"
          f" exited {proc.wait()}; {reads} reads of the file, slowest {worst * 1000:.1f} ms", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--pipe", action="store_true", help="upload from dd through a pipe (no total)")
    ap.add_argument("--cloud", action="store_true", help="use the OS_* environment, not the fake")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "cloudfs"))
    args = ap.parse_args()
    os.environ["CLOUDFS_BIN"] = args.bin
    tmp = tempfile.mkdtemp(prefix="cloudfs-transfers-")
    fake = None
    if args.cloud:
        env = dict(os.environ)
    else:
        fake = FakeCloud.start(os.path.join(tmp, "fake"), quiet=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(fake.env())
    mnt = os.path.join(tmp, "mnt")
    proc, log = start_cloudfs(mnt, env, [])
    m = Mount(mnt, proc, log)
    name = f"transfers-watch-{os.getpid()}.img"
    try:
        if args.pipe:
            cmd = f"dd if=/dev/zero bs=1M count={args.mib} status=none | cat > {m.p('images', name)}"
        else:
            src = os.path.join(tmp, "src.img")
            subprocess.run(["dd", "if=/dev/urandom", f"of={src}", "bs=1M", f"count={args.mib}",
                            "status=none"], check=True)
            cmd = f"cp {src} {m.p('images', name)}"
        print(f"upload: {cmd}", flush=True)
        t = time.monotonic()
        watch(m, subprocess.Popen(cmd, shell=True), name)
        print(f"upload of {args.mib} MiB took {time.monotonic() - t:.1f} s", flush=True)
        iid = os.readlink(m.p("images", name))
        cmd = f"cat {m.p('images', iid, 'data')} > /dev/null"
        print(f"download: {cmd}", flush=True)
        t = time.monotonic()
        watch(m, subprocess.Popen(cmd, shell=True), iid)
        print(f"download of {args.mib} MiB took {time.monotonic() - t:.1f} s", flush=True)
        os.rmdir(m.p("images", iid))
    finally:
        m.unmount()
        if fake:
            fake.stop()


if __name__ == "__main__":
    main()
