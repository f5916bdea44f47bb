"""The networking flows of the course (docs/SEMANTICS.md, "Networking"): security group rules as a
collection, router interfaces and gateway, floating IP association, each server's floating IPs.
Each test checks what the shell user sees (exit status, message, files) and what the fake cloud
now holds and was sent."""

import json
import os

import pytest

from mountutil import errors, failed, ok, read, sh

NEUTRON = "/network/v2.0"


@pytest.fixture(scope="module")
def cloud_opts():
    return {"build_seconds": 0.5, "delete_seconds": 0.3}


def spec(m, coll, name, text):
    return sh(f"cat > {m.p(coll, name)}", input=text)


def one(fake, coll, **match):
    found = [r for r in fake.state()[coll] if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{coll} matching {match}: {found}"
    return found[0]


def posted(fake, path):
    return [r["body"] for r in fake.requests(method="POST", path_prefix=path) if r["path"] == path]


# ------------------------------------------------------------------------ security group rules
def test_a_rule_spec_with_friendly_keys(mnt, fake):
    sg = one(fake, "security_groups", name="default", project_id="7c808b28bded4680839ac3a2f00d8a87")
    fake.clear_requests()
    ok(spec(mnt, "security_group_rules", "ssh", '{"group": "default", "port": 22, "remote": "0.0.0.0/0"}'))
    (body,) = posted(fake, f"{NEUTRON}/security-group-rules")
    assert body == {"security_group_rule": {
        "description": "ssh", "security_group_id": sg["id"], "remote_ip_prefix": "0.0.0.0/0",
        "port_range_min": 22, "port_range_max": 22, "protocol": "tcp", "direction": "ingress",
        "ethertype": "IPv4"}}
    rule = one(fake, "security_group_rules", description="ssh")
    # the description is the rule's name: a link to its id, and its files
    assert os.readlink(mnt.p("security_group_rules", "ssh")) == rule["id"]
    assert read(mnt.p("security_group_rules", "ssh", "port_range_max")) == "22\n"
    assert rule["id"] in os.listdir(mnt.p("security_group_rules"))
    # and the group's own document lists it
    group = json.loads(read(mnt.p("security_groups", sg["id"], "json")))
    assert rule["id"] in [r["id"] for r in group["security_group_rules"]]


def test_rule_ranges_v6_and_remote_groups(mnt, fake):
    ok(spec(mnt, "security_group_rules", "web",
            '{"group": "default", "protocol": "udp", "port": "8000:8080", "remote": "2001:db8::/32"}'))
    web = one(fake, "security_group_rules", description="web")
    assert (web["port_range_min"], web["port_range_max"], web["ethertype"], web["protocol"]) == \
        (8000, 8080, "IPv6", "udp")
    ok(spec(mnt, "security_group_rules", "ping", '{"group": "default", "protocol": "icmp", "remote": "default"}'))
    ping = one(fake, "security_group_rules", description="ping")
    assert ping["remote_group_id"] == ping["security_group_id"] and ping["remote_ip_prefix"] is None


def test_a_duplicate_rule_is_eexist_with_neutrons_message(mnt, fake):
    rule = '{"group": "default", "port": 22, "remote": "0.0.0.0/0"}'
    ok(spec(mnt, "security_group_rules", "ssh", rule))
    first = one(fake, "security_group_rules", description="ssh")
    failed(spec(mnt, "security_group_rules", "ssh-again", rule), "File exists")
    assert f"Security group rule already exists. Rule id is {first['id']}." in errors(mnt)
    # `|| true` makes an idempotent add: the rule is there once
    assert len([r for r in fake.state()["security_group_rules"] if r["port_range_min"] == 22]) == 1


def test_a_rule_neutron_refuses_is_einval_with_its_reason(mnt, fake):
    failed(spec(mnt, "security_group_rules", "bad",
                '{"group": "default", "ethertype": "IPv6", "remote": "10.0.0.0/8"}'), "Invalid argument")
    assert "Conflicting value ethertype IPv6 for CIDR 10.0.0.0/8" in errors(mnt)
    failed(spec(mnt, "security_group_rules", "nogroup", '{"group": "nope", "port": 22}'), "Invalid argument")
    assert "no security_groups with id or name 'nope'" in errors(mnt)


def test_rmdir_deletes_a_rule(mnt, fake):
    ok(spec(mnt, "security_group_rules", "ssh", '{"group": "default", "port": 22}'))
    rule = one(fake, "security_group_rules", description="ssh")
    rid, sg = rule["id"], rule["security_group_id"]
    assert rid in read(mnt.p("security_groups", sg, "security_group_rules"))
    ok(sh(f"rmdir {mnt.p('security_group_rules', rid)}"))
    assert rid not in read(mnt.p("security_groups", sg, "security_group_rules"))
    assert rid not in [r["id"] for r in fake.state()["security_group_rules"]]
    assert not os.path.exists(mnt.p("security_group_rules", rid))
    assert not os.path.lexists(mnt.p("security_group_rules", "ssh"))
    failed(sh(f"rmdir {mnt.p('security_group_rules', rid)}"), "No such file or directory")


# ------------------------------------------------------------------- router interfaces, gateway
def ids(fake, coll, name):
    return one(fake, coll, name=name)["id"]


def router_ports(fake, rid):
    return [p for p in fake.state()["ports"] if p["device_id"] == rid and
            p["device_owner"] == "network:router_interface"]


def test_ln_s_a_subnet_adds_a_router_interface_and_rm_removes_it(mnt, fake):
    ok(sh(f"mkdir {mnt.p('routers', 'r1')}"))
    rid, sub = ids(fake, "routers", "r1"), ids(fake, "subnets", "private-subnet")
    assert os.listdir(mnt.p("routers", rid, "interfaces")) == []
    fake.clear_requests()
    ok(sh(f"ln -s ../../../subnets/private-subnet {mnt.p('routers', 'r1', 'interfaces', 'private-subnet')}"))
    puts = [r for r in fake.requests(method="PUT") if r["path"].endswith("/add_router_interface")]
    assert [(r["path"], r["body"]) for r in puts] == [
        (f"{NEUTRON}/routers/{rid}/add_router_interface", {"subnet_id": sub})]
    (port,) = router_ports(fake, rid)
    assert port["fixed_ips"][0]["subnet_id"] == sub
    # listed by subnet id, a link to the subnet; one ports?device_id= request however many
    fake.clear_requests()
    assert os.listdir(mnt.p("routers", rid, "interfaces")) == [sub]
    gets = [r for r in fake.requests(method="GET", path_prefix=f"{NEUTRON}/ports")]
    assert [r["query"] for r in gets] == [f"device_id={rid}"]
    assert os.readlink(mnt.p("routers", rid, "interfaces", sub)) == f"../../../subnets/{sub}"
    assert read(mnt.p("routers", rid, "interfaces", sub, "cidr")) == "10.0.0.0/24\n"
    # the router's port is in ports/ at once
    assert port["id"] in os.listdir(mnt.p("ports"))
    ok(sh(f"rm {mnt.p('routers', rid, 'interfaces', sub)}"))
    assert router_ports(fake, rid) == []
    assert os.listdir(mnt.p("routers", rid, "interfaces")) == []


def test_interface_errors(mnt, fake):
    ok(sh(f"mkdir {mnt.p('routers', 'r1')}"))
    rid = ids(fake, "routers", "r1")
    iface = mnt.p("routers", rid, "interfaces")
    ok(sh(f"ln -s ../../../subnets/private-subnet {iface}/private-subnet"))
    # the same subnet under another name: it is there already
    sub = ids(fake, "subnets", "private-subnet")
    failed(sh(f"ln -s ../../../subnets/{sub} {iface}/again"), "File exists")
    failed(sh(f"ln -s ../../../networks/private {iface}/x"), "Invalid argument")
    assert "link to ../../../subnets/<subnet> or ../../../ports/<port>" in errors(mnt)
    failed(sh(f"ln -s ../../../subnets/nope {iface}/nope"), "Invalid argument")
    failed(sh(f"rm {iface}/nope"), "No such file or directory")
    assert len(router_ports(fake, rid)) == 1


def test_an_interface_by_port(mnt, fake):
    ok(sh(f"mkdir {mnt.p('routers', 'r1')}"))
    rid = ids(fake, "routers", "r1")
    ok(spec(mnt, "ports", "gw-port", '{"network": "private"}'))
    pid = ids(fake, "ports", "gw-port")
    ok(sh(f"ln -s ../../../ports/gw-port {mnt.p('routers', rid, 'interfaces', 'gw-port')}"))
    port = one(fake, "ports", id=pid)
    assert (port["device_id"], port["device_owner"]) == (rid, "network:router_interface")
    sub = port["fixed_ips"][0]["subnet_id"]
    assert os.listdir(mnt.p("routers", rid, "interfaces")) == [sub]


def test_gateway_set_read_and_clear(mnt, fake):
    ok(sh(f"mkdir {mnt.p('routers', 'r1')}"))
    rid, public = ids(fake, "routers", "r1"), ids(fake, "networks", "public")
    gw = mnt.p("routers", rid, "gateway")
    assert read(gw) == ""
    assert oct(os.stat(gw).st_mode & 0o777) == "0o644"
    ok(sh(f"echo public > {gw}"))
    assert one(fake, "routers", id=rid)["external_gateway_info"]["network_id"] == public
    assert read(gw) == public + "\n"
    ips = json.loads(read(mnt.p("routers", rid, "external_gateway_info", "external_fixed_ips")))
    assert ips[0]["ip_address"].startswith("172.24.4.")
    # an internal network is refused at write(2), where bash sees it
    failed(sh(f"echo private > {gw}"), "Invalid argument")
    assert "is not an external network" in errors(mnt)
    ok(sh(f"echo none > {gw}"))
    assert one(fake, "routers", id=rid)["external_gateway_info"] is None
    assert read(gw) == ""
    assert not os.path.exists(mnt.p("routers", rid, "external_gateway_info", "network_id"))


# --------------------------------------------------------------------- a group's rules
def test_rules_of_a_group(mnt, fake):
    ok(sh(f"mkdir {mnt.p('security_groups', 'web')}"))
    sg = ids(fake, "security_groups", "web")
    rules = mnt.p("security_groups", "web", "rules")
    egress = sorted(r["id"] for r in fake.state()["security_group_rules"] if r["security_group_id"] == sg)
    assert sorted(os.listdir(rules)) == egress
    ok(sh(f"cat > {rules}/ssh", input='{"port": 22, "remote": "0.0.0.0/0"}'))
    rule = one(fake, "security_group_rules", description="ssh")
    assert (rule["security_group_id"], rule["port_range_min"], rule["protocol"], rule["direction"]) == \
        (sg, 22, "tcp", "ingress")
    assert os.readlink(f"{rules}/ssh") == f"../../../security_group_rules/{rule['id']}"
    assert rule["id"] in os.listdir(rules)
    assert read(f"{rules}/{rule['id']}/remote_ip_prefix") == "0.0.0.0/0\n"
    ok(sh(f"cat > {rules}/ping", input='{"protocol": "icmp", "remote": "web"}'))
    assert one(fake, "security_group_rules", description="ping")["remote_group_id"] == sg
    # the same rule again: Neutron's 409 at close, EEXIST
    failed(sh(f"cat > {rules}/ssh2", input='{"port": 22, "remote": "0.0.0.0/0"}'), "File exists")
    ok(sh(f"rm {rules}/ssh"))
    assert [r for r in fake.state()["security_group_rules"] if r.get("description") == "ssh"] == []
    assert rule["id"] not in os.listdir(rules)


# ------------------------------------------------------------------------------ floating IPs
def public_setup(mnt, fake):
    """router1 has its gateway on public already; plug private-subnet in."""
    ok(sh(f"ln -s ../../../subnets/private-subnet {mnt.p('routers', 'router1', 'interfaces', 'private-subnet')}"))
    ok(spec(mnt, "floating_ips", "f", '{"network": "public"}'))
    return fake.state()["floating_ips"][-1]


def test_floating_ip_port_file(mnt, fake):
    fip = public_setup(mnt, fake)
    web1 = one(fake, "servers", name="web1")
    (port,) = [p for p in fake.state()["ports"] if p["device_id"] == web1["id"]]
    f = mnt.p("floating_ips", fip["id"], "port")
    assert read(f) == ""
    ok(sh(f"echo {port['id']} > {f}"))
    got = one(fake, "floating_ips", id=fip["id"])
    assert (got["port_id"], got["fixed_ip_address"]) == (port["id"], port["fixed_ips"][0]["ip_address"])
    assert read(f) == port["id"] + "\n"
    ok(sh(f"echo none > {f}"))
    assert one(fake, "floating_ips", id=fip["id"])["port_id"] is None


def test_server_floating_ips(mnt, fake):
    fip = public_setup(mnt, fake)
    addr = fip["floating_ip_address"]
    fips = mnt.p("servers", "web1", "floating_ips")
    assert os.listdir(fips) == []
    ok(sh(f"ln -s ../../../floating_ips/{fip['id']} {fips}/{addr}"))
    web1 = one(fake, "servers", name="web1")
    got = one(fake, "floating_ips", id=fip["id"])
    assert one(fake, "ports", id=got["port_id"])["device_id"] == web1["id"]
    assert os.listdir(fips) == [addr]
    # named by address, to the floating IP's own name link (its address)
    assert os.readlink(f"{fips}/{addr}") == f"../../../floating_ips/{addr}"
    assert os.readlink(mnt.p("floating_ips", addr)) == fip["id"]
    # listed from the server's document (Nova's addresses): no request
    fake.clear_requests()
    assert os.listdir(fips) == [addr]
    assert [r for r in fake.requests(service="network")] == []
    assert read(f"{fips}/{addr}/floating_ip_address") == addr + "\n"
    ok(sh(f"rm {fips}/{addr}"))
    assert one(fake, "floating_ips", id=fip["id"])["port_id"] is None
    assert os.listdir(fips) == []


def test_a_floating_ip_the_server_cannot_reach(mnt, fake):
    ok(spec(mnt, "floating_ips", "f", '{"network": "public"}'))
    fip = fake.state()["floating_ips"][-1]
    failed(sh(f"ln -s ../../../floating_ips/{fip['id']} {mnt.p('servers', 'web1', 'floating_ips', 'x')}"),
           "Invalid argument")
    assert "name the link after the floating IP's address" in errors(mnt)
    addr = fip["floating_ip_address"]
    failed(sh(f"ln -s ../../../floating_ips/{fip['id']} {mnt.p('servers', 'web1', 'floating_ips', addr)}"),
           "Network is unreachable")
    assert "no port of the server is on a subnet that a router connects to its network" in errors(mnt)
    # and the router interface a floating IP needs cannot go
    public_setup(mnt, fake)
    ok(sh(f"ln -s ../../../floating_ips/{fip['id']} {mnt.p('servers', 'web1', 'floating_ips', addr)}"))
    sub = ids(fake, "subnets", "private-subnet")
    failed(sh(f"rm {mnt.p('routers', 'router1', 'interfaces', sub)}"), "Device or resource busy")
    assert "required by one or more floating IPs" in errors(mnt)
    failed(sh(f"echo none > {mnt.p('routers', 'router1', 'gateway')}"), "Device or resource busy")
    assert "is required by one or more floating IPs" in errors(mnt)
