"""quotas/ (docs/SEMANTICS.md, "Quotas"): each service's own quota document with usage, one
directory per key; limits writable by admins; an over-quota create names the quota it hit."""

import errno
import json
import os
import stat

import pytest

from conftest import base_env
from mountutil import NOVA_HEADERS, read, sh

DEMO = "7c808b28bded4680839ac3a2f00d8a87"
OPS = "3f1d6a9c2b7e4c0d8a5f1e2b3c4d5e6f"


def admin_token(fake):
    token, _ = fake.token("admin", "admin", "admin")
    return token


def quota_doc(fake, service, project):
    path = {"compute": f"/compute/v2.1/os-quota-sets/{project}/detail",
            "volume": f"/volume/v3/{project}/os-quota-sets/{project}?usage=true",
            "network": f"/network/v2.0/quotas/{project}/details.json"}[service]
    token, _ = fake.token(project={DEMO: "demo", OPS: "ops"}.get(project, "demo"))
    status, doc = fake.get_json(path, token, NOVA_HEADERS if service == "compute" else None)
    assert status == 200, doc
    return doc["quota_set" if service != "network" else "quota"]


def value(path):
    return read(path).rstrip("\n")


def write(path, text):
    """open/write/close as cp or `sh -c 'echo > f'` do: the cloud's verdict comes at close."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


@pytest.fixture
def admin(mount_factory, fake):
    env = base_env(fake, OS_USERNAME="admin", OS_PASSWORD="admin", OS_PROJECT_NAME="admin")
    return mount_factory("-o", "cache_ttl=2", env=env, name="admin")


def test_quotas_has_one_directory_per_service(mnt, fake):
    assert sorted(os.listdir(mnt.p("quotas"))) == ["compute", "network", "volume"]
    assert "quotas" in os.listdir(mnt.p())


@pytest.mark.parametrize("service,used_key", [("compute", "in_use"), ("volume", "in_use"),
                                              ("network", "used")])
def test_each_services_own_keys_with_limit_and_usage(mnt, fake, service, used_key):
    doc = quota_doc(fake, service, DEMO)
    keys = sorted(k for k, v in doc.items() if isinstance(v, dict))
    listed = sorted(n for n in os.listdir(mnt.p("quotas", service))
                    if os.path.isdir(mnt.p("quotas", service, n)))
    assert listed == keys
    for key in keys:
        for field, want in doc[key].items():
            assert value(mnt.p("quotas", service, key, field)) == str(want), (key, field)
    assert json.loads(read(mnt.p("quotas", service, "json"))) == doc
    assert used_key in os.listdir(mnt.p("quotas", service, keys[0]))


def test_usage_follows_the_cloud(mnt, fake):
    before = int(value(mnt.p("quotas", "compute", "instances", "in_use")))
    fake.seed(servers=[{"name": "more"}])
    sh(f"echo all > {mnt.p('.cloudfs', 'refresh')}")
    assert int(value(mnt.p("quotas", "compute", "instances", "in_use"))) == before + 1


def test_each_project_has_its_quotas(mnt, fake):
    fake.seed(servers=[{"name": "o1", "tenant_id": OPS}, {"name": "o2", "tenant_id": OPS}])
    assert value(mnt.p("projects", "ops", "quotas", "compute", "instances", "in_use")) == "2"
    assert quota_doc(fake, "compute", OPS)["instances"]["in_use"] == 2
    assert value(mnt.p("projects", "ops", "quotas", "network", "network", "used")) == \
        str(quota_doc(fake, "network", OPS)["network"]["used"])


def test_limit_files_are_writable_the_rest_not(mnt, fake):
    assert stat.S_IMODE(os.stat(mnt.p("quotas", "compute", "cores", "limit")).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(mnt.p("quotas", "compute", "cores", "in_use")).st_mode) == 0o444
    with pytest.raises(PermissionError):
        write(mnt.p("quotas", "compute", "cores", "in_use"), "3")


@pytest.mark.parametrize("service,message", [
    ("compute", "Policy doesn't allow os_compute_api:os-quota-sets:update"),
    ("volume", "Policy doesn't allow volume_extension:quotas:update"),
    ("network", "rule:update_quota is disallowed by policy")])
def test_a_member_cannot_change_a_limit(mnt, fake, service, message):
    key = {"compute": "cores", "volume": "gigabytes", "network": "router"}[service]
    before = quota_doc(fake, service, DEMO)[key]["limit"]
    with pytest.raises(PermissionError):
        write(mnt.p("quotas", service, key, "limit"), "40\n")
    assert message in read(mnt.p(".cloudfs", "errors"))
    # the shell's echo sees it too: the line is sent at write(2), not at close
    out = sh(f"echo 40 > {mnt.p('quotas', service, key, 'limit')}")
    assert out.returncode != 0 and "Permission denied" in out.stderr
    assert quota_doc(fake, service, DEMO)[key]["limit"] == before
    assert value(mnt.p("quotas", service, key, "limit")) == str(before)


@pytest.mark.parametrize("service,key,body_key", [("compute", "cores", "quota_set"),
                                                  ("volume", "gigabytes", "quota_set"),
                                                  ("network", "router", "quota")])
def test_an_admin_changes_a_projects_limit(admin, fake, service, key, body_key):
    path = admin.p("projects", "demo", "quotas", service, key, "limit")
    out = sh(f"echo 40 > {path}")
    assert out.returncode == 0, out.stderr
    assert quota_doc(fake, service, DEMO)[key]["limit"] == 40
    assert value(path) == "40"  # seen at once, not after the TTL
    (put,) = [r for r in fake.requests(method="PUT") if "quota" in r["path"]]
    assert put["body"] == {body_key: {key: 40}}
    assert put["path"].rstrip("/").endswith(DEMO)


def test_a_bad_limit_is_einval(admin, fake):
    with pytest.raises(OSError) as e:
        write(admin.p("quotas", "compute", "cores", "limit"), "many\n")
    assert e.value.errno == errno.EINVAL


def test_over_quota_is_edquot_naming_the_quota(admin, mnt, fake):
    used = int(value(mnt.p("quotas", "compute", "instances", "in_use")))
    write(admin.p("projects", "demo", "quotas", "compute", "instances", "limit"), f"{used}\n")
    with pytest.raises(OSError) as e:
        with open(mnt.p("servers", "one-too-many"), "w") as f:
            f.write(json.dumps({"image": "cirros", "flavor": "m1.tiny", "networks": ["private"]}))
    assert e.value.errno == errno.EDQUOT
    errors = read(mnt.p(".cloudfs", "errors"))
    assert "Quota exceeded for instances" in errors
    # what the user then checks
    out = sh(f"grep -H . {mnt.p('quotas')}/compute/instances/*")
    assert f"limit:{used}" in out.stdout and f"in_use:{used}" in out.stdout


def test_usage_is_read_again_after_a_create(mnt, fake):
    before = int(value(mnt.p("quotas", "volume", "volumes", "in_use")))
    with open(mnt.p("volumes", "extra"), "w") as f:
        f.write('{"size": 1}')
    assert int(value(mnt.p("quotas", "volume", "volumes", "in_use"))) == before + 1


def test_quota_directories_cannot_be_removed_or_made(mnt, fake):
    fake.clear_requests()
    for cmd, path in (("rmdir", mnt.p("quotas", "compute")), ("rm -r", mnt.p("quotas", "compute", "cores")),
                      ("mkdir", mnt.p("quotas", "dns")), ("mkdir", mnt.p("quotas", "compute", "x"))):
        out = sh(f"{cmd} {path}")
        assert out.returncode != 0, (cmd, path)
    assert [r for r in fake.requests() if r["method"] in ("DELETE", "PUT", "POST")] == []
    assert sorted(os.listdir(mnt.p("quotas"))) == ["compute", "network", "volume"]


def df(path):
    out = sh(f"df -B1 --output=size,used,avail {path}")
    assert out.returncode == 0, out.stderr
    return [int(x) for x in out.stdout.split("\n")[1].split()]


def test_df_on_volumes_is_the_gigabytes_quota(mnt, admin, fake):
    q = quota_doc(fake, "volume", DEMO)["gigabytes"]
    assert df(mnt.p("volumes")) == [q["limit"] << 30, q["in_use"] << 30, (q["limit"] - q["in_use"]) << 30]
    # another project's volumes/, its own quota; elsewhere no size
    assert df(mnt.p("projects", "ops", "volumes"))[0] == quota_doc(fake, "volume", OPS)["gigabytes"]["limit"] << 30
    assert df(mnt.p("servers"))[0] == 0
    # unlimited: no size either
    write(admin.p("projects", "demo", "quotas", "volume", "gigabytes", "limit"), "-1\n")
    sh(f"echo all > {mnt.p('.cloudfs', 'refresh')}")
    assert df(mnt.p("volumes"))[0] == 0


def test_a_limit_without_newline_is_sent_at_close(admin, fake):
    path = admin.p("projects", "demo", "quotas", "compute", "ram", "limit")
    out = sh(f"printf 4096 > {path}")
    assert out.returncode == 0, out.stderr
    assert quota_doc(fake, "compute", DEMO)["ram"]["limit"] == 4096


def test_refresh_quotas(mnt, fake):
    before = int(value(mnt.p("quotas", "compute", "instances", "in_use")))
    fake.seed(servers=[{"name": "more"}])
    assert int(value(mnt.p("quotas", "compute", "instances", "in_use"))) == before  # cached
    sh(f"echo quotas > {mnt.p('.cloudfs', 'refresh')}")
    assert int(value(mnt.p("quotas", "compute", "instances", "in_use"))) == before + 1
