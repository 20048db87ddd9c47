/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the firewall test suite parser (and core/yaml under it, literal block
 * scalars included): the input is a suite file. Parsing must succeed, or fail
 * with "fuzz.yaml:LINE:COL: message" (the parser never prints); a parsed
 * suite must hold what the model promises (tests with packets or flows,
 * values in range), and nothing may leak either way.
 */
#include "fuzz.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fwtest/suite.h"

static void check_expect(const struct fw_expect *e)
{
	char buf[64];

	if (e->verdict > FW_VERDICT_REJECT || e->reply > FW_REPLY_UDP ||
	    e->connect > FW_CONNECT_TIMEOUT || e->delivered < -1 || e->delivered > 1 ||
	    (e->n_captures && !e->captures) || (e->n_counters && !e->counters))
		abort();
	for (size_t i = 0; i < e->n_captures; i++)
		if (!e->captures[i].node ||
		    (e->captures[i].count < 0 && e->captures[i].min < 0 && e->captures[i].max < 0))
			abort();
	for (size_t i = 0; i < e->n_counters; i++)
		if (!e->counters[i].name)
			abort();
	(void)fw_ct_state_format(e->ct_state, buf, sizeof(buf));
	(void)fw_verdict_name(e->verdict);
	(void)fw_reply_name(e->reply);
}

static void check_packet(const struct fw_packet *p)
{
	if (p->proto < 0 || p->proto > 255 || p->count < 1 || p->count > FW_COUNT_MAX ||
	    p->payload_len > FW_PAYLOAD_MAX || (p->payload_len && !p->payload) ||
	    p->sport > 65535 || p->dport > 65535 || p->ttl > 255 || p->tcp_flags > 0xff ||
	    (p->src.addr.family && p->dst.addr.family && p->src.addr.family != p->dst.addr.family))
		abort();
	if ((p->sport >= 0 || p->dport >= 0) && p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
		abort();
	check_expect(&p->expect);
}

static void check_suite(const struct fw_suite *s)
{
	if (!s->n_tests || !s->tests ||
	    (s->topology == FW_TOPO_LAB && (!s->lab_file || !s->rules_in)))
		abort();
	for (size_t i = 0; i < s->n_tests; i++) {
		const struct fw_test *t = &s->tests[i];

		if (!t->name || (!t->n_packets && !t->n_flows) || (!t->rules && !s->rules))
			abort();
		for (size_t j = 0; j < t->n_packets; j++)
			check_packet(&t->packets[j]);
		for (size_t j = 0; j < t->n_flows; j++)
			if (t->flows[j].dport < 1 ||
			    (t->flows[j].proto != IPPROTO_TCP && t->flows[j].proto != IPPROTO_UDP))
				abort();
		check_expect(&t->expect);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_suite *s = NULL;
	nslab_error err = { 0 };
	int r;

	if (size > 1 << 16)
		return 0;
	r = fw_suite_parse_string((const char *)data, size, "fuzz.yaml", false, &s, &err);
	if (r < 0) {
		/* a rules_file names a path that may not be there, or not be readable */
		if (r == -EINVAL && (err.code != EINVAL || strncmp(err.msg, "fuzz.yaml:", 10) != 0))
			abort();
		if (r != -ENOMEM && err.code != -r)
			abort();
		if (s)
			abort();
		return 0;
	}
	check_suite(s);
	fw_suite_free(s);
	return 0;
}
