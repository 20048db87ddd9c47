/* SPDX-License-Identifier: MIT */
/*
 * lab/device-ctl: a device's default interface changed, an interface
 * replugged or given new addresses while the lab runs
 * (nslab_lab_set_default_via() on a built lab, nslab_lab_replug(),
 * nslab_lab_renew_ip(); the supervisor's control socket calls them). Its default routes are replaced in one netlink batch on
 * the device's own socket, the plan follows (status, NSLAB_IP_* of later
 * commands), one event, state.json written again.
 */
#include "nslab/lab.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "lab/lab.h"
#include "lab/links.h"
#include "lab/ra.h"
#include "ns/netns.h"
#include "nl/sysctl.h"
#include "core/hash.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"

/* The gateway a device's default route of one family takes through iface k (or another). */
static const struct nslab_prefix *default_gw(const struct plan_node *pn, size_t k, bool v6)
{
	const struct nslab_prefix *gw = v6 ? &pn->ifaces[k].gw6 : &pn->ifaces[k].gw4;

	/* as the plan does: another interface's when this one lacks the family */
	for (size_t j = 0; !prefix_is_set(gw) && j < pn->n_ifaces; j++)
		gw = v6 ? &pn->ifaces[j].gw6 : &pn->ifaces[j].gw4;
	return gw;
}

/* Replace the default routes of the device's namespace; the plan's routes follow. */
static int replace_defaults(struct nslab_node *n, struct plan_node *pn, size_t k, nslab_error *err)
{
	char buf[2 * NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct nlbatch b;
	int r = 0;

	nlbatch_init(&b, buf, sizeof(buf));
	for (size_t i = 0; r >= 0 && i < pn->n_routes; i++) {
		struct plan_route *pr = &pn->routes[i];
		const struct nslab_prefix *gw;
		struct rtnl_route rt;
		struct nlmsghdr *nlh = nlbatch_tail(&b);

		if (pr->dst.len != 0)
			continue;
		gw = default_gw(pn, k, pr->dst.family == AF_INET6);
		/* no interface left with that family (a replug onto a single-family router) */
		if (!prefix_is_set(gw))
			continue;
		rt = (struct rtnl_route){ .dst = pr->dst, .via = *gw };
		r = rtnl_build_route(nlh, nlbatch_room(&b), RTM_NEWROUTE, &rt, err);
		if (r < 0)
			break;
		nlh->nlmsg_flags = (nlh->nlmsg_flags & ~NLM_F_EXCL) | NLM_F_REPLACE;
		nlbatch_push(&b);
		pr->via = *gw;
	}
	if (r >= 0 && b.count)
		r = nlsock_talk_batch(n->ns->nl, &b, err);
	return r;
}

static int find_iface(nslab_lab *lab, const char *device, const char *ifname,
		      struct nslab_node **ret_n, size_t *ret_k, nslab_error *err)
{
	struct nslab_node *n = device ? nslab_lab_node(lab, device) : NULL;

	if (!n)
		return nslab_err_setx(err, ENOENT, "no node '%s' in lab '%s'", device ? device : "",
				      lab->spec->name);
	if (n->pn->kind != PLAN_DEVICE)
		return nslab_err_setx(err, EINVAL, "'%s' is a router, not a device", device);
	for (size_t k = 0; ifname && k < n->pn->n_ifaces; k++)
		if (strcmp(n->pn->ifaces[k].name, ifname) == 0) {
			*ret_n = n;
			*ret_k = k;
			return 0;
		}
	return nslab_err_setx(err, ENOENT, "device '%s' has no interface '%s'", device,
			      ifname ? ifname : "");
}

struct defrtr_job {
	const char *ifname;
	bool on;
};

static int defrtr_in_ns(void *data, nslab_error *err)
{
	struct defrtr_job *j = data;
	char key[64];

	snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra_defrtr", j->ifname);
	return sysctl_write_in_ns(key, j->on ? "1" : "0", err);
}

/* Under RA: whether the device's interface takes a default route from the RAs it hears. */
static int ra_defrtr(struct nslab_node *n, const char *ifname, bool on, nslab_error *err)
{
	return netns_call(n->ns->fd, defrtr_in_ns, &(struct defrtr_job){ ifname, on }, err);
}

/*
 * Under RA: router r advertises now, not only when the new interface's
 * solicitation reaches it (the first one is often lost while the bridge port
 * comes up; the next is a second later). Best effort: the RS is the fallback.
 */
static void ra_prompt(nslab_lab *lab, size_t r)
{
	nslab_error err = { 0 };

	if (lab->nodes[r].ra_fd >= 0 && ra_send(lab->nodes[r].ra_fd, lab->nodes[r].pn, &err) < 0)
		log_debugf(&lab->log, "%s, ignoring", err.msg);
}

struct ra_route_seek {
	int oif;
	bool found;
};

static int ra_route_cb(const struct rtnl_route_info *info, void *data)
{
	struct ra_route_seek *s = data;

	if (info->dst.len == 0 && info->oif == s->oif && info->protocol == RTPROT_RA)
		s->found = true;
	return 0;
}

/* Whether the device holds a default route its kernel learnt from an RA on oif. */
static int has_ra_default(struct nslab_node *n, int oif, bool *ret, nslab_error *err)
{
	struct ra_route_seek s = { .oif = oif };
	int r = rtnl_route_dump(n->ns->nl, AF_INET6, ra_route_cb, &s, err);

	*ret = s.found;
	return r < 0 ? r : 0;
}

/* A netlink socket in the device's namespace told of its IPv6 route changes. */
static int open_route_watch(void *data, nslab_error *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV6_ROUTE };
	int *ret = data,
	    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return nslab_err_set(err, errno, "netlink socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = nslab_err_set(err, errno, "watch IPv6 routes");

		(void)close(fd);
		return r;
	}
	*ret = fd;
	return 0;
}

#define RA_WAIT_ROUNDS	4   /* RAs sent at most while waiting for the route */
#define RA_WAIT_ROUNDMS 500 /* ms each: the kernel handles an RA within microseconds here */

/*
 * Until the device's kernel has a default route from the RA on oif: the
 * router advertises at once (the route is the kernel's to make), again when
 * a round passes without it (an RA lost while a port comes up).
 */
static int wait_ra_default(nslab_lab *lab, struct nslab_node *n, int oif, size_t router,
			   nslab_error *err)
{
	_cleanup_close_ int fd = -1;
	char buf[8192];
	bool found = false;
	/* there already (the RA sent before us was taken): no watch, no RA more */
	int r = has_ra_default(n, oif, &found, err);

	if (r < 0 || found)
		return r;
	r = netns_call(n->ns->fd, open_route_watch, &fd, err);

	for (unsigned round = 0; r >= 0 && round < RA_WAIT_ROUNDS; round++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		ra_prompt(lab, router);
		while ((r = has_ra_default(n, oif, &found, err)) >= 0 && !found &&
		       poll(&p, 1, RA_WAIT_ROUNDMS) > 0)
			while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				; /* any change: look again */
		if (r < 0 || found)
			return r;
	}
	return r < 0 ? r
		     : nslab_err_setx(err, ETIMEDOUT,
				      "router '%s' sent RAs for %d ms: no default route from them",
				      lab->plan->nodes[router].name,
				      RA_WAIT_ROUNDS * RA_WAIT_ROUNDMS);
}

/* The RA-learnt default route through interface k deleted (best effort: it may be gone). */
static void ra_del_default(struct nslab_node *n, const struct plan_node *pn, size_t k)
{
	char buf[NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct rtnl_route rt = { .dst = { .family = AF_INET6 } };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	if (rtnl_link_index(n->ns->nl, pn->ifaces[k].name, &rt.oif, NULL) < 0 ||
	    rtnl_build_route(buf, sizeof(buf), RTM_DELROUTE, &rt, NULL) < 0)
		return;
	/* IPv6 deletes only a route of the protocol asked for: the kernel's, from the RA */
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_protocol = RTPROT_RA;
	(void)nlsock_talk(n->ns->nl, nlh, NULL, NULL, NULL);
}

/*
 * Under RA: every interface but k stops taking a default route from RAs and
 * loses the one it took (accept_ra_defrtr 0 keeps what was learnt).
 */
static void ra_drop_default(struct nslab_node *n, const struct plan_node *pn, size_t k)
{
	for (size_t i = 0; i < pn->n_ifaces; i++) {
		if (i == k || !pn->ifaces[i].slaac)
			continue;
		(void)ra_defrtr(n, pn->ifaces[i].name, false, NULL);
		ra_del_default(n, pn, i);
	}
}

/*
 * Under RA: interface k takes the RA's default route, and has it before the
 * old one goes (ra_drop_default()), so that IPv6 never lacks one. An
 * interface on a router without an IPv6 /64 hears no RA: the default route
 * stays where it is, as a static one of a family the interface lacks does.
 */
static int ra_move_default(nslab_lab *lab, struct nslab_node *n, size_t k, nslab_error *err)
{
	const struct plan_iface *f = &n->pn->ifaces[k];
	int ifindex, r;

	if (!f->slaac)
		return 0;
	r = rtnl_link_index(n->ns->nl, f->name, &ifindex, err);
	if (r >= 0)
		r = ra_defrtr(n, f->name, true, err);
	if (r >= 0)
		r = wait_ra_default(lab, n, ifindex, f->up_node, err);
	return r;
}

int lab_ra_wait_default(nslab_lab *lab, struct nslab_node *n, nslab_error *err)
{
	ssize_t k = lab_node_primary_iface(n->pn);
	const struct plan_iface *f = k >= 0 ? &n->pn->ifaces[k] : NULL;
	int ifindex, r;

	if (!lab->spec->ra || !f || !f->slaac)
		return 0;
	r = rtnl_link_index(n->ns->nl, f->name, &ifindex, err);
	return r < 0 ? r : wait_ra_default(lab, n, ifindex, f->up_node, err);
}

void lab_ra_wait_devices(nslab_lab *lab, size_t first)
{
	nslab_error err = { 0 };

	for (size_t i = first; i < lab->plan->n_nodes; i++)
		if (lab->plan->nodes[i].kind == PLAN_DEVICE &&
		    lab_ra_wait_default(lab, &lab->nodes[i], &err) < 0)
			log_debugf(&lab->log, "device '%s': %s", lab->plan->nodes[i].name, err.msg);
}

int lab_set_default_via_live(nslab_lab *lab, const char *device, const char *ifname,
			     nslab_error *err)
{
	struct spec_device *sd;
	struct plan_node *pn;
	struct nslab_node *n = NULL;
	struct jw *w;
	size_t k = 0;
	char *copy;
	int r = find_iface(lab, device, ifname, &n, &k, err);

	if (r < 0)
		return r;
	pn = &lab->plan->nodes[n->idx];
	sd = &lab->spec->devices[pn->spec_index];
	copy = strdup(ifname);
	if (!copy)
		return nslab_err_set(err, ENOMEM, "default-via");
	r = lab->spec->ra ? ra_move_default(lab, n, k, err) : 0;
	if (r >= 0)
		r = replace_defaults(n, pn, k, err);
	/* the other interfaces' RA routes go only once this one has its own */
	if (r >= 0 && lab->spec->ra && pn->ifaces[k].slaac)
		ra_drop_default(n, pn, k);
	else if (r < 0 && lab->spec->ra)
		ra_drop_default(n, pn, (size_t)lab_node_primary_iface(pn));
	if (r < 0) {
		free(copy);
		return nslab_err_prefix(err, r, "device '%s': default routes via %s", device,
					ifname);
	}
	pn->default_iface = (ssize_t)k;
	free(sd->default_via);
	sd->default_via = copy;
	/* NSLAB_IP_<DEVICE> of later commands and <device>.<lab>.test are the new primary's */
	lab_names_follow(lab);
	w = evlog_begin(&lab->ev, "default_via_changed");
	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", device);
	jw_str(w, "iface", ifname);
	evlog_end(&lab->ev);
	lab_state_rewrite(lab);
	return 0;
}

/* The network of a bridge address (host bits cleared). */
static struct nslab_prefix network_of(const struct nslab_prefix *a)
{
	struct nslab_prefix net = *a;

	for (unsigned b = net.len; b < (net.family == AF_INET6 ? 128u : 32u); b++)
		net.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	return net;
}

/* The host number of address a (its low 64 bits past the network). */
static uint64_t host_of(const struct nslab_prefix *a)
{
	struct nslab_prefix net = network_of(a);
	unsigned bytes = a->family == AF_INET6 ? 16 : 4;
	uint64_t h = 0;

	for (unsigned i = bytes >= 8 ? bytes - 8 : 0; i < bytes; i++)
		h = (h << 8) | (uint8_t)(a->addr[i] - net.addr[i]);
	return h;
}

/* The next host number free on router r's bridge: past every address plugged into it. */
static uint64_t next_host(const struct lab_plan *plan, size_t r)
{
	uint64_t max = 1; /* the router's own */

	for (size_t i = 1; i < plan->n_nodes; i++)
		for (size_t k = 0; k < plan->nodes[i].n_ifaces; k++) {
			const struct plan_iface *f = &plan->nodes[i].ifaces[k];
			/* a SLAAC address's host part is the MAC's, not a number handed out */
			uint64_t h4 = prefix_is_set(&f->a4) ? host_of(&f->a4) : 0,
				 h6 = prefix_is_set(&f->a6) && !f->slaac ? host_of(&f->a6) : 0;

			if (f->up_node != r)
				continue;
			if (h4 > max)
				max = h4;
			if (h6 > max)
				max = h6;
		}
	return max + 1;
}

/* The interface as it will be on router r (addresses, gateways, MTU); the rest kept. */
static int plan_replug(const nslab_lab *lab, const struct plan_iface *old, size_t r,
		       struct plan_iface *ret, nslab_error *err)
{
	const struct plan_node *rt = &lab->plan->nodes[r];
	uint64_t host = next_host(lab->plan, r);
	struct plan_iface f = *old;
	int rc = 0;

	f.up_node = r;
	f.mtu = rt->mtu;
	f.a4 = f.a6 = f.gw4 = f.gw6 = (struct nslab_prefix){ 0 };
	if (prefix_is_set(&rt->down4)) {
		struct nslab_prefix net = network_of(&rt->down4);

		rc = prefix_host(&net, host, &f.a4, err);
		f.gw4 = rt->down4;
		f.gw4.len = 32;
	}
	f.slaac = false;
	if (rc >= 0 && prefix_is_set(&rt->down6)) {
		struct nslab_prefix net = network_of(&rt->down6);

		rc = prefix_host(&net, host, &f.a6, err);
		f.gw6 = rt->down6;
		f.gw6.len = 128;
		/* under RA provisioning: the address the device's kernel makes (plan.c's link_addr()) */
		if (rc >= 0 && lab->spec->ra && net.len == 64) {
			memcpy(f.a6.addr + 8, f.ll6.addr + 8, 8);
			f.slaac = true;
		}
	}
	if (rc < 0)
		return nslab_err_prefix(err, rc, "router '%s'", rt->name);
	*ret = f;
	return 0;
}

static int push_addr(struct nlbatch *b, int ifindex, const struct nslab_prefix *p, bool dad,
		     nslab_error *err)
{
	int r;

	if (!prefix_is_set(p))
		return 0;
	r = rtnl_build_addr(nlbatch_tail(b), nlbatch_room(b), RTM_NEWADDR, ifindex, p,
			    dad ? 0 : IFA_F_NODAD, err);
	if (r >= 0)
		nlbatch_push(b);
	return r;
}

/* Link up; without the kernel's link-local first (the plan's is added, as build.c does). */
static int push_link(struct nlbatch *b, int ifindex, bool no_auto_ll, nslab_error *err)
{
	struct rtnl_link_change chg = RTNL_LINK_CHANGE_KEEP;
	int r = 0;

	if (no_auto_ll) {
		chg.set_addr_gen_mode = true;
		chg.addr_gen_mode = IN6_ADDR_GEN_MODE_NONE;
		r = rtnl_build_link_set(nlbatch_tail(b), nlbatch_room(b), ifindex, &chg, err);
		if (r >= 0)
			nlbatch_push(b);
		chg = (struct rtnl_link_change)RTNL_LINK_CHANGE_KEEP;
	}
	chg.up = 1;
	if (r >= 0)
		r = rtnl_build_link_set(nlbatch_tail(b), nlbatch_room(b), ifindex, &chg, err);
	if (r >= 0)
		nlbatch_push(b);
	return r;
}

static int max_ifindex_cb(const struct rtnl_link_info *info, void *data)
{
	int *next = data;

	if (info->ifindex >= *next)
		*next = info->ifindex + 1;
	return 0;
}

/*
 * next_ifindex past every link of the namespace: a link condition adds
 * links of its own (and its clear deletes them), so the index the builder
 * would take next may be in use or have been used (-EBUSY for the veth).
 */
static int skip_used_ifindexes(struct nslab_node *n, nslab_error *err)
{
	return rtnl_link_dump(n->ns->nl, max_ifindex_cb, &n->next_ifindex, err);
}

/*
 * In the device: the old veth deleted (its peer goes with it; none when
 * old_ifindex is -1: an interface added), the new one
 * made with its other end on the router's bridge, up, addressed, as the
 * builder makes one (build.c's push_iface()).
 */
static int rewire(nslab_lab *lab, struct nslab_node *n, int old_ifindex, const struct plan_iface *f,
		  bool defrtr, int *ret_ifindex, nslab_error *err)
{
	char buf[4 * NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct nslab_node *up = &lab->nodes[f->up_node];
	bool dad = lab->spec->dad, own_ll = !dad && !lab->spec->ra;
	struct rtnl_veth_end outer = { .name = f->peer_name,
				       .netns_fd = up->ns->fd,
				       .mac = f->peer_mac,
				       .master = 2 /* the bridge, as build.c makes it */,
				       .mtu = f->mtu,
				       .up = true,
				       .ifindex = up->next_ifindex };
	struct rtnl_veth_end inner = { .name = f->name,
				       .netns_fd = -1,
				       .mac = f->mac,
				       .mtu = f->mtu,
				       .ifindex = n->next_ifindex };
	struct nlbatch b;
	int r;

	*ret_ifindex = -1;
	r = skip_used_ifindexes(up, err);
	if (r >= 0)
		r = skip_used_ifindexes(n, err);
	if (r < 0)
		return r;
	outer.ifindex = up->next_ifindex;
	inner.ifindex = n->next_ifindex;
	/* free a moment ago, so whatever has it after a failure is ours (rewire_undo()) */
	*ret_ifindex = inner.ifindex;
	nlbatch_init(&b, buf, sizeof(buf));
	r = old_ifindex < 0
		    ? 0
		    : rtnl_build_link_del(nlbatch_tail(&b), nlbatch_room(&b), old_ifindex, err);
	if (r >= 0) {
		if (old_ifindex >= 0)
			nlbatch_push(&b);
		r = rtnl_build_veth(nlbatch_tail(&b), nlbatch_room(&b), &outer, &inner, err);
	}
	if (r >= 0)
		nlbatch_push(&b);
	/* under RA: which interface takes the RA's default route, set before it can hear one */
	if (r >= 0 && lab->spec->ra && f->slaac && !defrtr) {
		r = nlsock_talk_batch(n->ns->nl, &b, err);
		if (r >= 0) {
			up->next_ifindex++;
			n->next_ifindex++;
			r = ra_defrtr(n, f->name, false, err);
		}
		nlbatch_init(&b, buf, sizeof(buf));
		if (r < 0)
			return r;
	} else if (r >= 0) {
		up->next_ifindex++;
		n->next_ifindex++;
	}
	if (r >= 0)
		r = push_link(&b, inner.ifindex, own_ll, err);
	if (r >= 0 && own_ll)
		r = push_addr(&b, inner.ifindex, &f->ll6, dad, err);
	if (r >= 0)
		r = push_addr(&b, inner.ifindex, &f->a4, dad, err);
	/* a SLAAC address is the kernel's to make, from the router's RA */
	if (r >= 0 && !f->slaac)
		r = push_addr(&b, inner.ifindex, &f->a6, dad, err);
	if (r >= 0)
		r = nlsock_talk_batch(n->ns->nl, &b, err);
	if (r >= 0 && f->slaac)
		ra_prompt(lab, f->up_node);
	return r;
}

/*
 * After a failed rewire(): the half-made veth deleted by the index rewire()
 * gave it (new_ifindex, -1: none; never by name, which may be an interface of
 * the user's), its peer on the router with it.
 * Return: whether the old interface (old_ifindex, -1: none) is still there.
 */
static bool rewire_undo(struct nslab_node *n, const char *name, int old_ifindex, int new_ifindex)
{
	int ifindex;

	if (new_ifindex >= 0)
		(void)rtnl_link_del(n->ns->nl, new_ifindex, NULL); /* ENODEV: never made */
	return old_ifindex >= 0 && rtnl_link_index(n->ns->nl, name, &ifindex, NULL) >= 0 &&
	       ifindex == old_ifindex;
}

/*
 * A failed replug that got as far as deleting the old veth: the old one made
 * again as the plan still has it (same name, MAC, addresses, router), and the
 * default routes through it. When that fails too, err (the replug's) says so.
 */
static void replug_restore(nslab_lab *lab, struct nslab_node *n, size_t k, nslab_error *err)
{
	struct plan_node *pn = &lab->plan->nodes[n->idx];
	size_t primary = (size_t)lab_node_primary_iface(pn);
	nslab_error rerr = { 0 };
	char first[NSLAB_ERROR_MSG_MAX];
	int ifindex = -1;

	if (rewire(lab, n, -1, &pn->ifaces[k], k == primary, &ifindex, &rerr) >= 0 &&
	    replace_defaults(n, pn, primary, &rerr) >= 0)
		return;
	(void)rewire_undo(n, pn->ifaces[k].name, -1, ifindex);
	snprintf(first, sizeof(first), "%s", err->msg);
	(void)nslab_err_setx(err, err->code, "%s; %s could not be put back: %s", first,
			     pn->ifaces[k].name, rerr.msg);
}

static void emit_iface(nslab_lab *lab, const char *kind, const char *device,
		       const struct plan_iface *f);

static int replug_check(nslab_lab *lab, const char *device, struct nslab_node *n, size_t k,
			const char *router, struct nslab_node **ret_r, nslab_error *err)
{
	struct nslab_node *rt = router ? nslab_lab_node(lab, router) : NULL;

	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "the lab is not built");
	if (!rt || rt->pn->kind != PLAN_ROUTER)
		return nslab_err_setx(err, rt ? EINVAL : ENOENT, "no router '%s' in lab '%s'",
				      router ? router : "", lab->spec->name);
	if (n->pn->ifaces[k].up_node == rt->idx)
		return nslab_err_setx(err, EINVAL, "'%s' of '%s' is already plugged into '%s'",
				      n->pn->ifaces[k].name, device, router);
	if (lab_link_condition_at(lab, n->idx, k))
		return nslab_err_setx(err, EBUSY,
				      "'%s' of '%s' has a link condition: clear it first (nslab "
				      "link %s %s %s clear)",
				      n->pn->ifaces[k].name, device, lab->spec->name, device,
				      n->pn->ifaces[k].name);
	*ret_r = rt;
	return 0;
}

int nslab_lab_replug(nslab_lab *lab, const char *device, const char *ifname, const char *router,
		     nslab_error *err)
{
	struct nslab_node *n = NULL, *rt = NULL;
	struct plan_node *pn;
	struct plan_iface f;
	struct spec_iface *si;
	char *copy;
	size_t k = 0;
	int old_ifindex, new_ifindex,
		r = lab->built ? find_iface(lab, device, ifname, &n, &k, err)
			       : nslab_err_setx(err, EINVAL, "the lab is not built");

	if (r >= 0)
		r = replug_check(lab, device, n, k, router, &rt, err);
	if (r < 0)
		return r;
	pn = &lab->plan->nodes[n->idx];
	si = pn->ifaces[k].spec_iface < 0
		     ? NULL
		     : &lab->spec->devices[pn->spec_index].ifaces[pn->ifaces[k].spec_iface];
	r = plan_replug(lab, &pn->ifaces[k], rt->idx, &f, err);
	if (r >= 0)
		r = rtnl_link_index(n->ns->nl, ifname, &old_ifindex, err);
	copy = r >= 0 ? strdup(router) : NULL;
	if (r >= 0 && !copy)
		r = nslab_err_set(err, ENOMEM, "replug");
	if (r >= 0) {
		r = rewire(lab, n, old_ifindex, &f, (ssize_t)k == lab_node_primary_iface(pn),
			   &new_ifindex, err);
		/* no half-made veth left, and the old one back if it went */
		if (r < 0 && !rewire_undo(n, ifname, old_ifindex, new_ifindex))
			replug_restore(lab, n, k, err);
	}
	if (r < 0) {
		free(copy);
		return nslab_err_prefix(err, r, "device '%s': replug %s into '%s'", device, ifname,
					router);
	}
	pn->ifaces[k] = f;
	if (si) { /* an interface of the lab file's, not one added at run time */
		free(si->router);
		si->router = copy;
	} else {
		free(copy);
	}
	/* the default routes through it went with the old link */
	r = replace_defaults(n, pn, (size_t)lab_node_primary_iface(pn), err);
	if (r < 0)
		return nslab_err_prefix(err, r, "device '%s': default routes", device);
	lab_names_follow(lab);
	emit_iface(lab, "device_replugged", device, &f);
	lab_state_rewrite(lab);
	return 0;
}

/* In the device: the old addresses deleted, the new ones added, in one batch. */
static int readdress(nslab_lab *lab, struct nslab_node *n, int ifindex,
		     const struct plan_iface *old, const struct plan_iface *f, nslab_error *err)
{
	char buf[2 * NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	const struct nslab_prefix *del[] = { &old->a4, &old->a6 }, *add[] = { &f->a4, &f->a6 };
	struct nlbatch b;
	int r = 0;

	/*
	 * Deleted first: with promote_secondaries off (the default), deleting a
	 * primary IPv4 address takes the secondaries of its subnet along, so the
	 * new one added first would go too. The default routes go with the last
	 * address and are put back after.
	 */
	nlbatch_init(&b, buf, sizeof(buf));
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(del); i++) {
		/* a SLAAC address stays: the same MAC on the same /64 makes the same one */
		if (!prefix_is_set(del[i]) || (i == 1 && (old->slaac || f->slaac)))
			continue;
		r = rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), RTM_DELADDR, ifindex,
				    del[i], 0, err);
		if (r >= 0)
			nlbatch_push(&b);
	}
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(add); i++)
		if (i == 0 || !(old->slaac || f->slaac))
			r = push_addr(&b, ifindex, add[i], lab->spec->dad, err);
	if (r >= 0 && b.count)
		r = nlsock_talk_batch(n->ns->nl, &b, err);
	return r;
}

static void emit_renew(nslab_lab *lab, const char *device, const struct plan_iface *f)
{
	struct jw *w = evlog_begin(&lab->ev, "ip_renewed");
	char buf[PREFIX_STRLEN];

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", device);
	jw_str(w, "iface", f->name);
	if (prefix_is_set(&f->a4))
		jw_str(w, "ip4", prefix_format(&f->a4, true, buf, sizeof(buf)));
	if (prefix_is_set(&f->a6))
		jw_str(w, "ip6", prefix_format(&f->a6, true, buf, sizeof(buf)));
	evlog_end(&lab->ev);
}

int nslab_lab_renew_ip(nslab_lab *lab, const char *device, const char *ifname, nslab_error *err)
{
	struct nslab_node *n = NULL;
	struct plan_node *pn;
	struct plan_iface f;
	size_t k = 0;
	int ifindex, r = lab->built ? find_iface(lab, device, ifname, &n, &k, err)
				    : nslab_err_setx(err, EINVAL, "the lab is not built");

	if (r < 0)
		return r;
	pn = &lab->plan->nodes[n->idx];
	r = plan_replug(lab, &pn->ifaces[k], pn->ifaces[k].up_node, &f, err);
	if (r >= 0)
		r = rtnl_link_index(n->ns->nl, ifname, &ifindex, err);
	if (r >= 0)
		r = readdress(lab, n, ifindex, &pn->ifaces[k], &f, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "device '%s': renew the addresses of %s", device,
					ifname);
	pn->ifaces[k] = f;
	r = replace_defaults(n, pn, (size_t)lab_node_primary_iface(pn), err);
	if (r < 0)
		return nslab_err_prefix(err, r, "device '%s': default routes", device);
	lab_names_follow(lab);
	emit_renew(lab, device, &f);
	lab_state_rewrite(lab);
	return 0;
}

/* A device (not a router), found by name. */
static int find_device(nslab_lab *lab, const char *device, struct nslab_node **ret,
		       nslab_error *err)
{
	struct nslab_node *n = device ? nslab_lab_node(lab, device) : NULL;

	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "the lab is not built");
	if (!n)
		return nslab_err_setx(err, ENOENT, "no node '%s' in lab '%s'", device ? device : "",
				      lab->spec->name);
	if (n->pn->kind != PLAN_DEVICE)
		return nslab_err_setx(err, EINVAL, "'%s' is a router, not a device", device);
	*ret = n;
	return 0;
}

static bool peer_name_taken(const struct lab_plan *plan, size_t up, const char *name)
{
	for (size_t i = 1; i < plan->n_nodes; i++)
		for (size_t k = 0; k < plan->nodes[i].n_ifaces; k++)
			if (plan->nodes[i].ifaces[k].up_node == up &&
			    strcmp(plan->nodes[i].ifaces[k].peer_name, name) == 0)
				return true;
	return false;
}

/* EUI-64 link-local address of mac (RFC 4291 appendix A), as the plan makes it. */
static void ll6_of(const uint8_t mac[6], struct nslab_prefix *ret)
{
	*ret = (struct nslab_prefix){ .family = AF_INET6, .len = 64 };
	ret->addr[0] = 0xfe;
	ret->addr[1] = 0x80;
	ret->addr[8] = mac[0] ^ 0x02;
	memcpy(ret->addr + 9, mac + 1, 2);
	ret->addr[11] = 0xff;
	ret->addr[12] = 0xfe;
	memcpy(ret->addr + 13, mac + 3, 3);
}

/* The new interface as the plan would have made it on router r (plan.c's plan_link()). */
static int plan_new_iface(const nslab_lab *lab, const struct nslab_node *n, const char *ifname,
			  size_t r, struct plan_iface *ret, nslab_error *err)
{
	struct plan_iface f = { .spec_iface = -1 };
	char peer[IFNAMSIZ + 8];

	snprintf(f.name, sizeof(f.name), "%s", ifname);
	if (strlen(n->pn->name) + 1 + strlen(ifname) < IFNAMSIZ)
		snprintf(f.peer_name, sizeof(f.peer_name), "%s.%s", n->pn->name, ifname);
	/* the short form, numbered past every name a removed interface may have left in use */
	for (size_t k = n->pn->n_ifaces;
	     !f.peer_name[0] || peer_name_taken(lab->plan, r, f.peer_name); k++)
		snprintf(f.peer_name, sizeof(f.peer_name), "_%zu.%zu", n->idx, k);
	snprintf(peer, sizeof(peer), "peer:%s", ifname);
	hash_mac(lab->spec->seed, n->pn->name, ifname, f.mac);
	hash_mac(lab->spec->seed, n->pn->name, peer, f.peer_mac);
	ll6_of(f.mac, &f.ll6);
	return plan_replug(lab, &f, r, ret, err);
}

/* A default route of each family the device has none of yet (its first interface of it). */
static int plan_missing_defaults(struct plan_node *pn, const struct plan_iface *f, nslab_error *err)
{
	const struct nslab_prefix *gws[] = { &f->gw4, &f->gw6 };

	for (size_t i = 0; i < ARRAY_SIZE(gws); i++) {
		struct plan_route *v;
		bool have = i == 1 && f->slaac; /* under RA the router's RA is the default route */

		for (size_t j = 0; j < pn->n_routes; j++)
			have |= pn->routes[j].dst.len == 0 &&
				pn->routes[j].dst.family == gws[i]->family;
		if (have || !prefix_is_set(gws[i]))
			continue;
		v = realloc(pn->routes, (pn->n_routes + 1) * sizeof(*v));
		if (!v)
			return nslab_err_set(err, ENOMEM, "plan a default route");
		pn->routes = v;
		v[pn->n_routes++] =
			(struct plan_route){ .dst = { .family = gws[i]->family }, .via = *gws[i] };
	}
	return 0;
}

static void emit_iface(nslab_lab *lab, const char *kind, const char *device,
		       const struct plan_iface *f)
{
	struct jw *w = evlog_begin(&lab->ev, kind);
	char buf[PREFIX_STRLEN];

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", device);
	jw_str(w, "iface", f->name);
	jw_str(w, "router", lab->plan->nodes[f->up_node].name);
	if (prefix_is_set(&f->a4))
		jw_str(w, "ip4", prefix_format(&f->a4, true, buf, sizeof(buf)));
	if (prefix_is_set(&f->a6))
		jw_str(w, "ip6", prefix_format(&f->a6, true, buf, sizeof(buf)));
	evlog_end(&lab->ev);
}

/* The device's default routes through its primary interface again, names and state after. */
static int iface_changed(nslab_lab *lab, struct nslab_node *n, const char *kind,
			 const struct plan_iface *f, nslab_error *err)
{
	struct plan_node *pn = &lab->plan->nodes[n->idx];
	int r = pn->n_ifaces ? replace_defaults(n, pn, (size_t)lab_node_primary_iface(pn), err) : 0;

	if (r < 0)
		return nslab_err_prefix(err, r, "device '%s': default routes", pn->name);
	lab_names_follow(lab);
	emit_iface(lab, kind, pn->name, f);
	lab_state_rewrite(lab);
	return 0;
}

int lab_add_iface_live(nslab_lab *lab, const char *device, const char *ifname, const char *router,
		       nslab_error *err)
{
	struct nslab_node *n = NULL, *rt = router ? nslab_lab_node(lab, router) : NULL;
	struct plan_iface f, *v;
	struct plan_node *pn;
	size_t k;
	int new_ifindex;
	int r = find_device(lab, device, &n, err);

	if (r < 0)
		return r;
	if (!ifname || !spec_iface_name_ok(ifname))
		return nslab_err_setx(
			err, EINVAL,
			"bad interface name '%s': 1 to 15 of A-Z, a-z, 0-9, '_' and '-'",
			ifname ? SPEC_Q(ifname) : "");
	if (find_iface(lab, device, ifname, &n, &k, NULL) == 0)
		return nslab_err_setx(err, EEXIST, "device '%s' already has an interface '%s'",
				      device, ifname);
	if (!rt || rt->pn->kind != PLAN_ROUTER)
		return nslab_err_setx(err, ENOENT, "no router '%s' in lab '%s'",
				      router ? router : "", lab->spec->name);
	pn = &lab->plan->nodes[n->idx];
	v = realloc(pn->ifaces, (pn->n_ifaces + 1) * sizeof(*v));
	if (!v)
		return nslab_err_set(err, ENOMEM, "add interface '%s'", ifname);
	pn->ifaces = v;
	r = plan_new_iface(lab, n, ifname, rt->idx, &f, err);
	if (r >= 0) {
		r = rewire(lab, n, -1, &f, pn->n_ifaces == 0 || pn->default_iface < 0, &new_ifindex,
			   err);
		if (r < 0)
			(void)rewire_undo(n, ifname, -1, new_ifindex); /* no half-made veth left */
	}
	if (r < 0)
		return nslab_err_prefix(err, r, "device '%s': add %s on '%s'", device, ifname,
					router);
	pn->ifaces[pn->n_ifaces++] = f;
	if (pn->default_iface < 0)
		pn->default_iface = (ssize_t)pn->n_ifaces - 1;
	r = plan_missing_defaults(pn, &f, err);
	return r < 0 ? r : iface_changed(lab, n, "iface_added", &f, err);
}

int nslab_lab_remove_iface(nslab_lab *lab, const char *device, const char *ifname, nslab_error *err)
{
	struct nslab_node *n = NULL;
	struct plan_iface f;
	struct plan_node *pn;
	bool was_primary;
	size_t k = 0;
	int ifindex, r = find_device(lab, device, &n, err);

	if (r >= 0)
		r = find_iface(lab, device, ifname, &n, &k, err);
	if (r < 0)
		return r;
	if (lab_link_busy(lab, n->idx, k))
		return nslab_err_setx(err, EBUSY,
				      "'%s' of '%s' has a link condition: clear it first (nslab "
				      "link %s %s %s clear)",
				      ifname, device, lab->spec->name, device, ifname);
	/* its peer on the router's bridge goes with it; so do its routes */
	r = rtnl_link_index(n->ns->nl, ifname, &ifindex, err);
	if (r >= 0)
		r = rtnl_link_del(n->ns->nl, ifindex, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "device '%s': remove %s", device, ifname);
	pn = &lab->plan->nodes[n->idx];
	f = pn->ifaces[k];
	was_primary = (ssize_t)k == lab_node_primary_iface(pn);
	memmove(&pn->ifaces[k], &pn->ifaces[k + 1], (pn->n_ifaces - k - 1) * sizeof(f));
	pn->n_ifaces--;
	lab_links_iface_removed(lab, n->idx, k);
	/* the default interface: the same one, renumbered, or the first left */
	if (pn->default_iface == (ssize_t)k)
		pn->default_iface = pn->n_ifaces ? 0 : -1;
	else if (pn->default_iface > (ssize_t)k)
		pn->default_iface--;
	/* under RA the new default interface takes the RA's default route from now on */
	if (was_primary && pn->n_ifaces) {
		const struct plan_iface *p = &pn->ifaces[lab_node_primary_iface(pn)];

		r = p->slaac ? ra_defrtr(n, p->name, true, err) : 0;
		if (r < 0)
			return nslab_err_prefix(err, r, "device '%s'", device);
		if (p->slaac)
			ra_prompt(lab, p->up_node);
	}
	return iface_changed(lab, n, "iface_removed", &f, err);
}
