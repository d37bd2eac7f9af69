/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "svff-internal.h"

usec_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t)ts.tv_sec * 1000000ULL + (usec_t)ts.tv_nsec / 1000ULL;
}

double seconds_since(usec_t start)
{
	return (double)(now_usec() - start) / 1e6;
}

void poll_pause(void)
{
	struct timespec interval = { .tv_nsec = 20 * 1000 * 1000 };

	nanosleep(&interval, NULL);
}
