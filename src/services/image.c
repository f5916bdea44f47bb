/* SPDX-License-Identifier: MIT */
/*
 * Glance (image): images. Layer: services. Field names and pagination
 * follow the Glance v2 API reference and the captured Zed responses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cloudfs/log.h"
#include "cloudfs/service.h"

extern const struct service_def service_image;

static const char *const image_types[] = { "image", NULL };
/* Where OpenStack keeps a member's modification time. */
static const char *const image_mtime[] = { "updated", "updated_at", "created", "created_at", NULL };

static const char *const image_rw[] = { "name",	    "visibility", "min_ram",
					"min_disk", "protected",  NULL };

/* images/<id>/data: its size is the document's; the core's streaming
 * engine (src/core/stream.c) reads <item>/<id>/file with Range GETs
 * (image_stream). */
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

#define IMAGE_PATH "/v2/images"

/* An upload's image record: its name and disk format, a bare container,
 * and the mark a later mount cleans a failed upload by. */
static int image_create(struct svc_call *x, const char *name, const char *format,
			const char *mark_key, const char *mark_value, char *id, size_t idlen)
{
	json_t *body = json_pack("{ssssssss}", "name", name, "disk_format", format,
				 "container_format", "bare", mark_key, mark_value);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct svc_answer a;
	const char *got;
	int rc;

	rc = text ? svc_request(x, "POST", IMAGE_PATH, NULL, text, strlen(text), NULL, &a)
		  : -ENOMEM;
	if (!text)
		memset(&a, 0, sizeof(a));
	got = rc ? NULL : json_string_value(json_object_get(a.json, "id"));
	if (!rc && (!got || !*got || strlen(got) >= idlen)) {
		log_cloud_error("create image %s: Glance's answer has no id", name);
		rc = -EIO;
	}
	if (!rc)
		snprintf(id, idlen, "%s", got);
	svc_answer_free(&a);
	free(text);
	json_decref(body);
	return rc;
}

/* Glance's os_hash_value (multihash, sha512 by default) by the algorithm
 * it names, then the md5 "checksum" every image with data has. */
static size_t image_digests(const json_t *doc, struct data_digest *out)
{
	const char *algo = json_string_value(json_object_get(doc, "os_hash_algo"));
	const char *value = json_string_value(json_object_get(doc, "os_hash_value"));
	size_t n = 0;

	if (algo && value)
		out[n++] = (struct data_digest){ algo, value, false };
	out[n++] = (struct data_digest){ "md5", json_string_value(json_object_get(doc, "checksum")),
					 true };
	return n;
}

/* A JSON patch that removes the property (Glance's media type for it). */
static int image_unmark(struct svc_call *x, const char *id, const char *mark_key, json_t **doc)
{
	char *esc = svc_escape(id, false), *path = NULL, *text = NULL;
	json_t *ops = NULL;
	struct svc_answer a = { 0 };
	int rc = -ENOMEM;

	if (!json_object_get(*doc, mark_key)) {
		free(esc);
		return 0;
	}
	ops = json_pack("[{ssss+}]", "op", "remove", "path", "/", mark_key);
	text = ops ? json_dumps(ops, JSON_COMPACT) : NULL;
	if (!esc || !text || asprintf(&path, IMAGE_PATH "/%s", esc) < 0) {
		path = NULL;
		goto out;
	}
	rc = svc_request(x, "PATCH", path, NULL, text, strlen(text),
			 "application/openstack-images-v2.1-json-patch", &a);
	if (!rc && json_is_object(a.json)) {
		json_decref(*doc);
		*doc = a.json;
		a.json = NULL;
	}
out:
	svc_answer_free(&a);
	json_decref(ops);
	free(text);
	free(path);
	free(esc);
	return rc;
}

static const struct data_stream_def image_stream = {
	.data_below = "file",
	.upload_method = "PUT",
	.create = image_create,
	.digests = image_digests,
	.unmark = image_unmark,
};

static const struct collection_def image_collections[] = {
	/* Glance: bare documents, a relative "next", JSON-patch updates. */
	{ .name = "images",
	  .service = &service_image,
	  .list_path = IMAGE_PATH,
	  .item_path = IMAGE_PATH,
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
	  .stream = &image_stream,
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
