/* SPDX-License-Identifier: MIT */
/* JSON -> file contents (render.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "cloudfs/render.h"
#include "cloudfs/service.h"
#include "unit_fixtures.h"

struct value_case {
	const char *json; /* parsed with JSON_DECODE_ANY */
	const char *out; /* expected file contents */
};

static const struct value_case value_cases[] = {
	{ "\"ACTIVE\"", "ACTIVE\n" },
	{ "\"\"", "\n" },
	{ "\"two\\nlines\"", "two\nlines\n" },
	{ "\"caf\\u00e9 \\u2603\"", "caf\xc3\xa9 \xe2\x98\x83\n" }, /* UTF-8, not \u escapes */
	{ "42", "42\n" },
	{ "-7", "-7\n" },
	{ "0", "0\n" },
	{ "9007199254740993", "9007199254740993\n" }, /* beyond a double's precision */
	{ "0.1", "0.1\n" },
	{ "1.5", "1.5\n" },
	{ "true", "true\n" },
	{ "false", "false\n" },
	{ "null", "" },
	{ "[]", "[]\n" },
	{ "[1, \"a\"]", "[\n  1,\n  \"a\"\n]\n" },
	{ "[{\"k\": null}]", "[\n  {\n    \"k\": null\n  }\n]\n" },
};

static json_t *parse_any(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return v;
}

static void test_value_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
		json_t *v = parse_any(value_cases[i].json);
		struct buf b;

		buf_init(&b, 1 << 20);
		assert_int_equal(render_value(v, &b), 0);
		if (strcmp(b.data ? b.data : "", value_cases[i].out))
			fail_msg("render_value(%s) = \"%s\", want \"%s\"", value_cases[i].json,
				 b.data ? b.data : "", value_cases[i].out);
		/* render_value_size() is the same length, without a buffer. */
		assert_int_equal(render_value_size(v), b.len);
		assert_int_equal(b.len, strlen(value_cases[i].out));
		buf_free(&b);
		json_decref(v);
	}
}

/* A string holding a NUL byte keeps its full length. */
static void test_value_embedded_nul(void **state)
{
	json_t *v = json_stringn("a\0b", 3);
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(render_value(v, &b), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "a\0b\n", 4);
	assert_int_equal(render_value_size(v), 4);
	buf_free(&b);
	json_decref(v);
}

/* A value that does not fit the buffer's cap is an error, not a silently
 * truncated file. */
static void test_value_cap(void **state)
{
	json_t *v = json_string("0123456789");
	json_t *list = json_pack("[sss]", "aaaa", "bbbb", "cccc");
	struct buf b;

	(void)state;
	buf_init(&b, 5);
	assert_int_equal(render_value(v, &b), -EFBIG);
	buf_free(&b);
	buf_init(&b, 5);
	assert_int_equal(render_value(list, &b), -EFBIG);
	buf_free(&b);
	json_decref(v);
	json_decref(list);
}

static void test_document_round_trip(void **state)
{
	static const char *const fixtures[] = { "nova-server-show.json",
						"keystone-auth-tokens.json" };

	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		json_t *doc = fixture_json(fixtures[i]), *back;
		struct buf b;
		json_error_t jerr;

		buf_init(&b, CFS_MAX_BODY);
		assert_int_equal(render_document(doc, &b), 0);
		assert_true(b.len > 2);
		assert_int_equal(b.data[b.len - 1], '\n');
		assert_int_not_equal(b.data[b.len - 2], '\n');
		back = json_loadb(b.data, b.len, 0, &jerr);
		if (!back)
			fail_msg("%s: rendered document does not parse: %s", fixtures[i],
				 jerr.text);
		assert_true(json_equal(doc, back));
		/* Pretty: one member per line, indented. */
		assert_non_null(strstr(b.data, "\n  \""));
		json_decref(back);
		json_decref(doc);
		buf_free(&b);
	}
}

/* Reals survive the document round trip exactly (15 significant digits
 * would not be enough for every double, but are for these). */
static void test_document_reals(void **state)
{
	json_t *doc = json_pack("{sfsfsi}", "a", 0.1, "b", 2.5, "c", 3), *back;
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(render_document(doc, &b), 0);
	assert_non_null(strstr(b.data, "0.1"));
	assert_null(strstr(b.data, "0.1000"));
	back = json_loads(b.data, 0, NULL);
	assert_non_null(back);
	assert_true(json_equal(doc, back));
	json_decref(back);
	json_decref(doc);
	buf_free(&b);
}

struct mtime_case {
	const char *json;
	int64_t want;
};

#define FALLBACK 12345
/* 2026-11-23T04:24:05Z is 1795407845 seconds after the epoch. */
static const struct mtime_case mtime_cases[] = {
	{ "{\"updated\": \"2026-11-23T04:24:05Z\"}", 1795407845 },
	{ "{\"updated_at\": \"2026-11-23T04:24:05Z\"}", 1795407845 },
	{ "{\"updated_at\": \"2026-11-23T04:24:05.123456\"}", 1795407845 },
	{ "{\"updated_at\": \"2026-11-23T04:24:05+00:00\"}", 1795407845 },
	{ "{\"updated_at\": \"2026-11-23T04:24:05.000000+00:00\"}", 1795407845 },
	{ "{\"updated_at\": \"2026-11-23T06:24:05+02:00\"}", 1795407845 },
	{ "{\"created\": \"2026-11-23T04:24:05Z\"}", 1795407845 },
	{ "{\"created_at\": \"2026-11-23T04:24:05Z\"}", 1795407845 },
	/* "updated" wins over "created". */
	{ "{\"created\": \"2020-01-01T00:00:00Z\", \"updated\": \"2026-11-23T04:24:05Z\"}",
	  1795407845 },
	/* Volumes that were never updated say "updated_at": null. */
	{ "{\"updated_at\": null, \"created_at\": \"2026-11-23T04:24:05.000000\"}", 1795407845 },
	{ "{\"updated\": \"yesterday\", \"created\": \"1970-01-01T00:00:10Z\"}", 10 },
	{ "{}", FALLBACK },
	{ "{\"updated\": 5}", FALLBACK },
	{ "{\"updated\": \"\"}", FALLBACK },
	{ "{\"updated\": \"2026-11-23T04:24:05 and more\"}", FALLBACK },
};

static const char *const mtime_fields[] = { "updated", "updated_at", "created", "created_at",
					    NULL };

static void test_mtime(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mtime_cases) / sizeof(mtime_cases[0]); i++) {
		json_t *doc = parse_any(mtime_cases[i].json);
		int64_t got = render_mtime(doc, mtime_fields, FALLBACK);

		if (got != mtime_cases[i].want)
			fail_msg("render_mtime(%s) = %lld, want %lld", mtime_cases[i].json,
				 (long long)got, (long long)mtime_cases[i].want);
		json_decref(doc);
	}
}

/* The real server body: "updated": "2026-11-23T04:23:59Z". */
static void test_mtime_fixture(void **state)
{
	json_t *doc = fixture_json("nova-server-show.json");
	json_t *server = json_object_get(doc, "server");

	(void)state;
	assert_string_equal(json_string_value(json_object_get(server, "updated")),
			    "2026-11-23T04:23:59Z");
	assert_int_equal(render_mtime(server, collection_find("servers")->mtime_fields, 0),
			 1795407839);
	assert_int_equal(render_mtime(server, NULL, 7), 7);
	json_decref(doc);
}

static const char doc_text[] = "{\"name\": \"vm1\", \"flavor\": {\"id\": \"42\", \"extra\": "
			       "{\"a/b\": 1}}, \"tags\": [\"x\"], \"status\": \"ACTIVE\", "
			       "\"fault\": null}";

struct walk_case {
	const char *attrs[4];
	size_t n;
	const char *want; /* JSON text of the expected value, NULL for none */
	bool notdir;
};

static const struct walk_case walk_cases[] = {
	{ { NULL }, 0, doc_text, false },
	{ { "name" }, 1, "\"vm1\"", false },
	{ { "flavor" }, 1, "{\"id\": \"42\", \"extra\": {\"a/b\": 1}}", false },
	{ { "flavor", "id" }, 2, "\"42\"", false },
	{ { "flavor", "extra", "a/b" }, 3, "1", false },
	{ { "fault" }, 1, "null", false },
	{ { "missing" }, 1, NULL, false },
	{ { "flavor", "missing" }, 2, NULL, false },
	{ { "name", "x" }, 2, NULL, true },
	{ { "tags", "0" }, 2, NULL, true },
	{ { "fault", "x" }, 2, NULL, true },
	{ { "flavor", "id", "x", "y" }, 4, NULL, true },
};

static void test_walk(void **state)
{
	json_t *doc = parse_any(doc_text);

	(void)state;
	for (size_t i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		const struct walk_case *w = &walk_cases[i];
		bool notdir = !w->notdir; /* must be overwritten */
		const json_t *got = render_walk(doc, (char *const *)w->attrs, w->n, &notdir);

		assert_int_equal(notdir, w->notdir);
		if (!w->want) {
			assert_null(got);
			continue;
		}
		assert_non_null(got);
		json_t *want = parse_any(w->want);

		if (!json_equal(got, want))
			fail_msg("walk case %zu: wrong value", i);
		json_decref(want);
	}
	json_decref(doc);
}

static void test_id(void **state)
{
	json_t *s = json_pack("{ss}", "id", "559ba68e-9eaf-4a44-8719-0b6364485475");
	json_t *n = json_pack("{sI}", "id", (json_int_t)4200000000LL);
	json_t *k = json_pack("{ss}", "name", "mykey");
	json_t *bad = json_pack("{sn}", "id");
	json_t *real = json_pack("{sf}", "id", 1.5);
	char out[64];

	(void)state;
	assert_true(render_id(s, "id", out, sizeof(out)));
	assert_string_equal(out, "559ba68e-9eaf-4a44-8719-0b6364485475");
	assert_true(render_id(n, "id", out, sizeof(out)));
	assert_string_equal(out, "4200000000");
	assert_true(render_id(k, "name", out, sizeof(out)));
	assert_string_equal(out, "mykey");
	assert_false(render_id(k, "id", out, sizeof(out)));
	assert_false(render_id(bad, "id", out, sizeof(out)));
	assert_false(render_id(real, "id", out, sizeof(out)));
	/* Too long for the buffer: refused, never a truncated id. */
	assert_false(render_id(s, "id", out, 10));
	assert_false(render_id(n, "id", out, 10));
	assert_true(render_id(n, "id", out, 11));
	assert_string_equal(out, "4200000000");
	/* An empty id is not an id. */
	json_object_set_new(s, "id", json_string(""));
	assert_false(render_id(s, "id", out, sizeof(out)));
	/* Nor one holding a NUL byte: "a" would be another member's. */
	json_object_set_new(s, "id", json_stringn("a\0b", 3));
	assert_false(render_id(s, "id", out, sizeof(out)));
	json_decref(s);
	json_decref(n);
	json_decref(k);
	json_decref(bad);
	json_decref(real);
}

/* A cloud string as a file name: every byte, through names.h. */
static void test_name(void **state)
{
	json_t *v;
	char *f;

	(void)state;
	v = json_stringn("a/\0..", 5);
	f = render_name(v);
	assert_string_equal(f, "a%2F%00..");
	free(f);
	json_decref(v);
	v = json_string("..");
	f = render_name(v);
	assert_string_equal(f, "%2E%2E");
	free(f);
	json_decref(v);
	v = json_string("");
	assert_null(render_name(v));
	json_decref(v);
	v = json_integer(7);
	assert_null(render_name(v));
	json_decref(v);
	assert_null(render_name(NULL));
}

/*
 * The compact text of @doc (as the model caches it) read without a parse
 * agrees with the parsed document for every top-level key: found where
 * json_object_get() finds it, the same bytes render_value() gives when
 * simple, and the misses decided (absent) or handed to a parse (unsure).
 */
static void check_text_agrees(json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	const char *key, *v;
	json_t *val;
	size_t vlen;

	assert_non_null(text);
	json_object_foreach(doc, key, val)
	{
		enum render_found f = render_text_find(text, strlen(text), key, &v, &vlen);

		if (strchr(key, '"') || strchr(key, '\\') || strchr(key, '\n')) {
			assert_int_equal(f, RENDER_UNSURE);
			continue;
		}
		assert_int_equal(f, RENDER_FOUND);
		{
			char *want = json_dumps(val, JSON_COMPACT | JSON_PRESERVE_ORDER |
							     JSON_ENCODE_ANY);

			assert_int_equal(vlen, strlen(want));
			assert_memory_equal(v, want, vlen);
			free(want);
		}
		if (render_text_simple(v, vlen)) {
			struct buf a, b;

			buf_init(&a, 1 << 20);
			buf_init(&b, 1 << 20);
			assert_int_equal(render_text_value(v, vlen, &a), 0);
			assert_int_equal(render_value(val, &b), 0);
			assert_int_equal(a.len, b.len);
			if (a.len)
				assert_memory_equal(a.data, b.data, a.len);
			buf_free(&a);
			buf_free(&b);
		} else {
			assert_true(json_is_real(val) || json_is_array(val) ||
				    json_is_object(val) ||
				    (json_is_string(val) && strchr(v, '\\') < v + vlen));
		}
	}
	free(text);
}

static void test_text_find_fixture(void **state)
{
	json_t *doc = fixture_json("nova-server-show.json");

	(void)state;
	check_text_agrees(json_object_get(doc, "server"));
	json_decref(doc);
}

static void test_text_find_shapes(void **state)
{
	static const char *const docs[] = {
		"{}",
		"{\"a\": 1}",
		"{\"s\": \"x,y}z\", \"o\": {\"k\": [1, {\"}\": \"]\"}]}, \"t\": true, \"f\": false}",
		"{\"n\": null, \"r\": 1.5, \"neg\": -12, \"big\": 12345678901234, \"e\": \"\"}",
		"{\"esc\": \"two\\nlines\", \"q\": \"say \\\"hi\\\"\", \"u\": \"caf\\u00e9\"}",
		"{\"arr\": [], \"obj\": {}, \"nul\": \"a\\u0000b\", \"last\": \"x\"}",
		"{\"we\\\"ird\": 1, \"after\": 2}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
		json_t *doc = json_loads(docs[i], JSON_ALLOW_NUL, NULL);

		assert_non_null(doc);
		check_text_agrees(doc);
		json_decref(doc);
	}
}

static void test_text_find_misses(void **state)
{
	const char *t = "{\"a\":1,\"b\":{\"status\":\"x\"},\"c\":\"status\"}", *v;
	size_t n;

	(void)state;
	/* keys inside nested objects or values are not top-level keys */
	assert_int_equal(render_text_find(t, strlen(t), "status", &v, &n), RENDER_ABSENT);
	assert_int_equal(render_text_find("{}", 2, "a", &v, &n), RENDER_ABSENT);
	/* an escaped key might be the one asked for: a parse decides */
	t = "{\"a\\u0062\":1}";
	assert_int_equal(render_text_find(t, strlen(t), "ab", &v, &n), RENDER_UNSURE);
	/* not a compact object, or cut short */
	assert_int_equal(render_text_find("[1]", 3, "a", &v, &n), RENDER_UNSURE);
	assert_int_equal(render_text_find("{\"a\":\"x", 7, "a", &v, &n), RENDER_UNSURE);
	t = "{\"a\\u0062\":1,\"c\":2}";
	assert_int_equal(render_text_find(t, strlen(t), "c", &v, &n), RENDER_FOUND);
	assert_int_equal(render_text_find(t, strlen(t), "d", &v, &n), RENDER_UNSURE);
	assert_false(render_text_simple("1.5", 3));
	assert_false(render_text_simple("\"a\\nb\"", 6));
	assert_false(render_text_simple("-", 1));
	assert_true(render_text_simple("-7", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_table),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_value_embedded_nul),
		cmocka_unit_test(test_value_cap),
		cmocka_unit_test(test_document_round_trip),
		cmocka_unit_test(test_document_reals),
		cmocka_unit_test(test_mtime),
		cmocka_unit_test(test_mtime_fixture),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_text_find_fixture),
		cmocka_unit_test(test_text_find_shapes),
		cmocka_unit_test(test_text_find_misses),
	};

	return cmocka_run_group_tests_name("test_render", tests, NULL, NULL);
}
