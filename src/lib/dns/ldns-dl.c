/* SPDX-License-Identifier: MIT */
/* dns/ldns-dl: the table of ldns's functions nslab calls. */
#include "dns/ldns-dl.h"

#ifndef NSLAB_SONAME_LDNS
#define NSLAB_SONAME_LDNS "libldns.so.3"
#endif

struct dl_ldns_table dl_ldns;

#define DL_LDNS_SYM(name) DL_SYM(dl_ldns, name)
static const struct dl_sym dl_ldns_syms[] = { DL_LDNS_FUNCS(DL_LDNS_SYM) };
static struct dl_lib dl_ldns_lib = DL_LIB(NSLAB_SONAME_LDNS, "DNS messages", dl_ldns_syms);

int dl_ldns_load(nslab_error *err)
{
	return dl_load(&dl_ldns_lib, err);
}
