/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "drift.h"
#include "virt.h"

/* Everything svff-status shows, gathered once, then printed as text or JSON. */
struct status {
	struct pf_info **pfs;
	size_t n_pfs;
	struct domain_devices *domains; /* NULL when libvirt cannot be reached */
	size_t n_domains;
	GHashTable *holding;            /* a VF's BDF -> the hostdev of a domain's that has it */
	GHashTable *holding_domain;     /* the same BDF -> that domain */
	struct record **records;
	size_t n_records;
	GHashTable *records_by_vf;      /* "PF/index" -> its record */
	struct drift_snapshot snap;     /* holders of VFIO groups, the hook's records */
	struct svff_conf *conf; /* NULL when svff.conf cannot be read */
	struct pf_drift *drifts; /* by the index of the PF in conf; .conf NULL: not shown */
	bool drift;              /* a PF of svff.conf that is shown differs from it */
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
	if (st->holding)
		g_hash_table_unref(st->holding);
	if (st->holding_domain)
		g_hash_table_unref(st->holding_domain);
	domain_devices_free(st->domains, st->n_domains);
	if (st->records_by_vf)
		g_hash_table_unref(st->records_by_vf);
	records_free(st->records, st->n_records);
	drift_snapshot_done(&st->snap);
	for (size_t i = 0; st->conf && i < st->conf->n_pfs; i++)
		pf_drift_done(&st->drifts[i]);
	free(st->drifts);
	conf_free(st->conf);
}

/* For each PF of svff.conf (the one of --pf only): how it differs from svff.conf. */
static int load_drift(struct svff_ctx *ctx, const char *only, struct status *st)
{
	int r = conf_load(ctx, ctx->conf_file, &st->conf);

	if (r < 0) {
		log_warning(ctx, "whether the PFs match svff.conf is not shown");
		st->drift = true;
		return r;
	}
	st->drifts = calloc(st->conf->n_pfs + 1, sizeof(*st->drifts));
	if (!st->drifts)
		return -ENOMEM;
	for (size_t i = 0; i < st->conf->n_pfs; i++) {
		if (only && strcmp(st->conf->pfs[i].bdf, st->pfs[0]->bdf) != 0)
			continue;
		r = pf_drift_load(ctx, &st->snap, &st->conf->pfs[i], &st->drifts[i]);
		if (r < 0)
			return r;
		st->drift = st->drift || st->drifts[i].n_items > 0;
	}
	return 0;
}

static const struct pf_drift *find_drift(const struct status *st, const char *bdf)
{
	for (size_t i = 0; st->conf && i < st->conf->n_pfs; i++)
		if (st->drifts[i].conf && strcmp(st->drifts[i].conf->bdf, bdf) == 0)
			return &st->drifts[i];
	return NULL;
}

/* A PF of svff.conf that sysfs does not list: shown after the others. */
static bool is_absent(const struct pf_drift *d)
{
	return d->conf && !d->pf && d->n_items > 0 && strcmp(d->items[0].what, "pf") == 0;
}

static void print_drift_text(const struct pf_drift *d, FILE *out)
{
	char text[256];

	if (!d)
		return;
	fprintf(out, "  svff.conf: %s", d->n_items ? "DIFFERS:" : "matches");
	for (size_t i = 0; i < d->n_items; i++) {
		drift_item_text(&d->items[i], text, sizeof(text));
		fprintf(out, "%s %s", i ? ";" : "", text);
	}
	fputc('\n', out);
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

/* Each VF a running domain has, once: looked up per VF shown, not searched. */
static void index_domains(struct status *st)
{
	st->holding = g_hash_table_new(g_str_hash, g_str_equal);
	st->holding_domain = g_hash_table_new(g_str_hash, g_str_equal);
	/* Backwards: the first domain that has a VF is the one shown, as libvirt lists them. */
	for (size_t d = st->n_domains; d-- > 0;)
		for (size_t i = st->domains[d].n_devs; i-- > 0;) {
			struct hostdev *dev = &st->domains[d].devs[i];

			g_hash_table_insert(st->holding, dev->source_bdf, dev);
			g_hash_table_insert(st->holding_domain, dev->source_bdf, &st->domains[d]);
		}
}

static void load_domains(struct svff_ctx *ctx, struct status *st)
{
	_cleanup_(virt_closep) struct virt *virt = NULL;

	/* Status is most wanted when things are broken: show sysfs and records anyway. */
	if (virt_open(ctx, &virt) < 0 ||
	    virt_running_domains(ctx, virt, &st->domains, &st->n_domains) < 0)
		log_warning(ctx, "domains are not shown");
	else
		index_domains(st);
}

#define RECORD_KEY_SIZE (SVFF_BDF_SIZE + 12)

static const char *record_key(const char *pf, unsigned index, char buf[RECORD_KEY_SIZE])
{
	snprintf(buf, RECORD_KEY_SIZE, "%s/%u", pf, index);
	return buf;
}

static void index_records(struct status *st)
{
	st->records_by_vf = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	/* Backwards: of two records of one VF, the first is shown. */
	for (size_t i = st->n_records; i-- > 0;) {
		char key[RECORD_KEY_SIZE];

		g_hash_table_insert(st->records_by_vf,
				    g_strdup(record_key(st->records[i]->pf, st->records[i]->vf_index,
							key)),
				    st->records[i]);
	}
}

static const struct record *find_record(const struct status *st, const char *pf,
					unsigned index)
{
	char key[RECORD_KEY_SIZE];

	return g_hash_table_lookup(st->records_by_vf, record_key(pf, index, key));
}

static void view_vf(const struct status *st, const struct pf_info *pf, unsigned index,
		    struct vf_view *view)
{
	struct vfio_holder holder;

	memset(view, 0, sizeof(*view));
	view->index = index;
	view->vf = pf_find_vf_by_index(pf, index);
	view->record = find_record(st, pf->bdf, index);
	if (!view->vf)
		return;
	if (vfio_holders_find(&st->snap.holders, view->vf->iommu_group, view->vf->vfio_device,
			      &holder))
		view->holder = holder.pid;
	if (st->holding) {
		view->dev = g_hash_table_lookup(st->holding, view->vf->bdf);
		view->domain = g_hash_table_lookup(st->holding_domain, view->vf->bdf);
	}
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
		print_drift_text(find_drift(st, pf->bdf), out);
		fprintf(out, "  %-3s %-13s %-10s %-6s %-8s %-16s %-13s %s\n", "VF", "ADDRESS",
			"DRIVER", "GROUP", "HOLDER", "DOMAIN", "GUEST", "RECORD");
		for (unsigned i = 0, n = last_index(st, pf); i < n; i++) {
			struct vf_view view;

			view_vf(st, pf, i, &view);
			print_vf_text(&view, out);
		}
	}
	for (size_t i = 0; st->conf && i < st->conf->n_pfs; i++)
		if (is_absent(&st->drifts[i])) {
			fprintf(out, "PF %s  (in svff.conf)\n", st->drifts[i].conf->bdf);
			print_drift_text(&st->drifts[i], out);
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

static void print_drift_json(const struct pf_drift *d, FILE *out)
{
	if (!d) {
		fputs("\"svff_conf\":null", out);
		return;
	}
	fprintf(out, "\"svff_conf\":{\"matches\":%s,\"drift\":[", d->n_items ? "false" : "true");
	for (size_t i = 0; i < d->n_items; i++) {
		const struct drift_item *item = &d->items[i];

		fprintf(out, "%s{", i ? "," : "");
		json_field(out, "what", item->what, false);
		if (item->vf_index >= 0)
			fprintf(out, "\"vf_index\":%d,", item->vf_index);
		else
			fputs("\"vf_index\":null,", out);
		json_field(out, "vf", item->vf, false);
		json_field(out, "now", item->now, false);
		json_field(out, "want", item->want, true);
		fputs("}", out);
	}
	fputs("]}", out);
}

static void print_json(struct svff_ctx *ctx, const struct status *st, FILE *out)
{
	bool first = true;

	fputs("{\"pfs\":[", out);
	for (size_t p = 0; p < st->n_pfs; p++) {
		const struct pf_info *pf = st->pfs[p];

		fprintf(out, "%s{", p ? "," : "");
		json_field(out, "address", pf->bdf, false);
		json_field(out, "driver", pf->driver, false);
		fprintf(out, "\"numvfs\":%u,\"totalvfs\":%u,\"autoprobe\":%s,\"busy_writer_pid\":%d,",
			pf->numvfs, pf->totalvfs,
			pf->autoprobe < 0 ? "null" : pf->autoprobe ? "true" : "false",
			(int)pf->busy_writer);
		print_drift_json(find_drift(st, pf->bdf), out);
		fputs(",\"vfs\":[", out);
		for (unsigned i = 0, n = last_index(st, pf); i < n; i++) {
			struct vf_view view;

			view_vf(st, pf, i, &view);
			fputs(i ? "," : "", out);
			print_vf_json(&view, out);
		}
		fputs("]}", out);
	}
	fputs("],\"svff_conf_absent\":[", out);
	for (size_t i = 0; st->conf && i < st->conf->n_pfs; i++)
		if (is_absent(&st->drifts[i])) {
			fputs(first ? "" : ",", out);
			json_string(out, st->drifts[i].conf->bdf);
			first = false;
		}
	fprintf(out, "],\"svff_conf_matches\":%s,\"domains_known\":%s}\n",
		st->drift ? "false" : "true", st->domains ? "true" : "false");
}

/* check: an unreadable svff.conf fails too, and drift is -EDOM. */
static int show(struct svff_ctx *ctx, const char *pf, bool json, FILE *out, bool check)
{
	struct status st = { 0 };
	int r, records, conf;

	r = state_verify(ctx);
	if (r == 0)
		r = load_pfs(ctx, pf, &st);
	if (r < 0) {
		status_done(&st);
		return r;
	}
	records = records_load_all(ctx, STORE_RECORDS, &st.records, &st.n_records);
	index_records(&st);
	drift_snapshot_load(ctx, &st.snap);
	/* svff.conf's drift and the table below come from one reading of each PF */
	st.snap.pfs = st.pfs;
	st.snap.n_pfs = st.n_pfs;
	conf = load_drift(ctx, pf, &st);
	load_domains(ctx, &st);
	if (json)
		print_json(ctx, &st, out);
	else
		print_text(ctx, &st, out);
	r = records < 0 && records != -ENOENT ? records : check ? conf : 0;
	if (r == 0 && check && st.drift)
		r = log_errno(ctx, -EDOM, "a PF differs from %s: run svff-apply --dry-run to see "
			      "what svff-apply would change", ctx->conf_file);
	status_done(&st);
	return r;
}

_public_ int svff_status(struct svff_ctx *ctx, const char *pf, bool json, FILE *out)
{
	return show(ctx, pf, json, out, false);
}

/* For monitoring: what cannot be read fails as always; else drift is exit status 18. */
_public_ int svff_status_check(struct svff_ctx *ctx, const char *pf, bool json, FILE *out)
{
	return show(ctx, pf, json, out, true);
}
