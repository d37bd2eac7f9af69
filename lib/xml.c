/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "svff-internal.h"
#include "xml-util.h"

#define MAX_XML_SIZE (16 * 1024 * 1024)

xmlDocPtr xml_parse(const char *text, size_t size)
{
	if (size > MAX_XML_SIZE || size > INT32_MAX)
		return NULL;
	return xmlReadMemory(text, (int)size, "input.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

char *xml_attr(xmlNodePtr node, const char *name)
{
	xmlChar *value = xmlGetProp(node, (const xmlChar *)name);
	char *copy;

	if (!value)
		return NULL;
	copy = strdup((const char *)value);
	xmlFree(value);
	return copy;
}

xmlNodePtr xml_child(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr c = node ? node->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, (const xmlChar *)name))
			return c;
	return NULL;
}

char *xml_node_to_string(xmlDocPtr doc, xmlNodePtr node)
{
	xmlBufferPtr buf = xmlBufferCreate();
	char *text = NULL;

	if (!buf)
		return NULL;
	if (xmlNodeDump(buf, doc, node, 0, 0) >= 0)
		text = strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return text;
}

static bool parse_hex_attr(xmlNodePtr node, const char *name, unsigned long max,
			   unsigned *ret)
{
	_cleanup_free_ char *text = xml_attr(node, name);
	char *end;
	unsigned long value;

	if (!text)
		return false;
	errno = 0;
	value = strtoul(text, &end, 0);
	if (errno != 0 || *end != '\0' || end == text || value > max)
		return false;
	*ret = (unsigned)value;
	return true;
}

/* A libvirt <address> with domain/bus/slot/function as a BDF, or "" if not PCI. */
static void address_to_bdf(xmlNodePtr address, char ret[SVFF_BDF_SIZE])
{
	unsigned domain = 0, bus, slot, function;
	_cleanup_free_ char *type = xml_attr(address, "type");

	ret[0] = '\0';
	if (!address || (type && strcmp(type, "pci") != 0))
		return;
	if (xmlHasProp(address, (const xmlChar *)"domain") &&
	    !parse_hex_attr(address, "domain", 0xffff, &domain))
		return;
	if (!parse_hex_attr(address, "bus", 0xff, &bus) ||
	    !parse_hex_attr(address, "slot", 0x1f, &slot) ||
	    !parse_hex_attr(address, "function", 0x7, &function))
		return;
	snprintf(ret, SVFF_BDF_SIZE, "%04x:%02x:%02x.%x", domain, bus, slot, function);
}

static bool is_pci_hostdev(xmlNodePtr node)
{
	_cleanup_free_ char *mode = xml_attr(node, "mode");
	_cleanup_free_ char *type = xml_attr(node, "type");

	if (xmlStrEqual(node->name, (const xmlChar *)"interface"))
		return type && strcmp(type, "hostdev") == 0;
	return xmlStrEqual(node->name, (const xmlChar *)"hostdev") && mode && type &&
	       strcmp(mode, "subsystem") == 0 && strcmp(type, "pci") == 0;
}

static int describe_device(xmlDocPtr doc, xmlNodePtr node, struct hostdev *ret)
{
	_cleanup_free_ char *managed = xml_attr(node, "managed");
	_cleanup_free_ char *alias = xml_attr(xml_child(node, "alias"), "name");

	memset(ret, 0, sizeof(*ret));
	address_to_bdf(xml_child(xml_child(node, "source"), "address"), ret->source_bdf);
	if (!ret->source_bdf[0])
		return -EBADMSG;
	address_to_bdf(xml_child(node, "address"), ret->guest_address);
	snprintf(ret->alias, sizeof(ret->alias), "%s", alias ? alias : "");
	ret->is_interface = xmlStrEqual(node->name, (const xmlChar *)"interface");
	ret->managed = managed && strcmp(managed, "yes") == 0;
	ret->xml = xml_node_to_string(doc, node);
	return ret->xml ? 0 : -ENOMEM;
}

static int collect_devices(xmlDocPtr doc, xmlNodePtr devices, struct hostdev **ret_devs,
			   size_t *ret_n)
{
	struct hostdev *devs = NULL;
	size_t n = 0;

	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
		struct hostdev *grown;

		if (c->type != XML_ELEMENT_NODE || !is_pci_hostdev(c))
			continue;
		grown = realloc(devs, (n + 1) * sizeof(*devs));
		if (!grown) {
			hostdevs_free(devs, n);
			return -ENOMEM;
		}
		devs = grown;
		/* A device without a PCI source (e.g. network-backed) is not ours. */
		if (describe_device(doc, c, &devs[n]) == 0)
			n++;
	}
	*ret_devs = devs;
	*ret_n = n;
	return 0;
}

static int copy_child_text(xmlNodePtr parent, const char *name, char *buf, size_t size)
{
	xmlChar *content = xmlNodeGetContent(xml_child(parent, name));
	int r = content && *content && strlen((const char *)content) < size ? 0 : -EBADMSG;

	if (r == 0)
		snprintf(buf, size, "%s", (const char *)content);
	xmlFree(content);
	return r;
}

/* Name, UUID and PCI host devices of a domain XML of known size (a hook's stdin). */
int xml_domain_parse(const char *xml, size_t size, char ret_name[256], char ret_uuid[37],
		     struct hostdev **ret_devs, size_t *ret_n)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse(xml, size);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!root || !xmlStrEqual(root->name, (const xmlChar *)"domain") ||
	    copy_child_text(root, "name", ret_name, 256) < 0 ||
	    copy_child_text(root, "uuid", ret_uuid, 37) < 0)
		return -EBADMSG;
	return collect_devices(doc, xml_child(root, "devices"), ret_devs, ret_n);
}

int xml_domain_hostdevs(const char *domain_xml, struct hostdev **ret_devs, size_t *ret_n)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse(domain_xml, strlen(domain_xml));
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!root || !xmlStrEqual(root->name, (const xmlChar *)"domain"))
		return -EBADMSG;
	return collect_devices(doc, xml_child(root, "devices"), ret_devs, ret_n);
}

int xml_device_parse(const char *device_xml, struct hostdev *ret_dev)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse(device_xml, strlen(device_xml));
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!root || !is_pci_hostdev(root))
		return -EBADMSG;
	return describe_device(doc, root, ret_dev);
}

void hostdevs_free(struct hostdev *devs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(devs[i].xml);
	free(devs);
}

const struct hostdev *hostdevs_find_source(const struct hostdev *devs, size_t n,
					   const char *bdf)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(devs[i].source_bdf, bdf) == 0)
			return &devs[i];
	return NULL;
}

static void set_attr(xmlNodePtr node, const char *name, const char *value)
{
	xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)value);
}

/* libvirt's own spelling: 0x0000, 0x03, 0x00, 0x2. */
static void set_source_address(xmlNodePtr address, const char *bdf)
{
	char domain[8], bus[8], slot[8], function[8];

	snprintf(domain, sizeof(domain), "0x%.4s", bdf);
	snprintf(bus, sizeof(bus), "0x%.2s", bdf + 5);
	snprintf(slot, sizeof(slot), "0x%.2s", bdf + 8);
	snprintf(function, sizeof(function), "0x%.1s", bdf + 11);
	set_attr(address, "domain", domain);
	set_attr(address, "bus", bus);
	set_attr(address, "slot", slot);
	set_attr(address, "function", function);
}

/*
 * The recorded device, pointed at the VF's current address. libvirt ignores
 * aliases it assigned itself when a device is attached, so only user aliases
 * ("ua-") are kept; libvirt gives the others again in order.
 */
int xml_device_for_attach(const char *device_xml, const char *source_bdf, char **ret_xml)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse(device_xml, strlen(device_xml));
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNodePtr address, alias;
	_cleanup_free_ char *alias_name = NULL;
	char *text;

	if (!root || !is_pci_hostdev(root) || !bdf_is_valid(source_bdf))
		return -EBADMSG;
	address = xml_child(xml_child(root, "source"), "address");
	if (!address)
		return -EBADMSG;
	set_source_address(address, source_bdf);
	alias = xml_child(root, "alias");
	alias_name = xml_attr(alias, "name");
	if (alias && (!alias_name || strncmp(alias_name, "ua-", 3) != 0)) {
		xmlUnlinkNode(alias);
		xmlFreeNode(alias);
	}
	text = xml_node_to_string(doc, root);
	if (!text)
		return -ENOMEM;
	*ret_xml = text;
	return 0;
}
