/* SPDX-License-Identifier: MIT */
/* link/nat64-bib: NAT64 bindings, bounded, with per-protocol LRU eviction (see nat64-bib.h). */
#include "link/nat64-bib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

static uint32_t idx(const struct bib_table *t, const struct bib *b)
{
	return (uint32_t)(b - t->e);
}

static uint32_t hash6(const struct bib_table *t, int proto, const uint8_t addr6[16], uint16_t port6)
{
	uint64_t a, b, h;

	memcpy(&a, addr6, 8);
	memcpy(&b, addr6 + 8, 8);
	h = hash_u64(hash_u64(hash_u64(0, a), b), (uint64_t)proto << 16 | port6);
	return (uint32_t)h & t->hmask;
}

static uint32_t hash4(const struct bib_table *t, int proto, uint16_t port4)
{
	return (uint32_t)hash_u64(1, (uint64_t)proto << 16 | port4) & t->hmask;
}

static uint64_t timeout_ms(const struct bib_table *t, const struct bib *b)
{
	const struct nat64_config *c = t->cfg;
	uint32_t s = b->proto == BIB_UDP       ? c->udp_timeout_s
		     : b->proto == BIB_ICMP    ? c->icmp_timeout_s
		     : b->tcp_state == TCP_EST ? c->tcp_est_timeout_s
					       : c->tcp_trans_timeout_s;

	return (uint64_t)s * 1000;
}

static bool is_expired(const struct bib_table *t, const struct bib *b, uint64_t now_ms)
{
	return now_ms > b->last_ms && now_ms - b->last_ms >= timeout_ms(t, b);
}

int bib_init(struct bib_table *t, const struct nat64_config *cfg, struct nat64_stats *st)
{
	uint32_t nb = 16, i;

	memset(t, 0, sizeof(*t));
	while (nb < cfg->max_bibs)
		nb <<= 1;
	t->e = calloc(cfg->max_bibs, sizeof(*t->e));
	t->h6 = malloc(nb * sizeof(*t->h6));
	t->h4 = malloc(nb * sizeof(*t->h4));
	if (!t->e || !t->h6 || !t->h4) {
		bib_clear(t);
		return -ENOMEM;
	}
	memset(t->h6, 0xff, nb * sizeof(*t->h6));
	memset(t->h4, 0xff, nb * sizeof(*t->h4));
	t->hmask = nb - 1;
	t->cap = cfg->max_bibs;
	for (i = 0; i < t->cap; i++)
		t->e[i].next = i + 1 < t->cap ? i + 1 : BIB_NONE;
	for (i = 0; i < BIB_NPROTO; i++)
		t->head[i] = t->tail[i] = BIB_NONE;
	t->cfg = cfg;
	t->st = st;
	return 0;
}

void bib_clear(struct bib_table *t)
{
	free(t->e);
	free(t->h6);
	free(t->h4);
	memset(t, 0, sizeof(*t));
}

static void lru_unlink(struct bib_table *t, struct bib *b)
{
	uint32_t i = idx(t, b);

	if (b->prev != BIB_NONE)
		t->e[b->prev].next = b->next;
	else if (t->head[b->proto] == i)
		t->head[b->proto] = b->next;
	if (b->next != BIB_NONE)
		t->e[b->next].prev = b->prev;
	else if (t->tail[b->proto] == i)
		t->tail[b->proto] = b->prev;
	b->prev = b->next = BIB_NONE;
}

static void lru_push(struct bib_table *t, struct bib *b)
{
	uint32_t i = idx(t, b), h = t->head[b->proto];

	b->prev = BIB_NONE;
	b->next = h;
	if (h != BIB_NONE)
		t->e[h].prev = i;
	else
		t->tail[b->proto] = i;
	t->head[b->proto] = i;
}

/* Unlink entry i from the chain starting at *slot, following the field at offset off. */
static void chain_remove(struct bib_table *t, uint32_t *slot, uint32_t i, bool six)
{
	while (*slot != BIB_NONE) {
		uint32_t *link = six ? &t->e[*slot].next6 : &t->e[*slot].next4;

		if (*slot == i) {
			*slot = *link;
			return;
		}
		slot = link;
	}
}

static void bib_remove(struct bib_table *t, struct bib *b)
{
	uint32_t i = idx(t, b);

	chain_remove(t, &t->h6[hash6(t, b->proto, b->addr6, b->port6)], i, true);
	chain_remove(t, &t->h4[hash4(t, b->proto, b->port4)], i, false);
	lru_unlink(t, b);
	t->nproto[b->proto]--;
	t->count--;
	t->st->bibs = t->count;
	memset(b, 0, sizeof(*b));
	b->next = t->free_head;
	t->free_head = i;
}

struct bib *bib_find6(struct bib_table *t, int proto, const uint8_t addr6[16], uint16_t port6,
		      uint64_t now_ms)
{
	uint32_t i;

	for (i = t->h6[hash6(t, proto, addr6, port6)]; i != BIB_NONE; i = t->e[i].next6) {
		struct bib *b = &t->e[i];

		if (b->proto != proto || b->port6 != port6 || memcmp(b->addr6, addr6, 16) != 0)
			continue;
		if (is_expired(t, b, now_ms)) {
			t->st->expired++;
			bib_remove(t, b);
			return NULL;
		}
		return b;
	}
	return NULL;
}

struct bib *bib_find4(struct bib_table *t, int proto, uint16_t port4, uint64_t now_ms)
{
	uint32_t i;

	for (i = t->h4[hash4(t, proto, port4)]; i != BIB_NONE; i = t->e[i].next4) {
		struct bib *b = &t->e[i];

		if (b->proto != proto || b->port4 != port4)
			continue;
		if (is_expired(t, b, now_ms)) {
			t->st->expired++;
			bib_remove(t, b);
			return NULL;
		}
		return b;
	}
	return NULL;
}

/* Like bib_find4() but sees expired entries too: a port is taken until it is removed. */
static bool port4_taken(const struct bib_table *t, int proto, uint16_t port4)
{
	uint32_t i;

	for (i = t->h4[hash4(t, proto, port4)]; i != BIB_NONE; i = t->e[i].next4)
		if (t->e[i].proto == proto && t->e[i].port4 == port4)
			return true;
	return false;
}

static void evict(struct bib_table *t, uint32_t i, uint64_t now_ms)
{
	struct bib *b = &t->e[i];

	if (is_expired(t, b, now_ms))
		t->st->expired++;
	else
		t->st->evicted++;
	bib_remove(t, b);
}

/* The oldest entry of any protocol (the table is full, so one exists). */
static uint32_t oldest(const struct bib_table *t)
{
	uint32_t best = BIB_NONE;
	int p;

	for (p = 0; p < BIB_NPROTO; p++) {
		uint32_t i = t->tail[p];

		if (i != BIB_NONE && (best == BIB_NONE || t->e[i].last_ms < t->e[best].last_ms))
			best = i;
	}
	return best;
}

/*
 * Port preservation first (the IPv6 source port when it is in the range and
 * free), else the next free port after the protocol's cursor. The caller made
 * sure the protocol has fewer bindings than ports, so the scan ends.
 */
static uint16_t pick_port(struct bib_table *t, int proto, uint16_t port6)
{
	uint32_t lo = t->cfg->port_min, n = (uint32_t)t->cfg->port_max - lo + 1, k;

	if (port6 >= lo && port6 <= t->cfg->port_max && !port4_taken(t, proto, port6))
		return port6;
	for (k = 0; k < n; k++) {
		uint16_t p = (uint16_t)(lo + (t->cursor[proto] + k) % n);

		if (!port4_taken(t, proto, p)) {
			t->cursor[proto] = (uint16_t)((p - lo + 1) % n);
			return p;
		}
	}
	return 0; /* not reached: see the caller */
}

struct bib *bib_add(struct bib_table *t, int proto, const uint8_t addr6[16], uint16_t port6,
		    uint64_t now_ms)
{
	uint32_t nports = (uint32_t)t->cfg->port_max - t->cfg->port_min + 1, i, h;
	struct bib *b;

	bib_expire(t, now_ms);
	if (t->nproto[proto] >= nports)
		evict(t, t->tail[proto], now_ms);
	if (t->count >= t->cap)
		evict(t, oldest(t), now_ms);
	i = t->free_head;
	b = &t->e[i];
	t->free_head = b->next;
	memcpy(b->addr6, addr6, 16);
	b->proto = (uint8_t)proto;
	b->port6 = port6;
	b->port4 = pick_port(t, proto, port6);
	b->tcp_state = TCP_TRANS;
	b->used = true;
	b->last_ms = now_ms;
	h = hash6(t, proto, addr6, port6);
	b->next6 = t->h6[h];
	t->h6[h] = i;
	h = hash4(t, proto, b->port4);
	b->next4 = t->h4[h];
	t->h4[h] = i;
	lru_push(t, b);
	t->nproto[proto]++;
	t->count++;
	t->st->bibs = t->count;
	return b;
}

void bib_touch(struct bib_table *t, struct bib *b, uint64_t now_ms)
{
	if (now_ms > b->last_ms)
		b->last_ms = now_ms;
	lru_unlink(t, b);
	lru_push(t, b);
}

/*
 * The tails are the least recently used, so this stops at the first live one.
 * A transitory TCP entry deeper in the list may outlive its timeout until it
 * reaches the tail or is looked up (the lookup then removes it).
 */
void bib_expire(struct bib_table *t, uint64_t now_ms)
{
	int p;

	for (p = 0; p < BIB_NPROTO; p++)
		while (t->tail[p] != BIB_NONE && is_expired(t, &t->e[t->tail[p]], now_ms)) {
			t->st->expired++;
			bib_remove(t, &t->e[t->tail[p]]);
		}
}
