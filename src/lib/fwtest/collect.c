/* SPDX-License-Identifier: MIT */
/*
 * fwtest/collect: what the kernel reports while a test runs.
 *
 * Trace events are matched to packets by content (tag, addresses, ports),
 * then by trace id for the events of a chain that carry no headers, and for
 * the packet after NAT rewrote its addresses (the tag survives). Frames seen
 * by the nodes' packet sockets are kept for capture checks; those arriving at
 * a sender are matched as replies. UDP listeners echo what they receive.
 */
#include "fwtest/run.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#define DECIDE_MS 1000 /* a packet's trace normally completes in well under 1 ms */
#define REPLY_MS  500  /* an expected reply */
#define SETTLE_MS 30   /* "no reply": how long nothing must come back */

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool same_addrs(const struct pkt_spec *s, const struct pkt_info *pi)
{
	return memcmp(s->src, pi->src, alen(s->family)) == 0 &&
	       memcmp(s->dst, pi->dst, alen(s->family)) == 0;
}

static bool matches_packet(const struct fw_track *t, const struct pkt_info *pi, bool by_id)
{
	const struct pkt_spec *s = &t->spec;

	if (t->is_flow || pi->family != s->family || pi->proto != s->proto || pi->tag != s->tag)
		return false;
	if (by_id)
		return true; /* NAT may have rewritten addresses and ports */
	if (!same_addrs(s, pi))
		return false;
	return !pi->has_ports || (pi->sport == s->sport && pi->dport == s->dport);
}

static bool matches_flow(const struct fw_track *t, const struct pkt_info *pi)
{
	const struct pkt_spec *s = &t->spec;

	return t->is_flow && pi->family == s->family && pi->proto == s->proto &&
	       same_addrs(s, pi) && pi->has_ports && pi->sport == s->sport && pi->dport == s->dport;
}

/* A flow's packet after NAT: same skb (trace id), one side rewritten. */
static bool same_flow_nat(const struct fw_track *t, const struct pkt_info *pi)
{
	return t->is_flow && pi->family == t->spec.family && pi->proto == t->spec.proto &&
	       pi->has_ports && (pi->sport == t->spec.sport || pi->dport == t->spec.dport);
}

static long id_lookup(const struct fw_runner *r, uint32_t id)
{
	for (size_t i = r->n_id_map; i-- > 0;)
		if (r->id_map_id[i] == id)
			return (long)r->id_map_track[i];
	return -1;
}

static void id_set(struct fw_runner *r, uint32_t id, size_t track)
{
	for (size_t i = 0; i < r->n_id_map; i++)
		if (r->id_map_id[i] == id) {
			r->id_map_track[i] = track;
			return;
		}
	if (r->n_id_map == ARRAY_SIZE(r->id_map_id)) {
		memmove(r->id_map_id, r->id_map_id + 1, sizeof(r->id_map_id) - sizeof(uint32_t));
		memmove(r->id_map_track, r->id_map_track + 1,
			sizeof(r->id_map_track) - sizeof(size_t));
		r->n_id_map--;
	}
	r->id_map_id[r->n_id_map] = id;
	r->id_map_track[r->n_id_map++] = track;
}

static void id_forget(struct fw_runner *r, uint32_t id)
{
	for (size_t i = 0; i < r->n_id_map; i++)
		if (r->id_map_id[i] == id)
			r->id_map_track[i] = SIZE_MAX;
}

bool fw_is_kernel_reset(const struct fw_runner *r, const struct pkt_info *pi)
{
	if (pi->proto != IPPROTO_TCP || !(pi->tcp_flags & 0x04) || !pi->has_ports)
		return false;
	for (size_t i = 0; i < r->n_tracks; i++)
		if (!r->tracks[i].is_flow && r->tracks[i].spec.tag == pi->tag)
			return false; /* a RST the test crafted itself */
	for (size_t i = 0; i < r->n_tracks; i++) {
		const struct pkt_spec *s = &r->tracks[i].spec;
		size_t alen = s->family == AF_INET ? 4 : 16;

		if (!r->tracks[i].is_flow && s->proto == IPPROTO_TCP && pi->family == s->family &&
		    pi->tag != s->tag && pi->sport == s->sport && pi->dport == s->dport &&
		    memcmp(pi->src, s->src, alen) == 0 && memcmp(pi->dst, s->dst, alen) == 0)
			return true;
	}
	return false;
}

/* Keep a kernel reset's rule hits for the counter checks; best effort. */
static void keep_reset(struct fw_runner *r, const struct nftrace_event *ev)
{
	struct nftrace_event *v;

	if (ev->type != NFT_TRACETYPE_RULE || !ev->has_rule ||
	    strcmp(ev->table, FW_TRACE_TABLE) == 0)
		return;
	if (r->n_resets == r->cap_resets) {
		size_t cap = r->cap_resets ? 2 * r->cap_resets : 8;

		v = reallocarray(r->resets, cap, sizeof(*v));
		if (!v)
			return;
		r->resets = v;
		r->cap_resets = cap;
	}
	r->resets[r->n_resets++] = *ev;
}

/* Which track an event belongs to, or -1. */
static long route_event(struct fw_runner *r, const struct nftrace_event *ev)
{
	long by_id = id_lookup(r, ev->id);
	struct pkt_info pi;

	if (!fw_event_info(ev, &pi))
		return by_id >= 0 && (size_t)by_id != SIZE_MAX ? by_id : -1;
	if (fw_is_kernel_reset(r, &pi)) {
		keep_reset(r, ev);
		return -1;
	}
	for (size_t i = r->n_tracks; i-- > 0;)
		if (matches_packet(&r->tracks[i], &pi, false) || matches_flow(&r->tracks[i], &pi)) {
			id_set(r, ev->id, i);
			return (long)i;
		}
	if (by_id >= 0 && (size_t)by_id != SIZE_MAX &&
	    (matches_packet(&r->tracks[by_id], &pi, true) || same_flow_nat(&r->tracks[by_id], &pi)))
		return by_id;
	id_forget(r, ev->id); /* a packet of no test (a reply, ND): ignore its chain */
	return -1;
}

/*
 * Linux 6.8 added the ct attributes to trace events: before it, no packet
 * carries a state, and a missing one says nothing about conntrack's verdict.
 */
static bool kernel_traces_ct(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return true;
	return major > 6 || (major == 6 && minor >= 8);
}

static void redecide(struct fw_runner *r, struct fw_track *t)
{
	size_t n = t->n_evs;

	if (t->is_flow) {
		/* a flow's verdict is its first packet's */
		for (n = 0; n < t->n_evs && t->evs[n].id == t->evs[0].id; n++)
			;
	}
	fw_decision_clear(&t->dec);
	if (fw_decide(t->evs, n, &r->env->listing, &t->dec) < 0)
		return;
	t->decided = t->dec.verdict != FW_VERDICT_UNSET;
	if (t->dec.ct_derived && !kernel_traces_ct())
		t->dec.has_ct_state = t->dec.ct_derived = false;
	/*
	 * A flow's state is its latest packet's (established once the handshake
	 * is done), read past the event that decided the first packet rather than
	 * past its trace id: the kernel derives an id from the skb's address, the
	 * flow hash and the input interface, so the next packet of the flow takes
	 * the same id when it lands in the skb the first one freed. Over a slow
	 * link that is common (the SYN is long gone when the ACK comes), and the
	 * handshake's ACK and data, taken for the SYN's own events, went unread:
	 * "ct state new" about 1 run in 25 of examples/fwtest/slow-link.yaml.
	 */
	for (size_t i = t->dec.n_read; t->is_flow && i < t->n_evs; i++)
		if (t->evs[i].has_ct_state && strcmp(t->evs[i].table, FW_TRACE_TABLE) != 0) {
			t->dec.has_ct_state = true;
			t->dec.ct_state = t->evs[i].ct_state;
		}
}

static void on_event(const struct nftrace_event *ev, void *data)
{
	struct fw_runner *r = data;
	long i = route_event(r, ev);
	struct fw_track *t;
	struct nftrace_event *evs;

	if (i < 0)
		return;
	t = &r->tracks[i];
	if (t->n_evs == t->cap_evs) {
		size_t cap = t->cap_evs ? 2 * t->cap_evs : 16;

		evs = reallocarray(t->evs, cap, sizeof(*evs));
		if (!evs)
			return;
		t->evs = evs;
		t->cap_evs = cap;
	}
	t->evs[t->n_evs++] = *ev;
	t->stale = true;
}

/* Replies */

static enum fw_reply icmp_reply(const struct pkt_info *pi)
{
	if (pi->family == AF_INET && pi->icmp_type == 3) {
		switch (pi->icmp_code) {
		case 0:
			return FW_REPLY_ICMP_NET_UNREACHABLE;
		case 1:
			return FW_REPLY_ICMP_HOST_UNREACHABLE;
		case 2:
			return FW_REPLY_ICMP_PROT_UNREACHABLE;
		case 3:
			return FW_REPLY_ICMP_PORT_UNREACHABLE;
		case 6: /* destination network unknown */
			return FW_REPLY_ICMP_NET_UNREACHABLE;
		case 7: /* destination host unknown */
			return FW_REPLY_ICMP_HOST_UNREACHABLE;
		case 9:
		case 10:
		case 13:
			return FW_REPLY_ICMP_ADMIN_PROHIBITED;
		default:
			return FW_REPLY_UNSET; /* fragmentation needed, source route, ...: not modelled */
		}
	}
	if (pi->family == AF_INET6 && pi->icmp_type == 1) {
		switch (pi->icmp_code) {
		case 0:
			return FW_REPLY_ICMP_NET_UNREACHABLE;
		case 1:
			return FW_REPLY_ICMP_ADMIN_PROHIBITED;
		case 3:
			return FW_REPLY_ICMP_HOST_UNREACHABLE;
		case 4:
			return FW_REPLY_ICMP_PORT_UNREACHABLE;
		default:
			return FW_REPLY_ICMP_ADMIN_PROHIBITED;
		}
	}
	return FW_REPLY_UNSET;
}

/*
 * Whether a TCP segment answers this very packet: it acknowledges its
 * sequence space, or (a RST to a segment with ACK) carries its ack as seq.
 * Sequence numbers are unique per packet (fill_spec()), ports may not be.
 */
static bool answers_tcp(const struct pkt_spec *s, const struct pkt_info *pi)
{
	uint32_t end = s->tcp_seq + (uint32_t)s->payload_len + !!(s->tcp_flags & 0x02) +
		       !!(s->tcp_flags & 0x01);

	if (pi->tcp_flags & 0x10)
		return pi->tcp_ack == end;
	return (pi->tcp_flags & 0x04) && (s->tcp_flags & 0x10) && pi->tcp_seq == s->tcp_ack;
}

/* The reply this packet is to t, or FW_REPLY_UNSET. */
static enum fw_reply reply_to(const struct fw_track *t, const struct pkt_info *pi)
{
	const struct pkt_spec *s = &t->spec;
	size_t n = alen(s->family);
	bool swapped = pi->family == s->family && memcmp(pi->src, s->dst, n) == 0 &&
		       memcmp(pi->dst, s->src, n) == 0;

	if (pi->is_icmp && pi->inner.set)
		return pi->inner.tag == s->tag && pi->inner.proto == s->proto &&
				       memcmp(pi->inner.src, s->src, n) == 0
			       ? icmp_reply(pi)
			       : FW_REPLY_UNSET;
	if (!swapped || pi->proto != s->proto)
		return FW_REPLY_UNSET;
	if (pi->is_icmp)
		return (pi->icmp_type == 0 || pi->icmp_type == 129) && pi->icmp_id == s->icmp_id &&
				       pi->icmp_seq == s->icmp_seq
			       ? FW_REPLY_ECHO_REPLY
			       : FW_REPLY_UNSET;
	if (!pi->has_ports || pi->sport != s->dport || pi->dport != s->sport)
		return FW_REPLY_UNSET;
	if (pi->proto == IPPROTO_UDP)
		/* our listeners echo: the same bytes (when there are any) */
		return !s->payload_len || (pi->payload_len == s->payload_len &&
					   !memcmp(pi->payload, s->payload, s->payload_len))
			       ? FW_REPLY_UDP
			       : FW_REPLY_UNSET;
	if (!answers_tcp(s, pi))
		return FW_REPLY_UNSET;
	if (pi->tcp_flags & 0x04)
		return FW_REPLY_RST;
	if ((pi->tcp_flags & 0x12) == 0x12)
		return FW_REPLY_SYN_ACK;
	return FW_REPLY_UNSET;
}

/*
 * A flow's first answer from its peer (syn-ack, rst, the listener's datagram) or an ICMP error
 * quoting it; its ports are the socket's (take_local()), as it carries no tag of ours.
 */
static enum fw_reply flow_reply_to(const struct fw_track *t, const struct pkt_info *pi)
{
	const struct pkt_spec *s = &t->spec;
	size_t n = alen(s->family);

	if (pi->is_icmp && pi->inner.set)
		return pi->inner.has_ports && pi->inner.proto == s->proto &&
				       pi->inner.sport == s->sport && pi->inner.dport == s->dport &&
				       memcmp(pi->inner.src, s->src, n) == 0
			       ? icmp_reply(pi)
			       : FW_REPLY_UNSET;
	if (pi->family != s->family || pi->proto != s->proto || !pi->has_ports ||
	    pi->sport != s->dport || pi->dport != s->sport || memcmp(pi->src, s->dst, n) != 0 ||
	    memcmp(pi->dst, s->src, n) != 0)
		return FW_REPLY_UNSET;
	if (pi->proto == IPPROTO_UDP)
		return FW_REPLY_UDP;
	if (pi->tcp_flags & 0x04)
		return FW_REPLY_RST;
	return (pi->tcp_flags & 0x12) == 0x12 ? FW_REPLY_SYN_ACK : FW_REPLY_UNSET;
}

static void match_replies(struct fw_runner *r, size_t node, const uint8_t *buf, size_t len)
{
	struct pkt_info pi;

	if (pkt_parse(buf, len, &pi, NULL) < 0)
		return;
	for (size_t i = 0; i < r->n_tracks; i++) {
		struct fw_track *t = &r->tracks[i];
		enum fw_reply rep;

		if (t->from != node || t->reply != FW_REPLY_UNSET)
			continue;
		rep = t->is_flow ? flow_reply_to(t, &pi) : reply_to(t, &pi);
		if (rep != FW_REPLY_UNSET) {
			t->reply = rep;
			return; /* one reply answers one packet: the earliest still waiting */
		}
	}
}

static void keep_frame(struct fw_runner *r, size_t node, const struct sockaddr_ll *sll,
		       const uint8_t *buf, size_t len)
{
	struct fw_captured *c = reallocarray(r->caps, r->n_caps + 1, sizeof(*c));
	uint8_t *copy = malloc(len ? len : 1);

	if (!c || !copy) {
		free(copy);
		if (c)
			r->caps = c;
		return;
	}
	memcpy(copy, buf, len);
	r->caps = c;
	r->caps[r->n_caps++] =
		(struct fw_captured){ .node = node,
				      .ifindex = sll->sll_ifindex,
				      .outgoing = sll->sll_pkttype == PACKET_OUTGOING,
				      .data = copy,
				      .len = len };
}

static void take_frame(struct fw_runner *r, size_t node, bool keep, const struct sockaddr_ll *sll,
		       const uint8_t *buf, size_t len)
{
	/*
	 * lo carries the node's own talk (listeners to themselves): not a
	 * wire. Captures are of IP packets (ARP and the like are not kept).
	 */
	if (!keep || sll->sll_ifindex == 1 ||
	    (sll->sll_protocol != htons(ETH_P_IP) && sll->sll_protocol != htons(ETH_P_IPV6)))
		return;
	keep_frame(r, node, sll, buf, len);
	if (sll->sll_pkttype != PACKET_OUTGOING)
		match_replies(r, node, buf, len);
}

#define FRAMES_BATCH 8	   /* frames a system call (recvmmsg()) */
#define FRAME_SLOT   65536 /* PKT_MAX bytes, each slot aligned */

/* Every frame queued on the node's packet socket, FRAMES_BATCH a call. */
static void read_frames(struct fw_runner *r, size_t node, bool keep)
{
	int fd = r->env->io[node].cap, n = FRAMES_BATCH;
	uint8_t *buf = r->frame ? r->frame : (r->frame = malloc(FRAMES_BATCH * FRAME_SLOT));
	struct sockaddr_ll sll[FRAMES_BATCH];
	struct iovec iov[FRAMES_BATCH];
	struct mmsghdr m[FRAMES_BATCH];

	/* fewer than asked for: the queue was empty when recvmmsg() stopped */
	while (buf && n == FRAMES_BATCH) {
		for (int i = 0; i < FRAMES_BATCH; i++) {
			iov[i] = (struct iovec){ buf + (size_t)i * FRAME_SLOT, PKT_MAX };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &sll[i],
							      .msg_namelen = sizeof(sll[i]),
							      .msg_iov = &iov[i],
							      .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, m, FRAMES_BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++)
			take_frame(r, node, keep, &sll[i], iov[i].iov_base, m[i].msg_len);
	}
}

/* The reply's source: the address the datagram was sent to (multi-homed nodes). */
static size_t reply_source(struct msghdr *in, char *cbuf, size_t len)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(in); c; c = CMSG_NXTHDR(in, c)) {
		struct cmsghdr *o = (struct cmsghdr *)cbuf;

		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    len >= CMSG_SPACE(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			*o = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(pi)),
					       .cmsg_level = IPPROTO_IP,
					       .cmsg_type = IP_PKTINFO };
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    len >= CMSG_SPACE(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr))
				continue; /* a v4 datagram: its IP_PKTINFO says it */
			pi.ipi6_ifindex = 0;
			*o = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(pi)),
					       .cmsg_level = IPPROTO_IPV6,
					       .cmsg_type = IPV6_PKTINFO };
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
	}
	return 0;
}

static void echo_udp(int fd)
{
	uint8_t buf[2048];
	char cin[256] __attribute__((aligned(8))), cout[128] __attribute__((aligned(8)));
	struct sockaddr_storage ss;

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr in = { .msg_name = &ss,
				     .msg_namelen = sizeof(ss),
				     .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cin,
				     .msg_controllen = sizeof(cin) };
		struct msghdr out;
		ssize_t n = recvmsg(fd, &in, MSG_DONTWAIT);

		if (n < 0)
			return;
		iov.iov_len = (size_t)n;
		out = (struct msghdr){ .msg_name = &ss,
				       .msg_namelen = in.msg_namelen,
				       .msg_iov = &iov,
				       .msg_iovlen = 1,
				       .msg_control = cout };
		out.msg_controllen = reply_source(&in, cout, sizeof(cout));
		if (!out.msg_controllen)
			out.msg_control = NULL;
		(void)sendmsg(fd, &out, MSG_DONTWAIT);
	}
}

/* Read the queued trace events; a track that got some is decided again, once for all of them. */
static int read_traces(struct fw_runner *r, bool keep, nslab_error *err)
{
	int k = nftrace_read(r->env->trace, keep ? on_event : NULL, r, err);

	for (size_t i = 0; i < r->n_tracks; i++)
		if (r->tracks[i].stale) {
			r->tracks[i].stale = false;
			redecide(r, &r->tracks[i]);
		}
	return k < 0 ? k : 0;
}

/*
 * The poll set of a round: the trace socket, then every node's packet socket,
 * the UDP listeners, and extra_fd if >= 0 (malloc'd; *ret_n entries).
 */
static struct pollfd *poll_set(struct fw_runner *r, int extra_fd, short extra_events, size_t *ret_n)
{
	size_t n = 0, n_nodes = r->env->topo->n;
	struct pollfd *pfd = calloc(2 + n_nodes + r->n_udp, sizeof(*pfd));

	if (!pfd)
		return NULL;
	pfd[n++] = (struct pollfd){ nlsock_fd(r->env->trace), POLLIN, 0 };
	for (size_t i = 0; i < n_nodes; i++)
		pfd[n++] = (struct pollfd){ r->env->io[i].cap, POLLIN, 0 };
	for (size_t i = 0; i < r->n_udp; i++)
		pfd[n++] = (struct pollfd){ r->udp[i], POLLIN, 0 };
	if (extra_fd >= 0)
		pfd[n++] = (struct pollfd){ extra_fd, extra_events, 0 };
	*ret_n = n;
	return pfd;
}

/* One round: wait up to timeout_ms for anything, handle it all. */
static int poll_once(struct fw_runner *r, int extra_fd, short extra_events, int timeout_ms,
		     short *ret_revents, nslab_error *err)
{
	size_t n, n_nodes = r->env->topo->n;
	_cleanup_free_ struct pollfd *pfd = poll_set(r, extra_fd, extra_events, &n);
	int k;

	if (!pfd)
		return nslab_err_set(err, ENOMEM, "poll");
	k = poll(pfd, n, timeout_ms);
	if (k < 0 && errno != EINTR)
		return nslab_err_set(err, errno, "poll");
	/*
	 * Frames first: a reply's frame may arrive before its packet's last
	 * trace event. Only the sockets poll() found ready: what comes after it
	 * is read in the next round, or by fw_collect_captures() at the end.
	 */
	for (size_t i = 0; i < n_nodes; i++)
		if (pfd[1 + i].revents)
			read_frames(r, i, true);
	k = pfd[0].revents ? read_traces(r, true, err) : 0;
	if (k < 0)
		return k;
	for (size_t i = 0; i < r->n_udp; i++)
		if (pfd[1 + n_nodes + i].revents & POLLIN)
			echo_udp(r->udp[i]);
	if (ret_revents)
		*ret_revents = extra_fd >= 0 ? pfd[n - 1].revents : 0;
	return 0;
}

/*
 * Read what is queued now on the packet sockets (keep: as captures) and, with
 * traces, on the trace socket: one poll() finds the sockets that have
 * anything (a lab's hundreds of nodes mostly have nothing), or, should it
 * fail, every socket is read.
 */
static void read_queued(struct fw_runner *r, bool keep, bool traces)
{
	size_t n;
	_cleanup_free_ struct pollfd *pfd = poll_set(r, -1, 0, &n);
	bool all = !pfd || poll(pfd, n, 0) < 0;

	for (size_t i = 0; i < r->env->topo->n; i++)
		if (all || pfd[1 + i].revents)
			read_frames(r, i, keep);
	if (traces && (all || pfd[0].revents))
		(void)read_traces(r, false, NULL);
}

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = fw_now_us();

	return now >= deadline ? 0 : (int)((deadline - now + 999) / 1000);
}

void fw_collect_drain(struct fw_runner *r)
{
	read_queued(r, false, true);
}

void fw_collect_captures(struct fw_runner *r)
{
	read_queued(r, true, false);
}

int fw_collect_until(struct fw_runner *r, struct fw_track *t, bool want_reply, nslab_error *err)
{
	size_t ti = (size_t)(t - r->tracks);
	uint64_t deadline = fw_now_us() + DECIDE_MS * 1000u;
	int k = 0;

	while (k >= 0 && !r->tracks[ti].decided && remaining_ms(deadline) > 0)
		k = poll_once(r, -1, 0, remaining_ms(deadline), NULL, err);
	if (k < 0 || !want_reply)
		return k;
	t = &r->tracks[ti];
	deadline = fw_now_us() + (t->expect->reply == FW_REPLY_NONE ? SETTLE_MS : REPLY_MS) * 1000u;
	while (k >= 0 && r->tracks[ti].reply == FW_REPLY_UNSET && remaining_ms(deadline) > 0)
		k = poll_once(r, -1, 0, remaining_ms(deadline), NULL, err);
	return k;
}

/* The flow's last packet from the client has been decided by the trace. */
static bool flow_settled(const struct fw_track *t, uint8_t want_flags)
{
	for (size_t i = t->n_evs; i-- > 0;) {
		struct pkt_info pi;
		const struct nftrace_event *ev = &t->evs[i];

		if (!fw_event_info(ev, &pi) || !pi.has_ports || pi.tcp_flags != want_flags)
			continue;
		for (size_t k = i; k < t->n_evs && t->evs[k].id == ev->id; k++)
			if (strcmp(t->evs[k].table, FW_TRACE_TABLE) == 0 &&
			    strstr(t->evs[k].chain, "_end"))
				return true;
		return false;
	}
	return false;
}

static bool syn_dropped(const struct fw_track *t)
{
	return t->decided && t->dec.verdict == FW_VERDICT_DROP;
}

static int tcp_flow(struct fw_runner *r, size_t ti, int fd, const uint8_t *data, size_t len,
		    nslab_error *err)
{
	uint64_t deadline = fw_now_us() + DECIDE_MS * 1000u;
	short rev = 0;
	int k = 0, soerr = 0;
	socklen_t sl = sizeof(soerr);

	/* a SYN the trace shows dropped would only be sent again into the same rule */
	while (k >= 0 && !(rev & (POLLOUT | POLLERR | POLLHUP)) && remaining_ms(deadline) > 0 &&
	       !syn_dropped(&r->tracks[ti]))
		k = poll_once(r, fd, POLLOUT, remaining_ms(deadline), &rev, err);
	if (k < 0)
		return k;
	if (!(rev & (POLLOUT | POLLERR | POLLHUP))) {
		r->tracks[ti].connect = FW_CONNECT_TIMEOUT;
		return 0;
	}
	(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	r->tracks[ti].connect =
		soerr ? (soerr == ETIMEDOUT ? FW_CONNECT_TIMEOUT : FW_CONNECT_REFUSED)
		      : FW_CONNECT_OK;
	if (soerr)
		return 0;
	if (len && send(fd, data, len, MSG_NOSIGNAL) < 0)
		return nslab_err_set(err, errno, "send on the flow");
	deadline = fw_now_us() + REPLY_MS * 1000u;
	while (k >= 0 && !flow_settled(&r->tracks[ti], len ? 0x18 : 0x10) &&
	       remaining_ms(deadline) > 0)
		k = poll_once(r, -1, 0, remaining_ms(deadline), NULL, err);
	return k;
}

static int udp_flow(struct fw_runner *r, size_t ti, int fd, const uint8_t *data, size_t len,
		    nslab_error *err)
{
	uint64_t deadline = fw_now_us() + REPLY_MS * 1000u;
	uint8_t buf[2048];
	short rev = 0;
	int k = 0;

	if (send(fd, len ? data : (const uint8_t *)"", len, 0) < 0)
		return nslab_err_set(err, errno, "send on the flow");
	while (k >= 0 && !(rev & (POLLIN | POLLERR)) && remaining_ms(deadline) > 0)
		k = poll_once(r, fd, POLLIN, remaining_ms(deadline), &rev, err);
	if (k < 0)
		return k;
	if (!(rev & (POLLIN | POLLERR)))
		r->tracks[ti].connect = FW_CONNECT_TIMEOUT;
	else if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		r->tracks[ti].connect = FW_CONNECT_OK;
	else
		r->tracks[ti].connect = FW_CONNECT_REFUSED;
	return 0;
}

int fw_collect_flow(struct fw_runner *r, struct fw_track *t, int fd, const uint8_t *data,
		    size_t len, nslab_error *err)
{
	size_t ti = (size_t)(t - r->tracks);

	if (t->spec.proto == IPPROTO_TCP)
		return tcp_flow(r, ti, fd, data, len, err);
	return udp_flow(r, ti, fd, data, len, err);
}
