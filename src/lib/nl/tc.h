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

/* tc_build_* then nlsock_talk() on nl (a socket of the interfaces' namespace). */
int tc_clsact(struct nlsock *nl, int ifindex, bool add, nslab_error *err);
int tc_redirect(struct nlsock *nl, int ifindex, int to_ifindex, nslab_error *err);
