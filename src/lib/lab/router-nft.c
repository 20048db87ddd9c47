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
	if (asprintf(ret, "%s%s%s", nat ? nat : "", nat6 ? nat6 : "", fw ? fw : "") < 0)
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
	if (sr->nat.enabled || sr->nat6 != NAT6_NONE || sr->fw.enabled) {
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
