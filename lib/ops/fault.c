/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "fault.h"

bool fault_is(const struct svff_ctx *ctx, const char *kind, const char *step)
{
#ifdef SVFF_FAULT_INJECTION
	size_t len = strlen(kind);

	return ctx->fault_step && strncmp(ctx->fault_step, kind, len) == 0 &&
	       (step ? strcmp(ctx->fault_step + len, step) == 0 : ctx->fault_step[len] == '\0');
#else
	return false;
#endif
}

void fault_stall(struct svff_ctx *ctx, const char *kind, const char *step)
{
	if (!fault_is(ctx, kind, step))
		return;
	log_info(ctx, "test build: stalling 12 s at step '%s'", step ? step : kind);
	for (int i = 0; i < 60 && !svff_interrupted(ctx); i++)
		usleep(200000);
}
