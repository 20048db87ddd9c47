/* SPDX-License-Identifier: MIT */
/* core/hash: deterministic hashing of names and seeds (not for security). */
#pragma once

#include <stdint.h>

/**
 * hash_str() - Mix a string into a hash: FNV-1a 64 over its bytes, then a 0xff terminator
 * @h:  hash so far (hash_seed() to start)
 * @s:  NUL-terminated string
 *
 * The terminator byte keeps ("ab", "c") and ("a", "bc") apart when chained, so
 * the result is not plain FNV-1a of @s.
 * Return: the new hash
 */
uint64_t hash_str(uint64_t h, const char *s);
/**
 * hash_u64() - Mix a 64-bit value into a hash (splitmix64 finaliser over h ^ (v + golden ratio))
 * @h:  hash so far
 * @v:  value
 * Return: the new hash
 */
uint64_t hash_u64(uint64_t h, uint64_t v);
/**
 * hash_seed() - Start value for a lab seed (the FNV offset basis mixed with the seed)
 * @seed:  the lab's seed
 * Return: the start hash
 */
uint64_t hash_seed(uint64_t seed);
/**
 * hash_mac() - Locally administered unicast MAC derived from (seed, node, iface)
 * @seed:   the lab's seed
 * @node:   node name
 * @iface:  interface name
 * @mac:    out: the address, stable across runs and releases
 */
void hash_mac(uint64_t seed, const char *node, const char *iface, uint8_t mac[6]);
