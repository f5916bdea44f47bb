"""projects/ (docs/SEMANTICS.md, "Projects"): every project the user can scope to, each a tree
like the root's with a token of its own; .cloudfs/catalog, .cloudfs/token and the region. Each
test checks what a user sees against what the fake cloud holds and what it was sent."""

import errno
import json
import os
import stat

from conftest import base_env
from mountutil import poll, read, sh

DEMO = "7c808b28bded4680839ac3a2f00d8a87"
OPS = "3f1d6a9c2b7e4c0d8a5f1e2b3c4d5e6f"
HIDDEN = "b2c3d4e5f6a74b8c9d0e1f2a3b4c5d6e"


def token_posts(fake):
    return [r for r in fake.requests(method="POST", path_prefix="/identity/v3/auth/tokens")]


def servers_of(fake, project):
    return sorted(s["id"] for s in fake.state()["servers"] if s["tenant_id"] == project)


def ids_in(path):
    return sorted(n for n in os.listdir(path) if not os.path.islink(os.path.join(path, n)))


def test_projects_lists_ids_and_unique_names_as_links(mnt, fake):
    names = sorted(os.listdir(mnt.p("projects")))
    # demo is a member of demo and ops; "hidden" is admin's alone
    assert names == sorted([DEMO, OPS, "demo", "ops"])
    assert os.readlink(mnt.p("projects", "ops")) == OPS
    assert os.readlink(mnt.p("projects", "demo")) == DEMO
    assert stat.S_ISDIR(os.lstat(mnt.p("projects", OPS)).st_mode)
    assert not os.path.exists(mnt.p("projects", HIDDEN))
    # the list is Keystone's GET /v3/auth/projects
    assert fake.requests(method="GET", path_prefix="/identity/v3/auth/projects")


def test_ls_l_of_projects_asks_for_no_token(mnt, fake):
    fake.clear_requests()
    out = sh(f"ls -l {mnt.p('projects')}/")
    assert out.returncode == 0, out.stderr
    assert OPS in out.stdout and "ops -> " + OPS in out.stdout
    assert token_posts(fake) == []


def test_each_project_is_a_tree_scoped_to_it(mnt, fake):
    (ops_srv,) = fake.seed(servers=[{"name": "opsweb", "tenant_id": OPS}])["servers"]
    assert ids_in(mnt.p("projects", "ops", "servers")) == [ops_srv["id"]] == servers_of(fake, OPS)
    assert ids_in(mnt.p("projects", DEMO, "servers")) == servers_of(fake, DEMO)
    # the root stays the default project
    assert ids_in(mnt.p("servers")) == servers_of(fake, DEMO)
    assert read(mnt.p("projects", "ops", "servers", "opsweb", "name")) == "opsweb\n"
    # the shell's glob over every project
    out = sh(f"grep -H . {mnt.p('projects')}/*/servers/*/status")
    assert out.returncode == 0, out.stderr
    got = {}
    for line in out.stdout.splitlines():
        path, status = line.rsplit(":", 1)
        parts = path.split("/")
        got[(parts[-4], parts[-2])] = status  # the glob also goes through the name links
    want = {(p, s["id"]): s["status"] for s in fake.state()["servers"] for p in (DEMO, OPS)
            if s["tenant_id"] == p}
    assert {k: v for k, v in got.items() if k[0] in (DEMO, OPS)} == want
    # the project's own .cloudfs: its identity
    assert "project ops (" + OPS + ")" in read(mnt.p("projects", "ops", ".cloudfs", "status"))
    assert json.loads(read(mnt.p("projects", OPS, ".cloudfs", "project")))["project"]["id"] == OPS


def test_n_projects_cost_n_listings_and_one_token_each(mnt, fake):
    fake.seed(servers=[{"name": "opsweb", "tenant_id": OPS}])
    fake.clear_requests()
    out = sh(f"cat {mnt.p('projects')}/{DEMO}/servers/*/status {mnt.p('projects')}/{OPS}/servers/*/status")
    assert out.returncode == 0, out.stderr
    posts = token_posts(fake)
    # demo is the mount's own project: its token serves it; ops needs one, scoped by id
    assert len(posts) == 1
    assert posts[0]["body"]["auth"]["scope"] == {"project": {"id": OPS}}
    assert posts[0]["body"]["auth"]["identity"]["methods"] == ["password"]
    listings = [r for r in fake.requests(method="GET") if r["path"].endswith("/servers/detail")]
    assert len(listings) == 2
    # a second pass within the TTL costs nothing, and the token is kept
    fake.clear_requests()
    out = sh(f"cat {mnt.p('projects')}/{OPS}/servers/*/status")
    assert out.returncode == 0 and token_posts(fake) == []


def test_find_has_no_loop(mnt, fake):
    out = sh(f"find {mnt.p()} -maxdepth 4 -name projects")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [mnt.p("projects")]
    assert "loop" not in out.stderr
    # a project's tree has no projects/ of its own
    assert not os.path.exists(mnt.p("projects", OPS, "projects"))
    assert "projects" not in os.listdir(mnt.p("projects", OPS))


def test_unknown_project_is_enoent(mnt, fake):
    for name in (HIDDEN, "hidden", "nope"):
        try:
            os.listdir(mnt.p("projects", name, "servers"))
            raise AssertionError(name + " listed")
        except FileNotFoundError:
            pass


def test_kept_projects_are_bounded(mount_factory, fake):
    m = mount_factory("-o", "cache_ttl=2,projects_kept=1")
    os.listdir(m.p("projects", OPS, "servers"))
    os.listdir(m.p("projects", DEMO, "servers"))
    status = read(m.p(".cloudfs", "status"))
    assert "projects_open 1\n" in status
    # ops was dropped for demo: coming back asks for a token again
    fake.clear_requests()
    os.listdir(m.p("projects", OPS, "images"))
    assert len(token_posts(fake)) == 1


def test_a_token_mount_rescopes_with_its_token(mount_factory, fake):
    token, _ = fake.token()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=fake.auth_url, OS_AUTH_TYPE="v3token", OS_TOKEN=token,
               OS_PROJECT_NAME="demo", OS_PROJECT_DOMAIN_NAME="Default", OS_REGION_NAME="RegionOne")
    m = mount_factory(env=env)
    (srv,) = fake.seed(servers=[{"name": "opsweb", "tenant_id": OPS}])["servers"]
    fake.clear_requests()
    assert ids_in(m.p("projects", "ops", "servers")) == [srv["id"]]
    (post,) = token_posts(fake)
    assert post["body"]["auth"]["identity"]["methods"] == ["token"]
    assert post["body"]["auth"]["scope"] == {"project": {"id": OPS}}


def test_application_credentials_see_other_projects_as_eacces(mount_factory, fake):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=fake.auth_url, OS_AUTH_TYPE="v3applicationcredential",
               OS_APPLICATION_CREDENTIAL_ID="appcred-id",
               OS_APPLICATION_CREDENTIAL_SECRET="appcred-secret", OS_REGION_NAME="RegionOne")
    m = mount_factory(env=env)
    assert OPS in os.listdir(m.p("projects"))
    # its own project is there, with the mount's token
    assert ids_in(m.p("projects", DEMO, "servers")) == servers_of(fake, DEMO)
    fake.clear_requests()
    out = sh(f"ls {m.p('projects', 'ops', 'servers')}")
    assert out.returncode != 0 and "Permission denied" in out.stderr
    assert token_posts(fake) == []  # not even tried
    errors = read(m.p(".cloudfs", "errors"))
    assert "application credentials are bound to one project" in errors and OPS in errors


def test_catalog_is_the_tokens_catalog(mnt, fake):
    _, body = fake.token()
    catalog = json.loads(read(mnt.p(".cloudfs", "catalog")))
    assert catalog == body["token"]["catalog"]
    assert {"identity", "compute", "image", "volumev3", "network"} <= {s["type"] for s in catalog}
    ops = json.loads(read(mnt.p("projects", OPS, ".cloudfs", "catalog")))
    assert any(e["url"].endswith("/volume/v3/" + OPS) for s in ops for e in s["endpoints"])


def test_region_is_shown(mnt, fake):
    assert "\nregion RegionOne\n" in read(mnt.p(".cloudfs", "status"))


def test_no_token_file_unless_asked(mnt, fake):
    assert "token" not in os.listdir(mnt.p(".cloudfs"))
    try:
        read(mnt.p(".cloudfs", "token"))
        raise AssertionError("token readable without -o expose_token")
    except FileNotFoundError:
        pass


def test_expose_token_gives_a_working_owner_only_token(mount_factory, fake):
    m = mount_factory("-o", "cache_ttl=2,expose_token")
    st = os.stat(m.p(".cloudfs", "token"))
    assert stat.S_IMODE(st.st_mode) == 0o400 and st.st_uid == os.getuid()
    token = read(m.p(".cloudfs", "token")).strip()
    status, _, _ = fake.request("GET", "/compute/v2.1/servers", token=token)
    assert status == 200
    # rotated with renewal: once the cloud forgets it, the file gives the new one
    fake.expire_tokens()
    os.listdir(m.p("volumes"))  # the 401 makes the mount authenticate again
    new = read(m.p(".cloudfs", "token")).strip()
    assert new != token and fake.request("GET", "/compute/v2.1/servers", token=new)[0] == 200
    # each project its own
    ops = read(m.p("projects", OPS, ".cloudfs", "token")).strip()
    assert ops not in (new, token)
    assert token not in m.log() and new not in m.log()


def test_a_create_in_a_project_lands_there(mnt, fake):
    with open(mnt.p("projects", "ops", "volumes", "opsvol"), "w") as f:
        f.write('{"size": 1}')
    (vol,) = [v for v in fake.state()["volumes"] if v["name"] == "opsvol"]
    assert vol["os-vol-tenant-attr:tenant_id"] == OPS
    assert os.readlink(mnt.p("projects", "ops", "volumes", "opsvol")) == vol["id"]
    assert "opsvol" not in os.listdir(mnt.p("volumes"))
    poll(lambda: [v for v in fake.state()["volumes"] if v["id"] == vol["id"] and v["status"] == "available"])
    out = sh(f"rmdir {mnt.p('projects', 'ops', 'volumes', vol['id'])}")
    assert out.returncode == 0, out.stderr
    assert [r for r in fake.requests(method="DELETE") if r["path"].endswith(f"/volume/v3/{OPS}/volumes/{vol['id']}")]


def test_projects_cannot_be_made_or_removed(mnt, fake):
    for cmd in (f"mkdir {mnt.p('projects', 'new')}", f"rmdir {mnt.p('projects', OPS)}",
                f"rm {mnt.p('projects', 'ops')}", f"ln -s {OPS} {mnt.p('projects', 'alias')}",
                f"touch {mnt.p('projects', 'f')}"):
        out = sh(cmd)
        assert out.returncode != 0, cmd
    assert sorted(os.listdir(mnt.p("projects"))) == sorted([DEMO, OPS, "demo", "ops"])


def test_another_region_is_shown_and_used(mount_factory, fake):
    m = mount_factory("-o", "cache_ttl=2,region=RegionTwo,retries=0,connect_timeout=2,timeout=4")
    assert "\nregion RegionTwo\n" in read(m.p(".cloudfs", "status"))
    catalog = json.loads(read(m.p(".cloudfs", "catalog")))
    two = {e["url"] for s in catalog for e in s["endpoints"] if e["region"] == "RegionTwo"}
    endpoints = dict(line.split(" ", 1) for line in read(m.p(".cloudfs", "endpoints")).splitlines())
    assert endpoints["compute"] in two
    # RegionTwo's services refuse connections: the error says so, nothing hangs
    out = sh(f"ls {m.p('servers')}")
    assert out.returncode != 0
    assert endpoints["compute"].split("/compute")[0] in read(m.p(".cloudfs", "errors"))


def test_an_unknown_region_fails_the_mount(tmp_path, fake):
    from mountutil import start_cloudfs
    env = base_env(fake)
    proc, log = start_cloudfs(str(tmp_path / "m"), env, ["-o", "region=Nowhere"], wait=False)
    assert proc.wait(timeout=20) != 0
    with open(log) as f:
        assert "region 'Nowhere'" in f.read()


def test_an_idle_project_is_dropped(mount_factory, fake):
    # projects_idle=0: a project's session is dropped as soon as nobody uses it
    m = mount_factory("-o", "cache_ttl=30,projects_idle=0")
    fake.clear_requests()
    os.listdir(m.p("projects", OPS, "servers"))
    first = len(token_posts(fake))
    assert first >= 1 and "projects_open 0\n" in read(m.p(".cloudfs", "status"))
    os.listdir(m.p("projects", OPS, "servers"))
    # dropped with its cache: new tokens (the kernel's lookup and the listing each make the
    # session again) and a new listing, though the cache TTL is 30 s
    assert len(token_posts(fake)) > first
    assert len([r for r in fake.requests(method="GET") if r["path"].endswith("/servers/detail")]) == 2


def test_concurrent_readers_across_projects(mount_factory, fake):
    # eight readers over both projects, one session kept at most: sessions are made, shared
    # and dropped under them; every reader sees every server, and the mount stays sound
    m = mount_factory("-o", "cache_ttl=2,projects_kept=1")
    fake.seed(servers=[{"name": f"o{i}", "tenant_id": OPS} for i in range(3)])
    want = {p: len(servers_of(fake, p)) for p in (DEMO, OPS)}
    cmd = " & ".join(f"(for i in 1 2 3; do for p in {DEMO} {OPS}; do "
                     f"echo $p $(cat {m.p('projects')}/$p/servers/*/status | wc -l); done; done)"
                     for _ in range(8)) + " & wait"
    out = sh(cmd)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    got = [ln.split() for ln in lines if ln]
    assert len(got) == 8 * 3 * 2
    assert all(int(n) == want[p] for p, n in got), got
    assert "projects_open" in read(m.p(".cloudfs", "status"))


def test_regions_lists_the_catalogs_regions(mnt, fake):
    assert sorted(os.listdir(mnt.p("regions"))) == ["RegionOne", "RegionTwo"]
    # the default project in RegionOne: the same servers as the root, with the mount's token
    fake.clear_requests()
    assert ids_in(mnt.p("regions", "RegionOne", "servers")) == servers_of(fake, DEMO)
    assert token_posts(fake) == []
    status = read(mnt.p("regions", "RegionOne", ".cloudfs", "status"))
    assert "\nregion RegionOne\n" in status and "project demo (" + DEMO + ")" in status
    # no regions/ or projects/ below it: find ends
    assert sorted(os.listdir(mnt.p("regions", "RegionOne"))) == sorted(
        n for n in os.listdir(mnt.p()) if n not in ("projects", "regions"))


def test_a_dead_region_fails_fast_with_its_url(mount_factory, fake):
    m = mount_factory("-o", "cache_ttl=2,retries=0,connect_timeout=2,timeout=4")
    endpoints = dict(line.split(" ", 1) for line in
                     read(m.p("regions", "RegionTwo", ".cloudfs", "endpoints")).splitlines())
    assert "\nregion RegionTwo\n" in read(m.p("regions", "RegionTwo", ".cloudfs", "status"))
    assert endpoints["compute"] != dict(line.split(" ", 1) for line in
                                        read(m.p(".cloudfs", "endpoints")).splitlines())["compute"]
    out = sh(f"ls {m.p('regions', 'RegionTwo', 'servers')}")
    assert out.returncode != 0
    assert endpoints["compute"].split("/compute")[0] in read(m.p(".cloudfs", "errors"))
    # the mount's own region still answers
    assert ids_in(m.p("servers")) == servers_of(fake, DEMO)
    assert sh(f"ls {m.p('regions', 'Nowhere')}").returncode != 0


def test_regions_is_reachable_but_not_listed(mnt, fake):
    assert "regions" not in os.listdir(mnt.p())
    assert os.path.isdir(mnt.p("regions"))
    out = sh(f"find {mnt.p()} -maxdepth 1 -name regions")
    assert out.stdout == ""
