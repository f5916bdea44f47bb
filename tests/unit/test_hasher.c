/* SPDX-License-Identifier: MIT */
/* Digests beside a transfer (hasher.h): the threads' digests are the
 * digests of the bytes given, in order, whatever mix of lent blocks and
 * copies, and past the backlog bound. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "cloudfs/hasher.h"

static void one_shot(const EVP_MD *md, const char *data, size_t len, char *hex)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	assert_int_equal(EVP_Digest(data, len, out, &n, md, NULL), 1);
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

/* 3 × HASHER_BACKLOG + 12345 bytes: the feeder must wait for room. */
static void test_blocks_and_copies_hash_in_order(void **state)
{
	const EVP_MD *mds[2] = { EVP_md5(), EVP_sha512() };
	size_t len = 3 * HASHER_BACKLOG + 12345, at = 0;
	char *data = malloc(len), want[HASHER_HEX_MAX];
	struct hasher *h;
	unsigned i = 0;

	(void)state;
	assert_non_null(data);
	for (size_t j = 0; j < len; j++)
		data[j] = (char)(j * 2654435761u >> 13);
	assert_int_equal(hasher_new(mds, 2, &h), 0);
	while (at < len) {
		size_t n = 1000 + (i * 7919u) % (700 * 1024);

		if (n > len - at)
			n = len - at;
		if (i++ % 2) {
			assert_int_equal(hasher_add(h, data + at, n), 0);
		} else {
			/* A lent range in the middle of a block the caller lets
			 * go at once: the hasher holds it. */
			struct block *b = block_new(n + 64);

			assert_non_null(b);
			memcpy(b->mem + 32, data + at, n);
			assert_int_equal(hasher_add_block(h, b, 32, n), 0);
			block_unref(b);
		}
		at += n;
	}
	assert_int_equal(hasher_finish(h), 0);
	one_shot(EVP_md5(), data, len, want);
	assert_string_equal(hasher_hex(h, 0), want);
	one_shot(EVP_sha512(), data, len, want);
	assert_string_equal(hasher_hex(h, 1), want);
	/* Finished: nothing more is taken. */
	assert_int_equal(hasher_add(h, "x", 1), -EINVAL);
	hasher_free(h);
	free(data);
}

/* No bytes: the empty digest; a range outside its block is refused. */
static void test_empty_and_bad_range(void **state)
{
	const EVP_MD *md = EVP_md5();
	struct block *b = block_new(16);
	struct hasher *h;

	(void)state;
	assert_int_equal(hasher_new(&md, 1, &h), 0);
	assert_int_equal(hasher_add_block(h, b, 10, 7), -EINVAL);
	assert_int_equal(hasher_finish(h), 0);
	assert_string_equal(hasher_hex(h, 0), "d41d8cd98f00b204e9800998ecf8427e");
	hasher_free(h);
	block_unref(b);
}

/* Freed with bytes still queued (a read that failed half way): the
 * threads stop and the blocks are let go (ASan/LSan see a leak else). */
static void test_free_while_busy(void **state)
{
	const EVP_MD *md = EVP_sha512();
	struct hasher *h;
	struct block *b = block_new(1 << 20);

	(void)state;
	memset(b->mem, 'a', 1 << 20);
	assert_int_equal(hasher_new(&md, 1, &h), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(hasher_add_block(h, b, 0, 1 << 20), 0);
	assert_int_equal(hasher_add(h, b->mem, 4096), 0);
	block_unref(b);
	hasher_free(h);
	hasher_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_and_copies_hash_in_order),
		cmocka_unit_test(test_empty_and_bad_range),
		cmocka_unit_test(test_free_while_busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
