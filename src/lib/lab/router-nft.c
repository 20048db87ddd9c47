/* SPDX-License-Identifier: MIT */
/*
 * lab/router-nft: a router's nslab tables (NAT, firewall) loaded together as
 * one libnftables transaction when the router is built, then its own
 * `rules_file:` beside them.
 */
#include "lab/router-nft.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "nl/nftables.h"
#include "shared/macro.h"

/*
 * `block_icmp_frag_needed:` a PMTU black hole, as a router whose operator
 * filters ICMP makes one: the IPv4 "fragmentation needed" and IPv6 "packet
 * too big" errors the router makes (output) or forwards are dropped, so a
 * sender of packets larger than the path's MTU is never told.
 */
static const char pmtu_text[] =
	"table inet nslab-pmtu {\n"
	"\tchain forward {\n\t\ttype filter hook forward priority filter - 1; policy accept;\n"
	"\t\ticmp type destination-unreachable icmp code frag-needed drop\n"
	"\t\ticmpv6 type packet-too-big drop\n\t}\n"
	"\tchain output {\n\t\ttype filter hook output priority filter - 1; policy accept;\n"
	"\t\ticmp type destination-unreachable icmp code frag-needed drop\n"
	"\t\ticmpv6 type packet-too-big drop\n\t}\n}\n";

/* The NAT's and the firewall's text, one after the other: a table each. */
static int tables_text(const struct spec_router *sr, const struct plan_node *pn, char **ret,
		       nslab_error *err)
{
	_cleanup_free_ char *nat = NULL, *nat6 = NULL, *fw = NULL;
	struct nat6_where n6w;
	struct nat_where nw;
	struct fw_where fwh;
	int r;

	if (sr->nat.enabled) {
		if (!nat_where_of(pn, &nw))
			return nslab_err_setx(err, EINVAL, "NAT needs an IPv4 uplink address");
		r = nat_ruleset_text(&sr->nat, &nw, &nat, err);
		if (r < 0)
			return r;
	}
	if (sr->nat6 != NAT6_NONE && nat6_where_of(pn, sr->nat6, &n6w)) {
		r = nat6_ruleset_text(sr->nat6, &n6w, &nat6, err);
		if (r < 0)
			return r;
	}
	if (sr->fw.enabled && fw_where_of(pn, &fwh)) {
		r = fw_ruleset_text(&sr->fw, &fwh, &fw, err);
		if (r < 0)
			return r;
	}
	if (asprintf(ret, "%s%s%s%s", nat ? nat : "", nat6 ? nat6 : "", fw ? fw : "",
		     sr->block_frag ? pmtu_text : "") < 0)
		return nslab_err_set(err, ENOMEM, "router tables");
	return 0;
}

/* A rules_file's error "LINE:COL: ..." becomes "FILE:LINE:COL: ...". */
static int rules_error(nslab_error *err, int r, const char *file)
{
	char msg[sizeof(err->msg)];

	if (!err || !isdigit((unsigned char)err->msg[0]))
		return nslab_err_prefix(err, r, "rules_file '%s'", file);
	snprintf(msg, sizeof(msg), "%s:%s", file, err->msg);
	memcpy(err->msg, msg, sizeof(msg));
	return r;
}

int router_nft_build_in_ns(const struct nslab_lab *lab, const struct plan_node *pn,
			   nslab_error *err)
{
	const struct spec_router *sr;
	_cleanup_free_ char *text = NULL;
	int r;

	if (pn->kind != PLAN_ROUTER)
		return 0;
	sr = &lab->spec->routers[pn->spec_index];
	if (sr->nat.enabled || sr->nat6 != NAT6_NONE || sr->fw.enabled || sr->block_frag) {
		r = tables_text(sr, pn, &text, err);
		if (r >= 0)
			r = nftbl_run(text, false, NULL, err);
		if (r < 0)
			return nslab_err_prefix(err, r, "load NAT and firewall");
	}
	if (!sr->rules_text)
		return 0;
	r = nftbl_load(sr->rules_text, err);
	return r < 0 ? rules_error(err, r, sr->rules_file) : 0;
}
