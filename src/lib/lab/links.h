/* SPDX-License-Identifier: MIT */
/* lab/links: link conditions of a built lab (the public calls are in nslab/link.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "nslab/error.h"
#include "nslab/link.h"

struct nslab_lab;

/* Apply the lab file's conditions; call once the lab is built. Return: 0 or -errno. */
int lab_links_start(struct nslab_lab *lab, nslab_error *err);
/* The lab's link thread, started if it was not (lab/nat64-run serves its TUNs there). */
struct wire;
int lab_links_wire(struct nslab_lab *lab, struct wire **ret, nslab_error *err);
/* Stop the link thread, drop every condition's state (the namespaces go next). */
void lab_links_stop(struct nslab_lab *lab);
/*
 * lab_link_describe() - A link's condition and counters, as text and as a JSON object
 * @ret_text, @ret_json:  on success, malloc'd strings the caller frees
 * Return: 0, -ENOENT (no such node or interface) or -ENOMEM.
 */
int lab_link_describe(struct nslab_lab *lab, const char *node, const char *iface, char **ret_text,
		      char **ret_json, nslab_error *err);
/* Whether plan node n's interface i has link state (a condition, wire ports or netem qdiscs). */
bool lab_link_busy(const struct nslab_lab *lab, size_t n, size_t i);
/* Plan node n's interface i is gone (not busy): its entry dropped, later interfaces' renumbered. */
void lab_links_iface_removed(struct nslab_lab *lab, size_t n, size_t i);
/* The condition of plan node n's interface i, or NULL when it has none (borrowed). */
/* lab_links_start() for plan nodes [first, n_nodes): nodes added at run time. */
int lab_links_start_nodes(struct nslab_lab *lab, size_t first, nslab_error *err);
/*
 * The links of the nodes marked in gone (NULL: none) and of every node from
 * first on (SIZE_MAX: none) let go, before their interfaces are
 * deleted: each condition's kernel state (tc filter or netem qdisc) goes with
 * its interface in the same RTM_DELLINK, and the link thread drops what it
 * holds for them, never sending it unconditioned. Cannot fail.
 */
void lab_links_drop_nodes(struct nslab_lab *lab, const bool *gone, size_t first);
/* Plan node n was removed: its entries go, later nodes' indices move down one. */
void lab_links_node_removed(struct nslab_lab *lab, size_t n);
const nslab_link_condition *lab_link_condition_at(const struct nslab_lab *lab, size_t n, size_t i);
