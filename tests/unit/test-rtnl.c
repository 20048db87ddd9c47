/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of nl/: every rtnetlink builder checked on its bytes, every parser
 * on kernel replies recorded by tests/tools/nlrecord.c (tests/fixtures/), the
 * ACK parser, message names and batches. No privileges, no kernel.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <libmnl/libmnl.h>

#include "nl/nlsock.h"
#include "nl/rtnl.h"

#define TBMAX 128

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

/* ------------------------------------------------------------------ helpers */

/* Index the attributes in [start, start + len); assert they fill it exactly, once each. */
static int collect(const void *start, size_t len, const struct nlattr **tb)
{
	const struct nlattr *attr;
	int n = 0;

	memset(tb, 0, TBMAX * sizeof(*tb));
	for (attr = start; mnl_attr_ok(attr, (const char *)start + len - (const char *)attr);
	     attr = mnl_attr_next(attr)) {
		uint16_t type = mnl_attr_get_type(attr);

		assert_true(type < TBMAX);
		assert_null(tb[type]);
		tb[type] = attr;
		n++;
	}
	assert_ptr_equal((const char *)attr, (const char *)start + len);
	return n;
}

static int collect_msg(const struct nlmsghdr *nlh, size_t hdr, const struct nlattr **tb)
{
	return collect((const char *)mnl_nlmsg_get_payload(nlh) + MNL_ALIGN(hdr),
		       nlh->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(hdr), tb);
}

static int collect_nest(const struct nlattr *nest, size_t skip, const struct nlattr **tb)
{
	assert_non_null(nest);
	return collect((const char *)mnl_attr_get_payload(nest) + skip,
		       mnl_attr_get_payload_len(nest) - skip, tb);
}

static void assert_str_attr(const struct nlattr *attr, const char *s)
{
	assert_non_null(attr);
	assert_int_equal(mnl_attr_get_payload_len(attr), strlen(s) + 1);
	assert_string_equal(mnl_attr_get_str(attr), s);
}

static void assert_u32_attr(const struct nlattr *attr, uint32_t v)
{
	assert_non_null(attr);
	assert_int_equal(mnl_attr_get_payload_len(attr), 4);
	assert_int_equal(mnl_attr_get_u32(attr), v);
}

static void assert_bin_attr(const struct nlattr *attr, const void *data, size_t len)
{
	assert_non_null(attr);
	assert_int_equal(mnl_attr_get_payload_len(attr), len);
	assert_memory_equal(mnl_attr_get_payload(attr), data, len);
}

static void assert_header(const struct nlmsghdr *nlh, int type, int flags, size_t hdr)
{
	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | flags);
	assert_true(nlh->nlmsg_len >= MNL_NLMSG_HDRLEN + MNL_ALIGN(hdr));
	assert_int_equal(nlh->nlmsg_len % 4, 0);
}

static struct nslab_prefix pfx(const char *s)
{
	struct nslab_prefix p = { 0 };
	const char *slash = strchr(s, '/');
	char addr[64];

	snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(p.family, addr, p.addr), 1);
	p.len = slash ? atoi(slash + 1) : p.family == AF_INET ? 32 : 128;
	return p;
}

/* A fixture file, in a buffer of exactly its size (so sanitizers see any overread). */
static char *load(const char *name, size_t *ret_len)
{
	char path[256];
	char *buf;
	long len;
	FILE *f;

	snprintf(path, sizeof(path), "tests/fixtures/%s", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the source root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, len, f), (size_t)len);
	fclose(f);
	*ret_len = len;
	return buf;
}

#define for_each_msg(nlh, buf, len, rem)                                                      \
	for (rem = (int)(len), nlh = (const struct nlmsghdr *)(buf); nlsock_msg_ok(nlh, rem); \
	     nlh = mnl_nlmsg_next(nlh, &rem))

/* ----------------------------------------------------------------- builders */

static void test_veth(void **state)
{
	struct rtnl_veth_end a = {
		.name = "va", .netns_fd = -1, .mac = mac_a, .master = 7, .mtu = 1400, .up = true
	};
	struct rtnl_veth_end b = {
		.name = "vb", .netns_fd = 9, .mac = mac_b, .mtu = 1300, .ifindex = 42
	};
	const struct nlattr *tb[TBMAX], *info[TBMAX], *data[TBMAX], *peer[TBMAX];
	nslab_error err = { .code = 123, .msg = "untouched" };
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct ifinfomsg *ifi, *pifi;
	(void)state;

	assert_int_equal(rtnl_build_veth(buf, sizeof(buf), &a, &b, &err), 0);
	assert_int_equal(err.code, 123); /* success leaves err alone */
	assert_string_equal(err.msg, "untouched");
	assert_header(nlh, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_family, AF_UNSPEC);
	assert_int_equal(ifi->ifi_index, 0);
	assert_int_equal(ifi->ifi_flags, IFF_UP);
	assert_int_equal(ifi->ifi_change, IFF_UP);

	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 5);
	assert_str_attr(tb[IFLA_IFNAME], "va");
	assert_bin_attr(tb[IFLA_ADDRESS], mac_a, 6);
	assert_u32_attr(tb[IFLA_MTU], 1400);
	assert_u32_attr(tb[IFLA_MASTER], 7);
	assert_null(tb[IFLA_NET_NS_FD]); /* -1: the socket's namespace */
	assert_non_null(tb[IFLA_LINKINFO]);
	assert_true(mnl_attr_get_type(tb[IFLA_LINKINFO]) == IFLA_LINKINFO);

	assert_int_equal(collect_nest(tb[IFLA_LINKINFO], 0, info), 2);
	assert_str_attr(info[IFLA_INFO_KIND], "veth");
	assert_int_equal(collect_nest(info[IFLA_INFO_DATA], 0, data), 1);
	assert_non_null(data[VETH_INFO_PEER]);

	/* The peer: a struct ifinfomsg first, then its own attributes */
	assert_true(mnl_attr_get_payload_len(data[VETH_INFO_PEER]) >= sizeof(*pifi));
	pifi = mnl_attr_get_payload(data[VETH_INFO_PEER]);
	assert_int_equal(pifi->ifi_family, AF_UNSPEC);
	assert_int_equal(pifi->ifi_index, 42);
	assert_int_equal(pifi->ifi_flags, 0);
	assert_int_equal(pifi->ifi_change, 0);
	assert_int_equal(collect_nest(data[VETH_INFO_PEER], MNL_ALIGN(sizeof(*pifi)), peer), 4);
	assert_str_attr(peer[IFLA_IFNAME], "vb");
	assert_bin_attr(peer[IFLA_ADDRESS], mac_b, 6);
	assert_u32_attr(peer[IFLA_MTU], 1300);
	assert_u32_attr(peer[IFLA_NET_NS_FD], 9);
	assert_null(peer[IFLA_MASTER]);
}

static void test_veth_minimal(void **state)
{
	struct rtnl_veth_end a = { .name = "a0", .netns_fd = 5, .ifindex = 17 };
	struct rtnl_veth_end b = { .name = "b0", .netns_fd = -1 };
	const struct nlattr *tb[TBMAX], *info[TBMAX], *data[TBMAX], *peer[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct ifinfomsg *ifi = (const void *)(buf + MNL_NLMSG_HDRLEN), *pifi;
	(void)state;

	assert_int_equal(rtnl_build_veth(buf, sizeof(buf), &a, &b, NULL), 0);
	assert_int_equal(ifi->ifi_index, 17);
	assert_int_equal(ifi->ifi_flags, 0);
	assert_int_equal(ifi->ifi_change, 0);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 3);
	assert_str_attr(tb[IFLA_IFNAME], "a0");
	assert_u32_attr(tb[IFLA_NET_NS_FD], 5);
	assert_null(tb[IFLA_MASTER]);
	collect_nest(tb[IFLA_LINKINFO], 0, info);
	collect_nest(info[IFLA_INFO_DATA], 0, data);
	pifi = mnl_attr_get_payload(data[VETH_INFO_PEER]);
	assert_int_equal(pifi->ifi_flags, 0);
	assert_int_equal(pifi->ifi_change, 0);
	assert_int_equal(collect_nest(data[VETH_INFO_PEER], MNL_ALIGN(sizeof(*pifi)), peer), 1);
	assert_str_attr(peer[IFLA_IFNAME], "b0");
}

static void test_veth_invalid(void **state)
{
	struct rtnl_veth_end a = { .name = "va", .netns_fd = -1 };
	struct rtnl_veth_end b = { .name = "vb", .netns_fd = -1, .master = 3 };
	char buf[NL_REQ_BUFSIZ];
	nslab_error err = { 0 };
	(void)state;

	assert_int_equal(rtnl_build_veth(buf, sizeof(buf), &a, &b, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.msg, "'vb'"));
	b.master = 0;
	b.up = true; /* the kernel would answer ENOTCONN */
	assert_int_equal(rtnl_build_veth(buf, sizeof(buf), &a, &b, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cannot come up"));
	b.up = false;
	b.name = "this-name-is-too-long";
	assert_int_equal(rtnl_build_veth(buf, sizeof(buf), &a, &b, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'this-name-is-too-long'"));
	a.name = NULL;
	assert_int_equal(rtnl_build_veth(buf, sizeof(buf), &a, &b, &err), -EINVAL);
}

static void test_bridge(void **state)
{
	const struct nlattr *tb[TBMAX], *info[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct ifinfomsg *ifi = (const void *)(buf + MNL_NLMSG_HDRLEN);
	(void)state;

	assert_int_equal(rtnl_build_bridge(buf, sizeof(buf), "br0", mac_a, 9000, true, NULL), 0);
	assert_header(nlh, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	assert_int_equal(ifi->ifi_flags, IFF_UP);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 4);
	assert_str_attr(tb[IFLA_IFNAME], "br0");
	assert_bin_attr(tb[IFLA_ADDRESS], mac_a, 6);
	assert_u32_attr(tb[IFLA_MTU], 9000);
	assert_int_equal(collect_nest(tb[IFLA_LINKINFO], 0, info), 1);
	assert_str_attr(info[IFLA_INFO_KIND], "bridge");

	assert_int_equal(rtnl_build_bridge(buf, sizeof(buf), "br1", NULL, 0, false, NULL), 0);
	assert_int_equal(ifi->ifi_change, 0);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 2);
	assert_int_equal(rtnl_build_bridge(buf, sizeof(buf), "", NULL, 0, false, NULL), -EINVAL);
}

static void test_link_set(void **state)
{
	struct rtnl_link_change chg = RTNL_LINK_CHANGE_KEEP;
	const struct nlattr *tb[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct ifinfomsg *ifi = (const void *)(buf + MNL_NLMSG_HDRLEN);
	(void)state;

	/* Everything kept: only the header */
	assert_int_equal(rtnl_build_link_set(buf, sizeof(buf), 4, &chg, NULL), 0);
	assert_header(nlh, RTM_NEWLINK, 0, sizeof(*ifi));
	assert_int_equal(ifi->ifi_index, 4);
	assert_int_equal(ifi->ifi_change, 0);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 0);

	chg = (struct rtnl_link_change){
		.up = 0, .mtu = 1280, .name = "eth1", .master = 0, .netns_fd = 11, .mac = mac_b
	};
	assert_int_equal(rtnl_build_link_set(buf, sizeof(buf), 4, &chg, NULL), 0);
	assert_int_equal(ifi->ifi_flags, 0);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 5);
	assert_str_attr(tb[IFLA_IFNAME], "eth1");
	assert_u32_attr(tb[IFLA_MTU], 1280);
	assert_u32_attr(tb[IFLA_MASTER], 0); /* release */
	assert_u32_attr(tb[IFLA_NET_NS_FD], 11);
	assert_bin_attr(tb[IFLA_ADDRESS], mac_b, 6);

	chg = (struct rtnl_link_change)RTNL_LINK_CHANGE_KEEP;
	chg.up = 1;
	chg.master = 3;
	assert_int_equal(rtnl_build_link_set(buf, sizeof(buf), 4, &chg, NULL), 0);
	assert_int_equal(ifi->ifi_flags, IFF_UP);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 1);
	assert_u32_attr(tb[IFLA_MASTER], 3);
	assert_int_equal(rtnl_build_link_set(buf, sizeof(buf), 0, &chg, NULL), -EINVAL);

	/* IPv6 address generation mode: IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE } } */
	chg = (struct rtnl_link_change)RTNL_LINK_CHANGE_KEEP;
	chg.set_addr_gen_mode = true;
	chg.addr_gen_mode = IN6_ADDR_GEN_MODE_NONE;
	assert_int_equal(rtnl_build_link_set(buf, sizeof(buf), 4, &chg, NULL), 0);
	assert_int_equal(ifi->ifi_change, 0);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 1);
	{
		const struct nlattr *spec[TBMAX], *inet6[TBMAX];

		assert_int_equal(collect_nest(tb[IFLA_AF_SPEC], 0, spec), 1);
		assert_non_null(spec[AF_INET6]);
		assert_int_equal(collect_nest(spec[AF_INET6], 0, inet6), 1);
		assert_non_null(inet6[IFLA_INET6_ADDR_GEN_MODE]);
		assert_int_equal(mnl_attr_get_u8(inet6[IFLA_INET6_ADDR_GEN_MODE]),
				 IN6_ADDR_GEN_MODE_NONE);
	}
}

static void test_brport_isolated(void **state)
{
	const struct nlattr *tb[TBMAX], *info[TBMAX], *data[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct ifinfomsg *ifi = (const void *)(buf + MNL_NLMSG_HDRLEN);
	(void)state;

	assert_int_equal(rtnl_build_brport_isolated(buf, sizeof(buf), 7, true, NULL), 0);
	assert_header(nlh, RTM_NEWLINK, 0, sizeof(*ifi));
	assert_int_equal(ifi->ifi_index, 7);
	assert_int_equal(ifi->ifi_change, 0);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 1);
	assert_int_equal(collect_nest(tb[IFLA_LINKINFO], 0, info), 2);
	assert_str_attr(info[IFLA_INFO_SLAVE_KIND], "bridge");
	assert_int_equal(collect_nest(info[IFLA_INFO_SLAVE_DATA], 0, data), 1);
	assert_non_null(data[IFLA_BRPORT_ISOLATED]);
	assert_int_equal(mnl_attr_get_u8(data[IFLA_BRPORT_ISOLATED]), 1);
	assert_int_equal(rtnl_build_brport_isolated(buf, sizeof(buf), 0, true, NULL), -EINVAL);
	assert_int_equal(rtnl_build_brport_isolated(buf, 40, 7, true, NULL), -EMSGSIZE);
}

static void test_link_del_get(void **state)
{
	const struct nlattr *tb[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct ifinfomsg *ifi = (const void *)(buf + MNL_NLMSG_HDRLEN);
	(void)state;

	assert_int_equal(rtnl_build_link_del(buf, sizeof(buf), 6, NULL), 0);
	assert_header(nlh, RTM_DELLINK, 0, sizeof(*ifi));
	assert_int_equal(ifi->ifi_index, 6);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 0);
	assert_int_equal(rtnl_build_link_del(buf, sizeof(buf), -1, NULL), -EINVAL);

	assert_int_equal(rtnl_build_link_get(buf, sizeof(buf), 6, NULL, NULL), 0);
	assert_header(nlh, RTM_GETLINK, 0, sizeof(*ifi));
	assert_int_equal(ifi->ifi_index, 6);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 0);

	assert_int_equal(rtnl_build_link_get(buf, sizeof(buf), 0, "veth7", NULL), 0);
	assert_int_equal(ifi->ifi_index, 0);
	assert_int_equal(collect_msg(nlh, sizeof(*ifi), tb), 1);
	assert_str_attr(tb[IFLA_IFNAME], "veth7");
	assert_int_equal(rtnl_build_link_get(buf, sizeof(buf), 0, NULL, NULL), -EINVAL);
}

static void test_addr(void **state)
{
	struct nslab_prefix v4 = pfx("10.1.2.3/24"), v6 = pfx("2001:db8::5/64");
	const struct nlattr *tb[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct ifaddrmsg *ifa = (const void *)(buf + MNL_NLMSG_HDRLEN);
	(void)state;

	assert_int_equal(rtnl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 3, &v4, 0, NULL), 0);
	assert_header(nlh, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	assert_int_equal(ifa->ifa_family, AF_INET);
	assert_int_equal(ifa->ifa_prefixlen, 24);
	assert_int_equal(ifa->ifa_index, 3);
	assert_int_equal(collect_msg(nlh, sizeof(*ifa), tb), 3);
	assert_bin_attr(tb[IFA_LOCAL], v4.addr, 4);
	assert_bin_attr(tb[IFA_ADDRESS], v4.addr, 4);
	assert_u32_attr(tb[IFA_FLAGS], 0);

	assert_int_equal(rtnl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 3, &v6,
					 IFA_F_NODAD | IFA_F_NOPREFIXROUTE, NULL),
			 0);
	assert_int_equal(ifa->ifa_family, AF_INET6);
	assert_int_equal(ifa->ifa_prefixlen, 64);
	assert_int_equal(collect_msg(nlh, sizeof(*ifa), tb), 3);
	assert_bin_attr(tb[IFA_ADDRESS], v6.addr, 16);
	assert_bin_attr(tb[IFA_LOCAL], v6.addr, 16);
	assert_u32_attr(tb[IFA_FLAGS], IFA_F_NODAD | IFA_F_NOPREFIXROUTE); /* > 8 bits */

	assert_int_equal(rtnl_build_addr(buf, sizeof(buf), RTM_DELADDR, 3, &v4, 0, NULL), 0);
	assert_header(nlh, RTM_DELADDR, 0, sizeof(*ifa));
}

static void test_addr_invalid(void **state)
{
	struct nslab_prefix p = pfx("10.1.2.3/24");
	char buf[NL_REQ_BUFSIZ];
	nslab_error err = { 0 };
	(void)state;

	assert_int_equal(rtnl_build_addr(buf, sizeof(buf), RTM_NEWLINK, 3, &p, 0, &err), -EINVAL);
	assert_int_equal(rtnl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 0, &p, 0, &err), -EINVAL);
	p.len = 33;
	assert_int_equal(rtnl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 3, &p, 0, &err), -EINVAL);
	p.family = AF_UNIX;
	assert_int_equal(rtnl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 3, &p, 0, &err),
			 -EAFNOSUPPORT);
}

static void test_route_default_v4(void **state)
{
	struct rtnl_route rt = { .dst = pfx("0.0.0.0/0"), .via = pfx("10.0.0.254") };
	const struct nlattr *tb[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct rtmsg *rtm = (const void *)(buf + MNL_NLMSG_HDRLEN);
	(void)state;

	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, NULL), 0);
	assert_header(nlh, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rtm));
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	assert_int_equal(rtm->rtm_protocol, RTPROT_STATIC);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	assert_int_equal(collect_msg(nlh, sizeof(*rtm), tb), 1); /* no RTA_DST for a default */
	assert_bin_attr(tb[RTA_GATEWAY], rt.via.addr, 4);
}

static void test_route_v6_direct(void **state)
{
	struct rtnl_route rt = {
		.dst = pfx("2001:db8:1::/64"), .oif = 5, .metric = 100, .table = 200
	};
	const struct nlattr *tb[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct rtmsg *rtm = (const void *)(buf + MNL_NLMSG_HDRLEN);
	(void)state;

	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, NULL), 0);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 64);
	assert_int_equal(rtm->rtm_table, 200);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_LINK);
	assert_int_equal(collect_msg(nlh, sizeof(*rtm), tb), 3);
	assert_bin_attr(tb[RTA_DST], rt.dst.addr, 16);
	assert_u32_attr(tb[RTA_OIF], 5);
	assert_u32_attr(tb[RTA_PRIORITY], 100);
	assert_null(tb[RTA_TABLE]);
	assert_null(tb[RTA_GATEWAY]);
}

static void test_route_table_del(void **state)
{
	struct rtnl_route rt = {
		.dst = pfx("10.2.0.0/16"), .via = pfx("10.0.0.1"), .oif = 2, .table = 1000
	};
	const struct nlattr *tb[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct rtmsg *rtm = (const void *)(buf + MNL_NLMSG_HDRLEN);
	(void)state;

	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, NULL), 0);
	assert_int_equal(rtm->rtm_table, RT_TABLE_UNSPEC);
	assert_int_equal(collect_msg(nlh, sizeof(*rtm), tb), 4);
	assert_u32_attr(tb[RTA_TABLE], 1000);
	assert_bin_attr(tb[RTA_DST], rt.dst.addr, 4);
	assert_bin_attr(tb[RTA_GATEWAY], rt.via.addr, 4);
	assert_u32_attr(tb[RTA_OIF], 2);

	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_DELROUTE, &rt, NULL), 0);
	assert_header(nlh, RTM_DELROUTE, 0, sizeof(*rtm));
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_NOWHERE); /* match any */
	assert_int_equal(rtm->rtm_protocol, 0);
	assert_int_equal(collect_msg(nlh, sizeof(*rtm), tb), 4);
}

/* Region routes: replaced in place, and "unreachable" where no region path is left. */
static void test_route_replace_unreachable(void **state)
{
	struct rtnl_route rt = { .dst = pfx("198.18.5.0/24"), .metric = 1024 };
	const struct nlattr *tb[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct rtmsg *rtm = (const void *)(buf + MNL_NLMSG_HDRLEN);
	nslab_error err = { 0 };
	(void)state;

	rt.unreachable = rt.replace = true;
	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, NULL), 0);
	assert_header(nlh, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*rtm));
	assert_int_equal(rtm->rtm_type, RTN_UNREACHABLE);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(collect_msg(nlh, sizeof(*rtm), tb), 2);
	assert_bin_attr(tb[RTA_DST], rt.dst.addr, 4);
	assert_u32_attr(tb[RTA_PRIORITY], 1024);
	assert_null(tb[RTA_GATEWAY]);

	rt.via = pfx("198.18.6.7"); /* an unreachable route goes nowhere */
	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unreachable"));
	rt.unreachable = false;
	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, NULL), 0);
	assert_header(nlh, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*rtm));
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
}

static void test_route_invalid(void **state)
{
	struct rtnl_route rt = { .dst = pfx("10.2.0.0/16") };
	char buf[NL_REQ_BUFSIZ];
	nslab_error err = { 0 };
	(void)state;

	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "gateway or an output interface"));
	rt.via = pfx("2001:db8::1");
	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, &err),
			 -EAFNOSUPPORT);
	rt.via = pfx("10.0.0.1");
	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_GETROUTE, &rt, &err), -EINVAL);
	rt.dst.len = 40;
	assert_int_equal(rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, &err), -EINVAL);
}

static void test_neigh(void **state)
{
	struct nslab_prefix ip = pfx("10.0.0.2"), ip6 = pfx("2001:db8::2");
	const struct nlattr *tb[TBMAX];
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	const struct ndmsg *ndm = (const void *)(buf + MNL_NLMSG_HDRLEN);
	(void)state;

	assert_int_equal(rtnl_build_neigh(buf, sizeof(buf), RTM_NEWNEIGH, 4, &ip, mac_a,
					  NUD_PERMANENT, NULL),
			 0);
	assert_header(nlh, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ndm));
	assert_int_equal(ndm->ndm_family, AF_INET);
	assert_int_equal(ndm->ndm_ifindex, 4);
	assert_int_equal(ndm->ndm_state, NUD_PERMANENT);
	assert_int_equal(collect_msg(nlh, sizeof(*ndm), tb), 2);
	assert_bin_attr(tb[NDA_DST], ip.addr, 4);
	assert_bin_attr(tb[NDA_LLADDR], mac_a, 6);

	assert_int_equal(rtnl_build_neigh(buf, sizeof(buf), RTM_DELNEIGH, 4, &ip6, NULL, 0, NULL),
			 0);
	assert_header(nlh, RTM_DELNEIGH, 0, sizeof(*ndm));
	assert_int_equal(ndm->ndm_family, AF_INET6);
	assert_int_equal(collect_msg(nlh, sizeof(*ndm), tb), 1);
	assert_bin_attr(tb[NDA_DST], ip6.addr, 16);
	assert_int_equal(rtnl_build_neigh(buf, sizeof(buf), RTM_NEWNEIGH, 0, &ip, NULL, 0, NULL),
			 -EINVAL);
}

static void test_dump(void **state)
{
	static const struct {
		int type;
		size_t hdr;
	} dumps[] = {
		{ RTM_GETLINK, sizeof(struct ifinfomsg) },
		{ RTM_GETADDR, sizeof(struct ifaddrmsg) },
		{ RTM_GETROUTE, sizeof(struct rtmsg) },
		{ RTM_GETNEIGH, sizeof(struct ndmsg) },
	};
	char buf[NL_REQ_BUFSIZ];
	const struct nlmsghdr *nlh = (void *)buf;
	nslab_error err = { 0 };
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(dumps); i++) {
		const unsigned char *h = mnl_nlmsg_get_payload(nlh);

		memset(buf, 0xff, sizeof(buf));
		assert_int_equal(rtnl_build_dump(buf, sizeof(buf), dumps[i].type, AF_INET6, NULL),
				 0);
		assert_header(nlh, dumps[i].type, NLM_F_DUMP, dumps[i].hdr);
		assert_int_equal(nlh->nlmsg_len, MNL_NLMSG_HDRLEN + MNL_ALIGN(dumps[i].hdr));
		assert_int_equal(h[0], AF_INET6);
		for (size_t j = 1; j < dumps[i].hdr; j++) /* strict checking wants zeros */
			assert_int_equal(h[j], 0);
	}
	assert_int_equal(rtnl_build_dump(buf, sizeof(buf), RTM_NEWLINK, 0, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
}

/* Each builder with fixed arguments, for the buffer-size sweep. */
typedef int (*build_fn)(void *buf, size_t len, nslab_error *err);

static int b_veth(void *buf, size_t len, nslab_error *err)
{
	struct rtnl_veth_end a = {
		.name = "va", .netns_fd = 3, .mac = mac_a, .master = 7, .mtu = 1400, .up = true
	};
	struct rtnl_veth_end b = { .name = "vb", .netns_fd = 9, .mac = mac_b, .mtu = 1300 };

	return rtnl_build_veth(buf, len, &a, &b, err);
}

static int b_bridge(void *buf, size_t len, nslab_error *err)
{
	return rtnl_build_bridge(buf, len, "br0", mac_a, 1500, true, err);
}

static int b_link_set(void *buf, size_t len, nslab_error *err)
{
	struct rtnl_link_change chg = {
		.up = 1, .mtu = 1280, .name = "x", .master = 2, .netns_fd = 4, .mac = mac_a
	};

	return rtnl_build_link_set(buf, len, 4, &chg, err);
}

static int b_link_del(void *buf, size_t len, nslab_error *err)
{
	return rtnl_build_link_del(buf, len, 4, err);
}

static int b_link_get(void *buf, size_t len, nslab_error *err)
{
	return rtnl_build_link_get(buf, len, 0, "eth0", err);
}

static int b_addr(void *buf, size_t len, nslab_error *err)
{
	struct nslab_prefix p = pfx("2001:db8::1/64");

	return rtnl_build_addr(buf, len, RTM_NEWADDR, 2, &p, IFA_F_NODAD, err);
}

static int b_route(void *buf, size_t len, nslab_error *err)
{
	struct rtnl_route rt = { .dst = pfx("2001:db8:2::/48"),
				 .via = pfx("2001:db8::2"),
				 .oif = 2,
				 .metric = 5,
				 .table = 500 };

	return rtnl_build_route(buf, len, RTM_NEWROUTE, &rt, err);
}

static int b_neigh(void *buf, size_t len, nslab_error *err)
{
	struct nslab_prefix p = pfx("10.0.0.2");

	return rtnl_build_neigh(buf, len, RTM_NEWNEIGH, 2, &p, mac_a, NUD_PERMANENT, err);
}

static int b_dump(void *buf, size_t len, nslab_error *err)
{
	return rtnl_build_dump(buf, len, RTM_GETROUTE, AF_INET, err);
}

/* Every length short of the full request is EMSGSIZE, and no byte at or past len is written. */
static void test_emsgsize(void **state)
{
	static const build_fn builders[] = { b_veth, b_bridge, b_link_set, b_link_del, b_link_get,
					     b_addr, b_route,  b_neigh,	   b_dump };
	char buf[NL_REQ_BUFSIZ];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(builders); i++) {
		size_t full;

		assert_int_equal(builders[i](buf, sizeof(buf), NULL), 0);
		full = ((struct nlmsghdr *)buf)->nlmsg_len;
		assert_int_equal(builders[i](buf, full, NULL), 0); /* exactly enough */
		for (size_t len = 0; len < full; len++) {
			nslab_error err = { 0 };

			memset(buf, 0xa5, sizeof(buf));
			assert_int_equal(builders[i](buf, len, &err), -EMSGSIZE);
			assert_int_equal(err.code, EMSGSIZE);
			assert_non_null(strstr(err.msg, "does not fit"));
			for (size_t j = len; j < full + 16; j++)
				if ((unsigned char)buf[j] != 0xa5)
					fail_msg("builder %zu, len %zu: byte %zu written", i, len,
						 j);
		}
	}
}

/* ------------------------------------------------------------------ parsers */

static struct rtnl_link_info link_fixture(const char *name)
{
	struct rtnl_link_info info;
	nslab_error err = { 0 };
	size_t len;
	char *buf = load(name, &len);
	const struct nlmsghdr *nlh = (void *)buf;

	assert_true(nlsock_msg_ok(nlh, (int)len));
	assert_int_equal(nlh->nlmsg_len, len); /* one message */
	if (rtnl_parse_link(nlh, &info, &err) < 0)
		fail_msg("%s: %s", name, err.msg);
	free(buf);
	return info;
}

static void test_parse_link(void **state)
{
	static const uint8_t mac_v0[6] = { 2, 0, 0, 0, 0, 0xa0 },
			     mac_br[6] = { 2, 0, 0, 0, 0, 0xb0 };
	static const uint8_t zero[6] = { 0 };
	struct rtnl_link_info br = link_fixture("rtnl-link-bridge.nlmsg");
	struct rtnl_link_info v0 = link_fixture("rtnl-link-veth.nlmsg");
	struct rtnl_link_info lo = link_fixture("rtnl-link-lo.nlmsg");
	(void)state;

	assert_string_equal(br.name, "br0");
	assert_string_equal(br.kind, "bridge");
	assert_true(br.has_mac);
	assert_memory_equal(br.mac, mac_br, 6);
	assert_true(br.flags & IFF_UP);
	assert_int_equal(br.mtu, 1500);
	assert_int_equal(br.master, 0);
	assert_int_equal(br.link_netnsid, -1);

	assert_string_equal(v0.name, "v0");
	assert_string_equal(v0.kind, "veth");
	assert_memory_equal(v0.mac, mac_v0, 6);
	assert_true(v0.flags & IFF_UP);
	assert_int_equal(v0.master, br.ifindex);
	assert_true(v0.link > 0);	   /* the peer's ifindex, in its namespace */
	assert_true(v0.link_netnsid >= 0); /* ... which is another one */
	assert_int_equal(v0.operstate, 6); /* IF_OPER_UP */

	assert_string_equal(lo.name, "lo");
	assert_int_equal(lo.ifindex, 1);
	assert_string_equal(lo.kind, "");
	assert_true(lo.flags & IFF_LOOPBACK);
	assert_int_equal(lo.mtu, 65536);
	assert_true(lo.has_mac);
	assert_memory_equal(lo.mac, zero, 6);
}

static void test_parse_addr(void **state)
{
	struct nslab_prefix v4 = pfx("10.0.0.1/24"), v6 = pfx("2001:db8::1/64");
	const struct nlmsghdr *nlh;
	size_t len;
	char *buf = load("rtnl-addr.nlmsg", &len);
	int rem, n = 0;
	(void)state;

	for_each_msg(nlh, buf, len, rem)
	{
		struct rtnl_addr_info a;

		assert_int_equal(rtnl_parse_addr(nlh, &a, NULL), 0);
		assert_int_equal(a.ifindex, 2);
		assert_int_equal(a.scope, RT_SCOPE_UNIVERSE);
		if (a.addr.family == AF_INET)
			assert_memory_equal(&a.addr, &v4, sizeof(v4));
		else
			assert_memory_equal(&a.addr, &v6, sizeof(v6));
		if (a.addr.family == AF_INET6)
			assert_true(a.flags & IFA_F_NODAD);
		n++;
	}
	assert_int_equal(rem, 0);
	assert_int_equal(n, 2);
	free(buf);
}

/* Parse every route of a fixture; return how many, the first len into out. */
static int routes(const char *name, struct rtnl_route_info *out, int max)
{
	const struct nlmsghdr *nlh;
	size_t len;
	char *buf = load(name, &len);
	int rem, n = 0;

	for_each_msg(nlh, buf, len, rem)
	{
		nslab_error err = { 0 };

		assert_true(n < max);
		if (rtnl_parse_route(nlh, &out[n], &err) < 0)
			fail_msg("%s: %s", name, err.msg);
		n++;
	}
	assert_int_equal(rem, 0);
	free(buf);
	return n;
}

static void test_parse_route(void **state)
{
	struct nslab_prefix gw4 = pfx("10.0.0.254"), gw6 = pfx("2001:db8::fe");
	struct nslab_prefix net = pfx("10.0.0.0/24"), direct = pfx("10.1.0.0/16");
	struct nslab_prefix net6 = pfx("2001:db8::/64"), tbl = pfx("10.2.0.0/16");
	struct rtnl_route_info r[8];
	(void)state;

	/* main table, IPv4: default via, the connected prefix, a direct route */
	assert_int_equal(routes("rtnl-route-v4.nlmsg", r, 8), 3);
	assert_int_equal(r[0].dst.family, AF_INET);
	assert_int_equal(r[0].dst.len, 0);
	assert_memory_equal(&r[0].gw, &gw4, sizeof(gw4));
	assert_int_equal(r[0].protocol, RTPROT_STATIC);
	assert_int_equal(r[0].scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(r[0].table, RT_TABLE_MAIN);
	assert_int_equal(r[0].oif, 2);
	assert_memory_equal(&r[1].dst, &net, sizeof(net));
	assert_int_equal(r[1].gw.family, 0);
	assert_int_equal(r[1].protocol, RTPROT_KERNEL);
	assert_int_equal(r[1].scope, RT_SCOPE_LINK);
	assert_memory_equal(&r[2].dst, &direct, sizeof(direct));
	assert_int_equal(r[2].scope, RT_SCOPE_LINK);
	assert_int_equal(r[2].type, RTN_UNICAST);

	assert_int_equal(routes("rtnl-route-table.nlmsg", r, 8), 1);
	assert_memory_equal(&r[0].dst, &tbl, sizeof(tbl));
	assert_int_equal(r[0].table, 1000);
	assert_int_equal(r[0].priority, 50);
	assert_memory_equal(&r[0].gw, &gw4, sizeof(gw4));

	assert_int_equal(routes("rtnl-route-v6.nlmsg", r, 8), 2);
	assert_memory_equal(&r[0].dst, &net6, sizeof(net6));
	assert_int_equal(r[0].protocol, RTPROT_KERNEL);
	assert_int_equal(r[0].priority, 256);
	assert_int_equal(r[1].dst.family, AF_INET6);
	assert_int_equal(r[1].dst.len, 0);
	assert_memory_equal(&r[1].gw, &gw6, sizeof(gw6));
	assert_int_equal(r[1].protocol, RTPROT_STATIC);
	assert_int_equal(r[1].table, RT_TABLE_MAIN);
}

/* The permanent entry for want in a fixture (others are multicast NOARP ones). */
static void neigh_fixture(const char *name, const char *want, const uint8_t *mac)
{
	struct nslab_prefix ip = pfx(want);
	const struct nlmsghdr *nlh;
	size_t len;
	char *buf = load(name, &len);
	int rem, found = 0;

	for_each_msg(nlh, buf, len, rem)
	{
		struct rtnl_neigh_info n;

		assert_int_equal(rtnl_parse_neigh(nlh, &n, NULL), 0);
		assert_int_equal(n.ip.family, ip.family);
		assert_int_equal(n.ifindex, 2);
		if (memcmp(&n.ip, &ip, sizeof(ip)) != 0)
			continue;
		assert_int_equal(n.state, NUD_PERMANENT);
		assert_true(n.has_mac);
		assert_memory_equal(n.mac, mac, 6);
		found++;
	}
	assert_int_equal(found, 1);
	free(buf);
}

static void test_parse_neigh(void **state)
{
	static const uint8_t mac2[6] = { 2, 0, 0, 0, 0, 2 }, mac3[6] = { 2, 0, 0, 0, 0, 3 };
	(void)state;

	neigh_fixture("rtnl-neigh-v4.nlmsg", "10.0.0.2", mac2);
	neigh_fixture("rtnl-neigh-v6.nlmsg", "2001:db8::2", mac3);
}

static void test_parse_wrong_type(void **state)
{
	struct rtnl_link_info li;
	struct rtnl_addr_info ai;
	struct rtnl_route_info ri;
	struct rtnl_neigh_info ni;
	nslab_error err = { 0 };
	size_t len;
	char *buf = load("rtnl-addr.nlmsg", &len);
	const struct nlmsghdr *nlh = (void *)buf;
	(void)state;

	assert_int_equal(rtnl_parse_link(nlh, &li, &err), -EPROTO);
	assert_string_equal(err.msg, "expected RTM_NEWLINK, got RTM_NEWADDR");
	assert_int_equal(rtnl_parse_route(nlh, &ri, &err), -EPROTO);
	assert_int_equal(rtnl_parse_neigh(nlh, &ni, &err), -EPROTO);
	free(buf);
	buf = load("rtnl-link-lo.nlmsg", &len);
	assert_int_equal(rtnl_parse_addr((void *)buf, &ai, &err), -EPROTO);
	free(buf);
}

static int parse_any(const struct nlmsghdr *nlh, void *ret, nslab_error *err)
{
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
		return rtnl_parse_link(nlh, ret, err);
	case RTM_NEWADDR:
		return rtnl_parse_addr(nlh, ret, err);
	case RTM_NEWROUTE:
		return rtnl_parse_route(nlh, ret, err);
	case RTM_NEWNEIGH:
		return rtnl_parse_neigh(nlh, ret, err);
	default:
		fail_msg("unexpected type %u", nlh->nlmsg_type);
		return -1;
	}
}

static const char *const data_fixtures[] = {
	"rtnl-link-veth.nlmsg",	  "rtnl-link-bridge.nlmsg", "rtnl-link-lo.nlmsg",
	"rtnl-addr.nlmsg",	  "rtnl-route-v4.nlmsg",    "rtnl-route-v6.nlmsg",
	"rtnl-route-table.nlmsg", "rtnl-neigh-v4.nlmsg",    "rtnl-neigh-v6.nlmsg",
};

/*
 * Every message of every fixture cut at every length (nlmsg_len adjusted, as a
 * stream reader would hand it over): success or -EPROTO, and on failure *ret
 * keeps its old bytes. Buffers are exactly as long as the cut.
 */
static void test_parse_truncated(void **state)
{
	int failures = 0;
	(void)state;

	for (size_t f = 0; f < ARRAY_SIZE(data_fixtures); f++) {
		const struct nlmsghdr *nlh;
		size_t len;
		char *buf = load(data_fixtures[f], &len);
		int rem;

		for_each_msg(nlh, buf, len, rem)
		{
			for (uint32_t cut = MNL_NLMSG_HDRLEN; cut < nlh->nlmsg_len; cut++) {
				union {
					struct rtnl_link_info l;
					struct rtnl_addr_info a;
					struct rtnl_route_info r;
					struct rtnl_neigh_info n;
				} ret, orig;
				struct nlmsghdr *t = malloc(cut);
				nslab_error err = { 0 };
				int r;

				memcpy(t, nlh, cut);
				t->nlmsg_len = cut;
				memset(&ret, 0x5a, sizeof(ret));
				orig = ret;
				r = parse_any(t, &ret, &err);
				if (r < 0) {
					assert_int_equal(r, -EPROTO);
					assert_int_equal(err.code, EPROTO);
					assert_memory_equal(&ret, &orig, sizeof(ret));
					failures++;
				}
				free(t);
			}
		}
		free(buf);
	}
	assert_true(failures > 100);
}

/* Copy the first message of a fixture, change one byte at off, parse. */
static int parse_patched(const char *name, size_t off, uint8_t val, nslab_error *err)
{
	union {
		struct rtnl_link_info l;
		struct rtnl_addr_info a;
		struct rtnl_route_info r;
		struct rtnl_neigh_info n;
	} ret;
	size_t len;
	char *buf = load(name, &len);
	int r;

	buf[off] = val;
	r = parse_any((void *)buf, &ret, err);
	free(buf);
	return r;
}

/* Offset of the first attribute of type in the first message of a fixture. */
static size_t attr_offset(const char *name, size_t hdr, uint16_t type)
{
	struct nlattr *attr;
	size_t len;
	char *buf = load(name, &len);
	size_t off = 0;

	mnl_attr_for_each (attr, (struct nlmsghdr *)buf, hdr) {
		if (mnl_attr_get_type(attr) == type) {
			off = (const char *)attr - buf;
			break;
		}
	}
	free(buf);
	assert_true(off > 0);
	return off;
}

static void test_parse_garbled(void **state)
{
	size_t mtu = attr_offset("rtnl-link-lo.nlmsg", sizeof(struct ifinfomsg), IFLA_MTU);
	size_t name = attr_offset("rtnl-link-lo.nlmsg", sizeof(struct ifinfomsg), IFLA_IFNAME);
	size_t dst = attr_offset("rtnl-route-table.nlmsg", sizeof(struct rtmsg), RTA_DST);
	nslab_error err = { 0 };
	(void)state;

	/* IFLA_MTU of 3 bytes (nla_len is the first u16 of the attribute) */
	assert_int_equal(parse_patched("rtnl-link-lo.nlmsg", mtu, 7, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "malformed attribute 4")); /* IFLA_MTU */
	/* IFLA_IFNAME "lo" without its NUL ('l' 'o' '\0' at +4) */
	assert_int_equal(parse_patched("rtnl-link-lo.nlmsg", name + 6, 'x', &err), -EPROTO);
	/* An attribute longer than the message */
	assert_int_equal(parse_patched("rtnl-link-lo.nlmsg", mtu + 1, 0x40, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "truncated attribute"));
	/* RTA_DST of 5 bytes in an IPv4 route */
	assert_int_equal(parse_patched("rtnl-route-table.nlmsg", dst, 9, &err), -EPROTO);
	/* rtm_dst_len 33 */
	assert_int_equal(parse_patched("rtnl-route-table.nlmsg", MNL_NLMSG_HDRLEN + 1, 33, &err),
			 -EPROTO);
	assert_non_null(strstr(err.msg, "prefix length 33"));
	/* ifa_prefixlen 33 in the IPv4 address */
	assert_int_equal(parse_patched("rtnl-addr.nlmsg", MNL_NLMSG_HDRLEN + 1, 33, &err), -EPROTO);
	/* Unknown attribute types are skipped, whatever their length */
	assert_int_equal(parse_patched("rtnl-link-lo.nlmsg", mtu + 2, 250, &err), 0);
}

static void test_parse_family(void **state)
{
	struct rtnl_neigh_info n, orig;
	nslab_error err = { 0 };
	size_t len;
	char *buf = load("rtnl-neigh-v4.nlmsg", &len);
	(void)state;

	buf[MNL_NLMSG_HDRLEN] = AF_BRIDGE; /* an FDB entry: not ours to parse */
	memset(&n, 0x5a, sizeof(n));
	orig = n;
	assert_int_equal(rtnl_parse_neigh((void *)buf, &n, &err), -EAFNOSUPPORT);
	assert_memory_equal(&n, &orig, sizeof(n));
	free(buf);
}

/* ---------------------------------------------------------------- nlsock */

static void test_parse_ack(void **state)
{
	const char *text = "x";
	size_t len;
	char *buf;
	int error = 1;
	(void)state;

	buf = load("nlmsg-ack.nlmsg", &len);
	assert_int_equal(nlsock_parse_ack((void *)buf, &error, &text, NULL), 0);
	assert_int_equal(error, 0);
	assert_null(text);
	free(buf);

	buf = load("nlmsg-error-eexist.nlmsg", &len);
	assert_int_equal(nlsock_parse_ack((void *)buf, &error, &text, NULL), 0);
	assert_int_equal(error, -EEXIST);
	assert_string_equal(text, "ipv4: Address already assigned");
	free(buf);

	buf = load("nlmsg-done.nlmsg", &len);
	assert_int_equal(nlsock_parse_ack((void *)buf, &error, &text, NULL), 0);
	assert_int_equal(error, 0);
	assert_null(text);
	free(buf);
}

/* An NLMSG_ERROR as a kernel with NETLINK_CAP_ACK builds it: header only, then TLVs. */
static size_t build_capped_error(char *buf, int error, const char *text)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = 200; /* the request's, not echoed */
	e->msg.nlmsg_type = RTM_NEWROUTE;
	mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	return nlh->nlmsg_len;
}

static void test_parse_ack_synthetic(void **state)
{
	char buf[512];
	struct nlmsghdr *nlh = (void *)buf;
	const char *text = NULL;
	nslab_error err = { 0 };
	int error = 0;
	(void)state;

	build_capped_error(buf, -ENETUNREACH, "Nexthop has invalid gateway");
	assert_int_equal(nlsock_parse_ack(nlh, &error, &text, &err), 0);
	assert_int_equal(error, -ENETUNREACH);
	assert_string_equal(text, "Nexthop has invalid gateway");

	/* Uncapped, the echoed request claims more bytes than there are */
	nlh->nlmsg_flags &= ~NLM_F_CAPPED;
	error = 7;
	assert_int_equal(nlsock_parse_ack(nlh, &error, &text, &err), -EPROTO);
	assert_int_equal(error, 7);
	assert_int_equal(err.code, EPROTO);

	/* Truncated status */
	build_capped_error(buf, -EINVAL, "x");
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 8;
	assert_int_equal(nlsock_parse_ack(nlh, &error, &text, &err), -EPROTO);
	/* A positive error is not an errno */
	build_capped_error(buf, 5, "x");
	assert_int_equal(nlsock_parse_ack(nlh, &error, &text, &err), -EPROTO);
	/* Not an ACK at all */
	nlh->nlmsg_type = RTM_NEWLINK;
	assert_int_equal(nlsock_parse_ack(nlh, &error, &text, &err), -EPROTO);
	/* The text without its NUL is dropped, the error stays */
	build_capped_error(buf, -EINVAL, "abc");
	buf[nlh->nlmsg_len - 1] = 'z';
	buf[nlh->nlmsg_len - 2] = 'z';
	buf[nlh->nlmsg_len - 3] = 'z';
	buf[nlh->nlmsg_len - 4] = 'z';
	assert_int_equal(nlsock_parse_ack(nlh, &error, &text, &err), 0);
	assert_int_equal(error, -EINVAL);
	assert_null(text);
}

static void test_msg_name(void **state)
{
	(void)state;
	assert_string_equal(nlsock_msg_name(RTM_NEWADDR), "RTM_NEWADDR");
	assert_string_equal(nlsock_msg_name(RTM_DELLINK), "RTM_DELLINK");
	assert_string_equal(nlsock_msg_name(NLMSG_ERROR), "NLMSG_ERROR");
	assert_string_equal(nlsock_msg_name(0), "message 0");
	assert_string_equal(nlsock_msg_name(9999), "message 9999");
}

static void test_batch(void **state)
{
	struct nslab_prefix p = pfx("10.0.0.1/24");
	char buf[NL_REQ_BUFSIZ];
	struct nlbatch b;
	size_t first;
	(void)state;

	nlbatch_init(&b, buf, sizeof(buf));
	assert_ptr_equal(nlbatch_tail(&b), buf);
	assert_int_equal(nlbatch_room(&b), sizeof(buf));
	assert_int_equal(b.count, 0);
	assert_int_equal(
		rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWADDR, 2, &p, 0, NULL),
		0);
	nlbatch_push(&b);
	first = b.len;
	assert_int_equal(first, ((struct nlmsghdr *)buf)->nlmsg_len);
	assert_int_equal(b.count, 1);
	assert_ptr_equal(nlbatch_tail(&b), buf + first);
	assert_int_equal(nlbatch_room(&b), sizeof(buf) - first);
	assert_int_equal(rtnl_build_link_del(nlbatch_tail(&b), nlbatch_room(&b), 3, NULL), 0);
	nlbatch_push(&b);
	assert_int_equal(b.count, 2);
	assert_int_equal(((struct nlmsghdr *)(buf + first))->nlmsg_type, RTM_DELLINK);
	/* A builder that does not fit writes nothing past the room */
	nlbatch_init(&b, buf, 40);
	assert_int_equal(
		rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWADDR, 2, &p, 0, NULL),
		-EMSGSIZE);
	assert_int_equal(b.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_veth),
		cmocka_unit_test(test_veth_minimal),
		cmocka_unit_test(test_veth_invalid),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_link_set),
		cmocka_unit_test(test_brport_isolated),
		cmocka_unit_test(test_link_del_get),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_invalid),
		cmocka_unit_test(test_route_default_v4),
		cmocka_unit_test(test_route_v6_direct),
		cmocka_unit_test(test_route_table_del),
		cmocka_unit_test(test_route_replace_unreachable),
		cmocka_unit_test(test_route_invalid),
		cmocka_unit_test(test_neigh),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_emsgsize),
		cmocka_unit_test(test_parse_link),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_parse_route),
		cmocka_unit_test(test_parse_neigh),
		cmocka_unit_test(test_parse_wrong_type),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_garbled),
		cmocka_unit_test(test_parse_family),
		cmocka_unit_test(test_parse_ack),
		cmocka_unit_test(test_parse_ack_synthetic),
		cmocka_unit_test(test_msg_name),
		cmocka_unit_test(test_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
