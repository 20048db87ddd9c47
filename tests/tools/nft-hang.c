/* SPDX-License-Identifier: MIT */
/*
 * nft-hang: an LD_PRELOAD shim for the end-to-end tests, never installed.
 * libnftables' dry runs (nft -c: the check nslab runs in a forked child
 * before loading a ruleset) never return, so that the check's timeout can
 * be tested on the real binary; every other run goes to libnftables.
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

	if (!nft_ctx_get_dry_run(ctx))
		return real(ctx, filename);
	write_pid();
	for (;;)
		pause(); /* a hang: only a signal ends it */
}
