/* SPDX-License-Identifier: MIT */
/*
 * lab/nat6: a router's IPv6 NAT (`nat6:`) as nftables text.
 *
 * NPTv6 rewrites the prefix of the router's downstream /64 to its external
 * /64 on the way out and back on the way in, keeping the interface
 * identifier: a device has one external address, the same towards every
 * peer, and flows from outside to that address reach it (1:1, as RFC 6296).
 * It is conntrack's prefix NAT (snat/dnat prefix to), which is stateful
 * where RFC 6296 is stateless and rewrites checksums rather than choosing a
 * checksum-neutral mapping: the addresses seen on the wire are the same.
 * The rules match the prefixes, so neighbour discovery on the uplink (the
 * router's own link-local and global addresses) is never translated.
 * Masquerade (NAT66) rewrites every flow from the bridge to the uplink's
 * address, with ports as Linux picks them.
 */
#include "lab/nat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/nat64-run.h"
#include "lab/plan.h"
#include "shared/macro.h"

static const char *const nat6_names[] = { "none", "nptv6", "masquerade", "nat64", NULL };

const char *nat6_name(enum nat6_mode m)
{
	return (unsigned)m <= NAT6_NAT64 ? nat6_names[m] : "?";
}

int nat6_parse(const char *s, enum nat6_mode *ret)
{
	for (int i = 0; nat6_names[i]; i++)
		if (strcmp(nat6_names[i], s) == 0) {
			*ret = (enum nat6_mode)i;
			return 0;
		}
	return -ENOENT;
}

bool nat6_where_of(const struct plan_node *pn, enum nat6_mode m, struct nat6_where *ret)
{
	struct nslab_prefix inner;

	if (pn->kind != PLAN_ROUTER || pn->n_ifaces < 1 || pn->down6.family != AF_INET6 ||
	    (m == NAT6_NPTV6 && pn->ext6.family != AF_INET6) ||
	    (m == NAT6_NAT64 && pn->ifaces[0].a4.family != AF_INET))
		return false;
	inner = pn->down6;
	/* the network of the bridge's address: host bits cleared */
	for (unsigned b = inner.len; b < 128; b++)
		inner.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	*ret = (struct nat6_where){
		.wan = pn->ifaces[0].name,
		.lan = pn->bridge,
		.inner = inner,
		.outer = pn->ext6,
		.has_v4_uplink = pn->ifaces[0].a4.family == AF_INET,
	};
	return true;
}

/*
 * NAT64: the translator's IPv4 flows leave from the uplink's address. A table
 * of family ip under the same name (nothing else of nslab's is there).
 */
static int nat64_ruleset_text(const struct nat6_where *w, char **ret, nslab_error *err)
{
	if (asprintf(ret,
		     "# nslab IPv6 NAT: nat64\ntable ip " NAT6_TABLE " {\n"
		     "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy "
		     "accept;\n\t\toifname \"%s\" ip saddr " NAT64_POOL4 " masquerade\n\t}\n}\n",
		     w->wan) < 0) {
		*ret = NULL;
		return nslab_err_set(err, ENOMEM, "NAT64 ruleset");
	}
	return 0;
}

int nat6_ruleset_text(enum nat6_mode m, const struct nat6_where *w, char **ret, nslab_error *err)
{
	_cleanup_free_ char *buf = NULL;
	char in[PREFIX_STRLEN], out[PREFIX_STRLEN];
	size_t len = 0;
	FILE *f;
	int failed;

	if (m == NAT6_NAT64)
		return nat64_ruleset_text(w, ret, err);
	f = open_memstream(&buf, &len);
	if (!f)
		return nslab_err_set(err, errno, "IPv6 NAT ruleset");
	prefix_format(&w->inner, true, in, sizeof(in));
	prefix_format(&w->outer, true, out, sizeof(out));
	fprintf(f,
		"# nslab IPv6 NAT: %s\ntable ip6 " NAT6_TABLE " {\n"
		"\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy "
		"accept;\n",
		nat6_name(m));
	if (m == NAT6_NPTV6)
		fprintf(f,
			"\t\toifname \"%s\" ip6 saddr %s snat ip6 prefix to %s\n\t}\n"
			"\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; "
			"policy accept;\n"
			"\t\tiifname \"%s\" ip6 daddr %s dnat ip6 prefix to %s\n",
			w->wan, in, out, w->wan, out, in);
	else
		fprintf(f, "\t\tiifname \"%s\" oifname \"%s\" masquerade\n", w->lan, w->wan);
	fputs("\t}\n}\n", f);
	failed = ferror(f);
	if (fclose(f) != 0 || failed)
		return nslab_err_set(err, ENOMEM, "IPv6 NAT ruleset");
	*ret = TAKE_PTR(buf);
	return 0;
}
