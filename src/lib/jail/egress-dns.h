/* SPDX-License-Identifier: MIT */
/* jail/egress-dns: the DNS gate (see egress-dns.c's DOC). */
#pragma once

#include <stddef.h>

#include "jail/egress-gw.h"
#include "jail/egress.h"

struct egress_dns;

/* One query's outcome: name, record type ("A"), verdict text, addresses allowed. Called on the gate's thread. */
typedef void (*egress_dns_log_fn)(void *data, const char *name, const char *type,
				  const char *verdict, size_t n_addr);

/**
 * egress_dns_start() - Listen at the gateway's address and answer the jail on a thread
 * @p, @gw:  borrowed, must outlive the gate
 * @log:     called per query, or NULL
 * Return: 0, or -errno (the upstream unknown, a socket, the thread)
 */
int egress_dns_start(const struct egress_policy *p, struct egress_gw *gw, egress_dns_log_fn log,
		     void *log_data, struct egress_dns **ret, nslab_error *err);
/* Stop and join the thread, close the sockets. Return: NULL */
struct egress_dns *egress_dns_free(struct egress_dns *d);
DEFINE_CLEANUP_FUNC(struct egress_dns, egress_dns_free)
