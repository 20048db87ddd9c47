/* SPDX-License-Identifier: MIT */
/*
 * lab/links: link conditions of a built lab. Every veth of the plan is a
 * link, named by its node and the node's interface; `up` is the egress of
 * the node's end, `down` the egress of the upstream's end. The conditions of
 * the lab file (an interface's `link:`, a router's `link:` for its uplink,
 * else the upstream router's `downlink:`) are applied once the lab is built;
 * nslab_lab_set_condition() changes them at run time.
 *
 * Backends: `wire` (link/wire) everywhere; `netem` (link/netem) where the
 * kernel has sch_netem (probed once, in a scratch namespace), refused with the
 * probe's reason elsewhere; `auto` takes netem for a link whose condition netem
 * can express, when the kernel has it, and wire otherwise. A link that
 * changes backend gets the new one first, then loses the old (clsact's
 * redirect comes before the root qdisc, so the wire wins while both exist).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/json.h"
#include "lab/lab.h"
#include "lab/links.h"
#include "link/cond.h"
#include "link/netem.h"
#include "link/wire.h"
#include "nl/rtnl.h"

struct lab_link {
	size_t node, iface; /* plan indices */
	nslab_link_condition cond;
	struct wire_port *up, *down;
	bool netem; /* its condition is in netem qdiscs (then up and down are NULL) */
};

struct lab_links {
	struct wire *w;
	struct lab_link *v;
	size_t n, cap;
	int netem;	      /* the probe's answer: 1 netem here, 0 not, -1 not asked yet */
	nslab_error no_netem; /* why not, for messages */
};

void lab_links_stop(struct nslab_lab *lab)
{
	if (!lab->links)
		return;
	lab->links->w = wire_free(lab->links->w, false);
	free(lab->links->v);
	free(lab->links);
	lab->links = NULL;
}

static struct lab_link *find(const struct lab_links *ls, size_t node, size_t iface)
{
	for (size_t i = 0; ls && i < ls->n; i++)
		if (ls->v[i].node == node && ls->v[i].iface == iface)
			return &ls->v[i];
	return NULL;
}

/* The link seed: the condition's own, else the lab seed mixed with the link's name. */
static uint64_t link_seed(const struct nslab_lab *lab, const nslab_link_condition *c, size_t node,
			  size_t iface)
{
	const struct plan_node *pn = &lab->plan->nodes[node];

	if (c->has_seed)
		return c->seed;
	return hash_str(hash_str(hash_seed(lab->spec->seed), pn->name), pn->ifaces[iface].name);
}

static int port_spec(struct nslab_lab *lab, size_t node, const char *ifname, const char *what,
		     struct wire_port_spec *ret, nslab_error *err)
{
	struct nslab_node *n = &lab->nodes[node];
	int ifindex, r = rtnl_link_index(n->ns->nl, ifname, &ifindex, err);

	if (r < 0)
		return r;
	*ret = (struct wire_port_spec){ n->ns->fd, n->ns->nl, ifindex, what };
	return 0;
}

/* One direction to its new state: added, changed or removed. */
static int apply_dir(struct nslab_lab *lab, struct lab_link *l, bool up, const nslab_link_dir *d,
		     uint64_t seed, nslab_error *err)
{
	const struct plan_node *pn = &lab->plan->nodes[l->node];
	const struct plan_iface *pi = &pn->ifaces[l->iface];
	struct wire_port **port = up ? &l->up : &l->down;
	struct wire_port_spec s;
	char what[128];
	int r;

	seed = wire_dir_seed(seed, up);
	if (nslab_link_dir_is_none(d)) {
		r = *port ? wire_port_del(lab->links->w, *port, err) : 0;
		*port = NULL;
		return r;
	}
	if (*port)
		return wire_port_set(lab->links->w, *port, d, seed, err);
	snprintf(what, sizeof(what), "link %s %s %s", pn->name, pi->name, up ? "up" : "down");
	r = up ? port_spec(lab, l->node, pi->name, what, &s, err)
	       : port_spec(lab, pi->up_node, pi->peer_name, what, &s, err);
	return r < 0 ? r : wire_port_add(lab->links->w, &s, d, seed, port, err);
}

static int links_init(struct nslab_lab *lab, nslab_error *err)
{
	if (lab->links)
		return 0;
	lab->links = calloc(1, sizeof(*lab->links));
	if (!lab->links)
		return nslab_err_set(err, ENOMEM, "link conditions");
	lab->links->netem = -1;
	return wire_new(&lab->links->w, err);
}

int lab_links_wire(struct nslab_lab *lab, struct wire **ret, nslab_error *err)
{
	int r = links_init(lab, err);

	if (r < 0)
		return r;
	*ret = lab->links->w;
	return 0;
}

/* Whether the kernel has netem (probed the first time only). Return: 1, 0 or -errno. */
static int has_netem(struct nslab_lab *lab, nslab_error *err)
{
	struct lab_links *ls = lab->links;
	int r;

	if (ls->netem >= 0)
		return ls->netem;
	r = netem_probe(&ls->no_netem);
	if (r < 0)
		return nslab_err_prefix(err, r, "link backend");
	ls->netem = r;
	return r;
}

static int netem_absent(struct nslab_lab *lab, nslab_error *err)
{
	return nslab_err_setx(err, EOPNOTSUPP,
			      "link_backend netem: this kernel has no netem qdisc (%s); the wire "
			      "backend works on every kernel: use wire or auto",
			      lab->links->no_netem.msg);
}

/* Which backend c goes to: netem (true) or wire, by link_backend and the kernel. */
static int pick_netem(struct nslab_lab *lab, const nslab_link_condition *c, bool *ret,
		      nslab_error *err)
{
	enum lab_link_backend b = lab->spec->link_backend;
	struct tc_netem q;
	int r;

	*ret = false;
	if (b == LAB_LINK_WIRE)
		return 0;
	r = has_netem(lab, err);
	if (r < 0)
		return r;
	if (b == LAB_LINK_NETEM) {
		if (!r)
			return netem_absent(lab, err);
		r = (nslab_link_dir_is_none(&c->up) ? 0 : netem_params(&c->up, 0, &q, err));
		if (r >= 0)
			r = nslab_link_dir_is_none(&c->down) ? 0
							     : netem_params(&c->down, 0, &q, err);
		*ret = r >= 0;
		return r < 0 ? r : 0;
	}
	/* auto: netem where the kernel has it and it can express both directions */
	*ret = r && (nslab_link_dir_is_none(&c->up) || netem_params(&c->up, 0, &q, NULL) >= 0) &&
	       (nslab_link_dir_is_none(&c->down) || netem_params(&c->down, 0, &q, NULL) >= 0);
	return 0;
}

/* One direction through netem: the qdisc of the interface that sends it. */
static int netem_dir(struct nslab_lab *lab, struct lab_link *l, bool up, const nslab_link_dir *d,
		     uint64_t seed, nslab_error *err)
{
	const struct plan_iface *pi = &lab->plan->nodes[l->node].ifaces[l->iface];
	size_t node = up ? l->node : pi->up_node;
	struct nlsock *nl = lab->nodes[node].ns->nl;
	int ifindex, r = rtnl_link_index(nl, up ? pi->name : pi->peer_name, &ifindex, err);

	return r < 0 ? r : netem_set(nl, ifindex, d, wire_dir_seed(seed, up), err);
}

static struct lab_link *link_get(struct nslab_lab *lab, size_t node, size_t iface)
{
	struct lab_links *ls = lab->links;
	struct lab_link *l = find(ls, node, iface);

	if (l)
		return l;
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 16;
		struct lab_link *v = reallocarray(ls->v, cap, sizeof(*v));

		if (!v)
			return NULL;
		ls->v = v;
		ls->cap = cap;
	}
	l = &ls->v[ls->n++];
	*l = (struct lab_link){ .node = node, .iface = iface };
	return l;
}

static const char *backend_name(const struct lab_link *l)
{
	return l && l->netem ? "netem" : "wire";
}

static void emit(struct nslab_lab *lab, const struct lab_link *l)
{
	const struct plan_node *pn = &lab->plan->nodes[l->node];
	struct jw *w = evlog_begin(&lab->ev, "link_condition");
	char buf[512];

	jw_str(w, "node", pn->name);
	jw_str(w, "iface", pn->ifaces[l->iface].name);
	jw_str(w, "up", nslab_link_dir_format(&l->cond.up, buf, sizeof(buf)));
	jw_str(w, "down", nslab_link_dir_format(&l->cond.down, buf, sizeof(buf)));
	jw_str(w, "backend", backend_name(l));
	evlog_end(&lab->ev);
}

/*
 * A link going to netem, or leaving it: the new backend's state first, then
 * the old one's cleared (best effort), so that it is never unconditioned.
 */
static int link_apply_netem(struct nslab_lab *lab, struct lab_link *l,
			    const nslab_link_condition *c, uint64_t seed, bool netem,
			    nslab_error *err)
{
	static const nslab_link_dir none;
	int r;

	if (netem) {
		r = netem_dir(lab, l, true, &c->up, seed, err);
		if (r >= 0)
			r = netem_dir(lab, l, false, &c->down, seed, err);
		if (r < 0)
			return r;
		(void)apply_dir(lab, l, true, &none, 0, NULL);
		(void)apply_dir(lab, l, false, &none, 0, NULL);
	} else {
		r = apply_dir(lab, l, true, &c->up, seed, err);
		if (r >= 0)
			r = apply_dir(lab, l, false, &c->down, seed, err);
		if (r < 0)
			return r;
		(void)netem_dir(lab, l, true, &none, 0, NULL);
		(void)netem_dir(lab, l, false, &none, 0, NULL);
	}
	l->netem = netem;
	l->cond = *c;
	emit(lab, l);
	return 0;
}

static int link_apply(struct nslab_lab *lab, size_t node, size_t iface,
		      const nslab_link_condition *c, nslab_error *err)
{
	struct lab_link *l;
	uint64_t seed;
	bool netem;
	int r = links_init(lab, err);

	if (r < 0)
		return r;
	l = link_get(lab, node, iface);
	if (!l)
		return nslab_err_set(err, ENOMEM, "link conditions");
	seed = link_seed(lab, c, node, iface);
	r = pick_netem(lab, c, &netem, err);
	if (r < 0)
		return r;
	if (netem || l->netem)
		return link_apply_netem(lab, l, c, seed, netem, err);
	r = apply_dir(lab, l, true, &c->up, seed, err);
	if (r >= 0) {
		r = apply_dir(lab, l, false, &c->down, seed, err);
		/* both directions or neither: up goes back to what it was (best effort) */
		if (r < 0)
			(void)apply_dir(lab, l, true, &l->cond.up,
					link_seed(lab, &l->cond, node, iface), NULL);
	}
	if (r < 0)
		return r;
	l->cond = *c;
	emit(lab, l);
	return 0;
}

/*
 * A region link's condition as its interface sees it: the file's `up:` is a -> b,
 * the interface's is what its own region sends, so they swap when it is b's.
 */
static const nslab_link_condition *region_condition(const struct nslab_lab *lab,
						    const struct plan_node *pn,
						    const struct plan_iface *pi,
						    nslab_link_condition *buf)
{
	const struct spec_region_link *l = &lab->spec->region_links[pi->spec_iface];

	if (strcmp(pn->name, l->a) == 0)
		return &l->cond;
	*buf = l->cond;
	buf->up = l->cond.down;
	buf->down = l->cond.up;
	return buf;
}

/* What the lab file asks for on iface i of node n, or NULL. */
static const nslab_link_condition *file_condition(const struct nslab_lab *lab, size_t n, size_t i,
						  nslab_link_condition *buf)
{
	const struct plan_node *pn = &lab->plan->nodes[n];
	const struct plan_iface *pi = &pn->ifaces[i];
	const struct plan_node *up = &lab->plan->nodes[pi->up_node];
	const struct spec_router *ur =
		up->kind == PLAN_ROUTER ? &lab->spec->routers[up->spec_index] : NULL;

	if (pn->kind == PLAN_DEVICE && pi->spec_iface >= 0) {
		const struct spec_iface *si =
			&lab->spec->devices[pn->spec_index].ifaces[pi->spec_iface];

		if (si->has_link)
			return &si->link;
	}
	if (pn->region && i > 0)
		return region_condition(lab, pn, pi, buf);
	if (pn->kind == PLAN_ROUTER && i == 0 && lab->spec->routers[pn->spec_index].has_link)
		return &lab->spec->routers[pn->spec_index].link;
	return ur && ur->has_downlink ? &ur->downlink : NULL;
}

int lab_links_start(struct nslab_lab *lab, nslab_error *err)
{
	/* `link_backend: netem` on a kernel without it is refused up front */
	if (lab->spec->link_backend == LAB_LINK_NETEM) {
		int r = links_init(lab, err);

		if (r >= 0)
			r = has_netem(lab, err);
		if (r == 0)
			r = netem_absent(lab, err);
		if (r < 0)
			return r;
	}
	return lab_links_start_nodes(lab, 1, err);
}

int lab_links_start_nodes(struct nslab_lab *lab, size_t first, nslab_error *err)
{
	for (size_t n = first; n < lab->plan->n_nodes; n++) {
		for (size_t i = 0; i < lab->plan->nodes[n].n_ifaces; i++) {
			nslab_link_condition buf;
			const nslab_link_condition *c = file_condition(lab, n, i, &buf);
			int r = c ? link_apply(lab, n, i, c, err) : 0;

			if (r < 0)
				return r;
		}
	}
	return 0;
}

static bool going(const bool *gone, size_t first, size_t n)
{
	return n >= first || (gone && gone[n]);
}

void lab_links_drop_nodes(struct nslab_lab *lab, const bool *gone, size_t first)
{
	struct lab_links *ls = lab->links;

	for (size_t j = 0; ls && j < ls->n; j++) {
		struct lab_link *l = &ls->v[j];
		size_t up_node = lab->plan->nodes[l->node].ifaces[l->iface].up_node;

		if (!going(gone, first, l->node))
			continue;
		/* the up port's sink is in the node's namespace, the down port's in its upstream's */
		if (l->up)
			wire_port_drop(ls->w, l->up, false);
		if (l->down)
			wire_port_drop(ls->w, l->down, !going(gone, first, up_node));
		/* netem's qdiscs, like the wire's filters, go with the interface */
		*l = (struct lab_link){ .node = l->node, .iface = l->iface };
	}
}

static int lookup(nslab_lab *lab, const char *node, const char *iface, size_t *ret_n, size_t *ret_i,
		  nslab_error *err)
{
	ssize_t n;

	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "link: the lab is not built");
	n = node ? lab_plan_find(lab->plan, node) : -1;
	if (n <= 0)
		return nslab_err_setx(err, ENOENT, "link: no node '%s' in lab '%s'",
				      node ? node : "", lab->spec->name);
	for (size_t i = 0; iface && i < lab->plan->nodes[n].n_ifaces; i++)
		if (strcmp(lab->plan->nodes[n].ifaces[i].name, iface) == 0) {
			*ret_n = (size_t)n;
			*ret_i = i;
			return 0;
		}
	return nslab_err_setx(err, ENOENT, "link: node '%s' has no interface '%s'", node,
			      iface ? iface : "");
}

bool lab_link_busy(const struct nslab_lab *lab, size_t n, size_t i)
{
	const struct lab_link *l = find(lab->links, n, i);

	return l && (l->up || l->down || l->netem || lab_link_condition_at(lab, n, i));
}

void lab_links_iface_removed(struct nslab_lab *lab, size_t n, size_t i)
{
	struct lab_links *ls = lab->links;

	for (size_t j = 0; ls && j < ls->n;) {
		struct lab_link *l = &ls->v[j];

		if (l->node == n && l->iface == i) {
			memmove(l, l + 1, (ls->n - j - 1) * sizeof(*l));
			ls->n--;
			continue;
		}
		if (l->node == n && l->iface > i)
			l->iface--;
		j++;
	}
}

const nslab_link_condition *lab_link_condition_at(const struct nslab_lab *lab, size_t n, size_t i)
{
	const struct lab_link *l = find(lab->links, n, i);

	if (!l || (nslab_link_dir_is_none(&l->cond.up) && nslab_link_dir_is_none(&l->cond.down)))
		return NULL;
	return &l->cond;
}

int nslab_lab_set_condition(nslab_lab *lab, const char *node, const char *iface,
			    enum nslab_link_which which, const nslab_link_condition *cond,
			    nslab_error *err)
{
	static const nslab_link_condition none;
	nslab_link_condition c;
	const struct lab_link *l;
	size_t n, i;
	int r = lookup(lab, node, iface, &n, &i, err);

	if (r < 0)
		return r;
	l = find(lab->links, n, i);
	c = l ? l->cond : none;
	if (!cond)
		cond = &none;
	if (which != NSLAB_LINK_DOWN)
		c.up = cond->up;
	if (which != NSLAB_LINK_UP)
		c.down = cond->down;
	if (cond->has_seed || which == NSLAB_LINK_BOTH) {
		c.has_seed = cond->has_seed;
		c.seed = cond->seed;
	}
	r = link_apply(lab, n, i, &c, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "link %s %s", node, iface);
	(void)lab_state_write(lab, NULL); /* state.json follows, as events.jsonl did */
	return 0;
}

int nslab_lab_set_link_up(nslab_lab *lab, const char *node, const char *iface, bool up,
			  nslab_error *err)
{
	struct rtnl_link_change chg = RTNL_LINK_CHANGE_KEEP;
	const struct plan_iface *pi;
	struct nslab_node *peer;
	struct jw *w;
	size_t n, i;
	int ifindex, r = lookup(lab, node, iface, &n, &i, err);

	if (r < 0)
		return r;
	pi = &lab->plan->nodes[n].ifaces[i];
	peer = &lab->nodes[pi->up_node];
	chg.up = up;
	r = rtnl_link_index(peer->ns->nl, pi->peer_name, &ifindex, err);
	if (r >= 0)
		r = rtnl_link_set(peer->ns->nl, ifindex, &chg, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "link %s %s %s", node, iface, up ? "up" : "down");
	w = evlog_begin(&lab->ev, "link_state");
	jw_str(w, "node", node);
	jw_str(w, "iface", iface);
	jw_bool(w, "up", up);
	evlog_end(&lab->ev);
	return 0;
}

int nslab_lab_set_condition_words(nslab_lab *lab, const char *node, const char *iface,
				  const char *const *argv, size_t argc, nslab_error *err)
{
	struct linkcond_user user = { lab->spec->links, lab->spec->n_links };
	enum nslab_link_which which;
	nslab_link_condition c;
	int r = linkcond_from_words(argv, argc, &user, &c, &which, err);

	return r < 0 ? r : nslab_lab_set_condition(lab, node, iface, which, &c, err);
}

int nslab_lab_get_condition(nslab_lab *lab, const char *node, const char *iface,
			    nslab_link_condition *ret, nslab_error *err)
{
	const struct lab_link *l;
	size_t n, i;
	int r = lookup(lab, node, iface, &n, &i, err);

	if (r < 0)
		return r;
	l = find(lab->links, n, i);
	memset(ret, 0, sizeof(*ret));
	if (l)
		*ret = l->cond;
	return 0;
}

static void stats_of(struct nslab_lab *lab, struct wire_port *p, nslab_link_stats *ret)
{
	struct wire_stats s = { 0 };

	if (p)
		wire_port_stats(lab->links->w, p, &s, NULL);
	*ret = (nslab_link_stats){ s.passed,	s.lost,	      s.overflow,  s.too_big,
				   s.reordered, s.duplicated, s.corrupted, s.bytes };
}

int nslab_lab_link_stats(nslab_lab *lab, const char *node, const char *iface,
			 nslab_link_stats *ret_up, nslab_link_stats *ret_down, nslab_error *err)
{
	const struct lab_link *l;
	size_t n, i;
	int r = lookup(lab, node, iface, &n, &i, err);

	if (r < 0)
		return r;
	l = find(lab->links, n, i);
	if (ret_up)
		stats_of(lab, l ? l->up : NULL, ret_up);
	if (ret_down)
		stats_of(lab, l ? l->down : NULL, ret_down);
	return 0;
}

static void json_dir(struct jw *w, const char *key, const nslab_link_dir *d,
		     const nslab_link_stats *st)
{
	char buf[512];

	jw_obj_open(w, key);
	jw_str(w, "condition", nslab_link_dir_format(d, buf, sizeof(buf)));
	jw_uint(w, "passed", st->passed);
	jw_uint(w, "lost", st->lost);
	jw_uint(w, "overflow", st->overflow);
	jw_uint(w, "too_big", st->too_big);
	jw_uint(w, "reordered", st->reordered);
	jw_uint(w, "duplicated", st->duplicated);
	jw_uint(w, "corrupted", st->corrupted);
	jw_uint(w, "bytes", st->bytes);
	jw_obj_close(w);
}

static void text_dir(FILE *f, const char *name, const nslab_link_dir *d, const nslab_link_stats *st)
{
	char buf[512];

	fprintf(f, "%-5s %s\n", name, nslab_link_dir_format(d, buf, sizeof(buf)));
	fprintf(f,
		"      passed %" PRIu64 " (%" PRIu64 " bytes), lost %" PRIu64 ", overflow %" PRIu64
		", too big %" PRIu64 ", reordered %" PRIu64 ", duplicated %" PRIu64
		", corrupted %" PRIu64 "\n",
		st->passed, st->bytes, st->lost, st->overflow, st->too_big, st->reordered,
		st->duplicated, st->corrupted);
}

int lab_link_describe(nslab_lab *lab, const char *node, const char *iface, char **ret_text,
		      char **ret_json, nslab_error *err)
{
	nslab_link_condition c;
	nslab_link_stats up, down;
	char *text = NULL;
	const char *backend;
	size_t len = 0, n_idx, i_idx;
	struct jw w;
	FILE *f;
	int r = lookup(lab, node, iface, &n_idx, &i_idx, err);

	if (r >= 0)
		r = nslab_lab_get_condition(lab, node, iface, &c, err);
	if (r >= 0)
		r = nslab_lab_link_stats(lab, node, iface, &up, &down, err);
	if (r < 0)
		return r;
	backend = backend_name(find(lab->links, n_idx, i_idx));
	f = open_memstream(&text, &len);
	if (!f)
		return nslab_err_set(err, ENOMEM, "describe link");
	fprintf(f, "link %s %s (backend %s)\n", node, iface, backend);
	text_dir(f, "up", &c.up, &up);
	text_dir(f, "down", &c.down, &down);
	if (fclose(f) != 0) {
		free(text);
		return nslab_err_set(err, ENOMEM, "describe link");
	}
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "node", node);
	jw_str(&w, "iface", iface);
	jw_str(&w, "backend", backend);
	json_dir(&w, "up", &c.up, &up);
	json_dir(&w, "down", &c.down, &down);
	jw_obj_close(&w);
	*ret_json = jw_get(&w) ? strdup(jw_get(&w)) : NULL;
	jw_free(&w);
	if (!*ret_json) {
		free(text);
		return nslab_err_set(err, ENOMEM, "describe link");
	}
	*ret_text = text;
	return 0;
}

void lab_links_node_removed(struct nslab_lab *lab, size_t n)
{
	struct lab_links *ls = lab->links;

	for (size_t j = 0; ls && j < ls->n;) {
		struct lab_link *l = &ls->v[j];

		if (l->node == n) {
			memmove(l, l + 1, (ls->n - j - 1) * sizeof(*l));
			ls->n--;
			continue;
		}
		if (l->node > n)
			l->node--;
		j++;
	}
}
