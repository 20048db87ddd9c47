/* SPDX-License-Identifier: MIT */
/*
 * nl/nftrace: nftables trace events (`meta nftrace set 1`), received on a
 * NETLINK_NETFILTER socket subscribed to NFNLGRP_NFTRACE and parsed with
 * libmnl (each attribute's type and length checked as libnftnl does, the
 * conntrack state of Linux 6.8+ too). libnftnl 1.2 exits the process on an
 * attribute it finds malformed, and allocates an object and a copy of each
 * name per event, twenty events a packet.
 */
#pragma once

#include <linux/netfilter/nf_tables.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "nl/nlsock.h"
#include "nslab/error.h"

#define NFTRACE_HDR_MAX 64 /* the kernel sends at most 40 + 20 bytes of headers */

enum nftrace_verdict {
	NFTRACE_V_NONE = 0, /* no verdict attribute */
	NFTRACE_V_ACCEPT,
	NFTRACE_V_DROP,
	NFTRACE_V_CONTINUE,
	NFTRACE_V_RETURN,
	NFTRACE_V_JUMP,
	NFTRACE_V_GOTO,
	NFTRACE_V_QUEUE,
	NFTRACE_V_STOLEN,
	NFTRACE_V_OTHER,
};

struct nftrace_event {
	uint32_t id;		     /* same for every event of one packet (per hook pass) */
	uint32_t type;		     /* NFT_TRACETYPE_RULE, _RETURN or _POLICY */
	uint32_t family;	     /* table family: NFPROTO_INET, _IPV4, ... */
	uint32_t nfproto;	     /* protocol of the packet: NFPROTO_IPV4 or _IPV6 */
	char table[NFT_NAME_MAXLEN]; /* nft names take up to 255 bytes */
	char chain[NFT_NAME_MAXLEN];
	bool has_rule;
	uint64_t rule_handle;
	enum nftrace_verdict verdict;
	char jump_target[NFT_NAME_MAXLEN];
	uint32_t policy; /* NF_ACCEPT / NF_DROP for POLICY events */
	uint32_t iif, oif, mark;
	uint8_t nh[NFTRACE_HDR_MAX]; /* network header as the kernel saw it */
	size_t nh_len;
	uint8_t th[NFTRACE_HDR_MAX]; /* transport header */
	size_t th_len;
	bool has_ct_state;
	uint32_t ct_state; /* NF_CT_STATE_BIT() bits (the kernel's encoding) */
};

/**
 * nftrace_parse() - One NFT_MSG_TRACE message into an event
 * @nlh:  the message, nlmsg_len bytes readable
 * @ret:  on success, the event; untouched on failure
 * Pure (tested on recorded messages and fuzzed).
 * Return: 0, -ENOENT if it is not a trace message, -EPROTO if malformed
 */
int nftrace_parse(const struct nlmsghdr *nlh, struct nftrace_event *ret, nslab_error *err);

/* Name of a verdict for reports ("accept", "drop", "jump", ...). */
const char *nftrace_verdict_name(enum nftrace_verdict v);

/**
 * nftrace_open() - A trace listener in the calling thread's netns (run via netns_call())
 * @ret:  on success, a socket subscribed to NFNLGRP_NFTRACE (nftrace_read() never blocks)
 * Return: 0, or -errno
 */
int nftrace_open(struct nlsock **ret, nslab_error *err);

typedef void (*nftrace_cb)(const struct nftrace_event *ev, void *data);
/**
 * nftrace_read() - Read what is queued on a trace socket, calling cb per event
 * Messages that are not traces or fail to parse are skipped; cb NULL drops them all.
 * Return: number of events, or -errno (-ENOBUFS: the kernel dropped events)
 */
int nftrace_read(struct nlsock *nl, nftrace_cb cb, void *data, nslab_error *err);
