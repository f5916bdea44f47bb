"""The fake's Swift (svc_swift.py) answers as the captured Swift 2.30 does
(tests/fixtures/openstack-zed/swift-*): the same listing entries, error pages, SLO and bulk-delete
answers and headers."""

import hashlib
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import FakeCloud  # noqa: E402

FIXTURES = os.environ.get("CLOUDFS_FIXTURES") or os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "openstack-zed"))


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return json.load(f) if name.endswith(".json") else f.read()


def header_names(name):
    lines = fixture(name + ".headers").decode().split("\n")[1:]
    return {ln.split(":", 1)[0].lower() for ln in lines if ":" in ln}


@pytest.fixture(scope="module")
def swift(tmp_path_factory):
    c = FakeCloud.start(tmp_path_factory.mktemp("fake"), quiet=True)
    tok, body = c.token()
    ep = [e["url"] for s in body["token"]["catalog"] if s["type"] == "object-store"
          for e in s["endpoints"] if e["interface"] == "public"][0]

    def call(method, path="", body=None, headers=None):
        return c.request(method, ep + path, body, token=tok, headers=headers)
    call.cloud = c
    yield call
    c.stop()


def test_listings_and_pages_match(swift):
    small = b"hello swift\n"
    assert swift("PUT", "/fx-swift", b"")[0] == 201
    assert swift("PUT", "/fx-swift", b"")[0] == 202
    st, h, _ = swift("PUT", "/fx-swift/a/b.txt", small, {"ETag": hashlib.md5(small).hexdigest(),
                                                          "Content-Type": "text/plain"})
    assert st == 201 and h["Etag"] == hashlib.md5(small).hexdigest()
    assert swift("PUT", "/fx-swift/a/", b"", {"Content-Type": "application/directory"})[0] == 201
    swift("PUT", "/fx-swift/top.txt", b"top\n", {"Content-Type": "text/plain"})
    st, _, body = swift("PUT", "/fx-swift/a/bad.txt", small, {"ETag": "0" * 32})
    assert (st, body) == (422, fixture("swift-object-put-422.body"))
    for query, name in (("format=json&delimiter=/", "swift-listing-delimiter"),
                        ("format=json&delimiter=/&prefix=a/", "swift-listing-prefix"),
                        ("format=json&delimiter=/&marker=top.txt", "swift-listing-marker-end")):
        st, h, body = swift("GET", "/fx-swift?" + query)
        got, real = json.loads(body), fixture(name + ".json")
        assert st == 200 and [sorted(e) for e in got] == [sorted(e) for e in real], name
        assert [e.get("name", e.get("subdir")) for e in got] == \
            [e.get("name", e.get("subdir")) for e in real]
    st, _, body = swift("GET", "?format=json&prefix=fx-swift")
    assert [sorted(e) for e in json.loads(body)] == [sorted(e) for e in fixture("swift-account-listing.json")]
    st, h, _ = swift("HEAD", "/fx-swift")
    assert st == 204 and header_names("swift-container-head") - {"vary", "date"} <= {k.lower() for k in h}
    st, h, _ = swift("HEAD", "/fx-swift/a/b.txt")
    assert st == 200 and header_names("swift-object-head") - {"date"} <= {k.lower() for k in h}
    st, h, body = swift("GET", "/fx-swift/a/b.txt", headers={"Range": "bytes=6-"})
    assert (st, body) == (206, fixture("swift-object-get-range.body"))
    assert swift("GET", "/fx-swift/nope")[::2] == (404, fixture("swift-object-404.body"))
    assert swift("DELETE", "/fx-swift")[::2] == (409, fixture("swift-container-delete-409.body"))


def test_slo_and_bulk(swift):
    upload = bytes(range(256)) * 4096
    parts = [upload[:600000], upload[600000:]]
    swift("PUT", "/fx-swift", b"")
    swift("PUT", "/fx-swift_segments", b"")
    for i, p in enumerate(parts):
        swift("PUT", f"/fx-swift_segments/big/slo/fx/{i:08d}", p)
    manifest = [{"path": f"/fx-swift_segments/big/slo/fx/{i:08d}", "etag": hashlib.md5(p).hexdigest(),
                 "size_bytes": len(p)} for i, p in enumerate(parts)]
    bad = [dict(manifest[0]), dict(manifest[1], etag="0" * 32)]
    st, _, body = swift("PUT", "/fx-swift/big?multipart-manifest=put", json.dumps(bad).encode())
    assert (st, body) == (400, fixture("swift-slo-put-bad-etag.body"))
    st, h, _ = swift("PUT", "/fx-swift/big?multipart-manifest=put", json.dumps(manifest).encode())
    real = fixture("swift-slo-put.headers").decode()
    assert st == 201 and f"Etag: {h['Etag']}" in real      # the same parts, the same SLO ETag
    st, _, body = swift("GET", "/fx-swift/big?multipart-manifest=get")
    got, want = json.loads(body), fixture("swift-slo-manifest-get.json")
    assert [sorted(e) for e in got] == [sorted(e) for e in want]
    assert [(e["name"], e["bytes"], e["hash"]) for e in got] == [(e["name"], e["bytes"], e["hash"]) for e in want]
    st, _, body = swift("GET", "/fx-swift?format=json&prefix=big")
    got, want = json.loads(body), fixture("swift-listing-slo.json")
    assert sorted(got[0]) == sorted(want[0]) and got[0]["bytes"] == want[0]["bytes"]
    assert got[0]["slo_etag"] == want[0]["slo_etag"]
    st, _, body = swift("DELETE", "/fx-swift/big?multipart-manifest=delete",
                        headers={"Accept": "application/json"})
    assert st == 200 and sorted(json.loads(body)) == sorted(fixture("swift-slo-delete.json"))
    swift("PUT", "/fx-swift/top.txt", b"top\n")
    st, _, body = swift("DELETE", "/fx-swift/top.txt?multipart-manifest=delete",
                        headers={"Accept": "application/json"})
    assert st == 200 and json.loads(body) == fixture("swift-plain-multipart-delete.json")
    swift("PUT", "/fx-swift/a/b.txt", b"x")
    swift("PUT", "/fx-swift/a/", b"")
    swift("PUT", "/fx-swift/top.txt", b"top\n")
    st, _, body = swift("POST", "?bulk-delete", b"/fx-swift/a/b.txt\n/fx-swift/a/\n/fx-swift/top.txt\n",
                        {"Accept": "application/json", "Content-Type": "text/plain"})
    assert st == 200 and json.loads(body) == fixture("swift-bulk-delete.json")
