/* SPDX-License-Identifier: MIT */
/*
 * lab/nat-file: the `nat:` value of a router in a lab file: a preset name, or
 * a mapping {preset:, mapping:, filtering:, hairpin:, timeouts:, port_range:}
 * whose keys override the preset (home by default). Errors at FILE:LINE:COL.
 */
#include "lab/nat-file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int decode_preset(const struct yctx *y, const struct ynode *v, struct nat_config *c)
{
	const char *s;
	int r = y_str(y, v, "nat", &s);

	if (r < 0)
		return r;
	if (nat_preset(s, c) < 0)
		return y_error(y, v, "unknown NAT preset '%s' (expected %s, or a mapping)",
			       YAML_Q(s), nat_preset_list());
	return 0;
}

static int decode_timeouts(const struct yctx *y, const struct ynode *v, struct nat_timeouts *t)
{
	static const char *const keys[] = { "udp", "udp_stream", "tcp_established",
					    "tcp_transitory", NULL };
	unsigned *slots[] = { &t->udp, &t->udp_stream, &t->tcp_established, &t->tcp_transitory };
	uint32_t seen = 0;
	int r = y_map(y, v, "timeouts", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		const char *s;
		int k = y_key(y, v->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		r = y_str(y, v->kids[i + 1], keys[k], &s);
		if (r >= 0 && nat_duration_parse(s, slots[k]) < 0)
			return y_error(y, v->kids[i + 1],
				       "bad %s timeout '%s' (expected seconds such as 30, 30s, 5m "
				       "or 2h, at most 7 days)",
				       keys[k], YAML_Q(s));
	}
	return r;
}

enum { NK_PRESET, NK_MAPPING, NK_FILTERING, NK_HAIRPIN, NK_TIMEOUTS, NK_PORTS };

static int decode_key(const struct yctx *y, int key, const struct ynode *v, struct nat_config *c)
{
	const char *s;
	int r;

	switch (key) {
	case NK_MAPPING:
		r = y_str(y, v, "mapping", &s);
		if (r >= 0 && nat_mapping_parse(s, &c->mapping) < 0)
			return y_error(y, v, "bad NAT mapping '%s' (expected eim, adm or edm)",
				       YAML_Q(s));
		return r;
	case NK_FILTERING:
		r = y_str(y, v, "filtering", &s);
		if (r >= 0 && nat_filtering_parse(s, &c->filtering) < 0)
			return y_error(y, v, "bad NAT filtering '%s' (expected eif, adf or apdf)",
				       YAML_Q(s));
		return r;
	case NK_HAIRPIN:
		return y_bool(y, v, "hairpin", &c->hairpin);
	case NK_TIMEOUTS:
		return decode_timeouts(y, v, &c->timeouts);
	default:
		r = y_str(y, v, "port_range", &s);
		if (r >= 0 && nat_port_range_parse(s, &c->port_lo, &c->port_hi) < 0)
			return y_error(
				y, v,
				"bad port_range '%s' (expected LO-HI, 1 <= LO <= HI <= 65535)",
				YAML_Q(s));
		return r;
	}
}

static int decode_custom(const struct yctx *y, const struct ynode *v, struct nat_config *c)
{
	static const char *const keys[] = { "preset",	"mapping",    "filtering", "hairpin",
					    "timeouts", "port_range", NULL };
	uint32_t seen = 0;
	int r;

	(void)nat_preset("home", c);
	/* the preset first, wherever it is written: the other keys override it */
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		int k = y_key(y, v->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == NK_PRESET) {
			r = decode_preset(y, v->kids[i + 1], c);
			if (r < 0)
				return r;
			if (!c->enabled && v->n > 2)
				return y_error(
					y, v->kids[i + 1],
					"preset 'none' takes no other NAT keys: write 'nat: none'");
		}
	}
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		int k = y_key(y, v->kids[i], keys, SIZE_MAX, &(uint32_t){ 0 });

		if (k == NK_PRESET)
			continue;
		r = decode_key(y, k, v->kids[i + 1], c);
		if (r < 0)
			return r;
	}
	if (!(seen & (1u << NK_PRESET)) || seen != (1u << NK_PRESET))
		snprintf(c->preset, sizeof(c->preset), "custom");
	return 0;
}

int nat_decode(const struct yctx *y, const struct ynode *v, struct nat_config *ret)
{
	struct nat_config c = { 0 };
	int r;

	if (v->type == Y_MAP)
		r = decode_custom(y, v, &c);
	else
		r = decode_preset(y, v, &c);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}
