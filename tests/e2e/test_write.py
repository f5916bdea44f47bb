"""Changing the cloud through the mount (docs/SEMANTICS.md, "Changing the
cloud"), on a real OpenStack: every gesture is made with a real tool (cp, cat,
echo, ln, rm, rmdir, mkdir) on the mounted tree, and every result is
cross-checked with the openstack CLI.

The tests follow one story and run in file order: an image, a network with a
subnet and a keypair are made through the mount, then a server that uses them,
a volume that is attached and detached, the server is renamed, tagged and
stopped/started/rebooted, and at the end everything is removed with rmdir.
When an earlier gesture failed, a later test makes what it needs with the CLI
instead (same name), so every gesture is tested on its own merits. Whatever
is left at the end — even after a failed assertion — is deleted with the CLI
by the module's `world` fixture, which fails the teardown if something stays.
"""

import errno
import filecmp
import hashlib
import json
import os
import re
import subprocess
import time

import pytest

from conftest import RUN, openrc_env, osc, wait_for
from mountutil import Mount, read, start_cloudfs

NAMES = {
    "image": f"e2e-img-{RUN}.qcow2",
    "image_seq": f"e2e-img-seq-{RUN}.qcow2",
    "net": f"e2e-net-{RUN}",
    "net3": f"e2e-net3-{RUN}",
    "subnet": f"e2e-sub-{RUN}",
    "key": f"e2e-key2-{RUN}",
    "server": f"e2e-web-{RUN}",
    "renamed": f"e2e-renamed-{RUN}",
    "volume": f"e2e-wvol-{RUN}",  # not conftest's seeded e2e-vol-
    "bad_server": f"e2e-bad-{RUN}",
    "flavor": f"e2e-fl-{RUN}",
}
OCTET = int(RUN, 16) % 200 + 20          # 172.16.<OCTET>.0/24, one per run
CIDR = f"172.16.{OCTET}.0/24"
GATEWAY = f"172.16.{OCTET}.1"
TINY = "devcloud-tiny"                   # devcloud's public qcow2 image
NANO_ID = "42"                           # m1.nano, as in devstack


# ---------------------------------------------------------------- helpers

def osc_batch(*lines, env=None):
    """Runs several openstack commands in one CLI process (cliff's interactive
    mode reading stdin): one ~1.5 s start-up instead of one per command.
    Returns the JSON documents printed, in order, and stderr. A failing
    command prints nothing on stdout and its error on stderr."""
    res = subprocess.run(["/usr/bin/openstack"], input="\n".join(lines) + "\n",
                         env=env or openrc_env(), capture_output=True, text=True, timeout=300)
    docs, text, dec = [], res.stdout, json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)
    return docs, res.stderr


def cli_show(what, ref, env):
    """`openstack <what> show <ref>` as a dict, or None when the cloud says no."""
    res = osc(*what.split(), "show", ref, env=env, check=False)
    return res if isinstance(res, dict) else None


def bash(cmd, stdin=None, timeout=60):
    """Runs a command line the way a user would, in bash; stdin is text."""
    return subprocess.run(cmd, shell=True, executable="/bin/bash", input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def ok(res):
    """Asserts a shell command succeeded; shows what it printed if not."""
    assert res.returncode == 0, f"rc={res.returncode} stderr={res.stderr.strip()!r}"
    return res


def value(path):
    """One attribute file's text without its newline, or <ERRNO> if unreadable."""
    try:
        return read(path).rstrip("\n")
    except OSError as e:
        return f"<{errno.errorcode.get(e.errno, e.errno)}>"


def watch(read_state, done, timeout=120, every=0.25):
    """Polls read_state() until done(state) or timeout; returns the distinct
    states seen, in order (e.g. ['BUILD', 'ACTIVE'])."""
    seen = []
    deadline = time.time() + timeout
    while True:
        state = read_state()
        if not seen or seen[-1] != state:
            seen.append(state)
        if done(state) or time.time() > deadline:
            return seen
        time.sleep(every)


def paren_id(text):
    """The CLI shows references as 'name (id)'."""
    m = re.search(r"\(([^()]*)\)\s*$", text or "")
    return m.group(1) if m else text


def errors_file(mnt):
    return value(mnt.p(".cloudfs", "errors"))


def listed(mnt, coll):
    try:
        return os.listdir(mnt.p(coll))
    except OSError as e:
        return [f"<{errno.errorcode.get(e.errno, e.errno)}>"]


def error_lines(mnt):
    try:
        return set(read(mnt.p(".cloudfs", "errors")).splitlines())
    except OSError:
        return set()


def new_errors(mnt, before):
    """Failures cloudfs recorded since `before` (a set from error_lines)."""
    return sorted(error_lines(mnt) - before)


def created(mnt, coll, name, problems, key="id"):
    """The ID of what a gesture just made, found the way a user finds it: by
    name, at once (the spec: "visible (by ID, and by name when unique)
    immediately"; its example reads servers/web1/status right after the cat).
    If the name does not answer at once, that is noted in `problems` and the
    read is retried after the kernel's 1 s entry timeout, so that the rest of
    the test still runs."""
    path = mnt.p(coll, name, key)
    rid = value(path)
    if rid.startswith("<") or not rid:
        problems.append(f"right after the create, reading {coll}/{name}/{key} gave {rid!r}")
        time.sleep(1.2)
        rid = value(path)
    assert rid and not rid.startswith("<"), f"{coll}/{name}/{key}: {rid!r} even after 1.2 s"
    return rid


def check_name_link(mnt, coll, name, rid, problems, since):
    """A unique name is a symlink to the ID directory. Right after mkdir or a
    create the kernel holds the name as the directory or file it made; it may
    keep that entry for min(cache_ttl, 1 s) and cloudfs's own data is at most
    cache_ttl (1 s here) old, so by 3 s after the gesture returned (`since`)
    the name must read as the symlink."""
    while True:
        try:
            target = os.readlink(mnt.p(coll, name))
        except OSError as e:
            target = f"<{errno.errorcode.get(e.errno, e.errno)}>"
        if target == rid or time.time() > since + 3.0:
            break
        time.sleep(0.2)
    if target != rid:
        problems.append(f"3 s after the create, readlink {coll}/{name} gave {target!r}, "
                        f"not the ID {rid}")


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def mnt(tmp_path_factory, demo_env):
    """This module's own mount (no CLI-seeded resources needed): short TTLs so
    the cloud's changes show within a second."""
    path = str(tmp_path_factory.mktemp("e2e-write") / "mnt")
    proc, log = start_cloudfs(path, demo_env, ["-o", "cache_ttl=1,negative_ttl=1"], timeout=30)
    m = Mount(path, proc, log)
    yield m
    m.unmount()


@pytest.fixture(scope="module")
def world(tmp_path_factory, demo_env):
    """What the story made (ids by kind, and how), and the files it used;
    deletes with the CLI every resource of this run that is left at the end."""
    tmp = tmp_path_factory.mktemp("e2e-write-files")
    w = {"tmp": str(tmp), "ids": {}, "via_cli": set()}
    yield w
    sweep(demo_env, w)


def leftovers(env, w):
    """Every resource of this run still in the cloud, by kind: [(id, name, status)]."""
    docs, err = osc_batch("server list -f json", "volume list -f json",
                          "network list -f json", "subnet list -f json",
                          "image list -f json", "keypair list -f json",
                          "flavor list --all -f json", env=env)
    assert len(docs) == 7, f"CLI listing for the cleanup failed: {err}"
    known = set(str(v) for v in w["ids"].values())
    left = {}
    for kind, rows in zip(["server", "volume", "network", "subnet", "image", "keypair",
                           "flavor"], docs):
        for row in rows:
            rid = str(row.get("ID", row.get("Name")))
            name = str(row.get("Name", ""))
            if RUN in name or rid in known:
                left.setdefault(kind, []).append((rid, name, row.get("Status")))
    return left


def sweep(env, w):
    left = leftovers(env, w)
    for attempt in range(3):
        if not left:
            return
        # In dependency order; keypairs are deleted by name (column 1), the rest by id.
        order = [("server", "server delete --wait", 0), ("volume", "volume delete", 0),
                 ("subnet", "subnet delete", 0), ("network", "network delete", 0),
                 ("image", "image delete", 0), ("keypair", "keypair delete", 1)]
        cmds = [cmd + " " + " ".join(r[col] for r in left[kind])
                for kind, cmd, col in order if kind in left]
        osc_batch(*cmds, env=env)
        if "flavor" in left:      # only if a demo flavor create wrongly succeeded
            osc_batch("flavor delete " + " ".join(r[0] for r in left["flavor"]),
                      env=openrc_env("openrc"))
        time.sleep(2 * attempt)   # a volume detached by a server delete settles
        left = leftovers(env, w)
    assert not left, f"cleanup left resources of run {RUN} behind: {left}"


# Fallbacks: a later gesture needs an earlier one's resource. If the mount did
# not make it, find it by name (it may exist although a check failed) or make
# it with the CLI, so that the later gesture is still tested.

def by_cli(w, kind, ident):
    """Records that @kind's resource was found or made with the CLI, not through the mount."""
    w["ids"][kind] = ident
    w["via_cli"].add(kind)
    print(f"{kind} {NAMES[kind]} found or made with the CLI (no mount-made one)")


def need_network(w, env):
    if "net" not in w["ids"]:
        doc = cli_show("network", NAMES["net"], env) or osc(
            "network", "create", NAMES["net"], env=env)
        by_cli(w, "net", doc["id"])
    return w["ids"]["net"]


def need_subnet(w, env):
    if "subnet" not in w["ids"]:
        net = need_network(w, env)
        doc = cli_show("subnet", NAMES["subnet"], env) or osc(
            "subnet", "create", "--network", net, "--subnet-range", CIDR, "--gateway", GATEWAY,
            "--no-dhcp", "--dns-nameserver", "192.0.2.53", NAMES["subnet"], env=env)
        by_cli(w, "subnet", doc["id"])
    return w["ids"]["subnet"]


def keyfile(w):
    path = os.path.join(w["tmp"], NAMES["key"])
    if not os.path.exists(path):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", path],
                       check=True)
    return path


def need_keypair(w, env):
    if "key" not in w["ids"]:
        if not cli_show("keypair", NAMES["key"], env):
            osc("keypair", "create", "--public-key", keyfile(w) + ".pub", NAMES["key"], env=env)
        by_cli(w, "key", NAMES["key"])
    return w["ids"]["key"]


def qcow2_file(w):
    path = os.path.join(w["tmp"], NAMES["image"])
    if not os.path.exists(path):
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "32M"], check=True)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xcd 0 3M", path], check=True,
                       capture_output=True)
    return path


def need_image(w, env):
    if "image" not in w["ids"]:
        doc = cli_show("image", NAMES["image"], env) or osc(
            "image", "create", "--disk-format", "qcow2", "--container-format", "bare",
            "--file", qcow2_file(w), NAMES["image"], env=env)
        by_cli(w, "image", doc["id"])
    return w["ids"]["image"]


def need_server(w, env):
    if "server" not in w["ids"]:
        net, key = need_network(w, env), need_keypair(w, env)
        need_subnet(w, env)       # Nova boots only on a network with a subnet
        doc = cli_show("server", NAMES["server"], env) or osc(
            "server", "create", "--image", TINY, "--flavor", "m1.nano", "--network", net,
            "--key-name", key, NAMES["server"], env=env)
        by_cli(w, "server", doc["id"])
        status = osc("server", "show", doc["id"], env=env)["status"]
        if status != "ACTIVE":
            wait_for(lambda: osc("server", "show", doc["id"], env=env)["status"]
                     in ("ACTIVE", "ERROR"), timeout=120)
    return w["ids"]["server"]


def need_volume(w, env):
    if "volume" not in w["ids"]:
        doc = cli_show("volume", NAMES["volume"], env) or osc(
            "volume", "create", "--size", "1", NAMES["volume"], env=env)
        by_cli(w, "volume", doc["id"])
        wait_for(lambda: osc("volume", "show", doc["id"], env=env)["status"]
                 in ("available", "error"), timeout=60)
    return w["ids"]["volume"]


def server_status(mnt, sid):
    d = mnt.p("servers", sid)
    return value(os.path.join(d, "status")), value(os.path.join(d, "OS-EXT-STS:task_state"))


def wait_server(mnt, sid, want, timeout=60):
    """Polls the mount until the server is `want` with no task in progress."""
    seen = watch(lambda: server_status(mnt, sid), lambda s: s == (want, ""), timeout)
    assert seen[-1] == (want, ""), f"server never reached {want}; saw {seen}"
    return seen


# ------------------------------------------------------------------ 1. image

UPLOADS = [
    # the gesture of the spec. GNU cp (9.1, --sparse=auto) finds the qcow2's
    # hole with SEEK_DATA and then also skips runs of zeros in the data with
    # lseek(SEEK_CUR) on the destination: the upload sees writes with gaps
    ("cp", "image", "cp {src} {images}/"),
    # the same bytes written strictly in order: isolates the upload itself
    ("cp-sparse-never", "image_seq", "cp --sparse=never {src} {images}/{name}"),
]


@pytest.mark.parametrize("how,key,cmd", UPLOADS, ids=[u[0] for u in UPLOADS])
def test_01_cp_uploads_a_qcow2_image(mnt, world, demo_env, how, key, cmd):
    src, name = qcow2_file(world), NAMES[key]
    problems, errs = [], error_lines(mnt)
    ok(bash(cmd.format(src=src, images=mnt.p("images"), name=name)))
    t0 = time.time()
    iid = created(mnt, "images", name, problems)
    world["ids"][key] = iid
    data = open(src, "rb").read()
    md5, sha512 = hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest()
    # the mount, right after close: nothing stale
    d = mnt.p("images", iid)
    assert value(os.path.join(d, "status")) == "active"
    assert value(os.path.join(d, "disk_format")) == "qcow2"
    assert value(os.path.join(d, "container_format")) == "bare"
    assert value(os.path.join(d, "checksum")) == md5
    assert value(os.path.join(d, "size")) == str(len(data))
    # the bytes back through the mount
    out = os.path.join(world["tmp"], f"via-mount-{how}.qcow2")
    ok(bash(f"cp {mnt.p('images', iid, 'data')} {out} && cmp {src} {out}"))
    assert os.stat(mnt.p("images", iid, "data")).st_size == len(data)
    # the cloud: one CLI process for show + save
    saved = os.path.join(world["tmp"], f"via-cli-{how}.qcow2")
    docs, err = osc_batch(f"image show {name} -f json",
                          f"image save --file {saved} {iid}", env=demo_env)
    assert docs, f"openstack image show {name} failed: {err}"
    img = docs[0]
    assert img["id"] == iid
    assert img["name"] == name
    assert (img["disk_format"], img["container_format"], img["status"]) == (
        "qcow2", "bare", "active")
    assert img["checksum"] == md5
    assert img["size"] == len(data)
    assert img["properties"].get("os_hash_value") == sha512
    assert os.path.exists(saved), f"openstack image save failed: {err}"
    assert filecmp.cmp(src, saved, shallow=False), "image save differs from the file uploaded"
    check_name_link(mnt, "images", name, iid, problems, t0)
    assert not new_errors(mnt, errs), "a successful upload recorded failures"
    assert not problems
    if key == "image_seq":   # only a probe; rmdir itself is tested in test_07
        bash(f"rmdir {mnt.p('images', iid)}")


# ----------------------------------------------------------- 2. network, subnet

def test_02a_mkdir_creates_a_network(mnt, world, demo_env):
    problems, errs = [], error_lines(mnt)
    ok(bash(f"mkdir {mnt.p('networks', NAMES['net'])}"))
    t0 = time.time()
    nid = created(mnt, "networks", NAMES["net"], problems)
    world["ids"]["net"] = nid
    assert nid in os.listdir(mnt.p("networks"))
    assert value(mnt.p("networks", nid, "name")) == NAMES["net"]
    net = osc("network", "show", NAMES["net"], env=demo_env)
    assert net["id"] == nid
    assert net["name"] == NAMES["net"]
    assert net["status"] == "ACTIVE"
    check_name_link(mnt, "networks", NAMES["net"], nid, problems, t0)
    assert not new_errors(mnt, errs), "a successful mkdir recorded failures"
    assert not problems


def test_02b_cat_spec_creates_a_subnet(mnt, world, demo_env):
    nid = need_network(world, demo_env)
    spec = json.dumps({"network": NAMES["net"], "cidr": CIDR, "gateway": GATEWAY,
                       "dhcp": False, "dns": ["192.0.2.53"]})
    problems, errs = [], error_lines(mnt)
    ok(bash(f"cat > {mnt.p('subnets', NAMES['subnet'])}", stdin=spec))
    t0 = time.time()
    sid = created(mnt, "subnets", NAMES["subnet"], problems)
    world["ids"]["subnet"] = sid
    d = mnt.p("subnets", sid)
    assert value(os.path.join(d, "cidr")) == CIDR
    assert value(os.path.join(d, "network_id")) == nid
    sub = osc("subnet", "show", NAMES["subnet"], env=demo_env)
    assert sub["id"] == sid
    assert sub["name"] == NAMES["subnet"]
    assert sub["network_id"] == nid
    assert sub["cidr"] == CIDR
    assert sub["ip_version"] == 4          # from the CIDR
    assert sub["gateway_ip"] == GATEWAY
    assert sub["enable_dhcp"] is False
    assert sub["dns_nameservers"] == ["192.0.2.53"]
    check_name_link(mnt, "subnets", NAMES["subnet"], sid, problems, t0)
    # bash opens, dup2s and closes the file once before cat writes: that
    # first close must not send a spec-less POST (one gesture, one API call)
    assert not new_errors(mnt, errs), "a successful create recorded failures"
    assert not problems


def test_02c_echo_spec_into_networks_creates_exactly_one(mnt, world, demo_env):
    """`echo SPEC > networks/x`: bash opens the file, dup2s it onto stdout and
    closes the original descriptor (a flush with nothing written) before echo
    writes; the network must be created once, with the spec."""
    name = NAMES["net3"]
    ok(bash(f"echo '{{\"description\": \"e2e {RUN}\"}}' > {mnt.p('networks', name)}"))
    rows = osc("network", "list", "--name", name, env=demo_env)
    for row in rows:
        world["ids"][f"net3:{row['ID']}"] = row["ID"]
    assert len(rows) == 1, f"{len(rows)} networks named {name}: {rows}"
    net = osc("network", "show", rows[0]["ID"], env=demo_env)
    assert net["description"] == f"e2e {RUN}"
    assert value(mnt.p("networks", net["id"], "description")) == f"e2e {RUN}"
    ok(bash(f"rmdir {mnt.p('networks', net['id'])}"))
    world["ids"].pop(f"net3:{net['id']}")


# ----------------------------------------------------------------- 3. keypair

def test_03_cp_public_key_imports_a_keypair(mnt, world, demo_env):
    key = keyfile(world)
    problems, errs = [], error_lines(mnt)
    ok(bash(f"cp {key}.pub {mnt.p('keypairs', NAMES['key'])}"))
    world["ids"]["key"] = NAMES["key"]
    # a keypair's directory is its name: usable at once
    assert created(mnt, "keypairs", NAMES["key"], problems, key="name") == NAMES["key"]
    fp = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", key + ".pub"], check=True,
                        capture_output=True, text=True).stdout.split()[1]
    fp = fp.removeprefix("MD5:")
    assert NAMES["key"] in os.listdir(mnt.p("keypairs"))
    assert value(mnt.p("keypairs", NAMES["key"], "fingerprint")) == fp
    assert value(mnt.p("keypairs", NAMES["key"], "public_key")).strip() == \
        open(key + ".pub").read().strip()
    kp = osc("keypair", "show", NAMES["key"], env=demo_env)
    assert kp["name"] == NAMES["key"]
    assert kp["fingerprint"] == fp
    assert kp["type"] == "ssh"
    assert not new_errors(mnt, errs), "a successful import recorded failures"
    assert not problems


# ------------------------------------------------------------------ 4. server

def test_04_cat_spec_creates_a_server_by_names(mnt, world, demo_env):
    need_subnet(world, demo_env)
    need_keypair(world, demo_env)
    spec = json.dumps({"image": TINY, "flavor": "m1.nano", "networks": [NAMES["net"]],
                       "key_name": NAMES["key"]})
    problems, errs = [], error_lines(mnt)
    ok(bash(f"cat > {mnt.p('servers', NAMES['server'])}", stdin=spec))
    t0 = time.time()
    sid = created(mnt, "servers", NAMES["server"], problems)
    world["ids"]["server"] = sid
    seen = watch(lambda: value(mnt.p("servers", NAMES["server"], "status")),
                 lambda s: s in ("ACTIVE", "ERROR"), timeout=120)
    print(f"servers/{NAMES['server']}/status went {' -> '.join(seen)}")
    assert seen[-1] == "ACTIVE", f"status went {seen}"
    assert set(seen) <= {"BUILD", "ACTIVE"}, f"status went {seen}"
    if seen[0] != "BUILD":     # Nova takes ~2 s: the first read must catch BUILD
        problems.append(f"status never showed BUILD: {seen}")
    d = mnt.p("servers", sid)
    srv = osc("server", "show", sid, env=demo_env)
    assert value(os.path.join(d, "id")) == srv["id"] == sid
    assert value(os.path.join(d, "name")) == srv["name"] == NAMES["server"]
    assert value(os.path.join(d, "status")) == srv["status"] == "ACTIVE"
    assert value(os.path.join(d, "key_name")) == srv["key_name"] == NAMES["key"]
    # at the mount's microversion (2.70: .cloudfs/status) Nova embeds the flavor by name
    assert paren_id(srv["flavor"]) == NANO_ID
    assert value(os.path.join(d, "flavor", "original_name")) == "m1.nano"
    tiny = os.readlink(mnt.p("images", TINY))
    assert value(os.path.join(d, "image", "id")) == paren_id(srv["image"]) == tiny
    assert list(srv["addresses"]) == [NAMES["net"]], "not on the network named in the spec"
    assert srv["addresses"][NAMES["net"]][0].startswith(f"172.16.{OCTET}.")
    check_name_link(mnt, "servers", NAMES["server"], sid, problems, t0)
    assert not new_errors(mnt, errs), "a successful create recorded failures"
    assert not problems


# ------------------------------------------------------------------ 5. volume

def test_05a_cat_spec_creates_a_volume(mnt, world, demo_env):
    problems, errs = [], error_lines(mnt)
    ok(bash(f"cat > {mnt.p('volumes', NAMES['volume'])}", stdin='{"size": 1}\n'))
    t0 = time.time()
    vid = created(mnt, "volumes", NAMES["volume"], problems)
    world["ids"]["volume"] = vid
    seen = watch(lambda: value(mnt.p("volumes", vid, "status")),
                 lambda s: s in ("available", "error"), timeout=60)
    print(f"volumes/{vid}/status went {' -> '.join(seen)}")
    assert seen[-1] == "available", f"status went {seen}"
    vol = osc("volume", "show", vid, env=demo_env)
    assert vol["name"] == NAMES["volume"]
    assert vol["size"] == 1
    assert vol["status"] == "available"
    assert value(mnt.p("volumes", vid, "size")) == "1"
    check_name_link(mnt, "volumes", NAMES["volume"], vid, problems, t0)
    assert not new_errors(mnt, errs), "a successful create recorded failures"
    assert not problems


def test_05b_ln_s_attaches_and_rmdir_is_busy(mnt, world, demo_env):
    sid, vid = need_server(world, demo_env), need_volume(world, demo_env)
    link = mnt.p("servers", sid, "volumes", vid)
    ok(bash(f"ln -s ../../../volumes/{vid} {link}"))
    seen = watch(lambda: value(mnt.p("volumes", vid, "status")),
                 lambda s: s in ("in-use", "available", "error"), timeout=60)
    print(f"attach: volumes/{vid}/status went {' -> '.join(seen)}")
    assert seen[-1] == "in-use", f"status went {seen}"
    assert vid in os.listdir(mnt.p("servers", sid, "volumes"))
    assert os.readlink(link) == f"../../../volumes/{vid}"
    # deleting an attached volume is refused, and nothing is deleted
    res = bash(f"rmdir {mnt.p('volumes', vid)}")
    assert res.returncode != 0, "rmdir of an attached volume succeeded"
    assert "Device or resource busy" in res.stderr, res.stderr
    vol = osc("volume", "show", vid, env=demo_env)
    assert vol["status"] == "in-use"
    assert [a["server_id"] for a in vol["attachments"]] == [sid]
    assert vid in os.listdir(mnt.p("volumes"))


def test_05c_rm_detaches(mnt, world, demo_env):
    sid, vid = need_server(world, demo_env), need_volume(world, demo_env)
    if cli_show("volume", vid, demo_env)["status"] != "in-use":   # the attach test failed
        osc("server", "add", "volume", sid, vid, env=demo_env)
        wait_for(lambda: osc("volume", "show", vid, env=demo_env)["status"] == "in-use", 60)
    ok(bash(f"rm {mnt.p('servers', sid, 'volumes', vid)}"))
    seen = watch(lambda: value(mnt.p("volumes", vid, "status")),
                 lambda s: s in ("available", "error", "error_detaching"), timeout=60)
    print(f"detach: volumes/{vid}/status went {' -> '.join(seen)}")
    assert seen[-1] == "available", f"status went {seen}"
    assert vid not in os.listdir(mnt.p("servers", sid, "volumes"))
    vol = osc("volume", "show", vid, env=demo_env)
    assert vol["status"] == "available"
    assert vol["attachments"] == []


# ------------------------------------------- 6. rename, metadata, actions, console

def test_06a_echo_renames_the_server(mnt, world, demo_env):
    sid = need_server(world, demo_env)
    ok(bash(f"echo {NAMES['renamed']} > {mnt.p('servers', sid, 'name')}"))
    assert value(mnt.p("servers", sid, "name")) == NAMES["renamed"]      # nothing stale
    assert os.readlink(mnt.p("servers", NAMES["renamed"])) == sid
    srv = osc("server", "show", sid, "-c", "name", env=demo_env)
    assert srv["name"] == NAMES["renamed"]


def test_06b_metadata_set_and_rm(mnt, world, demo_env):
    sid = need_server(world, demo_env)
    md = mnt.p("servers", sid, "metadata")
    ok(bash(f"echo web > {md}/role"))
    assert value(os.path.join(md, "role")) == "web"
    props = osc("server", "show", sid, "-c", "properties", env=demo_env)["properties"]
    assert props == {"role": "web"}
    ok(bash(f"rm {md}/role"))
    assert "role" not in os.listdir(md)
    props = osc("server", "show", sid, "-c", "properties", env=demo_env)["properties"]
    assert props == {}


def test_06c_actions_stop_start_reboot(mnt, world, demo_env):
    sid = need_server(world, demo_env)
    action = mnt.p("servers", sid, "action")
    wait_server(mnt, sid, "ACTIVE")
    timeline = {}
    for verb, want in [("stop", "SHUTOFF"), ("start", "ACTIVE"), ("reboot", "ACTIVE")]:
        ok(bash(f"echo {verb} > {action}"))
        timeline[verb] = wait_server(mnt, sid, want, timeout=60)
    print("actions:", {v: [s for s, _ in t] for v, t in timeline.items()})
    docs, err = osc_batch(f"server show {sid} -f json -c status",
                          f"server event list {sid} -f json", env=demo_env)
    assert len(docs) == 2, err
    assert docs[0]["status"] == "ACTIVE"
    actions = [e["Action"] for e in docs[1]]
    for verb in ("stop", "start", "reboot"):
        assert verb in actions, f"nova recorded no {verb}: {actions}"


def test_06d_console_shows_the_fake_drivers_output(mnt, world, demo_env):
    sid = need_server(world, demo_env)
    res = ok(bash(f"cat {mnt.p('servers', sid, 'console')}"))
    assert "FAKE CONSOLE OUTPUT" in res.stdout


# ------------------------------------------------------------------ 7. delete

# (kind, collection, CLI noun, how the test finds or makes the resource)
DELETES = [
    ("server", "servers", "server", need_server),
    ("volume", "volumes", "volume", need_volume),
    ("subnet", "subnets", "subnet", need_subnet),
    ("net", "networks", "network", need_network),
    ("image", "images", "image", need_image),
    ("key", "keypairs", "keypair", need_keypair),
]


@pytest.mark.parametrize("kind,coll,noun,need", DELETES, ids=[d[0] for d in DELETES])
def test_07_rmdir_deletes(mnt, world, demo_env, kind, coll, noun, need):
    rid = need(world, demo_env)
    if kind == "volume" and cli_show("volume", rid, demo_env)["status"] != "available":
        # the detach test failed; deleting the server detaches it
        wait_for(lambda: osc("volume", "show", rid, env=demo_env)["status"] == "available", 60)
    ok(bash(f"rmdir {mnt.p(coll, rid)}"))
    seen = watch(lambda: rid in listed(mnt, coll), lambda present: not present, timeout=60)
    assert seen[-1] is False, f"{coll}/{rid} still listed by ls after 60 s"
    assert not os.path.exists(mnt.p(coll, rid))
    res = osc(noun, "show", rid, env=demo_env, check=False)
    assert not isinstance(res, dict), f"the cloud still has it: {res}"
    assert res.returncode != 0
    world["ids"].pop(kind)


# ---------------------------------------------------------------- 8. failures

def test_08a_unknown_image_name_fails_and_creates_nothing(mnt, world, demo_env):
    bad = f"no-such-image-{RUN}"
    spec = json.dumps({"image": bad, "flavor": "m1.nano", "networks": ["private"]})
    res = bash(f"cat > {mnt.p('servers', NAMES['bad_server'])}", stdin=spec)
    assert res.returncode != 0, "a spec naming an unknown image was accepted"
    assert "Invalid argument" in res.stderr, res.stderr
    assert bad in errors_file(mnt) + mnt.log(), "the unknown name is not reported"
    assert not os.path.lexists(mnt.p("servers", NAMES["bad_server"]))
    names = [r["Name"] for r in osc("server", "list", env=demo_env)]
    assert NAMES["bad_server"] not in names


def test_08b_flavor_create_as_demo_is_permission_denied(mnt, world, demo_env):
    spec = json.dumps({"ram": 64, "vcpus": 1, "disk": 0})
    res = bash(f"cat > {mnt.p('flavors', NAMES['flavor'])}", stdin=spec)
    assert res.returncode != 0, "demo created a flavor"
    assert "Permission denied" in res.stderr, res.stderr
    assert not os.path.lexists(mnt.p("flavors", NAMES["flavor"]))
    names = [r["Name"] for r in osc("flavor", "list", "--all", env=demo_env)]
    assert NAMES["flavor"] not in names
