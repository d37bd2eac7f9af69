/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "journal.h"

/*
 * Which managed PF each host device of the starting domain is a VF slot of. A device
 * that exists says so itself (its physfn link): PCI routing IDs are unique, so it is no
 * other PF's slot. Only a device that does not exist (a slot beyond numvfs now) is looked
 * for among the layouts of every managed PF. Each layout is read at most once per hook
 * run, and only the layout: a PF whose numvfs write is blocked must not block this start.
 */
struct managed_vfs {
	const struct svff_conf *conf;
	struct pf_info **layouts; /* by the PF's index in conf; NULL: not read, or missing */
	bool *layout_read;
	size_t *owner;            /* by device: the index of its PF in conf, or NO_OWNER */
	unsigned *index;          /* by device: its VF index there */
	bool any;                 /* a device is a VF slot of a managed PF */
};

#define NO_OWNER ((size_t)-1)

static void managed_vfs_done(struct managed_vfs *m)
{
	for (size_t i = 0; m->layouts && i < m->conf->n_pfs; i++)
		pf_info_free(m->layouts[i]);
	free(m->layouts);
	free(m->layout_read);
	free(m->owner);
	free(m->index);
}

/* Whether bdf is a VF slot of managed PF p; a PF missing now owns none. */
static bool is_slot_of(struct svff_ctx *ctx, struct managed_vfs *m, size_t p, const char *bdf,
		       unsigned *ret_index)
{
	const char *pf = m->conf->pfs[p].bdf;

	if (!m->layout_read[p]) {
		m->layout_read[p] = true;
		if (sysfs_pf_exists(ctx, pf) && sysfs_pf_load_layout(ctx, pf, &m->layouts[p]) < 0)
			m->layouts[p] = NULL;
	}
	return m->layouts[p] && pf_vf_slot(m->layouts[p], bdf, ret_index);
}

static size_t owner_of(struct svff_ctx *ctx, struct managed_vfs *m, const char *bdf,
		       unsigned *ret_index)
{
	char pf[SVFF_BDF_SIZE];
	int r = sysfs_vf_physfn(ctx, bdf, pf);

	for (size_t p = 0; p < m->conf->n_pfs; p++)
		if ((r == -ENODEV || (r > 0 && strcmp(pf, m->conf->pfs[p].bdf) == 0)) &&
		    is_slot_of(ctx, m, p, bdf, ret_index))
			return p;
	return NO_OWNER;
}

static int managed_vfs_find(struct svff_ctx *ctx, const struct svff_conf *conf,
			    const struct hostdev *devs, size_t n, struct managed_vfs *ret)
{
	struct managed_vfs m = { .conf = conf };

	m.layouts = calloc(conf->n_pfs + 1, sizeof(*m.layouts));
	m.layout_read = calloc(conf->n_pfs + 1, sizeof(*m.layout_read));
	m.owner = calloc(n + 1, sizeof(*m.owner));
	m.index = calloc(n + 1, sizeof(*m.index));
	if (!m.layouts || !m.layout_read || !m.owner || !m.index) {
		managed_vfs_done(&m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		m.owner[i] = owner_of(ctx, &m, devs[i].source_bdf, &m.index[i]);
		m.any = m.any || m.owner[i] != NO_OWNER;
	}
	*ret = m;
	return 0;
}

/*
 * libvirt runs this hook with the domain locked, and while it runs every client that
 * lists domains waits: svff-reconf among them, holding the PF's lock. So the hook never
 * waits for a PF's lock; a start during a reconfiguration fails at once, with what to do.
 * Held (shared) while the start is recorded, so no operation begins in between.
 */
static int lock_pf_for_start(struct svff_ctx *ctx, const struct managed_pf *conf,
			     const char *domain, int *ret_fd)
{
	int r = pf_lock_share(ctx, conf->bdf, ret_fd);

	if (r != -EBUSY)
		return r;
	return log_event_errno(ctx, -EBUSY, HOOK_REFUSED,
			 "PF '%s' is being reconfigured (or its VFs moved) by svff; domain '%s' "
			 "was not started, so that libvirtd is not held up: start it again when "
			 "svff is done (svff-status shows it)",
			 conf->bdf, domain);
}

static int save_assignment(struct svff_ctx *ctx, const char *name, const char *uuid,
			   const char *pf, unsigned index, const struct hostdev *dev)
{
	struct record record = { .vf_index = index, .phase = PHASE_ASSIGNED, .device = *dev };
	int r;

	snprintf(record.pf, sizeof(record.pf), "%s", pf);
	snprintf(record.vf_bdf, sizeof(record.vf_bdf), "%s", dev->source_bdf);
	snprintf(record.domain_uuid, sizeof(record.domain_uuid), "%s", uuid);
	snprintf(record.domain_name, sizeof(record.domain_name), "%s", name);
	r = record_save(ctx, STORE_ASSIGNED, &record);
	if (r == 0)
		log_journal(ctx, SVFF_LOG_INFO, HOOK_ASSIGNED,
			    "domain '%s' starts with VF %u (%s) of PF '%s'; recorded", name,
			    record.vf_index, record.vf_bdf, record.pf);
	return r;
}

/*
 * A reconfiguration cut short (a crash, a power loss) left numvfs as it was then: the VF
 * may be the wrong one, or none. svff-apply finishes it at boot, before libvirtd.
 */
static int refuse_unfinished(struct svff_ctx *ctx, const char *pf, const char *domain)
{
	struct reconf_journal journal;
	int r = journal_unfinished(ctx, pf, &journal);

	if (r <= 0)
		return r;
	return log_event_errno(ctx, -EEXIST, HOOK_REFUSED,
			       "a reconfiguration of PF '%s' (numvfs %u -> %u) was interrupted at "
			       "step '%s' and is not finished; domain '%s' was not started: run "
			       "svff-apply --pf %s (or svff-reattach --pf %s), then start it again",
			       pf, journal.from_numvfs, journal.to_numvfs, journal.step, domain, pf,
			       pf);
}

static int prepare_vf(struct svff_ctx *ctx, const char *name, const char *uuid,
		      const struct managed_pf *conf, const struct pf_info *pf, unsigned index,
		      const struct hostdev *dev)
{
	LOG_SCOPE(conf->bdf, dev->source_bdf, NULL, NULL);
	int r;

	if (index >= pf->numvfs)
		return log_event_errno(ctx, -ENXIO, HOOK_REFUSED,
				 "domain '%s' needs VF %u (%s) of PF '%s', which has only %u VFs "
				 "now; raise sriov_numvfs or change the domain",
				 name, index, dev->source_bdf, pf->bdf, pf->numvfs);
	if (!dev->managed) {
		r = sysfs_bind_driver(ctx, dev->source_bdf, conf->driver,
				      deadline_from_now(ctx, conf->bdf, DEADLINE_RELEASE));
		if (r < 0)
			return r;
	}
	return save_assignment(ctx, name, uuid, pf->bdf, index, dev);
}

/*
 * The domain's VFs of one managed PF, under its lock, with numvfs read once; what is said
 * before a VF is looked at is about the first (a refused start names it, as it is refused).
 */
static int prepare_pf(struct svff_ctx *ctx, const struct managed_vfs *m, size_t p,
		      size_t first, const char *name, const char *uuid,
		      const struct hostdev *devs, size_t n)
{
	const struct managed_pf *conf = &m->conf->pfs[p];
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;
	_cleanup_close_ int pf_lock = -EBADF;
	LOG_SCOPE(conf->bdf, devs[first].source_bdf, NULL, NULL);
	int r = lock_pf_for_start(ctx, conf, name, &pf_lock);

	if (r == 0)
		r = refuse_unfinished(ctx, conf->bdf, name);
	/* Read again: a reconfiguration may have just changed numvfs. */
	if (r == 0)
		r = sysfs_pf_load_counts(ctx, conf->bdf, &pf);
	for (size_t i = first; r >= 0 && i < n; i++)
		if (m->owner[i] == p)
			r = prepare_vf(ctx, name, uuid, conf, pf, m->index[i], &devs[i]);
	return r;
}

/* PF by PF, in the order of their first VF in the domain's XML. */
static int hook_prepare(struct svff_ctx *ctx, const struct managed_vfs *m, const char *name,
			const char *uuid, const struct hostdev *devs, size_t n)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++) {
		bool first = m->owner[i] != NO_OWNER;

		for (size_t j = 0; first && j < i; j++)
			first = m->owner[j] != m->owner[i];
		if (first)
			r = prepare_pf(ctx, m, m->owner[i], i, name, uuid, devs, n);
	}
	return r;
}

/*
 * A record of records/ goes only under its PF's lock. While an operation holds it, the
 * record stays: that operation finds the domain stopped (or started anew) and says so.
 */
typedef void (*say_fn)(struct svff_ctx *ctx, const struct record *record, const void *userdata);

static int drop_record(struct svff_ctx *ctx, const char *store, const struct record *record,
		       say_fn say, const void *userdata)
{
	_cleanup_close_ int pf_lock = -EBADF;
	int r = 0;

	LOG_SCOPE_RECORD(record);
	if (strcmp(store, STORE_RECORDS) == 0)
		r = pf_lock_share(ctx, record->pf, &pf_lock);
	if (r == -EBUSY) {
		log_event(ctx, SVFF_LOG_WARNING, RECORD_KEPT,
			  "domain '%s' stopped or started while svff works on PF '%s'; the "
			  "record of its VF %u is kept", record->domain_name, record->pf,
			  record->vf_index);
		return 0;
	}
	if (r == 0 && say)
		say(ctx, record, userdata);
	return r < 0 ? r : record_remove(ctx, store, record);
}

/* Drop what names the domain from one store; persistent config is not touched. */
static int drop_domain_records(struct svff_ctx *ctx, const char *store, const char *uuid,
			       say_fn say, const void *userdata)
{
	struct record **records;
	size_t n;
	int r = records_load_all(ctx, store, &records, &n), result = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(records[i]->domain_uuid, uuid) == 0 &&
		    drop_record(ctx, store, records[i], say, userdata) < 0)
			result = -EIO;
	records_free(records, n);
	return r < 0 ? r : result;
}

static void say_stopped(struct svff_ctx *ctx, const struct record *record,
			const void *userdata)
{
	if (record->phase != PHASE_ASSIGNED)
		log_event(ctx, SVFF_LOG_INFO, RECORD_DROPPED,
			  "domain stopped: pending reattach of VF %u of PF '%s' dropped",
			  record->vf_index, record->pf);
	else
		log_journal(ctx, SVFF_LOG_INFO, RECORD_DROPPED,
			    "domain '%s' stopped: its assignment of VF %u of PF '%s' dropped",
			    record->domain_name, record->vf_index, record->pf);
}

static int hook_release(struct svff_ctx *ctx, const char *uuid)
{
	int r = drop_domain_records(ctx, STORE_ASSIGNED, uuid, say_stopped, NULL);

	int s = drop_domain_records(ctx, STORE_RECORDS, uuid, say_stopped, NULL);

	return r < 0 ? r : s;
}

/* The host devices of the domain now starting. */
struct starting {
	const struct hostdev *devs;
	size_t n;
};

static void say_resolved(struct svff_ctx *ctx, const struct record *record,
			 const void *userdata)
{
	const struct starting *start = userdata;

	if (hostdevs_find_source(start->devs, start->n, record->vf_bdf))
		log_event(ctx, SVFF_LOG_INFO, RECORD_DROPPED,
			  "domain '%s' starts with VF %u of PF '%s' (%s) in its XML: its "
			  "record (phase %s) is resolved", record->domain_name, record->vf_index,
			  record->pf, record->vf_bdf, phase_to_string(record->phase));
	else
		log_event(ctx, SVFF_LOG_WARNING, RECORD_DROPPED,
			  "domain '%s' starts without VF %u of PF '%s' (%s), which it had "
			  "only live (its persistent XML does not have it): its record (phase "
			  "%s) is dropped, as libvirt drops a live-only device when a domain "
			  "starts anew; attach the VF again (virsh attach-device) if it needs it",
			  record->domain_name, record->vf_index, record->pf, record->vf_bdf,
			  phase_to_string(record->phase));
}

/*
 * The domain starts anew (its QEMU of the recorded run is gone: a host crash, or libvirtd
 * was not there to run the release hook), and the VFs it starts with exist and are bound:
 * each record of it in records/ is resolved. A recorded VF that is in its XML is there
 * from its persistent configuration (svff detaches live only). One that is not was
 * attached live only; libvirt itself forgets such a device when a domain starts anew, and
 * giving it back later would add a device its configuration does not have, at an address
 * this run may use: the record is dropped with a warning, not kept.
 */
static int resolve_domain_records(struct svff_ctx *ctx, const char *name, const char *uuid,
				  const struct hostdev *devs, size_t n)
{
	struct starting start = { .devs = devs, .n = n };
	int r = drop_domain_records(ctx, STORE_RECORDS, uuid, say_resolved, &start);

	/* Reported as corrupt already; whatever it says, its VF is not taken from anyone. */
	if (r == -EBADMSG) {
		log_warning(ctx, "domain '%s' starts all the same: its own VFs exist and are bound, "
			    "and a corrupt record is never acted on", name);
		return 0;
	}
	return r;
}

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* The state lock of assigned/: held for a moment, never while libvirt is called. */
static int lock_assignments(struct svff_ctx *ctx, int *ret_fd)
{
	return lock_wait(ctx, "assigned", deadline_from_now(ctx, NULL, DEADLINE_RELEASE), ret_fd);
}

/* Whether a host device is, or could become, a VF of any SR-IOV PF of this host. */
static bool any_vf_slot(struct svff_ctx *ctx, const struct hostdev *devs, size_t n)
{
	char(*pfs)[SVFF_BDF_SIZE] = NULL;
	size_t n_pfs = 0;
	bool found = false;

	if (sysfs_pf_list(ctx, &pfs, &n_pfs) < 0)
		return n > 0;
	for (size_t p = 0; !found && p < n_pfs; p++) {
		_cleanup_(pf_info_freep) struct pf_info *pf = NULL;
		unsigned index;

		if (sysfs_pf_load_layout(ctx, pfs[p], &pf) < 0)
			continue;
		for (size_t i = 0; !found && i < n; i++)
			found = pf_vf_slot(pf, devs[i].source_bdf, &index);
	}
	free(pfs);
	return found;
}

/*
 * svff.conf cannot be read (reported with its file and line): a domain that may use a
 * managed VF fails closed; any other has nothing to do with svff and starts.
 */
static int broken_conf(struct svff_ctx *ctx, bool prepare, const char *name, int error,
		       const struct hostdev *devs, size_t n)
{
	if (prepare && any_vf_slot(ctx, devs, n))
		return log_event_errno(ctx, error, HOOK_REFUSED,
				 "domain '%s' has an SR-IOV VF and svff.conf cannot be read; it "
				 "starts once the file is fixed",
				 name);
	log_warning(ctx, "svff.conf cannot be read; domain '%s' has no SR-IOV VF, so svff lets "
		    "it %s", name, prepare ? "start" : "stop");
	return 0;
}

static int hook_run(struct svff_ctx *ctx, bool prepare, const char *name, const char *uuid,
		    const struct hostdev *devs, size_t n)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	_cleanup_close_ int lock_fd = -EBADF;
	struct managed_vfs m = { 0 };
	int r = conf_load(ctx, ctx->conf_file, &conf);

	if (r < 0)
		return broken_conf(ctx, prepare, name, r, devs, n);
	if (conf->n_pfs == 0)
		return 0;
	if (prepare) {
		r = managed_vfs_find(ctx, conf, devs, n, &m);
		if (r < 0)
			return r;
	}
	/* Nothing of svff's is touched for a domain that has no managed VF. */
	if (prepare && !m.any) {
		managed_vfs_done(&m);
		return 0;
	}
	r = state_prepare(ctx);
	if (r == 0)
		r = lock_assignments(ctx, &lock_fd);
	if (r >= 0)
		r = prepare ? hook_prepare(ctx, &m, name, uuid, devs, n) : hook_release(ctx, uuid);
	if (r >= 0 && prepare)
		r = resolve_domain_records(ctx, name, uuid, devs, n);
	managed_vfs_done(&m);
	return r;
}

_public_ int svff_hook_qemu(struct svff_ctx *ctx, const char *operation,
			    const char *sub_operation, const char *xml, size_t xml_size)
{
	char name[256], uuid[37];
	struct hostdev *devs = NULL;
	size_t n = 0;
	bool prepare = is(operation, "prepare") && is(sub_operation, "begin");
	bool release = is(operation, "release") && is(sub_operation, "end");
	int r;

	if (!prepare && !release)
		return 0; /* migrate, restore, reconnect and the rest: nothing to do, nothing to say */
	if (xml_domain_parse(xml, xml_size, name, uuid, &devs, &n) < 0)
		return svff_log_errno(ctx, -EBADMSG,
				      prepare ? LOG_EVENT_HOOK_REFUSED : LOG_EVENT_NONE,
				      "the domain XML on standard input is malformed or too "
				      "large; the hook is run by libvirt with the domain XML on "
				      "stdin");
	LOG_SCOPE(NULL, NULL, name, NULL);
	r = hook_run(ctx, prepare, name, uuid, devs, n);
	hostdevs_free(devs, n);
	return r < 0 ? r : 0;
}
