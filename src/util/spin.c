/* SPDX-License-Identifier: MIT */
/* The polling worker's budget (spin.h says why). Layer: util, pure. */
#include "cloudfs/spin.h"

void spin_init(struct spin_policy *s, int64_t max_us)
{
	*s = (struct spin_policy){ .max_us = max_us, .budget_us = max_us };
}

int64_t spin_next(struct spin_policy *s, int64_t served_us)
{
	if (served_us >= SPIN_WORK_US) {
		s->skipped++;
		return 0;
	}
	s->polls++;
	return s->budget_us;
}

void spin_note(struct spin_policy *s, bool came, int64_t gap_us, int64_t spun_us)
{
	if (came && gap_us <= s->max_us) {
		/* polling would have caught it, or did */
		if (spun_us)
			s->hits++;
		s->budget_us = s->max_us;
		return;
	}
	if (!spun_us)
		return; /* slept, and the request came late: polling would not have paid */
	/* a poll that caught nothing: half as long next time */
	s->misses++;
	s->budget_us /= 2;
	if (s->budget_us < SPIN_MIN_US)
		s->budget_us = s->max_us < SPIN_MIN_US ? s->max_us : SPIN_MIN_US;
}

void spin_preempted(struct spin_policy *s)
{
	s->preempted++;
	s->budget_us = s->max_us < SPIN_MIN_US ? s->max_us : SPIN_MIN_US;
}
