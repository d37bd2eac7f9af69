/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs under umockdev-wrapper: svff-apply and svff-status's drift against fake_sysfs. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <umockdev.h>

#include "drift.h"
#include "test-util.h"
#include "test-mock.h"

#define PF03 "/sys/devices/pci0000:00/0000:00:02.0/0000:03:00.0"

static UMockdevTestbed *testbed;
static struct svff_ctx *ctx;
static char conf_path[PATH_MAX];

static void write_conf(const char *text)
{
	test_write_file(conf_path, text);
}

static void setup(void)
{
	testbed = test_fake_sysfs_new();
	/* the kernel has it for every SR-IOV PF; the fake PF lacks it */
	umockdev_testbed_set_attribute(testbed, PF03, "sriov_drivers_autoprobe", "0");
	ctx = test_ctx_new();
	snprintf(conf_path, sizeof(conf_path), "%s.conf", ctx->state_dir);
	free(ctx->conf_file);
	ctx->conf_file = strdup(conf_path);
	free(ctx->connect_uri);
	ctx->connect_uri = strdup("test:///default");
	ctx->timeout_ms[DEADLINE_READY] = 300; /* no uevent ever comes in the fake sysfs */
	ck_assert_int_eq(state_prepare(ctx), 0);
}

static void teardown(void)
{
	unlink(conf_path);
	test_ctx_free(ctx);
	g_object_unref(testbed);
}

static char *sysfs_value(const char *attr)
{
	char path[PATH_MAX];
	char *text;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/0000:03:00.0/%s", attr);
	text = test_read_file(path);
	text[strcspn(text, "\n")] = '\0';
	return text;
}

/* A running domain was started with VF index of PF 03:00.0 (the hook's record). */
static void assign(unsigned index, const char *vf)
{
	static const char device[] =
		"<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
		"domain='0x0000' bus='0x03' slot='0x00' function='0x3'/></source></hostdev>";
	struct record record = { .pf = "0000:03:00.0", .vf_index = index,
				 .domain_uuid = "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001",
				 .domain_name = "db1", .phase = PHASE_ASSIGNED };

	snprintf(record.vf_bdf, sizeof(record.vf_bdf), "%s", vf);
	ck_assert_int_eq(xml_device_parse(device, &record.device), 0);
	ck_assert_int_eq(record_save(ctx, STORE_ASSIGNED, &record), 0);
	free(record.device.xml);
}

static void save_journal(unsigned from, unsigned to, const char *step)
{
	struct reconf_journal journal = { .pf = "0000:03:00.0", .from_numvfs = from,
					  .to_numvfs = to };

	snprintf(journal.step, sizeof(journal.step), "%s", step);
	ck_assert_int_eq(journal_save(ctx, &journal), 0);
}

static struct pf_drift drift_of(const char *conf_text, size_t index)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	static struct svff_conf *kept;
	struct drift_snapshot snap;
	struct pf_drift d;

	write_conf(conf_text);
	conf_free(kept);
	ck_assert_int_eq(conf_load(ctx, conf_path, &conf), 0);
	drift_snapshot_load(ctx, &snap);
	ck_assert_int_eq(pf_drift_load(ctx, &snap, &conf->pfs[index], &d), 0);
	drift_snapshot_done(&snap);
	kept = TAKE_PTR(conf); /* d.conf points into it */
	return d;
}

static bool has_item(const struct pf_drift *d, const char *text)
{
	char buf[256];

	for (size_t i = 0; i < d->n_items; i++) {
		drift_item_text(&d->items[i], buf, sizeof(buf));
		if (strcmp(buf, text) == 0)
			return true;
	}
	return false;
}

START_TEST(matching_pf_has_no_drift)
{
	struct pf_drift d;

	assign(1, "0000:03:00.3"); /* the unbound VF is a domain's: its driver is libvirt's */
	d = drift_of("[0000:03:00.0]\nnumvfs=2\n", 0);
	ck_assert_uint_eq(d.n_items, 0);
	pf_drift_done(&d);
	/* without numvfs= the count is left as it is */
	d = drift_of("[0000:03:00.0]\n", 0);
	ck_assert_uint_eq(d.n_items, 0);
	ck_assert(!d.set_numvfs);
	pf_drift_done(&d);
}
END_TEST

START_TEST(each_kind_of_drift_is_named)
{
	struct pf_drift d = drift_of("[0000:03:00.0]\nnumvfs=4\nautoprobe=yes\n", 0);

	ck_assert_msg(has_item(&d, "numvfs 2, want 4 (svff.conf)"), "%zu items", d.n_items);
	ck_assert(has_item(&d, "autoprobe off, want on"));
	ck_assert(has_item(&d, "VF 1 (0000:03:00.3) driver none, want vfio-pci"));
	ck_assert_uint_eq(d.n_items, 3);
	ck_assert_uint_eq(d.n_wrong_driver, 1);
	pf_drift_done(&d);
	d = drift_of("[0000:09:00.0]\n", 0);
	ck_assert(has_item(&d, "pf absent, want an SR-IOV PF there"));
	ck_assert_ptr_null(d.pf);
	pf_drift_done(&d);
	d = drift_of("[0000:03:00.0]\n[0000:04:00.0]\nnumvfs=1\n", 1);
	ck_assert(has_item(&d, "pf has no driver, want bound to its driver"));
	ck_assert(has_item(&d, "numvfs 0, want 1 (svff.conf)"));
	ck_assert(has_item(&d, "autoprobe on, want off"));
	pf_drift_done(&d);
}
END_TEST

START_TEST(interrupted_reconfiguration_wins_over_svff_conf)
{
	struct pf_drift d;

	save_journal(2, 3, "program");
	d = drift_of("[0000:03:00.0]\nnumvfs=4\n", 0);
	ck_assert(d.set_numvfs);
	ck_assert_uint_eq(d.numvfs, 2);
	ck_assert(has_item(&d, "reconfiguration interrupted at step 'program' (numvfs 2 -> 3), "
			       "want finished (numvfs back to 2)"));
	/* numvfs is what the journal says already: no numvfs item, nothing to write */
	ck_assert(!pf_drift_changes_numvfs(&d));
	pf_drift_done(&d);
	save_journal(1, 3, "enable");
	d = drift_of("[0000:03:00.0]\nnumvfs=4\n", 0);
	ck_assert(has_item(&d, "numvfs 2, want 1 (the interrupted reconfiguration's journal)"));
	ck_assert(pf_drift_changes_numvfs(&d));
	pf_drift_done(&d);
}
END_TEST

START_TEST(dry_run_prints_the_plan_and_changes_nothing)
{
	_cleanup_free_ char *numvfs = NULL, *autoprobe = NULL;
	struct reconf_journal journal;

	write_conf("[0000:03:00.0]\nnumvfs=3\nautoprobe=yes\n");
	save_journal(2, 3, "detach");
	ctx->dry_run = true;
	ck_assert_int_eq(svff_apply(ctx, NULL), 0);
	ck_assert_ptr_nonnull(strstr(test_messages(), "plan: PF '0000:03:00.0': reconfiguration "
						      "interrupted at step 'detach'"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "plan: PF '0000:03:00.0': autoprobe off, "
						      "want on"));
	numvfs = sysfs_value("sriov_numvfs");
	autoprobe = sysfs_value("sriov_drivers_autoprobe");
	ck_assert_str_eq(numvfs, "2");
	ck_assert_str_eq(autoprobe, "0");
	ck_assert_int_eq(journal_load(ctx, "0000:03:00.0", &journal), 0);
}
END_TEST

START_TEST(numvfs_change_under_a_running_domain_is_refused)
{
	_cleanup_free_ char *numvfs = NULL, *autoprobe = NULL;

	write_conf("[0000:03:00.0]\nnumvfs=3\nautoprobe=yes\n");
	assign(0, "0000:03:00.2");
	ck_assert_int_eq(svff_apply(ctx, "03:00.0"), -ETXTBSY);
	ck_assert_ptr_nonnull(strstr(test_messages(), "PF '0000:03:00.0': VF '0000:03:00.2' is "
						      "in use by domain 'db1'"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "use svff-reconf --pf 0000:03:00.0 "
						      "--numvfs 3"));
	ck_assert_int_eq(svff_exit_code(-ETXTBSY), SVFF_EXIT_HELD);
	numvfs = sysfs_value("sriov_numvfs");
	autoprobe = sysfs_value("sriov_drivers_autoprobe");
	ck_assert_str_eq(numvfs, "2");
	ck_assert_str_eq(autoprobe, "0");
}
END_TEST

START_TEST(numvfs_change_while_a_process_holds_a_vf_is_refused)
{
	_cleanup_free_ char *proc = test_fake_proc(ctx), *numvfs = NULL;

	test_fake_fd(proc, "4242", "17", "/dev/vfio/13"); /* VF 03:00.3's group */
	write_conf("[0000:03:00.0]\nnumvfs=1\n");
	ck_assert_int_eq(svff_apply(ctx, NULL), -ETXTBSY);
	ck_assert_ptr_nonnull(strstr(test_messages(), "VF '0000:03:00.3' is in use by process "
						      "4242"));
	numvfs = sysfs_value("sriov_numvfs");
	ck_assert_str_eq(numvfs, "2");
	test_rm_rf(proc);
}
END_TEST

START_TEST(interrupted_reconfiguration_is_finished_from_its_journal)
{
	_cleanup_free_ char *numvfs = NULL, *autoprobe = NULL;
	struct reconf_journal journal;

	/* as after a power loss in step 'enable': the PF comes up with no VF */
	umockdev_testbed_set_attribute(testbed, PF03, "sriov_numvfs", "0");
	save_journal(2, 4, "enable");
	write_conf("[0000:03:00.0]\nnumvfs=4\nautoprobe=yes\n");
	/* no uevent comes in the fake sysfs: the VFs are there, never ready */
	ck_assert_int_eq(svff_apply(ctx, NULL), -EINPROGRESS);
	numvfs = sysfs_value("sriov_numvfs");
	autoprobe = sysfs_value("sriov_drivers_autoprobe");
	ck_assert_str_eq(numvfs, "2");
	ck_assert_str_eq(autoprobe, "1");
	ck_assert_ptr_nonnull(strstr(test_messages(), "was not ready within"));
	ck_assert_int_eq(svff_exit_code(-EINPROGRESS), SVFF_EXIT_NOT_READY);
	/* numvfs is back: the journal's job is done */
	ck_assert_int_eq(journal_load(ctx, "0000:03:00.0", &journal), -ENOENT);
}
END_TEST

START_TEST(pf_not_in_svff_conf_is_refused)
{
	write_conf("[0000:03:00.0]\nnumvfs=2\n");
	ck_assert_int_eq(svff_apply(ctx, "0000:04:00.0"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(test_messages(), "PF '0000:04:00.0' is not listed in"));
}
END_TEST

START_TEST(pf_without_driver_fails_at_the_deadline_saying_what_it_waits_for)
{
	_cleanup_free_ char *numvfs = NULL;

	write_conf("[0000:04:00.0]\nnumvfs=2\n");
	ck_assert_int_eq(svff_apply(ctx, NULL), -EINPROGRESS);
	ck_assert_ptr_nonnull(strstr(test_messages(), "PF '0000:04:00.0' has no driver bound "
						      "after 1 s (--ready-timeout)"));
	numvfs = test_read_file("/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs");
	ck_assert_int_eq(numvfs[0], '0');
}
END_TEST

START_TEST(status_check_fails_only_on_drift)
{
	FILE *out = fopen("/dev/null", "we");

	assign(1, "0000:03:00.3");
	write_conf("[0000:03:00.0]\nnumvfs=2\n");
	ck_assert_int_eq(svff_status_check(ctx, NULL, false, out), 0);
	write_conf("[0000:03:00.0]\nnumvfs=3\n");
	ck_assert_int_eq(svff_status_check(ctx, NULL, true, out), -EDOM);
	ck_assert_ptr_nonnull(strstr(test_messages(), "a PF differs from"));
	ck_assert_int_eq(svff_exit_code(-EDOM), SVFF_EXIT_DRIFT);
	/* without --check the same drift is shown, and is no failure */
	ck_assert_int_eq(svff_status(ctx, NULL, false, out), 0);
	fclose(out);
}
END_TEST

START_TEST(status_shows_drift_in_text_and_json)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	FILE *out;

	write_conf("[0000:03:00.0]\nnumvfs=3\n[0000:09:00.0]\n");
	snprintf(path, sizeof(path), "%s/status.txt", ctx->state_dir);
	out = fopen(path, "we");
	ck_assert_int_eq(svff_status(ctx, NULL, false, out), 0);
	ck_assert_int_eq(svff_status(ctx, NULL, true, out), 0);
	fclose(out);
	text = test_read_file(path);
	ck_assert_ptr_nonnull(strstr(text, "svff.conf: DIFFERS: numvfs 2, want 3 (svff.conf); "
					   "VF 1 (0000:03:00.3) driver none, want vfio-pci\n"));
	ck_assert_ptr_nonnull(strstr(text, "PF 0000:09:00.0  (in svff.conf)\n  svff.conf: "
					   "DIFFERS: pf absent"));
	ck_assert_ptr_nonnull(strstr(text, "\"svff_conf\":{\"matches\":false,\"drift\":[{\"what\":"
					   "\"numvfs\",\"vf_index\":null,\"vf\":null,\"now\":\"2\","
					   "\"want\":\"3 (svff.conf)\"}"));
	ck_assert_ptr_nonnull(strstr(text, "\"svff_conf_absent\":[\"0000:09:00.0\"],"
					   "\"svff_conf_matches\":false"));
}
END_TEST

/* Who has each VF, from one look at libvirt, /proc and the records: each VF on its line. */
START_TEST(status_shows_each_vfs_domain_holder_and_record)
{
	static const char node[] =
		"<node><domain type='test'><name>db1</name>"
		"<uuid>2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001</uuid><memory>65536</memory>"
		"<os><type>hvm</type></os><devices><hostdev mode='subsystem' type='pci' "
		"managed='yes'><source><address domain='0x0000' bus='0x03' slot='0x00' "
		"function='0x3'/></source><address type='pci' domain='0x0000' bus='0x00' "
		"slot='0x07' function='0x0'/></hostdev></devices></domain></node>";
	static const char device[] =
		"<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
		"domain='0x0000' bus='0x03' slot='0x00' function='0x5'/></source></hostdev>";
	struct record record = { .pf = "0000:03:00.0", .vf_index = 3, .vf_bdf = "0000:03:00.5",
				 .domain_uuid = "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e002",
				 .domain_name = "web", .phase = PHASE_DETACHED };
	char path[PATH_MAX], uri[PATH_MAX + 16];
	_cleanup_free_ char *text = NULL;
	char *proc = test_fake_proc(ctx);
	FILE *out;

	test_fake_fd(proc, "4242", "17", "/dev/vfio/12");
	snprintf(path, sizeof(path), "%s/node.xml", ctx->state_dir);
	test_write_file(path, node);
	snprintf(uri, sizeof(uri), "test://%s", path);
	free(ctx->connect_uri);
	ctx->connect_uri = strdup(uri);
	ck_assert_int_eq(xml_device_parse(device, &record.device), 0);
	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	free(record.device.xml);
	write_conf("[0000:03:00.0]\n");
	snprintf(path, sizeof(path), "%s/status.txt", ctx->state_dir);
	out = fopen(path, "we");
	ck_assert_int_eq(svff_status(ctx, "0000:03:00.0", false, out), 0);
	ck_assert_int_eq(svff_status(ctx, "0000:03:00.0", true, out), 0);
	fclose(out);
	text = test_read_file(path);
	test_rm_rf(proc);
	free(proc);
	/* VF 0's group is open in process 4242; VF 1 is db1's; VF 3 is web's, recorded only */
	ck_assert_ptr_nonnull(strstr(text, "  0   0000:03:00.2  vfio-pci   12     4242     -  "));
	ck_assert_ptr_nonnull(strstr(text, "  1   0000:03:00.3  -          13     -        db1  "
					   "            0000:00:07.0  -\n"));
	ck_assert_ptr_nonnull(strstr(text, "  2   (absent)      -          -      -        -  "));
	ck_assert_ptr_nonnull(strstr(text, "  3   (absent)      -          -      -        web  "
					   "            -             detached\n"));
	ck_assert_ptr_nonnull(strstr(text, "{\"index\":0,\"address\":\"0000:03:00.2\",\"driver\":"
					   "\"vfio-pci\",\"iommu_group\":12,\"holder_pid\":4242,"
					   "\"domain\":null"));
	ck_assert_ptr_nonnull(strstr(text, "{\"index\":1,\"address\":\"0000:03:00.3\",\"driver\":"
					   "null,\"iommu_group\":13,\"holder_pid\":0,\"domain\":"
					   "\"db1\",\"guest_address\":\"0000:00:07.0\""));
	ck_assert_ptr_nonnull(strstr(text, "\"record_domain\":\"web\",\"record_phase\":"
					   "\"detached\"}]"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apply");
	TCase *drift = tcase_create("drift"), *apply = tcase_create("apply");

	tcase_add_checked_fixture(drift, setup, teardown);
	tcase_add_test(drift, matching_pf_has_no_drift);
	tcase_add_test(drift, each_kind_of_drift_is_named);
	tcase_add_test(drift, interrupted_reconfiguration_wins_over_svff_conf);
	tcase_add_test(drift, status_check_fails_only_on_drift);
	tcase_add_test(drift, status_shows_drift_in_text_and_json);
	tcase_add_test(drift, status_shows_each_vfs_domain_holder_and_record);
	suite_add_tcase(s, drift);
	tcase_add_checked_fixture(apply, setup, teardown);
	tcase_set_timeout(apply, 20);
	tcase_add_test(apply, dry_run_prints_the_plan_and_changes_nothing);
	tcase_add_test(apply, numvfs_change_under_a_running_domain_is_refused);
	tcase_add_test(apply, numvfs_change_while_a_process_holds_a_vf_is_refused);
	tcase_add_test(apply, interrupted_reconfiguration_is_finished_from_its_journal);
	tcase_add_test(apply, pf_not_in_svff_conf_is_refused);
	tcase_add_test(apply, pf_without_driver_fails_at_the_deadline_saying_what_it_waits_for);
	suite_add_tcase(s, apply);
	return test_run(s);
}
