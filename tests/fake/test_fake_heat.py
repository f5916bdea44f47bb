"""The fake's Heat (svc_heat.py) must answer like the real Heat 19 captured in
tests/fixtures/openstack-zed/heat-*: the same requests, the same statuses, the same content type and
the same JSON shapes (keys and value types, by tests/fixtures/compare.py). Run: pytest-3 tests/fake"""

import http.client
import json
import os
import sys
import time
import urllib.parse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from client import FakeCloud  # noqa: E402

import compare  # noqa: E402
from capture import HEAT_STACK, HEAT_TEMPLATE  # noqa: E402

FIXTURES = os.environ.get("CLOUDFS_FIXTURES") or os.path.normpath(os.path.join(HERE, "..", "fixtures",
                                                                                "openstack-zed"))
PROJECT = "7c808b28bded4680839ac3a2f00d8a87"
BASE = f"/orchestration/v1/{PROJECT}"
ZERO = "00000000-0000-0000-0000-000000000000"
# Differences between the real Heat and the fake that do not matter to cloudfs, each explained.
KNOWN = {
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    c = FakeCloud.start(tmp_path_factory.mktemp("fake"), build_seconds=0.3, delete_seconds=0.2, quiet=True)
    yield c
    c.stop()


def stored(name):
    return compare.load_set(FIXTURES)[name]


def as_capture(status, headers, body):
    kind, doc = "none", None
    if body:
        try:
            doc, kind = json.loads(body), "json"
        except ValueError:
            doc, kind = body.decode(), "body"
    return {"status": f"HTTP/1.1 {status} x", "headers": list(headers.items()), "kind": kind, "body": doc}


def check(name, got):
    want = stored(name)
    out, notes = [], []
    if want["status"].split()[1] != got["status"].split()[1]:
        out.append(f"status {want['status']} stored, {got['status']} fake")
    wc = compare.header_value(want, "content-type")
    gc = compare.header_value(got, "content-type")
    if want["kind"] == "json" and not (gc or "").startswith("application/json"):
        out.append(f"content-type {wc!r} stored, {gc!r} fake")
    if want["kind"] != got["kind"] and not (want["kind"] == "none" or got["kind"] == "none"):
        out.append(f"body {want['kind']} stored, {got['kind']} fake")
    elif want["kind"] == "json" and got["kind"] == "json":
        compare.diff_shapes(compare.shape(want["body"]), compare.shape(got["body"]), "$", out, notes)
    if name == "heat-stack-lookup" or name == "heat-stack-delete-lookup":
        if not compare.header_value(got, "location"):
            out.append("no Location")
    return [f"{name}: {d}" for d in out if f"{name}: {d}" not in KNOWN]


def test_heat_answers_like_the_captures(cloud):
    cloud.reset()
    tok = cloud.token()[0]
    diffs = []

    def call(name, method, path, body=None):
        # http.client: urllib would follow the 302s this test wants to see
        u = urllib.parse.urlsplit(cloud.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        hdrs = {"X-Auth-Token": tok}
        if body is not None:
            body, hdrs["Content-Type"] = json.dumps(body).encode(), "application/json"
        conn.request(method, path, body, hdrs)
        resp = conn.getresponse()
        status, headers, data = resp.status, dict(resp.getheaders()), resp.read()
        conn.close()
        diffs.extend(check(name, as_capture(status, headers, data)))
        return status, headers, data

    _, _, data = call("heat-stack-create", "POST", f"{BASE}/stacks",
                      {"stack_name": HEAT_STACK, "template": HEAT_TEMPLATE})
    sid = json.loads(data)["stack"]["id"]
    canon = f"{BASE}/stacks/{HEAT_STACK}/{sid}"
    time.sleep(0.5)
    call("heat-stacks", "GET", f"{BASE}/stacks")
    call("heat-stack-lookup", "GET", f"{BASE}/stacks/{sid}")
    call("heat-stack-show", "GET", canon)
    call("heat-stack-outputs", "GET", f"{canon}/outputs")
    call("heat-stack-resources", "GET", f"{canon}/resources")
    call("heat-stack-events", "GET", f"{canon}/events?sort_dir=asc")
    call("heat-stack-create-duplicate", "POST", f"{BASE}/stacks",
         {"stack_name": HEAT_STACK, "template": HEAT_TEMPLATE})
    call("heat-stack-create-invalid", "POST", f"{BASE}/stacks",
         {"stack_name": "fx-invalid", "template": HEAT_TEMPLATE.replace("OS::Heat::TestResource",
                                                                       "OS::Heat::Nothing")})
    call("heat-stack-create-unparsable", "POST", f"{BASE}/stacks",
         {"stack_name": "fx-invalid", "template": "just: [text\n"})
    call("heat-stack-patch", "PATCH", canon, {"parameters": {"value": "two"}})
    time.sleep(0.5)
    call("heat-stack-delete-lookup", "DELETE", f"{BASE}/stacks/{sid}")
    call("heat-stack-delete", "DELETE", canon)
    call("heat-stack-404", "GET", f"{BASE}/stacks/{HEAT_STACK}/{ZERO}")
    assert diffs == []


def test_heat_messages_are_heats(cloud):
    """The error texts cloudfs shows in .cloudfs/errors are the real ones."""
    cloud.reset()
    tok = cloud.token()[0]
    for name, body in [("heat-stack-create-invalid", {"stack_name": "x", "template": HEAT_TEMPLATE.replace(
            "OS::Heat::TestResource", "OS::Heat::Nothing")}),
            ("heat-stack-create-unparsable", {"stack_name": "x", "template": "just: [text\n"})]:
        _, _, data = cloud.request("POST", f"{BASE}/stacks", body, token=tok)
        real = stored(name)["body"]["error"]["message"]
        fake = json.loads(data)["error"]["message"]
        # the same sentence up to where the real one names YAML's own position details
        assert fake.split(":")[0] == real.split(":")[0], (fake, real)
