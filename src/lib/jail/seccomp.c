// SPDX-License-Identifier: MIT
/* jail/seccomp: STUB, replaced by the seccomp work (see jail.h). */
#include <errno.h>
#include <stddef.h>

#include "jail/jail.h"

int jail_seccomp_load_file(const char *path, struct jail_seccomp_profile **ret, nslab_error *err)
{
	*ret = NULL;
	return nslab_err_setx(err, ENOSYS, "seccomp profile '%s': not implemented yet", path);
}

void jail_seccomp_profile_free(struct jail_seccomp_profile *p)
{
	(void)p;
}

int jail_seccomp_compile(const struct nslab_sandbox_config *c, struct sock_fprog *ret,
			 nslab_error *err)
{
	(void)c;
	(void)err;
	*ret = (struct sock_fprog){ 0 };
	return 0;
}

int jail_seccomp_install(const struct sock_fprog *prog, nslab_error *err)
{
	(void)prog;
	(void)err;
	return 0;
}

int jail_seccomp_compile_deny(const char *const names[], size_t n, enum nslab_sandbox_violation v,
			      struct sock_fprog *ret, nslab_error *err)
{
	(void)names;
	(void)n;
	(void)v;
	*ret = (struct sock_fprog){ 0 };
	return nslab_err_setx(err, ENOSYS, "seccomp: not implemented yet");
}
