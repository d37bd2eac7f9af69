/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "svff-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static bool pid_has_open(const char *proc_root, const char *pid, const char *target)
{
	char path[PATH_MAX];
	_cleanup_(closedirp) DIR *fds = NULL;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/%s/fd", proc_root, pid);
	fds = opendir(path);
	if (!fds)
		return false; /* gone, or a kernel thread */
	while ((de = readdir(fds))) {
		char dest[PATH_MAX];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(fds), de->d_name, dest, sizeof(dest) - 1);
		if (n < 0)
			continue;
		dest[n] = '\0';
		if (strcmp(dest, target) == 0)
			return true;
	}
	return false;
}

/* The first process that has /dev/vfio/<group> open: 1 and its pid, or 0 if none. */
int vfio_group_holder(struct svff_ctx *ctx, int group, pid_t *ret_pid)
{
	_cleanup_(closedirp) DIR *proc = NULL;
	char target[64];
	struct dirent *de;

	if (group < 0)
		return 0;
	snprintf(target, sizeof(target), "/dev/vfio/%d", group);
	proc = opendir(ctx->proc_root);
	if (!proc)
		return log_errno(ctx, negative_errno(), "cannot list processes in '%s': %m",
				 ctx->proc_root);
	while ((de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (pid_has_open(ctx->proc_root, de->d_name, target)) {
			if (ret_pid)
				*ret_pid = (pid_t)strtol(de->d_name, NULL, 10);
			return 1;
		}
	}
	return 0;
}

/* QEMU closes the group shortly after libvirt reports the removal. */
int vfio_wait_released(struct svff_ctx *ctx, int group, usec_t deadline)
{
	int r;

	for (;;) {
		r = vfio_group_holder(ctx, group, NULL);
		if (r <= 0)
			return r;
		if (now_usec() >= deadline)
			return -ETIMEDOUT;
		poll_pause();
	}
}

int pf_check_not_held(struct svff_ctx *ctx, const struct pf_info *pf)
{
	int result = 0;

	for (size_t i = 0; i < pf->n_vfs; i++) {
		pid_t pid;

		if (vfio_group_holder(ctx, pf->vfs[i].iommu_group, &pid) <= 0)
			continue;
		result = log_errno(ctx, -ETXTBSY,
				   "VF '%s' of PF '%s' is held by process %d (/dev/vfio/%d); "
				   "numvfs cannot change while a VF is held: stop that process or "
				   "detach the VF from its domain",
				   pf->vfs[i].bdf, pf->bdf, (int)pid, pf->vfs[i].iommu_group);
	}
	return result;
}
