// SPDX-License-Identifier: MIT
/*
 * bench-natfloor: the kernel floor of a NAT lab for bench/nat.sh. No nslab code.
 *
 * The kernel work of `nslab up` on bench/nat.sh's lab (ROUTERS routers under
 * one ISP, one device behind each), done the cheapest way this program knows:
 *
 * - the same namespaces: a lab root, the ISP, ROUTERS routers, ROUTERS
 *   devices; each made by unshare(CLONE_NEWNET), which also opens its
 *   rtnetlink (and, for a router given rules, nfnetlink) socket there and
 *   writes the forwarding sysctls of a router while inside;
 * - the same links: the root's IX bridge, a bridge in the ISP and in each
 *   router, one veth pair per link created up, already enslaved to the
 *   upstream's bridge and with the peer put in the downstream namespace with
 *   the interface index chosen (no lookups);
 * - the same addresses (IPv4, IPv6 and a link-local on every addressed
 *   interface, no DAD, no kernel-made link-locals) and routes (default
 *   routes both families, the ISP's route to each router's IPv6 prefix, and
 *   to its IPv4 one when there is no NAT), each namespace's messages sent as
 *   one batch with the acknowledgements read once;
 * - with RULES (a ruleset file, what `nft list ruleset` shows in one of
 *   nslab's routers), the same nftables rules in every router: libnftables
 *   parses the file once, in a scratch namespace, and the netlink batch it
 *   sends is kept (sendmsg() is interposed below) and replayed as bytes on
 *   each router's own nfnetlink socket. No parser, no cache dumps, one
 *   sendmsg() a router: the kernel's work only. The addresses inside are the
 *   first router's in every router; the kernel's work does not depend on them.
 *
 * Prints "natfloor: ROUTERS routers create_ms T nft_ms U" (U is included in
 * T). Closing is closing the fds; the kernel frees the namespaces later.
 *
 * usage: bench-natfloor ROUTERS [RULES]    (root)
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <libmnl/libmnl.h>
#include <nftables/libnftables.h>

#include "floor.h"

#define BATCHSZ (256 * 1024)

struct ns {
	int fd;		       /* the namespace */
	struct mnl_socket *rt; /* rtnetlink, in it */
	struct mnl_socket *nf; /* nfnetlink, in it (routers with rules) */
	char *buf;	       /* its rtnetlink batch */
	size_t len;
	unsigned count;
	unsigned next_ifindex;
	unsigned br;	 /* its bridge, if it has one */
	unsigned uplink; /* its interface towards its upstream */
};

/* ---- the nftables batch, kept from libnftables' sendmsg() ---- */

static bool capturing;
static char *nft_batch;
static size_t nft_batch_len;

/* Interposed: libnftables sends its batch through sendmsg(); keep a copy of it. */
ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);
	size_t len = 0;

	if (!real)
		real = (ssize_t(*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
	if (capturing && msg->msg_iovlen && msg->msg_iov[0].iov_len >= sizeof(struct nlmsghdr) &&
	    ((struct nlmsghdr *)msg->msg_iov[0].iov_base)->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
		for (size_t i = 0; i < msg->msg_iovlen; i++)
			len += msg->msg_iov[i].iov_len;
		nft_batch = realloc(nft_batch, nft_batch_len + len);
		if (!nft_batch)
			die("realloc");
		for (size_t i = 0; i < msg->msg_iovlen; i++) {
			memcpy(nft_batch + nft_batch_len, msg->msg_iov[i].iov_base,
			       msg->msg_iov[i].iov_len);
			nft_batch_len += msg->msg_iov[i].iov_len;
		}
	}
	return real(fd, msg, flags);
}

/* Parse RULES once, in a namespace of its own, keeping the batch it makes. */
static void capture_rules(const char *file, int orig_ns)
{
	struct nft_ctx *nft;

	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET) for the rules");
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft)
		die("nft_ctx_new");
	capturing = true;
	if (nft_run_cmd_from_filename(nft, file) != 0) {
		fprintf(stderr, "bench-natfloor: libnftables refused %s\n", file);
		exit(1);
	}
	capturing = false;
	nft_ctx_free(nft);
	if (!nft_batch_len) {
		fprintf(stderr, "bench-natfloor: no batch seen for %s\n", file);
		exit(1);
	}
	if (setns(orig_ns, CLONE_NEWNET) < 0)
		die("setns back");
}

/* The kernel handles a batch inside sendmsg(): its answers are queued on return. */
static void replay_rules(struct ns *n)
{
	static char buf[65536];
	ssize_t r;

	if (mnl_socket_sendto(n->nf, nft_batch, nft_batch_len) < 0)
		die("nfnetlink send");
	while ((r = recv(mnl_socket_get_fd(n->nf), buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		if (mnl_cb_run(buf, (size_t)r, 0, 0, NULL, NULL) < 0)
			die("nftables batch");
	if (r < 0 && errno != EAGAIN)
		die("nfnetlink recv");
}

/* ---- namespaces ---- */

static void write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		die(path);
	close(fd);
}

static struct mnl_socket *socket_here(int bus)
{
	struct mnl_socket *s = mnl_socket_open(bus);

	if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink socket");
	return s;
}

static struct nlmsghdr *msg_new(struct ns *n, uint16_t type, uint16_t flags);
static void ns_flush(struct ns *n);
static void msg_end(struct ns *n, struct nlmsghdr *nlh);

static void lo_up(struct ns *n)
{
	struct nlmsghdr *nlh = msg_new(n, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_index = 1;
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	msg_end(n, nlh);
}

static unsigned bridge(struct ns *n, const char *name);
static unsigned veth(struct ns *down, const char *name, struct ns *up, const char *peer,
		     unsigned *peer_index);
static void port(struct ns *n, unsigned ifindex);

/*
 * A new namespace, its sockets opened inside, its bridge BR (if any) and its
 * link to UP (if any, named UPLINK here, PEER there) made; back HOME after.
 * Interfaces made later in a bridge owner are bridge ports: no IPv6 on them
 * (no per-device IPv6 sysctl tables, no link-local, no MLD).
 */
static void ns_new(struct ns *n, int home, const char *br, struct ns *up, const char *uplink,
		   const char *peer, bool nft)
{
	unsigned peer_index;

	n->fd = new_netns();
	n->rt = socket_here(NETLINK_ROUTE);
	if (nft)
		n->nf = socket_here(NETLINK_NETFILTER);
	if (br) {
		write_file("/proc/sys/net/ipv4/ip_forward", "1");
		write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	}
	n->buf = malloc(BATCHSZ);
	if (!n->buf)
		die("malloc");
	n->next_ifindex = 2; /* lo is 1 */
	lo_up(n);
	if (br)
		n->br = bridge(n, br);
	if (up) {
		n->uplink = veth(n, uplink, up, peer, &peer_index);
		port(up, peer_index);
	}
	ns_flush(n);
	if (br)
		write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (home >= 0 && setns(home, CLONE_NEWNET) < 0)
		die("setns home");
}

static struct nlmsghdr *msg_new(struct ns *n, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	/* each acknowledgement costs a socket buffer's worth of truesize: 128 fit */
	if (n->count >= 128 || n->len + 4096 > BATCHSZ)
		ns_flush(n);
	nlh = mnl_nlmsg_put_header(n->buf + n->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++n->count;
	return nlh;
}

static void msg_end(struct ns *n, struct nlmsghdr *nlh)
{
	n->len += nlh->nlmsg_len;
}

static void ns_flush(struct ns *n)
{
	static char buf[65536];
	unsigned acks = 0;

	if (!n->len)
		return;
	if (mnl_socket_sendto(n->rt, n->buf, n->len) < 0)
		die("rtnetlink send");
	while (acks < n->count) {
		ssize_t r = mnl_socket_recvfrom(n->rt, buf, sizeof(buf));

		if (r < 0) {
			fprintf(stderr, "bench-natfloor: %u of %u acks: ", acks, n->count);
			die("rtnetlink recv");
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, (int)r);
		     h = mnl_nlmsg_next(h, (int *)&r)) {
			struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (e->error) {
				errno = -e->error;
				fprintf(stderr, "bench-natfloor: request %u: ", h->nlmsg_seq);
				die("rtnetlink");
			}
			acks++;
		}
	}
	n->len = 0;
	n->count = 0;
}

/* ---- links, addresses, routes ---- */

/*
 * Set up, without a kernel-made link-local (IFLA_AF_SPEC is refused on a
 * link being created: the IPv6 side of it does not exist yet).
 */
static void up_no_ll(struct ns *n, unsigned ifindex)
{
	struct nlmsghdr *nlh = msg_new(n, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	struct nlattr *in6 = mnl_attr_nest_start(nlh, AF_INET6);

	ifi->ifi_index = (int)ifindex;
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, spec);
	msg_end(n, nlh);
}

static unsigned bridge(struct ns *n, const char *name)
{
	struct nlmsghdr *nlh = msg_new(n, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *li;

	ifi->ifi_index = (int)n->next_ifindex++;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, li);
	msg_end(n, nlh);
	up_no_ll(n, (unsigned)ifi->ifi_index);
	return (unsigned)ifi->ifi_index;
}

/*
 * The link to UP, made from inside DOWN: NAME here, PEER in UP (up there once
 * enslaved to UP's bridge, see port()). Returns NAME's index.
 */
static unsigned veth(struct ns *down, const char *name, struct ns *up, const char *peer,
		     unsigned *peer_index)
{
	struct nlmsghdr *nlh = msg_new(down, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi)), *pifi;
	struct nlattr *li, *data, *pn;

	*peer_index = up->next_ifindex++;
	ifi->ifi_index = (int)down->next_ifindex++;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pn = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_index = (int)*peer_index;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)up->fd);
	mnl_attr_nest_end(nlh, pn);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	msg_end(down, nlh);
	up_no_ll(down, (unsigned)ifi->ifi_index);
	return (unsigned)ifi->ifi_index;
}

/* A bridge port: enslaved and up (it has no IPv6, see ns_new()). */
static void port(struct ns *n, unsigned ifindex)
{
	struct nlmsghdr *nlh = msg_new(n, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_index = (int)ifindex;
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MASTER, n->br);
	msg_end(n, nlh);
}

static void addr(struct ns *n, unsigned ifindex, int family, const char *text, unsigned plen)
{
	struct nlmsghdr *nlh = msg_new(n, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	unsigned char a[16];

	if (inet_pton(family, text, a) != 1)
		die(text);
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_index = ifindex;
	ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, family == AF_INET ? 4 : 16, a);
	if (family == AF_INET)
		mnl_attr_put(nlh, IFA_ADDRESS, 4, a);
	else
		mnl_attr_put(nlh, IFA_ADDRESS, 16, a);
	msg_end(n, nlh);
}

/* Both families and a link-local; N is what makes them unique in their subnets. */
static void addrs(struct ns *n, unsigned ifindex, const char *v4, unsigned plen4, const char *v6,
		  unsigned plen6)
{
	char ll[64];

	addr(n, ifindex, AF_INET, v4, plen4);
	addr(n, ifindex, AF_INET6, v6, plen6);
	snprintf(ll, sizeof(ll), "fe80::%x:%x", n->fd, ifindex);
	addr(n, ifindex, AF_INET6, ll, 64);
}

static void route(struct ns *n, int family, const char *dst, unsigned plen, const char *via)
{
	struct nlmsghdr *nlh = msg_new(n, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	unsigned char a[16];
	size_t alen = family == AF_INET ? 4 : 16;

	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	if (dst) {
		if (inet_pton(family, dst, a) != 1)
			die(dst);
		mnl_attr_put(nlh, RTA_DST, alen, a);
	}
	if (inet_pton(family, via, a) != 1)
		die(via);
	mnl_attr_put(nlh, RTA_GATEWAY, alen, a);
	msg_end(n, nlh);
}

/* ---- the lab ---- */

struct lab {
	unsigned routers;
	struct ns root, isp, *r, *d;
};

static void build(struct lab *l)
{
	char a[64], b[64], name[64];
	bool nft = nft_batch_len > 0;
	int home;

	ns_new(&l->root, -1, "ix", NULL, NULL, NULL, false); /* where this thread stays */
	home = l->root.fd;
	addrs(&l->root, l->root.br, "198.18.0.1", 22, "2001:db8::1", 64);
	ns_new(&l->isp, home, "br0", &l->root, "ix", "isp", false);
	addrs(&l->isp, l->isp.uplink, "198.18.0.2", 22, "2001:db8::2", 64);
	addrs(&l->isp, l->isp.br, "100.64.0.1", 16, "2001:db8:1:1::1", 64);
	route(&l->isp, AF_INET, NULL, 0, "198.18.0.1");
	route(&l->isp, AF_INET6, NULL, 0, "2001:db8::1");
	for (unsigned i = 0; i < l->routers; i++) {
		struct ns *r = &l->r[i], *d = &l->d[i];

		snprintf(name, sizeof(name), "r%u.wan", i + 1);
		ns_new(r, home, "br0", &l->isp, "wan", name, nft);
		snprintf(name, sizeof(name), "d%u.eth0", i + 1);
		ns_new(d, home, NULL, r, "eth0", name, false);

		snprintf(a, sizeof(a), "100.64.%u.%u", (i + 2) / 256, (i + 2) % 256);
		snprintf(b, sizeof(b), "2001:db8:1:1::%x", i + 2);
		addrs(r, r->uplink, a, 16, b, 64);
		route(r, AF_INET, NULL, 0, "100.64.0.1");
		route(r, AF_INET6, NULL, 0, "2001:db8:1:1::1");
		snprintf(name, sizeof(name), "fd10:0:%x:%x::", i / 65536, i % 65536);
		route(&l->isp, AF_INET6, name, 64, b);
		if (!nft) { /* without NAT the ISP routes the private subnet too */
			snprintf(name, sizeof(name), "10.%u.%u.0", i / 256, i % 256);
			route(&l->isp, AF_INET, name, 24, a);
		}

		snprintf(a, sizeof(a), "10.%u.%u.1", i / 256, i % 256);
		snprintf(b, sizeof(b), "fd10:0:%x:%x::1", i / 65536, i % 65536);
		addrs(r, r->br, a, 24, b, 64);
		snprintf(a, sizeof(a), "10.%u.%u.2", i / 256, i % 256);
		snprintf(b, sizeof(b), "fd10:0:%x:%x::2", i / 65536, i % 65536);
		addrs(d, d->uplink, a, 24, b, 64);
		snprintf(a, sizeof(a), "10.%u.%u.1", i / 256, i % 256);
		snprintf(b, sizeof(b), "fd10:0:%x:%x::1", i / 65536, i % 65536);
		route(d, AF_INET, NULL, 0, a);
		route(d, AF_INET6, NULL, 0, b);
	}
	ns_flush(&l->root);
	ns_flush(&l->isp);
	for (unsigned i = 0; i < l->routers; i++) {
		ns_flush(&l->r[i]);
		ns_flush(&l->d[i]);
	}
}

static void ns_close(struct ns *n)
{
	mnl_socket_close(n->rt);
	if (n->nf)
		mnl_socket_close(n->nf);
	close(n->fd);
	free(n->buf);
}

int main(int argc, char **argv)
{
	struct lab l = { 0 };
	char *end;
	int orig_ns;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s ROUTERS [RULES]\n", argv[0]);
		return 2;
	}
	l.routers = (unsigned)strtoul(argv[1], &end, 10);
	if (*end || end == argv[1] || l.routers < 1 || l.routers > 60000) {
		fprintf(stderr, "bench-natfloor: bad router count '%s'\n", argv[1]);
		return 2;
	}
	raise_nofile();
	orig_ns = open_netns();
	if (argc == 3)
		capture_rules(argv[2], orig_ns);
	l.r = calloc(l.routers, sizeof(*l.r));
	l.d = calloc(l.routers, sizeof(*l.d));
	if (!l.r || !l.d)
		die("calloc");

	double t0 = now_ms();
	build(&l);
	double t1 = now_ms();
	for (unsigned i = 0; nft_batch_len && i < l.routers; i++)
		replay_rules(&l.r[i]);
	double t2 = now_ms();

	printf("natfloor: %u routers create_ms %.1f nft_ms %.1f\n", l.routers, t2 - t0, t2 - t1);
	fflush(stdout);
	ns_close(&l.root);
	ns_close(&l.isp);
	for (unsigned i = 0; i < l.routers; i++) {
		ns_close(&l.r[i]);
		ns_close(&l.d[i]);
	}
	if (setns(orig_ns, CLONE_NEWNET) < 0)
		die("setns back");
	close(orig_ns);
	free(l.r);
	free(l.d);
	free(nft_batch);
	return 0;
}
