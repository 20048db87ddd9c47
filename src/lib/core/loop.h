/* SPDX-License-Identifier: MIT */
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

/**
 * loop_new() - Create an empty event loop (its own CLOEXEC epoll fd)
 * @ret:  on success, the new loop; free with loop_free()
 * @err:  on failure, the cause
 * Return: 0, or -ENOMEM ("allocate event loop") or epoll_create1()'s -errno
 */
int loop_new(struct loop **ret, nslab_error *err);
/**
 * loop_free() - Free every source and the loop
 * @l:  loop, or NULL
 *
 * Closes the fds the loop owns (signal, timer and child sources, and fd sources
 * handed over with loop_source_own_fd()) and restores the thread's signal mask
 * from before the first loop_add_signal(), so call it on the thread that added
 * the signals. Signals still pending are delivered then.
 * Return: NULL
 */
struct loop *loop_free(struct loop *l);
DEFINE_CLEANUP_FUNC(struct loop, loop_free)

/**
 * loop_add_fd() - Watch an fd
 * @l:       loop
 * @fd:      fd to watch; borrowed (the caller keeps it open while it is watched and
 *           closes it) unless handed over with loop_source_own_fd()
 * @events:  epoll events (EPOLLIN...)
 * @cb:      called from loop_run() with the ready events; @data is its argument
 * @ret:     on success, the source (owned by the loop, for loop_remove()); may be NULL
 * @err:     on failure, the cause
 * Return: 0, or -ENOMEM, or epoll_ctl()'s -errno ("epoll_ctl(ADD, fd N)"); @fd stays open
 */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *data,
		struct loop_source **ret, nslab_error *err);
/**
 * loop_add_signal() - Deliver a signal through a signalfd
 * @l:      loop
 * @signo:  signal; blocked in the *calling thread* (until loop_free()), so call this
 *          before starting other threads or block it in them too, or they take it
 * @cb:     called from loop_run() per signal received; @data is its argument
 * @ret:    on success, the source (owned by the loop); may be NULL
 * @err:    on failure, the cause
 *
 * The signal stays blocked even if a later step fails, until loop_free().
 * Return: 0, or -errno from pthread_sigmask() ("block signal N"), signalfd() or
 * epoll_ctl(), or -ENOMEM
 */
int loop_add_signal(struct loop *l, int signo, loop_signal_cb cb, void *data,
		    struct loop_source **ret, nslab_error *err);
/**
 * loop_add_timer() - One-shot timer (CLOCK_MONOTONIC)
 * @l:     loop
 * @usec:  delay in microseconds; 0 fires at the next loop_run() round
 * @cb:    called once from loop_run(); @data is its argument
 * @ret:   on success, the source (owned by the loop); may be NULL
 * @err:   on failure, the cause
 *
 * Once the timer fires the source is removed and freed after that dispatch round:
 * a saved *@ret must not be passed to loop_remove() after its callback ran.
 * Return: 0, or -errno from timerfd_create()/timerfd_settime()/epoll_ctl(), or -ENOMEM
 */
int loop_add_timer(struct loop *l, uint64_t usec, loop_timer_cb cb, void *data,
		   struct loop_source **ret, nslab_error *err);
/**
 * loop_add_child() - Watch a child process by pidfd and reap it when it exits
 * @l:      loop
 * @pidfd:  pidfd of a child of this process; taken: the loop closes it, also on failure
 * @pid:    its pid, passed back to @cb
 * @cb:     called once, after waitid(P_PIDFD) reaped the child; @data is its argument
 * @ret:    on success, the source (owned by the loop); may be NULL
 * @err:    on failure, the cause
 *
 * As with timers, the source is freed after the round its callback ran in.
 * Return: 0, or -ENOMEM or epoll_ctl()'s -errno
 */
int loop_add_child(struct loop *l, int pidfd, pid_t pid, loop_child_cb cb, void *data,
		   struct loop_source **ret, nslab_error *err);
/**
 * loop_source_own_fd() - Hand a loop_add_fd() source's fd over to the loop
 * @s:  source
 *
 * The loop then closes the fd when the source is freed (loop_remove(), loop_free()).
 */
void loop_source_own_fd(struct loop_source *s);
/**
 * loop_remove() - Stop watching a source and free it
 * @l:  loop
 * @s:  source, or NULL; invalid afterwards
 *
 * Safe from inside any callback, its own included: the source then stops
 * dispatching at once and is freed at the end of the round.
 */
void loop_remove(struct loop *l, struct loop_source *s);

/**
 * loop_run() - Dispatch events until loop_quit() or a callback fails
 * @l:    loop
 * @err:  on failure, the cause; a callback that failed without setting it
 *        gets "event loop callback failed" with its code
 * Return: the code given to loop_quit() (>= 0 if the caller keeps to that),
 * the first negative callback result, or epoll_wait()'s -errno (EINTR is retried)
 */
int loop_run(struct loop *l, nslab_error *err);
/**
 * loop_quit() - Make loop_run() return after the current callback
 * @l:     loop
 * @code:  what loop_run() returns; the rest of the round is not dispatched
 */
void loop_quit(struct loop *l, int code);
