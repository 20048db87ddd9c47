/* SPDX-License-Identifier: MIT */
/*
 * httpd/mhd-dl: libmicrohttpd, loaded when `nslab serve` starts (core/dl.h's
 * DOC). Debian's build links GnuTLS and its dozen libraries: no other command
 * should pay for mapping them.
 */
#pragma once

#include <microhttpd.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_MHD_FUNCS(X)                            \
	X(MHD_add_response_header)                 \
	X(MHD_create_response_from_buffer)         \
	X(MHD_create_response_from_callback)       \
	X(MHD_create_response_from_fd)             \
	X(MHD_create_response_from_fd_at_offset64) \
	X(MHD_destroy_response)                    \
	X(MHD_get_connection_info)                 \
	X(MHD_get_connection_values)               \
	X(MHD_lookup_connection_value)             \
	X(MHD_queue_response)                      \
	X(MHD_start_daemon)                        \
	X(MHD_stop_daemon)

/* Call dl_mhd.FUNC(...) once dl_mhd_load() succeeded. */
struct dl_mhd_table {
	DL_MHD_FUNCS(DL_PTR)
};
extern struct dl_mhd_table dl_mhd;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_mhd_load(nslab_error *err);
