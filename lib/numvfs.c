/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ops.h"

static int pidfd_open_compat(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The child's write result, or -ETIMEDOUT if it is still blocked at the deadline. */
static int wait_child(pid_t pid, usec_t deadline)
{
	_cleanup_close_ int pidfd = pidfd_open_compat(pid);
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	usec_t now = now_usec();
	int status;

	if (pidfd < 0)
		return negative_errno();
	if (poll(&pfd, 1, now >= deadline ? 0 : (int)((deadline - now + 999) / 1000)) == 0)
		return -ETIMEDOUT;
	if (waitpid(pid, &status, 0) < 0)
		return negative_errno();
	if (!WIFEXITED(status))
		return -EINTR;
	return -WEXITSTATUS(status);
}

/*
 * Write sriov_numvfs from a child: the kernel's write of 0 blocks while a VF is
 * held, and a blocked writer cannot be interrupted. On -ETIMEDOUT the child is
 * left to finish the write once the holder lets go.
 */
int numvfs_write(struct svff_ctx *ctx, const char *pf, unsigned numvfs, usec_t deadline)
{
	char path[PATH_MAX], value[16];
	pid_t pid;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", pf);
	snprintf(value, sizeof(value), "%u", numvfs);
	pid = fork();
	if (pid < 0)
		return negative_errno();
	if (pid == 0) {
		int r = sysfs_write_attr(path, value);

		_exit(r < 0 ? -r : 0);
	}
	return wait_child(pid, deadline);
}
