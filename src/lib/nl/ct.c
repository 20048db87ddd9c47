/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nl/ct: conntrack requests (see ct.h). */
#include "nl/ct.h"

#include <errno.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>

int ct_build_flush(void *buf, size_t len, nslab_error *err)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg)))
		return nslab_err_setx(err, EMSGSIZE, "conntrack flush does not fit in %zu bytes",
				      len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return 0;
}

int ct_flush(struct nlsock *nl, nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ];
	int r = ct_build_flush(buf, sizeof(buf), err);

	if (r < 0)
		return r;
	r = nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, err);
	/* an empty table answers ENOENT on older kernels */
	if (r == -ENOENT)
		return 0;
	return r < 0 ? nslab_err_prefix(err, "flush conntrack") : 0;
}
