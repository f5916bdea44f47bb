"""Changing the cloud through the tree (docs/SEMANTICS.md, "Changing the cloud"): one test per
gesture plus its failure paths. Each checks what a user sees (exit status, the message the tool
prints, the files) AND what the fake cloud now holds and was sent (fake.state(), fake.requests())."""

import base64
import json
import os
import stat
import subprocess
import time

import pytest

from mountutil import errors, failed, ok, poll, sh

NOVA, NEUTRON = "/compute/v2.1", "/network/v2.0"
PROJECT = "7c808b28bded4680839ac3a2f00d8a87"
CINDER = f"/volume/v3/{PROJECT}"


@pytest.fixture(scope="module")
def cloud_opts():
    # Transitions (BUILD, REBOOT, attaching...) last 0.8 s: long enough to be seen, short enough
    # for a quick suite.
    return {"build_seconds": 0.8, "delete_seconds": 0.3}


# ------------------------------------------------------------------------------------ helpers
def one(fake, coll, name):
    found = [r for r in fake.state()[coll] if r.get("name") == name]
    assert len(found) == 1, f"{coll} named {name!r} in the cloud: {found}"
    return found[0]


def named(fake, coll, name):
    return [r for r in fake.state()[coll] if r.get("name") == name]


def sent(fake, method, path):
    """Requests with exactly this method and path, oldest first."""
    return [r for r in fake.requests(method=method, path_prefix=path) if r["path"] == path]


def value(path):
    with open(path) as f:
        text = f.read()
    return text[:-1] if text.endswith("\n") else text


def watch(fn, done, timeout=10):
    """Distinct successive values of fn() until done(value) (or timeout)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if not seen or seen[-1] != v:
            seen.append(v)
        if done(v):
            break
        time.sleep(0.05)
    return seen


def spec(m, coll, name, text):
    """cat > coll/name with `text` on stdin (how the spec shows creating a resource)."""
    return sh(f"cat > {m.p(coll, name)}", input=text)


# ---------------------------------------------------------------------------- mkdir / create
def test_mkdir_creates_a_network_visible_at_once(mnt, fake):
    os.listdir(mnt.p("networks"))                  # a cached listing must not hide the new one
    fake.clear_requests()
    ok(sh(f"mkdir {mnt.p('networks', 'net1')}"))
    (post,) = sent(fake, "POST", f"{NEUTRON}/networks")
    assert post["status"] == 201 and post["body"]["network"]["name"] == "net1"
    net = one(fake, "networks", "net1")
    assert net["id"] in sh(f"ls {mnt.p('networks')}").stdout.split()
    assert os.readlink(mnt.p("networks", "net1")) == net["id"]
    assert value(mnt.p("networks", "net1", "name")) == "net1"
    assert value(mnt.p("networks", net["id"], "status")) == "ACTIVE"


@pytest.mark.parametrize("coll,api,wrap", [("routers", "routers", "router"),
                                           ("security_groups", "security-groups", "security_group")])
def test_mkdir_creates_routers_and_security_groups(mnt, fake, coll, api, wrap):
    ok(sh(f"mkdir {mnt.p(coll, 'made1')}"))
    (post,) = sent(fake, "POST", f"{NEUTRON}/{api}")
    assert post["body"][wrap]["name"] == "made1"
    rec = one(fake, coll, "made1")
    assert os.readlink(mnt.p(coll, "made1")) == rec["id"]


def test_mkdir_of_an_existing_name_is_eexist(mnt, fake):
    out = sh(f"mkdir {mnt.p('networks', 'private')}")
    failed(out, "File exists")
    assert sent(fake, "POST", f"{NEUTRON}/networks") == []


SERVER_SPEC = {"image": "cirros", "flavor": "m1.tiny", "networks": ["private"], "key_name": "mykey",
               "security_groups": ["default"], "user_data": "#!/bin/sh\necho hi\n"}


def check_server_post(fake, name):
    (post,) = sent(fake, "POST", f"{NOVA}/servers")
    assert post["status"] == 202
    body = post["body"]["server"]
    st = fake.state()
    image = next(i["id"] for i in st["images"] if i["name"] == "cirros")
    net = next(n["id"] for n in st["networks"] if n["name"] == "private")
    assert body["name"] == name
    assert body["imageRef"] == image
    assert str(body["flavorRef"]) == "1"
    assert body["networks"] == [{"uuid": net}]
    assert body["key_name"] == "mykey"
    assert body["security_groups"] == [{"name": "default"}]
    assert base64.b64decode(body["user_data"]) == b"#!/bin/sh\necho hi\n"
    for friendly in ("image", "flavor"):
        assert friendly not in body
    return one(fake, "servers", name)


def test_cat_spec_creates_a_server_by_names(mnt, fake):
    os.listdir(mnt.p("servers"))
    fake.clear_requests()
    ok(spec(mnt, "servers", "web2", json.dumps(SERVER_SPEC)))
    srv = check_server_post(fake, "web2")
    assert os.readlink(mnt.p("servers", "web2")) == srv["id"]
    assert srv["id"] in os.listdir(mnt.p("servers"))
    seen = watch(lambda: value(mnt.p("servers", "web2", "status")), lambda s: s == "ACTIVE")
    assert seen == ["BUILD", "ACTIVE"], f"status went {seen}"
    assert value(mnt.p("servers", srv["id"], "key_name")) == "mykey"


def test_cat_spec_with_the_wrapper_key(mnt, fake):
    ok(spec(mnt, "servers", "web3", json.dumps({"server": {**SERVER_SPEC, "name": "ignored"}})))
    srv = check_server_post(fake, "web3")
    assert os.readlink(mnt.p("servers", "web3")) == srv["id"]


def test_spec_with_ids_and_api_objects_and_base64_user_data(mnt, fake):
    st = fake.state()
    image = next(i["id"] for i in st["images"] if i["name"] == "cirros")
    net = next(n["id"] for n in st["networks"] if n["name"] == "private")
    ud = base64.b64encode(b"#cloud-config\n").decode()
    ok(spec(mnt, "servers", "web4", json.dumps({"imageRef": image, "flavorRef": "42",
                                                 "networks": [{"uuid": net}], "user_data": ud})))
    (post,) = sent(fake, "POST", f"{NOVA}/servers")
    body = post["body"]["server"]
    assert (body["imageRef"], str(body["flavorRef"]), body["networks"], body["user_data"]) == (
        image, "42", [{"uuid": net}], ud)


def test_bad_json_is_einval_and_nothing_is_sent(mnt, fake):
    out = spec(mnt, "servers", "web5", '{"image": "cirros", ')
    failed(out, "Invalid argument")
    assert sent(fake, "POST", f"{NOVA}/servers") == []
    assert named(fake, "servers", "web5") == []
    assert "web5" not in os.listdir(mnt.p("servers"))
    assert not os.path.lexists(mnt.p("servers", "web5"))
    err = errors(mnt)
    assert "web5" in err and "json" in err.lower(), err


def test_unknown_image_name_is_einval_and_names_it(mnt, fake):
    out = spec(mnt, "servers", "web6", json.dumps({**SERVER_SPEC, "image": "no-such-image"}))
    failed(out, "Invalid argument")
    assert sent(fake, "POST", f"{NOVA}/servers") == []
    assert named(fake, "servers", "web6") == []
    assert "no-such-image" in errors(mnt)


def test_ambiguous_image_name_is_einval_and_says_so(mnt, fake):
    fake.seed(images=[{"name": "twin", "visibility": "public"}, {"name": "twin", "visibility": "public"}])
    out = spec(mnt, "servers", "web7", json.dumps({**SERVER_SPEC, "image": "twin"}))
    failed(out, "Invalid argument")
    assert sent(fake, "POST", f"{NOVA}/servers") == []
    err = errors(mnt)
    assert "twin" in err and ("ambiguous" in err.lower() or "more than one" in err.lower()
                              or "2 " in err), err


def test_unknown_network_name_is_einval(mnt, fake):
    out = spec(mnt, "servers", "web8", json.dumps({**SERVER_SPEC, "networks": ["nowhere"]}))
    failed(out, "Invalid argument")
    assert sent(fake, "POST", f"{NOVA}/servers") == []
    assert "nowhere" in errors(mnt)


def test_spec_the_cloud_rejects_carries_its_message(mnt, fake):
    out = spec(mnt, "servers", "web9", json.dumps({**SERVER_SPEC, "key_name": "not-a-key"}))
    failed(out, "Invalid argument")
    (post,) = sent(fake, "POST", f"{NOVA}/servers")
    assert post["status"] == 400
    assert "Invalid key_name provided." in errors(mnt)
    assert named(fake, "servers", "web9") == []


def test_quota_exceeded_is_edquot_with_novas_message(mnt, fake):
    used = len(fake.state()["servers"])
    fake.quota(servers=used)
    out = spec(mnt, "servers", "web10", json.dumps(SERVER_SPEC))
    failed(out, "Disk quota exceeded")
    err = errors(mnt)
    assert f"Quota exceeded for instances: Requested 1, but already used {used} of {used} instances" in err
    assert "403" in err
    assert named(fake, "servers", "web10") == []


def test_volume_quota_is_edquot_with_cinders_message(mnt, fake):
    fake.quota(volumes=len(fake.state()["volumes"]))
    out = spec(mnt, "volumes", "vol-over", '{"size": 1}\n')
    failed(out, "Disk quota exceeded")
    assert "VolumeLimitExceeded" in errors(mnt)


def test_network_quota_is_edquot_with_neutrons_message(mnt, fake):
    fake.quota(networks=len([n for n in fake.state()["networks"] if n["project_id"] == PROJECT]))
    out = sh(f"mkdir {mnt.p('networks', 'net-over')}")
    failed(out, "Disk quota exceeded")
    assert "Quota exceeded for resources: ['network']." in errors(mnt)


def test_cat_spec_creates_a_volume(mnt, fake):
    ok(spec(mnt, "volumes", "vol9", '{"size": 1}\n'))
    (post,) = sent(fake, "POST", f"{CINDER}/volumes")
    assert post["body"] == {"volume": {"name": "vol9", "size": 1}}
    vol = one(fake, "volumes", "vol9")
    assert os.readlink(mnt.p("volumes", "vol9")) == vol["id"]
    seen = watch(lambda: value(mnt.p("volumes", "vol9", "status")), lambda s: s == "available")
    assert seen[-1] == "available" and set(seen) <= {"creating", "available"}, seen


def test_cat_spec_creates_a_subnet_with_friendly_keys(mnt, fake):
    ok(sh(f"mkdir {mnt.p('networks', 'netS')}"))
    net = one(fake, "networks", "netS")
    ok(spec(mnt, "subnets", "subS", json.dumps({
        "network": "netS", "cidr": "10.50.0.0/24", "gateway": "10.50.0.1", "dhcp": False,
        "dns": ["192.0.2.53"], "allocation_pools": [{"start": "10.50.0.10", "end": "10.50.0.20"}]})))
    (post,) = sent(fake, "POST", f"{NEUTRON}/subnets")
    body = post["body"]["subnet"]
    assert body["network_id"] == net["id"] and body["ip_version"] == 4
    assert (body["gateway_ip"], body["enable_dhcp"], body["dns_nameservers"]) == ("10.50.0.1", False,
                                                                                  ["192.0.2.53"])
    for friendly in ("network", "gateway", "dhcp", "dns"):
        assert friendly not in body
    sub = one(fake, "subnets", "subS")
    assert (sub["cidr"], sub["gateway_ip"], sub["enable_dhcp"], sub["allocation_pools"]) == (
        "10.50.0.0/24", "10.50.0.1", False, [{"start": "10.50.0.10", "end": "10.50.0.20"}])
    sid = os.readlink(mnt.p("subnets", "subS"))
    assert sid == sub["id"]
    assert value(mnt.p("subnets", sid, "network_id")) == net["id"]


def test_overlapping_subnet_is_einval_with_neutrons_message(mnt, fake):
    out = spec(mnt, "subnets", "subX", json.dumps({"network": "private", "cidr": "10.0.0.128/25"}))
    failed(out, "Invalid argument")
    assert "overlaps with another subnet" in errors(mnt)
    assert named(fake, "subnets", "subX") == []


def test_cat_spec_creates_a_port_a_router_and_a_floating_ip(mnt, fake):
    st = fake.state()
    private = next(n["id"] for n in st["networks"] if n["name"] == "private")
    public = next(n["id"] for n in st["networks"] if n["name"] == "public")
    ok(spec(mnt, "ports", "port1", '{"network": "private"}'))
    assert sent(fake, "POST", f"{NEUTRON}/ports")[0]["body"]["port"]["network_id"] == private
    ok(spec(mnt, "routers", "r2", '{"external_network": "public"}'))
    body = sent(fake, "POST", f"{NEUTRON}/routers")[0]["body"]["router"]
    assert body["external_gateway_info"]["network_id"] == public
    assert one(fake, "routers", "r2")["external_gateway_info"]["network_id"] == public
    before = {f["id"] for f in st["floating_ips"]}
    ok(sh(f"cat > {mnt.p('floating_ips', 'fip')}", input='{"network": "public"}'))
    assert sent(fake, "POST", f"{NEUTRON}/floatingips")[0]["body"]["floatingip"]["floating_network_id"] == public
    (fip,) = [f for f in fake.state()["floating_ips"] if f["id"] not in before]
    assert fip["id"] in os.listdir(mnt.p("floating_ips"))


def test_router_on_an_internal_network_is_einval(mnt, fake):
    out = spec(mnt, "routers", "r3", '{"external_network": "private"}')
    failed(out, "Invalid argument")
    assert "is not an external network" in errors(mnt)


def test_cat_spec_creates_a_snapshot(mnt, fake):
    ok(spec(mnt, "snapshots", "snap1", '{"volume": "data1"}'))
    vol = one(fake, "volumes", "data1")
    (post,) = sent(fake, "POST", f"{CINDER}/snapshots")
    assert post["body"]["snapshot"]["volume_id"] == vol["id"]
    snap = one(fake, "snapshots", "snap1")
    assert os.readlink(mnt.p("snapshots", "snap1")) == snap["id"]


def test_flavor_create_as_demo_is_permission_denied(mnt, fake):
    out = spec(mnt, "flavors", "f1", '{"ram": 512, "vcpus": 1, "disk": 1}')
    failed(out, "Permission denied")
    assert "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed." in errors(mnt)
    assert named(fake, "flavors", "f1") == []


def test_flavor_create_as_admin(mount_factory, fake):
    from conftest import base_env
    env = base_env(fake, OS_USERNAME="admin", OS_PASSWORD="admin", OS_PROJECT_NAME="admin")
    m = mount_factory(env=env, name="admin")
    ok(spec(m, "flavors", "f2", '{"ram": 256, "vcpus": 1, "disk": 1}'))
    flv = one(fake, "flavors", "f2")
    assert (flv["ram"], flv["vcpus"], flv["disk"]) == (256, 1, 1)
    assert os.readlink(m.p("flavors", "f2")) == flv["id"]


# ------------------------------------------------------------------------------------ keypairs
def keygen(tmp_path, name="k"):
    key = str(tmp_path / name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@example", "-f", key], check=True)
    fp = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", key + ".pub"], check=True,
                        capture_output=True, text=True).stdout.split()[1]
    return key + ".pub", fp.removeprefix("MD5:")


def test_cp_public_key_imports_a_keypair(mnt, fake, tmp_path):
    pub, fp = keygen(tmp_path)
    ok(sh(f"cp {pub} {mnt.p('keypairs', 'k1')}"))
    (post,) = sent(fake, "POST", f"{NOVA}/os-keypairs")
    assert post["body"]["keypair"]["name"] == "k1"
    assert post["body"]["keypair"]["public_key"].strip() == open(pub).read().strip()
    kp = one(fake, "keypairs", "k1")
    assert kp["fingerprint"] == fp
    assert "k1" in os.listdir(mnt.p("keypairs"))
    assert value(mnt.p("keypairs", "k1", "fingerprint")) == fp


def test_duplicate_keypair_is_eexist(mnt, fake, tmp_path):
    pub, _ = keygen(tmp_path)
    os.listdir(mnt.p("keypairs"))
    # made elsewhere just now: this mount's fresh listing does not show it, the cloud refuses
    fake.seed(keypairs=[{"name": "taken"}])
    out = sh(f"cp {pub} {mnt.p('keypairs', 'taken')}")
    failed(out, "File exists")
    assert "Key pair 'taken' already exists." in errors(mnt)


def test_invalid_public_key_is_einval(mnt, fake, tmp_path):
    (tmp_path / "bad.pub").write_text("ssh-ed25519 not-base64!! me@example\n")
    out = sh(f"cp {tmp_path / 'bad.pub'} {mnt.p('keypairs', 'bad')}")
    failed(out, "Invalid argument")
    assert "Keypair data is invalid" in errors(mnt)
    assert named(fake, "keypairs", "bad") == []


# ------------------------------------------------------------------------- attributes, metadata
def test_echo_renames_a_server(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    value(mnt.p("servers", sid, "name"))                      # cached before the change
    ok(sh(f"echo new-name > {mnt.p('servers', sid, 'name')}"))
    (put,) = sent(fake, "PUT", f"{NOVA}/servers/{sid}")
    assert put["status"] == 200 and put["body"] == {"server": {"name": "new-name"}}
    assert one(fake, "servers", "new-name")["id"] == sid
    assert value(mnt.p("servers", sid, "name")) == "new-name"
    assert os.readlink(mnt.p("servers", "new-name")) == sid
    assert not os.path.lexists(mnt.p("servers", "web1"))


def test_writable_attributes_are_0644_others_0444(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    assert oct(os.stat(mnt.p("servers", sid, "name")).st_mode & 0o777) == "0o644"
    assert oct(os.stat(mnt.p("servers", sid, "status")).st_mode & 0o777) == "0o444"


def test_extra_files_have_their_own_modes_in_stat_and_listing_alike(mnt, fake):
    # console and data are read-only files: not executable, not writable, whether the mode comes
    # from a lookup (stat) or from the directory listing (ls -l).
    sid = one(fake, "servers", "web1")["id"]
    iid = one(fake, "images", "cirros")["id"]
    want = {("servers", sid, "console"): "-r--r--r--", ("servers", sid, "action"): "--w-------",
            ("servers", sid, "volumes"): "drwxr-xr-x", ("images", iid, "data"): "-r--r--r--"}
    for parts, mode in want.items():
        assert stat.filemode(os.lstat(mnt.p(*parts)).st_mode) == mode, parts
        listed = sh(f"ls -l {mnt.p(*parts[:2])}").stdout.splitlines()
        assert [ln.split()[0] for ln in listed if ln.endswith(" " + parts[2])] == [mode], parts


def test_writing_a_read_only_attribute_is_eacces(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    out = sh(f"echo ERROR > {mnt.p('servers', sid, 'status')}")
    failed(out, "Permission denied")
    assert [r for r in fake.requests(service="compute") if r["method"] != "GET"] == []
    assert one(fake, "servers", "web1")["status"] == "ACTIVE"


def test_echo_false_sends_a_json_false(mnt, fake):
    nid = one(fake, "networks", "private")["id"]
    ok(sh(f"echo false > {mnt.p('networks', nid, 'admin_state_up')}"))
    (put,) = sent(fake, "PUT", f"{NEUTRON}/networks/{nid}")
    assert put["body"] == {"network": {"admin_state_up": False}}
    assert one(fake, "networks", "private")["admin_state_up"] is False
    assert value(mnt.p("networks", nid, "admin_state_up")) == "false"


def test_echo_a_number_sends_a_number(mnt, fake):
    nid = one(fake, "networks", "private")["id"]
    ok(sh(f"echo 1400 > {mnt.p('networks', nid, 'mtu')}"))
    (put,) = sent(fake, "PUT", f"{NEUTRON}/networks/{nid}")
    assert put["body"] == {"network": {"mtu": 1400}}
    assert value(mnt.p("networks", nid, "mtu")) == "1400"


def test_rename_a_volume(mnt, fake):
    vid = one(fake, "volumes", "data1")["id"]
    ok(sh(f"echo data-renamed > {mnt.p('volumes', vid, 'name')}"))
    (put,) = sent(fake, "PUT", f"{CINDER}/volumes/{vid}")
    assert put["body"] == {"volume": {"name": "data-renamed"}}
    assert value(mnt.p("volumes", "data-renamed", "name")) == "data-renamed"


def test_rename_an_image_is_a_json_patch(mnt, fake):
    iid = one(fake, "images", "pending-upload")["id"]
    ok(sh(f"echo renamed-img > {mnt.p('images', iid, 'name')}"))
    (patch,) = sent(fake, "PATCH", f"/image/v2/images/{iid}")
    (op,) = patch["body"]
    assert (op["op"], op["path"], op["value"]) in (("replace", "/name", "renamed-img"), ("add", "/name", "renamed-img"))
    assert value(mnt.p("images", iid, "name")) == "renamed-img"


@pytest.mark.parametrize("coll,name,path", [("servers", "web1", f"{NOVA}/servers/{{id}}/metadata/role"),
                                            ("volumes", "data1", f"{CINDER}/volumes/{{id}}/metadata/role")])
def test_metadata_set_and_rm(mnt, fake, coll, name, path):
    rid = one(fake, coll, name)["id"]
    meta = mnt.p(coll, rid, "metadata")
    ok(sh(f"echo Apache1 > {meta}/role"))
    (put,) = sent(fake, "PUT", path.format(id=rid))
    assert put["body"] == {"meta": {"role": "Apache1"}}
    assert one(fake, coll, name)["metadata"]["role"] == "Apache1"
    assert value(f"{meta}/role") == "Apache1"
    assert "role" in os.listdir(meta)
    ok(sh(f"echo Apache2 > {meta}/role"))
    assert one(fake, coll, name)["metadata"]["role"] == "Apache2"
    ok(sh(f"rm {meta}/role"))
    (delete,) = sent(fake, "DELETE", path.format(id=rid))
    assert delete["status"] in (200, 204)
    assert "role" not in one(fake, coll, name)["metadata"]
    assert "role" not in os.listdir(meta)
    failed(sh(f"cat {meta}/role"), "No such file or directory")


def test_rm_of_a_missing_metadata_key_is_enoent(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    failed(sh(f"rm {mnt.p('servers', sid, 'metadata', 'nope')}"), "No such file or directory")


# ------------------------------------------------------------------------------------- actions
def status_of(fake, sid):
    return next(s for s in fake.state()["servers"] if s["id"] == sid)["status"]


# verb, the action body Nova gets, status while it runs (None: unchanged), final status
ACTIONS = [
    ("reboot", {"reboot": {"type": "SOFT"}}, "REBOOT", "ACTIVE"),
    ("reboot hard", {"reboot": {"type": "HARD"}}, "HARD_REBOOT", "ACTIVE"),
    ("stop", {"os-stop": None}, None, "SHUTOFF"),
    ("start", {"os-start": None}, None, "ACTIVE"),
    ("pause", {"pause": None}, None, "PAUSED"),
    ("unpause", {"unpause": None}, None, "ACTIVE"),
    ("suspend", {"suspend": None}, None, "SUSPENDED"),
    ("resume", {"resume": None}, None, "ACTIVE"),
    ("lock", {"lock": None}, None, "ACTIVE"),
    ("unlock", {"unlock": None}, None, "ACTIVE"),
    ("shelve", {"shelve": None}, None, "SHELVED_OFFLOADED"),
    ("unshelve", {"unshelve": None}, None, "ACTIVE"),
]


def test_every_action_verb(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    status = mnt.p("servers", sid, "status")
    action = mnt.p("servers", sid, "action")
    assert oct(os.stat(action).st_mode & 0o777) == "0o200"
    for verb, body, during, final in ACTIONS:
        fake.clear_requests()
        ok(sh(f"echo {verb} > {action}"))
        (post,) = sent(fake, "POST", f"{NOVA}/servers/{sid}/action")
        assert post["body"] == body and post["status"] == 202, (verb, post)
        if during:
            assert value(status) == during, f"{verb}: status right after"
        seen = watch(lambda: value(status), lambda s: s == final and status_of(fake, sid) == final)
        assert seen[-1] == final, f"{verb}: status went {seen}"
        # the transitional task must be over before the next verb
        poll(lambda: next(s for s in fake.state()["servers"] if s["id"] == sid)["OS-EXT-STS:task_state"] is None)


def test_unknown_verb_is_einval_and_sends_nothing(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    failed(sh(f"echo dance > {mnt.p('servers', sid, 'action')}"), "Invalid argument")
    assert sent(fake, "POST", f"{NOVA}/servers/{sid}/action") == []
    # The verbs are compute.c's rows; the message still lists them all.
    assert (f"servers/{sid}/action: unknown action 'dance' (reboot, reboot hard, stop, start, pause, "
            "unpause, suspend, resume, lock, unlock, shelve, unshelve, resize <flavor>, confirm, "
            "revert, rebuild [<image>], image <name>, rescue [<image>], unrescue)") in errors(mnt)


def test_stop_on_a_stopped_server_is_ebusy_with_novas_reason(mnt, fake):
    (off,) = fake.seed(servers=[{"name": "off", "status": "SHUTOFF"}])["servers"]
    failed(sh(f"echo stop > {mnt.p('servers', off['id'], 'action')}"), "Device or resource busy")
    assert f"Cannot 'stop' instance {off['id']} while it is in vm_state stopped" in errors(mnt)


def test_pause_needs_an_active_server(mnt, fake):
    (off,) = fake.seed(servers=[{"name": "off", "status": "SHUTOFF"}])["servers"]
    failed(sh(f"echo pause > {mnt.p('servers', off['id'], 'action')}"), "Device or resource busy")
    assert status_of(fake, off["id"]) == "SHUTOFF"


def test_cat_console(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    out = ok(sh(f"cat {mnt.p('servers', sid, 'console')}"))
    assert "web1 login:" in out.stdout and "Linux version" in out.stdout
    (post,) = sent(fake, "POST", f"{NOVA}/servers/{sid}/action")
    assert list(post["body"]) == ["os-getConsoleOutput"]


# ------------------------------------------------------------------------------ attach, detach
def vol_status(fake, vid):
    return next(v for v in fake.state()["volumes"] if v["id"] == vid)["status"]


def test_ln_s_attaches_and_rm_detaches(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    vid = one(fake, "volumes", "data1")["id"]
    link = mnt.p("servers", sid, "volumes", vid)
    ok(sh(f"ln -s ../../../volumes/{vid} {link}"))
    (post,) = sent(fake, "POST", f"{NOVA}/servers/{sid}/os-volume_attachments")
    assert post["status"] == 200 and post["body"] == {"volumeAttachment": {"volumeId": vid}}
    assert os.readlink(link) == f"../../../volumes/{vid}"
    assert vid in os.listdir(mnt.p("servers", sid, "volumes"))
    assert poll(lambda: vol_status(fake, vid) == "in-use")
    assert poll(lambda: value(mnt.p("volumes", vid, "status")) == "in-use")
    att = next(v for v in fake.state()["volumes"] if v["id"] == vid)["attachments"]
    assert [a["server_id"] for a in att] == [sid]
    assert value(mnt.p("volumes", vid, "status")) == "in-use"

    ok(sh(f"rm {link}"))
    (delete,) = sent(fake, "DELETE", f"{NOVA}/servers/{sid}/os-volume_attachments/{vid}")
    assert delete["status"] == 202
    assert poll(lambda: vol_status(fake, vid) == "available")
    assert poll(lambda: value(mnt.p("volumes", vid, "status")) == "available")
    assert poll(lambda: vid not in os.listdir(mnt.p("servers", sid, "volumes")))


def test_ln_s_by_volume_name(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    vid = one(fake, "volumes", "data1")["id"]
    link = mnt.p('servers', sid, 'volumes', 'data1')
    ok(sh(f"ln -s ../../../volumes/data1 {link}"))
    (post,) = sent(fake, "POST", f"{NOVA}/servers/{sid}/os-volume_attachments")
    assert post["body"] == {"volumeAttachment": {"volumeId": vid}}
    # The name the user made the link with removes it too: the detach is
    # addressed by the volume's id.
    assert poll(lambda: vol_status(fake, vid) == "in-use")
    ok(sh(f"rm {link}"))
    (delete,) = sent(fake, "DELETE", f"{NOVA}/servers/{sid}/os-volume_attachments/{vid}")
    assert delete["status"] == 202
    assert poll(lambda: vol_status(fake, vid) == "available")


def test_attaching_an_in_use_volume_is_ebusy_with_novas_reason(mnt, fake):
    # Nova answers 400 "Invalid volume: ... status must be available ... in-use"; an in-use
    # thing is EBUSY in cloudfs (as for rmdir of an attached volume).
    st = fake.state()
    sid = next(s["id"] for s in st["servers"] if s["name"] == "web1")
    used = next(v for v in st["volumes"] if v["status"] == "in-use")["id"]
    out = sh(f"ln -s ../../../volumes/{used} {mnt.p('servers', sid, 'volumes', used)}")
    failed(out, "Device or resource busy")
    assert "status must be available" in errors(mnt)
    assert [v["attachments"] for v in fake.state()["volumes"] if v["id"] == used][0][0]["server_id"] != sid


# -------------------------------------------------------------------------------------- rmdir
@pytest.mark.parametrize("coll,name,api", [
    ("servers", "web1", f"{NOVA}/servers/{{id}}"),
    ("volumes", "data1", f"{CINDER}/volumes/{{id}}"),
    ("keypairs", "mykey", f"{NOVA}/os-keypairs/{{id}}"),
])
def test_rmdir_deletes(mnt, fake, coll, name, api):
    key = "name" if coll == "keypairs" else "id"
    rid = one(fake, coll, name)[key]
    assert rid in os.listdir(mnt.p(coll))
    ok(sh(f"rmdir {mnt.p(coll, rid)}"))
    (delete,) = sent(fake, "DELETE", api.format(id=rid))
    assert delete["status"] in (202, 204)
    assert poll(lambda: named(fake, coll, name) == [])
    assert poll(lambda: rid not in os.listdir(mnt.p(coll)), timeout=5)


def test_rmdir_a_new_network(mnt, fake):
    ok(sh(f"mkdir {mnt.p('networks', 'gone1')}"))
    nid = one(fake, "networks", "gone1")["id"]
    # Names are links; a resource is removed by its id directory.
    out = sh(f"rmdir {mnt.p('networks', 'gone1')}")
    assert out.returncode != 0 and "Not a directory" in out.stderr
    ok(sh(f"rmdir {mnt.p('networks', nid)}"))
    assert sent(fake, "DELETE", f"{NEUTRON}/networks/{nid}")[0]["status"] == 204
    assert named(fake, "networks", "gone1") == []
    assert nid not in os.listdir(mnt.p("networks"))
    assert not os.path.lexists(mnt.p("networks", "gone1"))


def test_rmdir_of_an_in_use_volume_is_ebusy(mnt, fake):
    vid = next(v for v in fake.state()["volumes"] if v["status"] == "in-use")["id"]
    out = sh(f"rmdir {mnt.p('volumes', vid)}")
    failed(out, "Device or resource busy")
    assert "Invalid volume: Volume status must be available" in errors(mnt)
    assert vol_status(fake, vid) == "in-use"


def test_rmdir_of_a_network_with_ports_is_ebusy(mnt, fake):
    nid = one(fake, "networks", "private")["id"]
    failed(sh(f"rmdir {mnt.p('networks', nid)}"), "Device or resource busy")
    assert "There are one or more ports still in use on the network." in errors(mnt)
    assert named(fake, "networks", "private") != []


def test_rmdir_of_something_deleted_out_of_band_is_enoent(mnt, fake):
    sid = one(fake, "servers", "web1")["id"]
    assert sid in os.listdir(mnt.p("servers"))
    fake.delete("servers", sid)
    out = sh(f"rmdir {mnt.p('servers', sid)}")
    failed(out, "No such file or directory")
