/* SPDX-License-Identifier: MIT */
/*
 * nlrecord: record the kernel's rtnetlink replies used as test fixtures
 * (the .nlmsg files in tests/fixtures/, replayed by tests/unit/test-rtnl.c and seeded into
 * tests/fuzz/corpus/rtnl/).
 *
 * It moves into a private network namespace (and makes a second one for a veth
 * peer), sets up a small topology with ip(8), sends requests over its own
 * NETLINK_ROUTE socket, and writes the raw reply messages, as received, to
 * one file each. Nothing outside the two private namespaces is touched.
 *
 * Build and run (root, or a user namespace with CAP_NET_ADMIN; needs ip(8)):
 *   gcc -O2 -Wall -Wextra -o /tmp/nlrecord tests/tools/nlrecord.c -lmnl
 *   /tmp/nlrecord tests/fixtures
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#define BUFSIZE 32768

enum keep {
	KEEP_DATA = 1, /* the data messages (RTM_NEW*) */
	KEEP_END = 2,  /* the message that ends the request (NLMSG_ERROR / NLMSG_DONE) */
};

static struct mnl_socket *nl;
static unsigned seq = 1000;
static const char *outdir;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "nlrecord: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		die("'%s' failed", cmd);
}

/* Send nlh and write the replies chosen by keep to outdir/name. */
static void record(struct nlmsghdr *nlh, const char *name, int keep)
{
	static char buf[BUFSIZE], out[1 << 20];
	size_t used = 0;
	char path[4096];
	FILE *f;

	nlh->nlmsg_seq = ++seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die("send for %s: %s", name, strerror(errno));
	for (int done = 0; !done;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		int len = (int)n;

		if (n < 0)
			die("receive for %s: %s", name, strerror(errno));
		for (struct nlmsghdr *m = (void *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			int end = m->nlmsg_type == NLMSG_ERROR || m->nlmsg_type == NLMSG_DONE;

			if (m->nlmsg_seq != seq)
				continue;
			done |= end;
			if (!(keep & (end ? KEEP_END : KEEP_DATA)))
				continue;
			if (used + m->nlmsg_len > sizeof(out))
				die("%s: too many replies", name);
			memcpy(out + used, m, m->nlmsg_len);
			used += m->nlmsg_len;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(out, 1, used, f) != used || fclose(f) != 0)
		die("write %s: %s", path, strerror(errno));
	printf("%s: %zu bytes\n", path, used);
}

static struct nlmsghdr *req(char *buf, int type, int flags, size_t hdr, int family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	*(unsigned char *)mnl_nlmsg_put_extra_header(nlh, hdr) = family;
	return nlh;
}

static void record_link(const char *ifname, const char *file)
{
	char buf[BUFSIZE];
	struct nlmsghdr *nlh = req(buf, RTM_GETLINK, 0, sizeof(struct ifinfomsg), AF_UNSPEC);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	record(nlh, file, KEEP_DATA);
}

static void record_addrs(int ifindex)
{
	char buf[BUFSIZE];
	struct nlmsghdr *nlh =
		req(buf, RTM_GETADDR, NLM_F_DUMP, sizeof(struct ifaddrmsg), AF_UNSPEC);

	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_index = ifindex;
	record(nlh, "rtnl-addr.nlmsg", KEEP_DATA);
	/* The same dump's end, for the NLMSG_DONE parser */
	nlh = req(buf, RTM_GETADDR, NLM_F_DUMP, sizeof(struct ifaddrmsg), AF_UNSPEC);
	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_index = ifindex;
	record(nlh, "nlmsg-done.nlmsg", KEEP_END);
}

static void record_routes(int family, unsigned table, const char *file)
{
	char buf[BUFSIZE];
	struct nlmsghdr *nlh = req(buf, RTM_GETROUTE, NLM_F_DUMP, sizeof(struct rtmsg), family);

	mnl_attr_put_u32(nlh, RTA_TABLE, table); /* a filter, thanks to NETLINK_GET_STRICT_CHK */
	record(nlh, file, KEEP_DATA);
}

static void record_neighs(int ifindex)
{
	char buf[BUFSIZE];
	struct nlmsghdr *nlh = req(buf, RTM_GETNEIGH, NLM_F_DUMP, sizeof(struct ndmsg), AF_INET);

	mnl_attr_put_u32(nlh, NDA_IFINDEX, ifindex); /* a filter, as RTA_TABLE above */
	record(nlh, "rtnl-neigh-v4.nlmsg", KEEP_DATA);
	nlh = req(buf, RTM_GETNEIGH, NLM_F_DUMP, sizeof(struct ndmsg), AF_INET6);
	mnl_attr_put_u32(nlh, NDA_IFINDEX, ifindex);
	record(nlh, "rtnl-neigh-v6.nlmsg", KEEP_DATA);
}

/* RTM_NEWADDR of 10.0.0.x/24: an ACK for a new one, EEXIST with extended-ACK text for 10.0.0.1. */
static void record_acks(int ifindex)
{
	static const char *const addrs[] = { "10.0.0.9", "10.0.0.1" };
	static const char *const files[] = { "nlmsg-ack.nlmsg", "nlmsg-error-eexist.nlmsg" };

	for (int i = 0; i < 2; i++) {
		char buf[BUFSIZE];
		struct nlmsghdr *nlh = req(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
					   sizeof(struct ifaddrmsg), AF_INET);
		struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
		struct in_addr a;

		ifa->ifa_prefixlen = 24;
		ifa->ifa_index = ifindex;
		inet_pton(AF_INET, addrs[i], &a);
		mnl_attr_put(nlh, IFA_LOCAL, 4, &a);
		mnl_attr_put(nlh, IFA_ADDRESS, 4, &a);
		record(nlh, files[i], KEEP_END);
	}
}

static void setup(int fd_b)
{
	sh("ip link set lo up");
	sh("ip link add br0 address 02:00:00:00:00:b0 type bridge");
	sh("ip link set br0 addrgenmode none");
	sh("ip link add v0 address 02:00:00:00:00:a0 type veth peer name v1 "
	   "address 02:00:00:00:00:a1 netns /proc/self/fd/%d",
	   fd_b);
	sh("ip link set v0 addrgenmode none");
	sh("ip link set v0 master br0 up");
	sh("ip link set br0 up");
	sh("ip addr add 10.0.0.1/24 dev br0");
	sh("ip -6 addr add 2001:db8::1/64 dev br0 nodad");
	sh("ip route add default via 10.0.0.254 proto static");
	sh("ip route add 10.1.0.0/16 dev br0 proto static");
	sh("ip route add 10.2.0.0/16 via 10.0.0.254 table 1000 metric 50 proto static");
	sh("ip -6 route add default via 2001:db8::fe proto static");
	sh("ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev br0 nud permanent");
	sh("ip -6 neigh add 2001:db8::2 lladdr 02:00:00:00:00:03 dev br0 nud permanent");
}

int main(int argc, char **argv)
{
	int fd_a, fd_b, one = 1, br0;

	if (argc != 2)
		die("usage: nlrecord OUTDIR");
	outdir = argv[1];
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare: %s", strerror(errno));
	fd_a = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd_a < 0 || unshare(CLONE_NEWNET) < 0)
		die("second namespace: %s", strerror(errno));
	fd_b = open("/proc/thread-self/ns/net", O_RDONLY); /* inherited by ip(8) */
	if (fd_b < 0)
		die("open second namespace: %s", strerror(errno));
	sh("ip link set lo up");
	if (setns(fd_a, CLONE_NEWNET) < 0)
		die("setns: %s", strerror(errno));
	setup(fd_b);
	if (setns(fd_b, CLONE_NEWNET) < 0 || system("ip link set v1 up") != 0 ||
	    setns(fd_a, CLONE_NEWNET) < 0)
		die("bring the peer up: %s", strerror(errno));
	br0 = (int)if_nametoindex("br0");

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink socket: %s", strerror(errno));
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_GET_STRICT_CHK, &one, sizeof(one));

	record_link("v0", "rtnl-link-veth.nlmsg");
	record_link("br0", "rtnl-link-bridge.nlmsg");
	record_link("lo", "rtnl-link-lo.nlmsg");
	record_addrs(br0);
	record_routes(AF_INET, RT_TABLE_MAIN, "rtnl-route-v4.nlmsg");
	record_routes(AF_INET6, RT_TABLE_MAIN, "rtnl-route-v6.nlmsg");
	record_routes(AF_INET, 1000, "rtnl-route-table.nlmsg");
	record_neighs(br0);
	record_acks(br0);
	mnl_socket_close(nl);
	return 0;
}
