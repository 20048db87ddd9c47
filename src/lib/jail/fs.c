// SPDX-License-Identifier: MIT
/* jail/fs: STUB, replaced by the filesystem work (see jail.h). */
#include <errno.h>
#include <stddef.h>

#include "jail/jail.h"

int jail_fs_prepare(const struct nslab_sandbox_config *c, struct jail_fs_plan **ret,
		    nslab_error *err)
{
	(void)c;
	(void)err;
	*ret = NULL;
	return 0;
}

void jail_fs_plan_free(struct jail_fs_plan *p)
{
	(void)p;
}

int jail_fs_enter(const struct jail_fs_plan *p, nslab_error *err)
{
	(void)p;
	(void)err;
	return 0;
}
