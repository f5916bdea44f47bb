/* SPDX-License-Identifier: MIT */
/*
 * url.c, the check that decides where the token may go: any bytes, split
 * at the first newline into an endpoint and a link. Properties: a resolved
 * link parses and is on the endpoint's origin (whatever the endpoint looks
 * like); same-origin is symmetric; a refusal answers no URL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/url.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *nl, *out = NULL;
	struct url_origin o;
	int rc;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	nl = strchr(in, '\n');
	if (!nl || strlen(nl + 1) != size - (size_t)(nl + 1 - in))
		goto out; /* a NUL inside: C strings cannot carry it */
	*nl = '\0';
	FUZZ_ASSERT(url_same_origin(in, nl + 1) == url_same_origin(nl + 1, in));
	rc = url_resolve(in, nl + 1, &out);
	if (rc) {
		FUZZ_ASSERT(rc == -EINVAL || rc == -ENOMEM);
		FUZZ_ASSERT(!out);
		goto out;
	}
	FUZZ_ASSERT(out);
	FUZZ_ASSERT(url_origin(out, &o) == 0);
	FUZZ_ASSERT(url_same_origin(in, out));
out:
	free(out);
	free(in);
	return 0;
}
