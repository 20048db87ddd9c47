/* SPDX-License-Identifier: MIT */
/*
 * jail/lean-absent: what the lean nslab (src/cli/run-lean.c) is built without, in the
 * library's own names: a filtered run (nslab/egress.h: libmnl, libnftables,
 * ldns) and a lab node's network (--in: the lab's control socket, libmnl).
 * run-lean.c hands those command lines to nslab-full before anything starts,
 * so none of these is reached; should a path reach one anyway, it fails as
 * the feature would where it is not built, and says where to find it.
 */
#include <errno.h>

#include "nslab/egress.h"
#include "nslab/sandbox.h"
#include "jail/egress.h"

#define ABSENT(what) what ": not in the lean nslab binary (nslab-full has it)"

int nslab_egress_start(const nslab_egress *e, nslab_egress_session **ret, nslab_error *err)
{
	(void)e;
	*ret = NULL;
	return nslab_err_setx(err, ENOTSUP, ABSENT("filtered egress"));
}

int nslab_egress_session_netns_fd(const nslab_egress_session *s)
{
	(void)s;
	return -1;
}

/* Nothing to free: no policy or session is ever made here. */
nslab_egress *nslab_egress_free(nslab_egress *e)
{
	(void)e;
	return NULL;
}

nslab_egress_session *nslab_egress_session_free(nslab_egress_session *s)
{
	(void)s;
	return NULL;
}

int egress_resolv_file(char *path, size_t len, nslab_error *err)
{
	(void)path;
	(void)len;
	return nslab_err_setx(err, ENOTSUP, ABSENT("filtered egress"));
}

int nslab_sandbox_config_set_lab_node(nslab_sandbox_config *c, const char *lab, const char *node,
				      nslab_error *err)
{
	(void)c;
	(void)lab;
	(void)node;
	return nslab_err_setx(err, ENOTSUP, ABSENT("a lab node's network (--in)"));
}
