/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hook's work, for domain starts and stops that may concern a managed VF. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook-gate.h"
#include "stderr-log.h"
#include "svff.h"

#define PROGRAM "svff-qemu-hook"

int main(int argc, char **argv)
{
	struct svff_config config = { .program = PROGRAM, .max_level = SVFF_LOG_INFO,
				      .log_fn = log_to_stderr, .journal = true,
				      .log_userdata = (void *)PROGRAM,
				      .state_dir = secure_getenv("SVFF_STATE_DIR"),
				      .runtime_dir = secure_getenv("SVFF_RUNTIME_DIR"),
				      .conf_file = secure_getenv("SVFF_CONF_FILE") };
	struct svff_ctx *ctx = NULL;
	char *xml = NULL;
	size_t size = 0;
	int r;

	if (argc < 4) {
		fprintf(stderr, "%s: run by svff's libvirt hook only\n", PROGRAM);
		return SVFF_EXIT_USAGE;
	}
	/* Unread, or too large: the hook says the XML is malformed or too large. */
	hook_gate_read_input(&xml, &size);
	r = svff_ctx_new(&config, &ctx);
	if (r == 0)
		r = svff_hook_qemu(ctx, argv[2], argv[3], xml, size);
	svff_ctx_unref(ctx);
	free(xml);
	return svff_exit_code(r);
}
