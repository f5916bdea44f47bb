/* SPDX-License-Identifier: MIT */
/* The transfer registry behind .cloudfs/transfers (transfers.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/transfers.h"

#define T0 1000000 /* ms */
#define MiB (1024 * 1024)

static struct transfer_view view(struct transfers *t, const char *path, int64_t now)
{
	struct transfer_view v;

	assert_int_equal(transfers_view(t, path, now, &v), 0);
	return v;
}

/* Feeds @bps for @ms, one progress step every @step_ms, from *done. */
static void feed(struct transfer *x, int64_t *done, int64_t *now, int64_t bps, int64_t ms,
		 int64_t step_ms)
{
	for (int64_t t = 0; t < ms; t += step_ms) {
		*now += step_ms;
		*done += bps * step_ms / 1000;
		transfer_progress(x, *done, *now);
	}
}

static void test_steady_rate_and_eta(void **state)
{
	struct transfers *t = transfers_new();
	struct transfer *x;
	struct transfer_view v;
	int64_t now = T0, done = 0;

	(void)state;
	assert_int_equal(transfers_add(t, TRANSFER_UP, "/images/big.img", 100 * MiB, now, &x), 0);
	v = view(t, "images/big.img", now);
	assert_string_equal(v.state, "running");
	assert_int_equal(v.done, 0);
	assert_int_equal(v.total, 100 * MiB);
	assert_int_equal(v.rate_bps, -1); /* too early to say */
	assert_int_equal(v.eta_s, -1);
	/* 10 MiB/s in 128 KiB writes for 3 s. */
	feed(x, &done, &now, 10 * MiB, 3000, 100);
	v = view(t, "images/big.img", now);
	assert_int_equal(v.done, 30 * MiB);
	assert_int_equal(v.rate_bps, 10 * MiB);
	assert_int_equal(v.eta_s, 7);
	transfer_end(x, 0, now);
	transfers_free(t);
}

/* The rate is the last window's, not the average since the start. */
static void test_rate_follows_the_window(void **state)
{
	struct transfers *t = transfers_new();
	struct transfer *x;
	struct transfer_view v;
	int64_t now = T0, done = 0;

	(void)state;
	assert_int_equal(transfers_add(t, TRANSFER_DOWN, "images/a/data", 2000 * MiB, now, &x), 0);
	feed(x, &done, &now, 50 * MiB, 20000, 100);
	v = view(t, "images/a/data", now);
	assert_int_equal(v.rate_bps, 50 * MiB);
	/* The link slows to 2 MiB/s: after one window the rate says so. */
	feed(x, &done, &now, 2 * MiB, TRANSFERS_WINDOW_MS + TRANSFERS_SAMPLE_MS, 100);
	v = view(t, "images/a/data", now);
	assert_in_range(v.rate_bps, 2 * MiB - 64 * 1024, 2 * MiB + 64 * 1024);
	assert_int_equal(v.eta_s, (2000 * MiB - done + v.rate_bps - 1) / v.rate_bps);
	transfer_end(x, 0, now);
	transfers_free(t);
}

static void test_stall_and_recovery(void **state)
{
	struct transfers *t = transfers_new();
	struct transfer *x;
	struct transfer_view v;
	int64_t now = T0, done = 0;

	(void)state;
	assert_int_equal(transfers_add(t, TRANSFER_UP, "images/s", 10 * MiB, now, &x), 0);
	feed(x, &done, &now, 1 * MiB, 2000, 250);
	now += TRANSFERS_STALL_MS - 1;
	assert_string_equal(view(t, "images/s", now).state, "running");
	now += 1;
	v = view(t, "images/s", now);
	assert_string_equal(v.state, "stalled");
	assert_int_equal(v.rate_bps, 0);
	assert_int_equal(v.eta_s, -1);
	assert_int_equal(v.done, 2 * MiB);
	feed(x, &done, &now, 1 * MiB, 1000, 250);
	assert_string_equal(view(t, "images/s", now).state, "running");
	transfer_end(x, 0, now);
	transfers_free(t);
}

/* A pipe: no total, so no percentage and no ETA, but a rate. */
static void test_unknown_total_and_phases(void **state)
{
	struct transfers *t = transfers_new();
	struct transfer *x;
	struct transfer_view v;
	int64_t now = T0, done = 0;
	struct buf out;

	(void)state;
	assert_int_equal(transfers_add(t, TRANSFER_UP, "images/pipe", -1, now, &x), 0);
	feed(x, &done, &now, 4 * MiB, 2000, 250);
	v = view(t, "images/pipe", now);
	assert_int_equal(v.total, -1);
	assert_int_equal(v.rate_bps, 4 * MiB);
	assert_int_equal(v.eta_s, -1);
	buf_init(&out, 1 << 20);
	assert_int_equal(transfers_render(t, now, &out), 0);
	assert_non_null(strstr(
		out.data,
		"up   running        8388608            -    -    4194304      - images/pipe\n"));
	buf_free(&out);
	/* A total that the bytes outgrow was a wrong guess: unknown. */
	transfer_set_total(x, 1 * MiB);
	feed(x, &done, &now, 4 * MiB, 100, 100);
	assert_int_equal(view(t, "images/pipe", now).total, -1);
	transfer_set_phase(x, TRANSFER_FINISHING);
	assert_string_equal(view(t, "images/pipe", now).state, "finishing");
	transfer_set_phase(x, TRANSFER_CLEANING);
	assert_string_equal(view(t, "images/pipe", now).state, "cleaning");
	transfer_end(x, -EIO, now);
	assert_string_equal(view(t, "images/pipe", now).state, "failed");
	transfers_free(t);
}

static void test_format(void **state)
{
	struct transfers *t = transfers_new();
	struct transfer *x, *y;
	int64_t now = T0;
	struct buf out;

	(void)state;
	buf_init(&out, 1 << 20);
	assert_int_equal(transfers_render(t, now, &out), 0);
	assert_string_equal(
		out.data, "DIR  STATE             DONE        TOTAL  PCT       RATE    ETA PATH\n");
	buf_reset(&out);
	assert_int_equal(transfers_add(t, TRANSFER_UP, "/images/my disk\t\\x.img", 400, now, &x),
			 0);
	assert_int_equal(transfers_add(t, TRANSFER_DOWN, "/images/id1/data", 1000, now, &y), 0);
	transfer_progress(x, 100, now + 1000);
	transfer_progress(y, 1000, now + 1000);
	transfer_end(y, 0, now + 1000);
	assert_int_equal(transfers_render_other(&out, TRANSFER_UP, "owed", "images/id2"), 0);
	assert_int_equal(transfers_render(t, now + 1000, &out), 0);
	assert_string_equal(
		out.data,
		"up   owed                 -            -    -          -      - images/id2\n"
		"DIR  STATE             DONE        TOTAL  PCT       RATE    ETA PATH\n"
		"up   running            100          400  25%        100      3 images/my\\040disk\\011\\134x.img\n"
		"down done              1000         1000 100%          -      - images/id1/data\n");
	buf_free(&out);
	transfer_end(x, 0, now);
	transfers_free(t);
}

/* Finished transfers stay TRANSFERS_LINGER_MS with their result, at most
 * TRANSFERS_LINGER_MAX of them. */
static void test_linger(void **state)
{
	struct transfers *t = transfers_new();
	struct transfer *x;
	char path[32];
	int64_t now = T0;

	(void)state;
	assert_int_equal(transfers_add(t, TRANSFER_DOWN, "images/r/data", 100, now, &x), 0);
	transfer_progress(x, 50, now + 10);
	transfer_end(x, TRANSFER_STOPPED, now + 10);
	assert_string_equal(view(t, "images/r/data", now + 10).state, "stopped");
	assert_int_equal(transfers_count(t, now + 10 + TRANSFERS_LINGER_MS - 1), 1);
	assert_int_equal(transfers_count(t, now + 10 + TRANSFERS_LINGER_MS), 0);
	for (int i = 0; i < TRANSFERS_LINGER_MAX + 3; i++) {
		snprintf(path, sizeof(path), "images/%d", i);
		assert_int_equal(transfers_add(t, TRANSFER_UP, path, -1, now, &x), 0);
		transfer_end(x, 0, now);
	}
	assert_int_equal(transfers_count(t, now), TRANSFERS_LINGER_MAX);
	/* The oldest went first. */
	{
		struct transfer_view v;

		assert_int_equal(transfers_view(t, "images/2", now, &v), -ENOENT);
		assert_int_equal(transfers_view(t, "images/3", now, &v), 0);
	}
	transfers_free(t);
}

/* A seek back restarts the rate rather than making it negative. */
static void test_seek_back(void **state)
{
	struct transfers *t = transfers_new();
	struct transfer *x;
	int64_t now = T0, done = 0;
	struct transfer_view v;

	(void)state;
	assert_int_equal(transfers_add(t, TRANSFER_DOWN, "images/k/data", 100 * MiB, now, &x), 0);
	feed(x, &done, &now, 8 * MiB, 3000, 100);
	done = 1 * MiB;
	now += 100;
	transfer_progress(x, done, now);
	feed(x, &done, &now, 1 * MiB, 1000, 100);
	v = view(t, "images/k/data", now);
	assert_in_range(v.rate_bps, 1 * MiB - 128 * 1024, 1 * MiB + 128 * 1024);
	transfer_end(x, 0, now);
	transfers_free(t);
}

/* A NULL registry (a project without one) costs nothing and breaks nothing. */
static void test_null_registry(void **state)
{
	struct transfer *x = (struct transfer *)1;
	struct buf out;

	(void)state;
	assert_int_equal(transfers_add(NULL, TRANSFER_UP, "images/n", 1, T0, &x), 0);
	assert_null(x);
	transfer_progress(x, 1, T0);
	transfer_set_phase(x, TRANSFER_FINISHING);
	transfer_end(x, 0, T0);
	buf_init(&out, 4096);
	assert_int_equal(transfers_render(NULL, T0, &out), 0);
	buf_free(&out);
}

/* Writers add, move and end transfers while readers render: under
 * ThreadSanitizer/ASan this finds races and use-after-free. */
#define THREADS 4
#define ROUNDS 2000
static struct transfers *shared;
static atomic_int writers_left;

static void *writer(void *arg)
{
	char path[32];
	int id = (int)(intptr_t)arg;

	for (int i = 0; i < ROUNDS; i++) {
		struct transfer *x;
		int64_t now = T0 + i;

		snprintf(path, sizeof(path), "images/w%d-%d", id, i);
		assert_int_equal(transfers_add(shared, i % 2 ? TRANSFER_UP : TRANSFER_DOWN, path,
					       1000, now, &x),
				 0);
		for (int k = 1; k <= 10; k++)
			transfer_progress(x, k * 100, now + k * TRANSFERS_SAMPLE_MS);
		transfer_set_phase(x, TRANSFER_FINISHING);
		transfer_end(x, i % 3 ? 0 : -EIO, now + 11 * TRANSFERS_SAMPLE_MS);
	}
	atomic_fetch_sub(&writers_left, 1);
	return NULL;
}

static void *reader(void *arg)
{
	struct buf out;
	size_t renders = 0;

	(void)arg;
	buf_init(&out, 1 << 24);
	while (atomic_load(&writers_left) > 0 || renders == 0) {
		buf_reset(&out);
		assert_int_equal(transfers_render(shared, T0 + 1000, &out), 0);
		assert_non_null(strstr(out.data, "DIR "));
		renders++;
	}
	buf_free(&out);
	return NULL;
}

static void test_concurrent_add_remove(void **state)
{
	pthread_t w[THREADS], r[2];

	(void)state;
	shared = transfers_new();
	atomic_store(&writers_left, THREADS);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&w[i], NULL, writer, (void *)(intptr_t)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	/* Everything ended: only the lingering few are left. */
	assert_true(transfers_count(shared, T0 + ROUNDS) <= TRANSFERS_LINGER_MAX);
	assert_int_equal(transfers_count(shared, T0 + ROUNDS + 100000), 0);
	transfers_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_rate_and_eta),
		cmocka_unit_test(test_rate_follows_the_window),
		cmocka_unit_test(test_stall_and_recovery),
		cmocka_unit_test(test_unknown_total_and_phases),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_linger),
		cmocka_unit_test(test_seek_back),
		cmocka_unit_test(test_null_registry),
		cmocka_unit_test(test_concurrent_add_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
