/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cli.h"

static const struct cli_spec spec = {
	.program = "svff-detach",
	.summary = "Hot-unplug (or pause) SR-IOV VFs of their running domains and record them "
		   "for svff-reattach.\nGive exactly one of --pf, --vf or --domain.",
	.selectors = true,
	.dry_run = true,
	.timeout = true,
	.mode = true,
};

static int detach(struct svff_ctx *ctx, const struct cli *cli)
{
	return svff_detach(ctx, &cli->selector);
}

int main(int argc, char **argv)
{
	return cli_main(&spec, argc, argv, detach);
}
