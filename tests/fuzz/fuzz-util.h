/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "svff-internal.h"

/* libFuzzer's entry points. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A context whose state and runtime directories are in a fresh temporary directory,
 * removed at exit, with svff.conf in it holding conf_text (none if NULL). Every
 * message is formatted and dropped.
 */
struct svff_ctx *fuzz_ctx_new(const char *conf_text);
void fuzz_write_file(const char *path, const void *data, size_t size);

/* A broken promise of svff: abort, so that libFuzzer keeps the input. */
void fuzz_require(bool ok, const char *promise);

/* What is saved loads back the same, and the device to attach is the one recorded. */
void fuzz_check_record(const struct record *record);
