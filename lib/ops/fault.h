/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff-internal.h"

/*
 * Test builds (-Dfault_injection=true) take SVFF_FAULT_STEP=KIND[STEP] to make svff fail
 * or stall at a chosen point, so the test bed can prove what happens then. Elsewhere
 * always false.
 */
bool fault_is(const struct svff_ctx *ctx, const char *kind, const char *step);
void fault_stall(struct svff_ctx *ctx, const char *kind, const char *step);
