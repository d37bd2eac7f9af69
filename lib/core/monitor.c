/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <poll.h>
#include <string.h>

#include "svff-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_monitor *, udev_monitor_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_device *, udev_device_unref);

bool sysfs_has_driver(struct svff_ctx *ctx, const char *bdf, const char *driver)
{
	_cleanup_(udev_device_unrefp) struct udev_device *dev =
		udev_device_new_from_subsystem_sysname(ctx->udev, "pci", bdf);
	const char *bound = dev ? udev_device_get_driver(dev) : NULL;

	return bound && (!driver || strcmp(bound, driver) == 0);
}

/* PCI events from "kernel" or "udev" (the latter once udev has finished with them). */
struct udev_monitor *pci_monitor(struct svff_ctx *ctx, const char *source)
{
	struct udev_monitor *monitor = udev_monitor_new_from_netlink(ctx->udev, source);

	if (!monitor)
		return NULL;
	/* Many VFs at once must not overflow the socket: a lost event would read as busy. */
	udev_monitor_set_receive_buffer_size(monitor, 16 * 1024 * 1024);
	if (udev_monitor_filter_add_match_subsystem_devtype(monitor, "pci", NULL) < 0 ||
	    udev_monitor_enable_receiving(monitor) < 0)
		return udev_monitor_unref(monitor);
	return monitor;
}

static int wait_for_event(struct udev_monitor *monitor, usec_t deadline)
{
	struct pollfd pfd = { .fd = udev_monitor_get_fd(monitor), .events = POLLIN };
	usec_t now = now_usec();
	int r;

	if (now >= deadline)
		return -ETIMEDOUT;
	r = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
	if (r < 0)
		return errno == EINTR ? 0 : negative_errno();
	if (r == 0)
		return -ETIMEDOUT;
	udev_device_unref(udev_monitor_receive_device(monitor));
	return 0;
}

/*
 * Wait until the PCI function is bound to the driver: the monitor is listening
 * before the first look, so a bind that happens in between is not missed.
 */
int sysfs_wait_driver(struct svff_ctx *ctx, const char *bdf, const char *driver,
		      usec_t deadline)
{
	/*
	 * Kernel events, not udev's: the driver link is what counts, and inside a udev
	 * rule udev holds back later events of the device it is working on.
	 */
	_cleanup_(udev_monitor_unrefp) struct udev_monitor *monitor = pci_monitor(ctx, "kernel");
	int r;

	if (!monitor)
		return log_errno(ctx, -ENOMEM, "cannot listen to udev events");
	while (!sysfs_has_driver(ctx, bdf, driver)) {
		r = wait_for_event(monitor, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}
