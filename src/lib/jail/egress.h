/* SPDX-License-Identifier: MIT */
/*
 * jail/egress: the network policy of `nslab run --allow`: the allow-list
 * (egress-policy.c, pure), the gateway's nftables ruleset (egress-rules.c,
 * pure), the gateway namespace and its uplink (egress-gw.c) and the DNS gate
 * (egress-dns.c).
 *
 * DOC: the shape of a filtered sandbox
 *   jail netns  --veth--  gateway netns  --pasta tap (or veth)--  outside
 * The jail's only route is to the gateway; the gateway forwards what the
 * policy allows (nftables, sets of addresses with timeouts filled by the DNS
 * gate) and masquerades it to its uplink. Both namespaces are held by fds of
 * the owner, pasta dies with the owner (PR_SET_PDEATHSIG), the DNS gate is a
 * thread of the owner: when the owner dies, the gateway dies and the jail
 * has no route left (fail closed).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "nslab/error.h"

/* What an allow-list entry names. */
enum egress_kind {
	EGRESS_NAME = 1,     /* example.com: that name only */
	EGRESS_WILDCARD = 2, /* *.example.com: any name below example.com (not itself) */
	EGRESS_PREFIX = 3,   /* 93.184.216.34, 10.0.0.0/8, [2001:db8::1], [2001:db8::/32] */
};

#define EGRESS_NAME_MAX 253 /* a DNS name in text, without the trailing dot */

struct egress_rule {
	enum egress_kind kind;
	char name[EGRESS_NAME_MAX +
		  1];		    /* NAME, WILDCARD (without "*."): lower case, no final dot */
	struct nslab_prefix prefix; /* PREFIX: a network (host bits zero) */
	uint16_t port;		    /* 0: any */
	uint8_t proto; /* 0: tcp and udp (any protocol when port is 0), else IPPROTO_* */
};

struct egress_list {
	struct egress_rule *v;
	size_t n;
};

/**
 * egress_rule_parse() - One entry: HOST[:PORT[/PROTO]]
 * @s:        the entry (not NUL-terminated: @len bytes)
 * @len:      its length
 * @ret:      on success, the rule; untouched on failure
 * @ret_col:  on failure, the 1-based column within @s of the offending part; may be NULL
 * @err:      on failure, "'ENTRY': reason"
 * HOST is a name, "*." and a name, an IPv4 address or prefix, or an IPv6
 * address or prefix in brackets (bare without a port). PROTO is tcp or udp.
 * Return: 0, or -EINVAL
 */
int egress_rule_parse(const char *s, size_t len, struct egress_rule *ret, size_t *ret_col,
		      nslab_error *err);

/**
 * egress_list_parse() - Append a comma-separated list (--allow LIST)
 * @l:     the list; unchanged on failure
 * @text:  the list; blanks around entries are ignored, empty entries refused
 * @err:   on failure, "'LIST', column N: 'ENTRY': reason" (N: where the entry, or its bad port or protocol, starts)
 * Return: 0, -EINVAL or -ENOMEM
 */
int egress_list_parse(struct egress_list *l, const char *text, nslab_error *err);

/**
 * egress_text_parse() - Append the entries of an allow file's text
 * @l:      the list; unchanged on failure
 * @text:   one entry per line (several, comma-separated, allowed); '#' starts a comment
 * @len:    length of @text (it may hold NUL bytes: refused)
 * @fname:  the file's name for messages
 * @err:    on failure, "FNAME:LINE:COL: 'ENTRY': reason"
 * Return: 0, -EINVAL or -ENOMEM
 */
int egress_text_parse(struct egress_list *l, const char *text, size_t len, const char *fname,
		      nslab_error *err);

/* Read and parse an allow file (--allow-file FILE). Errors as egress_text_parse(), or "FILE: errno text". */
int egress_file_parse(struct egress_list *l, const char *path, nslab_error *err);

void egress_list_clear(struct egress_list *l);

/**
 * egress_name_match() - Whether rule r allows the DNS name
 * @name:  lower or mixed case, with or without the final dot
 * Return: true for a NAME rule equal to it or a WILDCARD rule it is below
 */
bool egress_name_match(const struct egress_rule *r, const char *name);

/**
 * egress_name_doh() - Whether a name is a known DNS-over-HTTPS endpoint
 * (dns.google, cloudflare-dns.com, ...: a resolver that would carry DNS
 * past the gate inside HTTPS). The gate refuses such a name unless a NAME
 * rule names it exactly (a wildcard is not enough).
 * @name:  canonical (egress_name_canon())
 */
bool egress_name_doh(const char *name);

/**
 * egress_name_canon() - A DNS name as the rules store it: lower case, no final dot
 * Return: 0, or -EINVAL (empty, too long, an empty or over-long label, or a
 * character other than letters, digits, '-' and '_')
 */
int egress_name_canon(const char *name, size_t len, char *buf, size_t buflen);

/**
 * egress_resolv_file() - The jail's resolv.conf (the gate), to bind over /etc/resolv.conf
 * Made in $XDG_RUNTIME_DIR (or /tmp) as nslab-resolv-PID-XXXXXX, the name
 * `nslab cleanup` knows; the caller removes it once the sandbox started.
 * Return: 0 and @path, or -errno
 */
int egress_resolv_file(char *path, size_t len, nslab_error *err);

/* --- the policy and the gateway's ruleset (egress-rules.c, pure) ------------ */

/* The link between the jail and the gateway: link-local, never a destination. */
#define EGRESS_GW_IF	      "nsgw0" /* the gateway's end */
#define EGRESS_JAIL_IF	      "eth0"  /* the jail's end */
#define EGRESS_GW_ADDR4	      "169.254.53.1"
#define EGRESS_JL_ADDR4	      "169.254.53.2"
#define EGRESS_GW_ADDR6	      "fd53:6e73:6c61:62::1"
#define EGRESS_JL_ADDR6	      "fd53:6e73:6c61:62::2"
#define EGRESS_TABLE	      "nslab_egress"
/* --egress proxy: the relay namespace's end of the gateway's uplink (egress-gw.c) */
#define EGRESS_RELAY_ADDR4    "169.254.54.1"
#define EGRESS_RELAY_ADDR6    "fd53:6e73:6c61:54::1" /* with --ipv6 */
/* --host-port, IPv6, through pasta: nslab's listeners in the gateway, on its lo (egress-rules.c) */
#define EGRESS_HOSTPORT6_ADDR "fd53:6e73:6c61:55::1"
#define EGRESS_SET4	      "allow4"
#define EGRESS_SET6	      "allow6"
#define EGRESS_DENIED4	      "denied4_svc" /* --interactive: flows answered no */
#define EGRESS_DENIED6	      "denied6_svc"

enum egress_uplink {
	EGRESS_UPLINK_PASTA = 0,
	EGRESS_UPLINK_VETH = 1,
	EGRESS_UPLINK_PROXY = 2, /* the socket relay (egress-relay.c): no TUN device needed */
	EGRESS_UPLINK_AUTO = 3,	 /* pasta where /dev/net/tun opens, else the relay */
};

struct egress_policy {
	struct egress_list allow;
	bool deny_reject;	      /* --deny reject (else drop) */
	bool dns_nxdomain;	      /* --dns-deny nxdomain (else REFUSED) */
	struct nslab_prefix upstream; /* --dns-upstream; family 0: the first of /etc/resolv.conf */
	uint32_t ttl_grace;	      /* seconds added to every answer's TTL */
	bool ipv6;
	bool analyse; /* --analyse: every name and destination allowed, every query logged */
	enum egress_uplink uplink;
	bool interactive; /* new flows no rule allows are held (dropped, nflog group 1) and asked */
	bool capture;	  /* every packet of the jail to nflog group 2 ("blocked": denied) */
	bool report_blocked;  /* new flows denied to nflog group 3 (a live line each) */
	char host_ports[128]; /* --host-port: "9000,9100-9110" (pasta's -T/-U spec), "" none */
};

/**
 * egress_host_ports_parse() - --host-port's PORTS: PORT or FIRST-LAST, comma-separated
 * @ret:  on success, the list as pasta and nft take it (@len bytes); untouched on failure
 * @err:  on failure, "'ITEM' is not a port (1..65535) or a range FIRST-LAST" and the like
 * Port 53 is refused: it is the DNS gate's.
 * Return: 0, or -EINVAL
 */
int egress_host_ports_parse(const char *text, char *ret, size_t len, nslab_error *err);

/* Whether port is in a list egress_host_ports_parse() made ("" : none). */
bool egress_host_ports_has(const char *ports, unsigned port);

/* Whether fn(port, data) holds for every port of such a list (true for ""). */
bool egress_host_ports_every(const char *ports, bool (*fn)(unsigned port, void *data), void *data);

/**
 * egress_ruleset() - The gateway's nftables ruleset for p (table inet nslab_egress)
 * @ret:  on success, the text (malloc'd; caller frees)
 * Return: 0, or -ENOMEM
 */
int egress_ruleset(const struct egress_policy *p, char **ret, nslab_error *err);

/**
 * egress_elements() - nft commands allowing addr, as rule r allows it, for ttl seconds
 * Written to f: the address alone (a rule without a port) or the address,
 * protocol and port (tcp and udp when the rule names no protocol).
 * Return: 0
 */
int egress_elements(const struct egress_rule *r, const struct nslab_prefix *addr, uint64_t ttl,
		    FILE *f);
