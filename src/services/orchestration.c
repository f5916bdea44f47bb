/* SPDX-License-Identifier: MIT */
/*
 * Heat (orchestration, API v1): stacks. Layer: services. Field names,
 * status codes and the lookup redirect follow the Heat API reference
 * (Zed: heat 19) and the captured responses in the fixtures.
 *
 * - A stack's canonical URL is /stacks/<name>/<id>; /stacks/<id> answers
 *   302 there (for GET, PATCH, PUT, DELETE), which the api layer follows
 *   on the endpoint's own origin. So the row's item_path is plain.
 * - The listing is a summary: no parameters, no outputs. Those come from
 *   the stack's GET (summary_listing).
 * - A create is POST /stacks {"stack_name", "template", ...} (bare) and
 *   answers 201 {"stack": {"id", "links"}}; a GET answers {"stack": {...}}.
 * - A spec file that is not a JSON spec is the template, sent as the text
 *   the user wrote (YAML or JSON): Heat parses it, nothing re-serialises.
 * - A stack's extras: outputs/ (from the stack's GET), parameters/
 *   (writable: PATCH keeps the rest), resources/ (GET .../resources, with a
 *   physical link into the collection of each resource's type), events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloudfs/buf.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "cloudfs/render.h"
#include "cloudfs/service.h"

extern const struct service_def service_orchestration;

static const char *const orchestration_types[] = { "orchestration", NULL };
static const char *const stack_mtime[] = { "updated_time", "creation_time", NULL };

/* Top-level keys that make a JSON document a template, not a spec. */
static const char *const template_marks[] = { "heat_template_version", "AWSTemplateFormatVersion",
					      "HeatTemplateFormatVersion", NULL };

static const struct spec_rule stack_spec[] = {
	{ "timeout", SPEC_RENAME, "timeout_mins", NULL, NULL, NULL },
	{ .key = NULL },
};

/* @doc's stack_status ends with @suffix. */
static bool status_ends(const json_t *doc, const char *suffix)
{
	const char *s = json_string_value(json_object_get(doc, "stack_status"));
	size_t n = s ? strlen(s) : 0, k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

/* CREATE_IN_PROGRESS, UPDATE_IN_PROGRESS, DELETE_IN_PROGRESS, ROLLBACK_...:
 * every action Heat runs says so in the suffix. */
static bool stack_busy(const json_t *doc)
{
	return status_ends(doc, "_IN_PROGRESS");
}

/* CREATE_FAILED, UPDATE_FAILED, DELETE_FAILED, ROLLBACK_FAILED...: Heat
 * says why in stack_status_reason. */
static const char *stack_failed(const json_t *doc)
{
	const char *why;

	if (!status_ends(doc, "_FAILED"))
		return NULL;
	why = json_string_value(json_object_get(doc, "stack_status_reason"));
	return why ? why : "";
}

/* ---- outputs/<output_key> ------------------------------------------- */

/* The stack's outputs entry for @key (borrowed from @doc), or NULL. */
static const json_t *output_find(const json_t *doc, const char *key)
{
	return service_member_where(json_object_get(doc, "outputs"), "output_key", key);
}

static int outputs_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx)
{
	const json_t *o;
	size_t i;
	int rc = 0;

	if (x->nsub)
		return -ENOTDIR;
	json_array_foreach(json_object_get(x->doc, "outputs"), i, o)
	{
		const char *k = json_string_value(json_object_get(o, "output_key"));

		if (k && *k && (rc = fill(fill_ctx, k, EXTRA_FILE, NULL)))
			break;
	}
	return rc;
}

static int outputs_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	if (x->nsub != 1 || !output_find(x->doc, x->sub[0]))
		return -ENOENT;
	e->kind = EXTRA_FILE;
	return 0;
}

/* The value by the usual rules, an object as its JSON (a file: the value
 * is one thing). An output Heat could not resolve (a failed resource) has
 * an "output_error" instead: EIO, and Heat's reason in .cloudfs/errors. */
static int outputs_show(const struct extra_ctx *x, struct buf *out)
{
	const json_t *o = x->nsub == 1 ? output_find(x->doc, x->sub[0]) : NULL;
	const char *error;
	const json_t *v;

	if (!o)
		return -ENOENT;
	v = json_object_get(o, "output_value");
	error = json_string_value(json_object_get(o, "output_error"));
	if (error && json_is_null(v)) {
		log_cloud_error("%s/%s/outputs/%s: Heat could not resolve it: %s", x->coll->name,
				x->id, x->sub[0], error);
		return -EIO;
	}
	if (json_is_object(v)) {
		char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		int rc = text ? buf_addstr(out, text) : -ENOMEM;

		free(text);
		return rc ? rc : buf_add(out, "\n", 1);
	}
	return v ? render_value(v, out) : 0;
}

/* ---- parameters/<name> ----------------------------------------------- */

/* Heat's existing-stack update: PATCH @body (consumed) on the stack; what
 * the body leaves out (the template, the other parameters) is kept. */
static int stack_patch(const struct extra_ctx *x, json_t *body)
{
	int rc;

	if (!body)
		return -ENOMEM;
	rc = svc_request_member(x, "PATCH", NULL, NULL, body, NULL);
	extra_changed(x, NULL, x->id);
	json_decref(body);
	return rc;
}

/* Heat's existing-stack update: PATCH {"parameters": {name: value}} keeps
 * the template and every other parameter. Parameters are Heat's strings. */
static int parameters_store(const struct extra_ctx *x, const char *data, size_t len)
{
	if (x->nsub != 1)
		return -EPERM;
	if (len && data[len - 1] == '\n')
		len--;
	if (!names_is_utf8(data, len) || memchr(data, '\0', len)) {
		log_cloud_error("%s/%s/parameters/%s: a value must be UTF-8 text without NUL bytes",
				x->coll->name, x->id, x->sub[0]);
		return -EINVAL;
	}
	return stack_patch(x, json_pack("{s{ss#}}", "parameters", x->sub[0], data, (int)len));
}

/* ---- template -------------------------------------------------------- */

/* Heat keeps the template parsed: GET .../template answers it as JSON
 * (comments and YAML layout are gone), shown pretty-printed. */
static int template_show(const struct extra_ctx *x, struct buf *out)
{
	json_t *t = NULL;
	int rc = svc_request_member(x, "GET", "template", NULL, NULL, &t);
	char *text;

	if (rc)
		return rc;
	text = t ? json_dumps(t, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	rc = !t ? -EIO : !text ? -ENOMEM : buf_addstr(out, text);
	if (!rc)
		rc = buf_add(out, "\n", 1);
	free(text);
	json_decref(t);
	return rc;
}

/* A new template, as written (YAML or JSON): PATCH {"template": text}
 * keeps the parameters (Heat's existing-stack update). */
static int template_store(const struct extra_ctx *x, const char *data, size_t len)
{
	if (!names_is_utf8(data, len) || memchr(data, '\0', len)) {
		log_cloud_error("%s/%s/template: the template must be UTF-8 text", x->coll->name,
				x->id);
		return -EINVAL;
	}
	return stack_patch(x, json_pack("{ss#}", "template", data, (int)len));
}

/* ---- resources/<resource_name>/ --------------------------------------- */

/* Where cloudfs shows a resource of each type (issue 14). A nested
 * template ("type: child.yaml") is a stack too. */
static const struct {
	const char *type, *coll;
} resource_colls[] = {
	{ "OS::Nova::Server", "servers" },
	{ "OS::Cinder::Volume", "volumes" },
	{ "OS::Neutron::Net", "networks" },
	{ "OS::Neutron::Subnet", "subnets" },
	{ "OS::Neutron::Port", "ports" },
	{ "OS::Neutron::Router", "routers" },
	{ "OS::Neutron::SecurityGroup", "security_groups" },
	{ "OS::Neutron::FloatingIP", "floating_ips" },
	{ "OS::Nova::KeyPair", "keypairs" },
	{ "OS::Nova::ServerGroup", "server_groups" },
	{ "OS::Glance::WebImage", "images" },
	{ "OS::Swift::Container", "containers" },
	{ "OS::Heat::Stack", "stacks" },
	{ "OS::Heat::ResourceGroup", "stacks" },
	{ "OS::Heat::AutoScalingGroup", "stacks" },
};

/* The files of a resource directory: its keys of Heat's resource. */
static const char *const resource_files[] = { "resource_type",		"resource_status",
					      "resource_status_reason", "physical_resource_id",
					      "logical_resource_id",	"creation_time",
					      "updated_time",		NULL };

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* The collection @res (a resource document) lives in, or NULL. */
static const char *resource_coll(const json_t *res)
{
	const char *type = json_string_value(json_object_get(res, "resource_type"));
	const char *coll = NULL;

	if (!type)
		return NULL;
	for (size_t i = 0; i < sizeof(resource_colls) / sizeof(resource_colls[0]) && !coll; i++)
		if (!strcmp(resource_colls[i].type, type))
			coll = resource_colls[i].coll;
	if (!coll &&
	    (ends_with(type, ".yaml") || ends_with(type, ".yml") || ends_with(type, ".template")))
		coll = "stacks";
	return coll && collection_find(coll) ? coll : NULL;
}

/* "physical" of @res: its target, malloc'd, or NULL when it has none. */
static char *resource_link(const struct extra_ctx *x, const json_t *res)
{
	const char *coll = resource_coll(res);
	const char *phys = json_string_value(json_object_get(res, "physical_resource_id"));

	if (!coll || !phys || !*phys ||
	    strlen(phys) != json_string_length(json_object_get(res, "physical_resource_id")))
		return NULL;
	return extra_link_to(x, coll, phys);
}

/* The stack's resources (one cached GET), a new reference in *list. */
static int resources_get(const struct extra_ctx *x, json_t **answer, const json_t **list)
{
	int rc = extra_get(x, "resources", answer);

	if (rc)
		return rc;
	*list = json_object_get(*answer, "resources");
	if (!json_is_array(*list)) {
		log_cloud_error("%s/%s/resources: Heat's answer has no 'resources' list",
				x->coll->name, x->id);
		json_decref(*answer);
		*answer = NULL;
		return -EIO;
	}
	return 0;
}

static const json_t *resource_find(const json_t *list, const char *name)
{
	return service_member_where(list, "resource_name", name);
}

static bool is_resource_file(const char *name)
{
	for (const char *const *f = resource_files; *f; f++)
		if (!strcmp(*f, name))
			return true;
	return false;
}

static int resources_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx)
{
	json_t *answer = NULL;
	const json_t *list, *r;
	size_t i;
	int rc = resources_get(x, &answer, &list);

	if (rc)
		return rc;
	if (x->nsub == 0) {
		json_array_foreach(list, i, r)
		{
			const char *n = json_string_value(json_object_get(r, "resource_name"));

			if (n && *n && (rc = fill(fill_ctx, n, EXTRA_DIR, NULL)))
				break;
		}
	} else if (x->nsub == 1 && (r = resource_find(list, x->sub[0]))) {
		char *link = resource_link(x, r);

		for (const char *const *f = resource_files; *f && !rc; f++)
			if (json_object_get(r, *f))
				rc = fill(fill_ctx, *f, EXTRA_FILE, NULL);
		if (!rc && link)
			rc = fill(fill_ctx, "physical", EXTRA_LINK, link);
		free(link);
	} else {
		rc = -ENOENT;
	}
	json_decref(answer);
	return rc;
}

static int resources_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	json_t *answer = NULL;
	const json_t *list, *r;
	int rc = resources_get(x, &answer, &list);

	if (rc)
		return rc;
	r = x->nsub >= 1 ? resource_find(list, x->sub[0]) : NULL;
	rc = -ENOENT;
	if (r && x->nsub == 1) {
		e->kind = EXTRA_DIR;
		rc = 0;
	} else if (r && x->nsub == 2 && !strcmp(x->sub[1], "physical")) {
		e->kind = EXTRA_LINK;
		e->link = resource_link(x, r);
		rc = e->link ? 0 : -ENOENT;
	} else if (r && x->nsub == 2 && is_resource_file(x->sub[1]) &&
		   json_object_get(r, x->sub[1])) {
		e->kind = EXTRA_FILE;
		rc = 0;
	}
	json_decref(answer);
	return rc;
}

static int resources_show(const struct extra_ctx *x, struct buf *out)
{
	json_t *answer = NULL;
	const json_t *list, *r, *v;
	int rc = resources_get(x, &answer, &list);

	if (rc)
		return rc;
	r = x->nsub == 2 ? resource_find(list, x->sub[0]) : NULL;
	v = r && is_resource_file(x->sub[1]) ? json_object_get(r, x->sub[1]) : NULL;
	rc = v ? render_value(v, out) : -ENOENT;
	json_decref(answer);
	return rc;
}

/* ---- events ---------------------------------------------------------- */

/* One line per event, oldest first: time, resource, status, then the
 * reason (last: it may hold blanks). Heat's own strings; a line break in
 * a reason would split the line, so it becomes a blank. */
static int events_show(const struct extra_ctx *x, struct buf *out)
{
	static const char *const fields[] = { "event_time", "resource_name", "resource_status",
					      "resource_status_reason" };
	json_t *answer = NULL;
	const json_t *ev;
	size_t i;
	int rc = extra_get(x, "events?sort_dir=asc", &answer);

	if (rc)
		return rc;
	json_array_foreach(json_object_get(answer, "events"), i, ev)
	{
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]) && !rc; f++) {
			const char *v = json_string_value(json_object_get(ev, fields[f]));

			if (f)
				rc = buf_add(out, " ", 1);
			for (const char *c = v ? v : "-"; !rc && *c; c++)
				rc = buf_add(out, *c == '\n' || *c == '\r' ? " " : c, 1);
		}
		if (!rc)
			rc = buf_add(out, "\n", 1);
		if (rc)
			break;
	}
	json_decref(answer);
	return rc;
}

static const struct member_extra stack_extras[] = {
	{ .name = "outputs",
	  .kind = EXTRA_DIR,
	  .mode = 0555,
	  .show = outputs_show,
	  .readdir = outputs_readdir,
	  .lookup = outputs_lookup },
	{ .name = "parameters",
	  .kind = EXTRA_DIR,
	  .mode = 0755,
	  /* Per line at write(2): bash ignores close(2) of `echo 2 >`, and
	   * a refused update (EBUSY while one is in progress) must show. */
	  .flags = EXTRA_ON_KEY | EXTRA_LINES,
	  .store = parameters_store },
	{ .name = "resources",
	  .kind = EXTRA_DIR,
	  .mode = 0555,
	  .show = resources_show,
	  .readdir = resources_readdir,
	  .lookup = resources_lookup },
	{ .name = "events", .kind = EXTRA_FILE, .mode = 0444, .show = events_show },
	/* Fetched on read (not to list the directory), cached as the stack. */
	{ .name = "template",
	  .kind = EXTRA_FILE,
	  .mode = 0644,
	  .flags = EXTRA_CACHED | EXTRA_LAZY,
	  .show = template_show,
	  .store = template_store },
	{ .name = NULL },
};

static const struct collection_def orchestration_collections[] = {
	{ .name = "stacks",
	  .service = &service_orchestration,
	  .list_path = "/stacks",
	  .item_path = "/stacks",
	  .list_key = "stacks",
	  .item_key = "stack",
	  .id_field = "id",
	  .name_field = "stack_name",
	  .mtime_fields = stack_mtime,
	  .links_key = "links",
	  .next = NEXT_LINKS,
	  .paged = true,
	  .uuid_ids = true,
	  .name_links = true,
	  .can_create = true,
	  .create_bare = true,
	  .summary_listing = true,
	  .spec_text_key = "template",
	  .spec_text_raw = true,
	  .spec_text_marks = template_marks,
	  .spec_text_second_key = "environment",
	  .spec_rules = stack_spec,
	  .busy = stack_busy,
	  .failed = stack_failed,
	  /* stacks/<id>/wait prints it once the stack settles (waits.c) */
	  .status_field = "stack_status",
	  .extras = stack_extras },
};

const struct service_def service_orchestration = {
	.name = "orchestration",
	.types = orchestration_types,
	SERVICE_ROWS(orchestration_collections),
};
