/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "conf.h"
#include "journal.h"

/*
 * How a managed PF differs from what svff.conf asks (and from what an interrupted
 * reconfiguration's journal says it must go back to): what svff-apply would change, and
 * what svff-status reports as drift. One reading serves both, so the two never disagree.
 */
struct drift_item {
	const char *what; /* "pf", "reconfiguration", "numvfs", "autoprobe", "driver" */
	int vf_index;     /* -1: the PF itself */
	char vf[SVFF_BDF_SIZE];
	char now[96];
	char want[96];
};

struct pf_drift {
	const struct managed_pf *conf;
	struct pf_info *pf; /* NULL when the PF is absent or its numvfs write is blocked */
	bool has_journal;
	struct reconf_journal journal;
	bool set_numvfs;       /* numvfs has a target: the journal's, else svff.conf's */
	unsigned numvfs;       /* that target */
	char in_use_vf[SVFF_BDF_SIZE]; /* "" or a VF a domain or process holds now */
	char in_use_by[280];           /* "domain 'db1'" or "process 4242" */
	struct drift_item *wrong_driver; /* VFs not in use, on another driver than svff.conf's */
	size_t n_wrong_driver;
	struct drift_item *items;
	size_t n_items;
};

/*
 * What tells whether a VF is in use, read once for every PF looked at together: the
 * holders of VFIO groups (one walk of /proc) and the hook's records of domain starts.
 */
struct drift_snapshot {
	struct vfio_holders holders;
	struct record **assigned;
	size_t n_assigned;
	/* Borrowed, may be NULL: PFs the caller has just read in full, copied, not read again. */
	struct pf_info *const *pfs;
	size_t n_pfs;
};
void drift_snapshot_load(struct svff_ctx *ctx, struct drift_snapshot *ret);
void drift_snapshot_done(struct drift_snapshot *snap);

/* 0 with ret filled (n_items 0: it matches), or -errno for what cannot be read at all. */
int pf_drift_load(struct svff_ctx *ctx, const struct drift_snapshot *snap,
		  const struct managed_pf *conf, struct pf_drift *ret);
void pf_drift_done(struct pf_drift *drift);
/* "numvfs 2, want 4 (svff.conf)" */
void drift_item_text(const struct drift_item *item, char *buf, size_t size);
/* Whether svff-apply would change numvfs: then no VF may be in use. */
bool pf_drift_changes_numvfs(const struct pf_drift *drift);
