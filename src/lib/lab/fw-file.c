/* SPDX-License-Identifier: MIT */
/*
 * lab/fw-file: the `firewall:` value of a router in a lab file: a preset
 * name, or a mapping {preset:, block_inbound:, tcp:, udp:} whose keys
 * override the preset (none by default). tcp: and udp: are `any` or a list
 * of the outbound destination ports let through (80, "8000-8100"; [] for
 * none). Errors at FILE:LINE:COL.
 */
#include "lab/fw-file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int decode_preset(const struct yctx *y, const struct ynode *v, struct fw_config *c)
{
	const char *s;
	int r = y_str(y, v, "firewall", &s);

	if (r < 0)
		return r;
	if (fw_preset(s, c) < 0)
		return y_error(y, v, "unknown firewall preset '%s' (expected %s, or a mapping)",
			       YAML_Q(s), fw_preset_list());
	return 0;
}

static int decode_ports(const struct yctx *y, const struct ynode *v, const char *what,
			struct fw_ports *ret)
{
	struct fw_ports p = { 0 };
	const char *s;
	int r;

	if (v->type == Y_SCALAR && !y_is_null(v) && strcmp(v->text, "any") == 0) {
		*ret = (struct fw_ports){ .any = true };
		return 0;
	}
	if (v->type != Y_SEQ)
		return y_error(y, v,
			       "bad %s ports %s%s%s(expected any, or a list such as [80, 443])",
			       what, v->type == Y_SCALAR ? "'" : "",
			       v->type == Y_SCALAR ? YAML_Q(v->text) : "",
			       v->type == Y_SCALAR ? "' " : "");
	if (v->n > FW_PORTS_MAX)
		return y_error(y, v, "too many %s ports (at most %d entries)", what, FW_PORTS_MAX);
	for (size_t i = 0; i < v->n; i++) {
		r = y_str(y, v->kids[i], what, &s);
		if (r < 0)
			return r;
		if (fw_ports_parse_one(s, &p.lo[i], &p.hi[i]) < 0)
			return y_error(y, v->kids[i],
				       "bad %s port '%s' (expected a port 1..65535 or a range "
				       "LO-HI)",
				       what, YAML_Q(s));
	}
	p.n = v->n;
	*ret = p;
	return 0;
}

enum { FK_PRESET, FK_BLOCK_INBOUND, FK_TCP, FK_UDP };

static int decode_custom(const struct yctx *y, const struct ynode *v, struct fw_config *c)
{
	static const char *const keys[] = { "preset", "block_inbound", "tcp", "udp", NULL };
	uint32_t seen = 0;
	int r = 0;

	(void)fw_preset("none", c);
	/* the preset first, wherever it is written: the other keys override it */
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		int k = y_key(y, v->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == FK_PRESET && (r = decode_preset(y, v->kids[i + 1], c)) < 0)
			return r;
	}
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int k = y_key(y, v->kids[i], keys, SIZE_MAX, &(uint32_t){ 0 });
		const struct ynode *val = v->kids[i + 1];

		if (k == FK_BLOCK_INBOUND)
			r = y_bool(y, val, "block_inbound", &c->block_inbound);
		else if (k == FK_TCP)
			r = decode_ports(y, val, "tcp", &c->tcp);
		else if (k == FK_UDP)
			r = decode_ports(y, val, "udp", &c->udp);
	}
	if (r < 0)
		return r;
	if (seen != (1u << FK_PRESET))
		snprintf(c->preset, sizeof(c->preset), "custom");
	/* a custom firewall that limits nothing is none, whatever it was called */
	c->enabled = c->block_inbound || !c->tcp.any || !c->udp.any;
	c->captive = c->captive && seen == (1u << FK_PRESET);
	return 0;
}

int fw_decode(const struct yctx *y, const struct ynode *v, struct fw_config *ret)
{
	struct fw_config c = { 0 };
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
