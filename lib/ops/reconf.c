/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "ops.h"
#include "pause.h"
#include "program.h"
#include "fault.h"

struct reconf {
	struct svff_ctx *ctx;
	const struct svff_reconf_request *request;
	struct virt *virt;
	struct target target;
	struct pf_info *pf; /* as it was before */
	struct reconf_journal journal;
	struct domain_devices *domains; /* running, as planned */
	size_t n_domains;
	bool detach_started; /* VFs may have left their domains: undo gives them back */
	bool numvfs_touched; /* a numvfs write was started: undo must restore numvfs */
	bool write_blocked;  /* one is still blocked in the kernel: nothing can be undone */
};

/* What a report marks: a step done or failed, the rollback, the whole reconfiguration. */
static enum log_event report_event(const char *step, int r)
{
	if (strcmp(step, "reconfiguration") == 0)
		return r >= 0 ? LOG_EVENT_RECONF_DONE : LOG_EVENT_RECONF_FAILED;
	if (strcmp(step, "rollback") == 0 && r >= 0)
		return LOG_EVENT_RECONF_ROLLED_BACK;
	return r >= 0 ? LOG_EVENT_RECONF_STEP_DONE : LOG_EVENT_RECONF_STEP_FAILED;
}

/*
 * With --json the terminal gets a JSON line, the journal the same words either way. The
 * line splits the wall time into svff's own CPU time and the time it waited.
 */
static void report(const struct reconf *rc, const char *step, const struct cost_mark *start,
		   int r)
{
	struct cost cost;
	double seconds;

	cost_since(start, &cost);
	seconds = cost.seconds;
	if (rc->ctx->json)
		svff_log(rc->ctx, SVFF_LOG_DATA,
			 "{\"pf\":\"%s\",\"step\":\"%s\",\"seconds\":%.3f,\"cpu_seconds\":%.3f,"
			 "\"children_cpu_seconds\":%.3f,\"wait_seconds\":%.3f,\"ok\":%s,\"errno\":%d}",
			 rc->pf->bdf, step, seconds, cost.cpu_seconds, cost.children_cpu_seconds,
			 cost.wait_seconds, r >= 0 ? "true" : "false", r < 0 ? -r : 0);
	svff_log_full(rc->ctx, SVFF_LOG_INFO, report_event(step, r), r < 0 ? r : 0,
		      rc->ctx->json ? LOG_TO_JOURNAL : LOG_TO_BOTH, "PF '%s': %s %s in %.2f s",
		      rc->pf->bdf, step,
		      r >= 0		? "done"
		      : r == -ENXIO	? "done, orphaned VFs recorded"
		      : r == -ETIMEDOUT ? "done but for a guest that has not let go"
		      : r == -EINTR	? "interrupted"
					: "FAILED",
		      seconds);
}

/*
 * Test builds: SIGKILL before a named step, as a crash would, SIGTERM, as an admin, or a
 * stall there, as a slow step, for what races with it.
 */
static void fault_point(const struct reconf *rc, const char *step)
{
	if (fault_is(rc->ctx, "", step))
		raise(SIGKILL);
	if (fault_is(rc->ctx, "term:", step))
		raise(SIGTERM);
}

/*
 * Written ahead of every step that changes the host, for svff-reattach (or svff-apply at
 * boot) after a crash. Test builds: reboot:STEP reboots once the journal says STEP.
 */
static int enter_step(struct reconf *rc, const char *step)
{
	int r;

	fault_point(rc, step);
	snprintf(rc->journal.step, sizeof(rc->journal.step), "%s", step);
	r = rc->ctx->dry_run ? 0 : journal_save(rc->ctx, &rc->journal);
	if (r == 0 && !rc->ctx->dry_run)
		fault_reboot(rc->ctx, step);
	fault_stall(rc->ctx, "stall:", step);
	return r;
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

		LOG_SCOPE(NULL, vf ? vf->bdf : NULL, domain->name, NULL);

		if (vf)
			log_info(rc->ctx, "plan: domain '%s' VF %u (%s, guest %s): %s", domain->name,
				 vf->index, vf->bdf, domain->devs[i].guest_address,
				 plan_action(pause, vf->index < rc->request->numvfs));
	}
}

static int print_plan(struct reconf *rc)
{
	int r = virt_running_domains(rc->ctx, rc->virt, &rc->domains, &rc->n_domains);

	if (r < 0)
		return r;
	log_info(rc->ctx, "plan: PF '%s' numvfs %u -> %u%s%s", rc->pf->bdf, rc->pf->numvfs,
		 rc->request->numvfs, rc->request->program ? ", running " : "",
		 rc->request->program ? rc->request->program[0] : "");
	for (size_t d = 0; d < rc->n_domains; d++)
		plan_domain(rc, &rc->domains[d]);
	return 0;
}

static bool in_a_domain(const struct reconf *rc, const char *bdf)
{
	for (size_t d = 0; d < rc->n_domains; d++)
		if (hostdevs_find_source(rc->domains[d].devs, rc->domains[d].n_devs, bdf))
			return true;
	return false;
}

/* A VF held by a process outside libvirt cannot be taken away: refuse before acting. */
static int check_holders_outside_libvirt(struct reconf *rc)
{
	struct vfio_holders holders = { 0 };
	int r;

	if (fault_is(rc->ctx, "no-holder-check", NULL))
		return 0;
	/* One walk of /proc for every VF of the PF. */
	r = vfio_holders_scan(rc->ctx, &holders);
	if (r < 0)
		return r;
	for (size_t i = 0; i < rc->pf->n_vfs; i++) {
		const struct vf_info *vf = &rc->pf->vfs[i];
		struct vfio_holder holder;

		if (!vfio_holders_find(&holders, vf->iommu_group, vf->vfio_device, &holder) ||
		    in_a_domain(rc, vf->bdf))
			continue;
		r = log_errno(rc->ctx, -ETXTBSY,
			      "VF '%s' of PF '%s' is held by process %d (%s), which is no "
			      "running domain's; numvfs cannot change: stop that process; nothing "
			      "was changed",
			      vf->bdf, rc->pf->bdf, (int)holder.pid, holder.node);
	}
	vfio_holders_done(&holders);
	return r;
}

/* Holders are named, and nothing written, while any VF of the PF is held. */
static int check_not_held_now(struct reconf *rc)
{
	_cleanup_(pf_info_freep) struct pf_info *now = NULL;
	int r;

	if (fault_is(rc->ctx, "no-holder-check", NULL))
		return 0;
	r = sysfs_pf_load(rc->ctx, rc->pf->bdf, &now);
	return r < 0 ? r : pf_check_not_held(rc->ctx, now);
}

static int report_blocked_write(struct reconf *rc, unsigned numvfs, pid_t writer)
{
	_cleanup_(pf_info_freep) struct pf_info *now = NULL;

	rc->write_blocked = true;
	/* Reading numvfs would block on the write too: only the layout is loaded. */
	if (sysfs_pf_load_layout(rc->ctx, rc->pf->bdf, &now) == 0)
		log_error(rc->ctx, "PF '%s': the write of numvfs %u (process %d) is still blocked "
			  "after %u s (%s); a VF is still held:", rc->pf->bdf, numvfs, (int)writer,
			  deadline_seconds(rc->ctx, rc->pf->bdf, DEADLINE_RELEASE),
			  deadline_option(DEADLINE_RELEASE));
	pf_check_not_held(rc->ctx, rc->pf);
	return log_errno(rc->ctx, -ETXTBSY,
			 "svff's locks are released; the write completes once the VF is let go; "
			 "then run svff-reattach --pf %s to put numvfs back and give every VF back",
			 rc->pf->bdf);
}

/* numvfs 0, or N with its VFs ready for guests; each with its own deadline. */
static int set_numvfs(struct reconf *rc, unsigned numvfs)
{
	enum deadline_kind kind = numvfs == 0 ? DEADLINE_RELEASE : DEADLINE_READY;
	struct ready_watch watch = { 0 };
	pid_t writer = 0;
	int r = check_not_held_now(rc);

	if (r == 0 && numvfs > 0)
		r = ready_watch_begin(rc->ctx, &watch);
	if (r < 0)
		return r;
	rc->numvfs_touched = true;
	r = numvfs_write(rc->ctx, rc->pf->bdf, numvfs,
			 deadline_from_now(rc->ctx, rc->pf->bdf, kind), &writer);
	if (r == -ETIMEDOUT)
		r = report_blocked_write(rc, numvfs, writer);
	else if (r < 0) {
		errno = -r;
		r = log_errno(rc->ctx, -ERANGE, "PF '%s' refused numvfs %u: %m", rc->pf->bdf,
			      numvfs);
	} else if (numvfs > 0)
		r = vfs_wait_ready(rc->ctx, &watch, rc->pf->bdf, numvfs,
				   deadline_from_now(rc->ctx, rc->pf->bdf, DEADLINE_READY));
	ready_watch_end(&watch);
	return r;
}

/* Records of VFs that wait for readiness say so; svff-reattach gives them back later. */
static void mark_not_ready(struct reconf *rc)
{
	struct record **records = NULL;
	size_t n = 0;

	records_load_all(rc->ctx, STORE_RECORDS, &records, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(records[i]->pf, rc->pf->bdf) == 0 &&
		    records[i]->phase == PHASE_DETACHED) {
			records[i]->phase = PHASE_NOT_READY;
			record_save(rc->ctx, STORE_RECORDS, records[i]);
		}
	records_free(records, n);
}

/* numvfs back where it was, unless a VF is held: then holders are named, nothing written. */
static int restore_numvfs(struct reconf *rc)
{
	_cleanup_(pf_info_freep) struct pf_info *now = NULL;
	int r = sysfs_pf_load(rc->ctx, rc->pf->bdf, &now);

	if (r < 0 || now->numvfs == rc->journal.from_numvfs)
		return r;
	if (now->numvfs > 0)
		r = set_numvfs(rc, 0);
	if (r == 0 && rc->journal.from_numvfs > 0)
		r = set_numvfs(rc, rc->journal.from_numvfs);
	return r;
}

/*
 * Undo exactly what ran: numvfs only if it was touched, then every VF back. Signals
 * no longer stop it; each one makes the waits say what they wait for.
 */
static int rollback(struct reconf *rc, int error)
{
	struct cost_mark start;
	int r = 0;

	cost_mark_now(&start);
	LOG_SCOPE(NULL, NULL, NULL, "rollback");
	rc->ctx->finishing = true;
	if (rc->write_blocked)
		return error; /* the kernel finishes the write; svff-reattach the rest */
	log_warning(rc->ctx, "PF '%s': rolling back%s", rc->pf->bdf,
		    rc->numvfs_touched ? ", numvfs first" : "; numvfs was not touched");
	if (rc->numvfs_touched)
		r = restore_numvfs(rc);
	if (r == -EINPROGRESS)
		mark_not_ready(rc);
	/* numvfs is as it was: what is left to do is in the records. */
	if (r == 0 || r == -EINPROGRESS)
		journal_remove(rc->ctx, rc->pf->bdf);
	if (r == 0 && rc->detach_started)
		r = reattach_target(rc->ctx, rc->virt, &rc->target);
	report(rc, "rollback", &start, r);
	rc->ctx->finishing = false;
	return error;
}

typedef int (*step_fn)(struct reconf *rc);

static int step_detach(struct reconf *rc)
{
	int r = check_holders_outside_libvirt(rc);

	if (r == 0)
		r = detach_target(rc->ctx, rc->virt, &rc->target, rc->request->mode, true,
				  &rc->detach_started);
	return r < 0 ? r : check_not_held_now(rc);
}

static int step_disable(struct reconf *rc)
{
	return set_numvfs(rc, 0);
}

static int step_program(struct reconf *rc)
{
	struct program_request req = {
		.argv = rc->request->program, .pf = rc->pf->bdf,
		.numvfs = rc->request->numvfs, .old_numvfs = rc->journal.from_numvfs,
		.deadline = deadline_from_now(rc->ctx, rc->pf->bdf, DEADLINE_PROGRAM),
	};

	return rc->request->program ? program_run(rc->ctx, &req) : 0;
}

static int step_enable(struct reconf *rc)
{
	return rc->request->numvfs > 0 ? set_numvfs(rc, rc->request->numvfs) : 0;
}

/* Giving VFs back is the way out: an interruption does not stop it. */
static int step_reattach(struct reconf *rc)
{
	int r;

	rc->ctx->finishing = true;
	r = reattach_target(rc->ctx, rc->virt, &rc->target);
	rc->ctx->finishing = false;
	return r;
}

static const struct {
	const char *name;
	step_fn run;
} steps[] = {
	{ "detach", step_detach },   { "disable", step_disable }, { "program", step_program },
	{ "enable", step_enable },   { "reattach", step_reattach },
};

/* The new VFs exist but are not ready: they wait in their records, not rolled back. */
static int keep_waiting_for_readiness(struct reconf *rc, int r)
{
	mark_not_ready(rc);
	snprintf(rc->journal.step, sizeof(rc->journal.step), "ready");
	journal_save(rc->ctx, &rc->journal);
	return r;
}

static int run_steps(struct reconf *rc)
{
	for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
		bool last = i + 1 == ELEMENTSOF(steps);
		struct cost_mark start;
		LOG_SCOPE(NULL, NULL, NULL, steps[i].name);
		int r;

		cost_mark_now(&start);
		r = enter_step(rc, steps[i].name);
		/* Past the last step's start the job is finished, not undone. */
		if (r == 0 && svff_interrupted(rc->ctx) && !last)
			r = -EINTR;
		if (r == 0)
			r = steps[i].run(rc);
		if (r == 0 && svff_interrupted(rc->ctx) && !last)
			r = -EINTR;
		report(rc, steps[i].name, &start, r);
		if (r == -EINPROGRESS && strcmp(steps[i].name, "enable") == 0)
			return keep_waiting_for_readiness(rc, r);
		if (r < 0 && !last)
			return rollback(rc, r);
		if (r < 0) {
			/* The PF is reconfigured: orphans and late failures stay in their records. */
			if (r == -EINPROGRESS)
				return keep_waiting_for_readiness(rc, r);
			journal_remove(rc->ctx, rc->pf->bdf);
			return r;
		}
	}
	return journal_remove(rc->ctx, rc->pf->bdf);
}

static int refuse_unfinished(struct reconf *rc)
{
	struct reconf_journal earlier;
	int r = journal_unfinished(rc->ctx, rc->pf->bdf, &earlier);

	if (r <= 0)
		return r;
	return log_errno(rc->ctx, -EEXIST,
			 "an earlier reconfiguration of PF '%s' was interrupted at step '%s'; "
			 "run svff-reattach --pf %s first",
			 rc->pf->bdf, earlier.step, rc->pf->bdf);
}

/* svff.conf is the desired state: svff-apply sets its numvfs again at the next boot. */
static void hint_svff_conf(struct reconf *rc)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	const struct managed_pf *managed;

	if (conf_load_quietly(rc->ctx, rc->ctx->conf_file, &conf) < 0)
		return;
	managed = conf_find_pf(conf, rc->pf->bdf);
	if (managed && managed->numvfs > 0 && managed->numvfs != rc->request->numvfs)
		log_warning(rc->ctx, "PF '%s': %s says numvfs=%u, which svff-apply sets again at "
			    "the next boot; to keep %u VFs across reboots, set numvfs=%u there",
			    rc->pf->bdf, rc->ctx->conf_file, managed->numvfs,
			    rc->request->numvfs, rc->request->numvfs);
}

static int reconf_locked(struct reconf *rc)
{
	int r = refuse_unfinished(rc);

	fault_stall(rc->ctx, "stall:", "plan");
	if (r == 0)
		r = print_plan(rc);
	if (r == 0)
		hint_svff_conf(rc);
	if (r < 0 || rc->ctx->dry_run)
		return r;
	r = assignments_sync(rc->ctx, rc->pf->bdf, rc->domains, rc->n_domains);
	if (r < 0)
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
	struct cost_mark start;
	char bdf[SVFF_BDF_SIZE] = ""; /* none when it is not a PCI address: validate says so */
	int r;

	cost_mark_now(&start);
	svff_bdf_parse(request->pf, bdf);
	LOG_SCOPE(bdf, NULL, NULL, NULL);
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
		report(&rc, "reconfiguration", &start, r);
	if (r == 0 && svff_interrupt_signal(ctx))
		log_warning(ctx, "PF '%s': interrupted during the last step; the reconfiguration "
			    "was finished", rc.pf->bdf);
	domain_devices_free(rc.domains, rc.n_domains);
	virt_close(rc.virt);
	op_lock_release(&lock);
	target_done(&rc.target);
	pf_info_free(rc.pf);
	return r;
}
