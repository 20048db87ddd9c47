/* SPDX-License-Identifier: MIT */
/* lab/nat64-run: routers' NAT64 translators on the lab's link thread (see nat64-run.h). */
#include "lab/nat64-run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include "core/json.h"
#include "lab/lab.h"
#include "lab/links.h"
#include "lab/nat.h"
#include "link/nat64.h"
#include "link/wire.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"
#include "nl/sysctl.h"
#include "ns/netns.h"
#include "shared/macro.h"

#define TUN_NAME   "nat64"
#define READ_BATCH 64

struct nat64_router {
	struct nat64_router *next;
	size_t node;
	int fd;
	struct nat64 *nat;
	struct wire *w;
	struct wire_fd *wfd;
	struct nat64_config cfg;
	struct nat64_stats snap; /* wire_locked() copies the counters here */
	uint8_t buf[65536];
};

struct lab_nat64 {
	struct nat64_router *routers;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void tun_emit(void *ctx, const uint8_t *pkt, size_t len)
{
	struct nat64_router *r = ctx;

	/* a full TUN queue drops, as a full link would */
	(void)!write(r->fd, pkt, len);
}

/* On the link thread, under its lock. */
static void tun_read(void *ctx, int fd)
{
	struct nat64_router *r = ctx;

	for (int i = 0; i < READ_BATCH; i++) {
		ssize_t n = read(fd, r->buf, sizeof(r->buf));

		if (n <= 0)
			return;
		/* the kernel's own multicast on the TUN (MLD) is not traffic to translate */
		if (n >= 40 && r->buf[0] >> 4 == 6 && r->buf[24] == 0xff)
			continue;
		(void)nat64_input(r->nat, now_ms(), r->buf, (size_t)n, tun_emit, r);
	}
}

/* In the router's namespace: the TUN is made where its fd is opened. */
static int tun_open_inside(void *data, nslab_error *err)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int *ret = data, r;
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return nslab_err_set(err, errno, "open /dev/net/tun");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), TUN_NAME);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = nslab_err_set(err, errno, "create TUN '" TUN_NAME "'");
		return r;
	}
	/* routers' new ports start without IPv6 (build.c); this one carries it */
	r = sysctl_write_in_ns("net/ipv6/conf/" TUN_NAME "/disable_ipv6", "0", err);
	if (r < 0)
		return r;
	*ret = TAKE_FD(fd);
	return 0;
}

static int route_into(struct nlsock *nl, int ifindex, const char *dst, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct rtnl_route rt = { .oif = ifindex };
	int r = prefix_parse(dst, true, &rt.dst, err);

	if (r >= 0)
		r = rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &rt, err);
	if (r >= 0)
		r = nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, err);
	return r < 0 ? nslab_err_prefix(err, r, "route %s into " TUN_NAME, dst) : 0;
}

static int tun_wire(struct nslab_node *n, int *ret_fd, nslab_error *err)
{
	struct rtnl_link_change up = RTNL_LINK_CHANGE_KEEP, mode = RTNL_LINK_CHANGE_KEEP;
	_cleanup_close_ int fd = -1;
	char pfx[64];
	int ifindex, r;

	r = netns_call(n->ns->fd, tun_open_inside, &fd, err);
	if (r >= 0)
		r = rtnl_link_index(n->ns->nl, TUN_NAME, &ifindex, err);
	/* no link-local (set while down), so no solicitations or MLD reports into the translator */
	mode.set_addr_gen_mode = true;
	mode.addr_gen_mode = IN6_ADDR_GEN_MODE_NONE;
	if (r >= 0)
		r = rtnl_link_set(n->ns->nl, ifindex, &mode, err);
	up.up = 1;
	if (r >= 0)
		r = rtnl_link_set(n->ns->nl, ifindex, &up, err);
	snprintf(pfx, sizeof(pfx), "%s/96", "64:ff9b::");
	if (r >= 0)
		r = route_into(n->ns->nl, ifindex, pfx, err);
	if (r >= 0)
		r = route_into(n->ns->nl, ifindex, NAT64_POOL4 "/32", err);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static struct nat64_router *router_free(struct nat64_router *r)
{
	if (!r)
		return NULL;
	if (r->wfd)
		r->wfd = wire_fd_del(r->w, r->wfd);
	if (r->fd >= 0)
		close(r->fd);
	nat64_free(r->nat);
	free(r);
	return NULL;
}

static int router_start(struct nslab_lab *lab, size_t node, struct nat64_router **ret,
			nslab_error *err)
{
	const struct plan_node *pn = &lab->plan->nodes[node];
	const struct spec_router *sr = &lab->spec->routers[pn->spec_index];
	struct nat64_router *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		return nslab_err_set(err, ENOMEM, "router '%s': nat64", pn->name);
	r->fd = -1;
	r->node = node;
	nat64_config_default(&r->cfg);
	if (sr->nat64_size)
		r->cfg.max_bibs = sr->nat64_size;
	(void)inet_pton(AF_INET, NAT64_POOL4, r->cfg.pool4);
	e = nat64_new(&r->cfg, &r->nat, err);
	if (e >= 0)
		e = tun_wire(&lab->nodes[node], &r->fd, err);
	if (e >= 0)
		e = lab_links_wire(lab, &r->w, err);
	if (e >= 0)
		e = wire_fd_add(r->w, r->fd, tun_read, r, &r->wfd, err);
	if (e < 0) {
		router_free(r);
		return nslab_err_prefix(err, e, "router '%s': nat64", pn->name);
	}
	*ret = r;
	return 0;
}

static struct nat64_router *find_router(const struct nslab_lab *lab, size_t node)
{
	struct nat64_router *r = lab->nat64 ? lab->nat64->routers : NULL;

	while (r && r->node != node)
		r = r->next;
	return r;
}

static bool wants_nat64(const struct nslab_lab *lab, size_t i)
{
	const struct plan_node *pn = &lab->plan->nodes[i];

	return pn->kind == PLAN_ROUTER && lab->spec->routers[pn->spec_index].nat6 == NAT6_NAT64;
}

int lab_nat64_start(struct nslab_lab *lab, nslab_error *err)
{
	struct nat64_router *started = lab->nat64 ? lab->nat64->routers : NULL;

	for (size_t i = 1; i < lab->plan->n_nodes; i++) {
		struct nat64_router *r = NULL;
		int e;

		if (!wants_nat64(lab, i) || find_router(lab, i))
			continue;
		if (!lab->nat64) {
			lab->nat64 = calloc(1, sizeof(*lab->nat64));
			if (!lab->nat64)
				return nslab_err_set(err, ENOMEM, "nat64");
		}
		e = router_start(lab, i, &r, err);
		if (e < 0) {
			/* the new ones sit in front of those running before this call */
			while (lab->nat64->routers != started) {
				struct nat64_router *x = lab->nat64->routers;

				lab->nat64->routers = x->next;
				router_free(x);
			}
			return e;
		}
		r->next = lab->nat64->routers;
		lab->nat64->routers = r;
	}
	return 0;
}

void lab_nat64_stop(struct nslab_lab *lab)
{
	if (!lab->nat64)
		return;
	while (lab->nat64->routers) {
		struct nat64_router *r = lab->nat64->routers;

		lab->nat64->routers = r->next;
		router_free(r);
	}
	free(lab->nat64);
	lab->nat64 = NULL;
}

void lab_nat64_stop_node(struct nslab_lab *lab, size_t node)
{
	struct nat64_router **pp = lab->nat64 ? &lab->nat64->routers : NULL;

	while (pp && *pp && (*pp)->node != node)
		pp = &(*pp)->next;
	if (pp && *pp) {
		struct nat64_router *r = *pp;

		*pp = r->next;
		router_free(r); /* the TUN goes with its fd, and its routes with it */
	}
}

void lab_nat64_node_removed(struct nslab_lab *lab, size_t node)
{
	struct nat64_router **pp = lab->nat64 ? &lab->nat64->routers : NULL;

	while (pp && *pp) {
		struct nat64_router *r = *pp;

		if (r->node == node) {
			*pp = r->next;
			router_free(r);
			continue;
		}
		if (r->node > node)
			r->node--;
		pp = &r->next;
	}
}

static void snap(void *ctx)
{
	struct nat64_router *r = ctx;

	nat64_stats_get(r->nat, &r->snap);
}

bool lab_nat64_stats(const struct nslab_lab *lab, size_t node, struct nat64_stats *ret,
		     uint32_t *ret_size)
{
	struct nat64_router *r = find_router(lab, node);

	if (!r)
		return false;
	wire_locked(r->w, snap, r);
	*ret = r->snap;
	*ret_size = r->cfg.max_bibs;
	return true;
}

void lab_nat64_json(const struct nslab_lab *lab, size_t node, struct jw *w)
{
	struct nat64_router *r = find_router(lab, node);

	if (!r)
		return;
	wire_locked(r->w, snap, r);
	jw_obj_open(w, "nat64");
	jw_str(w, "prefix", "64:ff9b::/96");
	jw_str(w, "pool4", NAT64_POOL4);
	jw_uint(w, "size", r->cfg.max_bibs);
	jw_uint(w, "bibs", r->snap.bibs);
	jw_uint(w, "translated_6to4", r->snap.translated_6to4);
	jw_uint(w, "translated_4to6", r->snap.translated_4to6);
	jw_uint(w, "icmp_errors", r->snap.icmp_errors);
	jw_uint(w, "dropped", r->snap.dropped);
	jw_uint(w, "evicted", r->snap.evicted);
	jw_uint(w, "expired", r->snap.expired);
	jw_obj_close(w);
}
