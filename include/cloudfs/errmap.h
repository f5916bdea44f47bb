/* SPDX-License-Identifier: MIT */
/*
 * THE table from HTTP status and transport failure to errno, and the
 * extraction of the cloud's own message from an error body. Pure.
 * Layer: part of the HTTP/API boundary; above it everything is -errno.
 */
#ifndef CLOUDFS_ERRMAP_H
#define CLOUDFS_ERRMAP_H

#include "cloudfs/common.h"

/*
 * errmap_http() - errno for an HTTP status
 * @status: HTTP status code
 * @body:   response body (may be NULL); lets 403/413 quota errors say EDQUOT
 *          and 409 name clashes say EEXIST
 * Returns: 0 for 2xx/3xx, otherwise a negative errno.
 */
int errmap_http(long status, const char *body);

/* True for statuses worth retrying on an idempotent request. */
bool errmap_http_retryable(long status);

/* -errno for a libcurl result code (CURLcode passed as int). */
int errmap_curl(int curl_code);
/* True when a transport failure is worth retrying. */
bool errmap_curl_retryable(int curl_code);

/*
 * errmap_cloud_message() - the human message inside an OpenStack error body
 * Knows Nova/Cinder ({"itemNotFound": {"message"}}), Neutron
 * ({"NeutronError": {"message"}}), Keystone ({"error": {"message"}}), Glance's
 * HTML pages and plain text. Writes a single line into @out (truncated).
 */
void errmap_cloud_message(const char *body, size_t len, char *out, size_t outlen);

#endif
