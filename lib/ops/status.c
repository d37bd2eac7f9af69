/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "virt.h"

/* Everything svff-status shows, gathered once, then printed as text or JSON. */
struct status {
	struct pf_info **pfs;
	size_t n_pfs;
	struct domain_devices *domains; /* NULL when libvirt cannot be reached */
	size_t n_domains;
	struct record **records;
	size_t n_records;
};

struct vf_view {
	const struct vf_info *vf; /* NULL for a record whose VF does not exist now */
	unsigned index;
	pid_t holder;
	const struct domain_devices *domain;
	const struct hostdev *dev;
	const struct record *record;
};

static void status_done(struct status *st)
{
	for (size_t i = 0; i < st->n_pfs; i++)
		pf_info_free(st->pfs[i]);
	free(st->pfs);
	domain_devices_free(st->domains, st->n_domains);
	records_free(st->records, st->n_records);
}

/* A PF whose numvfs write is blocked is shown busy: reading its numvfs would block us too. */
static int load_pf(struct svff_ctx *ctx, const char *bdf, struct pf_info **ret_pf)
{
	struct numvfs_writer writer;
	int r;

	if (!bdf_is_valid(bdf) || numvfs_writer_find(ctx, bdf, &writer) == 0)
		return sysfs_pf_load(ctx, bdf, ret_pf);
	r = sysfs_pf_load_layout(ctx, bdf, ret_pf);
	if (r == 0) {
		(*ret_pf)->busy_writer = writer.pid;
		(*ret_pf)->busy_numvfs = writer.numvfs;
	}
	return r;
}

static int load_pfs(struct svff_ctx *ctx, const char *only, struct status *st)
{
	char(*bdfs)[SVFF_BDF_SIZE] = NULL, one[SVFF_BDF_SIZE];
	size_t n = 0;
	int r = 0;

	if (only && svff_bdf_parse(only, one) < 0)
		return log_errno(ctx, -EINVAL, "'%s' is not a PCI address; expected dddd:bb:ss.f",
				 only);
	if (!only)
		r = sysfs_pf_list(ctx, &bdfs, &n);
	st->pfs = calloc(n + 1, sizeof(*st->pfs));
	if (r == 0 && !st->pfs)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < (only ? 1 : n); i++) {
		r = load_pf(ctx, only ? one : bdfs[i], &st->pfs[st->n_pfs]);
		if (r == 0)
			st->n_pfs++;
	}
	free(bdfs);
	return r;
}

static void load_domains(struct svff_ctx *ctx, struct status *st)
{
	_cleanup_(virt_closep) struct virt *virt = NULL;

	/* Status is most wanted when things are broken: show sysfs and records anyway. */
	if (virt_open(ctx, &virt) < 0 ||
	    virt_running_domains(ctx, virt, &st->domains, &st->n_domains) < 0)
		log_warning(ctx, "domains are not shown");
}

static void find_holder_domain(const struct status *st, const char *bdf,
			       struct vf_view *view)
{
	for (size_t d = 0; d < st->n_domains; d++) {
		const struct hostdev *dev =
			hostdevs_find_source(st->domains[d].devs, st->domains[d].n_devs, bdf);

		if (dev) {
			view->domain = &st->domains[d];
			view->dev = dev;
			return;
		}
	}
}

static const struct record *find_record(const struct status *st, const char *pf,
					unsigned index)
{
	for (size_t i = 0; i < st->n_records; i++)
		if (strcmp(st->records[i]->pf, pf) == 0 && st->records[i]->vf_index == index)
			return st->records[i];
	return NULL;
}

static void view_vf(struct svff_ctx *ctx, const struct status *st, const struct pf_info *pf,
		    unsigned index, struct vf_view *view)
{
	memset(view, 0, sizeof(*view));
	view->index = index;
	view->vf = pf_find_vf_by_index(pf, index);
	view->record = find_record(st, pf->bdf, index);
	if (!view->vf)
		return;
	vfio_group_holder(ctx, view->vf->iommu_group, &view->holder);
	find_holder_domain(st, view->vf->bdf, view);
}

/* VF indexes to show: every VF now, and recorded ones beyond numvfs. */
static unsigned last_index(const struct status *st, const struct pf_info *pf)
{
	unsigned n = pf->numvfs;

	for (size_t i = 0; i < st->n_records; i++)
		if (strcmp(st->records[i]->pf, pf->bdf) == 0 && st->records[i]->vf_index >= n)
			n = st->records[i]->vf_index + 1;
	return n;
}

static const char *or_dash(const char *text)
{
	return text && *text ? text : "-";
}

static void print_vf_text(const struct vf_view *v, FILE *out)
{
	char group[16] = "-", holder[16] = "-";

	if (v->vf && v->vf->iommu_group >= 0)
		snprintf(group, sizeof(group), "%d", v->vf->iommu_group);
	if (v->holder > 0)
		snprintf(holder, sizeof(holder), "%d", (int)v->holder);
	fprintf(out, "  %-3u %-13s %-10s %-6s %-8s %-16s %-13s %s\n", v->index,
		v->vf ? v->vf->bdf : "(absent)", or_dash(v->vf ? v->vf->driver : NULL), group,
		holder, or_dash(v->domain ? v->domain->name : v->record ? v->record->domain_name : NULL),
		or_dash(v->dev ? v->dev->guest_address
			       : v->record ? v->record->device.guest_address : NULL),
		v->record ? phase_to_string(v->record->phase) : "-");
}

static void print_text(struct svff_ctx *ctx, const struct status *st, FILE *out)
{
	if (st->n_pfs == 0)
		fprintf(out, "no SR-IOV PF found\n");
	for (size_t p = 0; p < st->n_pfs; p++) {
		const struct pf_info *pf = st->pfs[p];

		if (pf->busy_writer > 0)
			fprintf(out, "PF %s  driver %s  busy: the write of numvfs %u (process %d) is "
				"blocked in the kernel until the holder of a VF lets go\n",
				pf->bdf, or_dash(pf->driver), pf->busy_numvfs, (int)pf->busy_writer);
		else
			fprintf(out, "PF %s  driver %s  VFs %u/%u\n", pf->bdf, or_dash(pf->driver),
				pf->numvfs, pf->totalvfs);
		fprintf(out, "  %-3s %-13s %-10s %-6s %-8s %-16s %-13s %s\n", "VF", "ADDRESS",
			"DRIVER", "GROUP", "HOLDER", "DOMAIN", "GUEST", "RECORD");
		for (unsigned i = 0; i < last_index(st, pf); i++) {
			struct vf_view view;

			view_vf(ctx, st, pf, i, &view);
			print_vf_text(&view, out);
		}
	}
}

static void json_string(FILE *out, const char *text)
{
	if (!text || !*text) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(out, "\\u%04x", *c);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

static void json_field(FILE *out, const char *name, const char *value, bool last)
{
	fprintf(out, "\"%s\":", name);
	json_string(out, value);
	fputs(last ? "" : ",", out);
}

static void print_vf_json(const struct vf_view *v, FILE *out)
{
	fprintf(out, "{\"index\":%u,", v->index);
	json_field(out, "address", v->vf ? v->vf->bdf : NULL, false);
	json_field(out, "driver", v->vf ? v->vf->driver : NULL, false);
	fprintf(out, "\"iommu_group\":%d,\"holder_pid\":%d,",
		v->vf ? v->vf->iommu_group : -1, (int)v->holder);
	json_field(out, "domain", v->domain ? v->domain->name : NULL, false);
	json_field(out, "guest_address", v->dev ? v->dev->guest_address : NULL, false);
	json_field(out, "alias", v->dev ? v->dev->alias : NULL, false);
	json_field(out, "record_domain", v->record ? v->record->domain_name : NULL, false);
	json_field(out, "record_phase", v->record ? phase_to_string(v->record->phase) : NULL,
		   true);
	fputs("}", out);
}

static void print_json(struct svff_ctx *ctx, const struct status *st, FILE *out)
{
	fputs("{\"pfs\":[", out);
	for (size_t p = 0; p < st->n_pfs; p++) {
		const struct pf_info *pf = st->pfs[p];

		fprintf(out, "%s{", p ? "," : "");
		json_field(out, "address", pf->bdf, false);
		json_field(out, "driver", pf->driver, false);
		fprintf(out, "\"numvfs\":%u,\"totalvfs\":%u,\"busy_writer_pid\":%d,\"vfs\":[",
			pf->numvfs, pf->totalvfs, (int)pf->busy_writer);
		for (unsigned i = 0; i < last_index(st, pf); i++) {
			struct vf_view view;

			view_vf(ctx, st, pf, i, &view);
			fputs(i ? "," : "", out);
			print_vf_json(&view, out);
		}
		fputs("]}", out);
	}
	fprintf(out, "],\"domains_known\":%s}\n", st->domains ? "true" : "false");
}

_public_ int svff_status(struct svff_ctx *ctx, const char *pf, bool json, FILE *out)
{
	struct status st = { 0 };
	int r, records;

	r = state_verify(ctx);
	if (r == 0)
		r = load_pfs(ctx, pf, &st);
	if (r < 0) {
		status_done(&st);
		return r;
	}
	records = records_load_all(ctx, STORE_RECORDS, &st.records, &st.n_records);
	load_domains(ctx, &st);
	if (json)
		print_json(ctx, &st, out);
	else
		print_text(ctx, &st, out);
	status_done(&st);
	return records == -ENOENT ? 0 : records;
}
