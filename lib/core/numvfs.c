/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "child.h"
#include "conf.h"
#include "statefile.h"

/*
 * The kernel's write of sriov_numvfs holds the PF's device lock, and a write of 0
 * blocks while a VF is held; a blocked writer cannot be killed. So the write is made
 * by a child that holds nothing of svff's, announced in locks/PF.numvfs (pid, start
 * time, value) for as long as it may block: readers of the PF then report it busy
 * instead of blocking on that lock (reading sriov_numvfs takes it too).
 */

struct numvfs_job {
	char path[PATH_MAX];
	char value[16];
};

static int write_in_child(const void *userdata)
{
	const struct numvfs_job *job = userdata;
	char go;
	ssize_t n;
	int fd;

	/* The parent announces us first: no reader may block on a write it cannot see. */
	do
		n = read(STDIN_FILENO, &go, 1);
	while (n < 0 && errno == EINTR);
	close(STDIN_FILENO);
	if (n != 1)
		return EPIPE;
	fd = open(job->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = write(fd, job->value, strlen(job->value));
	return n < 0 ? errno : 0;
}

static void marker_name(const char *pf, char *buf, size_t size)
{
	snprintf(buf, size, "%s.numvfs", pf);
}

int process_start_time(struct svff_ctx *ctx, pid_t pid, unsigned long long *ret)
{
	char path[PATH_MAX], text[1024];
	_cleanup_close_ int fd = -EBADF;
	const char *p;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/stat", ctx->proc_root, (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, text, sizeof(text) - 1);
	if (n <= 0)
		return -ESRCH;
	text[n] = '\0';
	p = strrchr(text, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", ret) != 1)
		return -ESRCH;
	return 0;
}

static int open_locks_dir(struct svff_ctx *ctx)
{
	return state_dir_open(ctx, STORE_LOCKS);
}

static int announce(struct svff_ctx *ctx, const char *pf, pid_t pid, unsigned numvfs)
{
	_cleanup_close_ int dir_fd = open_locks_dir(ctx);
	unsigned long long start = 0;
	char name[64], text[96];

	if (dir_fd < 0)
		return dir_fd;
	process_start_time(ctx, pid, &start);
	marker_name(pf, name, sizeof(name));
	snprintf(text, sizeof(text), "%d %llu %u\n", (int)pid, start, numvfs);
	return state_file_write_at(dir_fd, name, text);
}

static void withdraw(struct svff_ctx *ctx, const char *pf)
{
	_cleanup_close_ int dir_fd = open_locks_dir(ctx);
	char name[64];

	marker_name(pf, name, sizeof(name));
	if (dir_fd >= 0)
		unlinkat(dir_fd, name, 0);
}

int numvfs_writer_find(struct svff_ctx *ctx, const char *pf, struct numvfs_writer *ret)
{
	_cleanup_close_ int dir_fd = open_locks_dir(ctx);
	_cleanup_free_ char *text = NULL;
	unsigned long long start, now_start;
	char name[64];
	size_t size;
	int pid;
	unsigned numvfs;

	if (dir_fd < 0)
		return 0;
	marker_name(pf, name, sizeof(name));
	if (state_file_read_at(dir_fd, name, 96, &text, &size) < 0 ||
	    sscanf(text, "%d %llu %u", &pid, &start, &numvfs) != 3 || pid <= 0)
		return 0;
	/* A writer that finished, even one a crash left unannounced, blocks nobody. */
	if (process_start_time(ctx, (pid_t)pid, &now_start) < 0 || now_start != start)
		return 0;
	if (ret)
		*ret = (struct numvfs_writer){ .pid = (pid_t)pid, .numvfs = numvfs };
	return 1;
}

static int start_writer(struct svff_ctx *ctx, const char *pf, const struct numvfs_job *job,
			unsigned numvfs, struct child *ret_child)
{
	int go[2];
	struct child_spec spec = { .fn = write_in_child, .userdata = job };
	int r;

	if (pipe2(go, O_CLOEXEC) < 0)
		return negative_errno();
	spec.stdin_fd = go[0];
	r = child_start(&spec, ret_child);
	close(go[0]);
	if (r == 0)
		r = announce(ctx, pf, ret_child->pid, numvfs);
	/* Without the byte (announcing failed) the child gives up at once. */
	if (r == 0 && write(go[1], "1", 1) != 1)
		r = negative_errno();
	close(go[1]);
	if (r < 0 && ret_child->pid > 0) {
		child_kill_group(ret_child, SIGKILL);
		child_done(ret_child);
		withdraw(ctx, pf);
	}
	return r;
}

/*
 * Before new VFs appear: whether host drivers may probe them is svff.conf's choice for a
 * managed PF (a host driver that grabs a VF first may touch a device not ready for it).
 */
int pf_apply_autoprobe(struct svff_ctx *ctx, const char *pf)
{
	_cleanup_(conf_freep) struct svff_conf *conf = NULL;
	const struct managed_pf *managed;
	char path[PATH_MAX];
	int r;

	if (conf_load_quietly(ctx, ctx->conf_file, &conf) < 0)
		return 0;
	managed = conf_find_pf(conf, pf);
	if (!managed)
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
	r = sysfs_write_attr(path, managed->autoprobe ? "1" : "0");
	if (r < 0) {
		errno = -r;
		return log_errno(ctx, r, "cannot set sriov_drivers_autoprobe of PF '%s': %m", pf);
	}
	return 0;
}

/*
 * 0, the PF driver's refusal as -errno, or -ETIMEDOUT while the write is still blocked
 * at the deadline: the child then finishes it alone (ret_pid names it). Signals do not
 * stop this wait: a numvfs write cannot be undone halfway.
 */
int numvfs_write(struct svff_ctx *ctx, const char *pf, unsigned numvfs, usec_t deadline,
		 pid_t *ret_pid)
{
	struct numvfs_job job;
	struct child child = { .pidfd = -EBADF, .output_fd = -EBADF };
	int r;

	snprintf(job.path, sizeof(job.path), "/sys/bus/pci/devices/%s/sriov_numvfs", pf);
	snprintf(job.value, sizeof(job.value), "%u", numvfs);
	r = numvfs > 0 ? pf_apply_autoprobe(ctx, pf) : 0;
	if (r < 0)
		return r;
	r = start_writer(ctx, pf, &job, numvfs, &child);
	if (r < 0)
		return log_errno(ctx, r, "cannot start the write of numvfs %u to PF '%s'", numvfs,
				 pf);
	if (ret_pid)
		*ret_pid = child.pid;
	r = child_wait(ctx, &child, deadline, false, NULL, NULL);
	child_done(&child);
	if (r == -ETIMEDOUT)
		return r;
	withdraw(ctx, pf);
	if (r < 0)
		return r;
	return r == 0 ? 0 : r < 128 ? -r : -EIO;
}

int numvfs_write_ready(struct svff_ctx *ctx, const char *pf, unsigned numvfs)
{
	struct ready_watch watch;
	int r = ready_watch_begin(ctx, &watch);

	if (r == 0)
		r = numvfs_write(ctx, pf, numvfs, deadline_from_now(ctx, pf, DEADLINE_READY), NULL);
	if (r == 0)
		r = vfs_wait_ready(ctx, &watch, pf, numvfs,
				   deadline_from_now(ctx, pf, DEADLINE_READY));
	ready_watch_end(&watch);
	return r;
}
