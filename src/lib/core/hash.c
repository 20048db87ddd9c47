/* SPDX-License-Identifier: MIT */
/* core/hash: FNV-1a for names, splitmix64 to spread seeds; stable across releases. */
#include "hash.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	/* terminator, so ("ab","c") and ("a","bc") differ */
	h ^= 0xff;
	h *= FNV_PRIME;
	return h;
}

uint64_t hash_u64(uint64_t h, uint64_t v)
{
	uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t hash_seed(uint64_t seed)
{
	return hash_u64(FNV_OFFSET, seed);
}

void hash_mac(uint64_t seed, const char *node, const char *iface, uint8_t mac[6])
{
	uint64_t h = hash_str(hash_str(hash_seed(seed), node), iface);

	h = hash_u64(h, 0);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02); /* unicast, locally administered */
}
