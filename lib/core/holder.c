/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A process holds a VF through VFIO by its IOMMU group's node, /dev/vfio/N (libvirt's QEMU
 * on both Debian 12 and 13), or, on kernels with the VFIO device cdev (Linux 6.6 and later
 * with CONFIG_VFIO_DEVICE_CDEV, which neither Debian 12's 6.1 nor Debian 13's 6.12 has; see
 * sysfs.c), by the VF's own node /dev/vfio/devices/vfioX, which iommufd users (QEMU's iommufd backend, DPDK) open
 * instead of the group. Either open keeps the kernel from removing the VF, so a numvfs
 * write would wait for it: both count as holding the VF.
 */
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "svff-internal.h"

enum { VFIO_NODES_MAX = 2 };

#define VFIO_PREFIX "/dev/vfio/"

/* Called for each VFIO node a process has open, in the order of /proc; true ends the walk. */
typedef bool (*node_fn)(const char *node, pid_t pid, void *userdata);

/* Each /dev/vfio/... the process has open; true when fn ended the walk. */
static bool walk_pid(const char *proc_root, const char *pid, node_fn fn, void *userdata)
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
		if (strncmp(dest, VFIO_PREFIX, strlen(VFIO_PREFIX)) == 0 &&
		    fn(dest, (pid_t)strtol(pid, NULL, 10), userdata))
			return true;
	}
	return false;
}

/* One walk over every process's open files: 1 when fn ended it, else 0. */
static int walk_vfio_nodes(struct svff_ctx *ctx, node_fn fn, void *userdata)
{
	_cleanup_(closedirp) DIR *proc = opendir(ctx->proc_root);
	struct dirent *de;

	if (!proc)
		return log_errno(ctx, negative_errno(), "cannot list processes in '%s': %m",
				 ctx->proc_root);
	while ((de = readdir(proc)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
		    walk_pid(ctx->proc_root, de->d_name, fn, userdata))
			return 1;
	return 0;
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

struct one_vf {
	char nodes[VFIO_NODES_MAX][64];
	size_t n_nodes;
	struct vfio_holder holder;
};

static bool is_the_vfs(const char *node, pid_t pid, void *userdata)
{
	struct one_vf *one = userdata;

	for (size_t i = 0; i < one->n_nodes; i++)
		if (strcmp(node, one->nodes[i]) == 0) {
			one->holder.pid = pid;
			snprintf(one->holder.node, sizeof(one->holder.node), "%s", node);
			return true;
		}
	return false;
}

/* The first process that has the VF's group or device node open: 1 and the holder, or 0. */
int vfio_holder_find(struct svff_ctx *ctx, int group, const char *device,
		     struct vfio_holder *ret_holder)
{
	struct one_vf one = { 0 };
	int r;

	one.n_nodes = vfio_nodes(group, device, one.nodes);
	if (one.n_nodes == 0)
		return 0;
	r = walk_vfio_nodes(ctx, is_the_vfs, &one);
	if (r > 0 && ret_holder)
		*ret_holder = one.holder;
	return r;
}

/* A node's first holder, and where in the walk it was found. */
struct node_holder {
	pid_t pid;
	unsigned long seen;
};

struct scan {
	GHashTable *nodes; /* node -> struct node_holder */
	unsigned long seen;
};

static bool add_holder(const char *node, pid_t pid, void *userdata)
{
	struct scan *scan = userdata;
	struct node_holder *holder;

	scan->seen++;
	if (g_hash_table_contains(scan->nodes, node))
		return false;
	holder = g_new(struct node_holder, 1);
	*holder = (struct node_holder){ .pid = pid, .seen = scan->seen };
	g_hash_table_insert(scan->nodes, g_strdup(node), holder);
	return false;
}

int vfio_holders_scan(struct svff_ctx *ctx, struct vfio_holders *ret)
{
	struct scan scan = { .nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							    g_free) };
	int r = walk_vfio_nodes(ctx, add_holder, &scan);

	if (r < 0) {
		g_hash_table_unref(scan.nodes);
		return r;
	}
	ret->nodes = scan.nodes;
	return 0;
}

/* What vfio_holder_find() would say, without walking /proc again. */
int vfio_holders_find(const struct vfio_holders *holders, int group, const char *device,
		      struct vfio_holder *ret_holder)
{
	char nodes[VFIO_NODES_MAX][64];
	size_t n_nodes = vfio_nodes(group, device, nodes);
	const struct node_holder *first = NULL;
	const char *first_node = NULL;

	for (size_t i = 0; holders->nodes && i < n_nodes; i++) {
		const struct node_holder *h = g_hash_table_lookup(holders->nodes, nodes[i]);

		if (h && (!first || h->seen < first->seen)) {
			first = h;
			first_node = nodes[i];
		}
	}
	if (!first)
		return 0;
	if (ret_holder) {
		ret_holder->pid = first->pid;
		snprintf(ret_holder->node, sizeof(ret_holder->node), "%s", first_node);
	}
	return 1;
}

void vfio_holders_done(struct vfio_holders *holders)
{
	if (holders->nodes)
		g_hash_table_unref(holders->nodes);
	holders->nodes = NULL;
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
	struct vfio_holders holders = { 0 };
	int result = vfio_holders_scan(ctx, &holders);

	if (result < 0)
		return result;
	for (size_t i = 0; i < pf->n_vfs; i++) {
		const struct vf_info *vf = &pf->vfs[i];
		struct vfio_holder holder;

		if (!vfio_holders_find(&holders, vf->iommu_group, vf->vfio_device, &holder))
			continue;
		result = log_errno(ctx, -ETXTBSY,
				   "VF '%s' of PF '%s' is held by process %d (%s); "
				   "numvfs cannot change while a VF is held: stop that process or "
				   "detach the VF from its domain",
				   vf->bdf, pf->bdf, (int)holder.pid, holder.node);
	}
	vfio_holders_done(&holders);
	return result;
}
