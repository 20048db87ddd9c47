/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the rtnetlink reply parsers: the input is a stream of netlink messages,
 * as one recv() would return it, and every message goes through the link,
 * address, route and neighbour parsers and the ACK parser. They must return
 * 0 or a negative errno and never read outside the message.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "nl/nlsock.h"
#include "nl/rtnl.h"

static void parse_all(const struct nlmsghdr *nlh)
{
	struct rtnl_link_info link;
	struct rtnl_addr_info addr;
	struct rtnl_route_info route;
	struct rtnl_neigh_info neigh;
	nslab_error err;
	const char *text;
	int error;

	/* Parsers check the type first; fuzz the rest with every type too */
	(void)rtnl_parse_link(nlh, &link, &err);
	(void)rtnl_parse_addr(nlh, &addr, &err);
	(void)rtnl_parse_route(nlh, &route, &err);
	(void)rtnl_parse_neigh(nlh, &neigh, &err);
	if (nlsock_parse_ack(nlh, &error, &text, NULL) == 0 && text)
		(void)strlen(text); /* must be NUL-terminated inside the message */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh;
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
	for (nlh = (const void *)buf; nlsock_msg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
		parse_all(nlh);
	free(buf);
	return 0;
}
