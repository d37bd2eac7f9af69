/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff-internal.h"

int program_check(struct svff_ctx *ctx, const char *name, char *ret_path, size_t size);
int program_run(struct svff_ctx *ctx, char *const *argv, const char *pf, unsigned numvfs,
		usec_t deadline);
