/* SPDX-License-Identifier: MIT */
/* pkt/pcap-dl: the table of libpcap's functions nslab calls. */
#include "pkt/pcap-dl.h"

#ifndef NSLAB_SONAME_PCAP
#define NSLAB_SONAME_PCAP "libpcap.so.0.8"
#endif

struct dl_pcap_table dl_pcap;

#define DL_PCAP_SYM(name) DL_SYM(dl_pcap, name)
static const struct dl_sym dl_pcap_syms[] = { DL_PCAP_FUNCS(DL_PCAP_SYM) };
static struct dl_lib dl_pcap_lib =
	DL_LIB(NSLAB_SONAME_PCAP, "capture filters (firewall tests, sim captures)", dl_pcap_syms);

int dl_pcap_load(nslab_error *err)
{
	return dl_load(&dl_pcap_lib, err);
}
