/* SPDX-License-Identifier: MIT */
/* nl/nftables-dl: the table of libnftables's functions nslab calls. */
#include "nl/nftables-dl.h"

#ifndef NSLAB_SONAME_NFT
#define NSLAB_SONAME_NFT "libnftables.so.1"
#endif

struct dl_nft_table dl_nft;

#define DL_NFT_SYM(name) DL_SYM(dl_nft, name)
static const struct dl_sym dl_nft_syms[] = { DL_NFT_FUNCS(DL_NFT_SYM) };
static struct dl_lib dl_nft_lib = DL_LIB(NSLAB_SONAME_NFT, "nftables rulesets", dl_nft_syms);

int dl_nft_load(nslab_error *err)
{
	return dl_load(&dl_nft_lib, err);
}
