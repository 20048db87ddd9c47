/* SPDX-License-Identifier: MIT */
/*
 * lab/node-ctl: routers and devices added to or removed from a running lab
 * (nslab_lab_add_node(), nslab_lab_remove_node(); the supervisor's ADD_NODE
 * and REMOVE_NODE call them).
 *
 * An added node is a one-node document read by the lab file's decoder (every
 * key works, the messages are the lab file's), validated with the whole lab,
 * planned past everything in use (lab_plan_add()) and built as the builder
 * builds a node; a failure at any step takes the earlier ones back. A removed
 * node's processes are killed and reaped, its namespace closed (its veths, each
 * with its link condition in the same step, and the routes through them go
 * with it), the routes to its subnets taken out of its ancestors. Each: one
 * event, state.json, /etc/hosts, the lab's DNS and NSLAB_IP_* follow.
 */
#include "nslab/lab.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/rtnetlink.h>

#include "core/yaml.h"
#include "lab/lab.h"
#include "lab/labfile.h"
#include "lab/links.h"
#include "lab/ra.h"
#include "lab/nat64-run.h"
#include "lab/regions.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"
#include "ns/spawn.h"

#define ADD_DOC_MAX 65536

static bool key_ok(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* A value read as YAML alone first: a syntax error then names its key and value. */
static int value_ok(const char *key, const char *value, nslab_error *err)
{
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	_cleanup_free_ char *doc = NULL;
	struct yctx y = { .err = err };
	int r;

	if (asprintf(&doc, "v: %s\n", value) < 0)
		return nslab_err_set(err, ENOMEM, "key '%s'", key);
	r = yaml_read(&y, doc, strlen(doc), 0, &root);
	return r < 0 ? nslab_err_prefix(err, r, "key '%s': '%s'", key, value) : 0;
}

/*
 * The lab file's document for the node: "routers:\n  NAME:\n    KEY: VALUE\n"...
 * A value is YAML as in the file (a flow mapping for nat: {...} works); one
 * line each, so that a value cannot open another key.
 */
static int add_doc(bool router, const char *name, const char *const *kv, char **ret,
		   nslab_error *err)
{
	_cleanup_free_ char *doc = NULL;
	size_t len = 0;
	FILE *f;

	if (!name || !spec_node_name_ok(name))
		return nslab_err_setx(err, EINVAL,
				      "bad node name '%s': use a-z, 0-9 and '-', start with a "
				      "letter, do not end with '-'",
				      name ? SPEC_Q(name) : "");
	f = open_memstream(&doc, &len);
	if (!f)
		return nslab_err_set(err, errno, "add '%s'", name);
	fprintf(f, "%s:\n  %s:\n", router ? "routers" : "devices", name);
	for (size_t i = 0; kv && kv[i]; i += 2) {
		if (!key_ok(kv[i])) {
			(void)fclose(f);
			return nslab_err_setx(err, EINVAL, "bad key '%s': a-z, 0-9 and '_'",
					      SPEC_Q(kv[i]));
		}
		if (!kv[i + 1] || strpbrk(kv[i + 1], "\r\n")) {
			(void)fclose(f);
			return nslab_err_setx(err, EINVAL, "key '%s': %s", kv[i],
					      kv[i + 1] ? "a value is one line" : "no value");
		}
		int r = value_ok(kv[i], kv[i + 1], err);

		if (r < 0) {
			(void)fclose(f);
			return r;
		}
		fprintf(f, "    %s: %s\n", kv[i], kv[i + 1]);
	}
	if (fclose(f) != 0 || !doc)
		return nslab_err_set(err, ENOMEM, "add '%s'", name);
	if (len > ADD_DOC_MAX)
		return nslab_err_setx(err, EMSGSIZE, "add '%s': %zu bytes of keys (at most %d)",
				      name, len, ADD_DOC_MAX);
	*ret = TAKE_PTR(doc);
	return 0;
}

/* The spec as it was: entries past r0 and d0 taken out. */
static void spec_truncate(struct lab_spec *spec, size_t r0, size_t d0)
{
	while (spec->n_routers > r0)
		lab_spec_remove_router(spec, spec->n_routers - 1);
	while (spec->n_devices > d0)
		lab_spec_remove_device(spec, spec->n_devices - 1);
}

/* Messages about the new entries name no place in the lab's file (they are not in it). */
static void forget_locs(struct lab_spec *spec, size_t r0, size_t d0)
{
	for (size_t i = r0; i < spec->n_routers; i++) {
		struct spec_router *r = &spec->routers[i];

		r->loc = r->upstream_loc = r->nat_loc = r->nat6_loc = r->fw_loc = r->rules_loc =
			r->region_loc = (struct spec_loc){ 0 };
	}
	for (size_t i = d0; i < spec->n_devices; i++) {
		struct spec_device *d = &spec->devices[i];

		d->loc = d->default_via_loc = (struct spec_loc){ 0 };
		for (size_t j = 0; j < d->n_ifaces; j++)
			d->ifaces[j].loc = d->ifaces[j].router_loc = (struct spec_loc){ 0 };
	}
}

/* lab->nodes for the plan's node count; processes' node pointers follow the move. */
static int nodes_resize(nslab_lab *lab, size_t n_old, nslab_error *err)
{
	size_t n = lab->plan->n_nodes;
	struct nslab_node *v = calloc(n, sizeof(*v));

	if (!v)
		return nslab_err_set(err, ENOMEM, "allocate %zu nodes", n);
	memcpy(v, lab->nodes, (n_old < n ? n_old : n) * sizeof(*v));
	for (struct nslab_proc *p = lab->procs; p; p = p->next)
		if (p->node)
			p->node = &v[p->node - lab->nodes];
	for (size_t i = n_old; i < n; i++) {
		v[i].lab = lab;
		v[i].idx = i;
		v[i].mntns_fd = -1;
		v[i].ra_fd = -1;
	}
	free(lab->nodes);
	lab->nodes = v;
	return 0;
}

static void nodes_repoint(nslab_lab *lab)
{
	for (size_t i = 0; i < lab->plan->n_nodes; i++) {
		lab->nodes[i].idx = i;
		lab->nodes[i].pn = &lab->plan->nodes[i];
	}
}

static int route_change(struct nslab_node *n, int type, const struct plan_route *pr,
			nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct rtnl_route rt = { .dst = pr->dst, .via = pr->via };
	int r = rtnl_build_route(buf, sizeof(buf), type, &rt, err);

	return r < 0 ? r : nlsock_talk(n->ns->nl, (struct nlmsghdr *)buf, NULL, NULL, err);
}

/* The ancestors' routes lab_plan_add() planned to the new subnets, made (or deleted again). */
static int ancestor_routes(nslab_lab *lab, const struct plan_undo *u, int type, nslab_error *err)
{
	int r = 0;

	for (size_t i = 0; i < u->n_nodes; i++) {
		struct plan_node *pn = &lab->plan->nodes[i];

		for (size_t j = u->n_routes[i]; j < pn->n_routes; j++) {
			int rr = route_change(&lab->nodes[i], type, &pn->routes[j],
					      type == RTM_NEWROUTE ? err : NULL);

			if (rr < 0 && type == RTM_NEWROUTE)
				return nslab_err_prefix(err, rr, "'%s': route to the new subnet",
							i ? pn->name : "ix");
			r = rr < 0 ? rr : r;
		}
	}
	return r;
}

/*
 * A failed add: the other regions' routes to the subnets the plan gave a
 * region (lab_regions_reroute()) go too. Best effort, as a deletion of a
 * route never made only says so.
 */
static void region_routes_drop(nslab_lab *lab, const struct plan_undo *u)
{
	for (size_t i = 0; i < u->n_nodes; i++) {
		const struct plan_node *pn = &lab->plan->nodes[i];

		for (size_t j = u->n_routes[i]; pn->region && j < pn->n_routes; j++)
			lab_regions_drop_route(lab, &pn->routes[j].dst);
	}
}

static void emit_added(nslab_lab *lab, const struct plan_node *pn)
{
	struct jw *w =
		evlog_begin(&lab->ev, pn->kind == PLAN_ROUTER ? "router_added" : "device_added");
	char buf[PREFIX_STRLEN];

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", pn->name);
	jw_bool(w, "live", true);
	if (prefix_is_set(&pn->down4))
		jw_str(w, "down4", prefix_format(&pn->down4, true, buf, sizeof(buf)));
	if (prefix_is_set(&pn->down6))
		jw_str(w, "down6", prefix_format(&pn->down6, true, buf, sizeof(buf)));
	jw_arr_open(w, "ifaces");
	for (size_t i = 0; i < pn->n_ifaces; i++) {
		const struct plan_iface *f = &pn->ifaces[i];

		jw_obj_open(w, NULL);
		jw_str(w, "iface", f->name);
		jw_str(w, "peer", f->up_node ? lab->plan->nodes[f->up_node].name : "ix");
		if (prefix_is_set(&f->a4))
			jw_str(w, "ip4", prefix_format(&f->a4, true, buf, sizeof(buf)));
		if (prefix_is_set(&f->a6))
			jw_str(w, "ip6", prefix_format(&f->a6, true, buf, sizeof(buf)));
		jw_obj_close(w);
	}
	jw_arr_close(w);
	evlog_end(&lab->ev);
}

static int check_live(const nslab_lab *lab, nslab_error *err)
{
	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "the lab is not built");
	return 0;
}

/*
 * After a failed build: the new nodes' veth peers deleted on their upstreams'
 * side (a node whose build failed has no namespace left to delete them from,
 * and the kernel frees a closed one later: the names would linger).
 */
static void unplug_peers(nslab_lab *lab, size_t first)
{
	for (size_t i = first; i < lab->plan->n_nodes; i++)
		for (size_t k = 0; k < lab->plan->nodes[i].n_ifaces; k++) {
			const struct plan_iface *f = &lab->plan->nodes[i].ifaces[k];
			struct nslab_node *up = &lab->nodes[f->up_node];
			int ifindex;

			if (f->up_node < first &&
			    rtnl_link_index(up->ns->nl, f->peer_name, &ifindex, NULL) >= 0)
				(void)rtnl_link_del(up->ns->nl, ifindex, NULL);
		}
}

/* The new nodes' link conditions taken back (a failed add). */
static void drop_new_links(nslab_lab *lab, size_t first)
{
	lab_links_drop_nodes(lab, NULL, first);
	for (size_t i = lab->plan->n_nodes; i-- > first;) {
		lab_nat64_node_removed(lab, i);
		lab_links_node_removed(lab, i);
	}
}

/*
 * Under RA provisioning: a new router advertises on its bridge, and the
 * router of a new device's interface does so again, now rather than at their
 * first solicitation (the one a link sends as it comes up is often lost while
 * the bridge port is still coming up; the next is a second later).
 */
static void ra_announce(nslab_lab *lab, size_t first)
{
	nslab_error err = { 0 };
	bool *send = lab->spec->ra ? calloc(lab->plan->n_nodes, sizeof(*send)) : NULL;

	if (!send)
		return;
	for (size_t i = first; i < lab->plan->n_nodes; i++) {
		const struct plan_node *pn = &lab->plan->nodes[i];

		send[i] = true;
		for (size_t k = 0; k < pn->n_ifaces; k++)
			send[pn->ifaces[k].up_node] |= pn->ifaces[k].slaac;
	}
	for (size_t i = 1; i < lab->plan->n_nodes; i++)
		if (send[i] && lab->nodes[i].ra_fd >= 0 &&
		    ra_send(lab->nodes[i].ra_fd, lab->nodes[i].pn, &err) < 0)
			log_debugf(&lab->log, "%s, ignoring", err.msg);
	free(send);
	/*
	 * The add returns with the devices configured, supervisor or not (the C
	 * API alone answers no solicitation): their routers advertise again until
	 * each has its RA default route (and with it, from the same RA, its
	 * SLAAC address). Best effort: the node is built either way.
	 */
	lab_ra_wait_devices(lab, first);
}

/* Planned, then built; each step undone when a later one fails. */
static int add_planned(nslab_lab *lab, size_t r0, size_t d0, nslab_error *err)
{
	size_t old = lab->plan->n_nodes;
	struct plan_undo u;
	int r = lab_plan_add(lab->spec, lab->plan, r0, d0, &u, err);

	/* the plan's nodes may have moved, even on failure */
	if (r >= 0)
		r = nodes_resize(lab, old, err);
	if (r < 0) {
		/* the plan back to the size of lab->nodes before anything points into it */
		lab_plan_undo(lab->plan, &u);
		nodes_repoint(lab);
		return r;
	}
	nodes_repoint(lab);
	r = lab_build_nodes_live(lab, old, err);
	if (r >= 0) {
		r = ancestor_routes(lab, &u, RTM_NEWROUTE, err);
		/* a router in a region: the other regions route its subnets over their links */
		if (r >= 0)
			r = lab_regions_reroute(lab, err);
		/* link:, downlink: (theirs, or a router's over a device added to it) */
		if (r >= 0)
			r = lab_links_start_nodes(lab, old, err);
		/* nat6: nat64 routers among them (the running ones are skipped) */
		if (r >= 0)
			r = lab_nat64_start(lab, err);
		/*
		 * --persist: /run/netns/<lab>-<node> for them too, as `up` names
		 * every node; last, so no step after it fails with names left behind
		 */
		if (r >= 0)
			r = lab_persist_nodes(lab, old, err);
		if (r < 0) {
			drop_new_links(lab, old);
			region_routes_drop(lab, &u);
			(void)ancestor_routes(lab, &u, RTM_DELROUTE, NULL);
			for (size_t i = old; i < lab->plan->n_nodes; i++)
				lab_node_close(&lab->nodes[i]);
		}
	}
	if (r < 0)
		unplug_peers(lab, old);
	if (r < 0) {
		lab_plan_undo(lab->plan, &u);
		nodes_repoint(lab);
		return r;
	}
	plan_undo_clear(&u);
	ra_announce(lab, old);
	for (size_t i = old; i < lab->plan->n_nodes; i++)
		emit_added(lab, &lab->plan->nodes[i]);
	return 0;
}

int nslab_lab_add_node(nslab_lab *lab, const char *kind, const char *name, const char *const *kv,
		       nslab_error *err)
{
	_cleanup_free_ char *doc = NULL;
	size_t r0 = lab->spec->n_routers, d0 = lab->spec->n_devices;
	bool router = kind && strcmp(kind, "router") == 0;
	int r = check_live(lab, err);

	if (r < 0)
		return r;
	if (!router && !(kind && strcmp(kind, "device") == 0))
		return nslab_err_setx(err, EINVAL, "add '%s': not a node kind (router or device)",
				      kind ? SPEC_Q(kind) : "");
	r = add_doc(router, name, kv, &doc, err);
	if (r >= 0)
		r = labfile_decode_nodes(lab->spec, doc, strlen(doc), NULL, err);
	if (r >= 0) {
		forget_locs(lab->spec, r0, d0);
	}
	if (r >= 0)
		r = lab_spec_validate(lab->spec, err);
	if (r >= 0)
		r = add_planned(lab, r0, d0, err);
	if (r < 0) {
		spec_truncate(lab->spec, r0, d0);
		return nslab_err_prefix(err, r, "add %s '%s'", router ? "router" : "device",
					name ? name : "");
	}
	lab_names_follow(lab);
	lab_state_rewrite(lab);
	return 0;
}

/* Step 1 of a removal: the node and (force) everything behind it, or who is behind it. */
static int removal_set(nslab_lab *lab, size_t idx, bool force, bool *gone, nslab_error *err)
{
	const struct lab_plan *plan = lab->plan;
	char names[256] = "";
	size_t more = 0;
	bool grew = true;

	gone[idx] = true;
	while (grew) {
		grew = false;
		for (size_t i = 1; i < plan->n_nodes; i++)
			for (size_t k = 0; !gone[i] && k < plan->nodes[i].n_ifaces; k++)
				if (gone[plan->nodes[i].ifaces[k].up_node])
					gone[i] = grew = true;
	}
	for (size_t i = 1; !force && i < plan->n_nodes; i++) {
		size_t len = strlen(names);

		if (!gone[i] || i == idx)
			continue;
		if (len + strlen(plan->nodes[i].name) + 3 < sizeof(names))
			snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "",
				 plan->nodes[i].name);
		else
			more++;
	}
	if (names[0])
		return nslab_err_setx(err, EBUSY,
				      "router '%s' still has devices or routers behind it: %s%s "
				      "(remove them first, or --force to remove them too)",
				      plan->nodes[idx].name, names, more ? ", ..." : "");
	for (size_t i = 1; i < plan->n_nodes; i++) {
		if (!gone[i])
			continue;
		if (plan->nodes[i].region)
			return nslab_err_setx(err, EOPNOTSUPP,
					      "'%s' is a region: regions are not removed at run "
					      "time",
					      plan->nodes[i].name);
	}
	return 0;
}

static bool same_net(const struct nslab_prefix *a, const struct nslab_prefix *net)
{
	return prefix_is_set(a) && a->family == net->family && a->len == net->len &&
	       prefix_overlaps(a, net);
}

/* Whether route pr leads to a subnet of a node going away. */
static bool route_to_gone(const struct lab_plan *plan, const bool *gone,
			  const struct plan_route *pr)
{
	for (size_t i = 1; pr->dst.len && i < plan->n_nodes; i++) {
		const struct plan_node *n = &plan->nodes[i];

		if (gone[i] && (same_net(&n->down4, &pr->dst) || same_net(&n->down6, &pr->dst) ||
				same_net(&n->ext6, &pr->dst)))
			return true;
	}
	return false;
}

/* Routes to the removed subnets out of the nodes that stay (kernel and plan). */
static void drop_routes(nslab_lab *lab, const bool *gone)
{
	struct lab_plan *plan = lab->plan;

	for (size_t i = 0; i < plan->n_nodes; i++) {
		struct plan_node *pn = &plan->nodes[i];
		size_t k = 0;

		if (gone[i])
			continue;
		for (size_t j = 0; j < pn->n_routes; j++) {
			if (route_to_gone(plan, gone, &pn->routes[j])) {
				/* best effort: a stale route leads nowhere anyway */
				(void)route_change(&lab->nodes[i], RTM_DELROUTE, &pn->routes[j],
						   NULL);
				if (pn->region) /* the other regions route it over their links */
					lab_regions_drop_route(lab, &pn->routes[j].dst);
				continue;
			}
			pn->routes[k++] = pn->routes[j];
		}
		pn->n_routes = k;
	}
}

/* Every process inside the namespace: the lab's own (reaped), and `nslab exec`'s. */
static void kill_inside(nslab_lab *lab, struct nslab_node *n)
{
	struct stat ns_st;
	DIR *d;

	for (struct nslab_proc **pp = &lab->procs; *pp;) {
		struct nslab_proc *p = *pp;
		int status;

		if (p->node != n) {
			pp = &p->next;
			continue;
		}
		if (!p->reaped) {
			(void)syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
			if (spawn_wait(p->pidfd, &status, NULL) == 0) {
				p->reaped = true;
				p->status = status;
			}
		}
		/* the handle stays the caller's, without its node or lab */
		*pp = p->next;
		p->lab = NULL;
		p->node = NULL;
	}
	if (fstat(n->ns->fd, &ns_st) < 0 || !(d = opendir("/proc")))
		return;
	for (struct dirent *e; (e = readdir(d));) {
		char path[64];
		struct stat st;
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &st) == 0 && st.st_ino == ns_st.st_ino && st.st_dev == ns_st.st_dev)
			(void)kill((pid_t)pid, SIGKILL);
	}
	(void)closedir(d);
}

/*
 * Its veths deleted now: the kernel cleans a closed namespace up later, on a
 * work queue, so their peers on the upstream's bridge (and their names there,
 * which a node added again wants) would linger for a while.
 */
static void unplug(nslab_lab *lab, size_t i)
{
	const struct plan_node *pn = &lab->plan->nodes[i];
	struct nlsock *nl = lab->nodes[i].ns->nl;

	for (size_t k = 0; k < pn->n_ifaces; k++) {
		int ifindex;

		if (rtnl_link_index(nl, pn->ifaces[k].name, &ifindex, NULL) >= 0)
			(void)rtnl_link_del(nl, ifindex, NULL);
	}
}

/* Step 3: the plan, spec, nodes, link and region tables without the gone nodes. */
static void compact(nslab_lab *lab, const bool *gone, size_t *newidx)
{
	struct lab_plan *plan = lab->plan;
	size_t n = plan->n_nodes, j = 0;

	for (size_t i = 0; i < n; i++)
		newidx[i] = gone[i] ? SIZE_MAX : j++;
	for (struct nslab_proc *p = lab->procs; p; p = p->next)
		if (p->node)
			p->node = &lab->nodes[newidx[p->node - lab->nodes]];
	for (size_t i = n; i-- > 1;) {
		struct plan_node *pn = &plan->nodes[i];

		if (!gone[i])
			continue;
		lab_nat64_node_removed(lab, i);
		lab_links_node_removed(lab, i);
		lab_regions_node_removed(lab, i);
		/* the spec entry, and the index of every later one of its kind */
		for (size_t k = 1; k < n; k++)
			if (plan->nodes[k].kind == pn->kind &&
			    plan->nodes[k].spec_index > pn->spec_index)
				plan->nodes[k].spec_index--;
		if (pn->kind == PLAN_ROUTER) {
			lab_spec_remove_router(lab->spec, (size_t)pn->spec_index);
			plan->n_routers--;
		} else {
			lab_spec_remove_device(lab->spec, (size_t)pn->spec_index);
			plan->n_devices--;
		}
		free(pn->name);
		free(pn->ifaces);
		free(pn->routes);
	}
	for (size_t i = 0; i < n; i++) {
		if (gone[i])
			continue;
		plan->nodes[newidx[i]] = plan->nodes[i];
		lab->nodes[newidx[i]] = lab->nodes[i];
	}
	plan->n_nodes = j;
	for (size_t i = 0; i < j; i++)
		for (size_t k = 0; k < plan->nodes[i].n_ifaces; k++)
			plan->nodes[i].ifaces[k].up_node = newidx[plan->nodes[i].ifaces[k].up_node];
	nodes_repoint(lab);
	(void)lab_plan_reindex(plan, NULL); /* fewer nodes: cannot fail */
}

static void emit_removed(nslab_lab *lab, const char *name, const bool *gone)
{
	struct jw *w = evlog_begin(&lab->ev, "node_removed");

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", name);
	jw_arr_open(w, "removed");
	for (size_t i = 1; i < lab->plan->n_nodes; i++)
		if (gone[i])
			jw_str(w, NULL, lab->plan->nodes[i].name);
	jw_arr_close(w);
	evlog_end(&lab->ev);
}

int nslab_lab_remove_node(nslab_lab *lab, const char *name, unsigned flags, nslab_error *err)
{
	_cleanup_free_ bool *gone = NULL;
	_cleanup_free_ size_t *newidx = NULL;
	_cleanup_free_ char *copy = NULL;
	ssize_t idx;
	int r = check_live(lab, err);

	if (r < 0)
		return r;
	idx = name ? lab_plan_find(lab->plan, name) : -1;
	if (idx <= 0)
		return nslab_err_setx(err, ENOENT, "no node '%s' in lab '%s'",
				      name ? SPEC_Q(name) : "", lab->spec->name);
	gone = calloc(lab->plan->n_nodes, sizeof(*gone));
	newidx = calloc(lab->plan->n_nodes, sizeof(*newidx));
	copy = strdup(name);
	if (!gone || !newidx || !copy)
		return nslab_err_set(err, ENOMEM, "remove '%s'", name);
	r = removal_set(lab, (size_t)idx, flags & NSLAB_REMOVE_FORCE, gone, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "remove '%s'", name);
	/* from here on nothing fails: the lab keeps a consistent shape */
	emit_removed(lab, name, gone);
	for (size_t i = 1; i < lab->plan->n_nodes; i++)
		if (gone[i])
			kill_inside(lab, &lab->nodes[i]);
	drop_routes(lab, gone);
	/*
	 * Their link conditions go with their links: the link thread lets go
	 * first (for every gone node before any namespace closes: a down
	 * direction's port is in the upstream's), then each veth is deleted
	 * with its filter or qdisc in one step. Clearing the conditions
	 * first would let traffic pass unconditioned until the veths go.
	 */
	lab_links_drop_nodes(lab, gone, SIZE_MAX);
	for (size_t i = 1; i < lab->plan->n_nodes; i++) {
		if (!gone[i])
			continue;
		unplug(lab, i);
		/* its /run/netns entry would hold the namespace after the close */
		lab_persist_drop(lab, i);
		lab_node_close(&lab->nodes[i]);
	}
	compact(lab, gone, newidx);
	lab_names_follow(lab);
	lab_state_rewrite(lab);
	return 0;
}
