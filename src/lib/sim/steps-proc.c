/* SPDX-License-Identifier: MIT */
/*
 * sim/steps-proc: the steps that run commands (run, spawn, wait-for) and
 * those that only wait or check (wait, assert). Every wait is on an event
 * with a deadline: a process's pidfd, inotify on a spawned command's output
 * file for its ready line, the kernel's socket table for its port (read again
 * with a growing pause: nothing tells when a port starts to listen).
 */
#include "sim/steps.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ns/netns.h"
#include "sim/expr.h"

#define OUTPUT_MAX    (16u << 20) /* what a step's output is read up to, for captures */
#define PORT_PAUSE_MS 50	  /* the longest pause between two looks at the socket table */

/* Output files and values */

static int open_output(struct nslab_sim *sim, size_t i, const char *ext, int *ret_fd,
		       nslab_error *err)
{
	unsigned run = sim->state[i].runs;
	char name[128];
	int fd;

	/* a step run again (repeat, every) keeps each run's output: NN-ID.K.EXT */
	if (run > 1)
		snprintf(name, sizeof(name), "%02zu-%s.%u.%s", i + 1, sim->file->steps[i].id, run,
			 ext);
	else
		snprintf(name, sizeof(name), "%02zu-%s.%s", i + 1, sim->file->steps[i].id, ext);
	fd = openat(sim->steps_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return nslab_err_set(err, errno, "steps/%s", name);
	*ret_fd = fd;
	return 0;
}

char *sim_read_output(int fd)
{
	struct stat st;
	size_t len;
	char *buf;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return strdup("");
	len = (size_t)st.st_size < OUTPUT_MAX ? (size_t)st.st_size : OUTPUT_MAX;
	buf = malloc(len + 1);
	if (!buf)
		return NULL;
	n = pread(fd, buf, len, 0);
	buf[n > 0 ? (size_t)n : 0] = '\0';
	return buf;
}

/* Commands */

static int argv_of(struct nslab_sim *sim, size_t i, char ***ret, nslab_error *err)
{
	const struct sim_step *st = &sim->file->steps[i];
	char **argv = calloc(st->argc + 1, sizeof(*argv));

	if (!argv)
		return nslab_err_set(err, ENOMEM, "command");
	for (size_t k = 0; k < st->argc; k++) {
		int r = sim_interpolate(st->argv[k], sim_lookup, sim, &argv[k], err);

		if (r < 0) {
			for (size_t j = 0; j < k; j++)
				free(argv[j]);
			free(argv);
			return r;
		}
	}
	*ret = argv;
	return 0;
}

void sim_argv_free(char **argv)
{
	for (size_t k = 0; argv && argv[k]; k++)
		free(argv[k]);
	free(argv);
}

/*
 * Start step i's command (made: one the step built, borrowed; NULL: the
 * file's words interpolated) with its output in steps/; 0, or -1 with the
 * step failed.
 */
int sim_start_argv(struct nslab_sim *sim, size_t i, char **made)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	struct nslab_spawn_opts o = { .stdio_fds = true };
	nslab_node *node = nslab_lab_node(sim->lab, st->node);
	nslab_error e = { 0 };
	char **argv = made;
	int r;

	if (!node)
		return sim_step_fail(sim, i, "no node '%s' in the lab", st->node);
	r = open_output(sim, i, "stdout", &s->out_fd, &e);
	if (r >= 0)
		r = open_output(sim, i, "stderr", &s->err_fd, &e);
	if (r >= 0 && !made)
		r = argv_of(sim, i, &argv, &e);
	o.stdout_fd = s->out_fd;
	o.stderr_fd = s->err_fd;
	o.env = (const char *const[]){ sim_appev_env(sim->appev, st->node), NULL };
	if (r >= 0)
		r = nslab_node_spawn(node, argv, &o, &s->proc, &e);
	if (!made)
		sim_argv_free(argv);
	return r < 0 ? sim_step_fail(sim, i, "%s", e.msg) : 0;
}

static int start_command(struct nslab_sim *sim, size_t i)
{
	return sim_start_argv(sim, i, NULL);
}

int sim_poll(struct nslab_sim *sim, struct pollfd *pfd, size_t n, uint64_t deadline)
{
	struct pollfd all[SIM_POLL_MAX + 1];
	int fd = sim_appev_fd(sim->appev), r;

	if (n > SIM_POLL_MAX)
		return errno = EINVAL, -1;
	for (;;) {
		uint64_t now = sim_now_ms();
		uint64_t left = now >= deadline ? 0 : deadline - now;

		if (n)
			memcpy(all, pfd, n * sizeof(*pfd));
		all[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
		r = poll(all, n + 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		for (size_t k = 0; k < n; k++)
			pfd[k].revents = all[k].revents;
		if (all[n].revents & POLLIN) {
			sim_appev_flush(sim->appev);
			r--;
		}
		if (r > 0 || sim_now_ms() >= deadline)
			return r;
	}
}

/* Wait until the process ends or the deadline: 1 ended, 0 deadline, -1 error. */
int sim_wait_exit(struct nslab_sim *sim, size_t i, uint64_t deadline)
{
	struct sim_state *s = &sim->state[i];
	struct pollfd pfd = { .fd = nslab_proc_fd(s->proc), .events = POLLIN };
	nslab_error e = { 0 };
	int st, r;

	if (pfd.fd >= 0) {
		r = sim_poll(sim, &pfd, 1, deadline);
		if (r <= 0)
			return r < 0 ? -1 : 0;
	}
	if (nslab_proc_wait(s->proc, &st, &e) < 0)
		return -1;
	s->has_exit = true;
	s->exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	s->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	return 1;
}

void sim_kill_proc(struct sim_state *s)
{
	int fd = s->proc ? nslab_proc_fd(s->proc) : -1;

	if (fd >= 0)
		(void)syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
}

/* The step's outputs read into its state, then its captures. */
int sim_take_outputs(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];

	free(s->out);
	free(s->errtext);
	s->out = sim_read_output(s->out_fd);
	s->errtext = sim_read_output(s->err_fd);
	if (!s->out || !s->errtext)
		return sim_step_fail(sim, i, "out of memory reading its output");
	for (size_t k = 0; k < st->n_caps; k++) {
		const struct sim_capture *c = &st->caps[k];
		const char *text = c->stream == SIM_STDERR ? s->errtext : s->out;
		nslab_error e = { 0 };
		int r = c->match  ? sim_ndjson_capture(text, c->match, c->source, &s->values[k], &e)
			: c->pick ? sim_json_pick(text, c->source, &s->values[k], &e)
				  : sim_regex_capture(text, c->source, &s->values[k], &e);

		if (r < 0)
			return sim_step_fail(sim, i, "capture '%s': %s", c->name, e.msg);
	}
	return 0;
}

static uint64_t deadline_for(const struct nslab_sim *sim, uint64_t timeout_ms)
{
	uint64_t d = timeout_ms ? sim_now_ms() + timeout_ms : sim->deadline;

	return d < sim->deadline ? d : sim->deadline;
}

/* A started command to its end (or its timeout), its exit status as expected. */
int sim_finish_run(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	int r = sim_wait_exit(sim, i, deadline_for(sim, st->timeout_ms));
	if (r == 0) {
		sim_kill_proc(s);
		(void)sim_wait_exit(sim, i, UINT64_MAX);
		(void)sim_take_outputs(sim, i);
		return sim_step_fail(sim, i, "still running after its timeout (killed)");
	}
	if (r < 0)
		return sim_step_fail(sim, i, "waiting for it: %s", strerror(errno));
	if (sim_take_outputs(sim, i) < 0)
		return -1;
	if (st->expect_exit >= 0 && s->exit != st->expect_exit)
		return sim_step_fail(sim, i, "exit status %d, expected %d%s%.200s", s->exit,
				     st->expect_exit, *s->errtext ? "; stderr: " : "", s->errtext);
	return 0;
}

int sim_run_step(struct nslab_sim *sim, size_t i)
{
	int r = start_command(sim, i);

	return r < 0 ? r : sim_finish_run(sim, i);
}

/* Spawn: ready when its output matches, or its port accepts */

static int ready_in_output(struct nslab_sim *sim, size_t i, bool *ret)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	_cleanup_free_ char *text =
		sim_read_output(st->ready_stream == SIM_STDERR ? s->err_fd : s->out_fd);
	_cleanup_free_ char *m = NULL;
	nslab_error e = { 0 };
	int r;

	if (!text)
		return sim_step_fail(sim, i, "out of memory reading its output");
	r = sim_regex_capture(text, st->ready_regex, &m, &e);
	if (r == -EINVAL)
		return sim_step_fail(sim, i, "ready: %s", e.msg);
	*ret = r >= 0;
	return 0;
}

struct listen_q {
	unsigned port;
	bool found;
};

/* In the node's netns: whether a TCP socket listens on the port (IPv4 or IPv6). */
static int listening_fn(void *data, nslab_error *err)
{
	static const char *const files[] = { "/proc/thread-self/net/tcp",
					     "/proc/thread-self/net/tcp6" };
	struct listen_q *q = data;
	char line[512];

	(void)err;
	for (size_t i = 0; i < ARRAY_SIZE(files) && !q->found; i++) {
		FILE *f = fopen(files[i], "re");

		while (f && !q->found && fgets(line, sizeof(line), f)) {
			unsigned port, state;
			char *colon = strchr(line, ':');

			/* "  0: 00000000:1451 00000000:0000 0A ..." local address:port, remote, state */
			colon = colon ? strchr(colon + 1, ':') : NULL;
			if (colon && sscanf(colon + 1, "%x %*s %x", &port, &state) == 2)
				q->found = port == q->port && state == 0x0A;
		}
		if (f)
			fclose(f);
	}
	return 0;
}

/*
 * Whether something listens on the port in the node. Read from the kernel's
 * socket table, not tried with a connect(): a one-shot server (iperf3 -1)
 * would take the probe for its client.
 */
static bool port_accepts(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	nslab_node *node = nslab_lab_node(sim->lab, st->node);
	struct listen_q q = { .port = st->ready_port };

	if (!node || netns_call(nslab_node_netns_fd(node), listening_fn, &q, NULL) < 0)
		return false;
	return q.found;
}

/* Wait for the ready line (inotify on the output file) or the port; ends early if it exits. */
static int wait_ready(struct nslab_sim *sim, size_t i, uint64_t deadline)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	char path[64], buf[4096];
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), pause_ms = 1, r = 0;
	bool ready = false;

	snprintf(path, sizeof(path), "/proc/self/fd/%d",
		 st->ready_stream == SIM_STDERR ? s->err_fd : s->out_fd);
	if (in < 0 || (st->ready_regex && inotify_add_watch(in, path, IN_MODIFY) < 0)) {
		if (in >= 0)
			(void)close(in);
		return sim_step_fail(sim, i, "inotify on its output: %s", strerror(errno));
	}
	for (;;) {
		struct pollfd pfd[2] = { { .fd = in, .events = POLLIN },
					 { .fd = nslab_proc_fd(s->proc), .events = POLLIN } };
		uint64_t now = sim_now_ms();
		int wait;

		r = st->ready_regex ? ready_in_output(sim, i, &ready) : 0;
		if (r >= 0 && !ready && st->ready_port)
			ready = port_accepts(sim, i);
		if (r < 0 || ready)
			break;
		if (pfd[1].fd < 0 || now >= deadline) {
			r = pfd[1].fd < 0 ? 1 : 2;
			break;
		}
		wait = (int)(deadline - now);
		if (st->ready_port && wait > pause_ms)
			wait = pause_ms;
		pause_ms = pause_ms * 2 > PORT_PAUSE_MS ? PORT_PAUSE_MS : pause_ms * 2;
		if (sim_poll(sim, pfd, 2, now + (uint64_t)wait) > 0 && (pfd[0].revents & POLLIN))
			while (read(in, buf, sizeof(buf)) > 0)
				;
		if (pfd[1].revents & POLLIN) {
			/* ended: its last output may hold the line all the same */
			(void)sim_wait_exit(sim, i, UINT64_MAX);
			pfd[1].fd = -1;
		}
	}
	(void)close(in);
	if (r < 0)
		return r;
	if (r == 1 && !ready)
		return sim_step_fail(sim, i, "ended (exit %d) before it was ready", s->exit);
	if (r == 2)
		return sim_step_fail(sim, i, "not ready within its timeout");
	return 0;
}

int sim_spawn_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	int r = start_command(sim, i);

	if (r < 0 || (!st->ready_regex && !st->ready_port))
		return r;
	return wait_ready(sim, i, deadline_for(sim, st->timeout_ms));
}

int sim_wait_for_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	const struct sim_step *t = sim_file_step(sim->file, st->target);
	size_t ti = (size_t)(t - sim->file->steps);
	struct sim_state *ts = &sim->state[ti];
	int r;

	r = ts->has_exit ? 1 : sim_wait_exit(sim, ti, deadline_for(sim, st->timeout_ms));
	if (r == 0)
		return sim_step_fail(sim, i, "'%s' still running after the timeout", t->id);
	if (r < 0)
		return sim_step_fail(sim, i, "waiting for '%s': %s", t->id, strerror(errno));
	ts->status = SIM_STEP_PASSED;
	if (sim_take_outputs(sim, ti) < 0)
		return sim_step_fail(sim, i, "'%s': %s", t->id, sim->error);
	sim->state[i].exit = ts->exit;
	sim->state[i].has_exit = true;
	if (ts->exit != 0)
		return sim_step_fail(sim, i, "'%s' ended with exit status %d%s%.200s", t->id,
				     ts->exit, *ts->errtext ? "; stderr: " : "", ts->errtext);
	return 0;
}

/* Sleep until a CLOCK_MONOTONIC time in ms, or the sim's deadline if sooner. */
void sim_sleep_until(struct nslab_sim *sim, uint64_t until)
{
	if (until > sim->deadline)
		until = sim->deadline;
	(void)sim_poll(sim, NULL, 0, until); /* app events logged as they come */
}

int sim_wait_step(struct nslab_sim *sim, size_t i)
{
	sim_sleep_until(sim, sim_now_ms() + sim->file->steps[i].wait_ms);
	return 0; /* cut short by the sim's timeout: the next step says so */
}

int sim_assert_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];

	for (size_t k = 0; k < st->n_asserts; k++) {
		_cleanup_free_ char *detail = NULL;
		nslab_error e = { 0 };
		int r = sim_assert(st->asserts[k], sim_lookup, sim, &detail, &e);

		if (r < 0)
			return sim_step_fail(sim, i, "%s", e.msg);
		if (r == 0)
			return sim_step_fail(sim, i, "%s (%s) does not hold", st->asserts[k],
					     detail);
	}
	return 0;
}
