/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the DNS gate's judgements (jail/egress-dns.c) on untrusted bytes: the
 * input is taken once as a client's query and once as an upstream's answer
 * to "x.test", under the policy "x.test,*.y.test:443/tcp". A query is
 * forwarded only for a name the policy allows; an answer is accepted only
 * when its CNAME chain ends at an allowed name, and then every nft command
 * it yields adds to the gateway's sets, nothing else.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jail/egress-dns.h"
#include "dns/ldns-dl.h"

static struct egress_policy policy;

static bool allowed(const char *name)
{
	for (size_t i = 0; i < policy.allow.n; i++)
		if (egress_name_match(&policy.allow.v[i], name))
			return true;
	return false;
}

/* Every line of cmds adds to or deletes from one of the gateway's allow sets. */
static void check_cmds(const char *cmds)
{
	for (const char *l = cmds; *l;) {
		const char *nl = strchr(l, '\n');

		if (strncmp(l, "add element inet nslab_egress allow", 35) != 0 &&
		    strncmp(l, "delete element inet nslab_egress allow", 38) != 0)
			abort();
		if (!nl)
			abort();
		l = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct egress_dns_judgement j;
	char qname[EGRESS_NAME_MAX + 1];
	uint8_t rcode = 0;
	int r;

	if (dl_ldns_load(NULL) < 0)
		abort();
	if (!policy.allow.n &&
	    egress_list_parse(&policy.allow, "x.test,*.y.test:443/tcp", NULL) < 0)
		abort();
	policy.ttl_grace = 60;
	r = egress_dns_judge_query(&policy, data, size, qname, &rcode);
	if (r == 1 && !allowed(qname))
		abort();
	if (r < 0 && r != -EPROTO)
		abort();
	r = egress_dns_judge_answer(&policy, "x.test", data, size, &j);
	if (r == 0) {
		if (!allowed(j.final))
			abort();
		if (j.cmds)
			check_cmds(j.cmds);
		free(j.cmds);
	} else if (r == -EACCES) {
		if (allowed(j.final))
			abort();
	} else if (r != -EPROTO && r != -ENOMEM) {
		abort();
	}
	return 0;
}
