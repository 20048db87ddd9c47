/* SPDX-License-Identifier: MIT */
/*
 * bench-sandbox: timings for bench/sandbox-start.sh (printed, never a test).
 *   bench-sandbox time N CMD [ARG...]   run CMD N times (fork, exec, wait), one
 *                                       after the other; print the median, p10
 *                                       and p90 wall time in ms
 *   bench-sandbox api N                 nslab_sandbox_run("/bin/true") N times
 *   bench-sandbox run CMD [ARG...]      run CMD once in a sandbox (the defaults), exit
 *                                       with its status: `nslab run` without the
 *                                       command's shared libraries (this binary is
 *                                       linked --as-needed), to tell them apart
 *   bench-sandbox pool N                a pool of 4: N starts of /bin/true;
 *                                       print the median pool_spawn() (call to
 *                                       exec'd) and the whole cycle (spawn,
 *                                       wait, free)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"
#include <nslab/sandbox.h>

static void print_stats(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	printf("%s median %.3f p10 %.3f p90 %.3f\n", what, v[n / 2], v[n / 10], v[n * 9 / 10]);
}

static int run_time(int n, char **argv, double *v)
{
	for (int i = 0; i < n; i++) {
		double t0 = now_ms();
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			execvp(argv[0], argv);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench-sandbox: '%s' failed\n", argv[0]);
			return 1;
		}
		v[i] = now_ms() - t0;
	}
	print_stats("time", v, n);
	return 0;
}

static int run_api(int n, double *v)
{
	char *argv[] = { "/bin/true", NULL };
	struct nslab_sandbox_result res;
	nslab_sandbox_config *c;
	nslab_error err = { 0 };

	if (nslab_sandbox_config_new(&c, &err) < 0)
		return fprintf(stderr, "bench-sandbox: %s\n", err.msg), 1;
	for (int i = 0; i < n; i++) {
		double t0 = now_ms();

		if (nslab_sandbox_run(c, argv, &res, &err) < 0 || res.exit_code != 0)
			return fprintf(stderr, "bench-sandbox: %s\n", err.msg), 1;
		v[i] = now_ms() - t0;
	}
	print_stats("api", v, n);
	nslab_sandbox_config_free(c);
	return 0;
}

static int run_pool(int n, double *v, double *cycle)
{
	char *argv[] = { "/bin/true", NULL };
	struct nslab_sandbox_result res;
	nslab_sandbox_config *c;
	nslab_sandbox_pool *p;
	nslab_error err = { 0 };
	nslab_sandbox *s;

	if (nslab_sandbox_config_new(&c, &err) < 0 || nslab_sandbox_pool_new(c, 4, &p, &err) < 0)
		return fprintf(stderr, "bench-sandbox: %s\n", err.msg), 1;
	for (int i = 0; i < n; i++) {
		double t0 = now_ms(), t1;

		if (nslab_sandbox_pool_spawn(p, argv, &s, &err) < 0)
			return fprintf(stderr, "bench-sandbox: %s\n", err.msg), 1;
		t1 = now_ms();
		if (nslab_sandbox_wait(s, &res, &err) < 0 || res.exit_code != 0)
			return fprintf(stderr, "bench-sandbox: %s\n", err.msg), 1;
		nslab_sandbox_free(s);
		v[i] = t1 - t0;
		cycle[i] = now_ms() - t0;
		/* let the worker refill: a start from a full pool is what is measured */
		usleep(20000);
	}
	print_stats("pool-start", v, n);
	print_stats("pool-cycle", cycle, n);
	nslab_sandbox_pool_free(p);
	nslab_sandbox_config_free(c);
	return 0;
}

static int run_once(char **argv)
{
	struct nslab_sandbox_result res;
	nslab_sandbox_config *c;
	nslab_error err = { 0 };

	if (nslab_sandbox_config_new(&c, &err) < 0 || nslab_sandbox_run(c, argv, &res, &err) < 0)
		fprintf(stderr, "bench-sandbox: %s\n", err.msg);
	nslab_sandbox_config_free(c);
	return res.exit_code;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0, r;
	double *v, *w;

	if (argc > 2 && strcmp(argv[1], "run") == 0)
		return run_once(argv + 2);
	if (argc < 3 || n <= 0 || (strcmp(argv[1], "time") == 0 && argc < 4)) {
		fprintf(stderr,
			"usage: bench-sandbox time N CMD... | api N | pool N | run CMD...\n");
		return 2;
	}
	v = calloc((size_t)n, sizeof(*v));
	w = calloc((size_t)n, sizeof(*w));
	if (!v || !w)
		return 1;
	if (strcmp(argv[1], "time") == 0)
		r = run_time(n, argv + 3, v);
	else if (strcmp(argv[1], "api") == 0)
		r = run_api(n, v);
	else
		r = run_pool(n, v, w);
	free(v);
	free(w);
	return r;
}
