/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "cli.h"

static const struct cli_spec spec = {
	.program = "svff-status",
	.summary = "Show SR-IOV PFs, their VFs, drivers, holders, domains and svff's "
		   "records.\nOnly --pf selects.",
	.selectors = true,
	.pf_only = true,
	.json = true,
	.check = true,
};

static int status(struct svff_ctx *ctx, const struct cli *cli)
{
	if (cli->check)
		return svff_status_check(ctx, cli->selector.pf, cli->json, stdout);
	return svff_status(ctx, cli->selector.pf, cli->json, stdout);
}

int main(int argc, char **argv)
{
	return cli_main(&spec, argc, argv, status);
}
