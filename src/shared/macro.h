/* SPDX-License-Identifier: MIT */
/* Cleanup attributes and small helpers shared by library, command and tests (never installed). */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/select.h>
#include <unistd.h>

#define _cleanup_(f)	__attribute__((cleanup(f)))
#define _cleanup_free_	_cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _printf_(a, b)	__attribute__((format(printf, a, b)))
#define _nodiscard_	__attribute__((warn_unused_result))
#define _unused_	__attribute__((unused))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define DEFINE_CLEANUP_FUNC(type, func)      \
	static inline void func##p(type **p) \
	{                                    \
		if (*p)                      \
			func(*p);            \
	}

#define TAKE_PTR(p)                        \
	({                                 \
		__typeof__(p) _ptr_ = (p); \
		(p) = NULL;                \
		_ptr_;                     \
	})
#define TAKE_FD(fd)              \
	({                       \
		int _fd_ = (fd); \
		(fd) = -1;       \
		_fd_;            \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* Never retry close() on EINTR: the fd is gone either way on Linux. */
static inline void closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

static inline int close_fd(int fd)
{
	if (fd >= 0)
		(void)close(fd);
	return -1;
}

/*
 * Move a long-lived fd to FD_SETSIZE or above, if the fd limit allows, and
 * return its number (the same one if not). A lab holds a few fds per node for
 * its whole life; libraries that still select() (libnftables 1.0.6 does on its
 * netlink socket, and aborts past FD_SETSIZE) need numbers below it.
 */
static inline int fd_move_high(int fd)
{
	int high;

	if (fd < 0 || fd >= FD_SETSIZE)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE);
	if (high < 0)
		return fd;
	(void)close(fd);
	return high;
}

/* The value of one hexadecimal digit, or -1 if ch is none (systemd's unhexchar()). */
static inline int unhexchar(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}
