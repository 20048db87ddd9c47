/* SPDX-License-Identifier: MIT */
/*
 * nl/sockdiag: local ports held by sockets (see sockdiag.h).
 */
#include "nl/sockdiag.h"

#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

static int port_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sockdiag_ports *ports = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	unsigned port;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_ERROR; /* -EPROTO */
	port = ntohs(m->id.idiag_sport);
	ports->bits[port / 64] |= UINT64_C(1) << (port % 64);
	return MNL_CB_OK;
}

int sockdiag_ports_dump(struct nlsock *nl, uint8_t family, uint8_t proto,
			struct sockdiag_ports *ret, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;
	int r;

	memset(ret, 0, sizeof(*ret));
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = proto;
	/* a UDP socket's state is TCP_CLOSE, bound or not: its port says which */
	req->idiag_states = proto == IPPROTO_TCP ? 1U << TCP_LISTEN : ~0U;
	r = nlsock_talk(nl, nlh, port_cb, ret, err);
	/* nlsock_talk() names message types by rtnetlink's numbers: the message is ours */
	return r < 0 ? nslab_err_setx(err, -r, "socket table (sock_diag, %s %s): %s",
				      family == AF_INET ? "IPv4" : "IPv6",
				      proto == IPPROTO_TCP ? "TCP" : "UDP", strerror(-r))
		     : 0;
}
