/* SPDX-License-Identifier: MIT */
/*
 * Pagination links: any bytes as a listing page, read by every
 * collection's pagination style (Nova/Cinder/Neutron "*_links", Glance's
 * relative "next"). Properties: an answer is a non-empty string on the
 * endpoint's origin; a refusal is -EINVAL (off-origin) or -ENOMEM and
 * answers no URL.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloudfs/api.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *page = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);

	if (!page)
		return 0;
	for (const struct collection_def *c = collection_next(NULL); c; c = collection_next(c)) {
		static const char base[] = "http://127.0.0.1:8774/v2.1";
		char *url = NULL;
		int rc = api_next_url(c, page, base, &url);

		if (rc) {
			FUZZ_ASSERT(rc == -EINVAL || rc == -ENOMEM);
			FUZZ_ASSERT(!url);
			continue;
		}
		/* Scheme and host compare without case (RFC 3986 3.1, 3.2.2),
		 * the port as the number libcurl connects to ("08774" is
		 * 8774): the answer stays on the endpoint's origin. The
		 * authority may end the URL or be followed by a query or
		 * fragment ("http://h:8774?x" is the origin's root, RFC 3986
		 * 3.3: an empty path): the same origin, so the token may go. */
		if (url) {
			char *end = NULL;
			unsigned long port;

			FUZZ_ASSERT(!strncasecmp(url, "http://127.0.0.1:", 17));
			FUZZ_ASSERT(isdigit((unsigned char)url[17]));
			port = strtoul(url + 17, &end, 10);
			FUZZ_ASSERT(port == 8774 && (!*end || strchr("/?#", *end)));
		}
		free(url);
	}
	json_decref(page);
	return 0;
}
