/* SPDX-License-Identifier: MIT */
/* httpd/mhd-dl: the table of libmicrohttpd's functions the server calls. */
#include "mhd-dl.h"

#ifndef NSLAB_SONAME_MHD
#define NSLAB_SONAME_MHD "libmicrohttpd.so.12"
#endif

struct dl_mhd_table dl_mhd;

#define DL_MHD_SYM(name) DL_SYM(dl_mhd, name)
static const struct dl_sym dl_mhd_syms[] = { DL_MHD_FUNCS(DL_MHD_SYM) };
static struct dl_lib dl_mhd_lib = DL_LIB(NSLAB_SONAME_MHD, "nslab serve", dl_mhd_syms);

int dl_mhd_load(nslab_error *err)
{
	return dl_load(&dl_mhd_lib, err);
}
