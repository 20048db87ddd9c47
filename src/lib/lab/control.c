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
#include <sys/syscall.h>
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
		if (userns < 0) {
			snprintf(msg, sizeof(msg), "error: open the lab's user namespace: %s",
				 strerrordesc_np(errno));
			return ctl_send(conn, msg, NULL, 0);
		}
		fds[n++] = userns;
	}
	r = ctl_send(conn, "ok", fds, n);
	return r < 0 ? r : 1;
}

/*
 * One client connection: first a request; an `enter` then stays open while the
 * command runs (mode EXEC) and may say "exited STATUS" once.
 */
enum conn_mode { CONN_REQUEST, CONN_EXEC };

struct conn {
	struct serve_ctx *ctx;
	struct loop_source *src; /* owns the fd */
	enum conn_mode mode;
	const struct nslab_node *node; /* EXEC */
	uint64_t id;		       /* EXEC */
	bool exited;		       /* EXEC: its status was reported */
	int cmd_pidfd; /* EXEC: the command, once the client said "spawned"; or -1 */
	struct conn *next;
};

struct serve_ctx {
	nslab_lab *lab;
	struct loop *loop;
	struct conn *conns;
	uint64_t exec_seq;
	int reserve_fd; /* given up for a moment to accept (and refuse) a client on EMFILE */
	bool stopping;	/* down or a signal: connections closing now are the lab's end */
	nslab_error *err;
};

/* cmd_spawned (cmd set), or cmd_exited (status >= 0, or reason set when the client is gone). */
static void emit_exec(nslab_lab *lab, const char *kind, const struct conn *c, const char *cmd,
		      int status, const char *reason)
{
	struct jw *w = evlog_begin(&lab->ev, kind);

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", c->node->pn->name);
	jw_str(w, "via", "exec");
	jw_uint(w, "id", c->id);
	if (cmd)
		jw_str(w, "cmd", cmd);
	if (status >= 0 && WIFEXITED(status))
		jw_int(w, "exit", WEXITSTATUS(status));
	else if (status >= 0)
		jw_int(w, "signal", WTERMSIG(status));
	if (reason)
		jw_str(w, "reason", reason);
	evlog_end(&lab->ev);
}

/*
 * An exec client that hangs up without saying "exited" died (or the lab is
 * going down): its command must not outlive it. It dies with its helper
 * anyway (PR_SET_PDEATHSIG); the pidfd makes sure and lets the log say so.
 */
static void exec_client_gone(struct serve_ctx *ctx, struct conn *c)
{
	if (c->cmd_pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, c->cmd_pidfd, SIGKILL, NULL, 0);
	emit_exec(ctx->lab, "cmd_exited", c, NULL, SIGKILL,
		  ctx->stopping ? "lab down" : "client gone");
}

static void conn_close(struct serve_ctx *ctx, struct conn *c)
{
	struct conn **pp = &ctx->conns;

	if (c->mode == CONN_EXEC && !c->exited)
		exec_client_gone(ctx, c);
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	loop_remove(ctx->loop, c->src); /* closes the fd */
	(void)close_fd(c->cmd_pidfd);
	free(c);
}

/* "enter NODE\tCMDLINE": the node's namespaces; the connection then watches the command. */
static int handle_enter(struct serve_ctx *ctx, struct conn *c, int fd, char *args)
{
	char *tab = strchr(args, '\t');
	int r;

	if (tab)
		*tab = '\0';
	r = reply_enter(ctx->lab, fd, args);
	if (r != 1)
		return 0;
	c->mode = CONN_EXEC;
	c->node = nslab_lab_node(ctx->lab, args);
	c->id = ++ctx->exec_seq;
	emit_exec(ctx->lab, "cmd_spawned", c, tab ? tab + 1 : "", -1, NULL);
	return 1;
}

/* `down`: the answer is the connection closing once the lab is gone (lab->waiters). */
static int handle_down(struct serve_ctx *ctx, int fd)
{
	int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int *nw;

	nw = keep < 0 ? NULL : realloc(ctx->lab->waiters, (ctx->lab->n_waiters + 1) * sizeof(*nw));
	if (!nw) {
		(void)close_fd(keep);
		(void)ctl_send(fd, "error: out of resources", NULL, 0);
		return 0;
	}
	ctx->lab->waiters = nw;
	ctx->lab->waiters[ctx->lab->n_waiters++] = keep;
	(void)ctl_send(fd, "ok", NULL, 0);
	ctx->stopping = true;
	loop_quit(ctx->loop, 0);
	return 0;
}

/* Serve the one request of a connection. Return: 1 to keep it open, 0 to close it. */
static int handle_request(struct serve_ctx *ctx, struct conn *c, int fd)
{
	char req[CTL_REQ_MAX];
	ssize_t n = recv(fd, req, sizeof(req), MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n <= 0)
		return 0;
	if ((size_t)n >= sizeof(req)) {
		(void)ctl_send(fd, "error: request too long", NULL, 0);
		return 0;
	}
	req[n] = '\0';
	if (strcmp(req, "status") == 0 || strcmp(req, "table") == 0)
		(void)reply_status(ctx->lab, fd, req[0] == 't');
	else if (strncmp(req, "enter ", 6) == 0)
		return handle_enter(ctx, c, fd, req + 6);
	else if (strcmp(req, "down") == 0)
		return handle_down(ctx, fd);
	else
		(void)ctl_send(fd, "error: unknown request", NULL, 0);
	return 0;
}

/*
 * Whether pidfd is a live process of the lab's PID namespace: a client may
 * name only a command of this lab, never any process it could open a pidfd of.
 */
static bool pidfd_in_lab(const nslab_lab *lab, int pidfd)
{
	char path[64], line[128];
	struct stat ns, want;
	int pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, &ns) < 0 || fstat(lab->init.nsfd, &want) < 0 || ns.st_ino != want.st_ino ||
	    ns.st_dev != want.st_dev)
		return false;
	/* the pid may have been reused since: a pidfd of a dead process fails here */
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

/* "spawned" with the command's pidfd, then "exited STATUS" once, then the hang-up. */
static int handle_exec_msg(struct serve_ctx *ctx, struct conn *c, int fd)
{
	char buf[64];
	int fds[CTL_MAX_FDS], status;
	size_t n_fds = 0;
	int r = ctl_recv(fd, buf, sizeof(buf), fds, &n_fds);

	if (r == -EAGAIN || r == -EINTR)
		return 1;
	if (r < 0)
		return 0;
	if (strcmp(buf, "spawned") == 0 && n_fds == 1 && c->cmd_pidfd < 0 &&
	    pidfd_in_lab(ctx->lab, fds[0])) {
		c->cmd_pidfd = fds[0];
		n_fds = 0;
	} else if (!c->exited && sscanf(buf, "exited %d", &status) == 1 && status >= 0) {
		c->exited = true;
		emit_exec(ctx->lab, "cmd_exited", c, NULL, status, NULL);
	}
	for (size_t i = 0; i < n_fds; i++)
		(void)close(fds[i]);
	return 1;
}

static int on_conn(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct conn *c = data;
	struct serve_ctx *ctx = c->ctx;
	int keep;

	(void)s;
	(void)events;
	keep = c->mode == CONN_REQUEST ? handle_request(ctx, c, fd) : handle_exec_msg(ctx, c, fd);
	if (!keep)
		conn_close(ctx, c);
	return 0;
}

/*
 * Out of fds: accept() would fail again at once and the listening socket stay
 * readable, a busy loop. Give up the reserve fd for a moment to accept the
 * client and hang up on it (it is told why), as libev and nginx users do.
 */
static void refuse_on_emfile(struct serve_ctx *ctx, int listen_fd)
{
	int conn;

	ctx->reserve_fd = close_fd(ctx->reserve_fd);
	conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn >= 0) {
		(void)ctl_send(conn, "error: the supervisor is out of file descriptors", NULL, 0);
		(void)close(conn);
	}
	ctx->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/*
 * Connections are non-blocking and served from the loop: a client that
 * connects and says nothing holds one fd, never the supervisor.
 */
static int on_accept(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct serve_ctx *ctx = data;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct conn *c;

	(void)s;
	(void)events;
	if (conn < 0 && (errno == EMFILE || errno == ENFILE))
		refuse_on_emfile(ctx, fd);
	if (conn < 0)
		return 0;
	if (!ctl_peer_is(conn, geteuid())) {
		(void)ctl_send(conn, "error: permission denied (not the lab's owner)", NULL, 0);
		(void)close(conn);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c ||
	    loop_add_fd(ctx->loop, conn, EPOLLIN | EPOLLRDHUP, on_conn, c, &c->src, NULL) < 0) {
		free(c);
		(void)close(conn);
		return 0;
	}
	loop_source_own_fd(c->src);
	c->ctx = ctx;
	c->cmd_pidfd = -1;
	c->next = ctx->conns;
	ctx->conns = c;
	return 0;
}

/* pid 1 of the lab's PID namespace died: every process of the lab is gone; stop. */
static int on_init_died(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct serve_ctx *ctx = data;

	(void)fd;
	(void)events;
	loop_remove(ctx->loop, s);
	return nslab_err_setx(ctx->err, ECHILD,
			      "lab '%s': its init process (pid %d) died; stopping the lab",
			      ctx->lab->spec->name, (int)ctx->lab->init.pid);
}

static int on_signal(struct loop_source *s, int signo, void *data)
{
	struct serve_ctx *ctx = data;

	(void)s;
	(void)signo;
	ctx->stopping = true;
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
	if (r >= 0) /* not owned: pidns_init_stop() closes it */
		r = loop_add_fd(ctx->loop, ctx->lab->init.pidfd, EPOLLIN, on_init_died, ctx, NULL,
				err);
	return r;
}

int nslab_lab_serve(nslab_lab *lab, int ready_fd, nslab_error *err)
{
	_cleanup_(loop_freep) struct loop *l = NULL;
	struct serve_ctx ctx = { .lab = lab, .err = err, .reserve_fd = -1 };
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
	ctx.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	r = loop_run(l, err);
	ctx.stopping = true;
	while (ctx.conns)
		conn_close(&ctx, ctx.conns);
	(void)close_fd(ctx.reserve_fd);
	/* from now on a client is told at once that the lab is gone, not queued */
	lab->listen_fd = close_fd(lab->listen_fd);
	return r < 0 ? r : 0;
}
