/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff-internal.h"

/* One [dddd:bb:ss.f] group of svff.conf. */
struct managed_pf {
	char bdf[SVFF_BDF_SIZE];
	char driver[64];          /* for its VFs; default vfio-pci */
	unsigned numvfs;          /* default numvfs; 0: not set */
	bool autoprobe;           /* sriov_drivers_autoprobe: host drivers probe new VFs */
	unsigned timeout_s[3];    /* by enum deadline_kind; 0: not set, the default applies */
	unsigned start_wait_s;    /* accepted, unused: the hook never waits (libvirtd would) */
};

struct svff_conf {
	struct managed_pf *pfs;
	size_t n_pfs;
};

int conf_load(struct svff_ctx *ctx, const char *path, struct svff_conf **ret_conf);
/* For a value only: errors were reported by whoever loaded it first. */
int conf_load_quietly(struct svff_ctx *ctx, const char *path, struct svff_conf **ret_conf);
void conf_free(struct svff_conf *conf);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct svff_conf *, conf_free);
const struct managed_pf *conf_find_pf(const struct svff_conf *conf, const char *bdf);
