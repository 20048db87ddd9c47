/* SPDX-License-Identifier: MIT */
/*
 * lab/client: what `nslab ls/status/exec/down/cleanup` ask of a supervisor,
 * plus --persist (root only: /run/netns entries for `ip netns exec` users).
 */
#include "nslab/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/ctlmsg.h"
#include "lab/lab.h"
#include "ns/spawn.h"

extern char **environ;

#define NETNS_RUN_DIR "/run/netns"
#define PERSIST_DIR   "/run/nslab/persist"
#define REPLY_MAX     (64 << 20) /* a status of the largest lab is a few MiB */

void nslab_strv_free(char **strv)
{
	for (char **s = strv; s && *s; s++)
		free(*s);
	free(strv);
}

/* Labs are the listening abstract sockets "@nslab/<uid>/<name>" in /proc/net/unix. */
/*
 * The listening names of the caller's labs; with @verify, only those served by
 * the caller's own user (a connect each: `nslab ls`'s HELLO checks it anyway).
 */
static int list_labs(bool verify, char ***ret_names, nslab_error *err)
{
	_cleanup_free_ char *line = NULL, *prefix = NULL;
	char **v = calloc(1, sizeof(*v));
	size_t cap = 0, n = 0;
	FILE *f;

	if (!v || asprintf(&prefix, "@nslab/%u/", lab_outer_uid()) < 0) {
		free(v);
		return nslab_err_set(err, ENOMEM, "list labs");
	}
	f = fopen("/proc/net/unix", "re");
	if (!f) {
		free(v);
		return nslab_err_set(err, errno, "open /proc/net/unix");
	}
	while (getline(&line, &cap, f) > 0) {
		char path[256];
		unsigned flags, st;
		char **nv;

		if (sscanf(line, "%*s %*s %*s %x %*s %x %*s %255s", &flags, &st, path) != 3 ||
		    !(flags & 0x10000) || strncmp(path, prefix, strlen(prefix)) != 0)
			continue; /* 0x10000: __SO_ACCEPTCON, a listening socket */
		if (verify && !ctl_is_ours(path + strlen(prefix)))
			continue; /* a name another user bound (abstract names are anyone's) */
		nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(path + strlen(prefix)))) {
			v = nv ? nv : v;
			v[n] = NULL;
			fclose(f);
			nslab_strv_free(v);
			return nslab_err_set(err, ENOMEM, "list labs");
		}
		v = nv;
		v[++n] = NULL;
	}
	fclose(f);
	*ret_names = v;
	return 0;
}

int nslab_ctl_list(char ***ret_names, nslab_error *err)
{
	return list_labs(true, ret_names, err);
}

/* One lab of `nslab ls`: what its HELLO said, or why it did not answer. */
struct ls_row {
	char *name;
	bool answered;
	bool rootless;
	unsigned pid, nodes;
	double built_at; /* seconds since the epoch */
	char *outdir;	 /* NULL: none */
	char why[NSLAB_ERROR_MSG_MAX];
};

/* Ask one lab who it is; false if it is not the caller's (a name squatted by another user). */
static bool ls_probe(struct ls_row *row)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	nslab_error err = { 0 };
	const char *outdir;

	if (ctl_open(row->name, &c, &err) < 0) {
		snprintf(row->why, sizeof(row->why), "%s", err.msg);
		return err.code != EPERM;
	}
	row->answered = true;
	row->rootless = ctl_get_u32(&c->hello, CTL_A_ROOTLESS, 0);
	row->pid = ctl_get_u32(&c->hello, CTL_A_PID, 0);
	row->nodes = ctl_get_u32(&c->hello, CTL_A_NODES, 0);
	row->built_at = (double)ctl_get_u64(&c->hello, CTL_A_BUILT_AT, 0) / 1000;
	outdir = ctl_get_str(&c->hello, CTL_A_OUTDIR);
	row->outdir = outdir ? strdup(outdir) : NULL;
	return true;
}

/* "3s", "4m", "2h", "5d": how long ago, as `docker ps` says it. */
static void age_text(double built_at, char *buf, size_t len)
{
	double now = evlog_now(), age = built_at > 0 && now > built_at ? now - built_at : 0;

	if (age < 120)
		snprintf(buf, len, "%.0fs", age);
	else if (age < 2 * 3600)
		snprintf(buf, len, "%.0fm", age / 60);
	else if (age < 2 * 86400)
		snprintf(buf, len, "%.0fh", age / 3600);
	else
		snprintf(buf, len, "%.0fd", age / 86400);
}

static void ls_json(const struct ls_row *rows, size_t n, FILE *f)
{
	struct jw w;

	jw_init(&w);
	jw_arr_open(&w, NULL);
	for (size_t i = 0; i < n; i++) {
		jw_obj_open(&w, NULL);
		jw_str(&w, "name", rows[i].name);
		if (rows[i].answered) {
			jw_str(&w, "mode", rows[i].rootless ? "rootless" : "root");
			jw_uint(&w, "nodes", rows[i].nodes);
			jw_double(&w, "built_at", rows[i].built_at, 3);
			jw_uint(&w, "pid", rows[i].pid);
			if (rows[i].outdir)
				jw_str(&w, "outdir", rows[i].outdir);
		} else {
			jw_str(&w, "error", rows[i].why);
		}
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	fprintf(f, "%s\n", jw_get(&w) ? jw_get(&w) : "[]");
	jw_free(&w);
}

static void ls_table(const struct ls_row *rows, size_t n, FILE *f)
{
	int wname = 4;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(rows[i].name) > wname)
			wname = (int)strlen(rows[i].name);
	fprintf(f, "%-*s  %-8s  %5s  %5s  %7s  %s\n", wname, "NAME", "MODE", "NODES", "AGE", "PID",
		"OUTDIR");
	for (size_t i = 0; i < n; i++) {
		char age[16];

		if (!rows[i].answered) {
			fprintf(f, "%-*s  %s\n", wname, rows[i].name, rows[i].why);
			continue;
		}
		age_text(rows[i].built_at, age, sizeof(age));
		fprintf(f, "%-*s  %-8s  %5u  %5s  %7u  %s\n", wname, rows[i].name,
			rows[i].rootless ? "rootless" : "root", rows[i].nodes, age, rows[i].pid,
			rows[i].outdir ? rows[i].outdir : "-");
	}
}

int nslab_ctl_ls(unsigned flags, char **ret_text, nslab_error *err)
{
	char **names = NULL, *text = NULL;
	struct ls_row *rows = NULL;
	size_t n = 0, len = 0, k = 0;
	FILE *f;
	int r = list_labs(false, &names, err); /* ls_probe() refuses another user's */

	if (r < 0)
		return r;
	while (names[n])
		n++;
	rows = calloc(n + 1, sizeof(*rows));
	f = rows ? open_memstream(&text, &len) : NULL;
	if (!f) {
		free(rows);
		nslab_strv_free(names);
		return nslab_err_set(err, ENOMEM, "ls");
	}
	for (size_t i = 0; i < n; i++) {
		rows[k].name = names[i];
		if (ls_probe(&rows[k]))
			k++;
	}
	if (flags & NSLAB_LS_JSON)
		ls_json(rows, k, f);
	else
		ls_table(rows, k, f);
	for (size_t i = 0; i < k; i++)
		free(rows[i].outdir);
	free(rows);
	nslab_strv_free(names);
	if (fclose(f) != 0) {
		free(text);
		return nslab_err_set(err, ENOMEM, "ls");
	}
	*ret_text = text;
	return 0;
}

static int read_memfd(int fd, char **ret, nslab_error *err)
{
	struct stat st;
	char *buf;

	if (fstat(fd, &st) < 0)
		return nslab_err_set(err, errno, "fstat");
	if (!S_ISREG(st.st_mode) || st.st_size > REPLY_MAX)
		return nslab_err_setx(err, EPROTO, "the supervisor sent a malformed reply");
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return nslab_err_set(err, ENOMEM, "read reply");
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		return nslab_err_set(err, EIO, "read reply");
	}
	buf[st.st_size] = '\0';
	*ret = buf;
	return (int)st.st_size;
}

static int ctl_fetch(const char *lab, enum ctl_op op, const char *node, char **ret,
		     nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	_cleanup_close_ int fd = -1;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	int fds[CTL_MAX_FDS];
	size_t n = 0;
	struct nlmsghdr *nlh = ctl_msg_start(buf, op, false, 0, 0);
	int r;

	if (node && !ctl_put_str(nlh, CTL_A_NODE, node))
		return nslab_err_setx(err, E2BIG, "%s: node name too long", ctl_op_name(op));
	r = ctl_open(lab, &c, err);
	if (r >= 0)
		r = ctl_call(c, nlh, fds, 1, &n, err);
	if (r < 0)
		return r;
	if (n < 1)
		return nslab_err_setx(err, EPROTO, "%s of lab '%s': no data", ctl_op_name(op), lab);
	fd = fds[0];
	r = read_memfd(fd, ret, err);
	return r < 0 ? r : 0;
}

int nslab_ctl_status(const char *lab, char **ret_json, nslab_error *err)
{
	return ctl_fetch(lab, CTL_OP_STATUS, NULL, ret_json, err);
}

int nslab_ctl_outdir(const char *lab, char **ret_path, nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	const char *outdir;
	char *copy;
	int r = ctl_open(lab, &c, err);

	if (r < 0)
		return r;
	outdir = ctl_get_str(&c->hello, CTL_A_OUTDIR);
	if (!outdir)
		return nslab_err_setx(err, ENOENT, "lab '%s' has no output directory", lab);
	copy = strdup(outdir);
	if (!copy)
		return nslab_err_set(err, ENOMEM, "lab '%s': output directory", lab);
	*ret_path = copy;
	return 0;
}

int nslab_ctl_table(const char *lab, char **ret_text, nslab_error *err)
{
	return ctl_fetch(lab, CTL_OP_TABLE, NULL, ret_text, err);
}

int nslab_ctl_conntrack(const char *lab, const char *node, char **ret_json, nslab_error *err)
{
	if (!node)
		return nslab_err_setx(err, EINVAL, "conntrack: which node?");
	return ctl_fetch(lab, CTL_OP_CONNTRACK, node, ret_json, err);
}

int nslab_lab_table(const nslab_lab *lab, char **ret_text, nslab_error *err)
{
	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "table: the lab is not built");
	return lab_table_text(lab, ret_text, err);
}

/* LINK and REGION: the same request, about a node's interface or two regions. */
static int ctl_link_op(const char *lab, enum ctl_op op, const char *x, const char *y,
		       const char *const *argv, size_t argc, unsigned flags, char **ret_text,
		       nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	_cleanup_free_ char *words = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	const char *what = ctl_op_name(op);
	uint32_t cmd = flags & NSLAB_CTL_LINK_CLEAR  ? CTL_LINK_CLEAR
		       : flags & NSLAB_CTL_LINK_DOWN ? CTL_LINK_DOWN
		       : flags & NSLAB_CTL_LINK_UP   ? CTL_LINK_UP
		       : argc			     ? CTL_LINK_SET
						     : CTL_LINK_SHOW;
	struct nlmsghdr *nlh = ctl_msg_start(buf, op, false, 0, 0);
	size_t len = 1;
	const char *answer;
	int r;

	for (size_t i = 0; i < argc; i++) {
		if (strchr(argv[i], '\n'))
			return nslab_err_setx(err, EINVAL, "%s: a word with a line break", what);
		len += strlen(argv[i]) + 1;
	}
	words = calloc(1, len);
	if (!words)
		return nslab_err_set(err, ENOMEM, "%s", what);
	for (size_t i = 0; i < argc; i++)
		strcat(strcat(words, argv[i]), i + 1 < argc ? "\n" : "");
	if (!ctl_put_str(nlh, CTL_A_NODE, x) || !ctl_put_str(nlh, CTL_A_IFACE, y) ||
	    !ctl_put_u32(nlh, CTL_A_LINK_CMD, cmd) || !ctl_put_str(nlh, CTL_A_WORDS, words))
		return nslab_err_setx(err, E2BIG, "%s: request too long", what);
	r = ctl_open(lab, &c, err);
	if (r >= 0)
		r = ctl_call(c, nlh, NULL, 0, NULL, err);
	if (r < 0)
		return r;
	answer = ctl_get_str(&c->reply, flags & NSLAB_CTL_LINK_JSON ? CTL_A_JSON : CTL_A_TEXT);
	if (!answer)
		return nslab_err_setx(err, EPROTO, "%s: no answer from lab '%s'", what, lab);
	*ret_text = strdup(answer);
	return *ret_text ? 0 : nslab_err_set(err, ENOMEM, "%s", what);
}

int nslab_ctl_link(const char *lab, const char *node, const char *iface, const char *const *argv,
		   size_t argc, unsigned flags, char **ret_text, nslab_error *err)
{
	return ctl_link_op(lab, CTL_OP_LINK, node, iface, argv, argc, flags, ret_text, err);
}

int nslab_ctl_region(const char *lab, const char *a, const char *b, const char *const *argv,
		     size_t argc, unsigned flags, char **ret_text, nslab_error *err)
{
	return ctl_link_op(lab, CTL_OP_REGION, a, b, argv, argc, flags, ret_text, err);
}

/* NAT_SET / NAT_FLUSH: one request, its reply says whether it was done. */
static int ctl_nat(const char *lab, enum ctl_op op, const char *router, const char *mode,
		   nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = ctl_msg_start(buf, op, false, 0, 0);
	int r;

	if (!ctl_put_str(nlh, CTL_A_NODE, router) || (mode && !ctl_put_str(nlh, CTL_A_MODE, mode)))
		return nslab_err_setx(err, EINVAL, "router or mode name too long");
	r = ctl_open(lab, &c, err);
	if (r >= 0)
		r = ctl_call(c, nlh, NULL, 0, NULL, err);
	return r;
}

int nslab_ctl_set_nat(const char *lab, const char *router, const char *mode, nslab_error *err)
{
	return ctl_nat(lab, CTL_OP_NAT_SET, router, mode, err);
}

int nslab_ctl_set_nat6(const char *lab, const char *router, const char *mode, nslab_error *err)
{
	return ctl_nat(lab, CTL_OP_NAT6_SET, router, mode, err);
}

int nslab_ctl_flush_nat(const char *lab, const char *router, nslab_error *err)
{
	return ctl_nat(lab, CTL_OP_NAT_FLUSH, router, NULL, err);
}

/* DEFAULT_VIA / RENEW_IP / REPLUG (with a router): one request, its reply says whether it was done. */
static int ctl_device(const char *lab, uint16_t op, const char *device, const char *iface,
		      const char *router, nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = ctl_msg_start(buf, op, false, 0, 0);
	int r;

	if (!ctl_put_str(nlh, CTL_A_NODE, device) || !ctl_put_str(nlh, CTL_A_IFACE, iface) ||
	    (router && !ctl_put_str(nlh, CTL_A_ROUTER, router)))
		return nslab_err_setx(err, EINVAL, "device, interface or router name too long");
	r = ctl_open(lab, &c, err);
	if (r >= 0)
		r = ctl_call(c, nlh, NULL, 0, NULL, err);
	return r;
}

int nslab_ctl_set_default_via(const char *lab, const char *device, const char *iface,
			      nslab_error *err)
{
	return ctl_device(lab, CTL_OP_DEFAULT_VIA, device, iface, NULL, err);
}

int nslab_ctl_renew_ip(const char *lab, const char *device, const char *iface, nslab_error *err)
{
	return ctl_device(lab, CTL_OP_RENEW_IP, device, iface, NULL, err);
}

int nslab_ctl_add_iface(const char *lab, const char *device, const char *iface, const char *router,
			nslab_error *err)
{
	if (!router)
		return nslab_err_setx(err, EINVAL, "add-iface: which router?");
	return ctl_device(lab, CTL_OP_ADD_IFACE, device, iface, router, err);
}

int nslab_ctl_remove_iface(const char *lab, const char *device, const char *iface, nslab_error *err)
{
	return ctl_device(lab, CTL_OP_REMOVE_IFACE, device, iface, NULL, err);
}

int nslab_ctl_replug(const char *lab, const char *device, const char *iface, const char *router,
		     nslab_error *err)
{
	return ctl_device(lab, CTL_OP_REPLUG, device, iface, router, err);
}

int nslab_ctl_add_node(const char *lab, const char *kind, const char *name, const char *const *kv,
		       nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = ctl_msg_start(buf, CTL_OP_ADD_NODE, false, 0, 0);
	_cleanup_free_ char *words = NULL;
	size_t len = 1, n = 0;
	int r;

	for (; kv && kv[n]; n++) {
		if (!*kv[n])
			return nslab_err_setx(err, EINVAL, "add: an empty key or value");
		if (strchr(kv[n], '\n'))
			return nslab_err_setx(err, EINVAL, "add: '%s' holds a line break", kv[n]);
		len += strlen(kv[n]) + 1;
	}
	if (n % 2)
		return nslab_err_setx(err, EINVAL, "add: key '%s' without a value", kv[n - 1]);
	words = calloc(1, len);
	if (!words)
		return nslab_err_set(err, ENOMEM, "add");
	for (size_t i = 0; i < n; i++)
		strcat(strcat(words, kv[i]), i + 1 < n ? "\n" : "");
	if (!ctl_put_str(nlh, CTL_A_NODE, name ? name : "") ||
	    !ctl_put_str(nlh, CTL_A_MODE, kind ? kind : "") ||
	    !ctl_put_str(nlh, CTL_A_WORDS, words))
		return nslab_err_setx(err, E2BIG, "add: request too long");
	r = ctl_open(lab, &c, err);
	if (r >= 0)
		r = ctl_call(c, nlh, NULL, 0, NULL, err);
	return r;
}

int nslab_ctl_remove_node(const char *lab, const char *name, unsigned flags, nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = ctl_msg_start(buf, CTL_OP_REMOVE_NODE, false, 0, 0);
	int r;

	if (!ctl_put_str(nlh, CTL_A_NODE, name ? name : "") ||
	    ((flags & NSLAB_REMOVE_FORCE) && !ctl_put_str(nlh, CTL_A_MODE, "force")))
		return nslab_err_setx(err, EINVAL, "remove: node name too long");
	r = ctl_open(lab, &c, err);
	if (r >= 0)
		r = ctl_call(c, nlh, NULL, 0, NULL, err);
	return r;
}

int nslab_ctl_set_dns(const char *lab, const char *hostname, const char *target, nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = ctl_msg_start(buf, CTL_OP_DNS_SET, false, 0, 0);
	int r;

	if (!hostname || !ctl_put_str(nlh, CTL_A_NODE, hostname) ||
	    (target && !ctl_put_str(nlh, CTL_A_TARGET, target)))
		return nslab_err_setx(err, EINVAL, "no host name, or name or target too long");
	r = ctl_open(lab, &c, err);
	if (r >= 0)
		r = ctl_call(c, nlh, NULL, 0, NULL, err);
	return r;
}

int nslab_ctl_set_firewall(const char *lab, const char *router, const char *mode, nslab_error *err)
{
	return ctl_nat(lab, CTL_OP_FW_SET, router, mode, err);
}

/* How long `down` waits for a lab to be gone: teardown itself is bounded (lab_teardown()). */
#define DOWN_TIMEOUT_MS 30000

int nslab_ctl_down(const char *lab, nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct pollfd pfd = { .events = POLLIN };
	int r = ctl_open(lab, &c, err);

	if (r >= 0)
		r = ctl_call(c, ctl_msg_start(buf, CTL_OP_DOWN, false, 0, 0), NULL, 0, NULL, err);
	if (r < 0)
		return r;
	/* The supervisor closes this connection once the lab is gone. */
	pfd.fd = c->fd;
	for (;;) {
		ssize_t n;

		r = poll(&pfd, 1, DOWN_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return ctl_timeout_error(c->fd, "down", err);
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return 0;
	}
}

/*
 * The command's environment: the caller's, with the lab's NSLAB_IP* entries
 * (NUL-separated in buf) in place of any the caller had. Pointers into buf and environ.
 */
static char **env_merge(char *buf, size_t len)
{
	size_t n = 0, k = 0;
	char **v;

	for (char **e = environ; *e; e++)
		n++;
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\0';
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "NSLAB_IP", 8) != 0)
			v[k++] = *e;
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		if (strncmp(buf + i, "NSLAB_IP", 8) == 0) /* nothing else, e.g. no LD_PRELOAD */
			v[k++] = buf + i;
	return v;
}

/* Hand a SIGTERM or SIGHUP we received (the terminal closed, a kill) to the helper. */
static void forward_signal(int sigfd, int pidfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		(void)syscall(SYS_pidfd_send_signal, pidfd, (int)si.ssi_signo, NULL, 0);
}

/*
 * Wait for the helper (it ends when the command does). The lab going down
 * (the connection hangs up) ends the command with the lab's PID namespace,
 * and the helper is killed too; SIGTERM and SIGHUP sent to us are passed on.
 */
static int exec_wait(int conn, const struct spawn_relay *rel, int sigfd, nslab_error *err)
{
	struct pollfd pfd[3] = { { .fd = rel->helper_pidfd, .events = POLLIN },
				 { .fd = conn, .events = 0 },
				 { .fd = sigfd, .events = POLLIN } };

	for (;;) {
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			return nslab_err_set(err, errno, "poll");
		if (pfd[0].revents)
			return 0;
		if (pfd[1].revents & (POLLHUP | POLLERR)) {
			(void)syscall(SYS_pidfd_send_signal, rel->helper_pidfd, SIGKILL, NULL, 0);
			pfd[1].fd = -1;
		}
		if (pfd[2].revents)
			forward_signal(sigfd, rel->helper_pidfd);
	}
}

/*
 * Tell the supervisor which process the command is (a pidfd), so that it can
 * end it should we die without saying "exited". Best effort: the command also
 * dies with its helper, and the helper with us.
 */
static void exec_announce(struct ctl_conn *c, pid_t cmd_pid)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, cmd_pid, 0);
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));

	if (pidfd >= 0)
		(void)ctl_notify(c, ctl_msg_start(buf, CTL_OP_EXEC_SPAWNED, false, 0, 0), &pidfd,
				 1);
}

/* Run the command to its end with SIGTERM/SIGHUP routed through a signalfd. */
static int exec_run(struct ctl_conn *c, const struct spawn_opts *so, int *ret_status,
		    nslab_error *err)
{
	struct spawn_relay rel = { .helper_pidfd = -1, .status_fd = -1 };
	_cleanup_close_ int sigfd = -1;
	sigset_t fwd, old;
	int r, wait_r;

	sigemptyset(&fwd);
	sigaddset(&fwd, SIGTERM);
	sigaddset(&fwd, SIGHUP);
	(void)pthread_sigmask(SIG_BLOCK, &fwd, &old);
	sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	r = sigfd < 0 ? nslab_err_set(err, errno, "signalfd") : spawn_relayed(so, &rel, err);
	if (r >= 0) {
		exec_announce(c, rel.cmd_pid);
		r = exec_wait(c->fd, &rel, sigfd, err);
		if (r < 0)
			(void)syscall(SYS_pidfd_send_signal, rel.helper_pidfd, SIGKILL, NULL, 0);
		wait_r = spawn_relay_wait(&rel, ret_status, r < 0 ? NULL : err);
		if (r >= 0)
			r = wait_r;
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Start a detached command: stdin from /dev/null, a session of its own; its pid in the lab. */
static int exec_detached(const struct spawn_opts *so, int *ret_pid, nslab_error *err)
{
	struct spawn_relay rel = { .helper_pidfd = -1, .status_fd = -1 };
	struct spawn_opts o = *so;
	_cleanup_close_ int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int status, r;

	if (devnull < 0)
		return nslab_err_set(err, errno, "open /dev/null");
	o.stdin_fd = devnull;
	o.detach = true;
	r = spawn_relayed(&o, &rel, err);
	if (r < 0)
		return r;
	*ret_pid = rel.cmd_pid;
	return spawn_relay_wait(&rel, &status, err);
}

static int exec_with_fds(struct ctl_conn *c, const int *fds, size_t n, const char *node,
			 char *const argv[], int *ret_status, int *ret_pid, nslab_error *err)
{
	_cleanup_free_ char *envbuf = NULL;
	_cleanup_free_ char **envp = NULL;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	char cwd[4096];
	/* [env, mnt, net, pid, (detached: stdout, stderr), (rootless: user)] */
	size_t base = ret_pid ? 6 : 4;
	struct spawn_opts so = { .argv = argv,
				 .userns_fd = n > base ? fds[base] : -1,
				 .pidns_fd = fds[3],
				 .hostname = node,
				 .mntns_fd = fds[1],
				 .netns_fd = fds[2],
				 .stdin_fd = -1,
				 .stdout_fd = -1,
				 .stderr_fd = -1,
				 .die_with_parent = true };
	int r = read_memfd(fds[0], &envbuf, err);

	if (r < 0)
		return r;
	if (r > 0 && envbuf[r - 1] != '\0')
		return nslab_err_setx(err, EPROTO,
				      "the supervisor sent an environment without its final NUL");
	envp = env_merge(envbuf, (size_t)r);
	if (!envp)
		return nslab_err_set(err, ENOMEM, "environment");
	so.envp = envp;
	so.cwd = getcwd(cwd, sizeof(cwd));
	if (ret_pid) {
		if (n < base)
			return nslab_err_setx(err, EPROTO, "exec: the supervisor sent no log fds");
		so.stdout_fd = fds[4];
		so.stderr_fd = fds[5];
		return exec_detached(&so, ret_pid, err);
	}
	/* like system(): the terminal's ^C and ^\ are for the command, not for us */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	r = exec_run(c, &so, ret_status, err);
	if (r >= 0) {
		char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
		struct nlmsghdr *nlh = ctl_msg_start(buf, CTL_OP_EXEC_EXITED, false, 0, 0);

		(void)ctl_put_u32(nlh, CTL_A_STATUS, (uint32_t)*ret_status);
		(void)ctl_notify(c, nlh, NULL, 0); /* for the lab's event log; best effort */
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	return r;
}

/* The command line, for the lab's event log: cut to fit, at a character boundary. */
static void put_cmdline(struct nlmsghdr *nlh, char *const argv[])
{
	char line[CTL_CMDLINE_MAX];
	size_t len = 0;

	line[0] = '\0';
	for (size_t i = 0; argv[i] && len < sizeof(line) - 1; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? " " : "",
					argv[i]);
	if (len >= sizeof(line)) /* cut inside a UTF-8 sequence: drop its start */
		for (len = sizeof(line) - 1; len > 0 && (line[len - 1] & 0xc0) == 0x80; len--)
			line[len - 1] = '\0';
	(void)ctl_put_str(nlh, CTL_A_CMDLINE, line);
}

/* Both kinds of exec: waited for (ret_status), or detached (ret_pid). */
static int ctl_exec(const char *lab, const char *node, char *const argv[], int *ret_status,
		    int *ret_pid, nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = NULL;
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct nlmsghdr *req;
	int fds[CTL_MAX_FDS];
	size_t n = 0;
	int r;

	if (!argv || !argv[0])
		return nslab_err_setx(err, EINVAL, "exec: empty command");
	if (strlen(node) > NODE_NAME_MAX)
		return nslab_err_setx(err, EINVAL, "'%.64s': not a node name", node);
	r = ctl_open(lab, &c, err);
	if (r < 0)
		return r;
	req = ctl_msg_start(buf, CTL_OP_EXEC, false, 0, 0);
	(void)ctl_put_str(req, CTL_A_NODE, node);
	put_cmdline(req, argv);
	if (ret_pid)
		(void)ctl_put_u32(req, CTL_A_DETACHED, 1);
	r = ctl_call(c, req, fds, 7, &n, err);
	if (r < 0)
		return r;
	if (n < 4)
		r = nslab_err_setx(err, EPROTO, "lab '%s' sent %zu fds, expected 4 or 5", lab, n);
	else
		r = exec_with_fds(c, fds, n, node, argv, ret_status, ret_pid, err);
	for (size_t i = 0; i < n; i++)
		(void)close(fds[i]);
	return r;
}

int nslab_ctl_exec(const char *lab, const char *node, char *const argv[], int *ret_status,
		   nslab_error *err)
{
	return ctl_exec(lab, node, argv, ret_status, NULL, err);
}

int nslab_ctl_exec_detached(const char *lab, const char *node, char *const argv[], int *ret_pid,
			    nslab_error *err)
{
	return ctl_exec(lab, node, argv, NULL, ret_pid, err);
}
