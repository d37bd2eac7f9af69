/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hook-gate.h"
#include "statefile.h"

#define MAX_XML_SIZE (16 * 1024 * 1024)

bool hook_gate_operation(const char *operation, const char *sub_operation)
{
	return (strcmp(operation, "prepare") == 0 && strcmp(sub_operation, "begin") == 0) ||
	       (strcmp(operation, "release") == 0 && strcmp(sub_operation, "end") == 0);
}

bool hook_gate_config(const char *path)
{
	GKeyFile *file;
	char *text = NULL;
	size_t size = 0;
	gsize n_groups = 0;
	int r = state_file_read(path, 1024 * 1024, &text, &size);

	/* Missing: nothing managed. Unreadable: the worker says why, with file and line. */
	if (r == -ENOENT)
		return false;
	if (r < 0)
		return true;
	file = g_key_file_new();
	if (!memchr(text, '\0', size) &&
	    g_key_file_load_from_data(file, text, size, G_KEY_FILE_NONE, NULL))
		g_strfreev(g_key_file_get_groups(file, &n_groups));
	else
		n_groups = 1;
	g_key_file_free(file);
	free(text);
	return n_groups > 0;
}

bool hook_gate_xml(const char *xml, size_t size)
{
	size_t start = 0;

	while (start < size && strchr(" \t\r\n", xml[start]))
		start++;
	/* What a byte search cannot read (another encoding, character references): the worker. */
	if (start == size || xml[start] != '<' || memmem(xml, size, "&#", 2))
		return true;
	return memmem(xml, size, "hostdev", strlen("hostdev")) != NULL;
}

int hook_gate_exec_worker(const char *worker, char **argv, const char *xml, size_t size)
{
	int fd = memfd_create("svff-domain-xml", MFD_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, xml, size);
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	if (r == 0 && dup2(fd, STDIN_FILENO) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	argv[0] = (char *)worker;
	execv(worker, argv);
	return -errno;
}

/* All of stdin, at most MAX_XML_SIZE bytes; a larger input is refused, not cut. */
int hook_gate_read_input(char **ret_text, size_t *ret_size)
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

void hook_gate_warn(const char *program, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: warning: %s\n", program, msg);
	openlog(program, LOG_PID, LOG_DAEMON);
	syslog(LOG_WARNING, "%s", msg);
	closelog();
}

/* What is left of stdin, so that libvirt's write of it ends normally; bounded in time. */
void hook_gate_drain_input(void)
{
	char buf[65536];
	time_t start = time(NULL);

	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0 && time(NULL) - start < 5)
		;
}
