/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the journal gets of svff's messages: their fields, and no copies on its streams. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "jobs.h"
#include "test-util.h"

static struct svff_ctx *ctx;

static void setup(void)
{
	ctx = test_ctx_new();
	test_journal_capture(ctx);
}

static void teardown(void)
{
	test_ctx_free(ctx);
}

static struct record db1_vf = { .pf = "0000:03:00.0", .vf_index = 1,
				.vf_bdf = "0000:03:00.3", .domain_name = "db1" };

static void log_detached(void)
{
	LOG_SCOPE_RECORD(&db1_vf);
	log_event(ctx, SVFF_LOG_INFO, VF_DETACHED, "domain 'db1': VF 0000:03:00.3 detached");
}

START_TEST(detach_carries_its_pf_vf_domain_and_event)
{
	log_detached();
	ck_assert_uint_eq(test_journal_count(), 1);
	ck_assert_uint_eq(test_journal_count_with("MESSAGE=domain 'db1': VF 0000:03:00.3 detached\n"
						  "PRIORITY=6\n"
						  "SYSLOG_IDENTIFIER=test\n"
						  "MESSAGE_ID=6b2472c1995b4b11a414debea8036086\n"
						  "SVFF_PF=0000:03:00.0\n"
						  "SVFF_VF=0000:03:00.3\n"
						  "SVFF_DOMAIN=db1\n"),
			  1);
	ck_assert_str_eq(test_journal_field(0, "SVFF_STEP"), "");
	ck_assert_str_eq(test_journal_field(0, "ERRNO"), "");
	/* the terminal gets the message as before */
	ck_assert_str_eq(test_messages(), "domain 'db1': VF 0000:03:00.3 detached\n");
}
END_TEST

START_TEST(scope_ends_with_its_block)
{
	{
		LOG_SCOPE("0000:03:00.0", NULL, NULL, "disable");
		{
			LOG_SCOPE(NULL, NULL, NULL, "rollback");
			log_info(ctx, "inner");
		}
		log_info(ctx, "outer");
	}
	log_info(ctx, "outside");
	ck_assert_uint_eq(test_journal_count(), 3);
	ck_assert_str_eq(test_journal_field(0, "SVFF_STEP"), "rollback");
	ck_assert_str_eq(test_journal_field(1, "SVFF_STEP"), "disable");
	ck_assert_str_eq(test_journal_field(1, "SVFF_PF"), "0000:03:00.0");
	ck_assert_str_eq(test_journal_field(1, "MESSAGE_ID"), "");
	ck_assert_str_eq(test_journal_field(2, "SVFF_PF"), "");
	ck_assert_str_eq(test_journal_field(2, "SVFF_STEP"), "");
}
END_TEST

static void detach_in_thread(struct domain_job *job)
{
	LOG_SCOPE(NULL, NULL, job->domain_name, NULL);
	log_event(job->ctx, SVFF_LOG_INFO, VF_DETACHED, "domain '%s': detached", job->domain_name);
}

START_TEST(domain_threads_keep_the_operations_pf_and_step)
{
	struct job_list jobs = { 0 };

	ck_assert_ptr_nonnull(job_list_get(&jobs, "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e001", "web"));
	ck_assert_ptr_nonnull(job_list_get(&jobs, "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e002", "db"));
	{
		LOG_SCOPE("0000:03:00.0", NULL, NULL, "detach");
		ck_assert_int_eq(job_list_run(&jobs, ctx, NULL, detach_in_thread), 0);
	}
	job_list_free(&jobs);
	ck_assert_uint_eq(test_journal_count(), 2);
	for (const char *const *domain = (const char *const[]){ "web", "db", NULL }; *domain;
	     domain++) {
		char fields[256];

		snprintf(fields, sizeof(fields),
			 "SVFF_PF=0000:03:00.0\nSVFF_STEP=detach\nSVFF_DOMAIN=%s\n", *domain);
		ck_assert_msg(test_journal_count_with(fields) == 1, "no entry with %s", fields);
	}
}
END_TEST

START_TEST(errors_carry_errno_and_priority)
{
	ck_assert_int_eq(log_event_errno(ctx, EBUSY, HOOK_REFUSED, "refused"), -EBUSY);
	ck_assert_int_eq(log_errno(ctx, -ENOENT, "no such thing"), -ENOENT);
	log_warning(ctx, "careful");
	ck_assert_uint_eq(test_journal_count_with("PRIORITY=3\nERRNO=16\n"
						  "MESSAGE_ID=b05d81d282e641c09e4cd294eb3f4166\n"),
			  1);
	ck_assert_uint_eq(test_journal_count_with("PRIORITY=3\nERRNO=2\nMESSAGE=no such thing\n"), 1);
	ck_assert_uint_eq(test_journal_count_with("PRIORITY=4\nMESSAGE=careful\n"), 1);
}
END_TEST

START_TEST(json_lines_stay_off_the_journal_and_quiet_keeps_the_history)
{
	ctx->max_level = SVFF_LOG_WARNING; /* --quiet */
	svff_log(ctx, SVFF_LOG_DATA, "{\"step\":\"detach\"}");
	log_info(ctx, "PF '0000:03:00.0': detach done in 0.10 s");
	log_journal(ctx, SVFF_LOG_INFO, HOOK_ASSIGNED, "domain 'db1' starts with VF 1");
	log_debug(ctx, "not wanted");
	ck_assert_uint_eq(test_journal_count(), 2);
	ck_assert_str_eq(test_journal_field(0, "MESSAGE"), "PF '0000:03:00.0': detach done in 0.10 s");
	ck_assert_str_eq(test_journal_field(1, "MESSAGE_ID"), "11323b2250924b0a85a0d6a8fa64e9a6");
	/* the terminal: the JSON line only */
	ck_assert_str_eq(test_messages(), "{\"step\":\"detach\"}\n");
}
END_TEST

static int no_journal(const struct iovec *iov, int n)
{
	return -ENOENT;
}

/* What log_error() printed to stderr. */
static char *stderr_of_error(const char *msg)
{
	_cleanup_free_ char *dir = test_mkdtemp(), *path = NULL;
	int saved = dup(STDERR_FILENO), fd;
	char *text;

	ck_assert_int_ge(asprintf(&path, "%s/stderr", dir), 0);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	log_error(ctx, "%s", msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	text = test_read_file(path);
	test_rm_rf(dir);
	return text;
}

START_TEST(stream_that_is_the_journal_gets_no_copy)
{
	_cleanup_free_ char *plain = NULL, *journaled = NULL, *unsent = NULL;

	ctx->log_fn = NULL;
	plain = stderr_of_error("one");
	ck_assert_str_eq(plain, "test: one\n");
	ctx->stderr_is_journal = true;
	journaled = stderr_of_error("two");
	ck_assert_str_eq(journaled, "");
	/* no journal to take it after all: the stream still gets it */
	ctx->journal_sendv = no_journal;
	unsent = stderr_of_error("three");
	ck_assert_str_eq(unsent, "test: three\n");
	ck_assert_uint_eq(test_journal_count(), 2);
}
END_TEST

START_TEST(journal_stream_is_told_by_device_and_inode)
{
	struct stat st;
	char value[64];
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(fstat(fds[1], &st), 0);
	snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	ck_assert(journal_stream_is(fds[1], value));
	ck_assert(!journal_stream_is(STDIN_FILENO, value)); /* another file */
	ck_assert(!journal_stream_is(fds[1], NULL));
	ck_assert(!journal_stream_is(fds[1], ""));
	snprintf(value, sizeof(value), "%llu:%llu:", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	ck_assert(!journal_stream_is(fds[1], value));
	snprintf(value, sizeof(value), "%llu", (unsigned long long)st.st_ino);
	ck_assert(!journal_stream_is(fds[1], value));
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* The catalog (udev/svff.catalog) has each event once, under its name, with its ID. */
START_TEST(catalog_has_every_event_with_its_id)
{
	_cleanup_free_ char *catalog = test_read_file(SVFF_CATALOG);
	size_t entries = 0;

	for (const char *p = catalog; (p = strstr(p, "\n-- ")); p++)
		entries++;
	ck_assert_uint_eq(entries, _LOG_EVENT_MAX - 1);
	for (enum log_event e = LOG_EVENT_NONE + 1; e < _LOG_EVENT_MAX; e++) {
		char entry[128];

		snprintf(entry, sizeof(entry), "\n# %s\n-- %s\n", log_event_name(e), log_event_id(e));
		ck_assert_msg(strstr(catalog, entry), "the catalog lacks %s", entry + 1);
	}
	ck_assert_ptr_null(log_event_id(LOG_EVENT_NONE));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("journal");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, detach_carries_its_pf_vf_domain_and_event);
	tcase_add_test(tc, scope_ends_with_its_block);
	tcase_add_test(tc, domain_threads_keep_the_operations_pf_and_step);
	tcase_add_test(tc, errors_carry_errno_and_priority);
	tcase_add_test(tc, json_lines_stay_off_the_journal_and_quiet_keeps_the_history);
	tcase_add_test(tc, stream_that_is_the_journal_gets_no_copy);
	tcase_add_test(tc, journal_stream_is_told_by_device_and_inode);
	tcase_add_test(tc, catalog_has_every_event_with_its_id);
	suite_add_tcase(s, tc);
	return test_run(s);
}
