/* SPDX-License-Identifier: MIT */
/* Event loop: timers, signals through signalfd, removal within a round, children, signal mask. */
#include "core/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static struct loop *new_loop(void)
{
	nslab_error err = { 0 };
	struct loop *l = NULL;

	if (loop_new(&l, &err) < 0)
		print_error("%s\n", err.msg);
	assert_non_null(l);
	return l;
}

static int run(struct loop *l)
{
	nslab_error err = { 0 };
	int r = loop_run(l, &err);

	if (r < 0)
		print_error("%s\n", err.msg);
	return r;
}

/* A guard so that a broken loop fails the test instead of hanging it. */
static int on_guard(struct loop_source *s, void *data)
{
	(void)s;
	(void)data;
	fail_msg("the loop never got to its end");
	return -ETIMEDOUT;
}

static void add_guard(struct loop *l)
{
	assert_int_equal(loop_add_timer(l, 5 * 1000000, on_guard, NULL, NULL, NULL), 0);
}

struct count {
	struct loop *l;
	int hits;
	int last;
};

static int on_timer(struct loop_source *s, void *data)
{
	struct count *c = data;

	(void)s;
	c->hits++;
	loop_quit(c->l, 7);
	return 0;
}

static void test_timer_fires(void **state)
{
	struct loop *l = new_loop();
	struct count c = { .l = l };

	(void)state;
	add_guard(l);
	assert_int_equal(loop_add_timer(l, 1000, on_timer, &c, NULL, NULL), 0);
	assert_int_equal(run(l), 7); /* loop_quit()'s code */
	assert_int_equal(c.hits, 1);
	loop_free(l);
}

static int on_signal(struct loop_source *s, int signo, void *data)
{
	struct count *c = data;

	(void)s;
	c->hits++;
	c->last = signo;
	loop_quit(c->l, 0);
	return 0;
}

static void test_signal_through_signalfd(void **state)
{
	struct loop *l = new_loop();
	struct count c = { .l = l };

	(void)state;
	add_guard(l);
	assert_int_equal(loop_add_signal(l, SIGUSR1, on_signal, &c, NULL, NULL), 0);
	/* blocked now: raise() leaves it pending for the signalfd instead of killing us */
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(run(l), 0);
	assert_int_equal(c.hits, 1);
	assert_int_equal(c.last, SIGUSR1);
	loop_free(l);
}

/*
 * Two fds readable in the same round: whichever callback runs first removes
 * the other source, which must then never fire. Then the removed pipe is
 * closed and its fd number reused by a new source, which must still work
 * (the deferred free must not EPOLL_CTL_DEL the reused number).
 */
struct pair {
	struct loop *l;
	struct loop_source *src[2];
	int fired[2];
};

static int on_pair(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct pair *p = data;
	int me = s == p->src[0] ? 0 : 1;

	(void)fd;
	(void)events;
	p->fired[me]++;
	loop_remove(p->l, p->src[!me]);
	p->src[!me] = NULL;
	loop_remove(p->l, s);
	p->src[me] = NULL;
	loop_quit(p->l, 0);
	return 0;
}

static int on_reused(struct loop_source *s, int fd, uint32_t events, void *data)
{
	struct count *c = data;

	(void)s;
	(void)fd;
	(void)events;
	c->hits++;
	loop_quit(c->l, 0);
	return 0;
}

static void test_remove_ready_source(void **state)
{
	struct loop *l = new_loop();
	struct pair p = { .l = l };
	struct count c = { .l = l };
	int a[2], b[2], d[2];

	(void)state;
	add_guard(l);
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	assert_int_equal(loop_add_fd(l, a[0], EPOLLIN, on_pair, &p, &p.src[0], NULL), 0);
	assert_int_equal(loop_add_fd(l, b[0], EPOLLIN, on_pair, &p, &p.src[1], NULL), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(run(l), 0);
	assert_int_equal(p.fired[0] + p.fired[1], 1);

	/* Within one round: remove, close the fd, reuse its number, add it again. */
	(void)close(a[0]);
	(void)close(a[1]);
	assert_int_equal(pipe2(d, O_CLOEXEC), 0);
	assert_int_equal(d[0], a[0]); /* lowest free number: the old read end's */
	assert_int_equal(loop_add_fd(l, d[0], EPOLLIN, on_reused, &c, NULL, NULL), 0);
	assert_int_equal(write(d[1], "x", 1), 1);
	assert_int_equal(run(l), 0);
	assert_int_equal(c.hits, 1);
	assert_int_equal(p.fired[0] + p.fired[1], 1); /* the removed sources stayed quiet */
	loop_free(l);
	for (int i = 0; i < 2; i++) {
		(void)close(b[i]);
		(void)close(d[i]);
	}
}

/* The bug case proper: remove, close and re-add within the same dispatch round. */
struct reuse {
	struct loop *l;
	struct loop_source *victim;
	int pipe_fd[2];
	struct count *c;
};

static int on_reuse_trigger(struct loop_source *s, void *data)
{
	struct reuse *r = data;
	int fd = r->pipe_fd[0];

	(void)s;
	loop_remove(r->l, r->victim);
	(void)close(r->pipe_fd[0]);
	(void)close(r->pipe_fd[1]);
	assert_int_equal(pipe2(r->pipe_fd, O_CLOEXEC), 0);
	assert_int_equal(r->pipe_fd[0], fd);
	assert_int_equal(loop_add_fd(r->l, r->pipe_fd[0], EPOLLIN, on_reused, r->c, NULL, NULL), 0);
	assert_int_equal(write(r->pipe_fd[1], "x", 1), 1);
	return 0; /* the round ends here and frees the victim */
}

static int never(struct loop_source *s, int fd, uint32_t events, void *data)
{
	(void)s;
	(void)fd;
	(void)events;
	(void)data;
	fail_msg("a removed source fired");
	return -EINVAL;
}

static void test_reused_fd_in_same_round(void **state)
{
	struct loop *l = new_loop();
	struct count c = { .l = l };
	struct reuse r = { .l = l, .c = &c };

	(void)state;
	add_guard(l);
	assert_int_equal(pipe2(r.pipe_fd, O_CLOEXEC), 0);
	assert_int_equal(loop_add_fd(l, r.pipe_fd[0], EPOLLIN, never, NULL, &r.victim, NULL), 0);
	assert_int_equal(loop_add_timer(l, 0, on_reuse_trigger, &r, NULL, NULL), 0);
	assert_int_equal(run(l), 0);
	assert_int_equal(c.hits, 1); /* the new registration survived the victim's free */
	loop_free(l);
	(void)close(r.pipe_fd[0]);
	(void)close(r.pipe_fd[1]);
}

static int on_child(struct loop_source *s, pid_t pid, int status, void *data)
{
	struct count *c = data;

	(void)s;
	c->hits++;
	c->last = status;
	loop_quit(c->l, (int)pid);
	return 0;
}

static void check_child(void (*child)(void), int want_status)
{
	struct loop *l = new_loop();
	struct count c = { .l = l };
	pid_t pid;
	int pidfd;

	add_guard(l);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child();
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(pidfd >= 0);
	assert_int_equal(loop_add_child(l, pidfd, pid, on_child, &c, NULL, NULL), 0);
	assert_int_equal(run(l), pid);
	assert_int_equal(c.hits, 1);
	assert_int_equal(c.last, want_status);
	/* reaped by the loop */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	loop_free(l);
}

static void exit_3(void)
{
	_exit(3);
}

static void die_by_signal(void)
{
	(void)signal(SIGTERM, SIG_DFL);
	(void)raise(SIGTERM);
	_exit(99);
}

static void test_child_exit_status(void **state)
{
	(void)state;
	check_child(exit_3, W_EXITCODE(3, 0));
	check_child(die_by_signal, SIGTERM); /* WIFSIGNALED, WTERMSIG == SIGTERM */
}

static void test_mask_restored(void **state)
{
	sigset_t before, during, after;
	struct loop *l = new_loop();

	(void)state;
	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &before), 0);
	assert_false(sigismember(&before, SIGUSR2));
	assert_false(sigismember(&before, SIGWINCH));
	assert_int_equal(loop_add_signal(l, SIGUSR2, on_signal, NULL, NULL, NULL), 0);
	assert_int_equal(loop_add_signal(l, SIGWINCH, on_signal, NULL, NULL, NULL), 0);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &during), 0);
	assert_true(sigismember(&during, SIGUSR2));
	assert_true(sigismember(&during, SIGWINCH));
	loop_free(l);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
	for (int sig = 1; sig < SIGRTMIN; sig++)
		assert_int_equal(sigismember(&after, sig), sigismember(&before, sig));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_fires),
		cmocka_unit_test(test_signal_through_signalfd),
		cmocka_unit_test(test_remove_ready_source),
		cmocka_unit_test(test_reused_fd_in_same_round),
		cmocka_unit_test(test_child_exit_status),
		cmocka_unit_test(test_mask_restored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
