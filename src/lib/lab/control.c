/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lab/control: the supervisor's control socket and its clients.
 *
 * DOC: protocol
 * SOCK_SEQPACKET on the abstract name "@nslab/<uid>/<lab>": a SIGKILL of the
 * supervisor leaves no file behind, and only the lab's own user is served
 * (SO_PEERCRED; inside a rootless lab's user namespace that user is uid 0 and
 * anyone else shows up as the overflow uid). One request per message, one
 * reply per request: "ok" or "error: <message>"; large answers and namespace
 * fds travel as SCM_RIGHTS.
 *   status        -> ok + memfd(JSON)
 *   table         -> ok + memfd(the human table)
 *   enter NODE\tCMD ->  ok + [memfd(environment), mntns, netns, pidns (, userns if rootless)]
 *   down          -> ok; the connection closes once the lab is gone
 * An `enter` connection stays open while the command runs; the client says
 * "exited STATUS" at the end (events cmd_spawned / cmd_exited). When the
 * supervisor goes, the client sees the hang-up and its command is gone with
 * the lab's PID namespace.
 */
#include "nslab/control.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/loop.h"
#include "lab/lab.h"
#include "lab/ctlmsg.h"
#include "ns/userns.h"

unsigned lab_outer_uid(void)
{
	char buf[128];
	_cleanup_close_ int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	unsigned inner, outer, count;
	ssize_t n;

	if (fd >= 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "%u %u %u", &inner, &outer, &count) == 3 && inner == geteuid())
			return outer;
	}
	return geteuid();
}

int nslab_lab_listen(nslab_lab *lab, nslab_error *err)
{
	struct sockaddr_un sa;
	socklen_t salen;
	int fd;

	ctl_addr(lab->spec->name, &sa, &salen);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return nslab_err_set(err, errno, "control socket");
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0) {
		int e = errno;

		(void)close(fd);
		if (e == EADDRINUSE)
			return nslab_err_setx(err, EEXIST, "lab '%s' is already up",
					      lab->spec->name);
		return nslab_err_set(err, e, "bind control socket of lab '%s'", lab->spec->name);
	}
	if (listen(fd, 64) < 0) {
		(void)close(fd);
		return nslab_err_set(err, errno, "listen on control socket");
	}
	lab->listen_fd = fd;
	return 0;
}

static int memfd_with(const char *name, const void *data, size_t len, nslab_error *err)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return nslab_err_set(err, errno, "memfd_create");
	if (write(fd, data, len) != (ssize_t)len) {
		(void)close(fd);
		return nslab_err_set(err, errno ? errno : EIO, "write memfd");
	}
	return fd;
}

static int reply_status(nslab_lab *lab, int conn, bool table)
{
	_cleanup_free_ char *tab = NULL;
	struct jw w;
	const char *text = NULL;
	int fd, r;

	jw_init(&w);
	if (table) {
		if (lab_table_text(lab, &tab, NULL) >= 0)
			text = tab;
	} else {
		lab_state_json(lab, &w);
		text = jw_get(&w);
	}
	fd = text ? memfd_with("nslab-status", text, strlen(text), NULL) : -ENOMEM;
	jw_free(&w);
	if (fd < 0)
		return ctl_send(conn, "error: out of memory", NULL, 0);
	r = ctl_send(conn, "ok", &fd, 1);
	(void)close(fd);
	return r;
}

/* The lab's own variables (NSLAB_IP*), NUL-separated: the client adds its environment. */
static int env_memfd(const nslab_lab *lab)
{
	size_t len = 0, off = 0;
	_cleanup_free_ char *buf = NULL;

	for (char **e = lab->env; e && *e; e++)
		if (strncmp(*e, "NSLAB_IP", 8) == 0)
			len += strlen(*e) + 1;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	for (char **e = lab->env; e && *e; e++) {
		size_t n = strlen(*e) + 1;

		if (strncmp(*e, "NSLAB_IP", 8) != 0)
			continue;
		memcpy(buf + off, *e, n);
		off += n;
	}
	return memfd_with("nslab-env", buf, len, NULL);
}

/* Return: 1 if the connection must stay open (an `enter`), 0 to close it, < 0 on error. */
static int reply_enter(nslab_lab *lab, int conn, const char *node_name)
{
	nslab_node *node = nslab_lab_node(lab, node_name);
	_cleanup_close_ int userns = -1, envfd = -1;
	int fds[5], n = 0, r;
	char msg[160];

	if (!node) {
		snprintf(msg, sizeof(msg), "error: lab '%s' has no node '%s'", lab->spec->name,
			 node_name);
		return ctl_send(conn, msg, NULL, 0);
	}
	envfd = env_memfd(lab);
	if (envfd < 0)
		return ctl_send(conn, "error: cannot pass the environment", NULL, 0);
	fds[n++] = envfd;
	fds[n++] = lab->mntns_fd;
	fds[n++] = node->ns->fd;
	fds[n++] = lab->init.nsfd;
	if (lab->rootless) {
		userns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
		if (userns >= 0)
			fds[n++] = userns;
	}
	r = ctl_send(conn, "ok", fds, n);
	return r < 0 ? r : 1;
}

/* A running `nslab exec`: its connection stays open until the command ends. */
struct exec_watch {
	struct serve_ctx *ctx;
	const struct nslab_node *node;
	uint64_t id;
	struct exec_watch *next;
};

struct serve_ctx {
	nslab_lab *lab;
	struct loop *loop;
	struct exec_watch *execs;
	uint64_t exec_seq;
};

static void emit_exec(nslab_lab *lab, const char *kind, const struct exec_watch *x, const char *cmd,
		      int status)
{
	struct jw *w = evlog_begin(&lab->ev, kind);

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", x->node->pn->name);
	jw_str(w, "via", "exec");
	jw_uint(w, "id", x->id);
	if (cmd)
		jw_str(w, "cmd", cmd);
	if (status >= 0 && WIFEXITED(status))
		jw_int(w, "exit", WEXITSTATUS(status));
	else if (status >= 0)
		jw_int(w, "signal", WTERMSIG(status));
	evlog_end(&lab->ev);
}

static void exec_watch_free(struct serve_ctx *ctx, struct exec_watch *x)
{
	struct exec_watch **pp = &ctx->execs;

	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp)
		*pp = x->next;
	free(x);
}

/* "exited STATUS" from the client, or its hang-up (status unknown). */
static int on_exec_conn(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct exec_watch *x = data;
	struct serve_ctx *ctx = x->ctx;
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	int status;

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "exited %d", &status) == 1)
			emit_exec(ctx->lab, "cmd_exited", x, NULL, status);
		return 0;
	}
	loop_remove(ctx->loop, s); /* the loop owns and closes fd */
	exec_watch_free(ctx, x);
	return 0;
}

static int watch_exec(struct serve_ctx *ctx, int conn, const char *node_name, const char *cmd)
{
	struct exec_watch *x = calloc(1, sizeof(*x));
	struct loop_source *src;

	if (!x)
		return -ENOMEM;
	x->ctx = ctx;
	x->node = nslab_lab_node(ctx->lab, node_name);
	x->id = ++ctx->exec_seq;
	if (loop_add_fd(ctx->loop, conn, EPOLLIN | EPOLLRDHUP, on_exec_conn, x, &src, NULL) < 0) {
		free(x);
		return -ENOMEM;
	}
	loop_source_own_fd(src);
	x->next = ctx->execs;
	ctx->execs = x;
	emit_exec(ctx->lab, "cmd_spawned", x, cmd, -1);
	return 0;
}

static int keep_waiter(nslab_lab *lab, int conn)
{
	int *nw = realloc(lab->waiters, (lab->n_waiters + 1) * sizeof(*nw));

	if (!nw)
		return -ENOMEM;
	lab->waiters = nw;
	lab->waiters[lab->n_waiters++] = conn;
	return 0;
}

/* "enter NODE\tCMDLINE": the node's namespaces, and the connection watched. */
static int handle_enter(struct serve_ctx *ctx, int conn, char *args)
{
	char *tab = strchr(args, '\t');
	int r;

	if (tab)
		*tab = '\0';
	r = reply_enter(ctx->lab, conn, args);
	if (r != 1)
		return r;
	return watch_exec(ctx, conn, args, tab ? tab + 1 : "") < 0 ? 0 : 2;
}

/* Serve one request on conn. Return: 2 if conn is kept (by the loop or the lab), 0 close. */
static int handle_request(struct serve_ctx *ctx, int conn)
{
	char req[CTL_REQ_MAX];
	ssize_t n = recv(conn, req, sizeof(req) - 1, 0);

	if (n <= 0)
		return 0;
	req[n] = '\0';
	if (strcmp(req, "status") == 0 || strcmp(req, "table") == 0)
		return reply_status(ctx->lab, conn, req[0] == 't') < 0 ? -1 : 0;
	if (strncmp(req, "enter ", 6) == 0)
		return handle_enter(ctx, conn, req + 6);
	if (strcmp(req, "down") == 0) {
		if (ctl_send(conn, "ok", NULL, 0) < 0 || keep_waiter(ctx->lab, conn) < 0)
			return 0;
		ctx->lab->stop_requested = true;
		loop_quit(ctx->loop, 0);
		return 2;
	}
	(void)ctl_send(conn, "error: unknown request", NULL, 0);
	return 0;
}

static bool peer_is_owner(int conn)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == geteuid();
}

static int on_accept(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct serve_ctx *ctx = data;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC), r;
	struct timeval tv = { .tv_sec = 2 };

	(void)s;
	(void)events;
	if (conn < 0)
		return 0;
	/* a client that connects and says nothing must not stall the supervisor */
	(void)setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!peer_is_owner(conn)) {
		(void)ctl_send(conn, "error: permission denied (not the lab's owner)", NULL, 0);
		(void)close(conn);
		return 0;
	}
	r = handle_request(ctx, conn);
	if (r != 2)
		(void)close(conn);
	return 0;
}

static int on_signal(struct loop_source *s, int signo, void *data)
{
	struct serve_ctx *ctx = data;

	(void)s;
	(void)signo;
	ctx->lab->stop_requested = true;
	loop_quit(ctx->loop, 0);
	return 0;
}

static int serve_setup(struct serve_ctx *ctx, nslab_error *err)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(sigs); i++)
		r = loop_add_signal(ctx->loop, sigs[i], on_signal, ctx, NULL, err);
	if (r >= 0)
		r = loop_add_fd(ctx->loop, ctx->lab->listen_fd, EPOLLIN, on_accept, ctx, NULL, err);
	return r;
}

int nslab_lab_serve(nslab_lab *lab, int ready_fd, nslab_error *err)
{
	_cleanup_(loop_freep) struct loop *l = NULL;
	struct serve_ctx ctx = { .lab = lab };
	int r;

	if (!lab->built || lab->listen_fd < 0)
		return nslab_err_setx(err, EINVAL,
				      "serve: build the lab and claim its socket first");
	r = loop_new(&l, err);
	if (r < 0)
		return r;
	ctx.loop = l;
	r = serve_setup(&ctx, err);
	if (r < 0)
		return r;
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "ready\n", 6);
		(void)close(ready_fd);
	}
	r = loop_run(l, err);
	while (ctx.execs)
		exec_watch_free(&ctx, ctx.execs);
	return r < 0 ? r : 0;
}
