/* SPDX-License-Identifier: MIT */
/*
 * lab/fw-ctl: a router's firewall set before the build or changed while the
 * lab runs (nslab_lab_set_firewall(); the supervisor's control socket calls
 * it). A change is one libnftables transaction in the router's namespace
 * that replaces `table inet nslab-fw` whole, one event, and state.json
 * written again.
 */
#include "nslab/lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/fw.h"
#include "lab/lab.h"
#include "nl/nftables.h"

struct fw_job {
	struct nslab_node *n;
	const struct fw_config *c;
	struct fw_where w;
};

/* Inside the router: the table replaced (or, for none, deleted). */
static int fw_job_in_ns(void *data, nslab_error *err)
{
	struct fw_job *j = data;
	_cleanup_free_ char *text = NULL, *replace = NULL;
	struct nftbl_ctx *ctx;
	int r = lab_node_nft(j->n, &ctx, err);

	if (r < 0)
		return r;
	if (!j->c->enabled)
		return nftbl_ctx_run(ctx, fw_delete_text(), false, NULL, err);
	r = fw_ruleset_text(j->c, &j->w, &text, err);
	if (r < 0)
		return r;
	if (asprintf(&replace, "%s%s", fw_delete_text(), text) < 0)
		return nslab_err_set(err, ENOMEM, "firewall ruleset");
	return nftbl_ctx_run(ctx, replace, false, NULL, err);
}

/* mode over the router's firewall cur: a preset, or `release` of a captive portal. */
static int fw_mode(const char *router, const struct fw_config *cur, const char *mode,
		   struct fw_config *ret, nslab_error *err)
{
	if (mode && strcmp(mode, "release") == 0) {
		*ret = *cur;
		if (fw_release(ret) < 0)
			return nslab_err_setx(err, EINVAL,
					      "router '%s': release needs a captive-portal "
					      "firewall (it has %s)",
					      router, fw_name(cur));
		return 0;
	}
	if (!mode || fw_preset(mode, ret) < 0)
		return nslab_err_setx(err, EINVAL,
				      "unknown firewall mode '%s' (expected %s, or release)",
				      mode ? mode : "", fw_preset_list());
	return 0;
}

static void emit_fw(nslab_lab *lab, const char *router, const struct fw_config *c)
{
	struct jw *w = evlog_begin(&lab->ev, "firewall_changed");

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", router);
	jw_str(w, "firewall", fw_name(c));
	jw_bool(w, "block_inbound", c->enabled && c->block_inbound);
	evlog_end(&lab->ev);
}

/* Before the build: what a lab file's `firewall:` sets. */
static int set_fw_spec(nslab_lab *lab, const char *router, const char *mode, nslab_error *err)
{
	ssize_t i = router ? lab_spec_router_index(lab->spec, router) : -1;
	struct fw_config c;
	int r;

	if (i < 0)
		return nslab_err_setx(err, ENOENT, "no router '%s' in lab '%s'",
				      router ? router : "", lab->spec->name);
	r = fw_mode(router, &lab->spec->routers[i].fw, mode, &c, err);
	if (r >= 0)
		lab->spec->routers[i].fw = c;
	return r;
}

int nslab_lab_set_firewall(nslab_lab *lab, const char *router, const char *mode, nslab_error *err)
{
	struct spec_router *sr;
	struct nslab_node *n;
	struct fw_config c;
	struct fw_job j = { .c = &c };
	int r;

	if (!lab->built)
		return set_fw_spec(lab, router, mode, err);
	r = lab_find_router(lab, router, &n, &sr, err);
	if (r >= 0)
		r = fw_mode(router, &sr->fw, mode, &c, err);
	if (r < 0)
		return r;
	j.n = n;
	if (!fw_where_of(n->pn, &j.w))
		return nslab_err_setx(err, EINVAL, "router '%s' has no uplink", router);
	r = netns_call(n->ns->fd, fw_job_in_ns, &j, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "router '%s': set firewall", router);
	sr->fw = c;
	emit_fw(lab, router, &c);
	lab_state_rewrite(lab);
	return 0;
}
