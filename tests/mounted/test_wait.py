"""The blocking wait (docs/SEMANTICS.md, "Waiting"): `cat <collection>/<id>/wait` blocks while the
member is busy and prints its settled status; a failure is EREMOTEIO with the reason in
.cloudfs/errors; a member that goes away is ENOENT; Ctrl-C and -o wait_timeout end it; waiting
readers hold no FUSE worker. Every check is what a shell user sees: cat's output and exit status,
its message, and how long `ls` takes meanwhile."""

import os
import signal
import subprocess
import time

import pytest

from mountutil import errors, poll, read, sh


@pytest.fixture(scope="module")
def cloud_opts():
    # Builds take 3 s: long enough that a wait must block, short enough for the suite.
    return {"build_seconds": 3, "delete_seconds": 1}


def server_id(fake, name):
    (s,) = [s for s in fake.state()["servers"] if s["name"] == name]
    return s["id"]


def spec(m, coll, name, text):
    return sh(f"cat > {m.p(coll, name)}", input=text)


def test_wait_blocks_until_active_and_prints_the_status(mnt, fake):
    assert spec(mnt, "servers", "w1", '{"image": "cirros", "flavor": "m1.tiny", "networks": ["private"]}'
                ).returncode == 0
    assert read(mnt.p("servers", "w1", "status")) == "BUILD\n"
    out = sh(f"cat {mnt.p('servers', 'w1', 'wait')}")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "ACTIVE\n"
    # By the time cat returned, the cloud had the server ACTIVE.
    assert [s["status"] for s in fake.state()["servers"] if s["name"] == "w1"] == ["ACTIVE"]
    # A second wait on a settled server answers at once, with the same line.
    assert sh(f"cat {mnt.p('servers', 'w1', 'wait')}").stdout == "ACTIVE\n"


def test_wait_is_there_where_there_is_a_lifecycle_and_never_listed(mnt, fake):
    sid = server_id(fake, "web1")
    vid = [v["id"] for v in fake.state()["volumes"] if v["name"] == "data1"][0]
    for path in (mnt.p("servers", sid, "wait"), mnt.p("volumes", vid, "wait")):
        assert os.path.isfile(path)
        # not listed, like a name link: find, grep -r and rsync never block on it
        assert "wait" not in os.listdir(os.path.dirname(path))
    net = [n["id"] for n in fake.state()["networks"] if n["name"] == "private"][0]
    assert not os.path.exists(mnt.p("networks", net, "wait"))
    grep = sh(f"grep -r -l --exclude=action ACTIVE {mnt.p('servers', sid)}")
    assert grep.returncode == 0 and grep.stdout.strip().endswith("/status"), grep
    assert "/wait" not in sh(f"find {mnt.p('servers')} -name wait").stdout
    # a settled member's size is the answer's; a busy one's is 0 (read it to EOF)
    st = os.stat(mnt.p("servers", sid, "wait"))
    assert oct(st.st_mode & 0o777) == "0o444" and st.st_size == len("ACTIVE\n")
    fake.update("servers", sid, status="REBOOT")
    sh(f"echo servers > {mnt.p('.cloudfs', 'refresh')}")
    # (the kernel may keep the old attributes for the mount's 2 s)
    assert poll(lambda: os.stat(mnt.p("servers", sid, "wait")).st_size == 0, timeout=5)


def test_wait_after_an_action_follows_it(mnt, fake):
    sid = server_id(fake, "web1")
    assert sh(f"echo stop > {mnt.p('servers', sid, 'action')}").returncode == 0
    out = sh(f"cat {mnt.p('servers', sid, 'wait')}")
    assert (out.returncode, out.stdout) == (0, "SHUTOFF\n")


def test_a_failed_build_is_eremoteio_with_novas_fault(mnt, fake):
    (group,) = fake.seed(server_groups=[{"name": "apart", "policies": ["anti-affinity"]}])["server_groups"]
    body = '{"server": {"image": "cirros", "flavor": "m1.tiny", "networks": ["private"]}, ' \
           '"os:scheduler_hints": {"group": "%s"}}' % group["id"]
    assert spec(mnt, "servers", "a1", body).returncode == 0
    assert spec(mnt, "servers", "a2", body).returncode == 0
    assert sh(f"cat {mnt.p('servers', 'a1', 'wait')}").stdout == "ACTIVE\n"
    out = sh(f"cat {mnt.p('servers', 'a2', 'wait')}")
    assert out.returncode == 1
    assert "Remote I/O error" in out.stderr
    assert out.stdout == ""
    assert "No valid host was found" in errors(mnt)
    assert f"servers/{server_id(fake, 'a2')}: status ERROR" in errors(mnt)


def test_a_volume_that_ends_in_error_fails_the_wait(mnt, fake):
    assert spec(mnt, "volumes", "v1", '{"size": 1}').returncode == 0
    vid = [v["id"] for v in fake.state()["volumes"] if v["name"] == "v1"][0]
    cat = subprocess.Popen(["cat", mnt.p("volumes", vid, "wait")], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    fake.update("volumes", vid, status="error")     # the backend gave up
    out, err = cat.communicate(timeout=10)
    assert cat.returncode == 1 and "Remote I/O error" in err and out == ""
    assert f"volumes/{vid}: status error" in errors(mnt)


def test_a_deleted_server_is_enoent(mnt, fake):
    sid = server_id(fake, "web1")
    assert sh(f"rmdir {mnt.p('servers', sid)}").returncode == 0
    out = sh(f"cat {mnt.p('servers', sid, 'wait')}")
    # deleting is busy (task_state), then the server is gone
    assert out.returncode == 1 and "No such file or directory" in out.stderr
    assert sid not in [s["id"] for s in fake.state()["servers"]]


def test_ctrl_c_interrupts_a_wait(mnt, fake):
    vid = [v["id"] for v in fake.state()["volumes"] if v["name"] == "data1"][0]
    fake.update("volumes", vid, status="creating")      # busy, and nothing will change that
    cat = subprocess.Popen(["cat", mnt.p("volumes", vid, "wait")], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    assert cat.poll() is None
    cat.send_signal(signal.SIGINT)
    cat.communicate(timeout=5)
    assert cat.returncode == -signal.SIGINT
    # The mount is fine, and waits again afterwards.
    fake.update("volumes", vid, status="available")
    assert sh(f"timeout 10 cat {mnt.p('volumes', vid, 'wait')}").stdout == "available\n"


def test_timeout1_ends_a_wait(mnt, fake):
    vid = [v["id"] for v in fake.state()["volumes"] if v["name"] == "data1"][0]
    fake.update("volumes", vid, status="creating")
    out = sh(f"timeout 2 cat {mnt.p('volumes', vid, 'wait')}")
    assert out.returncode == 124        # timeout(1) killed it: the read did not answer before
    assert "mnt" in sh(f"ls {os.path.dirname(mnt.p())}").stdout


def test_wait_timeout_option_is_etimedout(mount_factory, fake):
    m = mount_factory("-o", "wait_timeout=1.5")
    vid = [v["id"] for v in fake.state()["volumes"] if v["name"] == "data1"][0]
    fake.update("volumes", vid, status="creating")
    out = sh(f"cat {m.p('volumes', vid, 'wait')}")
    assert out.returncode == 1 and "Connection timed out" in out.stderr
    assert f"volumes/{vid}: still busy after wait_timeout" in errors(m)


def test_many_waits_share_polls_and_leave_ls_answering(mount_factory, fake):
    m = mount_factory("-o", "max_threads=4")
    sid = server_id(fake, "web1")
    fake.update("servers", sid, status="REBOOT")        # busy until told otherwise
    waiters = [subprocess.Popen(["cat", m.p("servers", sid, "wait")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(100)]
    try:
        time.sleep(2)
        assert all(w.poll() is None for w in waiters)
        assert "waiting 100\n" in read(m.p(".cloudfs", "status"))
        # 100 parked reads, 4 FUSE workers: ls still answers (it would hang if a wait held one).
        out = sh(f"timeout 5 ls {m.p('flavors')}")
        assert out.returncode == 0 and "1" in out.stdout.split()
        fake.clear_requests()
        time.sleep(2.2)
        gets = [r for r in fake.requests(method="GET") if r["path"].endswith(sid)]
        # one poll a second for the 100 of them, not one each
        assert 1 <= len(gets) <= 4, gets
        fake.update("servers", sid, status="ACTIVE")
        outs = [w.communicate(timeout=10) for w in waiters]
    finally:
        for w in waiters:
            if w.poll() is None:
                w.kill()
    assert all(w.returncode == 0 for w in waiters)
    assert "waiting 0\n" in read(m.p(".cloudfs", "status"))
    assert {o for o, _ in outs} == {"ACTIVE\n"}


def test_many_members_awaited_are_polled_by_listing_and_ctrl_c_races(mount_factory, fake):
    m = mount_factory()
    made = fake.seed(servers=[{"name": f"b{i}", "status": "BUILD"} for i in range(12)])["servers"]
    sids = [s["id"] for s in made]
    waiters = [subprocess.Popen(["cat", m.p("servers", sid, "wait")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for sid in sids for _ in range(3)]
    try:
        time.sleep(2)
        assert all(w.poll() is None for w in waiters)
        fake.clear_requests()
        time.sleep(2.5)
        reqs = fake.requests(method="GET", service="compute")
        by_id = [r for r in reqs if any(r["path"].endswith(sid) for sid in sids)]
        listings = [r for r in reqs if r["path"].endswith("/servers/detail")]
        # 12 servers awaited: one listing a second answers them, not 12 GETs a second
        assert 1 <= len(listings) <= 4 and by_id == [], (listings, by_id)
        # Ctrl-C a third of them while the others go on (interrupt and answer may race)
        for w in waiters[::3]:
            w.send_signal(signal.SIGINT)
        for sid in sids:
            fake.update("servers", sid, status="ACTIVE")
        outs = [w.communicate(timeout=10) for w in waiters]
    finally:
        for w in waiters:
            if w.poll() is None:
                w.kill()
    for i, (w, (out, _)) in enumerate(zip(waiters, outs)):
        if i % 3:
            assert (w.returncode, out) == (0, "ACTIVE\n")
        else:
            assert w.returncode in (-signal.SIGINT, 0)
    assert "waiting 0\n" in read(m.p(".cloudfs", "status"))


def test_deleted_is_the_moment_before_the_404(mnt, fake):
    """Nova shows a terminated server as DELETED for a moment before its 404: still waiting."""
    sid = server_id(fake, "web1")
    fake.update("servers", sid, status="DELETED")
    cat = subprocess.Popen(["cat", mnt.p("servers", sid, "wait")], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert cat.poll() is None
    fake.delete("servers", sid)
    out, err = cat.communicate(timeout=10)
    assert cat.returncode == 1 and "No such file or directory" in err and out == ""


def test_a_stack_waits_for_create_complete(mnt, fake, tmp_path):
    """Heat's stacks have busy() and failed() hooks and a status_field: the same generic wait."""
    from test_stacks import TEMPLATE
    t = tmp_path / "demo-template.yml"
    t.write_text(TEMPLATE)
    assert sh(f"cp {t} {mnt.p('stacks', 'web')}").returncode == 0
    out = sh(f"cat {mnt.p('stacks', 'web', 'wait')}")
    assert (out.returncode, out.stdout) == (0, "CREATE_COMPLETE\n"), out.stderr
    assert read(mnt.p("stacks", "web", "stack_status")) == "CREATE_COMPLETE\n"
