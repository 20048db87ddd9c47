/* SPDX-License-Identifier: MIT */
/* jail/egress-gw: the gateway namespace, its ruleset and its uplink (see egress-gw.c's DOC). */
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include "jail/egress.h"
#include "ns/netns.h"

struct nftbl_ctx;
struct egress_relay;

struct egress_gw {
	struct netns *gw, *jail;
	struct nftbl_ctx *nft;	  /* its socket lives in the gateway */
	pthread_mutex_t nft_lock; /* nft is used by the DNS gate's and the flow reader's threads */
	pid_t pasta_pid;	  /* -1: none (or reaped) */
	int pasta_pidfd;
	struct nftbl_ctx *host_nft;	/* --egress veth: owns the host's table (flags owner) */
	struct nlsock *ct;		/* NETLINK_NETFILTER in the gateway: its connections */
	struct netns *relay;		/* --egress proxy: the namespace behind the gateway */
	struct egress_relay *relay_run; /* --egress proxy: its listeners and threads */
	enum egress_uplink uplink;	/* what the policy's uplink became (never AUTO) */
};

/**
 * egress_gw_start() - Build the jail and gateway namespaces for policy p, with the uplink up
 * Pasta dies with the calling thread (PR_SET_PDEATHSIG): call it from the
 * thread that lives as long as the session (the CLI's main thread).
 * Return: 0, or -errno with nothing left behind
 */
int egress_gw_start(const struct egress_policy *p, struct egress_gw **ret, nslab_error *err);
/*
 * The uplink egress_gw_start() would give p: AUTO becomes pasta where
 * /dev/net/tun opens, else the relay. Opens the device and nothing else.
 * Return: 0, or -EPERM (pasta asked for by name and the device closed)
 */
int egress_gw_choose_uplink(const struct egress_policy *p, enum egress_uplink *ret,
			    nslab_error *err);

/*
 * egress-pasta.c, for egress_gw_start(): pasta started on g's gateway
 * (g->pasta_pid, g->pasta_pidfd set; reaped by egress_gw_free()), and the
 * wait until it is ready for p. Return: 0, or -errno
 */
int egress_pasta_start(struct egress_gw *g, const struct egress_policy *p, nslab_error *err);
int egress_pasta_wait_ready(struct egress_gw *g, const struct egress_policy *p, nslab_error *err);
/* The jail's network namespace (borrowed; join it with nslab_sandbox_config_set_netns()). */
int egress_gw_jail_fd(const struct egress_gw *g);
/* Run nft commands (egress_elements()' output) in the gateway, from any thread. */
int egress_gw_nft(struct egress_gw *g, const char *cmds, nslab_error *err);
/* One connection of the jail, as the gateway's conntrack saw it. */
struct egress_conn {
	int family, proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	bool has_counters;
	uint64_t out_packets, out_bytes, in_packets, in_bytes;
};
typedef void (*egress_conn_fn)(const struct egress_conn *c, void *data);
/* Every connection the jail started that the gateway still tracks (DNS to the gate left out). */
int egress_gw_connections(struct egress_gw *g, egress_conn_fn fn, void *data, nslab_error *err);

/* Kill and reap pasta, close the namespaces. Return: NULL */
struct egress_gw *egress_gw_free(struct egress_gw *g);
DEFINE_CLEANUP_FUNC(struct egress_gw, egress_gw_free)
