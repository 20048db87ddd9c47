/* SPDX-License-Identifier: MIT */
/*
 * sim/run: running a sim's steps over its lab (nslab/sim.h).
 *
 * One thread: the lab is built by the caller's thread (its processes die
 * with it), each step runs to its end before the next, and every wait is on
 * an event with a deadline: a process's pidfd, inotify on a spawned
 * command's output file for its ready line, a connect() to its port (retried
 * with a growing pause: nothing tells when a port starts to listen).
 */
#include "sim/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nslab/link.h"
#include "ns/netns.h"
#include "shared/macro.h"
#include "sim/expr.h"

#define OUTPUT_MAX    (16u << 20) /* what a step's output is read up to, for captures */
#define PORT_PAUSE_MS 50	  /* the longest pause between two connect() tries */

uint64_t sim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double now_ms_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

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

/* The whole of an output file, up to OUTPUT_MAX (a NUL-terminated copy). */
static char *read_output(int fd)
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

/*
 * A value for ${...} kept until the step that asked for it ends (release_kept()):
 * a lookup's value is copied into the text being interpolated at once, and a
 * soak (every: for an hour) would otherwise keep every one it ever made.
 */
static const char *keep(struct nslab_sim *sim, char *v)
{
	char **k;

	if (!v)
		return NULL;
	k = reallocarray(sim->kept, sim->n_kept + 1, sizeof(*k));
	if (!k) {
		free(v);
		return NULL;
	}
	sim->kept = k;
	k[sim->n_kept++] = v;
	return v;
}

static void release_kept(struct nslab_sim *sim)
{
	for (size_t i = 0; i < sim->n_kept; i++)
		free(sim->kept[i]);
	sim->n_kept = 0;
}

static const char *node_value(struct nslab_sim *sim, nslab_node *node, const char *what)
{
	char buf[64];

	if (strcmp(what, "ip") != 0 && strcmp(what, "ip6") != 0)
		return NULL;
	if (nslab_node_addr(node, NULL, what[2] ? AF_INET6 : AF_INET, buf, sizeof(buf), NULL) < 0)
		return NULL;
	return keep(sim, strdup(buf));
}

static const char *step_value(struct nslab_sim *sim, size_t i, const char *what)
{
	struct sim_state *s = &sim->state[i];
	char buf[32];

	if (s->status == SIM_STEP_PENDING)
		return NULL;
	if (strcmp(what, "stdout") == 0)
		return s->out ? s->out : "";
	if (strcmp(what, "stderr") == 0)
		return s->errtext ? s->errtext : "";
	if (strcmp(what, "exit") == 0 && s->has_exit) {
		snprintf(buf, sizeof(buf), "%d", s->exit);
		return keep(sim, strdup(buf));
	}
	if (strcmp(what, "path") == 0 && s->path)
		return s->path;
	if (strcmp(what, "key") == 0 && s->key)
		return s->key;
	if (strcmp(what, "dir") == 0 && s->path)
		return keep(sim, strndup(s->path, (size_t)(strrchr(s->path, '/') - s->path)));
	if (s->cap && (strcmp(what, "packets") == 0 || strcmp(what, "bytes") == 0)) {
		uint64_t packets, bytes;

		pkt_capture_counts(s->cap, &packets, &bytes);
		snprintf(buf, sizeof(buf), "%llu",
			 (unsigned long long)(what[0] == 'p' ? packets : bytes));
		return keep(sim, strdup(buf));
	}
	if (strcmp(what, "iterations") == 0 || strcmp(what, "ticks") == 0) {
		snprintf(buf, sizeof(buf), "%u", s->iterations);
		return keep(sim, strdup(buf));
	}
	if (strcmp(what, "picks") == 0)
		return s->picks ? s->picks : "";
	if (strcmp(what, "ms") == 0) {
		snprintf(buf, sizeof(buf), "%.3f", s->ms);
		return keep(sim, strdup(buf));
	}
	for (size_t k = 0; k < sim->file->steps[i].n_caps; k++)
		if (s->values[k] && strcmp(sim->file->steps[i].caps[k].name, what) == 0)
			return s->values[k];
	return NULL;
}

/* ${NODE.ip}, ${NODE.ip6}, ${STEP.stdout|stderr|exit|ms|CAPTURE}. */
static const char *lookup(const char *name, void *data)
{
	struct nslab_sim *sim = data;
	const char *dot = strrchr(name, '.');
	char head[128];
	nslab_node *node;

	if (!dot || (size_t)(dot - name) >= sizeof(head))
		return NULL;
	snprintf(head, sizeof(head), "%.*s", (int)(dot - name), name);
	for (size_t i = 0; i < sim->file->n_steps; i++)
		if (strcmp(sim->file->steps[i].id, head) == 0)
			return step_value(sim, i, dot + 1);
	node = sim->built ? nslab_lab_node(sim->lab, head) : NULL;
	return node ? node_value(sim, node, dot + 1) : NULL;
}

/* Step failures */

static int step_fail(struct nslab_sim *sim, size_t i, const char *fmt, ...) _printf_(3, 4);
static int step_fail(struct nslab_sim *sim, size_t i, const char *fmt, ...)
{
	const struct sim_step *st = &sim->file->steps[i];
	char msg[sizeof(sim->error) - 160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(sim->error, sizeof(sim->error), "%s:%u:%u: step '%s' (%s): %s", sim->file->path,
		 st->loc.line, st->loc.col, st->id, sim_kind_name(st->kind), msg);
	sim->state[i].status = SIM_STEP_FAILED;
	sim->failed_step = (long)i;
	return -1;
}

/* Commands */

static int argv_of(struct nslab_sim *sim, size_t i, char ***ret, nslab_error *err)
{
	const struct sim_step *st = &sim->file->steps[i];
	char **argv = calloc(st->argc + 1, sizeof(*argv));

	if (!argv)
		return nslab_err_set(err, ENOMEM, "command");
	for (size_t k = 0; k < st->argc; k++) {
		int r = sim_interpolate(st->argv[k], lookup, sim, &argv[k], err);

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

static void argv_free(char **argv)
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
static int start_argv(struct nslab_sim *sim, size_t i, char **made)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	struct nslab_spawn_opts o = { .stdio_fds = true };
	nslab_node *node = nslab_lab_node(sim->lab, st->node);
	nslab_error e = { 0 };
	char **argv = made;
	int r;

	if (!node)
		return step_fail(sim, i, "no node '%s' in the lab", st->node);
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
		argv_free(argv);
	return r < 0 ? step_fail(sim, i, "%s", e.msg) : 0;
}

static int start_command(struct nslab_sim *sim, size_t i)
{
	return start_argv(sim, i, NULL);
}

/* Wait until the process ends or the deadline: 1 ended, 0 deadline, -1 error. */
static int wait_exit(struct nslab_sim *sim, size_t i, uint64_t deadline)
{
	struct sim_state *s = &sim->state[i];
	struct pollfd pfd = { .fd = nslab_proc_fd(s->proc), .events = POLLIN };
	nslab_error e = { 0 };
	int st, r;

	while (pfd.fd >= 0) {
		uint64_t now = sim_now_ms();

		r = poll(&pfd, 1, now >= deadline ? 0 : (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : 0;
		break;
	}
	if (nslab_proc_wait(s->proc, &st, &e) < 0)
		return -1;
	s->has_exit = true;
	s->exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	s->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	return 1;
}

static void kill_proc(struct sim_state *s)
{
	int fd = s->proc ? nslab_proc_fd(s->proc) : -1;

	if (fd >= 0)
		(void)syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
}

/* The step's outputs read into its state, then its captures. */
static int take_outputs(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];

	free(s->out);
	free(s->errtext);
	s->out = read_output(s->out_fd);
	s->errtext = read_output(s->err_fd);
	if (!s->out || !s->errtext)
		return step_fail(sim, i, "out of memory reading its output");
	for (size_t k = 0; k < st->n_caps; k++) {
		const struct sim_capture *c = &st->caps[k];
		const char *text = c->stream == SIM_STDERR ? s->errtext : s->out;
		nslab_error e = { 0 };
		int r = c->pick ? sim_json_pick(text, c->source, &s->values[k], &e)
				: sim_regex_capture(text, c->source, &s->values[k], &e);

		if (r < 0)
			return step_fail(sim, i, "capture '%s': %s", c->name, e.msg);
	}
	return 0;
}

static uint64_t deadline_for(const struct nslab_sim *sim, uint64_t timeout_ms)
{
	uint64_t d = timeout_ms ? sim_now_ms() + timeout_ms : sim->deadline;

	return d < sim->deadline ? d : sim->deadline;
}

/* A started command to its end (or its timeout), its exit status as expected. */
static int finish_run(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	int r = wait_exit(sim, i, deadline_for(sim, st->timeout_ms));
	if (r == 0) {
		kill_proc(s);
		(void)wait_exit(sim, i, UINT64_MAX);
		(void)take_outputs(sim, i);
		return step_fail(sim, i, "still running after its timeout (killed)");
	}
	if (r < 0)
		return step_fail(sim, i, "waiting for it: %s", strerror(errno));
	if (take_outputs(sim, i) < 0)
		return -1;
	if (st->expect_exit >= 0 && s->exit != st->expect_exit)
		return step_fail(sim, i, "exit status %d, expected %d%s%.200s", s->exit,
				 st->expect_exit, *s->errtext ? "; stderr: " : "", s->errtext);
	return 0;
}

static int run_step(struct nslab_sim *sim, size_t i)
{
	int r = start_command(sim, i);

	return r < 0 ? r : finish_run(sim, i);
}

/* Spawn: ready when its output matches, or its port accepts */

static int ready_in_output(struct nslab_sim *sim, size_t i, bool *ret)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	_cleanup_free_ char *text =
		read_output(st->ready_stream == SIM_STDERR ? s->err_fd : s->out_fd);
	_cleanup_free_ char *m = NULL;
	nslab_error e = { 0 };
	int r;

	if (!text)
		return step_fail(sim, i, "out of memory reading its output");
	r = sim_regex_capture(text, st->ready_regex, &m, &e);
	if (r == -EINVAL)
		return step_fail(sim, i, "ready: %s", e.msg);
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
		return step_fail(sim, i, "inotify on its output: %s", strerror(errno));
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
		if (poll(pfd, 2, wait) > 0 && (pfd[0].revents & POLLIN))
			while (read(in, buf, sizeof(buf)) > 0)
				;
		if (pfd[1].revents & POLLIN) {
			/* ended: its last output may hold the line all the same */
			(void)wait_exit(sim, i, UINT64_MAX);
			pfd[1].fd = -1;
		}
	}
	(void)close(in);
	if (r < 0)
		return r;
	if (r == 1 && !ready)
		return step_fail(sim, i, "ended (exit %d) before it was ready", s->exit);
	if (r == 2)
		return step_fail(sim, i, "not ready within its timeout");
	return 0;
}

static int spawn_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	int r = start_command(sim, i);

	if (r < 0 || (!st->ready_regex && !st->ready_port))
		return r;
	return wait_ready(sim, i, deadline_for(sim, st->timeout_ms));
}

static int wait_for_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	const struct sim_step *t = sim_file_step(sim->file, st->target);
	size_t ti = (size_t)(t - sim->file->steps);
	struct sim_state *ts = &sim->state[ti];
	int r;

	r = ts->has_exit ? 1 : wait_exit(sim, ti, deadline_for(sim, st->timeout_ms));
	if (r == 0)
		return step_fail(sim, i, "'%s' still running after the timeout", t->id);
	if (r < 0)
		return step_fail(sim, i, "waiting for '%s': %s", t->id, strerror(errno));
	ts->status = SIM_STEP_PASSED;
	if (take_outputs(sim, ti) < 0)
		return step_fail(sim, i, "'%s': %s", t->id, sim->error);
	sim->state[i].exit = ts->exit;
	sim->state[i].has_exit = true;
	if (ts->exit != 0)
		return step_fail(sim, i, "'%s' ended with exit status %d%s%.200s", t->id, ts->exit,
				 *ts->errtext ? "; stderr: " : "", ts->errtext);
	return 0;
}

/* Sleep until a CLOCK_MONOTONIC time in ms, or the sim's deadline if sooner. */
static void sleep_until(const struct nslab_sim *sim, uint64_t until)
{
	struct timespec ts;

	if (until > sim->deadline)
		until = sim->deadline;
	for (uint64_t now = sim_now_ms(); now < until; now = sim_now_ms()) {
		ts.tv_sec = (time_t)((until - now) / 1000);
		ts.tv_nsec = (long)((until - now) % 1000) * 1000000L;
		(void)nanosleep(&ts, NULL);
	}
}

static int wait_step(struct nslab_sim *sim, size_t i)
{
	sleep_until(sim, sim_now_ms() + sim->file->steps[i].wait_ms);
	return 0; /* cut short by the sim's timeout: the next step says so */
}

static int assert_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];

	for (size_t k = 0; k < st->n_asserts; k++) {
		_cleanup_free_ char *detail = NULL;
		nslab_error e = { 0 };
		int r = sim_assert(st->asserts[k], lookup, sim, &detail, &e);

		if (r < 0)
			return step_fail(sim, i, "%s", e.msg);
		if (r == 0)
			return step_fail(sim, i, "%s (%s) does not hold", st->asserts[k], detail);
	}
	return 0;
}

/* files/NAME in the sim's directory, its content interpolated; ${ID.path} its absolute path. */
static int gen_file_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	_cleanup_free_ char *text = NULL;
	char self[64], dir[4096];
	nslab_error e = { 0 };
	ssize_t n;
	int fd, r;

	if (sim_interpolate(st->content, lookup, sim, &text, &e) < 0)
		return step_fail(sim, i, "%s", e.msg);
	if (mkdirat(sim->dir_fd, "files", 0755) < 0 && errno != EEXIST)
		return step_fail(sim, i, "create files/: %s", strerror(errno));
	snprintf(self, sizeof(self), "/proc/self/fd/%d", sim->dir_fd);
	n = readlink(self, dir, sizeof(dir) - 1);
	if (n < 0)
		return step_fail(sim, i, "the sim's directory: %s", strerror(errno));
	dir[n] = '\0';
	if (asprintf(&s->path, "%s/files/%s", dir, st->target) < 0) {
		s->path = NULL;
		return step_fail(sim, i, "out of memory");
	}
	fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	r = fd < 0 ? -errno : 0;
	for (size_t done = 0, len = strlen(text); r >= 0 && done < len; done += (size_t)n) {
		n = write(fd, text + done, len - done);
		r = n < 0 ? -errno : 0;
	}
	if (fd >= 0 && close(fd) < 0 && r >= 0)
		r = -errno;
	return r < 0 ? step_fail(sim, i, "write files/%s: %s", st->target, strerror(-r)) : 0;
}

/* One link's condition set (words interpolated), cleared, or its carrier changed. */
static int link_apply(struct nslab_sim *sim, size_t i, const char *iface, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	char **words = NULL;
	int r = 0;

	if (st->n_words) {
		words = calloc(st->n_words + 1, sizeof(*words));
		if (!words)
			return nslab_err_set(e, ENOMEM, "%s:%s", st->node, iface);
		for (size_t k = 0; r >= 0 && k < st->n_words; k++)
			r = sim_interpolate(st->words[k], lookup, sim, &words[k], e);
		if (r >= 0)
			r = nslab_lab_set_condition_words(sim->lab, st->node, iface,
							  (const char *const *)words, st->n_words,
							  e);
		argv_free(words);
	} else if (st->clear) {
		r = nslab_lab_set_condition(sim->lab, st->node, iface, NSLAB_LINK_BOTH, NULL, e);
	}
	if (r >= 0 && st->link_state >= 0)
		r = nslab_lab_set_link_up(sim->lab, st->node, iface, st->link_state == 1, e);
	return r < 0 ? nslab_err_prefix(e, r, "%s:%s", st->node, iface) : 0;
}

static int link_step(struct nslab_sim *sim, size_t i)
{
	nslab_error e = { 0 };

	if (link_apply(sim, i, sim->file->steps[i].iface, &e) < 0)
		return step_fail(sim, i, "%s", e.msg);
	return 0;
}

/* As link, on each of a device's interfaces (or the one named). */
static int device_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	nslab_node *node = nslab_lab_node(sim->lab, st->node);
	nslab_error e = { 0 };
	size_t n;

	if (!node || nslab_node_kind(node) != NSLAB_NODE_DEVICE)
		return step_fail(sim, i, "no device '%s' in the lab", st->node);
	if (st->iface)
		return link_apply(sim, i, st->iface, &e) < 0 ? step_fail(sim, i, "%s", e.msg) : 0;
	n = nslab_node_iface_count(node);
	for (size_t k = 0; k < n; k++)
		if (link_apply(sim, i, nslab_node_iface_name(node, k), &e) < 0)
			return step_fail(sim, i, "%s", e.msg);
	return 0;
}

/* A router's NAT set to a preset, and/or its mappings forgotten (as `nslab router`). */
static int router_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	_cleanup_free_ char *mode = NULL;
	nslab_error e = { 0 };
	int r = 0;

	if (st->nat) {
		r = sim_interpolate(st->nat, lookup, sim, &mode, &e);
		if (r >= 0)
			r = nslab_lab_set_nat(sim->lab, st->node, mode, &e);
	}
	if (r >= 0 && st->flush_nat)
		r = nslab_lab_flush_nat(sim->lab, st->node, &e);
	return r < 0 ? step_fail(sim, i, "%s", e.msg) : 0;
}

/* The sim's directory as a path (for ${ID.path}): what its fd leads to. */
static int sim_dir_path(struct nslab_sim *sim, char *buf, size_t len)
{
	char self[64];
	ssize_t n;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", sim->dir_fd);
	n = readlink(self, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* captures/ID.pcap in the sim's directory, created empty; its path in the step's state. */
static int open_pcap(struct nslab_sim *sim, size_t i, int *ret_fd)
{
	const struct sim_step *st = &sim->file->steps[i];
	char dir[4096], name[96];
	int fd, r;

	if (mkdirat(sim->dir_fd, "captures", 0755) < 0 && errno != EEXIST)
		return step_fail(sim, i, "create captures/: %s", strerror(errno));
	if (sim->state[i].runs > 1)
		snprintf(name, sizeof(name), "captures/%s.%u.pcap", st->id, sim->state[i].runs);
	else
		snprintf(name, sizeof(name), "captures/%s.pcap", st->id);
	fd = openat(sim->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return step_fail(sim, i, "create %s: %s", name, strerror(errno));
	r = sim_dir_path(sim, dir, sizeof(dir));
	if (r < 0 || asprintf(&sim->state[i].path, "%s/%s", dir, name) < 0) {
		sim->state[i].path = NULL;
		(void)close(fd);
		return step_fail(sim, i, "the path of %s", name);
	}
	*ret_fd = fd;
	return 0;
}

static int capture_stop(struct nslab_sim *sim, size_t ci, nslab_error *e)
{
	struct sim_state *cs = &sim->state[ci];

	return cs->cap ? pkt_capture_stop(cs->cap, e) : 0;
}

/* Start a capture of a node's interface, or stop one started earlier. */
static int capture_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	nslab_node *node;
	nslab_error e = { 0 };
	int fd = -1, r;

	if (st->target) {
		size_t ci = (size_t)(sim_file_step(sim->file, st->target) - sim->file->steps);

		r = capture_stop(sim, ci, &e);
		return r < 0 ? step_fail(sim, i, "'%s': %s", st->target, e.msg) : 0;
	}
	node = nslab_lab_node(sim->lab, st->node);
	if (!node)
		return step_fail(sim, i, "no node '%s' in the lab", st->node);
	r = open_pcap(sim, i, &fd);
	if (r < 0)
		return r;
	r = pkt_capture_start(nslab_node_netns_fd(node), st->iface, st->filter, fd,
			      &sim->state[i].cap, &e);
	return r < 0 ? step_fail(sim, i, "%s:%s: %s", st->node, st->iface, e.msg) : 0;
}

/* "subjectAltName=DNS:N,DNS:N.LAB.test,DNS:extra...,IP:v4,IP:v6" for a node. */
static int cert_sans(struct nslab_sim *sim, size_t i, nslab_node *node, char **ret, nslab_error *e)
{
	const struct sim_step *st = &sim->file->steps[i];
	const char *name = nslab_node_name(node);
	char *text = NULL, ip[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r = 0;

	if (!f)
		return nslab_err_set(e, errno, "certificate names");
	fprintf(f, "subjectAltName=DNS:%s,DNS:%s.%s.test", name, name, nslab_lab_name(sim->lab));
	for (size_t k = 0; r >= 0 && k < st->n_words; k++) {
		_cleanup_free_ char *extra = NULL;

		r = sim_interpolate(st->words[k], lookup, sim, &extra, e);
		if (r >= 0)
			fprintf(f, ",DNS:%s", extra);
	}
	if (nslab_node_addr(node, NULL, AF_INET, ip, sizeof(ip), NULL) >= 0)
		fprintf(f, ",IP:%s", ip);
	if (nslab_node_addr(node, NULL, AF_INET6, ip, sizeof(ip), NULL) >= 0)
		fprintf(f, ",IP:%s", ip);
	if (fclose(f) != 0 && r >= 0)
		r = nslab_err_set(e, ENOMEM, "certificate names");
	if (r < 0) {
		free(text);
		return r;
	}
	*ret = text;
	return 0;
}

/* certs/ID.crt and certs/ID.key, their paths in the step's state. */
static int cert_paths(struct nslab_sim *sim, size_t i)
{
	struct sim_state *s = &sim->state[i];
	const char *id = sim->file->steps[i].id;
	char dir[4096];

	if (mkdirat(sim->dir_fd, "certs", 0755) < 0 && errno != EEXIST)
		return step_fail(sim, i, "create certs/: %s", strerror(errno));
	if (sim_dir_path(sim, dir, sizeof(dir)) < 0)
		return step_fail(sim, i, "the sim's directory: %s", strerror(errno));
	if (asprintf(&s->path, "%s/certs/%s.crt", dir, id) < 0)
		s->path = NULL;
	if (asprintf(&s->key, "%s/certs/%s.key", dir, id) < 0)
		s->key = NULL;
	return s->path && s->key ? 0 : step_fail(sim, i, "out of memory");
}

/*
 * A self-signed certificate for a node: `openssl req -x509` run in the node
 * (Debian's openssl; its output in steps/ as any command's), an EC P-256 key,
 * the node's names and addresses as subject alternative names.
 */
static int gen_certs_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	nslab_node *node = nslab_lab_node(sim->lab, st->node);
	_cleanup_free_ char *sans = NULL, *subj = NULL;
	nslab_error e = { 0 };
	char days[16];
	int r;

	if (!node)
		return step_fail(sim, i, "no node '%s' in the lab", st->node);
	r = cert_paths(sim, i);
	if (r < 0)
		return r;
	if (cert_sans(sim, i, node, &sans, &e) < 0)
		return step_fail(sim, i, "%s", e.msg);
	if (asprintf(&subj, "/CN=%s.%s.test", st->node, nslab_lab_name(sim->lab)) < 0) {
		subj = NULL;
		return step_fail(sim, i, "out of memory");
	}
	snprintf(days, sizeof(days), "%u", st->days);
	{
		char *argv[] = { "openssl",
				 "req",
				 "-x509",
				 "-newkey",
				 "ec",
				 "-pkeyopt",
				 "ec_paramgen_curve:prime256v1",
				 "-nodes",
				 "-days",
				 days,
				 "-subj",
				 subj,
				 "-keyout",
				 s->key,
				 "-out",
				 s->path,
				 "-addext",
				 sans,
				 NULL };

		r = start_argv(sim, i, argv);
	}
	return r < 0 ? r : finish_run(sim, i);
}

/* A name of the lab's /etc/hosts set (its target interpolated) or removed. */
static int dns_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	_cleanup_free_ char *target = NULL;
	nslab_error e = { 0 };
	int r = 0;

	if (st->dns_target)
		r = sim_interpolate(st->dns_target, lookup, sim, &target, &e);
	if (r >= 0)
		r = nslab_lab_set_dns(sim->lab, st->dns_name, target, &e);
	return r < 0 ? step_fail(sim, i, "%s", e.msg) : 0;
}

static int do_step(struct nslab_sim *sim, size_t i)
{
	switch (sim->file->steps[i].kind) {
	case SIM_RUN:
		return run_step(sim, i);
	case SIM_SPAWN:
		return spawn_step(sim, i);
	case SIM_WAIT:
		return wait_step(sim, i);
	case SIM_WAIT_FOR:
		return wait_for_step(sim, i);
	case SIM_ASSERT:
		return assert_step(sim, i);
	case SIM_GEN_FILE:
		return gen_file_step(sim, i);
	case SIM_LINK:
		return link_step(sim, i);
	case SIM_DEVICE:
		return device_step(sim, i);
	case SIM_ROUTER:
		return router_step(sim, i);
	case SIM_CAPTURE:
		return capture_step(sim, i);
	case SIM_DNS:
		return dns_step(sim, i);
	case SIM_GEN_CERTS:
		return gen_certs_step(sim, i);
	case SIM_REPEAT:
	case SIM_EVERY:
	case SIM_GROUP:
		break; /* run_one() runs blocks */
	}
	return -1;
}

/* The run */

static int run_one(struct nslab_sim *sim, size_t i);

/* A step run again (repeat, every): what its last run left is let go first. */
static void state_reset(struct nslab_sim *sim, size_t i)
{
	struct sim_state *s = &sim->state[i];

	if (s->proc && !s->has_exit) {
		kill_proc(s);
		(void)wait_exit(sim, i, UINT64_MAX);
	}
	s->proc = nslab_proc_free(s->proc);
	s->cap = pkt_capture_free(s->cap);
	if (s->out_fd >= 0)
		(void)close(s->out_fd);
	if (s->err_fd >= 0)
		(void)close(s->err_fd);
	s->out_fd = s->err_fd = -1;
	for (size_t k = 0; k < sim->file->steps[i].n_caps; k++) {
		free(s->values[k]);
		s->values[k] = NULL;
	}
	free(s->out);
	free(s->errtext);
	free(s->path);
	free(s->key);
	free(s->picks);
	s->out = s->errtext = s->path = s->key = s->picks = NULL;
	s->has_exit = false;
	s->exit = s->signal = 0;
	s->iterations = 0;
}

/* How many entries of steps[] step i takes: itself and its body. */
static size_t span(const struct nslab_sim *sim, size_t i)
{
	return 1 + sim->file->steps[i].n_body;
}

/* Steps [from, to) in order, until one fails; -1 if one did. */
static int run_range(struct nslab_sim *sim, size_t from, size_t to)
{
	for (size_t i = from; i < to; i += span(sim, i))
		if (run_one(sim, i) < 0)
			return -1;
	return 0;
}

/* After a failure inside a block: the block fails too, the sim's error says where. */
static int block_failed(struct nslab_sim *sim, size_t i, const char *what, unsigned k)
{
	size_t len = strlen(sim->error);

	if (k)
		snprintf(sim->error + len, sizeof(sim->error) - len, " (%s %u of '%s')", what, k,
			 sim->file->steps[i].id);
	else
		snprintf(sim->error + len, sizeof(sim->error) - len, " (in %s '%s')", what,
			 sim->file->steps[i].id);
	sim->state[i].status = SIM_STEP_FAILED;
	return -1;
}

/* Its body N times, or again until for_ms is over (at least once). */
static int repeat_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	uint64_t until = sim_now_ms() + st->for_ms;

	for (unsigned k = 0; st->times ? k < st->times : (k == 0 || sim_now_ms() < until); k++) {
		if (run_range(sim, i + 1, i + 1 + st->n_body) < 0)
			return block_failed(sim, i, "iteration", k + 1);
		s->iterations = k + 1;
	}
	return 0;
}

/* splitmix64: a seeded sequence, the same on every machine. */
static uint64_t next_random(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The index in steps[] of block i's direct child number c. */
static size_t child_at(const struct nslab_sim *sim, size_t i, size_t c)
{
	size_t k = i + 1;

	while (c--)
		k += span(sim, k);
	return k;
}

static int add_pick(struct sim_state *s, const char *id)
{
	char *p = NULL;

	if (asprintf(&p, "%s%s%s", s->picks ? s->picks : "", s->picks ? "," : "", id) < 0)
		return -1;
	free(s->picks);
	s->picks = p;
	return 0;
}

/* At each interval, one of its choices (seeded), for times ticks or for_ms. */
static int every_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	uint64_t start = sim_now_ms(), rng = st->seed;

	for (unsigned k = 0; !st->times || k < st->times; k++) {
		uint64_t due = start + (k + 1) * st->wait_ms;
		size_t c;

		if (st->for_ms && due > start + st->for_ms)
			break;
		sleep_until(sim, due);
		if (sim_now_ms() < due)
			return step_fail(sim, i, "the sim's timeout ran out after %u ticks", k);
		c = child_at(sim, i, (size_t)(next_random(&rng) % st->n_choices));
		if (add_pick(s, sim->file->steps[c].id) < 0)
			return step_fail(sim, i, "out of memory");
		if (run_one(sim, c) < 0)
			return block_failed(sim, i, "tick", k + 1);
		s->iterations = k + 1;
	}
	return 0;
}

static int run_one(struct nslab_sim *sim, size_t i)
{
	struct sim_state *s = &sim->state[i];
	double t0;
	int r;

	if (s->runs++)
		state_reset(sim, i);
	if (sim->appev)
		sim_appev_flush(
			sim->appev); /* what programs said so far, before this step's events */
	s->status = SIM_STEP_RUNNING;
	if (sim->cb)
		sim->cb(sim, i, 0, sim->cb_data);
	t0 = now_ms_f(); /* the step's own time: the caller's callback is not in it */
	if (sim_now_ms() >= sim->deadline)
		r = step_fail(sim, i, "the sim's timeout (%llu ms) ran out before it",
			      (unsigned long long)sim->file->timeout_ms);
	else if (sim->file->steps[i].kind == SIM_REPEAT)
		r = repeat_step(sim, i);
	else if (sim->file->steps[i].kind == SIM_EVERY)
		r = every_step(sim, i);
	else if (sim->file->steps[i].kind == SIM_GROUP)
		r = run_range(sim, i + 1, i + span(sim, i)) < 0 ? block_failed(sim, i, "group", 0)
								: 0;
	else
		r = do_step(sim, i);
	release_kept(sim);
	s->ms = now_ms_f() - t0;
	if (r >= 0 && s->status == SIM_STEP_RUNNING)
		s->status = sim->file->steps[i].kind == SIM_SPAWN && !s->has_exit ? SIM_STEP_RUNNING
										  : SIM_STEP_PASSED;
	if (sim->cb)
		sim->cb(sim, i, 1, sim->cb_data);
	return r < 0 ? -1 : 0;
}

/* Every step in order until one fails; those that never ran are skipped. */
static void run_steps(struct nslab_sim *sim)
{
	(void)run_range(sim, 0, sim->file->n_steps);
	for (size_t i = 0; i < sim->file->n_steps; i++)
		if (sim->state[i].status == SIM_STEP_PENDING)
			sim->state[i].status = SIM_STEP_SKIPPED;
}

/* Captures still running when the sim ends: stopped (before the lab goes). */
static void end_captures(struct nslab_sim *sim)
{
	for (size_t i = 0; i < sim->file->n_steps; i++)
		(void)capture_stop(sim, i, NULL);
}

/* Spawned commands still running when the sim ends: killed, their output kept. */
static void end_spawned(struct nslab_sim *sim)
{
	for (size_t i = 0; i < sim->file->n_steps; i++) {
		struct sim_state *s = &sim->state[i];

		if (!s->proc || s->has_exit)
			continue;
		kill_proc(s);
		(void)wait_exit(sim, i, UINT64_MAX);
		(void)take_outputs(sim, i);
		if (s->status == SIM_STEP_RUNNING)
			s->status = SIM_STEP_PASSED; /* it was up when the sim needed it */
	}
}

static int open_dirs(struct nslab_sim *sim, const char *dir, nslab_error *err)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return nslab_err_set(err, errno, "create '%s'", dir);
	sim->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sim->dir_fd < 0)
		return nslab_err_set(err, errno, "open '%s'", dir);
	if (faccessat(sim->dir_fd, "sim.json", F_OK, 0) == 0)
		return nslab_err_setx(err, EEXIST, "'%s' holds a sim already", dir);
	if (mkdirat(sim->dir_fd, "steps", 0755) < 0 && errno != EEXIST)
		return nslab_err_set(err, errno, "create '%s/steps'", dir);
	sim->steps_fd = openat(sim->dir_fd, "steps", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return sim->steps_fd < 0 ? nslab_err_set(err, errno, "open '%s/steps'", dir) : 0;
}

/* NSLAB_EVENTS for the built lab's nodes (a sim without it could not run its programs as told). */
static int open_appev(struct nslab_sim *sim, nslab_error *err)
{
	char path[4096];
	int r = sim_dir_path(sim, path, sizeof(path));

	if (r < 0)
		return nslab_err_set(err, -r, "the sim's directory");
	return sim_appev_open(sim->lab, sim->dir_fd, path, &sim->appev, err);
}

int nslab_sim_run(nslab_sim *sim, const char *dir, nslab_sim_cb cb, void *data, nslab_error *err)
{
	double t0 = now_ms_f();
	nslab_error e = { 0 };
	int r;

	if (sim->status != NSLAB_SIM_NOT_RUN)
		return nslab_err_setx(err, EALREADY, "the sim has run already");
	sim->started_wall = time(NULL);
	sim->started = sim_now_ms();
	sim->deadline = sim->started + sim->file->timeout_ms;
	r = open_dirs(sim, dir, &e);
	if (r >= 0)
		r = nslab_lab_set_outdir(sim->lab, dir, &e);
	if (r >= 0)
		r = nslab_lab_build(sim->lab, &e);
	if (r >= 0)
		r = open_appev(sim, &e);
	if (r < 0) {
		sim->status = NSLAB_SIM_ERROR;
		snprintf(sim->error, sizeof(sim->error), "%s", e.msg);
		if (err)
			*err = e;
		sim->ms = now_ms_f() - t0;
		if (sim->dir_fd >= 0)
			(void)sim_write_outputs(sim);
		return r;
	}
	sim->built = true;
	sim->cb = cb;
	sim->cb_data = data;
	run_steps(sim);
	end_spawned(sim);
	end_captures(sim);
	sim->appev = sim_appev_free(sim->appev); /* the last events logged before the lab goes */
	sim->status = sim->failed_step >= 0 ? NSLAB_SIM_FAILED : NSLAB_SIM_PASSED;
	sim->lab = nslab_lab_free(sim->lab); /* torn down before the timing ends */
	sim->ms = now_ms_f() - t0;
	r = sim_write_outputs(sim);
	if (r < 0) {
		snprintf(sim->error, sizeof(sim->error), "write the outputs of '%s': %s", dir,
			 strerror(-r));
		sim->status = NSLAB_SIM_ERROR;
		return nslab_err_setx(err, -r, "%s", sim->error);
	}
	return 0;
}
