/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _public_ __attribute__((visibility("default")))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_PTR(p)                                                                      \
	({                                                                               \
		__typeof__(p) _ptr_ = (p);                                               \
		(p) = NULL;                                                              \
		_ptr_;                                                                   \
	})
#define TAKE_FD(fd)                                                                      \
	({                                                                               \
		int _fd_ = (fd);                                                         \
		(fd) = -EBADF;                                                           \
		_fd_;                                                                    \
	})

/* Declare a cleanup helper "name##p" that calls func on a non-NULL pointer. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                          \
	static inline void func##p(type *p)                                              \
	{                                                                                \
		if (*p)                                                                  \
			func(*p);                                                        \
	}

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* errno as a negative value, never 0, for paths where errno may be unset. */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}
