"""Failures a user can act on: precise errno, the cloud's message readable in
.cloudfs/errors, bounded waits, and a mount that keeps working."""

import os
import signal
import subprocess
import time

import pytest

from conftest import base_env
from mountutil import read, sh, start_cloudfs


def web1(fake):
    (s,) = [s for s in fake.state()["servers"] if s["name"] == "web1"]
    return s


def test_forbidden_is_eacces_with_the_cloud_message(mnt, fake):
    fake.fault(method="GET", path="/compute/v2.1/servers/detail", status=403, count=1,
               body={"forbidden": {"code": 403, "message": "Policy doesn't allow os_compute_api:servers:detail to be performed."}})
    out = sh(f"ls {mnt.p('servers')}")
    assert out.returncode != 0 and "Permission denied" in out.stderr
    errors = read(mnt.p(".cloudfs", "errors"))
    assert "Policy doesn't allow os_compute_api:servers:detail" in errors
    assert "HTTP 403" in errors and "req-" in errors
    # The fault was one-shot: the mount recovers by itself.
    assert sh(f"ls {mnt.p('servers')}").returncode == 0


def test_quota_is_edquot(mnt, fake):
    fake.fault(method="GET", path="/network/v2.0/networks", status=413, count=1,
               body={"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['network'].", "detail": ""}})
    out = sh(f"ls {mnt.p('networks')}")
    assert "Disk quota exceeded" in out.stderr


def test_server_errors_are_retried(mnt, fake):
    fake.fault(method="GET", path="/compute/v2.1/servers/detail", status=503, count=2)
    fake.clear_requests()
    out = sh(f"ls {mnt.p('servers')}")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.split()) == len(fake.state()["servers"])
    assert len(fake.requests(path_prefix="/compute/v2.1/servers/detail")) == 3


def test_persistent_server_error_is_eio_and_the_mount_survives(mnt, fake):
    fake.fault(method="GET", path="/image/v2/images", status=500, count=-1,
               body={"message": "glance is on fire"})
    out = sh(f"ls {mnt.p('images')}")
    assert out.returncode != 0 and "Input/output error" in out.stderr
    assert "glance is on fire" in read(mnt.p(".cloudfs", "errors"))
    fake.clear_faults()
    assert sh(f"ls {mnt.p('images')}").returncode == 0


def test_a_stalled_api_times_out_and_the_mount_still_answers(mount_factory, fake):
    m = mount_factory("-o", "timeout=2,retries=0")
    fake.fault(method="GET", path="/volume/", delay_ms=8000, count=1)
    t0 = time.monotonic()
    out = sh(f"ls {m.p('volumes')}")
    took = time.monotonic() - t0
    assert out.returncode != 0 and "Connection timed out" in out.stderr
    assert took < 5
    assert sh(f"ls {m.p('servers')}").returncode == 0


def test_unreachable_service_is_a_clear_error(mount_factory, fake, tmp_path):
    # RegionTwo's endpoints point at a port nobody listens on.
    env = base_env(fake, OS_REGION_NAME="RegionTwo")
    m = mount_factory(env=env)
    out = sh(f"ls {m.p('servers')}")
    assert out.returncode != 0 and "Connection refused" in out.stderr
    assert "Connection refused" in read(m.p(".cloudfs", "errors")) or "connect" in read(
        m.p(".cloudfs", "errors")).lower()


def test_expired_token_is_renewed_once(mnt, fake):
    os.listdir(mnt.p("servers"))
    fake.expire_tokens()
    fake.clear_requests()
    assert sh(f"echo > {mnt.p('.cloudfs', 'refresh')}").returncode == 0
    out = sh(f"cat {mnt.p('servers', web1(fake)['id'], 'status')}")
    assert out.returncode == 0 and out.stdout == "ACTIVE\n"
    log = fake.requests()
    assert [r["status"] for r in log if r["service"] == "compute"] == [401, 200]
    assert len([r for r in log if r["path"].endswith("/auth/tokens")]) == 1


def test_token_renewed_before_expiry(mount_factory, tmp_path_factory):
    from client import FakeCloud
    fc = FakeCloud.start(str(tmp_path_factory.mktemp("shortfake")), token_ttl=4)
    try:
        proc, log = start_cloudfs(str(tmp_path_factory.mktemp("m") / "mnt"), base_env(fc),
                                  ["-o", "cache_ttl=0.5"])
        mnt = log[:-4]
        try:
            for _ in range(6):
                assert os.listdir(os.path.join(mnt, "servers"))
                time.sleep(1)
            issued = [r for r in fc.requests() if r["path"].endswith("/auth/tokens")]
            assert len(issued) >= 2  # renewed ahead of time...
            assert not [r for r in fc.requests() if r["status"] == 401]  # ...never refused
        finally:
            subprocess.run(["fusermount3", "-u", mnt])
            proc.wait(timeout=10)
    finally:
        fc.stop()


def test_bad_password_fails_at_mount_time_with_keystone_message(fake, tmp_path):
    env = base_env(fake, OS_PASSWORD="wrong")
    proc, log = start_cloudfs(str(tmp_path / "mnt"), env, wait=False)
    assert proc.wait(timeout=10) != 0
    msg = read(log)
    assert "The request you have made requires authentication" in msg
    assert "wrong" not in msg
    assert not os.path.ismount(str(tmp_path / "mnt"))


def test_missing_credentials_are_explained(fake, tmp_path):
    env = {k: v for k, v in base_env(fake).items() if k != "OS_AUTH_URL"}
    proc, log = start_cloudfs(str(tmp_path / "mnt"), env, wait=False)
    assert proc.wait(timeout=10) != 0
    assert "OS_AUTH_URL" in read(log)


@pytest.mark.parametrize("value", ["-1", "10001"])
def test_spin_us_out_of_range_is_refused_before_mounting(fake, tmp_path, value):
    proc, log = start_cloudfs(str(tmp_path / "mnt"), base_env(fake), ("-o", f"spin_us={value}"), wait=False)
    assert proc.wait(timeout=10) != 0
    assert "spin_us must be 0 to 10000" in read(log)
    assert not os.path.ismount(str(tmp_path / "mnt"))


def test_without_the_polling_worker_everything_still_reads(mount_factory, fake):
    m = mount_factory("-o", "spin_us=0,cache_ttl=30")
    ids = os.listdir(m.p("servers"))
    out = sh(f"cd {m.path}/servers && cat */status")
    assert out.returncode == 0 and out.stdout.count("\n") == len(ids) >= 2


def test_keystone_down_fails_at_mount_time(fake, tmp_path):
    env = base_env(fake, OS_AUTH_URL="http://127.0.0.1:9/v3")
    proc, log = start_cloudfs(str(tmp_path / "mnt"), env, wait=False)
    assert proc.wait(timeout=15) != 0
    assert "cannot reach Keystone" in read(log)


def test_clouds_yaml_and_secure_yaml(mount_factory, fake, tmp_path):
    clouds = tmp_path / "clouds.yaml"
    secure = tmp_path / "secure.yaml"
    clouds.write_text(f"""clouds:
  fake:
    auth:
      auth_url: {fake.auth_url}
      username: demo
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
""")
    secure.write_text("clouds:\n  fake:\n    auth:\n      password: demo\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_CLIENT_CONFIG_FILE=str(clouds), OS_CLIENT_SECURE_FILE=str(secure))
    m = mount_factory("--os-cloud", "fake", env=env)
    assert sorted(os.listdir(m.p("servers"))) == sorted(s["id"] for s in fake.state()["servers"])
    assert "cloud 'fake'" in read(m.p(".cloudfs", "status"))


def test_application_credential_and_no_secret_in_debug_log(mount_factory, fake):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=fake.auth_url, OS_AUTH_TYPE="v3applicationcredential",
               OS_APPLICATION_CREDENTIAL_ID="appcred-id",
               OS_APPLICATION_CREDENTIAL_SECRET="appcred-secret", OS_REGION_NAME="RegionOne")
    m = mount_factory("-d", env=env)
    assert os.listdir(m.p("servers"))
    read(m.p("servers", web1(fake)["id"], "json"))
    log = m.log()
    assert "GET " in log  # -d logs requests...
    assert "appcred-secret" not in log and "gAAAA" not in log  # ...never secrets


def test_token_auth(mount_factory, fake):
    token, _ = fake.token()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=fake.auth_url, OS_AUTH_TYPE="v3token", OS_TOKEN=token,
               OS_PROJECT_NAME="demo", OS_PROJECT_DOMAIN_NAME="Default")
    m = mount_factory(env=env)
    assert os.listdir(m.p("servers"))


def test_ctrl_c_interrupts_a_stalled_read(mnt, fake):
    fake.fault(method="GET", path="/network/v2.0/subnets", delay_ms=20000, count=1)
    proc = subprocess.Popen(["ls", mnt.p("subnets")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(1.0)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=5)
    assert time.monotonic() - t0 < 3
    assert proc.returncode != 0
    # The mount is still usable afterwards.
    assert sh(f"ls {mnt.p('servers')}").returncode == 0


def test_missing_password_is_asked_on_the_terminal(fake, tmp_path):
    import pty
    env = {k: v for k, v in base_env(fake).items() if k != "OS_PASSWORD"}
    path = str(tmp_path / "mnt")
    os.makedirs(path)
    pid, fd = pty.fork()
    if pid == 0:
        from mountutil import CLOUDFS
        os.execve(CLOUDFS, [CLOUDFS, "-f", path], env)
    try:
        import select
        seen = b""
        deadline = time.time() + 10
        while b"Password:" not in seen:
            ready, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
            assert ready, f"no password prompt: {seen!r}"
            seen += os.read(fd, 100)
        os.write(fd, b"demo\n")
        deadline = time.time() + 10
        while not os.path.ismount(path) and time.time() < deadline:
            time.sleep(0.05)
        assert os.path.ismount(path)
        assert os.listdir(os.path.join(path, "servers"))
    finally:
        subprocess.run(["fusermount3", "-u", path])
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The typed password was not echoed back.
    try:
        rest = os.read(fd, 1000)
    except OSError:
        rest = b""
    assert b"demo" not in seen + rest
