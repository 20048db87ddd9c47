/* SPDX-License-Identifier: MIT */
/*
 * nft-hang: an LD_PRELOAD shim for the end-to-end tests, never installed.
 * libnftables' runs in a forked child (the child nslab vets an untrusted
 * ruleset in, by checking or loading it) never return, so that the child's
 * timeout can be tested on the real binary; the process's own runs go to
 * libnftables.
 * NFT_HANG_PIDFILE, if set, names a file that gets the hanging process's pid.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <nftables/libnftables.h>

typedef int (*run_fn)(struct nft_ctx *ctx, const char *filename);

static pid_t main_pid;

__attribute__((constructor)) static void remember_main(void)
{
	main_pid = getpid();
}

static void write_pid(void)
{
	const char *path = getenv("NFT_HANG_PIDFILE");
	char buf[32];
	int fd, n;

	if (!path || (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n)
		(void)unlink(path);
	(void)close(fd);
}

int nft_run_cmd_from_filename(struct nft_ctx *ctx, const char *filename)
{
	run_fn real = (run_fn)dlsym(RTLD_NEXT, "nft_run_cmd_from_filename");

	if (getpid() == main_pid)
		return real(ctx, filename);
	write_pid();
	for (;;)
		pause(); /* a hang: only a signal ends it */
}
