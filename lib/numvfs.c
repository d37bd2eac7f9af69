/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "conf.h"
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

/* The driver svff.conf names for the PF's VFs, or "" when the PF is not listed there. */
static void configured_driver(struct svff_ctx *ctx, const char *pf, char *buf, size_t size)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	const struct managed_pf *managed;

	buf[0] = '\0';
	if (conf_load(ctx, ctx->conf_file, &conf) < 0)
		return;
	managed = conf_find_pf(conf, pf);
	if (managed)
		snprintf(buf, size, "%s", managed->driver);
}

/*
 * After numvfs N: every VF exists, is bound to its configured driver (by svff's udev
 * rule, which shows udev has the events) and udev has finished with them, so the
 * site's own rules that prepare new VFs have run before the VFs go back to guests.
 */
int vfs_wait_ready(struct svff_ctx *ctx, const char *pf, unsigned numvfs, usec_t deadline)
{
	_cleanup_(pf_info_freep) struct pf_info *now = NULL;
	char driver[64];
	int r = sysfs_pf_load(ctx, pf, &now);

	if (r == 0 && now->n_vfs != numvfs)
		r = log_errno(ctx, -EIO, "PF '%s' shows %zu VFs, not %u", pf, now->n_vfs, numvfs);
	configured_driver(ctx, pf, driver, sizeof(driver));
	for (size_t i = 0; r == 0 && driver[0] && i < now->n_vfs; i++) {
		r = sysfs_wait_driver(ctx, now->vfs[i].bdf, driver, deadline);
		if (r == -ETIMEDOUT)
			r = log_errno(ctx, r, "VF '%s' was not bound to '%s' in time; are svff's "
				      "udev rules installed?", now->vfs[i].bdf, driver);
	}
	if (r == 0 && udev_wait_settled(ctx, deadline) < 0)
		log_warning(ctx, "udev is still busy with the new VFs of PF '%s'", pf);
	return r;
}
