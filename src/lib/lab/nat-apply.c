/* SPDX-License-Identifier: MIT */
/*
 * lab/nat-apply: a router's NAT into its namespace: the ruleset (its
 * conntrack timeouts included) through libnftables, one transaction.
 */
#include "lab/nat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lab/lab.h"

#include "nl/nftables.h"
#include "shared/macro.h"

int nat_apply_in_ns(struct nftbl_ctx *ctx, const struct nat_config *c, const struct nat_where *w,
		    nslab_error *err)
{
	_cleanup_free_ char *text = NULL, *replace = NULL;
	int r;

	if (!c->enabled) {
		r = nftbl_ctx_run(ctx, nat_delete_text(), false, NULL, err);
		return r < 0 ? nslab_err_prefix(err, r, "remove NAT") : 0;
	}
	r = nat_ruleset_text(c, w, &text, err);
	if (r < 0)
		return r;
	r = asprintf(&replace, "%s%s", nat_delete_text(), text) < 0
		    ? nslab_err_set(err, ENOMEM, "NAT ruleset")
		    : nftbl_ctx_run(ctx, replace, false, NULL, err);
	return r < 0 ? nslab_err_prefix(err, r, "load NAT ruleset") : 0;
}

bool nat_where_of(const struct plan_node *pn, struct nat_where *ret)
{
	const struct plan_iface *up;

	if (pn->kind != PLAN_ROUTER || pn->n_ifaces < 1 || pn->ifaces[0].a4.family != AF_INET)
		return false;
	up = &pn->ifaces[0];
	*ret = (struct nat_where){ .wan = up->name, .lan = pn->bridge };
	memcpy(&ret->ext, up->a4.addr, sizeof(ret->ext));
	return true;
}
