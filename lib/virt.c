/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "virt.h"

struct virt {
	virConnectPtr conn;
	pthread_t event_thread;
	bool event_thread_running;
	volatile bool stopping;
};

/* Waits for libvirt's word that the guest let go of one device. */
struct removal_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *alias;
	bool removed;
	bool refused;
};

static pthread_once_t event_impl_once = PTHREAD_ONCE_INIT;

static void quiet_libvirt_errors(void *userdata, virErrorPtr error)
{
	/* Each failure is reported once, with context, by the caller. */
}

static void register_event_impl(void)
{
	virSetErrorFunc(NULL, quiet_libvirt_errors);
	virEventRegisterDefaultImpl();
}

static void *run_event_loop(void *userdata)
{
	struct virt *virt = userdata;

	while (!virt->stopping)
		if (virEventRunDefaultImpl() < 0)
			break;
	return NULL;
}

static void wake_event_loop(int timer, void *userdata)
{
	virEventRemoveTimeout(timer);
}

const char *virt_error_message(void)
{
	const char *msg = virGetLastErrorMessage();

	return msg ? msg : "unknown libvirt error";
}

int virt_open(struct svff_ctx *ctx, struct virt **ret_virt)
{
	struct virt *virt;

	pthread_once(&event_impl_once, register_event_impl);
	virt = calloc(1, sizeof(*virt));
	if (!virt)
		return -ENOMEM;
	virt->conn = virConnectOpen(ctx->connect_uri);
	if (!virt->conn) {
		log_error(ctx,
			  "cannot connect to libvirt at '%s': %s; is libvirtd running "
			  "('systemctl start libvirtd')? Another URI can be given with --connect",
			  ctx->connect_uri, virt_error_message());
		free(virt);
		return -ECONNREFUSED;
	}
	if (pthread_create(&virt->event_thread, NULL, run_event_loop, virt) == 0)
		virt->event_thread_running = true;
	*ret_virt = virt;
	return 0;
}

void virt_close(struct virt *virt)
{
	if (!virt)
		return;
	if (virt->event_thread_running) {
		virt->stopping = true;
		virEventAddTimeout(0, wake_event_loop, NULL, NULL);
		pthread_join(virt->event_thread, NULL);
	}
	virConnectClose(virt->conn);
	free(virt);
}

int virt_live_devices(struct svff_ctx *ctx, virDomainPtr dom, struct hostdev **ret_devs,
		      size_t *ret_n)
{
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
	int r;

	if (!xml)
		return log_errno(ctx, -EREMOTEIO, "cannot read the XML of domain '%s': %s",
				 virDomainGetName(dom), virt_error_message());
	r = xml_domain_hostdevs(xml, ret_devs, ret_n);
	if (r < 0)
		return log_errno(ctx, r, "cannot parse the XML of domain '%s'",
				 virDomainGetName(dom));
	return 0;
}

static int describe_domain(struct svff_ctx *ctx, virDomainPtr dom, struct domain_devices *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s", virDomainGetName(dom));
	if (virDomainGetUUIDString(dom, ret->uuid) < 0)
		return log_errno(ctx, -EREMOTEIO, "cannot read the UUID of domain '%s': %s",
				 ret->name, virt_error_message());
	ret->dom = dom;
	return virt_live_devices(ctx, dom, &ret->devs, &ret->n_devs);
}

int virt_running_domains(struct svff_ctx *ctx, struct virt *virt,
			 struct domain_devices **ret_domains, size_t *ret_n)
{
	virDomainPtr *doms = NULL;
	struct domain_devices *domains;
	int n, kept = 0;

	n = virConnectListAllDomains(virt->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return log_errno(ctx, -EREMOTEIO, "cannot list libvirt domains: %s",
				 virt_error_message());
	domains = calloc((size_t)n + 1, sizeof(*domains));
	for (int i = 0; i < n; i++) {
		/* A domain that stopped meanwhile holds nothing: skip it. */
		if (domains && describe_domain(ctx, doms[i], &domains[kept]) == 0)
			kept++;
		else
			virDomainFree(doms[i]);
	}
	free(doms);
	if (!domains)
		return -ENOMEM;
	*ret_domains = domains;
	*ret_n = (size_t)kept;
	return 0;
}

void domain_devices_free(struct domain_devices *domains, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		hostdevs_free(domains[i].devs, domains[i].n_devs);
		virDomainFree(domains[i].dom);
	}
	free(domains);
}

int virt_lookup_domain(struct svff_ctx *ctx, struct virt *virt, const char *name_or_uuid,
		       virDomainPtr *ret_dom)
{
	virDomainPtr dom = virDomainLookupByName(virt->conn, name_or_uuid);

	if (!dom)
		dom = virDomainLookupByUUIDString(virt->conn, name_or_uuid);
	if (!dom)
		return -ESRCH;
	*ret_dom = dom;
	return 0;
}

static void signal_removal(struct removal_wait *wait, const char *alias, bool removed)
{
	pthread_mutex_lock(&wait->lock);
	if (strcmp(alias, wait->alias) == 0) {
		wait->removed |= removed;
		wait->refused |= !removed;
		pthread_cond_broadcast(&wait->cond);
	}
	pthread_mutex_unlock(&wait->lock);
}

static void on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias,
			      void *userdata)
{
	signal_removal(userdata, alias, true);
}

static void on_device_removal_failed(virConnectPtr conn, virDomainPtr dom, const char *alias,
				     void *userdata)
{
	signal_removal(userdata, alias, false);
}

static void removal_wait_init(struct removal_wait *wait, const char *alias)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&wait->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&wait->lock, NULL);
	wait->alias = alias;
	wait->removed = wait->refused = false;
}

static void removal_wait_until(struct removal_wait *wait, usec_t deadline)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000ULL),
			       .tv_nsec = (long)(deadline % 1000000ULL) * 1000L };

	pthread_mutex_lock(&wait->lock);
	while (!wait->removed && !wait->refused)
		if (pthread_cond_timedwait(&wait->cond, &wait->lock, &ts) != 0)
			break;
	pthread_mutex_unlock(&wait->lock);
}

static int register_removal_events(struct virt *virt, virDomainPtr dom,
				   struct removal_wait *wait, int ret_ids[2])
{
	ret_ids[0] = virConnectDomainEventRegisterAny(
		virt->conn, dom, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
		VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), wait, NULL);
	ret_ids[1] = virConnectDomainEventRegisterAny(
		virt->conn, dom, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
		VIR_DOMAIN_EVENT_CALLBACK(on_device_removal_failed), wait, NULL);
	return ret_ids[0] < 0 || ret_ids[1] < 0 ? -EREMOTEIO : 0;
}

static void deregister_removal_events(struct virt *virt, const int ids[2])
{
	for (int i = 0; i < 2; i++)
		if (ids[i] >= 0)
			virConnectDomainEventDeregisterAny(virt->conn, ids[i]);
}

static bool still_attached(struct svff_ctx *ctx, virDomainPtr dom, const char *alias)
{
	struct hostdev *devs;
	size_t n;
	bool found = false;

	if (virt_live_devices(ctx, dom, &devs, &n) < 0)
		return true;
	for (size_t i = 0; i < n; i++)
		found |= strcmp(devs[i].alias, alias) == 0;
	hostdevs_free(devs, n);
	return found;
}

/*
 * The detach call returns before the guest lets go, and a guest that ignores the
 * unplug sends nothing: wait for libvirt's DEVICE_REMOVED on our own deadline.
 * 0 when removed, -ETIMEDOUT when the guest kept it, -EREMOTEIO when libvirt
 * refused (the device then stays attached).
 */
int virt_detach_and_wait(struct svff_ctx *ctx, struct virt *virt, virDomainPtr dom,
			 const struct hostdev *dev, usec_t deadline)
{
	struct removal_wait wait;
	int ids[2] = { -1, -1 };
	int r;

	removal_wait_init(&wait, dev->alias);
	r = register_removal_events(virt, dom, &wait, ids);
	if (r == 0 && virDomainDetachDeviceAlias(dom, dev->alias, VIR_DOMAIN_AFFECT_LIVE) < 0)
		r = -EREMOTEIO;
	if (r < 0) {
		log_error(ctx, "libvirt refused to detach '%s' from domain '%s': %s", dev->alias,
			  virDomainGetName(dom), virt_error_message());
		deregister_removal_events(virt, ids);
		return r;
	}
	removal_wait_until(&wait, deadline);
	deregister_removal_events(virt, ids);
	pthread_mutex_destroy(&wait.lock);
	pthread_cond_destroy(&wait.cond);
	/* An event can be lost with a reconnecting daemon: the live XML decides. */
	if (wait.removed || !still_attached(ctx, dom, dev->alias))
		return 0;
	return wait.refused ? -EREMOTEIO : -ETIMEDOUT;
}

int virt_attach(struct svff_ctx *ctx, virDomainPtr dom, const char *device_xml)
{
	if (virDomainAttachDeviceFlags(dom, device_xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return log_errno(ctx, -EREMOTEIO, "libvirt refused to attach to domain '%s': %s",
				 virDomainGetName(dom), virt_error_message());
	return 0;
}
