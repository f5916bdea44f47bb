/* SPDX-License-Identifier: MIT */
/* Clocks. Layer: utility. The fake is a test seam, set before threads start. */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "cloudfs/clock.h"

static _Atomic int64_t fake_mono_ms = -1;
static _Atomic int64_t fake_wall_s = -1;

int64_t clock_now_ms(void)
{
	struct timespec ts;
	int64_t f = atomic_load(&fake_mono_ms);

	if (f >= 0)
		return f;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_s(void)
{
	int64_t f = atomic_load(&fake_wall_s);

	return f >= 0 ? f : (int64_t)time(NULL);
}

void clock_set_fake(int64_t mono_ms, int64_t wall_s)
{
	atomic_store(&fake_mono_ms, mono_ms);
	atomic_store(&fake_wall_s, wall_s);
}

void clock_sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1)
		;
}

int clock_parse_iso8601(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *p;
	int64_t t;
	int off_sign = 0, oh = 0, om = 0;

	if (!s)
		return -1;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == '+' || *p == '-') {
		off_sign = *p == '+' ? 1 : -1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
			return -1;
	} else if (*p && *p != 'Z') {
		return -1;
	}
	t = (int64_t)timegm(&tm);
	*out = t - off_sign * (oh * 3600 + om * 60);
	return 0;
}
