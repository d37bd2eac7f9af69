/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "svff-internal.h"

#define LOCK_GLANCE_USEC (300 * 1000ULL)

/* The one opener of svff's lock files. */
static int open_lock_file(struct svff_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	int fd;

	store_path(ctx, STORE_LOCKS, path, sizeof(path));
	if (strlen(path) + strlen(name) + 7 > sizeof(path))
		return -ENAMETOOLONG;
	strcat(strcat(strcat(path, "/"), name), ".lock");
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return log_errno(ctx, negative_errno(), "cannot open lock file '%s': %m", path);
	return fd;
}

/*
 * Never waits for an operation: a second one on the same PF is refused, not
 * interleaved. The hook and the udev helper hold a PF's lock for an instant: that is
 * waited out, nothing longer. -EBUSY quietly.
 */
static int try_lock(struct svff_ctx *ctx, const char *name, int how, int *ret_fd)
{
	_cleanup_close_ int fd = open_lock_file(ctx, name);
	usec_t deadline = now_usec() + LOCK_GLANCE_USEC;
	int r;

	if (fd < 0)
		return fd;
	while ((r = flock(fd, how | LOCK_NB)) < 0 && (errno == EWOULDBLOCK || errno == EINTR) &&
	       now_usec() < deadline)
		poll_pause();
	if (r < 0 && errno == EWOULDBLOCK)
		return -EBUSY;
	if (r < 0)
		return log_errno(ctx, negative_errno(), "cannot lock '%s': %m", name);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int take(struct svff_ctx *ctx, const char *name, int how, int *ret_fd)
{
	int r = try_lock(ctx, name, how, ret_fd);

	if (r == -EBUSY)
		return log_errno(ctx, -EBUSY,
				 "another svff operation holds the lock of '%s'; wait for it to "
				 "finish, then run this again",
				 name);
	return r;
}

/*
 * For the hook and the udev helper: a record of the PF changes only under its lock, and
 * they must never wait for an operation (libvirtd or udev would wait with them). Shared:
 * they write records of different VFs and may run side by side; operations take it
 * exclusively. -EBUSY, quietly, while an operation holds it.
 */
int pf_lock_share(struct svff_ctx *ctx, const char *pf, int *ret_fd)
{
	return try_lock(ctx, pf, LOCK_SH, ret_fd);
}

static int take_all_pfs(struct svff_ctx *ctx, struct op_lock *lock)
{
	char(*pfs)[SVFF_BDF_SIZE] = NULL;
	size_t n = 0;
	int r;

	r = sysfs_pf_list(ctx, &pfs, &n);
	for (size_t i = 0; r == 0 && i < n && i < ELEMENTSOF(lock->pf_fds); i++) {
		r = take(ctx, pfs[i], LOCK_EX, &lock->pf_fds[i]);
		if (r == 0)
			lock->n_pf_fds++;
	}
	free(pfs);
	return r;
}

/*
 * The global lock is taken shared by single-PF operations and exclusively by
 * those that span PFs; then the PF locks, in address order, so two operations
 * never wait on each other in opposite orders. The hook and udev test a PF's
 * lock to know whether it is being reconfigured.
 */
int op_lock_acquire(struct svff_ctx *ctx, enum lock_scope scope, const char *pf,
		    struct op_lock *ret_lock)
{
	struct op_lock lock = { .global_fd = -EBADF };
	int r;

	r = take(ctx, "global", scope == LOCK_SCOPE_ALL_PFS ? LOCK_EX : LOCK_SH,
		 &lock.global_fd);
	if (r == 0 && scope == LOCK_SCOPE_ONE_PF) {
		r = take(ctx, pf, LOCK_EX, &lock.pf_fds[0]);
		if (r == 0)
			lock.n_pf_fds = 1;
	} else if (r == 0) {
		r = take_all_pfs(ctx, &lock);
	}
	if (r < 0) {
		op_lock_release(&lock);
		return r;
	}
	*ret_lock = lock;
	return 0;
}

void op_lock_release(struct op_lock *lock)
{
	for (size_t i = 0; i < lock->n_pf_fds; i++)
		close(lock->pf_fds[i]);
	lock->n_pf_fds = 0;
	if (lock->global_fd >= 0)
		close(lock->global_fd);
	lock->global_fd = -EBADF;
}

/*
 * A lock held only for a moment (assigned/ while the hook records a start): wait for
 * it, but never past the deadline.
 */
int lock_wait(struct svff_ctx *ctx, const char *name, usec_t deadline, int *ret_fd)
{
	_cleanup_close_ int fd = open_lock_file(ctx, name);

	if (fd < 0)
		return fd;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return log_errno(ctx, negative_errno(), "cannot lock '%s': %m", name);
		if (now_usec() >= deadline)
			return log_errno(ctx, -EBUSY, "the lock of '%s' was not free in time; "
					 "another svff process holds it", name);
		poll_pause();
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}
