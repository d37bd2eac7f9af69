/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fault.h"
#include "virt.h"

struct virt {
	virConnectPtr conn;
	pthread_t event_thread;
	bool event_thread_running;
	volatile bool stopping;
	volatile bool closed; /* libvirtd went away: every answer from now on is a failure */
};

/* Waits for libvirt's word that the guest let go of one device, or that it stopped. */
struct removal_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *alias;
	bool removed;
	bool refused;
	bool domain_stopped;
};

#define WAIT_SLICE_USEC 200000ULL

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

/*
 * libvirt's message for its last error, which every libvirt call resets (virDomainGetName
 * too): read whatever else the report names before the call that failed.
 */
const char *virt_error_message(void)
{
	const char *msg = virGetLastErrorMessage();

	return msg ? msg : "unknown libvirt error";
}

static void on_connection_closed(virConnectPtr conn, int reason, void *userdata)
{
	struct virt *virt = userdata;

	virt->closed = true;
}

bool virt_connection_lost(const struct virt *virt)
{
	return virt->closed;
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
	virConnectRegisterCloseCallback(virt->conn, on_connection_closed, virt, NULL);
	if (pthread_create(&virt->event_thread, NULL, run_event_loop, virt) == 0)
		virt->event_thread_running = true;
	/* A daemon that hangs instead of closing is noticed too (needs the event loop). */
	if (virt->event_thread_running)
		virConnectSetKeepAlive(virt->conn, 5, 3);
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
	virConnectUnregisterCloseCallback(virt->conn, on_connection_closed);
	virConnectClose(virt->conn);
	free(virt);
}

int virt_live_devices(struct svff_ctx *ctx, virDomainPtr dom, struct hostdev **ret_devs,
		      size_t *ret_n)
{
	const char *name = virDomainGetName(dom);
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
	int r;

	if (!xml)
		return log_errno(ctx, -EREMOTEIO, "cannot read the XML of domain '%s': %s", name,
				 virt_error_message());
	r = xml_domain_hostdevs(xml, ret_devs, ret_n);
	if (r < 0)
		return log_errno(ctx, r, "cannot parse the XML of domain '%s'", name);
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

static bool no_such_domain(void)
{
	virErrorPtr error = virGetLastError();

	return error && error->code == VIR_ERR_NO_DOMAIN;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" or 32 hex digits: what libvirt takes as a UUID. */
static bool looks_like_uuid(const char *text)
{
	size_t digits = 0;

	for (const char *c = text; *c; c++) {
		if (isxdigit((unsigned char)*c))
			digits++;
		else if (*c != '-')
			return false;
	}
	return digits == 32;
}

/* -ESRCH quietly when libvirt has no such domain; -EREMOTEIO when it cannot say. */
int virt_lookup_domain(struct svff_ctx *ctx, struct virt *virt, const char *name_or_uuid,
		       virDomainPtr *ret_dom)
{
	virDomainPtr dom = virDomainLookupByName(virt->conn, name_or_uuid);

	if (!dom && no_such_domain() && looks_like_uuid(name_or_uuid))
		dom = virDomainLookupByUUIDString(virt->conn, name_or_uuid);
	if (!dom)
		return no_such_domain() && !virt->closed ? -ESRCH : -EREMOTEIO;
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

static void on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
			 void *userdata)
{
	struct removal_wait *wait = userdata;

	if (event != VIR_DOMAIN_EVENT_STOPPED)
		return;
	pthread_mutex_lock(&wait->lock);
	wait->domain_stopped = true;
	pthread_cond_broadcast(&wait->cond);
	pthread_mutex_unlock(&wait->lock);
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
	wait->removed = wait->refused = wait->domain_stopped = false;
}

static bool removal_settled(struct removal_wait *wait)
{
	bool settled;

	pthread_mutex_lock(&wait->lock);
	settled = wait->removed || wait->refused || wait->domain_stopped;
	pthread_mutex_unlock(&wait->lock);
	return settled;
}

/* In slices: an interruption and a lost connection end the wait as soon as they happen. */
static int removal_wait_until(struct svff_ctx *ctx, struct virt *virt,
			      struct removal_wait *wait, usec_t deadline, const char *what)
{
	while (!removal_settled(wait)) {
		usec_t now = now_usec(), until = now + WAIT_SLICE_USEC;
		struct timespec ts;

		interrupt_say_waiting(ctx, what);
		if (svff_interrupted(ctx))
			return -EINTR;
		if (virt->closed)
			return -ECONNRESET;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (until > deadline)
			until = deadline;
		ts = (struct timespec){ .tv_sec = (time_t)(until / 1000000ULL),
					.tv_nsec = (long)(until % 1000000ULL) * 1000L };
		pthread_mutex_lock(&wait->lock);
		if (!wait->removed && !wait->refused && !wait->domain_stopped)
			pthread_cond_timedwait(&wait->cond, &wait->lock, &ts);
		pthread_mutex_unlock(&wait->lock);
	}
	return 0;
}

static int register_removal_events(struct virt *virt, virDomainPtr dom,
				   struct removal_wait *wait, int ret_ids[3])
{
	ret_ids[2] = virConnectDomainEventRegisterAny(
		virt->conn, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), wait, NULL);
	ret_ids[0] = virConnectDomainEventRegisterAny(
		virt->conn, dom, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
		VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), wait, NULL);
	ret_ids[1] = virConnectDomainEventRegisterAny(
		virt->conn, dom, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
		VIR_DOMAIN_EVENT_CALLBACK(on_device_removal_failed), wait, NULL);
	return ret_ids[0] < 0 || ret_ids[1] < 0 || ret_ids[2] < 0 ? -EREMOTEIO : 0;
}

static void deregister_removal_events(struct virt *virt, const int ids[3])
{
	for (int i = 0; i < 3; i++)
		if (ids[i] >= 0)
			virConnectDomainEventDeregisterAny(virt->conn, ids[i]);
}

/* 1 attached, 0 gone, -ESRCH when the domain stopped, -ECONNRESET when libvirt cannot say. */
static int still_attached(struct svff_ctx *ctx, struct virt *virt, virDomainPtr dom,
			  const char *alias)
{
	struct hostdev *devs;
	size_t n;
	int found = 0, active = virDomainIsActive(dom);

	if (active == 0)
		return -ESRCH;
	if (active < 0 || virt_live_devices(ctx, dom, &devs, &n) < 0)
		return active > 0 && virDomainIsActive(dom) == 0 ? -ESRCH : -ECONNRESET;
	for (size_t i = 0; i < n; i++)
		found |= strcmp(devs[i].alias, alias) == 0;
	hostdevs_free(devs, n);
	return found;
}

/*
 * The detach call returns before the guest lets go, and a guest that ignores the
 * unplug sends nothing: wait for libvirt's DEVICE_REMOVED on our own deadline.
 * 0 when removed; -ETIMEDOUT when the guest kept it (the unplug may still happen);
 * -EREMOTEIO when libvirt refused (it stays attached, no unplug pending); -ESRCH when
 * the domain stopped meanwhile; -ECONNRESET when libvirtd went away; -EINTR when
 * interrupted.
 */
int virt_detach_and_wait(struct svff_ctx *ctx, struct virt *virt, virDomainPtr dom,
			 const struct hostdev *dev, usec_t deadline, const char *what)
{
	const char *name = virDomainGetName(dom);
	struct removal_wait wait;
	int ids[3] = { -1, -1, -1 };
	int r, attached;

	removal_wait_init(&wait, dev->alias);
	r = register_removal_events(virt, dom, &wait, ids);
	/* Test builds: a device libvirt does not know, for libvirt's own refusal. */
	if (r == 0 && virDomainDetachDeviceAlias(dom, fault_is(ctx, "refuse-detach", NULL)
							   ? "svff-fault-no-such-alias"
							   : dev->alias,
						 VIR_DOMAIN_AFFECT_LIVE) < 0)
		r = -EREMOTEIO;
	if (r < 0) {
		bool gone = virt->closed;

		log_error(ctx, "libvirt refused to detach '%s' from domain '%s': %s", dev->alias, name,
			  virt_error_message());
		deregister_removal_events(virt, ids);
		return gone ? -ECONNRESET : -EREMOTEIO;
	}
	r = removal_wait_until(ctx, virt, &wait, deadline, what);
	deregister_removal_events(virt, ids);
	pthread_mutex_destroy(&wait.lock);
	pthread_cond_destroy(&wait.cond);
	if (wait.removed)
		return 0;
	if (r == -EINTR || r == -ECONNRESET)
		return r;
	/* An event can be lost with a reconnecting daemon: the live XML decides. */
	attached = still_attached(ctx, virt, dom, dev->alias);
	if (attached <= 0)
		return attached;
	return wait.refused ? -EREMOTEIO : -ETIMEDOUT;
}

int virt_attach(struct svff_ctx *ctx, virDomainPtr dom, const char *device_xml)
{
	const char *name = virDomainGetName(dom);

	if (virDomainAttachDeviceFlags(dom, device_xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return log_errno(ctx, -EREMOTEIO, "libvirt refused to attach to domain '%s': %s",
				 name, virt_error_message());
	return 0;
}
