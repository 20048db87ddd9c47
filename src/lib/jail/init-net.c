/* SPDX-License-Identifier: MIT */
/*
 * jail/init-net: the sandbox's network namespace, made by a helper of init
 * beside the root's build, and joined before the sysfs step.
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
 * DOC: the network namespace, made beside the root (plan_net_late())
 * clone3() without CLONE_NEWNET; init clones a helper that shares its memory
 * and file table (CLONE_VM | CLONE_FILES, a stack of its own), which unshares
 * a network namespace (owned by the sandbox's user namespace), brings its
 * loopback up and hands back an fd of it (SIOCGSKNS: no /proc, which init is
 * replacing meanwhile), while init builds the root. Right before the sysfs
 * step (sysfs shows the mounter's network namespace), init reaps the helper
 * and joins the namespace with setns(); the command still gets pid 2
 * (jail_reset_last_pid()). Under AddressSanitizer (which does
 * not follow a stack switch) init does the same itself, in turn.
 */
#define NET_STACK_SIZE (64u << 10)

int jail_net_make(nslab_error *err)
{
	int s, fd;

	if (unshare(CLONE_NEWNET) < 0) {
		child_err(err, errno, "unshare(CLONE_NEWNET)", NULL);
		return -1;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	fd = s < 0 ? -1 : ioctl(s, SIOCGSKNS);
	if (fd < 0)
		child_err(err, errno, "open the network namespace", NULL);
	(void)close_fd(s);
	return fd;
}

static int net_make(void *arg)
{
	struct net_helper *h = arg;
	int s;

	h->what = "unshare(CLONE_NEWNET)";
	if (unshare(CLONE_NEWNET) < 0)
		return h->err = errno, 1;
	h->what = "bring loopback up";
	if (jail_loopback_up() < 0)
		return h->err = errno, 1;
	h->what = "open the network namespace";
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	h->fd = s < 0 ? -1 : ioctl(s, SIOCGSKNS);
	if (h->fd < 0)
		h->err = errno;
	(void)close_fd(s);
	return h->err ? 1 : 0;
}

void jail_net_start(struct net_helper *h)
{
	*h = (struct net_helper){ .fd = -1 };
#ifndef JAIL_ASAN
	h->stack = mmap(NULL, NET_STACK_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (h->stack != MAP_FAILED)
		h->pid = clone(net_make, h->stack + NET_STACK_SIZE, CLONE_VM | CLONE_FILES, h);
	if (h->pid > 0)
		return;
	if (h->stack != MAP_FAILED)
		(void)munmap(h->stack, NET_STACK_SIZE);
	h->pid = 0;
#endif
}

/* jail_fs_enter_hooked()'s hook: the helper's namespace joined (or made now). */
int jail_net_join(void *data, nslab_error *err)
{
	struct net_helper *h = data;
	int status, code;

	if (h->pid > 0) {
		while (waitpid(h->pid, &status, __WALL) < 0 && errno == EINTR)
			;
		(void)munmap(h->stack, NET_STACK_SIZE);
		h->pid = 0;
	} else if (h->fd < 0 && !h->err) {
		(void)net_make(h); /* no helper: in turn */
	}
	if (h->err) {
		child_err(err, h->err, h->what, NULL);
		return -h->err;
	}
	code = setns(h->fd, CLONE_NEWNET) < 0 ? errno : 0;
	h->fd = close_fd(h->fd);
	if (code) {
		child_err(err, code, "join the sandbox's network namespace", NULL);
		return -code;
	}
	return 0;
}

/*
 * The helper took pid 2 of the sandbox's PID namespace: the next pid is 2
 * again (ns_last_pid, CRIU's way; init holds CAP_SYS_ADMIN over the namespace),
 * so that the command is pid 2 as it is without a helper. Best effort: a
 * command at pid 3 is no failure.
 */
void jail_reset_last_pid(int procfd)
{
	int fd = procfd < 0 ? -1 : openat(procfd, "sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);

	if (fd >= 0)
		(void)!write(fd, "1", 1);
	(void)close_fd(fd);
}
