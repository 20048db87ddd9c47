/* SPDX-License-Identifier: MIT */
/*
 * nl/tc: traffic-control requests: the clsact qdisc, the egress filter the
 * wire backend diverts frames with (u32 matching everything, then mirred
 * redirecting to a TAP), and the netem probe. Builders are pure (they fill a
 * caller's buffer); tc_* calls talk over a namespace's socket.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl/nlsock.h"

#define TC_WIRE_PRIO 1 /* the filter's priority under clsact egress */

/* RTM_NEWQDISC (add) or RTM_DELQDISC of the clsact qdisc of ifindex. */
int tc_build_clsact(void *buf, size_t len, int ifindex, bool add, nslab_error *err);
/*
 * tc_build_redirect() - RTM_NEWTFILTER: egress of ifindex, every frame, to the egress of to_ifindex
 * As `tc filter add dev X egress prio 1 protocol all u32 match u32 0 0
 * action mirred egress redirect dev T`. With replace, an existing filter at
 * the same priority is replaced in one step.
 */
int tc_build_redirect(void *buf, size_t len, int ifindex, int to_ifindex, bool replace,
		      nslab_error *err);

/*
 * netem's parameters in the kernel's units (pkt_sched.h): probabilities and
 * correlations scaled to 2^32 - 1, delays in ns, rate in bytes/s.
 */
#define TC_NETEM_DIST_N 4096 /* entries of a jitter table (iproute2's tables have as many) */
#define TC_NETEM_DIST_SCALE \
	8192 /* a table entry of one deviation (the kernel's NETEM_DIST_SCALE) */
#define TC_NETEM_REQ_BUFSIZ 16384 /* a netem request with its table */
struct tc_netem {
	uint64_t latency_ns, jitter_ns;
	uint32_t dist_n;	       /* entries in dist; 0: uniform jitter, no table */
	int16_t dist[TC_NETEM_DIST_N]; /* TCA_NETEM_DELAY_DIST: quantiles of the jitter's shape */
	uint32_t limit;		       /* packets; 0: netem's default (1000) */
	uint32_t loss, gap, duplicate;
	uint32_t delay_corr, loss_corr, dup_corr;
	uint32_t reorder, reorder_corr;
	uint32_t corrupt, corrupt_corr;
	bool ge;			  /* Gilbert-Elliott loss instead of `loss` */
	uint32_t ge_p, ge_r, ge_h, ge_k1; /* the kernel's h is 1 - (1-h); k1 is 1-k */
	uint64_t rate_Bps;		  /* 0: none */
	bool has_seed;			  /* TCA_NETEM_PRNG_SEED (Linux 6.6 and later) */
	uint64_t seed;
};
/*
 * tc_build_netem() - RTM_NEWQDISC replacing ifindex's root qdisc with netem
 * TCA_OPTIONS is a struct tc_netem_qopt *followed by* TCA_NETEM_* attributes
 * in the same attribute (iproute2's tc/q_netem.c). Pure.
 */
int tc_build_netem(void *buf, size_t len, int ifindex, const struct tc_netem *q, nslab_error *err);
/* RTM_DELQDISC of ifindex's root qdisc. */
int tc_build_root_del(void *buf, size_t len, int ifindex, nslab_error *err);

/* tc_build_* then nlsock_talk() on nl (a socket of the interfaces' namespace). */
int tc_clsact(struct nlsock *nl, int ifindex, bool add, nslab_error *err);
int tc_redirect(struct nlsock *nl, int ifindex, int to_ifindex, nslab_error *err);
