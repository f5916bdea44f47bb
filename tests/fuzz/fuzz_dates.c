/* SPDX-License-Identifier: MIT */
/*
 * clock_parse_iso8601(): the cloud's timestamps ("updated", "created_at",
 * "expires_at"), any bytes. Property: it answers 0 or -1 and, on 0, a time
 * that a second parse gives again.
 */
#include "cloudfs/clock.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	int64_t t = 0, t2 = 0;
	int rc;

	if (!s)
		return 0;
	rc = clock_parse_iso8601(s, &t);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (!rc) {
		FUZZ_ASSERT(!clock_parse_iso8601(s, &t2));
		FUZZ_ASSERT(t == t2);
	}
	free(s);
	return 0;
}
