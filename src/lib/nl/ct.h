/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nl/ct: conntrack requests over ctnetlink (the table of the socket's namespace). */
#pragma once

#include <stddef.h>

#include "nl/nlsock.h"
#include "nslab/error.h"

/* IPCTNL_MSG_CT_DELETE without a tuple: the kernel flushes every entry (pure builder). */
int ct_build_flush(void *buf, size_t len, nslab_error *err);
/* Flush the conntrack table of nl's namespace (nl: a NETLINK_NETFILTER socket). */
int ct_flush(struct nlsock *nl, nslab_error *err);
