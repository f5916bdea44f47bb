#!/usr/bin/python3
"""bench/waits.py -- what 100 parked `cat wait` readers cost the rest of the mount.

Measures, on the fake cloud, with one server held busy (REBOOT):
  - `ls flavors/` latency (median and worst of N runs) with 0 and with W parked waits,
    on a mount with few FUSE workers (-o max_threads=4), so a held worker would show;
  - the GETs of that server per second while W readers wait (one shared poll expected);
  - cloudfs's RSS with 0 and W waits.
It reports; it never asserts.  Usage: bench/waits.py [--waits 100] [--runs 50]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fake"))
sys.path.insert(0, os.path.join(ROOT, "tests", "mounted"))
from client import FakeCloud  # noqa: E402
from mountutil import Mount, start_cloudfs  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def ls_times(path, runs):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(["ls", path], check=True, stdout=subprocess.DEVNULL)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--waits", type=int, default=100)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--ttl", default="5", help="cache_ttl of the mount (0: every ls a round trip)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cloudfs-bench-waits.")
    fake = FakeCloud.start(os.path.join(tmp, "fake"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(fake.env())
    path = os.path.join(tmp, "mnt")
    # --ttl 0: every ls is a real round trip to the fake, the worst case for a held worker
    proc, log = start_cloudfs(path, env, ["-o", f"max_threads=4,cache_ttl={a.ttl}"])
    m = Mount(path, proc, log)
    waiters = []
    try:
        sid = next(s["id"] for s in fake.state()["servers"] if s["name"] == "web1")
        flav = m.p("flavors")
        base = ls_times(flav, a.runs)
        rss0 = rss_kib(proc.pid)
        fake.update("servers", sid, status="REBOOT")
        waiters = [subprocess.Popen(["cat", m.p("servers", sid, "wait")],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                   for _ in range(a.waits)]
        # every reader parked (each open costs a GET when cache_ttl=0) before measuring
        status = m.p(".cloudfs", "status")
        t = time.time()
        while time.time() - t < 120:
            with open(status) as f:
                if f"waiting {a.waits}\n" in f.read():
                    break
            time.sleep(0.1)
        parked = sum(w.poll() is None for w in waiters)
        fake.clear_requests()
        t0 = time.time()
        loaded = ls_times(flav, a.runs)
        time.sleep(max(0, 5 - (time.time() - t0)))
        span = time.time() - t0
        polls = [r for r in fake.requests(method="GET") if r["path"].endswith(sid)]
        rss1 = rss_kib(proc.pid)
        fake.update("servers", sid, status="ACTIVE")
        t1 = time.time()
        outs = [w.communicate(timeout=30)[0] for w in waiters]
        woke = time.time() - t1
    finally:
        for w in waiters:
            if w.poll() is None:
                w.kill()
        m.unmount()
        fake.stop()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"ls flavors/ (cache_ttl={a.ttl}, 4 workers), {a.runs} runs:")
    print(f"  0 waits:   median {statistics.median(base):6.2f} ms, worst {max(base):6.2f} ms")
    print(f"  {parked} parked: median {statistics.median(loaded):6.2f} ms, worst {max(loaded):6.2f} ms"
          f"  ({statistics.median(loaded) / statistics.median(base):.2f}x)")
    print(f"GETs of the awaited server: {len(polls)} in {span:.1f} s "
          f"({len(polls) / span:.2f}/s for {parked} readers)")
    print(f"all {len(outs)} readers printed ACTIVE: {all(o == b'ACTIVE' + bytes([10]) for o in outs)},"
          f" {woke:.2f} s after the status changed")
    print(f"cloudfs RSS: {rss0} KiB idle, {rss1} KiB with {parked} waits "
          f"({(rss1 - rss0) / max(parked, 1):.1f} KiB per wait)")


if __name__ == "__main__":
    main()
