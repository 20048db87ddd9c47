/* SPDX-License-Identifier: MIT */
/* jail/egress-dns: the DNS gate (see egress-dns.c's DOC). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "jail/egress-gw.h"
#include "jail/egress.h"

struct egress_dns;

/* The gate's upstream: --dns-upstream, else the first nameserver of /etc/resolv.conf. Return: 0 or -errno */
int egress_dns_upstream(const struct egress_policy *p, struct nslab_prefix *ret, nslab_error *err);

#define EGRESS_DNS_ADDRS 16

/* What the gate makes of an upstream's answer (egress_dns_judge_answer()). */
struct egress_dns_judgement {
	char final[EGRESS_NAME_MAX + 1]; /* the last name of the CNAME chain */
	size_t n_addr;			 /* addresses of the chain */
	char *cmds;			 /* nft commands allowing them (malloc'd), or NULL */
	/* the first EGRESS_DNS_ADDRS of them (for the log: the name each was resolved from) */
	struct nslab_prefix addrs[EGRESS_DNS_ADDRS];
	uint32_t ttls[EGRESS_DNS_ADDRS]; /* each one's record TTL (s), the grace not counted */
};

/**
 * egress_dns_judge_query() - A client's query: forward it or answer it here (pure)
 * @qname:      the question's name, canonical ("?" when there is none)
 * @ret_rcode:  when answered here: FORMERR, NOTIMPL, REFUSED or NXDOMAIN
 * Return: 1 forward, 0 answer with *ret_rcode, -EPROTO not DNS at all (dropped),
 * -ENOSYS ldns cannot be loaded
 */
int egress_dns_judge_query(const struct egress_policy *p, const uint8_t *q, size_t len,
			   char qname[EGRESS_NAME_MAX + 1], uint8_t *ret_rcode);
/**
 * egress_dns_judge_answer() - An upstream's answer to qname (pure)
 * Follows the CNAME chain (16 links at most); its last name must be allowed.
 * Return: 0 (ret->cmds for egress_gw_nft(), free it), -EACCES the chain ends
 * at a name not allowed (ret->final), -EPROTO not DNS, -ENOMEM, -ENOSYS no ldns
 */
int egress_dns_judge_answer(const struct egress_policy *p, const char *qname, const uint8_t *ans,
			    size_t len, struct egress_dns_judgement *ret);

/*
 * One query's outcome: name, record type ("A"), verdict text, addresses
 * allowed (n_addr; the first min(n_addr, EGRESS_DNS_ADDRS) in addrs, else
 * NULL). Called on the gate's thread.
 */
typedef void (*egress_dns_log_fn)(void *data, const char *name, const char *type,
				  const char *verdict, size_t n_addr,
				  const struct nslab_prefix *addrs, const uint32_t *ttls);

/*
 * --interactive: asked about a name no rule allows, on the gate's thread
 * (the query waits). name is canonical. Return: true to forward it (its
 * addresses allowed on any port for TTL + grace), false to refuse it; *verdict
 * (a static string) for the log: "ALLOWED (asked)", "BLOCKED (timeout)", ...
 */
typedef bool (*egress_dns_ask_fn)(void *data, const char *name, const char *type,
				  const char **verdict);

/**
 * egress_dns_start() - Listen at the gateway's address and answer the jail on a thread
 * @p, @gw:  borrowed, must outlive the gate
 * @log:     called per query, or NULL
 * @ask:     --interactive: called per name no rule allows, or NULL (refused)
 * @data:    their argument
 * Return: 0, or -errno (the upstream unknown, a socket, the thread)
 */
int egress_dns_start(const struct egress_policy *p, struct egress_gw *gw, egress_dns_log_fn log,
		     egress_dns_ask_fn ask, void *data, struct egress_dns **ret, nslab_error *err);

/* Stop and join the thread, close the sockets. Return: NULL */
struct egress_dns *egress_dns_free(struct egress_dns *d);
DEFINE_CLEANUP_FUNC(struct egress_dns, egress_dns_free)
