"""Nova's remaining gestures (issue 13): a generated keypair's private key shown once, a name
several resources share is never made again, and the server verbs beyond reboot/stop/start
(resize + confirm/revert, rebuild, image, rescue/unrescue, the console URL). docs/SEMANTICS.md,
"Changing the cloud". Each test checks what a user sees and what the fake cloud was sent."""

import errno
import json
import os
import stat

import pytest

from mountutil import errors, failed, ok, poll, read, sh

NOVA, NEUTRON = "/compute/v2.1", "/network/v2.0"


@pytest.fixture(scope="module")
def cloud_opts():
    return {"build_seconds": 0.8, "delete_seconds": 0.3}


def sent(fake, method, path):
    return [r for r in fake.requests(method=method, path_prefix=path) if r["path"] == path]


def named(fake, coll, name):
    return [r for r in fake.state()[coll] if r.get("name") == name]


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


# ----------------------------------------------------------------------------- server verbs
def server(fake, name="web1"):
    (rec,) = named(fake, "servers", name)
    return rec


def actions(fake, sid):
    return [r["body"] for r in sent(fake, "POST", f"{NOVA}/servers/{sid}/action")]


def act(m, name, line):
    return sh(f"echo '{line}' > {m.p('servers', name, 'action')}")


def test_resize_then_confirm(mnt, fake):
    sid = server(fake)["id"]
    fake.clear_requests()
    ok(act(mnt, "web1", "resize m1.small"))
    assert actions(fake, sid) == [{"resize": {"flavorRef": "2"}}]
    # the wait ends at VERIFY_RESIZE: Nova waits for the user there
    assert read(mnt.p("servers", "web1", "wait")) == "VERIFY_RESIZE\n"
    assert read(mnt.p("servers", "web1", "flavor", "original_name")) == "m1.small\n"
    ok(act(mnt, "web1", "confirm"))
    assert actions(fake, sid)[-1] == {"confirmResize": None}
    assert read(mnt.p("servers", "web1", "wait")) == "ACTIVE\n"
    assert server(fake)["flavor"]["id"] == "2"


def test_resize_then_revert(mnt, fake):
    sid = server(fake)["id"]
    ok(act(mnt, "web1", "resize 3"))            # a flavor by id
    assert read(mnt.p("servers", "web1", "wait")) == "VERIFY_RESIZE\n"
    ok(act(mnt, "web1", "revert"))
    assert actions(fake, sid)[-1] == {"revertResize": None}
    assert read(mnt.p("servers", "web1", "wait")) == "ACTIVE\n"
    assert read(mnt.p("servers", "web1", "flavor", "original_name")) == "m1.tiny\n"


def test_resize_refusals_reach_the_shell(mnt, fake):
    failed(act(mnt, "web1", "resize m1.nope"), "Invalid argument")
    assert "m1.nope" in errors(mnt)
    failed(act(mnt, "web1", "resize m1.tiny"), "Invalid argument")       # its own flavor: Nova's 400
    assert "When resizing, instances must change flavor!" in errors(mnt)
    failed(act(mnt, "web1", "confirm"), "Device or resource busy")      # nothing to confirm: 409
    assert "Cannot 'confirmResize' instance" in errors(mnt)
    failed(act(mnt, "web1", "resize"), "Invalid argument")
    assert "unknown action 'resize'" in errors(mnt)


def test_rebuild_with_its_own_image_and_another(mnt, fake):
    web1 = server(fake)
    fake.seed(images=[{"name": "debian"}])
    (debian,) = named(fake, "images", "debian")
    fake.clear_requests()
    ok(act(mnt, "web1", "rebuild"))
    assert actions(fake, web1["id"]) == [{"rebuild": {"imageRef": web1["image"]["id"]}}]
    assert read(mnt.p("servers", "web1", "wait")) == "ACTIVE\n"
    ok(act(mnt, "web1", "rebuild debian"))
    assert actions(fake, web1["id"])[-1] == {"rebuild": {"imageRef": debian["id"]}}
    assert read(mnt.p("servers", "web1", "wait")) == "ACTIVE\n"
    assert read(mnt.p("servers", "web1", "image", "id")) == debian["id"] + "\n"
    # the password Nova answers is neither shown nor logged
    assert "adminPass" not in mnt.log()


def test_image_from_a_server(mnt, fake):
    sid = server(fake)["id"]
    os.listdir(mnt.p("images"))          # a cached listing must not hide the new image
    ok(act(mnt, "web1", "image web1 snap"))
    assert actions(fake, sid) == [{"createImage": {"name": "web1 snap"}}]
    (img,) = named(fake, "images", "web1 snap")
    assert "web1 snap" in os.listdir(mnt.p("images")) or img["id"] in os.listdir(mnt.p("images"))
    assert os.readlink(mnt.p("images", "web1 snap")) == img["id"]
    assert read(mnt.p("images", "web1 snap", "wait")) == "active\n"
    assert read(mnt.p("images", "web1 snap", "instance_uuid")) == sid + "\n"
    assert read(mnt.p("servers", "web1", "wait")) == "ACTIVE\n"


def test_rescue_and_unrescue(mnt, fake):
    sid = server(fake)["id"]
    ok(act(mnt, "web1", "rescue"))
    assert actions(fake, sid) == [{"rescue": None}]
    assert read(mnt.p("servers", "web1", "wait")) == "RESCUE\n"
    assert read(mnt.p("servers", "web1", "OS-EXT-STS:vm_state")) == "rescued\n"
    ok(act(mnt, "web1", "unrescue"))
    assert actions(fake, sid)[-1] == {"unrescue": None}
    assert read(mnt.p("servers", "web1", "wait")) == "ACTIVE\n"
    ok(act(mnt, "web1", "rescue cirros"))
    (cirros,) = named(fake, "images", "cirros")
    assert actions(fake, sid)[-1] == {"rescue": {"rescue_image_ref": cirros["id"]}}
    failed(act(mnt, "web1", "rescue"), "Device or resource busy")   # rescuing already
    assert "adminPass" not in mnt.log()


def test_console_url(mnt, fake):
    sid = server(fake)["id"]
    path = mnt.p("servers", "web1", "console_url")
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o400
    url = read(path)
    assert url.startswith("http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D") and url.endswith("\n")
    assert st.st_size == len(url)
    # not listed (like wait): a walk of the tree makes no console
    assert "console_url" not in os.listdir(mnt.p("servers", "web1"))
    # a stopped server has no console: Nova's 409
    ok(act(mnt, "web1", "stop"))
    assert read(mnt.p("servers", "web1", "wait")) == "SHUTOFF\n"
    ok(sh(f"echo servers > {mnt.p('.cloudfs', 'refresh')}"))
    failed(sh(f"cat {path}"), "Device or resource busy")


# ---------------------------------------------------------------------------- microversions
def test_the_mount_asks_novas_highest_it_knows(mnt, fake):
    os.listdir(mnt.p("servers"))
    reqs = fake.requests(service="compute")
    listing = [r for r in reqs if r["path"] == f"{NOVA}/servers/detail"]
    assert listing and all(r["api_version"] == "compute 2.70" for r in listing), listing
    assert "microversion compute 2.70\n" in read(mnt.p(".cloudfs", "status"))
    # the version document was read once, without a version asked
    assert [r["api_version"] for r in reqs if r["path"].rstrip("/") == NOVA] == [None]
    # other services are not asked for one
    os.listdir(mnt.p("networks"))
    assert all(r["api_version"] is None for r in fake.requests(service="network"))
    # what 2.47 and 2.26 change in the files: the flavor by name, tags
    web1 = mnt.p("servers", "web1")
    assert read(os.path.join(web1, "flavor", "original_name")) == "m1.tiny\n"
    assert not os.path.exists(os.path.join(web1, "flavor", "id"))
    assert read(os.path.join(web1, "tags")) == "[]\n"
    assert read(os.path.join(web1, "locked")) == "false\n"
    # 2.36: the compute quotas have no network keys
    assert not os.path.exists(mnt.p("quotas", "compute", "floating_ips"))
    assert os.path.exists(mnt.p("quotas", "compute", "instances"))


def test_a_spec_without_networks_means_what_it_meant_at_2_1(mount_factory, fake):
    # Nova wants "networks" from 2.37: cloudfs sends "auto", what leaving it out meant. Here the
    # project sees two networks (private, and the shared public), so Nova cannot choose: at both
    # versions the same 409, never 2.37's "'networks' is a required property".
    spec = '{"image": "cirros", "flavor": "m1.tiny"}'
    for pin in ("", ",nova_microversion=2.1"):
        m = mount_factory("-o", "cache_ttl=2" + pin, name="m" + pin[-3:].replace(".", ""))
        failed(sh(f"cat > {m.p('servers', 'nonet')}", input=spec), "Device or resource busy")
        assert "Multiple possible networks found" in errors(m)
        assert "required property" not in errors(m)
    first, second = sent(fake, "POST", f"{NOVA}/servers")
    assert first["body"]["server"]["networks"] == "auto" and first["api_version"] == "compute 2.70"
    assert "networks" not in second["body"]["server"] and second["api_version"] == "compute 2.1"
    # with one network to choose from, "auto" boots on it
    fake.delete("networks", [n for n in fake.state()["networks"] if n["name"] == "public"][0]["id"])
    m = mount_factory("-o", "cache_ttl=2", name="one")
    ok(sh(f"cat > {m.p('servers', 'nonet')}", input=spec))
    assert read(m.p("servers", "nonet", "wait")) == "ACTIVE\n"
    assert list(json.loads(read(m.p("servers", "nonet", "json")))["addresses"]) == ["private"]


def test_pinned_microversion_2_1(mount_factory, fake):
    m = mount_factory("-o", "cache_ttl=2,nova_microversion=2.1")
    assert "microversion compute 2.1\n" in read(m.p(".cloudfs", "status"))
    web1 = m.p("servers", "web1")
    assert read(os.path.join(web1, "flavor", "id")) == "1\n"
    assert not os.path.exists(os.path.join(web1, "tags"))
    assert os.path.exists(m.p("quotas", "compute", "floating_ips"))
    reqs = [r for r in fake.requests(service="compute") if r["path"] == f"{NOVA}/servers/detail"]
    assert reqs and all(r["api_version"] == "compute 2.1" for r in reqs)
    # the console URL comes from os-getVNCConsole before 2.6
    assert read(m.p("servers", "web1", "console_url")).startswith("http://127.0.0.1:6080/")
    sid = server(fake)["id"]
    assert actions(fake, sid) == [{"os-getVNCConsole": {"type": "novnc"}}]


def test_console_url_from_remote_consoles_at_2_6_on(mnt, fake):
    sid = server(fake)["id"]
    fake.clear_requests()
    read(mnt.p("servers", "web1", "console_url"))
    (post,) = sent(fake, "POST", f"{NOVA}/servers/{sid}/remote-consoles")
    assert post["body"] == {"remote_console": {"protocol": "vnc", "type": "novnc"}}


def test_pinned_2_92_cannot_generate_keypairs(mount_factory, fake):
    m = mount_factory("-o", "cache_ttl=2,nova_microversion=2.92")
    # (cat reports close(2)'s error; bash's echo ignores it)
    failed(sh(f"cat > {m.p('keypairs', 'gen9')}", input="{}"), "Invalid argument")
    assert "'public_key' is a required property" in errors(m)
    assert named(fake, "keypairs", "gen9") == []


def test_a_pin_the_cloud_does_not_offer_fails_the_mount(tmp_path, fake):
    from conftest import base_env
    from mountutil import start_cloudfs
    proc, log = start_cloudfs(str(tmp_path / "m"), base_env(fake), ["-o", "nova_microversion=2.99"],
                              wait=False)
    assert proc.wait(timeout=30) != 0
    text = open(log).read()
    assert "nova_microversion=2.99: the compute endpoint offers microversions 2.1 to 2.93" in text
    proc2, log2 = start_cloudfs(str(tmp_path / "m2"), base_env(fake), ["-o", "nova_microversion=two"],
                                wait=False)
    assert proc2.wait(timeout=30) != 0
    assert "not a microversion (X.Y)" in open(log2).read()


# ------------------------------------------------------------------ a floating IP for a server
def fip_posts(fake):
    return [r for r in sent(fake, "POST", f"{NEUTRON}/floatingips")]


def test_floating_ip_spec_for_a_server_takes_its_reachable_port(mnt, fake):
    # two ports: the first on a network no router reaches, the second on private (router1's)
    fake.seed(networks=[{"name": "lonely"}])
    fake.seed(subnets=[{"name": "lonely-sub", "network": "lonely", "cidr": "10.7.0.0/24"}])
    fake.seed(servers=[{"name": "two", "networks": ["lonely", "private"]}])
    ok(sh(f"ln -s ../../../subnets/private-subnet {mnt.p('routers', 'router1', 'interfaces', 'private-subnet')}"))
    two = server(fake, "two")
    ports = [p for p in fake.state()["ports"] if p["device_id"] == two["id"]]
    by_net = {p["network_id"]: p["id"] for p in ports}
    (private,) = named(fake, "networks", "private")
    fake.clear_requests()
    ok(sh(f"cat > {mnt.p('floating_ips', 'new')}", input='{"network": "public", "server": "two"}'))
    posts = fip_posts(fake)
    assert [p["status"] for p in posts][-1] == 201
    assert all("server" not in p["body"]["floatingip"] for p in posts)
    assert posts[-1]["body"]["floatingip"]["port_id"] == by_net[private["id"]]
    (fip,) = [f for f in fake.state()["floating_ips"] if f["port_id"] == by_net[private["id"]]]
    assert read(mnt.p("floating_ips", fip["id"], "port")) == by_net[private["id"]] + "\n"
    addr = fip["floating_ip_address"]
    assert os.readlink(mnt.p("servers", "two", "floating_ips", addr)) == f"../../../floating_ips/{addr}"


def test_floating_ip_spec_for_a_server_no_router_reaches(mnt, fake):
    before = len(fake.state()["floating_ips"])
    failed(sh(f"cat > {mnt.p('floating_ips', 'new')}", input='{"network": "public", "server": "web1"}'),
           "Network is unreachable")
    assert "no port of server web1 is on a subnet that a router connects" in errors(mnt)
    assert len(fake.state()["floating_ips"]) == before        # nothing made
    failed(sh(f"cat > {mnt.p('floating_ips', 'new')}", input='{"network": "public", "server": "nope"}'),
           "Invalid argument")
    assert "nope" in errors(mnt)
    failed(sh(f"cat > {mnt.p('floating_ips', 'new')}", input='{"network": "public", "server": "dup"}'),
           "Invalid argument")                                 # two servers are named dup
    assert len(fake.state()["floating_ips"]) == before
