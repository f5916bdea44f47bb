/* SPDX-License-Identifier: MIT */
/* Refcounted blocks and loans of their bytes (loan.h): what a download
 * lends the kernel instead of copying. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "cloudfs/loan.h"

static struct block *filled(size_t cap, char c)
{
	struct block *b = block_new(cap);

	assert_non_null(b);
	memset(b->mem, c, cap);
	return b;
}

/* A block outlives the stream's reference while a loan holds it: the
 * bytes are still there (ASan would see a use after free otherwise). */
static void test_loan_keeps_the_block_after_the_owner_lets_go(void **state)
{
	struct loan l = LOAN_INIT;
	struct block *b = filled(64, 'a');
	char out[64];

	(void)state;
	assert_int_equal(loan_add(&l, b, 8, 16), 0);
	block_unref(b); /* the stream is done with it */
	assert_int_equal(l.n, 1);
	assert_int_equal(l.len, 16);
	assert_ptr_equal(l.iov[0].iov_base, b->mem + 8);
	assert_int_equal(loan_copy(&l, 0, out, sizeof(out)), 16);
	assert_memory_equal(out, "aaaaaaaaaaaaaaaa", 16);
	loan_release(&l);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.len, 0);
}

/* Consecutive bytes of one block are one part (a tail piece lent twice
 * as it fills); another block or a gap starts a new one. */
static void test_contiguous_parts_merge(void **state)
{
	struct loan l = LOAN_INIT;
	struct block *a = filled(32, 'a'), *b = filled(32, 'b');
	char out[64];

	(void)state;
	assert_int_equal(loan_add(&l, a, 0, 10), 0);
	assert_int_equal(loan_add(&l, a, 10, 22), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.iov[0].iov_len, 32);
	assert_int_equal(loan_add(&l, b, 0, 4), 0);
	assert_int_equal(loan_add(&l, b, 8, 4), 0); /* a gap: a part of its own */
	assert_int_equal(l.n, 3);
	assert_int_equal(l.len, 40);
	/* loan_copy walks the parts in order, from any offset */
	assert_int_equal(loan_copy(&l, 30, out, sizeof(out)), 10);
	assert_memory_equal(out, "aabbbbbbbb", 10);
	assert_int_equal(loan_add(&l, a, 0, 0), 0); /* nothing: no part */
	assert_int_equal(l.n, 3);
	block_unref(a);
	block_unref(b);
	loan_release(&l);
}

static void test_range_outside_the_block_and_a_full_loan_are_refused(void **state)
{
	struct loan l = LOAN_INIT;
	struct block *b = filled(16, 'x');

	(void)state;
	assert_int_equal(loan_add(&l, b, 10, 7), -EINVAL);
	assert_int_equal(loan_add(&l, b, 17, 0), -EINVAL);
	assert_int_equal(loan_add(&l, b, (size_t)-1, 2), -EINVAL);
	for (int i = 0; i < LOAN_MAX; i++)
		assert_int_equal(loan_add(&l, b, (size_t)(i % 2) * 8, 1), 0);
	assert_int_equal(l.n, LOAN_MAX);
	assert_int_equal(loan_add(&l, b, 4, 1), -ENOSPC);
	assert_int_equal(l.len, LOAN_MAX);
	block_unref(b);
	loan_release(&l);
	block_unref(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loan_keeps_the_block_after_the_owner_lets_go),
		cmocka_unit_test(test_contiguous_parts_merge),
		cmocka_unit_test(test_range_outside_the_block_and_a_full_loan_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
