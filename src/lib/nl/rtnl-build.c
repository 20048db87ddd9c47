/* SPDX-License-Identifier: MIT */
/*
 * nl/rtnl-build: pure rtnetlink request builders (links, addresses, routes,
 * neighbours, dumps). They fill the caller's buffer and never do I/O; every
 * write is bounded by the caller's len (the _check forms of libmnl).
 */
#include "nl/rtnl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <libmnl/libmnl.h>

static int too_small(const struct nlmsghdr *nlh, size_t len, nslab_error *err)
{
	return nslab_err_setx(err, EMSGSIZE, "%s does not fit in %zu bytes",
			      nlsock_msg_name(nlh->nlmsg_type), len);
}

/* Header plus the family header (extra bytes), or NULL if len cannot hold them. */
static struct nlmsghdr *put_header(void *buf, size_t len, int type, int flags, size_t extra)
{
	struct nlmsghdr *nlh;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(extra))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	(void)mnl_nlmsg_put_extra_header(nlh, extra);
	return nlh;
}

static int header_too_small(int type, size_t len, nslab_error *err)
{
	return nslab_err_setx(err, EMSGSIZE, "%s does not fit in %zu bytes", nlsock_msg_name(type),
			      len);
}

static int check_ifname(const char *name, nslab_error *err)
{
	if (!name || !*name)
		return nslab_err_setx(err, EINVAL, "missing interface name");
	if (strlen(name) >= IFNAMSIZ)
		return nslab_err_setx(err, EINVAL, "'%s': interface name longer than %d bytes",
				      name, IFNAMSIZ - 1);
	return 0;
}

static void ifi_set_up(struct ifinfomsg *ifi, int up)
{
	if (up < 0)
		return;
	ifi->ifi_change |= IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
}

/* IFLA_IFNAME, IFLA_ADDRESS, IFLA_MTU, IFLA_NET_NS_FD of a new link, each when set. */
static bool put_link_attrs(struct nlmsghdr *nlh, size_t len, const char *name, const uint8_t *mac,
			   unsigned mtu, int netns_fd)
{
	return (!name || mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, name)) &&
	       (!mac || mnl_attr_put_check(nlh, len, IFLA_ADDRESS, ETH_ALEN, mac)) &&
	       (!mtu || mnl_attr_put_u32_check(nlh, len, IFLA_MTU, mtu)) &&
	       (netns_fd < 0 || mnl_attr_put_u32_check(nlh, len, IFLA_NET_NS_FD, netns_fd));
}

/* VETH_INFO_PEER: a struct ifinfomsg, then the peer's attributes, all inside the nest. */
static bool put_veth_peer(struct nlmsghdr *nlh, size_t len, const struct rtnl_veth_end *peer)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, len, VETH_INFO_PEER);
	struct ifinfomsg *ifi;

	if (!nest || nlh->nlmsg_len + MNL_ALIGN(sizeof(*ifi)) > len)
		return false;
	ifi = mnl_nlmsg_get_payload_tail(nlh);
	memset(ifi, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = peer->ifindex > 0 ? peer->ifindex : 0;
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*ifi));
	if (!put_link_attrs(nlh, len, peer->name, peer->mac, peer->mtu, peer->netns_fd))
		return false;
	mnl_attr_nest_end(nlh, nest);
	return true;
}

/* IFLA_LINKINFO { IFLA_INFO_KIND kind, IFLA_INFO_DATA { VETH_INFO_PEER ... } if peer } */
static bool put_linkinfo(struct nlmsghdr *nlh, size_t len, const char *kind,
			 const struct rtnl_veth_end *peer)
{
	struct nlattr *info, *data;

	info = mnl_attr_nest_start_check(nlh, len, IFLA_LINKINFO);
	if (!info || !mnl_attr_put_strz_check(nlh, len, IFLA_INFO_KIND, kind))
		return false;
	if (peer) {
		data = mnl_attr_nest_start_check(nlh, len, IFLA_INFO_DATA);
		if (!data || !put_veth_peer(nlh, len, peer))
			return false;
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, info);
	return true;
}

static struct ifinfomsg *put_newlink(void *buf, size_t len, int flags)
{
	struct nlmsghdr *nlh = put_header(buf, len, RTM_NEWLINK, flags, sizeof(struct ifinfomsg));

	if (!nlh)
		return NULL;
	return mnl_nlmsg_get_payload(nlh);
}

int rtnl_build_veth(void *buf, size_t len, const struct rtnl_veth_end *a,
		    const struct rtnl_veth_end *peer, nslab_error *err)
{
	struct nlmsghdr *nlh = buf;
	struct ifinfomsg *ifi;
	int r;

	r = check_ifname(a->name, err);
	if (r == 0)
		r = check_ifname(peer->name, err);
	if (r < 0)
		return r;
	if (peer->master)
		return nslab_err_setx(
			err, EINVAL, "'%s': a veth peer cannot be enslaved in the creating request",
			peer->name);
	/* The kernel configures the peer before it links the pair: veth_open() says ENOTCONN */
	if (peer->up)
		return nslab_err_setx(err, EINVAL,
				      "'%s': a veth peer cannot come up in the creating request",
				      peer->name);
	ifi = put_newlink(buf, len, NLM_F_CREATE | NLM_F_EXCL);
	if (!ifi)
		return header_too_small(RTM_NEWLINK, len, err);
	ifi->ifi_index = a->ifindex > 0 ? a->ifindex : 0;
	ifi_set_up(ifi, a->up ? 1 : -1);
	if (!put_link_attrs(nlh, len, a->name, a->mac, a->mtu, a->netns_fd) ||
	    (a->master > 0 && !mnl_attr_put_u32_check(nlh, len, IFLA_MASTER, a->master)) ||
	    !put_linkinfo(nlh, len, "veth", peer))
		return too_small(nlh, len, err);
	return 0;
}

int rtnl_build_bridge(void *buf, size_t len, const char *name, const uint8_t *mac, unsigned mtu,
		      bool up, nslab_error *err)
{
	struct nlmsghdr *nlh = buf;
	struct ifinfomsg *ifi;
	int r;

	r = check_ifname(name, err);
	if (r < 0)
		return r;
	ifi = put_newlink(buf, len, NLM_F_CREATE | NLM_F_EXCL);
	if (!ifi)
		return header_too_small(RTM_NEWLINK, len, err);
	ifi_set_up(ifi, up ? 1 : -1);
	if (!put_link_attrs(nlh, len, name, mac, mtu, -1) ||
	    !put_linkinfo(nlh, len, "bridge", NULL))
		return too_small(nlh, len, err);
	return 0;
}

static int check_ifindex(int ifindex, nslab_error *err)
{
	if (ifindex <= 0)
		return nslab_err_setx(err, EINVAL, "invalid interface index %d", ifindex);
	return 0;
}

/* IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE mode } } */
static bool put_addr_gen_mode(struct nlmsghdr *nlh, size_t len, uint8_t mode)
{
	struct nlattr *spec = mnl_attr_nest_start_check(nlh, len, IFLA_AF_SPEC), *inet6;

	if (!spec || !(inet6 = mnl_attr_nest_start_check(nlh, len, AF_INET6)) ||
	    !mnl_attr_put_u8_check(nlh, len, IFLA_INET6_ADDR_GEN_MODE, mode))
		return false;
	mnl_attr_nest_end(nlh, inet6);
	mnl_attr_nest_end(nlh, spec);
	return true;
}

int rtnl_build_link_set(void *buf, size_t len, int ifindex, const struct rtnl_link_change *chg,
			nslab_error *err)
{
	struct nlmsghdr *nlh = buf;
	struct ifinfomsg *ifi;
	int r;

	r = check_ifindex(ifindex, err);
	if (r == 0 && chg->name)
		r = check_ifname(chg->name, err);
	if (r < 0)
		return r;
	ifi = put_newlink(buf, len, 0);
	if (!ifi)
		return header_too_small(RTM_NEWLINK, len, err);
	ifi->ifi_index = ifindex;
	ifi_set_up(ifi, chg->up);
	if (!put_link_attrs(nlh, len, chg->name, chg->mac, chg->mtu, chg->netns_fd) ||
	    (chg->master >= 0 && !mnl_attr_put_u32_check(nlh, len, IFLA_MASTER, chg->master)) ||
	    (chg->set_addr_gen_mode && !put_addr_gen_mode(nlh, len, chg->addr_gen_mode)))
		return too_small(nlh, len, err);
	return 0;
}

int rtnl_build_brport_isolated(void *buf, size_t len, int ifindex, bool isolated, nslab_error *err)
{
	struct nlmsghdr *nlh = buf;
	struct nlattr *info, *data;
	struct ifinfomsg *ifi;
	int r = check_ifindex(ifindex, err);

	if (r < 0)
		return r;
	ifi = put_newlink(buf, len, 0);
	if (!ifi)
		return header_too_small(RTM_NEWLINK, len, err);
	ifi->ifi_index = ifindex;
	info = mnl_attr_nest_start_check(nlh, len, IFLA_LINKINFO);
	if (!info || !mnl_attr_put_strz_check(nlh, len, IFLA_INFO_SLAVE_KIND, "bridge"))
		return too_small(nlh, len, err);
	data = mnl_attr_nest_start_check(nlh, len, IFLA_INFO_SLAVE_DATA);
	if (!data || !mnl_attr_put_u8_check(nlh, len, IFLA_BRPORT_ISOLATED, isolated))
		return too_small(nlh, len, err);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return 0;
}

int rtnl_build_link_del(void *buf, size_t len, int ifindex, nslab_error *err)
{
	struct nlmsghdr *nlh;
	int r;

	r = check_ifindex(ifindex, err);
	if (r < 0)
		return r;
	nlh = put_header(buf, len, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	if (!nlh)
		return header_too_small(RTM_DELLINK, len, err);
	((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index = ifindex;
	return 0;
}

int rtnl_build_link_get(void *buf, size_t len, int ifindex, const char *name, nslab_error *err)
{
	struct nlmsghdr *nlh;
	int r;

	r = ifindex > 0 ? 0 : check_ifname(name, err);
	if (r < 0)
		return r;
	nlh = put_header(buf, len, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
	if (!nlh)
		return header_too_small(RTM_GETLINK, len, err);
	if (ifindex > 0)
		((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index = ifindex;
	else if (!mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, name))
		return too_small(nlh, len, err);
	return 0;
}

static int check_prefix(const struct nslab_prefix *p, const char *what, nslab_error *err)
{
	if (p->family != AF_INET && p->family != AF_INET6)
		return nslab_err_setx(err, EAFNOSUPPORT,
				      "%s: address family %d is not IPv4 or IPv6", what, p->family);
	if (p->len > prefix_addr_len(p) * 8)
		return nslab_err_setx(err, EINVAL, "%s: prefix length %u out of range", what,
				      p->len);
	return 0;
}

static int check_type(int type, int new_type, int del_type, nslab_error *err)
{
	if (type != new_type && type != del_type)
		return nslab_err_setx(err, EINVAL, "expected %s or %s, got %s",
				      nlsock_msg_name(new_type), nlsock_msg_name(del_type),
				      nlsock_msg_name(type));
	return 0;
}

int rtnl_build_addr(void *buf, size_t len, int type, int ifindex, const struct nslab_prefix *p,
		    uint32_t flags, nslab_error *err)
{
	size_t alen = prefix_addr_len(p);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int r;

	r = check_type(type, RTM_NEWADDR, RTM_DELADDR, err);
	if (r == 0)
		r = check_ifindex(ifindex, err);
	if (r == 0)
		r = check_prefix(p, "address", err);
	if (r < 0)
		return r;
	nlh = put_header(buf, len, type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0,
			 sizeof(*ifa));
	if (!nlh)
		return header_too_small(type, len, err);
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = p->family;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_flags = flags & 0xff; /* IFA_FLAGS carries all 32 bits */
	ifa->ifa_index = ifindex;
	/* Equal IFA_LOCAL and IFA_ADDRESS: no peer, for both families */
	if (!mnl_attr_put_check(nlh, len, IFA_LOCAL, alen, p->addr) ||
	    !mnl_attr_put_check(nlh, len, IFA_ADDRESS, alen, p->addr) ||
	    !mnl_attr_put_u32_check(nlh, len, IFA_FLAGS, flags))
		return too_small(nlh, len, err);
	return 0;
}

static int check_route(const struct rtnl_route *rt, nslab_error *err)
{
	int r = check_prefix(&rt->dst, "route destination", err);

	if (r < 0)
		return r;
	if (prefix_is_set(&rt->via) && rt->via.family != rt->dst.family)
		return nslab_err_setx(err, EAFNOSUPPORT,
				      "route gateway family %d differs from destination's %d",
				      rt->via.family, rt->dst.family);
	if (rt->unreachable && (prefix_is_set(&rt->via) || rt->oif > 0))
		return nslab_err_setx(err, EINVAL,
				      "an unreachable route has no gateway or interface");
	if (rt->local && (prefix_is_set(&rt->via) || rt->oif <= 0))
		return nslab_err_setx(err, EINVAL, "a local route has an interface and no gateway");
	if (!rt->unreachable && !prefix_is_set(&rt->via) && rt->oif <= 0)
		return nslab_err_setx(err, EINVAL, "route needs a gateway or an output interface");
	return 0;
}

/*
 * rtmsg of a route. A deletion matches any protocol, scope and type (0, NOWHERE,
 * UNSPEC, as "ip route del" does), so it also removes routes it did not add.
 */
static void route_header(struct rtmsg *rtm, int type, const struct rtnl_route *rt)
{
	rtm->rtm_family = rt->dst.family;
	rtm->rtm_dst_len = rt->dst.len;
	rtm->rtm_table = rt->table == 0	   ? RT_TABLE_MAIN
			 : rt->table > 255 ? RT_TABLE_UNSPEC
					   : rt->table;
	if (type == RTM_DELROUTE) {
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
		return;
	}
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = rt->unreachable ? RTN_UNREACHABLE : rt->local ? RTN_LOCAL : RTN_UNICAST;
	rtm->rtm_scope = rt->local				      ? RT_SCOPE_HOST
			 : prefix_is_set(&rt->via) || rt->unreachable ? RT_SCOPE_UNIVERSE
								      : RT_SCOPE_LINK;
}

int rtnl_build_route(void *buf, size_t len, int type, const struct rtnl_route *rt, nslab_error *err)
{
	size_t alen = prefix_addr_len(&rt->dst);
	struct nlmsghdr *nlh;
	int r;

	r = check_type(type, RTM_NEWROUTE, RTM_DELROUTE, err);
	if (r == 0)
		r = check_route(rt, err);
	if (r < 0)
		return r;
	nlh = put_header(buf, len, type,
			 type != RTM_NEWROUTE ? 0
			 : rt->replace	      ? NLM_F_CREATE | NLM_F_REPLACE
					      : NLM_F_CREATE | NLM_F_EXCL,
			 sizeof(struct rtmsg));
	if (!nlh)
		return header_too_small(type, len, err);
	route_header(mnl_nlmsg_get_payload(nlh), type, rt);
	if ((rt->dst.len && !mnl_attr_put_check(nlh, len, RTA_DST, alen, rt->dst.addr)) ||
	    (prefix_is_set(&rt->via) &&
	     !mnl_attr_put_check(nlh, len, RTA_GATEWAY, alen, rt->via.addr)) ||
	    (rt->oif > 0 && !mnl_attr_put_u32_check(nlh, len, RTA_OIF, rt->oif)) ||
	    (rt->metric && !mnl_attr_put_u32_check(nlh, len, RTA_PRIORITY, rt->metric)) ||
	    (rt->table > 255 && !mnl_attr_put_u32_check(nlh, len, RTA_TABLE, rt->table)))
		return too_small(nlh, len, err);
	return 0;
}

int rtnl_build_neigh(void *buf, size_t len, int type, int ifindex, const struct nslab_prefix *ip,
		     const uint8_t *mac, uint16_t state, nslab_error *err)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	int r;

	r = check_type(type, RTM_NEWNEIGH, RTM_DELNEIGH, err);
	if (r == 0)
		r = check_ifindex(ifindex, err);
	if (r == 0)
		r = check_prefix(ip, "neighbour", err);
	if (r < 0)
		return r;
	nlh = put_header(buf, len, type, type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_REPLACE : 0,
			 sizeof(*ndm));
	if (!nlh)
		return header_too_small(type, len, err);
	ndm = mnl_nlmsg_get_payload(nlh);
	ndm->ndm_family = ip->family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = state;
	if (!mnl_attr_put_check(nlh, len, NDA_DST, prefix_addr_len(ip), ip->addr) ||
	    (mac && !mnl_attr_put_check(nlh, len, NDA_LLADDR, ETH_ALEN, mac)))
		return too_small(nlh, len, err);
	return 0;
}

/* The family header of each dump: strict checking wants the right struct, zeroed but the family. */
static size_t dump_header_size(int type)
{
	switch (type) {
	case RTM_GETLINK:
		return sizeof(struct ifinfomsg);
	case RTM_GETADDR:
		return sizeof(struct ifaddrmsg);
	case RTM_GETROUTE:
		return sizeof(struct rtmsg);
	case RTM_GETNEIGH:
		return sizeof(struct ndmsg);
	default:
		return 0;
	}
}

int rtnl_build_dump(void *buf, size_t len, int type, int family, nslab_error *err)
{
	size_t size = dump_header_size(type);
	struct nlmsghdr *nlh;

	if (!size)
		return nslab_err_setx(err, EINVAL, "%s is not a dump rtnl_build_dump() knows",
				      nlsock_msg_name(type));
	nlh = put_header(buf, len, type, NLM_F_DUMP, size);
	if (!nlh)
		return header_too_small(type, len, err);
	/* The family is the first byte of all four headers */
	*(unsigned char *)mnl_nlmsg_get_payload(nlh) = family;
	return 0;
}
