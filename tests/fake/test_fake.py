"""The fake OpenStack must look like the real one where cloudfs cares: shapes, errors, pagination.
Run: pytest-3 tests/fake -q"""

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

FIXTURES = os.environ.get("CLOUDFS_FIXTURES") or os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures", "openstack-zed"))
ZERO = "00000000-0000-0000-0000-000000000000"
REQ_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def fixture(name):
    path = os.path.join(FIXTURES, name)
    if not os.path.exists(path):
        pytest.skip(f"fixtures not found at {FIXTURES}")
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
    t0 = time.monotonic()
    with FakeCloud.start(tmp_path, servers=10000, seed="empty", quiet=True) as big:
        assert time.monotonic() - t0 < 8
        tok = big.token()[0]
        body = big.get_json("/compute/v2.1/servers/detail", tok)[1]
        assert len(body["servers"]) == 1000 and body["servers"][0]["name"] == "bulk-9999"
        assert "marker=" in body["servers_links"][0]["href"]
