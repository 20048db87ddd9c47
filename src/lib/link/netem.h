/* SPDX-License-Identifier: MIT */
/*
 * link/netem: the netem backend: a direction's condition as the kernel's
 * netem qdisc at the root of the interface that sends it, through
 * RTM_NEWQDISC (no `tc` fork). For kernels that have sch_netem; the probe
 * says whether this one does.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "nl/tc.h"
#include "nslab/error.h"
#include "nslab/link.h"

/**
 * netem_params() - A direction's condition in netem's units
 * @d:     the direction (not "none")
 * @seed:  the direction's seed (netem takes it from Linux 6.6 on)
 * @ret:   on success, what tc_build_netem() sends
 * What netem cannot do is refused, naming it: a delivery trace, mtu, burst
 * (tbf's). A jitter distribution other than uniform is sent as a table of
 * its quantiles (netem_dist_table()), as tc sends iproute2's files. A limit in bytes or time becomes packets of 1514
 * bytes (netem counts packets). Pure.
 * Return: 0, or -EOPNOTSUPP with the reason.
 */
int netem_params(const nslab_link_dir *d, uint64_t seed, struct tc_netem *ret, nslab_error *err);
/**
 * netem_dist_table() - n quantiles of a jitter shape, as netem's TCA_NETEM_DELAY_DIST
 * The engine's standard variate of dist (mean 0, deviation 1) at the
 * midpoints (k + 0.5) / n, times TC_NETEM_DIST_SCALE / M; netem adds
 * jitter * entry / TC_NETEM_DIST_SCALE to the delay, so with the jitter sent
 * M times the set one `jitter` stays the deviation on both backends. M is 1
 * for normal (+-4 deviations fit an s16), 8 for the Pareto shapes (their tail).
 * Return: M, or -EINVAL (n > TC_NETEM_DIST_N) or -ENOMEM.
 */
int netem_dist_table(enum nslab_link_dist dist, int16_t *table, size_t n);
/**
 * netem_probe() - Whether this kernel has sch_netem
 * Adds a netem qdisc to lo in a scratch network namespace (a thread of its
 * own, gone afterwards). A kernel without netem answers ENOENT ("unknown
 * qdisc kind"); err then holds its words.
 * Return: 1 (it has), 0 (it has not, err says why), or -errno (the probe failed).
 */
int netem_probe(nslab_error *err);
/**
 * netem_set() - ifindex's root qdisc to d (netem), or back to the default when d is none
 * @nl:  a socket of the interface's namespace
 * Replaces the qdisc in one request: no moment without a condition.
 * Return: 0, or -errno (netem_params()'s, or the kernel's).
 */
int netem_set(struct nlsock *nl, int ifindex, const nslab_link_dir *d, uint64_t seed,
	      nslab_error *err);
