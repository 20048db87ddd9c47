// SPDX-License-Identifier: MIT
/* jail/inject: STUB, replaced by the dynamic-update work (see jail.h). */
#include <errno.h>

#include "jail/jail.h"

int jail_inject_seccomp(pid_t pid, const struct sock_fprog *prog, nslab_error *err)
{
	(void)prog;
	return nslab_err_setx(err, ENOSYS, "pid %d: seccomp injection not implemented yet",
			      (int)pid);
}

int jail_inject_drop_cap(pid_t pid, int cap, nslab_error *err)
{
	(void)cap;
	return nslab_err_setx(err, ENOSYS, "pid %d: capability drop not implemented yet", (int)pid);
}
