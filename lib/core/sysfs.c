/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "svff-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_device *, udev_device_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_enumerate *, udev_enumerate_unref);

static int parse_unsigned(const char *text, unsigned *ret)
{
	char *end;
	unsigned long value;

	if (!text || !*text)
		return -EBADMSG;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > UINT_MAX)
		return -EBADMSG;
	*ret = (unsigned)value;
	return 0;
}

static struct udev_device *pci_device(struct svff_ctx *ctx, const char *bdf)
{
	return udev_device_new_from_subsystem_sysname(ctx->udev, "pci", bdf);
}

/* The device a symlink such as "virtfn3" or "physfn" of dev points to. */
static struct udev_device *linked_device(struct svff_ctx *ctx, struct udev_device *dev,
					 const char *link)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", udev_device_get_syspath(dev), link);
	return udev_device_new_from_syspath(ctx->udev, path);
}

static int iommu_group_of(struct udev_device *dev)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *slash;
	unsigned group;

	snprintf(path, sizeof(path), "%s/iommu_group", udev_device_get_syspath(dev));
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	slash = strrchr(target, '/');
	if (parse_unsigned(slash ? slash + 1 : target, &group) < 0)
		return -1;
	return (int)group;
}

/*
 * "vfioX" of the VF's VFIO device cdev (holder.c), "" when the kernel has none for it. Since
 * Linux 6.1 a VF on vfio-pci has vfio-dev/vfioX; it is a character device (with a "dev"
 * attribute) only with CONFIG_VFIO_DEVICE_CDEV, which Debian 12's and 13's kernels lack.
 */
static void vfio_device_of(struct udev_device *dev, char *buf, size_t size)
{
	char path[PATH_MAX];
	_cleanup_(closedirp) DIR *dir = NULL;
	struct dirent *de;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/vfio-dev", udev_device_get_syspath(dev));
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (strncmp(de->d_name, "vfio", 4) != 0 || len >= size)
			continue;
		snprintf(path, sizeof(path), "%s/dev", de->d_name);
		if (faccessat(dirfd(dir), path, F_OK, 0) == 0)
			memcpy(buf, de->d_name, len + 1);
		return;
	}
}

int pci_class_parse(const char *text, unsigned *ret)
{
	char *end;
	unsigned long value;

	if (!text || !*text || *text == '-' || *text == '+')
		return -EBADMSG;
	errno = 0;
	value = strtoul(text, &end, 16);
	if (errno != 0 || *end != '\0' || value == 0 || value > 0xffffff)
		return -EBADMSG;
	*ret = (unsigned)value;
	return 0;
}

/* The PCI class code of the "class" attribute; 0 when it cannot be read. */
static unsigned pci_class_of(struct udev_device *dev)
{
	unsigned class = 0;

	pci_class_parse(udev_device_get_sysattr_value(dev, "class"), &class);
	return class;
}

static void copy_driver(struct udev_device *dev, char *buf, size_t size)
{
	const char *driver = udev_device_get_driver(dev);

	snprintf(buf, size, "%s", driver ? driver : "");
}

static int load_vfs(struct svff_ctx *ctx, struct udev_device *pf_dev, struct pf_info *pf)
{
	pf->vfs = calloc(pf->numvfs ? pf->numvfs : 1, sizeof(*pf->vfs));
	if (!pf->vfs)
		return -ENOMEM;
	for (unsigned i = 0; i < pf->numvfs; i++) {
		char link[32];
		_cleanup_(udev_device_unrefp) struct udev_device *vf = NULL;
		struct vf_info *info = &pf->vfs[pf->n_vfs];

		snprintf(link, sizeof(link), "virtfn%u", i);
		vf = linked_device(ctx, pf_dev, link);
		/* numvfs and the links change together; a missing link means it is changing now. */
		if (!vf)
			continue;
		info->index = i;
		snprintf(info->bdf, sizeof(info->bdf), "%s", udev_device_get_sysname(vf));
		copy_driver(vf, info->driver, sizeof(info->driver));
		info->iommu_group = iommu_group_of(vf);
		vfio_device_of(vf, info->vfio_device, sizeof(info->vfio_device));
		info->pci_class = pci_class_of(vf);
		pf->n_vfs++;
	}
	return 0;
}

static int check_is_sriov_pf(struct svff_ctx *ctx, struct udev_device *dev, const char *bdf)
{
	_cleanup_(udev_device_unrefp) struct udev_device *parent = NULL;

	if (udev_device_get_sysattr_value(dev, "sriov_totalvfs"))
		return 0;
	parent = linked_device(ctx, dev, "physfn");
	if (parent)
		return log_errno(ctx, -EOPNOTSUPP,
				 "'%s' is a VF of PF '%s', not a PF; give the PF with --pf or "
				 "this VF with --vf",
				 bdf, udev_device_get_sysname(parent));
	return log_errno(ctx, -EOPNOTSUPP,
			 "PCI device '%s' has no SR-IOV capability (no sriov_totalvfs); "
			 "give the BDF of an SR-IOV PF (see 'svff-status')",
			 bdf);
}

/* sriov_drivers_autoprobe: 1 or 0; -1 where the kernel has none. */
static int read_autoprobe(struct udev_device *dev)
{
	unsigned value;

	if (parse_unsigned(udev_device_get_sysattr_value(dev, "sriov_drivers_autoprobe"),
			   &value) < 0)
		return -1;
	return value != 0;
}

/* How much of a PF load() reads. */
enum load_what {
	LOAD_LAYOUT, /* driver, totalvfs, offset, stride: never blocks */
	LOAD_COUNTS, /* and numvfs */
	LOAD_VFS,    /* and each VF */
};

static int read_counts(struct svff_ctx *ctx, struct udev_device *dev, bool with_vfs,
		       struct pf_info *pf)
{
	pf->autoprobe = read_autoprobe(dev);
	if (parse_unsigned(udev_device_get_sysattr_value(dev, "sriov_totalvfs"),
			   &pf->totalvfs) < 0 ||
	    (with_vfs && parse_unsigned(udev_device_get_sysattr_value(dev, "sriov_numvfs"),
					&pf->numvfs) < 0) ||
	    parse_unsigned(udev_device_get_sysattr_value(dev, "sriov_offset"), &pf->offset) < 0 ||
	    parse_unsigned(udev_device_get_sysattr_value(dev, "sriov_stride"), &pf->stride) < 0)
		return log_errno(ctx, -EBADMSG, "PF '%s' has unreadable SR-IOV attributes",
				 pf->bdf);
	return 0;
}

static int check_no_writer(struct svff_ctx *ctx, const char *bdf)
{
	struct numvfs_writer writer;

	if (numvfs_writer_find(ctx, bdf, &writer) == 0)
		return 0;
	return log_errno(ctx, -EBUSY,
			 "PF '%s' is busy: svff's write of numvfs %u (process %d) is still blocked "
			 "in the kernel, most likely by a process holding one of its VFs (see "
			 "svff-status); it completes once that process lets go",
			 bdf, writer.numvfs, (int)writer.pid);
}

static int load(struct svff_ctx *ctx, const char *bdf, enum load_what what,
		struct pf_info **ret_pf)
{
	_cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;
	int r;

	if (!bdf_is_valid(bdf))
		return log_errno(ctx, -EINVAL, "'%s' is not a PCI address; expected dddd:bb:ss.f",
				 bdf);
	if (what >= LOAD_COUNTS) {
		r = check_no_writer(ctx, bdf);
		if (r < 0)
			return r;
	}
	dev = pci_device(ctx, bdf);
	if (!dev)
		return log_errno(ctx, -ENODEV,
				 "no PCI device '%s'; check the address with 'lspci -D'", bdf);
	r = check_is_sriov_pf(ctx, dev, bdf);
	if (r < 0)
		return r;
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	snprintf(pf->bdf, sizeof(pf->bdf), "%s", bdf);
	copy_driver(dev, pf->driver, sizeof(pf->driver));
	r = read_counts(ctx, dev, what >= LOAD_COUNTS, pf);
	if (r == 0 && what == LOAD_VFS)
		r = load_vfs(ctx, dev, pf);
	if (r < 0)
		return r;
	*ret_pf = TAKE_PTR(pf);
	return 0;
}

int sysfs_pf_load(struct svff_ctx *ctx, const char *bdf, struct pf_info **ret_pf)
{
	return load(ctx, bdf, LOAD_VFS, ret_pf);
}

int sysfs_pf_load_counts(struct svff_ctx *ctx, const char *bdf, struct pf_info **ret_pf)
{
	return load(ctx, bdf, LOAD_COUNTS, ret_pf);
}

int sysfs_pf_load_layout(struct svff_ctx *ctx, const char *bdf, struct pf_info **ret_pf)
{
	return load(ctx, bdf, LOAD_LAYOUT, ret_pf);
}

bool sysfs_pf_exists(struct svff_ctx *ctx, const char *bdf)
{
	_cleanup_(udev_device_unrefp) struct udev_device *dev = pci_device(ctx, bdf);

	return dev && udev_device_get_sysattr_value(dev, "sriov_totalvfs");
}

void pf_info_free(struct pf_info *pf)
{
	if (!pf)
		return;
	free(pf->vfs);
	free(pf);
}

int pf_info_dup(const struct pf_info *pf, struct pf_info **ret_pf)
{
	struct vf_info *vfs = calloc(pf->n_vfs + 1, sizeof(*vfs));
	struct pf_info *copy = malloc(sizeof(*copy));

	if (!vfs || !copy) {
		free(vfs);
		free(copy);
		return -ENOMEM;
	}
	if (pf->n_vfs > 0)
		memcpy(vfs, pf->vfs, pf->n_vfs * sizeof(*vfs));
	*copy = *pf;
	copy->vfs = vfs;
	*ret_pf = copy;
	return 0;
}

const struct vf_info *pf_find_vf_by_bdf(const struct pf_info *pf, const char *bdf)
{
	for (size_t i = 0; i < pf->n_vfs; i++)
		if (strcmp(pf->vfs[i].bdf, bdf) == 0)
			return &pf->vfs[i];
	return NULL;
}

const struct vf_info *pf_find_vf_by_index(const struct pf_info *pf, unsigned index)
{
	for (size_t i = 0; i < pf->n_vfs; i++)
		if (pf->vfs[i].index == index)
			return &pf->vfs[i];
	return NULL;
}

/* n lower-case hex digits, as in a canonical BDF. */
static bool parse_hex_digits(const char *text, size_t n, unsigned *ret)
{
	unsigned value = 0;

	for (size_t i = 0; i < n; i++) {
		char c = text[i];

		if (c >= '0' && c <= '9')
			value = value << 4 | (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			value = value << 4 | (unsigned)(c - 'a' + 10);
		else
			return false;
	}
	*ret = value;
	return true;
}

/* The PCI domain and routing ID (bus, device, function) of a canonical "dddd:bb:ss.f". */
static bool routing_id(const char *bdf, unsigned *ret_domain, unsigned *ret_rid)
{
	unsigned domain, bus, slot, function;

	if (strlen(bdf) != SVFF_BDF_SIZE - 1 || bdf[4] != ':' || bdf[7] != ':' ||
	    bdf[10] != '.' || !parse_hex_digits(bdf, 4, &domain) ||
	    !parse_hex_digits(bdf + 5, 2, &bus) || !parse_hex_digits(bdf + 8, 2, &slot) ||
	    !parse_hex_digits(bdf + 11, 1, &function) || slot > 0x1f || function > 7)
		return false;
	*ret_domain = domain;
	*ret_rid = bus << 8 | slot << 3 | function;
	return true;
}

/*
 * Whether bdf is the address VF n of the PF has, or would have with numvfs > n:
 * 1 and n, or 0. The kernel gives VF n the routing ID PF + offset + n * stride, in the
 * PF's PCI domain.
 */
int pf_vf_slot(const struct pf_info *pf, const char *bdf, unsigned *ret_index)
{
	unsigned pf_domain, pf_rid, domain, rid, delta, n;

	if (!routing_id(pf->bdf, &pf_domain, &pf_rid) || !routing_id(bdf, &domain, &rid) ||
	    domain != pf_domain || pf->totalvfs == 0 || rid < pf_rid + pf->offset)
		return 0;
	delta = rid - pf_rid - pf->offset;
	if (pf->stride == 0) /* every VF at one address: only VF 0 is told apart */
		n = 0;
	else if (delta % pf->stride == 0)
		n = delta / pf->stride;
	else
		return 0;
	if ((pf->stride == 0 && delta != 0) || n >= pf->totalvfs)
		return 0;
	*ret_index = n;
	return 1;
}

static int write_device_attr(struct udev_device *dev, const char *attr, const char *value)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", udev_device_get_syspath(dev), attr);
	return sysfs_write_attr(path, value);
}

/* driver_override, unbind from another driver, probe: then wait for the bind event. */
int sysfs_bind_driver(struct svff_ctx *ctx, const char *bdf, const char *driver,
		      usec_t deadline)
{
	_cleanup_(udev_device_unrefp) struct udev_device *dev = pci_device(ctx, bdf);
	const char *bound;
	int r;

	if (!dev)
		return log_errno(ctx, -ENODEV, "no PCI device '%s'", bdf);
	bound = udev_device_get_driver(dev);
	if (bound && strcmp(bound, driver) == 0)
		return 0;
	r = write_device_attr(dev, "driver_override", driver);
	if (r == 0 && bound)
		r = write_device_attr(dev, "driver/unbind", bdf);
	if (r == 0)
		r = sysfs_write_attr("/sys/bus/pci/drivers_probe", bdf);
	if (r == 0)
		r = sysfs_wait_driver(ctx, bdf, driver, deadline);
	if (r < 0) {
		errno = -r;
		return log_errno(ctx, r, "cannot bind VF '%s' to driver '%s': %m; is the driver "
				 "loaded ('modprobe %s')?", bdf, driver, driver);
	}
	LOG_SCOPE(NULL, bdf, NULL, NULL);
	log_journal(ctx, SVFF_LOG_INFO, VF_BOUND, "VF '%s' bound to driver '%s'", bdf, driver);
	return 0;
}

static int compare_bdfs(const void *a, const void *b)
{
	return strcmp(a, b);
}

int sysfs_pf_list(struct svff_ctx *ctx, char (**ret_bdfs)[SVFF_BDF_SIZE], size_t *ret_n)
{
	_cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = udev_enumerate_new(ctx->udev);
	_cleanup_free_ char(*bdfs)[SVFF_BDF_SIZE] = NULL;
	struct udev_list_entry *entry;
	size_t n = 0;

	if (!e)
		return -ENOMEM;
	udev_enumerate_add_match_subsystem(e, "pci");
	udev_enumerate_add_match_sysattr(e, "sriov_totalvfs", NULL);
	if (udev_enumerate_scan_devices(e) < 0)
		return log_errno(ctx, -EIO, "cannot enumerate PCI devices");
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e))
	{
		const char *name = strrchr(udev_list_entry_get_name(entry), '/');
		void *grown;

		if (!name || !bdf_is_valid(name + 1))
			continue;
		grown = realloc(bdfs, (n + 1) * sizeof(*bdfs));
		if (!grown)
			return -ENOMEM;
		bdfs = grown;
		snprintf(bdfs[n++], SVFF_BDF_SIZE, "%s", name + 1);
	}
	if (n > 0)
		qsort(bdfs, n, sizeof(*bdfs), compare_bdfs);
	*ret_bdfs = TAKE_PTR(bdfs);
	*ret_n = n;
	return 0;
}

/*
 * The PF of a VF, quietly: 1 and its BDF; 0 when the device is there but no VF (or bdf
 * is no PCI address); -ENODEV when there is no such device (a VF slot not enabled now).
 */
int sysfs_vf_physfn(struct svff_ctx *ctx, const char *vf_bdf, char ret_pf[SVFF_BDF_SIZE])
{
	_cleanup_(udev_device_unrefp) struct udev_device *vf = NULL, *parent = NULL;

	if (!bdf_is_valid(vf_bdf))
		return 0;
	vf = pci_device(ctx, vf_bdf);
	if (!vf)
		return -ENODEV;
	parent = linked_device(ctx, vf, "physfn");
	if (!parent)
		return 0;
	snprintf(ret_pf, SVFF_BDF_SIZE, "%s", udev_device_get_sysname(parent));
	return 1;
}

/*
 * The index of a VF of the PF, from the PF's layout alone: reading numvfs would block
 * behind a numvfs write, and udev runs svff-udev for the new VFs while the write that
 * creates them is still in the kernel.
 */
int sysfs_vf_index(struct svff_ctx *ctx, const char *pf_bdf, const char *vf_bdf,
		   unsigned *ret_index)
{
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;
	int r = sysfs_pf_load_layout(ctx, pf_bdf, &pf);

	if (r < 0)
		return r;
	if (!pf_vf_slot(pf, vf_bdf, ret_index))
		return log_errno(ctx, -ENODEV,
				 "'%s' is at none of the VF addresses of its PF '%s' "
				 "(sriov_offset, sriov_stride)",
				 vf_bdf, pf_bdf);
	return 0;
}

/* The PF of a VF and the VF's index n, each failure logged. */
int sysfs_vf_parent(struct svff_ctx *ctx, const char *vf_bdf, char ret_pf[SVFF_BDF_SIZE],
		    unsigned *ret_index)
{
	int r;

	if (!bdf_is_valid(vf_bdf))
		return log_errno(ctx, -EINVAL, "'%s' is not a PCI address; expected dddd:bb:ss.f",
				 vf_bdf);
	r = sysfs_vf_physfn(ctx, vf_bdf, ret_pf);
	if (r == -ENODEV)
		return log_errno(ctx, -ENODEV,
				 "no PCI device '%s'; check the address with 'lspci -D'", vf_bdf);
	if (r == 0)
		return log_errno(ctx, -EOPNOTSUPP,
				 "'%s' is not an SR-IOV VF (no physfn link); give a VF, or a PF "
				 "with --pf",
				 vf_bdf);
	return sysfs_vf_index(ctx, ret_pf, vf_bdf, ret_index);
}

/* One write(), so the driver's errno reaches the caller (stdio would hide it). */
int sysfs_write_attr(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return negative_errno();
	n = write(fd, value, len);
	if (n < 0)
		return negative_errno();
	return (size_t)n == len ? 0 : -EIO;
}
