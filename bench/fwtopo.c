/* SPDX-License-Identifier: MIT */
/*
 * bench/fwtopo: what one firewall-test topology costs, for
 * bench/fwtest-throughput.sh. Builds the direct or gateway topology (the lab
 * builder's point-to-point path, fwtest/topo.c) and frees it, N times.
 * Usage: bench-fwtopo N direct|gateway. Prints "fwtopo KIND: median U us,
 * p90 U us (N builds)", build and free together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floor.h"
#include "fwtest/topo.h"
#include "nslab/nslab.h"

int main(int argc, char **argv)
{
	nslab_error err = { 0 };
	enum fw_topology kind;
	double *us;
	long n;

	if (argc != 3 || (n = strtol(argv[1], NULL, 10)) <= 0 ||
	    (strcmp(argv[2], "direct") != 0 && strcmp(argv[2], "gateway") != 0)) {
		fprintf(stderr, "usage: bench-fwtopo N direct|gateway\n");
		return 2;
	}
	kind = strcmp(argv[2], "direct") == 0 ? FW_TOPO_DIRECT : FW_TOPO_GATEWAY;
	if (nslab_bootstrap(&err) < 0) {
		fprintf(stderr, "bench-fwtopo: %s\n", err.msg);
		return 1;
	}
	us = calloc((size_t)n, sizeof(*us));
	if (!us)
		return 1;
	for (long i = 0; i < n; i++) {
		struct fw_topo *t = NULL;
		double t0 = now_ms();

		if (fw_topo_new(kind, NULL, NULL, &t, &err) < 0) {
			fprintf(stderr, "bench-fwtopo: %s\n", err.msg);
			return 1;
		}
		fw_topo_free(t);
		us[i] = (now_ms() - t0) * 1e3;
	}
	qsort(us, (size_t)n, sizeof(*us), cmp_double);
	printf("fwtopo %s: median %.0f us, p90 %.0f us (%ld builds)\n", argv[2], us[n / 2],
	       us[n * 9 / 10], n);
	free(us);
	return 0;
}
