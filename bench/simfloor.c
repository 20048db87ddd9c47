// SPDX-License-Identifier: MIT
/*
 * bench-simfloor: the floor under a sim step for bench/sim.sh. Through the
 * public API only, what a `run: [true]` step cannot do without: spawn true in
 * a node of a built lab with its stdout and stderr to two files, and wait for
 * its exit. No sim, no output files named per step, no captures, no JSON.
 *
 * usage: bench-simfloor LAB.yaml NODE N   (root, or rootless through its bootstrap)
 * Prints the median milliseconds of one spawn-and-wait.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"
#include <nslab/nslab.h>

int main(int argc, char **argv)
{
	char *const cmd[] = { "true", NULL };
	nslab_error err = { 0 };
	nslab_lab *lab = NULL;
	nslab_node *node;
	double *ms;
	int n, out, errfd, st;

	if (argc != 4 || (n = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: bench-simfloor LAB.yaml NODE N\n");
		return 2;
	}
	ms = calloc((size_t)n, sizeof(*ms));
	out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	errfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!ms || out < 0 || errfd < 0 || nslab_bootstrap(&err) < 0 ||
	    nslab_lab_from_file(argv[1], &lab, &err) < 0 || nslab_lab_build(lab, &err) < 0) {
		fprintf(stderr, "bench-simfloor: %s\n", err.msg);
		return 1;
	}
	node = nslab_lab_node(lab, argv[2]);
	for (int i = 0; node && i < n; i++) {
		struct nslab_spawn_opts o = { .stdio_fds = true,
					      .stdout_fd = out,
					      .stderr_fd = errfd };
		nslab_proc *p = NULL;
		double t0 = now_ms();

		if (nslab_node_spawn(node, cmd, &o, &p, &err) < 0 ||
		    nslab_proc_wait(p, &st, &err) < 0) {
			fprintf(stderr, "bench-simfloor: %s\n", err.msg);
			return 1;
		}
		ms[i] = now_ms() - t0;
		nslab_proc_free(p);
	}
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	printf("%.3f\n", ms[n / 2]);
	nslab_lab_free(lab);
	free(ms);
	return node ? 0 : 1;
}
