// SPDX-License-Identifier: MIT
/*
 * jail/egress-gw: the gateway namespace between a jail and the outside.
 *
 * DOC: building the gateway (egress_gw_start())
 *   1. two namespaces on a scratch thread (netns_new()): the gateway
 *      (forwarding on) and the jail (IPv6 off unless asked), both fd-held
 *   2. one veth: nsgw0 in the gateway, eth0 in the jail; link-local
 *      addresses; the jail's only route is the default via the gateway
 *   3. the policy's ruleset loaded in the gateway (libnftables), the context
 *      kept for the DNS gate's element updates
 *   4. the uplink (started right after step 1, so that it configures its
 *      tap while steps 2 and 3 run; waited for last): pasta (egress-pasta.c),
 *      the socket relay (egress-relay.c) or, for root, a veth to the host
 * Nothing is written to the caller's namespace (no link, route, rule or
 * sysctl), unless --egress veth asks (see start_veth()). On any failure
 * every step is undone (the namespaces die with their fds, pasta is killed
 * and reaped).
 */
#include "jail/egress-gw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "jail/egress-relay.h"
#include "nl/ct.h"
#include "nl/nftables.h"
#include "nl/rtnl.h"
#include "nl/sysctl.h"
#include "shared/macro.h"
#include "shared/signals.h"

#define JAIL_IFINDEX 2 /* the jail's end of the veth, asked of the kernel (lo is 1) */

struct make_ns {
	int home_fd;
	bool ipv6, localnet, relay;
	struct netns *gw, *jail, *relay_ns;
	struct nlsock *ct;
};

/*
 * Inside the new gateway: byte and packet counters on its conntrack entries
 * (best effort: without the conntrack module loaded yet, the log has no
 * counts), and the ctnetlink socket that reads them at the end.
 */
static int gw_inside(struct netns *ns, void *data, nslab_error *err)
{
	struct nlsock **ct = data;

	(void)ns;
	(void)sysctl_write_in_ns("net/netfilter/nf_conntrack_acct", "1", NULL);
	return nlsock_open(NETLINK_NETFILTER, ct, err);
}

/*
 * Inside the new jail: ping (an ICMP echo socket, no capability) for the
 * command's group, so that ping reaches what the policy allows. Every gid
 * this user namespace maps, else its root's alone (a rootless run maps one:
 * the caller's, which the command keeps); best effort, as without it ping
 * only fails. Raw sockets stay out of reach (no CAP_NET_RAW in the jail).
 */
static int jail_inside(struct netns *ns, void *data, nslab_error *err)
{
	(void)ns;
	(void)data;
	(void)err;
	if (sysctl_write_in_ns("net/ipv4/ping_group_range", "0 2147483647", NULL) < 0)
		(void)sysctl_write_in_ns("net/ipv4/ping_group_range", "0 0", NULL);
	return 0;
}

static int make_ns_thread(void *data, nslab_error *err)
{
	struct make_ns *m = data;
	/*
	 * --host-port: pasta listens on the gateway's loopback only, and the
	 * jail's packets are DNATed there (route_localnet, last of each list,
	 * lets them in)
	 */
	const struct sysctl_kv gw_v4[] = { { "net/ipv4/ip_forward", "1" },
					   { "net/ipv6/conf/all/disable_ipv6", "1" },
					   { "net/ipv4/conf/all/route_localnet", "1" } };
	/*
	 * No DAD in the gateway (its addresses are nslab's and pasta's copies):
	 * link-local addresses are valid at once, so that its kernel's MLD
	 * reports and probes do not come from :: (see put_uplink_out())
	 */
	const struct sysctl_kv gw_v6[] = { { "net/ipv4/ip_forward", "1" },
					   { "net/ipv6/conf/all/forwarding", "1" },
					   { "net/ipv6/conf/all/accept_dad", "0" },
					   { "net/ipv6/conf/default/accept_dad", "0" },
					   { "net/ipv4/conf/all/route_localnet", "1" } };
	/* every destination is local there: the relay answers echo requests, not the kernel */
	const struct sysctl_kv relay_sysctls[] = { { "net/ipv4/icmp_echo_ignore_all", "1" },
						   { "net/ipv6/icmp/echo_ignore_all", "1" } };
	const struct sysctl_kv jail_v4[] = { { "net/ipv6/conf/all/disable_ipv6", "1" },
					     { "net/ipv6/conf/default/disable_ipv6", "1" } };
	_cleanup_close_ int scratch = -1;
	size_t n_gw;
	int r;

	/*
	 * netns_new() returns this thread home after each namespace. In a user
	 * namespace of our own (rootless), the caller's network namespace is
	 * not ours to enter again: this short-lived thread makes a scratch
	 * namespace its home instead, and ends there.
	 */
	if (setns(m->home_fd, CLONE_NEWNET) < 0) {
		if (unshare(CLONE_NEWNET) < 0)
			return nslab_err_set(
				err, errno,
				"scratch network namespace (a filtered run needs a user "
				"namespace of its own: nslab run makes one, a program "
				"calling the library must be in one)");
		r = netns_open_current(&scratch, err);
		if (r < 0)
			return r;
		m->home_fd = scratch;
	}
	n_gw = m->ipv6 ? sizeof(gw_v6) / sizeof(gw_v6[0]) : sizeof(gw_v4) / sizeof(gw_v4[0]);
	if (!m->localnet)
		n_gw--;
	r = netns_new(m->home_fd, m->ipv6 ? gw_v6 : gw_v4, n_gw, gw_inside, &m->ct, &m->gw, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "gateway namespace");
	r = netns_new(m->home_fd, jail_v4, m->ipv6 ? 0 : 2, jail_inside, NULL, &m->jail, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "jail namespace");
	if (m->relay) {
		r = netns_new(m->home_fd, relay_sysctls, 2, NULL, NULL, &m->relay_ns, err);
		if (r < 0)
			return nslab_err_prefix(err, r, "relay namespace");
	}
	return 0;
}

static int talk(struct nlsock *nl, void *buf, nslab_error *err)
{
	return nlsock_talk(nl, buf, NULL, NULL, err);
}

static int add_addr(struct nlsock *nl, int ifindex, const char *addr, unsigned len,
		    nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct nslab_prefix p;
	int r = prefix_parse(addr, false, &p, err);

	if (r < 0)
		return r;
	p.len = (uint8_t)len;
	r = rtnl_build_addr(buf, sizeof(buf), RTM_NEWADDR, ifindex, &p, IFA_F_NODAD, err);
	return r < 0 ? r : talk(nl, buf, err);
}

static int add_default(struct nlsock *nl, int ifindex, const char *via, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct rtnl_route rt = { .oif = ifindex };
	int r = prefix_parse(via, false, &rt.via, err);

	if (r < 0)
		return r;
	rt.dst.family = rt.via.family;
	r = rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, err);
	return r < 0 ? r : talk(nl, buf, err);
}

static int link_up(struct nlsock *nl, int ifindex, nslab_error *err)
{
	struct rtnl_link_change chg = RTNL_LINK_CHANGE_KEEP;

	chg.up = 1;
	return rtnl_link_set(nl, ifindex, &chg, err);
}

/* Step 2: the veth, its addresses, the jail's default route (and loopback: a joined netns keeps it down). */
static int wire(struct egress_gw *g, bool ipv6, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct rtnl_veth_end a = { .name = EGRESS_GW_IF, .netns_fd = -1, .up = true };
	struct rtnl_veth_end b = { .name = EGRESS_JAIL_IF,
				   .netns_fd = g->jail->fd,
				   .ifindex = JAIL_IFINDEX };
	int gw_if, r;

	r = rtnl_build_veth(buf, sizeof(buf), &a, &b, err);
	if (r >= 0)
		r = talk(g->gw->nl, buf, err);
	if (r >= 0)
		r = rtnl_link_index(g->gw->nl, EGRESS_GW_IF, &gw_if, err);
	if (r >= 0)
		r = link_up(g->jail->nl, 1, err);
	if (r >= 0)
		r = link_up(g->jail->nl, JAIL_IFINDEX, err);
	if (r >= 0)
		r = add_addr(g->gw->nl, gw_if, EGRESS_GW_ADDR4, 30, err);
	if (r >= 0)
		r = add_addr(g->jail->nl, JAIL_IFINDEX, EGRESS_JL_ADDR4, 30, err);
	if (r >= 0)
		r = add_default(g->jail->nl, JAIL_IFINDEX, EGRESS_GW_ADDR4, err);
	if (r >= 0 && ipv6)
		r = add_addr(g->gw->nl, gw_if, EGRESS_GW_ADDR6, 64, err);
	if (r >= 0 && ipv6)
		r = add_addr(g->jail->nl, JAIL_IFINDEX, EGRESS_JL_ADDR6, 64, err);
	if (r >= 0 && ipv6)
		r = add_default(g->jail->nl, JAIL_IFINDEX, EGRESS_GW_ADDR6, err);
	return r < 0 ? nslab_err_prefix(err, r, "link between jail and gateway") : 0;
}

struct load {
	struct egress_gw *g;
	const char *text;
};

static int load_thread(void *data, nslab_error *err)
{
	struct load *l = data;
	int r = nftbl_ctx_new(&l->g->nft, err);

	return r < 0 ? r : nftbl_ctx_run(l->g->nft, l->text, false, NULL, err);
}

/* Step 3. */
static int load_ruleset(struct egress_gw *g, const struct egress_policy *p, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	struct load l = { g, NULL };
	int r = egress_ruleset(p, &text, err);

	if (r < 0)
		return r;
	l.text = text;
	r = netns_call(g->gw->fd, load_thread, &l, err);
	return r < 0 ? nslab_err_prefix(err, r, "gateway ruleset") : 0;
}

/*
 * pasta needs a tap from /dev/net/tun; a user namespace of ours cannot open
 * it when the device is 0600 root (its owner is unmapped there), nor can an
 * unprivileged user. AUTO takes the socket relay then; pasta asked for by
 * name is refused plainly, before anything is built.
 */
int egress_gw_choose_uplink(const struct egress_policy *p, enum egress_uplink *ret,
			    nslab_error *err)
{
	int fd, e;

	*ret = p->uplink;
	if (p->uplink != EGRESS_UPLINK_PASTA && p->uplink != EGRESS_UPLINK_AUTO)
		return 0;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	e = errno;
	if (fd >= 0) {
		close(fd);
		*ret = EGRESS_UPLINK_PASTA;
		return 0;
	}
	if (p->uplink == EGRESS_UPLINK_PASTA)
		return nslab_err_set(err, EPERM,
				     "--egress pasta needs /dev/net/tun, which this user cannot "
				     "open (%s): --egress proxy needs no TUN device",
				     strerrordesc_np(e));
	*ret = EGRESS_UPLINK_PROXY;
	return 0;
}

/*
 * --egress proxy: the gateway's uplink is a veth to the relay namespace
 * (egress-relay.c's DOC), whose ruleset hands TCP and UDP to the relay's
 * sockets and refuses the rest.
 */
#define RELAY_IF       "relay0"
#define RELAY_ADDR4    EGRESS_RELAY_ADDR4
#define RELAY_GW_ADDR  "169.254.54.2"
/* --ipv6: the same link in IPv6 (unique local, never a destination outside) */
#define RELAY_ADDR6    EGRESS_RELAY_ADDR6
#define RELAY_GW_ADDR6 "fd53:6e73:6c61:54::2"

/* How the relay carries echo requests (egress_relay_icmp_probe() in the caller's namespace). */
struct relay_icmp {
	enum egress_relay_icmp v4, v6;
};

/* TCP to the relay's listener (REDIRECT), UDP to its socket (TPROXY), anything else refused. */
static int relay_load_thread(void *data, nslab_error *err)
{
	const struct relay_icmp *icmp = data;
	struct nftbl_ctx *nft = NULL;
	char text[2048];
	int r;

	snprintf(text, sizeof(text),
		 "table inet nslab_relay {\n"
		 "\tchain udp_in {\n"
		 "\t\ttype filter hook prerouting priority mangle; policy accept;\n"
		 "\t\tiifname \"" RELAY_IF "\" meta l4proto udp tproxy to :%d\n"
		 "\t}\n"
		 "\tchain tcp_in {\n"
		 "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		 "\t\tiifname \"" RELAY_IF "\" meta l4proto tcp redirect to :%d\n"
		 "\t}\n"
		 "\tchain input {\n"
		 "\t\ttype filter hook input priority filter; policy accept;\n"
		 "\t\tiifname != \"" RELAY_IF "\" accept\n"
		 /* TPROXY keeps the destination as it was; REDIRECT made it the listener's */
		 "\t\tmeta l4proto udp accept\n"
		 "\t\tmeta l4proto tcp th dport %d accept\n"
		 /* IPv6 neighbour discovery on the link to the gateway */
		 "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
		 "%s%s"
		 "\t\tct state established,related accept\n"
		 "\t\treject with icmpx type admin-prohibited\n"
		 "\t}\n"
		 "}\n",
		 EGRESS_RELAY_PORT, EGRESS_RELAY_PORT, EGRESS_RELAY_PORT,
		 /* to the relay's raw socket (the kernel answers no echo there) */
		 icmp->v4 != EGRESS_RELAY_ICMP_NONE ? "\t\ticmp type echo-request accept\n" : "",
		 icmp->v6 != EGRESS_RELAY_ICMP_NONE ? "\t\ticmpv6 type echo-request accept\n" : "");

	r = nftbl_ctx_new(&nft, err);
	if (r >= 0)
		r = nftbl_ctx_run(nft, text, false, NULL, err);
	nftbl_ctx_free(nft);
	return r;
}

/* --ipv6 through the relay: the link's IPv6 addresses and routes, as for IPv4. */
static int proxy_ipv6(struct egress_gw *g, int gw_ifi, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct rtnl_route local = { .oif = 1, .local = true };
	int r;

	local.dst.family = AF_INET6;
	r = add_addr(g->relay->nl, 2, RELAY_ADDR6, 64, err);
	if (r >= 0)
		r = add_addr(g->gw->nl, gw_ifi, RELAY_GW_ADDR6, 64, err);
	if (r >= 0)
		r = rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &local, err);
	if (r >= 0)
		r = talk(g->relay->nl, buf, err);
	if (r >= 0)
		r = add_default(g->gw->nl, gw_ifi, RELAY_ADDR6, err);
	return r;
}

static int start_proxy(struct egress_gw *g, const struct egress_policy *p, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct rtnl_veth_end a = { .name = "uplink0", .netns_fd = -1, .up = true };
	struct rtnl_veth_end b = { .name = RELAY_IF, .netns_fd = g->relay->fd, .ifindex = 2 };
	struct rtnl_route local = { .oif = 1, .local = true };
	/* on this thread: in the caller's namespace, where the relay's sockets are made */
	struct relay_icmp icmp = { egress_relay_icmp_probe(AF_INET),
				   p->ipv6 ? egress_relay_icmp_probe(AF_INET6)
					   : EGRESS_RELAY_ICMP_NONE };
	int gw_ifi, r;

	local.dst.family = AF_INET;
	r = rtnl_build_veth(buf, sizeof(buf), &a, &b, err);
	if (r >= 0)
		r = talk(g->gw->nl, buf, err);
	if (r >= 0)
		r = rtnl_link_index(g->gw->nl, "uplink0", &gw_ifi, err);
	if (r >= 0)
		r = link_up(g->relay->nl, 1, err);
	if (r >= 0)
		r = link_up(g->relay->nl, 2, err);
	if (r >= 0)
		r = add_addr(g->relay->nl, 2, RELAY_ADDR4, 30, err);
	if (r >= 0)
		r = add_addr(g->gw->nl, gw_ifi, RELAY_GW_ADDR, 30, err);
	/* every destination is the relay namespace's own: nothing is forwarded past it */
	if (r >= 0)
		r = rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &local, err);
	if (r >= 0)
		r = talk(g->relay->nl, buf, err);
	if (r >= 0)
		r = add_default(g->gw->nl, gw_ifi, RELAY_ADDR4, err);
	if (r >= 0 && p->ipv6)
		r = proxy_ipv6(g, gw_ifi, err);
	if (r >= 0)
		r = netns_call(g->relay->fd, relay_load_thread, &icmp, err);
	if (r >= 0)
		r = egress_relay_start(g->relay->fd,
				       &(struct egress_relay_conf){ .host_ports = p->host_ports,
								    .icmp = icmp.v4,
								    .icmp6 = icmp.v6,
								    .ipv6 = p->ipv6 },
				       &g->relay_run, err);
	return r < 0 ? nslab_err_prefix(err, r, "--egress proxy") : 0;
}

/*
 * --host-port, inside the jail: its own 127.0.0.1:PORT leads to the host's
 * too, as a tool told "--proxy http://127.0.0.1:8080" expects (nettrap's
 * use). The jail's output DNATs those to the gateway's address (the path
 * above) and masquerades what leaves eth0 from 127.0.0.0/8;
 * route_localnet lets such packets leave at all. The command has no
 * capability in the jail's namespace: it can change neither. IPv6 has no
 * route_localnet: ::1 stays the jail's own (the host's is at the gateway's
 * IPv6 address).
 */
static int jail_hostport_thread(void *data, nslab_error *err)
{
	const struct egress_policy *p = data;
	struct nftbl_ctx *nft = NULL;
	char text[1024];
	int r;

	snprintf(text, sizeof(text),
		 "table ip nslab_hostport {\n"
		 "\tchain output {\n"
		 "\t\ttype nat hook output priority -100; policy accept;\n"
		 "\t\tip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport { %s } dnat ip "
		 "to " EGRESS_GW_ADDR4 "\n"
		 "\t}\n"
		 "\tchain postrouting {\n"
		 "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		 "\t\toifname \"" EGRESS_JAIL_IF "\" ip saddr 127.0.0.0/8 masquerade\n"
		 "\t}\n"
		 "}\n",
		 p->host_ports);
	r = sysctl_write_in_ns("net/ipv4/conf/all/route_localnet", "1", err);
	if (r >= 0)
		r = nftbl_ctx_new(&nft, err);
	if (r >= 0)
		r = nftbl_ctx_run(nft, text, false, NULL, err);
	nftbl_ctx_free(nft);
	return r < 0 ? nslab_err_prefix(err, r, "--host-port: the jail's loopback") : 0;
}

/*
 * --host-port with --ipv6 through pasta: nslab's own listeners on an address
 * of the gateway's lo, to which its ruleset sends the jail's IPv6 flows to
 * the gateway's host ports (egress-rules.c's put_pasta_ports: pasta's ::1
 * is out of the jail's reach), carried to the caller's ::1 by the relay's
 * threads, which sit in the caller's namespace.
 */
static int start_hostport6(struct egress_gw *g, const struct egress_policy *p, nslab_error *err)
{
	struct egress_relay_conf c = { .host_ports = p->host_ports,
				       .ipv6 = true,
				       .listen6 = EGRESS_HOSTPORT6_ADDR };
	int r = add_addr(g->gw->nl, 1, EGRESS_HOSTPORT6_ADDR, 128, err);

	if (r >= 0)
		r = egress_relay_start(g->gw->fd, &c, &g->relay_run, err);
	return r < 0 ? nslab_err_prefix(err, r, "--host-port (IPv6)") : 0;
}

/*
 * --egress veth (root): a veth from the caller's namespace to the gateway, a
 * /30 of 169.254.128.0/17 chosen by PID (link-local, never a destination),
 * and a masquerade in an nft table with "flags owner": the
 * kernel removes it when the socket that made it closes, so a SIGKILL
 * leaves neither the table nor the veth (it dies with the gateway). The
 * host must already forward IPv4: nslab never turns it on.
 */
#define VETH_RANGE  "169.254.128.0/17"
#define VETH_RANGE6 "fd53:6e73:6c62::/48" /* --ipv6: a /64 of it by PID, unique local */

/* The host's and the gateway's end of the veth in range, a subnet of length len chosen by PID. */
static int veth_addrs(const char *range_text, unsigned len, uint64_t n_subnets,
		      char host[PREFIX_STRLEN], char gw[PREFIX_STRLEN], nslab_error *err)
{
	struct nslab_prefix range, net, a;
	int r = prefix_parse(range_text, true, &range, err);

	if (r >= 0)
		r = prefix_subnet(&range, len, (uint64_t)getpid() % n_subnets, &net, err);
	if (r >= 0)
		r = prefix_host(&net, 1, &a, err);
	if (r < 0)
		return r;
	prefix_format(&a, false, host, PREFIX_STRLEN);
	r = prefix_host(&net, 2, &a, err);
	if (r < 0)
		return r;
	prefix_format(&a, false, gw, PREFIX_STRLEN);
	return 0;
}

static int host_table(struct egress_gw *g, const char *ifname, const char *gw_addr,
		      const char *gw_addr6, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	char rule6[PREFIX_STRLEN + 64] = "";
	int r;

	if (gw_addr6)
		snprintf(rule6, sizeof(rule6), "\t\tip6 saddr %s oifname != \"%s\" masquerade\n",
			 gw_addr6, ifname);
	if (asprintf(&text,
		     "table inet nslab_egress_%d {\n\tflags owner\n"
		     "\tchain postrouting {\n"
		     "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		     "\t\tip saddr %s oifname != \"%s\" masquerade\n%s\t}\n}\n",
		     (int)getpid(), gw_addr, ifname, rule6) < 0)
		return nslab_err_set(err, ENOMEM, "host table");
	r = nftbl_ctx_new(&g->host_nft, err);
	return r < 0 ? r : nftbl_ctx_run(g->host_nft, text, false, NULL, err);
}

/* Whether the caller's namespace forwards (key: its sysctl); nslab never turns it on. */
static int host_forwards(const char *key, const char *name, nslab_error *err)
{
	char fwd[8] = "";

	if (sysctl_read_in_ns(key, fwd, sizeof(fwd), NULL) >= 0 && fwd[0] == '1')
		return 0;
	return nslab_err_setx(err, EOPNOTSUPP,
			      "--egress veth: this host does not forward %s (%s is %s) and nslab "
			      "changes no sysctl of the host: use --egress pasta",
			      name, key, fwd[0] ? fwd : "unreadable");
}

/* --ipv6 through the veth: a /64 of its own, the gateway's IPv6 default route via the host. */
static int veth_ipv6(struct egress_gw *g, struct nlsock *nl, int host_ifi, int gw_ifi,
		     char gw6[PREFIX_STRLEN], nslab_error *err)
{
	char host6[PREFIX_STRLEN], key[64];
	int r = veth_addrs(VETH_RANGE6, 64, 65536, host6, gw6, err);

	/*
	 * The host's end takes conf/default, which may have IPv6 off (a lab's
	 * node has it so): turned on for this link alone, nslab's own, which
	 * takes the setting with it when it goes; nothing else of the host changes
	 */
	snprintf(key, sizeof(key), "net/ipv6/conf/nsgw%d/disable_ipv6", (int)getpid());
	if (r >= 0)
		r = sysctl_write_in_ns(key, "0", err);
	if (r >= 0)
		r = add_addr(nl, host_ifi, host6, 64, err);
	if (r >= 0)
		r = add_addr(g->gw->nl, gw_ifi, gw6, 64, err);
	if (r >= 0)
		r = add_default(g->gw->nl, gw_ifi, host6, err);
	return r;
}

static int start_veth(struct egress_gw *g, const struct egress_policy *p, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	_cleanup_(nlsock_freep) struct nlsock *nl = NULL;
	char host_if[IFNAMSIZ], host[PREFIX_STRLEN], gw[PREFIX_STRLEN], gw6[PREFIX_STRLEN];
	struct rtnl_veth_end a = { .name = host_if, .netns_fd = -1, .up = true };
	struct rtnl_veth_end b = { .name = "uplink0", .netns_fd = g->gw->fd };
	int host_ifi, gw_ifi, r;

	if (geteuid() != 0)
		return nslab_err_setx(err, EPERM, "--egress veth needs root");
	/* replies come in on the host's uplink: forwarding must be on there, and it is not ours to turn on */
	r = host_forwards("net/ipv4/ip_forward", "IPv4", err);
	if (r >= 0 && p->ipv6)
		r = host_forwards("net/ipv6/conf/all/forwarding", "IPv6", err);
	if (r < 0)
		return r;
	snprintf(host_if, sizeof(host_if), "nsgw%d", (int)getpid());
	r = veth_addrs(VETH_RANGE, 30, 8192, host, gw, err);
	if (r >= 0)
		r = nlsock_open(NETLINK_ROUTE, &nl, err);
	if (r >= 0)
		r = rtnl_build_veth(buf, sizeof(buf), &a, &b, err);
	if (r >= 0)
		r = talk(nl, buf, err);
	if (r >= 0)
		r = rtnl_link_index(nl, host_if, &host_ifi, err);
	if (r >= 0)
		r = rtnl_link_index(g->gw->nl, "uplink0", &gw_ifi, err);
	if (r >= 0)
		r = link_up(g->gw->nl, gw_ifi, err);
	if (r >= 0)
		r = add_addr(nl, host_ifi, host, 30, err);
	if (r >= 0)
		r = add_addr(g->gw->nl, gw_ifi, gw, 30, err);
	if (r >= 0)
		r = add_default(g->gw->nl, gw_ifi, host, err);
	if (r >= 0 && p->ipv6)
		r = veth_ipv6(g, nl, host_ifi, gw_ifi, gw6, err);
	if (r >= 0)
		r = host_table(g, host_if, gw, p->ipv6 ? gw6 : NULL, err);
	return r < 0 ? nslab_err_prefix(err, r, "--egress veth") : 0;
}

int egress_gw_start(const struct egress_policy *p, struct egress_gw **ret, nslab_error *err)
{
	_cleanup_(egress_gw_freep) struct egress_gw *g = calloc(1, sizeof(*g));
	_cleanup_close_ int home = -1;
	struct make_ns m = { .ipv6 = p->ipv6 };
	struct egress_policy resolved;
	enum egress_uplink up;
	int r;

	if (!g)
		return nslab_err_set(err, ENOMEM, "gateway");
	/* before any return: egress_gw_free() must not close fd 0 */
	g->pasta_pid = -1;
	g->pasta_pidfd = -1;
	pthread_mutex_init(&g->nft_lock, NULL);
	r = egress_gw_choose_uplink(p, &up, err);
	if (r < 0)
		return r;
	g->uplink = up;
	/* the ruleset differs by uplink (--host-port): written for the one chosen */
	resolved = *p;
	resolved.uplink = up;
	p = &resolved;
	m.relay = up == EGRESS_UPLINK_PROXY;
	/* pasta's --host-port listens on the gateway's loopback: the jail's packets are DNATed there */
	m.localnet = up == EGRESS_UPLINK_PASTA && p->host_ports[0] != 0;
	r = netns_open_current(&home, err);
	if (r < 0)
		return r;
	m.home_fd = home;
	r = netns_call(-1, make_ns_thread, &m, err);
	g->gw = m.gw;
	g->jail = m.jail;
	g->ct = m.ct;
	g->relay = m.relay_ns;
	/* pasta configures its own tap while the link and the ruleset are made */
	if (r >= 0 && up == EGRESS_UPLINK_PASTA)
		r = egress_pasta_start(g, p, err);
	if (r >= 0)
		r = wire(g, p->ipv6, err);
	if (r >= 0)
		r = load_ruleset(g, p, err);
	if (r >= 0 && up == EGRESS_UPLINK_VETH)
		r = start_veth(g, p, err);
	if (r >= 0 && up == EGRESS_UPLINK_PROXY)
		r = start_proxy(g, p, err);
	if (r >= 0 && up == EGRESS_UPLINK_PASTA && p->ipv6 && p->host_ports[0])
		r = start_hostport6(g, p, err);
	if (r >= 0 && p->host_ports[0])
		r = netns_call(g->jail->fd, jail_hostport_thread, (void *)p, err);
	if (r >= 0 && up == EGRESS_UPLINK_PASTA)
		r = egress_pasta_wait_ready(g, p, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(g);
	return 0;
}

struct conns {
	egress_conn_fn fn;
	void *data;
	uint8_t jail4[4], gate4[4], jail6[16], gate6[16];
};

static int conn_cb(const struct ct_entry *e, void *data)
{
	struct conns *c = data;
	bool v4 = e->family == AF_INET;
	size_t alen = v4 ? 4 : 16;
	struct egress_conn out = { .family = e->family,
				   .proto = e->proto,
				   .sport = e->sport,
				   .dport = e->dport,
				   .has_counters = e->has_counters,
				   .out_packets = e->orig_packets,
				   .out_bytes = e->orig_bytes,
				   .in_packets = e->repl_packets,
				   .in_bytes = e->repl_bytes };

	/* the jail's own flows only, and not its DNS to the gate (the gate reports those) */
	if ((e->family != AF_INET && e->family != AF_INET6) ||
	    memcmp(e->src, v4 ? c->jail4 : c->jail6, alen) != 0 ||
	    memcmp(e->dst, v4 ? c->gate4 : c->gate6, alen) == 0)
		return 0;
	memcpy(out.src, e->src, sizeof(out.src));
	memcpy(out.dst, e->dst, sizeof(out.dst));
	c->fn(&out, c->data);
	return 0;
}

int egress_gw_connections(struct egress_gw *g, egress_conn_fn fn, void *data, nslab_error *err)
{
	struct conns c = { .fn = fn, .data = data };
	int r;

	(void)inet_pton(AF_INET, EGRESS_JL_ADDR4, c.jail4);
	(void)inet_pton(AF_INET, EGRESS_GW_ADDR4, c.gate4);
	(void)inet_pton(AF_INET6, EGRESS_JL_ADDR6, c.jail6);
	(void)inet_pton(AF_INET6, EGRESS_GW_ADDR6, c.gate6);
	r = ct_dump(g->ct, AF_INET, conn_cb, &c, err);
	return r < 0 ? r : ct_dump(g->ct, AF_INET6, conn_cb, &c, err);
}

int egress_gw_jail_fd(const struct egress_gw *g)
{
	return g->jail->fd;
}

int egress_gw_nft(struct egress_gw *g, const char *cmds, nslab_error *err)
{
	int r;

	/* a libnftables context is not to be shared by threads at once */
	pthread_mutex_lock(&g->nft_lock);
	r = nftbl_ctx_run(g->nft, cmds, false, NULL, err);
	pthread_mutex_unlock(&g->nft_lock);
	return r;
}

struct egress_gw *egress_gw_free(struct egress_gw *g)
{
	if (!g)
		return NULL;
	if (g->pasta_pid > 0) {
		(void)kill(g->pasta_pid, SIGKILL);
		(void)waitpid(g->pasta_pid, NULL, 0);
	}
	if (g->pasta_pidfd >= 0)
		close(g->pasta_pidfd);
	egress_relay_free(g->relay_run); /* its threads joined before the namespaces go */
	netns_free(g->relay);
	nftbl_ctx_free(g->nft);
	nftbl_ctx_free(g->host_nft); /* its socket owned the host's table: gone with it */
	nlsock_free(g->ct);
	netns_free(g->jail);
	netns_free(g->gw);
	pthread_mutex_destroy(&g->nft_lock);
	free(g);
	return NULL;
}
