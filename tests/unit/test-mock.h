/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <check.h>
#include <umockdev.h>

extern const char fake_sysfs[];

/* The fake sysfs, seen by libudev and by open() under umockdev-wrapper. */
UMockdevTestbed *test_fake_sysfs_new(void);
