/* SPDX-License-Identifier: MIT */
/*
 * fwtest/suite-nodes: node and interface names of a suite against the
 * topology of their test (see suite-parse.h). The runner resolves the same
 * names again when it sends; here a wrong one is the file's error, found
 * before any namespace exists.
 */
#include "fwtest/suite-parse.h"

#include <stdio.h>
#include <string.h>

#include "fwtest/topo.h"
#include "lab/plan.h"

#define NAMES_SHOWN 160 /* characters of a "(the ... has a, b, c)" list before "..." */

/* A view of one node: its name and its interfaces' names. */
struct tnode {
	const char *name;
	size_t n_ifaces;
	const struct plan_node *pn; /* lab: its interfaces; NULL: eth0, eth1, ... */
};

/* Node i of the topology sp->topo, or false past the last. */
static bool topo_node_at(const struct sp *sp, size_t i, struct tnode *ret)
{
	if (sp->topo != FW_TOPO_LAB) {
		ret->pn = NULL;
		ret->name = fw_topo_builtin_node(sp->topo, i, &ret->n_ifaces);
		return ret->name != NULL;
	}
	if (i + 1 >= sp->plan->n_nodes) /* [0] is the lab root, no node of the suite's */
		return false;
	ret->pn = &sp->plan->nodes[i + 1];
	ret->name = ret->pn->name;
	ret->n_ifaces = ret->pn->n_ifaces;
	return true;
}

static void iface_name(const struct tnode *n, size_t k, char buf[IFNAMSIZ])
{
	if (n->pn)
		snprintf(buf, IFNAMSIZ, "%s", n->pn->ifaces[k].name);
	else
		snprintf(buf, IFNAMSIZ, "eth%zu", k);
}

/* Append name to a ", "-separated list of at most NAMES_SHOWN characters. */
static void list_add(char *buf, size_t len, const char *name)
{
	size_t used = strlen(buf);

	if (used && strcmp(buf + used - 3, "...") == 0)
		return;
	if (used + 2 + strlen(name) > NAMES_SHOWN)
		snprintf(buf + used, len - used, ", ...");
	else
		snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
}

int sp_check_node(struct sp *sp, const struct ynode *v, const char *what, const char *node,
		  const char *iface)
{
	char list[NAMES_SHOWN + 8] = "", name[IFNAMSIZ];
	struct tnode n;
	size_t i;

	if (sp->topo == FW_TOPO_LAB && !sp->plan)
		return 0; /* no lab file read (cannot happen past decode_topology()) */
	for (i = 0; topo_node_at(sp, i, &n); i++)
		if (strcmp(n.name, node) == 0)
			break;
	if (!topo_node_at(sp, i, &n)) {
		for (i = 0; topo_node_at(sp, i, &n); i++)
			list_add(list, sizeof(list), n.name);
		if (sp->topo == FW_TOPO_LAB)
			return y_error(&sp->y, v, "%s: unknown node '%s' (the lab has %s)", what,
				       YAML_Q(node), list);
		return y_error(&sp->y, v, "%s: unknown node '%s' (the %s topology has %s)", what,
			       YAML_Q(node), fw_topology_name(sp->topo), list);
	}
	if (!iface)
		return 0;
	for (size_t k = 0; k < n.n_ifaces; k++) {
		iface_name(&n, k, name);
		if (strcmp(name, iface) == 0)
			return 0;
		list_add(list, sizeof(list), name);
	}
	return y_error(&sp->y, v, "%s: node '%s' has no interface '%s' (it has %s)", what, n.name,
		       YAML_Q(iface), n.n_ifaces ? list : "none");
}

int sp_topo_node(struct sp *sp, const struct ynode *v, const char *what, char **ret)
{
	int r = sp_node(sp, v, what, ret);

	return r < 0 ? r : sp_check_node(sp, v, what, *ret, NULL);
}
