/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

/*
 * A new VF is ready for a guest when it exists, is bound to its configured driver and
 * udev has finished every event the kernel sent for it: udevd announces an event to
 * its listeners only after the event's RUN programs (a site's rules that prepare new
 * VFs) have ended. With the watch begun before numvfs changes, each VF's last kernel
 * event is matched with udev's; without one (svff-reattach later), udev's queue must
 * be empty.
 */

DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_queue *, udev_queue_unref);

struct device_events {
	unsigned long long kernel_seqnum; /* of the last event the kernel sent */
	unsigned long long udev_seqnum;   /* of the last event udev finished */
};

int ready_watch_begin(struct svff_ctx *ctx, struct ready_watch *ret_watch)
{
	struct ready_watch watch = { 0 };

	watch.kernel = pci_monitor(ctx, "kernel");
	watch.udev = pci_monitor(ctx, "udev");
	watch.devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (!watch.kernel || !watch.udev) {
		ready_watch_end(&watch);
		return log_errno(ctx, -ENOMEM, "cannot listen to udev events");
	}
	*ret_watch = watch;
	return 0;
}

void ready_watch_end(struct ready_watch *watch)
{
	if (!watch)
		return;
	udev_monitor_unref(watch->kernel);
	udev_monitor_unref(watch->udev);
	if (watch->devices)
		g_hash_table_destroy(watch->devices);
	*watch = (struct ready_watch){ 0 };
}

/* The events seen for a PCI function, by its BDF; NULL for anything else. */
static struct device_events *device_entry(struct ready_watch *watch, const char *sysname,
					  bool add)
{
	struct device_events *entry;

	if (!sysname || !bdf_is_valid(sysname))
		return NULL;
	entry = g_hash_table_lookup(watch->devices, sysname);
	if (!entry && add) {
		entry = g_new0(struct device_events, 1);
		g_hash_table_insert(watch->devices, g_strdup(sysname), entry);
	}
	return entry;
}

static void drain(struct ready_watch *watch, struct udev_monitor *monitor, bool from_udev)
{
	struct udev_device *dev;

	while ((dev = udev_monitor_receive_device(monitor))) {
		struct device_events *entry =
			device_entry(watch, udev_device_get_sysname(dev), true);
		unsigned long long seqnum = udev_device_get_seqnum(dev);

		if (entry && from_udev && seqnum > entry->udev_seqnum)
			entry->udev_seqnum = seqnum;
		else if (entry && !from_udev && seqnum > entry->kernel_seqnum)
			entry->kernel_seqnum = seqnum;
		udev_device_unref(dev);
	}
}

static bool udev_queue_empty(struct svff_ctx *ctx)
{
	_cleanup_(udev_queue_unrefp) struct udev_queue *queue = udev_queue_new(ctx->udev);

	return queue && udev_queue_get_queue_is_empty(queue);
}

/* What the VF still waits for, or NULL when it is ready. */
static const char *vf_pending(struct svff_ctx *ctx, struct ready_watch *watch,
			      const char *bdf, const char *driver)
{
	if (driver[0] && !sysfs_has_driver(ctx, bdf, driver))
		return "its driver";
	if (watch && watch->kernel) {
		struct device_events *entry = device_entry(watch, bdf, false);

		/* No event seen at all: the kernel's add is still on its way to us. */
		if (!entry || entry->kernel_seqnum == 0 ||
		    entry->udev_seqnum < entry->kernel_seqnum)
			return "udev to finish its events (site rules included)";
		return NULL;
	}
	return udev_queue_empty(ctx) ? NULL : "udev to finish its queued events";
}

/* The driver svff.conf names for the PF's VFs, or "" when the PF is not listed there. */
void configured_driver(struct svff_ctx *ctx, const char *pf, char *buf, size_t size)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	const struct managed_pf *managed;

	buf[0] = '\0';
	if (conf_load_quietly(ctx, ctx->conf_file, &conf) < 0)
		return;
	managed = conf_find_pf(conf, pf);
	if (managed)
		snprintf(buf, size, "%s", managed->driver);
}

struct readiness {
	struct svff_ctx *ctx;
	struct ready_watch *watch;
	const char *pf;
	unsigned numvfs;
	char driver[64];
	char first_pending[SVFF_BDF_SIZE];
	const char *waits_for;
};

/* 1 when every VF is ready, 0 when one is not yet (named in rd). */
static int check_all(struct readiness *rd)
{
	_cleanup_(pf_info_freep) struct pf_info *now = NULL;
	int r = sysfs_pf_load(rd->ctx, rd->pf, &now);

	if (r < 0)
		return r;
	if (now->n_vfs != rd->numvfs) {
		rd->first_pending[0] = '\0';
		rd->waits_for = "the kernel to create them";
		return 0;
	}
	for (size_t i = 0; i < now->n_vfs; i++) {
		rd->waits_for = vf_pending(rd->ctx, rd->watch, now->vfs[i].bdf, rd->driver);
		if (rd->waits_for) {
			snprintf(rd->first_pending, sizeof(rd->first_pending), "%s", now->vfs[i].bdf);
			return 0;
		}
	}
	return 1;
}

/*
 * With a watch, every change a VF goes through (created, bound, udev done) comes as an
 * event: the PF is read again when one came, or once a second in case one was missed.
 * Without one, udev's queue file is looked at in slices of 200 ms.
 */
#define RECHECK_WATCHED_USEC 1000000ULL
#define RECHECK_UNWATCHED_USEC 200000ULL

static bool watched(const struct readiness *rd)
{
	return rd->watch && rd->watch->kernel;
}

/* Until an event, an interruption (poll returns on the signal) or the slice's end. */
static void wait_for_events(struct readiness *rd, usec_t deadline)
{
	struct pollfd pfds[2] = { { .fd = -1, .events = POLLIN }, { .fd = -1, .events = POLLIN } };
	usec_t slice = watched(rd) ? RECHECK_WATCHED_USEC : RECHECK_UNWATCHED_USEC;
	usec_t now = now_usec();
	usec_t until = now + slice < deadline ? now + slice : deadline;

	if (watched(rd)) {
		pfds[0].fd = udev_monitor_get_fd(rd->watch->kernel);
		pfds[1].fd = udev_monitor_get_fd(rd->watch->udev);
	}
	poll(pfds, 2, until <= now ? 0 : (int)((until - now + 999) / 1000));
}

/* One VF, without a watch: bound to its driver, udev's queue empty. */
static int check_one(struct readiness *rd)
{
	rd->waits_for = vf_pending(rd->ctx, NULL, rd->first_pending, rd->driver);
	return rd->waits_for ? 0 : 1;
}

/* The one readiness loop: 1/0/-errno from check, an interruption, or the deadline. */
static int wait_until_ready(struct readiness *rd, usec_t deadline,
			    int (*check)(struct readiness *rd))
{
	char what[256];
	int r;

	configured_driver(rd->ctx, rd->pf, rd->driver, sizeof(rd->driver));
	for (;;) {
		if (watched(rd)) {
			drain(rd->watch, rd->watch->kernel, false);
			drain(rd->watch, rd->watch->udev, true);
		}
		r = check(rd);
		if (r != 0)
			return r < 0 ? r : 0;
		snprintf(what, sizeof(what), "VF '%s' of PF '%s' to be ready (%s)",
			 rd->first_pending[0] ? rd->first_pending : "?", rd->pf, rd->waits_for);
		interrupt_say_waiting(rd->ctx, what);
		if (svff_interrupted(rd->ctx))
			return -EINTR;
		if (now_usec() >= deadline)
			return -EINPROGRESS;
		wait_for_events(rd, deadline);
	}
}

/*
 * 0 when all numvfs VFs of the PF are ready; -EINPROGRESS at the deadline (logged,
 * naming the VF and what it waits for); -EINTR when interrupted.
 */
int vfs_wait_ready(struct svff_ctx *ctx, struct ready_watch *watch, const char *pf,
		   unsigned numvfs, usec_t deadline)
{
	struct readiness rd = { .ctx = ctx, .watch = watch, .pf = pf, .numvfs = numvfs };
	int r = wait_until_ready(&rd, deadline, check_all);

	if (r != -EINPROGRESS)
		return r;
	if (!rd.first_pending[0])
		return log_event_errno(ctx, r, VF_NOT_READY,
				 "PF '%s' does not show %u VFs within %u s (%s); VFs were not given "
				 "back; run svff-reattach --pf %s once they exist",
				 pf, numvfs, deadline_seconds(ctx, pf, DEADLINE_READY),
				 deadline_option(DEADLINE_READY), pf);
	LOG_SCOPE(pf, rd.first_pending, NULL, NULL);
	return log_event_errno(ctx, r, VF_NOT_READY,
			 "VF '%s' of PF '%s' was not ready within %u s (%s): waiting for %s; "
			 "no VF was given back before it is ready; their records are kept: run "
			 "svff-reattach --pf %s once udev is done",
			 rd.first_pending, pf, deadline_seconds(ctx, pf, DEADLINE_READY),
			 deadline_option(DEADLINE_READY), rd.waits_for, pf);
}

/* One VF, for svff-reattach: no watch, so udev's whole queue must be empty. */
int vf_wait_ready(struct svff_ctx *ctx, const char *pf, const char *bdf, usec_t deadline)
{
	struct readiness rd = { .ctx = ctx, .pf = pf };
	int r;

	snprintf(rd.first_pending, sizeof(rd.first_pending), "%s", bdf);
	r = wait_until_ready(&rd, deadline, check_one);
	if (r != -EINPROGRESS)
		return r;
	LOG_SCOPE(pf, bdf, NULL, NULL);
	return log_event_errno(ctx, r, VF_NOT_READY,
			 "VF '%s' of PF '%s' was not ready within %u s (%s): waiting for %s; it "
			 "is not given back before it is; its record is kept (phase not-ready): "
			 "run svff-reattach --pf %s again once it is",
			 bdf, pf, deadline_seconds(ctx, pf, DEADLINE_READY),
			 deadline_option(DEADLINE_READY), rd.waits_for, pf);
}
