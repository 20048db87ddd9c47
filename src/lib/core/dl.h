/* SPDX-License-Identifier: MIT */
/*
 * core/dl: the libraries nslab loads when a feature first needs them.
 *
 * DOC: why load lazily
 * libpcap, libnftables, libnetfilter_conntrack, libseccomp, libcap and
 * libfyaml pull about twenty libraries (dbus, systemd, gcrypt, xtables,
 * gmp...). Linked, the dynamic loader maps and relocates all of them at every
 * start of `nslab`, which costs a sandboxed /bin/true more than its
 * namespaces do. So nslab links only libmnl and libc; each of those libraries
 * is dlopen()ed by its soname the first time a feature calls into it, and its
 * functions are called through a table of pointers typed after the library's
 * own header (which still gives the types and constants).
 *
 * A table is process-wide state, the one exception to "no mutable globals":
 * it mirrors what the dynamic loader holds, which is process-wide too. It is
 * filled once, under a lock, and only read afterwards. Never load from a
 * child between fork and exec: load in the parent first (dlopen allocates).
 */
#pragma once

#include <pthread.h>
#include <stddef.h>

#include <nslab/error.h>

struct dl_sym {
	const char *name;
	void **slot;
};

struct dl_lib {
	const char *soname; /* what dlopen() is given, e.g. "libpcap.so.0.8" */
	const char *use;    /* what nslab needs it for, for the error */
	const struct dl_sym *syms;
	size_t n_syms;
	pthread_mutex_t mu;
	int state; /* 0 not tried, 1 loaded, -errno failed (then msg says why) */
	char msg[256];
};

/* One pointer member per function, typed after the header's declaration. */
#define DL_PTR(name)	    __typeof__(name) *name;
/* A struct dl_sym entry that fills table.name. */
#define DL_SYM(table, name) { #name, (void **)&(table).name },

/* A struct dl_lib, e.g. DL_LIB(dl_pcap_lib, "libpcap.so.0.8", "packet filters", dl_pcap_syms). */
#define DL_LIB(soname_, use_, syms_)                                                          \
	{                                                                                     \
		.soname = (soname_), .use = (use_), .syms = (syms_),                          \
		.n_syms = sizeof(syms_) / sizeof((syms_)[0]), .mu = PTHREAD_MUTEX_INITIALIZER \
	}

/*
 * dl_load() - Load lib once and resolve every symbol into its table
 * Thread-safe; after the first call, one atomic load. A library or a symbol
 * that is missing fails every later call the same way.
 * Return: 0, or -ENOENT / -ENOSYS with "SONAME: ... (needed for USE)" in err
 */
int dl_load(struct dl_lib *lib, nslab_error *err);
