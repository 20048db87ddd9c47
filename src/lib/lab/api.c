/* SPDX-License-Identifier: MIT */
/* lab/api: the public nslab_lab / nslab_node / nslab_proc calls (include/nslab/lab.h). */
#include "lab/lab.h"
#include "lab/links.h"
#include "lab/regions.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/labfile.h"
#include "lab/nat64-run.h"
#include "lab/router-preset.h"
#include "ns/spawn.h"
#include "ns/userns.h"

/*
 * Grow the fd table while the process still has one thread. fd_move_high()
 * puts long-lived fds at FD_SETSIZE and above, and growing the table of a
 * process with several threads waits for an RCU grace period (the kernel's
 * expand_fdtable(): 10-20 ms each time here). A table that holds fd
 * 2 * FD_SETSIZE has 4096 slots: a lab of a thousand nodes fits.
 */
static void grow_fd_table(void)
{
	_cleanup_close_ int fd = open("/", O_PATH | O_CLOEXEC);
	int high = -1;

	for (int at = 2 * FD_SETSIZE; fd >= 0 && high < 0 && at >= FD_SETSIZE; at -= FD_SETSIZE)
		high = fcntl(fd, F_DUPFD_CLOEXEC, at); /* EINVAL past the fd limit */
	if (high >= 0)
		(void)close(high);
}

int nslab_bootstrap(nslab_error *err)
{
	(void)spawn_raise_nofile();
	grow_fd_table();
	return userns_bootstrap(err);
}

static int lab_alloc(struct lab_spec *spec, nslab_lab **ret, nslab_error *err)
{
	nslab_lab *lab = calloc(1, sizeof(*lab));

	if (!lab) {
		lab_spec_free(spec);
		return nslab_err_set(err, ENOMEM, "allocate lab");
	}
	lab->spec = spec;
	lab->mntns_fd = -1;
	lab->hosts_fd = -1;
	lab->listen_fd = -1;
	lab->outdir_fd = -1;
	lab->init.pidfd = lab->init.nsfd = -1;
	lab->rootless = userns_is_nested();
	evlog_init(&lab->ev);
	*ret = lab;
	return 0;
}

int nslab_lab_from_file(const char *path, nslab_lab **ret, nslab_error *err)
{
	struct lab_spec *spec;
	int r = labfile_parse(path, &spec, err);

	return r < 0 ? r : lab_alloc(spec, ret, err);
}

int lab_from_tree(const struct ynode *tree, const char *file, nslab_lab **ret, nslab_error *err)
{
	struct lab_spec *spec;
	int r = labfile_parse_tree(tree, file, &spec, err);

	return r < 0 ? r : lab_alloc(spec, ret, err);
}

int lab_from_spec(struct lab_spec *spec, nslab_lab **ret, nslab_error *err)
{
	return lab_alloc(spec, ret, err);
}

int nslab_lab_new(const char *name, nslab_lab **ret, nslab_error *err)
{
	struct lab_spec *spec;
	int r = lab_spec_new(name, &spec, err);

	return r < 0 ? r : lab_alloc(spec, ret, err);
}

static void proc_kill_and_reap(struct nslab_proc *p)
{
	int status;

	if (p->reaped)
		return;
	(void)syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
	if (spawn_wait(p->pidfd, &status, NULL) == 0) {
		p->reaped = true;
		p->status = status;
	}
}

nslab_lab *nslab_lab_free(nslab_lab *lab)
{
	if (!lab)
		return NULL;
	for (struct nslab_proc *p = lab->procs; p; p = p->next) {
		proc_kill_and_reap(p);
		p->lab = NULL; /* a handle freed later must not touch the lab */
	}
	lab_persist_remove(lab); /* while the namespaces are still ours to identify */
	if (lab->built) {
		lab_teardown(lab);
		lab_emit_destroyed(lab);
	}
	lab->listen_fd = close_fd(lab->listen_fd);
	for (size_t i = 0; i < lab->n_waiters; i++)
		(void)close(lab->waiters[i]); /* tells `nslab down` the lab is gone */
	free(lab->waiters);
	evlog_close(&lab->ev);
	lab_env_free(lab);
	free(lab->nodes);
	lab_plan_free(lab->plan);
	lab_spec_free(lab->spec);
	lab->outdir_fd = close_fd(lab->outdir_fd);
	free(lab->outdir_path);
	free(lab);
	return NULL;
}

static int check_not_built(const nslab_lab *lab, nslab_error *err)
{
	if (lab->built)
		return nslab_err_setx(err, EBUSY, "lab '%s' is already built", lab->spec->name);
	return 0;
}

/* nslab_lab_add_router() on a built lab: its options as the keys of nslab_lab_add_node(). */
static int add_router_live(nslab_lab *lab, const char *name, const struct nslab_router_opts *o,
			   nslab_error *err)
{
	const char *kv[9];
	char mtu[16];
	size_t n = 0;

	if (o && o->upstream) {
		kv[n++] = "upstream";
		kv[n++] = o->upstream;
	}
	if (o && o->pool == NSLAB_POOL_PRIVATE) {
		kv[n++] = "pool";
		kv[n++] = "private";
	}
	if (o && (o->ip == NSLAB_IP_V4 || o->ip == NSLAB_IP_V6)) {
		kv[n++] = "ip";
		kv[n++] = o->ip == NSLAB_IP_V4 ? "v4" : "v6";
	}
	if (o && o->mtu) {
		snprintf(mtu, sizeof(mtu), "%u", o->mtu);
		kv[n++] = "mtu";
		kv[n++] = mtu;
	}
	kv[n] = NULL;
	return nslab_lab_add_node(lab, "router", name, kv, err);
}

int nslab_lab_add_router(nslab_lab *lab, const char *name, const struct nslab_router_opts *opts,
			 nslab_error *err)
{
	struct spec_router r = { .name = (char *)name };

	if (lab->built)
		return add_router_live(lab, name, opts, err);

	if (opts) {
		r.upstream = (char *)opts->upstream;
		r.pool = opts->pool == NSLAB_POOL_PRIVATE ? LAB_POOL_PRIVATE : LAB_POOL_PUBLIC;
		r.ip = opts->ip == NSLAB_IP_V4	 ? LAB_IP_V4
		       : opts->ip == NSLAB_IP_V6 ? LAB_IP_V6
						 : LAB_IP_DUAL;
		r.mtu = opts->mtu;
	}
	return check_not_built(lab, err) ?: lab_spec_add_router(lab->spec, &r, err);
}

int nslab_lab_add_region(nslab_lab *lab, const char *name, nslab_error *err)
{
	return check_not_built(lab, err)
		       ?: lab_spec_add_region(lab->spec, name, (struct spec_loc){ 0 }, err);
}

int nslab_lab_link_regions(nslab_lab *lab, const char *a, const char *b,
			   const nslab_link_condition *cond, nslab_error *err)
{
	struct spec_region_link l = { .a = (char *)a, .b = (char *)b };

	if (cond)
		l.cond = *cond;
	return check_not_built(lab, err) ?: lab_spec_add_region_link(lab->spec, &l, err);
}

int nslab_lab_set_router_region(nslab_lab *lab, const char *router, const char *region,
				nslab_error *err)
{
	ssize_t i = router ? lab_spec_router_index(lab->spec, router) : -1;
	char *copy;
	int r = check_not_built(lab, err);

	if (r < 0)
		return r;
	if (i < 0)
		return nslab_err_setx(err, ENOENT, "no router '%s'", router ? router : "");
	copy = region ? strdup(region) : NULL;
	if (region && !copy)
		return nslab_err_set(err, ENOMEM, "router '%s': set region", router);
	free(lab->spec->routers[i].region);
	lab->spec->routers[i].region = copy;
	return 0;
}

int nslab_lab_set_router_preset(nslab_lab *lab, const char *router, const char *preset,
				nslab_error *err)
{
	ssize_t i = router ? lab_spec_router_index(lab->spec, router) : -1;
	int r = check_not_built(lab, err);

	if (r < 0)
		return r;
	if (i < 0)
		return nslab_err_setx(err, ENOENT, "no router '%s'", router ? router : "");
	if (!preset || router_preset_apply(preset, &lab->spec->routers[i]) < 0)
		return nslab_err_setx(err, EINVAL, "unknown router preset '%s' (expected %s)",
				      preset ? preset : "", router_preset_list());
	return 0;
}

int nslab_lab_add_device(nslab_lab *lab, const char *name, const char *router, nslab_error *err)
{
	ssize_t d;
	int r;

	if (lab->built)
		return nslab_lab_add_node(
			lab, "device", name,
			router ? (const char *const[]){ "router", router, NULL } : NULL, err);
	r = check_not_built(lab, err);

	if (r >= 0)
		r = lab_spec_add_device(lab->spec, name, (struct spec_loc){ 0 }, err);
	if (r < 0 || !router)
		return r;
	d = lab_spec_device_index(lab->spec, name);
	return lab_spec_add_iface(lab->spec, (size_t)d,
				  &(struct spec_iface){ .name = "eth0", .router = (char *)router },
				  err);
}

int nslab_lab_add_iface(nslab_lab *lab, const char *device, const char *ifname, const char *router,
			nslab_error *err)
{
	ssize_t d = lab_spec_device_index(lab->spec, device);

	if (lab->built)
		return lab_add_iface_live(lab, device, ifname, router, err);
	if (d < 0)
		return nslab_err_setx(err, ENOENT, "no device '%s'", device);
	return lab_spec_add_iface(
		lab->spec, (size_t)d,
		&(struct spec_iface){ .name = (char *)ifname, .router = (char *)router }, err);
}

int nslab_lab_set_default_via(nslab_lab *lab, const char *device, const char *ifname,
			      nslab_error *err)
{
	ssize_t d = lab_spec_device_index(lab->spec, device);
	char *copy;

	if (lab->built)
		return lab_set_default_via_live(lab, device, ifname, err);
	if (d < 0)
		return nslab_err_setx(err, ENOENT, "no device '%s'", device);
	copy = strdup(ifname);
	if (!copy)
		return nslab_err_set(err, ENOMEM, "set default_via");
	free(lab->spec->devices[d].default_via);
	lab->spec->devices[d].default_via = copy;
	return 0;
}

int nslab_lab_add_dns(nslab_lab *lab, const char *hostname, const char *target, nslab_error *err)
{
	struct spec_dns d = { .name = (char *)hostname, .target = (char *)target };

	return check_not_built(lab, err) ?: lab_spec_add_dns(lab->spec, &d, err);
}

void nslab_lab_set_seed(nslab_lab *lab, uint64_t seed)
{
	lab->spec->seed = seed;
}

int nslab_lab_set_name(nslab_lab *lab, const char *name, nslab_error *err)
{
	int r = check_not_built(lab, err);
	char *copy;

	if (r < 0)
		return r;
	if (!spec_node_name_ok(name) || strlen(name) > LAB_NAME_MAX)
		return nslab_err_setx(err, EINVAL,
				      "'%s': not a valid lab name (a-z, 0-9 and '-', at most %d)",
				      name, LAB_NAME_MAX);
	copy = strdup(name);
	if (!copy)
		return nslab_err_set(err, ENOMEM, "set lab name");
	free(lab->spec->name);
	lab->spec->name = copy;
	return 0;
}

int nslab_lab_set_link_backend(nslab_lab *lab, const char *backend, nslab_error *err)
{
	/* in enum lab_link_backend's order, as the lab file's link_backend: */
	static const char *const names[] = { "auto", "wire", "netem" };
	int r = check_not_built(lab, err);

	if (r < 0)
		return r;
	for (size_t i = 0; backend && i < ARRAY_SIZE(names); i++)
		if (strcmp(backend, names[i]) == 0) {
			lab->spec->link_backend = (enum lab_link_backend)i;
			return 0;
		}
	return nslab_err_setx(err, EINVAL, "link backend '%s': expected auto, wire or netem",
			      backend ? backend : "");
}

int nslab_lab_set_outdir(nslab_lab *lab, const char *dir, nslab_error *err)
{
	_cleanup_close_ int dirfd = -1;
	int fd, r;

	r = outdir_open(dir, &dirfd, err);
	if (r < 0)
		return r;
	r = outdir_create(dirfd, "events.jsonl", &fd, err);
	if (r >= 0)
		r = evlog_open_fd(&lab->ev, fd, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "output directory '%s'", dir);
	(void)close_fd(lab->outdir_fd);
	lab->outdir_fd = TAKE_FD(dirfd);
	free(lab->outdir_path);
	lab->outdir_path = realpath(dir, NULL); /* for `nslab ls`; best effort */
	return 0;
}

void nslab_lab_set_log_func(nslab_lab *lab, nslab_log_func fn, void *data)
{
	lab->log.fn = fn;
	lab->log.data = data;
}

void nslab_lab_set_event_func(nslab_lab *lab, nslab_event_func fn, void *data)
{
	lab->ev.cb = fn;
	lab->ev.cb_data = data;
}

/* A Linux bridge takes at most BR_MAX_PORTS (1024) ports. */
#define BRIDGE_PORTS_MAX 1023

static int check_bridge_ports(const struct lab_spec *spec, const struct lab_plan *plan,
			      nslab_error *err)
{
	_cleanup_free_ size_t *ports = calloc(plan->n_nodes, sizeof(*ports));

	if (!ports)
		return nslab_err_set(err, ENOMEM, "count bridge ports");
	for (size_t i = 1; i < plan->n_nodes; i++) {
		const struct plan_node *pn = &plan->nodes[i];

		for (size_t k = 0; k < pn->n_ifaces; k++) {
			if (++ports[pn->ifaces[k].up_node] <= BRIDGE_PORTS_MAX)
				continue;
			return spec_error(
				err, spec,
				pn->kind == PLAN_DEVICE ? spec->devices[pn->spec_index].loc
							: spec->routers[pn->spec_index].loc,
				ENOSPC, "'%s': router '%s' has no bridge port left (%d)", pn->name,
				plan->nodes[pn->ifaces[k].up_node].name, BRIDGE_PORTS_MAX);
		}
	}
	return 0;
}

static int lab_plan_checked(nslab_lab *lab, struct lab_plan **ret, nslab_error *err)
{
	struct lab_plan *plan = NULL;
	int r = lab_spec_validate(lab->spec, err);

	if (r >= 0)
		r = lab_plan_make(lab->spec, &plan, err);
	if (r >= 0)
		r = check_bridge_ports(lab->spec, plan, err);
	if (r < 0) {
		lab_plan_free(plan);
		return r;
	}
	*ret = plan;
	return 0;
}

int nslab_lab_check(nslab_lab *lab, nslab_error *err)
{
	struct lab_plan *plan;
	int r = lab_plan_checked(lab, &plan, err);

	if (r < 0)
		return r;
	lab->n_checked = plan->n_nodes - 1;
	lab_plan_free(plan);
	return r;
}

static int lab_prepare(nslab_lab *lab, nslab_error *err)
{
	int r = lab_plan_checked(lab, &lab->plan, err);

	if (r < 0)
		return r;
	lab->nodes = calloc(lab->plan->n_nodes, sizeof(*lab->nodes));
	if (!lab->nodes)
		return nslab_err_set(err, ENOMEM, "allocate %zu nodes", lab->plan->n_nodes);
	for (size_t i = 0; i < lab->plan->n_nodes; i++) {
		lab->nodes[i].lab = lab;
		lab->nodes[i].idx = i;
		lab->nodes[i].pn = &lab->plan->nodes[i];
		lab->nodes[i].mntns_fd = -1;
		lab->nodes[i].ra_fd = -1;
	}
	return lab_env_make(lab, err);
}

static void lab_unprepare(nslab_lab *lab)
{
	free(lab->nodes);
	lab->nodes = NULL;
	lab->plan = lab_plan_free(lab->plan);
	lab_env_free(lab);
}

int nslab_lab_build(nslab_lab *lab, nslab_error *err)
{
	nslab_error state_err = { 0 };
	int r = check_not_built(lab, err);

	if (r >= 0)
		r = lab_prepare(lab, err);
	if (r >= 0)
		r = lab_build(lab, err);
	if (r >= 0 && !lab->spec->bare) {
		/* from this thread: the lab's processes die with it (PR_SET_PDEATHSIG) */
		r = pidns_init_start(lab->mntns_fd, lab->nodes[0].ns->fd, &lab->init, err);
		if (r < 0)
			lab_teardown(lab);
		else
			log_debugf(&lab->log, "pid 1 of the lab's PID namespace: %d",
				   (int)lab->init.pid);
	}
	if (r >= 0) {
		lab->built = true; /* for the link calls */
		r = lab_links_start(lab, err);
		if (r >= 0)
			r = lab_regions_start(lab, err);
		if (r >= 0)
			r = lab_nat64_start(lab, err);
		lab->built = false;
		if (r < 0)
			lab_teardown(lab);
	}
	if (r < 0) {
		lab_unprepare(lab);
		return r;
	}
	lab->built = true;
	lab->built_at = evlog_now();
	lab_emit_built(lab);
	/*
	 * Best effort: the lab is up, and failing now would leave it behind a
	 * failure return. state.json is a convenience copy of `nslab status --json`.
	 */
	if (lab_state_write(lab, &state_err) < 0)
		log_debugf(&lab->log, "%s, ignoring", state_err.msg);
	return 0;
}

const char *nslab_lab_name(const nslab_lab *lab)
{
	return lab->spec->name;
}

bool nslab_lab_is_rootless(const nslab_lab *lab)
{
	return lab->rootless;
}

size_t nslab_lab_node_count(const nslab_lab *lab)
{
	return lab->plan ? lab->plan->n_nodes - 1 : lab->n_checked;
}

nslab_node *nslab_lab_node_at(nslab_lab *lab, size_t i)
{
	return i + 1 < (lab->plan ? lab->plan->n_nodes : 0) ? &lab->nodes[i + 1] : NULL;
}

nslab_node *nslab_lab_node(nslab_lab *lab, const char *name)
{
	ssize_t i = lab->plan ? lab_plan_find(lab->plan, name) : -1;

	return i > 0 ? &lab->nodes[i] : NULL;
}

const char *nslab_node_name(const nslab_node *node)
{
	return node->pn->name;
}

enum nslab_node_kind nslab_node_kind(const nslab_node *node)
{
	return node->pn->kind == PLAN_ROUTER ? NSLAB_NODE_ROUTER : NSLAB_NODE_DEVICE;
}

size_t nslab_node_iface_count(const nslab_node *node)
{
	return node->pn->n_ifaces;
}

const char *nslab_node_iface_name(const nslab_node *node, size_t i)
{
	return i < node->pn->n_ifaces ? node->pn->ifaces[i].name : NULL;
}

int nslab_node_addr(const nslab_node *node, const char *iface, int family, char *buf, size_t len,
		    nslab_error *err)
{
	const struct plan_node *pn = node->pn;
	ssize_t i = iface ? -1 : lab_node_primary_iface(pn);
	const struct nslab_prefix *a;

	for (size_t k = 0; iface && k < pn->n_ifaces; k++)
		if (strcmp(pn->ifaces[k].name, iface) == 0)
			i = (ssize_t)k;
	if (i < 0)
		return nslab_err_setx(err, ENOENT, "node '%s' has no interface '%s'", pn->name,
				      iface ? iface : "(primary)");
	a = family == AF_INET	 ? &pn->ifaces[i].a4
	    : family == AF_INET6 ? &pn->ifaces[i].a6
				 : &pn->ifaces[i].ll6;
	if (!prefix_is_set(a))
		return nslab_err_setx(err, ENOENT, "node '%s' interface '%s' has no such address",
				      pn->name, pn->ifaces[i].name);
	prefix_format(a, false, buf, len);
	return 0;
}

int nslab_node_netns_fd(const nslab_node *node)
{
	return node->ns ? node->ns->fd : -1;
}
