"""Heat (orchestration, API v1) for the fake cloud: a service module (see "service modules" in
fake_openstack.py).

  orchestration  http://127.0.0.1:P/orchestration/v1/<project>
    GET  /stacks                          summaries (no parameters, no outputs); ?limit=&marker= with a
                                          "links" rel=next when a page is full (views_common)
    POST /stacks                          {"stack_name", "template" (text or object) | "template_url",
                                          "parameters", "environment", "files", "timeout_mins",
                                          "disable_rollback", "tags"} -> 201 {"stack": {"id", "links"}}
    *    /stacks/<name or id>[/resources|events|template|actions]
                                          302 Location: .../stacks/<name>/<id>[/...] (Heat's lookup)
    GET  /stacks/<name>/<id>              {"stack": {... "parameters", "outputs" ...}} (404 when the
                                          name is not the stack's)
    PATCH/PUT /stacks/<name>/<id>         202: update (PATCH keeps parameters not given)
    DELETE /stacks/<name>/<id>            204: DELETE_IN_PROGRESS, then DELETE_COMPLETE after
                                          --delete-seconds: gone from the listing and from name
                                          lookups, still shown by id (as Heat keeps the row)
    GET  .../resources, .../events, .../outputs[/<key>], .../template
    POST .../actions                      {"suspend"|"resume"|"check"|"cancel_update": null}

Stacks walk CREATE_IN_PROGRESS -> CREATE_COMPLETE (or CREATE_FAILED) after --build-seconds, like
the servers they make: an OS::Nova::Server resource is a server in the fake's Nova (deleted with the
stack), OS::Neutron::Net a network; an OS::Heat::TestResource with `fail: true` fails its stack as
Heat 19's does ("Resource CREATE failed: ValueError: resources.<name>: Test Resource failed <name>").
Templates are parsed with PyYAML as Heat's template_format does (YAML or JSON, a version key
required), and validation errors are 400s with Heat's messages and error body:
  {"explanation", "code", "error": {"message", "traceback", "type"}, "title"}
Control: POST /_fake/heat_fail_delete {"stack": id, "reason": text} makes the next delete of that
stack end in DELETE_FAILED with that reason (Heat's behaviour when a resource cannot be deleted).
"""

import json
import re
import sys
import time
import uuid

import yaml

# The fake's own classes, bound from the module that made the cloud (it runs as __main__: importing
# fake_openstack here would make a second copy whose ApiError the server does not catch).
ApiError = Resp = jresp = ts = None


def bind(cloud):
    global ApiError, Resp, jresp, ts
    m = sys.modules[type(cloud).__module__]
    ApiError, Resp, jresp, ts = m.ApiError, m.Resp, m.jresp, m.ts

SERVICE = "orchestration"
CATALOG = [("orchestration", "heat", "/orchestration/v1/{project}")]

class HeatLoader(yaml.SafeLoader):
    """Heat's template_format loader: timestamps stay strings (heat_template_version: 2015-04-30 is
    the text "2015-04-30", as Heat answers it)."""


HeatLoader.yaml_implicit_resolvers = {k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
                                      for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def yaml_load(text):
    return yaml.load(text, Loader=HeatLoader)


EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or otherwise incorrect.",
    404: "The resource could not be found.",
    409: "There was a conflict when trying to complete your request.",
    500: "The server has either erred or is incapable of performing the requested operation.",
}
TYPES = {400: "StackValidationFailed", 404: "EntityNotFound", 409: "StackExists",
         500: "HTTPInternalServerError"}
VERSIONS = ("heat_template_version", "HeatTemplateFormatVersion", "AWSTemplateFormatVersion")
KNOWN_TYPES = {"OS::Nova::Server", "OS::Neutron::Net", "OS::Neutron::Subnet", "OS::Neutron::Port",
               "OS::Heat::TestResource", "OS::Heat::RandomString", "OS::Heat::None",
               "OS::Cinder::Volume", "OS::Nova::KeyPair"}


def error_body(status, message, title, ntype=None, extra=None):
    """Heat's fault middleware: every error carries error.message (HTTPExceptionDisguise is safe)."""
    etype = "HTTPBadRequest" if status == 400 and "not in valid format" in message else \
        TYPES.get(status, "HTTPException")
    return "application/json", json.dumps({
        "explanation": EXPLANATIONS.get(status, title), "code": status,
        "error": {"message": message, "traceback": None, "type": etype}, "title": title}).encode()


def webob_page(status, title, text):
    """webob's HTML page for a non-error answer (Heat's 302 lookup, 202 update)."""
    return (f"<html>\n <head>\n  <title>{status} {title}</title>\n </head>\n <body>\n  <h1>{status} {title}</h1>\n"
            f"  {text}\n\n\n </body>\n</html>").encode()


def found(loc):
    return Resp(302, webob_page(302, "Found", f'The resource was found at <a href="{loc}">{loc}</a>;\n'
                                               "you should be redirected automatically.\n"),
                "text/html; charset=UTF-8", {"Location": loc})


def accepted():
    return Resp(202, webob_page(202, "Accepted", "The request is accepted for processing.<br /><br />\n\n"),
                "text/html; charset=UTF-8")


def hts(t):
    """Heat's isotime: 2026-12-06T19:47:14Z."""
    return ts(t)


class Service:
    def __init__(self, cloud):
        bind(cloud)
        self.cloud = cloud
        self.reset()

    def reset(self):
        self.stacks = {}           # id -> record (private keys start with _)
        self.fail_delete = {}      # id -> reason

    # ------------------------------------------------------------------------------------ routes
    def routes(self):
        p = r"/orchestration/v1/([^/]+)"
        n = r"([^/]+)"
        return [
            ("GET", rf"{p}/stacks", self.list, True),
            ("POST", rf"{p}/stacks", self.create, True),
            ("GET", rf"{p}/stacks/{n}/(resources|events|template|outputs)", self.sub_or_lookup, True),
            ("GET", rf"{p}/stacks/{n}/{n}/resources", self.resources, True),
            ("GET", rf"{p}/stacks/{n}/{n}/events", self.events, True),
            ("GET", rf"{p}/stacks/{n}/{n}/outputs", self.outputs, True),
            ("GET", rf"{p}/stacks/{n}/{n}/outputs/{n}", self.output, True),
            ("GET", rf"{p}/stacks/{n}/{n}/template", self.template, True),
            ("POST", rf"{p}/stacks/{n}/{n}/actions", self.action, True),
            ("POST", rf"{p}/stacks/{n}/actions", self.lookup_sub, True),
            ("GET", rf"{p}/stacks/{n}/{n}", self.show, True),
            ("PATCH", rf"{p}/stacks/{n}/{n}", self.update, True),
            ("PUT", rf"{p}/stacks/{n}/{n}", self.update, True),
            ("DELETE", rf"{p}/stacks/{n}/{n}", self.delete, True),
        ] + [(m, rf"{p}/stacks/{n}", self.lookup, True) for m in ("GET", "PATCH", "PUT", "DELETE")]

    def control(self, method, op, args, data):
        if (method, op) == ("POST", "heat_fail_delete"):
            self.fail_delete[data["stack"]] = data.get("reason", "Resource DELETE failed: Error: fake")
            return jresp(200, {"ok": True})
        if (method, op) == ("GET", "heat"):
            return jresp(200, {sid: {k: v for k, v in s.items() if k != "_t_obj"}
                               for sid, s in self.stacks.items()})
        return None

    # ------------------------------------------------------------------------------------ helpers
    def base(self, project):
        return f"{self.cloud.base}/orchestration/v1/{project}"

    def tick(self):
        now = time.time()
        for s in list(self.stacks.values()):
            while s["_steps"] and s["_steps"][0][0] <= now:
                _, fn = s["_steps"].pop(0)
                fn(s)

    def visible(self, req):
        self.tick()
        return [s for s in self.stacks.values() if s["_project"] == req.token["project_id"]]

    def by_ref(self, req, ref):
        """Heat's identify_stack: a name (of a stack not deleted), else an id (deleted ones too: Heat
        keeps them, and shows them by id as DELETE_COMPLETE)."""
        for s in self.visible(req):
            if s["stack_name"] == ref and not s.get("_deleted"):
                return s
        for s in self.visible(req):
            if s["id"] == ref:
                return s
        raise ApiError(404, f"The Stack ({ref}) could not be found.")

    def get(self, req, name, sid):
        for s in self.visible(req):
            if s["id"] == sid and s["stack_name"] == name:
                return s
        raise ApiError(404, f"The Stack ({name}) could not be found.")

    def link(self, s):
        return {"href": f"{self.base(s['_project'])}/stacks/{s['stack_name']}/{s['id']}", "rel": "self"}

    def summary(self, s):
        """A listing's member, keys in Heat 19's order (heat-stacks.json): the description is ""
        there (the listing reads the database row, not the template)."""
        return {"id": s["id"], "links": [self.link(s)], "stack_name": s["stack_name"], "description": "",
                "stack_status": s["stack_status"], "stack_status_reason": s["stack_status_reason"],
                "creation_time": s["creation_time"], "updated_time": s["updated_time"],
                "deletion_time": s["deletion_time"], "stack_owner": "demo", "parent": None,
                "stack_user_project_id": s["stack_user_project_id"], "tags": s["tags"]}

    def event(self, s, rname, phys, status, reason):
        s["_events"].append({"id": str(uuid.uuid4()), "event_time": hts(time.time()), "logical_resource_id": rname,
                             "resource_name": rname, "physical_resource_id": phys, "resource_status": status,
                             "resource_status_reason": reason})

    # --------------------------------------------------------------------------- template handling
    @staticmethod
    def parse_template(body):
        tmpl = body.get("template")
        if tmpl is None:
            if body.get("template_url"):
                raise ApiError(400, "Could not retrieve template: Failed to retrieve template: "
                                    f"{body['template_url']}")
            raise ApiError(400, "No template specified")
        if isinstance(tmpl, str):
            try:
                tmpl = yaml_load(tmpl)
            except yaml.YAMLError as e:
                raise ApiError(400, "Template not in valid format: Error parsing template [root stack] "
                                    f"{e}") from None
        if not isinstance(tmpl, dict):
            raise ApiError(400, "Template not in valid format: The template is not a JSON object "
                                "or YAML mapping.")
        if not any(v in tmpl for v in VERSIONS):
            raise ApiError(400, "Template not in valid format: Template format version not found.")
        return tmpl

    def validate(self, tmpl, params, files):
        resources = tmpl.get("resources") or {}
        if not isinstance(resources, dict):
            raise ApiError(400, 'Failed to validate: "resources" must be a map')
        declared = tmpl.get("parameters") or {}
        for pname, pdef in declared.items():
            if pname not in params and "default" not in (pdef or {}):
                raise ApiError(400, f'The Parameter ({pname}) was not provided.')
        for pname in params:
            if pname not in declared:
                raise ApiError(400, f'The Parameter ({pname}) was not defined in template.')
        for rname, r in resources.items():
            rtype = (r or {}).get("type")
            if isinstance(rtype, str) and rtype.endswith((".yaml", ".yml", ".template")):
                if rtype not in (files or {}):
                    raise ApiError(400, f'Failed to validate: Could not fetch remote template "{rtype}": '
                                        "Invalid URL scheme ")
                continue
            if rtype not in KNOWN_TYPES:
                raise ApiError(400, f"The Resource Type ({rtype}) could not be found.")

    def intrinsic(self, s, v):
        """get_param / get_attr / get_resource / str_replace enough for the seed's outputs."""
        if isinstance(v, dict) and len(v) == 1:
            (fn, arg), = v.items()
            if fn == "get_param":
                return s["parameters"].get(arg if isinstance(arg, str) else arg[0])
            if fn == "get_resource":
                return s["_res"].get(arg, {}).get("physical_resource_id")
            if fn == "get_attr":
                res = s["_res"].get(arg[0])
                return self.attr(res, arg[1:]) if res else None
            if fn == "list_join":
                return arg[0].join(str(self.intrinsic(s, x)) for x in arg[1])
        if isinstance(v, dict):
            return {k: self.intrinsic(s, x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.intrinsic(s, x) for x in v]
        return v

    def attr(self, res, path):
        phys = res.get("physical_resource_id")
        if res["resource_type"] == "OS::Nova::Server":
            srv = self.cloud.c["servers"].get(phys)
            if srv is None:
                return None
            name = path[0] if path else None
            if name == "name":
                return srv["name"]
            if name == "first_address":
                return next((a["addr"] for addrs in srv["addresses"].values() for a in addrs), "")
            if name == "networks":
                return {n: [a["addr"] for a in addrs] for n, addrs in srv["addresses"].items()}
            return srv.get(name)
        if res["resource_type"] == "OS::Heat::TestResource":
            return res.get("_value")
        if res["resource_type"] == "OS::Heat::RandomString":
            return res.get("_value")
        return None

    def props(self, s, r):
        return self.intrinsic(s, (r or {}).get("properties") or {})

    # ----------------------------------------------------------------------------- resource life
    def make_resources(self, s, req):
        """CREATE_IN_PROGRESS resources now (servers building in Nova), COMPLETE or FAILED later."""
        failed = None
        for rname, r in (s["_tmpl"].get("resources") or {}).items():
            rtype = r.get("type")
            props = self.props(s, r)
            phys = ""
            if rtype == "OS::Nova::Server":
                srv = self.cloud.new("servers", {
                    "name": props.get("name") or f"{s['stack_name']}-{rname}-{uuid.uuid4().hex[:12]}",
                    "image": props.get("image"), "flavor": props.get("flavor"),
                    "networks": [n.get("network") or n.get("port") for n in props.get("networks") or []
                                 if isinstance(n, dict)] or None,
                    "key_name": props.get("key_name"), "tenant_id": s["_project"],
                    "status": "BUILD"})
                srv["_ready"] = {"status": "ACTIVE", "OS-EXT-STS:task_state": None,
                                 "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:power_state": 1}
                self.cloud.later(self.cloud.build_s, "servers", srv["id"], "ready")
                phys = srv["id"]
            elif rtype == "OS::Neutron::Net":
                net = self.cloud.new("networks", {"name": props.get("name") or f"{s['stack_name']}-{rname}",
                                                  "project_id": s["_project"]})
                phys = net["id"]
            elif rtype == "OS::Heat::RandomString":
                phys = f"{s['stack_name']}-{rname}-{uuid.uuid4().hex[:12]}"
            elif rtype != "OS::Heat::None":
                phys = str(uuid.uuid4())
            res = {"updated_time": hts(time.time()), "creation_time": hts(time.time()),
                   "logical_resource_id": rname, "resource_name": rname, "physical_resource_id": phys,
                   "resource_status": "CREATE_IN_PROGRESS", "resource_status_reason": "state changed",
                   "resource_type": rtype,
                   "_value": props.get("value", phys) if isinstance(props, dict) else phys}
            if rtype == "OS::Heat::TestResource" and props.get("fail"):
                failed = failed or rname
                res["_fail"] = True
            s["_res"][rname] = res
            self.event(s, rname, "", "CREATE_IN_PROGRESS", "state changed")
        return failed

    def finish(self, action, failed=None):
        def step(s):
            for rname, res in s["_res"].items():
                if res.get("_fail") and action in ("CREATE", "UPDATE"):
                    reason = f"ValueError: resources.{rname}: Test Resource failed {rname}"
                    res.update(resource_status=f"{action}_FAILED", resource_status_reason=reason)
                    self.event(s, rname, res["physical_resource_id"], f"{action}_FAILED", reason)
                elif res["resource_status"].endswith("_IN_PROGRESS"):
                    res.update(resource_status=f"{action}_COMPLETE", resource_status_reason="state changed")
                    self.event(s, rname, res["physical_resource_id"], f"{action}_COMPLETE", "state changed")
            if failed:
                s["stack_status"] = f"{action}_FAILED"
                s["stack_status_reason"] = (f"Resource {action} failed: ValueError: resources.{failed}: "
                                            f"Test Resource failed {failed}")
            else:
                s["stack_status"] = f"{action}_COMPLETE"
                s["stack_status_reason"] = f"Stack {action} completed successfully"
            self.event(s, s["stack_name"], s["id"], s["stack_status"], s["stack_status_reason"])
        return step

    # ---------------------------------------------------------------------------------- handlers
    def list(self, req, project):
        stacks = sorted(self.visible(req), key=lambda s: (s["creation_time"], s["id"]), reverse=True)
        stacks = [s for s in stacks if s["stack_status"] != "DELETE_COMPLETE"]
        limit, marker = req.arg("limit"), req.arg("marker")
        if marker:
            pos = next((i for i, s in enumerate(stacks) if s["id"] == marker), None)
            if pos is None:
                raise ApiError(404, f"The Stack ({marker}) could not be found.")
            stacks = stacks[pos + 1:]
        body = {}
        if limit is not None:
            try:
                limit = int(limit)
            except ValueError:
                raise ApiError(400, f"Only integer is acceptable by 'limit'.") from None
            page = stacks[:limit]
            body = {"stacks": [self.summary(s) for s in page]}
            if page and len(page) == limit:
                q = f"limit={limit}&marker={page[-1]['id']}"
                body["links"] = [{"href": f"{self.base(project)}/stacks?{q}", "rel": "next"}]
            return jresp(200, body)
        return jresp(200, {"stacks": [self.summary(s) for s in stacks]})

    def create(self, req, project):
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Malformed request body")
        name = body.get("stack_name")
        if not name:
            raise ApiError(400, "No stack name specified")
        if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_.-]{0,254}", name):
            raise ApiError(400, f'Invalid stack name {name} must contain only alphanumeric or "_-." '
                                "characters, must start with alpha and must be 255 characters or less.")
        tmpl = self.parse_template(body)
        params = body.get("parameters") or {}
        env = body.get("environment") or {}
        if isinstance(env, str):
            try:
                env = yaml_load(env) or {}
            except yaml.YAMLError as e:
                raise ApiError(400, f"Environment not in valid format: {e}") from None
        params = {**(env.get("parameters") or {}), **params}
        self.validate(tmpl, params, body.get("files"))
        if any(s["stack_name"] == name and not s.get("_deleted") for s in self.visible(req)):
            raise ApiError(409, f"The Stack ({name}) already exists.")
        sid, now = str(uuid.uuid4()), time.time()
        declared = tmpl.get("parameters") or {}
        values = {k: str(params.get(k, (d or {}).get("default", ""))) for k, d in declared.items()}
        values.update({"OS::project_id": project, "OS::stack_id": sid, "OS::stack_name": name})
        s = {"id": sid, "stack_name": name, "description": tmpl.get("description", "No description"),
             "creation_time": hts(now), "updated_time": None, "deletion_time": None,
             "stack_status": "CREATE_IN_PROGRESS", "stack_status_reason": "Stack CREATE started",
             "stack_user_project_id": uuid.uuid4().hex, "tags": body.get("tags") or None,
             "timeout_mins": body.get("timeout_mins"), "disable_rollback": body.get("disable_rollback", True),
             "parameters": values, "_project": req.token["project_id"], "_tmpl": tmpl,
             "_template_text": body.get("template"), "_res": {}, "_events": [], "_steps": []}
        self.stacks[sid] = s
        self.event(s, name, sid, "CREATE_IN_PROGRESS", "Stack CREATE started")
        failed = self.make_resources(s, req)
        s["_steps"].append((now + self.cloud.build_s, self.finish("CREATE", failed)))
        return jresp(201, {"stack": {"id": sid, "links": [self.link(s)]}},
                     Location=self.link(s)["href"])

    def lookup(self, req, project, ref):
        s = self.by_ref(req, ref)
        loc = self.link(s)["href"] + (f"?{req.query}" if req.query else "")
        return found(loc)

    def sub_or_lookup(self, req, project, ref, sub):
        if sub == "outputs":      # not one of Heat's lookup subpaths: /stacks/<ref>/outputs is a show
            raise ApiError(404, f"The Stack ({ref}) could not be found.")
        return self.lookup_sub(req, project, ref, sub)

    def lookup_sub(self, req, project, ref, sub="actions"):
        s = self.by_ref(req, ref)
        loc = f"{self.link(s)['href']}/{sub}" + (f"?{req.query}" if req.query else "")
        return found(loc)

    def show(self, req, project, name, sid):
        """Keys in Heat 19's order (heat-stack-show.json); outputs last, unless resolve_outputs=false."""
        s = self.get(req, name, sid)
        doc = {"stack_name": s["stack_name"], "id": s["id"], "links": [self.link(s)],
               "creation_time": s["creation_time"], "updated_time": s["updated_time"],
               "deletion_time": s["deletion_time"], "notification_topics": [], "parameters": s["parameters"],
               "description": s["description"], "template_description": s["description"], "capabilities": [],
               "disable_rollback": s["disable_rollback"], "timeout_mins": s["timeout_mins"],
               "stack_owner": "demo", "parent": None, "stack_user_project_id": s["stack_user_project_id"],
               "tags": s["tags"] or [], "stack_status": s["stack_status"],
               "stack_status_reason": s["stack_status_reason"]}
        if req.arg("resolve_outputs", "true").lower() != "false" and not s.get("_deleted"):
            doc["outputs"] = self.output_list(s, True)
        return jresp(200, {"stack": doc})

    def output_list(self, s, values):
        out = []
        for key, o in (s["_tmpl"].get("outputs") or {}).items():
            item = {"output_key": key, "description": (o or {}).get("description", "No description given")}
            if values:
                item["output_value"] = (self.intrinsic(s, (o or {}).get("value"))
                                        if s["stack_status"] not in ("CREATE_IN_PROGRESS",) else None)
            out.append(item)
        return out

    def outputs(self, req, project, name, sid):
        return jresp(200, {"outputs": self.output_list(self.get(req, name, sid), False)})

    def output(self, req, project, name, sid, key):
        s = self.get(req, name, sid)
        for o in self.output_list(s, True):
            if o["output_key"] == key:
                return jresp(200, {"output": o})
        raise ApiError(404, f"Specified output key {key} not found.")

    def template(self, req, project, name, sid):
        return jresp(200, self.get(req, name, sid)["_tmpl"])

    def resources(self, req, project, name, sid):
        s = self.get(req, name, sid)
        base = self.link(s)["href"]
        return jresp(200, {"resources": [
            {**{k: v for k, v in r.items() if not k.startswith("_")},
             "links": [{"href": f"{base}/resources/{r['resource_name']}", "rel": "self"},
                       {"href": base, "rel": "stack"}], "required_by": []} for r in s["_res"].values()]})

    def events(self, req, project, name, sid):
        s = self.get(req, name, sid)
        events = list(s["_events"])
        if req.arg("sort_dir") == "desc":
            events.reverse()
        base = self.link(s)["href"]
        return jresp(200, {"events": [
            {"id": e["id"], "links": [
                {"href": f"{base}/resources/{e['resource_name']}/events/{e['id']}", "rel": "self"},
                {"href": f"{base}/resources/{e['resource_name']}", "rel": "resource"},
                {"href": base, "rel": "stack"}], **{k: v for k, v in e.items() if k != "id"}} for e in events]})

    def update(self, req, project, name, sid):
        s = self.get(req, name, sid)
        if s["stack_status"].endswith("_IN_PROGRESS"):
            raise ApiError(409, f"Stack {name} already has an action ({s['stack_status'].split('_')[0]}) "
                                "in progress.")
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Malformed request body")
        patch = req.method == "PATCH"
        if "template" in body or "template_url" in body or not patch:
            tmpl = self.parse_template(body)
        else:
            tmpl = s["_tmpl"]
        given = body.get("parameters") or {}
        old = {k: v for k, v in s["parameters"].items() if not k.startswith("OS::")}
        params = {**old, **given} if patch else dict(given)
        declared = tmpl.get("parameters") or {}
        self.validate(tmpl, {k: v for k, v in params.items() if k in declared or k in given}, body.get("files"))
        values = {k: str(params.get(k, (d or {}).get("default", ""))) for k, d in declared.items()}
        values.update({"OS::project_id": project, "OS::stack_id": sid, "OS::stack_name": name})
        s.update(parameters=values, _tmpl=tmpl, updated_time=hts(time.time()),
                 stack_status="UPDATE_IN_PROGRESS", stack_status_reason="Stack UPDATE started")
        if "template" in body:
            s["_template_text"] = body["template"]
        self.event(s, name, sid, "UPDATE_IN_PROGRESS", "Stack UPDATE started")
        for rname, res in s["_res"].items():
            res.update(resource_status="UPDATE_IN_PROGRESS", updated_time=hts(time.time()))
        s["_steps"].append((time.time() + self.cloud.build_s, self.finish("UPDATE")))
        return accepted()

    def delete(self, req, project, name, sid):
        s = self.get(req, name, sid)
        s.update(stack_status="DELETE_IN_PROGRESS", stack_status_reason="Stack DELETE started")
        self.event(s, name, sid, "DELETE_IN_PROGRESS", "Stack DELETE started")
        reason = self.fail_delete.pop(sid, None)

        def done(st):
            if reason:
                st.update(stack_status="DELETE_FAILED", stack_status_reason=reason)
                self.event(st, name, sid, "DELETE_FAILED", reason)
                return
            for res in st["_res"].values():
                coll = {"OS::Nova::Server": "servers", "OS::Neutron::Net": "networks"}.get(res["resource_type"])
                if coll and res["physical_resource_id"]:
                    self.cloud.remove(coll, res["physical_resource_id"])
            # Heat keeps the row: out of the listing and of name lookups, shown by id
            st.update(stack_status="DELETE_COMPLETE", stack_status_reason="Stack DELETE completed successfully",
                      deletion_time=hts(time.time()), _deleted=True, _res={})
            self.event(st, name, sid, "DELETE_COMPLETE", "Stack DELETE completed successfully")
        s["_steps"] = [(time.time() + self.cloud.delete_s, done)]
        return Resp(204, b"", None)

    def action(self, req, project, name, sid):
        s = self.get(req, name, sid)
        body = req.json()
        if not isinstance(body, dict) or len(body) != 1:
            raise ApiError(400, "Malformed request body")
        act = next(iter(body))
        if act not in ("suspend", "resume", "check", "cancel_update"):
            raise ApiError(400, f"Invalid action {act}")
        verb = act.upper()
        s.update(stack_status=f"{verb}_IN_PROGRESS", stack_status_reason=f"Stack {verb} started")
        s["_steps"].append((time.time() + self.cloud.build_s, self.finish(verb)))
        return Resp(200, b"", "application/json")
