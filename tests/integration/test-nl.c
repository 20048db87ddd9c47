/* SPDX-License-Identifier: MIT */
/*
 * Integration test of nl/ against the real kernel, inside private network
 * namespaces only: a bridge, a veth pair with its peer in a second namespace,
 * addresses, routes and a neighbour (several in one batch), dumps that must
 * show exactly that, kernel errors with their extended-ACK text, batch errors
 * naming the failing request, link changes and sysctls.
 *
 * Exit status (Meson's exitcode protocol): 0 pass, 1 fail, 77 skip (no
 * network namespace on this host), 99 if NSLAB_TEST_REQUIRE_PRIV is set and the
 * test would have been skipped, or if the setup failed (nslab-test.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "nslab-test.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"
#include "nl/sysctl.h"

#define MAX_ITEMS 1024

static nslab_error err;

/* A call that must succeed; on failure print its error. */
#define OK(expr)                                                   \
	do {                                                       \
		int r_ = (expr);                                   \
		CHECK(r_ >= 0, "%s = %d: %s", #expr, r_, err.msg); \
	} while (0)

static const uint8_t mac_br[6] = { 2, 0, 0, 0, 1, 0 };
static const uint8_t mac_va[6] = { 2, 0, 0, 0, 1, 0xa };
static const uint8_t mac_vb[6] = { 2, 0, 0, 0, 1, 0xb };
static const uint8_t mac_nb[6] = { 2, 0, 0, 0, 1, 0x22 };

static int fd_a = -1, fd_b = -1;
static bool rootless; /* in a user namespace of our own (nslab_test_enter_netns()) */

/* ----------------------------------------------------------- namespaces */

static void enter(int fd)
{
	CHECK(setns(fd, CLONE_NEWNET) == 0, "setns: %s", strerror(errno));
}

/* --------------------------------------------------------------- dumps */

struct links {
	struct rtnl_link_info l[MAX_ITEMS];
	int n;
};

static int links_cb(const struct rtnl_link_info *info, void *data)
{
	struct links *ls = data;

	CHECK(ls->n < MAX_ITEMS, "too many links");
	ls->l[ls->n++] = *info;
	return 0;
}

static void dump_links(struct nlsock *nl, struct links *ls)
{
	ls->n = 0;
	OK(rtnl_link_dump(nl, links_cb, ls, &err));
}

static const struct rtnl_link_info *find_link(const struct links *ls, const char *name)
{
	for (int i = 0; i < ls->n; i++)
		if (strcmp(ls->l[i].name, name) == 0)
			return &ls->l[i];
	return NULL;
}

/* Names in now must be exactly those in base plus the extra ones. */
static void check_link_names(const struct links *now, const struct links *base,
			     const char *const *extra, int nextra)
{
	CHECK(now->n == base->n + nextra, "%d links, expected %d", now->n, base->n + nextra);
	for (int i = 0; i < base->n; i++)
		CHECK(find_link(now, base->l[i].name), "link '%s' gone", base->l[i].name);
	for (int i = 0; i < nextra; i++)
		CHECK(find_link(now, extra[i]), "link '%s' missing", extra[i]);
}

struct addrs {
	struct rtnl_addr_info a[MAX_ITEMS];
	int n;
};

static int addrs_cb(const struct rtnl_addr_info *info, void *data)
{
	struct addrs *as = data;

	/* Link-local IPv6 addresses are the kernel's, not ours */
	if (info->addr.family == AF_INET6 && info->addr.addr[0] == 0xfe &&
	    (info->addr.addr[1] & 0xc0) == 0x80)
		return 0;
	CHECK(as->n < MAX_ITEMS, "too many addresses");
	as->a[as->n++] = *info;
	return 0;
}

static void dump_addrs(struct nlsock *nl, struct addrs *as)
{
	as->n = 0;
	OK(rtnl_addr_dump(nl, AF_UNSPEC, addrs_cb, as, &err));
}

static struct nslab_prefix pfx(const char *s)
{
	struct nslab_prefix p = { 0 };
	const char *slash = strchr(s, '/');
	char addr[64];

	snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	CHECK(inet_pton(p.family, addr, p.addr) == 1, "bad address '%s'", s);
	p.len = slash ? atoi(slash + 1) : p.family == AF_INET ? 32 : 128;
	return p;
}

static bool prefix_eq(const struct nslab_prefix *a, const struct nslab_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, prefix_addr_len(a)) == 0;
}

static const struct rtnl_addr_info *find_addr(const struct addrs *as, const char *s)
{
	struct nslab_prefix p = pfx(s);

	for (int i = 0; i < as->n; i++)
		if (prefix_eq(&as->a[i].addr, &p))
			return &as->a[i];
	return NULL;
}

struct routes {
	struct rtnl_route_info r[MAX_ITEMS];
	int n;
};

static int routes_cb(const struct rtnl_route_info *info, void *data)
{
	struct routes *rs = data;

	if (info->table == RT_TABLE_LOCAL)
		return 0; /* local and broadcast routes the kernel makes for addresses */
	CHECK(rs->n < MAX_ITEMS, "too many routes");
	rs->r[rs->n++] = *info;
	return 0;
}

static const struct rtnl_route_info *find_route(const struct routes *rs, const char *dst)
{
	struct nslab_prefix p = pfx(dst);

	for (int i = 0; i < rs->n; i++)
		if (prefix_eq(&rs->r[i].dst, &p))
			return &rs->r[i];
	return NULL;
}

struct neighs {
	struct rtnl_neigh_info n[MAX_ITEMS];
	int count;
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neighs *ns = data;
	struct rtnl_neigh_info info;

	if (rtnl_parse_neigh(nlh, &info, &err) < 0)
		return MNL_CB_ERROR;
	if (info.state == NUD_PERMANENT && ns->count < MAX_ITEMS)
		ns->n[ns->count++] = info;
	return MNL_CB_OK;
}

/* ---------------------------------------------------------------- steps */

static void step_sysctl(void)
{
	char val[64], longname[101], want[NSLAB_ERROR_MSG_MAX];

	OK(sysctl_write_in_ns("net/ipv4/ip_forward", "1", &err));
	OK(sysctl_read_in_ns("net/ipv4/ip_forward", val, sizeof(val), &err));
	CHECK(strcmp(val, "1") == 0, "ip_forward = '%s'", val);
	enter(fd_b); /* per namespace: B still has the default */
	OK(sysctl_read_in_ns("net/ipv4/ip_forward", val, sizeof(val), &err));
	CHECK(strcmp(val, "0") == 0, "ip_forward in B = '%s'", val);
	enter(fd_a);
	CHECK(sysctl_write_in_ns("net/ipv4/no_such_key", "1", &err) == -ENOENT, "%s", err.msg);
	CHECK(strstr(err.msg, "'net/ipv4/no_such_key'"), "%s", err.msg);
	CHECK(sysctl_write_in_ns("net/../../etc/passwd", "x", &err) == -EINVAL, "%s", err.msg);
	CHECK(sysctl_read_in_ns("net/ipv4/ip_forward", val, 1, &err) == -ENOBUFS, "%s", err.msg);

	/* a vector handler takes what fits and says so: a short write */
	CHECK(sysctl_write_in_ns("net/ipv4/ip_forward", "1 0", &err) == -EIO, "%s", err.msg);
	CHECK(strcmp(err.msg, "sysctl 'net/ipv4/ip_forward': wrote 2 of 3 bytes of '1 0'") == 0,
	      "%s", err.msg);
	/*
	 * A string handler cuts at its size and says nothing: hostname keeps 64
	 * bytes. Only root can test it: /proc/sys/kernel/hostname belongs to the
	 * initial user namespace's root, whatever UTS namespace it shows.
	 */
	if (!rootless) {
		CHECK(unshare(CLONE_NEWUTS) == 0, "unshare(CLONE_NEWUTS): %s", strerror(errno));
		memset(longname, 'a', 100);
		longname[100] = '\0';
		CHECK(sysctl_write_in_ns("kernel/hostname", longname, &err) == -EINVAL, "%s",
		      err.msg);
		snprintf(want, sizeof(want),
			 "sysctl 'kernel/hostname': asked for '%s', the kernel kept '%.64s'",
			 longname, longname);
		CHECK(strcmp(err.msg, want) == 0, "%s", err.msg);
		OK(sysctl_write_in_ns("kernel/hostname", "nl-test", &err));
	}
	/* normalised, not cut: tabs for spaces, integers in decimal */
	OK(sysctl_write_in_ns("net/ipv4/ip_local_port_range", "20000 30000", &err));
	OK(sysctl_read_in_ns("net/ipv4/ip_local_port_range", val, sizeof(val), &err));
	CHECK(strcmp(val, "20000\t30000") == 0, "ip_local_port_range = '%s'", val);
	OK(sysctl_write_in_ns("net/ipv4/ip_forward", "0x0", &err));
	OK(sysctl_write_in_ns("net/ipv4/ip_forward", " 01 ", &err));
	OK(sysctl_read_in_ns("net/ipv4/ip_forward", val, sizeof(val), &err));
	CHECK(strcmp(val, "1") == 0, "ip_forward = '%s'", val);
	/* a write-only entry is not read back */
	OK(sysctl_write_in_ns("net/ipv4/route/flush", "1 ", &err));
	CHECK(sysctl_write_in_ns("net/ipv4/ip_forward", "0\n", &err) == -EINVAL, "%s", err.msg);
	CHECK(strcmp(err.msg, "sysctl 'net/ipv4/ip_forward': value holds a newline") == 0, "%s",
	      err.msg);
	OK(sysctl_read_in_ns("net/ipv4/ip_forward", val, sizeof(val), &err));
	CHECK(strcmp(val, "1") == 0, "ip_forward = '%s'", val);
}

static int talk_built(struct nlsock *nl, int r, char *buf)
{
	if (r < 0)
		return r;
	return nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, &err);
}

static int step_topology(struct nlsock *nl_a, struct nlsock *nl_b)
{
	struct rtnl_veth_end a = {
		.name = "va", .netns_fd = -1, .mac = mac_va, .mtu = 1400, .up = true
	};
	struct rtnl_veth_end b = { .name = "vb", .netns_fd = fd_b, .mac = mac_vb, .mtu = 1400 };
	struct rtnl_link_change up = RTNL_LINK_CHANGE_KEEP;
	char buf[NL_REQ_BUFSIZ];
	int br, vb;

	up.up = 1;
	OK(rtnl_link_set(nl_a, 1, &up, &err)); /* lo */
	OK(rtnl_link_set(nl_b, 1, &up, &err));
	OK(talk_built(nl_a, rtnl_build_bridge(buf, sizeof(buf), "br0", mac_br, 0, true, &err),
		      buf));
	OK(rtnl_link_index(nl_a, "br0", &br, &err));
	a.master = br;
	OK(talk_built(nl_a, rtnl_build_veth(buf, sizeof(buf), &a, &b, &err), buf));
	/* The peer comes up in a second request, on the socket of its namespace */
	OK(rtnl_link_index(nl_b, "vb", &vb, &err));
	OK(rtnl_link_set(nl_b, vb, &up, &err));
	return br;
}

#define PUSH(b, call)            \
	do {                     \
		OK(call);        \
		nlbatch_push(b); \
	} while (0)

static void step_batch(struct nlsock *nl_a, int br)
{
	struct nslab_prefix a4 = pfx("10.1.0.1/24"), a6 = pfx("2001:db8:1::1/64");
	struct nslab_prefix nb = pfx("10.1.0.2");
	struct rtnl_route via4 = { .dst = pfx("10.2.0.0/16"), .via = pfx("10.1.0.2") };
	struct rtnl_route via6 = { .dst = pfx("2001:db8:2::/64"), .via = pfx("2001:db8:1::2") };
	struct rtnl_route direct = { .dst = pfx("10.3.0.0/16"), .oif = br, .metric = 10 };
	struct rtnl_route table = { .dst = pfx("10.4.0.0/16"),
				    .via = pfx("10.1.0.2"),
				    .table = 1000 };
	char buf[NL_REQ_BUFSIZ];
	struct nlbatch b;

	nlbatch_init(&b, buf, sizeof(buf));
	PUSH(&b,
	     rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWADDR, br, &a4, 0, &err));
	PUSH(&b, rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWADDR, br, &a6,
				 IFA_F_NODAD, &err));
	PUSH(&b, rtnl_build_route(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWROUTE, &via4, &err));
	PUSH(&b, rtnl_build_route(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWROUTE, &via6, &err));
	PUSH(&b, rtnl_build_route(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWROUTE, &direct, &err));
	PUSH(&b, rtnl_build_route(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWROUTE, &table, &err));
	PUSH(&b, rtnl_build_neigh(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWNEIGH, br, &nb, mac_nb,
				  NUD_PERMANENT, &err));
	CHECK(b.count == 7, "%u requests", b.count);
	OK(nlsock_talk_batch(nl_a, &b, &err));
	CHECK(b.count == 0 && b.len == 0, "batch not emptied");
}

static void check_links(struct nlsock *nl_a, struct nlsock *nl_b, const struct links *base_a,
			const struct links *base_b, int br)
{
	static const char *const extra_a[] = { "br0", "va" }, *const extra_b[] = { "vb" };
	static struct links ls;
	const struct rtnl_link_info *l;

	dump_links(nl_a, &ls);
	check_link_names(&ls, base_a, extra_a, 2);
	l = find_link(&ls, "br0");
	CHECK(l->ifindex == br && strcmp(l->kind, "bridge") == 0, "br0: %d %s", l->ifindex,
	      l->kind);
	CHECK(l->has_mac && memcmp(l->mac, mac_br, 6) == 0 && (l->flags & IFF_UP), "br0 mac/up");
	l = find_link(&ls, "va");
	CHECK(strcmp(l->kind, "veth") == 0 && l->master == br && l->mtu == 1400, "va: %s %d %u",
	      l->kind, l->master, l->mtu);
	CHECK(l->has_mac && memcmp(l->mac, mac_va, 6) == 0 && (l->flags & IFF_UP), "va mac/up");
	CHECK(l->link > 0 && l->link_netnsid >= 0, "va peer: %d in %d", l->link, l->link_netnsid);

	dump_links(nl_b, &ls);
	check_link_names(&ls, base_b, extra_b, 1);
	l = find_link(&ls, "vb");
	CHECK(strcmp(l->kind, "veth") == 0 && l->master == 0 && l->mtu == 1400, "vb");
	CHECK(l->has_mac && memcmp(l->mac, mac_vb, 6) == 0 && (l->flags & IFF_UP), "vb mac/up");
}

static void check_addrs(struct nlsock *nl_a, int br)
{
	static const char *const want[] = { "127.0.0.1/8", "::1/128", "10.1.0.1/24",
					    "2001:db8:1::1/64" };
	static struct addrs as;
	const struct rtnl_addr_info *a;

	dump_addrs(nl_a, &as);
	CHECK(as.n == 4, "%d addresses", as.n);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		CHECK(find_addr(&as, want[i]), "address %s missing", want[i]);
	a = find_addr(&as, "2001:db8:1::1/64");
	CHECK(a->ifindex == br && (a->flags & IFA_F_NODAD), "v6 address: %d %#x", a->ifindex,
	      a->flags);
	CHECK(find_addr(&as, "10.1.0.1/24")->ifindex == br, "v4 address ifindex");
}

static void check_routes(struct nlsock *nl_a, int br)
{
	static struct routes rs;
	const struct rtnl_route_info *r;
	struct nslab_prefix gw4 = pfx("10.1.0.2"), gw6 = pfx("2001:db8:1::2");
	int statics = 0;

	rs.n = 0;
	OK(rtnl_route_dump(nl_a, AF_UNSPEC, routes_cb, &rs, &err));
	for (int i = 0; i < rs.n; i++)
		statics += rs.r[i].protocol == RTPROT_STATIC;
	CHECK(statics == 4, "%d static routes", statics);
	r = find_route(&rs, "10.2.0.0/16");
	CHECK(r && prefix_eq(&r->gw, &gw4) && r->table == RT_TABLE_MAIN && r->oif == br, "10.2/16");
	CHECK(r->scope == RT_SCOPE_UNIVERSE && r->type == RTN_UNICAST, "10.2/16 scope");
	r = find_route(&rs, "2001:db8:2::/64");
	CHECK(r && prefix_eq(&r->gw, &gw6) && r->protocol == RTPROT_STATIC, "2001:db8:2::/64");
	r = find_route(&rs, "10.3.0.0/16");
	CHECK(r && r->gw.family == 0 && r->oif == br && r->scope == RT_SCOPE_LINK &&
		      r->priority == 10,
	      "10.3/16");
	r = find_route(&rs, "10.4.0.0/16");
	CHECK(r && r->table == 1000 && prefix_eq(&r->gw, &gw4), "10.4/16 in table 1000");
	r = find_route(&rs, "10.1.0.0/24");
	CHECK(r && r->protocol == RTPROT_KERNEL && r->oif == br, "connected 10.1.0.0/24");
	CHECK(find_route(&rs, "2001:db8:1::/64"), "connected 2001:db8:1::/64");
}

static void check_neighs(struct nlsock *nl_a, int br)
{
	static struct neighs ns;
	struct nslab_prefix ip = pfx("10.1.0.2");
	char buf[NL_REQ_BUFSIZ];

	/* AF_INET: AF_UNSPEC would include the bridge's FDB (AF_BRIDGE), which the parser refuses */
	OK(rtnl_build_dump(buf, sizeof(buf), RTM_GETNEIGH, AF_INET, &err));
	OK(nlsock_talk(nl_a, (struct nlmsghdr *)buf, neigh_cb, &ns, &err));
	CHECK(ns.count == 1, "%d permanent neighbours", ns.count);
	CHECK(prefix_eq(&ns.n[0].ip, &ip) && ns.n[0].ifindex == br && ns.n[0].has_mac &&
		      memcmp(ns.n[0].mac, mac_nb, 6) == 0,
	      "neighbour 10.1.0.2");
}

/* err.msg must start with prefix and carry the kernel's text. */
static void check_kernel_msg(const char *prefix)
{
	size_t n = strlen(err.msg);

	CHECK(strncmp(err.msg, prefix, strlen(prefix)) == 0, "'%s' lacks '%s'", err.msg, prefix);
	CHECK(strstr(err.msg, " (kernel: \"") && n > 2 && strcmp(err.msg + n - 2, "\")") == 0,
	      "no kernel text in '%s'", err.msg);
	printf("# expected error: %s\n", err.msg);
}

static void step_errors(struct nlsock *nl, int br)
{
	struct nslab_prefix dup = pfx("10.1.0.1/24");
	struct rtnl_route bad = { .dst = pfx("10.9.0.0/16"), .via = pfx("192.0.2.1") };
	char buf[NL_REQ_BUFSIZ];
	int r;

	r = talk_built(nl, rtnl_build_addr(buf, sizeof(buf), RTM_NEWADDR, br, &dup, 0, &err), buf);
	CHECK(r == -EEXIST && err.code == EEXIST, "duplicate address: %d %s", r, err.msg);
	check_kernel_msg("RTM_NEWADDR: File exists (kernel: \"");
	r = talk_built(nl, rtnl_build_route(buf, sizeof(buf), RTM_NEWROUTE, &bad, &err), buf);
	CHECK(r == -ENETUNREACH, "unreachable gateway: %d %s", r, err.msg);
	check_kernel_msg("RTM_NEWROUTE: Network is unreachable (kernel: \"");
	r = rtnl_link_index(nl, "nosuchlink", &(int){ 0 }, &err);
	CHECK(r == -ENODEV && strstr(err.msg, "RTM_GETLINK"), "%d %s", r, err.msg);
}

static void step_batch_error(struct nlsock *nl, int br)
{
	struct nslab_prefix ok1 = pfx("10.1.0.5/24"), dup = pfx("10.1.0.1/24");
	struct nslab_prefix ok2 = pfx("10.1.0.6/24");
	struct rtnl_route bad = { .dst = pfx("10.9.0.0/16"), .via = pfx("192.0.2.1") };
	static struct addrs as;
	char buf[NL_REQ_BUFSIZ];
	struct nlbatch b;
	int r, idx;

	nlbatch_init(&b, buf, sizeof(buf));
	PUSH(&b,
	     rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWADDR, br, &ok1, 0, &err));
	PUSH(&b,
	     rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWADDR, br, &dup, 0, &err));
	PUSH(&b, rtnl_build_route(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWROUTE, &bad, &err));
	PUSH(&b,
	     rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWADDR, br, &ok2, 0, &err));
	r = nlsock_talk_batch(nl, &b, &err);
	CHECK(r == -EEXIST, "batch: %d %s", r, err.msg);
	check_kernel_msg("request 1 (RTM_NEWADDR): File exists (kernel: \"");
	CHECK(b.count == 0 && b.len == 0, "failed batch not emptied");
	/* The kernel went on after the failures; the socket is still in sync */
	dump_addrs(nl, &as);
	CHECK(find_addr(&as, "10.1.0.5/24") && find_addr(&as, "10.1.0.6/24"), "batch survivors");
	OK(rtnl_link_index(nl, "br0", &idx, &err));
	CHECK(idx == br, "br0 index %d", idx);
}

static int stop_cb(const struct rtnl_link_info *info, void *data)
{
	(void)info;
	++*(int *)data;
	return -ECANCELED;
}

static int mnl_stop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(int *)data;
	return MNL_CB_STOP;
}

/* A callback that stops a dump early: the rest is drained and the socket stays usable. */
static void step_callbacks(struct nlsock *nl, int br)
{
	char buf[NL_REQ_BUFSIZ];
	int calls = 0, idx, r;

	r = rtnl_link_dump(nl, stop_cb, &calls, &err);
	CHECK(r == -ECANCELED && calls == 1, "%d after %d calls: %s", r, calls, err.msg);
	CHECK(strstr(err.msg, "link dump stopped by its callback"), "%s", err.msg);
	OK(rtnl_link_index(nl, "br0", &idx, &err));
	CHECK(idx == br, "index after a stopped dump");
	calls = 0;
	OK(rtnl_build_dump(buf, sizeof(buf), RTM_GETADDR, AF_UNSPEC, &err));
	OK(nlsock_talk(nl, (struct nlmsghdr *)buf, mnl_stop_cb, &calls, &err));
	CHECK(calls == 1, "%d calls after MNL_CB_STOP", calls);
	OK(rtnl_link_index(nl, "va", &idx, &err));
}

/* Enough addresses that one dump spans several receive buffers; batches of 100. */
static void step_big_dump(struct nlsock *nl, int br)
{
	static struct addrs as;
	char buf[NL_REQ_BUFSIZ];
	struct nlbatch b;
	int before;

	dump_addrs(nl, &as);
	before = as.n;
	nlbatch_init(&b, buf, sizeof(buf));
	for (int i = 0; i < 600; i++) {
		struct nslab_prefix p = pfx("10.5.0.0/32");

		p.addr[2] = i / 200;
		p.addr[3] = i % 200 + 1;
		PUSH(&b, rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), RTM_NEWADDR, br, &p, 0,
					 &err));
		if (b.count == 100)
			OK(nlsock_talk_batch(nl, &b, &err));
	}
	dump_addrs(nl, &as);
	CHECK(as.n == before + 600, "%d addresses after adding 600 to %d", as.n, before);
}

static void step_link_changes(struct nlsock *nl_a, struct nlsock *nl_b, int br)
{
	struct rtnl_veth_end c = { .name = "vc", .netns_fd = -1 };
	struct rtnl_veth_end d = { .name = "vd", .netns_fd = -1 };
	struct rtnl_link_change chg = RTNL_LINK_CHANGE_KEEP;
	static struct links ls;
	char buf[NL_REQ_BUFSIZ];
	const struct rtnl_link_info *l;
	int va, vd, vb;

	/* Move vd to B under a new name and bring it up there, in one request */
	OK(talk_built(nl_a, rtnl_build_veth(buf, sizeof(buf), &c, &d, &err), buf));
	OK(rtnl_link_index(nl_a, "vd", &vd, &err));
	chg.netns_fd = fd_b;
	chg.name = "vd2";
	chg.up = 1;
	OK(rtnl_link_set(nl_a, vd, &chg, &err));
	CHECK(rtnl_link_index(nl_a, "vd", &vd, &err) == -ENODEV, "vd still in A");
	dump_links(nl_b, &ls);
	l = find_link(&ls, "vd2");
	CHECK(l && (l->flags & IFF_UP), "vd2 in B");

	/* Release va from br0 and change its MTU */
	OK(rtnl_link_index(nl_a, "va", &va, &err));
	chg = (struct rtnl_link_change)RTNL_LINK_CHANGE_KEEP;
	chg.master = 0;
	chg.mtu = 1300;
	OK(rtnl_link_set(nl_a, va, &chg, &err));
	dump_links(nl_a, &ls);
	l = find_link(&ls, "va");
	CHECK(l->master == 0 && l->mtu == 1300 && l->ifindex == va, "va: master %d mtu %u",
	      l->master, l->mtu);
	(void)br;

	/* Deleting one end in B takes the other in A with it */
	OK(rtnl_link_index(nl_b, "vb", &vb, &err));
	OK(rtnl_link_del(nl_b, vb, &err));
	CHECK(rtnl_link_index(nl_a, "va", &va, &err) == -ENODEV, "va survived its peer");
}

/*
 * Any process may send to our port id: a forged NLMSG_ERROR with the sequence
 * number the next request will carry must be dropped, not taken as the answer.
 */
static void step_forged_reply(void)
{
	_cleanup_(nlsock_freep) struct nlsock *nl = NULL;
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} forged = {
		.h = { .nlmsg_len = sizeof(forged), .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = 1 },
		.e = { .error = -EPERM, .msg = { .nlmsg_seq = 1 } }
	};
	struct sockaddr_nl self = { 0 }, to = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(self);
	static struct links ls;
	int spoofer;

	OK(nlsock_open(NETLINK_ROUTE, &nl, &err)); /* its first request is sequence 1 */
	CHECK(getsockname(nlsock_fd(nl), (struct sockaddr *)&self, &len) == 0, "getsockname: %s",
	      strerror(errno));
	to.nl_pid = self.nl_pid;
	spoofer = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	CHECK(spoofer >= 0, "spoofer socket: %s", strerror(errno));
	CHECK(sendto(spoofer, &forged, sizeof(forged), 0, (struct sockaddr *)&to, sizeof(to)) ==
		      (ssize_t)sizeof(forged),
	      "send the forged reply: %s", strerror(errno));
	forged.h.nlmsg_type = NLMSG_DONE; /* and a forged end of dump */
	CHECK(sendto(spoofer, &forged, sizeof(forged.h) + 4, 0, (struct sockaddr *)&to,
		     sizeof(to)) >= 0,
	      "send the forged end of dump: %s", strerror(errno));
	close(spoofer);
	dump_links(nl, &ls); /* fails with EPERM, or ends early, if a forged reply is taken */
	CHECK(ls.n >= 1 && find_link(&ls, "lo"), "the dump after forged replies lists %d links",
	      ls.n);
}

int main(void)
{
	_cleanup_(nlsock_freep) struct nlsock *nl_a = NULL;
	_cleanup_(nlsock_freep) struct nlsock *nl_b = NULL;
	static struct links base_a, base_b;
	int br;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rootless = nslab_test_enter_netns() == 1;
	fd_a = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK(fd_a >= 0, "open netns: %s", strerror(errno));
	CHECK(unshare(CLONE_NEWNET) == 0, "second netns: %s", strerror(errno));
	fd_b = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK(fd_b >= 0, "open netns: %s", strerror(errno));
	OK(nlsock_open(NETLINK_ROUTE, &nl_b, &err)); /* bound to B for good */
	enter(fd_a);
	OK(nlsock_open(NETLINK_ROUTE, &nl_a, &err));

	step_sysctl();
	dump_links(nl_a, &base_a); /* lo, and fallback tunnels if their modules are loaded */
	dump_links(nl_b, &base_b);
	br = step_topology(nl_a, nl_b);
	step_batch(nl_a, br);
	check_links(nl_a, nl_b, &base_a, &base_b, br);
	check_addrs(nl_a, br);
	check_routes(nl_a, br);
	check_neighs(nl_a, br);
	step_errors(nl_a, br);
	step_batch_error(nl_a, br);
	step_callbacks(nl_a, br);
	step_big_dump(nl_a, br);
	step_link_changes(nl_a, nl_b, br);
	step_forged_reply();
	printf("ok: %u checks\n", checks);
	return 0;
}
