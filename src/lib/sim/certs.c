/* SPDX-License-Identifier: MIT */
/* sim/certs: gen-certs' key and certificate, through libcrypto (loaded lazily). */
#include "sim/certs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include "sim/crypto-dl.h"

/* libcrypto's last reason, after what failed. Return: -EINVAL. */
static int crypto_fail(nslab_error *err, const char *what)
{
	char reason[256] = "";
	unsigned long e = dl_crypto.ERR_get_error();

	if (e)
		dl_crypto.ERR_error_string_n(e, reason, sizeof(reason));
	return nslab_err_setx(err, EINVAL, "certificate: %s%s%s", what, *reason ? ": " : "",
			      reason);
}

/* One extension from its configuration text (as openssl's -addext takes it). */
static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value, nslab_error *err)
{
	X509_EXTENSION *ext = dl_crypto.X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext && dl_crypto.X509_add_ext(x, ext, -1);

	dl_crypto.X509_EXTENSION_free(ext);
	return ok ? 0 : crypto_fail(err, value);
}

static int fill_cert(X509 *x, EVP_PKEY *key, const struct sim_cert_req *req, nslab_error *err)
{
	X509_NAME *name = dl_crypto.X509_get_subject_name(x);
	X509V3_CTX ctx = { 0 };
	uint64_t serial = 0;

	if (getrandom(&serial, sizeof(serial), 0) != sizeof(serial))
		return nslab_err_set(err, errno, "certificate: a serial number");
	serial = (serial >> 1) | 1; /* positive and not 0 (RFC 5280) */
	if (!dl_crypto.X509_set_version(x, X509_VERSION_3) ||
	    !dl_crypto.ASN1_INTEGER_set_uint64(dl_crypto.X509_get_serialNumber(x), serial) ||
	    !dl_crypto.X509_gmtime_adj(dl_crypto.X509_getm_notBefore(x), 0) ||
	    !dl_crypto.X509_gmtime_adj(dl_crypto.X509_getm_notAfter(x), (long)req->days * 86400) ||
	    !dl_crypto.X509_set_pubkey(x, key) ||
	    !dl_crypto.X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						  (const unsigned char *)req->cn, -1, -1, 0) ||
	    !dl_crypto.X509_set_issuer_name(x, name))
		return crypto_fail(err, "its fields");
	dl_crypto.X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE", err) < 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash", err) < 0 ||
	    add_ext(x, &ctx, NID_subject_alt_name, req->sans, err) < 0)
		return -EINVAL;
	return dl_crypto.X509_sign(x, key, dl_crypto.EVP_sha256()) > 0
		       ? 0
		       : crypto_fail(err, "signing");
}

/* A PEM file under dir_fd: the key (mode 0600) or the certificate. */
static int write_pem(const struct sim_cert_req *req, bool is_key, EVP_PKEY *key, X509 *x,
		     nslab_error *err)
{
	const char *name = is_key ? req->key_name : req->crt_name;
	int fd = openat(req->dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			is_key ? 0600 : 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (!f) {
		int e = errno;

		if (fd >= 0)
			(void)close(fd);
		return nslab_err_set(err, e, "certificate: create %s", name);
	}
	ok = is_key ? dl_crypto.PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		    : dl_crypto.PEM_write_X509(f, x);
	if (fclose(f) != 0 && ok)
		return nslab_err_set(err, errno, "certificate: write %s", name);
	return ok ? 0 : crypto_fail(err, name);
}

int sim_cert_make(const struct sim_cert_req *req, nslab_error *err)
{
	EVP_PKEY *key;
	X509 *x;
	int r = dl_crypto_load(err);

	if (r < 0)
		return r;
	key = dl_crypto.EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!key)
		return crypto_fail(err, "an EC P-256 key");
	x = dl_crypto.X509_new();
	r = x ? fill_cert(x, key, req, err) : crypto_fail(err, "X509_new");
	if (r >= 0)
		r = write_pem(req, true, key, x, err);
	if (r >= 0)
		r = write_pem(req, false, key, x, err);
	dl_crypto.X509_free(x);
	dl_crypto.EVP_PKEY_free(key);
	return r;
}
