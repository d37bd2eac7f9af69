/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff-internal.h"

/*
 * journal.c: what an interrupted svff-reconf leaves for svff-reattach and svff-apply to
 * finish, one file per PF in reconf/. No libvirt: svff-apply reads it before libvirtd
 * starts, the libvirt hook to refuse a start while it is there.
 */
struct reconf_journal {
	char pf[SVFF_BDF_SIZE];
	unsigned from_numvfs;
	unsigned to_numvfs;
	char step[32];
};

int journal_save(struct svff_ctx *ctx, const struct reconf_journal *journal);
int journal_parse(const char *text, size_t size, const char *pf,
		  struct reconf_journal *ret_journal);
/* -ENOENT quietly when no reconfiguration of the PF was interrupted. */
int journal_load(struct svff_ctx *ctx, const char *pf, struct reconf_journal *ret_journal);
/* 1 with ret filled when the PF's reconfiguration is unfinished, 0 when none is, or -errno. */
int journal_unfinished(struct svff_ctx *ctx, const char *pf, struct reconf_journal *ret_journal);
int journal_remove(struct svff_ctx *ctx, const char *pf);
/* Put numvfs back where an interrupted reconfiguration left it at 0; drop its journal. */
int journal_recover(struct svff_ctx *ctx, const char *pf);
