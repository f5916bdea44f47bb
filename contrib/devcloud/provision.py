#!/usr/bin/python3
"""Idempotent provisioning of the devcloud through the REST APIs.

Called by up.sh (with /usr/bin/python3 and a clean environment):

    provision.py identity   users, projects, roles, services and endpoints
    provision.py resources  waits for compute/volume services, then flavors,
                            the devcloud-tiny image and the demo network

Every step checks first and only creates what is missing, so a run on a
provisioned cloud only reads.  Raw REST through one keystoneauth session keeps
this to one Python process and a few dozen requests.
"""

import calendar
import os
import sys
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

H = "http://127.0.0.1"
KS = H + ":5000/v3"
NOVA = H + ":8774/v2.1"
GLANCE = H + ":9292"
NEUTRON = H + ":9696/v2.0"
CINDER = H + ":8776/v3"
PLACEMENT = H + ":8778"
REGION = "RegionOne"
SVC_PASSWORD = os.environ.get("DEVCLOUD_SERVICE_PASSWORD", "devcloud-service")
STATE = os.environ["DEVCLOUD_STATE_DIR"]

SERVICE_USERS = ["glance", "nova", "placement", "neutron", "cinder", "heat",
                 "swift"]

# type -> (name, url); every one gets public, internal and admin endpoints
SERVICES = {
    "identity": ("keystone", KS),
    "compute": ("nova", NOVA),
    "image": ("glance", GLANCE),
    "network": ("neutron", H + ":9696"),
    "volumev3": ("cinderv3", CINDER + "/%(project_id)s"),
    "block-storage": ("cinder", CINDER + "/%(project_id)s"),
    "placement": ("placement", PLACEMENT),
    "orchestration": ("heat", H + ":8004/v1/%(tenant_id)s"),
    "object-store": ("swift", H + ":8080/v1/AUTH_%(project_id)s"),
}

# as devstack: name, id, ram MiB, disk GiB, vcpus
FLAVORS = [
    ("m1.nano", "42", 128, 1, 1),
    ("m1.micro", "84", 192, 1, 1),
    ("m1.tiny", "1", 512, 1, 1),
    ("m1.small", "2", 2048, 20, 1),
    ("m1.medium", "3", 4096, 40, 2),
    ("m1.large", "4", 8192, 80, 4),
    ("m1.xlarge", "5", 16384, 160, 8),
]

IMAGE_NAME = "devcloud-tiny"


class Fail(Exception):
    pass


def say(msg):
    print("[provision] " + msg, file=sys.stderr, flush=True)


def session(user="admin", password="admin", project="admin"):
    auth = v3.Password(auth_url=KS, username=user, password=password,
                       project_name=project, user_domain_id="default",
                       project_domain_id="default")
    return ks_session.Session(auth=auth, timeout=60)


class Api:
    def __init__(self, sess):
        self.s = sess

    def req(self, method, url, body=None, ok=(200, 201, 202, 204),
            headers=None, **kw):
        hdrs = {"Accept": "application/json"}
        if headers:
            hdrs.update(headers)
        if body is not None:
            kw["json"] = body
        # a few retries for transient connection errors while services settle
        for attempt in range(5):
            try:
                r = self.s.request(url, method, raise_exc=False,
                                   headers=hdrs, **kw)
                break
            except (ks_exc.ConnectFailure, ks_exc.ConnectionError):
                if attempt == 4:
                    raise
                time.sleep(1)
        if r.status_code not in ok:
            raise Fail("%s %s -> HTTP %s: %s" % (method, url, r.status_code,
                                                  r.text[:500]))
        return r

    def get(self, url, **kw):
        return self.req("GET", url, **kw).json()

    def post(self, url, body, **kw):
        r = self.req("POST", url, body, **kw)
        return r.json() if r.content else {}


# --------------------------------------------------------------------------
# identity


def one(items, what):
    if len(items) > 1:
        raise Fail("more than one %s: %s" % (what, items))
    return items[0] if items else None


def ensure_role(api, name):
    r = one(api.get(KS + "/roles?name=" + name)["roles"], "role " + name)
    if r:
        return r["id"]
    say("creating role " + name)
    return api.post(KS + "/roles", {"role": {"name": name}})["role"]["id"]


def ensure_project(api, name, desc):
    p = one(api.get(KS + "/projects?domain_id=default&name=" + name)
            ["projects"], "project " + name)
    if p:
        return p["id"]
    say("creating project " + name)
    return api.post(KS + "/projects", {"project": {
        "name": name, "domain_id": "default", "description": desc,
        "enabled": True}})["project"]["id"]


def ensure_user(api, name, password, project_id):
    u = one(api.get(KS + "/users?domain_id=default&name=" + name)["users"],
            "user " + name)
    if u:
        return u["id"]
    say("creating user " + name)
    return api.post(KS + "/users", {"user": {
        "name": name, "password": password, "domain_id": "default",
        "default_project_id": project_id, "enabled": True}})["user"]["id"]


def ensure_domain(api, name, desc):
    d = one(api.get(KS + "/domains?name=" + name)["domains"], "domain " + name)
    if d:
        return d["id"]
    say("creating domain " + name)
    return api.post(KS + "/domains", {"domain": {
        "name": name, "description": desc, "enabled": True}})["domain"]["id"]


def grant(api, project_id, user_id, role_id):
    # PUT is idempotent: 204 whether or not the assignment existed
    api.req("PUT", "%s/projects/%s/users/%s/roles/%s" % (
        KS, project_id, user_id, role_id))


def ensure_service_and_endpoints(api, stype, name, url, existing_svcs,
                                 existing_eps):
    svc = [s for s in existing_svcs if s["type"] == stype]
    if svc:
        sid = svc[0]["id"]
    else:
        say("creating service %s (%s)" % (name, stype))
        sid = api.post(KS + "/services", {"service": {
            "type": stype, "name": name, "enabled": True}})["service"]["id"]
    for iface in ("public", "internal", "admin"):
        eps = [e for e in existing_eps if e["service_id"] == sid
               and e["interface"] == iface]
        if eps:
            e = eps[0]
            if e["url"] != url or e.get("region_id") != REGION:
                say("fixing %s %s endpoint" % (stype, iface))
                api.req("PATCH", KS + "/endpoints/" + e["id"], {"endpoint": {
                    "url": url, "region_id": REGION}})
            continue
        say("creating %s %s endpoint" % (stype, iface))
        api.post(KS + "/endpoints", {"endpoint": {
            "service_id": sid, "interface": iface, "url": url,
            "region_id": REGION, "enabled": True}})


def identity():
    api = Api(session())
    roles = {n: ensure_role(api, n)
             for n in ("admin", "member", "reader", "service",
                       "heat_stack_owner", "heat_stack_user", "ResellerAdmin")}
    admin_p = ensure_project(api, "admin", "Bootstrap project")
    service_p = ensure_project(api, "service", "Service users")
    demo_p = ensure_project(api, "demo", "devcloud demo project")
    admin_u = one(api.get(KS + "/users?domain_id=default&name=admin")
                  ["users"], "user admin")["id"]
    grant(api, admin_p, admin_u, roles["admin"])
    grant(api, demo_p, admin_u, roles["admin"])
    demo_u = ensure_user(api, "demo", "demo", demo_p)
    grant(api, demo_p, demo_u, roles["member"])
    grant(api, demo_p, demo_u, roles["reader"])
    grant(api, demo_p, demo_u, roles["heat_stack_owner"])
    for name in SERVICE_USERS:
        uid = ensure_user(api, name, SVC_PASSWORD, service_p)
        grant(api, service_p, uid, roles["admin"])
        grant(api, service_p, uid, roles["service"])
    # heat's stack domain: users that stacks create live there, managed by
    # heat_domain_admin (admin on the domain)
    heat_d = ensure_domain(api, "heat", "Owns users and projects created by heat")
    hda = one(api.get(KS + "/users?domain_id=%s&name=heat_domain_admin" % heat_d)
              ["users"], "user heat_domain_admin")
    if hda:
        hda = hda["id"]
    else:
        say("creating user heat_domain_admin")
        hda = api.post(KS + "/users", {"user": {
            "name": "heat_domain_admin", "password": SVC_PASSWORD,
            "domain_id": heat_d, "enabled": True}})["user"]["id"]
    api.req("PUT", "%s/domains/%s/users/%s/roles/%s" % (
        KS, heat_d, hda, roles["admin"]))
    svcs = api.get(KS + "/services")["services"]
    eps = api.get(KS + "/endpoints")["endpoints"]
    for stype, (name, url) in SERVICES.items():
        ensure_service_and_endpoints(api, stype, name, url, svcs, eps)
    ensure_limits(api, demo_p)


def ensure_limits(api, demo_p):
    """One unified limit as an example: a registered default for the compute
    service and the demo project's own limit of it, so limits/ and
    registered_limits/ have something to show (cloudfs's identity service,
    tests/fixtures/capture.py). Nova enforces only its own resource names, and
    only with unified limits configured (it is not): this one limits nothing."""
    nova = [s for s in api.get(KS + "/services")["services"] if s["type"] == "compute"][0]["id"]
    name = "devcloud_example"
    if not api.get(KS + "/registered_limits?resource_name=" + name)["registered_limits"]:
        say("creating registered limit " + name)
        api.post(KS + "/registered_limits", {"registered_limits": [{
            "service_id": nova, "region_id": REGION, "resource_name": name,
            "default_limit": 10, "description": "an example unified limit"}]})
    # An admin's token lists its own project's limits only: a 409 is demo's
    # limit already there.
    r = api.req("POST", KS + "/limits", {"limits": [{
        "service_id": nova, "region_id": REGION, "project_id": demo_p,
        "resource_name": name, "resource_limit": 5,
        "description": "demo's own limit of the example"}]}, ok=(201, 409))
    if r.status_code == 201:
        say("created demo's limit " + name)


# --------------------------------------------------------------------------
# resources


def wait_for(what, fn, timeout):
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            res = fn()
            if res:
                return res
        except Fail as e:
            last = e
        if time.time() > deadline:
            raise Fail("timed out after %ds waiting for %s%s" % (
                timeout, what, (" (last error: %s)" % last) if last else ""))
        time.sleep(1)


def services_up(api, url, binary, host_prefix):
    """Enabled and up; if up.sh (re)started the daemon in this run, also
    reported after that (a stale 'up' would still be shown for up to 60 s)."""
    since = 0.0
    if binary in os.environ.get("DEVCLOUD_RESTARTED", "").split():
        since = float(os.environ.get("DEVCLOUD_SINCE", "0"))
    svcs = api.get(url)["services"]
    return [s for s in svcs if s["binary"] == binary
            and s["host"].startswith(host_prefix)
            and s["state"] == "up" and s["status"] == "enabled"
            and utc_ts(s.get("updated_at")) >= since]


def utc_ts(stamp):
    if not stamp:
        return 0.0
    stamp = stamp.split(".")[0].replace("Z", "").split("+")[0]
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S"))


def ensure_flavors(api):
    for name, fid, ram, disk, vcpus in FLAVORS:
        r = api.req("GET", NOVA + "/flavors/" + fid, ok=(200, 404))
        if r.status_code == 200:
            f = r.json()["flavor"]
            if f["name"] != name:
                raise Fail("flavor id %s exists with name %s, expected %s"
                           % (fid, f["name"], name))
            continue
        say("creating flavor " + name)
        api.post(NOVA + "/flavors", {"flavor": {
            "name": name, "id": fid, "ram": ram, "disk": disk,
            "vcpus": vcpus, "os-flavor-access:is_public": True}})


def ensure_image(api):
    imgs = api.get(GLANCE + "/v2/images?name=" + IMAGE_NAME)["images"]
    for img in imgs:
        if img["status"] == "active":
            return
        # a half-done upload from an interrupted run
        say("deleting unfinished image %s (%s)" % (img["id"], img["status"]))
        api.req("DELETE", GLANCE + "/v2/images/" + img["id"])
    path = os.path.join(STATE, "images", IMAGE_NAME + ".qcow2")
    if not os.path.exists(path):
        raise Fail("missing " + path)
    say("uploading image " + IMAGE_NAME)
    img = api.post(GLANCE + "/v2/images", {
        "name": IMAGE_NAME, "disk_format": "qcow2",
        "container_format": "bare", "visibility": "public"})
    with open(path, "rb") as f:
        api.req("PUT", GLANCE + "/v2/images/%s/file" % img["id"], data=f,
                headers={"Content-Type": "application/octet-stream"})
    st = api.get(GLANCE + "/v2/images/" + img["id"])["status"]
    if st != "active":
        raise Fail("image %s is %s after upload" % (img["id"], st))


def ensure_network(api, demo_p):
    nets = api.get(NEUTRON + "/networks?name=private&project_id=" + demo_p)[
        "networks"]
    if nets:
        net = nets[0]["id"]
    else:
        say("creating network private")
        net = api.post(NEUTRON + "/networks", {"network": {
            "name": "private", "project_id": demo_p,
            "admin_state_up": True}})["network"]["id"]
    subs = api.get(NEUTRON + "/subnets?name=private-subnet&network_id=" + net)[
        "subnets"]
    if not subs:
        say("creating subnet private-subnet")
        api.post(NEUTRON + "/subnets", {"subnet": {
            "name": "private-subnet", "network_id": net, "project_id": demo_p,
            "ip_version": 4, "cidr": "10.0.0.0/24", "enable_dhcp": True}})


def ensure_public_network(api):
    """An external (provider) network, as a real cloud has, so router gateways and floating IPs
    work: flat, no agents (Neutron's API keeps the bookkeeping; nothing is routed).
    203.0.113.0/24 is TEST-NET-3 (RFC 5737): it never reaches anything."""
    nets = api.get(NEUTRON + "/networks?name=public&router:external=true")["networks"]
    if nets:
        net = nets[0]["id"]
    else:
        say("creating external network public")
        net = api.post(NEUTRON + "/networks", {"network": {
            "name": "public", "router:external": True, "shared": False,
            "provider:network_type": "flat",
            "provider:physical_network": "public"}})["network"]["id"]
    subs = api.get(NEUTRON + "/subnets?name=public-subnet&network_id=" + net)[
        "subnets"]
    if not subs:
        say("creating subnet public-subnet")
        api.post(NEUTRON + "/subnets", {"subnet": {
            "name": "public-subnet", "network_id": net, "ip_version": 4,
            "cidr": "203.0.113.0/24", "gateway_ip": "203.0.113.1",
            "enable_dhcp": False}})


def resources():
    api = Api(session())
    demo_p = one(api.get(KS + "/projects?domain_id=default&name=demo")
                 ["projects"], "project demo")["id"]
    admin_p = api.s.get_project_id()

    # independent of the services: do it while nova-compute registers
    ensure_image(api)
    ensure_network(api, demo_p)
    ensure_public_network(api)
    ensure_flavors(api)

    wait_for("nova-compute to be up",
             lambda: services_up(api, NOVA + "/os-services", "nova-compute",
                                 "devcloud"), 120)
    wait_for("the devcloud resource provider in placement",
             lambda: api.get(PLACEMENT + "/resource_providers?name=devcloud")
             ["resource_providers"], 120)
    wait_for("cinder-volume to be up",
             lambda: services_up(api, "%s/%s/os-services" % (CINDER, admin_p),
                                 "cinder-volume", "devcloud"), 120)


def main():
    try:
        {"identity": identity, "resources": resources}[sys.argv[1]]()
    except (Fail, ks_exc.ClientException, OSError) as e:
        print("[provision] ERROR: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
