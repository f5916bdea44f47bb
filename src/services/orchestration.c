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
 */
#include <string.h>

#include <jansson.h>

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
	  .spec_rules = stack_spec,
	  .busy = stack_busy,
	  .failed = stack_failed },
};

const struct service_def service_orchestration = {
	.name = "orchestration",
	.types = orchestration_types,
	SERVICE_ROWS(orchestration_collections),
};
