/* SPDX-License-Identifier: MIT */
/* core/libm-dl: the table of libm's functions nslab calls. */
#include "core/libm-dl.h"

#include <gnu/lib-names.h>

struct dl_m_table dl_m;

#define DL_M_SYM(name) DL_SYM(dl_m, name)
static const struct dl_sym dl_m_syms[] = { DL_M_FUNCS(DL_M_SYM) };
static struct dl_lib dl_m_lib = DL_LIB(LIBM_SO, "link jitter", dl_m_syms);

int dl_m_load(nslab_error *err)
{
	return dl_load(&dl_m_lib, err);
}
