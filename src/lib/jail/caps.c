// SPDX-License-Identifier: MIT
/* jail/caps: STUB, replaced by the capabilities work (see jail.h). */
#include <errno.h>
#include <sys/prctl.h>

#include "jail/jail.h"

int jail_cap_from_name(const char *name)
{
	(void)name;
	return -EINVAL;
}

int jail_caps_enter(uint64_t keep, bool ambient, nslab_error *err)
{
	(void)keep;
	(void)ambient;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return nslab_err_set(err, errno, "no_new_privs");
	return 0;
}
