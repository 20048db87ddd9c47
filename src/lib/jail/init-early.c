/* SPDX-License-Identifier: MIT */
/*
 * jail/init-early: a run's command, forked by init before anything else
 * (the DOC below); init.c's init_setup() and jail_init_start_command() call it.
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
 * DOC: the command forked early (a run's usual path)
 * init clones the command first, before anything else it does (only every
 * signal blocked and its death tied to the parent's come before), sharing
 * its memory (CLONE_VM, a stack of its own, no CLONE_VFORK: both run). The
 * command makes the network namespace at once (what init-net.c's helper
 * does otherwise; its user namespace's capabilities are there from the
 * clone, the ids need no map for it): it is the start's longest step (about
 * 0.3 ms, the kernel's setup_net()), and everything init does before it
 * would delay it. The command sends init an fd of it, then waits for a
 * first byte on its GO socket: the maps are written. Meanwhile init resets
 * the caller's signal dispositions (the command resets the same ones: it
 * was forked with them, every signal blocked), waits for or writes the
 * maps, sets the host name and builds the root. The command then takes its
 * session, stdio, rlimits, ids and signal mask, drops its capabilities and
 * installs the default seccomp filter, and waits for GO. Before the sysfs
 * step init joins the network namespace (setns() on the fd: on the
 * command's pidfd it would take ptrace access, which the command's new ids
 * may have withdrawn) and brings its loopback up (about 50 us, IPv6's
 * addrconf: beside the command's setup and filter, about as long); once
 * the root is built it writes GO, and the command enters its working
 * directory (not before: a tmpfs of the new root may cover it), installs a
 * profile file's filter (which might refuse the waiting) and execs. The
 * command is pid 2 with no ns_last_pid reset, and its setup never waits
 * for the root. Not with a pool (its command is forked after the root,
 * init-pool.c), a cgroup (CLONE_INTO_CGROUP takes clone3()) or
 * AddressSanitizer (no stack switch): those fork the command after the
 * root (cmd_clone()). The other splits tried are in docs/performance.md.
 * init, its root built, waits for the namespace's fd polling at first
 * (jail_spin_readable()): this VM's idle CPUs halt at once, and waking init
 * on one cost about 45 us on the start's path (35 us less a start in a row
 * of 300; the command's wait for GO gained nothing from the same).
 *
 * Both run at once on one thread's TLS, so errno is shared: before GO the
 * command makes no call that fails in the normal course (its bounding set is
 * dropped up to the kernel's last capability, known from the plan; no close
 * of -1) and reads errno only after a real failure, so init's own checks of
 * errno (ENOENT probes of the root's build) never see one of the command's.
 */
bool jail_early_possible(const struct init *in)
{
#ifdef JAIL_ASAN
	(void)in;
	return false;
#else
	return in->argv && in->p->limits.cgroup_fd < 0;
#endif
}

static int early_trampoline(void *arg)
{
	const struct init *in = arg;

	for (int i = 0; i < 4; i++)
		if (in->early_args.close[i] >= 0) /* no failing call: errno is shared (DOC) */
			(void)close(in->early_args.close[i]);
	jail_cmd_early(in->p, in->argv, in->early_args.ep, in->early_args.go, in->early_args.net,
		       &in->sig_used);
}

/* Clone the command with its pipes: exec report, GO and (net_late) network made. */
void jail_early_fork(struct init *in)
{
	int ep[2], go[2], net[2] = { -1, -1 };
	nslab_error e = { 0 };

	/* GO on a socket: send(MSG_NOSIGNAL) to a command that died is EPIPE, not SIGPIPE */
	if (pipe2(ep, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, go) < 0 ||
	    (in->p->net_late && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, net) < 0))
		child_err(&e, errno, "pipe2 or socketpair", NULL), jail_init_fail(in, &e, false);
	in->early_args.ep = ep[1];
	in->early_args.go = go[0];
	in->early_args.net = net[1];
	in->early_args.close[0] = ep[0];
	in->early_args.close[1] = go[1];
	in->early_args.close[2] = net[0];
	in->early_args.close[3] = in->sock;
	/* sharing the caller's memory, its stack is the caller's to unmap, whatever init's end */
	in->early_stack = in->cmd_stack ? in->cmd_stack : jail_stack_map(JAIL_CMD_STACK_SIZE);
	if (in->early_stack == MAP_FAILED)
		child_err(&e, errno, "map the command's stack", NULL),
			jail_init_fail(in, &e, false);
	in->t0 = now_ns();
	in->cmd = clone(early_trampoline, in->early_stack + JAIL_CMD_STACK_SIZE,
			CLONE_VM | CLONE_PIDFD | SIGCHLD, in, &in->early_pidfd);
	if (in->cmd < 0)
		child_err(&e, errno, "start the command", NULL), jail_init_fail(in, &e, false);
	(void)close(ep[1]);
	(void)close(go[0]);
	(void)close_fd(net[1]);
	in->early_ep = ep[0];
	in->early_go = go[1];
	in->early_net = net[0];
}

/* jail_fs_enter_hooked()'s hook: the command's network namespace, once made, joined. */
int jail_early_net_join(void *data, nslab_error *err)
{
	struct init *in = data;
	struct jail_msg m;
	int fd = -1, r, code = 0;

	jail_spin_readable(in->early_net);
	r = jail_msg_recv(in->early_net, &m, &fd);
	in->early_net = close_fd(in->early_net);
	if (r > 0 && fd < 0) {
		/* the message came without its fd (EMFILE here): the command, alive, waits for GO */
		(void)syscall(SYS_pidfd_send_signal, in->early_pidfd, SIGKILL, NULL, 0);
		child_err(err, EMFILE, "the command's network namespace: no fd received", NULL);
		return -EMFILE;
	}
	if (r <= 0 || fd < 0) { /* the command failed: its report says why */
		(void)close_fd(fd);
		if (read(in->early_ep, err, sizeof(*err)) != (ssize_t)sizeof(*err))
			child_err(err, EIO, "the command's network namespace", NULL);
		err->msg[sizeof(err->msg) - 1] = '\0';
		return -(err->code > 0 ? err->code : EIO);
	}
	if (setns(fd, CLONE_NEWNET) < 0)
		code = errno;
	(void)close(fd);
	if (code) {
		child_err(err, code, "join the sandbox's network namespace", NULL);
		return -code;
	}
	/*
	 * loopback up here, not in the command: it costs about 50 us (IPv6's
	 * addrconf), and the command's setup and filter after the namespace are
	 * the start's longest path, while init, its root built, has the time; the
	 * command execs after GO, so it never sees lo down
	 */
	if (jail_loopback_up() < 0) {
		code = errno;
		child_err(err, code, "bring loopback up", NULL);
		return -code;
	}
	return 0;
}

/* A byte to the command forked early; if it ended instead, its report says why. */
static void early_send(struct init *in, char byte)
{
	nslab_error e = { 0 };

	if (send(in->early_go, &byte, 1, MSG_NOSIGNAL) == 1)
		return;
	if (read(in->early_ep, &e, sizeof(e)) != (ssize_t)sizeof(e))
		child_err(&e, ECHILD, "the command ended before its start", NULL);
	e.msg[sizeof(e.msg) - 1] = '\0';
	jail_init_fail(in, &e, true);
}

/*
 * The maps are written: the command may take its ids (the first byte on its
 * GO socket, which says whether it clears its groups).
 */
void jail_early_maps_written(struct init *in)
{
	early_send(in, in->set_groups ? JAIL_EARLY_SET_GROUPS : '\0');
}

/* The command forked early: GO, then its exec report (or why it ended before GO). */
void jail_early_go(struct init *in, int *ret_pidfd)
{
	early_send(in, '\0');
	in->early_go = close_fd(in->early_go);
	jail_init_await_exec(in, in->early_ep);
	in->early_ep = -1;
	if (!in->cmd_stack)
		(void)munmap(in->early_stack, JAIL_CMD_STACK_SIZE);
	in->early_stack = NULL;
	*ret_pidfd = TAKE_FD(in->early_pidfd);
}
