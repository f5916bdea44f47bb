/* SPDX-License-Identifier: MIT */
/*
 * Pagination links: any bytes as a listing page, read by every
 * collection's pagination style (Nova/Cinder/Neutron "*_links", Glance's
 * relative "next"). Property: an answer is a non-empty string.
 */
#include <jansson.h>

#include "cloudfs/api.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *page = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);

	if (!page)
		return 0;
	for (size_t i = 0; i < collections_count; i++) {
		char *url = api_next_url(&collections[i], page, "http://127.0.0.1:8774/v2.1");

		FUZZ_ASSERT(!url || *url);
		free(url);
	}
	json_decref(page);
	return 0;
}
