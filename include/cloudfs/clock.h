/* SPDX-License-Identifier: MIT */
/*
 * Time sources. Monotonic milliseconds for TTLs and deadlines; wall-clock
 * seconds only for token expiry. Tests replace both with clock_set_fake().
 */
#ifndef CLOUDFS_CLOCK_H
#define CLOUDFS_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);
/* Wall clock, seconds since the epoch (token expires_at is wall time). */
int64_t clock_wall_s(void);
/* Test hook: freeze both clocks (ms >= 0) or restore the real ones (ms < 0). */
void clock_set_fake(int64_t mono_ms, int64_t wall_s);
void clock_sleep_ms(int64_t ms);

/* Parses ISO 8601 UTC times as OpenStack writes them ("2026-11-23T04:23:59Z",
 * "2026-11-23T04:24:05.000000", "...+00:00") into epoch seconds. Pure. */
int clock_parse_iso8601(const char *s, int64_t *out);

#endif
