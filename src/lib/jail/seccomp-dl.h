/* SPDX-License-Identifier: MIT */
/* jail/seccomp-dl: libseccomp, loaded when first needed (core/dl.h's DOC). */
#pragma once

#include <seccomp.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_SCMP_FUNCS(X)                \
	X(seccomp_arch_add)             \
	X(seccomp_arch_native)          \
	X(seccomp_attr_set)             \
	X(seccomp_export_bpf)           \
	X(seccomp_init)                 \
	X(seccomp_release)              \
	X(seccomp_rule_add_array)       \
	X(seccomp_syscall_resolve_name) \
	X(seccomp_arch_resolve_name)

/* Call dl_scmp.FUNC(...) once dl_scmp_load() succeeded. */
struct dl_scmp_table {
	DL_SCMP_FUNCS(DL_PTR)
};
extern struct dl_scmp_table dl_scmp;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_scmp_load(nslab_error *err);
