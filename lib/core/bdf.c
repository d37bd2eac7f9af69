/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "svff-internal.h"

/* Parse exactly `digits` hex digits starting at *p, advancing it. */
static bool parse_hex(const char **p, size_t digits, unsigned max, unsigned *ret)
{
	unsigned value = 0;

	for (size_t i = 0; i < digits; i++) {
		char c = (*p)[i];

		if (!isxdigit((unsigned char)c))
			return false;
		value = value * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0'
									  : tolower(c) - 'a' + 10);
	}
	if (value > max)
		return false;
	*p += digits;
	*ret = value;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

_public_ int svff_bdf_parse(const char *text, char ret_bdf[SVFF_BDF_SIZE])
{
	unsigned domain = 0, bus, slot, function;
	const char *p = text;

	if (!text)
		return -EINVAL;
	/* The domain is optional, as in lspci's output. */
	if (strlen(text) == 12 && !(parse_hex(&p, 4, 0xffff, &domain) && expect(&p, ':')))
		return -EINVAL;
	if (!parse_hex(&p, 2, 0xff, &bus) || !expect(&p, ':') ||
	    !parse_hex(&p, 2, 0x1f, &slot) || !expect(&p, '.') ||
	    !parse_hex(&p, 1, 0x7, &function) || *p != '\0')
		return -EINVAL;
	snprintf(ret_bdf, SVFF_BDF_SIZE, "%04x:%02x:%02x.%x", domain, bus, slot, function);
	return 0;
}

bool bdf_is_valid(const char *bdf)
{
	char canonical[SVFF_BDF_SIZE];

	return svff_bdf_parse(bdf, canonical) == 0 && strcmp(canonical, bdf) == 0;
}
