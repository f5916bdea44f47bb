"""Heat stacks through the tree (docs/SEMANTICS.md, "Stacks"): cp a template to create, the status
walking CREATE_IN_PROGRESS -> CREATE_COMPLETE, outputs and parameters from the stack's GET, the 302
Heat answers for /stacks/<id>, Heat's validation message on close(2), a duplicate name, delete.
Each test checks what a user sees (exit status, message, files) and what the fake Heat was sent."""

import errno
import json
import os

import pytest

from mountutil import poll, read, sh

PROJECT = "7c808b28bded4680839ac3a2f00d8a87"
HEAT = f"/orchestration/v1/{PROJECT}"

# The seed lecture's template (seed 002:213-264): one server on a network given as a parameter,
# its name and address as outputs. Comments and key order must reach Heat as written.
TEMPLATE = """\
heat_template_version: 2015-04-30
# the seed's demo template
description: Simple template to deploy a single compute instance

parameters:
  NetID:
    type: string
    description: Network ID to use for the instance.
    default: private

resources:
  server:
    type: OS::Nova::Server
    properties:
      image: cirros
      flavor: m1.tiny
      networks:
        - network: { get_param: NetID }

outputs:
  instance_name:
    description: Name of the instance.
    value: { get_attr: [server, name] }
  instance_ip:
    description: IP address of the instance.
    value: { get_attr: [server, first_address] }
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
def cloud_opts():
    return {"build_seconds": 0.8, "delete_seconds": 0.3}


def posts(fake):
    return [r for r in fake.requests(service="orchestration", method="POST") if r["path"] == HEAT + "/stacks"]


def stack_id(m, name):
    return os.readlink(m.p("stacks", name))


def settle(m, name, timeout=10):
    """Waits (as a user would, re-reading stack_status) until the stack is no longer in progress."""
    def done():
        st = read(m.p("stacks", name, "stack_status")).strip()
        return st if not st.endswith("_IN_PROGRESS") else None
    return poll(done, timeout=timeout, interval=0.2)


def test_cp_template_creates_stack_with_text_as_written(fake, mnt, tmp_path):
    t = tmp_path / "demo-template.yml"
    t.write_text(TEMPLATE)
    r = sh(f"cp {t} {mnt.p('stacks', 'web')}")
    assert r.returncode == 0, r.stderr
    sent = posts(fake)
    assert len(sent) == 1
    body = sent[0]["body"]
    # the file's bytes, as the user wrote them (comments, order, final newline): never re-serialised
    assert body == {"stack_name": "web", "template": TEMPLATE}
    assert os.path.islink(mnt.p("stacks", "web"))
    sid = stack_id(mnt, "web")
    assert sid in os.listdir(mnt.p("stacks"))
    first = read(mnt.p("stacks", "web", "stack_status")).strip()
    assert first in ("CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    assert read(mnt.p("stacks", "web", "stack_status_reason")) == "Stack CREATE completed successfully\n"


def test_json_spec_with_parameters(fake, mnt, tmp_path):
    t = tmp_path / "demo-template.yml"
    t.write_text(TEMPLATE)
    net = [n for n in fake.state()["networks"] if n["name"] == "private"][0]["id"]
    r = sh(f"jq -n --rawfile t {t} --arg n {net} '{{template: $t, parameters: {{NetID: $n}}}}'"
           f" > {mnt.p('stacks', 'web')}")
    assert r.returncode == 0, r.stderr
    body = posts(fake)[0]["body"]
    assert body == {"stack_name": "web", "template": TEMPLATE, "parameters": {"NetID": net}}
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    # parameters come from the stack's GET (the listing has none)
    assert read(mnt.p("stacks", "web", "parameters", "NetID")) == net + "\n"


def test_second_yaml_document_is_the_environment(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    # one writer (a `{ cat; printf; } >` group would commit at cat's close, and printf gets EEXIST)
    r = sh(f"printf -- '---\\nparameters: {{NetID: public}}\\n' | cat {tmp_path / 't.yml'} - "
           f"> {mnt.p('stacks', 'web')}")
    assert r.returncode == 0, r.stderr
    body = posts(fake)[0]["body"]
    assert body == {"stack_name": "web", "template": TEMPLATE, "environment": "parameters: {NetID: public}\n"}
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    assert read(mnt.p("stacks", "web", "parameters", "NetID")) == "public\n"


def test_json_template_is_sent_as_text(fake, mnt, tmp_path):
    tmpl = '{"heat_template_version": "2015-04-30",\n "resources": {"r": {"type": "OS::Heat::None"}}}\n'
    (tmp_path / "t.json").write_text(tmpl)
    r = sh(f"cp {tmp_path / 't.json'} {mnt.p('stacks', 'js')}")
    assert r.returncode == 0, r.stderr
    assert posts(fake)[0]["body"] == {"stack_name": "js", "template": tmpl}


def test_outputs_come_from_one_show(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    sid = stack_id(mnt, "web")
    srv = [s for s in fake.state()["servers"] if s["name"].startswith("web-server-")]
    assert len(srv) == 1
    sh(f"echo > {mnt.p('.cloudfs', 'refresh')}")
    fake.clear_requests()
    # the listing's summary answers the status
    assert read(mnt.p("stacks", "web", "stack_status")) == "CREATE_COMPLETE\n"
    assert [q["path"] for q in fake.requests(service="orchestration")] == [HEAT + "/stacks"]
    fake.clear_requests()
    r = sh(f"cat {mnt.p('stacks', 'web', 'json')}; cat {mnt.p('stacks', 'web', 'json')}")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout[:len(r.stdout) // 2])
    outs = {o["output_key"]: o["output_value"] for o in doc["outputs"]}
    assert outs["instance_name"] == srv[0]["name"]
    assert doc["parameters"]["NetID"] == "private"
    gets = fake.requests(service="orchestration", method="GET")
    # one show, cached: /stacks/<id> (302) then /stacks/web/<id>; never one request per output
    assert [(g["path"], g["status"]) for g in gets] == [(f"{HEAT}/stacks/{sid}", 302),
                                                        (f"{HEAT}/stacks/web/{sid}", 200)]


def test_ls_l_and_every_status_is_one_listing(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(FAILING.replace("fail: true", "fail: false"))
    for name in ("a", "b", "c"):
        assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', name)}").returncode == 0
    for name in ("a", "b", "c"):
        assert settle(mnt, name) == "CREATE_COMPLETE"
    sh(f"echo stacks > {mnt.p('.cloudfs', 'refresh')}")
    fake.clear_requests()
    r = sh(f"cd {mnt.p('stacks')} && ls -l && cat */stack_status")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("CREATE_COMPLETE") == 3
    reqs = fake.requests(service="orchestration")
    assert [(q["method"], q["path"]) for q in reqs] == [("GET", HEAT + "/stacks")]


def test_failed_create_shows_reason(fake, mnt, tmp_path):
    (tmp_path / "bad.yml").write_text(FAILING)
    assert sh(f"cp {tmp_path / 'bad.yml'} {mnt.p('stacks', 'bad')}").returncode == 0
    assert settle(mnt, "bad") == "CREATE_FAILED"
    reason = read(mnt.p("stacks", "bad", "stack_status_reason"))
    assert "Test Resource failed broken" in reason


def test_validation_error_fails_close_with_heats_message(fake, mnt, tmp_path):
    bad = TEMPLATE.replace("OS::Nova::Server", "OS::Nova::Srvr")
    (tmp_path / "bad.yml").write_text(bad)
    r = sh(f"cp {tmp_path / 'bad.yml'} {mnt.p('stacks', 'web')}")
    assert r.returncode != 0
    assert "Invalid argument" in r.stderr
    errors = read(mnt.p(".cloudfs", "errors"))
    assert "The Resource Type (OS::Nova::Srvr) could not be found." in errors
    assert not os.path.lexists(mnt.p("stacks", "web"))
    # not YAML at all, and no version key: Heat's own messages too
    (tmp_path / "notyaml").write_text("just: [text\n")
    r = sh(f"cp {tmp_path / 'notyaml'} {mnt.p('stacks', 'x')}")
    assert r.returncode != 0 and "Invalid argument" in r.stderr
    assert "Template not in valid format" in read(mnt.p(".cloudfs", "errors"))


def test_duplicate_name_is_eexist(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    # someone else creates "web2" behind the mount's back; cloudfs's listing does not know it yet
    assert sh(f"ls {mnt.p('stacks')}").returncode == 0
    tok, _ = fake.token()
    st, _, _ = fake.request("POST", HEAT + "/stacks", {"stack_name": "web2", "template": TEMPLATE}, token=tok)
    assert st == 201
    r = sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web2')}")
    assert r.returncode != 0
    assert "File exists" in r.stderr
    assert "The Stack (web2) already exists." in read(mnt.p(".cloudfs", "errors"))


def test_rmdir_deletes_through_the_redirect(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    sid = stack_id(mnt, "web")
    fake.clear_requests()
    r = sh(f"rmdir {mnt.p('stacks', sid)}")
    assert r.returncode == 0, r.stderr
    dels = [(q["path"], q["status"]) for q in fake.requests(service="orchestration", method="DELETE")]
    # Heat's lookup answers 302 for /stacks/<id>; the same DELETE goes to the canonical URL
    assert dels == [(f"{HEAT}/stacks/{sid}", 302), (f"{HEAT}/stacks/web/{sid}", 204)]
    gone = poll(lambda: sid not in os.listdir(mnt.p("stacks")), timeout=10, interval=0.3)
    assert gone
    assert not [s for s in fake.state()["servers"] if s["name"].startswith("web-server-")]
    # Heat keeps a deleted stack: by its id it still reads, as DELETE_COMPLETE; its name is free
    def status():
        try:
            return read(mnt.p("stacks", sid, "stack_status"))
        except FileNotFoundError:      # a listing younger than a second is trusted: no GET yet
            return None
    assert poll(lambda: status() == "DELETE_COMPLETE\n", timeout=10, interval=0.3)
    assert not os.path.lexists(mnt.p("stacks", "web"))


def test_delete_failed_keeps_stack_with_reason(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    sid = stack_id(mnt, "web")
    fake._control("POST", "heat_fail_delete", {"stack": sid, "reason": "Resource DELETE failed: Conflict: busy"})
    assert sh(f"rmdir {mnt.p('stacks', sid)}").returncode == 0
    assert settle(mnt, sid) == "DELETE_FAILED"
    assert sid in os.listdir(mnt.p("stacks"))
    assert read(mnt.p("stacks", sid, "stack_status_reason")) == "Resource DELETE failed: Conflict: busy\n"
    # rmdir again retries, which Heat allows
    assert sh(f"rmdir {mnt.p('stacks', sid)}").returncode == 0
    assert poll(lambda: sid not in os.listdir(mnt.p("stacks")), timeout=10, interval=0.3)


def test_redirect_without_location_is_eio(fake, mnt, tmp_path):
    # a 3xx is never success by itself: a DELETE that was only redirected deleted nothing
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    sid = stack_id(mnt, "web")
    fake._control("POST", "faults", [{"method": "DELETE", "path": f"{HEAT}/stacks/{sid}", "status": 302,
                                      "count": 1}])
    e = None
    try:
        os.rmdir(mnt.p("stacks", sid))
    except OSError as err:
        e = err.errno
    assert e == errno.EIO


def test_outputs_directory(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    srv = [s for s in fake.state()["servers"] if s["name"].startswith("web-server-")][0]
    sh(f"echo > {mnt.p('.cloudfs', 'refresh')}")
    fake.clear_requests()
    r = sh(f"cd {mnt.p('stacks', 'web', 'outputs')} && ls && grep . *")
    assert r.returncode == 0, r.stderr
    ip = srv["addresses"]["private"][0]["addr"]
    assert r.stdout == f"instance_ip\ninstance_name\ninstance_ip:{ip}\ninstance_name:{srv['name']}\n"
    assert os.path.isdir(mnt.p("stacks", "web", "outputs"))
    # the listing, then one show; no request per output
    paths = [q["path"] for q in fake.requests(service="orchestration") if q["status"] == 200]
    sid = stack_id(mnt, "web")
    assert paths == [HEAT + "/stacks", f"{HEAT}/stacks/web/{sid}"]


def test_resources_link_into_their_collections(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    srv = [s for s in fake.state()["servers"] if s["name"].startswith("web-server-")][0]
    assert sorted(os.listdir(mnt.p("stacks", "web", "resources"))) == ["server"]
    link = mnt.p("stacks", "web", "resources", "server", "physical")
    assert os.readlink(link) == f"../../../../servers/{srv['id']}"
    r = sh(f"cat {mnt.p('stacks', 'web')}/resources/*/physical/status")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ACTIVE\n"
    assert read(mnt.p("stacks", "web", "resources", "server", "resource_type")) == "OS::Nova::Server\n"
    assert read(mnt.p("stacks", "web", "resources", "server", "resource_status")) == "CREATE_COMPLETE\n"
    r = sh(f"ls -l {mnt.p('stacks', 'web', 'resources', 'server')}")
    assert r.returncode == 0 and "physical -> ../../../../servers/" in r.stdout
    # the whole directory is one GET of .../resources
    fake.clear_requests()
    sh(f"echo > {mnt.p('.cloudfs', 'refresh')}")
    r = sh(f"ls -lR {mnt.p('stacks', 'web', 'resources')} && cat {mnt.p('stacks', 'web')}/resources/*/*_status")
    assert r.returncode == 0, r.stderr
    gets = [q["path"] for q in fake.requests(service="orchestration")
            if q["path"].endswith("/resources") and q["status"] == 200]
    assert len(gets) == 1


def test_events_one_line_each(fake, mnt, tmp_path):
    (tmp_path / "bad.yml").write_text(FAILING)
    assert sh(f"cp {tmp_path / 'bad.yml'} {mnt.p('stacks', 'bad')}").returncode == 0
    assert settle(mnt, "bad") == "CREATE_FAILED"
    lines = read(mnt.p("stacks", "bad", "events")).splitlines()
    assert [ln.split(" ", 3)[1:3] for ln in lines] == [
        ["bad", "CREATE_IN_PROGRESS"], ["broken", "CREATE_IN_PROGRESS"], ["broken", "CREATE_FAILED"],
        ["bad", "CREATE_FAILED"]]
    assert lines[2].endswith("ValueError: resources.broken: Test Resource failed broken")
    r = sh(f"grep -c FAILED {mnt.p('stacks', 'bad', 'events')}")
    assert r.stdout == "2\n"


def test_write_parameter_patches_and_keeps_the_rest(fake, mnt, tmp_path):
    tmpl = TEMPLATE.replace("parameters:\n", "parameters:\n  Size:\n    type: string\n    default: small\n", 1)
    (tmp_path / "t.yml").write_text(tmpl)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    p = mnt.p("stacks", "web", "parameters", "Size")
    assert read(p) == "small\n"
    assert oct(os.stat(p).st_mode & 0o777) == "0o644"
    fake.clear_requests()
    r = sh(f"echo large > {p}")
    assert r.returncode == 0, r.stderr
    sid = stack_id(mnt, "web")
    patches = [(q["path"], q["status"], q["body"]) for q in fake.requests(service="orchestration", method="PATCH")]
    assert patches[-1] == (f"{HEAT}/stacks/web/{sid}", 202, {"parameters": {"Size": "large"}})
    assert settle(mnt, "web") == "UPDATE_COMPLETE"
    assert read(p) == "large\n"
    assert read(mnt.p("stacks", "web", "parameters", "NetID")) == "private\n"


def test_write_parameter_refused_while_in_progress(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    # bash's echo: the refusal shows at write(2), not only at close(2), which bash ignores
    r = sh(f"echo other > {mnt.p('stacks', 'web', 'parameters', 'NetID')}")
    assert r.returncode != 0
    assert "write error: Device or resource busy" in r.stderr
    assert "already has an action" in read(mnt.p(".cloudfs", "errors"))


def test_template_file_reads_and_updates(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')}").returncode == 0
    assert settle(mnt, "web") == "CREATE_COMPLETE"
    shown = json.loads(read(mnt.p("stacks", "web", "template")))
    assert shown["description"] == "Simple template to deploy a single compute instance"
    newer = TEMPLATE + "  flavor_out:\n    value: m1.tiny\n"
    (tmp_path / "t2.yml").write_text(newer)
    fake.clear_requests()
    r = sh(f"cp {tmp_path / 't2.yml'} {mnt.p('stacks', 'web', 'template')}")
    assert r.returncode == 0, r.stderr
    sid = stack_id(mnt, "web")
    patches = [(q["path"], q["body"]) for q in fake.requests(service="orchestration", method="PATCH")
               if q["status"] == 202]
    assert patches == [(f"{HEAT}/stacks/web/{sid}", {"template": newer})]
    assert settle(mnt, "web") == "UPDATE_COMPLETE"
    assert read(mnt.p("stacks", "web", "outputs", "flavor_out")) == "m1.tiny\n"
    assert read(mnt.p("stacks", "web", "parameters", "NetID")) == "private\n"



def test_wait_blocks_until_complete_or_fails_with_the_reason(fake, mnt, tmp_path):
    (tmp_path / "t.yml").write_text(TEMPLATE)
    (tmp_path / "bad.yml").write_text(FAILING)
    r = sh(f"cp {tmp_path / 't.yml'} {mnt.p('stacks', 'web')} && cat {mnt.p('stacks', 'web', 'wait')}")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "CREATE_COMPLETE\n"
    r = sh(f"cp {tmp_path / 'bad.yml'} {mnt.p('stacks', 'bad')} && cat {mnt.p('stacks', 'bad', 'wait')}")
    assert r.returncode != 0
    assert "Remote I/O error" in r.stderr
    assert "Test Resource failed broken" in read(mnt.p(".cloudfs", "errors"))
    # an update: the wait follows UPDATE_IN_PROGRESS to UPDATE_COMPLETE
    r = sh(f"echo public > {mnt.p('stacks', 'web', 'parameters', 'NetID')} && cat {mnt.p('stacks', 'web', 'wait')}")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "UPDATE_COMPLETE\n"
    # a delete: the wait ends when Heat has deleted it (Heat keeps the record: DELETE_COMPLETE)
    sid = stack_id(mnt, "web")
    r = sh(f"rmdir {mnt.p('stacks', sid)} && cat {mnt.p('stacks', sid, 'wait')}")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "DELETE_COMPLETE\n"
