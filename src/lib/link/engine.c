/* SPDX-License-Identifier: MIT */
/*
 * link/engine: per-frame decisions of the wire backend (see engine.h).
 *
 * Departure time of a frame, in order:
 *  1. rate: a token bucket as a virtual clock. The link is busy until
 *     next_free; a frame starts at max(now - burst time, next_free) and takes
 *     len * 8 / rate. What waits (next_free - now) is the queue: past the
 *     limit the frame is dropped (tail drop).
 *     trace: the frame takes the next unused opportunities at or after the
 *     later of now and the previous frame's, one per 1500 bytes.
 *  2. delay + jitter, with the jitter's standard variate correlated (AR(1)),
 *     never below zero, and never before the previous frame (no reordering by
 *     jitter: that is what `reorder` is for).
 *  3. reorder: a frame picked by reorder/gap skips step 2.
 */
#include "link/engine.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/libm-dl.h"
#include "core/yaml.h"

#define NSEC		1000000000ull
#define DEFAULT_LIMIT_B (1000u * 1514u) /* netem's default: 1000 full frames */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void prng_seed(struct prng *p, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		p->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna), written from its definition. */
uint64_t prng_next(struct prng *p)
{
	uint64_t *s = p->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double prng_unit(struct prng *p)
{
	return (double)(prng_next(p) >> 11) * 0x1.0p-53;
}

uint64_t wire_dir_seed(uint64_t link_seed, bool up)
{
	return hash_str(hash_seed(link_seed), up ? "up" : "down");
}

void wire_dir_init(struct wire_dir *d, const nslab_link_dir *cfg, uint64_t seed,
		   struct wire_trace *trace, uint64_t now_ns)
{
	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	prng_seed(&d->rng, seed);
	if (trace) {
		d->trace = *trace;
		memset(trace, 0, sizeof(*trace));
	}
	d->trace_base_ns = now_ns;
	/* the jitter's libm (wire.c loaded it already, with an error if it could not) */
	if (cfg->jitter_ns)
		(void)dl_m_load(NULL);
}

void wire_dir_clear(struct wire_dir *d)
{
	wire_trace_clear(&d->trace);
}

/* netem's correlated draw: a weighted mean of a fresh draw and the previous one. */
static uint32_t correlated(uint32_t fresh, uint32_t *last, uint32_t corr_ppb)
{
	uint64_t rho = (uint64_t)corr_ppb, one = NSLAB_LINK_PPB_ONE;
	uint32_t v = (uint32_t)(((one - rho) * fresh + rho * (uint64_t)*last) / one);

	*last = v;
	return v;
}

/* p in ppb as a threshold over [0, 2^32). */
static bool below(uint32_t draw, uint32_t p_ppb)
{
	return (uint64_t)draw * NSLAB_LINK_PPB_ONE < (uint64_t)p_ppb << 32;
}

static bool decide_loss(struct wire_dir *d, uint32_t r1, uint32_t r2)
{
	const nslab_link_dir *c = &d->cfg;

	switch (c->loss_model) {
	case NSLAB_LINK_LOSS_RANDOM:
		return below(correlated(r1, &d->loss_last, c->loss_corr), c->loss);
	case NSLAB_LINK_LOSS_GE:
		/* move first, then lose by the state the frame meets */
		if (d->ge_bad ? below(r1, c->ge_r) : below(r1, c->ge_p))
			d->ge_bad = !d->ge_bad;
		return below(r2, d->ge_bad ? c->ge_1h : c->ge_1k);
	case NSLAB_LINK_LOSS_NONE:
		break;
	}
	return false;
}

/* Box-Muller: a standard normal variate; u1 in (0, 1] */
static double normal_variate(double u1, double u2)
{
	return dl_m.sqrt(-2.0 * dl_m.log(1.0 - u1)) * dl_m.cos(2.0 * M_PI * u2);
}

/* Pareto xm=1 alpha=3: mean 1.5, deviation sqrt(3)/2 */
static double pareto_variate(double u3)
{
	return (dl_m.pow(1.0 - u3, -1.0 / 3.0) - 1.5) / 0.8660254037844386;
}

/* A standard variate (mean 0, deviation 1) of the configured shape. */
static double variate(enum nslab_link_dist dist, double u1, double u2, double u3)
{
	switch (dist) {
	case NSLAB_LINK_DIST_NORMAL:
		return normal_variate(u1, u2);
	case NSLAB_LINK_DIST_PARETO:
		return pareto_variate(u3);
	case NSLAB_LINK_DIST_PARETONORMAL:
		/* sqrt(0.25^2 + 0.75^2) */
		return (0.25 * normal_variate(u1, u2) + 0.75 * pareto_variate(u3)) /
		       0.7905694150420949;
	case NSLAB_LINK_DIST_UNIFORM:
		break;
	}
	return (2.0 * u1 - 1.0) * 1.7320508075688772; /* uniform on +-sqrt(3) */
}

static uint64_t jittered_delay(struct wire_dir *d, double u1, double u2, double u3)
{
	const nslab_link_dir *c = &d->cfg;
	double rho = (double)c->delay_corr / NSLAB_LINK_PPB_ONE, z, v;

	/* no libm (wire.c refused the link; sqrt, the table's last, is set last): no jitter */
	if (!c->jitter_ns || !dl_m.sqrt)
		return c->delay_ns;
	z = variate(c->dist, u1, u2, u3);
	z = rho * d->delay_last + dl_m.sqrt(1.0 - rho * rho) * z;
	d->delay_last = z;
	/* uniform: netem's +-jitter; the others: jitter is the deviation */
	if (c->dist == NSLAB_LINK_DIST_UNIFORM)
		z /= 1.7320508075688772;
	v = (double)c->delay_ns + z * (double)c->jitter_ns;
	return v <= 0 ? 0 : (uint64_t)dl_m.llround(v);
}

static uint64_t queue_limit_ns(const nslab_link_dir *c)
{
	uint64_t bytes = c->limit_bytes ? c->limit_bytes : DEFAULT_LIMIT_B;

	if (c->limit_ns)
		return c->limit_ns;
	return (uint64_t)((unsigned __int128)bytes * 8 * NSEC / c->rate_bps);
}

/*
 * The burst when none is set: one frame, the one being sent. A GSO
 * super-frame (up to 64 KiB, 5.2 ms at 100mbit) is delivered whole when its
 * last byte would be, so a TCP stream with two or three of them in flight
 * (BBR's cwnd over ~0 RTT) left the link idle whenever an ACK's turn through
 * the hosts took longer than one frame: one stream lost 0.5-2.8% of the rate
 * under load. With a frame's worth of credit for an idle link, such a gap up
 * to the frame's own time is made up; a busy link gains no credit, so the
 * rate over any time T stays within rate * T + one frame (tbf's bound with a
 * burst of one frame). Frames up to 1514 bytes: as before.
 */
static uint32_t default_burst(const nslab_link_dir *c, uint32_t len)
{
	if (c->burst)
		return c->burst;
	return len > 1514 ? len : 1514;
}

/* Rate: departure after the token bucket, or 0 with *full when the queue is full. */
static uint64_t rate_depart(struct wire_dir *d, uint64_t now, uint32_t len, bool *full)
{
	const nslab_link_dir *c = &d->cfg;
	uint64_t tx = (uint64_t)((unsigned __int128)len * 8 * NSEC / c->rate_bps);
	uint64_t burst =
		(uint64_t)((unsigned __int128)default_burst(c, len) * 8 * NSEC / c->rate_bps);
	uint64_t start = now > burst ? now - burst : 0;

	if (d->next_free_ns > start)
		start = d->next_free_ns;
	/* what is still waiting when this frame is queued */
	if (start > now && start - now + tx > queue_limit_ns(c)) {
		*full = true;
		return 0;
	}
	d->next_free_ns = start + tx;
	return d->next_free_ns > now ? d->next_free_ns : now;
}

static uint64_t trace_time(const struct wire_dir *d, uint64_t k)
{
	const struct wire_trace *t = &d->trace;
	uint64_t loop = k / t->n, ms = loop * t->period_ms + t->ms[k % t->n];

	return d->trace_base_ns + ms * 1000000ull;
}

static uint64_t trace_depart(struct wire_dir *d, uint64_t now, uint32_t len, bool *full)
{
	uint64_t need = (len + WIRE_TRACE_MTU - 1) / WIRE_TRACE_MTU, k = d->trace_next, t;
	uint64_t limit = d->cfg.limit_ns ? d->cfg.limit_ns : NSEC; /* a second of queue */

	if (!d->trace.n || !need)
		return now;
	/* unused opportunities in the past are gone (the link was idle) */
	while (trace_time(d, k) < now)
		k++;
	t = trace_time(d, k + need - 1);
	if (t - now > limit) {
		*full = true;
		return 0;
	}
	d->trace_next = k + need;
	return t;
}

/*
 * netem's reorder: inside the gap (the gap-1 frames after the last frame sent
 * ahead) frames are delayed without a draw; past it, a correlated draw picks
 * the frame to go ahead. The correlation's state moves only when a draw is
 * made, as in netem's short-circuit (the draw itself is taken every frame,
 * see wire_decide()). gap 0 is netem's 1 (tc sets it so).
 */
static bool pick_reorder(struct wire_dir *d, uint32_t r)
{
	const nslab_link_dir *c = &d->cfg;

	if (!c->reorder || (c->gap && d->gap_count + 1 < c->gap) ||
	    !below(correlated(r, &d->reorder_last, c->reorder_corr), c->reorder)) {
		d->gap_count++;
		return false;
	}
	d->gap_count = 0;
	return true;
}

/* netem's duplicate and corrupt: a correlated draw, made only when set. */
static bool pick(uint32_t p, uint32_t corr, uint32_t r, uint32_t *last)
{
	return p && below(correlated(r, last, corr), p);
}

void wire_decide(struct wire_dir *d, uint64_t now, uint32_t len, uint32_t seg_len,
		 struct wire_verdict *v)
{
	const nslab_link_dir *c = &d->cfg;
	/* a fixed number of draws per frame, whatever is configured */
	uint32_t r_loss1 = prng_u32(&d->rng), r_loss2 = prng_u32(&d->rng);
	uint32_t r_dup = prng_u32(&d->rng), r_corrupt = prng_u32(&d->rng);
	uint32_t r_reorder = prng_u32(&d->rng), r_bit = prng_u32(&d->rng);
	double u1 = prng_unit(&d->rng), u2 = prng_unit(&d->rng), u3 = prng_unit(&d->rng);
	bool full = false, lost = decide_loss(d, r_loss1, r_loss2);
	uint64_t out;

	memset(v, 0, sizeof(*v));
	if (c->mtu && seg_len > c->mtu + 14u) {
		v->fate = WIRE_TOO_BIG;
		d->stats.too_big++;
		return;
	}
	if (lost) {
		v->fate = WIRE_LOST;
		d->stats.lost++;
		return;
	}
	out = d->trace.n    ? trace_depart(d, now, len, &full)
	      : c->rate_bps ? rate_depart(d, now, len, &full)
			    : now;
	if (full) {
		v->fate = WIRE_OVERFLOW;
		d->stats.overflow++;
		return;
	}
	if (pick_reorder(d, r_reorder)) {
		v->reordered = true;
		d->stats.reordered++;
	} else {
		out += jittered_delay(d, u1, u2, u3);
		if (out < d->last_out_ns)
			out = d->last_out_ns;
		d->last_out_ns = out;
	}
	v->fate = WIRE_SEND;
	v->copies = 1;
	v->when_ns[0] = v->when_ns[1] = out;
	if (pick(c->duplicate, c->duplicate_corr, r_dup, &d->duplicate_last)) {
		v->copies = 2;
		d->stats.duplicated++;
	}
	if (len > 14 && pick(c->corrupt, c->corrupt_corr, r_corrupt, &d->corrupt_last)) {
		v->corrupt = true;
		v->corrupt_bit = (uint32_t)(((uint64_t)r_bit * ((len - 14) * 8u)) >> 32);
		d->stats.corrupted++;
	}
	d->stats.passed += v->copies;
	d->stats.bytes += (uint64_t)len * v->copies;
}

void wire_decide_control(struct wire_dir *d, uint64_t now, uint32_t len, struct wire_verdict *v)
{
	const nslab_link_dir *c = &d->cfg;
	bool full = false;
	uint64_t out;

	memset(v, 0, sizeof(*v));
	out = d->trace.n    ? trace_depart(d, now, len, &full)
	      : c->rate_bps ? rate_depart(d, now, len, &full)
			    : now;
	if (full) {
		v->fate = WIRE_OVERFLOW;
		d->stats.overflow++;
		return;
	}
	out += c->delay_ns;
	if (out < d->last_out_ns)
		out = d->last_out_ns;
	d->last_out_ns = out;
	v->fate = WIRE_SEND;
	v->copies = 1;
	v->when_ns[0] = v->when_ns[1] = out;
	d->stats.passed++;
	d->stats.bytes += len;
}

/* Traces */

void wire_trace_clear(struct wire_trace *t)
{
	free(t->ms);
	memset(t, 0, sizeof(*t));
}

static int trace_line(const char *file, unsigned line, const char *s, size_t n, uint64_t prev,
		      uint64_t *ret, nslab_error *err)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX / 1000000 - 9) / 10)
			return nslab_err_setx(err, EINVAL,
					      "%s:%u: expected a whole number of milliseconds",
					      file, line);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < prev)
		return nslab_err_setx(err, EINVAL,
				      "%s:%u: %" PRIu64 " ms comes before %" PRIu64
				      " ms on the line above (times must not decrease)",
				      file, line, v, prev);
	*ret = v;
	return 0;
}

int wire_trace_parse(const char *file, const char *text, size_t len, struct wire_trace *ret,
		     nslab_error *err)
{
	struct wire_trace t = { 0 };
	size_t cap = 0;
	unsigned line = 0;
	int r;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		uint64_t v = 0;

		line++;
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (n) {
			r = trace_line(file, line, text + pos, n, t.n ? t.ms[t.n - 1] : 0, &v, err);
			if (r < 0) {
				wire_trace_clear(&t);
				return r;
			}
			if (t.n == cap) {
				uint64_t *grown =
					reallocarray(t.ms, cap ? cap * 2 : 256, sizeof(*grown));

				if (!grown) {
					wire_trace_clear(&t);
					return nslab_err_set(err, ENOMEM, "%s", file);
				}
				t.ms = grown;
				cap = cap ? cap * 2 : 256;
			}
			t.ms[t.n++] = v;
		}
		pos += (nl ? (size_t)(nl - (text + pos)) + 1 : len - pos);
	}
	if (!t.n || t.ms[t.n - 1] == 0) {
		wire_trace_clear(&t);
		return nslab_err_setx(err, EINVAL,
				      "%s: a trace needs at least one time after 0 ms (its period)",
				      file);
	}
	t.period_ms = t.ms[t.n - 1];
	*ret = t;
	return 0;
}

int wire_trace_load(const char *path, struct wire_trace *ret, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = yaml_read_file(path, 64u << 20, &text, &len, err);

	if (r < 0)
		return nslab_err_prefix(err, r, "trace");
	return wire_trace_parse(path, text ? text : "", len, ret, err);
}
