/* SPDX-License-Identifier: MIT */
/*
 * Member extras shared by OpenStack services. Layer: services.
 * Metadata: PUT <item>/<id>/metadata/<key> {"meta": {key: value}} and
 * DELETE of the same URL (Nova servers, Cinder volumes).
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "os_extras.h"

int os_metadata_store(const struct extra_ctx *x, const char *data, size_t len)
{
	const char *key = x->sub[0];
	json_t *body;
	int rc;

	if (len && data[len - 1] == '\n')
		len--;
	if (!names_is_utf8(data, len) || memchr(data, '\0', len)) {
		log_cloud_error("%s/%s/metadata/%s: a value must be UTF-8 text without NUL bytes",
				x->coll->name, x->id, key);
		return -EINVAL;
	}
	body = json_pack("{s{ss#}}", "meta", key, data, (int)len);
	if (!body)
		return -ENOMEM;
	rc = svc_request_member(x, "PUT", "metadata", key, body, NULL);
	extra_changed(x, NULL, x->id);
	json_decref(body);
	return rc;
}

int os_metadata_unlink(const struct extra_ctx *x)
{
	int rc = svc_request_member(x, "DELETE", "metadata", x->sub[0], NULL, NULL);

	extra_changed(x, NULL, x->id);
	return rc;
}
