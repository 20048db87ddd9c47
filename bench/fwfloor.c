/* SPDX-License-Identifier: MIT */
/*
 * bench/fwfloor: the kernel floor of a firewall test, for bench/fwtest-throughput.sh.
 * One direct topology and one ruleset, then N times: flush conntrack, send one
 * crafted SYN from the client, read the target's trace until the packet is
 * accepted (input end chain) or dropped. No suite, no expectations, no
 * listeners, no captures: what any tool that asks the kernel must pay.
 * Usage: bench-fwfloor N. Prints "floor: N packets in T ms".
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "fwtest/io.h"
#include "fwtest/topo.h"
#include "fwtest/verdict.h"
#include "nl/ct.h"
#include "nl/nftrace.h"
#include "nslab/nslab.h"
#include "pkt/pkt.h"

static const char rules[] = "table inet filter {\n"
			    "  chain input {\n"
			    "    type filter hook input priority 0; policy drop;\n"
			    "    tcp dport 22 accept\n"
			    "  }\n"
			    "}\n";

struct wait {
	uint32_t tag;
	uint32_t id;
	bool done;
};

static void on_event(const struct nftrace_event *ev, void *data)
{
	struct wait *w = data;
	struct pkt_info pi;

	if (fw_event_info(ev, &pi) && pi.family == AF_INET && pi.tag == w->tag)
		w->id = ev->id;
	if (ev->id != w->id)
		return;
	if (strcmp(ev->chain, "in_end") == 0 ||
	    (ev->type == NFT_TRACETYPE_POLICY && ev->policy == NF_DROP))
		w->done = true;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	struct fw_topo *t = NULL;
	struct fw_node_io io, tio;
	struct nlsock *trace = NULL, *req = NULL;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	nslab_error err = { 0 };
	char *text = NULL;
	double t0;

	/* as the runner does: no packet into a link the kernel has not brought up yet */
	if (nslab_bootstrap(&err) < 0 || fw_topo_new(FW_TOPO_DIRECT, NULL, NULL, &t, &err) < 0 ||
	    fw_io_open(&t->nodes[0], &io, false, &err) < 0 ||
	    fw_io_open(&t->nodes[1], &tio, false, &err) < 0 ||
	    fw_io_wait_links(&t->nodes[0], &io, 5000, &err) < 0 ||
	    fw_io_wait_links(&t->nodes[1], &tio, 5000, &err) < 0 ||
	    fw_io_open_nf(&t->nodes[1], &trace, &req, &err) < 0 ||
	    asprintf(&text, "%s%s", rules, fw_trace_table_text()) < 0 ||
	    fw_io_nft(&t->nodes[1], NULL, text, false, NULL, &err) < 0) {
		fprintf(stderr, "bench-fwfloor: %s\n", err.msg);
		return 1;
	}
	memcpy(&dst.sin_addr, t->nodes[1].ifaces[0].v4.addr, 4);
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		struct pkt_spec s = { .family = AF_INET,
				      .proto = IPPROTO_TCP,
				      .sport = 40000,
				      .dport = (uint16_t)(i % 2 ? 22 : 80),
				      .tcp_flags = 0x02,
				      .tag = 0x1000u + (uint32_t)i };
		struct wait w = { .tag = s.tag, .id = 0 };
		uint8_t buf[128];
		size_t len;

		memcpy(s.src, t->nodes[0].ifaces[0].v4.addr, 4);
		memcpy(s.dst, t->nodes[1].ifaces[0].v4.addr, 4);
		if (ct_flush(req, &err) < 0 || pkt_build(&s, buf, sizeof(buf), &len, &err) < 0 ||
		    sendto(io.raw4, buf, len, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			fprintf(stderr, "bench-fwfloor: %s\n", err.msg);
			return 1;
		}
		while (!w.done) {
			struct pollfd p = { nlsock_fd(trace), POLLIN, 0 };

			if (poll(&p, 1, 1000) <= 0 || nftrace_read(trace, on_event, &w, &err) < 0) {
				fprintf(stderr, "bench-fwfloor: packet %d: no verdict\n", i);
				return 1;
			}
		}
	}
	printf("floor: %d packets in %.1f ms\n", n, now_ms() - t0);
	free(text);
	fw_io_close(&io);
	fw_io_close(&tio);
	nlsock_free(trace);
	nlsock_free(req);
	fw_topo_free(t);
	return 0;
}
