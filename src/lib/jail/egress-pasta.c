// SPDX-License-Identifier: MIT
/*
 * jail/egress-pasta: the gateway's uplink through pasta (egress-gw.c, step 4).
 *
 * DOC: pasta's life
 *   - forked with PR_SET_PDEATHSIG(SIGKILL), so that it dies with the thread
 *     that started it, and given the gateway as /proc/self/fd/100 (as root,
 *     once it dropped its capabilities, it cannot open another process's
 *     /proc/PID/ns/net); as root with --runas 0, or it hangs
 *   - ready when the gateway has pasta's IPv4 default route, with --ipv6 (where
 *     the host has one) its IPv6 one, and with --host-port pasta's sockets on
 *     every listed port, read from the gateway's socket table (nl/sockdiag.c);
 *     a connection before either was refused at once
 */
#include "jail/egress-gw.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>

#include "nl/rtnl.h"
#include "nl/sockdiag.h"
#include "shared/macro.h"
#include "shared/signals.h"

/* The fd number pasta finds the gateway namespace at (/proc/self/fd/N). */
#define PASTA_NETNS_FD 100
/* How long pasta may take to configure the gateway (it takes ~20 ms here). */
#define PASTA_READY_MS 5000

/* The child between fork and exec: async-signal-safe calls only. */
static _Noreturn void pasta_child(int netns_fd, pid_t parent, char *const argv[])
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/*
	 * pasta as Debian 12 ships it dies ("Couldn't install signal handlers")
	 * when it inherits SIGPIPE ignored, as from a Python caller; it gets the
	 * dispositions a fresh program expects, like every command nslab starts.
	 */
	signals_reset_all();
	if (devnull >= 0)
		(void)dup2(devnull, STDIN_FILENO);
	if (devnull >= 0)
		(void)dup2(devnull, STDOUT_FILENO);
	if (dup2(netns_fd, PASTA_NETNS_FD) < 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

static int has_default(const struct rtnl_route_info *info, void *data)
{
	if (info->dst.len == 0 && info->table == RT_TABLE_MAIN)
		*(bool *)data = true;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Whether this thread's namespace (the one pasta copies with --config-net)
 * has an IPv6 default route of its own: the kernel's unreachable entry on lo
 * does not count.
 */
static bool host_default6(void)
{
	FILE *f = fopen("/proc/thread-self/net/ipv6_route", "re");
	char line[256];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strncmp(line, "00000000000000000000000000000000 00 ", 36) == 0 &&
			!strstr(line, " lo\n");
	if (f)
		fclose(f);
	return found;
}

/* The gateway's default routes: IPv4's, and with want6 IPv6's too. */
static int pasta_routes_ready(struct egress_gw *g, bool want6, bool *ret4, bool *ret6,
			      nslab_error *err)
{
	int r;

	*ret4 = false;
	*ret6 = !want6;
	r = rtnl_route_dump(g->gw->nl, AF_INET, has_default, ret4, err);
	if (r >= 0 && *ret4 && !*ret6)
		r = rtnl_route_dump(g->gw->nl, AF_INET6, has_default, ret6, err);
	return r;
}

static bool port_held(unsigned port, void *data)
{
	return sockdiag_port_held(data, port);
}

/*
 * --host-port: pasta's listener on every TCP port and its socket on every
 * UDP one, in the gateway. They come a little after its routes, and a
 * connection before them was refused (1 run in 7 to 20 here). IPv4 only:
 * the jail's IPv4 is DNATed to pasta's 127.0.0.1; its IPv6 goes to nslab's
 * own listeners (start_hostport6()), there before the wait.
 */
static int pasta_ports_ready(struct nlsock *diag, const char *ports, bool *ret, nslab_error *err)
{
	_cleanup_free_ struct sockdiag_ports *held = malloc(sizeof(*held));
	bool ready;
	int r;

	if (!held)
		return nslab_err_set(err, ENOMEM, "--host-port");
	r = sockdiag_ports_dump(diag, AF_INET, IPPROTO_TCP, held, err);
	ready = r >= 0 && egress_host_ports_every(ports, port_held, held);
	if (ready)
		r = sockdiag_ports_dump(diag, AF_INET, IPPROTO_UDP, held, err);
	if (r < 0 && sockdiag_missing(r)) {
		/* no tcp_diag or udp_diag in this kernel: not checkable, not waited for */
		*ret = true;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = ready && egress_host_ports_every(ports, port_held, held);
	return 0;
}

static int open_diag_thread(void *data, nslab_error *err)
{
	return nlsock_open(NETLINK_SOCK_DIAG, data, err);
}

static int pasta_exited(struct egress_gw *g, nslab_error *err)
{
	int status;

	(void)waitpid(g->pasta_pid, &status, 0);
	g->pasta_pid = -1;
	return nslab_err_setx(err, EIO,
			      "pasta exited (status %d) before the gateway was ready (its message "
			      "above)",
			      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/*
 * Wait until pasta gave the gateway a default route (with --ipv6, where the
 * host has one, the IPv6 one too: it may come a little after the IPv4 one,
 * and a connection in between fails at once) and, with --host-port, bound
 * its ports; or died, or took too long. Past the deadline with the IPv4
 * route only, the run goes on: IPv6 and the host's ports are then what
 * pasta made of them.
 */
int egress_pasta_wait_ready(struct egress_gw *g, const struct egress_policy *p, nslab_error *err)
{
	uint64_t deadline = now_ms() + PASTA_READY_MS;
	struct pollfd pfd = { .fd = g->pasta_pidfd, .events = POLLIN };
	_cleanup_(nlsock_freep) struct nlsock *diag = NULL;
	bool want6 = p->ipv6 && host_default6();
	bool ports_ready = !p->host_ports[0];
	int r;

	if (!ports_ready) {
		/* a kernel without inet_diag: the ports cannot be checked, the routes still are */
		r = netns_call(g->gw->fd, open_diag_thread, &diag, err);
		if (r < 0 && !sockdiag_missing(r))
			return r;
		ports_ready = r < 0;
	}
	for (;;) {
		bool ready4, ready6;

		r = pasta_routes_ready(g, want6, &ready4, &ready6, err);
		if (r >= 0 && ready4 && ready6 && !ports_ready)
			r = pasta_ports_ready(diag, p->host_ports, &ports_ready, err);
		if (r < 0)
			return r;
		if (ready4 && ((ready6 && ports_ready) || now_ms() > deadline))
			return 0;
		/* the routes come within a millisecond or two, the ports later: two dumps a pass */
		if (poll(&pfd, 1, ready4 && ready6 ? 5 : 1) > 0)
			return pasta_exited(g, err);
		if (now_ms() > deadline)
			return nslab_err_setx(err, ETIMEDOUT,
					      "pasta gave the gateway no route within %u ms",
					      PASTA_READY_MS);
	}
}

int egress_pasta_start(struct egress_gw *g, const struct egress_policy *p, nslab_error *err)
{
	char nspath[32];
	char *argv[32];
	size_t n = 0;
	pid_t parent = getpid();

	snprintf(nspath, sizeof(nspath), "/proc/self/fd/%d", PASTA_NETNS_FD);
	argv[n++] = "pasta";
	argv[n++] = "-f";
	argv[n++] = "-q";
	if (geteuid() == 0) {
		/* as root, pasta otherwise switches to nobody and cannot open the namespace */
		argv[n++] = "--runas";
		argv[n++] = "0";
	}
	argv[n++] = "--config-net";
	/* the host's loopback would be one connection to the gateway address away */
	argv[n++] = "--no-map-gw";
	argv[n++] = "--no-dhcp";
	argv[n++] = "--no-dhcpv6";
	/* --ipv6: the gateway resolves on-link destinations (the host's own prefix) through pasta's NDP */
	if (!p->ipv6)
		argv[n++] = "--no-ndp";
	argv[n++] = "--no-ra";
	/* no port of the host reaches into the gateway, none of the gateway's out */
	argv[n++] = "-t";
	argv[n++] = "none";
	argv[n++] = "-u";
	argv[n++] = "none";
	/* --host-port: the host's loopback ports, listened to in the gateway (the input chain lets the jail in) */
	argv[n++] = "-T";
	argv[n++] = p->host_ports[0] ? (char *)p->host_ports : "none";
	argv[n++] = "-U";
	argv[n++] = p->host_ports[0] ? (char *)p->host_ports : "none";
	if (!p->ipv6)
		argv[n++] = "-4";
	argv[n++] = "--netns";
	argv[n++] = nspath;
	argv[n] = NULL;

	g->pasta_pid = fork();
	if (g->pasta_pid < 0)
		return nslab_err_set(err, errno, "fork pasta");
	if (g->pasta_pid == 0)
		pasta_child(g->gw->fd, parent, argv);
	g->pasta_pidfd = (int)syscall(SYS_pidfd_open, g->pasta_pid, 0);
	if (g->pasta_pidfd < 0)
		return nslab_err_set(err, errno, "pidfd_open(pasta)");
	return 0;
}
