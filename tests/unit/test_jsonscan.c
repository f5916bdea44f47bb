/* SPDX-License-Identifier: MIT */
/*
 * The incremental JSON scanner (src/util/jsonscan.c): what it says of
 * complete, incomplete and broken documents, where it says a broken one
 * broke, that the pieces the bytes come in change nothing, and that every
 * document jansson accepts is complete for it (and was never refused on
 * the way).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "cloudfs/jsonscan.h"

static enum jscan_status scan(const char *text, size_t len, bool top_object, struct jscan *s)
{
	jscan_init(s, top_object);
	return jscan_feed(s, text, len);
}

/* The same bytes fed one at a time, and cut in two at every offset, give
 * the same status (and, when broken, the same offset). */
static void check_pieces(const char *text, size_t len, bool top_object)
{
	struct jscan whole, s;
	enum jscan_status want = scan(text, len, top_object, &whole);

	jscan_init(&s, top_object);
	for (size_t i = 0; i < len; i++)
		jscan_feed(&s, text + i, 1);
	assert_int_equal(s.status, want);
	for (size_t cut = 0; cut <= len; cut++) {
		jscan_init(&s, top_object);
		jscan_feed(&s, text, cut);
		assert_int_equal(jscan_feed(&s, text + cut, len - cut), want);
		if (want == JSCAN_BAD)
			assert_int_equal(s.at, whole.at);
	}
}

static void expect(const char *text, bool top_object, enum jscan_status want)
{
	struct jscan s;

	if (scan(text, strlen(text), top_object, &s) != want)
		fail_msg("'%s': status %d, want %d (%s at %zu)", text, s.status, want,
			 s.why ? s.why : "", s.at);
	check_pieces(text, strlen(text), top_object);
}

static void test_complete(void **state)
{
	(void)state;
	expect("{}", true, JSCAN_DONE);
	expect("{\"name\": \"web1\", \"flavor\": \"m1.tiny\"}\n", true, JSCAN_DONE);
	expect(" \t\r\n{ \"a\" : { } , \"b\" : [ ] }  \n\n", true, JSCAN_DONE);
	expect("{\"a\":[1,-0,2.5e-3,1E+9,0.0,-12.75e2,true,false,null,\"x\\u00e9\\n\\\"\\/\"]}",
	       true, JSCAN_DONE);
	expect("{\"a\":{\"b\":{\"c\":[[[]]]}}}", true, JSCAN_DONE);
	expect("{\"\": \"\"}", true, JSCAN_DONE);
	expect("{\"a\": \"caf\xc3\xa9\"}", true, JSCAN_DONE);
	/* Any document, when not told it must be an object. */
	expect("[1, 2]", false, JSCAN_DONE);
	expect("\"text\"\n", false, JSCAN_DONE);
	expect("true", false, JSCAN_DONE);
	expect("123 ", false, JSCAN_DONE);
}

static void test_incomplete(void **state)
{
	(void)state;
	expect("", true, JSCAN_MORE);
	expect("  \n", true, JSCAN_MORE);
	expect("{", true, JSCAN_MORE);
	expect("{\"name\"", true, JSCAN_MORE);
	expect("{\"name\": ", true, JSCAN_MORE);
	expect("{\"name\": \"we", true, JSCAN_MORE);
	expect("{\"name\": \"a\\", true, JSCAN_MORE);
	expect("{\"name\": \"a\\u00", true, JSCAN_MORE);
	expect("{\"a\": 12", true, JSCAN_MORE);
	expect("{\"a\": 1.", true, JSCAN_MORE);
	expect("{\"a\": 1e-", true, JSCAN_MORE);
	expect("{\"a\": tr", true, JSCAN_MORE);
	expect("{\"a\": [1, {\"b\": [", true, JSCAN_MORE);
	expect("{\"a\": 1,", true, JSCAN_MORE);
	/* A number at the top has no end until something follows it. */
	expect("123", false, JSCAN_MORE);
}

/* Broken: the status, the offset of the byte that broke it, and why. */
static void expect_bad(const char *text, bool top_object, size_t at)
{
	struct jscan s;

	expect(text, top_object, JSCAN_BAD);
	scan(text, strlen(text), top_object, &s);
	if (s.at != at)
		fail_msg("'%s': broken at %zu, want %zu (%s)", text, s.at, at, s.why);
	assert_non_null(s.why);
	/* It stays broken, whatever follows. */
	assert_int_equal(jscan_feed(&s, "}", 1), JSCAN_BAD);
	assert_int_equal(s.at, at);
}

static void test_broken(void **state)
{
	(void)state;
	expect_bad("{not json", true, 1);
	expect_bad("{\"a\" 1}", true, 5);
	expect_bad("{\"a\": 01}", true, 7);
	expect_bad("{\"a\": 1.}", true, 8);
	expect_bad("{\"a\": 1e}", true, 8);
	expect_bad("{\"a\": -}", true, 7);
	expect_bad("{\"a\": .5}", true, 6);
	expect_bad("{\"a\": +1}", true, 6);
	expect_bad("{\"a\": tru}", true, 9);
	expect_bad("{\"a\": nul1}", true, 9);
	expect_bad("{\"a\": 1}x", true, 8);
	expect_bad("{\"a\": 1}\n{}", true, 9);
	expect_bad("{\"a\": 1,}", true, 8);
	expect_bad("{,}", true, 1);
	expect_bad("{\"a\": [1,]}", true, 9);
	expect_bad("{\"a\": [1}", true, 8);
	expect_bad("{\"a\": {\"b\": 1]}", true, 13);
	expect_bad("{\"a\": \"x\ty\"}", true, 8);
	expect_bad("{\"a\": \"\\q\"}", true, 8);
	expect_bad("{\"a\": \"\\u12g4\"}", true, 11);
	expect_bad("{'a': 1}", true, 1);
	expect_bad("[1]", true, 0);
	expect_bad("\"flavor\"", true, 0);
	expect_bad("hello", true, 0);
	expect_bad("hello", false, 0);
	expect_bad("]", false, 0);
	{
		struct jscan js;

		/* A NUL byte, in a string or after the document. */
		assert_int_equal(scan("{\"a\": \"\0\"}", 10, true, &js), JSCAN_BAD);
		assert_int_equal(js.at, 7);
		assert_int_equal(scan("{\"a\": 1}\0", 9, true, &js), JSCAN_BAD);
		assert_int_equal(js.at, 8);
	}
}

/* jansson's depth limit, and not one level less. */
static void test_depth(void **state)
{
	char *text = malloc(2 * JSCAN_DEPTH + 3);
	struct jscan s;
	json_error_t err;
	json_t *doc;

	(void)state;
	memset(text, '[', JSCAN_DEPTH);
	memset(text + JSCAN_DEPTH, ']', JSCAN_DEPTH);
	assert_int_equal(scan(text, 2 * JSCAN_DEPTH, false, &s), JSCAN_DONE);
	doc = json_loadb(text, 2 * JSCAN_DEPTH, 0, &err);
	assert_non_null(doc);
	json_decref(doc);
	memset(text, '[', JSCAN_DEPTH + 1);
	assert_int_equal(scan(text, JSCAN_DEPTH + 1, false, &s), JSCAN_BAD);
	assert_int_equal(s.at, JSCAN_DEPTH);
	assert_null(json_loadb(text, JSCAN_DEPTH + 1, 0, &err));
	free(text);
}

/* Whatever jansson accepts as a spec (an object), the scanner finds
 * complete, in any pieces, never broken on the way. */
static void test_agrees_with_jansson(void **state)
{
	static const char *const docs[] = {
		("{\"server\": {\"name\": \"w\", \"imageRef\": \"i\", \"flavorRef\": \"1\"}, "
		 "\"os:scheduler_hints\": {\"group\": \"g\"}}"),
		"{\"a\": [1e5, -1.5E-5, 0, -0.0, 1234567890], \"b\": {\"c\": null}}\r\n",
		"{\"s\": \"\\ud83d\\ude00 \\\\ \\b\\f\\r\\t\"}",
		"{\"x\":{\"y\":{\"z\":[{},[],{\"q\":[true,false]}]}}}\n\n\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_error_t err;
		json_t *doc = json_loadb(docs[i], strlen(docs[i]), 0, &err);

		assert_non_null(doc);
		assert_true(json_is_object(doc));
		json_decref(doc);
		expect(docs[i], true, JSCAN_DONE);
		/* And no prefix was broken. */
		for (size_t n = 0; n < strlen(docs[i]); n++) {
			struct jscan s;

			assert_int_not_equal(scan(docs[i], n, true, &s), JSCAN_BAD);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_agrees_with_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
