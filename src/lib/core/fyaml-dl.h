/* SPDX-License-Identifier: MIT */
/* core/fyaml-dl: libfyaml, loaded when first needed (core/dl.h's DOC). */
#pragma once

#include <libfyaml.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_FY_FUNCS(X)                \
	X(fy_diag_cfg_default)        \
	X(fy_diag_create)             \
	X(fy_diag_destroy)            \
	X(fy_diag_errors_iterate)     \
	X(fy_diag_set_collect_errors) \
	X(fy_event_end_mark)          \
	X(fy_event_start_mark)        \
	X(fy_parser_create)           \
	X(fy_parser_destroy)          \
	X(fy_parser_event_free)       \
	X(fy_parser_parse)            \
	X(fy_parser_set_string)       \
	X(fy_token_end_mark)          \
	X(fy_token_get_text)          \
	X(fy_token_scalar_style)      \
	X(fy_token_start_mark)

/* Call dl_fy.FUNC(...) once dl_fy_load() succeeded. */
struct dl_fy_table {
	DL_FY_FUNCS(DL_PTR)
};
extern struct dl_fy_table dl_fy;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_fy_load(nslab_error *err);
