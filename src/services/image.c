/* SPDX-License-Identifier: MIT */
/*
 * Glance (image): images. Layer: services. Field names and pagination
 * follow the Glance v2 API reference and the captured Zed responses.
 */
#include <jansson.h>

#include "cloudfs/service.h"

extern const struct service_def service_image;

static const char *const image_types[] = { "image", NULL };
/* Where OpenStack keeps a member's modification time. */
static const char *const image_mtime[] = { "updated", "updated_at", "created", "created_at", NULL };

static const char *const image_rw[] = { "name",	    "visibility", "min_ram",
					"min_disk", "protected",  NULL };

/* images/<id>/data: its size is the document's; the core's streaming
 * engine (src/core/stream.c) reads <item>/<id>/file with Range GETs. */
static int image_data_size(const struct extra_ctx *x, int64_t *size)
{
	const json_t *v = json_object_get(x->doc, "size");

	*size = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
	return 0;
}

static const struct member_extra image_extras[] = {
	{ .name = "data",
	  .kind = EXTRA_FILE,
	  .mode = 0444,
	  .flags = EXTRA_STREAM,
	  .size = image_data_size },
	{ .name = NULL },
};

static bool image_busy(const json_t *doc)
{
	static const char *const statuses[] = {
		"queued", "saving", "uploading", "importing", "pending_delete", NULL,
	};

	return service_field_in(doc, "status", statuses);
}

/* "killed": Glance gave up on the image's data (a failed upload or import). */
static const char *image_failed(const json_t *doc)
{
	static const char *const statuses[] = { "killed", NULL };

	return service_field_in(doc, "status", statuses) ? "" : NULL;
}

static const struct collection_def image_collections[] = {
	/* Glance: bare documents, a relative "next", JSON-patch updates. */
	{ .name = "images",
	  .service = &service_image,
	  .list_path = "/v2/images",
	  .item_path = "/v2/images",
	  .list_key = "images",
	  .id_field = "id",
	  .name_field = "name",
	  .mtime_fields = image_mtime,
	  .next = NEXT_RELATIVE,
	  .paged = true,
	  .uuid_ids = true,
	  .name_links = true,
	  .patch_update = true,
	  .upload = true,
	  .writable = image_rw,
	  .busy = image_busy,
	  .failed = image_failed,
	  .status_field = "status",
	  .extras = image_extras },
};

const struct service_def service_image = {
	.name = "image",
	.types = image_types,
	.version_suffix = "/v2",
	SERVICE_ROWS(image_collections),
};
