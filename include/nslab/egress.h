/* SPDX-License-Identifier: MIT */
/*
 * nslab/egress.h - filtered egress for a sandbox (`nslab run --allow`)
 *
 * A policy says which destinations a jailed command may reach: names
 * (example.com), wildcards (*.example.com: the names below, not the name
 * itself), addresses and prefixes (93.184.216.34, 10.0.0.0/8,
 * [2001:db8::1]), each optionally with :PORT or :PORT/PROTO. A session
 * enforces it: a jail network namespace whose only route leads to a gateway
 * namespace owned by the caller, with an nftables ruleset built from the
 * policy, a DNS gate answering the jail (names the policy does not allow are
 * refused and never forwarded; the addresses of allowed answers are allowed
 * for their TTL plus a grace), and pasta as the way out. Nothing is added
 * to the caller's ruleset, routes or sysctls (--egress veth aside: a veth and
 * an owner-flagged table there, gone with the caller).
 *
 *	nslab_egress *e;
 *	nslab_egress_session *s;
 *	nslab_egress_new(&e, &err);
 *	nslab_egress_allow(e, "example.com,*.example.org:443/tcp", &err);
 *	nslab_egress_start(e, &s, &err);
 *	nslab_sandbox_config_set_netns(c, -1, nslab_egress_session_netns_fd(s), &err);
 *	nslab_sandbox_run(c, argv, &res, &err);
 *	nslab_egress_session_free(s);
 *
 * Lifetime: pasta dies with the thread that started the session
 * (PR_SET_PDEATHSIG), the DNS gate is a thread of the caller, the namespaces
 * are held by fds: a SIGKILL of the caller leaves nothing behind and the
 * jail without a network (fail closed).
 */
#ifndef NSLAB_EGRESS_H
#define NSLAB_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nslab/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nslab_egress nslab_egress;
typedef struct nslab_egress_session nslab_egress_session;

/* What a packet the policy does not allow gets. */
enum nslab_egress_deny {
	NSLAB_EGRESS_DENY_DROP = 0,   /* silence (default) */
	NSLAB_EGRESS_DENY_REJECT = 1, /* TCP reset, ICMP administratively prohibited */
};

/* What a DNS query for a name the policy does not allow gets. */
enum nslab_egress_dns_deny {
	NSLAB_EGRESS_DNS_REFUSED = 0, /* default */
	NSLAB_EGRESS_DNS_NXDOMAIN = 1,
};

enum nslab_egress_uplink {
	NSLAB_EGRESS_UPLINK_PASTA = 0, /* pasta: needs /dev/net/tun */
	NSLAB_EGRESS_UPLINK_VETH =
		1, /* root, a host that forwards IPv4: a veth and an owned nft table */
	/* a socket relay of nslab's (TCP and UDP over IPv4; no TUN device, works rootless) */
	NSLAB_EGRESS_UPLINK_PROXY = 2,
	NSLAB_EGRESS_UPLINK_AUTO = 3, /* default: pasta where /dev/net/tun opens, else the relay */
};

NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_new(nslab_egress **ret, nslab_error *err);
NSLAB_EXPORT nslab_egress *nslab_egress_free(nslab_egress *e);
/* Add a comma-separated list. Errors: "'LIST', column N: 'ENTRY': reason"; e unchanged. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_allow(nslab_egress *e, const char *list,
						    nslab_error *err);
/* Add a file's entries (one or more a line, '#' comments). Errors at "FILE:LINE:COL: ..."; e unchanged. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_allow_file(nslab_egress *e, const char *path,
							 nslab_error *err);
NSLAB_EXPORT void nslab_egress_set_deny(nslab_egress *e, enum nslab_egress_deny deny);
NSLAB_EXPORT void nslab_egress_set_dns_deny(nslab_egress *e, enum nslab_egress_dns_deny deny);
/* The resolver allowed queries go to (an IP address; default: /etc/resolv.conf's first). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_set_dns_upstream(nslab_egress *e, const char *ip,
							       nslab_error *err);
/* Seconds an answer's addresses stay allowed past its TTL (default 60). */
NSLAB_EXPORT void nslab_egress_set_ttl_grace(nslab_egress *e, unsigned seconds);
/* IPv6 in the jail (default off: no IPv6 address or route at all). */
NSLAB_EXPORT void nslab_egress_set_ipv6(nslab_egress *e, bool on);
/* Analyse mode: every name and destination allowed, every DNS query reported (the allow-list unused). */
NSLAB_EXPORT void nslab_egress_set_analyse(nslab_egress *e, bool on);
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_egress_set_uplink(nslab_egress *e, enum nslab_egress_uplink uplink, nslab_error *err);

/*
 * One DNS query the gate answered, or (--interactive) one new connection
 * decided by asking.
 */
struct nslab_egress_event {
	const char *name;    /* the query's name (or the CNAME target that was refused); a
				connection's destination address */
	const char *type;    /* "A", "AAAA", ...; a connection's "TCP", "UDP", "ICMP", "IP" */
	const char *verdict; /* "ALLOWED", "BLOCKED", "BLOCKED (CNAME target)", "SERVFAIL (...)",
				"ALLOWED (asked)", "ALLOWED (always)", "BLOCKED (asked)",
				"BLOCKED (timeout)", "ALLOWED (remembered)", "BLOCKED (remembered)" */
	size_t n_addr;	     /* addresses added to the gateway's sets */
	bool connection;     /* a connection (name is an address), not a DNS query */
	unsigned port;	     /* a connection's destination port, 0 without */
	const char *addr;    /* a query's first address allowed, as text; NULL if none */
	/* a new flow the policy denied (name: its address, type: its protocol, port), not a decision */
	bool blocked_flow;
	/*
	 * A query's answer: the addresses allowed (the first 16 of n_addr), as
	 * text, and each one's record TTL in seconds (the grace not counted);
	 * n_answers 0 (and NULL) otherwise
	 */
	const char *const *answers;
	const uint32_t *ttls;
	size_t n_answers;
	/* a blocked flow's source (the jail's address) and source port (0 without); else NULL, 0 */
	const char *src;
	unsigned sport;
};
typedef void (*nslab_egress_event_func)(const struct nslab_egress_event *ev, void *data);
/*
 * Called from the DNS gate's thread once per query (and the flow reader's,
 * --interactive), and once per new flow the policy denied (blocked_flow).
 */
NSLAB_EXPORT void nslab_egress_set_event_func(nslab_egress *e, nslab_egress_event_func fn,
					      void *data);

/*
 * nslab_egress_set_host_ports() - Expose ports of the caller's loopback to the jail (a bypass)
 * @ports:  "PORT" or "FIRST-LAST", comma-separated (53 refused: the DNS gate's)
 * The jail reaches them, TCP and UDP, at the gateway's address
 * (169.254.53.1:PORT); pasta or the relay carries them to 127.0.0.1:PORT
 * outside. What listens there is outside the policy: a proxy on such a port
 * reaches anything. Not with the veth uplink. Return: 0, or -EINVAL (e unchanged)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_set_host_ports(nslab_egress *e, const char *ports,
							     nslab_error *err);

/* --interactive: what the asker answers about a destination no rule allows. */
enum nslab_egress_answer {
	NSLAB_EGRESS_ANSWER_DENY = 0,	/* not this destination, for the session */
	NSLAB_EGRESS_ANSWER_ALLOW = 1,	/* this name; a connection: this address, protocol, port */
	NSLAB_EGRESS_ANSWER_ALWAYS = 2, /* the name and every name below it; an address: any port */
	NSLAB_EGRESS_ANSWER_TIMEOUT = 3, /* no answer in time: a deny, for the session too */
};
/* A destination no rule allows: a name asked of the gate, or a new connection. */
struct nslab_egress_question {
	const char *name; /* a DNS name (canonical); NULL for a connection */
	const char
		*type; /* a name's record type ("A"); a connection's "TCP", "UDP", "ICMP", "IP" */
	const char *addr; /* a connection's destination address; NULL for a name */
	unsigned port;	  /* a connection's destination port, 0 without */
};
typedef enum nslab_egress_answer (*nslab_egress_ask_func)(const struct nslab_egress_question *q,
							  void *data);
/*
 * nslab_egress_set_ask_func() - Interactive mode: ask fn about every new destination no rule allows
 * The allow-list still applies; what it does not allow is held until fn
 * answers: a DNS query waits in the gate, a new flow is dropped (and asked
 * about) until approved, so the client's retransmission passes. fn is called
 * on the session's threads, one question at a time, and may block (ask a
 * person); answers are remembered for the session, so it is asked once per
 * destination. NULL: no asking (what no rule allows is denied).
 */
NSLAB_EXPORT void nslab_egress_set_ask_func(nslab_egress *e, nslab_egress_ask_func fn, void *data);
/*
 * nslab_egress_set_capture() - Write the jail's packets as pcapng to fd (dup'ed; -1: none)
 * One interface (the jail's link, raw IP), every packet the jail sent or
 * received, each one the policy blocked with a comment saying so.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_set_capture(nslab_egress *e, int fd,
							  nslab_error *err);

/**
 * nslab_egress_describe() - The policy e would enforce, in words, without starting anything
 * @ret:  on success, the text (malloc'd; free it): the mode, the allow list as
 *        parsed, the deny action, IPv6, the uplink a start would get, the host
 *        ports, the DNS gate's settings and the gateway's nftables ruleset
 * What `nslab run --dry-run` prints for a filtered run. Opens /dev/net/tun
 * (to know the uplink) and reads /etc/resolv.conf (the default upstream).
 * Return: 0, or -errno (the error a start would meet: no upstream, pasta
 * asked for and no TUN device)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_describe(const nslab_egress *e, char **ret,
						       nslab_error *err);
/**
 * nslab_egress_policy_json() - The policy e would enforce, as one JSON object
 * @ret:  on success, the text (malloc'd; free it): {"mode", "allow": [{"kind":
 *        "name"|"wildcard"|"address", "host", "port" (null: any), "proto":
 *        "tcp"|"udp"|"tcp+udp"|"any", "in_effect"}], "deny": "drop"|"reject",
 *        "dns_deny": "refused"|"nxdomain", "dns_upstream", "ttl_grace",
 *        "ipv6", "host_ports" (null: none)}: the allow list as parsed
 * The session record of `nslab run --log` (docs/egress.md). Reads
 * /etc/resolv.conf for the default upstream.
 * Return: 0, or -errno (no upstream, -ENOMEM)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_policy_json(const nslab_egress *e, char **ret,
							  nslab_error *err);
/**
 * nslab_egress_start() - Build the jail and its gateway for e, uplink and DNS gate running
 * e must outlive the session. Needs root, or without root nslab_bootstrap()
 * first thing in main() (a user namespace of the process's own owns the
 * gateway; docs/egress.md "Rootless"); the uplink then is pasta where
 * /dev/net/tun opens, else the socket relay.
 * Return: 0, or -errno with nothing left behind
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_start(const nslab_egress *e,
						    nslab_egress_session **ret, nslab_error *err);
/*
 * What a connection record is: live (nslab_egress_set_connection_func()), NEW
 * when the gateway starts tracking it and END when it forgets it (final
 * counters); TRACKED from nslab_egress_session_connections().
 */
enum nslab_egress_conn_event {
	NSLAB_EGRESS_CONN_TRACKED = 0,
	NSLAB_EGRESS_CONN_NEW = 1,
	NSLAB_EGRESS_CONN_END = 2,
};
/* One connection the jail started, as the gateway tracks it (conntrack, before NAT). */
struct nslab_egress_connection {
	int family;	       /* AF_INET or AF_INET6 */
	int proto;	       /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, ... */
	const char *src, *dst; /* addresses as text */
	unsigned sport, dport; /* 0 without ports */
	bool has_counters;     /* the counters below are known */
	uint64_t packets_out, bytes_out, packets_in, bytes_in;
	enum nslab_egress_conn_event event;
	/* the name the destination was resolved from (the DNS gate's latest answer holding it), or NULL */
	const char *name;
};
typedef void (*nslab_egress_connection_func)(const struct nslab_egress_connection *c, void *data);
/*
 * nslab_egress_set_connection_func() - The jail's connections as they happen
 * fn is called on a thread of the session (the gateway's conntrack events)
 * with event NEW when a connection of the jail starts and END when the
 * gateway forgets it (TCP: ~2 min after its close; UDP: 30 s of silence),
 * IPv4 and IPv6. DNS to the gate is left out. NULL: none (the default).
 */
NSLAB_EXPORT void nslab_egress_set_connection_func(nslab_egress *e, nslab_egress_connection_func fn,
						   void *data);
/*
 * nslab_egress_session_connections() - The jail's connections the gateway still tracks
 * (finished TCP flows stay about two minutes, UDP ones 30 s): call it when the
 * command ended, before nslab_egress_session_free(). DNS to the gate is left out.
 * Return: 0, or -errno
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_egress_session_connections(nslab_egress_session *s,
								  nslab_egress_connection_func fn,
								  void *data, nslab_error *err);

/* Packets the capture could not keep (the kernel's queue to nslab overflowed). */
NSLAB_EXPORT uint64_t nslab_egress_session_capture_lost(const nslab_egress_session *s);
/* The jail's network namespace (borrowed): give it to nslab_sandbox_config_set_netns(). */
NSLAB_EXPORT int nslab_egress_session_netns_fd(const nslab_egress_session *s);
/*
 * The DNS gate's address as the jail sees it (borrowed, static): the jail's
 * resolver, for the /etc/resolv.conf bound into a sandbox that joins the jail
 * (`nslab run --allow` and the Python binding write "nameserver ADDR").
 */
NSLAB_EXPORT const char *nslab_egress_session_dns(const nslab_egress_session *s);
/* Stop the gate, kill pasta, drop the namespaces. Return: NULL */
NSLAB_EXPORT nslab_egress_session *nslab_egress_session_free(nslab_egress_session *s);

#ifdef __cplusplus
}
#endif
#endif
