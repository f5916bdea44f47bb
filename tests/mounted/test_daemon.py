"""The daemon's life around the mount: the SOURCE MOUNTPOINT form mount(8)
uses, SIGTERM, -o log=FILE, systemd's readiness protocol, --check and the
exit codes (docs/cloudfs.1, EXIT STATUS)."""

import os
import signal
import socket
import subprocess

import pytest

from mountutil import CLOUDFS, poll, start_cloudfs


def clouds_yaml(tmp_path, fake, password="demo"):
    """A clouds.yaml naming the fake cloud "fake", the password in secure.yaml;
    -> env that points cloudfs at them and has no OS_* credentials."""
    (tmp_path / "clouds.yaml").write_text(
        "clouds:\n  fake:\n    auth:\n"
        f"      auth_url: {fake.auth_url}\n      username: demo\n      project_name: demo\n"
        "      user_domain_name: Default\n      project_domain_name: Default\n"
        "    region_name: RegionOne\n")
    (tmp_path / "secure.yaml").write_text(
        f"clouds:\n  fake:\n    auth:\n      password: {password}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(tmp_path / "clouds.yaml")
    env["OS_CLIENT_SECURE_FILE"] = str(tmp_path / "secure.yaml")
    return env


def run(args, env, timeout=60):
    return subprocess.run([CLOUDFS, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_version_names_the_build():
    out = run(["--version"], os.environ).stdout
    assert out.startswith("cloudfs "), out
    assert "libfuse" in out


def test_usage_errors_exit_2(tmp_path):
    assert run([], os.environ).returncode == 2
    assert run(["a", "b", "c"], os.environ).returncode == 2
    assert run(["--check", str(tmp_path)], os.environ).returncode == 2


def test_incomplete_credentials_exit_3(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(tmp_path / "missing.yaml")
    r = run(["--os-cloud", "nope", str(tmp_path)], env)
    assert r.returncode == 3, r.stderr
    r = run(["--check"], env)
    assert r.returncode == 3, r.stderr


def test_source_names_the_cloud_and_sigterm_unmounts_with_0(tmp_path, fake):
    """mount.fuse3 runs "cloudfs SOURCE MOUNTPOINT -o opts": SOURCE is the
    clouds.yaml cloud; no credential is on the command line."""
    env = clouds_yaml(tmp_path, fake)
    mnt = str(tmp_path / "mnt")
    proc, log = start_cloudfs(mnt, env, ["fake", "-o", "cache_ttl=10"])
    # start_cloudfs appends the mountpoint after the options: "fake" came first.
    try:
        assert os.path.exists(os.path.join(mnt, "servers", "web1", "status"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, open(log).read()
        assert not os.path.ismount(mnt)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)


def test_sigterm_with_files_and_directories_still_open_frees_them(tmp_path, fake):
    # A process holding a directory and a file when the daemon is told to
    # stop: the kernel never releases them to us, and the daemon must still
    # free what it held for them (the sanitized build reports any leak and
    # then exits non-zero).
    env = clouds_yaml(tmp_path, fake)
    mnt = str(tmp_path / "mnt")
    proc, log = start_cloudfs(mnt, env, ["fake"])
    holder = None
    try:
        holder = subprocess.Popen(
            ["/usr/bin/python3", "-c",
             "import os, sys, time\n"
             "d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY); os.listdir(d)\n"
             "f = open(sys.argv[2]); f.read()\n"
             "print('held', flush=True); time.sleep(60)",
             os.path.join(mnt, "servers"), os.path.join(mnt, "servers", "web1", "status")],
            stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline() == "held\n"
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
        text = open(log).read()
        assert "leak" not in text.lower(), text
        assert rc == 0, text
    finally:
        if holder:
            holder.kill()
            holder.wait()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)


def test_log_file_gets_the_request_id(tmp_path, fake):
    env = clouds_yaml(tmp_path, fake)
    mnt, logfile = str(tmp_path / "mnt"), tmp_path / "cloudfs.log"
    fake.fault(path="/compute/v2.1/servers/detail", status=500, count=-1)
    proc, _ = start_cloudfs(mnt, env, ["fake", "-o", f"log={logfile},retries=0"])
    try:
        with pytest.raises(OSError):
            os.listdir(os.path.join(mnt, "servers"))
        text = poll(lambda: logfile.exists() and logfile.read_text(), timeout=5)
        assert "cloudfs[%d]: warning: GET" % proc.pid in text, text
        assert "HTTP 500" in text and "[req-" in text, text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)


def test_notify_ready_once_the_mount_answers_and_stopping(tmp_path, fake):
    """Type=notify: READY=1 arrives on $NOTIFY_SOCKET only when the mount
    answers; SIGTERM (systemctl stop) sends STOPPING=1, unmounts, exits 0."""
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(15)
    env = clouds_yaml(tmp_path, fake)
    env["NOTIFY_SOCKET"] = sock_path
    mnt = str(tmp_path / "mnt")
    proc, log = start_cloudfs(mnt, env, ["fake"], wait=False)
    try:
        msg = sock.recv(4096).decode()
        assert "READY=1" in msg.split("\n"), msg
        assert f"MAINPID={proc.pid}" in msg.split("\n"), msg
        # Ready means answering: this listing goes through the FUSE loop.
        assert os.path.ismount(mnt) and os.path.isdir(os.path.join(mnt, "servers"))
        proc.send_signal(signal.SIGTERM)
        assert sock.recv(4096).decode() == "STOPPING=1"
        assert proc.wait(timeout=10) == 0, open(log).read()
        assert not os.path.ismount(mnt)
    finally:
        sock.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)


def test_check_up(tmp_path, fake):
    r = run(["--check", "--os-cloud", "fake"], clouds_yaml(tmp_path, fake))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "ENDPOINT", "LATENCY", "STATUS"]
    for svc in ("identity", "compute", "image", "block-storage", "network"):
        row = [l for l in lines if l.startswith(svc + " ")]
        assert row and row[0].endswith(" OK"), r.stdout
    assert lines[-1].startswith("catalog: ") and "volumev3" in lines[-1]


def test_check_keystone_down_exit_5(tmp_path, fake):
    env = clouds_yaml(tmp_path, fake)
    fake.fault(path="/identity/v3/auth/tokens", status=503, count=-1)
    r = run(["--check", "--os-cloud", "fake", "-o", "retries=0"], env)
    assert r.returncode == 5, r.stdout + r.stderr
    assert "identity" in r.stdout and "FAILED" in r.stdout
    # Nothing listens: the same.
    env["OS_AUTH_URL"] = "http://127.0.0.1:1/identity/v3"
    r = run(["--check", "--os-cloud", "fake"], env)
    assert r.returncode == 5, r.stdout + r.stderr
    assert "cannot reach Keystone" in r.stdout


def test_check_wrong_password_exit_4(tmp_path, fake):
    r = run(["--check", "--os-cloud", "fake"], clouds_yaml(tmp_path, fake, password="S3cr3t-x9"))
    assert r.returncode == 4, r.stdout + r.stderr
    assert "refused the credentials" in r.stdout
    assert "S3cr3t-x9" not in r.stdout + r.stderr


def test_check_service_down_exit_6(tmp_path, fake):
    fake.fault(path="/image/v2/images", status=503, count=-1)
    r = run(["--check", "--os-cloud", "fake"], clouds_yaml(tmp_path, fake))
    assert r.returncode == 6, r.stdout + r.stderr
    row = [l for l in r.stdout.splitlines() if l.startswith("image ")][0]
    assert "FAILED: HTTP 503" in row
    assert [l for l in r.stdout.splitlines() if l.startswith("compute ")][0].endswith(" OK")


def test_mount_keystone_down_exit_5_and_bad_password_exit_4(tmp_path, fake):
    env = clouds_yaml(tmp_path, fake, password="wrong")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    assert run(["fake", str(mnt)], env).returncode == 4
    env = clouds_yaml(tmp_path, fake)
    env["OS_AUTH_URL"] = "http://127.0.0.1:1/identity/v3"
    assert run(["fake", str(mnt)], env).returncode == 5
    assert not os.path.ismount(mnt)
