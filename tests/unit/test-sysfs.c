/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs under umockdev-wrapper: libudev sees the fake /sys built here. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <umockdev.h>

#include "test-util.h"

#include "test-mock.h"

static UMockdevTestbed *testbed;
static struct svff_ctx *ctx;

static void setup(void)
{
	testbed = test_fake_sysfs_new();
	ctx = test_ctx_new();
}

static void teardown(void)
{
	test_ctx_free(ctx);
	g_object_unref(testbed);
}

START_TEST(pf_lists_its_vfs_with_index_driver_and_group)
{
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;

	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:03:00.0", &pf), 0);
	ck_assert_uint_eq(pf->totalvfs, 4);
	ck_assert_uint_eq(pf->numvfs, 2);
	ck_assert_str_eq(pf->driver, "nvme");
	ck_assert_uint_eq(pf->n_vfs, 2);
	ck_assert_str_eq(pf->vfs[0].bdf, "0000:03:00.2");
	ck_assert_str_eq(pf->vfs[0].driver, "vfio-pci");
	ck_assert_int_eq(pf->vfs[0].iommu_group, 12);
	ck_assert_str_eq(pf->vfs[0].vfio_device, "vfio0");
	ck_assert_uint_eq(pf->vfs[1].index, 1);
	ck_assert_str_eq(pf->vfs[1].driver, "");
	ck_assert_int_eq(pf->vfs[1].iommu_group, 13);
	ck_assert_str_eq(pf->vfs[1].vfio_device, "");
	ck_assert_ptr_eq(pf_find_vf_by_index(pf, 1), &pf->vfs[1]);
	ck_assert_ptr_null(pf_find_vf_by_index(pf, 2));
}
END_TEST

START_TEST(pf_without_vfs_has_none)
{
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;

	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:04:00.0", &pf), 0);
	ck_assert_uint_eq(pf->totalvfs, 8);
	ck_assert_uint_eq(pf->n_vfs, 0);
}
END_TEST

START_TEST(vf_given_as_pf_names_its_pf)
{
	struct pf_info *pf;

	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:03:00.2", &pf), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(test_messages(), "'0000:03:00.2' is a VF of PF '0000:03:00.0'"));
}
END_TEST

START_TEST(device_without_sriov_is_refused)
{
	struct pf_info *pf;

	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:00:1f.0", &pf), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(test_messages(), "'0000:00:1f.0' has no SR-IOV"));
}
END_TEST

START_TEST(missing_device_is_enodev)
{
	struct pf_info *pf;

	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:09:00.0", &pf), -ENODEV);
	ck_assert_ptr_nonnull(strstr(test_messages(), "no PCI device '0000:09:00.0'"));
}
END_TEST

START_TEST(vf_knows_its_pf_and_index)
{
	char pf[SVFF_BDF_SIZE];
	unsigned index;

	ck_assert_int_eq(sysfs_vf_parent(ctx, "0000:03:00.3", pf, &index), 0);
	ck_assert_str_eq(pf, "0000:03:00.0");
	ck_assert_uint_eq(index, 1);
	ck_assert_int_eq(sysfs_vf_parent(ctx, "0000:03:00.0", pf, &index), -EOPNOTSUPP);
}
END_TEST

START_TEST(only_sriov_pfs_are_listed)
{
	char(*pfs)[SVFF_BDF_SIZE];
	size_t n;

	ck_assert_int_eq(sysfs_pf_list(ctx, &pfs, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(pfs[0], "0000:03:00.0");
	ck_assert_str_eq(pfs[1], "0000:04:00.0");
	free(pfs);
}
END_TEST

START_TEST(wait_driver_returns_at_once_when_bound)
{
	ck_assert_int_eq(sysfs_wait_driver(ctx, "0000:03:00.2", "vfio-pci", now_usec() + 1000), 0);
}
END_TEST

START_TEST(wait_driver_times_out_when_never_bound)
{
	ck_assert_int_eq(sysfs_wait_driver(ctx, "0000:03:00.3", "vfio-pci", now_usec() + 100000),
			 -ETIMEDOUT);
}
END_TEST

static void *bind_later(void *userdata)
{
	static const char vf[] = "/sys/devices/pci0000:00/0000:00:02.0/0000:03:00.3";
	char link[PATH_MAX];
	gchar *root = umockdev_testbed_get_root_dir(testbed);

	usleep(100000);
	snprintf(link, sizeof(link), "%s%s/driver", root, vf);
	g_free(root);
	ck_assert_int_eq(symlink("../../../../bus/pci/drivers/vfio-pci", link), 0);
	umockdev_testbed_uevent(testbed, vf, "bind");
	return NULL;
}

START_TEST(wait_driver_wakes_on_bind_event)
{
	pthread_t thread;
	usec_t start = now_usec();

	ck_assert_int_eq(pthread_create(&thread, NULL, bind_later, NULL), 0);
	ck_assert_int_eq(sysfs_wait_driver(ctx, "0000:03:00.3", "vfio-pci", start + 5000000), 0);
	pthread_join(thread, NULL);
}
END_TEST

START_TEST(vf_slots_follow_offset_and_stride)
{
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;
	unsigned index;

	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:04:00.0", &pf), 0);
	/* routing ID 04:00.0 + 8 + n * 2: VF 0 at 04:01.0, VF 3 at 04:01.6, VF 4 at 04:02.0 */
	ck_assert_int_eq(pf_vf_slot(pf, "0000:04:01.0", &index), 1);
	ck_assert_uint_eq(index, 0);
	ck_assert_int_eq(pf_vf_slot(pf, "0000:04:01.6", &index), 1);
	ck_assert_uint_eq(index, 3);
	ck_assert_int_eq(pf_vf_slot(pf, "0000:04:02.0", &index), 1);
	ck_assert_uint_eq(index, 4);
	ck_assert_int_eq(pf_vf_slot(pf, "0000:04:02.6", &index), 1);
	ck_assert_uint_eq(index, 7); /* the last of sriov_totalvfs 8 */
	ck_assert_int_eq(pf_vf_slot(pf, "0000:04:01.1", &index), 0); /* between two VFs */
	ck_assert_int_eq(pf_vf_slot(pf, "0000:04:00.7", &index), 0); /* before the first */
	ck_assert_int_eq(pf_vf_slot(pf, "0000:04:04.0", &index), 0); /* beyond totalvfs */
	ck_assert_int_eq(pf_vf_slot(pf, "0001:04:01.0", &index), 0); /* another PCI domain */
	ck_assert_int_eq(pf_vf_slot(pf, "04:01.0", &index), 0);      /* not canonical */
}
END_TEST

/* A device says itself whose VF it is; an absent one is told apart from one that is no VF. */
START_TEST(vf_names_its_pf_quietly)
{
	char pf[SVFF_BDF_SIZE] = "";

	ck_assert_int_eq(sysfs_vf_physfn(ctx, "0000:03:00.3", pf), 1);
	ck_assert_str_eq(pf, "0000:03:00.0");
	ck_assert_int_eq(sysfs_vf_physfn(ctx, "0000:03:00.0", pf), 0); /* the PF itself */
	ck_assert_int_eq(sysfs_vf_physfn(ctx, "0000:00:1f.0", pf), 0); /* a plain function */
	ck_assert_int_eq(sysfs_vf_physfn(ctx, "0000:03:00.4", pf), -ENODEV); /* beyond numvfs */
	ck_assert_int_eq(sysfs_vf_physfn(ctx, "03:00.3", pf), 0);
	ck_assert_str_eq(test_messages(), "");
}
END_TEST

/* Every address the PF's VFs can have, and no other: the same as the kernel's formula. */
START_TEST(vf_slots_match_the_kernels_formula_everywhere)
{
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;
	unsigned index, found = 0;

	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:04:00.0", &pf), 0);
	for (unsigned rid = 0; rid <= 0xffff; rid++) {
		char bdf[SVFF_BDF_SIZE];
		unsigned delta = rid - 0x400 - 8;
		bool is_vf = rid >= 0x408 && delta % 2 == 0 && delta / 2 < 8;

		snprintf(bdf, sizeof(bdf), "0000:%02x:%02x.%x", rid >> 8, (rid >> 3) & 0x1f, rid & 7);
		ck_assert_int_eq(pf_vf_slot(pf, bdf, &index), is_vf);
		if (is_vf) {
			ck_assert_uint_eq(index, delta / 2);
			found++;
		}
	}
	ck_assert_uint_eq(found, 8);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sysfs");
	TCase *tc = tcase_create("discovery");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pf_lists_its_vfs_with_index_driver_and_group);
	tcase_add_test(tc, pf_without_vfs_has_none);
	tcase_add_test(tc, vf_given_as_pf_names_its_pf);
	tcase_add_test(tc, device_without_sriov_is_refused);
	tcase_add_test(tc, missing_device_is_enodev);
	tcase_add_test(tc, vf_knows_its_pf_and_index);
	tcase_add_test(tc, only_sriov_pfs_are_listed);
	tcase_add_test(tc, vf_slots_follow_offset_and_stride);
	tcase_add_test(tc, vf_slots_match_the_kernels_formula_everywhere);
	tcase_add_test(tc, vf_names_its_pf_quietly);
	tcase_add_test(tc, wait_driver_returns_at_once_when_bound);
	tcase_add_test(tc, wait_driver_times_out_when_never_bound);
	tcase_add_test(tc, wait_driver_wakes_on_bind_event);
	suite_add_tcase(s, tc);
	return test_run(s);
}
