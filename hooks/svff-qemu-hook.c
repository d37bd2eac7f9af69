/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt runs this as /etc/libvirt/hooks/qemu.d/svff with
 * "DOMAIN OPERATION SUB-OPERATION EXTRA" and the domain XML on stdin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svff.h"

#define PROGRAM "svff-qemu-hook"
#define MAX_XML_SIZE (16 * 1024 * 1024)

static bool wants_xml(const char *operation)
{
	return strcmp(operation, "prepare") == 0 || strcmp(operation, "release") == 0;
}

/* All of stdin, at most MAX_XML_SIZE bytes; a larger input is refused, not cut. */
static int read_stdin(char **ret_text, size_t *ret_size)
{
	size_t size = 0, cap = 65536;
	char *text = malloc(cap);

	while (text) {
		ssize_t n = read(STDIN_FILENO, text + size, cap - size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*ret_text = text;
			*ret_size = size;
			return n < 0 ? -errno : 0;
		}
		size += (size_t)n;
		if (size > MAX_XML_SIZE)
			break;
		if (size == cap) {
			char *grown = realloc(text, cap * 2);

			if (!grown)
				break;
			text = grown;
			cap *= 2;
		}
	}
	free(text);
	return -EFBIG;
}

int main(int argc, char **argv)
{
	struct svff_config config = { .program = PROGRAM, .max_level = SVFF_LOG_WARNING,
				      .state_dir = secure_getenv("SVFF_STATE_DIR"),
				      .conf_file = secure_getenv("SVFF_CONF_FILE") };
	struct svff_ctx *ctx = NULL;
	char *xml = NULL;
	size_t size = 0;
	int r = 0;

	if (argc < 4) {
		fprintf(stderr, "%s: expected DOMAIN OPERATION SUB-OPERATION [EXTRA] and the "
			"domain XML on stdin; libvirt runs this hook, see svff-qemu-hook(8)\n",
			PROGRAM);
		return SVFF_EXIT_USAGE;
	}
	if (wants_xml(argv[2])) {
		if (isatty(STDIN_FILENO)) {
			fprintf(stderr, "%s: expected the domain XML on stdin\n", PROGRAM);
			return SVFF_EXIT_USAGE;
		}
		r = read_stdin(&xml, &size);
		if (r < 0)
			fprintf(stderr, "%s: cannot read the domain XML of '%s' from stdin: %s\n",
				PROGRAM, argv[1], r == -EFBIG ? "larger than 16 MiB" : strerror(-r));
	}
	if (r == 0)
		r = svff_ctx_new(&config, &ctx);
	if (r == 0)
		r = svff_hook_qemu(ctx, argv[2], argv[3], xml, size);
	svff_ctx_unref(ctx);
	free(xml);
	/* reconnect must never fail, or libvirtd kills the running domain */
	if (strcmp(argv[2], "reconnect") == 0)
		return 0;
	return r == -EFBIG ? SVFF_EXIT_USAGE : svff_exit_code(r);
}
