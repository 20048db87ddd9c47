/* SPDX-License-Identifier: MIT */
/*
 * cli/start: what every nslab binary does before it reads its command line
 * (nslab.c's main, and run-lean.c's in the lean binary).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <unistd.h>

/*
 * A closed stdin, stdout or stderr would be taken by the first descriptor
 * nslab opens (a socket, the pipe `up -d` waits on) and then used or closed as
 * stdio: `nslab up -d <&-`, as a Python caller whose stdin is gone runs it,
 * lost its lab without a word. Each closed one is reopened on /dev/null.
 */
static void stdio_ensure_open(void)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		n = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
		if (n >= 0 && n != fd) {
			(void)dup2(n, fd);
			(void)close(n);
		}
	}
}

int cli_start(void)
{
	/* setuid, setgid or file capabilities: the caller's environment, $SHELL, paths and
	 * namespaces would all be trusted with privileges it does not have. */
	if (getauxval(AT_SECURE)) {
		fputs("nslab: refusing to run setuid, setgid or with file capabilities: nslab is "
		      "not designed for that; run it as root, or rootless as yourself\n",
		      stderr);
		return 1;
	}
	stdio_ensure_open();
	/* "nslab" to ps, pgrep and top whichever binary runs (the lean one execs nslab-full) */
	(void)prctl(PR_SET_NAME, "nslab", 0, 0, 0);
	return 0;
}
