/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: nftables trace messages (nftrace_parse(), each attribute
 * checked for its type and length with libmnl), then the headers they
 * quote (fw_event_info()) and a verdict over what parsed (fw_decide()).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "fwtest/verdict.h"
#include "nl/nftrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nftrace_event evs[16];
	const struct nlmsghdr *nlh;
	struct fw_decision d;
	size_t n = 0;
	uint8_t *buf;
	int len;

	if (size > 1 << 20)
		return 0;
	/* An aligned copy of exactly size bytes, so sanitizers catch any overread */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	len = (int)size;
	for (nlh = (const void *)buf; nlsock_msg_ok(nlh, len) && n < 16;
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		struct pkt_info pi;

		if (nftrace_parse(nlh, &evs[n], NULL) < 0)
			continue;
		(void)fw_event_info(&evs[n], &pi);
		n++;
	}
	if (fw_decide(evs, n, NULL, &d) == 0)
		fw_decision_clear(&d);
	free(buf);
	return 0;
}
