/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/loop: a small epoll loop over fds, timers (timerfd), signals (signalfd)
 * and child processes (pidfd). Single-threaded; callbacks run in loop_run().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "nslab/error.h"
#include "shared/macro.h"

struct loop;
struct loop_source;

/* Return < 0 from a callback to stop the loop with that error (loop_run returns it). */
typedef int (*loop_fd_cb)(struct loop_source *s, int fd, uint32_t events, void *data);
typedef int (*loop_signal_cb)(struct loop_source *s, int signo, void *data);
typedef int (*loop_timer_cb)(struct loop_source *s, void *data);
/* status is a waitpid()-style status; the child is reaped before the call. */
typedef int (*loop_child_cb)(struct loop_source *s, pid_t pid, int status, void *data);

int loop_new(struct loop **ret, nslab_error *err);
/*
 * Free every source (closing the fds the loop owns) and the loop, and restore
 * the thread's signal mask from before the first loop_add_signal(). Return: NULL.
 */
struct loop *loop_free(struct loop *l);
DEFINE_CLEANUP_FUNC(struct loop, loop_free)

/* Watch fd (not owned) for events (EPOLLIN...). */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *data,
		struct loop_source **ret, nslab_error *err);
/* Block signo in the calling thread (until loop_free()) and deliver it through a signalfd. */
int loop_add_signal(struct loop *l, int signo, loop_signal_cb cb, void *data,
		    struct loop_source **ret, nslab_error *err);
/* One-shot timer after usec microseconds (CLOCK_MONOTONIC). */
int loop_add_timer(struct loop *l, uint64_t usec, loop_timer_cb cb, void *data,
		   struct loop_source **ret, nslab_error *err);
/* Watch a child by pidfd (the loop takes ownership of pidfd); reaps it with waitid(P_PIDFD). */
int loop_add_child(struct loop *l, int pidfd, pid_t pid, loop_child_cb cb, void *data,
		   struct loop_source **ret, nslab_error *err);
/* Hand fd ownership to the loop: it closes the fd when the source goes. */
void loop_source_own_fd(struct loop_source *s);
/* Remove and free a source (safe from inside its own callback). */
void loop_remove(struct loop *l, struct loop_source *s);

/* Run until loop_quit() or a callback fails. Return: the quit code (>= 0) or the error. */
int loop_run(struct loop *l, nslab_error *err);
void loop_quit(struct loop *l, int code);
