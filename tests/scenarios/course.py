"""Gesture scenarios written once, run on both backends: tests/mounted/test_scenarios.py runs them
on the fake cloud, tests/e2e/test_scenarios.py on devcloud.  A scenario is a list of steps; each
step types what a user types (bash, in the mount) and checks what a user checks (reading the
mount), then asks the backend what the cloud itself says (the fake's state, the openstack CLI)
through the small Backend interface below, so that a step passing on the fake and failing on
devcloud (or the reverse) shows a difference between the two.

COURSE: the course's networking flow -- a network and subnet, a router with the subnet plugged
in and its gateway on the external network, a security group with ssh and icmp rules, a server
waited for, a floating IP associated with it, a volume attached -- then everything taken apart
again through the mount.
"""

import os
import random
import subprocess
import time


class Backend:
    """What a scenario asks of the cloud behind the mount (ids as the mount shows them).  The
    answers are the cloud's own view, never the mount's."""

    image = flavor = None         # names to boot a server with
    external = "public"           # the external network's name

    def network_id(self, name):
        raise NotImplementedError

    def subnet_network(self, subnet_id):
        """The network the subnet is on."""
        raise NotImplementedError

    def router_subnets(self, router_id):
        """The subnets of the router's interfaces, a set."""
        raise NotImplementedError

    def router_gateway(self, router_id):
        """The network of the router's external gateway, or None."""
        raise NotImplementedError

    def ingress_rules(self, group_id):
        """The group's ingress rules, a set of (protocol, port_range_min, remote_ip_prefix)."""
        raise NotImplementedError

    def server_status(self, server_id):
        """The server's status, or None once it is gone."""
        raise NotImplementedError

    def floating_ip_device(self, fip_id):
        """The device (server) id of the port the floating IP is associated with, or None."""
        raise NotImplementedError

    def volume_servers(self, volume_id):
        """The servers the volume is attached to, a list."""
        raise NotImplementedError

    def exists(self, kind, id_):
        """kind: network, subnet, router, security_group, floating_ip, volume."""
        raise NotImplementedError


class Run:
    """One run of a scenario: the mount, the backend, the names it uses and the ids it made
    (run.made, for a sweep when a step fails)."""

    def __init__(self, mount, backend, suffix):
        self.mount, self.b, self.s = mount, backend, suffix
        self.made = {}
        self.cidr = f"192.168.{random.randrange(100, 200)}.0/24"

    def p(self, *parts):
        return os.path.join(self.mount, *parts)

    def sh(self, cmd, timeout=180):
        """cmd in bash, in the mount (as a user's shell would be)."""
        return subprocess.run(["bash", "-c", cmd], cwd=self.mount, capture_output=True, text=True,
                              timeout=timeout)

    def ok(self, cmd, timeout=180):
        res = self.sh(cmd, timeout)
        assert res.returncode == 0, f"`{cmd}`: exit {res.returncode}: {res.stderr}"
        return res.stdout

    def ok_eventually(self, cmd, timeout=60):
        """A teardown step the cloud may refuse for a moment (a port Nova has not removed yet): the
        user tries again."""
        deadline = time.time() + timeout
        while True:
            res = self.sh(cmd)
            if res.returncode == 0 or time.time() > deadline:
                assert res.returncode == 0, f"`{cmd}`: exit {res.returncode}: {res.stderr}"
                return res.stdout
            time.sleep(1)

    def read(self, *parts):
        with open(self.p(*parts)) as f:
            return f.read()

    def link(self, *parts, timeout=15):
        """The id a name links to (right after mkdir the kernel may still hold the name as the
        directory mkdir answered with, until the notifier's invalidation lands)."""
        deadline = time.time() + timeout
        while True:
            try:
                return os.readlink(self.p(*parts))
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    @staticmethod
    def until(fn, timeout=120, every=0.5):
        deadline = time.time() + timeout
        while True:
            value = fn()
            if value or time.time() > deadline:
                return value
            time.sleep(every)


# ------------------------------------------------------------------------------ the course
def network_and_subnet(r):
    r.ok(f"mkdir networks/net-{r.s}")
    r.made["network"] = net = r.link("networks", f"net-{r.s}")
    r.ok(f"""echo '{{"network": "net-{r.s}", "cidr": "{r.cidr}"}}' > subnets/sub-{r.s}""")
    r.made["subnet"] = sub = r.link("subnets", f"sub-{r.s}")
    assert r.read("subnets", sub, "cidr") == r.cidr + "\n"
    assert r.read("subnets", sub, "network_id") == net + "\n"
    assert r.b.subnet_network(sub) == net


def router_interface(r):
    r.ok(f"mkdir routers/r-{r.s}")
    r.made["router"] = rid = r.link("routers", f"r-{r.s}")
    r.ok(f"ln -s ../../../subnets/sub-{r.s} routers/r-{r.s}/interfaces/sub-{r.s}")
    sub = r.made["subnet"]
    assert os.listdir(r.p("routers", rid, "interfaces")) == [sub]
    assert r.read("routers", rid, "interfaces", sub, "cidr") == r.cidr + "\n"
    assert r.b.router_subnets(rid) == {sub}


def router_gateway(r):
    rid, public = r.made["router"], r.b.network_id(r.b.external)
    r.ok(f"echo {r.b.external} > routers/r-{r.s}/gateway")
    assert r.read("routers", rid, "gateway") == public + "\n"
    assert r.read("routers", rid, "external_gateway_info", "external_fixed_ips").strip() not in ("", "[]")
    assert r.b.router_gateway(rid) == public


def security_group_rules(r):
    r.ok(f"mkdir security_groups/web-{r.s}")
    r.made["security_group"] = gid = r.link("security_groups", f"web-{r.s}")
    r.ok(f"""echo '{{"port": 22, "remote": "0.0.0.0/0"}}' > security_groups/web-{r.s}/rules/ssh""")
    r.ok(f"""echo '{{"protocol": "icmp"}}' > security_groups/web-{r.s}/rules/ping""")
    # The same rule again: Neutron's 409, EEXIST, at the write(2) that completes the JSON (so
    # bash's echo sees it).
    again = r.sh(f"""echo '{{"port": 22, "remote": "0.0.0.0/0"}}' > security_groups/web-{r.s}/rules/ssh2""")
    assert again.returncode != 0 and "File exists" in again.stderr, again.stderr
    listed = os.listdir(r.p("security_groups", gid, "rules"))          # by id; a description
    for name in ("ssh", "ping"):                                          # is a link to it
        assert os.readlink(r.p("security_groups", gid, "rules", name)).rsplit("/", 1)[1] in listed
    rules = r.b.ingress_rules(gid)
    assert ("tcp", 22, "0.0.0.0/0") in rules
    assert any(proto == "icmp" for proto, _, _ in rules)


def server(r):
    spec = (f'{{"image": "{r.b.image}", "flavor": "{r.b.flavor}", "networks": ["net-{r.s}"], '
            f'"security_groups": ["web-{r.s}"]}}')
    r.ok(f"echo '{spec}' > servers/web-{r.s}")
    r.made["server"] = vm = r.link("servers", f"web-{r.s}")
    assert r.ok(f"cat servers/web-{r.s}/wait", timeout=600) == "ACTIVE\n"
    assert r.read("servers", vm, "status") == "ACTIVE\n"
    assert r.b.server_status(vm) == "ACTIVE"


def floating_ip(r):
    vm = r.made["server"]
    before = set(os.listdir(r.p("floating_ips")))
    # The cloud may be shared: ours is the new one with our description.
    r.ok(f"""cat > floating_ips/new-{r.s} <<< '{{"network": "{r.b.external}", "description": "scn-{r.s}"}}'""")
    new = r.until(lambda: [f for f in set(os.listdir(r.p("floating_ips"))) - before
                           if r.read("floating_ips", f, "description") == f"scn-{r.s}\n"], timeout=15)
    assert len(new) == 1, new                      # listed by id
    r.made["floating_ip"] = fid = new[0]
    addr = r.read("floating_ips", fid, "floating_ip_address").strip()
    assert os.readlink(r.p("floating_ips", addr)) == fid      # and found by address
    r.ok(f"ln -s ../../../floating_ips/{fid} servers/web-{r.s}/floating_ips/{addr}")
    # listed from Nova's view of the server's addresses, which follows within seconds
    assert r.until(lambda: os.listdir(r.p("servers", vm, "floating_ips")) == [addr], timeout=30)
    assert r.read("servers", vm, "floating_ips", addr, "floating_ip_address") == addr + "\n"
    assert r.b.floating_ip_device(fid) == vm
    r.made["address"] = addr


def volume(r):
    vm = r.made["server"]
    r.ok(f"""echo '{{"size": 1}}' > volumes/vol-{r.s}""")
    r.made["volume"] = vol = r.link("volumes", f"vol-{r.s}")
    assert r.ok(f"cat volumes/vol-{r.s}/wait", timeout=300) == "available\n"
    r.ok(f"ln -s ../../../volumes/vol-{r.s} servers/web-{r.s}/volumes/vol-{r.s}")
    assert r.until(lambda: r.read("volumes", vol, "status") == "in-use\n")
    assert vol in os.listdir(r.p("servers", vm, "volumes"))
    assert r.b.volume_servers(vol) == [vm]


def take_it_apart(r):
    vm, vol, fid = r.made["server"], r.made["volume"], r.made["floating_ip"]
    # by the name the link was made with, as a user undoes their own ln -s
    r.ok(f"rm servers/{vm}/volumes/vol-{r.s}")
    assert r.until(lambda: r.read("volumes", vol, "status") == "available\n")
    assert r.b.volume_servers(vol) == []
    r.ok(f"rm servers/{vm}/floating_ips/{r.made['address']}")
    assert r.until(lambda: os.listdir(r.p("servers", vm, "floating_ips")) == [], timeout=30)
    assert r.b.floating_ip_device(fid) is None
    r.ok(f"rmdir floating_ips/{fid}")
    r.ok(f"rmdir servers/{vm}")
    gone = r.sh(f"cat servers/{vm}/wait", timeout=600)
    assert gone.returncode != 0 and "No such file or directory" in gone.stderr, gone.stderr
    assert r.until(lambda: r.b.server_status(vm) is None)
    r.ok_eventually(f"rmdir volumes/{vol}")
    rid, sub = r.made["router"], r.made["subnet"]
    r.ok(f"rm routers/{rid}/interfaces/{sub}")
    assert os.listdir(r.p("routers", rid, "interfaces")) == []
    r.ok(f"echo none > routers/{rid}/gateway")
    assert r.read("routers", rid, "gateway") == ""
    r.ok(f"rmdir routers/{rid}")
    r.ok_eventually(f"rmdir subnets/{sub}")
    r.ok_eventually(f"rmdir networks/{r.made['network']}")
    r.ok(f"rmdir security_groups/{r.made['security_group']}")
    for kind in ("floating_ip", "volume", "router", "subnet", "network", "security_group"):
        assert r.until(lambda kind=kind: not r.b.exists(kind, r.made[kind]), timeout=60), kind
    r.made.clear()


COURSE = [network_and_subnet, router_interface, router_gateway, security_group_rules, server,
          floating_ip, volume, take_it_apart]


def run(scenario, r):
    """Runs the steps in order on r (a Run: r.made holds what is left when a step fails)."""
    for step in scenario:
        start = time.time()
        try:
            step(r)
            print(f"step {step.__name__}: {time.time() - start:.1f} s")
        except AssertionError as e:
            raise AssertionError(f"step {step.__name__}: {e}") from e
