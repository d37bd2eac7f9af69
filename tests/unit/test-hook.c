/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs under umockdev-wrapper: the hook and the udev helper see fake_sysfs. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <umockdev.h>

#include "conf.h"
#include "journal.h"
#include "hook-gate.h"
#include "test-util.h"
#include "test-mock.h"

static UMockdevTestbed *testbed;
static struct svff_ctx *ctx;
static char conf_path[PATH_MAX];

static const char good_conf[] = "[0000:03:00.0]\ndriver=vfio-pci\nnumvfs=2\nstart-wait=0\n";

static void named_domain_xml(char *buf, size_t size, const char *name, const char *uuid,
			     const char *vf_bdf, const char *managed)
{
	unsigned d, b, s, f;

	sscanf(vf_bdf, "%x:%x:%x.%x", &d, &b, &s, &f);
	snprintf(buf, size,
		 "<domain type='kvm'><name>%s</name><uuid>%s</uuid><devices>"
		 "<hostdev mode='subsystem' type='pci' managed='%s'><source>"
		 "<address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>"
		 "</source><address type='pci' domain='0x0000' bus='0x07' slot='0x00' "
		 "function='0x0'/></hostdev></devices></domain>",
		 name, uuid, managed, d, b, s, f);
}

static void domain_xml(char *buf, size_t size, const char *vf_bdf, const char *managed)
{
	named_domain_xml(buf, size, "db1", "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001", vf_bdf,
			 managed);
}

static int run_hook(const char *op, const char *sub, const char *xml)
{
	return svff_hook_qemu(ctx, op, sub, xml, strlen(xml));
}

/* state_prepare() makes records/: its absence shows nothing was touched. */
static bool state_untouched(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/records", ctx->state_dir);
	return access(path, F_OK) != 0;
}

static void write_conf(const char *text)
{
	test_write_file(conf_path, text);
}

static void setup(void)
{
	testbed = test_fake_sysfs_new();
	ctx = test_ctx_new();
	snprintf(conf_path, sizeof(conf_path), "%s.conf", ctx->state_dir);
	free(ctx->conf_file);
	ctx->conf_file = strdup(conf_path);
	write_conf(good_conf);
}

static void teardown(void)
{
	unlink(conf_path);
	test_ctx_free(ctx);
	g_object_unref(testbed);
}

START_TEST(missing_config_manages_nothing)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	char xml[2048];

	unlink(conf_path);
	ck_assert_int_eq(conf_load(ctx, conf_path, &conf), 0);
	ck_assert_uint_eq(conf->n_pfs, 0);
	domain_xml(xml, sizeof(xml), "0000:03:00.4", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert(state_untouched());
}
END_TEST

START_TEST(config_values_are_read_with_defaults)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;

	write_conf("[0000:03:00.0]\nnumvfs=4\n[04:00.0]\ndriver=qdma-vf\ndetach-timeout=3\n");
	ck_assert_int_eq(conf_load(ctx, conf_path, &conf), 0);
	ck_assert_uint_eq(conf->n_pfs, 2);
	ck_assert_str_eq(conf->pfs[0].driver, "vfio-pci");
	ck_assert_uint_eq(conf->pfs[0].numvfs, 4);
	ck_assert_uint_eq(conf->pfs[0].timeout_s[DEADLINE_RELEASE], 0);
	ck_assert_str_eq(conf->pfs[1].bdf, "0000:04:00.0");
	ck_assert_str_eq(conf->pfs[1].driver, "qdma-vf");
	ck_assert_uint_eq(conf->pfs[1].timeout_s[DEADLINE_RELEASE], 3);
	ck_assert_ptr_eq(conf_find_pf(conf, "0000:04:00.0"), &conf->pfs[1]);
}
END_TEST

START_TEST(invalid_config_names_file_and_place)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{ "[0000:03:00.0]\nnumvfs=four\n", "line 2: [0000:03:00.0] numvfs" },
		{ "[0000:03:00.0]\nnumvfs=-1\n", "[0000:03:00.0] numvfs" },
		{ "# svff\n[0000:03:00.0]\n\nspeed=fast\n", "line 4: [0000:03:00.0] speed: is not a known key" },
		{ "[eth0]\n", "line 1: [eth0]" },
		{ "[0000:03:00.0]\ndriver=../x\n", "driver" },
		{ "[0000:03:00.0]\nthis line is wrong\n", "line 2" },
		{ "[0000:03:00.0]\nautoprobe=maybe\n", "line 2: [0000:03:00.0] autoprobe: is not yes or no" },
		{ "[03:00.0]\n[0000:03:00.0]\ndriver=x\n", "line 2: [0000:03:00.0] names a PF listed above already" },
	};
	struct svff_conf *conf;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		write_conf(cases[i].text);
		ck_assert_int_eq(conf_load(ctx, conf_path, &conf), -EBADMSG);
		ck_assert_msg(strstr(test_messages(), conf_path) &&
				      strstr(test_messages(), cases[i].expect),
			      "'%s' gave: %s", cases[i].text, test_messages());
	}
}
END_TEST

START_TEST(prepare_records_assignment_of_managed_vf)
{
	char xml[2048];
	_cleanup_(record_freep) struct record *record = NULL;

	domain_xml(xml, sizeof(xml), "0000:03:00.3", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(record_load(ctx, STORE_ASSIGNED, "0000:03:00.0", 1, &record), 0);
	ck_assert_str_eq(record->domain_name, "db1");
	ck_assert_str_eq(record->vf_bdf, "0000:03:00.3");
	ck_assert_str_eq(record->device.guest_address, "0000:07:00.0");
	ck_assert_int_eq(record->phase, PHASE_ASSIGNED);
}
END_TEST

START_TEST(prepare_refuses_vf_beyond_numvfs)
{
	char xml[2048];
	struct record **records;
	size_t n;

	domain_xml(xml, sizeof(xml), "0000:03:00.4", "yes"); /* VF 2; numvfs is 2 */
	ck_assert_int_eq(run_hook("prepare", "begin", xml), -ENXIO);
	ck_assert_ptr_nonnull(strstr(test_messages(), "domain 'db1' needs VF 2"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "PF '0000:03:00.0', which has only 2"));
	ck_assert_int_eq(records_load_all(ctx, STORE_ASSIGNED, &records, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

#define HOSTDEV(bus, slot, function)                                                      \
	"<hostdev mode='subsystem' type='pci' managed='yes'><source><address "           \
	"domain='0x0000' bus='" bus "' slot='" slot "' function='" function "'/></source>" \
	"</hostdev>"

/* Each VF of each managed PF in the XML is recorded; other devices are not svff's. */
START_TEST(prepare_records_every_vf_of_every_managed_pf)
{
	static const char xml[] =
		"<domain type='kvm'><name>db1</name><uuid>2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001"
		"</uuid><devices>" HOSTDEV("0x03", "0x00", "0x3") HOSTDEV("0x00", "0x1f", "0x0")
			HOSTDEV("0x03", "0x00", "0x2") "</devices></domain>";
	static const char with_04[] =
		"<domain type='kvm'><name>db1</name><uuid>2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001"
		"</uuid><devices>" HOSTDEV("0x03", "0x00", "0x2") HOSTDEV("0x04", "0x01", "0x2")
			"</devices></domain>";
	struct record **records;
	size_t n;

	write_conf("[0000:04:00.0]\n[0000:03:00.0]\n");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(records_load_all(ctx, STORE_ASSIGNED, &records, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(records[i]->pf, "0000:03:00.0");
		ck_assert_str_eq(records[i]->vf_bdf, records[i]->vf_index ? "0000:03:00.3"
									  : "0000:03:00.2");
	}
	records_free(records, n);
	/* VF 1 of PF 04:00.0, which has no VFs now: refused, after 03:00.2 was recorded */
	ck_assert_int_eq(run_hook("prepare", "begin", with_04), -ENXIO);
	ck_assert_ptr_nonnull(strstr(test_messages(), "domain 'db1' needs VF 1 (0000:04:01.2) of "
						      "PF '0000:04:00.0', which has only 0 VFs"));
}
END_TEST

/* The PF's lock, held as a reconfiguration holds it; close the fd to let go. */
static int lock_pf_03(void)
{
	char lock[PATH_MAX];
	int fd;

	ck_assert_int_eq(state_prepare(ctx), 0);
	snprintf(lock, sizeof(lock), "%s/locks/0000:03:00.0.lock", ctx->runtime_dir);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	return fd;
}

START_TEST(prepare_fails_while_pf_is_reconfigured)
{
	char xml[2048];
	int fd = lock_pf_03();

	domain_xml(xml, sizeof(xml), "0000:03:00.2", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), -EBUSY);
	ck_assert_ptr_nonnull(strstr(test_messages(), "PF '0000:03:00.0' is being reconfigured"));
	close(fd);
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
}
END_TEST

/* journalctl SVFF_DOMAIN=db1: the refused start, then the start and its stop. */
START_TEST(refused_start_and_assignment_are_journaled)
{
	char xml[2048];
	int fd = lock_pf_03();

	test_journal_capture(ctx);
	domain_xml(xml, sizeof(xml), "0000:03:00.2", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), -EBUSY);
	ck_assert_uint_eq(test_journal_count(), 1);
	ck_assert_uint_eq(test_journal_count_with("MESSAGE_ID=b05d81d282e641c09e4cd294eb3f4166\n"
						  "PRIORITY=3\nERRNO=16\nSYSLOG_IDENTIFIER=test\n"
						  "SVFF_PF=0000:03:00.0\nSVFF_VF=0000:03:00.2\n"
						  "SVFF_DOMAIN=db1\n"),
			  1);
	close(fd);
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_uint_eq(test_journal_count_with("MESSAGE_ID=11323b2250924b0a85a0d6a8fa64e9a6\n"
						  "PRIORITY=6\nSVFF_PF=0000:03:00.0\n"
						  "SVFF_VF=0000:03:00.2\nSVFF_DOMAIN=db1\n"),
			  1);
	ck_assert_int_eq(run_hook("release", "end", xml), 0);
	ck_assert_uint_eq(test_journal_count_with("MESSAGE_ID=ce497d5ce3cf4622a1aef3d0e4ff56a4\n"
						  "SVFF_VF=0000:03:00.2\nSVFF_DOMAIN=db1\n"),
			  1);
	/* news for the journal only: the hook's stderr (libvirt's error text) has the refusal */
	ck_assert_ptr_null(strstr(test_messages(), "starts with"));
	ck_assert_ptr_null(strstr(test_messages(), "assignment"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "is being reconfigured"));
}
END_TEST

START_TEST(malformed_or_huge_xml_is_refused)
{
	_cleanup_free_ char *huge = calloc(1, 17 * 1024 * 1024);

	ck_assert_ptr_nonnull(huge);
	ck_assert_int_eq(run_hook("prepare", "begin", "<domain><name>x"), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(test_messages(), "malformed"));
	memset(huge, ' ', 17 * 1024 * 1024 - 1);
	memcpy(huge, "<domain>", 8);
	ck_assert_int_eq(run_hook("release", "end", huge), -EBADMSG);
}
END_TEST

START_TEST(broken_config_fails_closed_only_for_domains_with_a_vf)
{
	char xml[2048];

	write_conf("[0000:03:00.0]\ndriver=vfio-pci\nnumvfs=two\n");
	/* 0000:00:1f.0 is no VF slot of any PF: nothing of svff's business */
	domain_xml(xml, sizeof(xml), "0000:00:1f.0", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_ptr_nonnull(strstr(test_messages(), "has no SR-IOV VF, so svff lets it start"));
	ck_assert(state_untouched());
	/* a VF of a PF that svff.conf may well list: the start waits for a fixed file */
	domain_xml(xml, sizeof(xml), "0000:04:01.2", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(test_messages(), "line 3"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "domain 'db1' has an SR-IOV VF"));
}
END_TEST

START_TEST(unusable_state_dir_fails_closed_only_for_managed_vfs)
{
	char xml[2048];

	ck_assert_int_eq(chmod(ctx->state_dir, 0777), 0);
	domain_xml(xml, sizeof(xml), "0000:04:01.2", "yes"); /* PF 04:00.0 is not managed */
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	domain_xml(xml, sizeof(xml), "0000:03:00.2", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), -EACCES);
	ck_assert_ptr_nonnull(strstr(test_messages(), "is group- or world-writable"));
	ck_assert_int_eq(svff_exit_code(-EACCES), SVFF_EXIT_STATE);
	chmod(ctx->state_dir, 0700);
}
END_TEST

/* Two more PFs with ten VFs each, for domains started all at once. */
static void add_two_pfs_of_ten_vfs(void)
{
	GString *text = g_string_new(NULL);
	GError *error = NULL;

	for (unsigned bus = 5; bus <= 6; bus++) {
		g_string_append_printf(text,
				       "P: /devices/pci0000:00/0000:00:0%u.0/0000:%02x:00.0\n"
				       "E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:%02x:00.0\n"
				       "A: sriov_totalvfs=16\nA: sriov_numvfs=10\n"
				       "A: sriov_offset=8\nA: sriov_stride=1\n",
				       bus, bus, bus);
		for (unsigned i = 0; i < 10; i++)
			g_string_append_printf(text, "L: virtfn%u=../0000:%02x:%02x.%u\n", i, bus,
					       (8 + i) >> 3, (8 + i) & 7);
		g_string_append(text, "\n");
		for (unsigned i = 0; i < 10; i++)
			g_string_append_printf(text,
					       "P: /devices/pci0000:00/0000:00:0%u.0/0000:%02x:%02x.%u\n"
					       "E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:%02x:%02x.%u\n"
					       "L: physfn=../0000:%02x:00.0\n\n",
					       bus, bus, (8 + i) >> 3, (8 + i) & 7, bus, (8 + i) >> 3,
					       (8 + i) & 7, bus);
	}
	ck_assert_msg(umockdev_testbed_add_from_string(testbed, text->str, &error), "%s",
		      error ? error->message : "");
	g_string_free(text, TRUE);
}

START_TEST(twenty_domains_started_at_once_are_each_recorded_once)
{
	struct record **records = NULL;
	size_t n = 0;
	pid_t pids[20];

	add_two_pfs_of_ten_vfs();
	write_conf("[0000:05:00.0]\n[0000:06:00.0]\n");
	for (unsigned k = 0; k < 20; k++) {
		pids[k] = fork();
		ck_assert_int_ge(pids[k], 0);
		if (pids[k] == 0) {
			unsigned i = k % 10, bus = 5 + k / 10;
			char xml[2048], vf[SVFF_BDF_SIZE], name[16], uuid[37];

			snprintf(vf, sizeof(vf), "0000:%02x:%02x.%u", bus, (8 + i) >> 3, (8 + i) & 7);
			snprintf(name, sizeof(name), "vm%u", k);
			snprintf(uuid, sizeof(uuid), "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e%03u", k);
			named_domain_xml(xml, sizeof(xml), name, uuid, vf, "yes");
			_exit(run_hook("prepare", "begin", xml) == 0 ? 0 : 1);
		}
	}
	for (unsigned k = 0; k < 20; k++) {
		int status;

		ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "start %u failed", k);
	}
	ck_assert_int_eq(records_load_all(ctx, STORE_ASSIGNED, &records, &n), 0);
	ck_assert_uint_eq(n, 20);
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			ck_assert_str_ne(records[a]->domain_uuid, records[b]->domain_uuid);
	records_free(records, n);
}
END_TEST

START_TEST(gate_passes_what_a_byte_search_cannot_read)
{
	static const char plain[] = "<domain><devices><disk/></devices></domain>";
	static const char reference[] = "<domain><interface type='&#104;ostdev'/></domain>";
	static const char utf16[] = "\xff\xfe<\0d\0o\0m\0";

	ck_assert(!hook_gate_xml(plain, sizeof(plain) - 1));
	ck_assert(hook_gate_xml(reference, sizeof(reference) - 1));
	ck_assert(hook_gate_xml(utf16, sizeof(utf16) - 1));
}
END_TEST

START_TEST(other_operations_do_nothing)
{
	ck_assert_int_eq(run_hook("migrate", "begin", "not xml"), 0);
	ck_assert_int_eq(run_hook("reconnect", "begin", ""), 0);
	ck_assert_int_eq(run_hook("frobnicate", "-", ""), 0);
	ck_assert(state_untouched());
}
END_TEST

START_TEST(release_drops_assignment_and_pending_reattach)
{
	char xml[2048];
	struct record *record;

	domain_xml(xml, sizeof(xml), "0000:03:00.3", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(record_load(ctx, STORE_ASSIGNED, "0000:03:00.0", 1, &record), 0);
	record->phase = PHASE_DETACHED;
	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, record), 0);
	record_free(record);
	ck_assert_int_eq(run_hook("release", "end", xml), 0);
	ck_assert_int_eq(record_load(ctx, STORE_ASSIGNED, "0000:03:00.0", 1, &record), -ENOENT);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &record), -ENOENT);
}
END_TEST

START_TEST(removed_vf_of_running_domain_is_lost_then_wanted_back)
{
	char xml[2048], pf[SVFF_BDF_SIZE] = "";
	_cleanup_(record_freep) struct record *lost = NULL;

	domain_xml(xml, sizeof(xml), "0000:03:00.2", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(svff_udev_event(ctx, "remove", "0000:03:00.2", pf), 0);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &lost), 0);
	ck_assert_int_eq(lost->phase, PHASE_LOST);
	ck_assert_str_eq(lost->device.guest_address, "0000:07:00.0");
	ck_assert_int_eq(svff_udev_event(ctx, "add", "0000:03:00.2", pf), 1);
	ck_assert_str_eq(pf, "0000:03:00.0");
}
END_TEST

/* udev runs svff-udev for new VFs while the numvfs write that makes them is in the kernel. */
START_TEST(vf_added_during_a_blocked_numvfs_write_is_still_handled)
{
	char xml[2048], pf[SVFF_BDF_SIZE] = "";

	domain_xml(xml, sizeof(xml), "0000:03:00.2", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(svff_udev_event(ctx, "remove", "0000:03:00.2", pf), 0);
	test_numvfs_writer_mark(ctx, "0000:03:00.0", true);
	ck_assert_int_eq(svff_udev_event(ctx, "add", "0000:03:00.2", pf), 1);
	ck_assert_str_eq(pf, "0000:03:00.0");
	ck_assert_ptr_null(strstr(test_messages(), "busy"));
}
END_TEST

START_TEST(lost_vf_of_an_earlier_boot_waits_for_its_domain_to_start)
{
	char xml[2048], pf[SVFF_BDF_SIZE] = "";
	char assigned[PATH_MAX];
	struct record *lost;

	domain_xml(xml, sizeof(xml), "0000:03:00.2", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(svff_udev_event(ctx, "remove", "0000:03:00.2", pf), 0);
	/* The host went down: the runtime dir with the domain's assignment is gone. */
	store_path(ctx, STORE_ASSIGNED, assigned, sizeof(assigned));
	test_rm_rf(assigned);
	ck_assert_int_eq(svff_udev_event(ctx, "add", "0000:03:00.2", pf), 0);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &lost), 0);
	ck_assert_int_eq(lost->phase, PHASE_LOST);
	record_free(lost);
}
END_TEST

START_TEST(planned_detach_record_is_not_turned_into_lost)
{
	char xml[2048], pf[SVFF_BDF_SIZE] = "";
	struct record *record;

	domain_xml(xml, sizeof(xml), "0000:03:00.2", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(record_load(ctx, STORE_ASSIGNED, "0000:03:00.0", 0, &record), 0);
	record->phase = PHASE_DETACHED;
	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, record), 0);
	record_free(record);
	ck_assert_int_eq(svff_udev_event(ctx, "remove", "0000:03:00.2", pf), 0);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &record), 0);
	ck_assert_int_eq(record->phase, PHASE_DETACHED);
	record_free(record);
	ck_assert_int_eq(svff_udev_event(ctx, "add", "0000:03:00.2", pf), 0);
}
END_TEST

START_TEST(unexpected_udev_environment_is_refused)
{
	char pf[SVFF_BDF_SIZE];

	ck_assert_int_eq(svff_udev_event(ctx, NULL, "0000:03:00.2", pf), -EINVAL);
	ck_assert_int_eq(svff_udev_event(ctx, "add", "eth0", pf), -EINVAL);
	ck_assert_ptr_nonnull(strstr(test_messages(), "PCI_SLOT_NAME 'eth0'"));
}
END_TEST

/* A record of records/ for domain db1's VF, as a detach (or pause) leaves it. */
static void record_detached(const char *vf, unsigned index, enum phase phase)
{
	char xml[2048];
	struct record *record;

	domain_xml(xml, sizeof(xml), vf, "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(record_load(ctx, STORE_ASSIGNED, "0000:03:00.0", index, &record), 0);
	record->phase = phase;
	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, record), 0);
	record_free(record);
}

START_TEST(start_with_the_recorded_vf_resolves_its_record)
{
	char xml[2048];
	struct record *record;

	record_detached("0000:03:00.3", 1, PHASE_DETACHED);
	/* another domain's record stays for that domain's start */
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &record), 0);
	record->vf_index = 0;
	snprintf(record->domain_uuid, sizeof(record->domain_uuid), "%s",
		 "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e002");
	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, record), 0);
	record_free(record);
	domain_xml(xml, sizeof(xml), "0000:03:00.3", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &record), -ENOENT);
	ck_assert_ptr_nonnull(strstr(test_messages(), "domain 'db1' starts with VF 1 of PF "
						      "'0000:03:00.0' (0000:03:00.3) in its XML: its "
						      "record (phase detached) is resolved"));
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &record), 0);
	record_free(record);
}
END_TEST

START_TEST(start_without_a_live_only_vf_drops_its_record_with_a_warning)
{
	char xml[2048];
	struct record *record;

	record_detached("0000:03:00.2", 0, PHASE_PAUSED);
	domain_xml(xml, sizeof(xml), "0000:03:00.3", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &record), -ENOENT);
	ck_assert_ptr_nonnull(strstr(test_messages(), "domain 'db1' starts without VF 0 of PF "
						      "'0000:03:00.0' (0000:03:00.2), which it had "
						      "only live"));
}
END_TEST

START_TEST(start_fails_while_a_reconfiguration_is_unfinished)
{
	struct reconf_journal journal = { .pf = "0000:03:00.0", .from_numvfs = 2, .to_numvfs = 4,
					  .step = "enable" };
	char xml[2048];
	struct record *record;

	record_detached("0000:03:00.3", 1, PHASE_DETACHED);
	ck_assert_int_eq(journal_save(ctx, &journal), 0);
	ck_assert_int_eq(record_remove(ctx, STORE_ASSIGNED, &(struct record){
		.pf = "0000:03:00.0", .vf_index = 1 }), 0);
	domain_xml(xml, sizeof(xml), "0000:03:00.3", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), -EEXIST);
	ck_assert_ptr_nonnull(strstr(test_messages(), "a reconfiguration of PF '0000:03:00.0' "
						      "(numvfs 2 -> 4) was interrupted at step "
						      "'enable'"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "run svff-apply --pf 0000:03:00.0"));
	/* nothing recorded, nothing resolved: the record waits for a start that can happen */
	ck_assert_int_eq(record_load(ctx, STORE_ASSIGNED, "0000:03:00.0", 1, &record), -ENOENT);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &record), 0);
	record_free(record);
}
END_TEST

START_TEST(corrupt_record_does_not_stop_a_start_and_is_left_in_place)
{
	char xml[2048], path[PATH_MAX];

	ck_assert_int_eq(state_prepare(ctx), 0);
	snprintf(path, sizeof(path), "%s/records/0000:03:00.0-vf1.xml", ctx->state_dir);
	test_write_file(path, "<svff-record version='1'><pf>0000:03:00.0</pf>");
	domain_xml(xml, sizeof(xml), "0000:03:00.3", "yes");
	ck_assert_int_eq(run_hook("prepare", "begin", xml), 0);
	ck_assert_ptr_nonnull(strstr(test_messages(), "is corrupt; it is left untouched"));
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hook");
	TCase *conf = tcase_create("config"), *hook = tcase_create("hook");

	tcase_add_checked_fixture(conf, setup, teardown);
	tcase_add_test(conf, missing_config_manages_nothing);
	tcase_add_test(conf, config_values_are_read_with_defaults);
	tcase_add_test(conf, invalid_config_names_file_and_place);
	suite_add_tcase(s, conf);
	tcase_add_checked_fixture(hook, setup, teardown);
	tcase_add_test(hook, prepare_records_assignment_of_managed_vf);
	tcase_add_test(hook, prepare_refuses_vf_beyond_numvfs);
	tcase_add_test(hook, prepare_records_every_vf_of_every_managed_pf);
	tcase_add_test(hook, prepare_fails_while_pf_is_reconfigured);
	tcase_add_test(hook, refused_start_and_assignment_are_journaled);
	tcase_add_test(hook, malformed_or_huge_xml_is_refused);
	tcase_add_test(hook, other_operations_do_nothing);
	tcase_add_test(hook, gate_passes_what_a_byte_search_cannot_read);
	tcase_add_test(hook, twenty_domains_started_at_once_are_each_recorded_once);
	tcase_add_test(hook, broken_config_fails_closed_only_for_domains_with_a_vf);
	tcase_add_test(hook, unusable_state_dir_fails_closed_only_for_managed_vfs);
	tcase_add_test(hook, release_drops_assignment_and_pending_reattach);
	tcase_add_test(hook, removed_vf_of_running_domain_is_lost_then_wanted_back);
	tcase_add_test(hook, vf_added_during_a_blocked_numvfs_write_is_still_handled);
	tcase_add_test(hook, lost_vf_of_an_earlier_boot_waits_for_its_domain_to_start);
	tcase_add_test(hook, planned_detach_record_is_not_turned_into_lost);
	tcase_add_test(hook, unexpected_udev_environment_is_refused);
	tcase_add_test(hook, start_with_the_recorded_vf_resolves_its_record);
	tcase_add_test(hook, start_without_a_live_only_vf_drops_its_record_with_a_warning);
	tcase_add_test(hook, start_fails_while_a_reconfiguration_is_unfinished);
	tcase_add_test(hook, corrupt_record_does_not_stop_a_start_and_is_left_in_place);
	suite_add_tcase(s, hook);
	return test_run(s);
}
