/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff-internal.h"

/* A selector resolved against sysfs: which PFs, which VF index, which domain. */
struct target {
	enum lock_scope scope;
	char (*pfs)[SVFF_BDF_SIZE];
	size_t n_pfs;
	bool all_pfs; /* no PF or VF given: records of vanished PFs match too */
	bool has_vf;
	unsigned vf_index; /* of pfs[0] */
	const char *domain; /* name or UUID, as given */
};

int target_resolve(struct svff_ctx *ctx, const struct svff_selector *selector,
		   bool require_one, struct target *ret_target);
void target_done(struct target *target);
bool target_matches(const struct target *target, const char *pf, unsigned vf_index,
		    const char *domain_name, const char *domain_uuid);
