/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "svff.h"

/*
 * A log function for svff's helpers that libvirtd and udev run (userdata: the program's
 * name): every message to stderr, none to stdout (udev reads the udev helper's stdout),
 * and stderr even when it is the journal (libvirt shows the hook's stderr to the user
 * whose domain did not start). Set config.journal too: the journal gets each message with
 * its fields.
 */
void log_to_stderr(void *userdata, enum svff_log_level level, const char *msg);
