/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libvirt/libvirt-qemu.h>

#include "svff-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(virDomainPtr, virDomainFree);

struct virt;

/* A running domain and the PCI host devices in its live XML. */
struct domain_devices {
	virDomainPtr dom;
	char name[256];
	char uuid[VIR_UUID_STRING_BUFLEN];
	struct hostdev *devs;
	size_t n_devs;
};

int virt_open(struct svff_ctx *ctx, struct virt **ret_virt);
void virt_close(struct virt *virt);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct virt *, virt_close);

int virt_running_domains(struct svff_ctx *ctx, struct virt *virt,
			 struct domain_devices **ret_domains, size_t *ret_n);
void domain_devices_free(struct domain_devices *domains, size_t n);
int virt_lookup_domain(struct svff_ctx *ctx, struct virt *virt, const char *name_or_uuid,
		       virDomainPtr *ret_dom);
int virt_live_devices(struct svff_ctx *ctx, virDomainPtr dom, struct hostdev **ret_devs,
		      size_t *ret_n);
int virt_detach_and_wait(struct svff_ctx *ctx, struct virt *virt, virDomainPtr dom,
			 const struct hostdev *dev, usec_t deadline, const char *what);
bool virt_connection_lost(const struct virt *virt);
int virt_attach(struct svff_ctx *ctx, virDomainPtr dom, const char *device_xml);
/* libvirt's last error message, for the caller's one line */
const char *virt_error_message(void);
