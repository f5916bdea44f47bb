# SPDX-License-Identifier: MIT
"""The layering rules of docs/ARCHITECTURE.md, checked on the sources.

- only src/fuse/ and src/main.c include libfuse;
- src/core/ and src/fuse/ never include curl;
- src/core/ includes no src/services/ file and names no service the
  registry defines (it finds them through include/cloudfs/service.h);
- src/core/ holds no OpenStack URL path and no JSON field name as a string
  (outside comments): no literal a service file uses as a request path
  ("/v2/images") or reads as a field (json_object_get(doc, "checksum")),
  except the few every resource has (CORE_FIELDS).

Includes are followed through include/cloudfs/*.h and the layer-private
headers beside the sources, so a header that pulls a library in counts.
"""
import os
import re
import textwrap

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)
SERVICE_DEF_RE = re.compile(r'^const struct service_def (\w+)\s*=', re.M)
STRING_RE = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
COMMENT_RE = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
FIELD_RE = re.compile(r'json_object_get\([^,()]+,\s*"([^"]+)"\)')
# Strings the core may spell although services read fields by them: "id"
# and "name" (every resource has them) and "status" (the core's own
# .cloudfs/status file).
CORE_FIELDS = {"id", "name", "status"}


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _resolve(root, including, name):
    """The file an #include "name" means, or None for a system header."""
    for base in (os.path.dirname(including), os.path.join(root, "include")):
        p = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(p):
            return p
    return None


def includes(root, path):
    """Every header @path reaches: project files by path, system ones as <name>."""
    seen, todo, out = set(), [path], set()
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        for kind, name in INCLUDE_RE.findall(_read(cur)):
            found = _resolve(root, cur, name) if kind == '"' else None
            if found:
                out.add(found)
                todo.append(found)
            else:
                out.add("<%s>" % name)
    return out


def sources(root):
    for d, _, files in os.walk(os.path.join(root, "src")):
        for f in files:
            if f.endswith((".c", ".h")):
                yield os.path.join(d, f)


def violations(root):
    src = os.path.join(root, "src")
    rel = lambda p: os.path.relpath(p, root)
    services = os.path.join(src, "services") + os.sep
    service_names = set()
    for p in sources(root):
        if p.startswith(services):
            service_names.update(SERVICE_DEF_RE.findall(_read(p)))
    svc_fields, svc_paths = set(), set()
    for p in sources(root):
        if p.startswith(services):
            text = COMMENT_RE.sub("", _read(p))
            svc_fields.update(FIELD_RE.findall(text))
            svc_paths.update(x for x in STRING_RE.findall(text) if re.match(r"/[A-Za-z]", x))
    openstack = (svc_fields - CORE_FIELDS) | svc_paths
    out = []
    for p in sorted(sources(root)):
        r = rel(p)
        inc = includes(root, p)
        in_fuse = r.startswith("src/fuse/")
        in_core = r.startswith("src/core/")
        if not (in_fuse or r == "src/main.c"):
            out += ["%s includes libfuse (%s)" % (r, h) for h in sorted(inc) if h.startswith("<fuse")]
        if in_core or in_fuse:
            out += ["%s includes curl (%s)" % (r, h) for h in sorted(inc) if h.startswith("<curl/")]
        if in_core:
            out += ["%s includes a service (%s)" % (r, rel(h)) for h in sorted(inc)
                    if h.startswith(services)]
            text = _read(p)
            out += ["%s names the service %s" % (r, n) for n in sorted(service_names)
                    if re.search(r"\b%s\b" % re.escape(n), text)]
            strings = set(STRING_RE.findall(COMMENT_RE.sub("", text)))
            out += ["%s spells the OpenStack string \"%s\"" % (r, x)
                    for x in sorted(strings & openstack)]
    return out


def test_the_tree_keeps_its_layers():
    assert violations(ROOT) == []


def _tree(tmp_path, files):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return str(tmp_path)


def test_the_check_finds_each_kind_of_breach(tmp_path):
    # A core file reaching curl and fuse through a header, one naming a
    # service, one including a service file: each is reported.
    root = _tree(tmp_path, {
        "include/cloudfs/net.h": "#include <curl/curl.h>\n",
        "include/cloudfs/fs.h": "#include <fuse_lowlevel.h>\n",
        "src/services/compute.c": "const struct service_def service_compute = {0};\n"
                                  'static const char *p = "/servers";\n'
                                  'int f(json_t *d) { return !json_object_get(d, "checksum")'
                                  ' && !json_object_get(d, "id"); }\n',
        "src/core/d.c": 'const char *u = "/servers", *k = "checksum", *i = "id";\n'
                        '/* "/servers" in a comment is fine */\n',
        "src/core/a.c": '#include "cloudfs/net.h"\n#include "cloudfs/fs.h"\n',
        "src/core/b.c": "static const void *p = &service_compute;\n",
        "src/core/c.c": '#include "../services/compute.c"\n',
        "src/fuse/fs.c": '#include "cloudfs/fs.h"\n',
        "src/main.c": '#include "cloudfs/fs.h"\n',
    })
    assert violations(root) == [
        "src/core/a.c includes libfuse (<fuse_lowlevel.h>)",
        "src/core/a.c includes curl (<curl/curl.h>)",
        "src/core/b.c names the service service_compute",
        "src/core/c.c includes a service (src/services/compute.c)",
        'src/core/d.c spells the OpenStack string "/servers"',
        'src/core/d.c spells the OpenStack string "checksum"',
    ]
