/* SPDX-License-Identifier: MIT */
/*
 * fwtest/trace: one packet, written as text, through a ruleset, with every
 * trace event printed (`nslab trace`). The packet text becomes a one-test
 * suite, so it is validated like any suite.
 *
 *   PROTO SRC[:PORT] > DST[:PORT] [FLAGS]     e.g. tcp 10.0.0.1:40000 > 10.0.0.2:22 S
 *   IPv6 addresses with a port are bracketed: udp [fd00::1]:5000 > [fd00::2]:53
 */
#include "nslab/fwtest.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "fwtest/api.h"
#include "lab/labfile.h"
#include "lab/spec.h"

#define TRACE_TEXT_MAX 256

static bool only_chars(const char *s, const char *allowed)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(allowed, *s))
			return false;
	return true;
}

/* "10.0.0.1:40000", "[fd00::1]:53", "fd00::1", "client" -> host and port ("" if none). */
static int split_endpoint(const char *tok, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon = strrchr(tok, ':');

	*port = '\0';
	if (tok[0] == '[') {
		const char *end = strchr(tok, ']');

		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		snprintf(host, hlen, "%.*s", (int)(end - tok - 1), tok + 1);
		if (end[1] == ':')
			snprintf(port, plen, "%s", end + 2);
	} else if (colon && strchr(tok, ':') == colon) {
		snprintf(host, hlen, "%.*s", (int)(colon - tok), tok);
		snprintf(port, plen, "%s", colon + 1);
	} else {
		snprintf(host, hlen, "%s", tok);
	}
	return only_chars(host, ":.-") && only_chars(port, "") ? 0 : -EINVAL;
}

/* The packet text as a YAML flow mapping for the suite parser. */
static int packet_yaml(const char *text, char *out, size_t len, nslab_error *err)
{
	char proto[16], src[96], dst[96], gt[4], flags[16] = "";
	char sh[64], sp[16], dh[64], dp[16];
	int n = sscanf(text, "%15s %95s %3s %95s %15s", proto, src, gt, dst, flags);
	size_t used;

	if (strlen(text) > TRACE_TEXT_MAX || n < 4 || strcmp(gt, ">") != 0 ||
	    !only_chars(proto, "") || !only_chars(flags, "") ||
	    split_endpoint(src, sh, sizeof(sh), sp, sizeof(sp)) < 0 ||
	    split_endpoint(dst, dh, sizeof(dh), dp, sizeof(dp)) < 0)
		return nslab_err_setx(err, EINVAL,
				      "'%s': expected 'PROTO SRC[:PORT] > DST[:PORT] [FLAGS]'",
				      text);
	used = (size_t)snprintf(out, len, "{proto: '%s', src: '%s', dst: '%s'", proto, sh, dh);
	if (*sp)
		used += (size_t)snprintf(out + used, len - used, ", sport: %s", sp);
	if (*dp)
		used += (size_t)snprintf(out + used, len - used, ", dport: %s", dp);
	if (*flags)
		used += (size_t)snprintf(out + used, len - used, ", flags: '%s'", flags);
	snprintf(out + used, len - used, "}");
	return 0;
}

static const char *type_name(uint32_t t)
{
	return t == NFT_TRACETYPE_RULE ? "rule" : t == NFT_TRACETYPE_POLICY ? "policy" : "return";
}

static void print_event(const struct fw_env *env, const struct nftrace_event *ev, FILE *out)
{
	const struct nftbl_rule *r =
		ev->has_rule ? nftbl_listing_find(&env->listing, fw_family_name(ev->family),
						  ev->table, ev->chain, ev->rule_handle)
			     : NULL;
	const char *v = ev->type == NFT_TRACETYPE_POLICY
				? (ev->policy == NF_DROP ? "drop" : "accept")
				: nftrace_verdict_name(ev->verdict);

	/* the kernel traces a reject as the drop it is; the rule says what answered */
	if (ev->type == NFT_TRACETYPE_RULE && ev->verdict == NFTRACE_V_DROP && r &&
	    fw_rule_is_reject(r->text))
		v = "reject";

	fprintf(out, "    %-6s %-8s %s\n", type_name(ev->type), v, r ? r->text : "");
}

static void print_track(const struct fw_env *env, const struct fw_track *t, bool all, FILE *out)
{
	char ct[64], prev[600] = "";

	fprintf(out, "packet: %s\n", t->desc);
	for (size_t i = 0; i < t->n_evs; i++) {
		const struct nftrace_event *ev = &t->evs[i];
		bool ours = strcmp(ev->table, FW_TRACE_TABLE) == 0;
		char where[600];

		/* the kernel repeats a rule's continue without its handle: nothing to show */
		if ((ev->type == NFT_TRACETYPE_RULE && !ev->has_rule) || (ours && !all))
			continue;
		snprintf(where, sizeof(where), "%s %s %s", fw_family_name(ev->family), ev->table,
			 ev->chain);
		if (strcmp(where, prev) != 0)
			fprintf(out, "  %s%s\n", where, ours ? " (nslab)" : "");
		snprintf(prev, sizeof(prev), "%s", where);
		print_event(env, ev, out);
	}
	fprintf(out, "verdict: %s", t->decided ? fw_verdict_name(t->dec.verdict) : "inconclusive");
	if (t->dec.decided)
		fprintf(out, " (%s %s: %s)", t->dec.table, t->dec.chain,
			t->dec.by_policy ? "policy" : (t->dec.rule_text ? t->dec.rule_text : "?"));
	if (t->dec.has_ct_state)
		fprintf(out, ", ct state %s", fw_ct_state_format(t->dec.ct_state, ct, sizeof(ct)));
	fprintf(out, ", reply %s\n",
		fw_reply_name(t->reply == FW_REPLY_UNSET ? FW_REPLY_NONE : t->reply));
}

/* A lab file without :NODE: the rules go in its first router (none: an error naming it). */
static int lab_first_router(const char *path, char *out, size_t len, nslab_error *err)
{
	struct lab_spec *spec = NULL;
	int r = labfile_parse(path, &spec, err);

	if (r < 0)
		return r;
	if (spec->n_routers == 0)
		r = nslab_err_setx(err, EINVAL, "'%s' has no router: name the node as %s:NODE",
				   path, path);
	else
		snprintf(out, len, "topology: lab\nlab: \"%s\"\nrules_in: %s\n", path,
			 spec->routers[0].name);
	lab_spec_free(spec);
	return r;
}

/*
 * The topology lines of the one-test suite: "direct" (the default), "gateway",
 * or a lab file as FILE[:NODE], the ruleset in NODE (by default the lab's
 * first router, as the suite parser reads the file).
 */
static int topology_yaml(const char *t, char *out, size_t len, nslab_error *err)
{
	const char *colon;

	if (!t || strcmp(t, "direct") == 0 || strcmp(t, "gateway") == 0) {
		snprintf(out, len, "topology: %s\n", t ? t : "direct");
		return 0;
	}
	colon = strrchr(t, ':');
	if (strpbrk(t, "\"\\\n") || (colon && !only_chars(colon + 1, "-")))
		return nslab_err_setx(err, EINVAL,
				      "'%s': a topology is direct, gateway, or a lab file as "
				      "FILE[:NODE] (the node that holds the rules)",
				      t);
	if (colon && colon[1]) {
		snprintf(out, len, "topology: lab\nlab: \"%.*s\"\nrules_in: %s\n", (int)(colon - t),
			 t, colon + 1);
		return 0;
	}
	return lab_first_router(t, out, len, err);
}

/* "  error: packet:5:15: a tcp packet needs dport\n" -> "a tcp packet needs dport" */
static const char *without_place(char *msg)
{
	char *p = strstr(msg, "packet:"), *nl;

	for (int colons = 0; p && *p && colons < 3; p++)
		colons += *p == ':';
	while (p && *p == ' ')
		p++;
	if (p && (nl = strchr(p, '\n')))
		*nl = '\0';
	return p ? p : msg;
}

/* Print every track; a packet the trace did not decide is a failure, with its reason. */
static int print_result(const nslab_fwtest *ft, const char *packet, bool all, FILE *out,
			nslab_error *err)
{
	const struct fw_env *env = ft->runner->envs[ft->suite->topology];
	const struct fw_result *res = &ft->results[0];
	int r = 0;

	for (size_t i = 0; i < res->n_tracks; i++) {
		const struct fw_track *t = &res->tracks[i];

		print_track(env, t, all, out);
		if (!t->decided && r == 0)
			r = nslab_err_setx(err, ENODATA,
					   "'%s': inconclusive: %s; the packet was not dropped by "
					   "a rule and never reached the end of the hooks",
					   packet,
					   t->n_evs ? "the trace stopped part way"
						    : "no trace event at all");
	}
	return r;
}

int nslab_fwtest_trace(const char *rules_path, const char *packet, const char *topology,
		       unsigned flags, FILE *out, nslab_error *err)
{
	char pk[512], topo[PATH_MAX + 128], yaml[PATH_MAX + 1024];
	nslab_fwtest *ft = NULL;
	int r = packet_yaml(packet, pk, sizeof(pk), err);

	if (r < 0)
		return r;
	r = topology_yaml(topology, topo, sizeof(topo), err);
	if (r < 0)
		return r;
	snprintf(yaml, sizeof(yaml),
		 "%srules: \"# replaced by the rules file\"\ntests:\n  - name: trace\n "
		 "   packets: [%s]\n    expect: {reply: none}\n",
		 topo, pk);
	ft = calloc(1, sizeof(*ft));
	if (!ft)
		return nslab_err_set(err, ENOMEM, "trace");
	ft->flags = flags;
	ft->keep_events = true; /* print_track() shows them */
	r = fw_suite_parse_string(yaml, strlen(yaml), "packet", flags & NSLAB_FWTEST_ALLOW_INCLUDE,
				  &ft->suite, err);
	if (r >= 0)
		r = nslab_fwtest_set_rules_file(ft, rules_path, err);
	if (r >= 0)
		r = nslab_fwtest_run(ft, NULL, NULL, err);
	if (r >= 0 && ft->n_results && ft->results[0].status == FW_STATUS_ERROR)
		r = nslab_err_setx(err, EINVAL, "'%s': %s", packet,
				   without_place(ft->results[0].log));
	else if (r < 0 && err && strncmp(err->msg, "packet:", 7) == 0) {
		char msg[NSLAB_ERROR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		r = nslab_err_setx(err, -r, "'%s': %s", packet, without_place(msg));
	}
	if (r >= 0)
		r = print_result(ft, packet, flags & NSLAB_FWTEST_TRACE_ALL, out, err);
	nslab_fwtest_free(ft);
	return r;
}
