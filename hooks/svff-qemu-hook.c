/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt runs this as /etc/libvirt/hooks/qemu.d/svff with
 * "DOMAIN OPERATION SUB-OPERATION EXTRA" and the domain XML on stdin. It decides
 * at the cost of a process start whether the event can concern svff, and hands
 * those that can to the worker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "hook-gate.h"
#include "svff.h"

#define PROGRAM "svff-qemu-hook"

static const char *or_default(const char *value, const char *fallback)
{
	return value ? value : fallback;
}

int main(int argc, char **argv)
{
	const char *worker;
	char *xml = NULL;
	size_t size = 0;
	int r;

	if (argc < 4) {
		fprintf(stderr, "%s: expected DOMAIN OPERATION SUB-OPERATION [EXTRA] and the "
			"domain XML on stdin; libvirt runs this hook, see svff-qemu-hook(8)\n",
			PROGRAM);
		return SVFF_EXIT_USAGE;
	}
	if (!hook_gate_operation(argv[2], argv[3]) ||
	    !hook_gate_config(or_default(secure_getenv("SVFF_CONF_FILE"), SVFF_CONF_FILE)))
		return 0;
	if (isatty(STDIN_FILENO)) {
		fprintf(stderr, "%s: expected the domain XML on stdin\n", PROGRAM);
		return SVFF_EXIT_USAGE;
	}
	r = hook_gate_read_input(&xml, &size);
	if (r == -EFBIG) {
		/* Not what svff is for, and no reason to refuse a start: let it pass, say so. */
		hook_gate_warn(PROGRAM, "the domain XML of '%s' is larger than 16 MiB; svff does "
			       "not read it and lets the domain %s; a VF of a managed PF in it is "
			       "not tracked", argv[1], strcmp(argv[2], "prepare") == 0 ? "start" : "stop");
		hook_gate_drain_input();
		free(xml);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "%s: cannot read the domain XML of '%s' from stdin: %s\n", PROGRAM,
			argv[1], strerror(-r));
		free(xml);
		return SVFF_EXIT_USAGE;
	}
	if (!hook_gate_xml(xml, size)) {
		free(xml);
		return 0;
	}
	worker = or_default(secure_getenv("SVFF_HOOK_WORKER"), SVFF_HOOK_WORKER);
	r = hook_gate_exec_worker(worker, argv, xml, size);
	fprintf(stderr, "%s: cannot run '%s': %s; reinstall svff\n", PROGRAM, worker,
		strerror(-r));
	free(xml);
	return SVFF_EXIT_FAILURE;
}
