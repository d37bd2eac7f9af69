/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "jobs.h"
#include "ops.h"
#include "pause.h"

struct detach_plan {
	struct pf_info **pfs;
	size_t n_pfs;
	struct job_list jobs;
	size_t n_devices;
};

static void plan_done(struct detach_plan *plan)
{
	for (size_t i = 0; i < plan->n_pfs; i++)
		pf_info_free(plan->pfs[i]);
	free(plan->pfs);
	job_list_free(&plan->jobs);
}

static int load_pfs(struct svff_ctx *ctx, const struct target *target,
		    struct detach_plan *plan)
{
	plan->pfs = calloc(target->n_pfs + 1, sizeof(*plan->pfs));
	if (!plan->pfs)
		return -ENOMEM;
	for (size_t i = 0; i < target->n_pfs; i++) {
		int r = sysfs_pf_load(ctx, target->pfs[i], &plan->pfs[plan->n_pfs]);

		if (r < 0)
			return r;
		plan->n_pfs++;
	}
	return 0;
}

static const struct vf_info *find_vf(const struct detach_plan *plan, const char *bdf,
				     const struct pf_info **ret_pf)
{
	for (size_t i = 0; i < plan->n_pfs; i++) {
		const struct vf_info *vf = pf_find_vf_by_bdf(plan->pfs[i], bdf);

		if (vf) {
			*ret_pf = plan->pfs[i];
			return vf;
		}
	}
	return NULL;
}

/* An earlier record for this VF must not be overwritten unless it is ours to redo. */
static int check_earlier_record(struct svff_ctx *ctx, const struct record *record)
{
	_cleanup_(record_freep) struct record *earlier = NULL;
	int r = record_load(ctx, STORE_RECORDS, record->pf, record->vf_index, &earlier);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (strcmp(earlier->domain_uuid, record->domain_uuid) == 0)
		return 0;
	return log_errno(ctx, -EEXIST,
			 "VF %u of PF '%s' still has a record for domain '%s' (phase %s); run "
			 "svff-reattach for it first",
			 record->vf_index, record->pf, earlier->domain_name,
			 phase_to_string(earlier->phase));
}

static int new_record(const struct pf_info *pf, const struct vf_info *vf,
		      const struct domain_devices *domain, const struct hostdev *dev,
		      struct record **ret_record)
{
	struct record *record = calloc(1, sizeof(*record));

	if (!record)
		return -ENOMEM;
	snprintf(record->pf, sizeof(record->pf), "%s", pf->bdf);
	record->vf_index = vf->index;
	snprintf(record->vf_bdf, sizeof(record->vf_bdf), "%s", vf->bdf);
	record->vf_class = vf->pci_class;
	snprintf(record->domain_uuid, sizeof(record->domain_uuid), "%s", domain->uuid);
	snprintf(record->domain_name, sizeof(record->domain_name), "%s", domain->name);
	record->domain_id = virDomainGetID(domain->dom);
	if (record->domain_id == (unsigned)-1)
		record->domain_id = 0;
	record->phase = PHASE_DETACHING;
	record->device = *dev;
	record->device.xml = strdup(dev->xml);
	record->iommu_group = vf->iommu_group;
	snprintf(record->vfio_device, sizeof(record->vfio_device), "%s", vf->vfio_device);
	if (!record->device.xml) {
		free(record);
		return -ENOMEM;
	}
	*ret_record = record;
	return 0;
}

static int plan_device(struct svff_ctx *ctx, struct detach_plan *plan,
		       const struct target *target, struct domain_devices *domain,
		       const struct hostdev *dev)
{
	const struct pf_info *pf;
	const struct vf_info *vf = find_vf(plan, dev->source_bdf, &pf);
	struct domain_job *job;
	struct record *record = NULL;
	int r;

	if (!vf || !target_matches(target, pf->bdf, vf->index, domain->name, domain->uuid))
		return 0;
	r = new_record(pf, vf, domain, dev, &record);
	if (r < 0)
		return r;
	r = check_earlier_record(ctx, record);
	job = r == 0 ? job_list_get(&plan->jobs, domain->uuid, domain->name) : NULL;
	if (!job || job_add_record(job, record) < 0) {
		record_free(record);
		return r < 0 ? r : -ENOMEM;
	}
	if (!job->dom) {
		job->dom = domain->dom;
		virDomainRef(job->dom);
	}
	plan->n_devices++;
	return 0;
}

static int plan_detach(struct svff_ctx *ctx, struct virt *virt, const struct target *target,
		       struct detach_plan *plan)
{
	struct domain_devices *domains = NULL;
	size_t n_domains = 0;
	int r, result = 0;

	r = load_pfs(ctx, target, plan);
	if (r == 0)
		r = virt_running_domains(ctx, virt, &domains, &n_domains);
	if (r < 0)
		return r;
	for (size_t d = 0; d < n_domains; d++)
		for (size_t i = 0; i < domains[d].n_devs; i++)
			result = merge_result(
				result, plan_device(ctx, plan, target, &domains[d],
						    &domains[d].devs[i]));
	domain_devices_free(domains, n_domains);
	return result;
}

static void describe(const struct record *record, char *buf, size_t size)
{
	snprintf(buf, size, "VF %s (PF %s VF %u, guest %s, alias '%s')", record->vf_bdf,
		 record->pf, record->vf_index,
		 record->device.guest_address[0] ? record->device.guest_address : "?",
		 record->device.alias);
}

/* The guest keeps its device; QEMU lets go of the host VF. */
static int pause_one(struct domain_job *job, struct record *record, const char *what,
		     usec_t start, usec_t deadline)
{
	struct svff_ctx *ctx = job->ctx;
	int r;

	record->phase = PHASE_PAUSING;
	r = record_save(ctx, STORE_RECORDS, record);
	if (r < 0)
		return r;
	r = qmp_vfio_pause(ctx, job->dom, record->device.alias);
	if (r < 0) {
		record_remove(ctx, STORE_RECORDS, record);
		return r;
	}
	if (vfio_wait_released(ctx, record->iommu_group, record->vfio_device, deadline) == -ETIMEDOUT)
		log_warning(ctx, "%s is paused in domain '%s' but still held open through VFIO", what,
			    job->domain_name);
	record->phase = PHASE_PAUSED;
	r = record_save(ctx, STORE_RECORDS, record);
	if (r < 0)
		return r;
	log_event(ctx, SVFF_LOG_INFO, VF_PAUSED, "domain '%s': %s paused in %.2f s; the guest keeps its device",
		 job->domain_name, what, seconds_since(start));
	return 0;
}

static int save_phase(struct svff_ctx *ctx, struct record *record, enum phase phase)
{
	record->phase = phase;
	return record_save(ctx, STORE_RECORDS, record);
}

/* What the unplug's outcome means for the record, and the one line that says so. */
static int unplug_outcome(struct domain_job *job, struct record *record, const char *what,
			  int r)
{
	struct svff_ctx *ctx = job->ctx;
	unsigned limit = deadline_seconds(ctx, record->pf, DEADLINE_RELEASE);

	switch (r) {
	case -ETIMEDOUT:
		save_phase(ctx, record, PHASE_UNPLUG_PENDING);
		return log_event_errno(ctx, r, VF_NOT_RELEASED,
				 "%s of domain '%s' was not released by the guest within %u s "
				 "(%s); is its OS running and able to hot-unplug? The unplug stays "
				 "pending: record kept (phase unplug-pending) until the guest lets "
				 "go or the domain stops; svff-reattach gives it back once it left",
				 what, job->domain_name, limit, deadline_option(DEADLINE_RELEASE));
	case -EINTR:
		save_phase(ctx, record, PHASE_UNPLUG_PENDING);
		return log_event_errno(ctx, r, RECORD_KEPT,
				       "interrupted while domain '%s' was releasing %s; record "
				 "kept (phase unplug-pending)", job->domain_name, what);
	case -ECONNRESET:
		save_phase(ctx, record, PHASE_UNPLUG_PENDING);
		return log_event_errno(ctx, r, RECORD_KEPT,
				 "libvirtd went away while %s was being detached from domain '%s'; "
				 "record kept (phase unplug-pending): run svff-reattach once "
				 "libvirtd is back",
				 what, job->domain_name);
	case -ESRCH:
		/* It holds nothing any more: there is nothing to give back. */
		record_remove(ctx, STORE_RECORDS, record);
		log_event(ctx, SVFF_LOG_WARNING, RECORD_DROPPED,
			  "domain '%s' stopped while %s was being detached from it; it "
			    "holds the VF no more, and gets it from its definition when it starts",
			    job->domain_name, what);
		return 0;
	default:
		/* Refused: still attached with no unplug pending; a record would mislead. */
		record_remove(ctx, STORE_RECORDS, record);
		return r;
	}
}

static int detach_one(struct domain_job *job, struct record *record)
{
	struct svff_ctx *ctx = job->ctx;
	usec_t start = now_usec(), deadline = deadline_from_now(ctx, record->pf, DEADLINE_RELEASE);
	char what[256], waiting[640];
	int r;

	LOG_SCOPE_RECORD(record);
	describe(record, what, sizeof(what));
	if (ctx->dry_run) {
		log_info(ctx, "domain '%s': would %s %s", job->domain_name,
			 job->pause ? "pause" : "detach", what);
		return 0;
	}
	if (svff_interrupted(ctx))
		return -EINTR;
	if (job->pause) {
		r = pause_one(job, record, what, start, deadline);
		if (r == 0)
			return 0;
		log_warning(ctx, "domain '%s': %s cannot be paused; it is detached instead",
			    job->domain_name, what);
	}
	r = save_phase(ctx, record, PHASE_DETACHING);
	if (r < 0)
		return r;
	snprintf(waiting, sizeof(waiting), "domain '%s' to release %s", job->domain_name, what);
	r = virt_detach_and_wait(ctx, job->virt, job->dom, &record->device, deadline, waiting);
	if (r < 0)
		return unplug_outcome(job, record, what, r);
	if (vfio_wait_released(ctx, record->iommu_group, record->vfio_device, deadline) == -ETIMEDOUT)
		log_warning(ctx, "%s left domain '%s' but is still held open through VFIO", what,
			    job->domain_name);
	r = save_phase(ctx, record, PHASE_DETACHED);
	if (r < 0)
		return r;
	log_event(ctx, SVFF_LOG_INFO, VF_DETACHED, "domain '%s': %s detached in %.2f s", job->domain_name, what,
		 seconds_since(start));
	return 0;
}

/* Pause needs the domain's QEMU to offer it; where it does not, VFs are detached. */
static bool pause_possible(struct domain_job *job, enum svff_mode mode)
{
	if (mode == SVFF_MODE_DETACH)
		return false;
	if (virt_supports_pause(job->ctx, job->dom))
		return true;
	svff_log(job->ctx, mode == SVFF_MODE_PAUSE ? SVFF_LOG_WARNING : SVFF_LOG_INFO,
		 "domain '%s': its QEMU offers no VFIO pause (x-vfio-pause); its VFs are "
		 "detached instead",
		 job->domain_name);
	return false;
}

static void detach_domain(struct domain_job *job)
{
	usec_t start = now_usec();

	LOG_SCOPE(NULL, NULL, job->domain_name, NULL);
	job->pause = pause_possible(job, job->mode);
	for (size_t i = 0; i < job->n_records; i++)
		job->result = merge_result(job->result, detach_one(job, job->records[i]));
	if (!job->ctx->dry_run)
		log_info(job->ctx, "domain '%s': %zu device(s) done in %.2f s%s", job->domain_name,
			 job->n_records, seconds_since(start), job->result < 0 ? ", with errors" : "");
}

static int check_domain_exists(struct svff_ctx *ctx, struct virt *virt, const char *domain)
{
	virDomainPtr dom;
	int r;

	if (!domain)
		return 0;
	r = virt_lookup_domain(ctx, virt, domain, &dom);
	if (r == -EREMOTEIO)
		return log_errno(ctx, r, "cannot look up domain '%s': %s", domain,
				 virt_error_message());
	if (r < 0)
		return log_errno(ctx, -ESRCH,
				 "no domain '%s'; list the domains with 'virsh list --all'", domain);
	virDomainFree(dom);
	return 0;
}

int detach_target(struct svff_ctx *ctx, struct virt *virt, const struct target *target,
		  enum svff_mode mode, bool whole_plan_only, bool *ret_started)
{
	struct detach_plan plan = { 0 };
	usec_t start = now_usec();
	int r, planned;

	planned = plan_detach(ctx, virt, target, &plan);
	if (planned < 0 && (plan.n_devices == 0 || whole_plan_only)) {
		plan_done(&plan);
		return planned;
	}
	if (plan.n_devices == 0)
		log_info(ctx, "no running domain holds a selected VF; nothing to detach");
	for (size_t i = 0; i < plan.jobs.n; i++)
		plan.jobs.jobs[i].mode = mode;
	if (ret_started)
		*ret_started = plan.n_devices > 0;
	r = job_list_run(&plan.jobs, ctx, virt, detach_domain);
	if (plan.n_devices > 0 && !ctx->dry_run)
		log_info(ctx, "%zu device(s) of %zu domain(s) in %.2f s", plan.n_devices,
			 plan.jobs.n, seconds_since(start));
	plan_done(&plan);
	return merge_result(planned, r);
}

static int detach_existing_domain(struct svff_ctx *ctx, struct virt *virt,
				  const struct target *target)
{
	int r = check_domain_exists(ctx, virt, target->domain);

	return r < 0 ? r : detach_target(ctx, virt, target, ctx->mode, false, NULL);
}

_public_ int svff_detach(struct svff_ctx *ctx, const struct svff_selector *selector)
{
	return run_with_locks(ctx, selector, true, detach_existing_domain);
}
