/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs under umockdev-wrapper: numvfs writes land in the fake sysfs. */
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <umockdev.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>

#include "child.h"
#include "ops.h"
#include "virt.h"
#include "program.h"
#include "test-util.h"
#include "test-mock.h"

static UMockdevTestbed *testbed;
static struct svff_ctx *ctx;

static void setup(void)
{
	testbed = test_fake_sysfs_new();
	ctx = test_ctx_new();
	ck_assert_int_eq(state_prepare(ctx), 0);
}

static void teardown(void)
{
	test_ctx_free(ctx);
	g_object_unref(testbed);
}

static usec_t soon(void)
{
	return now_usec() + 5000000ULL;
}

static int run(char *const *argv, usec_t deadline)
{
	struct program_request req = { .argv = argv, .pf = "0000:03:00.0", .numvfs = 4,
				       .old_numvfs = 2, .deadline = deadline };

	return program_run(ctx, &req);
}

START_TEST(program_environment_overrides_inherited_values)
{
	char *const check[] = { (char *)"/bin/sh", (char *)"-c",
				(char *)"[ \"$SVFF_PF\" = 0000:03:00.0 ] && [ \"$SVFF_NUMVFS\" = 4 ] "
					"&& [ \"$SVFF_OLD_NUMVFS\" = 2 ] && [ \"$KEPT\" = yes ]",
				NULL };

	setenv("SVFF_PF", "0000:99:00.0", 1);
	setenv("SVFF_NUMVFS", "77", 1);
	setenv("KEPT", "yes", 1);
	ck_assert_int_eq(run(check, soon()), 0);
}
END_TEST

START_TEST(failing_program_is_reported_with_its_status)
{
	char *const argv[] = { (char *)"/bin/false", NULL };

	ck_assert_int_eq(run(argv, soon()), -ECANCELED);
	ck_assert_ptr_nonnull(strstr(test_messages(), "program '/bin/false' failed with exit status 1"));
}
END_TEST

START_TEST(hanging_program_is_killed_at_the_deadline)
{
	char *const argv[] = { (char *)"/bin/sleep", (char *)"30", NULL };

	ck_assert_int_eq(run(argv, now_usec() + 200000), -ECANCELED);
	ck_assert_ptr_nonnull(strstr(test_messages(), "did not finish"));
}
END_TEST

static bool process_gone(pid_t pid)
{
	char path[64];
	_cleanup_free_ char *stat = NULL;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (access(path, F_OK) < 0)
		return true;
	stat = test_read_file(path);
	/* killed, not yet reaped by init */
	return strstr(stat, ") Z ") != NULL;
}

START_TEST(program_group_is_killed_with_its_grandchildren)
{
	_cleanup_free_ char *dir = test_mkdtemp(), *script = NULL, *pid_file = NULL, *text = NULL;
	char *const argv[] = { (char *)"/bin/sh", (char *)"-c", NULL, NULL };
	pid_t grandchild;

	ck_assert_int_ge(asprintf(&pid_file, "%s/pid", dir), 0);
	ck_assert_int_ge(asprintf(&script, "sleep 30 & echo $! > %s; wait", pid_file), 0);
	((char **)argv)[2] = script;
	ck_assert_int_eq(run(argv, now_usec() + 500000), -ECANCELED);
	text = test_read_file(pid_file);
	grandchild = (pid_t)atoi(text);
	ck_assert_int_gt(grandchild, 1);
	for (int i = 0; i < 100 && !process_gone(grandchild); i++)
		usleep(10000);
	ck_assert(process_gone(grandchild));
	test_rm_rf(dir);
}
END_TEST

START_TEST(program_that_cannot_be_executed_is_refused_not_run)
{
	_cleanup_free_ char *dir = test_mkdtemp(), *path = NULL;
	char *argv[] = { NULL, NULL };

	ck_assert_int_ge(asprintf(&path, "%s/not-a-program", dir), 0);
	test_write_file(path, "neither ELF nor a script\n");
	ck_assert_int_eq(chmod(path, 0755), 0);
	argv[0] = path;
	ck_assert_int_eq(run(argv, soon()), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(test_messages(), "cannot start program"));
	ck_assert_int_eq(svff_exit_code(-ENOEXEC), SVFF_EXIT_PROGRAM);
	test_rm_rf(dir);
}
END_TEST

START_TEST(program_output_is_shown_with_its_name)
{
	char *const argv[] = { (char *)"/bin/sh", (char *)"-c",
			       (char *)"echo loading bitstream; echo failed >&2; exit 3", NULL };

	ck_assert_int_eq(run(argv, soon()), -ECANCELED);
	ck_assert_ptr_nonnull(strstr(test_messages(), "program '/bin/sh': loading bitstream"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "program '/bin/sh': failed"));
}
END_TEST

START_TEST(interrupted_program_is_stopped)
{
	char *const argv[] = { (char *)"/bin/sleep", (char *)"30", NULL };
	usec_t start = now_usec();

	svff_interrupt(ctx, SIGTERM);
	ck_assert_int_eq(run(argv, soon()), -EINTR);
	ck_assert_uint_lt(now_usec() - start, 4000000ULL);
	ck_assert_int_eq(svff_interrupt_signal(ctx), SIGTERM);
}
END_TEST

static int count_open_fds(const void *userdata)
{
	int open_fds = 0;

	for (int fd = 3; fd < 1024; fd++)
		open_fds += fcntl(fd, F_GETFD) >= 0;
	return open_fds;
}

START_TEST(children_hold_no_fd_of_svff)
{
	_cleanup_close_ int lock_fd = open("/dev/null", O_RDONLY); /* stands for a lock */
	struct child_spec spec = { .fn = count_open_fds };
	struct child child;

	ck_assert_int_ge(lock_fd, 3);
	ck_assert_int_eq(child_start(&spec, &child), 0);
	ck_assert_int_eq(child_wait(ctx, &child, soon(), false, NULL, NULL), 0);
	child_done(&child);
}
END_TEST

START_TEST(blocked_writer_makes_the_pf_busy_not_blocking)
{
	struct numvfs_writer writer;
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;

	test_numvfs_writer_mark(ctx, "0000:03:00.0", true);
	ck_assert_int_eq(numvfs_writer_find(ctx, "0000:03:00.0", &writer), 1);
	ck_assert_int_eq(writer.pid, getpid());
	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:03:00.0", &pf), -EBUSY);
	ck_assert_ptr_nonnull(strstr(test_messages(), "PF '0000:03:00.0' is busy"));
	ck_assert_int_eq(sysfs_pf_load_layout(ctx, "0000:03:00.0", &pf), 0);
	ck_assert_uint_eq(pf->totalvfs, 4);
	/* a marker left by a writer that is gone blocks nobody */
	test_numvfs_writer_mark(ctx, "0000:03:00.0", false);
	ck_assert_int_eq(numvfs_writer_find(ctx, "0000:03:00.0", &writer), 0);
}
END_TEST

START_TEST(missing_program_is_refused_before_anything_runs)
{
	char path[256];

	ck_assert_int_eq(program_check(ctx, "/no/such/loader", path, sizeof(path)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(test_messages(), "'/no/such/loader' cannot be run"));
	snprintf(path, sizeof(path), "%s/not-executable", ctx->state_dir);
	test_write_file(path, "#!/bin/true\n");
	chmod(path, 0644);
	ck_assert_int_eq(program_check(ctx, path, path, sizeof(path)), -ENOEXEC);
}
END_TEST

/* The reconfiguration against libvirt's test driver: no domain holds a VF there. */
static void use_test_driver(void)
{
	free(ctx->connect_uri);
	ctx->connect_uri = strdup("test:///default");
	ctx->timeout_ms[DEADLINE_READY] = 300; /* no uevent ever comes in the fake sysfs */
}

static char *numvfs_now(const char *pf)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", pf);
	return test_read_file(path);
}

START_TEST(vf_held_outside_libvirt_stops_it_before_anything_changes)
{
	struct svff_reconf_request request = { .pf = "0000:03:00.0", .numvfs = 3 };
	_cleanup_free_ char *proc = test_fake_proc(ctx), *numvfs = NULL;
	struct reconf_journal journal;

	test_fake_fd(proc, "4242", "17", "/dev/vfio/12"); /* VF 03:00.2's group */
	use_test_driver();
	ck_assert_int_eq(svff_reconf(ctx, &request), -ETXTBSY);
	ck_assert_ptr_nonnull(strstr(test_messages(), "held by process 4242"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "numvfs was not touched"));
	numvfs = numvfs_now("0000:03:00.0");
	ck_assert_str_eq(numvfs, "2");
	ck_assert_int_eq(journal_load(ctx, "0000:03:00.0", &journal), -ENOENT);
	test_rm_rf(proc);
}
END_TEST

START_TEST(failed_program_restores_the_numvfs_it_changed)
{
	char *const program[] = { (char *)"/bin/false", NULL };
	struct svff_reconf_request request = { .pf = "0000:03:00.0", .numvfs = 3,
					       .program = program };
	_cleanup_free_ char *numvfs = NULL;
	struct reconf_journal journal;

	use_test_driver();
	ck_assert_int_eq(svff_reconf(ctx, &request), -ECANCELED);
	ck_assert_ptr_nonnull(strstr(test_messages(), "rolling back, numvfs first"));
	/* back to 2 VFs, and not given to anyone before they are ready */
	numvfs = numvfs_now("0000:03:00.0");
	ck_assert_str_eq(numvfs, "2");
	ck_assert_ptr_nonnull(strstr(test_messages(), "was not ready within"));
	ck_assert_int_eq(journal_load(ctx, "0000:03:00.0", &journal), -ENOENT);
}
END_TEST

#define STEP_DONE "MESSAGE_ID=4431efc1af414d678e795e46dc32aee9\n"
#define STEP_FAILED "MESSAGE_ID=af3d882a5db648ccb5e3e8cabf8d2bd4\n"

/* journalctl SVFF_PF=...: each step once, with its outcome; the rollback; the end. */
START_TEST(journal_tells_each_step_of_a_failed_reconfiguration)
{
	char *const program[] = { (char *)"/bin/false", NULL };
	struct svff_reconf_request request = { .pf = "0000:03:00.0", .numvfs = 3,
					       .program = program };

	use_test_driver();
	test_journal_capture(ctx);
	ck_assert_int_eq(svff_reconf(ctx, &request), -ECANCELED);
	ck_assert_uint_eq(test_journal_count_with("SVFF_PF=0000:03:00.0\n" STEP_DONE), 2);
	ck_assert_uint_eq(test_journal_count_with("SVFF_STEP=detach\n" STEP_DONE), 1);
	ck_assert_uint_eq(test_journal_count_with("SVFF_STEP=disable\n" STEP_DONE), 1);
	ck_assert_uint_eq(test_journal_count_with("SVFF_PF=0000:03:00.0\nSVFF_STEP=program\n"
						  "ERRNO=125\n" STEP_FAILED),
			  1);
	/* the program's own failure, under its step */
	ck_assert_uint_eq(test_journal_count_with("SVFF_STEP=program\nPRIORITY=3\n"
						  "MESSAGE=program '/bin/false' failed with exit "
						  "status 1\n"),
			  1);
	ck_assert_uint_eq(test_journal_count_with("SVFF_STEP=enable\n"), 0);
	/* the rollback: numvfs back, the VFs not ready in time for a guest */
	ck_assert_uint_eq(test_journal_count_with("SVFF_STEP=rollback\nSVFF_VF=0000:03:00.2\n"
						  "MESSAGE_ID=0472b91ff11244149a20b644087dd1b8\n"),
			  1);
	ck_assert_uint_eq(test_journal_count_with("SVFF_STEP=rollback\n" STEP_FAILED), 1);
	ck_assert_uint_eq(test_journal_count_with("MESSAGE_ID=a1b30ae708ff478fbcd1347673b719d6\n"
						  "SVFF_PF=0000:03:00.0\nERRNO=125\n"),
			  1);
	ck_assert_str_eq(test_journal_field(test_journal_count() - 1, "SVFF_STEP"), "");
}
END_TEST

/* --json: the terminal gets JSON lines, the journal the words, as without it. */
START_TEST(json_reconfiguration_journals_words_not_json)
{
	struct svff_reconf_request request = { .pf = "0000:03:00.0", .numvfs = 3 };

	use_test_driver();
	test_journal_capture(ctx);
	ctx->json = true;
	svff_interrupt(ctx, SIGINT);
	ck_assert_int_eq(svff_reconf(ctx, &request), -EINTR);
	ck_assert_ptr_nonnull(strstr(test_messages(), "{\"pf\":\"0000:03:00.0\",\"step\":\"detach\""));
	ck_assert_ptr_null(strstr(test_messages(), "detach interrupted"));
	ck_assert_uint_eq(test_journal_count_with("SVFF_STEP=detach\nERRNO=4\n" STEP_FAILED), 1);
	for (size_t i = 0; i < test_journal_count(); i++) {
		ck_assert_msg(test_journal_field(i, "MESSAGE")[0] != '{', "%s",
			      test_journal_entry(i));
		if (strstr(test_journal_entry(i), STEP_FAILED))
			ck_assert_ptr_nonnull(strstr(test_journal_field(i, "MESSAGE"),
						     "PF '0000:03:00.0': detach interrupted in "));
	}
}
END_TEST

/* The fields of the --json line of a step, as a user's script reads them. */
struct step_line {
	double seconds, cpu, children_cpu, wait;
};

static struct step_line json_step(const char *step)
{
	char key[64];
	const char *line;
	struct step_line v;

	snprintf(key, sizeof(key), "\"step\":\"%s\",", step);
	line = strstr(test_messages(), key);
	ck_assert_msg(line, "no JSON line of step '%s' in: %s", step, test_messages());
	ck_assert_int_eq(sscanf(line + strlen(key),
				"\"seconds\":%lf,\"cpu_seconds\":%lf,\"children_cpu_seconds\":%lf,"
				"\"wait_seconds\":%lf,",
				&v.seconds, &v.cpu, &v.children_cpu, &v.wait),
			 4);
	/* svff's work and its waiting make up the step's time */
	ck_assert_double_ge(v.cpu, 0);
	ck_assert_double_ge(v.wait, 0);
	ck_assert_double_le(v.cpu + v.wait, v.seconds + 0.0015);
	ck_assert_double_ge(v.cpu + v.wait, v.seconds - 0.0015);
	return v;
}

/* --json: what svff worked and what it waited, per step; a child's CPU time is its own. */
START_TEST(json_steps_split_svff_work_from_waiting)
{
	/* the program works for about 0.1 s of CPU time; svff waits for it meanwhile */
	char *const program[] = { (char *)"/bin/sh", (char *)"-c",
				  (char *)"i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done", NULL };
	struct svff_reconf_request request = { .pf = "0000:03:00.0", .numvfs = 3,
					       .program = program };
	struct step_line prog, enable;

	use_test_driver();
	ctx->json = true;
	/* no uevent comes in the fake sysfs: the new VFs are never ready */
	ck_assert_int_eq(svff_reconf(ctx, &request), -EINPROGRESS);
	json_step("detach");
	json_step("disable");
	prog = json_step("program");
	ck_assert_double_gt(prog.children_cpu, 0.005);
	ck_assert_double_lt(prog.cpu, prog.children_cpu);
	/* enable waits the whole ready deadline (300 ms) for udev, working little meanwhile */
	enable = json_step("enable");
	ck_assert_double_ge(enable.seconds, 0.29);
	ck_assert_double_gt(enable.wait, enable.cpu);
}
END_TEST

/* The clocks behind those fields: own CPU time, a child's, and time spent asleep. */
START_TEST(cost_tells_own_work_children_and_waiting_apart)
{
	struct timespec nap = { .tv_nsec = 50 * 1000 * 1000 };
	struct cost_mark mark, burn_start;
	struct cost cost;
	pid_t child;

	cost_mark_now(&mark);
	cost_mark_now(&burn_start);
	do
		cost_since(&burn_start, &cost);
	while (cost.cpu_seconds < 0.03);
	nanosleep(&nap, NULL);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		cost_mark_now(&burn_start);
		do
			cost_since(&burn_start, &cost);
		while (cost.cpu_seconds < 0.03);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	cost_since(&mark, &cost);
	ck_assert_double_ge(cost.cpu_seconds, 0.03);
	ck_assert_double_ge(cost.children_cpu_seconds, 0.03);
	/* the nap and the wait for the child: waiting, not svff's work */
	ck_assert_double_ge(cost.wait_seconds, 0.05);
	ck_assert_double_eq_tol(cost.seconds, cost.cpu_seconds + cost.wait_seconds, 1e-6);
}
END_TEST

START_TEST(interrupted_reconfiguration_undoes_what_ran)
{
	struct svff_reconf_request request = { .pf = "0000:03:00.0", .numvfs = 3 };
	_cleanup_free_ char *numvfs = NULL;

	use_test_driver();
	svff_interrupt(ctx, SIGINT);
	ck_assert_int_eq(svff_reconf(ctx, &request), -EINTR);
	ck_assert_ptr_nonnull(strstr(test_messages(), "detach interrupted"));
	ck_assert_ptr_nonnull(strstr(test_messages(), "numvfs was not touched"));
	numvfs = numvfs_now("0000:03:00.0");
	ck_assert_str_eq(numvfs, "2");
}
END_TEST

START_TEST(unknown_domain_is_no_domain_not_a_libvirt_failure)
{
	struct virt *virt = NULL;
	virDomainPtr dom = NULL;

	use_test_driver();
	ck_assert_int_eq(virt_open(ctx, &virt), 0);
	ck_assert_int_eq(virt_lookup_domain(ctx, virt, "no-such-vm", &dom), -ESRCH);
	ck_assert_int_eq(virt_lookup_domain(ctx, virt, "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e999", &dom),
			 -ESRCH);
	ck_assert_int_eq(virt_lookup_domain(ctx, virt, "test", &dom), 0);
	virDomainFree(dom);
	/* the test driver's domain by its UUID */
	ck_assert_int_eq(virt_lookup_domain(ctx, virt, "6695eb01-f6a4-8304-79aa-97f2502e193f", &dom),
			 0);
	virDomainFree(dom);
	virt_close(virt);
}
END_TEST

START_TEST(pf_without_driver_is_refused_before_anything_changes)
{
	struct svff_reconf_request request = { .pf = "0000:04:00.0", .numvfs = 2 };
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;

	ck_assert_int_eq(svff_reconf(ctx, &request), -EUNATCH);
	ck_assert_ptr_nonnull(strstr(test_messages(), "PF '0000:04:00.0' has no driver bound"));
	ck_assert_int_eq(svff_exit_code(-EUNATCH), SVFF_EXIT_NUMVFS);
	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:04:00.0", &pf), 0);
	ck_assert_uint_eq(pf->numvfs, 0);
}
END_TEST

START_TEST(numvfs_is_written_by_a_child)
{
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;

	ck_assert_int_eq(numvfs_write(ctx, "0000:04:00.0", 3, soon(), NULL), 0);
	ck_assert_int_eq(numvfs_writer_find(ctx, "0000:04:00.0", NULL), 0);
	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:04:00.0", &pf), 0);
	ck_assert_uint_eq(pf->numvfs, 3);
}
END_TEST

START_TEST(autoprobe_is_set_as_configured_before_vfs_appear)
{
	_cleanup_free_ char *conf = NULL, *value = NULL;

	ck_assert_int_ge(asprintf(&conf, "%s/svff.conf", ctx->state_dir), 0);
	test_write_file(conf, "[0000:04:00.0]\ndriver=vfio-pci\n");
	free(ctx->conf_file);
	ctx->conf_file = strdup(conf);
	ck_assert_int_eq(numvfs_write(ctx, "0000:04:00.0", 2, soon(), NULL), 0);
	value = test_read_file("/sys/bus/pci/devices/0000:04:00.0/sriov_drivers_autoprobe");
	ck_assert_int_eq(value[0], '0');
	free(value);
	test_write_file(conf, "[0000:04:00.0]\ndriver=qdma-vf\n");
	ck_assert_int_eq(numvfs_write(ctx, "0000:04:00.0", 2, soon(), NULL), 0);
	value = test_read_file("/sys/bus/pci/devices/0000:04:00.0/sriov_drivers_autoprobe");
	ck_assert_int_eq(value[0], '1');
}
END_TEST

START_TEST(journal_round_trip_and_recovery)
{
	struct reconf_journal journal = { .pf = "0000:04:00.0", .from_numvfs = 2, .to_numvfs = 6,
					  .step = "program" }, loaded;
	_cleanup_(pf_info_freep) struct pf_info *pf = NULL;

	ck_assert_int_eq(journal_save(ctx, &journal), 0);
	ck_assert_int_eq(journal_load(ctx, "0000:04:00.0", &loaded), 0);
	ck_assert_uint_eq(loaded.from_numvfs, 2);
	ck_assert_uint_eq(loaded.to_numvfs, 6);
	ck_assert_str_eq(loaded.step, "program");
	/*
	 * numvfs is 0 in the fake sysfs: interrupted with the VFs gone, it goes back to 2.
	 * No uevent ever comes in the fake sysfs, so the VFs are never ready: reported.
	 */
	ctx->timeout_ms[DEADLINE_READY] = 300;
	ck_assert_int_eq(journal_recover(ctx, "0000:04:00.0"), -EINPROGRESS);
	ck_assert_ptr_nonnull(strstr(test_messages(), "was not ready within"));
	ck_assert_int_eq(sysfs_pf_load(ctx, "0000:04:00.0", &pf), 0);
	ck_assert_uint_eq(pf->numvfs, 2);
	ck_assert_int_eq(journal_load(ctx, "0000:04:00.0", &loaded), -ENOENT);
}
END_TEST

START_TEST(corrupt_journal_is_left_alone)
{
	char path[4096];
	struct reconf_journal loaded;

	snprintf(path, sizeof(path), "%s/reconf", ctx->state_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/reconf/0000:04:00.0.xml", ctx->state_dir);
	test_write_file(path, "<svff-reconf version='1'><from>x</from>");
	ck_assert_int_eq(journal_load(ctx, "0000:04:00.0", &loaded), -EBADMSG);
	ck_assert_int_eq(journal_recover(ctx, "0000:04:00.0"), -EBADMSG);
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

static size_t count_of(const char *haystack, const char *needle)
{
	size_t n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

START_TEST(reconf_says_once_that_svff_conf_keeps_another_numvfs)
{
	struct svff_reconf_request request = { .pf = "0000:03:00.0", .numvfs = 3 };
	_cleanup_free_ char *conf = NULL;

	ck_assert_int_ge(asprintf(&conf, "%s/svff.conf", ctx->state_dir), 0);
	test_write_file(conf, "[0000:03:00.0]\nnumvfs=2\n");
	free(ctx->conf_file);
	ctx->conf_file = strdup(conf);
	use_test_driver();
	ctx->dry_run = true;
	ck_assert_int_eq(svff_reconf(ctx, &request), 0);
	ck_assert_uint_eq(count_of(test_messages(), "says numvfs=2, which svff-apply sets again "
						    "at the next boot; to keep 3 VFs across "
						    "reboots, set numvfs=3 there"), 1);
	request.numvfs = 2;
	ck_assert_int_eq(svff_reconf(ctx, &request), 0);
	ck_assert_uint_eq(count_of(test_messages(), "svff-apply sets again"), 1);
}
END_TEST

START_TEST(records_of_an_undefined_domain_are_removed_with_a_warning)
{
	static const char device[] =
		"<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
		"domain='0x0000' bus='0x03' slot='0x00' function='0x3'/></source></hostdev>";
	struct record record = { .pf = "0000:03:00.0", .vf_index = 1, .vf_bdf = "0000:03:00.3",
				 .domain_uuid = "2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e999",
				 .domain_name = "gone", .phase = PHASE_DETACHED };
	struct svff_selector all = { 0 };
	struct record *loaded;

	ck_assert_int_eq(xml_device_parse(device, &record.device), 0);
	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	use_test_driver();
	ctx->dry_run = true;
	ck_assert_int_eq(svff_reattach(ctx, &all), -ESTALE);
	ck_assert_ptr_nonnull(strstr(test_messages(), "would remove its 1 record(s)"));
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &loaded), 0);
	record_free(loaded);
	ctx->dry_run = false;
	ck_assert_int_eq(svff_reattach(ctx, &all), -ESTALE);
	ck_assert_ptr_nonnull(strstr(test_messages(), "domain 'gone' (2b9a4c9e-8b1e-4bde-a7b4-"
						      "3c37f1d7e999) is no longer defined in "
						      "libvirt; its 1 record(s) are removed"));
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &loaded), -ENOENT);
	free(record.device.xml);
}
END_TEST

static void save_assignment(const char *uuid, const char *name, unsigned index, const char *vf)
{
	struct record record = { .pf = "0000:03:00.0", .vf_index = index,
				 .phase = PHASE_ASSIGNED };
	char device[256];

	snprintf(device, sizeof(device),
		 "<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
		 "domain='0x0000' bus='0x03' slot='0x00' function='0x%c'/></source></hostdev>",
		 vf[strlen(vf) - 1]);
	ck_assert_int_eq(xml_device_parse(device, &record.device), 0);
	snprintf(record.vf_bdf, sizeof(record.vf_bdf), "%s", vf);
	snprintf(record.domain_uuid, sizeof(record.domain_uuid), "%s", uuid);
	snprintf(record.domain_name, sizeof(record.domain_name), "%s", name);
	ck_assert_int_eq(record_save(ctx, STORE_ASSIGNED, &record), 0);
	free(record.device.xml);
}

/*
 * A VF the user took from a running domain (virsh detach-device runs no hook) is not
 * recorded as lost to it when the reconfiguration removes it, so it is never given back.
 */
START_TEST(vf_unplugged_by_the_user_is_not_given_back_after_a_reconfiguration)
{
	struct svff_reconf_request request = { .pf = "0000:03:00.0", .numvfs = 0 };
	_cleanup_free_ char *conf = NULL;
	char pf[SVFF_BDF_SIZE] = "";
	struct record *loaded;

	ck_assert_int_ge(asprintf(&conf, "%s/svff.conf", ctx->state_dir), 0);
	test_write_file(conf, "[0000:03:00.0]\n");
	free(ctx->conf_file);
	ctx->conf_file = strdup(conf);
	/* test:///default's running domain "test" has no host device now */
	save_assignment("6695eb01-f6a4-8304-79aa-97f2502e193f", "test", 1, "0000:03:00.3");
	/* a domain that is not running (yet): its start is not contradicted by anything */
	save_assignment("2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e999", "starting", 0, "0000:03:00.2");
	use_test_driver();
	ctx->dry_run = true;
	ck_assert_int_eq(svff_reconf(ctx, &request), 0);
	ck_assert_int_eq(record_load(ctx, STORE_ASSIGNED, "0000:03:00.0", 1, &loaded), 0);
	record_free(loaded);
	ctx->dry_run = false;
	ck_assert_int_eq(svff_reconf(ctx, &request), 0);
	/* the kernel removes the VFs: udev's helper sees them go */
	ck_assert_int_eq(svff_udev_event(ctx, "remove", "0000:03:00.3", pf), 0);
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 1, &loaded), -ENOENT);
	ck_assert_int_eq(record_load(ctx, STORE_ASSIGNED, "0000:03:00.0", 1, &loaded), -ENOENT);
	ck_assert_ptr_nonnull(strstr(test_messages(), "domain 'test' no longer has VF 1 "
						      "(0000:03:00.3) of PF '0000:03:00.0' "
						      "(removed outside svff): it is not given "
						      "back to it"));
	ck_assert_int_eq(record_load(ctx, STORE_ASSIGNED, "0000:03:00.0", 0, &loaded), 0);
	record_free(loaded);
}
END_TEST

/* A VF index that names another kind of device now than when it was recorded. */
START_TEST(vf_of_another_kind_is_not_given_back)
{
	static const char device[] =
		"<interface type='hostdev' managed='yes'><mac address='52:54:00:a0:00:42'/>"
		"<source><address type='pci' domain='0x0000' bus='0x03' slot='0x00' "
		"function='0x2'/></source><vlan><tag id='42'/></vlan></interface>";
	/* test:///default's running domain */
	struct record record = { .pf = "0000:03:00.0", .vf_index = 0, .vf_bdf = "0000:03:00.2",
				 .vf_class = 0x020000,
				 .domain_uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f",
				 .domain_name = "test", .phase = PHASE_DETACHED };
	struct svff_selector all = { 0 };
	_cleanup_(record_freep) struct record *loaded = NULL;

	ck_assert_int_eq(xml_device_parse(device, &record.device), 0);
	ck_assert_int_eq(record_save(ctx, STORE_RECORDS, &record), 0);
	use_test_driver();
	ctx->dry_run = true;
	umockdev_testbed_set_attribute(testbed, "/sys/devices/pci0000:00/0000:00:02.0/0000:03:00.2",
				       "class", "0x020000");
	ck_assert_int_eq(svff_reattach(ctx, &all), 0);
	ck_assert_ptr_nonnull(strstr(test_messages(), "would attach VF 0000:03:00.2"));
	umockdev_testbed_set_attribute(testbed, "/sys/devices/pci0000:00/0000:00:02.0/0000:03:00.2",
				       "class", "0x010802");
	ctx->dry_run = false;
	ck_assert_int_eq(svff_reattach(ctx, &all), -ENXIO);
	ck_assert_ptr_nonnull(strstr(test_messages(), "VF 0 of PF '0000:03:00.0' (for domain "
						      "'test') is another kind of device now "
						      "(PCI class 0x010802, 0x020000 when "
						      "recorded)"));
	ck_assert_int_eq(record_load(ctx, STORE_RECORDS, "0000:03:00.0", 0, &loaded), 0);
	ck_assert_int_eq(loaded->phase, PHASE_DETACHED);
	free(record.device.xml);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reconf");
	TCase *tc = tcase_create("steps");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, program_environment_overrides_inherited_values);
	tcase_add_test(tc, vf_of_another_kind_is_not_given_back);
	tcase_add_test(tc, program_group_is_killed_with_its_grandchildren);
	tcase_add_test(tc, program_output_is_shown_with_its_name);
	tcase_add_test(tc, program_that_cannot_be_executed_is_refused_not_run);
	tcase_add_test(tc, interrupted_program_is_stopped);
	tcase_add_test(tc, children_hold_no_fd_of_svff);
	tcase_add_test(tc, blocked_writer_makes_the_pf_busy_not_blocking);
	tcase_add_test(tc, failing_program_is_reported_with_its_status);
	tcase_add_test(tc, hanging_program_is_killed_at_the_deadline);
	tcase_add_test(tc, missing_program_is_refused_before_anything_runs);
	tcase_add_test(tc, pf_without_driver_is_refused_before_anything_changes);
	tcase_add_test(tc, vf_held_outside_libvirt_stops_it_before_anything_changes);
	tcase_add_test(tc, unknown_domain_is_no_domain_not_a_libvirt_failure);
	tcase_add_test(tc, failed_program_restores_the_numvfs_it_changed);
	tcase_add_test(tc, interrupted_reconfiguration_undoes_what_ran);
	tcase_add_test(tc, journal_tells_each_step_of_a_failed_reconfiguration);
	tcase_add_test(tc, json_reconfiguration_journals_words_not_json);
	tcase_add_test(tc, json_steps_split_svff_work_from_waiting);
	tcase_add_test(tc, cost_tells_own_work_children_and_waiting_apart);
	tcase_add_test(tc, numvfs_is_written_by_a_child);
	tcase_add_test(tc, autoprobe_is_set_as_configured_before_vfs_appear);
	tcase_add_test(tc, journal_round_trip_and_recovery);
	tcase_add_test(tc, corrupt_journal_is_left_alone);
	tcase_add_test(tc, reconf_says_once_that_svff_conf_keeps_another_numvfs);
	tcase_add_test(tc, records_of_an_undefined_domain_are_removed_with_a_warning);
	tcase_add_test(tc, vf_unplugged_by_the_user_is_not_given_back_after_a_reconfiguration);
	suite_add_tcase(s, tc);
	return test_run(s);
}
