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
void test_write_file(const char *path, const char *text);
char *test_read_file(const char *path);
void test_rm_rf(const char *path);
int test_run(Suite *suite);
/* A fresh directory that stands for /proc (ctx->proc_root): processes are made with test_fake_fd. */
char *test_fake_proc(struct svff_ctx *ctx);
/* Process pid of the fake /proc has file descriptor fd open on target. */
void test_fake_fd(const char *proc, const char *pid, const char *fd, const char *target);
