"""The gesture scenarios of tests/scenarios (written once) on the fake cloud; tests/e2e runs the
same ones on devcloud.  The backend answers from the fake's state."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scenarios"))

import course  # noqa: E402


class FakeBackend(course.Backend):
    image, flavor = "cirros", "m1.nano"

    def __init__(self, fake):
        self.fake = fake

    def rec(self, coll, id_):
        return next((r for r in self.fake.state()[coll] if r["id"] == id_), None)

    def network_id(self, name):
        (net,) = [n for n in self.fake.state()["networks"] if n["name"] == name]
        return net["id"]

    def subnet_network(self, subnet_id):
        return self.rec("subnets", subnet_id)["network_id"]

    def router_subnets(self, router_id):
        return {ip["subnet_id"] for p in self.fake.state()["ports"]
                if p["device_id"] == router_id and p["device_owner"] == "network:router_interface"
                for ip in p["fixed_ips"]}

    def router_gateway(self, router_id):
        return (self.rec("routers", router_id)["external_gateway_info"] or {}).get("network_id")

    def ingress_rules(self, group_id):
        return {(r["protocol"], r["port_range_min"], r["remote_ip_prefix"])
                for r in self.fake.state()["security_group_rules"]
                if r["security_group_id"] == group_id and r["direction"] == "ingress"}

    def server_status(self, server_id):
        srv = self.rec("servers", server_id)
        return srv and srv["status"]

    def floating_ip_device(self, fip_id):
        port_id = self.rec("floating_ips", fip_id)["port_id"]
        return port_id and self.rec("ports", port_id)["device_id"]

    def volume_servers(self, volume_id):
        return [a["server_id"] for a in self.rec("volumes", volume_id)["attachments"]]

    def exists(self, kind, id_):
        return self.rec(kind + "s", id_) is not None


def test_course(mnt, fake):
    r = course.Run(mnt.path, FakeBackend(fake), "fake")
    course.run(course.COURSE, r)
    assert r.made == {}
