"""The fake OpenStack must look like the real one where cloudfs cares: shapes, errors, pagination.
Run: pytest-3 tests/fake -q"""

import base64
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import FakeCloud  # noqa: E402

# The real captures live in the repo (tests/fixtures/openstack-zed, see its README).
FIXTURES = os.environ.get("CLOUDFS_FIXTURES") or os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "openstack-zed"))
ZERO = "00000000-0000-0000-0000-000000000000"
REQ_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def fixture(name):
    path = os.path.join(FIXTURES, name)
    with open(path, "rb") as f:
        return json.load(f) if name.endswith(".json") else f.read()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    c = FakeCloud.start(tmp_path_factory.mktemp("fake"), build_seconds=0.5, delete_seconds=0.3, quiet=True)
    yield c
    c.stop()


@pytest.fixture
def tok(cloud):
    cloud.reset()
    return cloud.token()[0]


def by_name(cloud, tok, name, what="servers"):
    path = {"servers": "/compute/v2.1/servers/detail", "images": "/image/v2/images",
            "volumes": f"/volume/v3/{PROJECT}/volumes/detail", "networks": "/network/v2.0/networks"}[what]
    return [x for x in cloud.get_json(path, tok)[1][what] if x["name"] == name]


PROJECT = "7c808b28bded4680839ac3a2f00d8a87"


def test_shapes_match_fixtures(cloud, tok):
    status, headers, body = cloud.request("GET", "/compute/v2.1/servers/detail", token=tok)
    assert status == 200 and REQ_ID.match(headers["X-Openstack-Request-Id"])
    assert headers["X-Compute-Request-Id"] == headers["X-Openstack-Request-Id"]
    servers = {s["name"]: s for s in json.loads(body)["servers"]}
    assert {"web1", "db1", "broken", "dup", "a/b"} <= set(servers)
    real = fixture("nova-servers-detail-limit2.json")["servers"][0]
    assert set(servers["web1"]) == set(real)
    assert set(servers["broken"]) == set(real) | {"fault"}
    assert set(servers["broken"]["fault"]) == {"code", "created", "message"}
    assert servers["db1"]["metadata"] == {"role": "db"} and servers["db1"]["key_name"] == "mykey"
    show = cloud.get_json(f"/compute/v2.1/servers/{servers['web1']['id']}", tok)[1]
    assert set(show["server"]) == set(fixture("nova-server-show.json")["server"])
    assert set(show["server"]["image"]) == {"id", "links"} and set(show["server"]["flavor"]) == {"id", "links"}
    flavors = cloud.get_json("/compute/v2.1/flavors/detail", tok)[1]["flavors"]
    real_flavors = fixture("nova-flavors-detail.json")["flavors"]
    assert [(f["id"], f["name"]) for f in flavors] == [(f["id"], f["name"]) for f in real_flavors]
    assert all(set(f) == set(real_flavors[0]) for f in flavors)
    kp = cloud.get_json("/compute/v2.1/os-keypairs", tok)[1]["keypairs"]
    assert [set(k["keypair"]) for k in kp] == [{"name", "public_key", "fingerprint"}]
    assert set(cloud.get_json("/compute/v2.1/os-keypairs/mykey", tok)[1]["keypair"]) == {
        "name", "public_key", "fingerprint", "user_id", "deleted", "created_at", "updated_at", "deleted_at", "id"}
    volumes = cloud.get_json(f"/volume/v3/{PROJECT}/volumes/detail", tok)[1]["volumes"]
    assert all(set(v) == set(fixture("cinder-volumes-detail.json")["volumes"][0]) for v in volumes)
    assert sorted(v["name"] or "" for v in volumes) == ["", "data1"]
    cirros = by_name(cloud, tok, "cirros", "images")[0]
    assert set(cirros) == set(fixture("glance-images-limit1.json")["images"][0])
    nets = cloud.get_json("/network/v2.0/networks", tok)[1]
    assert "networks_links" not in nets
    assert all(set(n) == set(fixture("neutron-networks.json")["networks"][0]) for n in nets["networks"])
    subnets = cloud.get_json("/network/v2.0/subnets?name=private-subnet", tok)[1]["subnets"]
    assert [s["cidr"] for s in subnets] == ["10.0.0.0/24"]
    assert set(subnets[0]) == set(fixture("neutron-subnets.json")["subnets"][0])


def test_keystone(cloud, tok):
    _, body = cloud.token()
    real = fixture("keystone-auth-tokens.json")["token"]
    assert set(body["token"]) == set(real)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$", body["token"]["expires_at"])
    types = {s["type"] for s in body["token"]["catalog"]}
    assert {"identity", "compute", "image", "volumev3", "block-storage", "network"} <= types
    assert {e["region"] for s in body["token"]["catalog"] for e in s["endpoints"]} == {"RegionOne", "RegionTwo"}
    two = next(e["url"] for s in body["token"]["catalog"] if s["type"] == "compute"
               for e in s["endpoints"] if e["region"] == "RegionTwo")
    with pytest.raises(OSError):                       # the wrong region refuses connections
        socket.create_connection((urllib.parse.urlsplit(two).hostname, urllib.parse.urlsplit(two).port), 2)

    def auth(identity, scope=None):
        body = {"auth": {"identity": identity, **({"scope": scope} if scope else {})}}
        return cloud.request("POST", "/identity/v3/auth/tokens", body)

    demo = {"project": {"name": "demo", "domain": {"id": "default"}}}
    bad = auth({"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"name": "Default"},
                                                               "password": "wrong"}}}, demo)
    assert bad[0] == 401 and json.loads(bad[2]) == fixture("keystone-auth-badpass.json")
    by_id = auth({"methods": ["password"], "password": {"user": {"id": "ba5804b743f1465fb58da464a642feed",
                                                                 "password": "demo"}}}, {"project": {"id": PROJECT}})
    assert by_id[0] == 201
    assert auth({"methods": ["token"], "token": {"id": tok}}, demo)[0] == 201
    assert auth({"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"name": "Default"},
                                                                "password": "demo"}}})[0] == 401   # unscoped
    assert auth({"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"name": "Default"},
                                                                "password": "demo"}}},
                {"project": {"name": "admin", "domain": {"name": "Default"}}})[0] == 401    # not a member
    ac = auth({"methods": ["application_credential"],
               "application_credential": {"id": "appcred-id", "secret": "appcred-secret"}})
    assert ac[0] == 201 and json.loads(ac[2])["token"]["project"]["id"] == PROJECT
    admin_tok, admin = cloud.token("admin", "admin", "admin")
    assert "admin" in [r["name"] for r in admin["token"]["roles"]]
    assert cloud.get_json("/compute/v2.1/servers", admin_tok)[1] == {"servers": []}   # other project's


def test_401_and_404_shapes(cloud, tok):
    unauth = fixture("nova-unauthenticated.json")
    for path in ("/compute/v2.1/servers", "/image/v2/images", f"/volume/v3/{PROJECT}/volumes",
                 "/network/v2.0/networks", "/compute/v2.1/nope"):
        for token in (None, "invalid"):
            status, headers, body = cloud.request("GET", path, token=token)
            assert (status, json.loads(body)) == (401, unauth), path
            assert headers["WWW-Authenticate"].startswith("Keystone uri=")
    for path, name in ((f"/compute/v2.1/servers/{ZERO}", "nova-server-404.json"),
                       (f"/volume/v3/{PROJECT}/volumes/{ZERO}", "cinder-volume-404.json"),
                       (f"/network/v2.0/networks/{ZERO}", "neutron-network-404.json")):
        status, _, body = cloud.request("GET", path, token=tok)
        assert (status, json.loads(body)) == (404, fixture(name))
    status, headers, body = cloud.request("GET", f"/image/v2/images/{ZERO}", token=tok)
    assert (status, headers["Content-Type"], body) == (404, "text/html; charset=UTF-8", fixture("glance-image-404.body"))
    status, _, body = cloud.request("GET", f"/network/v2.0/subnets/{ZERO}", token=tok)
    assert json.loads(body)["NeutronError"]["type"] == "SubnetNotFound"


def follow(cloud, tok, url, key, next_of):
    seen, pages = [], 0
    while url:
        status, body = cloud.get_json(url, tok)
        assert status == 200
        seen += [x["id"] for x in body[key]]
        url, pages = next_of(body), pages + 1
        assert pages < 50
    return seen, pages


def nova_next(body):
    return next((l["href"] for l in body.get("servers_links", []) if l["rel"] == "next"), None)


def test_nova_pagination(cloud, tok):
    cloud.seed(servers=[{"name": f"extra{i}"} for i in range(3)])
    everything = cloud.get_json("/compute/v2.1/servers/detail", tok)[1]["servers"]
    assert len(everything) == 9
    created = [s["created"] for s in everything]
    assert created == sorted(created, reverse=True)                      # newest first
    ids, pages = follow(cloud, tok, "/compute/v2.1/servers/detail?limit=2", "servers", nova_next)
    assert ids == [s["id"] for s in everything] and pages == 5           # 9 = 2+2+2+2+1
    ids, pages = follow(cloud, tok, "/compute/v2.1/servers/detail?limit=3", "servers", nova_next)
    assert ids == [s["id"] for s in everything] and pages == 4           # a full last page links on
    first = cloud.get_json("/compute/v2.1/servers?limit=2", tok)[1]
    assert set(first["servers"][0]) == {"id", "name", "links"}
    assert first["servers_links"][0]["href"] == \
        f"{cloud.url}/compute/v2.1/servers?limit=2&marker={first['servers'][1]['id']}"
    status, _, body = cloud.request("GET", "/compute/v2.1/servers/detail?marker=nope", token=tok)
    assert (status, json.loads(body)) == (400, {"badRequest": {"code": 400, "message": "marker [nope] not found"}})
    assert [s["name"] for s in cloud.get_json("/compute/v2.1/servers?name=^dup$", tok)[1]["servers"]] == ["dup"] * 2


def test_glance_cinder_neutron_pagination(cloud, tok):
    cloud.seed(images=[{"name": f"img{i}"} for i in range(3)], volumes=[{"name": "v3"}],
               networks=[{"name": "n1"}, {"name": "n2"}])
    page = cloud.get_json("/image/v2/images?limit=2", tok)[1]
    assert page["first"] == "/v2/images?limit=2" and page["schema"] == "/v2/schemas/images"
    assert page["next"] == f"/v2/images?limit=2&marker={page['images'][1]['id']}"
    ids, _ = follow(cloud, tok, "/image/v2/images?limit=2", "images",
                    lambda b: b.get("next") and "/image" + b["next"])      # relative to the endpoint
    assert sorted(ids) == sorted(i["id"] for i in cloud.get_json("/image/v2/images", tok)[1]["images"])
    assert len(ids) == len(set(ids)) == 5

    vols = f"/volume/v3/{PROJECT}/volumes/detail"
    ids, pages = follow(cloud, tok, vols + "?limit=1", "volumes",
                        lambda b: b.get("volumes_links") and b["volumes_links"][0]["href"])
    assert len(ids) == len(set(ids)) == 3 and pages == 3               # no link on the last page
    assert "volumes_links" not in cloud.get_json(vols + "?limit=3", tok)[1]

    first = cloud.get_json("/network/v2.0/networks?limit=1", tok)[1]
    nid = first["networks"][0]["id"]
    assert first["networks_links"] == [
        {"rel": "next", "href": f"{cloud.url}/network/v2.0/networks?limit=1&marker={nid}"},
        {"rel": "previous", "href": f"{cloud.url}/network/v2.0/networks?limit=1&marker={nid}&page_reverse=True"}]
    ids, _ = follow(cloud, tok, "/network/v2.0/networks?limit=1", "networks", lambda b: next(
        (l["href"] for l in b.get("networks_links", []) if l["rel"] == "next"), None))
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 4
    back = cloud.get_json(f"/network/v2.0/networks?limit=2&marker={ids[3]}&page_reverse=True", tok)[1]
    assert [n["id"] for n in back["networks"]] == ids[1:3]
    names = cloud.get_json("/network/v2.0/networks?name=private&fields=id&fields=name", tok)[1]["networks"]
    assert [set(n) for n in names] == [{"id", "name"}]


def test_faults_and_tokens(cloud, tok):
    path = "/compute/v2.1/servers/detail"
    cloud.fault(path=path, status=503, count=2)
    got = [cloud.request("GET", path, token=tok)[0] for _ in range(3)]
    assert got == [503, 503, 200]
    assert [r["status"] for r in cloud.requests(service="compute", path_prefix=path)] == got
    assert all(r["token"] for r in cloud.requests(service="compute"))

    cloud.fault(path="/image", delay_ms=1500)                          # a slow Glance ...
    slow = threading.Thread(target=cloud.request, args=("GET", "/image/v2/images"), kwargs={"token": tok})
    slow.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    assert cloud.request("GET", path, token=tok)[0] == 200             # ... does not block Nova
    assert time.monotonic() - t0 < 1.0                                 # not ~1.5 s
    slow.join()

    cloud.fault(path=path, drop=True)
    with pytest.raises(Exception):
        cloud.request("GET", path, token=tok, timeout=5)
    cloud.fault(path=path, status=500, body={"custom": True}, method="GET")
    assert json.loads(cloud.request("GET", path, token=tok)[2]) == {"custom": True}

    cloud.expire_tokens()
    assert cloud.request("GET", path, token=tok)[0] == 401
    assert cloud.request("GET", path, token=cloud.token()[0])[0] == 200


def test_write_paths(cloud, tok):
    status, _, body = cloud.request("POST", "/compute/v2.1/servers", json.loads(
        fixture("nova-server-create-bad-request.request").split(b"\n", 2)[2]), token=tok)
    assert (status, json.loads(body)) == (400, fixture("nova-server-create-bad-request.json"))
    image = by_name(cloud, tok, "cirros", "images")[0]["id"]
    net = by_name(cloud, tok, "private", "networks")[0]["id"]
    req = {"server": {"name": "new", "imageRef": image, "flavorRef": "42", "networks": [{"uuid": net}]}}
    status, _, body = cloud.request("POST", "/compute/v2.1/servers", req, token=tok)
    created = json.loads(body)["server"]
    assert status == 202 and set(created) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    show = f"/compute/v2.1/servers/{created['id']}"
    server = cloud.get_json(show, tok)[1]["server"]
    assert (server["status"], server["OS-EXT-STS:vm_state"], server["addresses"]) == ("BUILD", "building", {})
    time.sleep(0.55)
    server = cloud.get_json(show, tok)[1]["server"]
    assert server["status"] == "ACTIVE" and server["addresses"]["private"][0]["addr"].startswith("10.0.0.")
    assert cloud.request("DELETE", show, token=tok)[0] == 204
    time.sleep(0.35)
    assert cloud.request("GET", show, token=tok)[0] == 404
    del req["server"]["networks"]                                      # private + shared public
    assert cloud.request("POST", "/compute/v2.1/servers", req, token=tok)[0] == 409

    status, headers, body = cloud.request("POST", "/image/v2/images", {"name": "up", "disk_format": "raw",
                                                                        "container_format": "bare"}, token=tok)
    img = json.loads(body)
    assert status == 201 and img["status"] == "queued" and set(img) == set(fixture("glance-image-create.json"))
    data = os.urandom(100000)
    assert cloud.request("PUT", f"/image/v2/images/{img['id']}/file", data, token=tok,
                         headers={"Content-Type": "application/octet-stream"})[0] == 204
    img = cloud.get_json(f"/image/v2/images/{img['id']}", tok)[1]
    assert set(img) == set(fixture("glance-image-after-upload.json"))
    assert (img["status"], img["size"], img["checksum"], img["os_hash_value"]) == (
        "active", len(data), hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest())
    status, headers, got = cloud.request("GET", f"/image/v2/images/{img['id']}/file", token=tok,
                                         headers={"Range": "bytes=10-19"})
    assert (status, got, headers["Content-Range"]) == (206, data[10:20], f"bytes 10-19/{len(data)}")
    assert cloud.request("GET", f"/image/v2/images/{img['id']}/file", token=tok)[2] == data
    assert cloud.request("DELETE", f"/image/v2/images/{img['id']}", token=tok)[0] == 204

    status, _, body = cloud.request("POST", f"/volume/v3/{PROJECT}/volumes", {"volume": {"size": 2}}, token=tok)
    vol = json.loads(body)["volume"]
    assert status == 202 and vol["status"] == "creating" and vol["name"] is None
    time.sleep(0.55)
    assert cloud.get_json(f"/volume/v3/{PROJECT}/volumes/{vol['id']}", tok)[1]["volume"]["status"] == "available"
    assert cloud.request("DELETE", f"/volume/v3/{PROJECT}/volumes/{vol['id']}", token=tok)[0] == 202

    status, _, body = cloud.request("POST", "/network/v2.0/networks", {"network": {"name": "n"}}, token=tok)
    assert status == 201 and json.loads(body)["network"]["name"] == "n"
    assert cloud.request("DELETE", f"/network/v2.0/networks/{json.loads(body)['network']['id']}",
                         token=tok)[0] == 204
    status, _, body = cloud.request("DELETE", f"/network/v2.0/networks/{net}", token=tok)
    assert status == 409 and json.loads(body)["NeutronError"]["type"] == "NetworkInUse"


def test_control_api(cloud, tok):
    ids = {s["name"]: s["id"] for s in cloud.state()["servers"]}
    made = cloud.seed(servers=[{"name": "off", "status": "SHUTOFF"}], volumes=[{"name": "v", "server": "off"}])
    off = made["servers"][0]
    assert off["OS-EXT-STS:vm_state"] == "stopped" and made["volumes"][0]["status"] == "in-use"
    cloud.update("servers", off["id"], {"status": "ERROR"})
    assert cloud.get_json(f"/compute/v2.1/servers/{off['id']}", tok)[1]["server"]["fault"]["code"] == 500
    cloud.delete("servers", ids["web1"])
    assert cloud.request("GET", f"/compute/v2.1/servers/{ids['web1']}", token=tok)[0] == 404
    cloud.reset()
    assert {s["name"]: s["id"] for s in cloud.state()["servers"]} == ids          # same ids after reset
    assert cloud.requests() == []


def test_bulk_servers(tmp_path):
    # How fast the fake starts is bench/'s concern (bench/run.sh starts it with 50k), not a test's.
    with FakeCloud.start(tmp_path, servers=10000, seed="empty", quiet=True) as big:
        tok = big.token()[0]
        body = big.get_json("/compute/v2.1/servers/detail", tok)[1]
        assert len(body["servers"]) == 1000 and body["servers"][0]["name"] == "bulk-9999"
        assert "marker=" in body["servers_links"][0]["href"]


# ------------------------------------------------------------------------------- write rules
NOVA = "/compute/v2.1"
CINDER = f"/volume/v3/{PROJECT}"
NEUTRON = "/network/v2.0"


def call(cloud, tok, method, path, body=None, **kw):
    status, headers, raw = cloud.request(method, path, body, token=tok, **kw)
    assert REQ_ID.match(headers["X-Openstack-Request-Id"]), (method, path)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode()


def wait_for(fn, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def ids(cloud, coll):
    return {r.get("name"): r[COLL_KEY.get(coll, "id")] for r in cloud.state()[coll]}


COLL_KEY = {"keypairs": "name"}


def server_status(cloud, tok, sid):
    s = call(cloud, tok, "GET", f"{NOVA}/servers/{sid}")[1]["server"]
    return s["status"], s["OS-EXT-STS:task_state"]


def test_nova_create_validation_and_quota(cloud, tok):
    image, net = ids(cloud, "images")["cirros"], ids(cloud, "networks")["private"]
    good = {"name": "v", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": net}]}
    for change, message in [({"imageRef": ZERO}, "Can not find requested image"),
                            ({"flavorRef": "999"}, "Invalid flavorRef provided."),
                            ({"key_name": "nokey"}, "Invalid key_name provided."),
                            ({"networks": [{"uuid": ZERO}]}, f"Network {ZERO} could not be found."),
                            ({"security_groups": [{"name": "nosuch"}]}, "Security group nosuch not found."),
                            ({"user_data": "#!/bin/sh\necho hi\n"}, "is not a 'base64'")]:
        status, body = call(cloud, tok, "POST", f"{NOVA}/servers", {"server": {**good, **change}})
        assert status == 400 and message in body["badRequest"]["message"], (change, body)
    ud = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    status, _ = call(cloud, tok, "POST", f"{NOVA}/servers", {"server": {
        **good, "user_data": ud, "key_name": "mykey", "security_groups": [{"name": "default"}]}})
    assert status == 202
    logged = cloud.requests(method="POST", path_prefix=f"{NOVA}/servers")[-1]
    assert logged["body"]["server"]["user_data"] == ud and logged["status"] == 202
    used = len([s for s in cloud.state()["servers"]])
    cloud.quota(**{"servers": used})
    status, body = call(cloud, tok, "POST", f"{NOVA}/servers", {"server": good})
    assert (status, body) == (403, {"forbidden": {"code": 403, "message": f"Quota exceeded for instances: "
                                                  f"Requested 1, but already used {used} of {used} instances"}})


def test_server_update_actions_and_metadata(cloud, tok):
    sid = ids(cloud, "servers")["web1"]
    status, body = call(cloud, tok, "PUT", f"{NOVA}/servers/{sid}", {"server": {"name": "renamed"}})
    assert status == 200 and body["server"]["name"] == "renamed"
    assert call(cloud, tok, "PUT", f"{NOVA}/servers/{sid}", {"server": {"status": "x"}})[0] == 400
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"os-start": None})[1] == {
        "conflictingRequest": {"code": 409, "message": f"Cannot 'start' instance {sid} while it is in vm_state active"}}
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"unpause": None})[0] == 409
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"reboot": {"type": "HARD"}})[0] == 202
    assert server_status(cloud, tok, sid) == ("HARD_REBOOT", "reboot_started_hard")
    status, body = call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"os-stop": None})
    assert status == 409 and "task_state reboot_started_hard" in body["conflictingRequest"]["message"]
    assert wait_for(lambda: server_status(cloud, tok, sid) == ("ACTIVE", None))
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"os-stop": None})[0] == 202
    assert server_status(cloud, tok, sid) == ("ACTIVE", "powering-off")
    assert wait_for(lambda: server_status(cloud, tok, sid) == ("SHUTOFF", None))
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"os-stop": None})[1] == {
        "conflictingRequest": {"code": 409, "message": f"Cannot 'stop' instance {sid} while it is in vm_state stopped"}}
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"reboot": {"type": "SOFT"}})[0] == 409
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"lock": None})[0] == 202
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"os-start": None})[1][
        "conflictingRequest"]["message"] == f"Instance {sid} is locked"
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"unlock": None})[0] == 202
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"os-start": None})[0] == 202
    assert call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action", {"fly": None})[0] == 400
    assert "login:" in call(cloud, tok, "POST", f"{NOVA}/servers/{sid}/action",
                            {"os-getConsoleOutput": {"length": 5}})[1]["output"]

    meta = f"{NOVA}/servers/{sid}/metadata"
    assert call(cloud, tok, "PUT", f"{meta}/role", {"meta": {"role": "web"}}) == (200, {"meta": {"role": "web"}})
    assert call(cloud, tok, "PUT", f"{meta}/role", {"meta": {"other": "web"}})[0] == 400
    assert call(cloud, tok, "POST", meta, {"metadata": {"a": "1"}})[1] == {"metadata": {"role": "web", "a": "1"}}
    assert call(cloud, tok, "GET", f"{meta}/a") == (200, {"meta": {"a": "1"}})
    assert call(cloud, tok, "DELETE", f"{meta}/a")[0] == 204
    assert call(cloud, tok, "GET", f"{meta}/a")[0] == 404
    assert call(cloud, tok, "GET", meta)[1] == {"metadata": {"role": "web"}}


def test_volume_attach_detach_delete_and_snapshots(cloud, tok):
    sid, vid = ids(cloud, "servers")["web1"], ids(cloud, "volumes")["data1"]
    att = f"{NOVA}/servers/{sid}/os-volume_attachments"
    status, body = call(cloud, tok, "POST", att, {"volumeAttachment": {"volumeId": vid}})
    assert status == 200 and body["volumeAttachment"] == {"device": "/dev/vdb", "id": vid, "serverId": sid,
                                                          "volumeId": vid}
    vol = lambda: call(cloud, tok, "GET", f"{CINDER}/volumes/{vid}")[1]["volume"]  # noqa: E731
    assert vol()["status"] == "attaching"
    assert wait_for(lambda: vol()["status"] == "in-use")
    assert vol()["attachments"][0]["server_id"] == sid
    server = call(cloud, tok, "GET", f"{NOVA}/servers/{sid}")[1]["server"]
    assert {"id": vid} in server["os-extended-volumes:volumes_attached"]
    assert call(cloud, tok, "POST", att, {"volumeAttachment": {"volumeId": vid}})[0] == 400
    status, body = call(cloud, tok, "DELETE", f"{CINDER}/volumes/{vid}")
    assert status == 400 and body["badRequest"]["message"].startswith("Invalid volume: Volume status must be")
    assert call(cloud, tok, "DELETE", f"{att}/{vid}")[0] == 202
    assert wait_for(lambda: vol()["status"] == "available") and vol()["attachments"] == []
    assert call(cloud, tok, "DELETE", f"{att}/{vid}")[0] == 404

    assert call(cloud, tok, "PUT", f"{CINDER}/volumes/{vid}", {"volume": {"name": "d2"}})[1]["volume"]["name"] == "d2"
    assert call(cloud, tok, "PUT", f"{CINDER}/volumes/{vid}/metadata/k", {"meta": {"k": "v"}})[0] == 200
    assert vol()["metadata"] == {"k": "v"}
    assert call(cloud, tok, "DELETE", f"{CINDER}/volumes/{vid}/metadata/k")[0] == 200
    status, body = call(cloud, tok, "POST", f"{CINDER}/snapshots", {"snapshot": {"volume_id": vid, "name": "s"}})
    assert status == 202 and body["snapshot"]["status"] == "creating"
    snap = body["snapshot"]["id"]
    assert wait_for(lambda: call(cloud, tok, "GET", f"{CINDER}/snapshots/{snap}")[1]["snapshot"]["status"]
                    == "available")
    assert [s["id"] for s in call(cloud, tok, "GET", f"{CINDER}/snapshots/detail")[1]["snapshots"]] == [snap]
    assert call(cloud, tok, "DELETE", f"{CINDER}/volumes/{vid}")[0] == 400          # has a snapshot
    assert call(cloud, tok, "DELETE", f"{CINDER}/snapshots/{snap}")[0] == 202
    assert wait_for(lambda: call(cloud, tok, "GET", f"{CINDER}/snapshots/{snap}")[0] == 404)

    cloud.quota(**{"volumes": 2})
    assert call(cloud, tok, "POST", f"{CINDER}/volumes", {"volume": {"size": 1}}) == (413, {"overLimit": {
        "code": 413, "message": "VolumeLimitExceeded: Maximum number of volumes allowed (2) exceeded for quota "
                                "'volumes'.", "retryAfter": "0"}})
    assert call(cloud, tok, "POST", f"{CINDER}/volumes", {"volume": {"size": 1, "imageRef": ZERO}})[0] == 400
    assert call(cloud, tok, "POST", f"{CINDER}/volumes", {"volume": {"size": 1, "volume_type": "x"}})[0] == 404


def test_flavors_and_keypairs(cloud, tok):
    status, body = call(cloud, tok, "POST", f"{NOVA}/flavors", {"flavor": {"name": "f", "ram": 1, "vcpus": 1,
                                                                           "disk": 0}})
    assert (status, body["forbidden"]["message"]) == (
        403, "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
    admin = cloud.token("admin", "admin", "admin")[0]
    assert call(cloud, admin, "POST", f"{NOVA}/flavors", {"flavor": {"name": "f", "ram": 1, "vcpus": 1,
                                                                     "disk": 0}})[0] == 200
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes(range(32))
    key = f"ssh-ed25519 {base64.b64encode(blob).decode()} me@host"
    status, body = call(cloud, tok, "POST", f"{NOVA}/os-keypairs", {"keypair": {"name": "k1", "public_key": key}})
    digest = hashlib.md5(blob).hexdigest()
    assert status == 200 and body["keypair"]["fingerprint"] == ":".join(digest[i:i + 2] for i in range(0, 32, 2))
    assert call(cloud, tok, "POST", f"{NOVA}/os-keypairs", {"keypair": {"name": "k1", "public_key": key}}) == (
        409, {"conflictingRequest": {"code": 409, "message": "Key pair 'k1' already exists."}})
    assert call(cloud, tok, "POST", f"{NOVA}/os-keypairs", {"keypair": {"name": "k2", "public_key": "junk"}}) == (
        400, {"badRequest": {"code": 400, "message": "Keypair data is invalid: failed to generate fingerprint"}})
    assert call(cloud, tok, "DELETE", f"{NOVA}/os-keypairs/k1")[0] == 202
    assert call(cloud, tok, "GET", f"{NOVA}/os-keypairs/k1")[0] == 404


def test_neutron_rules(cloud, tok):
    private, public = ids(cloud, "networks")["private"], ids(cloud, "networks")["public"]
    status, body = call(cloud, tok, "POST", f"{NEUTRON}/networks", {"network": {"name": "n1"}})
    net = body["network"]["id"]
    sub = lambda **kw: call(cloud, tok, "POST", f"{NEUTRON}/subnets", {"subnet": {  # noqa: E731
        "network_id": net, "ip_version": 4, "cidr": "10.9.0.0/24", **kw}})
    assert sub(network_id=ZERO)[0] == 404
    assert sub(cidr="10.9.0.300/24")[1]["NeutronError"]["message"] == \
        "Invalid input for cidr. Reason: '10.9.0.300/24' is not a valid IP subnet."
    assert sub(ip_version=6)[0] == 400
    assert sub(gateway_ip="10.9.0.0")[1]["NeutronError"]["message"] == \
        "Invalid input for operation: Gateway is not valid on subnet."
    assert sub(allocation_pools=[{"start": "10.9.0.10", "end": "10.9.1.5"}])[1]["NeutronError"]["type"] == \
        "OutOfBoundsAllocationPool"
    status, body = sub(gateway_ip="10.9.0.254", dns_nameservers=["1.1.1.1"],
                       allocation_pools=[{"start": "10.9.0.10", "end": "10.9.0.20"}])
    assert status == 201 and body["subnet"]["allocation_pools"] == [{"start": "10.9.0.10", "end": "10.9.0.20"}]
    subnet = body["subnet"]["id"]
    status, body = sub(cidr="10.9.0.128/25")
    assert (status, body["NeutronError"]["message"]) == (400, "Invalid input for operation: Requested subnet with "
                                                         f"cidr: 10.9.0.128/25 for network: {net} overlaps with "
                                                         "another subnet.")
    assert call(cloud, tok, "POST", f"{NEUTRON}/ports", {"port": {"name": "p"}})[0] == 400
    port = call(cloud, tok, "POST", f"{NEUTRON}/ports", {"port": {"network_id": net}})[1]["port"]
    assert port["fixed_ips"][0]["subnet_id"] == subnet
    assert call(cloud, tok, "DELETE", f"{NEUTRON}/subnets/{subnet}")[1]["NeutronError"]["type"] == "SubnetInUse"
    assert call(cloud, tok, "DELETE", f"{NEUTRON}/networks/{net}")[1]["NeutronError"]["type"] == "NetworkInUse"
    assert call(cloud, tok, "DELETE", f"{NEUTRON}/ports/{port['id']}")[0] == 204
    assert call(cloud, tok, "PUT", f"{NEUTRON}/networks/{net}", {"network": {"admin_state_up": False}})[1][
        "network"]["admin_state_up"] is False
    assert call(cloud, tok, "PUT", f"{NEUTRON}/networks/{net}", {"network": {"id": "x"}})[0] == 400
    assert call(cloud, tok, "DELETE", f"{NEUTRON}/networks/{net}")[0] == 204      # takes its subnet along
    assert call(cloud, tok, "GET", f"{NEUTRON}/subnets/{subnet}")[0] == 404

    bad = call(cloud, tok, "POST", f"{NEUTRON}/routers", {"router": {"external_gateway_info": {"network_id": private}}})
    assert bad[0] == 400 and "is not an external network" in bad[1]["NeutronError"]["message"]
    router = call(cloud, tok, "POST", f"{NEUTRON}/routers", {"router": {
        "name": "r", "external_gateway_info": {"network_id": public}}})[1]["router"]
    assert router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    assert call(cloud, tok, "POST", f"{NEUTRON}/floatingips", {"floatingip": {"floating_network_id": private}})[0] \
        == 400
    fip = call(cloud, tok, "POST", f"{NEUTRON}/floatingips", {"floatingip": {"floating_network_id": public}})
    assert fip[0] == 201 and fip[1]["floatingip"]["status"] == "DOWN"
    assert call(cloud, tok, "GET", f"{NEUTRON}/floatingips")[1]["floatingips"][0]["id"] == fip[1]["floatingip"]["id"]
    sg = call(cloud, tok, "POST", f"{NEUTRON}/security-groups", {"security_group": {"name": "web"}})[1]
    assert call(cloud, tok, "DELETE", f"{NEUTRON}/security-groups/{sg['security_group']['id']}")[0] == 204
    cloud.quota(**{"networks": 1})
    assert call(cloud, tok, "POST", f"{NEUTRON}/networks", {"network": {"name": "n2"}}) == (409, {"NeutronError": {
        "type": "OverQuota", "message": "Quota exceeded for resources: ['network'].", "detail": ""}})


def raw_put(cloud, tok, path, chunks, close_early=False):
    """PUT with chunked transfer encoding over a raw socket; -> status line or None (connection cut)."""
    sock = socket.create_connection(("127.0.0.1", cloud.port), timeout=10)
    sock.sendall((f"PUT {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {tok}\r\nContent-Type: "
                  "application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
    try:
        for chunk in chunks:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if close_early:
            sock.close()
            return None
        sock.sendall(b"0\r\n\r\n")
        answer = sock.recv(4096)
        return answer.split(b"\r\n")[0].decode() if answer else None
    except OSError:
        return None
    finally:
        sock.close()


def test_glance_upload_faults(cloud, tok):
    def new_image(**kw):
        return call(cloud, tok, "POST", "/image/v2/images", {"name": "up", "disk_format": "raw",
                                                               "container_format": "bare", **kw})[1]["id"]
    assert call(cloud, tok, "POST", "/image/v2/images", {"name": "x", "disk_format": "floppy"})[0] == 400
    chunks = [os.urandom(65536) for _ in range(32)]                       # 2 MiB
    iid = new_image()
    assert raw_put(cloud, tok, f"/image/v2/images/{iid}/file", chunks) == "HTTP/1.1 204 No Content"
    img = call(cloud, tok, "GET", f"/image/v2/images/{iid}")[1]
    assert (img["status"], img["checksum"]) == ("active", hashlib.md5(b"".join(chunks)).hexdigest())
    assert call(cloud, tok, "PUT", f"/image/v2/images/{iid}/file", b"again")[0] == 409

    for fault in ({"drop_after_bytes": 1 << 20}, {"status": 500, "after_bytes": 1 << 20}):
        iid = new_image()
        cloud._control("POST", "faults", {"method": "PUT", "path": "/image/v2/images/", **fault})
        answer = raw_put(cloud, tok, f"/image/v2/images/{iid}/file", chunks)
        assert answer in (None, "HTTP/1.1 500 Internal Server Error"), answer
        img = call(cloud, tok, "GET", f"/image/v2/images/{iid}")[1]
        assert (img["status"], img["size"]) == ("queued", None)
        assert call(cloud, tok, "DELETE", f"/image/v2/images/{iid}")[0] == 204

    iid = new_image()                                                     # client gives up mid-way
    assert raw_put(cloud, tok, f"/image/v2/images/{iid}/file", chunks[:4], close_early=True) is None
    time.sleep(0.2)
    assert call(cloud, tok, "GET", f"/image/v2/images/{iid}")[1]["status"] == "queued"
    assert cloud.requests(method="PUT")[-1]["status"] is None

    iid = new_image()
    cloud._control("POST", "faults", {"method": "PUT", "path": "/image/v2/images/", "corrupt": True})
    assert raw_put(cloud, tok, f"/image/v2/images/{iid}/file", chunks) == "HTTP/1.1 204 No Content"
    img = call(cloud, tok, "GET", f"/image/v2/images/{iid}")[1]
    assert img["status"] == "active" and img["checksum"] != hashlib.md5(b"".join(chunks)).hexdigest()
    assert img["size"] == 2 << 20


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def same_shape(fake_doc, real_doc, where):
    """Equal key sets, recursively (lists by their first element); NeutronError texts equal
    once ids and addresses are masked."""
    if isinstance(real_doc, dict):
        assert isinstance(fake_doc, dict) and set(fake_doc) == set(real_doc), \
            (where, sorted(set(fake_doc) ^ set(real_doc)) if isinstance(fake_doc, dict) else fake_doc)
        if "NeutronError" in real_doc:
            mask = lambda t: re.sub(r"\d+\.\d+\.\d+\.\d+(/\d+)?", "<ip>", UUID_RE.sub("<id>", t))  # noqa: E731
            f, r = fake_doc["NeutronError"], real_doc["NeutronError"]
            assert (f["type"], mask(f["message"])) == (r["type"], mask(r["message"])), where
            return
        for k in real_doc:
            if k not in ("port_details",) or (fake_doc[k] and real_doc[k]):
                same_shape(fake_doc[k], real_doc[k], f"{where}.{k}")
    elif isinstance(real_doc, list) and real_doc and fake_doc:
        same_shape(fake_doc[0], real_doc[0], f"{where}[0]")


def test_networking_flows_match_devcloud(cloud, tok):
    """The fake answers the networking flows (router interfaces and gateway, security group
    rules, floating IP association) as devcloud's Neutron did in the captures (capture.py's
    capture_networking, same order)."""
    def call(method, path, body=None):
        status, _, data = cloud.request(method, "/network" + path, body=body, token=tok)
        return status, (json.loads(data) if data else None)

    def check(name, method, path, body=None):
        status, doc = call(method, path, body)
        real_status = int(open(os.path.join(FIXTURES, name + ".headers")).readline().split()[1])
        assert status == real_status, (name, status, doc)
        if os.path.exists(os.path.join(FIXTURES, name + ".json")):
            same_shape(doc, fixture(name + ".json"), name)
        return doc

    ext = call("GET", "/v2.0/networks?router:external=true")[1]["networks"][0]["id"]
    net = call("POST", "/v2.0/networks", {"network": {"name": "fx-net2"}})[1]["network"]
    sub = call("POST", "/v2.0/subnets", {"subnet": {"name": "fx-sub2", "network_id": net["id"],
                                                    "ip_version": 4, "cidr": "10.97.0.0/24"}})[1]["subnet"]
    router = call("POST", "/v2.0/routers", {"router": {"name": "fx-router"}})[1]["router"]
    r = f"/v2.0/routers/{router['id']}"
    check("neutron-router-add-interface", "PUT", r + "/add_router_interface", {"subnet_id": sub["id"]})
    check("neutron-router-add-interface-again", "PUT", r + "/add_router_interface", {"subnet_id": sub["id"]})
    check("neutron-router-add-interface-none", "PUT", r + "/add_router_interface", {})
    ports = check("neutron-router-ports", "GET", f"/v2.0/ports?device_id={router['id']}")["ports"]
    assert [(p["device_owner"], p["fixed_ips"][0]["ip_address"]) for p in ports] == \
        [("network:router_interface", "10.97.0.1")]
    gw = check("neutron-router-gateway-set", "PUT", r, {"router": {"external_gateway_info": {"network_id": ext}}})
    assert gw["router"]["external_gateway_info"]["external_fixed_ips"]
    check("neutron-router-gateway-internal", "PUT", r,
          {"router": {"external_gateway_info": {"network_id": net["id"]}}})
    port = call("POST", "/v2.0/ports", {"port": {"name": "fx-port", "network_id": net["id"]}})[1]["port"]
    fip = call("POST", "/v2.0/floatingips", {"floatingip": {"floating_network_id": ext}})[1]["floatingip"]
    f = f"/v2.0/floatingips/{fip['id']}"
    done = check("neutron-fip-associate", "PUT", f, {"floatingip": {"port_id": port["id"]}})["floatingip"]
    assert (done["port_id"], done["router_id"]) == (port["id"], router["id"])
    check("neutron-router-remove-interface-in-use", "PUT", r + "/remove_router_interface", {"subnet_id": sub["id"]})
    check("neutron-router-gateway-clear-in-use", "PUT", r, {"router": {"external_gateway_info": {}}})
    check("neutron-fip-disassociate", "PUT", f, {"floatingip": {"port_id": None}})
    cleared = check("neutron-router-gateway-clear", "PUT", r, {"router": {"external_gateway_info": {}}})
    assert cleared["router"]["external_gateway_info"] is None
    check("neutron-fip-unreachable", "PUT", f, {"floatingip": {"port_id": port["id"]}})
    check("neutron-router-remove-interface", "PUT", r + "/remove_router_interface", {"subnet_id": sub["id"]})
    check("neutron-router-remove-interface-missing", "PUT", r + "/remove_router_interface", {"subnet_id": sub["id"]})
    sg = call("POST", "/v2.0/security-groups", {"security_group": {"name": "fx-sg"}})[1]["security_group"]
    rule = {"security_group_rule": {"security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4",
                                    "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                                    "remote_ip_prefix": "0.0.0.0/0", "description": "ssh"}}
    rid = check("neutron-sg-rule-create", "POST", "/v2.0/security-group-rules", rule)["security_group_rule"]["id"]
    check("neutron-sg-rule-duplicate", "POST", "/v2.0/security-group-rules", rule)
    check("neutron-sg-rule-ethertype-conflict", "POST", "/v2.0/security-group-rules",
          {"security_group_rule": {"security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv6",
                                   "remote_ip_prefix": "0.0.0.0/0"}})
    rules = check("neutron-sg-rules", "GET", f"/v2.0/security-group-rules?security_group_id={sg['id']}")
    # a new group has egress rules only (IPv4 and IPv6), and now the ssh rule
    assert sorted((x["direction"], x["ethertype"]) for x in rules["security_group_rules"]) == \
        [("egress", "IPv4"), ("egress", "IPv6"), ("ingress", "IPv4")]
    shown = check("neutron-security-group-show", "GET", f"/v2.0/security-groups/{sg['id']}")
    assert rid in [x["id"] for x in shown["security_group"]["security_group_rules"]]
    check("neutron-sg-rule-delete", "DELETE", f"/v2.0/security-group-rules/{rid}")
    check("neutron-sg-rule-404", "GET", f"/v2.0/security-group-rules/{rid}")


OPS = "3f1d6a9c2b7e4c0d8a5f1e2b3c4d5e6f"


def test_auth_projects_and_quotas_match_fixtures(cloud, tok):
    """GET /v3/auth/projects and the three services' quota sets with usage have the captured
    shapes (keys and, for quotas, each key's {limit, in_use|used, reserved}); a member's PUT is
    refused with the captured body."""
    status, body = cloud.get_json("/identity/v3/auth/projects", tok)
    real = fixture("keystone-auth-projects.json")
    assert status == 200 and set(body) == set(real)
    assert all(set(p) == set(real["projects"][0]) for p in body["projects"])
    assert sorted(p["name"] for p in body["projects"]) == ["demo", "ops"]
    for path, name, wrap in [(f"/compute/v2.1/os-quota-sets/{PROJECT}/detail", "nova-quota-detail", "quota_set"),
                             (f"/volume/v3/{PROJECT}/os-quota-sets/{PROJECT}?usage=true", "cinder-quota-usage",
                              "quota_set"),
                             (f"/network/v2.0/quotas/{PROJECT}/details.json", "neutron-quota-details", "quota")]:
        status, body = cloud.get_json(path, tok)
        real = fixture(name + ".json")[wrap]
        assert status == 200 and set(body[wrap]) == set(real), name
        for key, v in real.items():
            if isinstance(v, dict):
                assert set(body[wrap][key]) == set(v), (name, key)
    for method, path, body, name in [
            ("PUT", f"/compute/v2.1/os-quota-sets/{PROJECT}", {"quota_set": {"cores": 40}},
             "nova-quota-update-forbidden"),
            ("PUT", f"/volume/v3/{PROJECT}/os-quota-sets/{PROJECT}", {"quota_set": {"gigabytes": 40}},
             "cinder-quota-update-forbidden"),
            ("PUT", f"/network/v2.0/quotas/{PROJECT}", {"quota": {"router": 40}},
             "neutron-quota-update-forbidden")]:
        status, _, got = cloud.request(method, path, body, token=tok)
        assert status == 403 and json.loads(got) == fixture(name + ".json"), name


def test_quota_limits_set_by_an_admin_are_enforced_per_project(cloud, tok):
    admin, _ = cloud.token("admin", "admin", "demo")   # admin is admin in demo too
    used = cloud.get_json(f"/compute/v2.1/os-quota-sets/{PROJECT}/detail", tok)[1]["quota_set"]["instances"]
    status, _, body = cloud.request("PUT", f"/compute/v2.1/os-quota-sets/{PROJECT}",
                                    {"quota_set": {"instances": used["in_use"]}}, token=admin)
    assert status == 200 and json.loads(body)["quota_set"]["instances"] == used["in_use"]
    image = by_name(cloud, tok, "cirros", "images")[0]["id"]
    net = by_name(cloud, tok, "private", "networks")[0]["id"]
    status, _, body = cloud.request("POST", "/compute/v2.1/servers", {"server": {
        "name": "over", "imageRef": image, "flavorRef": "42", "networks": [{"uuid": net}]}}, token=tok)
    assert status == 403 and "Quota exceeded for instances" in json.loads(body)["forbidden"]["message"]
    # another project is not limited by demo's quota
    ops, _ = cloud.token(project="ops")
    status, doc = cloud.get_json(f"/compute/v2.1/os-quota-sets/{OPS}/detail", ops)
    assert status == 200 and doc["quota_set"]["instances"]["limit"] == 10
    # a member cannot read another project's quotas
    assert cloud.request("GET", f"/compute/v2.1/os-quota-sets/{OPS}/detail", token=tok)[0] == 403


def test_volume_types_and_unified_limits_match_fixtures(cloud, tok):
    """Cinder's volume types and Keystone's unified limits have the captured shapes (keys of
    the listing, of a member and of a single GET); a project's token lists its own limits only;
    an unknown id is Keystone's 404 body."""
    status, body = cloud.get_json(f"/volume/v3/{PROJECT}/types", tok)
    real = fixture("cinder-types.json")
    assert status == 200 and set(body) == set(real)
    assert all(set(t) == set(real["volume_types"][0]) for t in body["volume_types"])
    tid = body["volume_types"][0]["id"]
    status, one = cloud.get_json(f"/volume/v3/{PROJECT}/types/{tid}", tok)
    assert status == 200 and set(one["volume_type"]) == set(fixture("cinder-type-show.json")["volume_type"])
    for coll, name in (("limits", "limit"), ("registered_limits", "registered-limit")):
        status, body = cloud.get_json(f"/identity/v3/{coll}", tok)
        real = fixture(f"keystone-{name}s.json")
        assert status == 200 and set(body) == set(real) and set(body["links"]) == set(real["links"])
        assert body[coll] and all(set(m) == set(real[coll][0]) for m in body[coll])
        status, one = cloud.get_json(f"/identity/v3/{coll}/{body[coll][0]['id']}", tok)
        key = coll[:-1]
        assert status == 200 and set(one[key]) == set(fixture(f"keystone-{name}-show.json")[key])
    status, body = cloud.get_json("/identity/v3/limits", tok)
    assert {m["project_id"] for m in body["limits"]} == {PROJECT}
    status, body = cloud.get_json(f"/identity/v3/limits/{'0' * 32}", tok)
    assert status == 404 and set(body["error"]) == {"code", "message", "title"}
