/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "child.h"
#include "program.h"

#define TERM_GRACE_USEC (10 * 1000000ULL)

extern char **environ;

int program_check(struct svff_ctx *ctx, const char *name, char *ret_path, size_t size)
{
	struct stat st;
	int r = stat(name, &st) < 0 ? negative_errno() : 0;

	/* root passes access(X_OK) for any file with one x bit: ask for a file and a bit. */
	if (r == 0 && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
		r = -EACCES;
	if (r == 0 && access(name, X_OK) < 0)
		r = negative_errno();

	snprintf(ret_path, size, "%s", name);
	if (r < 0) {
		errno = -r;
		return log_errno(ctx, -ENOEXEC,
				 "program '%s' cannot be run: %m; give the path of an executable "
				 "file",
				 name);
	}
	return 0;
}

static bool is_svff_variable(const char *entry)
{
	return strncmp(entry, "SVFF_PF=", 8) == 0 || strncmp(entry, "SVFF_NUMVFS=", 12) == 0 ||
	       strncmp(entry, "SVFF_OLD_NUMVFS=", 16) == 0;
}

/* The caller's environment with svff's three variables in place of any inherited ones. */
static char **program_environment(const struct program_request *req, char ret_vars[3][64])
{
	size_t n = 0, kept = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + 4, sizeof(*envp));
	if (!envp)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!is_svff_variable(environ[i]))
			envp[kept++] = environ[i];
	snprintf(ret_vars[0], 64, "SVFF_PF=%s", req->pf);
	snprintf(ret_vars[1], 64, "SVFF_NUMVFS=%u", req->numvfs);
	snprintf(ret_vars[2], 64, "SVFF_OLD_NUMVFS=%u", req->old_numvfs);
	for (size_t i = 0; i < 3; i++)
		envp[kept++] = ret_vars[i];
	return envp;
}

struct output_prefix {
	struct svff_ctx *ctx;
	const char *name;
};

static void show_line(void *userdata, const char *line)
{
	const struct output_prefix *prefix = userdata;

	log_info(prefix->ctx, "program '%s': %s", prefix->name, line);
}

/* SIGTERM to the whole group, then SIGKILL to what is left after a grace period. */
static void stop_group(struct svff_ctx *ctx, struct child *child, struct output_prefix *out)
{
	child_kill_group(child, SIGTERM);
	if (child_wait(ctx, child, now_usec() + TERM_GRACE_USEC, false, show_line, out) < 0)
		child_kill_group(child, SIGKILL);
	/* Grandchildren that outlived the leader are still in its group. */
	child_kill_leftovers(child);
}

static int report_status(struct svff_ctx *ctx, const char *name, int status)
{
	if (status == 0)
		return 0;
	if (status < 128)
		return log_errno(ctx, -ECANCELED, "program '%s' failed with exit status %d", name,
				 status);
	return log_errno(ctx, -ECANCELED, "program '%s' was killed by signal %d", name,
			 status - 128);
}

int program_run(struct svff_ctx *ctx, const struct program_request *req)
{
	char path[PATH_MAX], vars[3][64];
	_cleanup_free_ char **envp = NULL;
	struct child child = { .pidfd = -EBADF, .output_fd = -EBADF };
	struct output_prefix out = { .ctx = ctx, .name = req->argv[0] };
	struct child_spec spec = { .argv = req->argv, .capture_output = true };
	int r = program_check(ctx, req->argv[0], path, sizeof(path));

	if (r < 0)
		return r;
	envp = program_environment(req, vars);
	if (!envp)
		return -ENOMEM;
	spec.path = path;
	spec.envp = envp;
	r = child_start(&spec, &child);
	if (r < 0) {
		errno = -r;
		return log_errno(ctx, -ENOEXEC, "cannot start program '%s': %m", req->argv[0]);
	}
	r = child_wait(ctx, &child, req->deadline, true, show_line, &out);
	if (r == -ETIMEDOUT || r == -EINTR) {
		stop_group(ctx, &child, &out);
		child_done(&child);
		if (r == -EINTR)
			return log_errno(ctx, -EINTR, "program '%s' was stopped (interrupted)",
					 req->argv[0]);
		return log_errno(ctx, -ECANCELED,
				 "program '%s' did not finish within %u s (%s) and was killed "
				 "with its process group",
				 req->argv[0], deadline_seconds(ctx, req->pf, DEADLINE_PROGRAM),
				 deadline_option(DEADLINE_PROGRAM));
	}
	/* The program is done: what it left running in its group must not go on. */
	child_kill_leftovers(&child);
	child_done(&child);
	if (r < 0)
		return log_errno(ctx, r, "cannot wait for program '%s'", req->argv[0]);
	return report_status(ctx, req->argv[0], r);
}
