/* SPDX-License-Identifier: MIT */
/*
 * jail/command: the command between fork and exec (core.h's DOC: the start
 * sequence, "command"): session, stdio, working directory, rlimits, ids,
 * signal mask, capabilities, seccomp, then execve() along the sandbox's PATH.
 * A failure is an nslab_error on the exec pipe, and _exit(127).
 * Async-signal-safe only: it runs in a child of init sharing its memory.
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
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/signals.h"

_Noreturn void jail_cmd_fail(int pipe_fd, nslab_error *e)
{
	(void)!write(pipe_fd, e, sizeof(*e));
	_exit(127);
}

static void cmd_stdio(const struct jail_plan *p, int pipe_fd)
{
	int high[3];
	nslab_error e;

	for (int i = 0; i < 3; i++) {
		high[i] = p->stdio[i] >= 0 ? fcntl(p->stdio[i], F_DUPFD_CLOEXEC, 3) : -1;
		if (p->stdio[i] >= 0 && high[i] < 0)
			child_err(&e, errno, "stdio", NULL), jail_cmd_fail(pipe_fd, &e);
	}
	for (int i = 0; i < 3; i++)
		if (high[i] >= 0 && dup2(high[i], i) < 0)
			child_err(&e, errno, "stdio", NULL), jail_cmd_fail(pipe_fd, &e);
}

/*
 * set_groups: clear the supplementary groups. false where the user namespace
 * denies setgroups(2) to everyone (spawn.c's setgroups_denied(): the groups
 * cannot change there, so there is nothing to drop), never tried to fail:
 * a command forked early shares errno with init (init-early.c's DOC).
 */
static void cmd_ids(const struct jail_plan *p, bool set_groups, int pipe_fd)
{
	nslab_error e;

	/*
	 * Raw system calls: glibc's set*id() and setgroups() signal every thread
	 * it believes the process has (the caller's, copied at the clone) to
	 * change their ids too: tgkill() on pids that mean nothing in this PID
	 * namespace, or something else entirely.
	 */
	/* uid 0 -> another uid would empty the capability sets jail_caps_enter() works on */
	if ((getuid() != p->uid || geteuid() != p->uid) && jail_caps_prepare_setuid(&e) < 0)
		jail_cmd_fail(pipe_fd, &e);
	if (set_groups && syscall(SYS_setgroups, 0, NULL) < 0)
		child_err(&e, errno, "setgroups", NULL), jail_cmd_fail(pipe_fd, &e);
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
		child_err(&e, errno, "setresgid", NULL), jail_cmd_fail(pipe_fd, &e);
	if (getuid() == p->uid && geteuid() == p->uid)
		return;
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
		child_err(&e, errno, "setresuid", NULL), jail_cmd_fail(pipe_fd, &e);
}

/*
 * The command's signals: their dispositions are SIG_DFL already (init reset
 * the caller's before it forked the command, init_signals(); the command
 * forked early reset them itself), so only the mask is left to clear.
 */
static void cmd_unblock_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static const char *env_get(char *const envp[], const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; envp[i]; i++)
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
			return envp[i] + len + 1;
	return NULL;
}

/* execvpe() along the *sandbox's* PATH (glibc's looks at the caller's); returns errno. */
/* text added to e's message, cut at its size (no allocation: before exec) */
static void err_append(nslab_error *e, const char *text)
{
	size_t n = strlen(e->msg);

	while (*text && n < sizeof(e->msg) - 1)
		e->msg[n++] = *text++;
	e->msg[n] = '\0';
}

/*
 * An execve() refused with EPERM for a file with capabilities attached: the
 * kernel will not run a "capability-dumb" program whose effective bit asks
 * for capabilities outside the bounding set (capabilities(7)), which the
 * sandbox empties.
 */
static int exec_errno(const char *file, bool *fcaps)
{
	int code = errno;

	if (code == EPERM && getxattr(file, "security.capability", NULL, 0) > 0)
		*fcaps = true;
	return code;
}

static int exec_path(char *const argv[], char *const envp[], bool *fcaps)
{
	const char *path = env_get(envp, "PATH"), *dir, *end;
	size_t flen = strlen(argv[0]);
	bool eacces = false;
	char buf[4096];

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return exec_errno(argv[0], fcaps);
	}
	for (dir = path ? path : "/usr/local/bin:/usr/bin:/bin"; *dir; dir = *end ? end + 1 : end) {
		size_t dlen;

		end = strchrnul(dir, ':');
		dlen = (size_t)(end - dir);
		if (dlen + flen + 2 > sizeof(buf))
			continue;
		memcpy(buf, dlen ? dir : ".", dlen ? dlen : 1);
		dlen = dlen ? dlen : 1;
		buf[dlen] = '/';
		memcpy(buf + dlen + 1, argv[0], flen + 1);
		execve(buf, argv, envp);
		if (errno == EACCES)
			eacces = true;
		else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV)
			return exec_errno(buf, fcaps);
	}
	return eacces ? EACCES : ENOENT;
}

/* The working directory inside, or "/" where it cannot be entered. */
static void cmd_chdir(const struct jail_plan *p, int pipe_fd)
{
	nslab_error e = { 0 };

	if (chdir(p->cwd) < 0 && chdir("/") < 0)
		child_err(&e, errno, "chdir", "/"), jail_cmd_fail(pipe_fd, &e);
}

/* The steps after the working directory: limits, ids, signals, fds, capabilities. */
static void cmd_setup_rest(const struct jail_plan *p, bool set_groups, int pipe_fd)
{
	nslab_error e = { 0 };

	if (jail_limits_apply(&p->limits, &e) < 0)
		jail_cmd_fail(pipe_fd, &e);
	cmd_ids(p, set_groups, pipe_fd);
	cmd_unblock_signals();
	/* only 0, 1, 2 cross exec: nothing of the caller or of init leaks in */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (jail_caps_enter(p->keep_caps, p->ambient, p->cap_last, &e) < 0)
		jail_cmd_fail(pipe_fd, &e);
}

/* Everything before the seccomp filter and exec: what a pool's command does ahead. */
void jail_cmd_setup(const struct jail_plan *p, bool set_groups, int pipe_fd)
{
	nslab_error e = { 0 };

	(void)setsid();
	/* cgroup mode: init stayed outside the sandbox's cgroup; the command roots its own view */
	if (p->cgroupns_late && unshare(CLONE_NEWCGROUP) < 0)
		child_err(&e, errno, "unshare(CLONE_NEWCGROUP)", NULL), jail_cmd_fail(pipe_fd, &e);
	cmd_stdio(p, pipe_fd);
	cmd_chdir(p, pipe_fd);
	cmd_setup_rest(p, set_groups, pipe_fd);
}

/* The next byte on go (end of file or an error: init is gone). */
static char await_byte(int go)
{
	ssize_t n;
	char b;

	do
		n = read(go, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127);
	return b;
}

/*
 * net >= 0: the network namespace, an fd of it sent to init at once (init
 * joins it for /sys, the last step of its root, and brings its loopback up
 * while we go on, then sends GO: sent after our setup, init waited for it and
 * we for its GO in turn, one more wakeup on the way to the exec). An fd, not
 * setns() on our pidfd: that takes ptrace access, gone with our new ids.
 * Closed here, before the stdio step's dup2() could take its number (a
 * caller with 0, 1 or 2 closed).
 */
static void early_net(int net, int pipe_fd)
{
	struct jail_msg m = { .kind = JAIL_MSG_GO };
	nslab_error e = { 0 };
	int fd, r;

	fd = jail_net_make(&e);
	if (fd < 0)
		jail_cmd_fail(pipe_fd, &e);
	/* unsent, init would wait for our report while we wait for its GO */
	r = jail_msg_send(net, &m, fd);
	if (r < 0)
		child_err(&e, -r, "send the network namespace to init", NULL),
			jail_cmd_fail(pipe_fd, &e);
	(void)close(fd);
	(void)close(net);
}

/*
 * The command forked early (init-early.c's DOC): the network namespace when net is
 * a socket, the setup but the working directory, the default filter, then
 * GO, the working directory, a profile file's filter and the exec. The
 * working directory is entered as the command's user, after GO: a tmpfs of
 * the root being built may cover it until then.
 */
_Noreturn void jail_cmd_early(const struct jail_plan *p, char *const argv[], int pipe_fd, int go,
			      int net, const uint64_t *sig_used)
{
	nslab_error e = { 0 };
	bool set_groups;

	if (net >= 0)
		early_net(net, pipe_fd);
	/* forked before the maps: the ids wait for init's first byte, which says setgroups' fate */
	set_groups = await_byte(go) == JAIL_EARLY_SET_GROUPS;
	/* forked with the caller's dispositions, every signal blocked (init.c's init_signals()) */
	signals_reset_mask(*sig_used);
	(void)setsid();
	cmd_stdio(p, pipe_fd);
	cmd_setup_rest(p, set_groups, pipe_fd);
	if (p->seccomp_default && jail_seccomp_install(&p->seccomp, &e) < 0)
		jail_cmd_fail(pipe_fd, &e);
	await_byte(go);
	(void)close(go);
	cmd_chdir(p, pipe_fd);
	jail_cmd_exec(p, argv, pipe_fd, p->seccomp_default);
}

/* The seccomp filter last (a profile may refuse what the steps before need), unless installed. */
_Noreturn void jail_cmd_exec(const struct jail_plan *p, char *const argv[], int pipe_fd,
			     bool filtered)
{
	nslab_error e = { 0 };
	bool fcaps = false;

	if (!filtered && jail_seccomp_install(&p->seccomp, &e) < 0)
		jail_cmd_fail(pipe_fd, &e);
	child_err(&e, exec_path(argv, p->envp, &fcaps), "exec", argv[0]);
	if (fcaps)
		err_append(&e, " (the file has capabilities the sandbox does not keep; "
			       "the kernel runs it only with them: --cap-add them)");
	jail_cmd_fail(pipe_fd, &e);
}

_Noreturn void jail_cmd_main(const struct jail_plan *p, char *const argv[], bool set_groups,
			     int pipe_fd)
{
	jail_cmd_setup(p, set_groups, pipe_fd);
	jail_cmd_exec(p, argv, pipe_fd, false);
}
