"""projects/ and quotas/ on devcloud, cross-checked with the openstack CLI: a second project is
made for the run (demo a member, admin an admin in it) with a network, a server and a volume of
its own, and removed afterwards. Every project's servers against `openstack server list
--all-projects --project`, its quotas against `openstack quota list --detail` / `quota show`, a
limit written by admin through the tree against the CLI, an over-quota create as EDQUOT, the
catalog against `openstack catalog list`, and what reading N projects cost."""

import errno
import json
import os
import re

import pytest

from conftest import RUN, openrc_env, osc, wait_for
from mountutil import Mount, read, sh, start_cloudfs

# Neutron's quota keys (what quotas/network/ shows) → the CLI's names for them
NEUTRON_CLI = {"network": "networks", "subnet": "subnets", "port": "ports", "router": "routers",
               "floatingip": "floating_ips", "security_group": "security_groups",
               "security_group_rule": "security_group_rules", "rbac_policy": "rbac_policies",
               "subnetpool": "subnet_pools"}


@pytest.fixture(scope="module")
def admin_env():
    return openrc_env("openrc")


@pytest.fixture(scope="module")
def demo_env():
    return openrc_env()


@pytest.fixture(scope="module")
def proj2(admin_env, demo_env):
    """A second project of demo's (member) and admin's (admin), with its own network, server and
    volume made by demo with the CLI. Deleted afterwards, whatever happened."""
    name = f"e2e-proj-{RUN}"
    made = {}
    env2 = dict(demo_env, OS_PROJECT_NAME=name)
    try:
        made["project"] = osc("project", "create", "--domain", "default", "--description",
                              "cloudfs e2e, deleted after the run", name, env=admin_env)
        pid = made["project"]["id"]
        osc("role", "add", "--user", "demo", "--user-domain", "Default", "--project", pid, "member",
            env=admin_env, parse=False)
        osc("role", "add", "--user", "admin", "--user-domain", "Default", "--project", pid, "admin",
            env=admin_env, parse=False)
        made["net"] = osc("network", "create", f"e2e-p2net-{RUN}", env=env2)
        made["subnet"] = osc("subnet", "create", "--network", made["net"]["id"], "--subnet-range",
                             "10.77.0.0/24", f"e2e-p2sub-{RUN}", env=env2)
        made["vol"] = osc("volume", "create", "--size", "1", f"e2e-p2vol-{RUN}", env=env2)
        made["srv"] = osc("server", "create", "--image", "devcloud-tiny", "--flavor", "m1.nano",
                          "--network", made["net"]["id"], f"e2e-p2srv-{RUN}", env=env2)
        wait_for(lambda: osc("server", "show", made["srv"]["id"], env=env2)["status"]
                 in ("ACTIVE", "ERROR"))
        wait_for(lambda: osc("volume", "show", made["vol"]["id"], env=env2)["status"]
                 in ("available", "error"))
        yield {"id": pid, "name": name, "env": env2, **made}
    finally:
        if "srv" in made:
            osc("server", "delete", "--wait", made["srv"]["id"], env=env2, parse=False, check=False)
        for vid in [v["ID"] for v in osc("volume", "list", "--project", made["project"]["id"],
                                         env=admin_env, check=False) or []] if "project" in made else []:
            osc("volume", "delete", vid, env=admin_env, parse=False, check=False)
        if "subnet" in made:
            osc("subnet", "delete", made["subnet"]["id"], env=env2, parse=False, check=False)
        if "net" in made:
            osc("network", "delete", made["net"]["id"], env=env2, parse=False, check=False)
        if "project" in made:
            # the default security group Neutron made for the project goes with it
            for sg in osc("security", "group", "list", "--project", made["project"]["id"],
                          env=admin_env, check=False) or []:
                osc("security", "group", "delete", sg["ID"], env=admin_env, parse=False, check=False)
            osc("project", "delete", made["project"]["id"], env=admin_env, parse=False, check=False)


def mount(tmp_path_factory, env, *opts):
    path = str(tmp_path_factory.mktemp("e2e-projects") / "mnt")
    proc, log = start_cloudfs(path, env, ["-o", ",".join(("cache_ttl=30", "negative_ttl=1") + opts)],
                              timeout=30)
    return Mount(path, proc, log)


@pytest.fixture(scope="module")
def mnt(tmp_path_factory, demo_env, proj2):
    m = mount(tmp_path_factory, demo_env)
    yield m
    m.unmount()


@pytest.fixture(scope="module")
def admin_mnt(tmp_path_factory, admin_env, proj2):
    m = mount(tmp_path_factory, admin_env)
    yield m
    m.unmount()


def ids_in(path):
    return sorted(n for n in os.listdir(path) if not os.path.islink(os.path.join(path, n)))


def value(path):
    return read(path).rstrip("\n")


def write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def status_of(m, key):
    return int(re.search(rf"^{key} (\d+)$", read(m), re.M).group(1))


def test_projects_are_the_cli_my_projects(mnt, demo_env, proj2):
    mine = osc("project", "list", "--my-projects", env=demo_env)
    assert ids_in(mnt.p("projects")) == sorted(p["ID"] for p in mine)
    assert proj2["id"] in ids_in(mnt.p("projects"))
    for p in mine:
        assert os.readlink(mnt.p("projects", p["Name"])) == p["ID"]


def test_a_fresh_mount_reads_n_projects_with_n_listings_and_n_tokens(tmp_path_factory, demo_env,
                                                                      proj2):
    m = mount(tmp_path_factory, demo_env)
    try:
        root = m.p(".cloudfs", "status")
        # The start's own requests (the look for leftover images and upload marks, Swift's
        # /info) are made in the background: count from when they are over.
        assert wait_for(lambda: "startup_scan done\n" in read(root), timeout=60, every=0.1)
        before = status_of(root, "requests")
        ids = ids_in(m.p("projects"))
        assert status_of(root, "requests") == before + 1  # GET /v3/auth/projects
        out = sh("shopt -s nullglob; " + " ".join(f"cat {m.p('projects', p)}/servers/*/status </dev/null;"
                                                  for p in ids))
        assert out.returncode == 0, out.stderr
        default = re.search(r"^project \S+ \((\w+)\)$", read(m.p(".cloudfs", "status")), re.M).group(1)
        per = {}
        for p in ids:
            st = m.p("projects", p, ".cloudfs", "status")
            per[p] = (status_of(st, "requests"), status_of(st, "tokens_issued"))
        # one listing each; a token each (the default project uses the mount's own, the first)
        assert all(req == 1 for req, _ in per.values()), per
        assert all(tok == 1 for _, tok in per.values()), per
        assert status_of(root, "projects_made") == len(ids)
        assert status_of(root, "requests") == before + 1  # nothing more at the root
        print(f"\n{len(ids)} projects: requests {sum(r for r, _ in per.values())} listings + 1 "
              f"project list; tokens {len(ids) - 1} new + the mount's own ({default})")
    finally:
        m.unmount()


def test_every_projects_servers_match_the_cli(mnt, admin_env, proj2):
    for pid in ids_in(mnt.p("projects")):
        cli = {s["ID"]: s["Status"] for s in osc("server", "list", "--all-projects", "--project",
                                                   pid, env=admin_env)}
        base = mnt.p("projects", pid, "servers")
        got = {sid: value(os.path.join(base, sid, "status")) for sid in ids_in(base)}
        assert got == cli, pid
    assert proj2["srv"]["id"] in ids_in(mnt.p("projects", proj2["name"], "servers"))
    assert proj2["srv"]["id"] not in ids_in(mnt.p("servers"))


def test_compute_and_network_quotas_match_the_cli(mnt, demo_env, proj2):
    for pid in (proj2["id"], re.search(r"\((\w+)\)", read(mnt.p(".cloudfs", "status"))).group(1)):
        env = dict(demo_env, OS_PROJECT_NAME=proj2["name"]) if pid == proj2["id"] else demo_env
        # the CLI at the mount's microversion (2.70), whose quota set has no network keys
        for row in osc("quota", "list", "--detail", "--compute", "--project", pid,
                       env=dict(env, OS_COMPUTE_API_VERSION="2.70")):
            d = mnt.p("projects", pid, "quotas", "compute", row["Resource"])
            assert (int(value(d + "/limit")), int(value(d + "/in_use"))) == \
                (row["Limit"], row["In Use"]), (pid, row)
        cli = {r["Resource"]: r for r in osc("quota", "list", "--detail", "--network", "--project",
                                             pid, env=env)}
        for key in os.listdir(mnt.p("projects", pid, "quotas", "network")):
            if key not in NEUTRON_CLI:
                continue
            d = mnt.p("projects", pid, "quotas", "network", key)
            row = cli[NEUTRON_CLI[key]]
            assert (int(value(d + "/limit")), int(value(d + "/used"))) == \
                (row["Limit"], row["In Use"]), (pid, key)


def test_volume_quotas_match_the_cli(mnt, proj2):
    show = osc("quota", "show", proj2["id"], env=proj2["env"])
    vols = osc("volume", "list", env=proj2["env"])
    q = mnt.p("projects", proj2["id"], "quotas", "volume")
    for key in ("volumes", "snapshots", "gigabytes", "backups"):
        assert int(value(f"{q}/{key}/limit")) == show[key]
    assert int(value(f"{q}/volumes/in_use")) == len(vols)
    assert int(value(f"{q}/gigabytes/in_use")) == sum(v["Size"] for v in vols)


def test_a_member_cannot_change_a_limit(mnt, proj2):
    with pytest.raises(PermissionError):
        write(mnt.p("projects", proj2["id"], "quotas", "compute", "cores", "limit"), "7\n")
    assert "Policy doesn't allow os_compute_api:os-quota-sets:update" in read(mnt.p(".cloudfs", "errors"))


def test_an_admins_limit_change_is_seen_by_the_cli(admin_mnt, admin_env, proj2):
    limit = admin_mnt.p("projects", proj2["id"], "quotas", "compute", "cores", "limit")
    try:
        write(limit, "7\n")
        assert osc("quota", "show", proj2["id"], env=admin_env)["cores"] == 7
        assert value(limit) == "7"
    finally:
        write(limit, "-1\n")
    assert osc("quota", "show", proj2["id"], env=admin_env)["cores"] == -1


def test_df_on_volumes_is_the_gigabytes_quota(admin_mnt, mnt, admin_env, proj2):
    limit = admin_mnt.p("projects", proj2["id"], "quotas", "volume", "gigabytes", "limit")
    vols = mnt.p("projects", proj2["id"], "volumes")
    try:
        write(limit, "50\n")
        assert osc("quota", "show", proj2["id"], env=admin_env)["gigabytes"] == 50
        used = sum(v["Size"] for v in osc("volume", "list", env=proj2["env"]))
        sh(f"echo all > {mnt.p('projects', proj2['id'], '.cloudfs', 'refresh')}")
        out = sh(f"df -B1 --output=size,used {vols}")
        assert [int(x) for x in out.stdout.split("\n")[1].split()] == [50 << 30, used << 30]
    finally:
        write(limit, "-1\n")


def test_over_quota_is_edquot_naming_the_quota(admin_mnt, mnt, admin_env, proj2):
    limit = admin_mnt.p("projects", proj2["id"], "quotas", "volume", "volumes", "limit")
    used = int(value(admin_mnt.p("projects", proj2["id"], "quotas", "volume", "volumes", "in_use")))
    try:
        write(limit, f"{used}\n")
        assert osc("quota", "show", proj2["id"], env=admin_env)["volumes"] == used
        with pytest.raises(OSError) as e:
            with open(mnt.p("projects", proj2["id"], "volumes", f"e2e-over-{RUN}"), "w") as f:
                f.write('{"size": 1}')
        assert e.value.errno == errno.EDQUOT
        errors = read(mnt.p(".cloudfs", "errors"))
        assert "exceeded for quota 'volumes'" in errors or "VolumeLimitExceeded" in errors, errors[-500:]
        assert not [v for v in osc("volume", "list", env=proj2["env"]) if v["Name"] == f"e2e-over-{RUN}"]
    finally:
        write(limit, "-1\n")


def test_catalog_is_the_clis(mnt, demo_env):
    catalog = json.loads(read(mnt.p(".cloudfs", "catalog")))
    cli = osc("catalog", "list", env=demo_env)
    assert sorted((s["name"], s["type"]) for s in catalog) == sorted((s["Name"], s["Type"]) for s in cli)
    assert "\nregion RegionOne\n" in read(mnt.p(".cloudfs", "status"))
    regions = {e["region"] for s in cli for e in s["Endpoints"]} if cli and "Endpoints" in cli[0] else None
    listed = sorted(os.listdir(mnt.p("regions")))
    assert listed == sorted({e["region_id"] for s in catalog for e in s["endpoints"]
                             if e["interface"] == "public"})
    if regions is not None:
        assert set(listed) <= regions
    ids = {s["ID"] for s in osc("server", "list", env=demo_env)}
    assert set(ids_in(mnt.p("regions", listed[0], "servers"))) == ids


def test_the_exposed_token_works_with_curl(tmp_path_factory, demo_env, proj2):
    m = mount(tmp_path_factory, demo_env, "expose_token")
    try:
        token = read(m.p("projects", proj2["id"], ".cloudfs", "token")).strip()
        nova = next(e["url"] for s in json.loads(read(m.p(".cloudfs", "catalog")))
                    if s["type"] == "compute" for e in s["endpoints"] if e["interface"] == "public")
        out = sh(f"curl -sf -H 'X-Auth-Token: {token}' {nova}/servers")
        assert out.returncode == 0, out.stderr
        assert proj2["srv"]["id"] in [s["id"] for s in json.loads(out.stdout)["servers"]]
        assert token not in m.log()
    finally:
        m.unmount()
