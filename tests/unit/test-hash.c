/* SPDX-License-Identifier: MIT */
/*
 * core/hash: known values (FNV-1a 64 and splitmix64 are published algorithms;
 * MACs must stay the same across releases, so they are pinned here), the
 * terminator that keeps chained strings apart, and the MAC's bits.
 */
#include "core/hash.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static void test_str_is_fnv1a_plus_terminator(void **state)
{
	/* FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; hash_str() then mixes one 0xff byte */
	uint64_t fnv_a = 0xaf63dc4c8601ec8cULL;

	(void)state;
	assert_int_equal(hash_str(FNV_OFFSET, "a"), (fnv_a ^ 0xff) * FNV_PRIME);
	assert_int_equal(hash_str(FNV_OFFSET, "a"), 0x089bc907b544c769ULL);
	assert_int_equal(hash_str(FNV_OFFSET, ""), (FNV_OFFSET ^ 0xff) * FNV_PRIME);
	assert_int_equal(hash_str(0, ""), 0xff * FNV_PRIME);
	/* bytes are unsigned: 0xff mixes as 0xff, not sign-extended */
	assert_int_equal(hash_str(0, "\xff"), ((((0 ^ 0xffULL) * FNV_PRIME) ^ 0xff) * FNV_PRIME));
}

static void test_str_chaining_keeps_boundaries(void **state)
{
	(void)state;
	assert_int_not_equal(hash_str(hash_str(FNV_OFFSET, "ab"), "c"),
			     hash_str(hash_str(FNV_OFFSET, "a"), "bc"));
	assert_int_not_equal(hash_str(hash_str(FNV_OFFSET, "abc"), ""),
			     hash_str(hash_str(FNV_OFFSET, ""), "abc"));
	assert_int_not_equal(hash_str(FNV_OFFSET, "ab"), hash_str(FNV_OFFSET, "ba"));
	/* deterministic */
	assert_int_equal(hash_str(12345, "router-1"), hash_str(12345, "router-1"));
}

static void test_u64_is_splitmix64(void **state)
{
	(void)state;
	/* splitmix64's first output from state 0 (the reference implementation's) */
	assert_int_equal(hash_u64(0, 0), 0xe220a8397b1dcdafULL);
	assert_int_equal(hash_u64(1, 2), 0x910a2dec89025cc1ULL);
	assert_int_not_equal(hash_u64(0, 1), hash_u64(1, 0));
	assert_int_equal(hash_u64(UINT64_MAX, UINT64_MAX), hash_u64(UINT64_MAX, UINT64_MAX));
}

static void test_seed(void **state)
{
	(void)state;
	assert_int_equal(hash_seed(0), hash_u64(FNV_OFFSET, 0));
	assert_int_equal(hash_seed(0), 0xe9d327596b869820ULL);
	assert_int_equal(hash_seed(7), 0x0f867a3449b74dd1ULL);
	assert_int_not_equal(hash_seed(0), hash_seed(1));
}

static void test_mac_pinned(void **state)
{
	const uint8_t laptop0[6] = { 0x56, 0x40, 0x60, 0x77, 0xb6, 0x37 };
	const uint8_t laptop7[6] = { 0xaa, 0x80, 0xb5, 0x1f, 0x4b, 0x01 };
	const uint8_t isp0[6] = { 0x02, 0x62, 0xf6, 0xa3, 0xfe, 0x2c };
	uint8_t mac[6];

	(void)state;
	/* changing these changes every lab's MACs and IPv6 link-locals */
	hash_mac(0, "laptop", "eth0", mac);
	assert_memory_equal(mac, laptop0, 6);
	hash_mac(7, "laptop", "eth0", mac);
	assert_memory_equal(mac, laptop7, 6);
	hash_mac(0, "isp", "ix", mac);
	assert_memory_equal(mac, isp0, 6);
}

static void test_mac_bits_and_spread(void **state)
{
	const char *names[] = { "a", "b", "ab", "router", "router-1", "router-2", "" };
	const size_t n = sizeof(names) / sizeof(names[0]);
	uint8_t macs[8 * 8][6];
	size_t k = 0;

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++, k++) {
			hash_mac(42, names[i], names[j], macs[k]);
			assert_int_equal(macs[k][0] & 0x01, 0);	   /* unicast */
			assert_int_equal(macs[k][0] & 0x02, 0x02); /* locally administered */
			for (size_t m = 0; m < k; m++)
				assert_memory_not_equal(macs[k], macs[m], 6);
		}
	/* ("ab", "c") and ("a", "bc") are different interfaces */
	hash_mac(0, "ab", "c", macs[0]);
	hash_mac(0, "a", "bc", macs[1]);
	assert_memory_not_equal(macs[0], macs[1], 6);
	/* the seed changes the MAC */
	hash_mac(1, "ab", "c", macs[1]);
	assert_memory_not_equal(macs[0], macs[1], 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_is_fnv1a_plus_terminator),
		cmocka_unit_test(test_str_chaining_keeps_boundaries),
		cmocka_unit_test(test_u64_is_splitmix64),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_mac_pinned),
		cmocka_unit_test(test_mac_bits_and_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
