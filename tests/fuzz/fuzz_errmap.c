/* SPDX-License-Identifier: MIT */
/*
 * errmap.h: an error body, as any service may send one (JSON in several
 * shapes, HTML, text), exactly @len bytes and not NUL-terminated, as a
 * response body is. Properties: the message fits @outlen, is one line, and
 * errmap_http() answers a negative errno for every error status.
 */
#include "cloudfs/errmap.h"
#include "fuzz.h"

static const long statuses[] = { 400, 401, 403, 404, 409, 413, 429, 500, 503 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256], *body, *cstr;
	size_t outlen = size ? (size_t)data[0] % sizeof(out) + 1 : sizeof(out);

	/* An exact-size copy: ASan sees a read past the body's end. */
	body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	memset(out, 'X', sizeof(out));
	errmap_cloud_message(body, size, out, outlen);
	FUZZ_ASSERT(memchr(out, '\0', outlen));
	FUZZ_ASSERT(!strchr(out, '\n'));
	cstr = fuzz_cstr(data, size);
	for (size_t i = 0; cstr && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		FUZZ_ASSERT(errmap_http(statuses[i], cstr) < 0);
	free(cstr);
	free(body);
	return 0;
}
