/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cli.h"

static const struct cli_spec spec = {
	.program = "svff-reattach",
	.summary = "Give recorded SR-IOV VFs back to their domains, at their recorded guest "
		   "addresses.\nWithout --pf, --vf or --domain: every record.",
	.selectors = true,
	.timeout = true,
	.dry_run = true,
};

static int reattach(struct svff_ctx *ctx, const struct cli *cli)
{
	return svff_reattach(ctx, &cli->selector);
}

int main(int argc, char **argv)
{
	return cli_main(&spec, argc, argv, reattach);
}
