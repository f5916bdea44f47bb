"""The fake cloud's startup data (--seed default: what devstack leaves behind, plus a few servers,
volumes, a keypair and images the tests rely on), and the order /_fake/seed creates collections in.
Loaded by fake_openstack.py; it spans every service, so it is none of theirs."""

import time

from svc_keystone import ADMIN_PROJECT
from svc_nova import FLAVORS

# /_fake/seed: networks before subnets before servers/volumes, so later items can refer to earlier ones
SEED_ORDER = ["flavors", "keypairs", "security_groups", "security_group_rules", "networks", "subnets", "routers",
              "floating_ips", "images", "servers", "ports", "volumes", "snapshots", "server_groups"]


def seed_startup(cloud, kind, bulk):
    for fid, name, ram, disk, vcpus in FLAVORS:
        cloud.new("flavors", {"id": fid, "name": name, "ram": ram, "disk": disk, "vcpus": vcpus})
    now, day = time.time(), 86400
    if kind == "default":
        old = now - 30 * day
        cloud.new("security_groups", {"_t": old})
        cloud.new("security_groups", {"_t": old, "project_id": ADMIN_PROJECT})
        cloud.new("networks", {"name": "public", "shared": True, "router:external": True,
                              "project_id": ADMIN_PROJECT, "_t": old})
        cloud.new("subnets", {"name": "public-subnet", "network": "public", "cidr": "172.24.4.0/24",
                             "enable_dhcp": False, "project_id": ADMIN_PROJECT, "_t": old})
        cloud.new("networks", {"name": "private", "_t": old + 60})
        cloud.new("subnets", {"name": "private-subnet", "network": "private", "cidr": "10.0.0.0/24",
                             "dns_nameservers": ["8.8.8.8"], "_t": old + 60})
        cloud.new("routers", {"name": "router1", "external_network": "public", "_t": old + 120})
        cloud.new("images", {"name": "cirros", "visibility": "public", "owner": ADMIN_PROJECT,
                            "size": 1234567, "virtual_size": 117440512, "_t": old,
                            "owner_specified.openstack.md5": "", "owner_specified.openstack.sha256": "",
                            "owner_specified.openstack.object": "images/cirros"})
        cloud.new("images", {"name": "pending-upload", "status": "queued", "disk_format": "raw",
                            "visibility": "private", "_t": now - 2 * day})
        cloud.new("keypairs", {"name": "mykey", "_t": old})
        servers = [{"name": "web1"}, {"name": "db1", "metadata": {"role": "db"}, "key_name": "mykey"},
                   {"name": "broken", "status": "ERROR", "flavor": "42"}, {"name": "dup"}, {"name": "dup"},
                   {"name": "a/b", "flavor": "42"}]
        for i, partial in enumerate(servers):
            cloud.new("servers", {**partial, "_t": now - (len(servers) - i) * 3600})
        cloud.new("volumes", {"name": "data1", "size": 1, "_t": now - 3 * day})
        cloud.new("volumes", {"name": None, "size": 2, "server": "db1", "_t": now - 2 * day})
    for i in range(bulk):
        cloud.new("servers", {"name": f"bulk-{i}", "_t": now - 40 * day + i})
