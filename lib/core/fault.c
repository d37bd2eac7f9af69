/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

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

/*
 * A stall lasts until the file SVFF_FAULT_GATE names exists: the test bed opens the gate
 * once it has checked what happens meanwhile, however slow the host, so its check is one of
 * order, not of time. At most 10 minutes; 12 s when no gate is named.
 */
void fault_stall(struct svff_ctx *ctx, const char *kind, const char *step)
{
	const char *gate = secure_getenv("SVFF_FAULT_GATE");
	int ticks = gate ? 3000 : 60;

	if (!fault_is(ctx, kind, step))
		return;
	if (gate)
		log_info(ctx, "test build: stalling at step '%s' until '%s' exists", step ? step : kind,
			 gate);
	else
		log_info(ctx, "test build: stalling 12 s at step '%s'", step ? step : kind);
	for (int i = 0; i < ticks && !svff_interrupted(ctx); i++) {
		if (gate && access(gate, F_OK) == 0)
			return;
		usleep(200000);
	}
}

void fault_reboot(struct svff_ctx *ctx, const char *step)
{
	int fd;

	if (!fault_is(ctx, "reboot:", step))
		return;
	/* Said first, and not through stdio buffers: the journal may or may not keep it. */
	log_warning(ctx, "test build: rebooting at once at step '%s', as a power loss", step);
	fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		/* 'b': reboot now, no sync, no unmount. */
		if (write(fd, "b", 1) == 1)
			pause();
		close(fd);
	}
	reboot(RB_AUTOBOOT);
	log_error(ctx, "test build: cannot reboot at step '%s': %m", step);
	abort();
}
