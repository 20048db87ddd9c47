/* SPDX-License-Identifier: MIT */
/*
 * pkt/pcapng: a pcapng writer (draft-ietf-opsawg-pcapng): one section, one
 * interface, enhanced packet blocks with an optional comment each. libpcap
 * (1.10) writes only the older pcap format, which has no comments: the
 * blocks are laid out here, in the host's byte order (the section header's
 * magic says which, readers swap).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PCAPNG_LINKTYPE_RAW 101 /* an IPv4 or IPv6 header first, no link layer */

/**
 * pcapng_write_header() - The section header and the one interface description
 * @f:         where to write
 * @linktype:  PCAPNG_LINKTYPE_RAW, ...
 * @ifname:    the interface's name (if_name option), or NULL
 * @appl:      the writing application (shb_userappl option), or NULL
 * Timestamps are in microseconds (the format's default resolution).
 * Return: 0, or -EIO when f refused the bytes
 */
int pcapng_write_header(FILE *f, uint16_t linktype, const char *ifname, const char *appl);

/**
 * pcapng_write_packet() - One enhanced packet block on interface 0
 * @ts_usec:  time since the epoch, microseconds
 * @data:     the packet, @len bytes (all of them are written)
 * @comment:  opt_comment, or NULL
 * Return: 0, or -EIO
 */
int pcapng_write_packet(FILE *f, uint64_t ts_usec, const void *data, size_t len,
			const char *comment);
