/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff-internal.h"

/*
 * Test builds (-Dfault_injection=true) take SVFF_FAULT_STEP=KIND[STEP] to make svff fail,
 * stall or reboot the machine at a chosen point, so the test bed can prove what happens
 * then. Elsewhere always false, and nothing happens.
 */
bool fault_is(const struct svff_ctx *ctx, const char *kind, const char *step);
void fault_stall(struct svff_ctx *ctx, const char *kind, const char *step);
/*
 * SVFF_FAULT_STEP=reboot:STEP: at STEP the machine reboots at once, without syncing or
 * unmounting anything, as at a power loss (sysrq 'b'; reboot(2) if that fails). Returns
 * only when STEP is not the one named, or in a build without fault injection.
 */
void fault_reboot(struct svff_ctx *ctx, const char *step);
