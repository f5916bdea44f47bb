"""Read-only reference collections added as table rows, no core change (issue 12's "a
collection is one row, a service is one file"): Cinder's volume_types/ (a row in
src/services/volume.c) and Keystone's unified limits, limits/ and registered_limits/ (the
identity service, src/services/identity.c). What a user checks: ls shows each once, one GET a
listing, names link to ids, the files are the document's, a project sees its own limits, and
nothing can be made or removed."""

import errno
import json
import os

import pytest

from conftest import base_env
from mountutil import read, sh

DEMO = "7c808b28bded4680839ac3a2f00d8a87"
OPS = "3f1d6a9c2b7e4c0d8a5f1e2b3c4d5e6f"


def listing(fake, token, path, key):
    status, doc = fake.get_json(path, token)
    assert status == 200, doc
    return doc[key]


def test_volume_types_are_listed_by_id_with_name_links(mnt, fake):
    token, _ = fake.token()
    types = listing(fake, token, f"/volume/v3/{DEMO}/types", "volume_types")
    assert len(types) >= 2
    fake.clear_requests()
    assert sorted(os.listdir(mnt.p("volume_types"))) == sorted(t["id"] for t in types)
    assert [(r["method"], r["path"]) for r in fake.requests(service="volume")] == [
        ("GET", f"/volume/v3/{DEMO}/types")]
    for t in types:
        assert os.readlink(mnt.p("volume_types", t["name"])) == t["id"]
        assert read(mnt.p("volume_types", t["name"], "name")) == t["name"] + "\n"
        assert json.loads(read(mnt.p("volume_types", t["id"], "json"))) == t
        assert read(mnt.p("volume_types", t["id"], "is_public")) == "true\n"
    # `ls -l` after the listing asked nothing more
    assert len(fake.requests(service="volume")) == 1


def test_volume_types_cannot_be_made_and_rmdir_is_the_clouds_call(mnt, fake):
    # nothing creates one through the tree (no spec, no mkdir: nothing is sent) ...
    out = sh(f"echo '{{}}' > {mnt.path}/volume_types/new")
    assert out.returncode != 0 and "Permission denied" in out.stderr, out
    with pytest.raises(OSError) as e:
        os.mkdir(mnt.p("volume_types", "new"))
    assert e.value.errno in (errno.EPERM, errno.EACCES)
    assert not [r for r in fake.requests(service="volume") if r["method"] != "GET"]
    # ... and rmdir asks the cloud, as everywhere: a member is refused (EACCES, Cinder's
    # reason in .cloudfs/errors) and the type stays
    out = sh(f"cd {mnt.path}/volume_types && rmdir $(readlink lvmdriver-1)")
    assert out.returncode != 0 and "Permission denied" in out.stderr, out
    assert "volume_extension:type_delete" in read(mnt.p(".cloudfs", "errors"))
    assert os.path.islink(mnt.p("volume_types", "lvmdriver-1"))


def test_an_admin_removes_a_volume_type(mount_factory, fake):
    env = base_env(fake, OS_USERNAME="admin", OS_PASSWORD="admin", OS_PROJECT_NAME="admin")
    m = mount_factory(env=env, name="admin")
    tid = os.readlink(m.p("volume_types", "lvmdriver-1"))
    out = sh(f"rmdir {m.path}/volume_types/{tid}")
    assert out.returncode == 0, out
    assert tid not in os.listdir(m.p("volume_types"))
    token, _ = fake.token()
    assert tid not in [t["id"] for t in listing(fake, token, f"/volume/v3/{DEMO}/types", "volume_types")]


def test_a_volume_spec_names_a_type_listed_in_volume_types(mnt, fake):
    (name,) = [n for n in ("lvmdriver-1",) if os.path.islink(mnt.p("volume_types", n))]
    out = sh(f"""echo '{{"size": 1, "type": "{name}"}}' > {mnt.path}/volumes/typed""")
    assert out.returncode == 0, out
    assert read(mnt.p("volumes", "typed", "volume_type")) == name + "\n"


@pytest.mark.parametrize("coll,field,value", [("limits", "resource_limit", 5),
                                              ("registered_limits", "default_limit", 10)])
def test_unified_limits_one_directory_each(mnt, fake, coll, field, value):
    token, _ = fake.token()
    members = listing(fake, token, f"/identity/v3/{coll}", coll)
    fake.clear_requests()
    assert sorted(os.listdir(mnt.p(coll))) == sorted(m["id"] for m in members)
    assert [(r["method"], r["path"]) for r in fake.requests(service="identity")
            if "/auth/" not in r["path"]] == [("GET", f"/identity/v3/{coll}")]
    (m,) = [m for m in members if m["resource_name"] == "devcloud_example"]
    assert read(mnt.p(coll, m["id"], field)) == f"{value}\n"
    assert read(mnt.p(coll, m["id"], "resource_name")) == "devcloud_example\n"
    assert json.loads(read(mnt.p(coll, m["id"], "json"))) == m
    # a limit has no name: no links beside the ids, and a made-up id is ENOENT
    assert all(not os.path.islink(mnt.p(coll, n)) for n in os.listdir(mnt.p(coll)))
    with pytest.raises(FileNotFoundError):
        os.stat(mnt.p(coll, "0" * 32))
    # only a cloud admin manages limits: rmdir is refused with Keystone's reason
    out = sh(f"rmdir {mnt.path}/{coll}/{m['id']}")
    assert out.returncode != 0 and "Permission denied" in out.stderr, out
    assert f"identity:delete_{coll[:-1]}" in read(mnt.p(".cloudfs", "errors"))
    assert m["id"] in os.listdir(mnt.p(coll))


def test_each_project_sees_its_own_limits(mnt, fake):
    own = {read(mnt.p("limits", i, "project_id")).strip() for i in os.listdir(mnt.p("limits"))}
    assert own == {DEMO}
    ops = mnt.p("projects", "ops", "limits")
    (lid,) = os.listdir(ops)
    assert read(os.path.join(ops, lid, "project_id")) == OPS + "\n"
    assert read(os.path.join(ops, lid, "resource_limit")) == "7\n"
    # the registered defaults are the cloud's: the same in every project
    assert sorted(os.listdir(mnt.p("registered_limits"))) == sorted(
        os.listdir(mnt.p("projects", "ops", "registered_limits")))
