/* SPDX-License-Identifier: MIT */
/* nl/nftables-dl: libnftables, loaded when first needed (core/dl.h's DOC). */
#pragma once

#include <nftables/libnftables.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_NFT_FUNCS(X)              \
	X(nft_ctx_new)               \
	X(nft_ctx_free)              \
	X(nft_ctx_buffer_output)     \
	X(nft_ctx_buffer_error)      \
	X(nft_ctx_get_output_buffer) \
	X(nft_ctx_get_error_buffer)  \
	X(nft_ctx_output_set_flags)  \
	X(nft_ctx_set_dry_run)       \
	X(nft_run_cmd_from_filename)

/* Call dl_nft.FUNC(...) once dl_nft_load() succeeded. */
struct dl_nft_table {
	DL_NFT_FUNCS(DL_PTR)
};
extern struct dl_nft_table dl_nft;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_nft_load(nslab_error *err);
