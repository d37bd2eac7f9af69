/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <glib.h>

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

/* libvirt reads the first alias only: a second one never reaches it on attach. */
START_TEST(attach_xml_keeps_only_a_first_user_alias)
{
	static const char two_aliases[] =
		"<hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0' bus='0x03' slot='0' function='2'/></source>"
		"<alias name='hostdev0'/><alias name='ua-second'/></hostdev>";
	_cleanup_free_ char *xml = NULL;
	struct hostdev dev;

	ck_assert_int_eq(xml_device_for_attach(two_aliases, "0000:03:00.2", &xml), 0);
	ck_assert_int_eq(xml_device_parse(xml, &dev), 0);
	ck_assert_str_eq(dev.alias, "");
	ck_assert_ptr_null(strstr(xml, "alias"));
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

/* A domain as libvirt gives it to the hook, with `pad` blanks after its device. */
static char *domain_with_padding(const char *hostdev, size_t pad, size_t *ret_size)
{
	static const char head[] = "<domain type='kvm'><name>db1</name>"
				   "<uuid>2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001</uuid>"
				   "<devices>";
	static const char tail[] = "</devices></domain>";
	size_t start = strlen(head) + strlen(hostdev);
	char *xml = malloc(start + pad + sizeof(tail));

	ck_assert_ptr_nonnull(xml);
	snprintf(xml, start + 1, "%s%s", head, hostdev);
	memset(xml + start, ' ', pad);
	memcpy(xml + start + pad, tail, sizeof(tail));
	*ret_size = start + pad + strlen(tail);
	return xml;
}

static const char plain_hostdev[] =
	"<hostdev mode='subsystem' type='pci' managed='yes'><source>"
	"<address domain='0x0000' bus='0x03' slot='0x00' function='0x2'/></source>"
	"<address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>"
	"</hostdev>";

static int parse_domain_text(const char *xml, size_t size, size_t *ret_n)
{
	char name[256], uuid[37];
	struct hostdev *found = NULL;
	size_t n = 0;
	int r = xml_domain_parse(xml, size, name, uuid, &found, &n);

	hostdevs_free(found, n);
	*ret_n = n;
	return r;
}

START_TEST(domain_xml_of_16_mib_is_read_and_one_byte_more_refused)
{
	const size_t limit = 16 * 1024 * 1024;
	size_t bare, size, n;
	_cleanup_free_ char *xml = domain_with_padding(plain_hostdev, 0, &bare);

	free(xml);
	xml = domain_with_padding(plain_hostdev, limit - bare, &size);
	ck_assert_uint_eq(size, limit);
	ck_assert_int_eq(parse_domain_text(xml, size, &n), 0);
	ck_assert_uint_eq(n, 1);
	free(xml);
	xml = domain_with_padding(plain_hostdev, limit + 1 - bare, &size);
	ck_assert_int_eq(parse_domain_text(xml, size, &n), -EBADMSG);
}
END_TEST

/* About 700 KB; each &b; stands for 10 KB of text, 70,000 times over. */
static char *entity_blowup(const char *root_open, const char *root_close)
{
	GString *xml = g_string_new("<!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '");

	for (int i = 0; i < 1000; i++)
		g_string_append(xml, "&a;");
	g_string_append_printf(xml, "'>]>%s<alias name='", root_open);
	for (int i = 0; i < 70000; i++)
		g_string_append(xml, "&b;");
	g_string_append_printf(xml, "'/>%s", root_close);
	return g_string_free(xml, false);
}

START_TEST(entity_blowup_is_refused_at_once)
{
	static const char source[] =
		"<source><address bus='1' slot='0' function='0'/></source>";
	_cleanup_free_ char *domain_open = NULL, *device_open = NULL;
	_cleanup_free_ char *domain = NULL, *device = NULL;
	struct hostdev dev;
	size_t n;

	ck_assert_int_ge(asprintf(&domain_open,
				  "<domain><name>db1</name><uuid>u</uuid><devices>"
				  "<hostdev mode='subsystem' type='pci'>%s",
				  source),
			 0);
	ck_assert_int_ge(asprintf(&device_open, "<hostdev mode='subsystem' type='pci'>%s",
				  source),
			 0);
	domain = entity_blowup(domain_open, "</hostdev></devices></domain>");
	device = entity_blowup(device_open, "</hostdev>");
	ck_assert_int_eq(parse_domain_text(domain, strlen(domain), &n), -EBADMSG);
	ck_assert_int_eq(xml_device_parse(device, &dev), -EBADMSG);
}
END_TEST

START_TEST(any_doctype_is_refused)
{
	static const char external[] = "<!DOCTYPE domain SYSTEM 'domain.dtd'>"
				       "<domain><name>db1</name><uuid>u</uuid></domain>";
	static const char empty[] = "<!DOCTYPE domain>"
				    "<domain><name>db1</name><uuid>u</uuid></domain>";
	size_t n;

	ck_assert_int_eq(parse_domain_text(external, strlen(external), &n), -EBADMSG);
	ck_assert_int_eq(parse_domain_text(empty, strlen(empty), &n), -EBADMSG);
}
END_TEST

static int parse_record_with(const char *device)
{
	static const char head[] =
		"<svff-record version='1'><pf>0000:03:00.0</pf>"
		"<vf index='2' address='0000:03:00.2'/>"
		"<domain uuid='2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001' name='db1'/>"
		"<phase>detached</phase><device>";
	_cleanup_free_ char *text = NULL;
	_cleanup_(record_freep) struct record *record = NULL;

	ck_assert_int_ge(asprintf(&text, "%s%s</device></svff-record>", head, device), 0);
	return record_parse(text, strlen(text), &record);
}

START_TEST(device_with_namespaced_nodes_is_refused)
{
	static const char prefixed_attr[] =
		"<hostdev xmlns:q='urn:q' mode='subsystem' type='pci'><source>"
		"<address q:bus='0x05' domain='0' bus='0x03' slot='0' function='2'/>"
		"</source></hostdev>";
	static const char prefixed_element[] =
		"<hostdev xmlns:q='urn:q' mode='subsystem' type='pci'>"
		"<q:source><address domain='0' bus='0x09' slot='0' function='2'/>"
		"</q:source>"
		"<source><address domain='0' bus='0x03' slot='0' function='2'/></source>"
		"</hostdev>";
	static const char undeclared[] =
		"<hostdev mode='subsystem' type='pci'><source>"
		"<address q:bus='0x05' domain='0' bus='0x03' slot='0' function='2'/>"
		"</source></hostdev>";
	size_t size, n;
	_cleanup_free_ char *domain = domain_with_padding(prefixed_attr, 0, &size);
	struct hostdev dev;
	char *out;

	ck_assert_int_eq(xml_device_parse(prefixed_attr, &dev), -EBADMSG);
	ck_assert_int_eq(xml_device_parse(prefixed_element, &dev), -EBADMSG);
	ck_assert_int_eq(xml_device_parse(undeclared, &dev), -EBADMSG);
	ck_assert_int_eq(xml_device_for_attach(prefixed_attr, "0000:04:00.1", &out),
			 -EBADMSG);
	ck_assert_int_eq(parse_record_with(prefixed_attr), -EBADMSG);
	ck_assert_int_eq(parse_record_with(prefixed_element), -EBADMSG);
	/* Not skipped: the domain would then start with a VF svff does not know about. */
	ck_assert_int_eq(parse_domain_text(domain, size, &n), -EBADMSG);
}
END_TEST

START_TEST(namespaced_elements_outside_devices_are_ignored)
{
	static const char xml[] =
		"<domain type='kvm' "
		"xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
		"<name>db1</name><uuid>2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001</uuid>"
		"<metadata><app:name xmlns:app='urn:app'>other</app:name></metadata>"
		"<qemu:devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0' bus='0x09' slot='0' function='1'/>"
		"</source></hostdev>"
		"</qemu:devices>"
		"<devices><hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0' bus='0x03' slot='0' function='2'/>"
		"</source></hostdev>"
		"</devices>"
		"<qemu:commandline><qemu:arg value='-S'/></qemu:commandline></domain>";
	char name[256], uuid[37];
	struct hostdev *found;
	size_t n;

	ck_assert_int_eq(xml_domain_parse(xml, strlen(xml), name, uuid, &found, &n), 0);
	ck_assert_str_eq(name, "db1");
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(found[0].source_bdf, "0000:03:00.2");
	hostdevs_free(found, n);
}
END_TEST

static void assert_same_record(const struct record *a, const struct record *b)
{
	ck_assert_str_eq(a->pf, b->pf);
	ck_assert_uint_eq(a->vf_index, b->vf_index);
	ck_assert_str_eq(a->vf_bdf, b->vf_bdf);
	ck_assert_str_eq(a->domain_uuid, b->domain_uuid);
	ck_assert_str_eq(a->domain_name, b->domain_name);
	ck_assert_int_eq(a->phase, b->phase);
	ck_assert_str_eq(a->device.source_bdf, b->device.source_bdf);
	ck_assert_str_eq(a->device.guest_address, b->device.guest_address);
	ck_assert_str_eq(a->device.alias, b->device.alias);
	ck_assert_int_eq(a->device.managed, b->device.managed);
	ck_assert_int_eq(a->device.is_interface, b->device.is_interface);
	ck_assert_str_eq(a->device.xml, b->device.xml);
}

static struct record *save_and_load(const struct record *record)
{
	_cleanup_free_ char *text = NULL;
	struct record *loaded = NULL;

	ck_assert_int_eq(record_serialize(record, &text), 0);
	ck_assert_int_eq(record_parse(text, strlen(text), &loaded), 0);
	return loaded;
}

/* Compact XML as from the tests above, and indented as libvirt writes it. */
START_TEST(saved_device_loads_back_exactly)
{
	static const char indented[] =
		"<domain type='kvm'>\n  <name>db1</name>\n  <devices>\n"
		"    <interface type='hostdev' managed='yes'>\n"
		"      <mac address='52:54:00:6d:90:02'/>\n"
		"      <source>\n"
		"        <address type='pci' domain='0x0000' bus='0x03' slot='0x10' "
		"function='0x1'/>\n"
		"      </source>\n"
		"      <alias name='ua-net-vf'/>\n"
		"    </interface>\n  </devices>\n</domain>\n";
	const char *const domains[] = { domain_xml, indented };

	for (size_t i = 0; i < ELEMENTSOF(domains); i++) {
		struct record record = { .pf = "0000:03:00.0", .vf_index = 1,
					 .vf_bdf = "0000:03:10.1", .domain_uuid = "u",
					 .domain_name = "db1 & <co>",
					 .phase = PHASE_DETACHED };
		_cleanup_(record_freep) struct record *once = NULL, *twice = NULL;
		struct hostdev *found;
		size_t n;

		ck_assert_int_eq(xml_domain_hostdevs(domains[i], &found, &n), 0);
		record.device = found[n - 1];
		once = save_and_load(&record);
		assert_same_record(&record, once);
		twice = save_and_load(once);
		assert_same_record(once, twice);
		hostdevs_free(found, n);
	}
}
END_TEST

/* gzip of a valid domain XML: svff parses XML from memory and never inflates it. */
START_TEST(compressed_xml_is_refused)
{
	static const char gz[] =
		"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x3d\x8f\x4b\x0a\xc3\x30\x0c\x44"
		"\xaf\xe2\x9d\x56\xc6\xf9\x41\x1a\x50\x7c\x17\xdb\x52\xa8\xa1\x89\x43\x64"
		"\x17\x72\xfb\x9a\x34\xed\x6e\x34\xd2\xf0\x46\x48\x69\x75\x71\xb3\xb8\xb9"
		"\x95\x2d\xf9\x16\xcd\xa5\xb0\x94\x48\xb6\xf3\x93\x1b\xc2\xc4\xfa\xe1\x5b"
		"\xd6\x83\x27\xd6\x6e\xf4\x83\xee\x43\x3f\x2e\x2d\x8d\xdc\x34\x35\x70\x9d"
		"\x22\xf1\x3b\x06\x16\x8b\xcf\x24\xb9\x0e\x6a\x4d\xc4\x33\x48\xf1\x72\x4a"
		"\xe6\x15\x54\x3e\xf7\x6a\xec\x21\x82\x45\x49\xe5\x08\x15\xe3\x88\x0e\x16"
		"\x51\xdf\x1a\x33\x34\xa0\x7c\x91\x19\x7a\x50\xf2\x4a\xf9\x32\x96\xb2\x85"
		"\x1c\x53\xdd\x76\x60\x2c\x9a\x5f\xd6\xdc\xa4\xaa\xfe\x70\x73\xff\xf3\x01"
		"\x34\x53\x7e\x6c\xd8\x00\x00\x00";
	struct record *record;
	size_t n;

	ck_assert_int_eq(parse_domain_text(gz, sizeof(gz) - 1, &n), -EBADMSG);
	ck_assert_int_eq(record_parse(gz, sizeof(gz) - 1, &record), -EBADMSG);
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
	tcase_add_test(tc, attach_xml_keeps_only_a_first_user_alias);
	tcase_add_test(tc, malformed_xml_is_refused);
	tcase_add_test(tc, external_entities_are_not_loaded);
	suite_add_tcase(s, tc);
	tc = tcase_create("untrusted");
	tcase_add_test(tc, domain_xml_of_16_mib_is_read_and_one_byte_more_refused);
	tcase_add_test(tc, entity_blowup_is_refused_at_once);
	tcase_add_test(tc, any_doctype_is_refused);
	tcase_add_test(tc, device_with_namespaced_nodes_is_refused);
	tcase_add_test(tc, namespaced_elements_outside_devices_are_ignored);
	tcase_add_test(tc, saved_device_loads_back_exactly);
	tcase_add_test(tc, compressed_xml_is_refused);
	suite_add_tcase(s, tc);
	return test_run(s);
}
