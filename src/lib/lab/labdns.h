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

#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

struct nslab_lab;

#define LABDNS_TTL	   1  /* s: a name can change any moment (nslab dns LAB set) */
#define LABDNS_ANSWERS_MAX 32 /* queries answered per wakeup; the rest wait for the next */

/**
 * labdns_open() - The lab DNS's two UDP sockets in the lab root
 * @lab:  a built lab
 * @fds:  on success, [0] on the IX's IPv4 address, [1] on its IPv6 address
 *        (CLOEXEC, non-blocking; the caller owns them)
 * Loads ldns first: a host without it gets the error, not a silent DNS.
 * Return: 0, or -errno
 */
int labdns_open(struct nslab_lab *lab, int fds[2], nslab_error *err);

/**
 * labdns_reply() - The answer to one query message (pure but for ldns)
 * @lab:  lab with a plan
 * @q:    the query as received
 * @ret:  on 1, malloc'd answer (the caller frees)
 * A query with one question of class IN gets its A/AAAA answers (ANY: both),
 * NOERROR without answers for a name the lab has without that type, or
 * NXDOMAIN; other opcodes NOTIMP, a message that is not one query FORMERR.
 * Return: 1 with an answer, 0 when nothing should be sent (not a DNS query)
 */
int labdns_reply(const struct nslab_lab *lab, const uint8_t *q, size_t len, uint8_t **ret,
		 size_t *ret_len);

/* Answer up to LABDNS_ANSWERS_MAX queries queued on fd. Return: 0, or -errno. */
int labdns_answer(const struct nslab_lab *lab, int fd, nslab_error *err);
