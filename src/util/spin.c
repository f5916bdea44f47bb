/* SPDX-License-Identifier: MIT */
/* The polling worker's budget (spin.h says why). Layer: util, pure. */
#include "cloudfs/spin.h"

void spin_init(struct spin_policy *s, int64_t max_us)
{
	*s = (struct spin_policy){ .max_us = max_us };
}

int64_t spin_next(struct spin_policy *s, int64_t served_us)
{
	if (served_us >= SPIN_WORK_US) {
		s->skipped++;
		return 0;
	}
	s->polls++;
	return s->max_us;
}

void spin_note(struct spin_policy *s, bool came, int64_t spun_us)
{
	if (!spun_us)
		return;
	if (came)
		s->hits++;
	else
		s->misses++;
}

void spin_preempted(struct spin_policy *s)
{
	s->preempted++;
}
