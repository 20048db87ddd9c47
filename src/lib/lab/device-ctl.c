/* SPDX-License-Identifier: MIT */
/*
 * lab/device-ctl: a device's default interface changed while the lab runs
 * (nslab_lab_set_default_via() on a built lab; the supervisor's control
 * socket calls it). Its default routes are replaced in one netlink batch on
 * the device's own socket, the plan follows (status, NSLAB_IP_* of later
 * commands), one event, state.json written again.
 */
#include "nslab/lab.h"

#include <errno.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "lab/lab.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"

/* The gateway a device's default route of one family takes through iface k (or another). */
static const struct nslab_prefix *default_gw(const struct plan_node *pn, size_t k, bool v6)
{
	const struct nslab_prefix *gw = v6 ? &pn->ifaces[k].gw6 : &pn->ifaces[k].gw4;

	/* as the plan does: another interface's when this one lacks the family */
	for (size_t j = 0; !prefix_is_set(gw) && j < pn->n_ifaces; j++)
		gw = v6 ? &pn->ifaces[j].gw6 : &pn->ifaces[j].gw4;
	return gw;
}

/* Replace the default routes of the device's namespace; the plan's routes follow. */
static int replace_defaults(struct nslab_node *n, struct plan_node *pn, size_t k, nslab_error *err)
{
	char buf[2 * NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct nlbatch b;
	int r = 0;

	nlbatch_init(&b, buf, sizeof(buf));
	for (size_t i = 0; r >= 0 && i < pn->n_routes; i++) {
		struct plan_route *pr = &pn->routes[i];
		const struct nslab_prefix *gw;
		struct rtnl_route rt;
		struct nlmsghdr *nlh = nlbatch_tail(&b);

		if (pr->dst.len != 0)
			continue;
		gw = default_gw(pn, k, pr->dst.family == AF_INET6);
		rt = (struct rtnl_route){ .dst = pr->dst, .via = *gw };
		r = rtnl_build_route(nlh, nlbatch_room(&b), RTM_NEWROUTE, &rt, err);
		if (r < 0)
			break;
		nlh->nlmsg_flags = (nlh->nlmsg_flags & ~NLM_F_EXCL) | NLM_F_REPLACE;
		nlbatch_push(&b);
		pr->via = *gw;
	}
	if (r >= 0 && b.count)
		r = nlsock_talk_batch(n->ns->nl, &b, err);
	return r;
}

static int find_iface(nslab_lab *lab, const char *device, const char *ifname,
		      struct nslab_node **ret_n, size_t *ret_k, nslab_error *err)
{
	struct nslab_node *n = device ? nslab_lab_node(lab, device) : NULL;

	if (!n)
		return nslab_err_setx(err, ENOENT, "no node '%s' in lab '%s'", device ? device : "",
				      lab->spec->name);
	if (n->pn->kind != PLAN_DEVICE)
		return nslab_err_setx(err, EINVAL, "'%s' is a router, not a device", device);
	for (size_t k = 0; ifname && k < n->pn->n_ifaces; k++)
		if (strcmp(n->pn->ifaces[k].name, ifname) == 0) {
			*ret_n = n;
			*ret_k = k;
			return 0;
		}
	return nslab_err_setx(err, ENOENT, "device '%s' has no interface '%s'", device,
			      ifname ? ifname : "");
}

int lab_set_default_via_live(nslab_lab *lab, const char *device, const char *ifname,
			     nslab_error *err)
{
	struct spec_device *sd;
	struct plan_node *pn;
	struct nslab_node *n = NULL;
	struct jw *w;
	size_t k = 0;
	char *copy;
	int r = find_iface(lab, device, ifname, &n, &k, err);

	if (r < 0)
		return r;
	if (lab->spec->ra)
		return nslab_err_setx(err, EOPNOTSUPP,
				      "device '%s': default-via cannot change under RA "
				      "provisioning yet",
				      device);
	pn = &lab->plan->nodes[n->idx];
	sd = &lab->spec->devices[pn->spec_index];
	copy = strdup(ifname);
	if (!copy)
		return nslab_err_set(err, ENOMEM, "default-via");
	r = replace_defaults(n, pn, k, err);
	if (r < 0) {
		free(copy);
		return nslab_err_prefix(err, r, "device '%s': default routes via %s", device,
					ifname);
	}
	pn->default_iface = (ssize_t)k;
	free(sd->default_via);
	sd->default_via = copy;
	/* NSLAB_IP_<DEVICE> of later commands is the new primary's address */
	if (lab_env_make(lab, err) < 0)
		log_debugf(&lab->log, "%s, ignoring", err->msg);
	w = evlog_begin(&lab->ev, "default_via_changed");
	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", device);
	jw_str(w, "iface", ifname);
	evlog_end(&lab->ev);
	lab_state_rewrite(lab);
	return 0;
}
