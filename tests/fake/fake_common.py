"""What the fake cloud's server (fake_openstack.py) and its service modules (svc_<name>.py) share:
requests, answers and errors, OpenStack's timestamps and pagination, and ServiceBase -- the part of
the cloud a service module's handlers see.

Service modules import this module, never fake_openstack: the server runs as __main__, so importing
it by name would load a second copy whose ApiError the server does not catch.
"""

import functools
import ipaddress
import json
import re
import urllib.parse
import uuid
from datetime import datetime, timezone
from http import HTTPStatus

UNAUTHENTICATED = "The request you have made requires authentication."
# The fault names of Nova's and Cinder's error bodies ({"itemNotFound": {"code": 404, ...}}).
NOVA_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                    405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
                    429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}


def ts(t, style="z"):
    """OpenStack timestamps: z 2026-11-23T04:24:05Z (Nova, Glance, Neutron), us ...05.000000
    (Cinder, Nova launched_at), usz ...05.000000Z (Keystone)."""
    fmt = {"z": "%Y-%m-%dT%H:%M:%SZ", "us": "%Y-%m-%dT%H:%M:%S.000000",
           "usz": "%Y-%m-%dT%H:%M:%S.000000Z"}[style]
    return datetime.fromtimestamp(int(t), timezone.utc).strftime(fmt)


def stable_id(name):
    return uuid.uuid5(uuid.NAMESPACE_URL, "fake-openstack/" + name).hex


cidr_network = functools.lru_cache(maxsize=None)(ipaddress.ip_network)


def public(rec):
    """The API view of a stored record: private bookkeeping keys start with '_'."""
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def jdump(obj):
    return json.dumps(obj).encode()


def phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def with_query(query, drop=(), **updates):
    """Re-encode a query string with some parameters dropped and others set (in place if present,
    appended otherwise) -- how Nova, Neutron and Glance build their pagination links."""
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k not in drop]
    for key, value in updates.items():
        pos = next((i for i, (k, _) in enumerate(pairs) if k == key), None)
        if pos is None:
            pairs.append((key, value))
        else:
            pairs = [(k, value if i == pos else v) for i, (k, v) in enumerate(pairs) if k != key or i == pos]
    return urllib.parse.urlencode(pairs)


def paginate(items, limit, marker, key="id", reverse=False):
    """Slice a sorted list like the OpenStack DB layer: `limit` items after `marker` (before it when
    `reverse`, Neutron's page_reverse).  -> (page, more_remain).  LookupError for an unknown marker."""
    if marker is None:
        pos = len(items) if reverse else 0
    else:
        pos = next((i for i, r in enumerate(items) if r[key] == marker), None)
        if pos is None:
            raise LookupError(marker)
        pos += 0 if reverse else 1
    if reverse:
        start = max(0, pos - limit)
        return items[start:pos], start > 0
    return items[pos:pos + limit], pos + limit < len(items)


class ApiError(Exception):
    """An error answer; rendered in the style of the service that raised it (see error_body)."""

    def __init__(self, status, message, ntype=None, headers=None, extra=None):
        super().__init__(message)
        self.status, self.message, self.ntype, self.headers = status, message, ntype, headers or {}
        self.extra = extra or {}        # more fields of a Nova/Cinder fault (Cinder's overLimit retryAfter)


def fault_body(status, message, extra=None, ctype="application/json"):
    """Nova's and Cinder's error shape: {"itemNotFound": {"code": 404, "message": ...}}."""
    return ctype, jdump({NOVA_FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message,
                                                                       **(extra or {})}})


class Resp:
    def __init__(self, status, body=b"", ctype="application/json", headers=None):
        self.status, self.body, self.ctype, self.headers = status, body, ctype, headers or {}
        self.stall_after = None       # send this many body bytes, then nothing more (image knob)


def jresp(status, obj, **headers):
    return Resp(status, jdump(obj), headers=headers)


class Req:
    def __init__(self, method, path, query, headers, body, service):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body
        self.service, self.token = service, None
        self.args = urllib.parse.parse_qs(query, keep_blank_values=True)

    def arg(self, name, default=None):
        values = self.args.get(name)
        return values[-1] if values else default

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise ApiError(400, "Malformed request body") from None

    def wrapped(self, key, message=None):
        """The object under `key` of a JSON body ({"server": {...}}), else a Nova/Cinder-style 400."""
        body = self.json()
        if not isinstance(body, dict) or not isinstance(body.get(key), dict):
            raise ApiError(400, message or f"'{key}' is a required property")
        return body[key]

    def logged_body(self):
        """The body as the request log shows it: parsed JSON, or None (binary, or not JSON)."""
        if not self.body or len(self.body) > 1 << 20 or self.body[:1] not in (b"{", b"["):
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def microversion(self):
        """Nova's requested microversion as (2, N); 2.1 unless a header asks for another."""
        value = self.headers.get("X-OpenStack-Nova-API-Version") or ""
        m = re.search(r"compute\s+(\d+)\.(\d+)", self.headers.get("OpenStack-API-Version") or "")
        m = m or re.fullmatch(r"\s*(\d+)\.(\d+)\s*", value)
        return (int(m.group(1)), int(m.group(2))) if m else (2, 1)


def nova_invalid(field, value, problem):
    """Nova/Cinder jsonschema error text, e.g. "Invalid input for field/attribute networks. Value: none.
    'none' is not of type 'array'" (nova-server-create-bad-request.json)."""
    return ApiError(400, f"Invalid input for field/attribute {field}. Value: {value}. {problem}")


def require_admin(req, rule):
    if "admin" not in req.token["roles"]:
        raise ApiError(403, f"Policy doesn't allow {rule} to be performed.")


def _forward(name):
    return property(lambda self: getattr(self.cloud, name), doc=f"the cloud's {name}")


class ServiceBase:
    """A service module's Service derives from this.  All state stays in the cloud (one lock, one
    reset, one /_fake/state): the handlers reach it under the names below, and the cloud calls the
    hooks below (each a no-op here) for the collections the service owns (its COLLECTIONS)."""

    def __init__(self, cloud):
        self.cloud = cloud

    def reset(self):
        """Back to the state after startup: only what the service keeps itself (the cloud resets its
        collections)."""

    def routes(self):
        return []

    require_admin = staticmethod(require_admin)

    # ------------------------------------------------------------------------------------- hooks
    def created(self, coll, rec):
        """cloud.new() stored rec in coll (any service's)."""

    def removed(self, coll, key, rec):
        """cloud.remove() took rec out of coll (any service's): cascade as the real service does."""

    def visibility(self, proj, user):
        """-> {collection: rule(record) -> bool}: who sees what (default: the record's project_id)."""
        return {}

    def quota_used(self, project):
        """-> {quota service: {key: in use}} for the quota sets this service answers."""
        return {}

    def quota_exceeded(self, coll, requested, used, limit):
        """The ApiError for a create over the limit of coll, one of this service's collections."""
        return ApiError(403, f"Quota exceeded for {coll}")

    def quota_check(self, wrapper, key, value, known, used):
        """A key of a quota set PUT ({wrapper: {key: value}}): raise the service's ApiError when the key
        is not one of known, the value no limit, or (Nova) below used."""

    def fake_update(self, coll, rec, fields):
        """/_fake/update: the fields to set on rec, one of this service's records."""
        if "status" in fields:
            rec.pop("_ready", None)
        return fields

    def state_view(self, state):
        """/_fake/state: add what a test may check beyond the records."""

    # ------------------------------------------------------------- listings and quotas (engines)
    def listing(self, req, coll, style, href, view=public, key=None):
        """`coll` filtered, paged and linked in the service's style (fake_paging.py)."""
        import fake_paging  # here: it imports this module
        return fake_paging.listing(self.cloud, req, coll, style, href, view, key)

    def owned(self, coll, token):
        return self.cloud.quota.owned(coll, token)

    def check_quota(self, req, coll, requested=1):
        self.cloud.quota.check(req, coll, requested)

    def quota_target(self, req, project, rule):
        self.cloud.quota.target(req, project, rule)

    def quota_set(self, service, project, detail, used_key, extra=()):
        return self.cloud.quota.quota_set(service, project, detail, used_key, extra)

    def quota_update(self, req, service, wrapper, project):
        return self.cloud.quota.update(req, service, wrapper, project)

    # ------------------------------------------------------------------- shared by Nova and Cinder
    def brief(self, rec):
        return {"id": rec["id"], "name": rec["name"], "links": rec["links"]}

    def metadata(self, req, rec, key, service):
        """Nova's /servers/{id}/metadata and Cinder's /volumes/{id}/metadata, which behave alike:
        GET all or one ({"meta": {key: value}}), POST merges, PUT replaces all or sets one, DELETE one."""
        meta = rec["metadata"]
        key = key or None
        if req.method == "GET":
            if key is None:
                return jresp(200, {"metadata": meta})
            if key not in meta:
                raise ApiError(404, "Metadata item was not found")
            return jresp(200, {"meta": {key: meta[key]}})
        if req.method == "DELETE":
            if key not in meta:
                raise ApiError(404, "Metadata item was not found")
            del meta[key]
            return Resp(204 if service == "compute" else 200)
        if key is not None:
            item = req.wrapped("meta", "Malformed request body")
            if len(item) != 1:
                raise ApiError(400, "Request body contains too many items")
            if key not in item:
                raise ApiError(400, "Request body and URI mismatch")
            new = item
        else:
            new = req.wrapped("metadata", "Malformed request body")
        for k, v in new.items():
            if not 1 <= len(k) <= 255:
                raise nova_invalid("metadata", new, f"{k!r} does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{{1,255}}$'")
            if not isinstance(v, str) or len(v) > 255:
                raise nova_invalid(k, v, f"{v!r} is not of type 'string' of at most 255 characters")
        if req.method == "PUT" and key is None:
            meta.clear()
        meta.update(new)
        return jresp(200, {"meta": new} if key is not None else {"metadata": meta})


# The cloud as handlers see it: its state (self.c: collection -> key -> record, self.blobs, ...) and
# its collection primitives, under the names the handlers had when they were methods of the cloud.
for _name in ("c", "blobs", "counters", "tokens", "base", "dead_base", "ttl", "build_s", "delete_s", "rng", "seq",
              "catalog_rows", "add", "new", "remove", "later", "lookup", "visible", "listable", "find",
              "find_by_name_or_id", "valid_token"):
    setattr(ServiceBase, _name, _forward(_name))
del _name
