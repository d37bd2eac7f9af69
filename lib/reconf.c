/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "pause.h"
#include "program.h"

struct reconf {
	struct svff_ctx *ctx;
	const struct svff_reconf_request *request;
	struct virt *virt;
	struct target target;
	struct pf_info *pf; /* as it was before */
	struct reconf_journal journal;
};

static usec_t deadline_of(const struct reconf *rc)
{
	return now_usec() + (usec_t)rc->ctx->timeout_ms * 1000ULL;
}

static void report(const struct reconf *rc, const char *step, usec_t start, int r)
{
	double seconds = seconds_since(start);

	if (rc->ctx->json)
		svff_log(rc->ctx, SVFF_LOG_DATA,
			 "{\"pf\":\"%s\",\"step\":\"%s\",\"seconds\":%.3f,\"ok\":%s,\"errno\":%d}",
			 rc->pf->bdf, step, seconds, r >= 0 ? "true" : "false", r < 0 ? -r : 0);
	else
		log_info(rc->ctx, "PF '%s': %s %s in %.2f s", rc->pf->bdf, step,
			 r >= 0 ? "done" : r == -ENXIO ? "done, orphaned VFs recorded" : "FAILED",
			 seconds);
}

/* Test builds stop dead before a named step, as a crash or SIGKILL would. */
static void fault_point(const struct reconf *rc, const char *step)
{
#ifdef SVFF_FAULT_INJECTION
	if (rc->ctx->fault_step && strcmp(rc->ctx->fault_step, step) == 0)
		raise(SIGKILL);
#endif
}

/* Written ahead of every step that changes the host, for svff-reattach after a crash. */
static int enter_step(struct reconf *rc, const char *step)
{
	fault_point(rc, step);
	snprintf(rc->journal.step, sizeof(rc->journal.step), "%s", step);
	return rc->ctx->dry_run ? 0 : journal_save(rc->ctx, &rc->journal);
}

static int validate(struct reconf *rc)
{
	const struct svff_reconf_request *req = rc->request;
	char path[PATH_MAX], bdf[SVFF_BDF_SIZE];
	int r;

	if (svff_bdf_parse(req->pf, bdf) < 0)
		return log_errno(rc->ctx, -EINVAL,
				 "'%s' is not a PCI address; expected dddd:bb:ss.f", req->pf);
	r = sysfs_pf_load(rc->ctx, bdf, &rc->pf);
	if (r < 0)
		return r;
	if (!rc->pf->driver[0])
		return log_errno(rc->ctx, -EUNATCH,
				 "PF '%s' has no driver bound, and only its driver can change "
				 "sriov_numvfs; bind the PF to its driver first",
				 rc->pf->bdf);
	if (req->numvfs > rc->pf->totalvfs)
		return log_errno(rc->ctx, -ERANGE,
				 "PF '%s' has at most %u VFs (sriov_totalvfs); give --numvfs %u "
				 "or less",
				 rc->pf->bdf, rc->pf->totalvfs, rc->pf->totalvfs);
	if (req->program)
		return program_check(rc->ctx, req->program[0], path, sizeof(path));
	return 0;
}

static const char *plan_action(bool pause, bool survives)
{
	if (pause)
		return survives ? "pause, then resume" : "pause, then stays paused (index >= numvfs)";
	return survives ? "detach, then back" : "detach, then orphaned (index >= numvfs)";
}

static void plan_domain(struct reconf *rc, const struct domain_devices *domain)
{
	bool pause = rc->request->mode != SVFF_MODE_DETACH &&
		     virt_supports_pause(rc->ctx, domain->dom);

	for (size_t i = 0; i < domain->n_devs; i++) {
		const struct vf_info *vf = pf_find_vf_by_bdf(rc->pf, domain->devs[i].source_bdf);

		if (vf)
			log_info(rc->ctx, "plan: domain '%s' VF %u (%s, guest %s): %s", domain->name,
				 vf->index, vf->bdf, domain->devs[i].guest_address,
				 plan_action(pause, vf->index < rc->request->numvfs));
	}
}

static int print_plan(struct reconf *rc)
{
	struct domain_devices *domains;
	size_t n;
	int r = virt_running_domains(rc->ctx, rc->virt, &domains, &n);

	if (r < 0)
		return r;
	log_info(rc->ctx, "plan: PF '%s' numvfs %u -> %u%s%s", rc->pf->bdf, rc->pf->numvfs,
		 rc->request->numvfs, rc->request->program ? ", running " : "",
		 rc->request->program ? rc->request->program[0] : "");
	for (size_t d = 0; d < n; d++)
		plan_domain(rc, &domains[d]);
	domain_devices_free(domains, n);
	return 0;
}

/* The process that still has a VF's /dev/vfio/N open, named for the user. */
static int check_no_holder(struct reconf *rc)
{
	_cleanup_(pf_info_freep) struct pf_info *now = NULL;
	int r = sysfs_pf_load(rc->ctx, rc->pf->bdf, &now);

	for (size_t i = 0; r == 0 && i < now->n_vfs; i++) {
		pid_t pid;

		if (vfio_group_holder(rc->ctx, now->vfs[i].iommu_group, &pid) > 0)
			r = log_errno(rc->ctx, -ETXTBSY,
				      "VF '%s' of PF '%s' is still held by process %d (/dev/vfio/%d); "
				      "numvfs cannot change: stop that process or detach the VF",
				      now->vfs[i].bdf, rc->pf->bdf, (int)pid, now->vfs[i].iommu_group);
	}
	return r;
}

static int set_numvfs(struct reconf *rc, unsigned numvfs)
{
	int r = numvfs_write(rc->ctx, rc->pf->bdf, numvfs, deadline_of(rc));

	if (r == -ETIMEDOUT)
		return log_errno(rc->ctx, -ETXTBSY,
				 "writing numvfs %u to PF '%s' is blocked: a VF is still held; "
				 "svff-reattach finishes the job once it is released",
				 numvfs, rc->pf->bdf);
	if (r < 0) {
		errno = -r;
		return log_errno(rc->ctx, -ERANGE, "PF '%s' refused numvfs %u: %m", rc->pf->bdf,
				 numvfs);
	}
	return numvfs > 0 ? vfs_wait_ready(rc->ctx, rc->pf->bdf, numvfs, deadline_of(rc)) : 0;
}

static int rollback(struct reconf *rc, int error)
{
	usec_t start = now_usec();
	int r;

	log_warning(rc->ctx, "PF '%s': rolling back to %u VFs", rc->pf->bdf,
		    rc->journal.from_numvfs);
	r = set_numvfs(rc, 0);
	if (r == 0 && rc->journal.from_numvfs > 0)
		r = set_numvfs(rc, rc->journal.from_numvfs);
	if (r == 0)
		r = reattach_target(rc->ctx, rc->virt, &rc->target);
	if (r == 0)
		r = journal_remove(rc->ctx, rc->pf->bdf);
	report(rc, "rollback", start, r);
	return error;
}

typedef int (*step_fn)(struct reconf *rc);

static int step_detach(struct reconf *rc)
{
	int r = detach_target(rc->ctx, rc->virt, &rc->target, rc->request->mode);

	return r < 0 ? r : check_no_holder(rc);
}

static int step_disable(struct reconf *rc)
{
	return set_numvfs(rc, 0);
}

static int step_program(struct reconf *rc)
{
	if (!rc->request->program)
		return 0;
	return program_run(rc->ctx, rc->request->program, rc->pf->bdf, rc->request->numvfs,
			   deadline_of(rc));
}

static int step_enable(struct reconf *rc)
{
	return rc->request->numvfs > 0 ? set_numvfs(rc, rc->request->numvfs) : 0;
}

static int step_reattach(struct reconf *rc)
{
	return reattach_target(rc->ctx, rc->virt, &rc->target);
}

static const struct {
	const char *name;
	step_fn run;
} steps[] = {
	{ "detach", step_detach },   { "disable", step_disable }, { "program", step_program },
	{ "enable", step_enable },   { "reattach", step_reattach },
};

static int run_steps(struct reconf *rc)
{
	for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
		usec_t start = now_usec();
		int r = enter_step(rc, steps[i].name);

		if (r == 0)
			r = steps[i].run(rc);
		report(rc, steps[i].name, start, r);
		if (r == -ETXTBSY && strcmp(steps[i].name, "disable") == 0)
			return r; /* a blocked write cannot be undone; svff-reattach finishes */
		if (r < 0 && strcmp(steps[i].name, "reattach") != 0)
			return rollback(rc, r);
		if (r < 0) {
			/* The PF is reconfigured: orphans and late failures stay in their records. */
			journal_remove(rc->ctx, rc->pf->bdf);
			return r;
		}
	}
	return journal_remove(rc->ctx, rc->pf->bdf);
}

static int refuse_unfinished(struct reconf *rc)
{
	struct reconf_journal earlier;

	if (journal_load(rc->ctx, rc->pf->bdf, &earlier) == -ENOENT)
		return 0;
	return log_errno(rc->ctx, -EEXIST,
			 "an earlier reconfiguration of PF '%s' was interrupted at step '%s'; "
			 "run svff-reattach --pf %s first",
			 rc->pf->bdf, earlier.step, rc->pf->bdf);
}

static int reconf_locked(struct reconf *rc)
{
	int r = refuse_unfinished(rc);

	if (r == 0)
		r = print_plan(rc);
	if (r < 0 || rc->ctx->dry_run)
		return r;
	rc->journal = (struct reconf_journal){ .from_numvfs = rc->pf->numvfs,
					       .to_numvfs = rc->request->numvfs };
	snprintf(rc->journal.pf, sizeof(rc->journal.pf), "%s", rc->pf->bdf);
	return run_steps(rc);
}

_public_ int svff_reconf(struct svff_ctx *ctx, const struct svff_reconf_request *request)
{
	struct reconf rc = { .ctx = ctx, .request = request };
	struct svff_selector selector = { .pf = request->pf };
	struct op_lock lock = { .global_fd = -EBADF };
	usec_t start = now_usec();
	int r;

	r = validate(&rc);
	if (r == 0)
		r = target_resolve(ctx, &selector, true, &rc.target);
	if (r == 0)
		r = state_prepare(ctx);
	if (r == 0)
		r = op_lock_acquire(ctx, LOCK_SCOPE_ONE_PF, rc.pf->bdf, &lock);
	if (r == 0)
		r = virt_open(ctx, &rc.virt);
	if (r == 0)
		r = reconf_locked(&rc);
	if (rc.pf && !ctx->dry_run && r != -EBUSY)
		report(&rc, "reconfiguration", start, r);
	virt_close(rc.virt);
	op_lock_release(&lock);
	target_done(&rc.target);
	pf_info_free(rc.pf);
	return r;
}
