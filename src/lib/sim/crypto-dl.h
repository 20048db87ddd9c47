/* SPDX-License-Identifier: MIT */
/* sim/crypto-dl: OpenSSL's libcrypto, loaded when a gen-certs step first needs it (core/dl.h's DOC). */
#pragma once

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_CRYPTO_FUNCS(X)            \
	X(EVP_PKEY_Q_keygen)          \
	X(EVP_PKEY_free)              \
	X(EVP_sha256)                 \
	X(X509_new)                   \
	X(X509_free)                  \
	X(X509_set_version)           \
	X(X509_get_serialNumber)      \
	X(ASN1_INTEGER_set_uint64)    \
	X(X509_gmtime_adj)            \
	X(X509_getm_notBefore)        \
	X(X509_getm_notAfter)         \
	X(X509_set_pubkey)            \
	X(X509_get_subject_name)      \
	X(X509_NAME_add_entry_by_txt) \
	X(X509_set_issuer_name)       \
	X(X509V3_set_ctx)             \
	X(X509V3_EXT_conf_nid)        \
	X(X509_add_ext)               \
	X(X509_EXTENSION_free)        \
	X(X509_sign)                  \
	X(PEM_write_X509)             \
	X(PEM_write_PrivateKey)       \
	X(ERR_get_error)              \
	X(ERR_error_string_n)

/* Call dl_crypto.FUNC(...) once dl_crypto_load() succeeded. */
struct dl_crypto_table {
	DL_CRYPTO_FUNCS(DL_PTR)
};
extern struct dl_crypto_table dl_crypto;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_crypto_load(nslab_error *err);
