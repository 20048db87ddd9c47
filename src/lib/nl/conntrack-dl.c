/* SPDX-License-Identifier: MIT */
/* nl/conntrack-dl: the table of libnetfilter_conntrack's functions nslab calls. */
#include "nl/conntrack-dl.h"

#ifndef NSLAB_SONAME_NFCT
#define NSLAB_SONAME_NFCT "libnetfilter_conntrack.so.3"
#endif

struct dl_nfct_table dl_nfct;

#define DL_NFCT_SYM(name) DL_SYM(dl_nfct, name)
static const struct dl_sym dl_nfct_syms[] = { DL_NFCT_FUNCS(DL_NFCT_SYM) };
static struct dl_lib dl_nfct_lib = DL_LIB(NSLAB_SONAME_NFCT, "conntrack entries", dl_nfct_syms);

int dl_nfct_load(nslab_error *err)
{
	return dl_load(&dl_nfct_lib, err);
}
