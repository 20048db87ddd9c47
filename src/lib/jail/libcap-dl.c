/* SPDX-License-Identifier: MIT */
/* jail/libcap-dl: the table of libcap's functions nslab calls. */
#include "jail/libcap-dl.h"

#ifndef NSLAB_SONAME_CAP
#define NSLAB_SONAME_CAP "libcap.so.2"
#endif

struct dl_cap_table dl_cap;

#define DL_CAP_SYM(name) DL_SYM(dl_cap, name)
static const struct dl_sym dl_cap_syms[] = { DL_CAP_FUNCS(DL_CAP_SYM) };
static struct dl_lib dl_cap_lib = DL_LIB(NSLAB_SONAME_CAP, "capability names", dl_cap_syms);

int dl_cap_load(nslab_error *err)
{
	return dl_load(&dl_cap_lib, err);
}
