"""Nova's remaining gestures (issue 13): a generated keypair's private key shown once, a name
several resources share is never made again, and the server verbs beyond reboot/stop/start
(resize + confirm/revert, rebuild, image, rescue/unrescue, the console URL). docs/SEMANTICS.md,
"Changing the cloud". Each test checks what a user sees and what the fake cloud was sent."""

import errno
import json
import os
import stat

import pytest

from mountutil import poll, read, sh

NOVA, NEUTRON = "/compute/v2.1", "/network/v2.0"


@pytest.fixture(scope="module")
def cloud_opts():
    return {"build_seconds": 0.8, "delete_seconds": 0.3}


def sent(fake, method, path):
    return [r for r in fake.requests(method=method, path_prefix=path) if r["path"] == path]


def named(fake, coll, name):
    return [r for r in fake.state()[coll] if r.get("name") == name]


def errors(m):
    return read(m.p(".cloudfs", "errors"))


def ok(out):
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr}"
    return out


def failed(out, message):
    assert out.returncode != 0, f"expected failure with {message!r}, got success: {out.stdout}"
    assert message in out.stderr, f"expected {message!r} in: {out.stderr!r}"


# ------------------------------------------------------------------- generated keypairs
def test_generated_keypair_shows_its_private_key_once(mnt, fake, tmp_path):
    ok(sh(f"echo '{{}}' > {mnt.p('keypairs', 'gen1')}"))
    (post,) = sent(fake, "POST", f"{NOVA}/os-keypairs")
    assert post["body"] == {"keypair": {"name": "gen1"}}
    key = mnt.p("keypairs", "gen1", "private_key")
    st = os.stat(key)
    assert stat.S_IMODE(st.st_mode) == 0o400
    assert "private_key" in os.listdir(mnt.p("keypairs", "gen1"))
    # The key is nowhere else: not in the document, not in the log.
    assert "PRIVATE KEY" not in read(mnt.p("keypairs", "gen1", "json"))
    ok(sh(f"cp {key} {tmp_path}/gen1.pem"))
    text = open(f"{tmp_path}/gen1.pem").read()
    assert text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert text.endswith("-----END OPENSSH PRIVATE KEY-----\n")
    assert st.st_size == len(text)
    # Shown once: gone after that read, from lookups and listings alike.
    assert not os.path.exists(key)
    assert "private_key" not in os.listdir(mnt.p("keypairs", "gen1"))
    failed(sh(f"cat {key}"), "No such file or directory")
    assert "PRIVATE KEY" not in mnt.log() and text.splitlines()[1] not in mnt.log()
    # The public half is Nova's, as always.
    assert read(mnt.p("keypairs", "gen1", "public_key")).startswith("ssh-ed25519 ")


def test_imported_keypair_has_no_private_key(mnt, fake, tmp_path):
    pub = tmp_path / "k.pub"
    pub.write_text(named(fake, "keypairs", "mykey")[0]["public_key"].replace("Generated-by-Nova", "me") + "\n")
    ok(sh(f"cp {pub} {mnt.p('keypairs', 'imp1')}"))
    assert not os.path.exists(mnt.p("keypairs", "imp1", "private_key"))
    assert "private_key" not in os.listdir(mnt.p("keypairs", "imp1"))


def test_private_key_goes_with_its_keypair(mnt, fake):
    ok(sh(f"echo '{{}}' > {mnt.p('keypairs', 'gen2')}"))
    assert os.path.exists(mnt.p("keypairs", "gen2", "private_key"))
    ok(sh(f"rmdir {mnt.p('keypairs', 'gen2')}"))
    assert named(fake, "keypairs", "gen2") == []
    # Made again (another pair): the new key, not the old one's.
    ok(sh(f"echo '{{}}' > {mnt.p('keypairs', 'gen2')}"))
    assert os.path.exists(mnt.p("keypairs", "gen2", "private_key"))


def test_stat_and_ls_do_not_consume_the_key(mnt, fake):
    ok(sh(f"echo '{{}}' > {mnt.p('keypairs', 'gen3')}"))
    key = mnt.p("keypairs", "gen3", "private_key")
    for _ in range(3):
        ok(sh(f"ls -l {mnt.p('keypairs', 'gen3')} {key}"))
    assert "BEGIN OPENSSH PRIVATE KEY" in read(key)
    assert not os.path.exists(key)


# ------------------------------------------------------------- names several resources share
@pytest.mark.parametrize("coll,api", [("networks", "networks"), ("routers", "routers"),
                                      ("security_groups", "security-groups")])
def test_mkdir_of_a_name_several_share_is_eexist(mnt, fake, coll, api):
    fake.seed(**{coll: [{"name": "twin"}, {"name": "twin"}]})
    fake.clear_requests()
    failed(sh(f"mkdir {mnt.p(coll, 'twin')}"), "File exists")
    assert sent(fake, "POST", f"{NEUTRON}/{api}") == []
    assert len(named(fake, coll, "twin")) == 2
    assert f"2 {coll} are named 'twin' already" in errors(mnt)
    # nor does mkdir -p: the name leads nowhere, so it is no directory
    failed(sh(f"mkdir -p {mnt.p(coll, 'twin')}"), "File exists")
    assert len(named(fake, coll, "twin")) == 2


@pytest.mark.parametrize("coll,text", [("volumes", '{"size": 1}'), ("subnets", '{"network": "private"}')])
def test_spec_of_a_name_several_share_is_eexist(mnt, fake, coll, text):
    seed = {"volumes": [{"name": "twin", "size": 1}] * 2,
            "subnets": [{"name": "twin", "network": "private", "cidr": f"10.9.{i}.0/24"} for i in (1, 2)]}
    fake.seed(**{coll: seed[coll]})
    failed(sh(f"cat > {mnt.p(coll, 'twin')}", input=text), "File exists")
    assert len(named(fake, coll, "twin")) == 2
    assert f"2 {coll} are named 'twin' already" in errors(mnt)
