/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "journal.h"
#include "target.h"
#include "virt.h"

/* The work of svff-detach and svff-reattach, for callers that hold the locks already. */
/*
 * whole_plan_only: nothing is detached when any selected VF cannot be (svff-reconf);
 * ret_started (may be NULL): whether any VF was set to leave its domain.
 */
int detach_target(struct svff_ctx *ctx, struct virt *virt, const struct target *target,
		  enum svff_mode mode, bool whole_plan_only, bool *ret_started);
int reattach_target(struct svff_ctx *ctx, struct virt *virt, const struct target *target);

typedef int (*target_op)(struct svff_ctx *ctx, struct virt *virt, const struct target *target);
int run_with_locks(struct svff_ctx *ctx, const struct svff_selector *selector,
		   bool require_selector, target_op op);

/* Drop the hook's assignments on the PF that the domains' live XML no longer has. */
int assignments_sync(struct svff_ctx *ctx, const char *pf,
		     const struct domain_devices *domains, size_t n_domains);
