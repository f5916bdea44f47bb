"""What cloudfs shows is what the cloud says: every collection against the
CLI's list, every attribute file against the API document, names, counts."""

import json
import os
import re
import subprocess
import urllib.request

import pytest

from conftest import STATE, osc

# directory → the CLI's list command and the field naming each entry
LISTS = {
    "servers": (["server", "list"], "ID"),
    "images": (["image", "list"], "ID"),
    "volumes": (["volume", "list"], "ID"),
    "snapshots": (["volume", "snapshot", "list"], "ID"),
    "networks": (["network", "list"], "ID"),
    "subnets": (["subnet", "list"], "ID"),
    "ports": (["port", "list"], "ID"),
    "routers": (["router", "list"], "ID"),
    "security_groups": (["security", "group", "list"], "ID"),
    "floating_ips": (["floating", "ip", "list"], "ID"),
    "security_group_rules": (["security", "group", "rule", "list"], "ID"),
    "flavors": (["flavor", "list"], "ID"),
    "keypairs": (["keypair", "list"], "Name"),
    "server_groups": (["server", "group", "list"], "ID"),
    "volume_types": (["volume", "type", "list"], "ID"),
    "limits": (["limit", "list"], "ID"),
    "registered_limits": (["registered", "limit", "list"], "ID"),
}


@pytest.mark.parametrize("coll", sorted(LISTS))
def test_collection_matches_the_cli(mnt, demo_env, coll):
    args, field = LISTS[coll]
    want = sorted(str(row[field]) for row in osc(*args, env=demo_env))
    assert sorted(os.listdir(mnt.p(coll))) == want


def test_server_attributes_match_the_cli(mnt, demo_env, seeded):
    srv = osc("server", "show", seeded["srv"]["id"], env=demo_env)
    d = mnt.p("servers", srv["id"])
    for field in ["id", "name", "status", "key_name", "created", "updated",
                  "OS-EXT-STS:vm_state", "OS-EXT-AZ:availability_zone", "hostId"]:
        with open(os.path.join(d, field)) as f:
            assert f.read() == f"{srv[field]}\n", field


def test_volume_and_image_attributes_match_the_cli(mnt, demo_env, seeded):
    vol = osc("volume", "show", seeded["vol"]["id"], env=demo_env)
    for field in ["id", "name", "status", "size", "bootable"]:
        with open(mnt.p("volumes", vol["id"], field)) as f:
            assert f.read().strip() == str(vol[field]), field
    img = osc("image", "show", "devcloud-tiny", env=demo_env)
    for field in ["id", "name", "status", "disk_format", "container_format", "checksum", "size",
                  "visibility"]:
        with open(mnt.p("images", img["id"], field)) as f:
            assert f.read().strip() == str(img[field]), field


def read_text(path):
    with open(path) as f:
        return f.read()


def api_get(token, url, headers=None):
    req = urllib.request.Request(url, headers={"X-Auth-Token": token, **(headers or {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def render(v):
    if v is None:
        return ""
    if isinstance(v, str):
        return v + "\n"
    if isinstance(v, bool):
        return "true\n" if v else "false\n"
    if isinstance(v, (int, float)):
        return json.dumps(v) + "\n"
    return None  # lists: compared as JSON


def walk_compare(doc, path):
    for key, value in doc.items():
        p = os.path.join(path, key.replace("%", "%25").replace("/", "%2F"))
        if key == "json":
            continue
        if isinstance(value, dict):
            assert os.path.isdir(p), p
            walk_compare(value, p)
            continue
        with open(p) as f:
            text = f.read()
        assert os.stat(p).st_size == len(text.encode())
        if isinstance(value, list):
            assert json.loads(text) == value, p
        else:
            assert text == render(value), p


@pytest.mark.parametrize("coll,path,key", [
    ("servers", "compute:/servers/{id}", "server"),
    ("volumes", "volumev3:/volumes/{id}", "volume"),
    ("networks", "network:/v2.0/networks/{id}", "network"),
    ("images", "image:/v2/images/{id}", None),
    ("volume_types", "volumev3:/types/{id}", "volume_type"),
    ("limits", "identity:/v3/limits/{id}", "limit"),
    ("registered_limits", "identity:/v3/registered_limits/{id}", "registered_limit"),
])
def test_every_attribute_file_equals_the_api_document(mnt, token, coll, path, key):
    endpoints = dict(line.split() for line in open(mnt.p(".cloudfs", "endpoints")))
    svc, rel = path.split(":", 1)
    base = endpoints[{"volumev3": "block-storage"}.get(svc, svc)]
    ids = os.listdir(mnt.p(coll))
    assert ids, f"no {coll} to compare"
    # the mount's documents are at the microversion it asked (.cloudfs/status); ask the same
    status = read_text(mnt.p(".cloudfs", "status"))
    version = re.search(r"^microversion compute (\S+)$", status, re.M).group(1)
    headers = {"OpenStack-API-Version": f"compute {version}"} if svc == "compute" else None
    for rid in ids[:5]:
        doc = api_get(token, base + rel.format(id=rid), headers)
        if key:
            doc = doc[key]
        with open(mnt.p(coll, rid, "json")) as f:
            assert json.load(f) == doc
        walk_compare(doc, mnt.p(coll, rid))


def test_names_resolve_like_the_cli(mnt, demo_env, seeded):
    for coll, what, name in [("servers", "server", seeded["srv"]["name"]),
                             ("volumes", "volume", seeded["vol"]["name"]),
                             ("networks", "network", "private"),
                             ("images", "image", "devcloud-tiny"),
                             ("flavors", "flavor", "m1.nano")]:
        want = osc(what, "show", name, env=demo_env)["id"]
        assert os.readlink(mnt.p(coll, name)) == want, coll
        assert name not in os.listdir(mnt.p(coll))


def test_missing_server_is_enoent(mnt):
    assert not os.path.exists(mnt.p("servers", "00000000-0000-0000-0000-000000000000"))
    assert not os.path.exists(mnt.p("images", "00000000-0000-0000-0000-000000000000"))


def nova_api_listings():
    """How many server listings nova-api has answered, from its own log."""
    logs = [os.path.join(STATE, "log", f) for f in os.listdir(os.path.join(STATE, "log"))
            if f.startswith("nova-api") and f.endswith(".log")]
    n = 0
    for path in logs:
        with open(path, errors="replace") as f:
            n += len(re.findall(r'"GET /v2\.1/servers/detail[^"]*" status: 200', f.read()))
    return n


def test_ls_l_and_all_statuses_cost_one_listing_at_nova(demo_env, seeded, tmp_path):
    from mountutil import Mount, start_cloudfs
    # Its own mount, with a TTL longer than the commands take.
    path = str(tmp_path / "mnt")
    proc, log = start_cloudfs(path, demo_env, ["-o", "cache_ttl=60"], timeout=30)
    m = Mount(path, proc, log)
    try:
        before = nova_api_listings()
        subprocess.run(f"ls -l {m.p('servers')} >/dev/null && cat {m.p('servers')}/*/status",
                       shell=True, check=True, capture_output=True)
        assert nova_api_listings() - before == 1
    finally:
        m.unmount()


def status_of(mnt):
    with open(mnt.p(".cloudfs", "status")) as f:
        return dict(line.split(" ", 1) for line in f.read().splitlines())


def test_token_is_renewed_before_keystone_expires_it(mnt, demo_env):
    # devcloud issues 120 s tokens; cloudfs renews with half the lifetime left.
    import time
    st = status_of(mnt)
    wait = int(st["token_expires_in_s"]) - 55
    assert wait < 125, "token lifetime is not devcloud's short one"
    if wait > 0:
        time.sleep(wait)
    with open(mnt.p(".cloudfs", "refresh"), "w") as f:
        f.write("servers\n")
    want = sorted(r["ID"] for r in osc("server", "list", env=demo_env))
    assert sorted(os.listdir(mnt.p("servers"))) == want
    st = status_of(mnt)
    assert int(st["tokens_issued"]) >= 2
    assert int(st["token_expires_in_s"]) > 60
    with open(mnt.p(".cloudfs", "errors")) as f:
        assert "HTTP 401" not in f.read()
