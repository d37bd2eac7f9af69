/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI addresses, as given on command lines, in svff.conf and by udev. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "fuzz-util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static bool hex(const char *p, size_t digits, unsigned *ret)
{
	char buf[8];
	char *end;

	for (size_t i = 0; i < digits; i++)
		if (!isxdigit((unsigned char)p[i]))
			return false;
	snprintf(buf, sizeof(buf), "%.*s", (int)digits, p);
	*ret = (unsigned)strtoul(buf, &end, 16);
	return true;
}

/* "dddd:bb:ss.f" or "bb:ss.f", hex in either case; slot <= 0x1f, function <= 7. */
static bool reference_parse(const char *text, char ret[SVFF_BDF_SIZE])
{
	size_t len = strlen(text);
	const char *p = len == 12 ? text + 5 : text;
	unsigned domain = 0, bus, slot, function;

	if (len != 12 && len != 7)
		return false;
	if (len == 12 && (!hex(text, 4, &domain) || text[4] != ':'))
		return false;
	if (!hex(p, 2, &bus) || p[2] != ':' || !hex(p + 3, 2, &slot) || p[5] != '.' ||
	    !hex(p + 6, 1, &function) || slot > 0x1f || function > 7)
		return false;
	snprintf(ret, SVFF_BDF_SIZE, "%04x:%02x:%02x.%x", domain, bus, slot, function);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size);
	char bdf[SVFF_BDF_SIZE], expected[SVFF_BDF_SIZE];
	bool accepted;

	fuzz_require(text != NULL, "memory");
	accepted = svff_bdf_parse(text, bdf) == 0;
	fuzz_require(accepted == reference_parse(text, expected),
		     "svff_bdf_parse() takes exactly dddd:bb:ss.f and bb:ss.f");
	fuzz_require(!accepted || strcmp(bdf, expected) == 0,
		     "svff_bdf_parse() gives the canonical form");
	fuzz_require(bdf_is_valid(text) == (accepted && strcmp(text, bdf) == 0),
		     "bdf_is_valid() takes exactly the canonical form");
	free(text);
	return 0;
}
