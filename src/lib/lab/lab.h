/* SPDX-License-Identifier: MIT */
/*
 * lab/lab: the lab object behind the public nslab_lab: spec (what was asked),
 * plan (addresses and names), and the live part (namespaces, mount namespace,
 * processes, event log, control socket).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/events.h"
#include "core/log.h"
#include "lab/plan.h"
#include "lab/spec.h"
#include "nslab/lab.h"
#include "ns/netns.h"
#include "ns/pidns.h"

struct nslab_node {
	struct nslab_lab *lab;
	size_t idx; /* plan node index (0 = lab root) */
	const struct plan_node *pn;
	struct netns *ns;
	int next_ifindex; /* next ifindex to request in this namespace */
	unsigned spawn_seq;
	int mntns_fd; /* the lab's mounts with a /sys of this node, once asked for; or -1 */
	int ra_fd;    /* a router under RA provisioning: its RA socket (lab/ra.h); or -1 */
	struct nftbl_ctx *nft; /* a router's libnftables context for run-time changes, or NULL */
};

struct nslab_proc {
	struct nslab_lab *lab;
	struct nslab_node *node;
	pid_t pid;
	int pidfd;
	bool reaped;
	int status;
	unsigned seq;
	char *cmd;
	struct nslab_proc *next; /* in lab->procs */
};

struct nslab_lab {
	struct lab_spec *spec;
	struct lab_plan *plan;
	struct nslab_node *nodes; /* plan->n_nodes entries */
	size_t n_checked; /* nodes nslab_lab_check() planned, for progress before the build */
	bool built, rootless;
	bool persisted;		/* /run/netns entries made (persist.c) */
	int mntns_fd;		/* mount namespace with the lab's /etc/hosts */
	int hosts_fd;		/* that /etc/hosts, open for nslab_lab_set_dns(); or -1 */
	struct pidns_init init; /* pid 1 of the lab PID namespace: every process runs there */
	char **env;		/* NSLAB_IP_* entries plus the caller's environment */
	int outdir_fd;		/* output directory (see outdir.c), or -1 */
	char *outdir_path;	/* as given, for `nslab ls`; NULL without one */
	struct evlog ev;
	struct logger log;
	nslab_event_func event_fn;
	void *event_data;
	struct nslab_proc *procs;
	int listen_fd;
	int *waiters; /* clients of `down`, answered by closing once the lab is gone */
	size_t n_waiters;
	double built_at;
	struct lab_links *links;     /* link conditions (links.c); NULL while there are none */
	struct lab_regions *regions; /* routes between regions (regions.c); NULL: no regions */
	struct lab_nat64 *nat64;     /* routers' NAT64 (nat64-run.c); NULL: none */
};

/*
 * lab_from_tree() - A lab from a mapping in a file read already (a sim's inline lab)
 * @file: the file it is in: messages name it, the lab's default name is its stem
 * Return: 0 and *ret (free with nslab_lab_free()), or -EINVAL at FILE:LINE:COL.
 */
int lab_from_tree(const struct ynode *tree, const char *file, nslab_lab **ret, nslab_error *err);

/*
 * lab_from_spec() - A lab from a spec a program made (lab_spec_new() and the builder calls)
 * @spec: taken, freed on failure too
 * Return: 0 and *ret (free with nslab_lab_free()), or -ENOMEM
 */
int lab_from_spec(struct lab_spec *spec, nslab_lab **ret, nslab_error *err);

/**
 * lab_build() - Build everything in the plan on a worker thread (see build.c)
 * @lab:  prepared lab (spec, plan and nodes set); gets mntns_fd and each node's ns
 * @err:  on failure, the cause (copied from the worker)
 *
 * Blocks until the worker is done; the calling thread never changes namespace.
 * Return: 0, or -errno; on failure lab_teardown() has already run
 */
int lab_build(struct nslab_lab *lab, nslab_error *err);
/**
 * lab_build_nodes_live() - Build a running lab's new nodes, plan nodes [first, n_nodes)
 * Their namespaces, links, addresses, routes, NAT and firewall, as lab_build()
 * makes them, on a thread in the lab root (the caller's never moves). No events.
 * Return: 0, or -errno with the new nodes' namespaces closed again
 */
int lab_build_nodes_live(struct nslab_lab *lab, size_t first, nslab_error *err);
/**
 * lab_ra_wait_default() - Under RA provisioning, until device n's kernel has its default route from the RA
 * On its default interface, whose router advertises at once and every 500 ms
 * until then (a first RA is lost while a new link comes up). Nothing to do
 * without RA provisioning or an IPv6 /64 on that router.
 * Return: 0, or -errno (-ETIMEDOUT after 2 s)
 */
int lab_ra_wait_default(struct nslab_lab *lab, struct nslab_node *n, nslab_error *err);
/*
 * lab_ra_wait_devices() - lab_ra_wait_default() for each device from node
 * first on, best effort (a failure is logged: the devices are built anyway)
 */
void lab_ra_wait_devices(struct nslab_lab *lab, size_t first);
/* Close what a node holds (namespace, its socket, mount namespace, RA socket, nft context). */
void lab_node_close(struct nslab_node *n);
/**
 * lab_teardown() - Undo lab_build() and pidns_init_start(): kill processes, close namespaces
 * @lab:  lab; init, node namespaces and mntns_fd are released and reset, the rest is kept
 *
 * Reap the lab's processes (lab->procs) first: see pidns_init_stop().
 */
void lab_teardown(struct nslab_lab *lab);
/**
 * lab_node_mntns() - The mount namespace commands of a node run in (made once, then kept)
 * @lab:   built lab
 * @node:  node; its mntns_fd is set the first time
 * @err:   on failure, the cause
 *
 * A copy of the lab's mount namespace whose /sys is the node's network
 * namespace's (as `ip netns exec` gives), made on a thread that entered both:
 * its mounts stay slaves of the host's, so later host mounts still show.
 * Return: the fd (borrowed: the node owns it), or -errno
 */
int lab_node_mntns(struct nslab_lab *lab, struct nslab_node *node, nslab_error *err);
/**
 * lab_hosts_text() - The /etc/hosts text for the lab (see hosts.c)
 * @lab:  lab with a plan
 * @ret:  on success, malloc'd text the caller frees
 * @err:  on failure, the cause
 * Return: 0, or -ENOMEM (or open_memstream()'s -errno), "build the hosts file"
 */
int lab_hosts_text(const struct nslab_lab *lab, char **ret, nslab_error *err);
/**
 * lab_resolv_text() - The /etc/resolv.conf text for the lab: its DNS (lab/labdns.h)
 * @lab:  lab with a plan
 * @ret:  on success, malloc'd text the caller frees
 * Return: 0, or -ENOMEM
 */
int lab_resolv_text(const struct nslab_lab *lab, char **ret, nslab_error *err);
/**
 * lab_name_lookup() - What the lab's DNS answers for a name (see hosts.c)
 * @lab:     lab with a plan
 * @name:    without the root's trailing dot; any case
 * @family:  AF_INET or AF_INET6
 * @ret:     on 1, the address (the same /etc/hosts gives)
 * <node>.<lab>.test is the node's primary address, a dns: name its target's.
 * Return: 1, 0 if the name exists without an address of that family (and
 * for <lab>.test itself), -ENOENT if the lab has no such name
 */
int lab_name_lookup(const struct nslab_lab *lab, const char *name, int family,
		    struct nslab_prefix *ret);
/* A dns: target's (a node's primary, or a literal) address of family. Return: 0, or -ENOENT. */
int lab_target_addr(const struct nslab_lab *lab, const char *target, int family,
		    struct nslab_prefix *ret);
/**
 * lab_hosts_rewrite() - Write the lab's /etc/hosts again from its plan and dns entries
 * @lab:  a built lab (without a hosts file, nothing is done)
 * Every mount of it, the nodes' own mount namespaces' too, shows this one
 * inode. Return: 0, or -errno ("rewrite the lab's hosts file")
 */
int lab_hosts_rewrite(struct nslab_lab *lab, nslab_error *err);
/**
 * lab_names_follow() - After an address change: NSLAB_IP_* and /etc/hosts follow the plan
 * @lab:  a built lab
 * A failure is logged (debug) and ignored: the change itself is done.
 */
void lab_names_follow(struct nslab_lab *lab);
/**
 * lab_env_make() - Set lab->env: NSLAB_IP_* and NSLAB_IP6_* merged over environ (see hosts.c)
 * @lab:  lab with a plan; a previous lab->env is freed on success
 * @err:  on failure, the cause
 *
 * Variables of the caller starting with "NSLAB_IP" are dropped, the lab's added.
 * Return: 0, or -ENOMEM ("build the lab environment") with lab->env unchanged
 */
int lab_env_make(struct nslab_lab *lab, nslab_error *err);
/**
 * lab_env_free() - Free lab->env and set it to NULL (idempotent)
 * @lab:  lab
 */
void lab_env_free(struct nslab_lab *lab);
/**
 * lab_state_json() - Write the lab's state as one JSON object value (see state.c)
 * @lab:  lab; without a plan the node list is empty
 * @w:    writer, at top level or inside an array (no key); failures show in jw_get()
 *
 * The same object answers status requests and is state.json.
 */
void lab_state_json(const struct nslab_lab *lab, struct jw *w);
/**
 * lab_table_text() - The human table of nodes, interfaces and addresses
 * @lab:  lab with a plan
 * @ret:  on success, malloc'd text the caller frees
 * @err:  on failure, the cause
 * Return: 0, or -ENOMEM (or open_memstream()'s -errno), "render table"
 */
int lab_table_text(const struct nslab_lab *lab, char **ret, nslab_error *err);
/*
 * lab_conntrack_json() - A node's conntrack table (IPv4 and IPv6) as JSON:
 * {"node", "entries": [{family, proto, orig, reply, state, replied, assured,
 * nat, packets, bytes}], "truncated"}; free() it (ct-ctl.c)
 */
int lab_conntrack_json(nslab_lab *lab, const char *node, char **ret_json, nslab_error *err);
int outdir_open(const char *path, int *ret_fd, nslab_error *err);
int outdir_subdir(int dirfd, const char *name, int *ret_fd, nslab_error *err);
int outdir_create(int dirfd, const char *name, int *ret_fd, nslab_error *err);
/**
 * lab_persist_remove() - Remove the /run/netns entries nslab_lab_persist() made (best effort)
 * @lab:  lab; nothing is done unless it was persisted
 */
void lab_persist_remove(struct nslab_lab *lab);
/**
 * lab_persist_nodes() - Name nodes added to a persisted lab in /run/netns
 * @lab:    lab; nothing is done unless it was persisted
 * @first:  plan index of the first new node; every later one is named too
 * Each recorded in the lab's list, as nslab_lab_persist() records them.
 * Return: 0, or -errno with none of theirs left
 */
int lab_persist_nodes(struct nslab_lab *lab, size_t first, nslab_error *err);
/**
 * lab_persist_drop() - Remove node idx's /run/netns entry and its line of the list (best effort)
 * @lab:  lab; nothing is done unless it was persisted
 * The entry's bind mount holds the namespace: without this a removed node's
 * namespace would outlive it.
 */
void lab_persist_drop(struct nslab_lab *lab, size_t idx);
/**
 * lab_state_write() - Write lab_state_json() to <outdir>/state.json, atomically
 * @lab:  lab; nothing is done without an outdir
 * @err:  on failure, the cause
 *
 * Writes .state.json.tmp (created anew, 0600, see outdir_create()) and renames it
 * over state.json (removed again on failure).
 * Return: 0, or -ENOMEM, -EIO for a failed write, or outdir_create()/renameat()'s -errno
 */
int lab_state_write(const struct nslab_lab *lab, nslab_error *err);
/* lab_state_write() after a run-time change: best effort, as after the build. */
void lab_state_rewrite(struct nslab_lab *lab);
/**
 * lab_node_nft() - The node's kept libnftables context, made on first use
 * Call it inside the node's netns (netns_call()): the context's socket is
 * opened there. Kept until lab_teardown(): closing a socket whose last
 * transaction deleted a table waits for the kernel to free what it deleted
 * (an RCU grace period, 10 ms here), which a run-time change would pay.
 * Return: 0 and *ret (borrowed), or -errno
 */
int lab_node_nft(struct nslab_node *n, struct nftbl_ctx **ret, nslab_error *err);
/*
 * lab_set_default_via_live() - nslab_lab_set_default_via() on a built lab (device-ctl.c)
 * Return: 0, or -errno (the routes unchanged)
 */
int lab_set_default_via_live(struct nslab_lab *lab, const char *device, const char *ifname,
			     nslab_error *err);
/*
 * lab_add_iface_live() - nslab_lab_add_iface() on a built lab (device-ctl.c)
 * Return: 0, or -errno (nothing added)
 */
int lab_add_iface_live(struct nslab_lab *lab, const char *device, const char *ifname,
		       const char *router, nslab_error *err);
struct spec_router;
/**
 * lab_find_router() - A built lab's router by name, for a run-time change
 * @ret_node: on success, its node
 * @ret_spec: and its spec entry
 * Return: 0, or -EINVAL (not built, a device), -ENOENT (no such node), with the message
 */
int lab_find_router(struct nslab_lab *lab, const char *name, struct nslab_node **ret_node,
		    struct spec_router **ret_spec, nslab_error *err);
/**
 * lab_open_log() - Open nodes/<node>/<prefix>-<cmd>.<ext> in the output directory, or /dev/null
 * @lab:     lab; without an output directory the fd is /dev/null's
 * @node:    node name
 * @prefix:  what makes the name unique ("3" for the third spawn, "exec-2"...)
 * @cmd:     the command (argv[0]); only its last path component is used
 * @ext:     "stdout" or "stderr"
 * @ret_fd:  on success, a CLOEXEC fd open for writing (through the output directory's
 *           fd, see outdir.c: directories 0700, files 0600 and new, no link followed)
 * @err:     on failure, the cause
 * Return: 0, or -errno
 */
int lab_open_log(const struct nslab_lab *lab, const char *node, const char *prefix, const char *cmd,
		 const char *ext, int *ret_fd, nslab_error *err);
/**
 * lab_emit_built() - Emit the "lab_built" event (name, router and device counts, rootless)
 * @lab:  lab with a plan
 */
void lab_emit_built(struct nslab_lab *lab);
/**
 * lab_emit_destroyed() - Emit the "lab_destroyed" event
 * @lab:  lab
 */
void lab_emit_destroyed(struct nslab_lab *lab);
/**
 * lab_node_primary_iface() - Index of a node's primary interface
 * @pn:  plan node
 * Return: a device's default_via interface if it has one, else the first interface
 * (a router's uplink, or a device's first); -1 if the node has no interfaces
 */
ssize_t lab_node_primary_iface(const struct plan_node *pn);
/**
 * lab_outer_uid() - The caller's uid outside our user namespace (for socket names)
 *
 * Read from the first line of /proc/self/uid_map, one level up only.
 * Return: that uid, or geteuid() when not mapped (or not nested)
 */
unsigned lab_outer_uid(void);
