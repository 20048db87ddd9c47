/* SPDX-License-Identifier: MIT */
/*
 * link/netem: the netem backend (see netem.h). The parameters map one to one
 * onto netem's (its probabilities are fractions of 2^32 - 1, ours of 10^9);
 * the differences are in docs/links.md: netem is seeded only from Linux 6.6,
 * counts its queue in packets, and has no trace, mtu or burst.
 */
#include "link/netem.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "core/libm-dl.h"
#include "nl/nlsock.h"

#define NETEM_FRAME 1514u /* bytes of a full Ethernet frame: a limit in bytes over packets */

/* ppb to netem's scale, 0 .. 2^32 - 1. */
static uint32_t scale(uint32_t ppb)
{
	uint64_t v = (uint64_t)ppb * UINT32_MAX / NSLAB_LINK_PPB_ONE;

	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int refuse(nslab_error *err, const char *what)
{
	return nslab_err_setx(err, EOPNOTSUPP,
			      "%s: the netem backend cannot do it (the wire backend can: "
			      "link_backend wire or auto)",
			      what);
}

/* netem's queue limit in packets, from ours (bytes, or time at the rate). */
static uint32_t limit_packets(const nslab_link_dir *d)
{
	uint64_t bytes = d->limit_bytes;

	if (!bytes && d->limit_ns && d->rate_bps)
		bytes = d->limit_ns * (d->rate_bps / 8) / 1000000000u;
	if (!bytes)
		return 0; /* netem's default, 1000 */
	bytes = (bytes + NETEM_FRAME - 1) / NETEM_FRAME;
	return bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
}

/* The standard normal's quantile at q in (0, 1), by bisection on erfc (libm has no inverse). */
static double normal_quantile(double q)
{
	double lo = -40.0, hi = 40.0;

	for (int i = 0; i < 80; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * dl_m.erfc(-mid / M_SQRT2) < q)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* Pareto xm=1 alpha=3 standardised (mean 0, deviation 1) at quantile q: the engine's shape. */
static double pareto_quantile(double q)
{
	return (dl_m.pow(1.0 - q, -1.0 / 3.0) - 1.5) / 0.8660254037844386;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* paretonormal: the sum over a grid of 32 normal by 4096 Pareto quantiles (its tail is Pareto's) */
#define PN_N 32
#define PN_P 4096

/*
 * The engine's paretonormal (0.25 normal + 0.75 pareto, independent, renormalised)
 * has no closed-form quantile: its values over a grid of both variables'
 * quantiles are an equal-weight sample of the sum, sorted, read at the table's
 * points (a fine Pareto grid: the deviation is in its tail). Returns false if out of memory.
 */
static bool paretonormal_quantiles(double *out, size_t n)
{
	double *all = malloc(sizeof(double) * PN_N * PN_P);

	if (!all)
		return false;
	for (size_t i = 0; i < PN_N; i++) {
		double nq = normal_quantile(((double)i + 0.5) / PN_N);

		for (size_t j = 0; j < PN_P; j++)
			all[i * PN_P + j] =
				(0.25 * nq + 0.75 * pareto_quantile(((double)j + 0.5) / PN_P)) /
				0.7905694150420949;
	}
	qsort(all, PN_N * PN_P, sizeof(double), cmp_double);
	for (size_t k = 0; k < n; k++)
		out[k] = all[(2 * k + 1) * PN_N * PN_P / (2 * n)];
	free(all);
	return true;
}

/* The quantile at the midpoint of the k-th of n slices (q holds paretonormal's). */
static double quantile_at(enum nslab_link_dist dist, const double *q, size_t k, size_t n)
{
	double mid = ((double)k + 0.5) / (double)n;

	switch (dist) {
	case NSLAB_LINK_DIST_NORMAL:
		return normal_quantile(mid);
	case NSLAB_LINK_DIST_PARETO:
		return pareto_quantile(mid);
	case NSLAB_LINK_DIST_PARETONORMAL:
		return q[k];
	case NSLAB_LINK_DIST_UNIFORM:
		break;
	}
	return (2.0 * mid - 1.0) * 1.7320508075688772;
}

int netem_dist_table(enum nslab_link_dist dist, int16_t *table, size_t n)
{
	/*
	 * An s16 entry of TC_NETEM_DIST_SCALE per deviation holds +-4: enough
	 * for normal, but Pareto's tail reaches 21 deviations at these
	 * quantiles and cutting it at 4 left 0.74 of its deviation. Those
	 * tables count in eighths and the jitter sent is eight times the set one.
	 */
	int mult = dist == NSLAB_LINK_DIST_PARETO || dist == NSLAB_LINK_DIST_PARETONORMAL ? 8 : 1;
	double *q = NULL;

	if (dl_m_load(NULL) < 0)
		return -ENOSYS;
	if (n > TC_NETEM_DIST_N)
		return -EINVAL;
	if (dist == NSLAB_LINK_DIST_PARETONORMAL) {
		q = malloc(sizeof(double) * n);
		if (!q || !paretonormal_quantiles(q, n)) {
			free(q);
			return -ENOMEM;
		}
	}
	for (size_t k = 0; k < n; k++) {
		double v = dl_m.round(quantile_at(dist, q, k, n) * TC_NETEM_DIST_SCALE / mult);

		table[k] = (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
	}
	free(q);
	return mult;
}

/*
 * The tables depend on the shape only: computed once per process, on first
 * use (normal's 4096 bisections took 8 ms, paretonormal's grid 7 ms; a lab
 * asks for them for every link it sets and every backend choice it makes).
 */
static struct {
	pthread_once_t once;
	int mult[4]; /* per enum nslab_link_dist; < 0: -errno of the computation */
	int16_t table[4][TC_NETEM_DIST_N];
} dist_cache = { .once = PTHREAD_ONCE_INIT };

static void dist_cache_fill(void)
{
	for (int k = NSLAB_LINK_DIST_NORMAL; k <= NSLAB_LINK_DIST_PARETONORMAL; k++)
		dist_cache.mult[k] = netem_dist_table((enum nslab_link_dist)k, dist_cache.table[k],
						      TC_NETEM_DIST_N);
}

int netem_params(const nslab_link_dir *d, uint64_t seed, struct tc_netem *ret, nslab_error *err)
{
	struct tc_netem q = { 0 };

	if (d->trace[0])
		return refuse(err, "trace");
	if (d->mtu)
		return refuse(err, "mtu");
	if (d->burst)
		return refuse(err, "burst");
	if (d->jitter_ns && d->dist != NSLAB_LINK_DIST_UNIFORM) {
		/* netem's tables are iproute2's files; ours are computed, of the engine's shapes */
		int mult;

		if ((unsigned)d->dist > NSLAB_LINK_DIST_PARETONORMAL)
			return nslab_err_setx(err, EINVAL, "unknown jitter distribution %u",
					      (unsigned)d->dist);
		(void)pthread_once(&dist_cache.once, dist_cache_fill);
		mult = dist_cache.mult[d->dist];
		if (mult < 0)
			return nslab_err_setx(err, -mult, "jitter distribution table");
		memcpy(q.dist, dist_cache.table[d->dist], sizeof(q.dist));
		q.dist_n = TC_NETEM_DIST_N;
		q.jitter_ns = d->jitter_ns * (uint64_t)mult;
	} else {
		q.jitter_ns = d->jitter_ns;
	}
	q.latency_ns = d->delay_ns;
	q.delay_corr = scale(d->delay_corr);
	q.limit = limit_packets(d);
	if (d->loss_model == NSLAB_LINK_LOSS_RANDOM) {
		q.loss = scale(d->loss);
		q.loss_corr = scale(d->loss_corr);
	} else if (d->loss_model == NSLAB_LINK_LOSS_GE) {
		q.ge = true;
		q.ge_p = scale(d->ge_p);
		q.ge_r = scale(d->ge_r);
		q.ge_h = scale(NSLAB_LINK_PPB_ONE - d->ge_1h); /* the kernel keeps h, we 1-h */
		q.ge_k1 = scale(d->ge_1k);
	}
	q.gap = d->gap;
	q.reorder = scale(d->reorder);
	q.reorder_corr = scale(d->reorder_corr);
	q.duplicate = scale(d->duplicate);
	q.dup_corr = scale(d->duplicate_corr);
	q.corrupt = scale(d->corrupt);
	q.corrupt_corr = scale(d->corrupt_corr);
	q.rate_Bps = d->rate_bps / 8;
	q.has_seed = true;
	q.seed = seed;
	*ret = q;
	return 0;
}

int netem_set(struct nlsock *nl, int ifindex, const nslab_link_dir *d, uint64_t seed,
	      nslab_error *err)
{
	static _Thread_local _Alignas(struct nlmsghdr) char buf[TC_NETEM_REQ_BUFSIZ];
	struct tc_netem q;
	int r;

	if (nslab_link_dir_is_none(d)) {
		r = tc_build_root_del(buf, sizeof(buf), ifindex, err);
		if (r < 0)
			return r;
		r = nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, err);
		/* no qdisc of ours there (the default one): nothing to remove */
		return r == -ENOENT || r == -EINVAL ? 0 : r;
	}
	r = netem_params(d, seed, &q, err);
	if (r >= 0)
		r = tc_build_netem(buf, sizeof(buf), ifindex, &q, err);
	return r < 0 ? r : nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, err);
}

struct probe {
	int r;
	nslab_error err;
};

/* On a thread of its own: a scratch netns, netem on its lo, then the thread (and netns) go. */
static void *probe_thread(void *arg)
{
	static const nslab_link_dir d = { .delay_ns = 1000000 };
	struct probe *p = arg;
	struct nlsock *nl = NULL;

	if (unshare(CLONE_NEWNET) < 0) {
		p->r = nslab_err_set(&p->err, errno, "netem probe: unshare(CLONE_NEWNET)");
		return NULL;
	}
	p->r = nlsock_open(NETLINK_ROUTE, &nl, &p->err);
	if (p->r >= 0)
		p->r = netem_set(nl, 1, &d, 0, &p->err);
	nl = nlsock_free(nl);
	return NULL;
}

int netem_probe(nslab_error *err)
{
	struct probe p = { 0 };
	pthread_t tid;
	int r = pthread_create(&tid, NULL, probe_thread, &p);

	if (r != 0)
		return nslab_err_set(err, r, "netem probe: start a thread");
	(void)pthread_join(tid, NULL);
	if (p.r >= 0)
		return 1;
	if (err)
		*err = p.err;
	/* "Specified qdisc kind is unknown" (ENOENT), or a kernel that refuses netem */
	if (p.r == -ENOENT || p.r == -EOPNOTSUPP)
		return 0;
	return p.r;
}
