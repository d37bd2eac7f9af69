/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "svff.h"

/* What the command line of one svff program may hold. */
struct cli_spec {
	const char *program;
	const char *summary;   /* one line under "Usage:" */
	bool selectors;        /* --pf, --vf, --domain */
	bool pf_only;          /* of the selectors, --pf only */
	const char *pf_help;   /* NULL: "every VF of this SR-IOV PF" */
	bool json;             /* --json */
	bool dry_run;          /* --dry-run */
	bool timeout;          /* --release-timeout (--timeout), --ready-timeout */
	bool reconf;           /* --numvfs, --program */
	bool mode;             /* --mode */
	bool no_libvirt;       /* never talks to libvirt: no --connect */
	bool check;            /* --check */
};

struct cli {
	struct svff_config config;
	struct svff_selector selector;
	bool json;
	bool check;
	struct svff_reconf_request reconf;
	bool has_numvfs;
};

/* 0 to go on, or 1 + the exit code when the program is done (help, version, usage). */
int cli_parse(const struct cli_spec *spec, int argc, char **argv, struct cli *ret_cli);
/* The exit code for r, after checking that stdout was written fully. */
int cli_exit(const struct cli_spec *spec, struct svff_ctx *ctx, int r);

/* Parse, make the context, run op, exit code: the whole life of a simple program. */
int cli_main(const struct cli_spec *spec, int argc, char **argv,
	     int (*op)(struct svff_ctx *ctx, const struct cli *cli));
