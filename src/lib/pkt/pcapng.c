// SPDX-License-Identifier: MIT
/* pkt/pcapng: the blocks of a pcapng file (see pcapng.h). */
#include "pkt/pcapng.h"

#include <errno.h>
#include <string.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u

#define OPT_END	     0
#define OPT_COMMENT  1
#define OPT_IF_NAME  2
#define OPT_USERAPPL 4

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t opt_len(const char *s)
{
	return s ? 4 + pad4(strlen(s)) : 0;
}

static int put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -EIO;
}

static int put32(FILE *f, uint32_t v)
{
	return put(f, &v, 4);
}

/* An option (code, length, value padded to 4 bytes); nothing for a NULL value. */
static int put_opt(FILE *f, uint16_t code, const char *s)
{
	static const uint8_t zero[4];
	uint16_t hdr[2] = { code, 0 };
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	hdr[1] = (uint16_t)n;
	if (put(f, hdr, 4) < 0 || put(f, s, n) < 0)
		return -EIO;
	return put(f, zero, pad4(n) - n);
}

/* The end of options, written only when some option was. */
static int put_end(FILE *f, size_t opts)
{
	return opts ? put32(f, OPT_END) : 0;
}

int pcapng_write_header(FILE *f, uint16_t linktype, const char *ifname, const char *appl)
{
	size_t so = opt_len(appl), io = opt_len(ifname);
	uint32_t shb_len = (uint32_t)(28 + so + (so ? 4 : 0));
	uint32_t idb_len = (uint32_t)(20 + io + (io ? 4 : 0));
	uint16_t ver[2] = { 1, 0 };
	int64_t section = -1; /* length not given: the file is written as it goes */
	uint16_t lt[2] = { linktype, 0 };

	if (put32(f, BT_SHB) < 0 || put32(f, shb_len) < 0 || put32(f, 0x1A2B3C4Du) < 0 ||
	    put(f, ver, 4) < 0 || put(f, &section, 8) < 0 || put_opt(f, OPT_USERAPPL, appl) < 0 ||
	    put_end(f, so) < 0 || put32(f, shb_len) < 0)
		return -EIO;
	if (put32(f, BT_IDB) < 0 || put32(f, idb_len) < 0 || put(f, lt, 4) < 0 ||
	    put32(f, 0) < 0 /* snaplen: none */ || put_opt(f, OPT_IF_NAME, ifname) < 0 ||
	    put_end(f, io) < 0 || put32(f, idb_len) < 0)
		return -EIO;
	return 0;
}

int pcapng_write_packet(FILE *f, uint64_t ts_usec, const void *data, size_t len,
			const char *comment)
{
	static const uint8_t zero[4];
	size_t co = opt_len(comment);
	uint32_t blen = (uint32_t)(32 + pad4(len) + co + (co ? 4 : 0));

	if (len > UINT32_MAX - 64)
		return -EIO;
	if (put32(f, BT_EPB) < 0 || put32(f, blen) < 0 || put32(f, 0) < 0 ||
	    put32(f, (uint32_t)(ts_usec >> 32)) < 0 || put32(f, (uint32_t)ts_usec) < 0 ||
	    put32(f, (uint32_t)len) < 0 || put32(f, (uint32_t)len) < 0 || put(f, data, len) < 0 ||
	    put(f, zero, pad4(len) - len) < 0 || put_opt(f, OPT_COMMENT, comment) < 0 ||
	    put_end(f, co) < 0 || put32(f, blen) < 0)
		return -EIO;
	return 0;
}
