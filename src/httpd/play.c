/* SPDX-License-Identifier: MIT */
/*
 * httpd/play: the playground (`nslab serve --playground`). A POSTed suite
 * (the `nslab test` format: a ruleset and packets or flows, YAML or JSON) runs
 * in a child `nslab test --format json` of our own binary: its throwaway
 * namespaces (a user namespace of its own when rootless, which needs a
 * single-threaded process: this one is not) go with it. The answer is its
 * report: each packet's verdict, deciding rule and trace path.
 * One run at a time; the child dies with the server (PDEATHSIG) and is killed
 * after PLAY_TIMEOUT_S.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"

#define PLAY_TIMEOUT_S 60
#define PLAY_OUT_MAX   (16 << 20)
#define PLAY_ERR_MAX   (64 << 10)

struct capture {
	int fd;
	char *buf;
	size_t len, max;
};

/* Child: suite on fd 3, stdout and stderr to the pipes; only async-signal-safe calls. */
static _Noreturn void play_child(int suite, int out, int err)
{
	/* --coverage: the UI shows which rules the packets never reached */
	char *argv[] = { (char *)"nslab",
			 (char *)"test",
			 (char *)"--format",
			 (char *)"json",
			 (char *)"--coverage",
			 (char *)"/proc/self/fd/3",
			 NULL };
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (suite == 3)
		(void)fcntl(3, F_SETFD, 0); /* dup2(3, 3) would keep O_CLOEXEC */
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
	    dup2(suite, 3) < 0)
		_exit(127);
	execv("/proc/self/exe", argv);
	_exit(127);
}

static int capture_read(struct capture *c)
{
	char tmp[16384];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : 0;
	if (c->len + (size_t)n <= c->max) {
		char *p = realloc(c->buf, c->len + (size_t)n + 1);

		if (!p)
			return -ENOMEM;
		memcpy(p + c->len, tmp, (size_t)n);
		c->buf = p;
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
	}
	return 1;
}

/* Read both pipes until they close or the deadline passes. Return: 0, or -ETIMEDOUT. */
static int collect(struct capture *out, struct capture *err)
{
	time_t end = time(NULL) + PLAY_TIMEOUT_S;
	bool open_out = true, open_err = true;

	while (open_out || open_err) {
		struct pollfd p[2] = { { .fd = open_out ? out->fd : -1, .events = POLLIN },
				       { .fd = open_err ? err->fd : -1, .events = POLLIN } };
		time_t left = end - time(NULL);
		int n = left > 0 ? poll(p, 2, (int)left * 1000) : 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ETIMEDOUT;
		if (p[0].revents && capture_read(out) <= 0)
			open_out = false;
		if (p[1].revents && capture_read(err) <= 0)
			open_err = false;
	}
	return 0;
}

static int spawn_test(const struct http_req *q, pid_t *ret_pid, int *ret_out, int *ret_err,
		      nslab_error *err)
{
	_cleanup_close_ int suite = memfd_create("playground.yaml", MFD_CLOEXEC);
	int out[2], errp[2];
	pid_t pid = -1;

	if (suite < 0 || write(suite, q->body, q->body_len) != (ssize_t)q->body_len)
		return nslab_err_set(err, errno ? errno : EIO, "playground: suite");
	if (pipe2(out, O_CLOEXEC) < 0)
		return nslab_err_set(err, errno, "playground: pipe");
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return nslab_err_set(err, errno, "playground: pipe");
	}
	pid = fork();
	if (pid == 0)
		play_child(suite, out[1], errp[1]);
	close(out[1]);
	close(errp[1]);
	if (pid < 0) {
		close(out[0]);
		close(errp[0]);
		return nslab_err_set(err, errno, "playground: fork");
	}
	*ret_pid = pid;
	*ret_out = out[0];
	*ret_err = errp[0];
	return 0;
}

/* "/proc/self/fd/3:2:1: ..." reads better as "suite:2:1: ..." */
static void name_suite(char *text)
{
	static const char fdpath[] = "/proc/self/fd/3";
	char *p;

	while (text && (p = strstr(text, fdpath))) {
		memcpy(p, "suite", 5);
		memmove(p + 5, p + sizeof(fdpath) - 1, strlen(p + sizeof(fdpath) - 1) + 1);
	}
}

static enum MHD_Result play_answer(struct http_req *q, int status, int timed_out,
				   struct capture *out, struct capture *err)
{
	if (timed_out)
		return http_reply_error(q->c, 504, "the suite ran longer than %d s: killed",
					PLAY_TIMEOUT_S);
	/* nslab test: 0 all passed, 1 some failed; either way the report says it all */
	if (WIFEXITED(status) && WEXITSTATUS(status) <= 1 && out->len)
		return http_reply(q->c, 200, "application/json", out->buf, out->len);
	name_suite(err->buf);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		return http_reply_error(q->c, 400, "%s",
					err->len ? err->buf : "the suite is not valid");
	return http_reply_error(q->c, 500, "nslab test failed (status %d): %s", status,
				err->len ? err->buf : "no message");
}

enum MHD_Result api_playground(struct http_req *q)
{
	struct capture out = { .fd = -1, .max = PLAY_OUT_MAX },
		       errc = { .fd = -1, .max = PLAY_ERR_MAX };
	nslab_error err = { 0 };
	enum MHD_Result ret;
	int status = 0, timed_out;
	pid_t pid = -1;

	if (q->body_len == 0)
		return http_reply_error(q->c, 400,
					"POST a suite (nslab test's format) as the body");
	if (pthread_mutex_trylock(&q->h->play_mu) != 0)
		return http_reply_error(q->c, 503, "the playground is busy with another suite");
	if (spawn_test(q, &pid, &out.fd, &errc.fd, &err) < 0) {
		pthread_mutex_unlock(&q->h->play_mu);
		return http_reply_err(q->c, &err);
	}
	timed_out = collect(&out, &errc) < 0;
	if (timed_out)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_unlock(&q->h->play_mu);
	ret = play_answer(q, status, timed_out, &out, &errc);
	close(out.fd);
	close(errc.fd);
	free(out.buf);
	free(errc.buf);
	return ret;
}
