/* SPDX-License-Identifier: MIT */
/*
 * The egress gateway on the real kernel (jail/egress-gw.c, nslab/egress.h):
 * in a private network namespace with a veth as pasta's template, a session
 * for a policy: the jail's routes (only a default via the gateway, no IPv6),
 * the ruleset the kernel holds (the policy's rules and sets), an element
 * added by the DNS gate's commands showing with its timeout, and pasta gone
 * once the session is freed. Rootless: refused at once, naming /dev/net/tun.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nslab/egress.h>

#include "jail/egress-gw.h"
#include "nl/nftables.h"
#include "nl/rtnl.h"
#include "nslab-test.h"

static int sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

struct listing {
	const char *cmd;
	char *out;
};

static int list_thread(void *data, nslab_error *err)
{
	struct listing *l = data;

	return nftbl_run(l->cmd, false, &l->out, err);
}

static char *list_in(int fd, const char *cmd)
{
	struct listing l = { cmd, NULL };
	nslab_error err = { 0 };

	CHECK(netns_call(fd, list_thread, &l, &err) == 0, "%s: %s", cmd, err.msg);
	return l.out;
}

struct routes {
	int v4_default, v4_other, v6;
};

static int count_route(const struct rtnl_route_info *r, void *data)
{
	struct routes *c = data;

	if (r->table != 254)
		return 0;
	if (r->dst.family == AF_INET6)
		c->v6++;
	else if (r->dst.len == 0)
		c->v4_default++;
	else
		c->v4_other++;
	return 0;
}

static void check_gateway(void)
{
	struct egress_policy p = { .ttl_grace = 60 };
	struct egress_gw *g = NULL;
	struct routes rc = { 0 };
	nslab_error err = { 0 };
	char *text, *cmds = NULL;
	size_t len = 0;
	FILE *f;
	struct nslab_prefix a;
	pid_t pasta;

	CHECK(egress_list_parse(&p.allow, "x.test,10.0.0.0/8:22/tcp,192.0.2.99", &err) == 0, "%s",
	      err.msg);
	/* a caller that ignores SIGPIPE (Python does) must not pass it on to pasta */
	(void)signal(SIGPIPE, SIG_IGN);
	CHECK(egress_gw_start(&p, &g, &err) == 0, "%s", err.msg);
	pasta = g->pasta_pid;
	CHECK(pasta > 0 && kill(pasta, 0) == 0, "pasta %d is not running", (int)pasta);

	CHECK(rtnl_route_dump(g->jail->nl, AF_UNSPEC, count_route, &rc, &err) == 0, "%s", err.msg);
	CHECK(rc.v4_default == 1 && rc.v6 == 0, "jail routes: %d default, %d IPv6", rc.v4_default,
	      rc.v6);

	text = list_in(g->gw->fd, "list table inet nslab_egress");
	CHECK(strstr(text, "ip daddr 10.0.0.0/8 tcp dport 22 accept"), "no port rule in:\n%s",
	      text);
	CHECK(strstr(text, "ip daddr 192.0.2.99 accept"), "no address rule in:\n%s", text);
	CHECK(strstr(text, "th dport { 53, 853 } goto deny"), "no DNS/DoT block in:\n%s", text);
	free(text);

	/* what the DNS gate sends for an answer: the element shows with its timeout */
	CHECK(prefix_parse("198.51.100.7", false, &a, &err) == 0, "%s", err.msg);
	f = open_memstream(&cmds, &len);
	egress_elements(&p.allow.v[0], &a, 300, f);
	fclose(f);
	CHECK(egress_gw_nft(g, cmds, &err) == 0, "%s", err.msg);
	free(cmds);
	text = list_in(g->gw->fd, "list set inet nslab_egress allow4");
	CHECK(strstr(text, "198.51.100.7 timeout 5m"), "no element in:\n%s", text);
	free(text);

	egress_gw_free(g);
	CHECK(kill(pasta, 0) < 0 && errno == ESRCH, "pasta %d still there", (int)pasta);
	egress_list_clear(&p.allow);
}

static void check_rootless(void)
{
	nslab_egress *e = NULL;
	nslab_egress_session *s = NULL;
	nslab_error err = { 0 };
	int r;

	if (fcntl(STDIN_FILENO, F_GETFD) < 0) /* a descriptor 0 to watch */
		CHECK(open("/dev/null", O_RDONLY) == STDIN_FILENO, "open /dev/null as fd 0");
	CHECK(nslab_egress_new(&e, &err) == 0, "%s", err.msg);
	CHECK(nslab_egress_allow(e, "x.test", &err) == 0, "%s", err.msg);
	r = nslab_egress_start(e, &s, &err);
	/* outside a user namespace of its own: refused, whichever uplink it would take */
	CHECK(r == -EPERM && (strstr(err.msg, "/dev/net/tun") || strstr(err.msg, "user namespace")),
	      "rootless start: %d %s", r, err.msg);
	CHECK(s == NULL, "a session after a failure");
	/* the refused start leaves the caller's fds alone: fd 0 was closed once */
	CHECK(fcntl(STDIN_FILENO, F_GETFD) >= 0, "fd 0 closed by a refused start");
	nslab_egress_free(e);
}

int main(void)
{
	if (geteuid() != 0) {
		check_rootless();
		printf("ok: %u checks (rootless)\n", checks);
		return 0;
	}
	if (access("/usr/bin/pasta", X_OK) < 0)
		nslab_test_skip("pasta is not installed");
	if (unshare(CLONE_NEWNET) < 0)
		nslab_test_skip("unshare(CLONE_NEWNET): %s", strerrordesc_np(errno));
	/* pasta copies the addresses and the default route of an interface of ours */
	if (sh("ip link set lo up && ip link add d0 type veth peer name d1 && ip link set d1 up && "
	       "ip addr add 192.0.2.10/24 dev d0 && ip link set d0 up && "
	       "ip route add default via 192.0.2.1") != 0)
		nslab_test_setup_failed("the template interface (ip link/addr/route)");
	check_gateway();
	printf("ok: %u checks\n", checks);
	return 0;
}
