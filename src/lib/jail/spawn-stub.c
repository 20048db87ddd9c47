// SPDX-License-Identifier: MIT
/*
 * jail/spawn-stub: STUB, built only while spawn.c (the core work: run, spawn,
 * wait, kill) is absent (see meson.build), so that `nslab run` links and its
 * option checking can be tested. Starting a sandbox fails with ENOSYS.
 */
#include <errno.h>
#include <stddef.h>

#include "jail/jail.h"

int nslab_sandbox_spawn(const nslab_sandbox_config *c, char *const argv[], nslab_sandbox **ret,
			nslab_error *err)
{
	(void)c;
	(void)argv;
	*ret = NULL;
	return nslab_err_setx(err, ENOSYS, "sandbox: starting a command is not implemented yet");
}

int nslab_sandbox_run(const nslab_sandbox_config *c, char *const argv[],
		      struct nslab_sandbox_result *res, nslab_error *err)
{
	nslab_sandbox *s;

	*res = (struct nslab_sandbox_result){ .exit_code = 125 };
	return nslab_sandbox_spawn(c, argv, &s, err);
}

pid_t nslab_sandbox_pid(const nslab_sandbox *s)
{
	(void)s;
	return -1;
}

int nslab_sandbox_pidfd(const nslab_sandbox *s)
{
	(void)s;
	return -1;
}

int nslab_sandbox_wait(nslab_sandbox *s, struct nslab_sandbox_result *res, nslab_error *err)
{
	(void)s;
	*res = (struct nslab_sandbox_result){ .exit_code = 125 };
	return nslab_err_setx(err, ENOSYS, "sandbox: not implemented yet");
}

int nslab_sandbox_kill(nslab_sandbox *s, int sig, nslab_error *err)
{
	(void)s;
	(void)sig;
	return nslab_err_setx(err, ENOSYS, "sandbox: not implemented yet");
}

nslab_sandbox *nslab_sandbox_free(nslab_sandbox *s)
{
	(void)s;
	return NULL;
}
