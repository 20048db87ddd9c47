/* SPDX-License-Identifier: MIT */
/*
 * jail/handle: a running sandbox's handle (nslab/sandbox.h): its pid and
 * pidfd, the events, the wait and its result (accounting, what ended it),
 * kill and free.
 */
#include "jail/core.h"
#include "jail/egress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ns/userns.h"
#include "shared/macro.h"

pid_t nslab_sandbox_pid(const nslab_sandbox *s)
{
	return s->cmd_pid;
}

int nslab_sandbox_pidfd(const nslab_sandbox *s)
{
	return s->init_pidfd;
}

static void emit(nslab_sandbox *s, enum nslab_sandbox_event_kind kind,
		 enum nslab_sandbox_limit limit, const struct nslab_sandbox_result *res)
{
	struct nslab_sandbox_event ev = {
		.kind = kind, .pid = s->cmd_pid, .limit = limit, .result = res
	};

	if (s->plan->event_fn)
		s->plan->event_fn(&ev, s->plan->event_data);
}

static uint64_t tv_usec(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000ull + (uint64_t)tv.tv_usec;
}

static void result_fill(nslab_sandbox *s, const struct jail_msg *rep, const struct rusage *ru)
{
	struct nslab_sandbox_result *res = &s->res;
	int st = rep ? rep->status : SIGKILL;

	*res = (struct nslab_sandbox_result){ .status = st };
	res->ended_by = rep ? (enum nslab_sandbox_limit)rep->ended_by : NSLAB_SANDBOX_LIMIT_NONE;
	res->exit_code = res->ended_by == NSLAB_SANDBOX_LIMIT_TIMEOUT ? 124
			 : WIFEXITED(st)			      ? WEXITSTATUS(st)
			 : WIFSIGNALED(st)			      ? 128 + WTERMSIG(st)
								      : 125;
	res->limits_reached = s->reached | (rep ? rep->reached : 0) |
			      jail_limits_cgroup_reached(&s->plan->limits);
	memcpy(res->mechanism, s->mech, sizeof(res->mechanism));
	res->wall_usec = rep ? rep->wall_usec : (jail_mono_ns() - s->t0) / 1000;
	if (rep)
		ru = &rep->ru;
	res->user_usec = tv_usec(ru->ru_utime);
	res->sys_usec = tv_usec(ru->ru_stime);
	res->maxrss_kib = (uint64_t)ru->ru_maxrss;
	res->minflt = (uint64_t)ru->ru_minflt;
	res->majflt = (uint64_t)ru->ru_majflt;
	res->nvcsw = (uint64_t)ru->ru_nvcsw;
	res->nivcsw = (uint64_t)ru->ru_nivcsw;
}

/* Read init's messages until its REPORT (or its end), reap it, fill the result. */
/*
 * Init's end first, then its messages: REPORT is queued before init exits
 * and the socket then ends (no process of the sandbox holds init's end past
 * its exec), so the caller wakes once, not for REPORT and again for the exit.
 */
static int sandbox_collect(nslab_sandbox *s, nslab_error *err)
{
	struct jail_msg m, rep;
	struct rusage ru = { 0 };
	bool have_rep = false;
	int r = jail_sandbox_wait_init(s, &ru);

	if (r < 0)
		return nslab_err_set(err, -r, "wait for the sandbox's init");
	while (!have_rep && jail_msg_recv(s->sock, &m, NULL) > 0) {
		if (m.kind == JAIL_MSG_REACHED && m.limit < NSLAB_SANDBOX_LIMIT__COUNT) {
			s->reached |= 1u << m.limit;
			if (m.limit != NSLAB_SANDBOX_LIMIT_TIMEOUT)
				emit(s, NSLAB_SANDBOX_EV_LIMIT_HIT, m.limit, NULL);
		} else if (m.kind == JAIL_MSG_REPORT) {
			rep = m;
			have_rep = true;
		}
	}
	result_fill(s, have_rep ? &rep : NULL, &ru);
	return 0;
}

int nslab_sandbox_wait(nslab_sandbox *s, struct nslab_sandbox_result *res, nslab_error *err)
{
	enum nslab_sandbox_event_kind kind;
	int r;

	if (!s->started_told) {
		s->started_told = true;
		emit(s, NSLAB_SANDBOX_EV_STARTED, NSLAB_SANDBOX_LIMIT_NONE, NULL);
	}
	if (!s->reaped) {
		r = sandbox_collect(s, err);
		if (r < 0)
			return r;
		kind = s->res.ended_by == NSLAB_SANDBOX_LIMIT_TIMEOUT ? NSLAB_SANDBOX_EV_TIMEOUT
		       : WIFSIGNALED(s->res.status)		      ? NSLAB_SANDBOX_EV_SIGNALED
								      : NSLAB_SANDBOX_EV_EXITED;
		emit(s, kind, s->res.ended_by, &s->res);
	}
	if (res)
		*res = s->res;
	return 0;
}

int nslab_sandbox_kill(nslab_sandbox *s, int sig, nslab_error *err)
{
	int fd = sig == SIGKILL ? s->init_pidfd : s->cmd_pidfd;

	if (s->reaped || fd < 0)
		return nslab_err_setx(err, ESRCH, "the sandbox has ended");
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		return nslab_err_set(err, errno, "signal %d to the sandbox", sig);
	return 0;
}

nslab_sandbox *nslab_sandbox_free(nslab_sandbox *s)
{
	if (!s)
		return NULL;
	/* closing the socket tells init its owner left; SIGKILL makes it certain */
	s->sock = close_fd(s->sock);
	jail_sandbox_reap_init(s, SIGKILL);
	/* init (that ran on it) is reaped, and the command on it is gone with init's PID namespace */
	jail_init_stack_put(s->init_stack);
	(void)close_fd(s->init_pidfd);
	(void)close_fd(s->cmd_pidfd);
	(void)close_fd(s->prep_go);
	(void)close_fd(s->prep_ep);
	jail_plan_unref(s->plan);
	/* after the command: the jail's network goes with it */
	nslab_egress_session_free(s->egress);
	free(s);
	return NULL;
}
