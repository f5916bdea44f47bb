"""Errors a shell can't miss, on devcloud (docs/SEMANTICS.md, "A spec written by echo"): `echo`
of a JSON spec in bash and dash fails when the JSON is broken or when the cloud refuses it, and a
valid one makes exactly one resource; each checked with the openstack CLI."""

import os
import subprocess

import pytest

from conftest import RUN, osc, wait_for
from mountutil import Mount, start_cloudfs


@pytest.fixture(scope="module")
def mnt(tmp_path_factory, demo_env):
    path = str(tmp_path_factory.mktemp("e2e-echo") / "mnt")
    proc, log = start_cloudfs(path, demo_env, ["-o", "cache_ttl=1,negative_ttl=1"], timeout=30)
    m = Mount(path, proc, log)
    yield m
    m.unmount()


def volumes_named(name, env):
    return [v for v in osc("volume", "list", "--name", name, env=env) if v["Name"] == name]


def run(shell, cmd):
    return subprocess.run([shell, "-c", cmd], capture_output=True, text=True, timeout=120)


def test_echo_of_volume_specs(mnt, demo_env):
    bad, refused, good = (f"e2e-echo-{w}-{RUN}" for w in ("bad", "refused", "good"))
    try:
        out = run("bash", f"echo '{{\"size\": 1,,}}' > {mnt.p('volumes', bad)}")
        assert out.returncode == 1 and "Invalid argument" in out.stderr, out
        # Cinder's own 400: the echo sees it, not only a close nobody checks
        out = run("dash", f"echo '{{\"size\": -1}}' > {mnt.p('volumes', refused)}")
        assert out.returncode == 1 and "echo: I/O error" in out.stderr, out
        with open(mnt.p(".cloudfs", "errors")) as f:
            errs = f.read()
        assert bad in errs and "not valid JSON" in errs, errs
        assert "HTTP 400" in errs, errs
        out = run("bash", f"echo '{{\"size\": 1}}' > {mnt.p('volumes', good)} && "
                          f"readlink {mnt.p('volumes', good)}")
        assert out.returncode == 0, out
        (vol,) = volumes_named(good, demo_env)
        assert out.stdout.strip() == vol["ID"]
        assert volumes_named(bad, demo_env) == [] and volumes_named(refused, demo_env) == []
    finally:
        for name in (bad, refused, good):
            for v in volumes_named(name, demo_env):
                wait_for(lambda: osc("volume", "show", v["ID"], env=demo_env)["status"]
                         in ("available", "error"), timeout=60)
                osc("volume", "delete", v["ID"], env=demo_env, parse=False, check=False)
    assert not os.path.lexists(mnt.p("volumes", bad))
