/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include <syslog.h>

#include "journal-log.h"
#include "svff-internal.h"

static void log_to_std_streams(struct svff_ctx *ctx, enum svff_log_level level,
			       const char *msg)
{
	FILE *stream = level <= SVFF_LOG_WARNING ? stderr : stdout;

	if (level == SVFF_LOG_DATA) {
		fprintf(stdout, "%s\n", msg);
		fflush(stdout);
		return;
	}
	fprintf(stream, "%s: %s%s\n", ctx->program, level == SVFF_LOG_WARNING ? "warning: " : "",
		msg);
	fflush(stream);
}

static _printf_(3, 0) void log_va(struct svff_ctx *ctx, enum svff_log_level level,
				   const char *fmt, va_list ap)
{
	char msg[2048];

	/* No context: a quiet second reading of something already reported. */
	if (!ctx || (level > ctx->max_level && level != SVFF_LOG_DATA))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Domains log from their own threads: keep each line whole. */
	pthread_mutex_lock(&ctx->log_lock);
	if (ctx->log_fn)
		ctx->log_fn(ctx->log_userdata, level, msg);
	else
		log_to_std_streams(ctx, level, msg);
	pthread_mutex_unlock(&ctx->log_lock);
}

void svff_log(struct svff_ctx *ctx, enum svff_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(ctx, level, fmt, ap);
	va_end(ap);
}

int svff_log_errno(struct svff_ctx *ctx, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(ctx, SVFF_LOG_ERR, fmt, ap);
	va_end(ap);
	return error < 0 ? error : -error;
}

void log_to_journal(void *userdata, enum svff_log_level level, const char *msg)
{
	static const int priorities[] = { [SVFF_LOG_ERR] = LOG_ERR,
					  [SVFF_LOG_WARNING] = LOG_WARNING,
					  [SVFF_LOG_INFO] = LOG_INFO,
					  [SVFF_LOG_DEBUG] = LOG_DEBUG,
					  [SVFF_LOG_DATA] = LOG_INFO };

	fprintf(stderr, "%s: %s%s\n", (const char *)userdata,
		level == SVFF_LOG_WARNING ? "warning: " : "", msg);
	syslog(priorities[level], "%s", msg);
}
