/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "svff-internal.h"

_public_ void svff_interrupt(struct svff_ctx *ctx, int signo)
{
	if (!ctx)
		return;
	if (!ctx->interrupt_signal)
		ctx->interrupt_signal = signo;
	ctx->interrupt_count++;
}

_public_ int svff_interrupt_signal(const struct svff_ctx *ctx)
{
	return ctx ? ctx->interrupt_signal : 0;
}

int svff_interrupted(struct svff_ctx *ctx)
{
	return ctx->finishing ? 0 : ctx->interrupt_signal;
}

void interrupt_say_waiting(struct svff_ctx *ctx, const char *what)
{
	sig_atomic_t count = ctx->interrupt_count;

	/* The first signal is answered by stopping; each later one by this line. */
	if (count <= 1 || count == ctx->interrupt_count_seen)
		return;
	ctx->interrupt_count_seen = count;
	log_warning(ctx, "interrupted: still waiting for %s; svff stops as soon as that is done "
		    "(SIGKILL leaves the rest to svff-reattach)", what);
}
