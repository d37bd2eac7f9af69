/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ops.h"

/* Resolve the selector, take the state directory and its locks, connect, then op. */
int run_with_locks(struct svff_ctx *ctx, const struct svff_selector *selector,
		   bool require_selector, target_op op)
{
	struct target target = { 0 };
	struct op_lock lock = { .global_fd = -EBADF };
	_cleanup_(virt_closep) struct virt *virt = NULL;
	int r;

	r = target_resolve(ctx, selector, require_selector, &target);
	/* One PF selected (--pf, --vf): what is said is about it. */
	LOG_SCOPE(r == 0 && target.n_pfs == 1 && !target.all_pfs ? target.pfs[0] : NULL, NULL,
		  NULL, NULL);
	if (r == 0)
		r = state_prepare(ctx);
	if (r == 0)
		r = op_lock_acquire(ctx, target.scope, target.n_pfs ? target.pfs[0] : NULL, &lock);
	if (r == 0)
		r = virt_open(ctx, &virt);
	if (r == 0)
		r = op(ctx, virt, &target);
	op_lock_release(&lock);
	target_done(&target);
	return r;
}
