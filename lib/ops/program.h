/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff-internal.h"

struct program_request {
	char *const *argv;
	const char *pf;
	unsigned numvfs;     /* SVFF_NUMVFS */
	unsigned old_numvfs; /* SVFF_OLD_NUMVFS */
	usec_t deadline;
};

int program_check(struct svff_ctx *ctx, const char *name, char *ret_path, size_t size);
/* 0, or -ECANCELED when it failed or hung (its whole process group is killed). */
int program_run(struct svff_ctx *ctx, const struct program_request *req);
