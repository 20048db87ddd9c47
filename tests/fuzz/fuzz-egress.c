/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the allow-list parser: the input is an allow file. It parses, or
 * fails with EINVAL and "fuzz.allow:LINE:COL: ..." naming a place inside the
 * input; a parsed rule is well-formed (a name is canonical, a prefix a
 * network, a protocol only with a port).
 */
#include "fuzz.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jail/egress.h"

static void check_rule(const struct egress_rule *r)
{
	char canon[EGRESS_NAME_MAX + 1];

	switch (r->kind) {
	case EGRESS_NAME:
	case EGRESS_WILDCARD:
		if (egress_name_canon(r->name, strlen(r->name), canon, sizeof(canon)) < 0 ||
		    strcmp(canon, r->name) != 0)
			abort();
		break;
	case EGRESS_PREFIX:
		if (!prefix_is_network(&r->prefix))
			abort();
		break;
	default:
		abort();
	}
	if (r->proto && (!r->port || (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct egress_list l = { 0 };
	nslab_error err = { 0 };
	unsigned line = 0, col = 0, lines = 1;
	int r;

	if (size > 1 << 16)
		return 0;
	r = egress_text_parse(&l, (const char *)data, size, "fuzz.allow", &err);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		if (r == -EINVAL) {
			for (size_t i = 0; i < size; i++)
				lines += data[i] == '\n';
			if (sscanf(err.msg, "fuzz.allow:%u:%u: ", &line, &col) != 2 || !line ||
			    line > lines || !col || col > size + 1)
				abort();
		}
	} else {
		for (size_t i = 0; i < l.n; i++)
			check_rule(&l.v[i]);
	}
	egress_list_clear(&l);
	return 0;
}
