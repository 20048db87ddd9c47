// SPDX-License-Identifier: MIT
/*
 * jail/labnode: a sandbox in a lab node's network (`nslab run --in LAB NODE`).
 *
 * The lab's supervisor hands a client the node's namespaces over its control
 * socket, as for `nslab exec` (EXEC, docs/control-socket.md). Of those the
 * sandbox keeps the node's network namespace and, for a rootless lab, the
 * lab's user namespace that owns it; it builds its own mount and PID
 * namespaces as always. The connection stays open while the configuration
 * lives, so that the lab's event log shows the run (cmd_spawned, then
 * cmd_exited "client gone" when the configuration is freed).
 */
#include "jail/jail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/ctlmsg.h"
#include "lab/spec.h"
#include "shared/macro.h"

#define LAB_ENV_MAX (64u << 10) /* the NSLAB_IP* variables of one lab */

/* The lab's NSLAB_IP* variables (a memfd of NUL-terminated "K=V"), added to c's changes. */
static int lab_env(nslab_sandbox_config *c, int memfd, nslab_error *err)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	int r;

	if (fstat(memfd, &st) < 0)
		return nslab_err_set(err, errno, "the lab's environment");
	if (!S_ISREG(st.st_mode) || st.st_size > LAB_ENV_MAX)
		return nslab_err_setx(err, EPROTO, "the supervisor sent a malformed environment");
	buf = calloc(1, (size_t)st.st_size + 1);
	if (!buf)
		return nslab_err_set(err, ENOMEM, "the lab's environment");
	if (pread(memfd, buf, (size_t)st.st_size, 0) != st.st_size)
		return nslab_err_set(err, EIO, "read the lab's environment");
	for (size_t i = 0; i < (size_t)st.st_size; i += strlen(buf + i) + 1) {
		char *eq = strchr(buf + i, '=');

		/* only the lab's addresses: nothing else (no LD_PRELOAD) from a supervisor */
		if (strncmp(buf + i, "NSLAB_IP", 8) != 0 || !eq)
			continue;
		*eq = '\0';
		r = nslab_sandbox_config_set_env(c, buf + i, eq + 1, err);
		*eq = '=';
		if (r < 0)
			return r;
	}
	return 0;
}

/* The EXEC reply's fds: env, mount, network, PID, and the user namespace of a rootless lab. */
static int take_node(nslab_sandbox_config *c, const char *lab, const char *node, int *fds, size_t n,
		     nslab_error *err)
{
	int r;

	if (n != 4 && n != 5)
		return nslab_err_setx(err, EPROTO, "lab '%s' sent %zu fds, expected 4 or 5", lab,
				      n);
	r = lab_env(c, fds[0], err);
	if (r < 0)
		return r;
	r = nslab_sandbox_config_set_netns(c, n == 5 ? fds[4] : -1, fds[2], err);
	if (r < 0)
		return nslab_err_prefix(err, r, "lab '%s' node '%s'", lab, node);
	/* the node's name, as `nslab exec` gives it, unless a host name was given; a DNS label */
	return c->hostname ? 0 : nslab_sandbox_config_set_hostname(c, node, err);
}

int nslab_sandbox_config_set_lab_node(nslab_sandbox_config *c, const char *lab, const char *node,
				      nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *conn = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct nlmsghdr *req;
	int fds[CTL_MAX_FDS];
	size_t n = 0;
	int r;

	if (!lab || !node || !*node || strlen(node) > NODE_NAME_MAX)
		return nslab_err_setx(err, EINVAL, "'%.64s': not a node name", node ? node : "");
	r = ctl_open(lab, &conn, err);
	if (r < 0)
		return r;
	req = ctl_msg_start(buf, CTL_OP_EXEC, false, 0, 0);
	(void)ctl_put_str(req, CTL_A_NODE, node);
	(void)ctl_put_str(req, CTL_A_CMDLINE, "nslab run --in (a sandbox in the node's network)");
	r = ctl_call(conn, req, fds, 5, &n, err);
	if (r < 0)
		return r;
	r = take_node(c, lab, node, fds, n, err);
	for (size_t i = 0; i < n; i++)
		(void)close(fds[i]);
	if (r < 0)
		return r;
	(void)close_fd(c->lab_conn_fd);
	c->lab_conn_fd = TAKE_FD(conn->fd);
	return 0;
}
