/* SPDX-License-Identifier: MIT */
/* nl/conntrack-dl: libnetfilter_conntrack, loaded when first needed (core/dl.h's DOC). */
#pragma once

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_NFCT_FUNCS(X)     \
	X(nfct_attr_is_set)  \
	X(nfct_destroy)      \
	X(nfct_get_attr)     \
	X(nfct_get_attr_u16) \
	X(nfct_get_attr_u32) \
	X(nfct_get_attr_u8)  \
	X(nfct_new)          \
	X(nfct_nlmsg_build)  \
	X(nfct_nlmsg_parse)  \
	X(nfct_set_attr)     \
	X(nfct_set_attr_u16) \
	X(nfct_set_attr_u8)

/* Call dl_nfct.FUNC(...) once dl_nfct_load() succeeded. */
struct dl_nfct_table {
	DL_NFCT_FUNCS(DL_PTR)
};
extern struct dl_nfct_table dl_nfct;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_nfct_load(nslab_error *err);
