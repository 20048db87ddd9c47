/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nl/ct: conntrack over ctnetlink (the table of the socket's namespace): flush,
 * and dumps parsed with libnetfilter_conntrack.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "nl/nlsock.h"
#include "nslab/error.h"

/* One conntrack entry, as far as firewall tests look at it. */
struct ct_entry {
	int family;		    /* AF_INET or AF_INET6 */
	int proto;		    /* IPPROTO_* of the original direction */
	uint8_t src[16], dst[16];   /* original direction, network byte order */
	uint16_t sport, dport;	    /* host byte order; 0 without ports */
	uint8_t rsrc[16], rdst[16]; /* reply direction (NAT shows here) */
	uint16_t rsport, rdport;
	bool has_icmp_id;
	uint16_t icmp_id; /* ICMP and ICMPv6 echo: the tuple's id (host byte order) */
	bool has_tcp_state;
	uint8_t tcp_state; /* TCP_CONNTRACK_*: 0 none ... 9 syn_sent2 */
	uint32_t status;   /* IPS_* bits */
};

/* Names of TCP conntrack states as the kernel's tcp_conntrack_names ("SYN_SENT"). */
const char *ct_tcp_state_name(uint8_t state);
#define CT_TCP_STATE_MAX 9

/*
 * ct_parse() - One conntrack message (IPCTNL_MSG_CT_NEW, a dump's) into an entry
 * Parsed by libnetfilter_conntrack. Pure; @ret untouched on failure.
 * Return: 0, -ENOENT if not a conntrack message, -EPROTO if it does not parse
 */
int ct_parse(const struct nlmsghdr *nlh, struct ct_entry *ret, nslab_error *err);
/* IPCTNL_MSG_CT_GET dump request for every family (pure builder). */
int ct_build_dump(void *buf, size_t len, nslab_error *err);
typedef int (*ct_entry_cb)(const struct ct_entry *e, void *data);
/* Dump the conntrack table of nl's namespace; cb per entry (< 0 stops with that error). */
int ct_dump(struct nlsock *nl, ct_entry_cb cb, void *data, nslab_error *err);

/* IPCTNL_MSG_CT_DELETE without a tuple: the kernel flushes every entry (pure builder). */
int ct_build_flush(void *buf, size_t len, nslab_error *err);
/* Flush the conntrack table of nl's namespace (nl: a NETLINK_NETFILTER socket). */
int ct_flush(struct nlsock *nl, nslab_error *err);
