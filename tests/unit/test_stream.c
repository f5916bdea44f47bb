/* SPDX-License-Identifier: MIT */
/* An upload's disk_format from its first bytes (stream.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/stream.h"

/* A head of @len bytes: @fill everywhere, then @mark at @off. */
static unsigned char *head(size_t len, unsigned char fill, size_t off, const void *mark,
			   size_t marklen)
{
	unsigned char *h = malloc(len ? len : 1);

	assert_non_null(h);
	memset(h, fill, len);
	if (mark) {
		assert_true(off + marklen <= len);
		memcpy(h + off, mark, marklen);
	}
	return h;
}

struct fmt_case {
	const char *what;
	size_t len; /* bytes handed to stream_detect_format() */
	size_t off; /* where the mark is */
	const char *mark; /* NULL: none */
	size_t marklen;
	const char *want;
};

#define MARK(s) s, sizeof(s) - 1

/* The real magics: qcow2 "QFI\xfb"; VMware's sparse extent "KDMV" and its
 * text descriptor; VHD's footer copy "conectix" at 0; VDI's signature
 * 0xbeda107f, little-endian, at 64; ISO 9660's "CD001" at 32769. */
static const struct fmt_case fmt_cases[] = {
	{ "qcow2", 512, 0, MARK("QFI\xfb\0\0\0\3"), "qcow2" },
	{ "qcow2, magic only", 4, 0, MARK("QFI\xfb"), "qcow2" },
	{ "qcow2, cut short", 3, 0, MARK("QFI"), "raw" },
	{ "vmdk sparse", 512, 0, MARK("KDMV\1\0\0\0"), "vmdk" },
	{ "vmdk sparse, magic only", 4, 0, MARK("KDMV"), "vmdk" },
	{ "vmdk descriptor", 512, 0,
	  MARK("# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n"), "vmdk" },
	{ "vmdk descriptor, cut short", 20, 0, MARK("# Disk DescriptorFil"), "raw" },
	{ "vhd", 512, 0, MARK("conectix\0\0\0\2"), "vhd" },
	{ "vhd, magic only", 8, 0, MARK("conectix"), "vhd" },
	{ "vdi", 512, 0x40, MARK("\x7f\x10\xda\xbe"), "vdi" },
	{ "vdi, just long enough", 68, 0x40, MARK("\x7f\x10\xda\xbe"), "vdi" },
	{ "vdi, big-endian is not it", 512, 0x40, MARK("\xbe\xda\x10\x7f"), "raw" },
	{ "vdi magic at 0 is not it", 512, 0, MARK("\x7f\x10\xda\xbe"), "raw" },
	{ "iso", STREAM_HEAD_BYTES, 32769, MARK("CD001"), "iso" },
	{ "iso, more than the head", STREAM_HEAD_BYTES + 4096, 32769, MARK("CD001\1"), "iso" },
	{ "iso, but the buffer ends before the mark does", STREAM_HEAD_BYTES - 1, 32769,
	  MARK("CD00"), "raw" },
	{ "iso mark one byte early", STREAM_HEAD_BYTES, 32768, MARK("CD001"), "raw" },
	{ "zeros", 65536, 0, NULL, 0, "raw" },
	{ "one byte", 1, 0, MARK("Q"), "raw" },
};

static void test_detect_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
		const struct fmt_case *t = &fmt_cases[i];
		unsigned char *h = head(t->len, 0, t->off, t->mark, t->marklen);
		const char *got = stream_detect_format(h, t->len);

		assert_non_null(got);
		if (strcmp(got, t->want))
			fail_msg("%s: \"%s\", want \"%s\"", t->what, got, t->want);
		free(h);
	}
}

/* The ISO mark is only looked for when the whole of it is there: a short
 * buffer whose last bytes are "CD00" is not read past its end. */
static void test_detect_iso_needs_whole_head(void **state)
{
	unsigned char *h = head(STREAM_HEAD_BYTES, 0, 32769, "CD001", 5);

	(void)state;
	assert_string_equal(stream_detect_format(h, STREAM_HEAD_BYTES), "iso");
	for (size_t len = 32769; len < STREAM_HEAD_BYTES; len++)
		assert_string_equal(stream_detect_format(h, len), "raw");
	assert_string_equal(stream_detect_format(h, 2048), "raw");
	free(h);
}

/* A hybrid ISO (as distributions ship) starts with an MBR; still an ISO. */
static void test_detect_hybrid_iso(void **state)
{
	unsigned char *h = head(STREAM_HEAD_BYTES, 0, 32769, "CD001", 5);

	(void)state;
	h[0] = 0xeb;
	h[1] = 0x63;
	h[510] = 0x55;
	h[511] = 0xaa;
	assert_string_equal(stream_detect_format(h, STREAM_HEAD_BYTES), "iso");
	free(h);
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Random bytes are raw, at every length up to the head's. */
static void test_detect_random_is_raw(void **state)
{
	static const size_t lens[] = {
		1, 3, 4, 8, 21, 63, 64, 68, 512, 32769, STREAM_HEAD_BYTES, STREAM_HEAD_BYTES + 100
	};
	size_t max = STREAM_HEAD_BYTES + 100;
	unsigned char *h = malloc(max);

	(void)state;
	assert_non_null(h);
	for (uint32_t seed = 1; seed <= 16; seed++) {
		uint32_t s = seed * 2654435761u;

		for (size_t i = 0; i < max; i++)
			h[i] = (unsigned char)xorshift(&s);
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			if (strcmp(stream_detect_format(h, lens[j]), "raw"))
				fail_msg("seed %u, %zu random bytes: \"%s\"", (unsigned)seed,
					 lens[j], stream_detect_format(h, lens[j]));
	}
	free(h);
}

static void test_detect_empty_is_raw(void **state)
{
	static const unsigned char none[1] = { 0 };

	(void)state;
	assert_string_equal(stream_detect_format(none, 0), "raw");
	/* Nothing is read at length 0, so no buffer is needed at all. */
	assert_string_equal(stream_detect_format(NULL, 0), "raw");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_table),
		cmocka_unit_test(test_detect_iso_needs_whole_head),
		cmocka_unit_test(test_detect_hybrid_iso),
		cmocka_unit_test(test_detect_random_is_raw),
		cmocka_unit_test(test_detect_empty_is_raw),
	};

	return cmocka_run_group_tests_name("test_stream", tests, NULL, NULL);
}
