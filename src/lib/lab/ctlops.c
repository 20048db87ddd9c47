/* SPDX-License-Identifier: MIT */
/*
 * lab/ctlops: the control protocol's operations, one handler each, and the
 * table that says in which connection state each may come and who may ask it
 * (bubblewrap's privileged_op() menu: nothing outside it is ever done).
 */
#include "lab/ctlserve.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/ctlmsg.h"
#include "lab/links.h"
#include "lab/regions.h"
#include "nslab/link.h"

/* Who may ask an operation. */
enum ctl_auth {
	CTL_AUTH_OWNER, /* the user who started the lab (its namespaces are theirs) */
};

struct ctl_op_desc {
	unsigned states; /* enum conn_state bits in which it may come */
	enum ctl_auth auth;
	size_t max_fds;	   /* fds it may carry */
	bool notification; /* no reply */
	int (*handle)(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m,
		      int *fds, size_t n_fds);
};

/* Replies: build, send, never block (the socket is non-blocking). */
static int send_reply(int fd, const struct nlmsghdr *nlh, const int *fds, size_t n)
{
	return ctl_send(fd, nlh, fds, n);
}

_printf_(4, 5) static int reply_error(int fd, const struct ctl_msg *m, int code, const char *fmt,
				      ...)
{
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	char text[NSLAB_ERROR_MSG_MAX];
	struct nlmsghdr *nlh = ctl_msg_start(buf, m->op, true, m->seq, code);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	(void)ctl_put_str(nlh, CTL_A_MESSAGE, text);
	return send_reply(fd, nlh, NULL, 0);
}

static int reply_ok(int fd, const struct ctl_msg *m, const int *fds, size_t n)
{
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));

	return send_reply(fd, ctl_msg_start(buf, m->op, true, m->seq, 0), fds, n);
}

static int memfd_with(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len) {
		int e = errno ? errno : EIO;

		(void)close(fd);
		return -e;
	}
	return fd;
}

/* HELLO: the version spoken, and who the lab is (for `nslab ls`). */
static int op_hello(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m,
		    int *fds, size_t n_fds)
{
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	const nslab_lab *lab = ctx->lab;
	struct nlmsghdr *nlh = ctl_msg_start(buf, m->op, true, m->seq, 0);

	(void)fds;
	(void)n_fds;
	/* the client says the highest version it speaks; the answer is the one both speak */
	if (ctl_get_u32(m, CTL_A_VERSION, 0) < 1) {
		(void)reply_error(fd, m, EPROTONOSUPPORT,
				  "this supervisor speaks control protocol version %u",
				  CTL_VERSION);
		return 0;
	}
	(void)ctl_put_u32(nlh, CTL_A_VERSION, CTL_VERSION);
	(void)ctl_put_str(nlh, CTL_A_LAB, lab->spec->name);
	(void)ctl_put_u32(nlh, CTL_A_PID, (uint32_t)getpid());
	(void)ctl_put_u32(nlh, CTL_A_ROOTLESS, lab->rootless);
	(void)ctl_put_u32(nlh, CTL_A_NODES, (uint32_t)(lab->plan->n_nodes - 1));
	(void)ctl_put_u64(nlh, CTL_A_BUILT_AT, (uint64_t)(lab->built_at * 1000));
	if (lab->outdir_path)
		(void)ctl_put_str(nlh, CTL_A_OUTDIR, lab->outdir_path);
	c->state = CONN_READY;
	return send_reply(fd, nlh, NULL, 0) < 0 ? 0 : 1;
}

/* STATUS and TABLE: the answer in a memfd (a big lab's is megabytes). */
static int op_status(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m,
		     int *fds, size_t n_fds)
{
	_cleanup_free_ char *tab = NULL;
	const char *text = NULL;
	int mfd, r = 0;
	struct jw w;

	(void)c;
	(void)fds;
	(void)n_fds;
	jw_init(&w);
	if (m->op == CTL_OP_TABLE) {
		if (lab_table_text(ctx->lab, &tab, NULL) >= 0)
			text = tab;
	} else {
		lab_state_json(ctx->lab, &w);
		text = jw_get(&w);
	}
	mfd = text ? memfd_with("nslab-status", text, strlen(text)) : -ENOMEM;
	jw_free(&w);
	if (mfd < 0)
		r = reply_error(fd, m, -mfd, "status: %s", strerrordesc_np(-mfd));
	else
		r = reply_ok(fd, m, &mfd, 1);
	(void)close_fd(mfd);
	return r < 0 ? 0 : 1;
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
	return memfd_with("nslab-env", buf, len);
}

/*
 * cmd_spawned (cmd set; reason "detached" for a command that outlives its
 * client), or cmd_exited (status >= 0, or reason set when the client is gone).
 */
static void emit_exec(nslab_lab *lab, const char *kind, const struct conn *c, const char *cmd,
		      int status, const char *reason)
{
	struct jw *w = evlog_begin(&lab->ev, kind);

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", c->node);
	jw_str(w, "via", "exec");
	jw_uint(w, "id", c->id);
	if (cmd)
		jw_str(w, "cmd", cmd);
	if (status >= 0 && WIFEXITED(status))
		jw_int(w, "exit", WEXITSTATUS(status));
	else if (status >= 0)
		jw_int(w, "signal", WTERMSIG(status));
	if (reason && strcmp(reason, "detached") == 0)
		jw_bool(w, "detached", true);
	else if (reason)
		jw_str(w, "reason", reason);
	evlog_end(&lab->ev);
}

/* "ix" is the lab root (the IX bridge's namespace), which no node may be named. */
static nslab_node *find_node(nslab_lab *lab, const char *name)
{
	if (strcmp(name, "ix") == 0)
		return &lab->nodes[0];
	return nslab_lab_node(lab, name);
}

/*
 * EXEC: the node's namespaces for the client's helper to enter (mount,
 * network, PID, and the user namespace of a rootless lab); the connection
 * then follows the command.
 */
static int op_exec(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m,
		   int *fds_in, size_t n_in)
{
	nslab_lab *lab = ctx->lab;
	const char *name = ctl_get_str(m, CTL_A_NODE);
	const char *cmdline = ctl_get_str(m, CTL_A_CMDLINE);
	nslab_node *node = name ? find_node(lab, name) : NULL;
	nslab_error err = { 0 };
	_cleanup_close_ int userns = -1, envfd = -1, out = -1, errfd = -1;
	bool detached = ctl_get_u32(m, CTL_A_DETACHED, 0);
	char prefix[32], stem[64];
	int fds[7], n = 0, mntns;

	(void)fds_in;
	(void)n_in;
	if (!node) {
		(void)reply_error(fd, m, ENODEV, "lab '%s' has no node '%s'", lab->spec->name,
				  name ? name : "");
		return 0;
	}
	envfd = env_memfd(lab);
	if (lab->rootless)
		userns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	if (envfd < 0 || (lab->rootless && userns < 0)) {
		(void)reply_error(fd, m, envfd < 0 ? -envfd : errno,
				  "exec: pass the lab's environment and namespaces: %s",
				  strerrordesc_np(envfd < 0 ? -envfd : errno));
		return 0;
	}
	mntns = lab_node_mntns(lab, node, &err);
	if (mntns < 0) {
		(void)reply_error(fd, m, -mntns, "exec: %s", err.msg);
		return 0;
	}
	snprintf(c->node, sizeof(c->node), "%s", node->idx ? node->pn->name : "ix");
	c->id = ++ctx->exec_seq;
	/* a detached command's output goes to the output directory (or nowhere), never the client */
	snprintf(prefix, sizeof(prefix), "exec-%" PRIu64, c->id);
	snprintf(stem, sizeof(stem), "%.*s", (int)strcspn(cmdline ? cmdline : "", " "),
		 cmdline ? cmdline : "");
	if (detached && (lab_open_log(lab, name, prefix, stem, "stdout", &out, &err) < 0 ||
			 lab_open_log(lab, name, prefix, stem, "stderr", &errfd, &err) < 0)) {
		(void)reply_error(fd, m, err.code, "exec: %s", err.msg);
		return 0;
	}
	fds[n++] = envfd;
	fds[n++] = mntns;
	fds[n++] = node->ns->fd;
	fds[n++] = lab->init.nsfd;
	if (detached) {
		fds[n++] = out;
		fds[n++] = errfd;
	}
	if (lab->rootless)
		fds[n++] = userns;
	if (reply_ok(fd, m, fds, (size_t)n) < 0)
		return 0;
	if (ctl_get_u32(m, CTL_A_DETACHED, 0)) {
		/* it outlives its client: nothing to follow, nothing to end */
		emit_exec(lab, "cmd_spawned", c, cmdline ? cmdline : "", -1, "detached");
		return 1;
	}
	c->state = CONN_EXEC;
	emit_exec(lab, "cmd_spawned", c, cmdline ? cmdline : "", -1, NULL);
	return 1;
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

/* EXEC_SPAWNED: the command's pidfd, to end it should the client die without EXEC_EXITED. */
static int op_exec_spawned(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m,
			   int *fds, size_t n_fds)
{
	(void)fd;
	(void)m;
	if (n_fds == 1 && c->cmd_pidfd < 0 && pidfd_in_lab(ctx->lab, fds[0]))
		c->cmd_pidfd = TAKE_FD(fds[0]);
	return 1;
}

/* EXEC_EXITED: how the command ended, for the event log (once). */
static int op_exec_exited(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m,
			  int *fds, size_t n_fds)
{
	(void)fd;
	(void)fds;
	(void)n_fds;
	if (!c->exited && m->tb[CTL_A_STATUS]) {
		c->exited = true;
		emit_exec(ctx->lab, "cmd_exited", c, NULL, (int)ctl_get_u32(m, CTL_A_STATUS, 0),
			  NULL);
	}
	return 1;
}

/* DOWN: the answer is the connection closing once the lab is gone (lab->waiters). */
static int op_down(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m, int *fds,
		   size_t n_fds)
{
	int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int *nw;

	(void)c;
	(void)fds;
	(void)n_fds;
	nw = keep < 0 ? NULL : realloc(ctx->lab->waiters, (ctx->lab->n_waiters + 1) * sizeof(*nw));
	if (!nw) {
		(void)close_fd(keep);
		(void)reply_error(fd, m, ENOMEM, "down: out of resources");
		return 0;
	}
	ctx->lab->waiters = nw;
	ctx->lab->waiters[ctx->lab->n_waiters++] = keep;
	(void)reply_ok(fd, m, NULL, 0);
	ctx->stopping = true;
	loop_quit(ctx->loop, 0);
	return 0;
}

/* Words of a LINK set, one a line, into argv (pointing into copy). Return: how many, or -1. */
static int split_words(char *copy, const char **argv, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(copy, "\n", &save); t;
	     t = strtok_r(NULL, "\n", &save)) {
		if (n == max)
			return -1;
		argv[n++] = t;
	}
	return (int)n;
}

/* The change a LINK request asks for, on an interface's link. */
static int link_change(nslab_lab *lab, uint32_t cmd, const char *node, const char *iface,
		       const char *const *argv, size_t argc, nslab_error *err)
{
	if (cmd == CTL_LINK_SET)
		return nslab_lab_set_condition_words(lab, node, iface, argv, argc, err);
	if (cmd == CTL_LINK_CLEAR)
		return nslab_lab_set_condition(lab, node, iface, NSLAB_LINK_BOTH, NULL, err);
	if (cmd == CTL_LINK_DOWN || cmd == CTL_LINK_UP)
		return nslab_lab_set_link_up(lab, node, iface, cmd == CTL_LINK_UP, err);
	return 0;
}

/* The change a REGION request asks for, on the link of regions a and b (DOWN: break). */
static int region_change(nslab_lab *lab, uint32_t cmd, const char *a, const char *b,
			 const char *const *argv, size_t argc, nslab_error *err)
{
	if (cmd == CTL_LINK_SET)
		return lab_region_set_words(lab, a, b, argv, argc, err);
	if (cmd == CTL_LINK_CLEAR)
		return nslab_lab_set_region_condition(lab, a, b, NSLAB_LINK_BOTH, NULL, err);
	if (cmd == CTL_LINK_DOWN || cmd == CTL_LINK_UP)
		return nslab_lab_region_link_set(lab, a, b, cmd == CTL_LINK_UP, err);
	return 0;
}

/*
 * LINK (a node's interface) and REGION (two regions): set, clear or show a
 * link's condition, or unplug/break and plug/restore it; the answer is its
 * state after.
 */
static int op_link(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m, int *fds,
		   size_t n_fds)
{
	const char *node = ctl_get_str(m, CTL_A_NODE), *iface = ctl_get_str(m, CTL_A_IFACE);
	const char *words = ctl_get_str(m, CTL_A_WORDS), *argv[64];
	uint32_t cmd = ctl_get_u32(m, CTL_A_LINK_CMD, CTL_LINK_SHOW);
	_cleanup_free_ char *copy = strdup(words ? words : ""), *text = NULL, *json = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	nslab_error err = { 0 };
	struct nlmsghdr *nlh;
	int n, r = 0;

	(void)c;
	(void)fds;
	(void)n_fds;
	if (!copy)
		return reply_error(fd, m, ENOMEM, "link: out of memory"), 1;
	n = split_words(copy, argv, ARRAY_SIZE(argv));
	if (n < 0)
		return reply_error(fd, m, E2BIG, "link: too many words"), 1;
	if (m->op == CTL_OP_REGION) {
		r = region_change(ctx->lab, cmd, node, iface, argv, (size_t)n, &err);
		if (r >= 0)
			r = lab_region_describe(ctx->lab, node, iface, &text, &json, &err);
	} else {
		r = link_change(ctx->lab, cmd, node, iface, argv, (size_t)n, &err);
		if (r >= 0)
			r = lab_link_describe(ctx->lab, node, iface, &text, &json, &err);
	}
	if (r < 0)
		return reply_error(fd, m, err.code, "%s", err.msg), 1;
	nlh = ctl_msg_start(buf, m->op, true, m->seq, 0);
	if (!ctl_put_str(nlh, CTL_A_TEXT, text) || !ctl_put_str(nlh, CTL_A_JSON, json))
		return reply_error(fd, m, EMSGSIZE, "link: answer too long"), 1;
	(void)send_reply(fd, nlh, NULL, 0);
	return 1;
}

/* CONNTRACK: a node's table, in a memfd (thousands of entries outgrow a message). */
static int op_conntrack(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m,
			int *fds, size_t n_fds)
{
	_cleanup_free_ char *json = NULL;
	nslab_error err = { 0 };
	int mfd, r;

	(void)c;
	(void)fds;
	(void)n_fds;
	if (lab_conntrack_json(ctx->lab, ctl_get_str(m, CTL_A_NODE), &json, &err) < 0)
		return reply_error(fd, m, err.code, "%s", err.msg) < 0 ? 0 : 1;
	mfd = memfd_with("nslab-conntrack", json, strlen(json));
	if (mfd < 0)
		r = reply_error(fd, m, -mfd, "conntrack: %s", strerrordesc_np(-mfd));
	else
		r = reply_ok(fd, m, &mfd, 1);
	(void)close_fd(mfd);
	return r < 0 ? 0 : 1;
}

/* NAT_SET, NAT_FLUSH, FW_SET: the router's NAT changed or flushed, its firewall changed. */
static int op_nat(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m, int *fds,
		  size_t n_fds)
{
	const char *node = ctl_get_str(m, CTL_A_NODE), *mode = ctl_get_str(m, CTL_A_MODE);
	nslab_error err = { 0 };
	int r;

	(void)c;
	(void)fds;
	(void)n_fds;
	if (!node || (m->op != CTL_OP_NAT_FLUSH && !mode))
		return reply_error(fd, m, EINVAL, "%s: which router%s?", ctl_op_name(m->op),
				   m->op != CTL_OP_NAT_FLUSH ? ", which mode" : ""),
		       1;
	if (m->op == CTL_OP_NAT_SET)
		r = nslab_lab_set_nat(ctx->lab, node, mode, &err);
	else if (m->op == CTL_OP_FW_SET)
		r = nslab_lab_set_firewall(ctx->lab, node, mode, &err);
	else if (m->op == CTL_OP_NAT6_SET)
		r = nslab_lab_set_nat6(ctx->lab, node, mode, &err);
	else
		r = nslab_lab_flush_nat(ctx->lab, node, &err);
	if (r < 0)
		r = reply_error(fd, m, err.code, "%s", err.msg);
	else
		r = reply_ok(fd, m, NULL, 0);
	return r < 0 ? 0 : 1;
}

/* DEFAULT_VIA, REPLUG, RENEW_IP, ADD_IFACE, REMOVE_IFACE: a device's default interface
 * changed, an interface replugged, readdressed, added or removed. */
static int op_default_via(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m,
			  int *fds, size_t n_fds)
{
	const char *node = ctl_get_str(m, CTL_A_NODE), *iface = ctl_get_str(m, CTL_A_IFACE);
	const char *router = ctl_get_str(m, CTL_A_ROUTER);
	nslab_error err = { 0 };
	int r;

	(void)c;
	(void)fds;
	(void)n_fds;
	bool need_router = m->op == CTL_OP_REPLUG || m->op == CTL_OP_ADD_IFACE;

	if (!node || !iface || (need_router && !router))
		return reply_error(fd, m, EINVAL, "%s: which device, which interface%s?",
				   ctl_op_name(m->op), need_router ? ", which router" : ""),
		       1;
	if (m->op == CTL_OP_REPLUG)
		r = nslab_lab_replug(ctx->lab, node, iface, router, &err);
	else if (m->op == CTL_OP_ADD_IFACE)
		r = nslab_lab_add_iface(ctx->lab, node, iface, router, &err);
	else if (m->op == CTL_OP_REMOVE_IFACE)
		r = nslab_lab_remove_iface(ctx->lab, node, iface, &err);
	else if (m->op == CTL_OP_RENEW_IP)
		r = nslab_lab_renew_ip(ctx->lab, node, iface, &err);
	else
		r = nslab_lab_set_default_via(ctx->lab, node, iface, &err);
	if (r < 0)
		r = reply_error(fd, m, err.code, "%s", err.msg);
	else
		r = reply_ok(fd, m, NULL, 0);
	return r < 0 ? 0 : 1;
}

/*
 * After a node operation, whatever its outcome: the RA sockets watched again.
 * New nodes had their RAs at once (node-ctl.c); solicitations answered here
 * are the fallback, as for a link that comes up.
 */
static void ra_rewatch(struct serve_ctx *ctx)
{
	nslab_error err = { 0 };

	if (ctl_ra_watch(ctx, &err) < 0) /* devices then configure without answers: say why */
		log_debugf(&ctx->lab->log, "%s", err.msg);
}

/* ADD_NODE, REMOVE_NODE: a router or device added to the lab, or removed from it. */
static int op_node(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m, int *fds,
		   size_t n_fds)
{
	const char *node = ctl_get_str(m, CTL_A_NODE), *mode = ctl_get_str(m, CTL_A_MODE);
	const char *words = ctl_get_str(m, CTL_A_WORDS), *argv[65];
	_cleanup_free_ char *copy = strdup(words ? words : "");
	nslab_error err = { 0 };
	int n, r;

	(void)c;
	(void)fds;
	(void)n_fds;
	if (!copy)
		return reply_error(fd, m, ENOMEM, "%s: out of memory", ctl_op_name(m->op)), 1;
	if (!node || (m->op == CTL_OP_ADD_NODE && !mode))
		return reply_error(fd, m, EINVAL, "%s: which node%s?", ctl_op_name(m->op),
				   m->op == CTL_OP_ADD_NODE ? ", router or device" : ""),
		       1;
	n = split_words(copy, argv, ARRAY_SIZE(argv) - 1);
	if (n < 0 || n % 2)
		return reply_error(fd, m, n < 0 ? E2BIG : EINVAL, "%s: %s", ctl_op_name(m->op),
				   n < 0 ? "too many keys" : "a key without a value"),
		       1;
	argv[n] = NULL;
	/* the routers' RA sockets leave the loop while nodes come and go (ctl_ra_watch()) */
	ctl_ra_unwatch(ctx);
	if (m->op == CTL_OP_ADD_NODE)
		r = nslab_lab_add_node(ctx->lab, mode, node, argv, &err);
	else
		r = nslab_lab_remove_node(
			ctx->lab, node, mode && strcmp(mode, "force") == 0 ? NSLAB_REMOVE_FORCE : 0,
			&err);
	ra_rewatch(ctx);
	if (r < 0)
		r = reply_error(fd, m, err.code, "%s", err.msg);
	else
		r = reply_ok(fd, m, NULL, 0);
	return r < 0 ? 0 : 1;
}

/* DNS_SET: a name of the lab's DNS and /etc/hosts set, or removed without a TARGET. */
static int op_dns(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m, int *fds,
		  size_t n_fds)
{
	const char *name = ctl_get_str(m, CTL_A_NODE), *target = ctl_get_str(m, CTL_A_TARGET);
	nslab_error err = { 0 };
	int r;

	(void)c;
	(void)fds;
	(void)n_fds;
	if (!name)
		return reply_error(fd, m, EINVAL, "dns-set: which name?"), 1;
	r = nslab_lab_set_dns(ctx->lab, name, target, &err);
	if (r < 0)
		r = reply_error(fd, m, err.code, "%s", err.msg);
	else
		r = reply_ok(fd, m, NULL, 0);
	return r < 0 ? 0 : 1;
}

static const struct ctl_op_desc ops[CTL_OP_MAX_] = {
	[CTL_OP_HELLO] = { CONN_NEW, CTL_AUTH_OWNER, 0, false, op_hello },
	[CTL_OP_STATUS] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_status },
	[CTL_OP_TABLE] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_status },
	[CTL_OP_EXEC] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_exec },
	[CTL_OP_EXEC_SPAWNED] = { CONN_EXEC, CTL_AUTH_OWNER, 1, true, op_exec_spawned },
	[CTL_OP_EXEC_EXITED] = { CONN_EXEC, CTL_AUTH_OWNER, 0, true, op_exec_exited },
	[CTL_OP_DOWN] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_down },
	[CTL_OP_LINK] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_link },
	[CTL_OP_NAT_SET] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_nat },
	[CTL_OP_NAT_FLUSH] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_nat },
	[CTL_OP_NAT6_SET] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_nat },
	[CTL_OP_REGION] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_link },
	[CTL_OP_FW_SET] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_nat },
	[CTL_OP_DEFAULT_VIA] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_default_via },
	[CTL_OP_REPLUG] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_default_via },
	[CTL_OP_CONNTRACK] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_conntrack },
	[CTL_OP_RENEW_IP] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_default_via },
	[CTL_OP_ADD_IFACE] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_default_via },
	[CTL_OP_REMOVE_IFACE] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_default_via },
	[CTL_OP_DNS_SET] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_dns },
	[CTL_OP_ADD_NODE] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_node },
	[CTL_OP_REMOVE_NODE] = { CONN_READY, CTL_AUTH_OWNER, 0, false, op_node },
};

static bool is_allowed(const struct ctl_op_desc *d, const struct conn *c)
{
	switch (d->auth) {
	case CTL_AUTH_OWNER:
		return c->peer_uid == geteuid();
	}
	return false;
}

/* Check the operation against the table; refuse (and say why) what it does not allow. */
static int dispatch(struct serve_ctx *ctx, struct conn *c, int fd, const struct ctl_msg *m,
		    int *fds, size_t n_fds)
{
	const struct ctl_op_desc *d = m->op < CTL_OP_MAX_ && !m->reply ? &ops[m->op] : NULL;

	if (!d || !d->handle)
		return reply_error(fd, m, EOPNOTSUPP, "unknown request"), 0;
	if (!is_allowed(d, c))
		return reply_error(fd, m, EACCES,
				   "%s: permission denied (lab '%s' belongs to uid %u)",
				   ctl_op_name(m->op), ctx->lab->spec->name, lab_outer_uid()),
		       0;
	if (!(d->states & c->state)) {
		if (!d->notification)
			(void)reply_error(fd, m, EPROTO, "%s: not now (%s)", ctl_op_name(m->op),
					  c->state == CONN_NEW	  ? "say hello first"
					  : c->state == CONN_EXEC ? "the connection runs a command"
								  : "hello was said already");
		return 0;
	}
	if (n_fds > d->max_fds) {
		if (!d->notification)
			(void)reply_error(fd, m, EPROTO, "%s: %zu fds where %zu belong",
					  ctl_op_name(m->op), n_fds, d->max_fds);
		return 0;
	}
	return d->handle(ctx, c, fd, m, fds, n_fds);
}

int ctl_serve_message(struct serve_ctx *ctx, struct conn *c, int fd)
{
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	int fds[CTL_MAX_FDS];
	size_t n_fds = 0;
	struct ctl_msg m;
	ssize_t n = ctl_recv(fd, buf, fds, &n_fds);
	nslab_error err;
	int keep;

	if (n == -EAGAIN || n == -EINTR)
		return 1;
	if (n < 0)
		return 0;
	if (ctl_msg_parse(buf, (size_t)n, &m, &err) < 0) {
		/* no reply to what cannot be read: the hang-up says it */
		keep = 0;
	} else {
		keep = dispatch(ctx, c, fd, &m, fds, n_fds);
	}
	for (size_t i = 0; i < n_fds; i++)
		(void)close_fd(fds[i]); /* those a handler took are -1 */
	return keep;
}

void ctl_conn_gone(struct serve_ctx *ctx, struct conn *c)
{
	if (c->state != CONN_EXEC || c->exited)
		return;
	/*
	 * An exec client that hangs up without EXEC_EXITED died (or the lab is
	 * going down): its command must not outlive it. It dies with its helper
	 * anyway (PR_SET_PDEATHSIG); the pidfd makes sure and lets the log say so.
	 */
	if (c->cmd_pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, c->cmd_pidfd, SIGKILL, NULL, 0);
	emit_exec(ctx->lab, "cmd_exited", c, NULL, SIGKILL,
		  ctx->stopping ? "lab down" : "client gone");
}
