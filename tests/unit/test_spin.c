/* SPDX-License-Identifier: MIT */
/* The polling worker's budget (spin.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cloudfs/spin.h"

/* A warm burst: fast answers, the next request within the poll each time. */
static void test_burst_keeps_polling(void **state)
{
	struct spin_policy s;

	(void)state;
	spin_init(&s, 200);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(spin_next(&s, 8), 200);
		spin_note(&s, true, 15, 15);
	}
	assert_int_equal(s.hits, 100);
	assert_int_equal(s.misses, 0);
}

/* A request that needed work is not followed by a poll. */
static void test_no_poll_after_work(void **state)
{
	struct spin_policy s;

	(void)state;
	spin_init(&s, 200);
	assert_int_equal(spin_next(&s, SPIN_WORK_US), 0);
	assert_int_equal(spin_next(&s, 5000), 0);
	assert_int_equal(s.skipped, 2);
	/* the budget itself is untouched: the next fast answer polls fully */
	assert_int_equal(spin_next(&s, 3), 200);
}

/* Polls that catch nothing halve the budget down to the floor, and one
 * request within spin_us brings it back. */
static void test_misses_back_off_and_recover(void **state)
{
	struct spin_policy s;
	int64_t b;

	(void)state;
	spin_init(&s, 200);
	b = spin_next(&s, 5);
	spin_note(&s, false, 0, b);
	assert_int_equal(spin_next(&s, 5), 100);
	spin_note(&s, false, 0, 100);
	assert_int_equal(spin_next(&s, 5), 50);
	spin_note(&s, false, 0, 50);
	spin_note(&s, false, 0, 25);
	assert_int_equal(spin_next(&s, 5), SPIN_MIN_US);
	spin_note(&s, false, 0, SPIN_MIN_US);
	assert_int_equal(spin_next(&s, 5), SPIN_MIN_US);
	assert_int_equal(s.misses, 5);
	/* slept, and the request came 150 µs after: a full poll would have paid */
	spin_note(&s, true, 150, 0);
	assert_int_equal(spin_next(&s, 5), 200);
	assert_int_equal(s.hits, 0);
}

/* A request that came long after a sleep changes nothing. */
static void test_late_request_after_sleep(void **state)
{
	struct spin_policy s;

	(void)state;
	spin_init(&s, 200);
	spin_note(&s, false, 0, 200);
	spin_note(&s, true, 100000, 0);
	assert_int_equal(spin_next(&s, 5), 100);
}

/* A poll that lost its CPU drops the budget to the floor at once; a request
 * soon after brings it back. */
static void test_preempted(void **state)
{
	struct spin_policy s;

	(void)state;
	spin_init(&s, 200);
	spin_preempted(&s);
	assert_int_equal(spin_next(&s, 5), SPIN_MIN_US);
	assert_int_equal(s.preempted, 1);
	spin_note(&s, true, 40, 0);
	assert_int_equal(spin_next(&s, 5), 200);
}

/* spin_us below the floor stays what was asked. */
static void test_small_max(void **state)
{
	struct spin_policy s;

	(void)state;
	spin_init(&s, 5);
	spin_note(&s, false, 0, 5);
	assert_int_equal(spin_next(&s, 1), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_keeps_polling),
		cmocka_unit_test(test_no_poll_after_work),
		cmocka_unit_test(test_misses_back_off_and_recover),
		cmocka_unit_test(test_late_request_after_sleep),
		cmocka_unit_test(test_preempted),
		cmocka_unit_test(test_small_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
