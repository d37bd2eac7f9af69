/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirt hook at a domain start: the input is the domain XML on its stdin. */
#include <stdio.h>
#include <string.h>

#include "fuzz-util.h"
#include "hook-gate.h"

/* A PF no machine has: the hook must never bind a real VF from the fuzzer. */
#define PF	  "ffff:ff:1f.7"
#define MAX_INPUT (16 * 1024 * 1024) /* what hook_gate_read_input() takes */

static struct svff_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_require(access("/sys/bus/pci/devices/" PF, F_OK) < 0,
		     "PCI device " PF " does not exist on the machine that fuzzes");
	ctx = fuzz_ctx_new("[" PF "]\ndriver=vfio-pci\n");
	return 0;
}

/* The record the hook would save for the device loads back the same. */
static void check_device(const struct hostdev *dev, const char *name, const char *uuid)
{
	struct record record = {.pf = PF, .phase = PHASE_ASSIGNED, .device = *dev};
	struct hostdev again;

	fuzz_require(xml_device_parse(dev->xml, &again) == 0,
		     "a device found loads alone");
	fuzz_require(strcmp(again.source_bdf, dev->source_bdf) == 0 &&
			 strcmp(again.guest_address, dev->guest_address) == 0 &&
			 strcmp(again.alias, dev->alias) == 0 &&
			 strcmp(again.xml, dev->xml) == 0,
		     "a device found alone is the device found in its domain");
	free(again.xml);
	snprintf(record.vf_bdf, sizeof(record.vf_bdf), "%s", dev->source_bdf);
	snprintf(record.domain_uuid, sizeof(record.domain_uuid), "%s", uuid);
	snprintf(record.domain_name, sizeof(record.domain_name), "%s", name);
	fuzz_check_record(&record);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	char name[256], uuid[37];
	struct hostdev *devs = NULL;
	size_t n = 0;
	int parsed = xml_domain_parse(xml, size, name, uuid, &devs, &n);
	int r = svff_hook_qemu(ctx, "prepare", "begin", xml, size);

	fuzz_require(size <= MAX_INPUT || parsed == -EBADMSG,
		     "domain XML over 16 MiB is refused");
	fuzz_require(r == (parsed < 0 ? -EBADMSG : 0),
		     "the hook refuses exactly the domain XML that does not parse");
	fuzz_require(n == 0 || hook_gate_xml(xml, size),
		     "hook_gate_xml() passes every domain with a PCI host device");
	for (size_t i = 0; i < n; i++)
		check_device(&devs[i], name, uuid);
	hostdevs_free(devs, n);
	return 0;
}
