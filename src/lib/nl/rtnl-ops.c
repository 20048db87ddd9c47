/* SPDX-License-Identifier: MIT */
/*
 * nl/rtnl-ops: rtnetlink conveniences that build one request, talk, and hand
 * parsed replies to the caller (dumps, ifindex lookup, link set and delete).
 */
#include "nl/rtnl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

/* One dump in progress: the caller's typed callback behind an mnl_cb_t. */
struct dump {
	struct nlsock *nl;
	nslab_error *err;
	int (*parse_call)(struct dump *d, const struct nlmsghdr *nlh, nslab_error *perr);
	union {
		rtnl_link_cb link;
		rtnl_addr_cb addr;
		rtnl_route_cb route;
	} cb;
	void *data;
	const char *what; /* "link", "address", "route" */
};

static int dump_link(struct dump *d, const struct nlmsghdr *nlh, nslab_error *perr)
{
	struct rtnl_link_info info;
	int r = rtnl_parse_link(nlh, &info, perr);

	return r < 0 ? r : d->cb.link(&info, d->data);
}

static int dump_addr(struct dump *d, const struct nlmsghdr *nlh, nslab_error *perr)
{
	struct rtnl_addr_info info;
	int r = rtnl_parse_addr(nlh, &info, perr);

	return r < 0 ? r : d->cb.addr(&info, d->data);
}

static int dump_route(struct dump *d, const struct nlmsghdr *nlh, nslab_error *perr)
{
	struct rtnl_route_info info;
	int r = rtnl_parse_route(nlh, &info, perr);

	return r < 0 ? r : d->cb.route(&info, d->data);
}

/*
 * Parse one message and call the caller. Families other than IPv4 and IPv6
 * (AF_BRIDGE, IP multicast routing, ...) are skipped. A parser's error is
 * copied to err only when it stops the dump, so a successful dump leaves err untouched.
 */
static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	nslab_error perr = { 0 };
	int r;

	r = d->parse_call(d, nlh, &perr);
	if (r >= 0 || perr.code == EAFNOSUPPORT)
		return MNL_CB_OK;
	if (perr.code == 0) /* the caller's callback failed */
		(void)nslab_err_set(&perr, -r, "%s dump stopped by its callback", d->what);
	if (d->err)
		*d->err = perr;
	return nlsock_cb_error(d->nl, r);
}

static int dump_run(struct dump *d, int type, int family)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	int r;

	r = rtnl_build_dump(buf, sizeof(buf), type, family, d->err);
	if (r < 0)
		return r;
	return nlsock_talk(d->nl, (struct nlmsghdr *)buf, dump_cb, d, d->err);
}

int rtnl_link_dump(struct nlsock *nl, rtnl_link_cb cb, void *data, nslab_error *err)
{
	struct dump d = { nl, err, dump_link, { .link = cb }, data, "link" };

	return dump_run(&d, RTM_GETLINK, AF_UNSPEC);
}

int rtnl_addr_dump(struct nlsock *nl, int family, rtnl_addr_cb cb, void *data, nslab_error *err)
{
	struct dump d = { nl, err, dump_addr, { .addr = cb }, data, "address" };

	return dump_run(&d, RTM_GETADDR, family);
}

int rtnl_route_dump(struct nlsock *nl, int family, rtnl_route_cb cb, void *data, nslab_error *err)
{
	struct dump d = { nl, err, dump_route, { .route = cb }, data, "route" };

	return dump_run(&d, RTM_GETROUTE, family);
}

struct link_index {
	struct nlsock *nl;
	nslab_error *err;
	int ifindex;
	unsigned flags;
};

static int link_index_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_index *li = data;
	struct rtnl_link_info info;
	int r;

	r = rtnl_parse_link(nlh, &info, li->err);
	if (r < 0)
		return nlsock_cb_error(li->nl, r);
	li->ifindex = info.ifindex;
	li->flags = info.flags;
	return MNL_CB_OK;
}

int rtnl_link_flags(struct nlsock *nl, const char *name, unsigned *ret_flags, nslab_error *err)
{
	struct link_index li = { nl, err, 0, 0 };
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	int r;

	r = rtnl_build_link_get(buf, sizeof(buf), 0, name, err);
	if (r == 0)
		r = nlsock_talk(nl, (struct nlmsghdr *)buf, link_index_cb, &li, err);
	if (r == 0 && li.ifindex <= 0)
		r = nslab_err_setx(err, ENODEV, "no link '%s' in the reply", name);
	if (r < 0)
		return r;
	*ret_flags = li.flags;
	return 0;
}

int rtnl_link_index(struct nlsock *nl, const char *name, int *ret_ifindex, nslab_error *err)
{
	struct link_index li = { nl, err, 0, 0 };
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	int r;

	r = rtnl_build_link_get(buf, sizeof(buf), 0, name, err);
	if (r == 0)
		r = nlsock_talk(nl, (struct nlmsghdr *)buf, link_index_cb, &li, err);
	/* The kernel answers ENODEV itself; this covers a reply without a link in it */
	if (r == 0 && li.ifindex <= 0)
		r = nslab_err_setx(err, ENODEV, "no link '%s' in the reply", name);
	if (r < 0)
		return r;
	*ret_ifindex = li.ifindex;
	return 0;
}

int rtnl_link_set(struct nlsock *nl, int ifindex, const struct rtnl_link_change *chg,
		  nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	int r;

	r = rtnl_build_link_set(buf, sizeof(buf), ifindex, chg, err);
	if (r < 0)
		return r;
	return nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, err);
}

int rtnl_link_del(struct nlsock *nl, int ifindex, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	int r;

	r = rtnl_build_link_del(buf, sizeof(buf), ifindex, err);
	if (r < 0)
		return r;
	return nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, err);
}
