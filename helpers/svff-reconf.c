/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const struct cli_spec spec = {
	.program = "svff-reconf",
	.summary = "Reconfigure an SR-IOV PF under running domains: every VF leaves its domain,\n"
		   "numvfs goes to 0, the optional program runs, numvfs goes to N, every VF\n"
		   "that still exists goes back. Any failure rolls back.\n"
		   "Needs --pf and --numvfs.",
	.selectors = true,
	.pf_only = true,
	.dry_run = true,
	.timeout = true,
	.json = true,
	.reconf = true,
	.mode = true,
};

static int reconf(struct svff_ctx *ctx, const struct cli *cli)
{
	struct svff_reconf_request request = cli->reconf;

	if (!cli->selector.pf || !cli->has_numvfs) {
		fprintf(stderr, "%s: give --pf BDF and --numvfs N\n",
			spec.program);
		return -EINVAL;
	}
	request.pf = cli->selector.pf;
	return svff_reconf(ctx, &request);
}

int main(int argc, char **argv)
{
	return cli_main(&spec, argc, argv, reconf);
}
