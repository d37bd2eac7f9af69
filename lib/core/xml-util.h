/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libxml/tree.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(xmlDocPtr, xmlFreeDoc);

/*
 * Parse untrusted XML from memory: at most 16 MiB, no DOCTYPE, no entity expansion, no
 * file, network or decompression, no error output. NULL if malformed or refused.
 */
xmlDocPtr xml_parse(const char *text, size_t size);
/* The attribute or first child element of that name in no namespace. */
char *xml_attr(xmlNodePtr node, const char *name);
xmlNodePtr xml_child(xmlNodePtr node, const char *name);
char *xml_node_to_string(xmlDocPtr doc, xmlNodePtr node);
