/* SPDX-License-Identifier: MIT */
/* The polling worker's budget (spin.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cloudfs/spin.h"

/* A warm burst: fast answers, each followed by a full poll. */
static void test_fast_answers_poll(void **state)
{
	struct spin_policy s;

	(void)state;
	spin_init(&s, 200);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(spin_next(&s, 8), 200);
		spin_note(&s, true, 200);
	}
	assert_int_equal(s.polls, 100);
	assert_int_equal(s.hits, 100);
	assert_int_equal(s.misses, 0);
	assert_int_equal(s.skipped, 0);
}

/* A request that needed work is not followed by a poll; the next fast
 * answer polls fully again. */
static void test_no_poll_after_work(void **state)
{
	struct spin_policy s;

	(void)state;
	spin_init(&s, 200);
	assert_int_equal(spin_next(&s, SPIN_WORK_US - 1), 200);
	assert_int_equal(spin_next(&s, SPIN_WORK_US), 0);
	assert_int_equal(spin_next(&s, 5000), 0);
	assert_int_equal(s.skipped, 2);
	assert_int_equal(spin_next(&s, 3), 200);
	assert_int_equal(s.polls, 2);
}

/* Polls that caught nothing, or lost the CPU, are counted; they do not
 * shorten the next poll (that made the poller sleep through bursts). */
static void test_misses_and_preemption_counted(void **state)
{
	struct spin_policy s;

	(void)state;
	spin_init(&s, 200);
	spin_note(&s, false, 200);
	spin_note(&s, false, 200);
	spin_preempted(&s);
	spin_note(&s, true, 0); /* no poll: nothing to count */
	assert_int_equal(s.misses, 2);
	assert_int_equal(s.preempted, 1);
	assert_int_equal(s.hits, 0);
	assert_int_equal(spin_next(&s, 5), 200);
}

/* spin_us=0: never a poll. */
static void test_off(void **state)
{
	struct spin_policy s;

	(void)state;
	spin_init(&s, 0);
	assert_int_equal(spin_next(&s, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_answers_poll),
		cmocka_unit_test(test_no_poll_after_work),
		cmocka_unit_test(test_misses_and_preemption_counted),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
