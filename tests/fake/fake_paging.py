"""The listings of the fake cloud as OpenStack's services page and filter them (the pagination
styles of tests/fixtures/openstack-zed), for the service modules beside this file:

  nova     servers_links "next" when the page is full; name is a regex, status case-blind;
           400 "marker [m] not found"
  cinder   volumes_links "next" only when more remain; exact match on top-level fields;
           404 "Marker m could not be found."
  glance   a relative "first" and "next" (next when the page is full), 25 a page by default;
           exact match on top-level fields; 400 "Invalid marker. Image m could not be found."
  neutron  "next" and "previous" links (page_reverse=True), ?fields=; exact match on any field
           (repeated values OR-ed); a missing marker is the owner's NotFound

A service's handler calls listing() through fake_common.ServiceBase (self.listing(req, coll, style,
href)); the cloud is only the store it reads (listable(), page_max, collections, owner).
"""
import re

from fake_common import ApiError, jresp, paginate, public, with_query

LIST_PARAMS = {"limit", "marker", "page_reverse", "fields", "sort_key", "sort_dir", "all_tenants"}


def listing(cloud, req, coll, style, href, view=public, key=None):
    """Filter, sort and paginate `coll`, and add the service's own kind of pagination links.
    style: nova (next when the page is full), cinder (next when more remain), glance (relative
    first/next), neutron (next + previous, page_reverse)."""
    items = [r for r in cloud.listable(coll, req.token) if matches(r, req.args, style)]
    raw = req.arg("limit")
    if raw is not None and not re.fullmatch(r"\d+", raw):
        raise ApiError(400, {"nova": f"Invalid input for query parameters limit. Value: {raw}. "
                                     f"'{raw}' does not match '^[0-9]*$'",
                             "neutron": f"Bad limit request: Limit must be an integer 0 or greater "
                                        f"and not '{raw}'."}.get(style, "limit param must be an integer"))
    limit = None if raw is None or (style == "neutron" and raw == "0") else int(raw)
    size = min(cloud.page_max, limit if limit is not None else 25 if style == "glance" else cloud.page_max)
    reverse = style == "neutron" and req.arg("page_reverse", "").lower() == "true"
    key_field = cloud.collections[coll][0]
    marker = req.arg("marker")
    try:
        page, more = paginate(items, size, marker, key_field, reverse)
    except LookupError:
        raise marker_error(cloud, style, coll, marker) from None
    key = key or coll
    body = {key: [view(r) for r in page]}
    full = bool(page) and len(page) == size

    def link(**updates):
        return f"{href}?{with_query(req.query, **updates)}"

    if (style == "nova" and full) or (style == "cinder" and more):
        body[key + "_links"] = [{"rel": "next", "href": link(marker=page[-1][key_field])}]
    elif style == "glance":
        first = with_query(req.query, drop=("marker",))
        body.update(first=href + (f"?{first}" if first else ""), schema="/v2/schemas/images")
        if full:
            body["next"] = link(drop=("marker",), marker=page[-1]["id"])
    elif style == "neutron" and page and (limit is not None or full):
        links = []
        if not (len(page) < size and not reverse):
            links.append({"rel": "next", "href": link(drop=("page_reverse",), marker=page[-1]["id"])})
        if not (len(page) < size and reverse):
            links.append({"rel": "previous", "href": link(marker=page[0]["id"], page_reverse="True")})
        body[key + "_links"] = links
    if style == "neutron" and req.args.get("fields"):
        wanted = {f for value in req.args["fields"] for f in value.split(",")}
        body[key] = [{k: v for k, v in r.items() if k in wanted} for r in body[key]]
    return jresp(200, body)


def matches(rec, args, style):
    """Query filters: Nova name (a regex) and status; Glance/Cinder exact match on top-level
    fields; Neutron exact match on any field (repeated values OR-ed)."""
    for key, values in args.items():
        if key in LIST_PARAMS:
            continue
        have = rec.get(key)
        if style == "nova":
            if key == "name":
                try:
                    if not re.search(values[-1], have or ""):
                        return False
                except re.error:
                    if values[-1] not in (have or ""):
                        return False
            elif key == "status" and (have or "").upper() != values[-1].upper():
                return False
        elif style in ("glance", "cinder"):
            if key in rec and str(have) != values[-1]:
                return False
        elif not any(v in have if isinstance(have, list) else
                     str(have).lower() == v.lower() if isinstance(have, bool) else
                     str(have) == v for v in values):
            return False
    return True


def marker_error(cloud, style, coll, marker):
    if style == "nova":
        return ApiError(400, f"marker [{marker}] not found")
    if style == "glance":
        return ApiError(400, f"Invalid marker. Image {marker} could not be found.")
    if style == "cinder":
        return ApiError(404, f"Marker {marker} could not be found.")
    return cloud.owner[coll].neutron_not_found(coll, marker)
