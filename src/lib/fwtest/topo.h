/* SPDX-License-Identifier: MIT */
/*
 * fwtest/topo: the namespaces a firewall test runs in.
 *
 * direct:  client eth0 10.0.0.1/24 fd00::1/64 <-> target eth0 10.0.0.2/24 fd00::2/64
 * gateway: client eth0 10.0.1.1 fd00:1::1 <-> router eth0 10.0.1.2 fd00:1::2 |
 *          router eth1 10.0.2.1 fd00:2::1 <-> server eth0 10.0.2.2 fd00:2::2
 * (NSE's addresses, so its suites run unchanged.) Or any lab file, with the
 * rules in one of its nodes. Namespaces are held by fd; freeing the topology
 * drops them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>

#include "core/addr.h"
#include "fwtest/suite.h"
#include "ns/netns.h"
#include "nslab/lab.h"

#define FW_LAB_NODE_MAX 256 /* a lab for firewall tests: each node gets its sockets */
#define FW_IFACE_MAX	8

struct fw_iface {
	char name[IFNAMSIZ];
	int ifindex;
	struct nslab_prefix v4, v6; /* with their subnet length */
};

struct fw_node {
	char name[64];
	struct netns *ns; /* owned */
	struct fw_iface ifaces[FW_IFACE_MAX];
	size_t n_ifaces;
};

struct fw_topo {
	enum fw_topology kind;
	struct fw_node *nodes;
	size_t n;
	struct nslab_lab *lab; /* the lab its namespaces are (owned) */
	size_t rules_node;     /* where rules load (target, router) */
	size_t client_node;    /* default sender */
	size_t server_node;    /* default receiver */
};

/**
 * fw_topo_new() - Build a direct or gateway topology
 * @kind:  FW_TOPO_DIRECT or FW_TOPO_GATEWAY
 * @link:  the condition of the client's link (client eth0 and the node
 *         across: up is what the client sends), by the wire backend; NULL: none
 * @server_link: gateway only: the condition of the server's link (server
 *         eth0 and the router's eth1: up is what the server sends); NULL: none
 * @ret:   on success, the topology (free with fw_topo_free())
 * A point-to-point lab spec built by the lab builder (see topo.c), its
 * conditions set by the lab's link code. Needs CAP_SYS_ADMIN and
 * CAP_NET_ADMIN in the current user namespace (root, or after
 * nslab_bootstrap()). The caller's thread never changes namespace. On
 * failure nothing is left behind.
 * Return: 0, or -errno
 */
int fw_topo_new(enum fw_topology kind, const nslab_link_condition *link,
		const nslab_link_condition *server_link, struct fw_topo **ret, nslab_error *err);
/**
 * fw_topo_new_lab() - Build a lab file's lab for firewall tests
 * @path:      lab file
 * @rules_in:  node whose namespace loads the rules (the default receiver too)
 * @ret:       on success, the topology; the default sender is the first device
 *             that is not @rules_in
 * Return: 0, or -errno (the lab file's "FILE:LINE:COL: ..." among them)
 */
int fw_topo_new_lab(const char *path, const char *rules_in, struct fw_topo **ret, nslab_error *err);
struct fw_topo *fw_topo_free(struct fw_topo *t);
DEFINE_CLEANUP_FUNC(struct fw_topo, fw_topo_free)

/**
 * fw_topo_builtin_node() - Node i of the direct or gateway topology, without building it
 * @ret_n_ifaces:  its number of interfaces (named eth0, eth1, ...)
 * The names the parser checks a suite against, in the order fw_topo_new() gives the nodes.
 * Return: the node's name, or NULL past the last node (or for another kind)
 */
const char *fw_topo_builtin_node(enum fw_topology kind, size_t i, size_t *ret_n_ifaces);

/* The node called name, or NULL. */
struct fw_node *fw_topo_node(struct fw_topo *t, const char *name);
/* The node's first address of family (AF_INET or AF_INET6), host length; NULL if none. */
const struct nslab_prefix *fw_node_addr(const struct fw_node *n, int family);
/* The node owning address a (host part compared), or NULL. */
struct fw_node *fw_topo_node_by_addr(struct fw_topo *t, const uint8_t *a, int family);
