/* SPDX-License-Identifier: MIT */
/*
 * pkt/capture: a pcap file of one interface of a namespace, written by a
 * thread of its own while the rest goes on (a sim's capture step).
 *
 * DOC: capture
 * 1. the filter (libpcap's syntax) is compiled for Ethernet by libpcap,
 *    loaded lazily (pkt/pcap-dl.h);
 * 2. an AF_PACKET socket is opened inside the namespace with protocol 0 (it
 *    receives nothing yet), the filter attached, then bound to the interface
 *    with ETH_P_ALL: no frame of another interface or from before the filter
 *    can slip in between (libpcap's own order);
 * 3. a thread reads frames (both directions: the kernel hands a packet
 *    socket what the interface sends too) and appends them to the file, in
 *    the classic pcap format (DLT_EN10MB, microseconds, the time it read
 *    them);
 * 4. stop wakes the thread through an eventfd; it first reads what the
 *    socket still holds, so every frame the interface passed before the stop
 *    is in the file and in the counts.
 */
#pragma once

#include <stdint.h>

#include "nslab/error.h"

struct pkt_capture;

/*
 * pkt_capture_start() - Capture an interface of a network namespace into a file
 * @netns_fd: the namespace (borrowed)
 * @iface:    its interface's name
 * @filter:   a pcap filter expression, or NULL for every frame
 * @out_fd:   the file, empty (taken: closed by pkt_capture_free())
 * Return: 0 and *ret (free with pkt_capture_free()), or -errno: an unknown
 * interface (-ENODEV), a bad filter (-EINVAL with libpcap's words), no libpcap.
 */
int pkt_capture_start(int netns_fd, const char *iface, const char *filter, int out_fd,
		      struct pkt_capture **ret, nslab_error *err);

/* Whether libpcap compiles filter for Ethernet. Return: 0, or -EINVAL with libpcap's words. */
int pkt_capture_check_filter(const char *filter, nslab_error *err);

/*
 * pkt_capture_stop() - Stop it after reading what the socket holds (see DOC step 4)
 * Return: 0, or -errno of the first write to the file that failed (the
 * capture is stopped all the same). A second stop returns the same.
 */
int pkt_capture_stop(struct pkt_capture *c, nslab_error *err);

/* Frames and bytes (their length on the wire) so far; safe while it runs. */
void pkt_capture_counts(const struct pkt_capture *c, uint64_t *ret_packets, uint64_t *ret_bytes);

/* Stops it if running. Accepts NULL; returns NULL. */
struct pkt_capture *pkt_capture_free(struct pkt_capture *c);
