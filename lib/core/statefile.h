/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff-internal.h"

/*
 * Every file svff keeps goes through these two. Writes are atomic: a temporary file
 * created with O_EXCL, written fully, fsync, renamed over the name, the directory
 * fsynced. Reads treat the file as hostile: no symlink followed, no FIFO or device
 * opened for reading, nothing larger than max_size read.
 */
int state_file_write_at(int dir_fd, const char *name, const char *text);
/*
 * The same, calling at_step (when not NULL) after each step of it is done: "write",
 * "fsync", "rename", "dirsync" (the directory's fsync); for the fault points of test
 * builds.
 */
typedef void (*state_file_step_fn)(void *userdata, const char *step);
int state_file_write_steps(int dir_fd, const char *name, const char *text,
			   state_file_step_fn at_step, void *userdata);
/*
 * Whether a directory entry is the temporary file of a write that never reached its
 * rename (a crash, a power loss): ".NAME.PID.tmp"; ret_pid (may be NULL) the writer's.
 * Such a file is never read as svff's: readers skip names that begin with a dot.
 */
bool state_file_is_temp(const char *name, int *ret_pid);
/* -ENOENT quietly; -EBADMSG for what cannot be svff's file (not regular, too large). */
int state_file_read_at(int dir_fd, const char *name, size_t max_size, char **ret_text,
		       size_t *ret_size);
/* The same for a path (svff.conf): its last component is not followed either. */
int state_file_read(const char *path, size_t max_size, char **ret_text, size_t *ret_size);
int state_dir_open(struct svff_ctx *ctx, const char *subdir);
/* All of it, through short writes and EINTR. */
int fd_write_all(int fd, const char *text, size_t len);
