/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "test-util.h"

static char *proc;
static struct svff_ctx *ctx;

static void fake_fd(const char *pid, const char *fd, const char *target)
{
	test_fake_fd(proc, pid, fd, target);
}

static void setup(void)
{
	ctx = test_ctx_new();
	proc = test_fake_proc(ctx);
	fake_fd("1", "0", "/dev/null");
	fake_fd("4242", "3", "/dev/vfio/vfio");
	fake_fd("4242", "17", "/dev/vfio/12");
	/* an iommufd user: the device cdev, never the group */
	fake_fd("4343", "3", "/dev/iommu");
	fake_fd("4343", "9", "/dev/vfio/devices/vfio2");
}

static void teardown(void)
{
	test_rm_rf(proc);
	free(proc);
	test_ctx_free(ctx);
}

START_TEST(holder_of_group_is_found)
{
	struct vfio_holder holder = { 0 };

	ck_assert_int_eq(vfio_holder_find(ctx, 12, "vfio0", &holder), 1);
	ck_assert_int_eq(holder.pid, 4242);
	ck_assert_str_eq(holder.node, "/dev/vfio/12");
}
END_TEST

START_TEST(holder_of_device_cdev_is_found)
{
	struct vfio_holder holder = { 0 };

	ck_assert_int_eq(vfio_holder_find(ctx, 14, "vfio2", &holder), 1);
	ck_assert_int_eq(holder.pid, 4343);
	ck_assert_str_eq(holder.node, "/dev/vfio/devices/vfio2");
	/* without a device cdev (a kernel before 6.6) only the group counts */
	ck_assert_int_eq(vfio_holder_find(ctx, 14, "", NULL), 0);
}
END_TEST

START_TEST(vf_nobody_holds_has_no_holder)
{
	ck_assert_int_eq(vfio_holder_find(ctx, 1, "vfio1", NULL), 0);
	ck_assert_int_eq(vfio_holder_find(ctx, -1, "", NULL), 0);
	ck_assert_int_eq(vfio_holder_find(ctx, -1, NULL, NULL), 0);
}
END_TEST

static pid_t scanned_holder(const struct vfio_holders *holders, int group, const char *device,
			    const char *node)
{
	struct vfio_holder holder = { 0 };

	if (!vfio_holders_find(holders, group, device, &holder))
		return 0;
	ck_assert_str_eq(holder.node, node);
	return holder.pid;
}

/* One walk of /proc answers for every VF what a walk per VF would. */
START_TEST(one_scan_finds_every_holder)
{
	struct vfio_holders holders = { 0 };
	struct vfio_holder holder = { 0 };

	fake_fd("4242", "18", "/dev/vfio/7");
	fake_fd("5151", "4", "/dev/vfio/30");
	fake_fd("5151", "5", "/dev/vfio/300 (deleted)");
	ck_assert_int_eq(vfio_holders_scan(ctx, &holders), 0);
	ck_assert_int_eq(scanned_holder(&holders, 12, "vfio0", "/dev/vfio/12"), 4242);
	ck_assert_int_eq(scanned_holder(&holders, 7, NULL, "/dev/vfio/7"), 4242);
	ck_assert_int_eq(scanned_holder(&holders, 30, "", "/dev/vfio/30"), 5151);
	ck_assert_int_eq(scanned_holder(&holders, 14, "vfio2", "/dev/vfio/devices/vfio2"), 4343);
	ck_assert_int_eq(scanned_holder(&holders, 14, "", ""), 0);
	ck_assert_int_eq(scanned_holder(&holders, 300, NULL, ""), 0);
	ck_assert_int_eq(scanned_holder(&holders, 3, "vfio1", ""), 0); /* /dev/vfio/3 is not 30 */
	ck_assert_int_eq(scanned_holder(&holders, -1, NULL, ""), 0);
	/* the same answers as a walk of its own, for each of them */
	ck_assert_int_eq(vfio_holder_find(ctx, 14, "vfio2", &holder), 1);
	ck_assert_int_eq(holder.pid, 4343);
	ck_assert_int_eq(vfio_holder_find(ctx, 300, NULL, NULL), 0);
	vfio_holders_done(&holders);
	vfio_holders_done(&holders); /* twice: nothing left to free */
}
END_TEST

/* A VF open by two processes, one by its group, one by its cdev: the first in /proc. */
START_TEST(scan_names_the_first_holder_as_a_walk_does)
{
	struct vfio_holders holders = { 0 };
	struct vfio_holder walked = { 0 }, scanned = { 0 };

	fake_fd("4444", "5", "/dev/vfio/devices/vfio2");
	fake_fd("4545", "6", "/dev/vfio/14");
	ck_assert_int_eq(vfio_holders_scan(ctx, &holders), 0);
	ck_assert_int_eq(vfio_holder_find(ctx, 14, "vfio2", &walked), 1);
	ck_assert_int_eq(vfio_holders_find(&holders, 14, "vfio2", &scanned), 1);
	ck_assert_int_eq(scanned.pid, walked.pid);
	ck_assert_str_eq(scanned.node, walked.node);
	vfio_holders_done(&holders);
}
END_TEST

/* A PF with a held VF names its holder; numvfs must not change. */
START_TEST(pf_with_a_held_vf_is_refused)
{
	struct vf_info vfs[] = { { .index = 0, .bdf = "0000:03:00.2", .iommu_group = 13 },
				 { .index = 1, .bdf = "0000:03:00.3", .iommu_group = 12 } };
	struct pf_info pf = { .bdf = "0000:03:00.0", .n_vfs = 2, .vfs = vfs };

	ck_assert_int_eq(pf_check_not_held(ctx, &pf), -ETXTBSY);
	ck_assert_ptr_nonnull(strstr(test_messages(), "VF '0000:03:00.3' of PF '0000:03:00.0' is "
						      "held by process 4242 (/dev/vfio/12)"));
	ck_assert_ptr_null(strstr(test_messages(), "0000:03:00.2"));
	vfs[1].iommu_group = 14;
	ck_assert_int_eq(pf_check_not_held(ctx, &pf), 0);
}
END_TEST

START_TEST(wait_for_release_times_out_while_held)
{
	ck_assert_int_eq(vfio_wait_released(ctx, 12, "", now_usec() + 50000), -ETIMEDOUT);
	ck_assert_int_eq(vfio_wait_released(ctx, 13, "vfio2", now_usec() + 50000), -ETIMEDOUT);
	ck_assert_int_eq(vfio_wait_released(ctx, 13, "vfio1", now_usec() + 50000), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("holder");
	TCase *tc = tcase_create("vfio");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, holder_of_group_is_found);
	tcase_add_test(tc, holder_of_device_cdev_is_found);
	tcase_add_test(tc, vf_nobody_holds_has_no_holder);
	tcase_add_test(tc, one_scan_finds_every_holder);
	tcase_add_test(tc, scan_names_the_first_holder_as_a_walk_does);
	tcase_add_test(tc, pf_with_a_held_vf_is_refused);
	tcase_add_test(tc, wait_for_release_times_out_while_held);
	suite_add_tcase(s, tc);
	return test_run(s);
}
