/* SPDX-License-Identifier: MIT */
/*
 * jail/init-watch: how init watches the limits it cannot leave to the kernel
 * alone: samples of its PID namespace's processes (or the cgroup's counters),
 * and the timers (timeout, sampling). See init.c's DOC: what init watches.
 */
#include "jail/init.h"

#include "jail/core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/signals.h"

/* One process of the sandbox: /proc/PID/stat (and VmPeak when memory is limited). */
void jail_sample_one(struct init *in, const char *pid, struct sample *s)
{
	char path[32], buf[1536];
	const char *f;
	uint64_t sid;

	memcpy(path, pid, strlen(pid));
	memcpy(path + strlen(pid), "/stat", 6);
	if (read_at(in->procfd, path, buf, sizeof(buf)) <= 0 || !(f = strrchr(buf, ')')))
		return;
	f++;
	skip_fields(&f, 3); /* state ppid pgrp */
	sid = parse_u64(&f);
	if (!in->p->pidns && sid != (uint64_t)in->cmd)
		return;
	skip_fields(&f, 6); /* tty_nr tpgid flags minflt cminflt majflt */
	skip_fields(&f, 1); /* cmajflt */
	for (int i = 0; i < 4; i++)
		s->cpu_ticks += parse_u64(&f); /* utime stime cutime cstime */
	skip_fields(&f, 2);		       /* priority nice */
	s->tasks += parse_u64(&f);
	if (!in->limit[NSLAB_SANDBOX_LIMIT_MEMORY])
		return;
	memcpy(path + strlen(pid), "/status", 8);
	if (read_at(in->procfd, path, buf, sizeof(buf)) > 0 && (f = strstr(buf, "VmPeak:"))) {
		f += 7;
		uint64_t kib = parse_u64(&f);

		if (kib * 1024 > s->vm_peak)
			s->vm_peak = kib * 1024;
	}
}

/* Walk the sandbox's /proc (getdents64: readdir() may allocate). */
void jail_sample_walk(struct init *in, struct sample *s)
{
	char buf[4096];
	long n;

	if (in->procfd < 0 || lseek(in->procfd, 0, SEEK_SET) < 0)
		return;
	while ((n = syscall(SYS_getdents64, in->procfd, buf, sizeof(buf))) > 0)
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			off += d->d_reclen;
			if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
			    (in->p->pidns && strcmp(d->d_name, "1") == 0))
				continue;
			jail_sample_one(in, d->d_name, s);
		}
}

static void sample_pids(struct init *in, const struct sample *s)
{
	uint64_t max = in->limit[NSLAB_SANDBOX_LIMIT_PIDS], now = now_ns();

	if (!max || in->p->limits.mech[NSLAB_SANDBOX_LIMIT_PIDS] == NSLAB_SANDBOX_MECH_CGROUP)
		return;
	if (s->tasks < max) {
		in->pids_since = 0;
		return;
	}
	jail_init_reach(in, NSLAB_SANDBOX_LIMIT_PIDS);
	if (!in->pids_since)
		in->pids_since = now;
	if (s->tasks > max || now - in->pids_since >= JAIL_PIDS_GRACE_MS * 1000000ull)
		jail_init_end(in, NSLAB_SANDBOX_LIMIT_PIDS);
}

/* The cgroup's counters: a pids limit that stays reached ends it too. */
static void sample_cgroup(struct init *in, uint64_t *cpu_usec)
{
	uint32_t bits = jail_limits_cgroup_reached(&in->p->limits);
	uint64_t now = now_ns();

	(void)jail_limits_cgroup_cpu_usec(&in->p->limits, cpu_usec);
	if (bits & (1u << NSLAB_SANDBOX_LIMIT_MEMORY))
		jail_init_reach(in, NSLAB_SANDBOX_LIMIT_MEMORY);
	if (!(bits & (1u << NSLAB_SANDBOX_LIMIT_PIDS)))
		return;
	if (!(in->reached & (1u << NSLAB_SANDBOX_LIMIT_PIDS)))
		in->pids_since = now;
	jail_init_reach(in, NSLAB_SANDBOX_LIMIT_PIDS);
	if (now - in->pids_since >= JAIL_PIDS_GRACE_MS * 1000000ull)
		jail_init_end(in, NSLAB_SANDBOX_LIMIT_PIDS);
}

void jail_init_sample(struct init *in)
{
	uint64_t mem = in->limit[NSLAB_SANDBOX_LIMIT_MEMORY],
		 cpu = in->limit[NSLAB_SANDBOX_LIMIT_CPU];
	struct sample s = { 0 };
	uint64_t cpu_usec = 0;
	struct rusage ru;

	if (in->p->limits.cgroup_fd >= 0)
		sample_cgroup(in, &cpu_usec);
	if (in->p->limits.mech[NSLAB_SANDBOX_LIMIT_PIDS] != NSLAB_SANDBOX_MECH_CGROUP ||
	    in->p->limits.mech[NSLAB_SANDBOX_LIMIT_MEMORY] != NSLAB_SANDBOX_MECH_CGROUP ||
	    in->p->limits.mech[NSLAB_SANDBOX_LIMIT_CPU] != NSLAB_SANDBOX_MECH_CGROUP)
		jail_sample_walk(in, &s);
	if (mem && s.vm_peak >= mem / JAIL_MEM_NEAR_DEN * JAIL_MEM_NEAR_NUM)
		jail_init_reach(in, NSLAB_SANDBOX_LIMIT_MEMORY);
	sample_pids(in, &s);
	if (in->p->limits.mech[NSLAB_SANDBOX_LIMIT_CPU] != NSLAB_SANDBOX_MECH_CGROUP &&
	    getrusage(RUSAGE_CHILDREN, &ru) == 0)
		cpu_usec = s.cpu_ticks * 1000000ull / (uint64_t)in->p->clk_tck +
			   (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
			   (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	if (cpu && cpu_usec >= cpu * 1000000ull)
		jail_init_end(in, NSLAB_SANDBOX_LIMIT_CPU);
}

static int timer_arm(int *fd, uint64_t first_ns, uint64_t every_ns, bool absolute)
{
	struct itimerspec its = {
		.it_value = { (time_t)(first_ns / 1000000000ull),
			      (long)(first_ns % 1000000000ull) },
		.it_interval = { (time_t)(every_ns / 1000000000ull),
				 (long)(every_ns % 1000000000ull) },
	};

	if (*fd < 0)
		*fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*fd < 0)
		return -1;
	if (!first_ns)
		its.it_value.tv_nsec = 1; /* at once (0 would disarm) */
	return timerfd_settime(*fd, absolute ? TFD_TIMER_ABSTIME : 0, &its, NULL);
}

void jail_init_timers(struct init *in)
{
	uint64_t timeout = in->limit[NSLAB_SANDBOX_LIMIT_TIMEOUT];

	if (timeout)
		(void)timer_arm(&in->tfd_timeout, in->t0 + timeout * 1000000ull, 0, true);
	if (in->tfd_sample < 0 &&
	    (in->limit[NSLAB_SANDBOX_LIMIT_MEMORY] || in->limit[NSLAB_SANDBOX_LIMIT_CPU] ||
	     in->limit[NSLAB_SANDBOX_LIMIT_PIDS]))
		(void)timer_arm(&in->tfd_sample, JAIL_SAMPLE_MS * 1000000ull,
				JAIL_SAMPLE_MS * 1000000ull, false);
}
