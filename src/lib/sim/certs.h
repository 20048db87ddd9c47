/* SPDX-License-Identifier: MIT */
/* sim/certs: a self-signed certificate made with libcrypto (gen-certs). */
#pragma once

#include "nslab/error.h"

struct sim_cert_req {
	const char *cn;	  /* the subject's common name */
	const char *sans; /* "DNS:a,DNS:b,IP:10.0.0.2" */
	unsigned days;
	int dir_fd;	      /* where the files go */
	const char *crt_name; /* relative to dir_fd: PEM certificate */
	const char *key_name; /* PEM private key, mode 0600 */
};

/*
 * sim_cert_make() - An EC P-256 key and a self-signed X.509 v3 certificate for it
 * The certificate: a random serial, valid from now for days, the subject
 * (and issuer) CN, basicConstraints CA:TRUE (so that a client can take it
 * as its own trust anchor), a subject key identifier, the SANs; signed with
 * SHA-256.
 * Return: 0, or -errno with libcrypto's reason in err.
 */
int sim_cert_make(const struct sim_cert_req *req, nslab_error *err);
