/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run by svff's udev rules for PCI events, with ACTION and PCI_SLOT_NAME in the
 * environment. Prints SVFF_REATTACH_PF=BDF for IMPORT{program} when a VF that a
 * running domain lost is back.
 */
#include <stdio.h>
#include <stdlib.h>

#include "stderr-log.h"
#include "svff.h"

#define PROGRAM "svff-udev"

int main(int argc, char **argv)
{
	struct svff_config config = { .program = PROGRAM, .max_level = SVFF_LOG_INFO,
				      .log_fn = log_to_stderr, .journal = true,
				      .log_userdata = (void *)PROGRAM,
				      .state_dir = secure_getenv("SVFF_STATE_DIR"),
				      .runtime_dir = secure_getenv("SVFF_RUNTIME_DIR"),
				      .conf_file = secure_getenv("SVFF_CONF_FILE") };
	struct svff_ctx *ctx = NULL;
	char pf[SVFF_BDF_SIZE];
	int r;

	if (argc > 1) {
		fprintf(stderr, "%s: takes no arguments; udev passes ACTION and PCI_SLOT_NAME "
			"in the environment (see svff-udev(8))\n", PROGRAM);
		return SVFF_EXIT_USAGE;
	}
	r = svff_ctx_new(&config, &ctx);
	if (r == 0)
		r = svff_udev_event(ctx, secure_getenv("ACTION"), secure_getenv("PCI_SLOT_NAME"), pf);
	svff_ctx_unref(ctx);
	if (r > 0)
		printf("SVFF_REATTACH_PF=%s\n", pf);
	if (fflush(stdout) != 0)
		return SVFF_EXIT_FAILURE;
	return svff_exit_code(r);
}
