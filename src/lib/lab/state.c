/* SPDX-License-Identifier: MIT */
/*
 * lab/state: the lab as JSON. The same object answers `nslab status --json`
 * and is state.json in the output directory; it holds exactly what the
 * router_added/device_added/iface_added events carried, so a reader of
 * events.jsonl derives the same state.
 */
#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/links.h"
#include "lab/nat64-run.h"
#include "link/nat64.h"
#include "lab/regions.h"

static const char *kind_name(const struct plan_node *pn)
{
	if (pn->region)
		return "region";
	switch (pn->kind) {
	case PLAN_ROOT:
		return "root";
	case PLAN_ROUTER:
		return "router";
	case PLAN_DEVICE:
		return "device";
	}
	return "?";
}

static void mac_format(const uint8_t *mac, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static void jw_prefix_opt(struct jw *w, const char *key, const struct nslab_prefix *p,
			  bool with_len)
{
	char buf[PREFIX_STRLEN];

	if (prefix_is_set(p))
		jw_str(w, key, prefix_format(p, with_len, buf, sizeof(buf)));
}

static void iface_json(const struct nslab_lab *lab, const struct plan_node *pn,
		       const struct plan_iface *pi, struct jw *w)
{
	const struct plan_node *up = &lab->plan->nodes[pi->up_node];
	const nslab_link_condition *c = lab_link_condition_at(lab, (size_t)(pn - lab->plan->nodes),
							      (size_t)(pi - pn->ifaces));
	char mac[18], cond[512];

	jw_obj_open(w, NULL);
	jw_str(w, "name", pi->name);
	jw_str(w, "peer", up->kind == PLAN_ROOT ? "ix" : up->name);
	mac_format(pi->mac, mac, sizeof(mac));
	jw_str(w, "mac", mac);
	jw_prefix_opt(w, "ip4", &pi->a4, true);
	jw_prefix_opt(w, "ip6", &pi->a6, true);
	jw_prefix_opt(w, "ll6", &pi->ll6, false);
	jw_prefix_opt(w, "gw4", &pi->gw4, false);
	jw_prefix_opt(w, "gw6", &pi->gw6, false);
	if (pi->mtu)
		jw_uint(w, "mtu", pi->mtu);
	if (c) {
		jw_obj_open(w, "link");
		jw_str(w, "up", nslab_link_dir_format(&c->up, cond, sizeof(cond)));
		jw_str(w, "down", nslab_link_dir_format(&c->down, cond, sizeof(cond)));
		jw_obj_close(w);
	}
	jw_obj_close(w);
}

static void node_json(const struct nslab_lab *lab, const struct plan_node *pn, struct jw *w)
{
	ssize_t primary = lab_node_primary_iface(pn);

	jw_obj_open(w, NULL);
	jw_str(w, "name", pn->kind == PLAN_ROOT ? "ix" : pn->name);
	jw_str(w, "kind", kind_name(pn));
	if (primary >= 0)
		jw_str(w, "primary", pn->ifaces[primary].name);
	if (pn->kind == PLAN_ROUTER) {
		const struct spec_router *sr = &lab->spec->routers[pn->spec_index];

		if (sr->preset[0])
			jw_str(w, "preset", sr->preset);
		jw_str(w, "nat", sr->nat.enabled ? sr->nat.preset : "none");
		jw_str(w, "nat6", nat6_name(sr->nat6));
		jw_prefix_opt(w, "ip6_outer", &pn->ext6, true);
		lab_nat64_json(lab, (size_t)(pn - lab->plan->nodes), w);
		jw_str(w, "firewall", fw_name(&sr->fw));
		if (sr->block_frag)
			jw_bool(w, "block_icmp_frag_needed", true);
		if (sr->region)
			jw_str(w, "region", sr->region);
	}
	if (pn->has_bridge) {
		jw_obj_open(w, "bridge");
		jw_str(w, "name", pn->bridge);
		jw_prefix_opt(w, "ip4", &pn->down4, true);
		jw_prefix_opt(w, "ip6", &pn->down6, true);
		jw_obj_close(w);
	}
	jw_arr_open(w, "ifaces");
	for (size_t i = 0; i < pn->n_ifaces; i++)
		iface_json(lab, pn, &pn->ifaces[i], w);
	jw_arr_close(w);
	jw_obj_close(w);
}

void lab_state_json(const struct nslab_lab *lab, struct jw *w)
{
	jw_obj_open(w, NULL);
	jw_str(w, "lab", lab->spec->name);
	jw_bool(w, "built", lab->built);
	jw_bool(w, "rootless", lab->rootless);
	jw_uint(w, "seed", lab->spec->seed);
	if (lab->built)
		jw_double(w, "built_at", lab->built_at, 6);
	jw_uint(w, "routers", lab->plan ? lab->plan->n_routers : 0);
	jw_uint(w, "devices", lab->plan ? lab->plan->n_devices : 0);
	jw_arr_open(w, "nodes");
	for (size_t i = 0; lab->plan && i < lab->plan->n_nodes; i++)
		node_json(lab, &lab->plan->nodes[i], w);
	jw_arr_close(w);
	lab_regions_json(lab, w);
	jw_obj_close(w);
}

int lab_state_write(const struct nslab_lab *lab, nslab_error *err)
{
	static const char tmp[] = ".state.json.tmp";
	struct jw w;
	const char *text;
	FILE *f = NULL;
	int fd, r = 0;

	if (lab->outdir_fd < 0)
		return 0;
	jw_init(&w);
	lab_state_json(lab, &w);
	text = jw_get(&w);
	if (!text)
		r = nslab_err_set(err, ENOMEM, "state.json");
	else if ((r = outdir_create(lab->outdir_fd, tmp, &fd, err)) < 0)
		r = nslab_err_prefix(err, r, "write state.json");
	else if (!(f = fdopen(fd, "w"))) {
		r = nslab_err_set(err, errno, "write '%s'", tmp);
		(void)close(fd);
		(void)unlinkat(lab->outdir_fd, tmp, 0);
	}
	if (f) {
		/* Close whatever fprintf() did: a failed write must not leak the FILE */
		bool ok = fprintf(f, "%s\n", text) >= 0;

		if (fclose(f) != 0 || !ok)
			r = nslab_err_set(err, EIO, "write '%s'", tmp);
		else if (renameat(lab->outdir_fd, tmp, lab->outdir_fd, "state.json") < 0)
			r = nslab_err_set(err, errno, "rename '%s' to 'state.json'", tmp);
		if (r < 0)
			(void)unlinkat(lab->outdir_fd, tmp, 0);
	}
	jw_free(&w);
	return r;
}

void lab_emit_built(struct nslab_lab *lab)
{
	struct jw *w = evlog_begin(&lab->ev, "lab_built");

	jw_str(w, "lab", lab->spec->name);
	jw_uint(w, "routers", lab->plan->n_routers);
	jw_uint(w, "devices", lab->plan->n_devices);
	jw_bool(w, "rootless", lab->rootless);
	evlog_end(&lab->ev);
}

void lab_emit_destroyed(struct nslab_lab *lab)
{
	struct jw *w = evlog_begin(&lab->ev, "lab_destroyed");

	jw_str(w, "lab", lab->spec->name);
	evlog_end(&lab->ev);
}

static void table_row(FILE *f, const struct nslab_lab *lab, const struct plan_node *pn,
		      const struct plan_iface *pi, bool first)
{
	const struct plan_node *up = &lab->plan->nodes[pi->up_node];
	char a4[PREFIX_STRLEN], a6[PREFIX_STRLEN];

	fprintf(f, "%-16s %-7s %-6s %-12s %-18s %s\n", first ? pn->name : "",
		first ? kind_name(pn) : "", pi->name, up->kind == PLAN_ROOT ? "ix" : up->name,
		prefix_format(&pi->a4, true, a4, sizeof(a4)),
		prefix_format(&pi->a6, true, a6, sizeof(a6)));
}

/* Below the table: each NAT64's table use and counters (nat64-run.c). */
static void nat64_lines(FILE *f, const struct nslab_lab *lab)
{
	for (size_t i = 1; i < lab->plan->n_nodes; i++) {
		struct nat64_stats st;
		uint32_t size;

		if (!lab_nat64_stats(lab, i, &st, &size))
			continue;
		fprintf(f,
			"nat64 %s: %" PRIu64 "/%" PRIu32 " bindings, translated %" PRIu64
			" (6->4) %" PRIu64 " (4->6), %" PRIu64 " ICMP errors, evicted %" PRIu64
			", expired %" PRIu64 ", dropped %" PRIu64 "\n",
			lab->plan->nodes[i].name, st.bibs, size, st.translated_6to4,
			st.translated_4to6, st.icmp_errors, st.evicted, st.expired, st.dropped);
	}
}

int lab_table_text(const struct nslab_lab *lab, char **ret, nslab_error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return nslab_err_set(err, errno, "render table");
	fprintf(f, "%-16s %-7s %-6s %-12s %-18s %s\n", "NODE", "KIND", "IFACE", "UPSTREAM", "IPV4",
		"IPV6");
	for (size_t i = 1; i < lab->plan->n_nodes; i++) {
		const struct plan_node *pn = &lab->plan->nodes[i];

		for (size_t k = 0; k < pn->n_ifaces; k++)
			table_row(f, lab, pn, &pn->ifaces[k], k == 0);
		if (pn->has_bridge) {
			char a4[PREFIX_STRLEN], a6[PREFIX_STRLEN];

			fprintf(f, "%-16s %-7s %-6s %-12s %-18s %s\n", "", "", pn->bridge, "-",
				prefix_format(&pn->down4, true, a4, sizeof(a4)),
				prefix_format(&pn->down6, true, a6, sizeof(a6)));
		}
	}
	nat64_lines(f, lab);
	if (fclose(f) != 0 || !text) {
		free(text);
		return nslab_err_set(err, ENOMEM, "render table");
	}
	*ret = text;
	return 0;
}
