/* SPDX-License-Identifier: MIT */
/*
 * nl/rtnl: pure builders and parsers for rtnetlink (links, addresses, routes,
 * neighbours) plus a few convenience calls that talk over an nlsock.
 * Builders fill the caller's buffer (header at buf) and do no I/O; they fail
 * with -EMSGSIZE when the request does not fit in len.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <linux/netlink.h>

#include "core/addr.h"
#include "nl/nlsock.h"
#include "nslab/error.h"

/* One end of a veth pair. */
struct rtnl_veth_end {
	const char *name;   /* required */
	int netns_fd;	    /* -1: the namespace of the socket the request is sent on */
	const uint8_t *mac; /* 6 bytes, or NULL to let the kernel choose */
	int master;	    /* ifindex of a bridge in the end's own namespace, 0 for none */
	unsigned mtu;	    /* 0 for the default */
	bool up;
	int ifindex; /* > 0: ask the kernel for this ifindex (ifi_index) in the end's namespace; 0: kernel picks */
};

/*
 * rtnl_build_veth() - RTM_NEWLINK creating a veth pair with both ends placed
 * One request: @a's attributes at top level, @peer's inside VETH_INFO_PEER;
 * each end carries IFLA_NET_NS_FD when its netns_fd >= 0. Only @a may have a
 * master (the kernel applies IFLA_MASTER to the primary end only); a peer
 * master is -EINVAL. Likewise only @a may be up: the kernel configures the
 * peer before linking the pair, so a peer's IFF_UP fails with ENOTCONN
 * (veth_open()); peer->up is -EINVAL, bring it up with a second request in its
 * namespace (its ifindex is known in advance when peer->ifindex is set).
 */
int rtnl_build_veth(void *buf, size_t len, const struct rtnl_veth_end *a,
		    const struct rtnl_veth_end *peer, nslab_error *err);
/* RTM_NEWLINK creating a bridge (name, optional mac, mtu 0 = default, up); ifi_index 0.
 * Callers wanting a fixed ifindex set ifi_index in the payload afterwards. */
int rtnl_build_bridge(void *buf, size_t len, const char *name, const uint8_t *mac, unsigned mtu,
		      bool up, nslab_error *err);

/* What rtnl_build_link_set() changes; fields left at their "keep" value change nothing. */
struct rtnl_link_change {
	int up;			/* -1 keep, 0 down, 1 up */
	unsigned mtu;		/* 0 keep */
	const char *name;	/* NULL keep */
	int master;		/* -1 keep, 0 release from master, > 0 enslave */
	int netns_fd;		/* -1 keep, else move to that namespace */
	const uint8_t *mac;	/* NULL keep */
	bool set_addr_gen_mode; /* false keep */
	uint8_t addr_gen_mode;	/* IN6_ADDR_GEN_MODE_*, sent in IFLA_AF_SPEC/AF_INET6 */
};
/* clang-format off */
#define RTNL_LINK_CHANGE_KEEP { .up = -1, .master = -1, .netns_fd = -1 }
/* clang-format on */
int rtnl_build_link_set(void *buf, size_t len, int ifindex, const struct rtnl_link_change *chg,
			nslab_error *err);
int rtnl_build_link_del(void *buf, size_t len, int ifindex, nslab_error *err);
/*
 * rtnl_build_brport_isolated() - RTM_NEWLINK setting a bridge port's isolation
 * An isolated port exchanges frames with the bridge itself and with
 * non-isolated ports only (IFLA_BRPORT_ISOLATED, as a bridge slave's data).
 * The link must already be enslaved.
 */
int rtnl_build_brport_isolated(void *buf, size_t len, int ifindex, bool isolated, nslab_error *err);
/* RTM_GETLINK for one link, by ifindex (> 0) or else by name. */
int rtnl_build_link_get(void *buf, size_t len, int ifindex, const char *name, nslab_error *err);

/*
 * rtnl_build_addr() - RTM_NEWADDR (create, excl) or RTM_DELADDR
 * @p:     address with its subnet length
 * @flags: IFA_F_* (e.g. IFA_F_NODAD), sent as IFA_FLAGS
 */
int rtnl_build_addr(void *buf, size_t len, int type, int ifindex, const struct nslab_prefix *p,
		    uint32_t flags, nslab_error *err);

struct rtnl_route {
	struct nslab_prefix dst; /* family required; len 0 = default route */
	struct nslab_prefix via; /* family 0 = none (direct, needs oif) */
	int oif;		 /* 0 = none */
	uint32_t metric;	 /* 0 = kernel default */
	uint32_t table;		 /* 0 = main */
	bool unreachable;	 /* RTN_UNREACHABLE (no via, no oif): "network unreachable" */
	bool local;		 /* RTN_LOCAL (oif, no via): every address of dst is this host's */
	bool replace;		 /* RTM_NEWROUTE replaces a route of the same dst and metric */
};
/*
 * RTM_NEWROUTE (create; excl unless replace) or RTM_DELROUTE; protocol static,
 * scope from via/oif (universe for an unreachable route).
 */
int rtnl_build_route(void *buf, size_t len, int type, const struct rtnl_route *r, nslab_error *err);
/* RTM_NEWNEIGH (create/replace) or RTM_DELNEIGH; state NUD_* (NUD_PERMANENT for static). */
int rtnl_build_neigh(void *buf, size_t len, int type, int ifindex, const struct nslab_prefix *ip,
		     const uint8_t *mac, uint16_t state, nslab_error *err);
/* A dump request: RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE or RTM_GETNEIGH; family AF_UNSPEC for all. */
int rtnl_build_dump(void *buf, size_t len, int type, int family, nslab_error *err);

/* Parsed replies. Parsers validate each attribute's type and length; bad input is -EPROTO. */
struct rtnl_link_info {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags; /* IFF_* */
	unsigned mtu;
	int master;	  /* 0 if none */
	int link;	  /* IFLA_LINK (veth peer ifindex), 0 if none */
	int link_netnsid; /* -1 if none */
	uint8_t mac[6];
	bool has_mac;
	char kind[16]; /* IFLA_INFO_KIND, "" if none */
	unsigned operstate;
};
int rtnl_parse_link(const struct nlmsghdr *nlh, struct rtnl_link_info *ret, nslab_error *err);

struct rtnl_addr_info {
	int ifindex;
	struct nslab_prefix addr; /* IFA_LOCAL if present, else IFA_ADDRESS */
	uint32_t flags;		  /* IFA_FLAGS if present, else ifa_flags */
	uint8_t scope;
};
int rtnl_parse_addr(const struct nlmsghdr *nlh, struct rtnl_addr_info *ret, nslab_error *err);

struct rtnl_route_info {
	struct nslab_prefix dst; /* len 0 = default */
	struct nslab_prefix gw;	 /* family 0 = none */
	int oif;
	uint32_t table;
	uint32_t priority;
	uint8_t protocol, scope, type;
};
int rtnl_parse_route(const struct nlmsghdr *nlh, struct rtnl_route_info *ret, nslab_error *err);

struct rtnl_neigh_info {
	int ifindex;
	struct nslab_prefix ip;
	uint8_t mac[6];
	bool has_mac;
	uint16_t state;
};
int rtnl_parse_neigh(const struct nlmsghdr *nlh, struct rtnl_neigh_info *ret, nslab_error *err);

/* I/O conveniences over nlsock_talk(). Callbacks return 0 to go on, < 0 to stop with that error. */
typedef int (*rtnl_link_cb)(const struct rtnl_link_info *info, void *data);
typedef int (*rtnl_addr_cb)(const struct rtnl_addr_info *info, void *data);
typedef int (*rtnl_route_cb)(const struct rtnl_route_info *info, void *data);
int rtnl_link_dump(struct nlsock *nl, rtnl_link_cb cb, void *data, nslab_error *err);
int rtnl_addr_dump(struct nlsock *nl, int family, rtnl_addr_cb cb, void *data, nslab_error *err);
int rtnl_route_dump(struct nlsock *nl, int family, rtnl_route_cb cb, void *data, nslab_error *err);
/* ifindex of the link called name in nl's namespace; -ENODEV if none. */
int rtnl_link_index(struct nlsock *nl, const char *name, int *ret_ifindex, nslab_error *err);
/* The IFF_* flags of the link called name (IFF_RUNNING once the kernel saw its carrier). */
int rtnl_link_flags(struct nlsock *nl, const char *name, unsigned *ret_flags, nslab_error *err);
/* One-request wrappers (build + talk). */
int rtnl_link_set(struct nlsock *nl, int ifindex, const struct rtnl_link_change *chg,
		  nslab_error *err);
int rtnl_link_del(struct nlsock *nl, int ifindex, nslab_error *err);
