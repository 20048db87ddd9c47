/* SPDX-License-Identifier: MIT */
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
#include "lab/labdns.h"
#include "lab/ra.h"
#include "lab/ctlmsg.h"
#include "lab/ctlserve.h"
#include "lab/lab.h"
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

/*
 * The lab's name is bound already: by a lab of ours, or squatted by another
 * user (abstract names carry no permissions). Say which.
 */
static int name_taken(const char *name, const struct sockaddr_un *sa, socklen_t salen,
		      nslab_error *err)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, salen) < 0 && errno == EAGAIN)
		return nslab_err_setx(err, EADDRINUSE,
				      "lab name '%s' is bound by a socket that accepts no "
				      "connection (another user's?): choose another with --name",
				      name);
	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	    cred.uid != geteuid())
		return nslab_err_setx(err, EADDRINUSE,
				      "lab name '%s' is taken by another user (uid %u, pid %d): "
				      "choose another with --name",
				      name, (unsigned)cred.uid, (int)cred.pid);
	return nslab_err_setx(err, EEXIST, "lab '%s' is already up", name);
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
			return name_taken(lab->spec->name, &sa, salen, err);
		return nslab_err_set(err, e, "bind control socket of lab '%s'", lab->spec->name);
	}
	if (listen(fd, 64) < 0) {
		(void)close(fd);
		return nslab_err_set(err, errno, "listen on control socket");
	}
	lab->listen_fd = fd;
	return 0;
}

static void conn_close(struct serve_ctx *ctx, struct conn *c)
{
	struct conn **pp = &ctx->conns;

	ctl_conn_gone(ctx, c);
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	loop_remove(ctx->loop, c->src); /* closes the fd */
	(void)close_fd(c->cmd_pidfd);
	free(c);
}

static int on_conn(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct conn *c = data;
	struct serve_ctx *ctx = c->ctx;

	(void)s;
	(void)events;
	if (!ctl_serve_message(ctx, c, fd))
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
		char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
		struct nlmsghdr *nlh = ctl_msg_start(buf, CTL_OP_HELLO, true, 0, EMFILE);

		(void)ctl_put_str(nlh, CTL_A_MESSAGE, "the supervisor is out of file descriptors");
		(void)ctl_send(conn, nlh, NULL, 0);
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
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;

	(void)s;
	(void)events;
	if (conn < 0 && (errno == EMFILE || errno == ENFILE))
		refuse_on_emfile(ctx, fd);
	if (conn < 0)
		return 0;
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
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
	c->state = CONN_NEW;
	c->peer_uid = cred.uid; /* each operation says who may ask it (ctlops.c) */
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

/* Router Solicitations on a router's bridge: its RA again, to each solicitor. */
static int on_rs(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct serve_ctx *ctx = data;
	nslab_lab *lab = ctx->lab;
	nslab_error err = { 0 };

	(void)s;
	(void)events;
	/* looked up by its socket: nodes move when one is added or removed */
	for (size_t i = 1; i < lab->plan->n_nodes; i++)
		if (lab->nodes[i].ra_fd == fd) {
			if (ra_answer(fd, lab->nodes[i].pn, &err) < 0)
				log_debugf(&lab->log, "%s, ignoring", err.msg);
			return 0;
		}
	return 0;
}

void ctl_ra_unwatch(struct serve_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_ra_srcs; i++)
		loop_remove(ctx->loop, ctx->ra_srcs[i]);
	free(ctx->ra_srcs);
	ctx->ra_srcs = NULL;
	ctx->n_ra_srcs = 0;
}

int ctl_ra_watch(struct serve_ctx *ctx, nslab_error *err)
{
	nslab_lab *lab = ctx->lab;
	int r = 0;

	ctl_ra_unwatch(ctx);
	if (!lab->spec->ra)
		return 0;
	ctx->ra_srcs = calloc(lab->plan->n_nodes, sizeof(*ctx->ra_srcs));
	if (!ctx->ra_srcs)
		return nslab_err_set(err, ENOMEM, "watch RA sockets");
	/* not owned: lab_node_close() closes them */
	for (size_t i = 1; r >= 0 && i < lab->plan->n_nodes; i++)
		if (lab->nodes[i].ra_fd >= 0) {
			r = loop_add_fd(ctx->loop, lab->nodes[i].ra_fd, EPOLLIN, on_rs, ctx,
					&ctx->ra_srcs[ctx->n_ra_srcs], err);
			if (r >= 0)
				ctx->n_ra_srcs++;
		}
	return r;
}

/*
 * The RAs of the first seconds (RFC 4861 6.2.4 sends up to three, sooner
 * here: a lab has no reason to wait). The one sent at the end of the build
 * can be lost: a new bridge port or device interface becomes operational
 * only when the kernel's link watch runs, a moment later, and a device's
 * Router Solicitation sent before that is not repeated for 4 s.
 */
static const uint64_t ra_initial_usec[] = { 100000, 500000, 1500000 };

static int on_initial_ra(struct loop_source *s, void *data)
{
	nslab_lab *lab = data;
	nslab_error err = { 0 };

	(void)s;
	for (size_t i = 1; i < lab->plan->n_nodes; i++)
		if (lab->nodes[i].ra_fd >= 0 &&
		    ra_send(lab->nodes[i].ra_fd, lab->nodes[i].pn, &err) < 0)
			log_debugf(&lab->log, "%s, ignoring", err.msg);
	return 0;
}

static int ra_initial(struct serve_ctx *ctx, nslab_error *err)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && ctx->lab->spec->ra && i < ARRAY_SIZE(ra_initial_usec); i++)
		r = loop_add_timer(ctx->loop, ra_initial_usec[i], on_initial_ra, ctx->lab, NULL,
				   err);
	return r;
}

/* Datagrams to and from the lab's DNS (lab/labdns.h). */
static int on_dns(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct serve_ctx *ctx = data;
	nslab_error err = { 0 };

	(void)s;
	(void)events;
	if (labdns_on_readable(ctx->dns, fd, &err) < 0)
		log_debugf(&ctx->lab->log, "%s, ignoring", err.msg);
	return 0;
}

/*
 * The lab's DNS in the loop (ctx->dns owns its sockets; freed after the
 * loop). Not fatal: a lab without it still runs, and its resolv.conf's
 * nameservers then refuse at once (port unreachable), so a lookup fails
 * fast rather than waits.
 */
static int serve_dns(struct serve_ctx *ctx, nslab_error *err)
{
	nslab_error e = { 0 };
	int r = labdns_open(ctx->lab, &ctx->dns, &e);

	if (r < 0) {
		log_debugf(&ctx->lab->log, "no lab DNS: %s", e.msg);
		return 0;
	}
	for (size_t i = 0; r >= 0 && i < 4; i++)
		r = loop_add_fd(ctx->loop, labdns_fds(ctx->dns)[i], EPOLLIN, on_dns, ctx, NULL,
				err);
	return r;
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
	if (r >= 0)
		r = ctl_ra_watch(ctx, err);
	if (r >= 0)
		r = ra_initial(ctx, err);
	return r < 0 ? r : serve_dns(ctx, err);
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
	if (r < 0) {
		free(ctx.ra_srcs);
		labdns_free(ctx.dns);
		return r;
	}
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
	ctx.dns = labdns_free(ctx.dns);
	free(ctx.ra_srcs); /* the sources are the loop's, freed with it */
	/* from now on a client is told at once that the lab is gone, not queued */
	lab->listen_fd = close_fd(lab->listen_fd);
	return r < 0 ? r : 0;
}
