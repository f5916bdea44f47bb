/* SPDX-License-Identifier: MIT */
/*
 * The incremental JSON scanner (jsonscan.c) on any bytes, as a user writes
 * them to a spec file in pieces. Properties: the pieces change nothing
 * (whole, cut in two where the input says, byte by byte: the same status
 * and the same offset of a break); a document jansson accepts is never
 * refused on the way, and a spec jansson accepts (an object) is complete
 * (inputs without NUL bytes: jansson's reading ends at one).
 */
#include <jansson.h>

#include "cloudfs/jsonscan.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t cut = size ? data[0] % (size + 1) : 0;

	for (int top = 0; top < 2; top++) {
		struct jscan whole, two, bytes;
		enum jscan_status want;
		json_error_t err;
		json_t *doc;
		bool broke = false;

		jscan_init(&whole, top);
		want = jscan_feed(&whole, text, size);
		jscan_init(&two, top);
		jscan_feed(&two, text, cut);
		FUZZ_ASSERT(jscan_feed(&two, text + cut, size - cut) == want);
		jscan_init(&bytes, top);
		for (size_t i = 0; i < size; i++)
			broke |= jscan_feed(&bytes, text + i, 1) == JSCAN_BAD;
		FUZZ_ASSERT(bytes.status == want);
		FUZZ_ASSERT(broke == (want == JSCAN_BAD));
		if (want == JSCAN_BAD) {
			FUZZ_ASSERT(whole.why && whole.at < size);
			FUZZ_ASSERT(two.at == whole.at && bytes.at == whole.at);
		}
		/* jansson stops reading at a NUL byte, where the scanner
		 * refuses it (nothing may follow a spec but whitespace). */
		if (memchr(text, '\0', size))
			continue;
		doc = json_loadb(text, size, top ? 0 : JSON_DECODE_ANY, &err);
		if (doc && (!top || json_is_object(doc))) {
			FUZZ_ASSERT(want != JSCAN_BAD);
			/* Only a number at the top waits for what follows it. */
			FUZZ_ASSERT(want == JSCAN_DONE || json_is_number(doc));
		}
		json_decref(doc);
	}
	return 0;
}
