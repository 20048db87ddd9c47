/* SPDX-License-Identifier: MIT */
/*
 * lab/ra: Router Advertisements on a router's bridge (see ra.h). Devices
 * keep the kernel's defaults (accept_ra 1, autoconf 1, not forwarding), so
 * their own kernel makes the EUI-64 address the plan predicts and a default
 * route through the router's link-local address.
 */
#include "lab/ra.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab/plan.h"
#include "shared/macro.h"

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

size_t ra_build(const struct plan_node *pn, uint8_t buf[RA_MAX])
{
	size_t n = 16;

	if (pn->down6.family != AF_INET6 || pn->down6.len != 64)
		return 0;
	memset(buf, 0, RA_MAX);
	buf[0] = ND_ROUTER_ADVERT;
	buf[4] = 64; /* current hop limit */
	put16(buf + 6, RA_ROUTER_LIFETIME);
	/* source link-layer address: devices need no neighbour solicitation first */
	buf[n] = ND_OPT_SOURCE_LINKADDR;
	buf[n + 1] = 1;
	memcpy(buf + n + 2, pn->bridge_mac, 6);
	n += 8;
	if (pn->mtu) {
		buf[n] = ND_OPT_MTU;
		buf[n + 1] = 1;
		put32(buf + n + 4, pn->mtu);
		n += 8;
	}
	buf[n] = ND_OPT_PREFIX_INFORMATION;
	buf[n + 1] = 4;
	buf[n + 2] = 64;
	buf[n + 3] = ND_OPT_PI_FLAG_ONLINK | ND_OPT_PI_FLAG_AUTO;
	put32(buf + n + 4, UINT32_MAX); /* valid lifetime: infinite */
	put32(buf + n + 8, UINT32_MAX); /* preferred lifetime: infinite */
	memcpy(buf + n + 16, pn->down6.addr, 8);
	return n + 32;
}

int ra_open_in_ns(int ifindex, int *ret_fd, nslab_error *err)
{
	_cleanup_close_ int fd =
		socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6);
	struct ipv6_mreq all_routers = { .ipv6mr_interface = (unsigned)ifindex };
	struct icmp6_filter filter;
	int hops = 255;

	if (fd < 0)
		return nslab_err_set(err, errno, "RA socket");
	ICMP6_FILTER_SETBLOCKALL(&filter);
	ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &filter);
	/* RFC 4861 6.1.2: a host drops an RA whose hop limit is not 255 */
	/*
	 * Bound to the bridge: a router's uplink hears its upstream's devices
	 * solicit, and an answer there would make it their router too.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex, sizeof(ifindex)) < 0 ||
	    setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0)
		return nslab_err_set(err, errno, "RA socket options");
	/*
	 * Solicitations go to all routers (ff02::2), a group the bridge joins
	 * only as a router (forwarding on), which it is not (see build.c): join
	 * it here, as radvd does, or they are dropped before any socket.
	 */
	all_routers.ipv6mr_multiaddr.s6_addr[0] = 0xff;
	all_routers.ipv6mr_multiaddr.s6_addr[1] = 0x02;
	all_routers.ipv6mr_multiaddr.s6_addr[15] = 0x02;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &all_routers, sizeof(all_routers)) < 0)
		return nslab_err_set(err, errno, "RA socket: join ff02::2");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int send_to(int fd, const struct plan_node *pn, const struct sockaddr_in6 *to,
		   nslab_error *err)
{
	uint8_t buf[RA_MAX];
	size_t len = ra_build(pn, buf);

	if (len &&
	    sendto(fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)) != (ssize_t)len)
		return nslab_err_set(err, errno, "router '%s': send RA", pn->name);
	return 0;
}

int ra_send(int fd, const struct plan_node *pn, nslab_error *err)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };

	to.sin6_addr.s6_addr[0] = 0xff;
	to.sin6_addr.s6_addr[1] = 0x02;
	to.sin6_addr.s6_addr[15] = 0x01;
	return send_to(fd, pn, &to, err);
}

int ra_answer(int fd, const struct plan_node *pn, nslab_error *err)
{
	uint8_t buf[256];
	int r = 0;

	for (unsigned i = 0; r >= 0 && i < RA_ANSWERS_MAX; i++) {
		struct sockaddr_in6 from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);

		if (n < 0)
			return errno == EAGAIN ? 0 : nslab_err_set(err, errno, "read RS");
		if (n < 8 || buf[0] != ND_ROUTER_SOLICIT || fromlen != sizeof(from))
			continue;
		/* a host that has no address yet solicits from :: and hears the multicast */
		r = IN6_IS_ADDR_UNSPECIFIED(&from.sin6_addr) ? ra_send(fd, pn, err)
							     : send_to(fd, pn, &from, err);
	}
	return r;
}
