/* SPDX-License-Identifier: MIT */
/* jail/seccomp-dl: the table of libseccomp's functions nslab calls. */
#include "jail/seccomp-dl.h"

#ifndef NSLAB_SONAME_SCMP
#define NSLAB_SONAME_SCMP "libseccomp.so.2"
#endif

struct dl_scmp_table dl_scmp;

#define DL_SCMP_SYM(name) DL_SYM(dl_scmp, name)
static const struct dl_sym dl_scmp_syms[] = { DL_SCMP_FUNCS(DL_SCMP_SYM) };
static struct dl_lib dl_scmp_lib = DL_LIB(NSLAB_SONAME_SCMP, "seccomp filters", dl_scmp_syms);

int dl_scmp_load(nslab_error *err)
{
	return dl_load(&dl_scmp_lib, err);
}
