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
 * The dispositions of the signals in mask (signal N at bit N-1) back to
 * SIG_DFL; the blocked mask is left as it is. Through the system call:
 * glibc's signal() refuses its own signals 32 and 33, and a caller may have
 * them ignored (GNU make runs its recipes so), which exec would pass on to
 * the program.
 */
static inline void signals_reset_mask(uint64_t mask)
{
	struct kernel_sigaction_ dfl = { .handler = SIG_DFL };

	for (int s = 1; s < NSIG && s <= 64; s++)
		if (((mask >> (s - 1)) & 1) && s != SIGKILL && s != SIGSTOP)
			(void)syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof(dfl.mask));
}

/* Every disposition SIG_DFL, nothing blocked. */
static inline void signals_reset_all(void)
{
	sigset_t none;

	signals_reset_mask(~(uint64_t)0);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}
