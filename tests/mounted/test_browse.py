"""Browsing the tree: what a user sees with ls, cat, stat, find, grep, jq."""

import json
import os
import subprocess

from mountutil import NOVA_HEADERS, read, sh

COLLECTIONS = ["servers", "images", "volumes", "networks", "subnets", "flavors", "keypairs"]


def by_name(fake, coll, name):
    return [r for r in fake.state()[coll] if r.get("name") == name]


def test_root_lists_the_collections(mnt):
    names = os.listdir(mnt.path)
    for c in COLLECTIONS:
        assert c in names
    # The control directory is there for `ls -a` but hidden from plain ls.
    assert ".cloudfs" in names
    assert ".cloudfs" not in sh(f"ls {mnt.path}").stdout.split()


def test_each_collection_lists_exactly_the_cloud_ids(mnt, fake):
    state = fake.state()
    for coll in COLLECTIONS:
        key = "name" if coll == "keypairs" else "id"
        expected = sorted(str(r[key]) for r in state[coll])
        assert sorted(os.listdir(mnt.p(coll))) == expected, coll


def test_cat_status_of_every_server_matches_the_cloud(mnt, fake):
    out = sh(f"cd {mnt.path}/servers && for d in *; do echo \"$d $(cat $d/status)\"; done")
    assert out.returncode == 0, out.stderr
    got = dict(line.split() for line in out.stdout.splitlines())
    assert got == {s["id"]: s["status"] for s in fake.state()["servers"]}


def test_ls_l_and_cat_all_statuses_cost_one_listing(mnt, fake):
    fake.clear_requests()
    assert sh(f"ls -l {mnt.path}/servers/").returncode == 0
    out = sh(f"cat {mnt.path}/servers/*/status")
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.split()) == sorted(s["status"] for s in fake.state()["servers"])
    compute = fake.requests(service="compute")
    assert [(r["method"], r["path"]) for r in compute] == [("GET", "/compute/v2.1/servers/detail")]


def status_counter(mnt, name):
    for line in read(mnt.p(".cloudfs", "status")).splitlines():
        k, _, v = line.partition(" ")
        if k == name:
            return int(v)
    raise AssertionError(f"no {name} in .cloudfs/status")


def test_lookups_of_listed_members_parse_nothing(mnt, fake):
    # The listing's parse is the only one: a member's directory, its status
    # (a string), its flavor (an object: a directory), a number and null are
    # answered from the cached text; json renders the parsed document.
    assert sh(f"ls -l {mnt.path}/servers/").returncode == 0
    before = status_counter(mnt, "documents_parsed")
    out = sh(f"cat {mnt.path}/servers/*/status; stat -c %s {mnt.path}/servers/*/name "
             f"{mnt.path}/servers/*/OS-EXT-STS:power_state; ls -d {mnt.path}/servers/*/flavor")
    assert out.returncode == 0, out.stderr
    n = len(fake.state()["servers"])
    assert sorted(out.stdout.split()[:n]) == sorted(s["status"] for s in fake.state()["servers"])
    assert status_counter(mnt, "documents_parsed") == before
    sid = fake.state()["servers"][0]["id"]
    assert json.loads(read(mnt.p("servers", sid, "json")))["id"] == sid
    assert status_counter(mnt, "documents_parsed") == before + 1


def test_security_and_system_xattrs_are_not_supported(mnt, fake):
    # ENOTSUP (not ENODATA) for namespaces the mount has no handler for, as
    # the kernel answers: ls -l remembers it per device and stops asking for
    # them, where ENODATA cost three round trips per entry.
    import errno
    sid = fake.state()["servers"][0]["id"]
    for path in (mnt.p("servers"), mnt.p("servers", sid), mnt.p("servers", sid, "status")):
        for name in ("security.selinux", "system.posix_acl_access", "security.capability"):
            try:
                os.getxattr(path, name)
            except OSError as e:
                assert e.errno == errno.ENOTSUP, (path, name, e)
            else:
                raise AssertionError(f"{name} of {path} answered")


def test_listing_asks_for_big_pages(mnt, fake):
    fake.clear_requests()
    os.listdir(mnt.p("images"))
    # The mount's leftovers sweep (images carrying cloudfs's marker) lists images too, and may
    # land after clear_requests(): every image listing sent asks for big pages.
    reqs = [r for r in fake.requests(service="image") if r["path"].rstrip("/").endswith("/images")]
    assert reqs, fake.requests()
    # Glance's default page is 25; cloudfs asks for the server maximum.
    assert all("limit=1000" in r["query"] for r in reqs), reqs


def nova_server(fake, sid):
    """The server as Nova shows it at the mount's microversion."""
    token, _ = fake.token()
    status, doc = fake.get_json(f"/compute/v2.1/servers/{sid}", token, NOVA_HEADERS)
    assert status == 200, doc
    return doc["server"]


def test_attribute_files_hold_the_json_values(mnt, fake):
    (web1,) = by_name(fake, "servers", "web1")
    web1 = nova_server(fake, web1["id"])
    d = mnt.p("servers", web1["id"])
    assert read(os.path.join(d, "status")) == web1["status"] + "\n"
    assert read(os.path.join(d, "name")) == "web1\n"
    # Objects are directories, their scalars files (the flavor as Nova embeds it from 2.47).
    assert read(os.path.join(d, "flavor", "original_name")) == "m1.tiny\n"
    assert read(os.path.join(d, "flavor", "ram")) == "512\n"
    # Lists are JSON text.
    assert json.loads(read(os.path.join(d, "security_groups"))) == web1["security_groups"]
    # null is an empty file; numbers are their JSON text.
    assert web1["key_name"] is None
    assert read(os.path.join(d, "key_name")) == ""
    assert read(os.path.join(d, "OS-EXT-STS:power_state")) == f"{web1['OS-EXT-STS:power_state']}\n"


def test_json_file_is_the_document_and_jq_reads_it(mnt, fake):
    (web1,) = by_name(fake, "servers", "web1")
    web1 = nova_server(fake, web1["id"])
    path = mnt.p("servers", web1["id"], "json")
    assert json.loads(read(path)) == web1
    out = sh(f"jq -r .flavor.original_name {path}")
    assert out.returncode == 0 and out.stdout.strip() == "m1.tiny"


def test_every_stat_size_equals_the_bytes_read(mnt, fake):
    sizes = sh(f"find {mnt.path}/servers {mnt.path}/networks -type f -exec stat -c '%s %n' {{}} +")
    assert sizes.returncode == 0, sizes.stderr
    lines = sizes.stdout.splitlines()
    assert len(lines) > 50
    for line in lines:
        size, path = line.split(" ", 1)
        if path.endswith("/action"):  # write-only
            continue
        with open(path, "rb") as f:
            assert len(f.read()) == int(size), path


def test_unique_names_are_symlinks_not_listed_twice(mnt, fake):
    (web1,) = by_name(fake, "servers", "web1")
    link = mnt.p("servers", "web1")
    assert os.path.islink(link)
    assert os.readlink(link) == web1["id"]
    assert read(os.path.join(link, "status")) == web1["status"] + "\n"
    assert "web1" not in os.listdir(mnt.p("servers"))
    # Two servers share the name "dup": neither gets the name.
    assert len(by_name(fake, "servers", "dup")) == 2
    assert not os.path.lexists(mnt.p("servers", "dup"))


def test_names_with_a_slash_are_escaped(mnt, fake):
    (ab,) = by_name(fake, "servers", "a/b")
    assert os.readlink(mnt.p("servers", "a%2Fb")) == ab["id"]
    assert read(mnt.p("servers", "a%2Fb", "name")) == "a/b\n"


def test_flavors_resolve_by_name_and_keypairs_by_name(mnt, fake):
    (tiny,) = by_name(fake, "flavors", "m1.tiny")
    assert os.readlink(mnt.p("flavors", "m1.tiny")) == tiny["id"]
    assert read(mnt.p("flavors", "m1.tiny", "ram")) == f"{tiny['ram']}\n"
    key = fake.state()["keypairs"][0]
    assert read(mnt.p("keypairs", key["name"], "fingerprint")) == key["fingerprint"] + "\n"


def test_grep_finds_the_server_in_error(mnt, fake):
    out = sh(f"grep -l ERROR {mnt.path}/servers/*/status")
    broken = [s["id"] for s in fake.state()["servers"] if s["status"] == "ERROR"]
    assert out.stdout.split() == [f"{mnt.path}/servers/{i}/status" for i in broken]


def test_find_walks_the_whole_tree(mnt, fake):
    out = sh(f"find {mnt.path} -name status -path '*/servers/*'")
    assert out.returncode == 0, out.stderr
    found = out.stdout.split()
    # the default project's servers at the root, and again under projects/<its id>/ (demo's
    # other project, ops, has none); find walks no name link
    mine = [p for p in found if "/projects/" not in p]
    assert len(mine) == len(fake.state()["servers"])
    assert len(found) == 2 * len(mine)
    out = sh(f"find {mnt.path} -path {mnt.p('projects')} -prune -o -name status -path '*/servers/*' -print")
    assert sorted(out.stdout.split()) == sorted(mine)


def test_missing_things_are_enoent(mnt):
    for p in ["servers/00000000-0000-0000-0000-000000000000",
              "servers/no-such-name", "nosuchcollection", ".cloudfs/nope"]:
        out = sh(f"stat {mnt.p(p)}")
        assert out.returncode != 0 and "No such file or directory" in out.stderr, p
    (srv,) = os.listdir(mnt.p("servers"))[:1]
    out = sh(f"cat {mnt.p('servers', srv, 'no_such_attribute')}")
    assert "No such file or directory" in out.stderr


def test_what_cannot_change_says_so(mnt, fake):
    srv = fake.state()["servers"][0]["id"]
    for cmd, err in [(f"mkdir {mnt.p('servers', 'new')}", "Invalid argument"),
                     (f"touch {mnt.p('servers', srv, 'x')}", "Permission denied"),
                     (f"echo x > {mnt.p('servers', srv, 'status')}", "Permission denied"),
                     (f"rm {mnt.p('servers', srv, 'status')}", "Operation not permitted"),
                     (f"mv {mnt.p('servers', srv)} {mnt.p('servers', 'x')}", "Operation not permitted"),
                     (f"chmod 777 {mnt.p('servers', srv, 'name')}", "Operation not permitted")]:
        out = sh(cmd)
        assert out.returncode != 0 and err in out.stderr, (cmd, out.stderr)
    assert "need a spec" in read(mnt.p(".cloudfs", "errors"))


def test_control_files(mnt, fake):
    assert read(mnt.p(".cloudfs", "version")).startswith("cloudfs ")
    status = read(mnt.p(".cloudfs", "status"))
    assert "project demo" in status and "user demo" in status
    endpoints = read(mnt.p(".cloudfs", "endpoints"))
    assert f"compute {fake.url}/compute/v2.1" in endpoints
    assert json.loads(read(mnt.p(".cloudfs", "project")))["project"]["name"] == "demo"


def test_resource_mtime_is_the_cloud_update_time(mnt, fake):
    # So `ls -lt servers/` sorts by last change.
    from datetime import datetime, timezone
    for s in fake.state()["servers"]:
        want = datetime.strptime(s["updated"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        assert os.stat(mnt.p("servers", s["id"])).st_mtime == want.timestamp()
        assert os.stat(mnt.p("servers", s["id"], "status")).st_mtime == want.timestamp()


def test_unmount_is_clean(mount_factory):
    m = mount_factory()
    os.listdir(m.p("servers"))
    res = subprocess.run(["fusermount3", "-u", m.path])
    assert res.returncode == 0
    m.proc.wait(timeout=10)
    assert m.proc.returncode == 0
    assert not os.path.ismount(m.path)


def test_server_groups_are_listed_read_only(mnt, fake):
    # A collection added as one row (src/services/compute.c): listing, the name's link,
    # the document's files, and no way to create one.
    (grp,) = fake.seed(server_groups=[{"name": "spread", "policies": ["anti-affinity"]}])["server_groups"]
    fake.clear_requests()
    assert os.listdir(mnt.p("server_groups")) == [grp["id"]]
    assert [(r["method"], r["path"]) for r in fake.requests(service="compute")] == [
        ("GET", "/compute/v2.1/os-server-groups")]
    assert os.readlink(mnt.p("server_groups", "spread")) == grp["id"]
    assert read(mnt.p("server_groups", "spread", "name")) == "spread\n"
    assert json.loads(read(mnt.p("server_groups", grp["id"], "json"))) == grp
    out = sh(f"echo '{{}}' > {mnt.path}/server_groups/new")
    assert out.returncode != 0 and "Permission denied" in out.stderr, out
