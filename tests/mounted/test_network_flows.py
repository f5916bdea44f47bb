"""The networking flows of the course (docs/SEMANTICS.md, "Networking"): security group rules as a
collection, router interfaces and gateway, floating IP association, each server's floating IPs.
Each test checks what the shell user sees (exit status, message, files) and what the fake cloud
now holds and was sent."""

import json
import os

import pytest

from mountutil import read, sh

NEUTRON = "/network/v2.0"


@pytest.fixture(scope="module")
def cloud_opts():
    return {"build_seconds": 0.5, "delete_seconds": 0.3}


def spec(m, coll, name, text):
    return sh(f"cat > {m.p(coll, name)}", input=text)


def ok(out):
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr}"
    return out


def failed(out, message):
    assert out.returncode != 0, f"expected failure with {message!r}, got success: {out.stdout}"
    assert message in out.stderr, f"expected {message!r} in: {out.stderr!r}"


def errors(m):
    return read(m.p(".cloudfs", "errors"))


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
