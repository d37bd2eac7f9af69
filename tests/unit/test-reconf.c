/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs under umockdev-wrapper: numvfs writes land in the fake sysfs. */
#include <string.h>
#include <sys/stat.h>
#include <umockdev.h>

#include "ops.h"
#include "program.h"
#include "test-util.h"
#include "test-mock.h"

static UMockdevTestbed *testbed;
static struct svff_ctx *ctx;

static void setup(void)
{
	testbed = test_fake_sysfs_new();
	ctx = test_ctx_new();
	ck_assert_int_eq(state_prepare(ctx), 0);
}

static void teardown(void)
{
	test_ctx_free(ctx);
	g_object_unref(testbed);
}

static usec_t soon(void)
{
	return now_usec() + 5000000ULL;
}

START_TEST(program_gets_pf_and_numvfs_in_its_environment)
{
	char *const pf_set[] = { (char *)"/usr/bin/printenv", (char *)"SVFF_PF", NULL };
	char *const numvfs_set[] = { (char *)"/usr/bin/printenv", (char *)"SVFF_NUMVFS", NULL };
	char *const unset[] = { (char *)"/usr/bin/printenv", (char *)"SVFF_NO_SUCH_VARIABLE", NULL };

	ck_assert_int_eq(program_run(ctx, pf_set, "0000:03:00.0", 4, soon()), 0);
	ck_assert_int_eq(program_run(ctx, numvfs_set, "0000:03:00.0", 4, soon()), 0);
	ck_assert_int_eq(program_run(ctx, unset, "0000:03:00.0", 4, soon()), -ECANCELED);
}
END_TEST

START_TEST(failing_program_is_reported_with_its_status)
{
	char *const argv[] = { (char *)"/bin/false", NULL };

	ck_assert_int_eq(program_run(ctx, argv, "0000:03:00.0", 2, soon()), -ECANCELED);
	ck_assert_ptr_nonnull(strstr(test_messages(), "program '/bin/false' failed with exit status 1"));
}
END_TEST

START_TEST(hanging_program_is_killed_at_the_deadline)
{
	char *const argv[] = { (char *)"/bin/sleep", (char *)"30", NULL };

	ck_assert_int_eq(program_run(ctx, argv, "0000:03:00.0", 2, now_usec() + 200000), -ECANCELED);
	ck_assert_ptr_nonnull(strstr(test_messages(), "did not finish"));
}
END_TEST

START_TEST(missing_program_is_refused_before_anything_runs)
{
	char path[256];

	ck_assert_int_eq(program_check(ctx, "/no/such/loader", path, sizeof(path)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(test_messages(), "'/no/such/loader' cannot be run"));
	snprintf(path, sizeof(path), "%s/not-executable", ctx->state_dir);
	test_write_file(path, "#!/bin/true\n");
	chmod(path, 0644);
	ck_assert_int_eq(program_check(ctx, path, path, sizeof(path)), -ENOEXEC);
}
END_TEST

START_TEST(pf_without_driver_is_refused_before_anything_changes)
{
	struct svff_reconf_request request = { .pf = "0000:04:00.0", .numvfs = 2 };
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;

	ck_assert_int_eq(svff_reconf(ctx, &request), -EUNATCH);
	ck_assert_ptr_nonnull(strstr(test_messages(), "PF '0000:04:00.0' has no driver bound"));
	ck_assert_int_eq(svff_exit_code(-EUNATCH), SVFF_EXIT_NUMVFS);
	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:04:00.0", &pf), 0);
	ck_assert_uint_eq(pf->numvfs, 0);
}
END_TEST

START_TEST(numvfs_is_written_by_a_child)
{
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;

	ck_assert_int_eq(numvfs_write(ctx, "0000:04:00.0", 3, soon()), 0);
	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:04:00.0", &pf), 0);
	ck_assert_uint_eq(pf->numvfs, 3);
}
END_TEST

START_TEST(journal_round_trip_and_recovery)
{
	struct reconf_journal journal = { .pf = "0000:04:00.0", .from_numvfs = 2, .to_numvfs = 6,
					  .step = "program" }, loaded;
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;

	ck_assert_int_eq(journal_save(ctx, &journal), 0);
	ck_assert_int_eq(journal_load(ctx, "0000:04:00.0", &loaded), 0);
	ck_assert_uint_eq(loaded.from_numvfs, 2);
	ck_assert_uint_eq(loaded.to_numvfs, 6);
	ck_assert_str_eq(loaded.step, "program");
	/* numvfs is 0 in the fake sysfs: interrupted with the VFs gone, it goes back to 2 */
	ck_assert_int_eq(journal_recover(ctx, "0000:04:00.0"), 0);
	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:04:00.0", &pf), 0);
	ck_assert_uint_eq(pf->numvfs, 2);
	ck_assert_int_eq(journal_load(ctx, "0000:04:00.0", &loaded), -ENOENT);
}
END_TEST

START_TEST(corrupt_journal_is_left_alone)
{
	char path[4096];
	struct reconf_journal loaded;

	snprintf(path, sizeof(path), "%s/reconf", ctx->state_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/reconf/0000:04:00.0.xml", ctx->state_dir);
	test_write_file(path, "<svff-reconf version='1'><from>x</from>");
	ck_assert_int_eq(journal_load(ctx, "0000:04:00.0", &loaded), -EBADMSG);
	ck_assert_int_eq(journal_recover(ctx, "0000:04:00.0"), -EBADMSG);
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reconf");
	TCase *tc = tcase_create("steps");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, program_gets_pf_and_numvfs_in_its_environment);
	tcase_add_test(tc, failing_program_is_reported_with_its_status);
	tcase_add_test(tc, hanging_program_is_killed_at_the_deadline);
	tcase_add_test(tc, missing_program_is_refused_before_anything_runs);
	tcase_add_test(tc, pf_without_driver_is_refused_before_anything_changes);
	tcase_add_test(tc, numvfs_is_written_by_a_child);
	tcase_add_test(tc, journal_round_trip_and_recovery);
	tcase_add_test(tc, corrupt_journal_is_left_alone);
	suite_add_tcase(s, tc);
	return test_run(s);
}
