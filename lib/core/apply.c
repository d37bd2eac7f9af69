/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "drift.h"

/*
 * svff-apply: make each managed PF match svff.conf (after an interrupted
 * reconfiguration, what its journal says first). No libvirt: at boot it runs before
 * libvirtd, so that the domains libvirt autostarts find their VFs.
 */

static unsigned seconds_left(usec_t deadline)
{
	usec_t now = now_usec();

	return now >= deadline ? 0 : (unsigned)((deadline - now) / 1000000ULL);
}

/*
 * At boot the PF's driver loads asynchronously, and only its driver can create VFs: wait
 * for the PF to be there with a driver bound, in slices, so that a signal is noticed.
 */
static int wait_pf_driver(struct svff_ctx *ctx, const char *pf)
{
	usec_t deadline = deadline_from_now(ctx, pf, DEADLINE_READY), slice;
	bool said = false;

	for (;;) {
		if (sysfs_has_driver(ctx, pf, NULL))
			return 0;
		if (!said)
			log_info(ctx, "PF '%s': waiting up to %u s for it to have its driver bound",
				 pf, seconds_left(deadline) + 1);
		said = true;
		interrupt_say_waiting(ctx, "the PF's driver");
		if (svff_interrupted(ctx))
			return -EINTR;
		if (now_usec() >= deadline)
			return log_errno(ctx, -EINPROGRESS,
					 "PF '%s' has no driver bound after %u s (%s): its VFs cannot "
					 "be created; svff.conf was not applied to it: load the PF's "
					 "driver, then run svff-apply --pf %s",
					 pf, deadline_seconds(ctx, pf, DEADLINE_READY),
					 deadline_option(DEADLINE_READY), pf);
		slice = now_usec() + 1000000ULL;
		sysfs_wait_driver(ctx, pf, NULL, slice < deadline ? slice : deadline);
	}
}

static void print_plan(struct svff_ctx *ctx, const struct pf_drift *d)
{
	char text[256];

	for (size_t i = 0; i < d->n_items; i++) {
		drift_item_text(&d->items[i], text, sizeof(text));
		log_info(ctx, "plan: PF '%s': %s", d->conf->bdf, text);
	}
}

/* numvfs cannot change under a running domain: svff-reconf moves its VFs out and back. */
static int refuse_in_use(struct svff_ctx *ctx, const struct pf_drift *d)
{
	if (d->has_journal)
		return log_errno(ctx, -ETXTBSY,
				 "PF '%s': VF '%s' is in use by %s, so numvfs cannot go back from "
				 "%u to %u here; nothing was changed on this PF: run svff-reattach "
				 "--pf %s, which finishes the interrupted reconfiguration with the "
				 "running domains",
				 d->conf->bdf, d->in_use_vf, d->in_use_by, d->pf->numvfs, d->numvfs,
				 d->conf->bdf);
	return log_errno(ctx, -ETXTBSY,
			 "PF '%s': VF '%s' is in use by %s, so numvfs cannot change from %u to "
			 "%u here; nothing was changed on this PF: use svff-reconf --pf %s "
			 "--numvfs %u, which takes the VFs from their domains and gives them back",
			 d->conf->bdf, d->in_use_vf, d->in_use_by, d->pf->numvfs, d->numvfs,
			 d->conf->bdf, d->numvfs);
}

static int check_possible(struct svff_ctx *ctx, const struct pf_drift *d)
{
	if (!pf_drift_changes_numvfs(d))
		return 0;
	if (d->in_use_vf[0])
		return refuse_in_use(ctx, d);
	if (d->numvfs > d->pf->totalvfs)
		return log_errno(ctx, -ERANGE,
				 "PF '%s' has at most %u VFs (sriov_totalvfs), and %s asks for %u; "
				 "fix numvfs= in %s",
				 d->conf->bdf, d->pf->totalvfs,
				 d->has_journal ? "its journal" : "svff.conf", d->numvfs,
				 ctx->conf_file);
	return 0;
}

static int write_numvfs(struct svff_ctx *ctx, const char *pf, unsigned numvfs)
{
	int r;

	if (numvfs > 0)
		return numvfs_write_ready(ctx, pf, numvfs);
	r = numvfs_write(ctx, pf, 0, deadline_from_now(ctx, pf, DEADLINE_RELEASE), NULL);
	if (r == -ETIMEDOUT)
		return log_errno(ctx, -ETXTBSY,
				 "PF '%s': the write of numvfs 0 is still blocked after %u s (%s): "
				 "a VF is held; it completes once the VF is let go: then run "
				 "svff-apply --pf %s again",
				 pf, deadline_seconds(ctx, pf, DEADLINE_RELEASE),
				 deadline_option(DEADLINE_RELEASE), pf);
	return r;
}

/* The kernel takes a new non-zero count only from 0. */
static int set_numvfs(struct svff_ctx *ctx, const struct pf_drift *d)
{
	int r = 0;

	if (d->pf->numvfs > 0 && d->numvfs > 0)
		r = write_numvfs(ctx, d->conf->bdf, 0);
	if (r == 0)
		r = write_numvfs(ctx, d->conf->bdf, d->numvfs);
	if (r < 0 && r != -EINPROGRESS && r != -ETXTBSY && r != -EINTR) {
		errno = -r;
		r = log_errno(ctx, -ERANGE, "PF '%s' refused numvfs %u: %m", d->conf->bdf,
			      d->numvfs);
	}
	return r;
}

/* numvfs unchanged: bind what is on another driver, and wait until each is ready. */
static int fix_drivers(struct svff_ctx *ctx, const struct pf_drift *d)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < d->n_wrong_driver; i++) {
		const char *vf = d->wrong_driver[i].vf;

		r = sysfs_bind_driver(ctx, vf, d->conf->driver,
				      deadline_from_now(ctx, d->conf->bdf, DEADLINE_RELEASE));
		if (r == 0)
			r = vf_wait_ready(ctx, d->conf->bdf, vf,
					  deadline_from_now(ctx, d->conf->bdf, DEADLINE_READY));
	}
	return r;
}

static int change(struct svff_ctx *ctx, const struct pf_drift *d)
{
	int r = pf_apply_autoprobe(ctx, d->conf->bdf);

	if (r == 0 && pf_drift_changes_numvfs(d))
		r = set_numvfs(ctx, d);
	else if (r == 0)
		r = fix_drivers(ctx, d);
	/* numvfs is what the journal said (ready or not yet): its job is done. */
	if (d->has_journal && (r == 0 || r == -EINPROGRESS) && journal_remove(ctx, d->conf->bdf) < 0)
		r = -EIO;
	return r;
}

static int apply_locked(struct svff_ctx *ctx, const struct managed_pf *conf)
{
	struct drift_snapshot snap;
	struct pf_drift d;
	usec_t start = now_usec();
	int r;

	drift_snapshot_load(ctx, &snap);
	r = pf_drift_load(ctx, &snap, conf, &d);
	drift_snapshot_done(&snap);
	if (r < 0)
		return r;
	if (d.n_items == 0) {
		log_event(ctx, SVFF_LOG_INFO, PF_APPLIED,
			  "PF '%s' matches svff.conf (numvfs %u, VFs on %s)", conf->bdf,
			  d.pf->numvfs, conf->driver);
		pf_drift_done(&d);
		return 0;
	}
	print_plan(ctx, &d);
	r = check_possible(ctx, &d);
	if (r == 0 && !d.pf) {
		char text[256];

		drift_item_text(&d.items[0], text, sizeof(text));
		r = log_errno(ctx, -EINPROGRESS, "PF '%s' cannot be set up now (%s); run svff-apply "
			      "--pf %s again once it can", conf->bdf, text, conf->bdf);
	}
	if (r == 0 && !ctx->dry_run) {
		r = change(ctx, &d);
		if (r == 0)
			log_event(ctx, SVFF_LOG_INFO, PF_APPLIED, "PF '%s': svff.conf applied in %.2f s",
				  conf->bdf, seconds_since(start));
		else
			log_info(ctx, "PF '%s': svff.conf %s in %.2f s", conf->bdf,
				 r == -EINPROGRESS ? "applied, VFs not ready yet" : "NOT applied",
				 seconds_since(start));
	}
	pf_drift_done(&d);
	return r;
}

static int apply_pf(struct svff_ctx *ctx, const struct managed_pf *conf)
{
	struct op_lock lock = { .global_fd = -EBADF };
	int r = 0;

	LOG_SCOPE(conf->bdf, NULL, NULL, NULL);
	/* A dry run waits for nothing and locks nothing: it only reads. */
	if (!ctx->dry_run)
		r = wait_pf_driver(ctx, conf->bdf);
	if (r == 0 && !ctx->dry_run)
		r = op_lock_acquire(ctx, LOCK_SCOPE_ONE_PF, conf->bdf, &lock);
	if (r == 0)
		r = apply_locked(ctx, conf);
	op_lock_release(&lock);
	return r;
}

/* The first failure is the result; a corrupt record (reported, left alone) the last. */
static int merge(int result, int r)
{
	return result < 0 ? result : r;
}

static int select_pfs(struct svff_ctx *ctx, const struct svff_conf *conf, const char *pf,
		      const struct managed_pf **ret_one)
{
	char bdf[SVFF_BDF_SIZE];

	*ret_one = NULL;
	if (!pf)
		return 0;
	if (svff_bdf_parse(pf, bdf) < 0)
		return log_errno(ctx, -EINVAL, "'%s' is not a PCI address; expected dddd:bb:ss.f",
				 pf);
	*ret_one = conf_find_pf(conf, bdf);
	if (!*ret_one)
		return log_errno(ctx, -EINVAL,
				 "PF '%s' is not listed in %s, so svff-apply has nothing to apply "
				 "to it; add a [%s] group there first",
				 bdf, ctx->conf_file, bdf);
	return 0;
}

/* Leftovers of writes a power loss cut short, and corrupt records, which stay. */
static int tidy_state(struct svff_ctx *ctx)
{
	struct record **records = NULL;
	size_t n = 0;
	int r;

	store_clean_temp(ctx, STORE_RECORDS);
	store_clean_temp(ctx, STORE_JOURNAL);
	r = records_load_all(ctx, STORE_RECORDS, &records, &n);
	if (n > 0)
		log_info(ctx, "%zu record(s) of VFs taken from domains are kept: each is resolved "
			 "when its domain starts, or svff-reattach gives the VF back to a domain "
			 "that runs (see svff-status)", n);
	records_free(records, n);
	return r;
}

_public_ int svff_apply(struct svff_ctx *ctx, const char *pf)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	const struct managed_pf *one = NULL;
	int r = conf_load(ctx, ctx->conf_file, &conf), result = 0;

	if (r == 0)
		r = select_pfs(ctx, conf, pf, &one);
	if (r == 0)
		r = ctx->dry_run ? state_verify(ctx) : state_prepare(ctx);
	if (r < 0)
		return r;
	if (conf->n_pfs == 0)
		log_info(ctx, "%s lists no PF: nothing to apply", ctx->conf_file);
	for (size_t i = 0; i < conf->n_pfs; i++) {
		if (one && one != &conf->pfs[i])
			continue;
		if (svff_interrupted(ctx))
			return merge(result, -EINTR);
		result = merge(result, apply_pf(ctx, &conf->pfs[i]));
	}
	return merge(result, ctx->dry_run ? 0 : tidy_state(ctx));
}
