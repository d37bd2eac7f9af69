/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "ops.h"

static const struct domain_devices *find_domain(const struct domain_devices *domains,
						size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(domains[i].uuid, uuid) == 0)
			return &domains[i];
	return NULL;
}

/* svff's own record of the VF for that domain (detached, paused, lost...) */
static bool svff_holds_record(struct svff_ctx *ctx, const struct record *assigned)
{
	_cleanup_(record_freep) struct record *record = NULL;

	if (record_load(ctx, STORE_RECORDS, assigned->pf, assigned->vf_index, &record) < 0)
		return false;
	return strcmp(record->domain_uuid, assigned->domain_uuid) == 0;
}

/*
 * The hook records what a domain starts with, but libvirt runs no hook for a hot-unplug:
 * a VF taken away with virsh detach-device still counts as the domain's. Left so,
 * svff-udev would record it as lost when numvfs drops below it, and give it back to a
 * domain its user took it from. Only an active domain's live XML is believed: one not
 * listed may be between the hook's prepare and its start.
 */
int assignments_sync(struct svff_ctx *ctx, const char *pf,
		     const struct domain_devices *domains, size_t n_domains)
{
	struct record **assigned = NULL;
	size_t n = 0;
	int result = 0;

	/* An unreadable record (said already) stays; the others are looked at. */
	records_load_all(ctx, STORE_ASSIGNED, &assigned, &n);
	for (size_t i = 0; i < n; i++) {
		const struct record *a = assigned[i];
		const struct domain_devices *d;
		LOG_SCOPE_RECORD(a);

		if (strcmp(a->pf, pf) != 0)
			continue;
		d = find_domain(domains, n_domains, a->domain_uuid);
		if (!d || hostdevs_find_source(d->devs, d->n_devs, a->vf_bdf) ||
		    svff_holds_record(ctx, a))
			continue;
		if (record_remove(ctx, STORE_ASSIGNED, a) < 0) {
			result = -EIO;
			continue;
		}
		log_event(ctx, SVFF_LOG_INFO, RECORD_DROPPED,
			  "domain '%s' no longer has VF %u (%s) of PF '%s' (removed "
			  "outside svff): it is not given back to it",
			  a->domain_name, a->vf_index, a->vf_bdf, a->pf);
	}
	records_free(assigned, n);
	return result;
}
