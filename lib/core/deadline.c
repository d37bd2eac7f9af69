/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "conf.h"

/*
 * A guest's hot-unplug takes seconds; udev's site rules that prepare new VFs may take
 * minutes on a loaded host (udev itself kills an event's programs after 180 s); loading a
 * bitstream takes minutes.
 */
static const unsigned default_seconds[] = {
	[DEADLINE_RELEASE] = 30,
	[DEADLINE_READY] = 300,
	[DEADLINE_PROGRAM] = 600,
};

static const char *const option_names[] = {
	[DEADLINE_RELEASE] = "--release-timeout",
	[DEADLINE_READY] = "--ready-timeout",
	[DEADLINE_PROGRAM] = "--program-timeout",
};

const char *deadline_option(enum deadline_kind kind)
{
	return option_names[kind];
}

/* The command line's value, else svff.conf's for the PF, else the default. */
unsigned deadline_seconds(struct svff_ctx *ctx, const char *pf, enum deadline_kind kind)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	const struct managed_pf *managed = NULL;

	if (ctx->timeout_ms[kind])
		return (ctx->timeout_ms[kind] + 999) / 1000;
	if (pf && conf_load_quietly(ctx, ctx->conf_file, &conf) == 0)
		managed = conf_find_pf(conf, pf);
	if (managed && managed->timeout_s[kind])
		return managed->timeout_s[kind];
	return default_seconds[kind];
}

usec_t deadline_from_now(struct svff_ctx *ctx, const char *pf, enum deadline_kind kind)
{
	usec_t span = ctx->timeout_ms[kind] ? (usec_t)ctx->timeout_ms[kind] * 1000ULL
					     : (usec_t)deadline_seconds(ctx, pf, kind) * 1000000ULL;

	return now_usec() + span;
}
