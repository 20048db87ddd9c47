/* SPDX-License-Identifier: MIT */
/*
 * lab/regions: routes between regions, and breaking and restoring their links
 * at run time (the public calls are in nslab/link.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

struct nslab_lab;
struct jw;

/* One usable link of the region graph (regions numbered 0..n-1). */
struct region_edge {
	size_t a, b;
	uint64_t delay_ns; /* both directions' delays added: what a round trip costs */
};

/**
 * region_next_hops() - Where region src sends traffic for every other region
 * @n:          regions
 * @edges:      the links that are up
 * @src:        the region the routes are for
 * @ret_next:   n entries: the neighbour to send through for each destination;
 *              SIZE_MAX where none reaches it (and for src itself)
 * @ret_hops:   n entries, or NULL: links on the path (0: unreachable or src)
 *
 * Paths take the fewest region links, then the least delay, then the lowest
 * neighbour index: a direct link is used while it is up, however slow, and a
 * broken one is routed around through the nearest third region. Pure;
 * O(n^2 + n * edges).
 * Return: 0, or -ENOMEM
 */
int region_next_hops(size_t n, const struct region_edge *edges, size_t n_edges, size_t src,
		     size_t *ret_next, uint32_t *ret_hops);

/* Install the routes between the lab's regions; call once the lab is built. Return: 0 or -errno. */
int lab_regions_start(struct nslab_lab *lab, nslab_error *err);
/* Drop the run-time state (the routes die with the namespaces). */
void lab_regions_stop(struct nslab_lab *lab);
/* Every region's routes to the others' networks made again (after a node was added). */
int lab_regions_reroute(struct nslab_lab *lab, nslab_error *err);
/* The routes to dst (a removed router's subnet) out of every region. */
struct nslab_prefix;
void lab_regions_drop_route(struct nslab_lab *lab, const struct nslab_prefix *dst);
/* Plan node n (not a region) was removed: later nodes' indices move down one. */
void lab_regions_node_removed(struct nslab_lab *lab, size_t n);
/* nslab_lab_set_region_condition() from command-line words (the lab's presets too). */
int lab_region_set_words(struct nslab_lab *lab, const char *a, const char *b,
			 const char *const *argv, size_t argc, nslab_error *err);
/**
 * lab_region_describe() - A region link's state, condition, counters and paths, as text and JSON
 * @ret_text, @ret_json:  on success, malloc'd strings the caller frees
 * Return: 0, -ENOENT (no link between a and b) or -ENOMEM.
 */
int lab_region_describe(struct nslab_lab *lab, const char *a, const char *b, char **ret_text,
			char **ret_json, nslab_error *err);
/* `region_links` of state.json: each link's regions, interface, state and condition. */
void lab_regions_json(const struct nslab_lab *lab, struct jw *w);
