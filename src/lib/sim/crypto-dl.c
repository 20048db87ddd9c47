/* SPDX-License-Identifier: MIT */
/* sim/crypto-dl: the table of libcrypto's functions nslab calls. */
#include "sim/crypto-dl.h"

#ifndef NSLAB_SONAME_CRYPTO
#define NSLAB_SONAME_CRYPTO "libcrypto.so.3"
#endif

struct dl_crypto_table dl_crypto;

#define DL_CRYPTO_SYM(name) DL_SYM(dl_crypto, name)
static const struct dl_sym dl_crypto_syms[] = { DL_CRYPTO_FUNCS(DL_CRYPTO_SYM) };
static struct dl_lib dl_crypto_lib =
	DL_LIB(NSLAB_SONAME_CRYPTO, "certificates (sim gen-certs)", dl_crypto_syms);

int dl_crypto_load(nslab_error *err)
{
	return dl_load(&dl_crypto_lib, err);
}
