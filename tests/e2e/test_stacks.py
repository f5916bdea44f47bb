"""Heat stacks through the mount on a real Heat (docs/SEMANTICS.md, "Stacks"): the seed lecture's
flow (seed 002:213-345) -- a template with one server on a network given as a parameter and its
name and address as outputs -- created with cp/jq through the mount, followed to CREATE_COMPLETE,
read back, updated and deleted, every step cross-checked with `openstack stack ...`
(python3-heatclient). The tests run in file order and share one stack; whatever is left is deleted
with the CLI by the module's fixture."""

import errno
import json
import os
import subprocess
import time

import pytest

from conftest import RUN, openrc_env, osc, wait_for
from mountutil import Mount, read, sh, start_cloudfs

NAME = f"e2e-stk-{RUN}"
BAD = f"e2e-stkbad-{RUN}"
FAIL = f"e2e-stkfail-{RUN}"
DUP = f"e2e-stkdup-{RUN}"
ENV = f"e2e-stkenv-{RUN}"
TINY, NANO = "devcloud-tiny", "m1.nano"

# The seed's demo template, with devcloud's image and flavor as the defaults of two more parameters.
TEMPLATE = f"""\
heat_template_version: 2015-04-30
# seed 002:213-264, the lecture's demo-template.yml
description: Simple template to deploy a single compute instance

parameters:
  NetID:
    type: string
    description: Network ID to use for the instance.
  Image:
    type: string
    default: {TINY}
  Flavor:
    type: string
    default: {NANO}
  ServerName:
    type: string
    default: {NAME}-server

resources:
  server:
    type: OS::Nova::Server
    properties:
      name: {{ get_param: ServerName }}
      image: {{ get_param: Image }}
      flavor: {{ get_param: Flavor }}
      networks:
        - network: {{ get_param: NetID }}

outputs:
  instance_name:
    description: Name of the instance.
    value: {{ get_attr: [server, name] }}
  instance_ip:
    description: IP address of the instance.
    value: {{ get_attr: [server, first_address] }}
"""

FAILING = """\
heat_template_version: 2015-04-30
resources:
  broken:
    type: OS::Heat::TestResource
    properties:
      fail: true
"""


@pytest.fixture(scope="module")
def env():
    return openrc_env()


@pytest.fixture(scope="module")
def world(env):
    """Deletes every stack this module made, whatever happened."""
    yield
    for name in (NAME, BAD, FAIL, DUP, ENV):
        res = osc("stack", "delete", "--yes", "--wait", name, env=env, parse=False, check=False)
        said = (res.stdout or "") + (res.stderr or "")
        assert res.returncode == 0 or "could not be found" in said, said


@pytest.fixture(scope="module")
def mnt(tmp_path_factory, env, world):
    path = str(tmp_path_factory.mktemp("e2e-stacks") / "mnt")
    proc, log = start_cloudfs(path, env, ["-o", "cache_ttl=1,negative_ttl=1"], timeout=30)
    m = Mount(path, proc, log)
    yield m
    m.unmount()


def stack_show(env, name):
    return osc("stack", "show", name, env=env)


def settle(m, name, timeout=300):
    """Re-reads stack_status through the mount until it is no longer *_IN_PROGRESS."""
    def done():
        st = read(m.p("stacks", name, "stack_status")).strip()
        return st if not st.endswith("_IN_PROGRESS") else None
    return wait_for(done, timeout=timeout, every=1.0)


def test_jq_spec_with_parameters_creates_the_seed_stack(mnt, env, tmp_path):
    net = osc("network", "show", "private", env=env)["id"]
    (tmp_path / "demo-template.yml").write_text(TEMPLATE)
    r = sh(f"jq -n --rawfile t {tmp_path / 'demo-template.yml'} --arg n {net} "
           f"'{{template: $t, parameters: {{NetID: $n}}}}' > {mnt.p('stacks', NAME)}")
    assert r.returncode == 0, r.stderr
    shown = stack_show(env, NAME)
    assert os.readlink(mnt.p("stacks", NAME)) == shown["id"]
    assert shown["parameters"]["NetID"] == net
    # Heat got the template as written: its own copy keeps the description
    assert osc("stack", "template", "show", NAME, env=env)["description"] == \
        "Simple template to deploy a single compute instance"


def test_wait_until_create_complete(mnt, env):
    first = read(mnt.p("stacks", NAME, "stack_status")).strip()
    assert first in ("CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    r = sh(f"timeout 300 cat {mnt.p('stacks', NAME, 'wait')}")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "CREATE_COMPLETE\n"
    assert read(mnt.p("stacks", NAME, "stack_status")) == "CREATE_COMPLETE\n"
    assert stack_show(env, NAME)["stack_status"] == "CREATE_COMPLETE"
    r = sh(f"ls -l {mnt.p('stacks')}/ && cat {mnt.p('stacks')}/*/stack_status")
    assert r.returncode == 0, r.stderr
    listed = osc("stack", "list", env=env)
    assert r.stdout.count("CREATE_COMPLETE") >= sum(s["Stack Status"] == "CREATE_COMPLETE" for s in listed)


def test_outputs_match_the_cli(mnt, env):
    cli = osc("stack", "output", "show", "--all", NAME, env=env)
    outs = {k: json.loads(v)["output_value"] for k, v in cli.items()}
    assert sorted(os.listdir(mnt.p("stacks", NAME, "outputs"))) == sorted(outs)
    for key, value in outs.items():
        assert read(mnt.p("stacks", NAME, "outputs", key)) == f"{value}\n"
    assert outs["instance_name"] == f"{NAME}-server"
    assert osc("server", "show", outs["instance_name"], env=env)["status"] == "ACTIVE"


def test_resources_link_to_their_servers(mnt, env):
    cli = osc("stack", "resource", "list", NAME, env=env)
    assert [(r["resource_name"], r["resource_type"]) for r in cli] == [("server", "OS::Nova::Server")]
    sid = cli[0]["physical_resource_id"]
    assert os.listdir(mnt.p("stacks", NAME, "resources")) == ["server"]
    assert os.readlink(mnt.p("stacks", NAME, "resources", "server", "physical")) == f"../../../../servers/{sid}"
    r = sh(f"cat {mnt.p('stacks', NAME)}/resources/*/physical/status")
    assert r.returncode == 0, r.stderr
    assert r.stdout == osc("server", "show", sid, env=env)["status"] + "\n"
    assert read(mnt.p("stacks", NAME, "resources", "server", "resource_status")) == \
        cli[0]["resource_status"] + "\n"


def test_events_one_line_each(mnt, env):
    cli = osc("stack", "event", "list", NAME, env=env)
    lines = read(mnt.p("stacks", NAME, "events")).splitlines()
    assert [ln.split(" ", 3)[1:3] for ln in lines] == [[e["resource_name"], e["resource_status"]] for e in cli]


def test_parameters_from_the_show(mnt, env):
    shown = stack_show(env, NAME)
    assert read(mnt.p("stacks", NAME, "parameters", "NetID")) == shown["parameters"]["NetID"] + "\n"
    assert read(mnt.p("stacks", NAME, "parameters", "Flavor")) == NANO + "\n"


def test_echo_parameter_updates_and_keeps_the_others(mnt, env):
    before = stack_show(env, NAME)["parameters"]
    r = sh(f"echo {NAME}-renamed > {mnt.p('stacks', NAME, 'parameters', 'ServerName')}")
    assert r.returncode == 0, r.stderr
    assert settle(mnt, NAME) == "UPDATE_COMPLETE"
    after = stack_show(env, NAME)
    assert after["stack_status"] == "UPDATE_COMPLETE"
    assert after["parameters"]["ServerName"] == f"{NAME}-renamed"
    assert after["parameters"]["NetID"] == before["NetID"]
    sid = osc("stack", "resource", "list", NAME, env=env)[0]["physical_resource_id"]
    assert osc("server", "show", sid, env=env)["name"] == f"{NAME}-renamed"
    assert read(mnt.p("stacks", NAME, "outputs", "instance_name")) == f"{NAME}-renamed\n"


def test_validation_error_fails_cp_with_heats_message(mnt, env, tmp_path):
    bad = TEMPLATE.replace("OS::Nova::Server", "OS::Nova::Srvr")
    (tmp_path / "bad.yml").write_text(bad)
    r = sh(f"cp {tmp_path / 'bad.yml'} {mnt.p('stacks', BAD)}")
    assert r.returncode != 0 and "Invalid argument" in r.stderr
    errors = read(mnt.p(".cloudfs", "errors"))
    # what `openstack stack create` prints for the same template
    cli = osc("stack", "create", "-t", str(tmp_path / "bad.yml"), "--parameter", "NetID=private", BAD,
              env=env, parse=False, check=False)
    assert cli.returncode != 0
    assert "OS::Nova::Srvr" in errors and "could not be found" in errors
    assert "HTTP 400" in errors
    assert "OS::Nova::Srvr" in cli.stderr
    assert not os.path.lexists(mnt.p("stacks", BAD))


def test_duplicate_name_is_eexist(env, tmp_path):
    """A name Heat has but the mount's listing does not know yet: Heat's 409 is EEXIST. (A name the
    mount knows is a directory: cp copies into it, and `> name` is EISDIR.)"""
    (tmp_path / "t.yml").write_text(FAILING.replace("fail: true", "fail: false"))
    path = str(tmp_path / "mnt2")
    proc, log = start_cloudfs(path, env, ["-o", "cache_ttl=60,negative_ttl=60"], timeout=30)
    m = Mount(path, proc, log)
    try:
        assert DUP not in os.listdir(m.p("stacks"))       # the listing is now cached for 60 s
        osc("stack", "create", "-t", str(tmp_path / "t.yml"), DUP, env=env)
        r = sh(f"cp {tmp_path / 't.yml'} {m.p('stacks', DUP)}")
        assert r.returncode != 0
        assert "File exists" in r.stderr
        assert f"The Stack ({DUP}) already exists." in read(m.p(".cloudfs", "errors"))
    finally:
        m.unmount()


def test_failed_create_reason(mnt, env, tmp_path):
    (tmp_path / "f.yml").write_text(FAILING)
    r = sh(f"cp {tmp_path / 'f.yml'} {mnt.p('stacks', FAIL)} && timeout 300 cat {mnt.p('stacks', FAIL, 'wait')}")
    assert r.returncode != 0 and "Remote I/O error" in r.stderr
    assert read(mnt.p("stacks", FAIL, "stack_status")) == "CREATE_FAILED\n"
    reason = read(mnt.p("stacks", FAIL, "stack_status_reason")).strip()
    assert reason == stack_show(env, FAIL)["stack_status_reason"]
    assert "Test Resource failed broken" in reason


VALUE_TEMPLATE = """\
heat_template_version: 2015-04-30
parameters:
  value: {type: string, default: one}
resources:
  thing:
    type: OS::Heat::TestResource
    properties: {value: {get_param: value}}
outputs:
  v: {value: {get_attr: [thing, output]}}
"""


def test_environment_document_then_template_update(mnt, env, tmp_path):
    (tmp_path / "t.yml").write_text(VALUE_TEMPLATE)
    r = sh(f"printf -- '---\\nparameters: {{value: from-env}}\\n' | cat {tmp_path / 't.yml'} - "
           f"> {mnt.p('stacks', ENV)}")
    assert r.returncode == 0, r.stderr
    assert settle(mnt, ENV) == "CREATE_COMPLETE"
    assert stack_show(env, ENV)["parameters"]["value"] == "from-env"
    assert read(mnt.p("stacks", ENV, "outputs", "v")) == "from-env\n"
    # a new template over the stack's template file: a PATCH, the parameter kept
    newer = VALUE_TEMPLATE + "  w: {value: second}\n"
    (tmp_path / "t2.yml").write_text(newer)
    r = sh(f"cp {tmp_path / 't2.yml'} {mnt.p('stacks', ENV, 'template')}")
    assert r.returncode == 0, r.stderr
    assert settle(mnt, ENV) == "UPDATE_COMPLETE"
    cli = osc("stack", "output", "show", "--all", ENV, env=env)
    assert {k: json.loads(v)["output_value"] for k, v in cli.items()} == {"v": "from-env", "w": "second"}
    assert json.loads(read(mnt.p("stacks", ENV, "template")))["outputs"]["w"] == {"value": "second"}
    assert sh(f"rmdir {mnt.p('stacks', stack_show(env, ENV)['id'])}").returncode == 0


def test_rmdir_deletes_the_stack_and_its_server(mnt, env):
    shown = stack_show(env, NAME)
    server = [r for r in osc("stack", "resource", "list", NAME, env=env)][0]["physical_resource_id"]
    r = sh(f"rmdir {mnt.p('stacks', shown['id'])}")
    assert r.returncode == 0, r.stderr
    gone = wait_for(lambda: shown["id"] not in os.listdir(mnt.p("stacks")), timeout=300, every=1.0)
    assert gone
    assert NAME not in [s["Stack Name"] for s in osc("stack", "list", env=env)]
    assert server not in [s["ID"] for s in osc("server", "list", env=env)]
    fid = stack_show(env, FAIL)["id"]
    assert sh(f"rmdir {mnt.p('stacks', fid)}").returncode == 0
    assert wait_for(lambda: fid not in os.listdir(mnt.p("stacks")), timeout=300, every=1.0)
