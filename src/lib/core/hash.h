/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/hash: deterministic hashing of names and seeds (not for security). */
#pragma once

#include <stdint.h>

/* FNV-1a 64 over a NUL-terminated string, continuing from h. */
uint64_t hash_str(uint64_t h, const char *s);
/* Mix a 64-bit value into h (splitmix64 finaliser). */
uint64_t hash_u64(uint64_t h, uint64_t v);
/* Start value for a lab seed. */
uint64_t hash_seed(uint64_t seed);
/* Locally administered unicast MAC derived from (seed, node, iface). */
void hash_mac(uint64_t seed, const char *node, const char *iface, uint8_t mac[6]);
