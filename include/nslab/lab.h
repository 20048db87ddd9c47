/* SPDX-License-Identifier: MIT */
/*
 * nslab/lab.h - labs: routers and devices in network namespaces
 *
 * A lab is described (from a YAML file or by builder calls), then built in
 * one call, then used (read addresses, spawn commands in nodes), then freed,
 * which destroys everything it made. Nothing outlives the nslab_lab object:
 * namespaces are held by file descriptors, spawned processes die with it.
 */
#ifndef NSLAB_LAB_H
#define NSLAB_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nslab/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nslab_lab nslab_lab;
typedef struct nslab_node nslab_node;
typedef struct nslab_proc nslab_proc;

enum nslab_node_kind { NSLAB_NODE_ROUTER = 1, NSLAB_NODE_DEVICE = 2 };
enum nslab_pool { NSLAB_POOL_PUBLIC = 0, NSLAB_POOL_PRIVATE = 1 };
enum nslab_ipmode { NSLAB_IP_DUAL = 0, NSLAB_IP_V4 = 1, NSLAB_IP_V6 = 2 };

/*
 * nslab_bootstrap() - Prepare the process; call first in main(), before any thread
 * Raises RLIMIT_NOFILE's soft limit to the hard limit (a lab holds a few fds a
 * node; processes spawned later get the limit as it was before). Without root,
 * enters a user namespace mapping the caller to 0 (rootless mode).
 * Return: 1 if rootless, 0 if running as root, -errno with the cause.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_bootstrap(nslab_error *err);

/* Return: 0 and a lab described by the YAML file (not built yet), or -errno ("FILE:LINE:COL: ..."). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_from_file(const char *path, nslab_lab **ret,
						     nslab_error *err);
/* Return: 0 and an empty lab to describe with the builder calls below. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_new(const char *name, nslab_lab **ret, nslab_error *err);
/* Destroy the lab: kill its processes, drop its namespaces. NULL is fine. Return: NULL. */
NSLAB_EXPORT nslab_lab *nslab_lab_free(nslab_lab *lab);

struct nslab_router_opts {
	const char *upstream; /* router name; NULL: the IX */
	enum nslab_pool pool;
	enum nslab_ipmode ip;
	unsigned mtu; /* 0: default */
};
/* Builder calls (before nslab_lab_build()). opts may be NULL for defaults. On a built
 * lab, nslab_lab_add_router() and nslab_lab_add_device() are nslab_lab_add_node() with
 * those keys (upstream, pool, ip, mtu; router). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_add_router(nslab_lab *lab, const char *name,
						      const struct nslab_router_opts *opts,
						      nslab_error *err);
/* A device with one interface "eth0" on router (or no interface if router is NULL). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_add_device(nslab_lab *lab, const char *name,
						      const char *router, nslab_error *err);
/*
 * nslab_lab_add_iface() - Another interface of a device, on router
 * Before the build, as a lab file's ifaces: entry. On a built lab, at once:
 * a veth made in one netlink batch with its other end on the router's
 * bridge, the next free addresses of the router's subnets, a default route
 * for a family the device had none of (its primary interface when it had
 * none), an "iface_added" event, state.json, /etc/hosts, the lab's DNS and
 * NSLAB_IP_* following. Under RA provisioning its IPv6 address is the one
 * SLAAC makes from the router's RA (sent at once); it takes the RA's default
 * route only as the device's default interface.
 * Return: 0, or -errno (nothing added)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_add_iface(nslab_lab *lab, const char *device,
						     const char *ifname, const char *router,
						     nslab_error *err);
/*
 * nslab_lab_remove_iface() - Remove a device's interface while the lab runs
 * Its veth is deleted (its peer on the router's bridge and its routes go
 * with it); when it was the default interface, the first one left takes the
 * default routes. An interface with a link condition is refused (clear it
 * first). An "iface_removed" event; state.json and names follow. Under RA
 * provisioning the new default interface takes the RA's default route.
 * Return: 0, or -errno (nothing removed)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_remove_iface(nslab_lab *lab, const char *device,
							const char *ifname, nslab_error *err);
/* nslab_lab_remove_node() flags */
#define NSLAB_REMOVE_FORCE (1u << 0) /* a router's devices and downstream routers go too */
/*
 * nslab_lab_add_node() - A router or device added to a running lab
 * @kind:  "router" or "device"
 * @name:  the node's name
 * @kv:    keys and values as in the lab file's entry for it, NULL-terminated
 *         ("upstream", "r1", "nat", "home", NULL); a value is YAML (one line):
 *         "nat", "{mapping: eim, filtering: apdf}" works
 * Read by the lab file's decoder (its keys, presets and messages), checked
 * with the whole lab, addressed past everything on its router's bridge (new
 * subnets for a router) and built as the build makes nodes: namespace,
 * veths, addresses, routes (and the routes to a new router's subnets in its
 * ancestors), NAT and firewall. One "router_added" or "device_added" event
 * (with "live": true and its interfaces); state.json, /etc/hosts, the lab's
 * DNS and NSLAB_IP_* follow; link conditions its keys (or a router's
 * downlink:) ask for are set as at the build (a link_condition event each).
 * Node handles (nslab_node *) taken before are stale after it: look them up
 * again. Under RA provisioning a new router advertises at once and a new
 * device configures by SLAAC; in a persisted lab the new node gets its
 * /run/netns entry.
 * Return: 0, or -errno with the lab as it was
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_add_node(nslab_lab *lab, const char *kind,
						    const char *name, const char *const *kv,
						    nslab_error *err);
/*
 * nslab_lab_remove_node() - A router or device removed from a running lab
 * A router with devices or routers behind it is refused (-EBUSY, naming
 * them) unless flags has NSLAB_REMOVE_FORCE: then they go too. The processes
 * in each removed node are killed (those of nslab_node_spawn() reaped; their
 * handles stay the caller's), its namespace closed (its veths go with it), the
 * routes to its subnets taken out of the rest; its link conditions are
 * cleared first (a link_condition event each); in a persisted lab their
 * /run/netns entries are removed. A region is refused. One
 * "node_removed" event; state.json, /etc/hosts, the lab's DNS and NSLAB_IP_*
 * follow. Node handles taken before are stale after it.
 * Return: 0, or -errno with the lab as it was
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_remove_node(nslab_lab *lab, const char *name,
						       unsigned flags, nslab_error *err);
/*
 * nslab_lab_set_default_via() - The interface a device's default routes take
 * Before the build, what `default_via:` sets. On a built lab: the device's
 * default routes (both families) replaced through that interface's router in
 * one netlink batch, its primary address (status, NSLAB_IP_<DEVICE> of later
 * commands) with them, a "default_via_changed" event, state.json written
 * again. Under RA provisioning the IPv6 default route is the one the new
 * interface's router's RA gives (sent at once; the call waits for the route,
 * -ETIMEDOUT after 2 s with nothing changed), the old interface's deleted
 * after. /etc/hosts keeps the name on the address it had.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_default_via(nslab_lab *lab, const char *device,
							   const char *ifname, nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_add_dns(nslab_lab *lab, const char *hostname,
						   const char *target, nslab_error *err);
/**
 * nslab_lab_set_dns() - Set or remove a name of the lab's /etc/hosts, before the build or while it runs
 * @lab:      lab
 * @hostname: the name (dot-separated labels of A-Z, a-z, 0-9 and '-')
 * @target:   a node's name (its addresses) or an IP address; NULL removes the name
 * @err:      on failure, the cause (an unknown target, no such name to remove)
 * On a built lab the file every process of the lab sees is written again in
 * place: the next lookup finds the new address (a program that cached the old
 * one keeps it). A "dns_changed" event. A node's own names come first in the
 * file, so they are not overridden this way.
 * Return: 0, or -errno (nothing changed)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_dns(nslab_lab *lab, const char *hostname,
						   const char *target, nslab_error *err);
NSLAB_EXPORT void nslab_lab_set_seed(nslab_lab *lab, uint64_t seed);
/* Rename before building (e.g. `nslab up --name`). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_name(nslab_lab *lab, const char *name,
						    nslab_error *err);
/*
 * Which backend conditions the lab's links, before building: "auto", "wire"
 * or "netem" (`nslab up --link-backend`; overrides the lab file's
 * link_backend:). netem where the kernel lacks it is refused by the build.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_link_backend(nslab_lab *lab, const char *backend,
							    nslab_error *err);
/* Write events.jsonl, state.json and nodes/<node>/ logs into dir (created if missing). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_outdir(nslab_lab *lab, const char *dir,
						      nslab_error *err);

/* Hooks: debug log lines, and every event (JSON text of one object). */
typedef void (*nslab_log_func)(int level, const char *msg, void *data);
typedef void (*nslab_event_func)(const char *kind, const char *json, void *data);
NSLAB_EXPORT void nslab_lab_set_log_func(nslab_lab *lab, nslab_log_func fn, void *data);
NSLAB_EXPORT void nslab_lab_set_event_func(nslab_lab *lab, nslab_event_func fn, void *data);

/*
 * nslab_lab_check() - Validate and plan addresses without building anything
 * Return: 0, or -errno with "FILE:LINE:COL: ..." (unknown names, exhausted ranges, ...).
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_check(nslab_lab *lab, nslab_error *err);

/*
 * nslab_lab_build() - Validate, plan addresses, create every namespace and link
 * On failure nothing the call made is left behind, and err says what and where.
 * Every process of the lab lives in a PID namespace whose pid 1 dies with the
 * calling thread: build from a thread that outlives the lab (docs/processes.md).
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_build(nslab_lab *lab, nslab_error *err);

/**
 * nslab_lab_set_nat() - Set a router's IPv4 NAT, before the build or while the lab runs
 * @lab:    lab
 * @router: router name
 * @mode:   a NAT preset: none, home, full-cone, restricted-cone, corporate, cloud-nat, cgnat
 * @err:    on failure, what and where (an unknown mode is named with the accepted ones)
 * Before the build it sets what a lab file's `nat:` sets, the router's pool
 * included (private; cgnat: 100.64.0.0/10). On a built lab: one nftables transaction in the router's namespace (its `table ip nslab-nat`
 * replaced, so existing mappings are forgotten; conntrack entries stay), plus
 * its conntrack timeouts; a "nat_changed" event; state.json written again.
 * Addresses are not changed: devices behind a router set to `none` keep their
 * private addresses, which nothing routes to (docs/nat.md).
 * Return: 0, or -errno (the NAT unchanged)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_nat(nslab_lab *lab, const char *router,
						   const char *mode, nslab_error *err);
/**
 * nslab_lab_flush_nat() - Forget every mapping of a router's NAT
 * @lab:    built lab
 * @router: router name (with a NAT)
 * @err:    on failure, the cause
 * Its mapping tables emptied and its conntrack table flushed: an established
 * mapping is gone, the next packet out makes a new one and packets from
 * outside to the old one are dropped. A "nat_flushed" event with the number of
 * conntrack entries flushed.
 * Return: 0, or -errno
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_flush_nat(nslab_lab *lab, const char *router,
						     nslab_error *err);
/**
 * nslab_lab_set_nat6() - Set a router's IPv6 NAT
 * @mode: none, nptv6, masquerade or nat64 (docs/nat.md)
 * As a lab file's `nat6:` (the router's pool private unless it was set). On a
 * built lab, at once (one nftables transaction, a "nat6_changed" event,
 * state.json): none and masquerade always; nptv6 too, on a router built
 * without it after planning its external /64 (the first free subnet of the
 * public IPv6 range) and routing it in every ancestor, as the build does;
 * nat64 on a router with an IPv4 uplink (its translator started first, with
 * an empty table; a switch away stops it). Addresses are never renumbered.
 * Return: 0, or -errno
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_nat6(nslab_lab *lab, const char *router,
						    const char *mode, nslab_error *err);
/**
 * nslab_lab_renew_ip() - New addresses for a device's interface while the lab runs
 * @lab:    built lab
 * @device: device name
 * @iface:  one of its interfaces
 * As a new DHCP lease from the same router: the next free addresses of the
 * router's subnets replace the interface's (one netlink batch), the default
 * routes are put back; flows from the old addresses end. An "ip_renewed"
 * event with the new addresses; state.json, /etc/hosts, the lab's DNS and
 * NSLAB_IP_* of later commands follow. Under RA provisioning only the IPv4
 * address changes (SLAAC makes the same IPv6 one: same MAC, same /64).
 * Return: 0, or -errno
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_renew_ip(nslab_lab *lab, const char *device,
						    const char *iface, nslab_error *err);
/**
 * nslab_lab_replug() - Plug a device's interface into another router while the lab runs
 * @lab:    built lab
 * @device: device name
 * @iface:  one of its interfaces (without a link condition: clear it first)
 * @router: the router it goes to
 * Its veth is deleted and made anew on the router's bridge in one netlink
 * batch: same name and MAC, the next free addresses of the router's subnets,
 * the device's default routes put back. A "device_replugged" event with the
 * new addresses; state.json written again; NSLAB_IP_* of later commands
 * follow. Flows through the old link end with it. Under RA provisioning the
 * IPv6 address is the one SLAAC makes from the new router's RA (sent at
 * once), the old one gone with the old link.
 * Return: 0, or -errno
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_replug(nslab_lab *lab, const char *device,
						  const char *iface, const char *router,
						  nslab_error *err);
/**
 * nslab_lab_set_firewall() - Set a router's firewall, before the build or while the lab runs
 * @lab:    lab
 * @router: router name
 * @mode:   a firewall preset: none, block-inbound, corporate, captive-portal;
 *          or release: a captive portal after sign-in (any TCP, UDP to 53 only)
 * @err:    on failure, what and where (an unknown mode is named with the accepted ones)
 * Before the build it sets what a lab file's `firewall:` sets. On a built lab:
 * one nftables transaction in the router's namespace replaces its `table inet
 * nslab-fw` (outbound limits hold at once, for flows in progress too); a
 * "firewall_changed" event; state.json written again (docs/nat.md).
 * Return: 0, or -errno (the firewall unchanged)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_firewall(nslab_lab *lab, const char *router,
							const char *mode, nslab_error *err);
/**
 * nslab_lab_set_router_preset() - Start a router from a preset, before the build
 * @lab:    lab, not built
 * @router: router name
 * @preset: home, public, public-v4, isp-cgnat, isp-v6, corporate, hotel, cloud
 * Sets the router's NAT, firewall, IP mode and pool as a lab file's `preset:`
 * does; nslab_lab_set_nat() and nslab_lab_set_firewall() called after it override them.
 * Return: 0, or -errno
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_router_preset(nslab_lab *lab, const char *router,
							     const char *preset, nslab_error *err);

NSLAB_EXPORT const char *nslab_lab_name(const nslab_lab *lab);
NSLAB_EXPORT bool nslab_lab_is_rootless(const nslab_lab *lab);
/*
 * Routers plus devices, the lab root not counted: once built, or before the
 * build as the last successful nslab_lab_check() planned them (a progress
 * total), else 0.
 */
NSLAB_EXPORT size_t nslab_lab_node_count(const nslab_lab *lab);
/* Nodes: routers first, then devices. Borrowed, valid until nslab_lab_free(). */
NSLAB_EXPORT nslab_node *nslab_lab_node_at(nslab_lab *lab, size_t i);
NSLAB_EXPORT nslab_node *nslab_lab_node(nslab_lab *lab, const char *name);

NSLAB_EXPORT const char *nslab_node_name(const nslab_node *node);
NSLAB_EXPORT enum nslab_node_kind nslab_node_kind(const nslab_node *node);
NSLAB_EXPORT size_t nslab_node_iface_count(const nslab_node *node);
NSLAB_EXPORT const char *nslab_node_iface_name(const nslab_node *node, size_t i);
/*
 * nslab_node_addr() - An address of the node as text
 * @iface:  interface name, or NULL for the node's primary interface (a device's
 *          default_via, a router's uplink)
 * @family: AF_INET, AF_INET6, or 0 for the IPv6 link-local
 * Return: 0 and the address in buf, -ENOENT if there is none.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_node_addr(const nslab_node *node, const char *iface,
						 int family, char *buf, size_t len,
						 nslab_error *err);
/* The node's network namespace fd (borrowed; -1 before the lab is built). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_node_netns_fd(const nslab_node *node);

struct nslab_spawn_opts {
	bool inherit_stdio; /* false: stdout/stderr go to the outdir's nodes/<node>/<n>-<cmd>.* (or /dev/null) */
	const char *cwd; /* NULL: the caller's working directory */
	/* stdio_fds: stdout and stderr go to these fds (the caller keeps them), stdin is inherited */
	bool stdio_fds;
	int stdout_fd, stderr_fd;
	/* NULL, or "KEY=VALUE" entries (NULL-terminated) set in the command's
	 * environment over the lab's (nslab sim's NSLAB_EVENTS) */
	const char *const *env;
};
/*
 * nslab_node_spawn() - Run argv in the node (its netns and the lab's /etc/hosts)
 * The environment carries NSLAB_IP_<NODE>, NSLAB_IP6_<NODE> and NSLAB_IP_<NODE>_<IFACE>
 * for every node (names upper-cased, '-' as '_').
 * Return: 0 and a process handle (free with nslab_proc_free(), which kills it if running).
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_node_spawn(nslab_node *node, char *const argv[],
						  const struct nslab_spawn_opts *opts,
						  nslab_proc **ret, nslab_error *err);
/*
 * Wait for the process to end. *ret_status is waitpid()-style. A handle stays
 * valid after nslab_lab_free() (its process is gone then) until nslab_proc_free().
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_proc_wait(nslab_proc *proc, int *ret_status,
						 nslab_error *err);
NSLAB_EXPORT pid_t nslab_proc_pid(const nslab_proc *proc);
/**
 * nslab_lab_emit_app() - Put a program's own event into the lab's event stream
 * @lab:   built lab
 * @node:  the node the program runs in
 * @at:    when the program sent it (seconds since the epoch, UTC)
 * @json:  the event, one JSON object on one line (copied as it is: validate it)
 * An "app" event: {"kind": "app", "node", "at", "event": {...}} in events.jsonl.
 */
NSLAB_EXPORT void nslab_lab_emit_app(nslab_lab *lab, const char *node, double at, const char *json);
/* The process's pidfd (borrowed): readable (POLLIN) once it has ended; -1 once reaped. */
NSLAB_EXPORT int nslab_proc_fd(const nslab_proc *proc);
NSLAB_EXPORT nslab_proc *nslab_proc_free(nslab_proc *proc);

#ifdef __cplusplus
}
#endif
#endif
