"""The quota engine of the fake cloud: Nova's, Cinder's and Neutron's quota sets alike.

Its tables are the service modules' rows (see "service modules" in fake_openstack.py):
  OWNER                 collection -> (field, "project" | "user"): whose record counts where
                        (default project_id)
  QUOTA_COLLECTIONS     the collections --quota and /_fake/quota limit
  QUOTA_OF_COLLECTION   collection -> (quota service, key): the key of a quota set that limits it
  QUOTA_DEFAULTS        quota service -> {key: default limit} (Zed's)
Its state: the per-collection limits (--quota, /_fake/quota; None = unlimited) and the sets an admin
PUT per (service, project).  What a service says in its own words (usage, the over-quota error, a bad
key in a PUT) are its hooks (fake_common.ServiceBase: quota_used, quota_exceeded, quota_check).
"""
from fake_common import require_admin


def merged(modules, table):
    return {k: v for m in modules for k, v in getattr(m, table, {}).items()}


def quota_collections(modules):
    return tuple(c for m in modules for c in getattr(m, "QUOTA_COLLECTIONS", ()))


class Quotas:
    def __init__(self, cloud, modules, spec):
        self.cloud = cloud
        self.owners = merged(modules, "OWNER")
        self.collections = quota_collections(modules)
        self.of_collection = merged(modules, "QUOTA_OF_COLLECTION")
        self.defaults = merged(modules, "QUOTA_DEFAULTS")
        self.limits = self.parse(spec)          # collection -> limit per project (or user)
        self.sets = {}                          # (service, project) -> {key: limit} set by PUT
        self.initial = dict(self.limits)

    def reset(self):
        self.limits = dict(self.initial)
        self.sets = {}

    def parse(self, spec):
        """--quota servers=5,volumes=3 (or a dict from /_fake/quota) -> {collection: int | None}."""
        if isinstance(spec, dict):
            items = spec.items()
        else:
            items = [part.split("=", 1) for part in (spec or "").split(",") if part.strip()]
        quotas = {}
        for coll, limit in items:
            coll = coll.strip().replace("-", "_")
            if coll not in self.collections:
                raise ValueError(f"no quota for {coll!r} (one of {', '.join(self.collections)})")
            quotas[coll] = None if limit in (None, "", -1, "-1") else int(limit)
        return quotas

    def owned(self, coll, token):
        field, kind = self.owners.get(coll, ("project_id", "project"))
        want = token["user_id"] if kind == "user" else token["project_id"]
        return [r for r in self.cloud.c[coll].values() if r.get(field) == want]

    def check(self, req, coll, requested=1):
        """Refuse a create over the collection's --quota / /_fake/quota limit, as the service would."""
        limit = self.limits.get(coll)
        svc_key = self.of_collection.get(coll)
        if svc_key:
            limit = self.sets.get((svc_key[0], req.token["project_id"]), {}).get(svc_key[1], limit)
        if limit is None or limit < 0:
            return
        used = len(self.owned(coll, req.token))
        if used + requested <= limit:
            return
        raise self.cloud.owner[coll].quota_exceeded(coll, requested, used, limit)

    @staticmethod
    def target(req, project, rule):
        """Reading another project's quotas, or changing any, is for admins (Zed's default policy)."""
        if project != req.token["project_id"] or rule.endswith(":update"):
            require_admin(req, rule)

    def used(self, project):
        used = {}
        for quota_used in self.cloud.hooks("quota_used"):
            used.update(quota_used(project))
        return used

    def limits_of(self, service, project):
        defaults = dict(self.defaults[service])
        for coll, (svc, key) in self.of_collection.items():
            if svc == service and self.limits.get(coll) is not None:
                defaults[key] = self.limits[coll]
        defaults.update(self.sets.get((service, project), {}))
        return defaults

    def quota_set(self, service, project, detail, used_key, extra=()):
        limits, used = self.limits_of(service, project), self.used(project)[service]
        if not detail:
            return dict(limits)
        return {k: {"limit": v, used_key: used.get(k, 0), "reserved": 0, **{e: 0 for e in extra}}
                for k, v in limits.items()}

    def update(self, req, service, wrapper, project):
        """A quota set PUT: the service checks each key (in its own words), the cloud keeps them."""
        body = req.wrapped(wrapper)
        known, used = self.defaults[service], self.used(project)[service]
        for k, v in body.items():
            self.cloud.service_of[service].quota_check(wrapper, k, v, known, used.get(k, 0))
        self.sets.setdefault((service, project), {}).update(body)
        return self.limits_of(service, project)
