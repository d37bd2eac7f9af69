/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "child.h"

extern char **environ;

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE 2
#endif

#define LINE_MAX_LEN 1024

/* fd 3 of an exec child: close-on-exec, so the parent reads EOF, or the exec's errno. */
#define EXEC_ERROR_FD 3

/* Between fork and exec only async-signal-safe calls: svff has threads. */
static _Noreturn void child_main(const struct child_spec *spec, int output_fd, int error_fd)
{
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int out = output_fd >= 0 ? output_fd : null_fd;
	sigset_t none;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (null_fd < 0 || setpgid(0, 0) < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    (spec->stdin_fd > 0 && dup2(spec->stdin_fd, STDIN_FILENO) < 0) ||
	    dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0)
		_exit(127);
	if (error_fd >= 0 && dup3(error_fd, EXEC_ERROR_FD, O_CLOEXEC) < 0)
		_exit(127);
	syscall(SYS_close_range, error_fd >= 0 ? EXEC_ERROR_FD + 1U : 3U, ~0U, 0U);
	if (spec->fn)
		_exit(spec->fn(spec->userdata));
	execve(spec->path, spec->argv, spec->envp ? spec->envp : environ);
	{
		int error = errno;

		if (write(EXEC_ERROR_FD, &error, sizeof(error)) < 0)
			_exit(127);
	}
	_exit(127);
}

static int reap(struct child *child);

/* The exec's errno from the child, or 0 once it has run the program (EOF). */
static int exec_result(int error_fd)
{
	int error = 0;
	ssize_t n;

	do
		n = read(error_fd, &error, sizeof(error));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(error) ? -error : 0;
}

int child_start(const struct child_spec *spec, struct child *ret_child)
{
	int pipe_fds[2] = { -EBADF, -EBADF }, error_fds[2] = { -EBADF, -EBADF };
	struct child child = { .output_fd = -EBADF, .pidfd = -EBADF };
	sigset_t all, old;
	int r;

	if (spec->capture_output && pipe2(pipe_fds, O_CLOEXEC) < 0)
		return negative_errno();
	if (!spec->fn && pipe2(error_fds, O_CLOEXEC) < 0) {
		r = negative_errno();
		goto undo_pipes;
	}
	/* Blocked across fork: no handler of ours runs in the child before it is reset. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	child.pid = fork();
	if (child.pid != 0)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (child.pid < 0) {
		r = negative_errno();
		goto undo_pipes;
	}
	if (child.pid == 0)
		child_main(spec, pipe_fds[1], error_fds[1]);
	/* Also here: whichever of the two runs first, the group exists before a kill. */
	setpgid(child.pid, child.pid);
	child.pid_group = child.pid;
	if (pipe_fds[1] >= 0)
		close(pipe_fds[1]);
	child.output_fd = pipe_fds[0];
	child.pidfd = (int)syscall(SYS_pidfd_open, child.pid, 0);
	if (error_fds[0] >= 0) {
		close(error_fds[1]);
		r = exec_result(error_fds[0]);
		close(error_fds[0]);
		if (r < 0) {
			/* Not started: what would be its exit status 127 is the exec's errno. */
			reap(&child);
			child_done(&child);
			return r;
		}
	}
	*ret_child = child;
	return 0;
undo_pipes:
	for (int i = 0; i < 2; i++) {
		if (pipe_fds[i] >= 0)
			close(pipe_fds[i]);
		if (error_fds[i] >= 0)
			close(error_fds[i]);
	}
	return r;
}

struct line_buffer {
	char text[LINE_MAX_LEN];
	size_t len;
};

static void emit_lines(struct line_buffer *buf, bool flush_all,
		       void (*on_line)(void *userdata, const char *line), void *userdata)
{
	char *newline;

	while ((newline = memchr(buf->text, '\n', buf->len)) ||
	       (buf->len > 0 && (flush_all || buf->len == sizeof(buf->text) - 1))) {
		size_t n = newline ? (size_t)(newline - buf->text) : buf->len;
		char line[LINE_MAX_LEN];

		memcpy(line, buf->text, n);
		line[n] = '\0';
		if (on_line)
			on_line(userdata, line);
		n += newline ? 1 : 0;
		memmove(buf->text, buf->text + n, buf->len - n);
		buf->len -= n;
	}
}

/* false at end of file */
static bool read_output(struct child *child, struct line_buffer *buf,
			void (*on_line)(void *userdata, const char *line), void *userdata)
{
	ssize_t n = read(child->output_fd, buf->text + buf->len, sizeof(buf->text) - 1 - buf->len);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		emit_lines(buf, true, on_line, userdata);
		close(child->output_fd);
		child->output_fd = -EBADF;
		return false;
	}
	buf->len += (size_t)n;
	emit_lines(buf, false, on_line, userdata);
	return true;
}

static int reap(struct child *child)
{
	int status;

	for (;;) {
		pid_t pid = waitpid(child->pid, &status, 0);

		if (pid == child->pid)
			break;
		if (pid < 0 && errno != EINTR)
			return negative_errno();
	}
	child->pid = 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static bool has_exited(struct child *child, short revents)
{
	siginfo_t info = { 0 };

	if (child->pidfd >= 0)
		return revents & POLLIN;
	/* No pidfd (old kernel): ask without reaping. */
	return waitid(P_PID, (id_t)child->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       info.si_pid == child->pid;
}

int child_wait(struct svff_ctx *ctx, struct child *child, usec_t deadline, bool interruptible,
	       void (*on_line)(void *userdata, const char *line), void *userdata)
{
	struct line_buffer buf = { .len = 0 };

	for (;;) {
		struct pollfd pfds[2] = { { .fd = child->pidfd, .events = POLLIN },
					  { .fd = child->output_fd, .events = POLLIN } };
		usec_t now = now_usec();
		int r, timeout_ms;

		if (interruptible && svff_interrupted(ctx))
			return -EINTR;
		if (now >= deadline)
			return -ETIMEDOUT;
		/* Short slices: interruptions and old kernels without pidfd are noticed. */
		timeout_ms = (int)((deadline - now + 999) / 1000);
		if (timeout_ms > 200)
			timeout_ms = 200;
		r = poll(pfds, 2, timeout_ms);
		if (r < 0 && errno != EINTR)
			return negative_errno();
		if (r > 0 && child->output_fd >= 0 && (pfds[1].revents & (POLLIN | POLLHUP)))
			read_output(child, &buf, on_line, userdata);
		if (child->output_fd < 0 && has_exited(child, r > 0 ? pfds[0].revents : 0))
			return reap(child);
		if (child->output_fd >= 0 && has_exited(child, r > 0 ? pfds[0].revents : 0)) {
			/* A grandchild may keep the pipe open: read what is there, then stop. */
			while (child->output_fd >= 0 && poll(&pfds[1], 1, 0) > 0 &&
			       read_output(child, &buf, on_line, userdata))
				;
			emit_lines(&buf, true, on_line, userdata);
			return reap(child);
		}
	}
}

void child_kill_group(struct child *child, int sig)
{
	if (child->pid <= 0)
		return;
	kill(-child->pid_group, sig);
	if (sig == SIGKILL)
		reap(child);
}

void child_kill_leftovers(struct child *child)
{
	if (child->pid_group > 0)
		kill(-child->pid_group, SIGKILL);
}

void child_done(struct child *child)
{
	if (child->pidfd >= 0)
		close(child->pidfd);
	if (child->output_fd >= 0)
		close(child->output_fd);
	child->pidfd = child->output_fd = -EBADF;
}
