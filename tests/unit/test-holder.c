/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <stdio.h>
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
	tcase_add_test(tc, wait_for_release_times_out_while_held);
	suite_add_tcase(s, tc);
	return test_run(s);
}
