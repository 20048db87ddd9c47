/* SPDX-License-Identifier: MIT */
/*
 * pkt/pkt: pure builders and parsers for IPv4, IPv6, TCP, UDP, ICMP and ICMPv6
 * packets (checksums included). No I/O: builders fill a caller's buffer,
 * parsers read bytes that may come from anywhere (a capture, a trace) and
 * refuse what is malformed with -EPROTO, never reading past len. Neither
 * needs any alignment of the buffer. Parsers do not verify checksums
 * (captures taken before checksum offload carry unfinished ones).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

#define PKT_MAX 65535

/* What to build: one IP packet with its transport header and payload. */
struct pkt_spec {
	int family;	 /* AF_INET or AF_INET6 */
	uint8_t src[16]; /* network byte order; v4 uses the first 4 bytes */
	uint8_t dst[16];
	/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, or any other (payload only) */
	int proto;
	uint16_t sport, dport;	      /* TCP, UDP (host byte order) */
	uint8_t tcp_flags;	      /* TCP: FIN 0x01 ... CWR 0x80 */
	uint32_t tcp_seq, tcp_ack;    /* TCP (host byte order) */
	uint16_t tcp_window;	      /* TCP; 0 means 64240 */
	uint8_t icmp_type, icmp_code; /* ICMP/ICMPv6 */
	/* ICMP/ICMPv6 header bytes 4-7 whatever the type: echo id and sequence,
	 * unused and MTU for "fragmentation needed" (host byte order) */
	uint16_t icmp_id, icmp_seq;
	uint8_t ttl;  /* TTL or hop limit; 0 means 64 */
	uint32_t tag; /* v4: IP ID (low 16 bits); v6: flow label (low 20 bits) */
	/* after the transport header; may be NULL when payload_len is 0 */
	const uint8_t *payload;
	size_t payload_len;
};

/**
 * pkt_build() - Lay out one IP packet as the wire carries it
 * @s:        what to build
 * @buf:      output buffer
 * @cap:      its size
 * @ret_len:  on success, the packet's length
 * @err:      on failure, the cause
 * IPv4: 20-byte header, DF clear, header checksum. IPv6: 40-byte header, no
 * extension headers. TCP: 20-byte header, no options. Every checksum
 * (IPv4 header, TCP, UDP, ICMP, ICMPv6 with its pseudo-header) is filled; a
 * UDP checksum that computes to 0 is sent as 0xffff. Nothing is written to
 * @buf or @ret_len on failure.
 * Return: 0, -EINVAL for a bad spec (family, ICMP in v6 or ICMPv6 in v4, a
 * protocol outside 0..255, a NULL payload with a length, a total length over
 * 65535), -EMSGSIZE when cap is too small.
 */
int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap, size_t *ret_len,
	      nslab_error *err);

/*
 * The headers of an IP packet an ICMP error carries back (as much as was
 * quoted). set is false when the quote does not hold a whole IP header (with
 * the v6 extension headers), which is not an error of the outer packet.
 */
struct pkt_inner {
	bool set;
	int family;
	uint8_t src[16], dst[16];
	int proto;
	uint32_t tag;
	uint16_t sport, dport; /* TCP/UDP, when the quote reaches them (4 bytes) */
	bool has_ports;
};

/* A parsed packet. Fields a packet does not have are 0 / false. */
struct pkt_info {
	int family;
	uint8_t src[16], dst[16];
	int proto;     /* final next header (IPv6 extension headers skipped) */
	uint32_t tag;  /* v4: IP ID; v6: flow label */
	uint8_t ttl;   /* TTL or hop limit */
	size_t l4_off; /* offset of the transport header in the buffer given to pkt_parse() */
	/* a fragment at a nonzero offset: it has no transport header, the bytes
	 * after the IP header(s) are all payload */
	bool later_fragment;
	bool has_ports;
	uint16_t sport, dport; /* host byte order */
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	bool is_icmp; /* proto is ICMP (v4) or ICMPv6 (v6) */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo request/reply only */
	/* borrowed from the parsed buffer: just past the transport header, even
	 * when payload_len is 0 */
	const uint8_t *payload;
	size_t payload_len;
	struct pkt_inner inner; /* ICMP/ICMPv6 errors: the quoted packet */
};

/**
 * pkt_parse_l3() - Parse an IPv4 or IPv6 header (the version nibble decides)
 * @buf:  network header (and possibly what follows it)
 * @len:  bytes readable at @buf
 * @ret:  on success: family, addresses, proto, tag, ttl, l4_off and
 *        later_fragment (v6 extension headers hop-by-hop, routing, fragment,
 *        destination options are skipped); every other field zeroed
 * @err:  on failure, the cause
 * The IPv4 total length / IPv6 payload length is not checked against @len
 * (the bytes may be a quote): pkt_parse() does that.
 * Return: 0, or -EPROTO (truncated or not IP); @ret untouched on failure
 */
int pkt_parse_l3(const void *buf, size_t len, struct pkt_info *ret, nslab_error *err);
/**
 * pkt_parse_l4() - Parse a transport header for the proto already in @ret
 * @buf:  transport header (and possibly payload)
 * @len:  bytes readable at @buf
 * @ret:  in: family, proto and later_fragment from pkt_parse_l3(); out:
 *        ports, flags, ICMP fields, payload, and for ICMP errors (v4 types
 *        3, 4, 5, 11, 12; v6 types 1 to 4) the quoted packet in inner
 * @err:  on failure, the cause
 * A header shorter than its fixed part (or than its TCP data offset / UDP
 * length) is -EPROTO; a quoted packet that is cut short just leaves
 * inner.has_ports (or inner.set) false. Unknown protocols, and later
 * fragments, succeed with the bytes as payload.
 * Return: 0, or -EPROTO; @ret untouched on failure
 */
int pkt_parse_l4(const void *buf, size_t len, struct pkt_info *ret, nslab_error *err);
/**
 * pkt_parse() - Parse a whole packet (a capture without its link-layer header)
 * @buf:  the packet
 * @len:  bytes readable at @buf
 * @ret:  on success, everything pkt_parse_l3() and pkt_parse_l4() fill
 * @err:  on failure, the cause
 * Bytes past the IPv4 total length / IPv6 payload length (Ethernet padding)
 * are ignored; a packet shorter than its length field says is -EPROTO.
 * Return: 0, or -EPROTO; @ret untouched on failure
 */
int pkt_parse(const void *buf, size_t len, struct pkt_info *ret, nslab_error *err);

/*
 * Internet checksum (RFC 1071). pkt_csum_add() adds len bytes, read as
 * big-endian 16-bit words (an odd last byte padded with zero), to the running
 * total sum and returns it folded to 16 bits, not complemented; every chunk
 * but the last must have an even length. pkt_csum_fold() folds a total to
 * 16 bits. The checksum field is ~pkt_csum_fold(sum) stored big-endian, and
 * summing bytes that hold a correct checksum folds to 0xffff.
 */
uint32_t pkt_csum_add(uint32_t sum, const void *buf, size_t len);
uint16_t pkt_csum_fold(uint32_t sum);
