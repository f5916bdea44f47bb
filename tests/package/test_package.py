"""The Debian package: dpkg-buildpackage builds cloudfs_*.deb from this tree,
lintian finds no error in it, it holds what `meson install` installs, and the
binary it installs mounts the fake cloud through mount(8), mount.fuse3 and an
fstab line whose source is a clouds.yaml cloud name, then unmounts with
umount(8). Runs as root: the mount happens in a private mount namespace
(unshare), where the package's /usr/bin is bound over /usr/local/bin (so
mount.fuse3 finds `cloudfs` on its PATH) and a test fstab over /etc/fstab;
nothing outside the namespace changes."""

import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fake"))

from client import FakeCloud  # noqa: E402

# What both the .deb and `meson install` put in place, relative to the prefix.
PAYLOAD = {
    "bin/cloudfs",
    "share/doc/cloudfs/examples/cloudfs@.service",
    "share/doc/cloudfs/examples/mnt-cloud.mount",
    "share/doc/cloudfs/examples/mnt-cloud.automount",
    "share/doc/cloudfs/examples/clouds.yaml",
    "share/doc/cloudfs/examples/fstab",
}


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                          timeout=kw.pop("timeout", 600), **kw)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """-> (directory holding the .deb and .changes, extracted root)."""
    out = tmp_path_factory.mktemp("deb")
    r = sh([os.path.join(HERE, "build-deb.sh"), str(out)])
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    debs = [f for f in os.listdir(out) if f.startswith("cloudfs_") and f.endswith(".deb")]
    assert len(debs) == 1, os.listdir(out)
    root = out / "root"
    r = sh(["dpkg-deb", "-x", str(out / debs[0]), str(root)])
    assert r.returncode == 0, r.stderr
    return out, root, out / debs[0]


def files_under(top):
    return {os.path.relpath(os.path.join(d, f), top)
            for d, _, fs in os.walk(top) for f in fs}


def test_lintian_no_errors(built):
    out, _, _ = built
    changes = [f for f in os.listdir(out) if f.endswith(".changes")][0]
    r = sh(["lintian", "--pedantic", "-I", str(out / changes)])
    tags = [l for l in r.stdout.splitlines() if l[:2] in ("E:", "W:", "I:", "P:", "X:")]
    print("lintian:", "\n".join(tags) or "no tags")
    assert not [t for t in tags if t.startswith("E:")], r.stdout
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_holds_binary_man_page_examples(built):
    _, root, deb = built
    got = files_under(root / "usr")
    assert PAYLOAD <= got, sorted(got)
    assert "share/man/man1/cloudfs.1.gz" in got
    assert "share/doc/cloudfs/copyright" in got
    r = sh(["dpkg-deb", "-f", str(deb), "Depends"])
    assert "fuse3" in r.stdout and "libfuse3" in r.stdout, r.stdout
    r = sh([str(root / "usr/bin/cloudfs"), "--version"])
    assert r.returncode == 0 and r.stdout.startswith("cloudfs "), r.stdout + r.stderr


def test_meson_install_installs_the_same(tmp_path, built):
    _, root, _ = built
    build = os.path.join(ROOT, "build")
    prefix = sh(["meson", "introspect", build, "--buildoptions"]).stdout
    import json
    prefix = [o["value"] for o in json.loads(prefix) if o["name"] == "prefix"][0]
    r = sh(["meson", "install", "-C", build, "--no-rebuild", "--destdir", str(tmp_path / "d")])
    assert r.returncode == 0, r.stdout + r.stderr
    got = files_under(str(tmp_path / "d") + prefix)
    deb = {f[:-3] if f.startswith("share/man/") else f for f in files_under(root / "usr")
           if not f.startswith("lib/debug")}
    assert got <= deb, sorted(got ^ deb)
    assert PAYLOAD | {"share/man/man1/cloudfs.1"} <= got, sorted(got)


@pytest.fixture
def cloud(tmp_path):
    fc = FakeCloud.start(str(tmp_path / "fake"))
    yield fc
    fc.stop()


def test_fstab_mount_with_the_installed_binary(tmp_path, built, cloud):
    """`mount MOUNTPOINT` with an fstab line `fake MNT fuse.cloudfs _netdev,
    noauto,x-systemd.automount,...`: mount.fuse3 runs `cloudfs fake MNT -o
    ...`; credentials come from clouds.yaml + secure.yaml only."""
    if os.geteuid() != 0:
        pytest.fail("the package stage runs as root (mount(8), unshare)")
    _, root, _ = built
    mnt = tmp_path / "cloud"
    mnt.mkdir()
    (tmp_path / "clouds.yaml").write_text(
        "clouds:\n  fake:\n    auth:\n"
        f"      auth_url: {cloud.auth_url}\n      username: demo\n      project_name: demo\n"
        "      user_domain_name: Default\n      project_domain_name: Default\n"
        "    region_name: RegionOne\n")
    (tmp_path / "secure.yaml").write_text("clouds:\n  fake:\n    auth:\n      password: demo\n")
    (tmp_path / "fstab").write_text(
        f"fake {mnt} fuse.cloudfs _netdev,noauto,x-systemd.automount,"
        "x-systemd.idle-timeout=10min,cache_ttl=10 0 0\n")
    script = f"""
set -e
mount --bind {root}/usr/bin /usr/local/bin
mount --bind {tmp_path}/fstab /etc/fstab
mount {mnt}
findmnt -n -o SOURCE,FSTYPE {mnt}
ps -o args= -C cloudfs | grep -F 'cloudfs fake {mnt}'
cat {mnt}/servers/web1/status
umount {mnt}
for i in $(seq 100); do pgrep -f 'cloudfs fake {mnt}' >/dev/null || break; sleep 0.05; done
findmnt {mnt} || echo unmounted
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(tmp_path / "clouds.yaml")
    env["OS_CLIENT_SECURE_FILE"] = str(tmp_path / "secure.yaml")
    r = sh(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], env=env,
           timeout=60)
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["fake", "fuse.cloudfs"], r.stdout
    # mount.fuse3 dropped the options meant for mount(8) and systemd, and the
    # command line holds no credential.
    args = [l for l in lines if l.startswith("cloudfs ")][0]
    assert args.startswith(f"cloudfs fake {mnt} -o ") and "cache_ttl=10" in args, args
    assert "x-systemd" not in args and "_netdev" not in args and "demo" not in args, args
    assert "ACTIVE" in lines, r.stdout
    assert lines[-1] == "unmounted", r.stdout
    assert not os.path.ismount(mnt)
