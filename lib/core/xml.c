/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "svff-internal.h"
#include "xml-util.h"

#define MAX_XML_SIZE (16 * 1024 * 1024)

/*
 * Memory only: nothing is decompressed, no file and no network is read. No DTD is
 * loaded and no entity is substituted (no XML_PARSE_NOENT, DTDLOAD or DTDATTR).
 */
#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/*
 * A DOCTYPE stops the parser before its internal subset is read: libvirt never sends
 * one, and the entities of an internal subset get a quadratic expansion past
 * libxml2's loop check (a 700 KB document grew to 2 GiB).
 */
static void refuse_doctype(void *user_data, const xmlChar *name,
			   const xmlChar *external_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = user_data;

	ctxt->_private = ctxt; /* the mark of a refused document */
	xmlStopParser(ctxt);
}

/*
 * Refused too: a document that is not namespace-well-formed (a prefix nobody
 * declared), which libvirt never writes either.
 */
xmlDocPtr xml_parse(const char *text, size_t size)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	bool refused;

	if (!text || size == 0 || size > MAX_XML_SIZE)
		return NULL;
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return NULL;
	ctxt->sax->internalSubset = refuse_doctype;
	ctxt->sax->externalSubset = refuse_doctype;
	doc = xmlCtxtReadMemory(ctxt, text, (int)size, NULL, NULL, PARSE_OPTIONS);
	refused = !ctxt->wellFormed || !ctxt->nsWellFormed || ctxt->_private || !doc ||
		  doc->intSubset || doc->extSubset;
	xmlFreeParserCtxt(ctxt);
	if (refused) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/*
 * Namespaces: libvirt keeps foreign elements only outside devices (<metadata>,
 * <qemu:commandline>). Lookups see un-namespaced elements and attributes only, so
 * such elements never stand in for libvirt's own.
 */
char *xml_attr(xmlNodePtr node, const char *name)
{
	xmlChar *value = node ? xmlGetNoNsProp(node, (const xmlChar *)name) : NULL;
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
		if (c->type == XML_ELEMENT_NODE && !c->ns &&
		    xmlStrEqual(c->name, (const xmlChar *)name))
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
	if (xmlHasNsProp(address, (const xmlChar *)"domain", NULL) &&
	    !parse_hex_attr(address, "domain", 0xffff, &domain))
		return;
	if (!parse_hex_attr(address, "bus", 0xff, &bus) ||
	    !parse_hex_attr(address, "slot", 0x1f, &slot) ||
	    !parse_hex_attr(address, "function", 0x7, &function))
		return;
	snprintf(ret, SVFF_BDF_SIZE, "%04x:%02x:%02x.%x", domain, bus, slot, function);
}

/* Element named `name` in no namespace. */
static bool is_element(xmlNodePtr node, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && !node->ns &&
	       xmlStrEqual(node->name, (const xmlChar *)name);
}

static bool is_pci_hostdev(xmlNodePtr node)
{
	_cleanup_free_ char *mode = xml_attr(node, "mode");
	_cleanup_free_ char *type = xml_attr(node, "type");

	if (is_element(node, "interface"))
		return type && strcmp(type, "hostdev") == 0;
	return is_element(node, "hostdev") && mode && type &&
	       strcmp(mode, "subsystem") == 0 && strcmp(type, "pci") == 0;
}

/*
 * svff carries a device's XML verbatim into its record and back to libvirt, so what
 * it reads must be all there is to it: a device that declares or uses a namespace
 * (`<q:source>` beside `<source>`, `q:bus` beside `bus`) is refused as corrupt.
 * libvirt never writes one.
 */
static bool uses_namespaces(xmlNodePtr node)
{
	if (node->ns || node->nsDef)
		return true;
	for (xmlAttrPtr a = node->properties; a; a = a->next)
		if (a->ns)
			return true;
	for (xmlNodePtr c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && uses_namespaces(c))
			return true;
	return false;
}

static void drop_blank_text(xmlNodePtr node)
{
	xmlNodePtr next;

	for (xmlNodePtr c = node->children; c; c = next) {
		next = c->next;
		if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			drop_blank_text(c);
		}
	}
}

/*
 * The device as svff keeps it: without the whitespace between elements, which a
 * record file indents anew, so that a saved device loads back exactly.
 */
static char *device_to_string(xmlDocPtr doc, xmlNodePtr node)
{
	xmlNodePtr copy = xmlDocCopyNode(node, doc, 1);
	char *text;

	if (!copy)
		return NULL;
	drop_blank_text(copy);
	text = xml_node_to_string(doc, copy);
	xmlFreeNode(copy);
	return text;
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
	ret->is_interface = is_element(node, "interface");
	ret->managed = managed && strcmp(managed, "yes") == 0;
	ret->xml = device_to_string(doc, node);
	return ret->xml ? 0 : -ENOMEM;
}

static int append_device(xmlDocPtr doc, xmlNodePtr node, struct hostdev **devs, size_t *n)
{
	struct hostdev *grown;
	int r;

	if (uses_namespaces(node))
		return -EBADMSG;
	grown = realloc(*devs, (*n + 1) * sizeof(**devs));
	if (!grown)
		return -ENOMEM;
	*devs = grown;
	/* A device without a PCI source (e.g. network-backed) is not ours. */
	r = describe_device(doc, node, &grown[*n]);
	if (r == 0)
		(*n)++;
	return r == -ENOMEM ? r : 0;
}

static int collect_devices(xmlDocPtr doc, xmlNodePtr devices, struct hostdev **ret_devs,
			   size_t *ret_n)
{
	struct hostdev *devs = NULL;
	size_t n = 0;

	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
		int r = is_pci_hostdev(c) ? append_device(doc, c, &devs, &n) : 0;

		if (r < 0) {
			hostdevs_free(devs, n);
			return r;
		}
	}
	*ret_devs = devs;
	*ret_n = n;
	return 0;
}

static int copy_child_text(xmlNodePtr parent, const char *name, char *buf, size_t size)
{
	xmlChar *content = xmlNodeGetContent(xml_child(parent, name));
	size_t len = content ? strlen((const char *)content) : 0;
	int r = len > 0 && len < size ? 0 : -EBADMSG;

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

	if (!is_element(root, "domain") ||
	    copy_child_text(root, "name", ret_name, 256) < 0 ||
	    copy_child_text(root, "uuid", ret_uuid, 37) < 0)
		return -EBADMSG;
	return collect_devices(doc, xml_child(root, "devices"), ret_devs, ret_n);
}

int xml_domain_hostdevs(const char *domain_xml, struct hostdev **ret_devs, size_t *ret_n)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse(domain_xml, strlen(domain_xml));
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!is_element(root, "domain"))
		return -EBADMSG;
	return collect_devices(doc, xml_child(root, "devices"), ret_devs, ret_n);
}

int xml_device_parse(const char *device_xml, struct hostdev *ret_dev)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse(device_xml, strlen(device_xml));
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!is_pci_hostdev(root) || uses_namespaces(root))
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
	xmlSetNsProp(node, NULL, (const xmlChar *)name, (const xmlChar *)value);
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

static bool is_user_alias(xmlNodePtr alias)
{
	_cleanup_free_ char *name = xml_attr(alias, "name");

	return name && strncmp(name, "ua-", 3) == 0;
}

/*
 * libvirt ignores aliases it assigned itself when a device is attached, so only a
 * user alias ("ua-") is kept; libvirt gives the others again in order. It reads the
 * first <alias> only, as svff does: any further one goes too.
 */
static void keep_user_alias(xmlNodePtr device)
{
	bool first = true;
	xmlNodePtr next;

	for (xmlNodePtr c = device->children; c; c = next) {
		next = c->next;
		if (!is_element(c, "alias"))
			continue;
		if (!first || !is_user_alias(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
		first = false;
	}
}

/* The recorded device, pointed at the VF's current address. */
int xml_device_for_attach(const char *device_xml, const char *source_bdf, char **ret_xml)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse(device_xml, strlen(device_xml));
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNodePtr address;
	char *text;

	if (!is_pci_hostdev(root) || uses_namespaces(root) || !bdf_is_valid(source_bdf))
		return -EBADMSG;
	address = xml_child(xml_child(root, "source"), "address");
	if (!address)
		return -EBADMSG;
	set_source_address(address, source_bdf);
	keep_user_alias(root);
	text = xml_node_to_string(doc, root);
	if (!text)
		return -ENOMEM;
	*ret_xml = text;
	return 0;
}
