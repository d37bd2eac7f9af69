/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-mock.h"

/* Two SR-IOV PFs (one with two VFs) and a plain function, in umockdev's format. */
const char fake_sysfs[] =
	"P: /devices/pci0000:00/0000:00:02.0/0000:03:00.0\n"
	"E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:03:00.0\nE: DRIVER=nvme\n"
	"A: sriov_totalvfs=4\nA: sriov_numvfs=2\nA: sriov_offset=2\nA: sriov_stride=1\n"
	"L: driver=../../../../bus/pci/drivers/nvme\n"
	"L: virtfn0=../0000:03:00.2\nL: virtfn1=../0000:03:00.3\n\n"
	"P: /devices/pci0000:00/0000:00:02.0/0000:03:00.2\n"
	"E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:03:00.2\nE: DRIVER=vfio-pci\n"
	"L: driver=../../../../bus/pci/drivers/vfio-pci\n"
	"L: iommu_group=../../../../kernel/iommu_groups/12\n"
	/* its VFIO device cdev (Linux 6.6 and later) */
	"A: vfio-dev/vfio0/dev=511:0\n"
	"L: physfn=../0000:03:00.0\n\n"
	"P: /devices/pci0000:00/0000:00:02.0/0000:03:00.3\n"
	"E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:03:00.3\n"
	"L: iommu_group=../../../../kernel/iommu_groups/13\n"
	/* a vfio-dev entry that is no character device (no VFIO device cdev in the kernel) */
	"A: vfio-dev/vfio1/uevent=\n"
	"L: physfn=../0000:03:00.0\n\n"
	"P: /devices/pci0000:00/0000:00:03.0/0000:04:00.0\n"
	"E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:04:00.0\n"
	"A: sriov_totalvfs=8\nA: sriov_numvfs=0\nA: sriov_offset=8\nA: sriov_stride=2\n"
	"A: sriov_drivers_autoprobe=1\n"
	/* the links of VFs 0 and 1, there before numvfs says they are */
	"L: virtfn0=../0000:04:01.0\nL: virtfn1=../0000:04:01.2\n\n"
	"P: /devices/pci0000:00/0000:00:03.0/0000:04:01.0\n"
	"E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:04:01.0\nL: physfn=../0000:04:00.0\n\n"
	"P: /devices/pci0000:00/0000:00:03.0/0000:04:01.2\n"
	"E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:04:01.2\nL: physfn=../0000:04:00.0\n\n"
	"P: /devices/pci0000:00/0000:00:1f.0\n"
	"E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:00:1f.0\nA: vendor=0x8086\n\n";

UMockdevTestbed *test_fake_sysfs_new(void)
{
	UMockdevTestbed *testbed = umockdev_testbed_new();
	GError *error = NULL;

	ck_assert_msg(umockdev_in_mock_environment(), "run this test under umockdev-wrapper");
	ck_assert_msg(umockdev_testbed_add_from_string(testbed, fake_sysfs, &error), "%s",
		      error ? error->message : "");
	return testbed;
}
