/* SPDX-License-Identifier: MIT */
/* pkt/pcap-dl: libpcap, loaded when first needed (core/dl.h's DOC). */
#pragma once

#include <pcap/pcap.h>

#include <nslab/error.h>

#include "core/dl.h"

#define DL_PCAP_FUNCS(X)  \
	X(pcap_open_dead) \
	X(pcap_compile)   \
	X(pcap_geterr)    \
	X(pcap_close)     \
	X(pcap_freecode)  \
	X(pcap_offline_filter)

/* Call dl_pcap.FUNC(...) once dl_pcap_load() succeeded. */
struct dl_pcap_table {
	DL_PCAP_FUNCS(DL_PTR)
};
extern struct dl_pcap_table dl_pcap;

/* Load it (once per process). Return: 0, or -errno naming the library in err. */
int dl_pcap_load(nslab_error *err);
