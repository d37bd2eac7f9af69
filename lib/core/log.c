/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "stderr-log.h"
#include "svff-internal.h"

static _Thread_local struct log_scope scope;

struct log_scope log_scope_push(const char *pf, const char *vf, const char *domain,
				const char *step)
{
	struct log_scope saved = scope;

	if (pf)
		scope.pf = pf;
	if (vf)
		scope.vf = vf;
	if (domain)
		scope.domain = domain;
	if (step)
		scope.step = step;
	return saved;
}

void log_scope_restore(const struct log_scope *saved)
{
	scope = *saved;
}

struct log_scope log_scope_current(void)
{
	return scope;
}

static void print_message(FILE *stream, const char *program, enum svff_log_level level,
			  const char *msg)
{
	fprintf(stream, "%s: %s%s\n", program, level == SVFF_LOG_WARNING ? "warning: " : "",
		msg);
	fflush(stream);
}

/* A stream that is the journal already does not get what the journal took. */
static void log_to_std_streams(struct svff_ctx *ctx, enum svff_log_level level,
			       const char *msg, bool journaled)
{
	bool to_stderr = level <= SVFF_LOG_WARNING;

	if (level == SVFF_LOG_DATA) {
		fprintf(stdout, "%s\n", msg);
		fflush(stdout);
		return;
	}
	if (journaled && (to_stderr ? ctx->stderr_is_journal : ctx->stdout_is_journal))
		return;
	print_message(to_stderr ? stderr : stdout, ctx->program, level, msg);
}

/*
 * The journal keeps the history of every PF: it gets progress (info) even under --quiet,
 * debugging messages with --verbose, and never --json lines, which repeat as data what a
 * progress message says (that message goes to the journal instead).
 */
static bool wanted(const struct svff_ctx *ctx, enum svff_log_level level, unsigned dest,
		   unsigned *ret_dest)
{
	unsigned wanted_dest = 0;

	if ((dest & LOG_TO_TERMINAL) && (level <= ctx->max_level || level == SVFF_LOG_DATA))
		wanted_dest |= LOG_TO_TERMINAL;
	if ((dest & LOG_TO_JOURNAL) && ctx->journal && level != SVFF_LOG_DATA &&
	    (level <= SVFF_LOG_INFO || level <= ctx->max_level))
		wanted_dest |= LOG_TO_JOURNAL;
	*ret_dest = wanted_dest;
	return wanted_dest != 0;
}

static _printf_(6, 0) void log_va(struct svff_ctx *ctx, enum svff_log_level level,
				   enum log_event event, int error, unsigned dest,
				   const char *fmt, va_list ap)
{
	char msg[2048];
	bool journaled;

	/* No context: a quiet second reading of something already reported. */
	if (!ctx || !wanted(ctx, level, dest, &dest))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Domains log from their own threads: keep each line whole, and in order. */
	pthread_mutex_lock(&ctx->log_lock);
	journaled = (dest & LOG_TO_JOURNAL) && journal_send(ctx, level, event, error, msg) >= 0;
	if (dest & LOG_TO_TERMINAL) {
		if (ctx->log_fn)
			ctx->log_fn(ctx->log_userdata, level, msg);
		else
			log_to_std_streams(ctx, level, msg, journaled);
	}
	pthread_mutex_unlock(&ctx->log_lock);
}

void svff_log_full(struct svff_ctx *ctx, enum svff_log_level level, enum log_event event,
		   int error, unsigned dest, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(ctx, level, event, error, dest, fmt, ap);
	va_end(ap);
}

int svff_log_errno(struct svff_ctx *ctx, int error, enum log_event event, const char *fmt, ...)
{
	va_list ap;

	error = error < 0 ? error : -error;
	va_start(ap, fmt);
	log_va(ctx, SVFF_LOG_ERR, event, error, LOG_TO_BOTH, fmt, ap);
	va_end(ap);
	return error;
}

void log_to_stderr(void *userdata, enum svff_log_level level, const char *msg)
{
	print_message(stderr, userdata, level, msg);
}
