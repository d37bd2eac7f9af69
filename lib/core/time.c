/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/resource.h>
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

static usec_t timespec_usec(const struct timespec *ts)
{
	return (usec_t)ts->tv_sec * 1000000ULL + (usec_t)ts->tv_nsec / 1000ULL;
}

static usec_t timeval_usec(const struct timeval *tv)
{
	return (usec_t)tv->tv_sec * 1000000ULL + (usec_t)tv->tv_usec;
}

void cost_mark_now(struct cost_mark *ret)
{
	struct timespec cpu = { 0 };
	struct rusage children = { 0 };

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	getrusage(RUSAGE_CHILDREN, &children);
	ret->wall = now_usec();
	ret->cpu = timespec_usec(&cpu);
	ret->children_cpu = timeval_usec(&children.ru_utime) + timeval_usec(&children.ru_stime);
}

void cost_since(const struct cost_mark *start, struct cost *ret)
{
	struct cost_mark now;

	cost_mark_now(&now);
	ret->seconds = (double)(now.wall - start->wall) / 1e6;
	ret->cpu_seconds = (double)(now.cpu - start->cpu) / 1e6;
	ret->children_cpu_seconds = (double)(now.children_cpu - start->children_cpu) / 1e6;
	/* Threads working side by side can use more CPU time than wall time passes. */
	ret->wait_seconds = ret->seconds > ret->cpu_seconds ? ret->seconds - ret->cpu_seconds : 0;
}
