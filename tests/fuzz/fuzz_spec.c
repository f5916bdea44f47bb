/* SPDX-License-Identifier: MIT */
/*
 * Specs and attribute values: any bytes as what a user writes to create a
 * resource in each collection (spec_build(), references resolved by a stub
 * that knows some names and refuses others), and as a new value for an
 * attribute of each JSON type (spec_value()). Properties: an accepted spec
 * is a body jansson can send; a refusal says why; base64 round-trips.
 */
#include <errno.h>
#include <jansson.h>

#include "cloudfs/spec.h"
#include "fuzz.h"

/* Knows every reference but those starting with "x" (unknown) or "?"
 * (ambiguous), as model_find_ref() answers. */
static int resolve(void *ctx, const struct collection_def *c, const char *ref, char **id, char *err,
		   size_t errlen)
{
	(void)ctx;
	if (ref[0] == 'x' || ref[0] == '?') {
		snprintf(err, errlen, "no %s '%s'", c->name, ref);
		return -EINVAL;
	}
	return asprintf(id, "id-%s", ref) < 0 ? -ENOMEM : 0;
}

static void check_build(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < collections_count; i++) {
		const struct collection_def *c = &collections[i];
		json_t *out = NULL;
		char err[512] = "", *text;
		int rc;

		if (!c->can_create)
			continue;
		rc = spec_build(c, "fuzz", (const char *)data, size, resolve, NULL, &out, err,
				sizeof(err));
		if (rc) {
			FUZZ_ASSERT(!out);
			FUZZ_ASSERT(err[0] || rc == -ENOMEM);
			continue;
		}
		text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
		FUZZ_ASSERT(text);
		free(text);
		json_decref(out);
	}
}

static void check_value(const uint8_t *data, size_t size)
{
	json_t *currents[] = { json_string("s"), json_integer(1), json_real(1.5),
			       json_true(),	 json_null(),	  json_object() };

	for (size_t i = 0; i < sizeof(currents) / sizeof(currents[0]); i++) {
		json_t *out = NULL;
		char err[256] = "";

		if (spec_value(currents[i], (const char *)data, size, &out, err, sizeof(err)))
			FUZZ_ASSERT(!out && err[0]);
		else
			FUZZ_ASSERT(out);
		json_decref(out);
		json_decref(currents[i]);
	}
}

static void check_base64(const uint8_t *data, size_t size)
{
	char *b64 = spec_base64(data, size), *s;

	FUZZ_ASSERT(b64);
	FUZZ_ASSERT(spec_is_base64(b64) || size == 0);
	free(b64);
	s = fuzz_cstr(data, size);
	if (s)
		(void)spec_is_base64(s);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_build(data, size);
	check_value(data, size);
	check_base64(data, size);
	return 0;
}
