/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "test-util.h"

static const char domain_xml[] =
	"<domain type='kvm' id='3'><name>db1</name><devices>"
	"<interface type='network'><source network='default'/><alias name='net0'/></interface>"
	"<hostdev mode='subsystem' type='pci' managed='yes'>"
	"<driver name='vfio'/>"
	"<source><address domain='0x0000' bus='0x03' slot='0x00' function='0x2'/></source>"
	"<alias name='hostdev0'/>"
	"<rom bar='off'/>"
	"<address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>"
	"</hostdev>"
	"<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/></source></hostdev>"
	"<interface type='hostdev' managed='no'>"
	"<mac address='52:54:00:6d:90:02'/>"
	"<source><address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x1'/></source>"
	"<vlan><tag id='42'/></vlan>"
	"<alias name='ua-net-vf'/>"
	"<address type='pci' domain='0x0000' bus='0x08' slot='0x01' function='0x0'/>"
	"</interface>"
	"</devices></domain>";

static struct hostdev *devs;
static size_t n_devs;

static void parse_domain(void)
{
	ck_assert_int_eq(xml_domain_hostdevs(domain_xml, &devs, &n_devs), 0);
}

static void free_domain(void)
{
	hostdevs_free(devs, n_devs);
}

START_TEST(finds_pci_hostdevs_in_both_forms)
{
	ck_assert_uint_eq(n_devs, 2);
	ck_assert_str_eq(devs[0].source_bdf, "0000:03:00.2");
	ck_assert_str_eq(devs[0].guest_address, "0000:07:00.0");
	ck_assert_str_eq(devs[0].alias, "hostdev0");
	ck_assert(devs[0].managed);
	ck_assert(!devs[0].is_interface);
	ck_assert_str_eq(devs[1].source_bdf, "0000:03:10.1");
	ck_assert_str_eq(devs[1].guest_address, "0000:08:01.0");
	ck_assert_str_eq(devs[1].alias, "ua-net-vf");
	ck_assert(!devs[1].managed);
	ck_assert(devs[1].is_interface);
}
END_TEST

START_TEST(device_xml_keeps_every_option)
{
	ck_assert_ptr_nonnull(strstr(devs[0].xml, "<rom bar=\"off\"/>"));
	ck_assert_ptr_nonnull(strstr(devs[0].xml, "<driver name=\"vfio\"/>"));
	ck_assert_ptr_nonnull(strstr(devs[1].xml, "52:54:00:6d:90:02"));
	ck_assert_ptr_nonnull(strstr(devs[1].xml, "<tag id=\"42\"/>"));
}
END_TEST

START_TEST(attach_xml_points_at_new_vf_and_keeps_guest_address)
{
	_cleanup_free_ char *xml = NULL;
	struct hostdev dev;

	ck_assert_int_eq(xml_device_for_attach(devs[0].xml, "0000:04:01.3", &xml), 0);
	ck_assert_int_eq(xml_device_parse(xml, &dev), 0);
	ck_assert_str_eq(dev.source_bdf, "0000:04:01.3");
	ck_assert_str_eq(dev.guest_address, "0000:07:00.0");
	ck_assert(dev.managed);
	ck_assert_ptr_nonnull(strstr(dev.xml, "<rom bar=\"off\"/>"));
	free(dev.xml);
}
END_TEST

START_TEST(attach_xml_drops_only_aliases_libvirt_assigned)
{
	_cleanup_free_ char *auto_alias = NULL, *user_alias = NULL;
	struct hostdev dev;

	ck_assert_int_eq(xml_device_for_attach(devs[0].xml, "0000:03:00.2", &auto_alias), 0);
	ck_assert_ptr_null(strstr(auto_alias, "hostdev0"));
	ck_assert_int_eq(xml_device_for_attach(devs[1].xml, "0000:03:10.1", &user_alias), 0);
	ck_assert_int_eq(xml_device_parse(user_alias, &dev), 0);
	ck_assert_str_eq(dev.alias, "ua-net-vf");
	ck_assert(dev.is_interface);
	ck_assert_ptr_nonnull(strstr(dev.xml, "<tag id=\"42\"/>"));
	free(dev.xml);
}
END_TEST

START_TEST(malformed_xml_is_refused)
{
	struct hostdev *none;
	size_t n;
	struct hostdev dev;
	char *out;

	ck_assert_int_eq(xml_domain_hostdevs("<domain><devices>", &none, &n), -EBADMSG);
	ck_assert_int_eq(xml_domain_hostdevs("<notdomain/>", &none, &n), -EBADMSG);
	ck_assert_int_eq(xml_device_parse("<disk/>", &dev), -EBADMSG);
	ck_assert_int_eq(xml_device_parse("<hostdev mode='subsystem' type='pci'>"
					  "<source><address bus='0x1ff' slot='0' function='0'/>"
					  "</source></hostdev>",
					  &dev),
			 -EBADMSG);
	ck_assert_int_eq(xml_device_for_attach(devs[0].xml, "../etc", &out), -EBADMSG);
}
END_TEST

START_TEST(external_entities_are_not_loaded)
{
	static const char evil[] =
		"<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
		"<domain><devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0' bus='1' slot='0' function='0'/></source>"
		"<alias name='&x;'/></hostdev></devices></domain>";
	struct hostdev *found;
	size_t n;

	/* Never read: the document is refused instead. */
	ck_assert_int_eq(xml_domain_hostdevs(evil, &found, &n), -EBADMSG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xml");
	TCase *tc = tcase_create("hostdev");

	tcase_add_checked_fixture(tc, parse_domain, free_domain);
	tcase_add_test(tc, finds_pci_hostdevs_in_both_forms);
	tcase_add_test(tc, device_xml_keeps_every_option);
	tcase_add_test(tc, attach_xml_points_at_new_vf_and_keeps_guest_address);
	tcase_add_test(tc, attach_xml_drops_only_aliases_libvirt_assigned);
	tcase_add_test(tc, malformed_xml_is_refused);
	tcase_add_test(tc, external_entities_are_not_loaded);
	suite_add_tcase(s, tc);
	return test_run(s);
}
