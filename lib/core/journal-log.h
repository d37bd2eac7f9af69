/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff.h"

/*
 * A log function for svff's helpers that libvirtd and udev run (userdata: the program's
 * name): they keep a helper's stderr only when it fails, so each message goes to the
 * journal (syslog) too. Call openlog() first.
 */
void log_to_journal(void *userdata, enum svff_log_level level, const char *msg);
