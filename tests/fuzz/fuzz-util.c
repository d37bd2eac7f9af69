/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-util.h"

static char state_dir[PATH_MAX];
static char runtime_dir[PATH_MAX + 8];

static void drop(void *userdata, enum svff_log_level level, const char *msg)
{
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

static void remove_state_dir(void)
{
	nftw(state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct svff_ctx *fuzz_ctx_new(const char *conf_text)
{
	const char *tmp = getenv("TMPDIR");
	char conf_file[PATH_MAX + 16];
	struct svff_config config = {.program = "svff-fuzz",
				     .conf_file = conf_file,
				     .max_level = SVFF_LOG_DEBUG,
				     .log_fn = drop};
	struct svff_ctx *ctx;

	snprintf(state_dir, sizeof(state_dir), "%s/svff-fuzz-XXXXXX", tmp ? tmp : "/tmp");
	fuzz_require(mkdtemp(state_dir) != NULL, "a temporary directory can be made");
	atexit(remove_state_dir);
	snprintf(conf_file, sizeof(conf_file), "%s/svff.conf", state_dir);
	if (conf_text)
		fuzz_write_file(conf_file, conf_text, strlen(conf_text));
	/* Never the machine's own /run/svff, whose locks a running svff may hold. */
	snprintf(runtime_dir, sizeof(runtime_dir), "%s/run", state_dir);
	fuzz_require(mkdir(runtime_dir, 0700) == 0, "a runtime directory can be made");
	config.state_dir = state_dir;
	config.runtime_dir = runtime_dir;
	fuzz_require(svff_ctx_new(&config, &ctx) == 0, "a context can be made");
	return ctx;
}

void fuzz_write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	bool ok = fd >= 0 && write(fd, data, size) == (ssize_t)size;

	if (fd >= 0)
		ok = close(fd) == 0 && ok;
	fuzz_require(ok, "the input can be written to a file");
}

void fuzz_require(bool ok, const char *promise)
{
	if (ok)
		return;
	fprintf(stderr, "svff broke a promise: %s\n", promise);
	abort();
}

static bool same_device(const struct hostdev *a, const struct hostdev *b)
{
	return strcmp(a->source_bdf, b->source_bdf) == 0 &&
	       strcmp(a->guest_address, b->guest_address) == 0 &&
	       strcmp(a->alias, b->alias) == 0 && a->is_interface == b->is_interface &&
	       a->managed == b->managed && strcmp(a->xml, b->xml) == 0;
}

static bool same_record(const struct record *a, const struct record *b)
{
	return strcmp(a->pf, b->pf) == 0 && a->vf_index == b->vf_index &&
	       strcmp(a->vf_bdf, b->vf_bdf) == 0 &&
	       strcmp(a->domain_uuid, b->domain_uuid) == 0 &&
	       strcmp(a->domain_name, b->domain_name) == 0 && a->phase == b->phase &&
	       same_device(&a->device, &b->device);
}

/* libvirt gets the recorded device back at the VF's address, with only user aliases. */
static void check_attach(const struct hostdev *dev, const char *vf_bdf)
{
	bool user_alias = strncmp(dev->alias, "ua-", 3) == 0;
	struct hostdev attached;
	char *xml = NULL;

	fuzz_require(xml_device_for_attach(dev->xml, vf_bdf, &xml) == 0,
		     "a recorded device can be attached");
	fuzz_require(xml_device_parse(xml, &attached) == 0,
		     "the device to attach is valid");
	fuzz_require(strcmp(attached.source_bdf, vf_bdf) == 0,
		     "the device to attach points at the VF");
	fuzz_require(strcmp(attached.guest_address, dev->guest_address) == 0 &&
			 attached.managed == dev->managed &&
			 attached.is_interface == dev->is_interface,
		     "the device to attach keeps its guest address and options");
	fuzz_require(strcmp(attached.alias, user_alias ? dev->alias : "") == 0,
		     "the device to attach keeps a user alias and only that");
	free(attached.xml);
	free(xml);
}

void fuzz_check_record(const struct record *record)
{
	/* The VF as found again at another address after the PF changed. */
	const char *elsewhere =
	    strcmp(record->vf_bdf, "0000:7f:1f.7") ? "0000:7f:1f.7" : "0000:7f:1f.6";
	struct record *again = NULL;
	char *text = NULL;

	fuzz_require(record_serialize(record, &text) == 0,
		     "a record that loads can be saved");
	fuzz_require(record_parse(text, strlen(text), &again) == 0,
		     "a saved record loads");
	fuzz_require(same_record(record, again), "a saved record loads back the same");
	check_attach(&record->device, record->vf_bdf);
	check_attach(&record->device, elsewhere);
	record_free(again);
	free(text);
}
