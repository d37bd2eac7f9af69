/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "statefile.h"

int fd_write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

static void step_done(state_file_step_fn at_step, void *userdata, const char *step)
{
	if (at_step)
		at_step(userdata, step);
}

int state_file_write_steps(int dir_fd, const char *name, const char *text,
			   state_file_step_fn at_step, void *userdata)
{
	char tmp[NAME_MAX + 1];
	_cleanup_close_ int fd = -EBADF;
	int r;

	/* Per name and process: concurrent writers of other files never collide. */
	if (snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Left by a crash of an earlier process with our pid: ours to replace. */
		unlinkat(dir_fd, tmp, 0);
		fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			    0600);
	}
	if (fd < 0)
		return negative_errno();
	r = fd_write_all(fd, text, strlen(text));
	if (r == 0)
		step_done(at_step, userdata, "write");
	if (r == 0 && fsync(fd) < 0)
		r = negative_errno();
	if (r == 0)
		step_done(at_step, userdata, "fsync");
	if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
		r = negative_errno();
	if (r < 0)
		goto undo;
	step_done(at_step, userdata, "rename");
	if (fsync(dir_fd) < 0)
		return negative_errno();
	step_done(at_step, userdata, "dirsync");
	return 0;
undo:
	unlinkat(dir_fd, tmp, 0);
	return r;
}

int state_file_write_at(int dir_fd, const char *name, const char *text)
{
	return state_file_write_steps(dir_fd, name, text, NULL, NULL);
}

/* ".NAME.PID.tmp": what state_file_write_steps() writes before the rename; the pid in ret. */
bool state_file_is_temp(const char *name, int *ret_pid)
{
	size_t len = strlen(name);
	const char *dot;
	char *end;
	long pid;

	if (name[0] != '.' || len < 6 || strcmp(name + len - 4, ".tmp") != 0)
		return false;
	dot = memrchr(name, '.', len - 4);
	if (!dot || dot == name)
		return false;
	errno = 0;
	pid = strtol(dot + 1, &end, 10);
	if (errno != 0 || end != name + len - 4 || end == dot + 1 || pid <= 0 || pid > INT_MAX)
		return false;
	if (ret_pid)
		*ret_pid = (int)pid;
	return true;
}

int state_file_read_at(int dir_fd, const char *name, size_t max_size, char **ret_text,
		       size_t *ret_size)
{
	/* O_NONBLOCK: a FIFO put in our place must not hang us before fstat says what it is. */
	_cleanup_close_ int fd =
		openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len = 0, cap;

	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max_size)
		return -EBADMSG;
	cap = (size_t)st.st_size + 1; /* one more: a file that grows meanwhile is noticed */
	text = malloc(cap + 1);
	if (!text)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, text + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		len += (size_t)n;
		if (len >= cap)
			return -EBADMSG; /* grew while read: not a file svff wrote */
	}
	text[len] = '\0';
	*ret_text = TAKE_PTR(text);
	*ret_size = len;
	return 0;
}

void store_path(const struct svff_ctx *ctx, const char *store, char *buf, size_t size)
{
	bool runtime = strcmp(store, STORE_ASSIGNED) == 0 || strcmp(store, STORE_LOCKS) == 0;

	snprintf(buf, size, "%s/%s", runtime ? ctx->runtime_dir : ctx->state_dir, store);
}

int state_file_read(const char *path, size_t max_size, char **ret_text, size_t *ret_size)
{
	_cleanup_free_ char *dir = strdup(path);
	const char *slash = dir ? strrchr(path, '/') : NULL;
	_cleanup_close_ int dir_fd = -EBADF;

	if (!dir)
		return -ENOMEM;
	if (!slash)
		/* cppcheck-suppress memleak ; freed by its cleanup attribute */
		return state_file_read_at(AT_FDCWD, path, max_size, ret_text, ret_size);
	dir[slash - path + (slash == path)] = '\0';
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return negative_errno();
	return state_file_read_at(dir_fd, slash + 1, max_size, ret_text, ret_size);
}

int state_dir_open(struct svff_ctx *ctx, const char *subdir)
{
	char path[PATH_MAX];
	int fd;

	store_path(ctx, subdir, path, sizeof(path));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? negative_errno() : fd;
}
