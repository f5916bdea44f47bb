"""The gesture scenarios of tests/scenarios (written once) on devcloud; tests/mounted runs the same
ones on the fake.  The backend answers with the openstack CLI, as the demo user; whatever a failed
step leaves is swept with the CLI."""

import json
import os
import subprocess
import sys

import pytest

from conftest import RUN, ROOT
from mountutil import Mount, start_cloudfs

sys.path.insert(0, os.path.join(ROOT, "tests", "scenarios"))

import course  # noqa: E402

KINDS = {"network": ["network"], "subnet": ["subnet"], "router": ["router"],
         "security_group": ["security", "group"], "floating_ip": ["floating", "ip"], "volume": ["volume"]}


class DevcloudBackend(course.Backend):
    image, flavor = "devcloud-tiny", "m1.nano"

    def __init__(self, env):
        self.env = env

    def cli(self, *args, check=True):
        """openstack ... -f json: the parsed answer, or None when it fails and check is False."""
        res = subprocess.run(["/usr/bin/openstack", *args, "-f", "json"], env=self.env,
                             capture_output=True, text=True, timeout=300)
        if res.returncode:
            assert not check, f"openstack {' '.join(args)}: {res.stderr}"
            return None
        return json.loads(res.stdout) if res.stdout.strip() else None

    def act(self, *args):
        """openstack ... without output (delete, remove, unset): whether it worked."""
        return subprocess.run(["/usr/bin/openstack", *args], env=self.env, capture_output=True,
                              timeout=300).returncode == 0

    def network_id(self, name):
        return self.cli("network", "show", name)["id"]

    def subnet_network(self, subnet_id):
        return self.cli("subnet", "show", subnet_id)["network_id"]

    def router_subnets(self, router_id):
        return {ip["subnet_id"] for p in self.cli("port", "list", "--router", router_id, "--long")
                for ip in p["Fixed IP Addresses"]}

    def router_gateway(self, router_id):
        return (self.cli("router", "show", router_id)["external_gateway_info"] or {}).get("network_id")

    def ingress_rules(self, group_id):
        rules = self.cli("security", "group", "rule", "list", group_id, "--long")
        return {(r["IP Protocol"], int(r["Port Range"].split(":")[0]) if r["Port Range"] else None,
                 r["IP Range"]) for r in rules if r["Direction"] == "ingress"}

    def server_status(self, server_id):
        shown = self.cli("server", "show", server_id, check=False)
        return shown and shown["status"]

    def floating_ip_device(self, fip_id):
        port = self.cli("floating", "ip", "show", fip_id)["port_id"]
        return port and self.cli("port", "show", port)["device_id"]

    def volume_servers(self, volume_id):
        return [a["server_id"] for a in self.cli("volume", "show", volume_id)["attachments"]]

    def exists(self, kind, id_):
        return self.cli(*KINDS[kind], "show", id_, check=False) is not None


@pytest.fixture
def mnt(tmp_path, demo_env):
    path = str(tmp_path / "mnt")
    proc, log = start_cloudfs(path, demo_env, ["-o", "cache_ttl=1,negative_ttl=1"], timeout=30)
    m = Mount(path, proc, log)
    yield m
    m.unmount()


def sweep(b, made):
    """What a failed run left, with the CLI, dependencies first."""
    if made.get("server"):
        b.act("server", "delete", "--wait", made["server"])
    if made.get("floating_ip"):
        b.act("floating", "ip", "delete", made["floating_ip"])
    if made.get("volume"):
        b.act("volume", "delete", made["volume"])
    if made.get("router"):
        if made.get("subnet"):
            b.act("router", "remove", "subnet", made["router"], made["subnet"])
        b.act("router", "unset", "--external-gateway", made["router"])
        b.act("router", "delete", made["router"])
    for kind in ("network", "security_group"):
        if made.get(kind):
            b.act(*KINDS[kind], "delete", made[kind])


@pytest.mark.timeout(1200)      # one flow of ~60 CLI cross-checks, a boot and a volume
def test_course(mnt, demo_env):
    b = DevcloudBackend(demo_env)
    r = course.Run(mnt.path, b, "e2e-" + RUN)
    try:
        course.run(course.COURSE, r)
    finally:
        sweep(b, r.made)
    assert r.made == {}
