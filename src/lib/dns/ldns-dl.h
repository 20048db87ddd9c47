/* SPDX-License-Identifier: MIT */
/*
 * dns/ldns-dl: ldns (the DNS parser and builder of jail's DNS gate and of the
 * lab's DNS), loaded when first needed (core/dl.h's DOC).
 */
#pragma once

#include <ldns/ldns.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_LDNS_FUNCS(X)              \
	X(ldns_dname_new_frm_str)     \
	X(ldns_get_random)            \
	X(ldns_pkt2wire)              \
	X(ldns_pkt_answer)            \
	X(ldns_pkt_edns)              \
	X(ldns_pkt_free)              \
	X(ldns_pkt_get_opcode)        \
	X(ldns_pkt_id)                \
	X(ldns_pkt_new)               \
	X(ldns_pkt_push_rr)           \
	X(ldns_pkt_qdcount)           \
	X(ldns_pkt_qr)                \
	X(ldns_pkt_query_new)         \
	X(ldns_pkt_question)          \
	X(ldns_pkt_rd)                \
	X(ldns_pkt_set_edns_udp_size) \
	X(ldns_pkt_set_id)            \
	X(ldns_pkt_set_opcode)        \
	X(ldns_pkt_set_qr)            \
	X(ldns_pkt_set_aa)            \
	X(ldns_pkt_set_ra)            \
	X(ldns_pkt_set_rcode)         \
	X(ldns_pkt_set_rd)            \
	X(ldns_rdf2str)               \
	X(ldns_rdf_clone)             \
	X(ldns_rdf_new_frm_data)      \
	X(ldns_rdf_data)              \
	X(ldns_rdf_deep_free)         \
	X(ldns_rdf_size)              \
	X(ldns_rr_clone)              \
	X(ldns_rr_get_class)          \
	X(ldns_rr_get_type)           \
	X(ldns_rr_new)                \
	X(ldns_rr_push_rdf)           \
	X(ldns_rr_set_class)          \
	X(ldns_rr_set_owner)          \
	X(ldns_rr_set_ttl)            \
	X(ldns_rr_set_type)           \
	X(ldns_rr_free)               \
	X(ldns_rr_list_rr)            \
	X(ldns_rr_list_rr_count)      \
	X(ldns_rr_owner)              \
	X(ldns_rr_rd_count)           \
	X(ldns_rr_rdf)                \
	X(ldns_rr_ttl)                \
	X(ldns_rr_type2str)           \
	X(ldns_wire2pkt)

/* Call dl_ldns.FUNC(...) once dl_ldns_load() succeeded. */
struct dl_ldns_table {
	DL_LDNS_FUNCS(DL_PTR)
};
extern struct dl_ldns_table dl_ldns;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_ldns_load(nslab_error *err);
