/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "target.h"

static int count_selected(const struct svff_selector *selector)
{
	return !!selector->pf + !!selector->vf + !!selector->domain;
}

static int single_pf(struct target *target, const char *pf)
{
	target->pfs = calloc(1, sizeof(*target->pfs));
	if (!target->pfs)
		return -ENOMEM;
	snprintf(target->pfs[0], SVFF_BDF_SIZE, "%s", pf);
	target->n_pfs = 1;
	target->scope = LOCK_SCOPE_ONE_PF;
	return 0;
}

static int resolve_pf(struct svff_ctx *ctx, const char *text, struct target *target)
{
	char bdf[SVFF_BDF_SIZE];
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;
	int r;

	if (svff_bdf_parse(text, bdf) < 0)
		return log_errno(ctx, -EINVAL, "'%s' is not a PCI address; expected dddd:bb:ss.f",
				 text);
	r = sysfs_pf_load(ctx, bdf, &pf);
	return r < 0 ? r : single_pf(target, bdf);
}

static int resolve_vf(struct svff_ctx *ctx, const char *text, struct target *target)
{
	char bdf[SVFF_BDF_SIZE], pf[SVFF_BDF_SIZE];
	int r;

	if (svff_bdf_parse(text, bdf) < 0)
		return log_errno(ctx, -EINVAL, "'%s' is not a PCI address; expected dddd:bb:ss.f",
				 text);
	r = sysfs_vf_parent(ctx, bdf, pf, &target->vf_index);
	if (r < 0)
		return r;
	target->has_vf = true;
	return single_pf(target, pf);
}

int target_resolve(struct svff_ctx *ctx, const struct svff_selector *selector,
		   bool require_one, struct target *ret_target)
{
	struct target target = { .scope = LOCK_SCOPE_ALL_PFS };
	int n = count_selected(selector), r;

	if (n > 1 || (require_one && n == 0))
		return log_errno(ctx, -EINVAL, "give exactly one of --pf, --vf or --domain");
	if (selector->pf)
		r = resolve_pf(ctx, selector->pf, &target);
	else if (selector->vf)
		r = resolve_vf(ctx, selector->vf, &target);
	else {
		target.all_pfs = true;
		r = sysfs_pf_list(ctx, &target.pfs, &target.n_pfs);
	}
	target.domain = selector->domain;
	if (r < 0) {
		target_done(&target);
		return r;
	}
	*ret_target = target;
	return 0;
}

void target_done(struct target *target)
{
	free(target->pfs);
	target->pfs = NULL;
	target->n_pfs = 0;
}

static bool has_pf(const struct target *target, const char *pf)
{
	if (target->all_pfs)
		return true;
	for (size_t i = 0; i < target->n_pfs; i++)
		if (strcmp(target->pfs[i], pf) == 0)
			return true;
	return false;
}

bool target_matches(const struct target *target, const char *pf, unsigned vf_index,
		    const char *domain_name, const char *domain_uuid)
{
	if (target->has_vf && vf_index != target->vf_index)
		return false;
	if (target->domain && strcmp(target->domain, domain_name) != 0 &&
	    strcasecmp(target->domain, domain_uuid) != 0)
		return false;
	return has_pf(target, pf);
}
