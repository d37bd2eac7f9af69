/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static char journal[64][4096]; /* each entry: "\nNAME=value\n...\n" */
static size_t n_journal;

static int capture_journal(const struct iovec *iov, int n)
{
	size_t used = 1;

	ck_assert_uint_lt(n_journal, ELEMENTSOF(journal));
	journal[n_journal][0] = '\n';
	for (int i = 0; i < n; i++) {
		ck_assert_uint_lt(used + iov[i].iov_len + 1, sizeof(journal[0]));
		memcpy(journal[n_journal] + used, iov[i].iov_base, iov[i].iov_len);
		used += iov[i].iov_len;
		journal[n_journal][used++] = '\n';
	}
	journal[n_journal++][used] = '\0';
	return 0;
}

void test_journal_capture(struct svff_ctx *ctx)
{
	n_journal = 0;
	ctx->journal = true;
	ctx->journal_sendv = capture_journal;
}

size_t test_journal_count(void)
{
	return n_journal;
}

const char *test_journal_entry(size_t i)
{
	ck_assert_uint_lt(i, n_journal);
	return journal[i];
}

static bool entry_has(const char *entry, const char *fields)
{
	_cleanup_free_ char *copy = strdup(fields);
	char *saveptr = NULL;

	for (char *line = strtok_r(copy, "\n", &saveptr); line;
	     line = strtok_r(NULL, "\n", &saveptr)) {
		char wanted[512];

		snprintf(wanted, sizeof(wanted), "\n%s\n", line);
		if (!strstr(entry, wanted))
			return false;
	}
	return true;
}

size_t test_journal_count_with(const char *fields)
{
	size_t count = 0;

	for (size_t i = 0; i < n_journal; i++)
		count += entry_has(journal[i], fields);
	return count;
}

const char *test_journal_field(size_t i, const char *name)
{
	static char value[2048];
	char wanted[128];
	const char *start, *end;

	snprintf(wanted, sizeof(wanted), "\n%s=", name);
	start = strstr(test_journal_entry(i), wanted);
	if (!start)
		return "";
	start += strlen(wanted);
	end = strchr(start, '\n');
	snprintf(value, sizeof(value), "%.*s", (int)(end - start), start);
	return value;
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
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_lt(fread(text, 1, 65535, f), 65535);
	ck_assert(!ferror(f));
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

void test_numvfs_writer_mark(struct svff_ctx *ctx, const char *pf, bool alive)
{
	char path[PATH_MAX], text[64];
	unsigned long long start;

	ck_assert_int_eq(process_start_time(ctx, getpid(), &start), 0);
	snprintf(path, sizeof(path), "%s/locks/%s.numvfs", ctx->runtime_dir, pf);
	snprintf(text, sizeof(text), "%d %llu 0\n", (int)getpid(), start + !alive);
	test_write_file(path, text);
}
