/* SPDX-License-Identifier: MIT */
/*
 * egress-ask: a program that embeds the jail and decides about its egress
 * itself (nslab/egress.h, nslab/sandbox.h). Nothing is allowed up front;
 * every destination is asked about: DNS names ending in SUFFIX are allowed,
 * everything else denied, and each question is printed on stderr.
 *   egress-ask DNS_UPSTREAM SUFFIX -- CMD [ARG...]     (root)
 * Build: cc egress-ask.c $(pkg-config --cflags --libs nslab)   (or via Meson here)
 */
#include <stdio.h>
#include <string.h>

#include <nslab/nslab.h>

static enum nslab_egress_answer decide(const struct nslab_egress_question *q, void *data)
{
	const char *suffix = data;
	size_t n = q->name ? strlen(q->name) : 0, k = strlen(suffix);
	/* the suffix itself, or a name below it */
	int ok = q->name && n >= k && strcmp(q->name + n - k, suffix) == 0 &&
		 (n == k || q->name[n - k - 1] == '.');

	if (q->name)
		fprintf(stderr, "egress-ask: DNS %s %s: %s\n", q->type, q->name,
			ok ? "allow" : "deny");
	else
		fprintf(stderr, "egress-ask: %s %s port %u: deny\n", q->type, q->addr, q->port);
	return ok ? NSLAB_EGRESS_ANSWER_ALLOW : NSLAB_EGRESS_ANSWER_DENY;
}

int main(int argc, char **argv)
{
	struct nslab_sandbox_result res = { 0 };
	nslab_sandbox_config *c = NULL;
	nslab_egress *e = NULL;
	nslab_error err = { 0 };

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: egress-ask DNS_UPSTREAM SUFFIX -- CMD [ARG...]\n");
		return 2;
	}
	if (nslab_egress_new(&e, &err) < 0 || nslab_egress_set_dns_upstream(e, argv[1], &err) < 0)
		goto fail;
	nslab_egress_set_deny(e, NSLAB_EGRESS_DENY_REJECT);
	nslab_egress_set_ask_func(e, decide, argv[2]);
	if (nslab_sandbox_config_new(&c, &err) < 0 ||
	    nslab_sandbox_config_set_egress(c, e, &err) < 0 ||
	    nslab_sandbox_run(c, argv + 4, &res, &err) < 0)
		goto fail;
	nslab_sandbox_config_free(c);
	nslab_egress_free(e);
	return res.exit_code;
fail:
	fprintf(stderr, "egress-ask: %s\n", err.msg);
	nslab_sandbox_config_free(c);
	nslab_egress_free(e);
	return 125;
}
