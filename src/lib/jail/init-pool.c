/* SPDX-License-Identifier: MIT */
/*
 * jail/init-pool: init's side of a pool sandbox: the command forked ahead,
 * READY, and the start (from the caller directly, or through RUN).
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

/*
 * DOC: the pool's command, prepared ahead
 * A pool sandbox forks its command before it says READY: the child does
 * everything of jail_cmd_setup() (session, stdio, cwd, rlimits, ids, signals,
 * capabilities) and, with the default profile, installs its seccomp filter
 * (it refuses nothing the waiting needs; a profile file's might), then waits
 * on a socket. READY hands the caller that socket, the command's exec pipe
 * and its pidfd. A start from the pool is then the caller writing argv (its
 * length, then the blob) to the command, which tells init it starts (a byte
 * on a pipe: init's clock and timers start there), installs a profile file's
 * filter and execs, while the caller reads the exec pipe (end of file: it
 * exec'd). Init is not on the way, and no round trip through it: two wakeups
 * (the command, the caller) and the exec. An argv larger than the command's
 * area (JAIL_PREP_ARGV_MAX, blob and array) goes to init in RUN instead, which
 * kills the prepared command and starts one as without a pool.
 */
struct prepared {
	pid_t pid;	  /* 0: none */
	int pidfd, start; /* start: read end of its "I start" pipe */
	int go, ep;	  /* the caller's ends (READY hands them over): argv socket, exec pipe */
	char *area; /* its argv area, mapped before the fork (RLIMIT_AS may refuse one later) */
};

static bool read_all(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* Where the argv array goes in the area: after the blob, aligned. */
static uint64_t prep_array_at(const char *blob)
{
	const char *s = blob;
	uint64_t argc = parse_u64(&s), len;

	s += strlen(s) + 1;
	for (uint64_t i = 0; i < argc; i++)
		s += strlen(s) + 1;
	len = (uint64_t)(s - blob);
	return (len + sizeof(char *) - 1) / sizeof(char *) * sizeof(char *);
}

static _Noreturn void prep_child(const struct init *in, int go, int ep, int start, char *area)
{
	const struct jail_plan *p = in->p;
	nslab_error e = { 0 };
	uint64_t len;

	jail_cmd_setup(p, in->set_groups, ep);
	/* installing a filter took ~0.1 ms (perf trace): ahead, when it cannot hurt */
	if (p->seccomp_default && jail_seccomp_install(&p->seccomp, &e) < 0)
		jail_cmd_fail(ep, &e);
	if (!read_all(go, &len, sizeof(len)) || len >= JAIL_PREP_ARGV_MAX ||
	    !read_all(go, area, len))
		_exit(0); /* the sandbox is going away without a command */
	area[len] = '\0';
	if (!jail_prep_fits(len, jail_blob_argc(area)))
		child_err(&e, E2BIG, "the command's arguments", NULL), jail_cmd_fail(ep, &e);
	(void)!write(start, "", 1);
	jail_cmd_exec(p, jail_argv_of_blob(area, (char **)(void *)(area + prep_array_at(area))), ep,
		      p->seccomp_default);
}

static void prep_close(struct prepared *pr)
{
	pr->pidfd = close_fd(pr->pidfd);
	pr->start = close_fd(pr->start);
	pr->go = close_fd(pr->go);
	pr->ep = close_fd(pr->ep);
	if (pr->area && pr->area != MAP_FAILED)
		(void)munmap(pr->area, JAIL_PREP_ARGV_MAX);
	pr->area = NULL;
}

/* Fork the command ahead (pool). A failure leaves pr->pid 0: RUN then starts one as usual. */
static void prep_start(struct init *in, struct prepared *pr)
{
	struct clone_args ca = { .flags = CLONE_PIDFD,
				 .pidfd = (uint64_t)(uintptr_t)&pr->pidfd,
				 .exit_signal = SIGCHLD };
	int go[2] = { -1, -1 }, ep[2] = { -1, -1 }, start[2] = { -1, -1 };
	pid_t pid = -1;

	*pr = (struct prepared){ .pidfd = -1, .start = -1, .go = -1, .ep = -1 };
	pr->area = mmap(NULL, JAIL_PREP_ARGV_MAX, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pr->area != MAP_FAILED && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) == 0 &&
	    pipe2(ep, O_CLOEXEC) == 0 && pipe2(start, O_CLOEXEC) == 0)
		pid = jail_clone(&ca);
	if (pid == 0) {
		(void)close(in->sock);
		(void)close(go[1]);
		(void)close(ep[0]);
		(void)close(start[0]);
		prep_child(in, go[0], ep[1], start[1], pr->area);
	}
	(void)close_fd(go[0]);
	(void)close_fd(ep[1]);
	(void)close_fd(start[1]);
	pr->go = go[1];
	pr->ep = ep[0];
	pr->start = start[0];
	if (pid > 0) {
		pr->pid = pid;
		return;
	}
	prep_close(pr);
}

static void prep_drop(struct prepared *pr)
{
	int status;

	if (pr->pid) {
		(void)kill(pr->pid, SIGKILL);
		while (waitpid(pr->pid, &status, __WALL) < 0 && errno == EINTR)
			;
		pr->pid = 0;
	}
	prep_close(pr);
}

/* Our PID namespace, for the parent's walks of /proc (it cannot read ours once non-dumpable). */
void jail_msg_ns(struct jail_msg *m)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) == 0) {
		m->ns_dev = st.st_dev;
		m->ns_ino = st.st_ino;
	}
}

/* READY, with the prepared command's socket, exec pipe and pidfd for the caller. */
static void prep_ready(struct init *in, struct prepared *pr, struct jail_msg *m)
{
	int fds[3] = { pr->go, pr->ep, pr->pidfd };

	m->kind = JAIL_MSG_READY;
	if (jail_msg_send_fds(in->sock, m, fds, pr->pid ? 3 : 0) < 0)
		_exit(1);
	/* the caller's now: the command sees end of file when the caller closes its copy */
	pr->go = close_fd(pr->go);
	pr->ep = close_fd(pr->ep);
}

/*
 * Pool: prepare the command, say READY, and wait until the prepared command
 * starts (the caller wrote it its argv) or RUN comes (argv too large for it).
 * Return: true for the prepared command (the caller has its pidfd already).
 */
bool jail_init_pool_start(struct init *in, struct jail_msg *m, int *ret_pidfd)
{
	struct prepared pr;
	const char *blob;
	size_t len;

	prep_start(in, &pr);
	prep_ready(in, &pr, m);
	while (pr.start >= 0) {
		struct pollfd pfd[2] = { { .fd = in->sock, .events = POLLIN },
					 { .fd = pr.start, .events = POLLIN } };
		char c;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents)
			break;
		if (read(pr.start, &c, 1) == 1) {
			in->cmd = pr.pid;
			in->t0 = now_ns();
			*ret_pidfd = pr.pidfd;
			pr.pidfd = -1;
			prep_close(&pr);
			return true;
		}
		/* it died before it started: its error is in the caller's exec pipe */
		pr.start = close_fd(pr.start);
	}
	blob = jail_init_recv_blob(in, &len);
	prep_drop(&pr);
	in->argv = jail_argv_of_blob(blob, NULL);
	if (!in->argv) {
		nslab_error e = { 0 };

		child_err(&e, ENOMEM, "map the command", NULL);
		jail_init_fail(in, &e, false);
	}
	jail_init_start_command(in, ret_pidfd);
	return false;
}
