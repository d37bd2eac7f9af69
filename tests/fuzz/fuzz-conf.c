/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* svff.conf, as the hook, the udev helper and the programs read it. */
#include <string.h>

#include "conf.h"
#include "fuzz-util.h"
#include "hook-gate.h"

static struct svff_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ctx = fuzz_ctx_new(NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svff_conf *conf = NULL;
	int r;

	fuzz_write_file(ctx->conf_file, data, size);
	r = conf_load(ctx, ctx->conf_file, &conf);
	/* The hook's front door must not skip a config the worker would complain about.
	 */
	fuzz_require(r == 0 || hook_gate_config(ctx->conf_file),
		     "hook_gate_config() passes every config conf_load() refuses");
	if (r < 0)
		return 0;
	fuzz_require(hook_gate_config(ctx->conf_file) == (conf->n_pfs > 0),
		     "hook_gate_config() passes exactly the configs that name a PF");
	for (size_t i = 0; i < conf->n_pfs; i++) {
		fuzz_require(bdf_is_valid(conf->pfs[i].bdf),
			     "a configured PF is a valid BDF");
		fuzz_require(conf->pfs[i].driver[0] && !strchr(conf->pfs[i].driver, '/'),
			     "a configured driver is a name");
	}
	conf_free(conf);
	return 0;
}
