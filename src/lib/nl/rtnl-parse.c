/* SPDX-License-Identifier: MIT */
/*
 * nl/rtnl-parse: pure parsers of rtnetlink replies (links, addresses, routes,
 * neighbours). Input is untrusted bytes: every attribute we read is validated
 * for type and length first, unknown ones are skipped, anything truncated or
 * malformed is -EPROTO, and *ret is written only on success. Fuzzed by
 * tests/fuzz/fuzz-rtnl.c.
 */
#include "nl/rtnl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

/* Expected type and length of an attribute we read; others are skipped unvalidated. */
struct attr_rule {
	uint16_t type;
	enum mnl_attr_data_type data;
	size_t len; /* exact payload length, 0 for any, RULE_ALEN for the family's address */
};
#define RULE_ALEN ((size_t)-1)

/* What the validating callback fills: tb[type] for each attribute in rules. */
struct attrs {
	const struct nlattr **tb;
	unsigned max;
	const struct attr_rule *rules;
	size_t nrules;
	size_t alen; /* 4 or 16 for RULE_ALEN */
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct attrs *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type > a->max)
		return MNL_CB_OK; /* newer than our headers: skip */
	for (size_t i = 0; i < a->nrules; i++) {
		const struct attr_rule *rule = &a->rules[i];

		if (rule->type != type)
			continue;
		if (mnl_attr_validate2(attr, rule->data,
				       rule->len == RULE_ALEN ? a->alen : rule->len) < 0)
			return MNL_CB_ERROR;
		a->tb[type] = attr;
	}
	return MNL_CB_OK;
}

#define PARSE_TRUNCATED (-1)

/*
 * Walk the attributes in [start, end) like mnl_attr_parse(), with two differences:
 * the bound is the length as sent (libmnl's is the aligned length, up to 3 bytes
 * past an unaligned last message), and a partial attribute at the end is an error
 * instead of being ignored.
 * Return: 0, the type of the first invalid attribute + 1, or PARSE_TRUNCATED.
 */
static int parse_range(const void *start, const void *end, struct attrs *a)
{
	const struct nlattr *attr = start;

	for (; mnl_attr_ok(attr, (const char *)end - (const char *)attr);
	     attr = mnl_attr_next(attr))
		if (attr_cb(attr, a) != MNL_CB_OK)
			return mnl_attr_get_type(attr) + 1;
	return (const char *)attr < (const char *)end ? PARSE_TRUNCATED : 0;
}

static int range_error(int bad, const char *what, nslab_error *err)
{
	if (bad == PARSE_TRUNCATED)
		return nslab_err_setx(err, EPROTO, "%s: truncated attribute", what);
	return nslab_err_setx(err, EPROTO, "%s: malformed attribute %d", what, bad - 1);
}

/* Attributes after the family header of size hdr (its presence checked by check_msg()). */
static int parse_attrs(const struct nlmsghdr *nlh, size_t hdr, struct attrs *a, nslab_error *err)
{
	int bad = parse_range(mnl_nlmsg_get_payload_offset(nlh, hdr),
			      (const char *)nlh + nlh->nlmsg_len, a);

	return bad ? range_error(bad, nlsock_msg_name(nlh->nlmsg_type), err) : 0;
}

static int parse_nested(const struct nlattr *nest, const char *what, struct attrs *a,
			nslab_error *err)
{
	const char *payload = mnl_attr_get_payload(nest);
	int bad = parse_range(payload, payload + mnl_attr_get_payload_len(nest), a);

	return bad ? range_error(bad, what, err) : 0;
}

/* The message is new_type or del_type and holds at least a family header of size hdr. */
static int check_msg(const struct nlmsghdr *nlh, int new_type, int del_type, size_t hdr,
		     nslab_error *err)
{
	if (nlh->nlmsg_type != new_type && nlh->nlmsg_type != del_type)
		return nslab_err_setx(err, EPROTO, "expected %s, got %s", nlsock_msg_name(new_type),
				      nlsock_msg_name(nlh->nlmsg_type));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdr))
		return nslab_err_setx(err, EPROTO, "%s of %u bytes is truncated",
				      nlsock_msg_name(nlh->nlmsg_type), nlh->nlmsg_len);
	return 0;
}

/* Address length of an IP family; -EAFNOSUPPORT for the others (dumps skip those). */
static int family_alen(int family, int type, size_t *ret, nslab_error *err)
{
	if (family != AF_INET && family != AF_INET6)
		return nslab_err_setx(err, EAFNOSUPPORT, "%s: address family %d is not IP",
				      nlsock_msg_name(type), family);
	*ret = family == AF_INET ? 4 : 16;
	return 0;
}

static int set_prefix(struct nslab_prefix *p, int family, unsigned len, const struct nlattr *attr,
		      nslab_error *err)
{
	size_t alen = family == AF_INET ? 4 : 16;

	if (len > alen * 8)
		return nslab_err_setx(err, EPROTO, "prefix length %u out of range", len);
	*p = (struct nslab_prefix){ .family = family, .len = len };
	if (attr)
		memcpy(p->addr, mnl_attr_get_payload(attr), alen);
	return 0;
}

/* Copy a validated NUL-terminated string attribute; too long for the field is -EPROTO. */
static int copy_str(char *dst, size_t size, const struct nlattr *attr, const char *what,
		    nslab_error *err)
{
	if (mnl_attr_get_payload_len(attr) > size)
		return nslab_err_setx(err, EPROTO, "%s longer than %zu bytes", what, size - 1);
	memcpy(dst, mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr));
	return 0;
}

static const struct attr_rule link_rules[] = {
	{ IFLA_IFNAME, MNL_TYPE_NUL_STRING, 0 }, { IFLA_MTU, MNL_TYPE_U32, 4 },
	{ IFLA_MASTER, MNL_TYPE_U32, 4 },	 { IFLA_LINK, MNL_TYPE_U32, 4 },
	{ IFLA_LINK_NETNSID, MNL_TYPE_U32, 4 },	 { IFLA_ADDRESS, MNL_TYPE_BINARY, 0 },
	{ IFLA_OPERSTATE, MNL_TYPE_U8, 1 },	 { IFLA_LINKINFO, MNL_TYPE_NESTED, 0 },
};
static const struct attr_rule linkinfo_rules[] = {
	{ IFLA_INFO_KIND, MNL_TYPE_NUL_STRING, 0 },
};

static int link_kind(const struct nlattr *linkinfo, struct rtnl_link_info *info, nslab_error *err)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1] = { 0 };
	struct attrs a = { tb, IFLA_INFO_MAX, linkinfo_rules, ARRAY_SIZE(linkinfo_rules), 0 };
	int r;

	r = parse_nested(linkinfo, "IFLA_LINKINFO", &a, err);
	if (r < 0 || !tb[IFLA_INFO_KIND])
		return r;
	return copy_str(info->kind, sizeof(info->kind), tb[IFLA_INFO_KIND], "IFLA_INFO_KIND", err);
}

static int link_fill(const struct nlattr **tb, struct rtnl_link_info *info, nslab_error *err)
{
	int r;

	if (!tb[IFLA_IFNAME])
		return nslab_err_setx(err, EPROTO, "RTM_NEWLINK without IFLA_IFNAME");
	r = copy_str(info->name, sizeof(info->name), tb[IFLA_IFNAME], "IFLA_IFNAME", err);
	if (r < 0)
		return r;
	info->mtu = tb[IFLA_MTU] ? mnl_attr_get_u32(tb[IFLA_MTU]) : 0;
	info->master = tb[IFLA_MASTER] ? (int)mnl_attr_get_u32(tb[IFLA_MASTER]) : 0;
	info->link = tb[IFLA_LINK] ? (int)mnl_attr_get_u32(tb[IFLA_LINK]) : 0;
	info->link_netnsid =
		tb[IFLA_LINK_NETNSID] ? (int)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID]) : -1;
	info->operstate = tb[IFLA_OPERSTATE] ? mnl_attr_get_u8(tb[IFLA_OPERSTATE]) : 0;
	/* Only Ethernet-like addresses; tunnels carry 4 or 16 bytes here */
	info->has_mac = tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == ETH_ALEN;
	if (info->has_mac)
		memcpy(info->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), ETH_ALEN);
	return tb[IFLA_LINKINFO] ? link_kind(tb[IFLA_LINKINFO], info, err) : 0;
}

int rtnl_parse_link(const struct nlmsghdr *nlh, struct rtnl_link_info *ret, nslab_error *err)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct attrs a = { tb, IFLA_MAX, link_rules, ARRAY_SIZE(link_rules), 0 };
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct rtnl_link_info info = { 0 };
	int r;

	r = check_msg(nlh, RTM_NEWLINK, RTM_DELLINK, sizeof(*ifi), err);
	if (r == 0)
		r = parse_attrs(nlh, sizeof(*ifi), &a, err);
	if (r == 0)
		r = link_fill(tb, &info, err);
	if (r < 0)
		return r;
	info.ifindex = ifi->ifi_index;
	info.flags = ifi->ifi_flags;
	*ret = info;
	return 0;
}

static const struct attr_rule addr_rules[] = {
	{ IFA_ADDRESS, MNL_TYPE_BINARY, RULE_ALEN },
	{ IFA_LOCAL, MNL_TYPE_BINARY, RULE_ALEN },
	{ IFA_FLAGS, MNL_TYPE_U32, 4 },
};

int rtnl_parse_addr(const struct nlmsghdr *nlh, struct rtnl_addr_info *ret, nslab_error *err)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	struct attrs a = { tb, IFA_MAX, addr_rules, ARRAY_SIZE(addr_rules), 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct rtnl_addr_info info = { 0 };
	const struct nlattr *addr;
	int r;

	r = check_msg(nlh, RTM_NEWADDR, RTM_DELADDR, sizeof(*ifa), err);
	if (r == 0)
		r = family_alen(ifa->ifa_family, nlh->nlmsg_type, &a.alen, err);
	if (r == 0)
		r = parse_attrs(nlh, sizeof(*ifa), &a, err);
	if (r < 0)
		return r;
	addr = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!addr)
		return nslab_err_setx(err, EPROTO, "RTM_NEWADDR without an address");
	r = set_prefix(&info.addr, ifa->ifa_family, ifa->ifa_prefixlen, addr, err);
	if (r < 0)
		return r;
	info.ifindex = ifa->ifa_index;
	info.flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	info.scope = ifa->ifa_scope;
	*ret = info;
	return 0;
}

static const struct attr_rule route_rules[] = {
	{ RTA_DST, MNL_TYPE_BINARY, RULE_ALEN },
	{ RTA_GATEWAY, MNL_TYPE_BINARY, RULE_ALEN },
	{ RTA_OIF, MNL_TYPE_U32, 4 },
	{ RTA_TABLE, MNL_TYPE_U32, 4 },
	{ RTA_PRIORITY, MNL_TYPE_U32, 4 },
};

static int route_fill(const struct rtmsg *rtm, const struct nlattr **tb,
		      struct rtnl_route_info *info, nslab_error *err)
{
	int r;

	r = set_prefix(&info->dst, rtm->rtm_family, rtm->rtm_dst_len, tb[RTA_DST], err);
	if (r == 0 && tb[RTA_GATEWAY])
		r = set_prefix(&info->gw, rtm->rtm_family, rtm->rtm_family == AF_INET ? 32 : 128,
			       tb[RTA_GATEWAY], err);
	if (r < 0)
		return r;
	info->oif = tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	info->table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	info->priority = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
	info->protocol = rtm->rtm_protocol;
	info->scope = rtm->rtm_scope;
	info->type = rtm->rtm_type;
	return 0;
}

int rtnl_parse_route(const struct nlmsghdr *nlh, struct rtnl_route_info *ret, nslab_error *err)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct attrs a = { tb, RTA_MAX, route_rules, ARRAY_SIZE(route_rules), 0 };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct rtnl_route_info info = { 0 };
	int r;

	r = check_msg(nlh, RTM_NEWROUTE, RTM_DELROUTE, sizeof(*rtm), err);
	if (r == 0)
		r = family_alen(rtm->rtm_family, nlh->nlmsg_type, &a.alen, err);
	if (r == 0)
		r = parse_attrs(nlh, sizeof(*rtm), &a, err);
	if (r == 0)
		r = route_fill(rtm, tb, &info, err);
	if (r < 0)
		return r;
	*ret = info;
	return 0;
}

static const struct attr_rule neigh_rules[] = {
	{ NDA_DST, MNL_TYPE_BINARY, RULE_ALEN },
	{ NDA_LLADDR, MNL_TYPE_BINARY, 0 },
};

int rtnl_parse_neigh(const struct nlmsghdr *nlh, struct rtnl_neigh_info *ret, nslab_error *err)
{
	const struct nlattr *tb[NDA_MAX + 1] = { 0 };
	struct attrs a = { tb, NDA_MAX, neigh_rules, ARRAY_SIZE(neigh_rules), 0 };
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct rtnl_neigh_info info = { 0 };
	int r;

	r = check_msg(nlh, RTM_NEWNEIGH, RTM_DELNEIGH, sizeof(*ndm), err);
	if (r == 0)
		r = family_alen(ndm->ndm_family, nlh->nlmsg_type, &a.alen, err);
	if (r == 0)
		r = parse_attrs(nlh, sizeof(*ndm), &a, err);
	if (r == 0 && !tb[NDA_DST])
		r = nslab_err_setx(err, EPROTO, "RTM_NEWNEIGH without NDA_DST");
	if (r == 0)
		r = set_prefix(&info.ip, ndm->ndm_family, ndm->ndm_family == AF_INET ? 32 : 128,
			       tb[NDA_DST], err);
	if (r < 0)
		return r;
	info.ifindex = ndm->ndm_ifindex;
	info.state = ndm->ndm_state;
	/* An incomplete entry has no NDA_LLADDR; only Ethernet-length ones count */
	info.has_mac = tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == ETH_ALEN;
	if (info.has_mac)
		memcpy(info.mac, mnl_attr_get_payload(tb[NDA_LLADDR]), ETH_ALEN);
	*ret = info;
	return 0;
}
