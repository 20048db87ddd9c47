/* SPDX-License-Identifier: MIT */
/*
 * nl/ct: conntrack over ctnetlink (the table of the socket's namespace): flush,
 * and lookups of one tuple, built and parsed with libnetfilter_conntrack.
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
	bool has_counters; /* nf_conntrack_acct was on in the entry's namespace */
	uint64_t orig_packets, orig_bytes, repl_packets, repl_bytes;
};

/*
 * ct_dump() - Every entry of family in nl's namespace, one callback each
 * (a dump walks the hash table the whole host shares: once per session, not per packet)
 * @cb:  returns 0 to go on
 * Return: 0, or -errno
 */
typedef int (*ct_dump_cb)(const struct ct_entry *e, void *data);
int ct_dump(struct nlsock *nl, int family, ct_dump_cb cb, void *data, nslab_error *err);

/* Names of TCP conntrack states as the kernel's tcp_conntrack_names ("SYN_SENT"). */
const char *ct_tcp_state_name(uint8_t state);
#define CT_TCP_STATE_MAX 9

/*
 * ct_parse() - One conntrack message (IPCTNL_MSG_CT_NEW, a lookup's answer) into an entry
 * Parsed by libnetfilter_conntrack. Pure; @ret untouched on failure.
 * Return: 0, -ENOENT if not a conntrack message, -EPROTO if it does not parse
 */
int ct_parse(const struct nlmsghdr *nlh, struct ct_entry *ret, nslab_error *err);
/*
 * ct_parse_event() - A conntrack event (NFNLGRP_CONNTRACK_NEW/_DESTROY) into an entry
 * As ct_parse(), and IPCTNL_MSG_CT_DELETE (an entry destroyed, its
 * counters final) too: *ret_destroyed says which. Pure; ret_* untouched on failure.
 * Return: 0, -ENOENT if not such a message, -EPROTO if it does not parse
 */
int ct_parse_event(const struct nlmsghdr *nlh, struct ct_entry *ret, bool *ret_destroyed,
		   nslab_error *err);

/*
 * ct_build_get() - IPCTNL_MSG_CT_GET for one original tuple (pure builder)
 * @q:  family, proto, src, dst; ports for TCP/UDP; icmp_id (echo request,
 *      code 0) when has_icmp_id
 */
int ct_build_get(void *buf, size_t len, const struct ct_entry *q, nslab_error *err);
/*
 * ct_get() - The entry of one original tuple, looked up by the kernel
 * A lookup costs the same whatever the table's size; a dump would walk the
 * whole hash table, which every namespace of the host shares (~10 ms).
 * Return: 0 and *ret, -ENOENT if there is none, or another -errno
 */
int ct_get(struct nlsock *nl, const struct ct_entry *q, struct ct_entry *ret, nslab_error *err);

/* IPCTNL_MSG_CT_GET (get) or IPCTNL_MSG_CT_DELETE (!get) of one original tuple (pure builder). */
int ct_build_tuple_msg(void *buf, size_t len, bool get, const struct ct_entry *q, nslab_error *err);
/*
 * ct_count() - The number of entries in nl's namespace (IPCTNL_MSG_CT_GET_STATS'
 * CTA_STATS_GLOBAL_ENTRIES: the namespace's own count, no walk)
 * Return: 0 and *ret, or -errno
 */
int ct_count(struct nlsock *nl, unsigned *ret, nslab_error *err);
/* IPCTNL_MSG_CT_GET_STATS, which ct_count() sends (pure builder). */
int ct_build_count(void *buf, size_t len, nslab_error *err);
/*
 * ct_delete_and_count() - Delete the entries of n original tuples (hash
 * lookups, unlike a flush, which walks the table every namespace shares),
 * then ct_count(), in one batch: one round trip for a few tuples. An entry
 * that is not there is no failure.
 * Return: 0 and *ret_left, or -errno
 */
int ct_delete_and_count(struct nlsock *nl, const struct ct_entry *q, size_t n, unsigned *ret_left,
			nslab_error *err);

/* IPCTNL_MSG_CT_DELETE without a tuple: the kernel flushes every entry (pure builder). */
int ct_build_flush(void *buf, size_t len, nslab_error *err);
/* Flush the conntrack table of nl's namespace (nl: a NETLINK_NETFILTER socket). */
int ct_flush(struct nlsock *nl, nslab_error *err);
