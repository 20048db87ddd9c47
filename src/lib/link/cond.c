/* SPDX-License-Identifier: MIT */
/*
 * link/cond: link conditions from the lab file, the command line and presets.
 *
 * Values are read as exact decimals (no floating point), so "0.1%" is
 * exactly 1000000 ppb and "1.5ms" exactly 1500000 ns; a value finer than the
 * unit it is held in is refused rather than rounded.
 */
#include "link/cond.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DELAY_MAX_NS (60ull * 1000000000ull) /* the wheel holds a minute */
#define BURST_MAX    (64u << 20)
#define LIMIT_MAX    (1u << 30)

/* "12.345" at s: mantissa, count of fraction digits, and where the unit starts. */
static int parse_decimal(const char *s, uint64_t *mant, unsigned *frac, const char **end)
{
	uint64_t m = 0;
	unsigned f = 0, digits = 0;
	bool dot = false;

	for (;; s++) {
		if (*s == '.' && !dot) {
			dot = true;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		if (m > (UINT64_MAX - 9) / 10 || f >= 18)
			return -ERANGE;
		m = m * 10 + (uint64_t)(*s - '0');
		digits++;
		f += dot;
	}
	if (!digits || (dot && f == 0))
		return -EINVAL;
	*mant = m;
	*frac = f;
	*end = s;
	return 0;
}

/* mant / 10^frac * mult, exactly. Return: 0, -EINVAL (finer than the unit) or -ERANGE. */
static int scale(uint64_t mant, unsigned frac, uint64_t mult, uint64_t *ret)
{
	unsigned __int128 v = (unsigned __int128)mant * mult, p = 1;

	for (unsigned i = 0; i < frac; i++)
		p *= 10;
	if (v % p)
		return -EINVAL;
	v /= p;
	if (v > UINT64_MAX)
		return -ERANGE;
	*ret = (uint64_t)v;
	return 0;
}

struct unit {
	const char *name;
	uint64_t mult;
};

static int parse_with_units(const char *s, const struct unit *units, size_t n, bool bare_ok,
			    uint64_t *ret)
{
	const char *end;
	uint64_t m;
	unsigned f;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_decimal(s, &m, &f, &end);
	if (r < 0)
		return r;
	if (!*end && (bare_ok || m == 0))
		return scale(m, f, units[0].mult, ret);
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(end, units[i].name) == 0)
			return scale(m, f, units[i].mult, ret);
	return -EINVAL;
}

int linkcond_parse_time(const char *s, uint64_t *ret_ns)
{
	static const struct unit units[] = { { "us", 1000 },	  { "usec", 1000 },
					     { "ms", 1000000 },	  { "msec", 1000000 },
					     { "s", 1000000000 }, { "sec", 1000000000 },
					     { "ns", 1 } };

	return parse_with_units(s, units, sizeof(units) / sizeof(units[0]), false, ret_ns);
}

int linkcond_parse_percent(const char *s, uint32_t *ret_ppb)
{
	static const struct unit units[] = { { "%", NSLAB_LINK_PPB_ONE / 100 } };
	uint64_t v;
	int r = parse_with_units(s, units, 1, false, &v);

	if (r < 0)
		return r;
	if (v > NSLAB_LINK_PPB_ONE)
		return -ERANGE;
	*ret_ppb = (uint32_t)v;
	return 0;
}

int linkcond_parse_rate(const char *s, uint64_t *ret_bps)
{
	static const struct unit units[] = {
		{ "bit", 1 },		{ "kbit", 1000 },	   { "mbit", 1000000 },
		{ "gbit", 1000000000 }, { "tbit", 1000000000000 }, { "bps", 8 },
		{ "kbps", 8000 },	{ "mbps", 8000000 },	   { "gbps", 8000000000 },
	};

	return parse_with_units(s, units, sizeof(units) / sizeof(units[0]), false, ret_bps);
}

int linkcond_parse_bytes(const char *s, uint64_t *ret)
{
	static const struct unit units[] = {
		{ "b", 1 },	   { "k", 1 << 10 },   { "kb", 1 << 10 },  { "kib", 1 << 10 },
		{ "m", 1 << 20 },  { "mb", 1 << 20 },  { "mib", 1 << 20 }, { "g", 1 << 30 },
		{ "gb", 1 << 30 }, { "gib", 1 << 30 },
	};

	return parse_with_units(s, units, sizeof(units) / sizeof(units[0]), true, ret);
}

/* Formatting: the largest unit that shows the value exactly. */

static const char *fmt_units(uint64_t v, const struct unit *units, size_t n, char *buf, size_t len)
{
	for (size_t i = n; i-- > 0;) {
		uint64_t m = units[i].mult;

		if (v >= m && v % (m / 1000 ? m / 1000 : 1) == 0) {
			uint64_t frac = v % m;

			if (frac == 0)
				snprintf(buf, len, "%" PRIu64 "%s", v / m, units[i].name);
			else
				snprintf(buf, len, "%" PRIu64 ".%03" PRIu64 "%s", v / m,
					 frac / (m / 1000), units[i].name);
			/* "1.500ms" reads better as "1.5ms" */
			if (frac) {
				char *dot = strchr(buf, '.'), *u = dot + 4;

				while (u[-1] == '0')
					memmove(u - 1, u, strlen(u) + 1), u--;
			}
			return buf;
		}
	}
	snprintf(buf, len, "%" PRIu64 "%s", v, units[0].name);
	return buf;
}

const char *linkcond_fmt_time(uint64_t ns, char *buf, size_t len)
{
	static const struct unit units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 }
	};

	return fmt_units(ns, units, 4, buf, len);
}

const char *linkcond_fmt_rate(uint64_t bps, char *buf, size_t len)
{
	static const struct unit units[] = {
		{ "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 }
	};

	return fmt_units(bps, units, 4, buf, len);
}

const char *linkcond_fmt_percent(uint32_t ppb, char *buf, size_t len)
{
	uint32_t whole = ppb / (NSLAB_LINK_PPB_ONE / 100), frac = ppb % (NSLAB_LINK_PPB_ONE / 100);
	int n = snprintf(buf, len, "%" PRIu32, whole);

	if (frac && n > 0 && (size_t)n < len) {
		char f[8];

		snprintf(f, sizeof(f), "%07" PRIu32, frac);
		for (int i = 6; i > 0 && f[i] == '0'; i--)
			f[i] = '\0';
		snprintf(buf + n, len - (size_t)n, ".%s", f);
	}
	snprintf(buf + strlen(buf), len - strlen(buf), "%%");
	return buf;
}

/* Decoding */

enum key {
	K_DELAY,
	K_JITTER,
	K_DIST,
	K_CORR,
	K_LOSS,
	K_RATE,
	K_BURST,
	K_LIMIT,
	K_REORDER,
	K_GAP,
	K_DUPLICATE,
	K_CORRUPT,
	K_MTU,
	K_TRACE,
	K__DIR, /* the keys above may appear under up:/down:, the ones below only at the top */
	K_PRESET = K__DIR,
	K_SEED,
	K_UP,
	K_DOWN,
};

static const char *const top_keys[] = {
	"delay",  "jitter",  "distribution", "correlation", "loss",    "rate", "burst",
	"limit",  "reorder", "gap",	     "duplicate",   "corrupt", "mtu",  "trace",
	"preset", "seed",    "up",	     "down",	    NULL
};

static int y_time(const struct yctx *c, const struct ynode *v, const char *what, uint64_t max,
		  uint64_t *ret)
{
	const char *s;
	int r = y_str(c, v, what, &s);

	if (r < 0)
		return r;
	if (linkcond_parse_time(s, ret) < 0 || *ret > max)
		return y_error(c, v,
			       "bad %s '%s' (expected a time such as 20ms or 500us, at most 60s)",
			       what, YAML_Q(s));
	return 0;
}

static int y_percent(const struct yctx *c, const struct ynode *v, const char *what, uint32_t *ret)
{
	const char *s;
	int r = y_str(c, v, what, &s);

	if (r < 0)
		return r;
	if (linkcond_parse_percent(s, ret) < 0)
		return y_error(c, v, "bad %s '%s' (expected a percentage such as 1%% or 0.05%%)",
			       what, YAML_Q(s));
	return 0;
}

static int y_bytes(const struct yctx *c, const struct ynode *v, const char *what, uint64_t max,
		   uint64_t *ret)
{
	const char *s;
	int r = y_str(c, v, what, &s);

	if (r < 0)
		return r;
	if (linkcond_parse_bytes(s, ret) < 0 || *ret > max)
		return y_error(c, v,
			       "bad %s '%s' (expected a size such as 1500b or 32kb, at most %u)",
			       what, YAML_Q(s), (unsigned)max);
	return 0;
}

static int decode_gilbert(const struct yctx *c, const struct ynode *v, nslab_link_dir *d)
{
	static const char *const keys[] = { "p", "r", "1-h", "1-k", NULL };
	uint32_t *fields[] = { &d->ge_p, &d->ge_r, &d->ge_1h, &d->ge_1k };
	uint32_t seen = 0;
	int r = y_map(c, v, "gilbert", NULL);

	d->loss_model = NSLAB_LINK_LOSS_GE;
	d->ge_p = d->ge_r = d->ge_1k = 0;
	d->ge_1h = NSLAB_LINK_PPB_ONE; /* netem's default: every packet lost in the bad state */
	d->loss = d->loss_corr = 0;
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int k = y_key(c, v->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		r = y_percent(c, v->kids[i + 1], keys[k], fields[k]);
	}
	if (r >= 0 && !(seen & 1u))
		return y_error(c, v, "gilbert: p (the good-to-bad probability) is required");
	if (r >= 0 && !(seen & 2u))
		d->ge_r = NSLAB_LINK_PPB_ONE - d->ge_p; /* netem's default for r: 1 - p */
	return r;
}

static void set_random_loss(nslab_link_dir *d, uint32_t p, uint32_t corr)
{
	d->loss_model = p ? NSLAB_LINK_LOSS_RANDOM : NSLAB_LINK_LOSS_NONE;
	d->loss = p;
	d->loss_corr = corr;
	d->ge_p = d->ge_r = d->ge_1h = d->ge_1k = 0;
}

/* loss: 1%  |  {percent: 1%, correlation: 25%}  |  {gilbert: {p: 1%, r: 30%, 1-h: .., 1-k: ..}} */
static int decode_loss(const struct yctx *c, const struct ynode *v, nslab_link_dir *d)
{
	static const char *const keys[] = { "percent", "correlation", "gilbert", NULL };
	uint32_t p = 0, corr = 0, seen = 0;
	int r;

	if (v->type == Y_SCALAR) {
		r = y_percent(c, v, "loss", &p);
		if (r >= 0)
			set_random_loss(d, p, 0);
		return r;
	}
	r = y_map(c, v, "loss", NULL);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int k = y_key(c, v->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 2 && (seen & 3u))
			return y_error(c, v->kids[i],
				       "loss: gilbert excludes percent and correlation");
		if (k < 2 && (seen & 4u))
			return y_error(c, v->kids[i],
				       "loss: gilbert excludes percent and correlation");
		if (k == 2)
			r = decode_gilbert(c, v->kids[i + 1], d);
		else
			r = y_percent(c, v->kids[i + 1], keys[k], k == 0 ? &p : &corr);
	}
	if (r >= 0 && !(seen & 4u))
		set_random_loss(d, p, corr);
	return r;
}

/* duplicate / corrupt: 1%  |  {percent: 1%, correlation: 25%} (netem's PERCENT [CORRELATION]) */
static int decode_pct_corr(const struct yctx *c, const struct ynode *v, const char *what,
			   uint32_t *ret_p, uint32_t *ret_corr)
{
	static const char *const keys[] = { "percent", "correlation", NULL };
	uint32_t seen = 0;
	int r;

	if (v->type == Y_SCALAR) {
		*ret_corr = 0;
		return y_percent(c, v, what, ret_p);
	}
	r = y_map(c, v, what, NULL);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int k = y_key(c, v->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		r = y_percent(c, v->kids[i + 1], keys[k], k ? ret_corr : ret_p);
	}
	if (r >= 0 && !(seen & 1u))
		return y_error(c, v, "%s: percent is required", what);
	return r;
}

/* reorder: 5%  |  {percent: 5%, correlation: 50%, gap: 5} */
static int decode_reorder(const struct yctx *c, const struct ynode *v, nslab_link_dir *d)
{
	static const char *const keys[] = { "percent", "correlation", "gap", NULL };
	uint32_t seen = 0;
	uint64_t gap;
	int r;

	if (v->type == Y_SCALAR)
		return y_percent(c, v, "reorder", &d->reorder);
	r = y_map(c, v, "reorder", NULL);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int k = y_key(c, v->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 2) {
			r = y_uint(c, v->kids[i + 1], "gap", 0, UINT32_MAX, "a packet count", &gap);
			d->gap = (uint32_t)gap;
		} else {
			r = y_percent(c, v->kids[i + 1], keys[k],
				      k ? &d->reorder_corr : &d->reorder);
		}
	}
	return r;
}

static int decode_limit(const struct yctx *c, const struct ynode *v, nslab_link_dir *d)
{
	const char *s;
	uint64_t x;
	int r = y_str(c, v, "limit", &s);

	if (r < 0)
		return r;
	if (linkcond_parse_time(s, &x) == 0 && x > 0 && x <= DELAY_MAX_NS) {
		d->limit_ns = x;
		d->limit_bytes = 0;
		return 0;
	}
	if (linkcond_parse_bytes(s, &x) == 0 && x > 0 && x <= LIMIT_MAX) {
		d->limit_bytes = (uint32_t)x;
		d->limit_ns = 0;
		return 0;
	}
	return y_error(c, v, "bad limit '%s' (expected bytes such as 64kb, or a time such as 50ms)",
		       YAML_Q(s));
}

static int decode_trace(const struct yctx *c, const struct ynode *v, nslab_link_dir *d)
{
	const char *s;
	int r = y_str(c, v, "trace", &s);

	if (r < 0)
		return r;
	if (strlen(s) >= sizeof(d->trace))
		return y_error(c, v, "trace: path longer than %zu bytes", sizeof(d->trace) - 1);
	strcpy(d->trace, s);
	return 0;
}

static int decode_dir_key(const struct yctx *c, enum key k, const struct ynode *v,
			  nslab_link_dir *d)
{
	static const char *const dists[] = { "uniform", "normal", "pareto", "paretonormal", NULL };
	uint64_t x = 0;
	unsigned e;
	int r;

	switch (k) {
	case K_DELAY:
		return y_time(c, v, "delay", DELAY_MAX_NS, &d->delay_ns);
	case K_JITTER:
		return y_time(c, v, "jitter", DELAY_MAX_NS, &d->jitter_ns);
	case K_DIST:
		r = y_enum(c, v, "distribution", dists, "uniform, normal, pareto or paretonormal",
			   &e);
		d->dist = (enum nslab_link_dist)e;
		return r;
	case K_CORR:
		return y_percent(c, v, "correlation", &d->delay_corr);
	case K_LOSS:
		return decode_loss(c, v, d);
	case K_RATE: {
		const char *s;

		r = y_str(c, v, "rate", &s);
		if (r >= 0 && (linkcond_parse_rate(s, &d->rate_bps) < 0 ||
			       (d->rate_bps && d->rate_bps < 8000)))
			return y_error(c, v,
				       "bad rate '%s' (expected a rate such as 5mbit, 100kbit or "
				       "1gbit, at least 8kbit)",
				       YAML_Q(s));
		return r;
	}
	case K_BURST:
		r = y_bytes(c, v, "burst", BURST_MAX, &x);
		d->burst = (uint32_t)x;
		return r;
	case K_LIMIT:
		return decode_limit(c, v, d);
	case K_REORDER:
		return decode_reorder(c, v, d);
	case K_GAP:
		r = y_uint(c, v, "gap", 0, UINT32_MAX, "a packet count", &x);
		d->gap = (uint32_t)x;
		return r;
	case K_DUPLICATE:
		return decode_pct_corr(c, v, "duplicate", &d->duplicate, &d->duplicate_corr);
	case K_CORRUPT:
		return decode_pct_corr(c, v, "corrupt", &d->corrupt, &d->corrupt_corr);
	case K_MTU:
		r = y_uint(c, v, "mtu", 68, 65535, "68..65535", &x);
		d->mtu = (uint32_t)x;
		return r;
	case K_TRACE:
		return decode_trace(c, v, d);
	case K_SEED:
	case K_UP:
	case K_DOWN:
	case K_PRESET:
		break;
	}
	return y_error(c, v, "internal: key %d is not a direction's", (int)k);
}

/* up: / down: a mapping of direction keys, applied over what the top level set. */
static int decode_dir_map(const struct yctx *c, const struct ynode *v, const char *what,
			  nslab_link_dir *d)
{
	const char *keys[K__DIR + 1];
	uint32_t seen = 0;
	int r = y_map(c, v, what, NULL);

	memcpy(keys, top_keys, sizeof(*keys) * K__DIR);
	keys[K__DIR] = NULL;
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int k = y_key(c, v->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		r = decode_dir_key(c, (enum key)k, v->kids[i + 1], d);
	}
	return r;
}

static int find_preset(const struct yctx *c, const struct ynode *v, const char *name,
		       const struct linkcond_user *user, nslab_link_condition *ret)
{
	const char *text;

	for (size_t i = 0; user && i < user->n; i++)
		if (strcmp(user->v[i].name, name) == 0) {
			*ret = user->v[i].cond;
			return 0;
		}
	text = linkcond_preset_text(name);
	if (text) {
		_cleanup_(ynode_freep) struct ynode *root = NULL;
		struct yctx pc = { .file = NULL, .err = c->err };
		int r = yaml_read(&pc, text, strlen(text), 0, &root);

		if (r < 0)
			return nslab_err_prefix(c->err, r, "preset '%s'", name);
		r = linkcond_decode(&pc, root, NULL, ret);
		return r < 0 ? nslab_err_prefix(c->err, r, "preset '%s'", name) : 0;
	}
	return y_error(c, v, "unknown link preset '%s' (see `nslab link --presets`)", YAML_Q(name));
}

static int check_dir(const struct yctx *c, const struct ynode *v, const char *what,
		     const nslab_link_dir *d)
{
	if (d->reorder && !d->delay_ns)
		return y_error(c, v, "%sreorder needs a delay (reordered packets skip it)", what);
	if (d->trace[0] && d->rate_bps)
		return y_error(c, v, "%strace and rate exclude each other (the trace is the rate)",
			       what);
	if (d->jitter_ns && !d->delay_ns)
		return y_error(c, v, "%sjitter needs a delay", what);
	return 0;
}

static int decode_map(const struct yctx *c, const struct ynode *v, const struct linkcond_user *user,
		      nslab_link_condition *cond)
{
	uint32_t seen = 0;
	uint64_t seed;
	int r = y_map(c, v, "link", NULL);

	/* Three passes, so that order in the mapping does not matter: preset, shared, per direction */
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int k = y_key(c, v->kids[i], top_keys, SIZE_MAX, &seen);
		const char *name;

		if (k < 0)
			return k;
		if (k != K_PRESET)
			continue;
		r = y_str(c, v->kids[i + 1], "preset", &name);
		if (r >= 0)
			r = find_preset(c, v->kids[i + 1], name, user, cond);
	}
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int k = y_key(c, v->kids[i], top_keys, SIZE_MAX, &(uint32_t){ 0 });

		if (k < K__DIR) {
			r = decode_dir_key(c, (enum key)k, v->kids[i + 1], &cond->up);
			if (r >= 0)
				r = decode_dir_key(c, (enum key)k, v->kids[i + 1], &cond->down);
		} else if (k == K_SEED) {
			r = y_uint(c, v->kids[i + 1], "seed", 0, UINT64_MAX, "a number", &seed);
			cond->seed = seed;
			cond->has_seed = true;
		}
	}
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int k = y_key(c, v->kids[i], top_keys, SIZE_MAX, &(uint32_t){ 0 });

		if (k == K_UP)
			r = decode_dir_map(c, v->kids[i + 1], "up", &cond->up);
		else if (k == K_DOWN)
			r = decode_dir_map(c, v->kids[i + 1], "down", &cond->down);
	}
	return r;
}

int linkcond_decode(const struct yctx *c, const struct ynode *v, const struct linkcond_user *user,
		    nslab_link_condition *ret)
{
	nslab_link_condition cond = { 0 };
	const char *name;
	int r;

	if (v->type == Y_SCALAR) {
		r = y_str(c, v, "link", &name);
		if (r >= 0)
			r = find_preset(c, v, name, user, &cond);
	} else {
		r = decode_map(c, v, user, &cond);
	}
	if (r >= 0)
		r = check_dir(c, v, "up: ", &cond.up);
	if (r >= 0)
		r = check_dir(c, v, "down: ", &cond.down);
	if (r < 0)
		return r;
	*ret = cond;
	return 0;
}
