/* SPDX-License-Identifier: MIT */
/* core/dl: dlopen by soname, once, and resolve a table of functions (see dl.h). */
#include "core/dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Under lib->mu. Return: 1, or -errno with lib->msg set. */
static int dl_open(struct dl_lib *lib)
{
	/*
	 * RTLD_GLOBAL, and each function looked up in the global scope: what a
	 * linked call would reach, so an LD_PRELOAD interposer still wins and
	 * its RTLD_NEXT still finds the library (the tests' nft-hang shim).
	 * RTLD_NOW: a missing dependency fails here, not at a later call.
	 */
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_GLOBAL);
	const char *why;

	if (!h) {
		why = dlerror();
		snprintf(lib->msg, sizeof(lib->msg), "%s (needed for %s)", why ? why : lib->soname,
			 lib->use);
		return -ENOENT;
	}
	for (size_t i = 0; i < lib->n_syms; i++) {
		void *f = dlsym(RTLD_DEFAULT, lib->syms[i].name);

		if (!f) {
			snprintf(lib->msg, sizeof(lib->msg), "%s: no symbol '%s' (needed for %s)",
				 lib->soname, lib->syms[i].name, lib->use);
			/* the handle stays open: a table half filled must not point into unmapped code */
			return -ENOSYS;
		}
		*lib->syms[i].slot = f;
	}
	return 1;
}

int dl_load(struct dl_lib *lib, nslab_error *err)
{
	int state = __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE);

	if (state == 0) {
		pthread_mutex_lock(&lib->mu);
		state = lib->state;
		if (state == 0) {
			state = dl_open(lib);
			__atomic_store_n(&lib->state, state, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&lib->mu);
	}
	if (state > 0)
		return 0;
	return nslab_err_setx(err, -state, "%s", lib->msg);
}
