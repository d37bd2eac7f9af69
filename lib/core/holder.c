/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A process holds a VF through VFIO by its IOMMU group's node, /dev/vfio/N (libvirt's QEMU
 * on both Debian 12 and 13), or, on kernels with the VFIO device cdev (Linux 6.6 and later
 * with CONFIG_VFIO_DEVICE_CDEV, which neither Debian 12's 6.1 nor Debian 13's 6.12 has; see
 * sysfs.c), by the VF's own node /dev/vfio/devices/vfioX, which iommufd users (QEMU's iommufd backend, DPDK) open
 * instead of the group. Either open keeps the kernel from removing the VF, so a numvfs
 * write would wait for it: both count as holding the VF.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "svff-internal.h"

enum { VFIO_NODES_MAX = 2 };

/* The index in nodes of the first one the process has open, or -1. */
static int pid_open_node(const char *proc_root, const char *pid, char nodes[][64], size_t n_nodes)
{
	char path[PATH_MAX];
	_cleanup_(closedirp) DIR *fds = NULL;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/%s/fd", proc_root, pid);
	fds = opendir(path);
	if (!fds)
		return -1; /* gone, or a kernel thread */
	while ((de = readdir(fds))) {
		char dest[PATH_MAX];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(fds), de->d_name, dest, sizeof(dest) - 1);
		if (n < 0)
			continue;
		dest[n] = '\0';
		for (size_t i = 0; i < n_nodes; i++)
			if (strcmp(dest, nodes[i]) == 0)
				return (int)i;
	}
	return -1;
}

static size_t vfio_nodes(int group, const char *device, char nodes[VFIO_NODES_MAX][64])
{
	size_t n = 0;

	if (group >= 0)
		snprintf(nodes[n++], sizeof(nodes[0]), "/dev/vfio/%d", group);
	if (device && device[0])
		snprintf(nodes[n++], sizeof(nodes[0]), "/dev/vfio/devices/%s", device);
	return n;
}

/* The first process that has the VF's group or device node open: 1 and the holder, or 0. */
int vfio_holder_find(struct svff_ctx *ctx, int group, const char *device,
		     struct vfio_holder *ret_holder)
{
	_cleanup_(closedirp) DIR *proc = NULL;
	char nodes[VFIO_NODES_MAX][64];
	size_t n_nodes = vfio_nodes(group, device, nodes);
	struct dirent *de;

	if (n_nodes == 0)
		return 0;
	proc = opendir(ctx->proc_root);
	if (!proc)
		return log_errno(ctx, negative_errno(), "cannot list processes in '%s': %m",
				 ctx->proc_root);
	while ((de = readdir(proc))) {
		int i;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		i = pid_open_node(ctx->proc_root, de->d_name, nodes, n_nodes);
		if (i < 0)
			continue;
		if (ret_holder) {
			ret_holder->pid = (pid_t)strtol(de->d_name, NULL, 10);
			snprintf(ret_holder->node, sizeof(ret_holder->node), "%s", nodes[i]);
		}
		return 1;
	}
	return 0;
}

/* QEMU closes the group shortly after libvirt reports the removal. */
int vfio_wait_released(struct svff_ctx *ctx, int group, const char *device, usec_t deadline)
{
	int r;

	for (;;) {
		r = vfio_holder_find(ctx, group, device, NULL);
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
		const struct vf_info *vf = &pf->vfs[i];
		struct vfio_holder holder;

		if (vfio_holder_find(ctx, vf->iommu_group, vf->vfio_device, &holder) <= 0)
			continue;
		result = log_errno(ctx, -ETXTBSY,
				   "VF '%s' of PF '%s' is held by process %d (%s); "
				   "numvfs cannot change while a VF is held: stop that process or "
				   "detach the VF from its domain",
				   vf->bdf, pf->bdf, (int)holder.pid, holder.node);
	}
	return result;
}
