/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "conf.h"

#define BIND_DEADLINE_USEC (5 * 1000000ULL)

/*
 * The VF's lost record, if a running domain lost it and wants it back. Running means
 * started in this boot (its assignment in the runtime dir): a record of an earlier boot
 * waits for its domain's next start, which resolves it in the hook. svff-reattach would
 * take the PF's lock while libvirtd autostarts that domain, and the hook would refuse it.
 */
static int lost_record_waiting(struct svff_ctx *ctx, const char *pf, unsigned index)
{
	_cleanup_(record_freep) struct record *record = NULL;
	_cleanup_(record_freep) struct record *assigned = NULL;
	int r = record_load(ctx, STORE_RECORDS, pf, index, &record);

	if (r == -ENOENT || (r == 0 && record->phase != PHASE_LOST))
		return 0;
	if (r < 0)
		return r;
	r = record_load(ctx, STORE_ASSIGNED, pf, index, &assigned);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return strcmp(assigned->domain_uuid, record->domain_uuid) == 0;
}

static int vf_added(struct svff_ctx *ctx, const struct svff_conf *conf, const char *bdf,
		    char ret_pf[SVFF_BDF_SIZE])
{
	const struct managed_pf *managed;
	char pf[SVFF_BDF_SIZE];
	unsigned index;
	int r;

	/* Without physfn yet the kernel sends a "change" once it exists. */
	if (sysfs_vf_physfn(ctx, bdf, pf) <= 0)
		return 0;
	r = sysfs_vf_index(ctx, pf, bdf, &index);
	if (r < 0)
		return r;
	managed = conf_find_pf(conf, pf);
	if (!managed)
		return 0;
	LOG_SCOPE(pf, NULL, NULL, NULL);
	r = sysfs_bind_driver(ctx, bdf, managed->driver, now_usec() + BIND_DEADLINE_USEC);
	if (r < 0)
		return r;
	r = lost_record_waiting(ctx, pf, index);
	if (r > 0)
		snprintf(ret_pf, SVFF_BDF_SIZE, "%s", pf);
	return r;
}

static const struct record *find_assignment(struct record **records, size_t n,
					    const char *bdf)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(records[i]->vf_bdf, bdf) == 0)
			return records[i];
	return NULL;
}

/*
 * The VF vanished (its physfn link is gone already). If a running domain was
 * started with it and svff did not take it away itself, remember it as lost.
 */
static int vf_removed(struct svff_ctx *ctx, const struct svff_conf *conf, const char *bdf)
{
	struct record **assigned = NULL;
	size_t n = 0;
	const struct record *found;
	_cleanup_(record_freep) struct record *existing = NULL;
	int r = records_load_all(ctx, STORE_ASSIGNED, &assigned, &n);

	found = find_assignment(assigned, n, bdf);
	if (found && conf_find_pf(conf, found->pf) &&
	    record_load(ctx, STORE_RECORDS, found->pf, found->vf_index, &existing) == -ENOENT) {
		struct record lost = *found;

		LOG_SCOPE_RECORD(&lost);

		lost.phase = PHASE_LOST;
		r = record_save(ctx, STORE_RECORDS, &lost);
		if (r == 0)
			log_event(ctx, SVFF_LOG_INFO, VF_LOST, "VF %u of PF '%s' vanished under domain '%s'; it goes back when "
				 "it returns", found->vf_index, found->pf, found->domain_name);
	}
	records_free(assigned, n);
	return r < 0 ? r : 0;
}

_public_ int svff_udev_event(struct svff_ctx *ctx, const char *action, const char *bdf,
			     char ret_pf[SVFF_BDF_SIZE])
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	int r;

	if (!action || !bdf_is_valid(bdf))
		return log_errno(ctx, -EINVAL,
				 "unexpected udev event: ACTION '%s', PCI_SLOT_NAME '%s'; this "
				 "helper is run by svff's udev rules",
				 action ? action : "", bdf ? bdf : "");
	LOG_SCOPE(NULL, bdf, NULL, NULL);
	r = conf_load(ctx, ctx->conf_file, &conf);
	if (r < 0 || conf->n_pfs == 0)
		return r;
	r = state_prepare(ctx);
	if (r < 0)
		return r;
	if (strcmp(action, "add") == 0 || strcmp(action, "change") == 0)
		return vf_added(ctx, conf, bdf, ret_pf);
	if (strcmp(action, "remove") == 0)
		return vf_removed(ctx, conf, bdf);
	return 0;
}
