/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of pkt/pcapng: the blocks of a file with one interface and two
 * packets (one with a comment), walked block by block: each block's two
 * length fields agree and are multiples of 4, the options are where the
 * format puts them, the packet bytes are intact. (tests/e2e/run-egress-ask.sh
 * opens a real capture in tshark.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pcapng.h"

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t u16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* The block at *off: its type; its body in ret_body/ret_len; *off moves past it. */
static uint32_t next_block(const uint8_t *buf, size_t size, size_t *off, const uint8_t **ret_body,
			   size_t *ret_len)
{
	uint32_t type = u32(buf + *off), len = u32(buf + *off + 4);

	assert_true(len % 4 == 0 && len >= 12 && *off + len <= size);
	assert_int_equal(u32(buf + *off + len - 4), len);
	*ret_body = buf + *off + 8;
	*ret_len = len - 12;
	*off += len;
	return type;
}

static void test_file(void **state)
{
	static const uint8_t pkt1[] = { 0x45, 0, 0,  21, 1,  2,	 3,  4,	 5,  6, 7,
					8,    9, 10, 11, 12, 13, 14, 15, 16, 17 };
	static const uint8_t pkt2[] = { 0x45, 0, 0, 20, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0,
					0,    0, 0, 0,	0,    0,    0,	  0,	0, 0 };
	char *buf = NULL;
	size_t size = 0, off = 0, blen;
	const uint8_t *b;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_non_null(f);
	assert_int_equal(pcapng_write_header(f, PCAPNG_LINKTYPE_RAW, "nsgw0", "nslab run"), 0);
	assert_int_equal(pcapng_write_packet(f, 1700000000123456ull, pkt1, sizeof(pkt1), NULL), 0);
	assert_int_equal(pcapng_write_packet(f, 1700000001000000ull, pkt2, sizeof(pkt2),
					     "blocked by the egress policy"),
			 0);
	assert_int_equal(fclose(f), 0);

	/* section header: magic, version 1.0, unknown length, shb_userappl */
	assert_int_equal(next_block((uint8_t *)buf, size, &off, &b, &blen), 0x0A0D0D0A);
	assert_int_equal(u32(b), 0x1A2B3C4D);
	assert_int_equal(u16(b + 4), 1);
	assert_int_equal(u16(b + 6), 0);
	assert_int_equal(u16(b + 16), 4);
	assert_int_equal(u16(b + 18), 9);
	assert_memory_equal(b + 20, "nslab run", 9);
	/* interface: raw IP, if_name */
	assert_int_equal(next_block((uint8_t *)buf, size, &off, &b, &blen), 1);
	assert_int_equal(u16(b), PCAPNG_LINKTYPE_RAW);
	assert_int_equal(u16(b + 8), 2);
	assert_int_equal(u16(b + 10), 5);
	assert_memory_equal(b + 12, "nsgw0", 5);
	/* packet 1: no options, 21 bytes padded to 24 */
	assert_int_equal(next_block((uint8_t *)buf, size, &off, &b, &blen), 6);
	assert_int_equal(blen, 20 + 24);
	assert_int_equal(((uint64_t)u32(b + 4) << 32) | u32(b + 8), 1700000000123456ull);
	assert_int_equal(u32(b + 12), sizeof(pkt1));
	assert_int_equal(u32(b + 16), sizeof(pkt1));
	assert_memory_equal(b + 20, pkt1, sizeof(pkt1));
	/* packet 2: opt_comment, then opt_endofopt */
	assert_int_equal(next_block((uint8_t *)buf, size, &off, &b, &blen), 6);
	assert_memory_equal(b + 20, pkt2, sizeof(pkt2));
	assert_int_equal(u16(b + 40), 1);
	assert_int_equal(u16(b + 42), strlen("blocked by the egress policy"));
	assert_memory_equal(b + 44, "blocked by the egress policy", 28);
	assert_int_equal(u32(b + 44 + 28), 0);
	assert_int_equal(off, size);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_file) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
