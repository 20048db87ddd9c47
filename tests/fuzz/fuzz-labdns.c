/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the lab DNS's answers (lab/labdns.c) on untrusted bytes: the input is
 * a query to lab "f" (router r, device d, dns: api.example -> d). Whatever it
 * is, an answer is either none or a well-formed DNS response (QR set, the
 * query's id, AA) that ldns parses back, with at most two answers.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "dns/ldns-dl.h"
#include "lab/labdns.h"
#include "lab/lab.h"

static nslab_lab *lab;

static void lab_once(void)
{
	if (lab)
		return;
	if (dl_ldns_load(NULL) < 0 || nslab_lab_new("f", &lab, NULL) < 0 ||
	    nslab_lab_add_router(lab, "r", NULL, NULL) < 0 ||
	    nslab_lab_add_device(lab, "d", "r", NULL) < 0 ||
	    nslab_lab_add_dns(lab, "api.example", "d", NULL) < 0 ||
	    lab_spec_validate(lab->spec, NULL) < 0 ||
	    lab_plan_make(lab->spec, &lab->plan, NULL) < 0)
		abort();
}

static void check_answer(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen)
{
	ldns_pkt *p = NULL;

	if (dl_ldns.ldns_wire2pkt(&p, a, alen) != LDNS_STATUS_OK)
		abort();
	if (!dl_ldns.ldns_pkt_qr(p) || qlen < 2 || memcmp(q, a, 2) != 0 ||
	    dl_ldns.ldns_rr_list_rr_count(dl_ldns.ldns_pkt_answer(p)) > 2)
		abort();
	dl_ldns.ldns_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t out_len = 0;

	lab_once();
	if (labdns_reply(lab, data, size, size & 1, &out, &out_len) == 1)
		check_answer(data, size, out, out_len);
	free(out);
	return 0;
}
