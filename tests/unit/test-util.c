/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>

#include "test-util.h"

static char messages[16384];

static void capture(void *userdata, enum svff_log_level level, const char *msg)
{
	size_t used = strlen(messages);

	snprintf(messages + used, sizeof(messages) - used, "%s\n", msg);
}

const char *test_messages(void)
{
	return messages;
}

char *test_mkdtemp(void)
{
	char *dir = strdup("/tmp/svff-test-XXXXXX");

	ck_assert_ptr_nonnull(dir);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

struct svff_ctx *test_ctx_new(void)
{
	_cleanup_free_ char *dir = test_mkdtemp(), *run = NULL;
	struct svff_config config = { .program = "test", .state_dir = dir,
				      .max_level = SVFF_LOG_INFO, .log_fn = capture };
	struct svff_ctx *ctx;

	messages[0] = '\0';
	ck_assert_int_ge(asprintf(&run, "%s/run", dir), 0);
	config.runtime_dir = run;
	ck_assert_int_eq(svff_ctx_new(&config, &ctx), 0);
	return ctx;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void test_rm_rf(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void test_ctx_free(struct svff_ctx *ctx)
{
	test_rm_rf(ctx->state_dir);
	svff_ctx_unref(ctx);
}

void test_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

char *test_read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = calloc(1, 65536);

	ck_assert_ptr_nonnull(f);
	fread(text, 1, 65535, f);
	fclose(f);
	return text;
}

int test_run(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? 0 : 1;
}

char *test_fake_proc(struct svff_ctx *ctx)
{
	char *proc = test_mkdtemp();

	free(ctx->proc_root);
	ctx->proc_root = strdup(proc);
	return proc;
}

void test_fake_fd(const char *proc, const char *pid, const char *fd, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", proc, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/fd", proc, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/fd/%s", proc, pid, fd);
	ck_assert_int_eq(symlink(target, path), 0);
}
