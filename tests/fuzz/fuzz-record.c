/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A state record, as read from records/ or assigned/. */
#include "fuzz-util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record *record = NULL;

	if (record_parse((const char *)data, size, &record) < 0)
		return 0;
	fuzz_require(bdf_is_valid(record->pf) && bdf_is_valid(record->vf_bdf) &&
			 bdf_is_valid(record->device.source_bdf),
		     "the addresses of a loaded record are valid");
	fuzz_check_record(record);
	record_free(record);
	return 0;
}
