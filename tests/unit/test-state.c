/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "statefile.h"
#include "test-util.h"

static const char device_xml[] =
	"<hostdev mode='subsystem' type='pci' managed='yes'>"
	"<source><address domain='0x0000' bus='0x03' slot='0x00' function='0x2'/></source>"
	"<alias name='ua-db'/>"
	"<address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>"
	"</hostdev>";

static struct svff_ctx *ctx;

static void setup(void)
{
	ctx = test_ctx_new();
	ck_assert_int_eq(state_prepare(ctx), 0);
}

static void teardown(void)
{
	test_ctx_free(ctx);
}

static struct record sample_record(unsigned index, enum phase phase)
{
	struct record record = { .pf = "0000:03:00.0", .vf_index = index,
				 .vf_bdf = "0000:03:00.2", .domain_uuid =
				 "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001",
				 .domain_name = "db1", .phase = phase };

	ck_assert_int_eq(xml_device_parse(device_xml, &record.device), 0);
	return record;
}

static void record_path(unsigned index, char *buf, size_t size)
{
	snprintf(buf, size, "%s/records/0000:03:00.0-vf%u.xml", ctx->state_dir, index);
}

static size_t count_entries(const char *dir_path)
{
	DIR *dir = opendir(dir_path);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(dir);
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.' || strlen(de->d_name) > 2;
	closedir(dir);
	return n;
}

START_TEST(state_dir_is_private)
{
	struct stat st;

	ck_assert_int_eq(stat(ctx->state_dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
}
END_TEST

START_TEST(saved_record_loads_back_identical)
{
	struct record record = sample_record(1, PHASE_DETACHED);
	_cleanup_(record_freep) struct record *loaded = NULL;

	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &loaded), 0);
	ck_assert_str_eq(loaded->domain_name, "db1");
	ck_assert_str_eq(loaded->domain_uuid, record.domain_uuid);
	ck_assert_str_eq(loaded->vf_bdf, "0000:03:00.2");
	ck_assert_int_eq(loaded->phase, PHASE_DETACHED);
	ck_assert_str_eq(loaded->device.guest_address, "0000:07:00.0");
	ck_assert_str_eq(loaded->device.alias, "ua-db");
	free(record.device.xml);
}
END_TEST

/* The VF's kind is kept with its record; a record written before that has none. */
START_TEST(vf_class_loads_back_and_is_optional)
{
	/* a record as svff wrote it before it kept the class, cut where <vf> may have more */
	static const char head[] = "<svff-record version='1'><pf>0000:03:00.0</pf>"
				   "<vf index='1' address='0000:03:00.3'";
	static const char tail[] =
		"/><domain uuid='2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001' name='db1'/>"
		"<phase>detached</phase><device><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0x0000' bus='0x03' slot='0x00' function='0x3'/></source>"
		"</hostdev></device></svff-record>";
	static const char *const bad_classes[] = { "ethernet", "0x1000000", "0", "-2", "" };
	struct record record = sample_record(1, PHASE_DETACHED);
	_cleanup_(record_freep) struct record *loaded = NULL;
	_cleanup_(record_freep) struct record *older = NULL;
	_cleanup_free_ char *older_text = NULL;

	record.vf_class = 0x020000;
	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &loaded), 0);
	ck_assert_uint_eq(loaded->vf_class, 0x020000);
	ck_assert_int_ge(asprintf(&older_text, "%s%s", head, tail), 0);
	ck_assert_int_eq(record_parse(older_text, strlen(older_text), &older), 0);
	ck_assert_uint_eq(older->vf_class, 0);
	for (size_t i = 0; i < ELEMENTSOF(bad_classes); i++) {
		_cleanup_free_ char *text = NULL;
		struct record *bad;

		ck_assert_int_ge(asprintf(&text, "%s class='%s'%s", head, bad_classes[i], tail), 0);
		ck_assert_int_eq(record_parse(text, strlen(text), &bad), -EBADMSG);
	}
	free(record.device.xml);
}
END_TEST

/* A paused VF's record must survive a reload in each of its phases, or a crash loses it. */
START_TEST(pause_phases_load_back)
{
	static const enum phase phases[] = { PHASE_PAUSING, PHASE_PAUSED, PHASE_RESUMING };
	static const char *const names[] = { "pausing", "paused", "resuming" };

	for (size_t i = 0; i < 3; i++) {
		struct record record = sample_record(2, phases[i]);
		_cleanup_(record_freep) struct record *loaded = NULL;

		ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
		ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 2, &loaded), 0);
		ck_assert_int_eq(loaded->phase, phases[i]);
		ck_assert_str_eq(phase_to_string(loaded->phase), names[i]);
		free(record.device.xml);
	}
}
END_TEST

START_TEST(save_replaces_whole_file_and_leaves_no_temp)
{
	struct record record = sample_record(0, PHASE_DETACHING);
	_cleanup_(record_freep) struct record *loaded = NULL;
	char dir[PATH_MAX];

	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	record.phase = PHASE_REATTACHING;
	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	snprintf(dir, sizeof(dir), "%s/records", ctx->state_dir);
	ck_assert_uint_eq(count_entries(dir), 1);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &loaded), 0);
	ck_assert_int_eq(loaded->phase, PHASE_REATTACHING);
	free(record.device.xml);
}
END_TEST

START_TEST(missing_record_is_quiet_enoent)
{
	struct record *loaded;

	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 5, &loaded), -ENOENT);
	ck_assert_str_eq(test_messages(), "");
}
END_TEST

START_TEST(corrupt_record_is_reported_and_left_untouched)
{
	char path[PATH_MAX];
	struct record *loaded;
	_cleanup_free_ char *after = NULL;
	static const char garbage[] = "<svff-record version='1'><pf>0000:03:00.0</pf>";

	record_path(2, path, sizeof(path));
	test_write_file(path, garbage);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 2, &loaded), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(test_messages(), "0000:03:00.0-vf2.xml"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "corrupt"));
	after = test_read_file(path);
	ck_assert_str_eq(after, garbage);
}
END_TEST

START_TEST(record_with_bad_fields_is_corrupt)
{
	static const char *const bad[] = {
		"<svff-record version='2'/>",
		"<svff-record version='1'><pf>../x</pf></svff-record>",
		("<svff-record version='1'><pf>0000:03:00.0</pf><vf index='x' "
		 "address='0000:03:00.2'/></svff-record>"),
	};
	struct record *loaded;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_int_eq(record_parse(bad[i], strlen(bad[i]), &loaded), -EBADMSG);
}
END_TEST

START_TEST(load_all_returns_good_records_beside_corrupt_one)
{
	struct record record = sample_record(0, PHASE_DETACHED);
	struct record **records;
	size_t n;
	char path[PATH_MAX];

	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	record_path(3, path, sizeof(path));
	test_write_file(path, "not xml");
	ck_assert_int_eq(records_load_all(ctx, STORE_RECORDS, &records, &n), -EBADMSG);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(records[0]->vf_index, 0);
	records_free(records, n);
	free(record.device.xml);
}
END_TEST

START_TEST(removed_record_is_gone)
{
	struct record record = sample_record(0, PHASE_DETACHED);
	struct record *loaded;

	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	ck_assert_int_eq(record_remove(ctx, STORE_RECORDS, &record), 0);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &loaded), -ENOENT);
	free(record.device.xml);
}
END_TEST

START_TEST(unwritable_state_dir_names_the_directory)
{
	struct svff_config config = { .program = "t", .state_dir = "/proc/svff-state",
				      .max_level = SVFF_LOG_ERR };
	struct svff_ctx *bad;

	ck_assert_int_eq(svff_ctx_new(&config, &bad), 0);
	bad->log_fn = ctx->log_fn;
	ck_assert_int_lt(state_prepare(bad), 0);
	ck_assert_ptr_nonnull(strstr(test_messages(), "'/proc/svff-state'"));
	svff_ctx_unref(bad);
}
END_TEST

static struct svff_ctx *ctx_with_state_dir(const char *dir)
{
	struct svff_config config = { .program = "t", .state_dir = dir, .runtime_dir = dir,
				      .max_level = SVFF_LOG_ERR };
	struct svff_ctx *other;

	ck_assert_int_eq(svff_ctx_new(&config, &other), 0);
	other->log_fn = ctx->log_fn;
	return other;
}

START_TEST(untrusted_state_dirs_are_refused)
{
	_cleanup_free_ char *base = test_mkdtemp(), *real = NULL, *link = NULL;
	struct svff_ctx *other;

	ck_assert_int_ge(asprintf(&real, "%s/real", base), 0);
	ck_assert_int_ge(asprintf(&link, "%s/link", base), 0);
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink(real, link), 0);
	other = ctx_with_state_dir(link);
	ck_assert_int_eq(state_prepare(other), -EACCES);
	ck_assert_ptr_nonnull(strstr(test_messages(), "is a symbolic link"));
	svff_ctx_unref(other);

	ck_assert_int_eq(chmod(real, 0777), 0);
	other = ctx_with_state_dir(real);
	ck_assert_int_eq(state_prepare(other), -EACCES);
	ck_assert_ptr_nonnull(strstr(test_messages(), "group- or world-writable (mode 0777)"));
	ck_assert_int_eq(chmod(real, 0700), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(real, 1, 1), 0);
		ck_assert_int_eq(state_prepare(other), -EACCES);
		ck_assert_ptr_nonnull(strstr(test_messages(), "is owned by uid 1"));
		ck_assert_int_eq(chown(real, 0, 0), 0);
	}
	ck_assert_int_eq(state_prepare(other), 0);
	svff_ctx_unref(other);
	test_rm_rf(base);
}
END_TEST

START_TEST(fifo_in_place_of_a_record_is_corrupt_not_a_hang)
{
	char path[PATH_MAX];
	struct record **records = NULL;
	size_t n = 0;

	ck_assert_int_eq(state_prepare(ctx), 0);
	snprintf(path, sizeof(path), "%s/records/0000:03:00.0-vf0.xml", ctx->state_dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(records_load_all(ctx, STORE_RECORDS, &records, &n), -EBADMSG);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(strstr(test_messages(), "is corrupt"));
	records_free(records, n);
}
END_TEST

START_TEST(second_operation_on_same_pf_is_refused)
{
	struct op_lock first, second;
	int fd = -EBADF;

	ck_assert_int_eq(op_lock_acquire(ctx, LOCK_SCOPE_ONE_PF, "0000:03:00.0", &first), 0);
	/* the hook and the udev helper do not get it while an operation holds it */
	ck_assert_int_eq(pf_lock_share(ctx, "0000:03:00.0", &fd), -EBUSY);
	ck_assert_int_eq(op_lock_acquire(ctx, LOCK_SCOPE_ONE_PF, "0000:03:00.0", &second),
			 -EBUSY);
	ck_assert_ptr_nonnull(strstr(test_messages(), "'0000:03:00.0'"));
	ck_assert_int_eq(op_lock_acquire(ctx, LOCK_SCOPE_ONE_PF, "0000:04:00.0", &second), 0);
	op_lock_release(&second);
	ck_assert_int_eq(op_lock_acquire(ctx, LOCK_SCOPE_ALL_PFS, NULL, &second), -EBUSY);
	op_lock_release(&first);
	ck_assert_int_eq(pf_lock_share(ctx, "0000:03:00.0", &fd), 0);
	close(fd);
	ck_assert_int_eq(op_lock_acquire(ctx, LOCK_SCOPE_ALL_PFS, NULL, &second), 0);
	op_lock_release(&second);
}
END_TEST

/* What a reader finds at each point a power loss may cut the write short. */
struct cut_short {
	const char *step;
	enum phase found;
	bool temp_there;
};

static void look_at_step(void *userdata, const char *step)
{
	struct cut_short *seen = userdata;
	_cleanup_(record_freep) struct record *loaded = NULL;
	char path[PATH_MAX];

	for (; seen->step; seen++)
		if (strcmp(seen->step, step) == 0)
			break;
	ck_assert_msg(seen->step, "unexpected step '%s'", step);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &loaded), 0);
	seen->found = loaded->phase;
	snprintf(path, sizeof(path), "%s/records/.0000:03:00.0-vf0.xml.%d.tmp", ctx->state_dir,
		 (int)getpid());
	seen->temp_there = access(path, F_OK) == 0;
}

START_TEST(write_cut_short_at_any_step_leaves_old_or_new_record)
{
	struct record record = sample_record(0, PHASE_DETACHED);
	struct cut_short seen[] = { { "write" }, { "fsync" }, { "rename" }, { "dirsync" }, { 0 } };
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int dir_fd = -EBADF;

	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	record.phase = PHASE_REATTACHING;
	ck_assert_int_eq(record_serialize(&record, &text), 0);
	dir_fd = state_dir_open(ctx, STORE_RECORDS);
	ck_assert_int_ge(dir_fd, 0);
	ck_assert_int_eq(state_file_write_steps(dir_fd, "0000:03:00.0-vf0.xml", text,
						look_at_step, seen), 0);
	/* before the rename: the old record, whole, and the new one only in the temp file */
	ck_assert_int_eq(seen[0].found, PHASE_DETACHED);
	ck_assert(seen[0].temp_there);
	ck_assert_int_eq(seen[1].found, PHASE_DETACHED);
	ck_assert(seen[1].temp_there);
	/* after it: the new one, and no temp file */
	ck_assert_int_eq(seen[2].found, PHASE_REATTACHING);
	ck_assert(!seen[2].temp_there);
	ck_assert_int_eq(seen[3].found, PHASE_REATTACHING);
	ck_assert_str_eq(test_messages(), "");
	free(record.device.xml);
}
END_TEST

START_TEST(leftover_temp_file_is_never_a_record_and_is_cleaned)
{
	struct record record = sample_record(0, PHASE_DETACHED);
	_cleanup_free_ char *text = NULL, *proc = NULL, *live = NULL;
	char dead_path[PATH_MAX], live_path[PATH_MAX];
	struct record **records;
	struct record *one;
	size_t n;

	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	/* a whole record of VF 1, left by writers cut short before their rename */
	record.vf_index = 1;
	ck_assert_int_eq(record_serialize(&record, &text), 0);
	snprintf(dead_path, sizeof(dead_path), "%s/records/.0000:03:00.0-vf1.xml.4243.tmp",
		 ctx->state_dir);
	test_write_file(dead_path, text);
	snprintf(live_path, sizeof(live_path), "%s/records/.0000:03:00.0-vf1.xml.4242.tmp",
		 ctx->state_dir);
	test_write_file(live_path, "<svff-rec"); /* half written */
	ck_assert_int_eq(records_load_all(ctx, STORE_RECORDS, &records, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(records[0]->vf_index, 0);
	records_free(records, n);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &one), -ENOENT);
	ck_assert_str_eq(test_messages(), "");
	/* pid 4242 runs (it may be writing now), 4243 is gone */
	proc = test_fake_proc(ctx);
	ck_assert_int_ge(asprintf(&live, "%s/4242", proc), 0);
	ck_assert_int_eq(mkdir(live, 0700), 0);
	ck_assert_int_eq(store_clean_temp(ctx, STORE_RECORDS), 1);
	ck_assert_int_ne(access(dead_path, F_OK), 0);
	ck_assert_int_eq(access(live_path, F_OK), 0);
	ck_assert_ptr_nonnull(strstr(test_messages(), "left by a write cut short"));
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &one), 0);
	record_free(one);
	ck_assert(!state_file_is_temp("0000:03:00.0-vf1.xml", NULL));
	ck_assert(!state_file_is_temp(".0000:03:00.0-vf1.xml.x.tmp", NULL));
	free(record.device.xml);
	test_rm_rf(proc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("records");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, state_dir_is_private);
	tcase_add_test(tc, saved_record_loads_back_identical);
	tcase_add_test(tc, vf_class_loads_back_and_is_optional);
	tcase_add_test(tc, pause_phases_load_back);
	tcase_add_test(tc, save_replaces_whole_file_and_leaves_no_temp);
	tcase_add_test(tc, missing_record_is_quiet_enoent);
	tcase_add_test(tc, corrupt_record_is_reported_and_left_untouched);
	tcase_add_test(tc, record_with_bad_fields_is_corrupt);
	tcase_add_test(tc, load_all_returns_good_records_beside_corrupt_one);
	tcase_add_test(tc, removed_record_is_gone);
	tcase_add_test(tc, unwritable_state_dir_names_the_directory);
	tcase_add_test(tc, second_operation_on_same_pf_is_refused);
	tcase_add_test(tc, untrusted_state_dirs_are_refused);
	tcase_add_test(tc, fifo_in_place_of_a_record_is_corrupt_not_a_hang);
	tcase_add_test(tc, write_cut_short_at_any_step_leaves_old_or_new_record);
	tcase_add_test(tc, leftover_temp_file_is_never_a_record_and_is_cleaned);
	suite_add_tcase(s, tc);
	return test_run(s);
}
