/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "program.h"

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

/* posix_spawn with the caller's environment plus SVFF_PF and SVFF_NUMVFS. */
static int spawn_with_env(const char *path, char *const *argv, const char *pf,
			  unsigned numvfs, pid_t *ret_pid)
{
	_cleanup_free_ char *pf_var = NULL, *numvfs_var = NULL;
	_cleanup_free_ char **envp = NULL;
	size_t n = 0;

	while (environ[n])
		n++;
	envp = calloc(n + 3, sizeof(*envp));
	if (!envp || asprintf(&pf_var, "SVFF_PF=%s", pf) < 0 ||
	    asprintf(&numvfs_var, "SVFF_NUMVFS=%u", numvfs) < 0)
		return -ENOMEM;
	memcpy(envp, environ, n * sizeof(*envp));
	envp[n] = pf_var;
	envp[n + 1] = numvfs_var;
	return -posix_spawn(ret_pid, path, NULL, NULL, argv, envp);
}

static int wait_program(struct svff_ctx *ctx, pid_t pid, const char *name, usec_t deadline)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	usec_t now = now_usec();
	int status;

	if (pidfd >= 0 &&
	    poll(&pfd, 1, now >= deadline ? 0 : (int)((deadline - now + 999) / 1000)) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return log_errno(ctx, -ECANCELED, "program '%s' did not finish within %.0f s and "
				 "was killed", name, (double)ctx->timeout_ms / 1000.0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return log_errno(ctx, negative_errno(), "cannot wait for program '%s': %m", name);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return log_errno(ctx, -ECANCELED, "program '%s' failed with exit status %d", name,
				 WEXITSTATUS(status));
	return log_errno(ctx, -ECANCELED, "program '%s' was killed by signal %d", name,
			 WTERMSIG(status));
}

/* argv run with posix_spawn, never a shell; SVFF_PF and SVFF_NUMVFS in its environment. */
int program_run(struct svff_ctx *ctx, char *const *argv, const char *pf, unsigned numvfs,
		usec_t deadline)
{
	char path[PATH_MAX];
	pid_t pid;
	int r = program_check(ctx, argv[0], path, sizeof(path));

	if (r < 0)
		return r;
	r = spawn_with_env(path, argv, pf, numvfs, &pid);
	if (r < 0) {
		errno = -r;
		return log_errno(ctx, -ENOEXEC, "cannot start program '%s': %m", argv[0]);
	}
	return wait_program(ctx, pid, argv[0], deadline);
}
