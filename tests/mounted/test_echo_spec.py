"""Errors a shell can't miss (docs/SEMANTICS.md, "A spec written by echo"): bash and dash ignore
close(2) on a redirection, so a JSON spec is committed by the write(2) that completes it, and a
write that makes the bytes impossible JSON fails at once. Driven by real `bash -c` and `dash -c`
one-liners: their exit status, the message they print, what the fake cloud was sent and holds."""

import json
import os
import subprocess

import pytest

from mountutil import errors, ok, sh

NOVA, NEUTRON = "/compute/v2.1", "/network/v2.0"
PROJECT = "7c808b28bded4680839ac3a2f00d8a87"
CINDER = f"/volume/v3/{PROJECT}"
SERVER = {"image": "cirros", "flavor": "m1.tiny", "networks": ["private"]}
SHELLS = ["bash", "dash"]


def run(shell, cmd):
    """`cmd` as a one-liner of `shell` (bash -c / dash -c), as a script would run it."""
    out = subprocess.run([shell, "-c", cmd], capture_output=True, text=True, timeout=60)
    out.shell = shell
    return out


def q(text):
    """`text` quoted for a shell's single quotes."""
    return "'" + text.replace("'", "'\\''") + "'"


def posts(fake, path):
    return [r for r in fake.requests(method="POST", path_prefix=path) if r["path"] == path]


def named(fake, coll, name, key="name"):
    return [r for r in fake.state()[coll] if r.get(key) == name]


def refused(out, message="Invalid argument"):
    """The shell saw the failure: its status, and its message (dash's echo says "I/O error"
    whatever the errno; bash's names it)."""
    assert out.returncode != 0, f"the shell saw success: {out.stdout!r} {out.stderr!r}"
    if getattr(out, "shell", "bash") == "dash":
        message = "echo: I/O error"
    assert message in out.stderr, f"expected {message!r} in {out.stderr!r}"


@pytest.mark.parametrize("shell", SHELLS)
def test_echo_of_broken_json_fails_the_echo_and_sends_nothing(mnt, fake, shell):
    os.listdir(mnt.p("servers"))
    fake.clear_requests()
    out = run(shell, f"echo '{{not json' > {mnt.p('servers', 'x-' + shell)}")
    refused(out)
    assert posts(fake, f"{NOVA}/servers") == []
    assert named(fake, "servers", "x-" + shell) == []
    assert not os.path.lexists(mnt.p("servers", "x-" + shell))
    err = errors(mnt)
    assert f"x-{shell}: the spec is not valid JSON: expected a key in double quotes" in err, err


@pytest.mark.parametrize("shell", SHELLS)
def test_echo_of_a_spec_the_cloud_refuses_fails_the_echo(mnt, fake, shell):
    os.listdir(mnt.p("servers"))
    fake.clear_requests()
    bad = json.dumps({**SERVER, "flavor": "nope"})
    out = run(shell, f"echo {q(bad)} > {mnt.p('servers', 'f-' + shell)}")
    refused(out)
    assert named(fake, "servers", "f-" + shell) == []
    assert "nope" in errors(mnt)
    # the cloud's own refusal too: Nova's 400, its message
    fake.clear_requests()
    bad = json.dumps({**SERVER, "key_name": "not-a-key"})
    out = run(shell, f"echo {q(bad)} > {mnt.p('servers', 'k-' + shell)}")
    refused(out)
    (post,) = posts(fake, f"{NOVA}/servers")
    assert post["status"] == 400
    assert "Invalid key_name provided." in errors(mnt)
    assert named(fake, "servers", "k-" + shell) == []


@pytest.mark.parametrize("shell", SHELLS)
def test_echo_of_a_valid_spec_creates_exactly_one_server(mnt, fake, shell):
    os.listdir(mnt.p("servers"))
    fake.clear_requests()
    name = "web-" + shell
    ok(run(shell, f"echo {q(json.dumps(SERVER))} > {mnt.p('servers', name)} && "
                  f"readlink {mnt.p('servers', name)}"))
    assert len(posts(fake, f"{NOVA}/servers")) == 1
    (srv,) = named(fake, "servers", name)
    assert os.readlink(mnt.p("servers", name)) == srv["id"]
    assert srv["id"] in os.listdir(mnt.p("servers"))


def test_echo_creates_volumes_networks_and_rules_and_refuses_their_broken_specs(mnt, fake):
    ok(run("bash", f"echo '{{\"size\": 1}}' > {mnt.p('volumes', 'ev1')}"))
    assert posts(fake, f"{CINDER}/volumes")[-1]["body"] == {"volume": {"name": "ev1", "size": 1}}
    assert len(named(fake, "volumes", "ev1")) == 1
    refused(run("bash", f"echo '{{\"size\": 1,}}' > {mnt.p('volumes', 'ev2')}"))
    assert named(fake, "volumes", "ev2") == []

    ok(run("dash", f"echo '{{}}' > {mnt.p('networks', 'en1')}"))
    assert len(named(fake, "networks", "en1")) == 1
    refused(run("dash", f"echo '[]' > {mnt.p('networks', 'en2')}"))
    assert "the spec must be a JSON object" in errors(mnt)
    assert named(fake, "networks", "en2") == []

    # a security group's rules/: a file stored by an extra, JSON too
    sg = named(fake, "security_groups", "default")[0]["id"]
    rules = mnt.p("security_groups", sg, "rules")
    ok(run("bash", f"echo '{{\"port\": 2222, \"remote\": \"0.0.0.0/0\"}}' > {rules}/essh"))
    assert len(named(fake, "security_group_rules", "essh", "description")) == 1
    refused(run("bash", f"echo '{{\"port\": 2222 \"remote\"}}' > {rules}/ebad"))
    refused(run("bash", f"echo '{{\"port\": \"nope\"}}' > {rules}/ebad2"))
    assert named(fake, "security_group_rules", "ebad", "description") == []
    assert named(fake, "security_group_rules", "ebad2", "description") == []
    # the broken one was never sent; the one Neutron refused was, once
    assert [p["status"] for p in posts(fake, f"{NEUTRON}/security-group-rules")] == [201, 400]


def test_bytes_after_the_document(mnt, fake):
    os.listdir(mnt.p("volumes"))
    fake.clear_requests()
    # in the same write: refused whole, nothing created
    refused(run("bash", f"printf '{{\"size\": 1}} x' > {mnt.p('volumes', 'tv1')}"))
    assert named(fake, "volumes", "tv1") == [] and posts(fake, f"{CINDER}/volumes") == []
    # in a later write: the volume was made by the first; the second write fails
    out = run("bash", f"{{ printf '{{\"size\": 1}}\\n'; printf '  \\n\\t'; printf '{{}}'; }} "
                      f"> {mnt.p('volumes', 'tv2')}")
    refused(out)
    assert out.stderr.count("Invalid argument") == 1, out.stderr
    assert len(named(fake, "volumes", "tv2")) == 1
    assert len(posts(fake, f"{CINDER}/volumes")) == 1
    assert "bytes after the end of the JSON document" in errors(mnt)


def test_cat_and_cp_still_work_and_see_errors_at_close(mnt, fake, tmp_path):
    good, broken, cut = tmp_path / "good.json", tmp_path / "broken.json", tmp_path / "cut.json"
    good.write_text(json.dumps(SERVER, indent=2) + "\n")
    broken.write_text('{"image": "cirros" "flavor": "m1.tiny"}\n')
    cut.write_text('{"image": "cirros", ')
    os.listdir(mnt.p("servers"))
    fake.clear_requests()
    ok(sh(f"cat {good} > {mnt.p('servers', 'cat1')}"))
    ok(sh(f"cp {good} {mnt.p('servers', 'cp1')}"))
    assert len(named(fake, "servers", "cat1")) == 1 and len(named(fake, "servers", "cp1")) == 1
    assert len(posts(fake, f"{NOVA}/servers")) == 2
    refused(sh(f"cp {broken} {mnt.p('servers', 'cp2')}"))
    refused(sh(f"cat {broken} > {mnt.p('servers', 'cat2')}"))
    # cut short: only the close can tell, and cat and cp check it
    refused(sh(f"cat {cut} > {mnt.p('servers', 'cat3')}"))
    refused(sh(f"cp {cut} {mnt.p('servers', 'cp3')}"))
    assert len(posts(fake, f"{NOVA}/servers")) == 2
    for name in ("cp2", "cat2", "cat3", "cp3"):
        assert named(fake, "servers", name) == []
        assert not os.path.lexists(mnt.p("servers", name))


def test_a_public_key_is_still_committed_at_close(mnt, fake):
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBe0Fo8pY4Zl5O2aB6r4cK0xq8k8x3kR0sY4f1nYcQ2b me@host"
    ok(run("bash", f"echo {q(key)} > {mnt.p('keypairs', 'ek1')}"))
    (kp,) = named(fake, "keypairs", "ek1")
    assert kp["public_key"] == key
    # written in pieces: one keypair, of the whole key
    ok(run("dash", f"{{ printf 'ssh-ed25519 '; printf '{key.split()[1]}\\n'; }} "
                   f"> {mnt.p('keypairs', 'ek2')}"))
    (kp,) = named(fake, "keypairs", "ek2")
    assert kp["public_key"] == " ".join(key.split()[:2])
    assert len(posts(fake, f"{NOVA}/os-keypairs")) == 2
