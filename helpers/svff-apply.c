/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cli.h"

static const struct cli_spec spec = {
	.program = "svff-apply",
	.summary = "Make the SR-IOV PFs of svff.conf match it: finish an interrupted\n"
		   "reconfiguration, then numvfs, autoprobe and each VF's driver, VFs ready.\n"
		   "Run at boot by svff-apply.service, before libvirtd. Without --pf: every PF\n"
		   "of svff.conf.",
	.selectors = true,
	.pf_only = true,
	.pf_help = "only this PF of svff.conf",
	.dry_run = true,
	.timeout = true,
	.no_libvirt = true,
};

static int apply(struct svff_ctx *ctx, const struct cli *cli)
{
	return svff_apply(ctx, cli->selector.pf);
}

int main(int argc, char **argv)
{
	return cli_main(&spec, argc, argv, apply);
}
