/* SPDX-License-Identifier: MIT */
/*
 * lab/labdns: the lab's DNS server. The supervisor answers on UDP port 53 of
 * the IX bridge's addresses in the lab root (the nameservers of the lab's
 * /etc/resolv.conf): <node>.<lab>.test and the dns: names as /etc/hosts has
 * them, NXDOMAIN at once for any other name. Messages are parsed and built
 * with ldns (dns/ldns-dl.h). One recvfrom/sendto per query in the
 * supervisor's loop: no thread, no fork, no state between queries.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

struct nslab_lab;
struct sockaddr_storage;

#define LABDNS_TTL	   1   /* s: a name can change any moment (nslab dns LAB set) */
#define LABDNS_ANSWERS_MAX 32  /* datagrams handled per wakeup; the rest wait for the next */
#define LABDNS_PENDING	   256 /* queries forwarded to dns_upstream and not answered yet, at most */

/*
 * The server: its sockets in the lab root, and the queries forwarded to
 * `dns_upstream:` (a fixed ring: the oldest is forgotten when it is full,
 * so an upstream that never answers costs nothing).
 */
struct labdns;

/**
 * labdns_open() - The lab DNS's sockets in the lab root
 * @lab:  a built lab (borrowed: it outlives the server)
 * @ret:  on success, the server (labdns_free())
 * Two sockets on UDP port 53 of the IX's addresses, and two unbound ones the
 * forwarded queries leave from. Loads ldns first: a host without it gets the
 * error, not a silent DNS.
 * Return: 0, or -errno
 */
int labdns_open(struct nslab_lab *lab, struct labdns **ret, nslab_error *err);
struct labdns *labdns_free(struct labdns *d);
/* The fds to watch for reading (4), each handed to labdns_on_readable(). */
const int *labdns_fds(const struct labdns *d);

/**
 * labdns_reply() - The answer to one query message (pure but for ldns)
 * @lab:  lab with a plan
 * @q:    the query as received
 * @ret:  on 1, malloc'd answer (the caller frees)
 * A query with one question of class IN gets its A/AAAA answers (ANY: both),
 * NOERROR without answers for a name the lab has without that type, or
 * NXDOMAIN; other opcodes NOTIMP, a message that is not one query FORMERR.
 * @dns64: synthesise (RFC 6147): a name with an A record and no AAAA gets
 *        AAAA 64:ff9b::a.b.c.d for an AAAA question
 * Return: 1 with an answer, 2 for a name the lab does not have when it has a
 * dns_upstream (forward it; nothing in *ret), 0 when nothing should be sent
 * (not a DNS query)
 */
int labdns_reply(const struct nslab_lab *lab, const uint8_t *q, size_t len, bool dns64,
		 uint8_t **ret, size_t *ret_len);
/*
 * Whether a query from @from gets DNS64 answers: the lab says `dns64: true`,
 * or the address is behind a router with `nat6: nat64` (at any depth).
 */
bool labdns_wants_dns64(const struct nslab_lab *lab, const struct sockaddr_storage *from);

/* fd (one of labdns_fds()) is readable: answer, forward, or pass answers back. Return: 0, or -errno. */
int labdns_on_readable(struct labdns *d, int fd, nslab_error *err);
