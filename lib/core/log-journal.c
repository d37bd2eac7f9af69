/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal's side of svff's messages: structured fields, through libsystemd. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "svff-internal.h"

static const char *const event_ids[_LOG_EVENT_MAX] = {
#define LOG_EVENT_ID(name, id) [LOG_EVENT_##name] = id,
	SVFF_LOG_EVENTS(LOG_EVENT_ID)
#undef LOG_EVENT_ID
};

static const char *const event_names[_LOG_EVENT_MAX] = {
#define LOG_EVENT_NAME(name, id) [LOG_EVENT_##name] = "SVFF_" #name,
	SVFF_LOG_EVENTS(LOG_EVENT_NAME)
#undef LOG_EVENT_NAME
};

const char *log_event_id(enum log_event event)
{
	return event > LOG_EVENT_NONE && event < _LOG_EVENT_MAX ? event_ids[event] : NULL;
}

const char *log_event_name(enum log_event event)
{
	return event > LOG_EVENT_NONE && event < _LOG_EVENT_MAX ? event_names[event] : NULL;
}

/* One "NAME=value" field; a value too long for what is left of the buffer is cut. */
static _printf_(2, 3) void add_field(struct journal_fields *f, const char *fmt, ...)
{
	size_t left = sizeof(f->buf) - f->used;
	va_list ap;
	int n;

	if (f->n >= ELEMENTSOF(f->iov) || left < 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(f->buf + f->used, left, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= left)
		n = (int)left - 1;
	f->iov[f->n++] = (struct iovec){ .iov_base = f->buf + f->used, .iov_len = (size_t)n };
	f->used += (size_t)n + 1;
}

void journal_fields_build(struct journal_fields *f, const char *program,
			  enum svff_log_level level, enum log_event event, int error,
			  const struct log_scope *scope, const char *msg)
{
	static const int priorities[] = { [SVFF_LOG_ERR] = LOG_ERR,
					  [SVFF_LOG_WARNING] = LOG_WARNING,
					  [SVFF_LOG_INFO] = LOG_INFO,
					  [SVFF_LOG_DEBUG] = LOG_DEBUG,
					  [SVFF_LOG_DATA] = LOG_INFO };
	const char *id = log_event_id(event);

	f->n = 0;
	f->used = 0;
	/* The message first: what is cut, if anything, is a field at the end. */
	add_field(f, "MESSAGE=%s", msg);
	add_field(f, "PRIORITY=%d", priorities[level]);
	add_field(f, "SYSLOG_IDENTIFIER=%s", program);
	if (id)
		add_field(f, "MESSAGE_ID=%s", id);
	if (error < 0)
		add_field(f, "ERRNO=%d", -error);
	if (scope->pf && scope->pf[0])
		add_field(f, "SVFF_PF=%s", scope->pf);
	if (scope->vf && scope->vf[0])
		add_field(f, "SVFF_VF=%s", scope->vf);
	if (scope->domain && scope->domain[0])
		add_field(f, "SVFF_DOMAIN=%s", scope->domain);
	if (scope->step && scope->step[0])
		add_field(f, "SVFF_STEP=%s", scope->step);
}

int journal_send(struct svff_ctx *ctx, enum svff_log_level level, enum log_event event,
		 int error, const char *msg)
{
	struct log_scope current = log_scope_current();
	struct journal_fields f;

	journal_fields_build(&f, ctx->program, level, event, error, &current, msg);
	return (ctx->journal_sendv ? ctx->journal_sendv : sd_journal_sendv)(f.iov, (int)f.n);
}

static int parse_u64(const char *text, const char **ret_end, uint64_t *ret)
{
	char *end;
	unsigned long long value;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0 || end == text || text[0] == '-')
		return -EINVAL;
	*ret_end = end;
	*ret = value;
	return 0;
}

bool journal_stream_is(int fd, const char *journal_stream)
{
	uint64_t dev, ino;
	const char *end;
	struct stat st;

	if (!journal_stream || parse_u64(journal_stream, &end, &dev) < 0 || *end != ':' ||
	    parse_u64(end + 1, &end, &ino) < 0 || *end != '\0' || fstat(fd, &st) < 0)
		return false;
	return (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}
