/* SPDX-License-Identifier: MIT */
/*
 * core/libm-dl: libm, loaded when a link's jitter first needs it (core/dl.h's
 * DOC). Only the link engine's shapes and netem's tables use it; linked, its
 * loading (mappings, relocations, a hundred IFUNCs) cost every start of
 * `nslab`, a sandboxed /bin/true included, about 30 us.
 */
#pragma once

#include <math.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_M_FUNCS(X) \
	X(cos)        \
	X(erfc)       \
	X(llround)    \
	X(log)        \
	X(pow)        \
	X(round)      \
	X(sqrt)

/* Call dl_m.FUNC(...) once dl_m_load() succeeded. */
struct dl_m_table {
	DL_M_FUNCS(DL_PTR)
};
extern struct dl_m_table dl_m;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_m_load(nslab_error *err);
