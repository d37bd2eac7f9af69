/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "virt.h"

bool virt_supports_pause(struct svff_ctx *ctx, virDomainPtr dom);
int qmp_vfio_pause(struct svff_ctx *ctx, virDomainPtr dom, const char *alias);
int qmp_vfio_is_paused(struct svff_ctx *ctx, virDomainPtr dom, const char *alias);
int qmp_vfio_resume(struct svff_ctx *ctx, virDomainPtr dom, const char *alias,
		    const struct vf_info *vf);
