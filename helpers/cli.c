/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	OPT_STATE_DIR = 0x100,
	OPT_CONNECT,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_TIMEOUT,
	OPT_READY_TIMEOUT,
	OPT_PROGRAM_TIMEOUT,
	OPT_PF,
	OPT_VF,
	OPT_DOMAIN,
	OPT_NUMVFS,
	OPT_MODE,
	OPT_CHECK,
};

static const struct option options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "release-timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "ready-timeout", required_argument, NULL, OPT_READY_TIMEOUT },
	{ "program-timeout", required_argument, NULL, OPT_PROGRAM_TIMEOUT },
	{ "pf", required_argument, NULL, OPT_PF },
	{ "vf", required_argument, NULL, OPT_VF },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "numvfs", required_argument, NULL, OPT_NUMVFS },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "check", no_argument, NULL, OPT_CHECK },
	{},
};

static void usage(const struct cli_spec *spec)
{
	printf("Usage: %s [OPTION]...\n%s\n\n", spec->program, spec->summary);
	if (spec->selectors)
		printf("  --pf BDF            %s\n",
		       spec->pf_help ? spec->pf_help : "every VF of this SR-IOV PF");
	if (spec->selectors && !spec->pf_only)
		printf("  --vf BDF            this VF only\n"
		       "  --domain NAME       every VF of this domain (name or UUID)\n");
	if (spec->reconf)
		printf("  --numvfs N          the number of VFs the PF gets\n"
		       "  --program PATH [ARG...]\n"
		       "                      run this between numvfs 0 and N (the rest of the "
		       "line\n"
		       "                      is its arguments), with SVFF_PF, SVFF_NUMVFS and\n"
		       "                      SVFF_OLD_NUMVFS set\n");
	if (spec->mode)
		printf("  --mode MODE         detach (hot-unplug), pause (the guest keeps its device\n"
		       "                      while QEMU lets go of the VF; detach where QEMU cannot)\n"
		       "                      or auto (as pause, quietly); default detach\n");
	if (spec->dry_run)
		printf("  --dry-run           print the plan, change nothing\n");
	if (spec->timeout)
		printf("  --release-timeout SECONDS\n"
		       "                      how long a guest may take to release a VF\n"
		       "                      (default: svff.conf's, else 30; --timeout is the same)\n"
		       "  --ready-timeout SECONDS\n"
		       "                      how long a VF may take to be bound and done with by\n"
		       "                      udev before it goes back to a guest (default 300)\n");
	if (spec->reconf)
		printf("  --program-timeout SECONDS\n"
		       "                      how long the program may run (default 600)\n");
	if (spec->json)
		printf("  --json              print JSON instead of a table\n");
	if (spec->check)
		printf("  --check             exit with status %d when a PF of svff.conf differs "
		       "from it\n", SVFF_EXIT_DRIFT);
	if (!spec->no_libvirt)
		printf("  --connect URI       libvirt URI (default $LIBVIRT_DEFAULT_URI or "
		       "qemu:///system)\n");
	printf("  --state-dir DIR     where records and locks live (default $SVFF_STATE_DIR "
	       "or /var/lib/svff)\n"
	       "  -q, --quiet         print errors and warnings only\n"
	       "  -v, --verbose       print debugging messages too\n"
	       "  -h, --help          show this help\n"
	       "  -V, --version       show the version\n\n"
	       "See %s(1) for exit codes.\n",
	       spec->program);
}

static int parse_timeout(const char *text, unsigned *ret_ms)
{
	char *end;
	double seconds;

	errno = 0;
	seconds = strtod(text, &end);
	if (errno != 0 || *end != '\0' || end == text || seconds <= 0 || seconds > 86400)
		return -EINVAL;
	*ret_ms = (unsigned)(seconds * 1000.0);
	return 0;
}

static int parse_numvfs(const char *text, unsigned *ret)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || end == text || text[0] == '-' || value > 65535)
		return -EINVAL;
	*ret = (unsigned)value;
	return 0;
}

static int parse_mode(const char *text, enum svff_mode *ret)
{
	static const char *const names[] = { [SVFF_MODE_DETACH] = "detach",
					     [SVFF_MODE_PAUSE] = "pause",
					     [SVFF_MODE_AUTO] = "auto" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(text, names[i]) == 0) {
			*ret = (enum svff_mode)i;
			return 0;
		}
	return -EINVAL;
}

/* Everything after --program is the program's argv, not ours. */
static int split_program(int *argc, char **argv, struct cli *cli)
{
	for (int i = 1; i < *argc; i++)
		if (strcmp(argv[i], "--program") == 0) {
			if (i + 1 >= *argc)
				return -EINVAL;
			cli->reconf.program = argv + i + 1;
			argv[i] = NULL;
			*argc = i;
			return 0;
		}
	return 0;
}

static const char *option_name(int opt)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static bool allowed(const struct cli_spec *spec, int opt)
{
	switch (opt) {
	case OPT_PF:
		return spec->selectors;
	case OPT_VF:
	case OPT_DOMAIN:
		return spec->selectors && !spec->pf_only;
	case OPT_JSON:
		return spec->json;
	case OPT_DRY_RUN:
		return spec->dry_run;
	case OPT_TIMEOUT:
	case OPT_READY_TIMEOUT:
		return spec->timeout;
	case OPT_PROGRAM_TIMEOUT:
		return spec->reconf;
	case OPT_NUMVFS:
		return spec->reconf;
	case OPT_MODE:
		return spec->mode;
	case OPT_CHECK:
		return spec->check;
	case OPT_CONNECT:
		return !spec->no_libvirt;
	default:
		return true;
	}
}

static unsigned *timeout_field(struct cli *cli, int opt)
{
	if (opt == OPT_READY_TIMEOUT)
		return &cli->config.ready_timeout_ms;
	if (opt == OPT_PROGRAM_TIMEOUT)
		return &cli->config.program_timeout_ms;
	return &cli->config.release_timeout_ms;
}

static int try_help(const struct cli_spec *spec)
{
	fprintf(stderr, "Try '%s --help'.\n", spec->program);
	return 1 + SVFF_EXIT_USAGE;
}

static int apply_option(const struct cli_spec *spec, int opt, struct cli *cli)
{
	switch (opt) {
	case 'h':
		usage(spec);
		return 1 + SVFF_EXIT_OK;
	case 'V':
		printf("%s %s\n", spec->program, svff_version());
		return 1 + SVFF_EXIT_OK;
	case 'q':
		cli->config.max_level = SVFF_LOG_WARNING;
		return 0;
	case 'v':
		cli->config.max_level = SVFF_LOG_DEBUG;
		return 0;
	case OPT_STATE_DIR:
		cli->config.state_dir = optarg;
		return 0;
	case OPT_CONNECT:
		cli->config.connect_uri = optarg;
		return 0;
	case OPT_DRY_RUN:
		cli->config.dry_run = true;
		return 0;
	case OPT_JSON:
		cli->json = true;
		cli->config.json = true;
		return 0;
	case OPT_CHECK:
		cli->check = true;
		return 0;
	case OPT_TIMEOUT:
	case OPT_READY_TIMEOUT:
	case OPT_PROGRAM_TIMEOUT:
		if (parse_timeout(optarg, timeout_field(cli, opt)) == 0)
			return 0;
		fprintf(stderr, "%s: --%s '%s' is not a number of seconds between 0 and 86400\n",
			spec->program, option_name(opt), optarg);
		return try_help(spec);
	case OPT_PF:
		cli->selector.pf = optarg;
		return 0;
	case OPT_VF:
		cli->selector.vf = optarg;
		return 0;
	case OPT_DOMAIN:
		cli->selector.domain = optarg;
		return 0;
	case OPT_NUMVFS:
		if (parse_numvfs(optarg, &cli->reconf.numvfs) == 0) {
			cli->has_numvfs = true;
			return 0;
		}
		fprintf(stderr, "%s: --numvfs '%s' is not a whole number from 0 to 65535\n",
			spec->program, optarg);
		return try_help(spec);
	case OPT_MODE:
		if (parse_mode(optarg, &cli->reconf.mode) == 0) {
			cli->config.mode = cli->reconf.mode;
			return 0;
		}
		fprintf(stderr, "%s: --mode '%s' is not detach, pause or auto\n", spec->program,
			optarg);
		return try_help(spec);
	default:
		return try_help(spec);
	}
}

int cli_parse(const struct cli_spec *spec, int argc, char **argv, struct cli *ret_cli)
{
	struct cli cli = { .config = { .program = spec->program,
				       .max_level = SVFF_LOG_INFO,
				       .state_dir = secure_getenv("SVFF_STATE_DIR"),
				       .runtime_dir = secure_getenv("SVFF_RUNTIME_DIR"),
				       .connect_uri = secure_getenv("LIBVIRT_DEFAULT_URI"),
#ifdef SVFF_FAULT_INJECTION
				       .fault_step = secure_getenv("SVFF_FAULT_STEP"),
#endif
				       .conf_file = secure_getenv("SVFF_CONF_FILE"),
				       .journal = true,
				       .journal_stream = secure_getenv("JOURNAL_STREAM") } };
	int opt, done;

	if (spec->reconf && split_program(&argc, argv, &cli) < 0) {
		fprintf(stderr, "%s: --program needs the path of a program\n", spec->program);
		return try_help(spec);
	}
	while ((opt = getopt_long(argc, argv, "+hVqv", options, NULL)) >= 0) {
		if (!allowed(spec, opt)) {
			fprintf(stderr, "%s: option '--%s' is not known here\n", spec->program,
				option_name(opt));
			return try_help(spec);
		}
		done = apply_option(spec, opt, &cli);
		if (done)
			return done;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", spec->program, argv[optind]);
		return try_help(spec);
	}
	*ret_cli = cli;
	return 0;
}

int cli_exit(const struct cli_spec *spec, struct svff_ctx *ctx, int r)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write to standard output\n", spec->program);
		return SVFF_EXIT_FAILURE;
	}
	if (r == -EINTR && svff_interrupt_signal(ctx))
		return 128 + svff_interrupt_signal(ctx);
	return svff_exit_code(r);
}

static struct svff_ctx *interruptible_ctx;

static void on_stop_signal(int signo)
{
	svff_interrupt(interruptible_ctx, signo);
}

/* SIGINT, SIGTERM, SIGHUP: the operation stops at its next safe point, state consistent. */
static void handle_stop_signals(struct svff_ctx *ctx)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_stop_signal };

	interruptible_ctx = ctx;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &sa, NULL);
}

int cli_main(const struct cli_spec *spec, int argc, char **argv,
	     int (*op)(struct svff_ctx *ctx, const struct cli *cli))
{
	struct cli cli;
	struct svff_ctx *ctx = NULL;
	int r = cli_parse(spec, argc, argv, &cli);

	if (r > 0)
		return r - 1;
	r = svff_ctx_new(&cli.config, &ctx);
	if (r == 0) {
		handle_stop_signals(ctx);
		r = op(ctx, &cli);
		r = cli_exit(spec, ctx, r);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
	} else
		r = cli_exit(spec, ctx, r);
	svff_ctx_unref(ctx);
	return r;
}
