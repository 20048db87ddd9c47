/* SPDX-License-Identifier: MIT */
/* core/fyaml-dl: the table of libfyaml's functions nslab calls. */
#include "core/fyaml-dl.h"

#ifndef NSLAB_SONAME_FY
#define NSLAB_SONAME_FY "libfyaml.so.0"
#endif

struct dl_fy_table dl_fy;

#define DL_FY_SYM(name) DL_SYM(dl_fy, name)
static const struct dl_sym dl_fy_syms[] = { DL_FY_FUNCS(DL_FY_SYM) };
static struct dl_lib dl_fy_lib = DL_LIB(NSLAB_SONAME_FY, "YAML files", dl_fy_syms);

int dl_fy_load(nslab_error *err)
{
	return dl_load(&dl_fy_lib, err);
}
