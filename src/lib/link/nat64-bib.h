/* SPDX-License-Identifier: MIT */
/*
 * link/nat64-bib: the NAT64 binding table, internal to link/nat64. A fixed
 * array of entries allocated once (the bound), two hash indexes (IPv6 side:
 * protocol, address, port; IPv4 side: protocol, port) and one LRU list per
 * protocol, so that eviction takes the protocol's least recently used entry
 * in O(1). Indexes are uint32_t into the array; NONE ends a list.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "link/nat64.h"

enum { BIB_TCP, BIB_UDP, BIB_ICMP, BIB_NPROTO };
enum { TCP_TRANS, TCP_EST };

#define BIB_NONE UINT32_MAX

struct bib {
	uint8_t addr6[16];
	uint16_t port6, port4; /* host order; ICMP identifiers for BIB_ICMP */
	uint8_t proto, tcp_state;
	bool used;
	uint64_t last_ms;
	uint32_t prev, next;   /* LRU of the protocol (head = newest), or the free list */
	uint32_t next6, next4; /* hash chains */
};

struct bib_table {
	struct bib *e;
	uint32_t cap, count;
	uint32_t free_head;
	uint32_t *h6, *h4, hmask;
	uint32_t head[BIB_NPROTO], tail[BIB_NPROTO], nproto[BIB_NPROTO];
	uint16_t cursor[BIB_NPROTO];
	const struct nat64_config *cfg;
	struct nat64_stats *st;
};

int bib_init(struct bib_table *t, const struct nat64_config *cfg, struct nat64_stats *st);
void bib_clear(struct bib_table *t);
/* The live binding of an IPv6 source, or NULL (an expired one is removed first). */
struct bib *bib_find6(struct bib_table *t, int proto, const uint8_t addr6[16], uint16_t port6,
		      uint64_t now_ms);
struct bib *bib_find4(struct bib_table *t, int proto, uint16_t port4, uint64_t now_ms);
/* A new binding, evicting the protocol's (or the table's) oldest when full; never fails. */
struct bib *bib_add(struct bib_table *t, int proto, const uint8_t addr6[16], uint16_t port6,
		    uint64_t now_ms);
/* Mark used now: moves it to the head of its LRU list. */
void bib_touch(struct bib_table *t, struct bib *b, uint64_t now_ms);
void bib_expire(struct bib_table *t, uint64_t now_ms);
