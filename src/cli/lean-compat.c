/* SPDX-License-Identifier: MIT */
/* cli/lean-compat: glibc's calls that musl lacks (lean-compat.h), for the lean nslab. */
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/macro.h"

const char *sigabbrev_np(int sig)
{
	static const char *const names[] = {
		[SIGHUP] = "HUP",     [SIGINT] = "INT",	      [SIGQUIT] = "QUIT",
		[SIGILL] = "ILL",     [SIGTRAP] = "TRAP",     [SIGABRT] = "ABRT",
		[SIGBUS] = "BUS",     [SIGFPE] = "FPE",	      [SIGKILL] = "KILL",
		[SIGUSR1] = "USR1",   [SIGSEGV] = "SEGV",     [SIGUSR2] = "USR2",
		[SIGPIPE] = "PIPE",   [SIGALRM] = "ALRM",     [SIGTERM] = "TERM",
		[SIGSTKFLT] = "STKFLT", [SIGCHLD] = "CHLD",   [SIGCONT] = "CONT",
		[SIGSTOP] = "STOP",   [SIGTSTP] = "TSTP",     [SIGTTIN] = "TTIN",
		[SIGTTOU] = "TTOU",   [SIGURG] = "URG",	      [SIGXCPU] = "XCPU",
		[SIGXFSZ] = "XFSZ",   [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF",
		[SIGWINCH] = "WINCH", [SIGPOLL] = "POLL",     [SIGPWR] = "PWR",
		[SIGSYS] = "SYS",
	};

	return sig > 0 && (size_t)sig < ARRAY_SIZE(names) ? names[sig] : NULL;
}

int fsopen(const char *fs_name, unsigned int flags)
{
	return (int)syscall(SYS_fsopen, fs_name, flags);
}

int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

int fsmount(int fd, unsigned int flags, unsigned int ms_flags)
{
	return (int)syscall(SYS_fsmount, fd, flags, ms_flags);
}

int move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
	       unsigned int flags)
{
	return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

int open_tree(int dfd, const char *path, unsigned int flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

int mount_setattr(int dfd, const char *path, unsigned int flags, struct mount_attr *attr,
		  size_t size)
{
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, size);
}
