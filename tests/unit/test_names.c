/* SPDX-License-Identifier: MIT */
/* Cloud names <-> file names (names.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/names.h"

struct enc_case {
	const char *name;
	const char *file; /* expected encoding */
};

/* Expected encodings written from the rules in names.h: '%' -> %25, '/' ->
 * %2F, the dots of "." and ".." -> %2E, everything else byte for byte. */
static const struct enc_case enc_cases[] = {
	{ "plain", "plain" },
	{ "a/b", "a%2Fb" },
	{ "100%", "100%25" },
	{ ".", "%2E" },
	{ "..", "%2E%2E" },
	{ "...", "..." },
	{ ".hidden", ".hidden" },
	{ "a.b", "a.b" },
	{ "\xc3\xa9", "\xc3\xa9" }, /* é is kept as its UTF-8 bytes */
	{ "x%2Fy", "x%252Fy" }, /* a literal escape must not decode to '/' */
	{ "/", "%2F" },
	{ "//", "%2F%2F" },
	{ "%", "%25" },
	{ "a b\tc", "a b\tc" },
};

static void test_encode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		char *f = names_encode(enc_cases[i].name);

		assert_non_null(f);
		if (strcmp(f, enc_cases[i].file))
			fail_msg("encode(\"%s\") = \"%s\", want \"%s\"", enc_cases[i].name, f,
				 enc_cases[i].file);
		/* A file name never holds '/' and is never "." or "..". */
		assert_null(strchr(f, '/'));
		assert_string_not_equal(f, ".");
		assert_string_not_equal(f, "..");
		free(f);
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		char *f = names_encode(enc_cases[i].name);
		char *back;

		assert_non_null(f);
		back = names_decode(f);
		assert_non_null(back);
		assert_string_equal(back, enc_cases[i].name);
		free(back);
		free(f);
	}
}

static void test_encode_empty(void **state)
{
	(void)state;
	assert_null(names_encode(""));
}

struct dec_case {
	const char *file;
	const char *name; /* NULL: must be rejected */
};

static const struct dec_case dec_cases[] = {
	{ "abc", "abc" },
	{ "%25", "%" },
	{ "%2F", "/" },
	{ "%2f", "/" }, /* hex digits in either case */
	{ "%2E", "." },
	{ "%2e%2E", ".." },
	{ "a%2Fb%25c", "a/b%c" },
	{ "", "" },
	{ "%zz", NULL },
	{ "%4", NULL }, /* truncated escape */
	{ "%", NULL },
	{ "a%", NULL },
	{ "%41", NULL }, /* 'A' is valid hex but never produced by encode */
	{ "%20", NULL },
	{ "%00", NULL }, /* a C string cannot hold it: names_decode_len() can */
	{ "%2", NULL },
	{ "x%2Fy%", NULL },
	{ "%g0", NULL },
};

static void test_decode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		char *n = names_decode(dec_cases[i].file);

		if (!dec_cases[i].name) {
			if (n)
				fail_msg("decode(\"%s\") = \"%s\", want rejection",
					 dec_cases[i].file, n);
			continue;
		}
		if (!n)
			fail_msg("decode(\"%s\") rejected, want \"%s\"", dec_cases[i].file,
				 dec_cases[i].name);
		assert_string_equal(n, dec_cases[i].name);
		free(n);
	}
}

static void test_is_uuid(void **state)
{
	static const struct {
		const char *s;
		bool uuid;
	} cases[] = {
		{ "559ba68e-9eaf-4a44-8719-0b6364485475", true },
		{ "559ba68e9eaf4a4487190b6364485475", true }, /* keystone style, no dashes */
		{ "7C808B28BDED4680839AC3A2F00D8A87", true },
		{ "559ba68e-9eaf-4a44-8719-0b636448547", false }, /* 31 digits */
		{ "559ba68e-9eaf-4a44-8719-0b63644854751", false }, /* 33 digits */
		{ "559ba68e-9eaf-4a44-8719-0b636448547g", false },
		{ "my-server", false },
		{ "42", false },
		{ "", false },
		{ "559ba68e 9eaf 4a44 8719 0b6364485475", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (names_is_uuid(cases[i].s) != cases[i].uuid)
			fail_msg("names_is_uuid(\"%s\") != %d", cases[i].s, cases[i].uuid);
}

static void test_url_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "abcXYZ019", "abcXYZ019" }, { "-._~", "-._~" },   { "a b", "a%20b" },
		{ "a/b", "a%2Fb" },	      { "100%", "100%25" }, { "?&=#+", "%3F%26%3D%23%2B" },
		{ "\xc3\xa9", "%C3%A9" },     { "", "" },	    { "my key:1", "my%20key%3A1" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e = names_url_escape(cases[i].in);

		assert_non_null(e);
		assert_string_equal(e, cases[i].out);
		free(e);
	}
}

/* A NUL byte (JSON's \u0000) is "%00"; names_decode_len() gives it back. */
static void test_nul(void **state)
{
	static const struct {
		const char *name;
		size_t len;
		const char *file;
	} cases[] = {
		{ "a\0b", 3, "a%00b" },	    { "\0", 1, "%00" }, { "\0\0", 2, "%00%00" },
		{ ".\0", 2, ".%00" }, /* not "." or "..": the dot stays */
		{ "%\0/", 3, "%25%00%2F" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *f = names_encode_len(cases[i].name, cases[i].len), *back;
		size_t len = 0;

		assert_non_null(f);
		assert_string_equal(f, cases[i].file);
		back = names_decode_len(f, &len);
		assert_non_null(back);
		assert_int_equal(len, cases[i].len);
		assert_memory_equal(back, cases[i].name, len);
		assert_null(names_decode(f));
		free(back);
		free(f);
	}
	assert_null(names_encode_len("x", 0));
}

static void test_is_utf8(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "", true },
		{ "plain ascii", true },
		{ "caf\xc3\xa9", true },
		{ "\xe2\x98\x83", true }, /* U+2603 */
		{ "\xf0\x9f\x98\x80", true }, /* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", true }, /* U+10FFFF */
		{ "bad\xff", false },
		{ "\xc3", false }, /* truncated */
		{ "\xc0\xaf", false }, /* overlong '/' */
		{ "\xe0\x80\xaf", false }, /* overlong '/' */
		{ "\xed\xa0\x80", false }, /* a UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", false }, /* beyond U+10FFFF */
		{ "\x80", false }, /* a lone continuation byte */
		{ "\xe2\x98", false },
		{ "\xe2\x28\xa1", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (names_is_utf8(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
			fail_msg("names_is_utf8(case %zu) != %d", i, cases[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_table), cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_empty), cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_is_uuid),	     cmocka_unit_test(test_url_escape),
		cmocka_unit_test(test_nul),	     cmocka_unit_test(test_is_utf8),
	};

	return cmocka_run_group_tests_name("test_names", tests, NULL, NULL);
}
