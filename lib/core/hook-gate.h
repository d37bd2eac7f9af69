/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether the hook's operation may concern svff at all (prepare begin, release end). */
bool hook_gate_operation(const char *operation, const char *sub_operation);
/* Whether the config file names at least one PF, or cannot be read (the worker then says why). */
bool hook_gate_config(const char *path);
/*
 * Whether the domain XML may hold a PCI host device: every form svff handles has the
 * word "hostdev" in it. A byte search, deciding only "certainly not"; the XML itself
 * is parsed by the worker with libxml2.
 */
bool hook_gate_xml(const char *xml, size_t size);
/* Run the worker with the same arguments and the XML read so far as its stdin. */
int hook_gate_exec_worker(const char *worker, char **argv, const char *xml, size_t size);
/* All of stdin, at most 16 MiB: a larger input is refused (-EFBIG), not cut. */
int hook_gate_read_input(char **ret_text, size_t *ret_size);
void hook_gate_warn(const char *program, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hook_gate_drain_input(void);
