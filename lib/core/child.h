/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff-internal.h"

/*
 * The one way svff starts a process: its own process group (a terminal's Ctrl-C and
 * a kill of svff do not reach it; a deadline kills all of it), stdin from /dev/null,
 * no fd of svff's (locks included) beyond 0-2, and a wait on a pidfd with a deadline.
 */
struct child {
	pid_t pid;       /* 0 once reaped */
	pid_t pid_group; /* stays: what the child left running is still in it */
	int pidfd;
	int output_fd; /* read end of the child's stdout and stderr; -EBADF when none */
};

struct child_spec {
	/* exec: path and argv (with envp, or the caller's environment when NULL) ... */
	const char *path;
	char *const *argv;
	char *const *envp;
	/* ... or fork only: run fn, which may call async-signal-safe functions only */
	int (*fn)(const void *userdata);
	const void *userdata;
	bool capture_output; /* a pipe for stdout and stderr; else /dev/null */
	int stdin_fd;        /* the child's stdin when > 0; else /dev/null */
};

int child_start(const struct child_spec *spec, struct child *ret_child);
/*
 * Wait until the child exits or the deadline passes: its exit status (>= 0, or 128 + the
 * signal that killed it), -ETIMEDOUT at the deadline (the child is left running), or
 * -EINTR when svff is interrupted and interruptible is set. Each line the child prints is
 * passed to on_line.
 */
int child_wait(struct svff_ctx *ctx, struct child *child, usec_t deadline, bool interruptible,
	       void (*on_line)(void *userdata, const char *line), void *userdata);
/* Kill the child's whole process group and reap the child. */
void child_kill_group(struct child *child, int sig);
/* SIGKILL to what the child left running in its group, also after it was reaped. */
void child_kill_leftovers(struct child *child);
void child_done(struct child *child);
