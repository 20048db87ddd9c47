/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the NAT64 translator (link/nat64). Input: [0] table size - 1 (low 3
 * bits) and port range width (bits 3-5: ports 1024..1024+width), then records
 * [len_hi][len_lo][clock step in seconds][len bytes of packet]. Each packet
 * goes through nat64_input(), with a small table so that eviction and expiry
 * happen. Checks: nothing read out of bounds (ASan), every emitted packet is
 * an IP packet pkt_parse() accepts, of the other family than its input, at
 * most 1280 bytes when it is an IPv6 fragment or an ICMP error and IPv6, the
 * counters add up and the table stays within its bound.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link/nat64.h"
#include "pkt/pkt.h"

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x)) {                                                                    \
			fprintf(stderr, "fuzz-nat64: check failed at line %d: %s\n", __LINE__, \
				#x);                                                           \
			abort();                                                               \
		}                                                                              \
	} while (0)

struct out {
	int in_version;
	int n;
};

static void emitted(void *ctx, const uint8_t *pkt, size_t len)
{
	struct out *o = ctx;
	struct pkt_info info;

	CHECK(len >= 20 && len <= 65535 + 40);
	CHECK(pkt[0] >> 4 != o->in_version);
	o->n++;
	if (pkt[0] >> 4 == 6 && pkt[6] == 44) {
		CHECK(len <= 1280); /* a fragment made here; its UDP length is not all there */
		return;
	}
	CHECK(pkt_parse(pkt, len, &info, NULL) == 0);
	if (info.is_icmp && info.inner.set && info.family == AF_INET6)
		CHECK(len <= 1280);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pool4[4] = { 203, 0, 113, 1 };
	struct nat64_config cfg;
	struct nat64_stats st;
	struct nat64 *nat = NULL;
	uint64_t now = 0, before = 0;
	size_t off = 1;

	if (size < 1)
		return 0;
	nat64_config_default(&cfg);
	memcpy(cfg.pool4, pool4, 4);
	cfg.max_bibs = 1u + (data[0] & 7);
	cfg.port_max = (uint16_t)(cfg.port_min + ((data[0] >> 3) & 7));
	CHECK(nat64_new(&cfg, &nat, NULL) == 0);
	while (off + 3 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		struct out o = { 0 };
		int r;

		now += (uint64_t)data[off + 2] * 1000;
		off += 3;
		if (len > size - off)
			len = size - off;
		o.in_version = len ? data[off] >> 4 : -1;
		r = nat64_input(nat, now, data + off, len, emitted, &o);
		CHECK(r == o.n);
		off += len;
		nat64_stats_get(nat, &st);
		CHECK(st.bibs <= cfg.max_bibs);
		CHECK(st.translated_6to4 + st.translated_4to6 + st.dropped > before);
		before = st.translated_6to4 + st.translated_4to6 + st.dropped;
	}
	nat64_free(nat);
	return 0;
}
