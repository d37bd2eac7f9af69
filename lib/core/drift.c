/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "drift.h"

static _printf_(5, 6) int add_item(struct pf_drift *d, const char *what,
				   const struct vf_info *vf, const char *want, const char *now_fmt,
				   ...)
{
	struct drift_item *grown = realloc(d->items, (d->n_items + 1) * sizeof(*d->items));
	struct drift_item *item;
	va_list ap;

	if (!grown)
		return -ENOMEM;
	d->items = grown;
	item = &d->items[d->n_items++];
	*item = (struct drift_item){ .what = what, .vf_index = vf ? (int)vf->index : -1 };
	if (vf)
		snprintf(item->vf, sizeof(item->vf), "%s", vf->bdf);
	snprintf(item->want, sizeof(item->want), "%s", want);
	va_start(ap, now_fmt);
	vsnprintf(item->now, sizeof(item->now), now_fmt, ap);
	va_end(ap);
	return 0;
}

void drift_item_text(const struct drift_item *item, char *buf, size_t size)
{
	if (item->vf_index >= 0)
		snprintf(buf, size, "VF %d (%s) %s %s, want %s", item->vf_index, item->vf,
			 item->what, item->now, item->want);
	else
		snprintf(buf, size, "%s %s, want %s", item->what, item->now, item->want);
}

static const struct record *find_assignment(struct record **assigned, size_t n,
					    const char *pf, unsigned index)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(assigned[i]->pf, pf) == 0 && assigned[i]->vf_index == index)
			return assigned[i];
	return NULL;
}

void drift_snapshot_load(struct svff_ctx *ctx, struct drift_snapshot *ret)
{
	*ret = (struct drift_snapshot){ 0 };
	/* Unreadable (said once): no process, or no domain, is known to hold a VF. */
	vfio_holders_scan(ctx, &ret->holders);
	records_load_all(ctx, STORE_ASSIGNED, &ret->assigned, &ret->n_assigned);
}

void drift_snapshot_done(struct drift_snapshot *snap)
{
	vfio_holders_done(&snap->holders);
	records_free(snap->assigned, snap->n_assigned);
	*snap = (struct drift_snapshot){ 0 };
}

/* A running domain was started with the VF (the hook's record), or a process holds it. */
static bool vf_in_use(struct pf_drift *d, const struct vf_info *vf,
		      const struct drift_snapshot *snap)
{
	const struct record *record = find_assignment(snap->assigned, snap->n_assigned,
						      d->pf->bdf, vf->index);
	struct vfio_holder holder = { 0 };

	if (!record &&
	    !vfio_holders_find(&snap->holders, vf->iommu_group, vf->vfio_device, &holder))
		return false;
	if (!d->in_use_vf[0]) {
		snprintf(d->in_use_vf, sizeof(d->in_use_vf), "%s", vf->bdf);
		if (record)
			snprintf(d->in_use_by, sizeof(d->in_use_by), "domain '%s'",
				 record->domain_name);
		else
			snprintf(d->in_use_by, sizeof(d->in_use_by), "process %d", (int)holder.pid);
	}
	return true;
}

/* Each VF not in use on svff.conf's driver; one in use keeps what its domain needs. */
static int check_drivers(struct pf_drift *d, const struct drift_snapshot *snap)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < d->pf->n_vfs; i++) {
		const struct vf_info *vf = &d->pf->vfs[i];

		if (vf_in_use(d, vf, snap) || strcmp(vf->driver, d->conf->driver) == 0)
			continue;
		r = add_item(d, "driver", vf, d->conf->driver, "%s", vf->driver[0] ? vf->driver : "none");
	}
	return r;
}

static int check_numvfs(struct svff_ctx *ctx, struct pf_drift *d)
{
	char want[96];
	int r = journal_unfinished(ctx, d->conf->bdf, &d->journal);

	if (r < 0)
		return r;
	d->has_journal = r > 0;
	/* An interrupted reconfiguration first: the domains' records point at those VFs. */
	if (d->has_journal) {
		d->set_numvfs = true;
		d->numvfs = d->journal.from_numvfs;
		snprintf(want, sizeof(want), "finished (numvfs back to %u)", d->numvfs);
		r = add_item(d, "reconfiguration", NULL, want,
			     "interrupted at step '%s' (numvfs %u -> %u)", d->journal.step,
			     d->journal.from_numvfs, d->journal.to_numvfs);
		if (r < 0)
			return r;
	} else if (d->conf->numvfs > 0) {
		d->set_numvfs = true;
		d->numvfs = d->conf->numvfs;
	}
	if (!d->set_numvfs || d->pf->numvfs == d->numvfs)
		return 0;
	snprintf(want, sizeof(want), "%u (%s)", d->numvfs,
		 d->has_journal ? "the interrupted reconfiguration's journal" : "svff.conf");
	return add_item(d, "numvfs", NULL, want, "%u", d->pf->numvfs);
}

/* Absent, or its numvfs write blocked: one item says so, nothing else can be read. */
static int check_readable(struct svff_ctx *ctx, struct pf_drift *d)
{
	struct numvfs_writer writer;

	if (!sysfs_pf_exists(ctx, d->conf->bdf))
		return add_item(d, "pf", NULL, "an SR-IOV PF there", "absent");
	if (numvfs_writer_find(ctx, d->conf->bdf, &writer) > 0)
		return add_item(d, "numvfs", NULL, "settled",
				"unknown: the write of numvfs %u (process %d) is blocked",
				writer.numvfs, (int)writer.pid);
	return 1;
}

/* The PF in full: as the caller read it, if it did, else from sysfs. */
static int load_pf(struct svff_ctx *ctx, const struct drift_snapshot *snap, const char *bdf,
		   struct pf_info **ret_pf)
{
	for (size_t i = 0; i < snap->n_pfs; i++)
		if (strcmp(snap->pfs[i]->bdf, bdf) == 0 && snap->pfs[i]->busy_writer == 0)
			return pf_info_dup(snap->pfs[i], ret_pf);
	return sysfs_pf_load(ctx, bdf, ret_pf);
}

int pf_drift_load(struct svff_ctx *ctx, const struct drift_snapshot *snap,
		  const struct managed_pf *conf, struct pf_drift *ret)
{
	struct pf_drift d = { .conf = conf };
	int r = check_readable(ctx, &d);

	if (r == 1)
		r = load_pf(ctx, snap, conf->bdf, &d.pf);
	if (r == 0 && d.pf && !d.pf->driver[0])
		r = add_item(&d, "pf", NULL, "bound to its driver", "has no driver");
	if (r == 0 && d.pf)
		r = check_numvfs(ctx, &d);
	if (r == 0 && d.pf && d.pf->autoprobe >= 0 && d.pf->autoprobe != conf->autoprobe)
		r = add_item(&d, "autoprobe", NULL, conf->autoprobe ? "on" : "off", "%s",
			     d.pf->autoprobe ? "on" : "off");
	if (r == 0 && d.pf) {
		size_t first = d.n_items;

		r = check_drivers(&d, snap);
		d.wrong_driver = d.items + first;
		d.n_wrong_driver = d.n_items - first;
	}
	if (r < 0) {
		pf_drift_done(&d);
		return r;
	}
	*ret = d;
	return 0;
}

void pf_drift_done(struct pf_drift *drift)
{
	pf_info_free(drift->pf);
	free(drift->items);
	*drift = (struct pf_drift){ 0 };
}

bool pf_drift_changes_numvfs(const struct pf_drift *drift)
{
	return drift->pf && drift->set_numvfs && drift->pf->numvfs != drift->numvfs;
}
