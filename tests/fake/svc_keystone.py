"""Keystone (identity v3) for the fake cloud, loaded by fake_openstack.py (see its "service modules"
comment); every other service reads its users, projects and tokens.

  identity  http://127.0.0.1:P/identity/v3   POST /auth/tokens (password | token | application_credential),
                                              GET/DELETE /auth/tokens, GET /auth/projects,
                                              GET /limits[/{id}], /registered_limits[/{id}] (unified limits)
Users: demo/demo (projects demo and ops), admin/admin (admin in projects admin, demo and hidden), domain
Default (id default); application credential appcred-id / appcred-secret (demo).  Errors:
{"error": {"code", "message", "title"}}.
"""

import os
import secrets
import time
from base64 import urlsafe_b64encode

from fake_common import UNAUTHENTICATED, ApiError, Resp, ServiceBase, jdump, jresp, stable_id, ts

SERVICE = "identity"
ORDER = 0                 # catalog and route order: keystone, nova, glance, cinder, neutron, then the rest
CATALOG = [("identity", "keystone", "/identity/v3")]

DEMO_PROJECT = "7c808b28bded4680839ac3a2f00d8a87"     # same ids as in the fixtures
DEMO_USER = "ba5804b743f1465fb58da464a642feed"
ADMIN_PROJECT = "9437e3370b3d4498aea15d6831ba2e0a"
ADMIN_USER = "4f0c2b8e61a94d7f9b3e5a1c7d2e8f60"
OPS_PROJECT = "3f1d6a9c2b7e4c0d8a5f1e2b3c4d5e6f"     # a second project of demo's (member)
HIDDEN_PROJECT = "b2c3d4e5f6a74b8c9d0e1f2a3b4c5d6e"  # nobody's but admin's
DOMAIN = {"id": "default", "name": "Default"}
PROJECTS = {DEMO_PROJECT: "demo", ADMIN_PROJECT: "admin", OPS_PROJECT: "ops", HIDDEN_PROJECT: "hidden"}
ROLE_IDS = {"reader": "1bea47271d5d475d95bf664ab062f0f6", "member": "36e04fc25b7442ed8b3a3408b6c23a9d",
            "admin": "c0e2cb2bb8bb4d2f9a3f63e4b1f1a0d7"}
USERS = {DEMO_USER: {"name": "demo", "password": "demo", "roles": {DEMO_PROJECT: ["reader", "member"],
                                                                   OPS_PROJECT: ["reader", "member"]}},
         ADMIN_USER: {"name": "admin", "password": "admin",
                      "roles": {ADMIN_PROJECT: ["admin", "member", "reader"],
                                DEMO_PROJECT: ["admin", "member", "reader"],
                                HIDDEN_PROJECT: ["admin", "member", "reader"]}}}
# Unified limits as devcloud provisions them (contrib/devcloud/provision.py's ensure_limits): a
# registered default for the compute service and a project's own limits (demo's and ops's).
REGISTERED_LIMITS = [{"id": stable_id("registered-limit/devcloud_example"), "service_id": stable_id("compute"),
                      "region_id": "RegionOne", "resource_name": "devcloud_example", "default_limit": 10,
                      "description": "an example unified limit"}]
LIMITS = [{"id": stable_id(f"limit/{p}/devcloud_example"), "project_id": p, "domain_id": None,
           "resource_limit": n, "description": "demo's own limit of the example" if p == DEMO_PROJECT else None,
           "service_id": stable_id("compute"), "region_id": "RegionOne", "resource_name": "devcloud_example"}
          for p, n in ((DEMO_PROJECT, 5), (OPS_PROJECT, 7))]
APP_CREDS = {"appcred-id": {"name": "appcred", "secret": "appcred-secret", "user_id": DEMO_USER,
                            "project_id": DEMO_PROJECT}}


def error_body(status, message, title, ntype=None, extra=None):
    return "application/json", jdump({"error": {"code": status, "message": message, "title": title}})


def response_headers(request_id):
    return {"Vary": "X-Auth-Token"}


class Service(ServiceBase):
    def routes(self):
        name = r"([^/]+)"
        return [  # (method, path regex, handler, needs token)
            ("GET", r"/identity/?", self.ks_versions, False),
            ("GET", r"/identity/v3/?", self.ks_version, False),
            ("POST", r"/identity/v3/auth/tokens", self.ks_issue, False),
            ("GET", r"/identity/v3/auth/tokens", self.ks_validate, True),
            ("DELETE", r"/identity/v3/auth/tokens", self.ks_revoke, True),
            ("GET", r"/identity/v3/auth/projects", self.ks_auth_projects, True),
            ("GET", r"/identity/v3/(limits|registered_limits)(?:/([^/]+))?", self.ks_limits, True),
            ("DELETE", r"/identity/v3/(limits|registered_limits)/([^/]+)", self.ks_limit_delete, True),
        ]

    def _ks_version_doc(self):
        return {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": f"{self.base}/identity/v3/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.identity-v3+json"}]}

    def ks_versions(self, req):
        return jresp(300, {"versions": {"values": [self._ks_version_doc()]}})

    def ks_version(self, req):
        return jresp(200, {"version": self._ks_version_doc()})

    def ks_issue(self, req):
        unauthorized = ApiError(401, UNAUTHENTICATED,
                                headers={"WWW-Authenticate": f'Keystone uri="{self.base}/identity/v3"'})
        body = req.json()
        try:
            auth = body["auth"]
            identity, methods, scope = auth["identity"], auth["identity"]["methods"], auth.get("scope")
            appcred = None
            if "password" in methods:
                user = identity["password"]["user"]
                user_id = self.find_user(user)
                if user_id is None or USERS[user_id]["password"] != user.get("password"):
                    raise unauthorized
            elif "token" in methods:
                old = self.valid_token(identity["token"]["id"])
                if old is None:
                    raise unauthorized
                user_id = old["user_id"]
            elif "application_credential" in methods:
                ac = identity["application_credential"]
                appcred = ac.get("id") or next(
                    (k for k, v in APP_CREDS.items() if v["name"] == ac.get("name")
                     and v["user_id"] == self.find_user(ac.get("user") or {})), None)
                if appcred not in APP_CREDS or APP_CREDS[appcred]["secret"] != ac.get("secret") or scope:
                    raise unauthorized
                user_id = APP_CREDS[appcred]["user_id"]
                scope = {"project": {"id": APP_CREDS[appcred]["project_id"]}}
            else:
                raise unauthorized
        except (KeyError, TypeError):
            raise ApiError(400, "The request you have made is malformed: expecting auth.identity.methods "
                                "and the credentials of each method.") from None
        project_id = self.find_project((scope or {}).get("project") if isinstance(scope, dict) else None)
        roles = USERS[user_id]["roles"].get(project_id)
        if not roles:        # unscoped, unknown project or not a member
            raise unauthorized
        now = time.time()
        token = "gAAAAAB" + secrets.token_urlsafe(132)
        self.tokens[token] = {"user_id": user_id, "project_id": project_id, "roles": roles,
                              "methods": [m for m in methods if m in identity] or methods,
                              "issued": now, "expires": now + self.ttl, "appcred": appcred,
                              "audit_id": urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")}
        return jresp(201, self.token_body(self.tokens[token]), **{"X-Subject-Token": token})

    @staticmethod
    def find_user(user):
        if user.get("id"):
            return user["id"] if user["id"] in USERS else None
        domain = user.get("domain") or {}
        if domain.get("id", DOMAIN["id"]) != DOMAIN["id"] or domain.get("name", DOMAIN["name"]) != DOMAIN["name"]:
            return None
        return next((uid for uid, u in USERS.items() if u["name"] == user.get("name")), None)

    @staticmethod
    def find_project(project):
        if not isinstance(project, dict):
            return None
        if project.get("id"):
            return project["id"] if project["id"] in PROJECTS else None
        domain = project.get("domain") or {}
        if not domain or domain.get("id", DOMAIN["id"]) != DOMAIN["id"] or \
                domain.get("name", DOMAIN["name"]) != DOMAIN["name"]:
            return None
        return next((pid for pid, name in PROJECTS.items() if name == project.get("name")), None)

    def token_body(self, tok):
        user, project = tok["user_id"], tok["project_id"]
        body = {"methods": tok["methods"],
                "user": {"domain": DOMAIN, "id": user, "name": USERS[user]["name"], "password_expires_at": None},
                "audit_ids": [tok["audit_id"]], "expires_at": ts(tok["expires"], "usz"),
                "issued_at": ts(tok["issued"], "usz"),
                "project": {"domain": DOMAIN, "id": project, "name": PROJECTS[project]}, "is_domain": False,
                "roles": [{"id": ROLE_IDS[r], "name": r} for r in tok["roles"]], "catalog": self.catalog(project)}
        if tok["appcred"]:
            body["application_credential"] = {"id": tok["appcred"], "name": APP_CREDS[tok["appcred"]]["name"],
                                              "restricted": True}
        return {"token": body}

    def catalog(self, project):
        return [{"endpoints": [{"id": stable_id(f"{stype}/{region}/{iface}"), "interface": iface,
                                "region_id": region, "url": base + path.format(project=project), "region": region}
                               for region, base in (("RegionOne", self.base), ("RegionTwo", self.dead_base))
                               for iface in ("public", "internal", "admin")],
                 "id": stable_id(stype), "type": stype, "name": name}
                for stype, name, path in self.catalog_rows]

    def ks_validate(self, req):
        subject = req.headers.get("X-Subject-Token")
        tok = self.valid_token(subject)
        if tok is None:
            raise ApiError(404, f"Could not find token: {subject}.")
        return jresp(200, self.token_body(tok), **{"X-Subject-Token": subject})

    def ks_revoke(self, req):
        if self.tokens.pop(req.headers.get("X-Subject-Token") or "", None) is None:
            raise ApiError(404, f"Could not find token: {req.headers.get('X-Subject-Token')}.")
        return Resp(204)

    def ks_auth_projects(self, req):
        """GET /v3/auth/projects: the projects the token's user has a role in (an application
        credential's token too: Keystone lists the user's projects)."""
        uid = req.token["user_id"]
        projects = [{"is_domain": False, "description": "", "links": {"self": f"{self.base}/identity/v3/projects/{pid}"},
                     "tags": [], "enabled": True, "id": pid, "parent_id": DOMAIN["id"], "domain_id": DOMAIN["id"],
                     "name": PROJECTS[pid], "options": {}}
                    for pid in sorted(USERS[uid]["roles"])]
        return jresp(200, {"links": {"self": f"{self.base}/identity/v3/auth/projects", "previous": None,
                                     "next": None}, "projects": projects})

    def ks_limits(self, req, coll, lid):
        """GET /v3/limits and /v3/registered_limits, or one of them. A project-scoped token sees
        its own project's limits only (Keystone filters by the token's project); everyone sees
        the registered ones. Not paged by links: "links" is an object whose "next" is null."""
        if coll == "limits":
            rows = [r for r in LIMITS if r["project_id"] == req.token["project_id"]]
        else:
            rows = REGISTERED_LIMITS
        url = f"{self.base}/identity/v3/{coll}"
        rows = [dict(r, links={"self": f"{url}/{r['id']}"}) for r in rows]
        if lid is None:
            return jresp(200, {coll: rows, "links": {"next": None, "self": url, "previous": None}})
        got = [r for r in rows if r["id"] == lid]
        if not got:
            raise ApiError(404, f"Could not find {coll[:-1].replace('_', ' ')}: {lid}.")
        return jresp(200, {coll[:-1]: got[0]})

    def ks_limit_delete(self, req, coll, lid):
        """Only a cloud admin manages limits (identity:delete_limit); the fake's limits are fixed,
        so every token is refused as a member's is."""
        raise ApiError(403, f"You are not authorized to perform the requested action: "
                            f"identity:delete_{coll[:-1]}.")
