/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <string.h>

#include "config.h"
#include "svff-internal.h"

static int dup_or_default(const char *value, const char *fallback, char **ret)
{
	*ret = strdup(value ? value : fallback);
	return *ret ? 0 : -ENOMEM;
}

_public_ int svff_ctx_new(const struct svff_config *config, struct svff_ctx **ret_ctx)
{
	struct svff_ctx *ctx;
	int r = 0;

	if (!config || !ret_ctx)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->refcount = 1;
	pthread_mutex_init(&ctx->log_lock, NULL);
	if (dup_or_default(config->program, "svff", &ctx->program) < 0 ||
	    dup_or_default(config->state_dir, SVFF_STATE_DIR, &ctx->state_dir) < 0 ||
	    dup_or_default(config->runtime_dir, SVFF_RUNTIME_DIR, &ctx->runtime_dir) < 0 ||
	    dup_or_default(config->connect_uri, "qemu:///system", &ctx->connect_uri) < 0 ||
	    dup_or_default(config->proc_root, "/proc", &ctx->proc_root) < 0 ||
	    dup_or_default(config->conf_file, SVFF_CONF_FILE, &ctx->conf_file) < 0)
		r = -ENOMEM;
	ctx->timeout_ms[DEADLINE_RELEASE] = config->release_timeout_ms;
	ctx->timeout_ms[DEADLINE_READY] = config->ready_timeout_ms;
	ctx->timeout_ms[DEADLINE_PROGRAM] = config->program_timeout_ms;
	ctx->dry_run = config->dry_run;
	ctx->json = config->json;
	ctx->fault_step = config->fault_step ? strdup(config->fault_step) : NULL;
	ctx->mode = config->mode;
	ctx->max_level = config->max_level;
	ctx->log_fn = config->log_fn;
	ctx->log_userdata = config->log_userdata;
	ctx->journal = config->journal;
	ctx->stdout_is_journal = journal_stream_is(STDOUT_FILENO, config->journal_stream);
	ctx->stderr_is_journal = journal_stream_is(STDERR_FILENO, config->journal_stream);
	if (r == 0) {
		ctx->udev = udev_new();
		if (!ctx->udev)
			r = -ENOMEM;
	}
	if (r < 0) {
		svff_ctx_unref(ctx);
		return r;
	}
	*ret_ctx = ctx;
	return 0;
}

_public_ struct svff_ctx *svff_ctx_unref(struct svff_ctx *ctx)
{
	if (!ctx || --ctx->refcount > 0)
		return NULL;
	udev_unref(ctx->udev);
	pthread_mutex_destroy(&ctx->log_lock);
	free(ctx->program);
	free(ctx->state_dir);
	free(ctx->runtime_dir);
	free(ctx->connect_uri);
	free(ctx->proc_root);
	free(ctx->conf_file);
	free(ctx->fault_step);
	free(ctx);
	return NULL;
}

_public_ const char *svff_version(void)
{
	return SVFF_VERSION;
}

_public_ int svff_exit_code(int error)
{
	switch (error >= 0 ? 0 : -error) {
	case 0:
		return SVFF_EXIT_OK;
	case EINVAL:
		return SVFF_EXIT_USAGE;
	case ENODEV:
		return SVFF_EXIT_NO_DEVICE;
	case EOPNOTSUPP:
		return SVFF_EXIT_NOT_SRIOV;
	case ESRCH:
		return SVFF_EXIT_NO_DOMAIN;
	case ECONNREFUSED:
	case ECONNRESET:
	case EREMOTEIO:
		return SVFF_EXIT_LIBVIRT;
	case EACCES:
	case EPERM:
	case EROFS:
	case ENOSPC:
	case EEXIST:
		return SVFF_EXIT_STATE;
	case EBADMSG:
		return SVFF_EXIT_CORRUPT;
	case EBUSY:
		return SVFF_EXIT_BUSY;
	case ETIMEDOUT:
		return SVFF_EXIT_PARTIAL;
	case ENXIO:
		return SVFF_EXIT_VF_GONE;
	case ESTALE:
		return SVFF_EXIT_STALE;
	case ERANGE:
	case EUNATCH:
		return SVFF_EXIT_NUMVFS;
	case ENOEXEC:
		return SVFF_EXIT_PROGRAM;
	case ECANCELED:
		return SVFF_EXIT_ROLLED_BACK;
	case ETXTBSY:
		return SVFF_EXIT_HELD;
	case EINPROGRESS:
		return SVFF_EXIT_NOT_READY;
	case EDOM:
		return SVFF_EXIT_DRIFT;
	case EINTR:
		return 128 + SIGINT; /* without the signal itself; programs use svff_interrupt_signal */
	default:
		return SVFF_EXIT_FAILURE;
	}
}
