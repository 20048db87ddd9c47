/* SPDX-License-Identifier: MIT */
/*
 * shared/signals: a child's signals made as a fresh program expects them
 * before it execs: every disposition SIG_DFL, nothing blocked.
 */
#pragma once

#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's struct sigaction (x86_64's layout; the mask is 64 bits). */
struct kernel_sigaction_ {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/*
 * Through the system call: glibc's signal() refuses its own signals 32 and
 * 33, and a caller may have them ignored (GNU make runs its recipes so),
 * which exec would pass on to the program.
 */
static inline void signals_reset_all(void)
{
	struct kernel_sigaction_ dfl = { .handler = SIG_DFL };
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof(dfl.mask));
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}
