/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cli.h"

static const struct cli_spec spec = {
	.program = "svff-detach",
	.summary = "Hot-unplug SR-IOV VFs from their running domains and record them for "
		   "svff-reattach.\nGive exactly one of --pf, --vf or --domain.",
	.selectors = true,
	.dry_run = true,
	.timeout = true,
};

static int detach(struct svff_ctx *ctx, const struct cli *cli)
{
	return svff_detach(ctx, &cli->selector);
}

int main(int argc, char **argv)
{
	return cli_main(&spec, argc, argv, detach);
}
