/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hook-gate.h"

#define MAX_XML_SIZE (16 * 1024 * 1024)

bool hook_gate_operation(const char *operation, const char *sub_operation)
{
	return (strcmp(operation, "prepare") == 0 && strcmp(sub_operation, "begin") == 0) ||
	       (strcmp(operation, "release") == 0 && strcmp(sub_operation, "end") == 0);
}

bool hook_gate_config(const char *path)
{
	GKeyFile *file = g_key_file_new();
	GError *error = NULL;
	gsize n_groups = 0;
	bool relevant;

	if (g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, &error))
		g_strfreev(g_key_file_get_groups(file, &n_groups));
	relevant = n_groups > 0 || (error && !g_error_matches(error, G_FILE_ERROR,
							      G_FILE_ERROR_NOENT));
	if (error)
		g_error_free(error);
	g_key_file_free(file);
	return relevant;
}

bool hook_gate_xml(const char *xml, size_t size)
{
	return memmem(xml, size, "hostdev", strlen("hostdev")) != NULL;
}

static int write_all(int fd, const char *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

int hook_gate_exec_worker(const char *worker, char **argv, const char *xml, size_t size)
{
	int fd = memfd_create("svff-domain-xml", MFD_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, xml, size);
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
