/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "fault.h"
#include "jobs.h"
#include "ops.h"
#include "pause.h"

/* The VF with the recorded index, whatever its address is now. */
static int current_vf(struct svff_ctx *ctx, const struct record *record,
		      struct vf_info *ret_vf)
{
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;
	const struct vf_info *vf;
	int r = sysfs_pf_load(ctx, record->pf, &pf);

	if (r < 0)
		return r == -ENODEV || r == -EOPNOTSUPP ? -ENXIO : r;
	vf = pf_find_vf_by_index(pf, record->vf_index);
	if (!vf) {
		log_event(ctx, SVFF_LOG_WARNING, RECORD_KEPT,
			    "VF %u of PF '%s' (for domain '%s') does not exist now (numvfs is "
			    "%u); its record is kept and it goes back when the VF exists again",
			    record->vf_index, record->pf, record->domain_name, pf->numvfs);
		return -ENXIO;
	}
	if (record->vf_class > 0 && vf->pci_class > 0 && vf->pci_class != record->vf_class)
		return log_event_errno(ctx, -ENXIO, RECORD_KEPT,
				       "VF %u of PF '%s' (for domain '%s') is another kind of "
				       "device now (PCI class 0x%06x, 0x%06x when recorded); it is "
				       "not given back and its record is kept: put the PF back as "
				       "it was and run svff-reattach again",
				       record->vf_index, record->pf, record->domain_name,
				       vf->pci_class, record->vf_class);
	*ret_vf = *vf;
	return 0;
}

static int is_attached_now(struct svff_ctx *ctx, virDomainPtr dom, const char *bdf)
{
	struct hostdev *devs;
	size_t n;
	int r = virt_live_devices(ctx, dom, &devs, &n);

	if (r < 0)
		return r;
	r = hostdevs_find_source(devs, n, bdf) != NULL;
	hostdevs_free(devs, n);
	return r;
}

static bool is_pause_record(const struct record *record)
{
	return record->phase == PHASE_PAUSING || record->phase == PHASE_PAUSED ||
	       record->phase == PHASE_RESUMING;
}

/*
 * An unplug that was asked for may still happen: while the VF is attached, keep its
 * record. Not after the domain was restarted: its new QEMU has no unplug pending.
 */
static bool unplug_may_be_pending(const struct domain_job *job, const struct record *record)
{
	unsigned id = virDomainGetID(job->dom);

	if (record->phase != PHASE_DETACHING && record->phase != PHASE_UNPLUG_PENDING)
		return false;
	return record->domain_id == 0 || id == (unsigned)-1 || id == record->domain_id;
}

static int keep_pending(struct domain_job *job, struct record *record, const char *bdf)
{
	struct svff_ctx *ctx = job->ctx;

	if (record->phase != PHASE_UNPLUG_PENDING) {
		record->phase = PHASE_UNPLUG_PENDING;
		record_save(ctx, STORE_RECORDS, record);
	}
	return log_event_errno(ctx, -ETIMEDOUT, VF_NOT_RELEASED,
			 "domain '%s' still has VF %s: its guest has not let go after the "
			 "unplug request; record kept (phase unplug-pending): run svff-reattach "
			 "again once it has, or stop the domain",
			 job->domain_name, bdf);
}

/* Not before the VF is bound to its driver and udev is done with it. */
static int wait_ready(struct domain_job *job, struct record *record, const struct vf_info *vf)
{
	struct svff_ctx *ctx = job->ctx;
	int r = vf_wait_ready(ctx, record->pf, vf->bdf,
			      deadline_from_now(ctx, record->pf, DEADLINE_READY));

	if (r == -EINPROGRESS && record->phase != PHASE_NOT_READY && !is_pause_record(record)) {
		record->phase = PHASE_NOT_READY;
		record_save(ctx, STORE_RECORDS, record);
	}
	return r;
}

static int check_not_held(struct svff_ctx *ctx, const struct vf_info *vf)
{
	struct vfio_holder holder;
	int r = vfio_holder_find(ctx, vf->iommu_group, vf->vfio_device, &holder);

	if (r <= 0)
		return r;
	return log_errno(ctx, -EBUSY,
			 "VF '%s' is held by process %d (%s open); stop it or detach "
			 "the VF from its domain first",
			 vf->bdf, (int)holder.pid, holder.node);
}

/* libvirt binds a managed VF itself; an unmanaged one must be on vfio-pci already. */
static int wait_unmanaged_bound(struct svff_ctx *ctx, const struct record *record,
				const struct vf_info *vf)
{
	int r;

	if (record->device.managed)
		return 0;
	r = sysfs_wait_driver(ctx, vf->bdf, "vfio-pci",
			      deadline_from_now(ctx, record->pf, DEADLINE_RELEASE));
	if (r == -ETIMEDOUT)
		return log_errno(ctx, -ENXIO,
				 "VF '%s' (managed='no') is not bound to vfio-pci; bind it, then "
				 "run svff-reattach again",
				 vf->bdf);
	return r;
}

static int attach_recorded(struct domain_job *job, struct record *record,
			   const struct vf_info *vf)
{
	_cleanup_free_ char *xml = NULL;
	int r;

	r = wait_unmanaged_bound(job->ctx, record, vf);
	if (r < 0)
		return r;

	r = xml_device_for_attach(record->device.xml, vf->bdf, &xml);
	if (r < 0)
		return log_errno(job->ctx, r, "record of VF %u of PF '%s' holds no usable "
				 "device XML", record->vf_index, record->pf);
	record->phase = PHASE_REATTACHING;
	r = record_save(job->ctx, STORE_RECORDS, record);
	if (r < 0)
		return r;
	fault_stall(job->ctx, "stall-attach", NULL);
	return virt_attach(job->ctx, job->dom, xml);
}

/* QEMU takes the VF with the recorded index back into the device the guest kept. */
static int resume_one(struct domain_job *job, struct record *record, const struct vf_info *vf,
		      usec_t start)
{
	struct svff_ctx *ctx = job->ctx;
	usec_t deadline = deadline_from_now(ctx, record->pf, DEADLINE_RELEASE);
	int r = qmp_vfio_is_paused(ctx, job->dom, record->device.alias);

	if (r < 0)
		return r;
	if (ctx->dry_run) {
		log_info(ctx, "domain '%s': would resume device '%s' with VF %s (PF %s VF %u)",
			 job->domain_name, record->device.alias, vf->bdf, record->pf,
			 record->vf_index);
		return 0;
	}
	if (r == 0) {
		log_event(ctx, SVFF_LOG_INFO, RECORD_DROPPED,
			  "domain '%s': device '%s' is not paused (it never was, or was "
			 "resumed); record dropped", job->domain_name, record->device.alias);
		return record_remove(ctx, STORE_RECORDS, record);
	}
	r = sysfs_bind_driver(ctx, vf->bdf, "vfio-pci", deadline);
	if (r == 0)
		r = wait_ready(job, record, vf);
	if (r == 0)
		r = check_not_held(ctx, vf);
	if (r < 0)
		return r;
	record->phase = PHASE_RESUMING;
	r = record_save(ctx, STORE_RECORDS, record);
	if (r == 0)
		r = qmp_vfio_resume(ctx, job->dom, record->device.alias, vf);
	if (r < 0)
		return r;
	r = record_remove(ctx, STORE_RECORDS, record);
	log_event(ctx, SVFF_LOG_INFO, VF_RESUMED, "domain '%s': VF %s (PF %s VF %u) resumed at guest %s in %.2f s",
		 job->domain_name, vf->bdf, record->pf, record->vf_index,
		 record->device.guest_address, seconds_since(start));
	return r;
}

static int reattach_one(struct domain_job *job, struct record *record)
{
	struct svff_ctx *ctx = job->ctx;
	usec_t start = now_usec();
	struct vf_info vf;
	int r;

	LOG_SCOPE_RECORD(record);
	r = current_vf(ctx, record, &vf);
	if (r < 0)
		return r;
	LOG_SCOPE(NULL, vf.bdf, NULL, NULL); /* its address now */
	if (is_pause_record(record))
		return resume_one(job, record, &vf, start);
	r = is_attached_now(ctx, job->dom, vf.bdf);
	if (r > 0 && !ctx->dry_run && unplug_may_be_pending(job, record))
		return keep_pending(job, record, vf.bdf);
	if (r > 0 && !ctx->dry_run) {
		log_event(ctx, SVFF_LOG_INFO, RECORD_DROPPED,
			  "domain '%s': VF %s is attached already; record dropped",
			 job->domain_name, vf.bdf);
		return record_remove(ctx, STORE_RECORDS, record);
	}
	if (r == 0)
		r = check_not_held(ctx, &vf);
	if (r < 0)
		return r;
	if (ctx->dry_run) {
		log_info(ctx, "domain '%s': would attach VF %s (PF %s VF %u) at guest %s",
			 job->domain_name, vf.bdf, record->pf, record->vf_index,
			 record->device.guest_address);
		return 0;
	}
	r = wait_ready(job, record, &vf);
	if (r == 0)
		r = attach_recorded(job, record, &vf);
	if (r < 0)
		return r;
	r = record_remove(ctx, STORE_RECORDS, record);
	log_event(ctx, SVFF_LOG_INFO, VF_REATTACHED, "domain '%s': VF %s (PF %s VF %u) back at guest %s in %.2f s",
		 job->domain_name, vf.bdf, record->pf, record->vf_index,
		 record->device.guest_address, seconds_since(start));
	return r;
}

/*
 * libvirt no longer knows the domain (undefined; or transient and gone): no one can take
 * its VFs back, and its records would stay for ever. Removed, with a warning.
 */
static int remove_undefined(struct domain_job *job)
{
	struct svff_ctx *ctx = job->ctx;
	int r = 0;

	if (ctx->dry_run) {
		log_info(ctx, "domain '%s' (%s) is not defined in libvirt: would remove its %zu "
			 "record(s)", job->domain_name, job->domain_uuid, job->n_records);
		return 1;
	}
	for (size_t i = 0; r == 0 && i < job->n_records; i++)
		r = record_remove(ctx, STORE_RECORDS, job->records[i]);
	if (r < 0)
		return r;
	log_event(ctx, SVFF_LOG_WARNING, RECORD_DROPPED,
		  "domain '%s' (%s) is no longer defined in libvirt; its %zu record(s) are "
		  "removed: no domain can take those VFs back",
		  job->domain_name, job->domain_uuid, job->n_records);
	return 1;
}

/* 0: it runs, give its VFs back; 1: its records are dealt with; else -errno. */
static int find_running_domain(struct domain_job *job)
{
	struct svff_ctx *ctx = job->ctx;
	int active, r = virt_lookup_domain(ctx, job->virt, job->domain_uuid, &job->dom);

	if (r == -ESRCH)
		return remove_undefined(job);
	if (r < 0)
		return log_event_errno(ctx, r, RECORD_KEPT,
				       "cannot look up domain '%s' in libvirt: %s; its %zu record(s) "
				       "are kept: run svff-reattach again once libvirtd answers",
				       job->domain_name, virt_error_message(), job->n_records);
	active = virDomainIsActive(job->dom);
	if (active == 0) {
		log_event(ctx, SVFF_LOG_WARNING, RECORD_KEPT,
			  "domain '%s' is not running; its %zu record(s) are kept for its next "
			  "start, which resolves them",
			  job->domain_name, job->n_records);
		return -ESTALE;
	}
	return active < 0 ? -EREMOTEIO : 0;
}

static void reattach_domain(struct domain_job *job)
{
	LOG_SCOPE(NULL, NULL, job->domain_name, NULL);
	int r = find_running_domain(job);

	/* Records of a domain libvirt no longer knows were removed: none of them went back. */
	job->result = r > 0 ? -ESTALE : r;
	if (r != 0)
		return;
	for (size_t i = 0; i < job->n_records; i++) {
		if (svff_interrupted(job->ctx)) {
			log_event(job->ctx, SVFF_LOG_ERR, RECORD_KEPT,
				  "interrupted: %zu VF(s) of domain '%s' are not given back "
				  "yet; their records are kept for svff-reattach",
				  job->n_records - i, job->domain_name);
			job->result = -EINTR;
			return;
		}
		job->result = merge_result(job->result, reattach_one(job, job->records[i]));
	}
}

static int group_records(struct svff_ctx *ctx, const struct target *target,
			 struct job_list *jobs, size_t *ret_n)
{
	struct record **records = NULL;
	size_t n = 0, kept = 0;
	int loaded = records_load_all(ctx, STORE_RECORDS, &records, &n), r = 0;

	for (size_t i = 0; i < n; i++) {
		struct record *record = TAKE_PTR(records[i]);
		struct domain_job *job;

		if (!target_matches(target, record->pf, record->vf_index, record->domain_name,
				    record->domain_uuid)) {
			record_free(record);
			continue;
		}
		job = job_list_get(jobs, record->domain_uuid, record->domain_name);
		if (!job || job_add_record(job, record) < 0) {
			record_free(record);
			r = -ENOMEM;
		} else
			kept++;
	}
	free(records);
	*ret_n = kept;
	return r < 0 ? r : loaded;
}

int reattach_target(struct svff_ctx *ctx, struct virt *virt, const struct target *target)
{
	struct job_list jobs = { 0 };
	usec_t start = now_usec();
	size_t n = 0;
	int grouped, r;

	grouped = group_records(ctx, target, &jobs, &n);
	if (n == 0 && target->domain && grouped == 0) {
		virDomainPtr dom;

		r = virt_lookup_domain(ctx, virt, target->domain, &dom);
		if (r == -ESRCH)
			r = log_errno(ctx, -ESRCH, "no domain '%s' and no record for it; list the "
					  "domains with 'virsh list --all'", target->domain);
		else if (r < 0)
			r = log_errno(ctx, r, "cannot look up domain '%s': %s", target->domain,
				      virt_error_message());
		else
			virDomainFree(dom);
		job_list_free(&jobs);
		return r;
	}
	if (n == 0)
		log_info(ctx, "no recorded VF to give back");
	r = job_list_run(&jobs, ctx, virt, reattach_domain);
	if (n > 0 && !ctx->dry_run)
		log_info(ctx, "%zu record(s) of %zu domain(s) handled in %.2f s", n, jobs.n,
			 seconds_since(start));
	job_list_free(&jobs);
	return merge_result(grouped, r);
}

/* An interrupted svff-reconf may have left numvfs at 0: put it back first. */
static int recover_then_reattach(struct svff_ctx *ctx, struct virt *virt,
				 const struct target *target)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < target->n_pfs && !ctx->dry_run; i++)
		r = journal_recover(ctx, target->pfs[i]);
	return r < 0 ? r : reattach_target(ctx, virt, target);
}

_public_ int svff_reattach(struct svff_ctx *ctx, const struct svff_selector *selector)
{
	return run_with_locks(ctx, selector, false, recover_then_reattach);
}
