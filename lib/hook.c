/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>

#include "conf.h"

/* A host device of the starting domain that is a VF slot of a managed PF. */
struct managed_vf {
	const struct managed_pf *conf;
	struct pf_info *pf;
	unsigned index;
};

static int find_managed_vf(struct svff_ctx *ctx, const struct svff_conf *conf,
			   const char *bdf, struct managed_vf *ret)
{
	for (size_t i = 0; i < conf->n_pfs; i++) {
		struct pf_info *pf;
		unsigned index;

		/* A managed PF that is missing now cannot own the device: next one. */
		if (!sysfs_pf_exists(ctx, conf->pfs[i].bdf) ||
		    sysfs_pf_load(ctx, conf->pfs[i].bdf, &pf) < 0)
			continue;
		if (pf_vf_slot(pf, bdf, &index)) {
			*ret = (struct managed_vf){ .conf = &conf->pfs[i], .pf = pf, .index = index };
			return 1;
		}
		pf_info_free(pf);
	}
	return 0;
}

static int wait_pf_unlocked(struct svff_ctx *ctx, const struct managed_vf *vf,
			    const char *domain)
{
	usec_t deadline = now_usec() + (usec_t)vf->conf->start_wait_s * 1000000ULL;
	int r;

	while ((r = pf_lock_is_held(ctx, vf->pf->bdf)) > 0) {
		if (now_usec() >= deadline)
			return log_errno(ctx, -EBUSY,
					 "PF '%s' is being reconfigured; domain '%s' was not "
					 "started (waited %u s, start-wait in svff.conf); start it "
					 "again when svff is done",
					 vf->pf->bdf, domain, vf->conf->start_wait_s);
		poll_pause();
	}
	return r;
}

static int save_assignment(struct svff_ctx *ctx, const char *name, const char *uuid,
			   const struct managed_vf *vf, const struct hostdev *dev)
{
	struct record record = { .vf_index = vf->index, .phase = PHASE_ASSIGNED,
				 .device = *dev };

	snprintf(record.pf, sizeof(record.pf), "%s", vf->pf->bdf);
	snprintf(record.vf_bdf, sizeof(record.vf_bdf), "%s", dev->source_bdf);
	snprintf(record.domain_uuid, sizeof(record.domain_uuid), "%s", uuid);
	snprintf(record.domain_name, sizeof(record.domain_name), "%s", name);
	return record_save(ctx, STORE_ASSIGNED, &record);
}

static int prepare_vf(struct svff_ctx *ctx, const char *name, const char *uuid,
		      struct managed_vf *vf, const struct hostdev *dev)
{
	int r = wait_pf_unlocked(ctx, vf, name);

	if (r < 0)
		return r;
	/* Read again: a reconfiguration may have just changed numvfs. */
	pf_info_free(vf->pf);
	vf->pf = NULL;
	r = sysfs_pf_load(ctx, vf->conf->bdf, &vf->pf);
	if (r < 0)
		return r;
	if (vf->index >= vf->pf->numvfs)
		return log_errno(ctx, -ENXIO,
				 "domain '%s' needs VF %u (%s) of PF '%s', which has only %u VFs "
				 "now; raise sriov_numvfs or change the domain",
				 name, vf->index, dev->source_bdf, vf->pf->bdf, vf->pf->numvfs);
	if (!dev->managed) {
		r = sysfs_bind_driver(ctx, dev->source_bdf, vf->conf->driver,
				      deadline_from_now(ctx, vf->conf->bdf, DEADLINE_RELEASE));
		if (r < 0)
			return r;
	}
	return save_assignment(ctx, name, uuid, vf, dev);
}

static int hook_prepare(struct svff_ctx *ctx, const struct svff_conf *conf, const char *name,
			const char *uuid, const struct hostdev *devs, size_t n)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct managed_vf vf = { 0 };

		if (!find_managed_vf(ctx, conf, devs[i].source_bdf, &vf))
			continue;
		r = prepare_vf(ctx, name, uuid, &vf, &devs[i]);
		pf_info_free(vf.pf);
	}
	return r;
}

/* Drop what names the stopped domain from one store; persistent config is not touched. */
static int drop_domain_records(struct svff_ctx *ctx, const char *store, const char *uuid)
{
	struct record **records;
	size_t n;
	int r = records_load_all(ctx, store, &records, &n), result = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(records[i]->domain_uuid, uuid) == 0) {
			if (records[i]->phase != PHASE_ASSIGNED)
				log_info(ctx, "domain stopped: pending reattach of VF %u of PF '%s' "
					 "dropped", records[i]->vf_index, records[i]->pf);
			result = record_remove(ctx, store, records[i]) < 0 ? -EIO : result;
		}
	records_free(records, n);
	return r < 0 ? r : result;
}

static int hook_release(struct svff_ctx *ctx, const char *uuid)
{
	int r = drop_domain_records(ctx, STORE_ASSIGNED, uuid);

	int s = drop_domain_records(ctx, STORE_RECORDS, uuid);

	return r < 0 ? r : s;
}

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* The state lock of assigned/: held for a moment, never while libvirt is called. */
static int lock_assignments(struct svff_ctx *ctx)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/locks/assigned.lock", ctx->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return log_errno(ctx, negative_errno(), "cannot lock '%s': %m", path);
	return fd;
}

_public_ int svff_hook_qemu(struct svff_ctx *ctx, const char *operation,
			    const char *sub_operation, const char *xml, size_t xml_size)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	_cleanup_close_ int lock_fd = -EBADF;
	char name[256], uuid[37];
	struct hostdev *devs = NULL;
	size_t n = 0;
	bool prepare = is(operation, "prepare") && is(sub_operation, "begin");
	bool release = is(operation, "release") && is(sub_operation, "end");
	int r;

	if (!prepare && !release)
		return 0; /* migrate, restore, reconnect and the rest: nothing to do, nothing to say */
	r = conf_load(ctx, ctx->conf_file, &conf);
	if (r < 0 || conf->n_pfs == 0)
		return r;
	if (xml_domain_parse(xml, xml_size, name, uuid, &devs, &n) < 0)
		return log_errno(ctx, -EBADMSG,
				 "the domain XML on standard input is malformed or too large; "
				 "the hook is run by libvirt with the domain XML on stdin");
	r = state_prepare(ctx);
	if (r == 0)
		r = lock_fd = lock_assignments(ctx);
	if (r >= 0)
		r = prepare ? hook_prepare(ctx, conf, name, uuid, devs, n) : hook_release(ctx, uuid);
	hostdevs_free(devs, n);
	return r < 0 ? r : 0;
}
