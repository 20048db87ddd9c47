/* SPDX-License-Identifier: MIT */
/* jail/libcap-dl: libcap, loaded when first needed (core/dl.h's DOC). */
#pragma once

#include <sys/capability.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_CAP_FUNCS(X)  \
	X(cap_from_name) \
	X(cap_to_name)   \
	X(cap_free)

/* Call dl_cap.FUNC(...) once dl_cap_load() succeeded. */
struct dl_cap_table {
	DL_CAP_FUNCS(DL_PTR)
};
extern struct dl_cap_table dl_cap;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_cap_load(nslab_error *err);
