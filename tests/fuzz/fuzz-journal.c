/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal an interrupted svff-reconf leaves in <state>/reconf/, read back from disk.
 */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz-util.h"
#include "ops.h"
#include "xml-util.h"

#define PF "0000:01:00.0"

static struct svff_ctx *ctx;
static char path[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ctx = fuzz_ctx_new(NULL);
	snprintf(path, sizeof(path), "%s/reconf", ctx->state_dir);
	fuzz_require(mkdir(path, 0700) == 0, "the journal directory can be made");
	snprintf(path, sizeof(path), "%s/reconf/" PF ".xml", ctx->state_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(xmlFreeDocp) xmlDocPtr doc = xml_parse((const char *)data, size);
	struct reconf_journal journal;
	int r;

	fuzz_write_file(path, data, size);
	r = journal_load(ctx, PF, &journal);
	/* A journal is svff's XML: what svff's parser refuses (DOCTYPE, gzip...) never
	 * loads. */
	fuzz_require(doc || r < 0, "a journal that is not svff's XML is refused");
	return 0;
}
