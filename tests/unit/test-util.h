/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <check.h>

#include "svff-internal.h"

/* A context whose state directory is a fresh mkdtemp() directory. */
struct svff_ctx *test_ctx_new(void);
void test_ctx_free(struct svff_ctx *ctx);
/* All error and warning messages logged since the context was made. */
const char *test_messages(void);
char *test_mkdtemp(void);
/*
 * From now on the context's messages also go to the journal, which is this test sink: each
 * entry kept as its fields, "NAME=value" one a line.
 */
void test_journal_capture(struct svff_ctx *ctx);
size_t test_journal_count(void);
const char *test_journal_entry(size_t i);
/* How many entries have every one of these fields ("NAME=value", one a line). */
size_t test_journal_count_with(const char *fields);
/* The value of NAME in entry i, "" if it has none; valid until the next call. */
const char *test_journal_field(size_t i, const char *name);
void test_write_file(const char *path, const char *text);
char *test_read_file(const char *path);
void test_rm_rf(const char *path);
int test_run(Suite *suite);
/* A fresh directory that stands for /proc (ctx->proc_root): processes are made with test_fake_fd. */
char *test_fake_proc(struct svff_ctx *ctx);
/* Process pid of the fake /proc has file descriptor fd open on target. */
void test_fake_fd(const char *proc, const char *pid, const char *fd, const char *target);
/*
 * The marker of a numvfs write of PF that is still blocked in the kernel, with this test
 * process standing for the writer; alive false: a marker its writer left behind.
 */
void test_numvfs_writer_mark(struct svff_ctx *ctx, const char *pf, bool alive);
