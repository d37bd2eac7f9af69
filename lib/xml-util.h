/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libxml/tree.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(xmlDocPtr, xmlFreeDoc);

/* Parse untrusted XML: no network, no error output, bounded size. NULL if malformed. */
xmlDocPtr xml_parse(const char *text, size_t size);
char *xml_attr(xmlNodePtr node, const char *name);
xmlNodePtr xml_child(xmlNodePtr node, const char *name);
char *xml_node_to_string(xmlDocPtr doc, xmlNodePtr node);
