/* SPDX-License-Identifier: MIT */
/*
 * nl/sockdiag: which local ports have sockets, from the kernel's socket
 * table (NETLINK_SOCK_DIAG, inet_diag) of the namespace a socket was opened
 * in: a readiness check that never connects to the port it asks about.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "nl/nlsock.h"
#include "nslab/error.h"

/* One bit per port: set when a socket of the dump holds it. */
struct sockdiag_ports {
	uint64_t bits[65536 / 64];
};

static inline bool sockdiag_port_held(const struct sockdiag_ports *p, unsigned port)
{
	return port < 65536 && (p->bits[port / 64] >> (port % 64) & 1) != 0;
}

/* Whether r, from nlsock_open() or a dump, says the kernel has no inet_diag for it. */
static inline bool sockdiag_missing(int r)
{
	return r == -EPROTONOSUPPORT || r == -ENOENT || r == -EOPNOTSUPP;
}

/**
 * sockdiag_ports_dump() - The local ports of the namespace's sockets of one kind
 * @nl:      a NETLINK_SOCK_DIAG socket (nlsock_open()) of the namespace asked about
 * @family:  AF_INET or AF_INET6
 * @proto:   IPPROTO_TCP (listening sockets only) or IPPROTO_UDP (every bound one)
 * @ret:     cleared, then a bit set per port held
 * Return: 0, or -errno with @err set
 */
int sockdiag_ports_dump(struct nlsock *nl, uint8_t family, uint8_t proto,
			struct sockdiag_ports *ret, nslab_error *err);
