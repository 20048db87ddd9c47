// SPDX-License-Identifier: MIT
/*
 * bench-floor: the kernel floor for bench/lab-scale.sh. No nslab code.
 *
 * For each N given on the command line: create a "home" network namespace,
 * then N namespaces (unshare(CLONE_NEWNET) on the main thread, keep
 * /proc/thread-self/ns/net open, setns back home), then N veth pairs over
 * rtnetlink, one RTM_NEWLINK per pair, one end in home and the peer placed in
 * namespace i with IFLA_NET_NS_FD. Then close everything. Prints the elapsed
 * milliseconds for creating and for closing. No bookkeeping, no addresses,
 * no links set up: the bare cost of the kernel objects.
 *
 * Closing is closing the fds and leaving home; the kernel frees the
 * namespaces (and the veths in them) afterwards, in its cleanup_net worker.
 *
 * usage: bench-floor N [N...]    (root)
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/resource.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <libmnl/libmnl.h>

#include "floor.h"

#define BUFSZ 8192

static void veth_pair(struct mnl_socket *nl, char *buf, unsigned seq, unsigned i, int peer_ns)
{
	char name[IFNAMSIZ];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	snprintf(name, sizeof(name), "h%u", i);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die("netlink send");
	ssize_t n = mnl_socket_recvfrom(nl, buf, BUFSZ);
	if (n < 0)
		die("netlink recv");
	if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		die("RTM_NEWLINK veth");
}

static void run(unsigned n, int orig_ns)
{
	int *fds = calloc(n ? n : 1, sizeof(*fds));
	static char buf[BUFSZ];
	if (!fds)
		die("calloc");

	double t0 = now_ms();
	int home = new_netns();
	for (unsigned i = 0; i < n; i++) {
		fds[i] = new_netns();
		if (setns(home, CLONE_NEWNET) < 0)
			die("setns home");
	}
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE); /* in home */
	if (!nl)
		die("mnl_socket_open");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("mnl_socket_bind");
	for (unsigned i = 0; i < n; i++)
		veth_pair(nl, buf, i + 1, i, fds[i]);
	double t1 = now_ms();

	mnl_socket_close(nl);
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
	if (setns(orig_ns, CLONE_NEWNET) < 0)
		die("setns back");
	close(home);
	double t2 = now_ms();

	printf("%u create_ms %.1f close_ms %.1f\n", n, t1 - t0, t2 - t1);
	fflush(stdout);
	free(fds);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s N [N...]\n", argv[0]);
		return 2;
	}
	raise_nofile();
	int orig_ns = open_netns();
	for (int a = 1; a < argc; a++) {
		char *end;
		unsigned long n = strtoul(argv[a], &end, 10);
		if (*end || end == argv[a] || n > 1000000) {
			fprintf(stderr, "bench-floor: bad count '%s'\n", argv[a]);
			return 2;
		}
		run((unsigned)n, orig_ns);
	}
	close(orig_ns);
	return 0;
}
