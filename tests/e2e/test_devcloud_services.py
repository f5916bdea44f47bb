"""devcloud itself: Heat (orchestration) and Swift (object-store) are in the
catalog and answer, checked with the openstack CLI as the demo user.  These
guard contrib/devcloud, so that CI notices when a service it offers breaks."""

import os

import pytest

from conftest import RUN, osc, wait_for

H = "http://127.0.0.1"
EXPECTED = {
    "orchestration": H + ":8004/v1/",
    "object-store": H + ":8080/v1/AUTH_",
}


@pytest.fixture(scope="module")
def catalog(demo_env):
    return {svc["Type"]: svc for svc in osc("catalog", "list", env=demo_env)}


@pytest.fixture(scope="module")
def project_id(demo_env):
    return osc("token", "issue", env=demo_env)["project_id"]


@pytest.mark.parametrize("stype", sorted(EXPECTED))
def test_catalog_has_public_internal_admin_endpoints(catalog, project_id, stype):
    assert stype in catalog, f"{stype} missing from the catalog: {sorted(catalog)}"
    eps = {ep["interface"]: ep for ep in catalog[stype]["Endpoints"]}
    assert sorted(eps) == ["admin", "internal", "public"]
    for ep in eps.values():
        # the catalog substitutes the project id of the token
        assert ep["url"] == EXPECTED[stype] + project_id
        assert ep["region"] == "RegionOne"


def test_stack_list_answers(demo_env):
    stacks = osc("stack", "list", env=demo_env)
    assert isinstance(stacks, list)


def test_stack_create_and_delete(demo_env, tmp_path):
    """A stack that needs no other service still goes through heat-api,
    heat-engine (RPC), the DB and a keystone trust for the stack owner."""
    tmpl = tmp_path / "random.yaml"
    tmpl.write_text("heat_template_version: 2018-08-31\n"
                    "resources:\n"
                    "  rnd:\n"
                    "    type: OS::Heat::RandomString\n"
                    "    properties: {length: 12}\n"
                    "outputs:\n"
                    "  value: {value: {get_attr: [rnd, value]}}\n")
    name = f"e2e-stack-{RUN}"
    # no --wait: it prints events before the JSON
    made = osc("stack", "create", "-t", str(tmpl), name, env=demo_env)
    try:
        def settled():
            st = osc("stack", "show", made["id"], env=demo_env)["stack_status"]
            return None if st.endswith("_IN_PROGRESS") else st

        assert wait_for(settled) == "CREATE_COMPLETE"
        out = osc("stack", "output", "show", name, "value", env=demo_env)
        assert len(out["output_value"]) == 12
        assert name in [s["Stack Name"] for s in osc("stack", "list", env=demo_env)]
    finally:
        osc("stack", "delete", "--yes", "--wait", name, env=demo_env, parse=False)
    assert name not in [s["Stack Name"] for s in osc("stack", "list", env=demo_env)]


def test_container_and_object_round_trip(demo_env, tmp_path):
    cont = f"e2e-cont-{RUN}"
    src = tmp_path / "obj.bin"
    src.write_bytes(os.urandom(70000))
    made = osc("container", "create", cont, env=demo_env)
    assert made[0]["container"] == cont
    try:
        assert cont in [c["Name"] for c in osc("container", "list", env=demo_env)]
        obj = osc("object", "create", "--name", "obj.bin", cont, str(src), env=demo_env)
        assert obj[0]["object"] == "obj.bin"
        listed = osc("object", "list", "--long", cont, env=demo_env)
        assert [(o["Name"], o["Bytes"]) for o in listed] == [("obj.bin", 70000)]
        dst = tmp_path / "back.bin"
        osc("object", "save", "--file", str(dst), cont, "obj.bin", env=demo_env, parse=False)
        assert dst.read_bytes() == src.read_bytes()
        osc("object", "delete", cont, "obj.bin", env=demo_env, parse=False)
        assert osc("object", "list", cont, env=demo_env) == []
    finally:
        osc("container", "delete", "--recursive", cont, env=demo_env, parse=False,
            check=False)
    assert cont not in [c["Name"] for c in osc("container", "list", env=demo_env)]
