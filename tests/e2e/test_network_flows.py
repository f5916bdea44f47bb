"""The course's networking flow through the mount on devcloud, each step cross-checked with the
openstack CLI (issue 13): a network and subnet, a router with the subnet plugged in and its
gateway on `public`, a security group with ssh and icmp rules, a server waited for with
`cat .../wait`, a floating IP associated with it, then everything taken apart again; and the wait's
failure and deletion paths. Steps run in order and share one module's resources; what is left is
swept with the CLI at the end."""

import errno
import json
import os
import subprocess
import time

import pytest

from conftest import RUN, osc, wait_for
from mountutil import Mount, start_cloudfs

N = {"net": f"e2e-nf-net-{RUN}", "sub": f"e2e-nf-sub-{RUN}", "router": f"e2e-nf-r-{RUN}",
     "sg": f"e2e-nf-sg-{RUN}", "vm": f"e2e-nf-vm-{RUN}", "group": f"e2e-nf-apart-{RUN}",
     "a1": f"e2e-nf-a1-{RUN}", "a2": f"e2e-nf-a2-{RUN}"}


def bash(cmd, stdin=None, timeout=120):
    return subprocess.run(["bash", "-c", cmd], input=stdin, capture_output=True, text=True,
                          timeout=timeout)


def ok(res):
    assert res.returncode == 0, f"exit {res.returncode}: {res.stderr}"
    return res


def failed(res, message):
    assert res.returncode != 0, f"expected {message!r}, got success"
    assert message in res.stderr, res.stderr


def read(path):
    with open(path) as f:
        return f.read()


def errors(mnt):
    return read(mnt.p(".cloudfs", "errors"))


@pytest.fixture(scope="module")
def mnt(tmp_path_factory, demo_env):
    path = str(tmp_path_factory.mktemp("e2e-net") / "mnt")
    proc, log = start_cloudfs(path, demo_env, ["-o", "cache_ttl=1,negative_ttl=1"], timeout=30)
    m = Mount(path, proc, log)
    yield m
    m.unmount()


@pytest.fixture(scope="module")
def w(demo_env):
    """What the steps made (ids), swept with the CLI afterwards, dependencies first."""
    made = {}
    yield made
    env = demo_env
    for key in ("vm", "a1", "a2"):
        if made.get(key):
            osc("server", "delete", "--wait", made[key], env=env, parse=False, check=False)
    if made.get("fip"):
        osc("floating", "ip", "delete", made["fip"], env=env, parse=False, check=False)
    if made.get("router"):
        osc("router", "remove", "subnet", made["router"], N["sub"], env=env, parse=False, check=False)
        osc("router", "unset", "--external-gateway", made["router"], env=env, parse=False, check=False)
        osc("router", "delete", made["router"], env=env, parse=False, check=False)
    for kind, key in (("security group", "sg"), ("network", "net"), ("server group", "group")):
        if made.get(key):
            osc(*kind.split(), "delete", made[key], env=env, parse=False, check=False)


def test_01_network_subnet_router(mnt, w, demo_env):
    ok(bash(f"mkdir {mnt.p('networks', N['net'])}"))
    w["net"] = os.readlink(mnt.p("networks", N["net"]))
    ok(bash(f"cat > {mnt.p('subnets', N['sub'])}",
            f'{{"network": "{N["net"]}", "cidr": "10.96.{int(RUN, 16) % 200}.0/24"}}'))
    w["sub"] = os.readlink(mnt.p("subnets", N["sub"]))
    ok(bash(f"mkdir {mnt.p('routers', N['router'])}"))
    w["router"] = os.readlink(mnt.p("routers", N["router"]))
    assert osc("subnet", "show", w["sub"], env=demo_env)["network_id"] == w["net"]


def test_02_ln_s_plugs_the_subnet_into_the_router(mnt, w, demo_env):
    iface = mnt.p("routers", w["router"], "interfaces")
    assert os.listdir(iface) == []
    ok(bash(f"ln -s ../../../subnets/{N['sub']} {iface}/{N['sub']}"))
    ports = osc("port", "list", "--router", w["router"], "--long", env=demo_env)
    assert [ip["subnet_id"] for p in ports for ip in p["Fixed IP Addresses"]] == [w["sub"]]
    assert os.listdir(iface) == [w["sub"]]
    assert os.readlink(f"{iface}/{w['sub']}") == f"../../../subnets/{w['sub']}"
    # again, under its id: it is there already
    failed(bash(f"ln -s ../../../subnets/{w['sub']} {iface}/again"), "File exists")


def test_03_gateway_on_public(mnt, w, demo_env):
    gw = mnt.p("routers", w["router"], "gateway")
    assert read(gw) == ""
    ok(bash(f"echo public > {gw}"))
    shown = osc("router", "show", w["router"], env=demo_env)["external_gateway_info"]
    public = osc("network", "show", "public", env=demo_env)["id"]
    assert shown["network_id"] == public
    assert read(gw) == public + "\n"
    ips = json.loads(read(mnt.p("routers", w["router"], "external_gateway_info", "external_fixed_ips")))
    assert [i["ip_address"] for i in ips] == [i["ip_address"] for i in shown["external_fixed_ips"]]
    assert ips[0]["ip_address"].startswith("203.0.113.")
    failed(bash(f"echo {N['net']} > {gw}"), "Invalid argument")
    assert "is not an external network" in errors(mnt)


def test_04_security_group_rules(mnt, w, demo_env):
    ok(bash(f"mkdir {mnt.p('security_groups', N['sg'])}"))
    w["sg"] = os.readlink(mnt.p("security_groups", N["sg"]))
    rules = mnt.p("security_groups", N["sg"], "rules")
    ok(bash(f"cat > {rules}/ssh", '{"port": 22, "remote": "0.0.0.0/0"}'))
    ok(bash(f"cat > {rules}/icmp", '{"protocol": "icmp", "remote": "0.0.0.0/0"}'))
    listed = osc("security", "group", "rule", "list", w["sg"], "--long", env=demo_env)
    ingress = sorted((r["IP Protocol"], r["Port Range"], r["IP Range"]) for r in listed
                     if r["Direction"] == "ingress")
    assert ingress == [("icmp", "", "0.0.0.0/0"), ("tcp", "22:22", "0.0.0.0/0")]
    assert {r["ID"] for r in listed} == set(os.listdir(rules))
    rid = os.path.basename(os.readlink(f"{rules}/ssh"))
    assert read(mnt.p("security_group_rules", rid, "port_range_min")) == "22\n"
    # the same rule again: Neutron's 409, EEXIST
    failed(bash(f"cat > {rules}/ssh-again", '{"port": 22, "remote": "0.0.0.0/0"}'), "File exists")
    assert f"Rule id is {rid}" in errors(mnt)
    # from the collection too, and rmdir deletes
    ok(bash(f"cat > {mnt.p('security_group_rules', 'web-' + RUN)}",
            f'{{"group": "{N["sg"]}", "port": "8000:8080", "remote": "10.0.0.0/8"}}'))
    web = os.readlink(mnt.p("security_group_rules", "web-" + RUN))
    shown = osc("security", "group", "rule", "show", web, env=demo_env)
    assert (shown["port_range_min"], shown["port_range_max"], shown["security_group_id"]) == (8000, 8080, w["sg"])
    ok(bash(f"rmdir {mnt.p('security_group_rules', web)}"))
    assert osc("security", "group", "rule", "show", web, env=demo_env, parse=False, check=False).returncode


def test_05_server_and_wait(mnt, w, demo_env):
    ok(bash(f"cat > {mnt.p('servers', N['vm'])}",
            json.dumps({"image": "devcloud-tiny", "flavor": "m1.nano", "networks": [N["net"]],
                        "security_groups": [N["sg"]]})))
    w["vm"] = os.readlink(mnt.p("servers", N["vm"]))
    res = ok(bash(f"cat {mnt.p('servers', N['vm'], 'wait')}", timeout=300))
    assert res.stdout == "ACTIVE\n"
    assert osc("server", "show", w["vm"], env=demo_env)["status"] == "ACTIVE"


def test_06_floating_ip_associated_with_the_server(mnt, w, demo_env):
    before = {f["ID"] for f in osc("floating", "ip", "list", env=demo_env)}
    ok(bash(f"cat > {mnt.p('floating_ips', 'fip-' + RUN)}", '{"network": "public"}'))
    (fip,) = [f for f in osc("floating", "ip", "list", env=demo_env) if f["ID"] not in before]
    w["fip"], addr = fip["ID"], fip["Floating IP Address"]
    assert w["fip"] in os.listdir(mnt.p("floating_ips"))
    fdir = mnt.p("servers", N["vm"], "floating_ips")
    assert os.listdir(fdir) == []
    ok(bash(f"ln -s ../../../floating_ips/{w['fip']} {fdir}/{addr}"))
    shown = osc("floating", "ip", "show", w["fip"], env=demo_env)
    ports = osc("port", "list", "--server", w["vm"], env=demo_env)
    assert shown["port_id"] == ports[0]["ID"] and shown["router_id"] == w["router"]
    assert os.listdir(fdir) == [addr]
    assert read(mnt.p("floating_ips", w["fip"], "port")) == shown["port_id"] + "\n"
    # the interface and the gateway are needed now
    failed(bash(f"rm {mnt.p('routers', w['router'], 'interfaces', w['sub'])}"), "Device or resource busy")
    assert "required by one or more floating IPs" in errors(mnt)
    failed(bash(f"echo none > {mnt.p('routers', w['router'], 'gateway')}"), "Device or resource busy")


def test_07_take_it_apart(mnt, w, demo_env):
    fdir = mnt.p("servers", N["vm"], "floating_ips")
    (addr,) = os.listdir(fdir)
    ok(bash(f"rm {fdir}/{addr}"))
    assert osc("floating", "ip", "show", w["fip"], env=demo_env)["port_id"] is None
    ok(bash(f"rmdir {mnt.p('floating_ips', w['fip'])}"))
    w.pop("fip")
    ok(bash(f"echo none > {mnt.p('routers', w['router'], 'gateway')}"))
    assert osc("router", "show", w["router"], env=demo_env)["external_gateway_info"] in (None, {})
    ok(bash(f"rm {mnt.p('routers', w['router'], 'interfaces', w['sub'])}"))
    assert osc("port", "list", "--router", w["router"], env=demo_env) == []
    ok(bash(f"rmdir {mnt.p('servers', w['vm'])}"))
    # the "--wait" of delete: the wait ends with ENOENT once the server is gone
    res = bash(f"cat {mnt.p('servers', w['vm'], 'wait')}", timeout=300)
    assert res.returncode == 1 and "No such file or directory" in res.stderr
    assert osc("server", "show", w["vm"], env=demo_env, parse=False, check=False).returncode
    w.pop("vm")
    ok(bash(f"rmdir {mnt.p('routers', w.pop('router'))}"))
    ok(bash(f"rmdir {mnt.p('security_groups', w.pop('sg'))}"))
    wait_for(lambda: bash(f"rmdir {mnt.p('networks', w['net'])}").returncode == 0, timeout=60)
    assert osc("network", "show", w.pop("net"), env=demo_env, parse=False, check=False).returncode


def test_08_a_failed_build_fails_the_wait(mnt, w, demo_env):
    """Anti-affinity on a one-host cloud: the second server finds no valid host."""
    group = osc("server", "group", "create", "--policy", "anti-affinity", N["group"], env=demo_env)
    w["group"] = group["id"]
    for key in ("a1", "a2"):
        ok(bash(f"cat > {mnt.p('servers', N[key])}", json.dumps({
            "server": {"image": "devcloud-tiny", "flavor": "m1.nano", "networks": ["private"]},
            "os:scheduler_hints": {"group": group["id"]}})))
        w[key] = os.readlink(mnt.p("servers", N[key]))
        time.sleep(1)
    assert ok(bash(f"cat {mnt.p('servers', w['a1'], 'wait')}", timeout=300)).stdout == "ACTIVE\n"
    res = bash(f"cat {mnt.p('servers', w['a2'], 'wait')}", timeout=300)
    assert res.returncode == 1 and os.strerror(errno.EREMOTEIO) in res.stderr, res.stderr
    shown = osc("server", "show", w["a2"], env=demo_env)
    assert shown["status"] == "ERROR"
    assert shown["fault"]["message"] in errors(mnt)
    assert f"servers/{w['a2']}: status ERROR" in errors(mnt)
