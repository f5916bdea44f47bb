"""What `ls -l` of a big object directory costs the user's process (issue 15's benchmark target,
the part a test can check without timing): ls asks every file for its SELinux label and ACL, and
cloudfs answers that those namespaces are not supported, so ls stops asking after the first file
instead of making two FUSE round trips per file."""

import os
import signal

from mountutil import sh

C = "containers"


def seed(fake, **containers):
    fake._control("POST", "swift", containers)


def test_ls_l_asks_xattrs_once_per_mount_not_per_file(mnt, fake, tmp_path):
    seed(fake, big={f"d/o{i:03}": str(i) for i in range(200)})
    d = mnt.p(C, "big", "objects", "d")
    trace = tmp_path / "trace"
    out = sh(f"strace -f -e trace=getxattr,lgetxattr -o {trace} ls -l {d} >/dev/null")
    assert out.returncode == 0, out.stderr
    calls = [line for line in trace.read_text().splitlines() if "xattr(" in line]
    # ls learns from the first answer (ENOTSUP) that the mount has no labels and no ACLs
    assert 0 < len(calls) <= 4, "\n".join(calls[:10])
    assert all("EOPNOTSUPP" in c for c in calls), calls
    listed = sh(f"ls -l {d}").stdout.splitlines()
    assert len(listed) == 201 and listed[1].startswith("-rw-r--r--") and not listed[1][10:11].strip()


def test_other_namespaces_are_not_supported_user_is(mnt, fake):
    seed(fake, site={"a": "1"})
    f = mnt.p(C, "site", "objects", "a")
    for name in ("security.selinux", "system.posix_acl_access", "trusted.x"):
        out = sh(f"getfattr -n {name} {f}")
        assert out.returncode != 0 and "Operation not supported" in out.stderr, (name, out.stderr)
    out = sh(f"getfattr -n user.swift.meta.nope {f}")
    assert out.returncode != 0 and "No such attribute" in out.stderr
    # a copy with everything preserved still works (no ACL, no label to carry)
    out = sh(f"cp -a {f} {mnt.path}/../copied && cat {mnt.path}/../copied")
    assert out.returncode == 0 and out.stdout == "1", out.stderr



def test_listed_entries_stat_without_the_daemon(mount_factory, fake):
    # The kernel reads a directory in batches of about 4 KiB; every batch must carry the
    # entries' attributes (READDIRPLUS), else ls -l's stat of each entry past the first batch is
    # one LOOKUP round trip to cloudfs. Proof without a clock: once listed, a stat of the last
    # entry is answered by the kernel alone, even with cloudfs stopped.
    m = mount_factory("-o", "cache_ttl=60")
    seed(fake, big={f"d/o{i:04}": str(i % 10) for i in range(3000)})
    d = m.p(C, "big", "objects", "d")
    assert len(sh(f"ls -f {d}").stdout.split()) == 3002
    os.kill(m.proc.pid, signal.SIGSTOP)
    try:
        out = sh(f"timeout 10 stat -c %s {d}/o2999 {d}/o1500")
    finally:
        os.kill(m.proc.pid, signal.SIGCONT)
    assert out.returncode == 0 and out.stdout.split() == ["1", "1"], out
