/* SPDX-License-Identifier: MIT */
/*
 * Cinder (block-storage): volumes, snapshots and volume types. Layer: services. Field
 * names and pagination follow the Cinder v3 API reference and the captured
 * Zed responses.
 */
#include <string.h>

#include <jansson.h>

#include "os_extras.h"

extern const struct service_def service_volume;

/* Zed catalogs carry both; openstacksdk prefers block-storage. */
static const char *const volume_types[] = { "block-storage", "volumev3", "volume", NULL };
/* Where OpenStack keeps a member's modification time. */
static const char *const volume_mtime[] = { "updated", "updated_at", "created", "created_at",
					    NULL };

static const char *const volume_rw[] = { "name", "description", NULL };

static const struct spec_rule volume_spec[] = {
	{ "image", SPEC_REF, "imageRef", "images", NULL, NULL },
	{ "type", SPEC_RENAME, "volume_type", NULL, NULL, NULL },
	{ .key = NULL },
};
static const struct spec_rule snapshot_spec[] = {
	{ "volume", SPEC_REF, "volume_id", "volumes", NULL, NULL },
	{ .key = NULL },
};

/* Volumes and snapshots share Cinder's transitional statuses. */
static bool cinder_busy(const json_t *doc)
{
	static const char *const statuses[] = {
		"creating",   "deleting",	  "attaching", "detaching",
		"extending",  "downloading",	  "uploading", "retyping",
		"backing-up", "restoring-backup", "reserved",  NULL,
	};

	return service_field_in(doc, "status", statuses);
}

/* Cinder's failures are statuses (error, error_deleting, error_extending,
 * error_restoring, error_managing, ...); the document carries no reason
 * (Cinder keeps it in its separate user messages). */
static const char *cinder_failed(const json_t *doc)
{
	const char *status = json_string_value(json_object_get(doc, "status"));

	return status && !strncmp(status, "error", 5) ? "" : NULL;
}

static const struct member_extra volume_extras[] = {
	OS_METADATA_EXTRA,
	{ .name = NULL },
};

/* Cinder resources share one URL scheme and pagination. */
#define CINDER(dir, path, key, wrap, rw, ...)                                                     \
	{                                                                                         \
		.name = dir, .service = &service_volume, .list_path = "/" path "/detail",         \
		.item_path = "/" path, .list_key = key, .item_key = wrap, .id_field = "id",       \
		.name_field = "name", .mtime_fields = volume_mtime, .links_key = key "_links",    \
		.next = NEXT_LINKS, .paged = true, .uuid_ids = true, .name_links = true,          \
		.can_create = true, .writable = rw, .busy = cinder_busy, .failed = cinder_failed, \
		.status_field = "status", __VA_ARGS__                                             \
	}

/* `df volumes/`: the project's gigabytes quota (limit, in_use; GiB). */
static const struct space_def volume_space = {
	.group = "quotas",
	.coll = "volume",
	.key = "gigabytes",
	.limit = "limit",
	.used = "in_use",
	.unit = 1ULL << 30,
};

static const struct collection_def volume_collections[] = {
	CINDER("volumes", "volumes", "volumes", "volume", volume_rw, .extras = volume_extras,
	       .spec_rules = volume_spec, .space = &volume_space),
	CINDER("snapshots", "snapshots", "snapshots", "snapshot", volume_rw,
	       .spec_rules = snapshot_spec),
	/* volume_types/: read only, what `"type":` in a volume spec names. The
	 * listing has no /detail and no status; a project sees the public
	 * types and those shared with it. */
	{ .name = "volume_types",
	  .service = &service_volume,
	  .list_path = "/types",
	  .item_path = "/types",
	  .list_key = "volume_types",
	  .item_key = "volume_type",
	  .id_field = "id",
	  .name_field = "name",
	  .links_key = "volume_types_links",
	  .next = NEXT_LINKS,
	  .uuid_ids = true,
	  .name_links = true },
	/* quotas/volume/: Cinder's quota set with usage (volumes, gigabytes,
	 * per-type keys.../{limit,in_use,reserved,allocated}); the endpoint
	 * already carries the project. PUT os-quota-sets/<project>: admins. */
	{ .name = "volume",
	  .service = &service_volume,
	  .group = "quotas",
	  .singleton = true,
	  .item_path = "/os-quota-sets",
	  .item_suffix = "?usage=true",
	  .item_key = "quota_set",
	  .writable_leaf = "limit" },
};

const struct service_def service_volume = {
	.name = "block-storage",
	.types = volume_types,
	SERVICE_ROWS(volume_collections),
};
