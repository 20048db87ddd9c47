/* SPDX-License-Identifier: MIT */
/*
 * jail/ldns-dl: libldns, loaded when the DNS gate first starts (core/dl.h's
 * DOC: libldns pulls libssl and libcrypto, which a sandbox without egress
 * policy never needs). After this header, ldns_X(...) calls go through the
 * table, so the gate's code reads as plain ldns.
 */
#pragma once

#include <ldns/ldns.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_LDNS_FUNCS(X)         \
	X(ldns_pkt2wire)         \
	X(ldns_pkt_answer)       \
	X(ldns_pkt_free)         \
	X(ldns_pkt_get_opcode)   \
	X(ldns_pkt_id)           \
	X(ldns_pkt_new)          \
	X(ldns_pkt_push_rr)      \
	X(ldns_pkt_qdcount)      \
	X(ldns_pkt_qr)           \
	X(ldns_pkt_question)     \
	X(ldns_pkt_rd)           \
	X(ldns_pkt_set_id)       \
	X(ldns_pkt_set_opcode)   \
	X(ldns_pkt_set_qr)       \
	X(ldns_pkt_set_ra)       \
	X(ldns_pkt_set_rcode)    \
	X(ldns_pkt_set_rd)       \
	X(ldns_rdf2str)          \
	X(ldns_rdf_data)         \
	X(ldns_rdf_size)         \
	X(ldns_rr_clone)         \
	X(ldns_rr_get_type)      \
	X(ldns_rr_list_rr)       \
	X(ldns_rr_list_rr_count) \
	X(ldns_rr_owner)         \
	X(ldns_rr_rd_count)      \
	X(ldns_rr_rdf)           \
	X(ldns_rr_ttl)           \
	X(ldns_rr_type2str)      \
	X(ldns_wire2pkt)

/* Call dl_ldns.FUNC(...) once dl_ldns_load() succeeded. */
struct dl_ldns_table {
	DL_LDNS_FUNCS(DL_PTR)
};
extern struct dl_ldns_table dl_ldns;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_ldns_load(nslab_error *err);

#ifndef DL_LDNS_NO_REDIRECT
#define ldns_pkt2wire	      (dl_ldns.ldns_pkt2wire)
#define ldns_pkt_answer	      (dl_ldns.ldns_pkt_answer)
#define ldns_pkt_free	      (dl_ldns.ldns_pkt_free)
#define ldns_pkt_get_opcode   (dl_ldns.ldns_pkt_get_opcode)
#define ldns_pkt_id	      (dl_ldns.ldns_pkt_id)
#define ldns_pkt_new	      (dl_ldns.ldns_pkt_new)
#define ldns_pkt_push_rr      (dl_ldns.ldns_pkt_push_rr)
#define ldns_pkt_qdcount      (dl_ldns.ldns_pkt_qdcount)
#define ldns_pkt_qr	      (dl_ldns.ldns_pkt_qr)
#define ldns_pkt_question     (dl_ldns.ldns_pkt_question)
#define ldns_pkt_rd	      (dl_ldns.ldns_pkt_rd)
#define ldns_pkt_set_id	      (dl_ldns.ldns_pkt_set_id)
#define ldns_pkt_set_opcode   (dl_ldns.ldns_pkt_set_opcode)
#define ldns_pkt_set_qr	      (dl_ldns.ldns_pkt_set_qr)
#define ldns_pkt_set_ra	      (dl_ldns.ldns_pkt_set_ra)
#define ldns_pkt_set_rcode    (dl_ldns.ldns_pkt_set_rcode)
#define ldns_pkt_set_rd	      (dl_ldns.ldns_pkt_set_rd)
#define ldns_rdf2str	      (dl_ldns.ldns_rdf2str)
#define ldns_rdf_data	      (dl_ldns.ldns_rdf_data)
#define ldns_rdf_size	      (dl_ldns.ldns_rdf_size)
#define ldns_rr_clone	      (dl_ldns.ldns_rr_clone)
#define ldns_rr_get_type      (dl_ldns.ldns_rr_get_type)
#define ldns_rr_list_rr	      (dl_ldns.ldns_rr_list_rr)
#define ldns_rr_list_rr_count (dl_ldns.ldns_rr_list_rr_count)
#define ldns_rr_owner	      (dl_ldns.ldns_rr_owner)
#define ldns_rr_rd_count      (dl_ldns.ldns_rr_rd_count)
#define ldns_rr_rdf	      (dl_ldns.ldns_rr_rdf)
#define ldns_rr_ttl	      (dl_ldns.ldns_rr_ttl)
#define ldns_rr_type2str      (dl_ldns.ldns_rr_type2str)
#define ldns_wire2pkt	      (dl_ldns.ldns_wire2pkt)
#endif
