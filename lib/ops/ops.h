/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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

/* journal.c: what an interrupted svff-reconf leaves for svff-reattach to finish. */
struct reconf_journal {
	char pf[SVFF_BDF_SIZE];
	unsigned from_numvfs;
	unsigned to_numvfs;
	char step[32];
};

int journal_save(struct svff_ctx *ctx, const struct reconf_journal *journal);
int journal_parse(const char *text, size_t size, const char *pf,
		  struct reconf_journal *ret_journal);
int journal_load(struct svff_ctx *ctx, const char *pf, struct reconf_journal *ret_journal);
int journal_remove(struct svff_ctx *ctx, const char *pf);
/* Put numvfs back where an interrupted reconfiguration left it at 0; drop its journal. */
int journal_recover(struct svff_ctx *ctx, const char *pf);
