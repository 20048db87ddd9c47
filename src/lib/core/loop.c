/* SPDX-License-Identifier: MIT */
/*
 * core/loop: every source is an fd in one epoll set. Removal from inside a
 * callback only marks the source; it is freed after the dispatch round, so a
 * callback may remove any source, itself included.
 */
#include "core/loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

enum source_type { SRC_FD, SRC_SIGNAL, SRC_TIMER, SRC_CHILD };

struct loop_source {
	enum source_type type;
	int fd;
	bool owned; /* the loop closes fd */
	bool dead;
	union {
		loop_fd_cb fd;
		loop_signal_cb sig;
		loop_timer_cb timer;
		loop_child_cb child;
	} cb;
	void *data;
	int signo;
	pid_t pid;
	struct loop_source *next;
};

struct loop {
	int epfd;
	struct loop_source *sources;
	bool quit;
	int quit_code;
	bool dispatching;
	bool mask_saved;
	sigset_t saved_mask; /* the thread's mask before loop_add_signal() first blocked */
};

static void loop_free_dead_sources(struct loop *l);

int loop_new(struct loop **ret, nslab_error *err)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return nslab_err_set(err, ENOMEM, "allocate event loop");
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = nslab_err_set(err, errno, "epoll_create1");

		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void source_free(struct loop *l, struct loop_source *s)
{
	/*
	 * A dead source left the epoll set in loop_remove(). Its fd number may
	 * since have been closed and reused (it is not ours unless owned):
	 * another DEL now would remove the new fd's registration.
	 */
	if (!s->dead)
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->owned)
		(void)close(s->fd);
	free(s);
}

struct loop *loop_free(struct loop *l)
{
	if (!l)
		return NULL;
	while (l->sources) {
		struct loop_source *s = l->sources;

		l->sources = s->next;
		source_free(l, s);
	}
	(void)close(l->epfd);
	/* Signals still pending are delivered now, as if the loop had never blocked them */
	if (l->mask_saved)
		(void)pthread_sigmask(SIG_SETMASK, &l->saved_mask, NULL);
	free(l);
	return NULL;
}

static int loop_add(struct loop *l, struct loop_source *s, uint32_t events, nslab_error *err)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
		int r = nslab_err_set(err, errno, "epoll_ctl(ADD, fd %d)", s->fd);

		if (s->owned)
			(void)close(s->fd);
		free(s);
		return r;
	}
	s->next = l->sources;
	l->sources = s;
	return 0;
}

static struct loop_source *source_new(enum source_type type, int fd, bool owned, void *data)
{
	struct loop_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->type = type;
	s->fd = fd;
	s->owned = owned;
	s->data = data;
	return s;
}

static int source_done(struct loop_source *s, struct loop_source **ret)
{
	if (ret)
		*ret = s;
	return 0;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *data,
		struct loop_source **ret, nslab_error *err)
{
	struct loop_source *s = source_new(SRC_FD, fd, false, data);
	int r;

	if (!s)
		return nslab_err_set(err, ENOMEM, "add fd to loop");
	s->cb.fd = cb;
	r = loop_add(l, s, events, err);
	return r < 0 ? r : source_done(s, ret);
}

int loop_add_signal(struct loop *l, int signo, loop_signal_cb cb, void *data,
		    struct loop_source **ret, nslab_error *err)
{
	struct loop_source *s;
	sigset_t mask;
	int fd, r;

	sigemptyset(&mask);
	sigaddset(&mask, signo);
	/* pthread_sigmask() returns the error rather than setting errno */
	r = pthread_sigmask(SIG_BLOCK, &mask, l->mask_saved ? NULL : &l->saved_mask);
	if (r != 0)
		return nslab_err_set(err, r, "block signal %d", signo);
	l->mask_saved = true;
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return nslab_err_set(err, errno, "signalfd(%d)", signo);
	s = source_new(SRC_SIGNAL, fd, true, data);
	if (!s) {
		(void)close(fd);
		return nslab_err_set(err, ENOMEM, "add signal to loop");
	}
	s->cb.sig = cb;
	s->signo = signo;
	r = loop_add(l, s, EPOLLIN, err);
	return r < 0 ? r : source_done(s, ret);
}

int loop_add_timer(struct loop *l, uint64_t usec, loop_timer_cb cb, void *data,
		   struct loop_source **ret, nslab_error *err)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(usec / 1000000),
						.tv_nsec = (long)(usec % 1000000) * 1000 } };
	struct loop_source *s;
	int fd, r;

	if (usec == 0)
		its.it_value.tv_nsec = 1; /* zero would disarm the timer */
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return nslab_err_set(err, errno, "timerfd_create");
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		r = nslab_err_set(err, errno, "timerfd_settime");
		(void)close(fd);
		return r;
	}
	s = source_new(SRC_TIMER, fd, true, data);
	if (!s) {
		(void)close(fd);
		return nslab_err_set(err, ENOMEM, "add timer to loop");
	}
	s->cb.timer = cb;
	r = loop_add(l, s, EPOLLIN, err);
	return r < 0 ? r : source_done(s, ret);
}

int loop_add_child(struct loop *l, int pidfd, pid_t pid, loop_child_cb cb, void *data,
		   struct loop_source **ret, nslab_error *err)
{
	struct loop_source *s = source_new(SRC_CHILD, pidfd, true, data);
	int r;

	if (!s) {
		(void)close(pidfd);
		return nslab_err_set(err, ENOMEM, "add child to loop");
	}
	s->cb.child = cb;
	s->pid = pid;
	r = loop_add(l, s, EPOLLIN, err);
	return r < 0 ? r : source_done(s, ret);
}

void loop_source_own_fd(struct loop_source *s)
{
	s->owned = true;
}

void loop_remove(struct loop *l, struct loop_source *s)
{
	if (!s)
		return;
	s->dead = true;
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (!l->dispatching)
		loop_free_dead_sources(l);
}

static void loop_free_dead_sources(struct loop *l)
{
	struct loop_source **pp = &l->sources;

	while (*pp) {
		struct loop_source *s = *pp;

		if (s->dead) {
			*pp = s->next;
			source_free(l, s);
		} else {
			pp = &s->next;
		}
	}
}

static int dispatch_signal(struct loop_source *s)
{
	struct signalfd_siginfo si;

	if (read(s->fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0; /* spurious wake-up */
	return s->cb.sig(s, (int)si.ssi_signo, s->data);
}

static int dispatch_timer(struct loop *l, struct loop_source *s)
{
	uint64_t expirations;

	if (read(s->fd, &expirations, sizeof(expirations)) != (ssize_t)sizeof(expirations))
		return 0;
	loop_remove(l, s); /* one-shot */
	return s->cb.timer(s, s->data);
}

static int dispatch_child(struct loop *l, struct loop_source *s)
{
	siginfo_t si = { 0 };
	int status;

	if (waitid(P_PIDFD, (id_t)s->fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return 0;
	status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status & 0x7f;
	loop_remove(l, s);
	return s->cb.child(s, s->pid, status, s->data);
}

static int dispatch(struct loop *l, struct loop_source *s, uint32_t events)
{
	if (s->dead)
		return 0;
	switch (s->type) {
	case SRC_FD:
		return s->cb.fd(s, s->fd, events, s->data);
	case SRC_SIGNAL:
		return dispatch_signal(s);
	case SRC_TIMER:
		return dispatch_timer(l, s);
	case SRC_CHILD:
		return dispatch_child(l, s);
	}
	return 0;
}

int loop_run(struct loop *l, nslab_error *err)
{
	struct epoll_event evs[32];

	l->quit = false;
	while (!l->quit) {
		int n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return nslab_err_set(err, errno, "epoll_wait");
		}
		l->dispatching = true;
		for (int i = 0; i < n && !l->quit; i++) {
			int r = dispatch(l, evs[i].data.ptr, evs[i].events);

			if (r < 0) {
				l->dispatching = false;
				loop_free_dead_sources(l);
				if (err && !err->code)
					return nslab_err_setx(err, -r,
							      "event loop callback failed");
				return r;
			}
		}
		l->dispatching = false;
		loop_free_dead_sources(l);
	}
	return l->quit_code;
}

void loop_quit(struct loop *l, int code)
{
	l->quit = true;
	l->quit_code = code;
}
