/* SPDX-License-Identifier: MIT */
/*
 * sim/simfile-kinds: the mappings of the steps that change or watch the lab
 * (link, device, router, capture, dns), make a certificate (gen-certs) or a
 * file (gen-file), and how a repeat repeats.
 */
#include "sim/simfile-parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/capture.h"
#include "sim/expr.h"

/* gen-file's NAME: one path component of the sim's files/ directory. */
int simf_file_name(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	int r = simf_dup_str(p, n, "gen-file", &st->target);

	if (r < 0)
		return r;
	if (strchr(st->target, '/') || strcmp(st->target, ".") == 0 ||
	    strcmp(st->target, "..") == 0 || strlen(st->target) > 200)
		return y_error(&p->y, n, "gen-file '%s': a file name, without '/'", st->target);
	return 0;
}

/* replug: {iface, router}: which interface of the device goes to which router. */
static int replug_change(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	static const char *const keys[] = { "iface", "router", NULL };
	uint32_t seen = 0;
	int r = y_map(&p->y, n, "replug", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		r = simf_dup_str(p, n->kids[i + 1], k == 0 ? "replug iface" : "replug router",
				 k == 0 ? &st->replug_iface : &st->replug_router);
	}
	if (r >= 0 && (!st->replug_iface || !st->replug_router))
		return y_error(&p->y, n, "replug: iface and router say what goes where");
	return r;
}

/* One key of link: or device: (k indexes their keys below); set: is kept for the end. */
static int link_key(struct sp *p, int k, const struct ynode *v, struct sim_step *st, bool device,
		    const struct ynode **set)
{
	static const char *const states[] = { "down", "up", NULL };
	unsigned e;
	int r;

	switch (k) {
	case 0:
		return simf_dup_str(p, v, device ? "device name" : "link node", &st->node);
	case 1:
		return simf_dup_str(p, v, "iface", &st->iface);
	case 2:
		*set = v;
		return 0;
	case 3:
		return y_bool(&p->y, v, "clear", &st->clear);
	case 4:
		r = y_enum(&p->y, v, "state", states, "up or down", &e);
		st->link_state = (int)e;
		return r;
	case 5:
		return replug_change(p, v, st);
	default:
		return simf_dup_str(p, v, "default-via", &st->default_via);
	}
}

/*
 * link: {node, iface, set, clear, state}: what to change on one link;
 * device: {name, iface, set, clear, state, replug, default-via}: the same on
 * each of the device's interfaces (iface: narrows it to one), its plugging
 * and its default routes.
 */
int simf_link_change(struct sp *p, const struct ynode *n, struct sim_step *st, bool device)
{
	static const char *const link_keys[] = { "node", "iface", "set", "clear", "state", NULL };
	static const char *const device_keys[] = { "name",  "iface",  "set",	     "clear",
						   "state", "replug", "default-via", NULL };
	const char *what = device ? "device" : "link";
	const struct ynode *set = NULL;
	uint32_t seen = 0;
	int r = y_map(&p->y, n, what, NULL);

	st->link_state = -1;
	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		int k = y_key(&p->y, n->kids[i], device ? device_keys : link_keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		r = link_key(p, k, n->kids[i + 1], st, device, &set);
	}
	if (r < 0)
		return r;
	if (device && !st->node)
		return y_error(&p->y, n, "device: name says which device");
	if (!device && (!st->node || !st->iface))
		return y_error(&p->y, n, "link: node and iface say which link");
	if (set && st->clear)
		return y_error(&p->y, set, "%s: set and clear together", what);
	if (!set && !st->clear && st->link_state < 0 && !st->replug_iface && !st->default_via)
		return y_error(&p->y, n, "%s: expected set, clear%s", what,
			       device ? ", state, replug or default-via" : " or state");
	if (set) {
		struct sim_step words = { 0 };

		r = simf_command(p, set, &words);
		st->words = words.argv;
		st->n_words = words.argc;
	}
	return r;
}

/* router: {name, nat, flush-nat, firewall}: the run-time changes `nslab router` makes. */
int simf_router_change(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	static const char *const keys[] = { "name", "nat", "flush-nat", "firewall", NULL };
	uint32_t seen = 0;
	int r = y_map(&p->y, n, "router", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *v = n->kids[i + 1];
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 0)
			r = simf_dup_str(p, v, "router name", &st->node);
		else if (k == 1)
			r = simf_dup_str(p, v, "nat", &st->nat);
		else if (k == 2)
			r = y_bool(&p->y, v, "flush-nat", &st->flush_nat);
		else
			r = simf_dup_str(p, v, "firewall", &st->firewall);
	}
	if (r < 0)
		return r;
	if (!st->node)
		return y_error(&p->y, n, "router: name says which router");
	if (!st->nat && !st->flush_nat && !st->firewall)
		return y_error(&p->y, n, "router: expected nat, flush-nat or firewall");
	return 0;
}

/*
 * region: {a, b, break, restore, set, clear}: the link of regions a and b, as
 * `nslab region LAB A B` changes it (node is a, region_b b; link_state 0
 * break, 1 restore; set's words may end with up or down, up being a to b).
 */
int simf_region_change(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	static const char *const keys[] = { "a", "b", "break", "restore", "set", "clear", NULL };
	const struct ynode *set = NULL;
	uint32_t seen = 0;
	bool brk = false, restore = false;
	int r = y_map(&p->y, n, "region", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *v = n->kids[i + 1];
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 0)
			r = simf_dup_str(p, v, "region a", &st->node);
		else if (k == 1)
			r = simf_dup_str(p, v, "region b", &st->region_b);
		else if (k == 2)
			r = y_bool(&p->y, v, "break", &brk);
		else if (k == 3)
			r = y_bool(&p->y, v, "restore", &restore);
		else if (k == 4)
			set = v;
		else
			r = y_bool(&p->y, v, "clear", &st->clear);
	}
	if (r < 0)
		return r;
	if (!st->node || !st->region_b)
		return y_error(&p->y, n, "region: a and b say which regions' link");
	if (brk && restore)
		return y_error(&p->y, n, "region: break and restore together");
	if (set && st->clear)
		return y_error(&p->y, set, "region: set and clear together");
	if (!set && !st->clear && !brk && !restore)
		return y_error(&p->y, n, "region: expected break, restore, set or clear");
	st->link_state = brk ? 0 : restore ? 1 : -1;
	if (set) {
		struct sim_step words = { 0 };

		r = simf_command(p, set, &words);
		st->words = words.argv;
		st->n_words = words.argc;
	}
	return r;
}

/* A capture's filter, compiled once here so that a typo is the file's error. */
static int capture_filter(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	nslab_error e = { 0 };
	int r = simf_dup_str(p, n, "capture filter", &st->filter);

	if (r >= 0 && pkt_capture_check_filter(st->filter, &e) < 0)
		return y_error(&p->y, n, "%s", e.msg);
	return r;
}

/*
 * capture: {node, iface, filter} starts one (the step needs an id: the stop
 * and the values name it); capture: {stop: ID} stops it.
 */
int simf_capture_change(struct sp *p, const struct ynode *n, const struct ynode *idn,
			struct sim_step *st)
{
	static const char *const keys[] = { "node", "iface", "filter", "stop", NULL };
	uint32_t seen = 0;
	int r = y_map(&p->y, n, "capture", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *v = n->kids[i + 1];
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 0)
			r = simf_dup_str(p, v, "capture node", &st->node);
		else if (k == 1)
			r = simf_dup_str(p, v, "capture iface", &st->iface);
		else if (k == 2)
			r = capture_filter(p, v, st);
		else
			r = simf_dup_str(p, v, "capture stop", &st->target);
	}
	if (r < 0)
		return r;
	if (st->target && (st->node || st->iface || st->filter))
		return y_error(&p->y, n, "capture: stop goes alone");
	if (!st->target && (!st->node || !st->iface))
		return y_error(&p->y, n, "capture: node and iface say where (or stop: ID)");
	if (!st->target && !idn)
		return y_error(&p->y, n, "capture: a capture needs an id (its file and values)");
	return 0;
}

/* gen-certs: {node, names, days}: a certificate for the node's names and addresses. */
int simf_certs_change(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	static const char *const keys[] = { "node", "names", "days", NULL };
	uint32_t seen = 0;
	uint64_t days = 30;
	int r = y_map(&p->y, n, "gen-certs", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *v = n->kids[i + 1];
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);
		struct sim_step names = { 0 };

		if (k < 0)
			return k;
		if (k == 0) {
			r = simf_dup_str(p, v, "gen-certs node", &st->node);
		} else if (k == 1) {
			r = simf_command(p, v, &names);
			st->words = names.argv;
			st->n_words = names.argc;
		} else {
			r = y_uint(&p->y, v, "days", 1, 36500, "1..36500", &days);
		}
	}
	st->days = (unsigned)days;
	if (r >= 0 && !st->node)
		return y_error(&p->y, n, "gen-certs: node says whose certificate");
	return r;
}

/* repeat: N (a count) or a duration (again until it is over). */
int simf_repeat_how(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	const char *s;
	int r = y_str(&p->y, n, "repeat", &s);

	if (r < 0)
		return r;
	if (strspn(s, "0123456789") == strlen(s))
		return y_uint(&p->y, n, "repeat", 1, 1000000, "1..1000000 or a duration",
			      &st->times);
	r = simf_duration(p, n, "repeat", &st->for_ms);
	if (r >= 0 && !st->for_ms)
		return y_error(&p->y, n, "repeat: a duration above 0");
	return r;
}

/* dns: {name, target}: a name of the lab's /etc/hosts; target null removes it. */
int simf_dns_change(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	static const char *const keys[] = { "name", "target", NULL };
	const struct ynode *target = NULL;
	uint32_t seen = 0;
	int r = y_map(&p->y, n, "dns", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 0)
			r = simf_dup_str(p, n->kids[i + 1], "dns name", &st->dns_name);
		else
			target = n->kids[i + 1];
	}
	if (r < 0)
		return r;
	if (!st->dns_name || !target)
		return y_error(&p->y, n,
			       "dns: expected name and target (a node, an address or null)");
	return y_is_null(target) ? 0 : simf_dup_str(p, target, "dns target", &st->dns_target);
}
