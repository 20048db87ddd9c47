/* SPDX-License-Identifier: MIT */
/*
 * jail/inject: changing a running process from outside, with ptrace, for the
 * dynamic updates of a sandbox (nslab_sandbox_deny_syscalls(),
 * nslab_sandbox_drop_cap()). A process can only restrict itself (seccomp
 * filters, capability sets are per thread), so each thread concerned is
 * stopped and made to call the kernel itself.
 *
 * DOC: making a stopped thread call the kernel (x86_64)
 * 1. PTRACE_SEIZE, PTRACE_INTERRUPT, wait for the PTRACE_EVENT_STOP. The thread
 *    now sits in the kernel's signal path on its way back to user space. If it
 *    was blocked in a system call, that call returned -ERESTARTSYS (or a
 *    sibling) and the kernel has not rewound it yet: it does so in this very
 *    path, after the stop, when no signal handler is to run.
 * 2. Save its registers and the stack below its red zone, write the call's
 *    data there, point rip at a `syscall` instruction (the one it came from,
 *    else one in the vDSO), set rax, the arguments, and orig_rax = -1 so that
 *    the kernel rewinds nothing of ours.
 * 3. PTRACE_SYSCALL to the call's entry, again to its exit; rax is the result.
 * 4. Put memory and registers back, then PTRACE_INTERRUPT and PTRACE_CONT: the
 *    thread takes the signal path again and stops as in 1, with its own
 *    registers, and is detached from there: the kernel then finishes what it
 *    was doing, as if never stopped: it rewinds and restarts the interrupted
 *    call, or delivers a signal that arrived meanwhile with the restart rules
 *    of its handler (SA_RESTART or not). CRIU's compel rewinds by hand
 *    instead, which restarts a call that such a signal should have ended.
 *    (Detaching straight from the exit stop happens to work too: detaching
 *    kicks the thread through the signal path, __ptrace_unlink(). Going back
 *    to the stop it was seized in does not depend on that.)
 * A signal that arrives before our call is entered (a signal-delivery-stop in
 * 3) is not swallowed: registers and memory go back, the signal is delivered as
 * if untraced, and the injection starts again from 1.
 *
 * The caller must not wait for any child (waitpid(-1)) in another thread
 * meanwhile: it would take our tracee's stops.
 */
#include "jail/jail.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/ptrace.h>
#include <linux/seccomp.h>

#include "shared/macro.h"

#if defined(__x86_64__)

#define RED_ZONE      128 /* the System V x86_64 ABI's, below rsp, which leaf code uses */
#define SCRATCH_MAX   (16 + BPF_MAXINSNS * 8)
#define INJECT_TRIES  64 /* signals that arrive before the call; each restarts it */
#define USER64_CS     0x33
#define SYSCALL_BYTES "\x0f\x05"

struct thread {
	pid_t tid;
	struct user_regs_struct regs; /* at its stop, as the kernel will resume it */
};

struct threads {
	struct thread *t;
	size_t n;
};

/* --- stops ----------------------------------------------------------------- */

/* The next stop of tid in *ret_status; -ESRCH once it is gone. */
static int wait_stop(pid_t tid, int *ret_status)
{
	int st;
	pid_t r;

	do
		r = waitpid(tid, &st, __WALL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (!WIFSTOPPED(st))
		return -ESRCH; /* exited or killed */
	*ret_status = st;
	return 0;
}

static bool is_event_stop(int st)
{
	return (st >> 16) == PTRACE_EVENT_STOP;
}

static bool is_syscall_stop(int st)
{
	return (st >> 16) == 0 && WSTOPSIG(st) == (SIGTRAP | 0x80);
}

/*
 * Wait for the PTRACE_EVENT_STOP that PTRACE_INTERRUPT asked for. A signal
 * that comes first is delivered as if untraced, then the stop is asked again.
 */
static int wait_interrupted(struct thread *t)
{
	int st, r;

	for (;;) {
		r = wait_stop(t->tid, &st);
		if (r < 0)
			return r;
		if (is_event_stop(st))
			break;
		if (ptrace(PTRACE_CONT, t->tid, 0, is_syscall_stop(st) ? 0 : WSTOPSIG(st)) < 0 ||
		    ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0)
			return -errno;
	}
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) < 0)
		return -errno;
	return 0;
}

static int seize(struct thread *t)
{
	if (ptrace(PTRACE_SEIZE, t->tid, 0, PTRACE_O_TRACESYSGOOD) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0) {
		int r = -errno;

		(void)ptrace(PTRACE_DETACH, t->tid, 0, 0);
		return r;
	}
	return wait_interrupted(t);
}

/* Step 4 of the DOC block: back to the stop of step 1, then let go. */
static int release(struct thread *t)
{
	int r = 0;

	if (ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0 ||
	    ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0 || ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
		r = -errno;
	if (r >= 0)
		r = wait_interrupted(t);
	if (ptrace(PTRACE_DETACH, t->tid, 0, 0) < 0 && r >= 0)
		r = -errno;
	return r == -ESRCH ? 0 : r; /* gone meanwhile: nothing left to restore */
}

/* --- the tracee's memory --------------------------------------------------- */

static int mem_io(pid_t tid, uint64_t addr, void *buf, size_t len, bool write)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = write ? process_vm_writev(tid, &local, 1, &remote, 1, 0)
			  : process_vm_readv(tid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* A `syscall` instruction in the process's vDSO, found by its bytes. */
static int vdso_syscall(pid_t tid, uint64_t *ret)
{
	_cleanup_free_ unsigned char *img = NULL;
	char path[64], line[256];
	unsigned long lo = 0, hi = 0;
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
	(void)fclose(f);
	if (hi <= lo || hi - lo > (1u << 20))
		return -ENOENT;
	img = malloc(hi - lo);
	if (!img)
		return -ENOMEM;
	r = mem_io(tid, lo, img, hi - lo, false);
	if (r < 0)
		return r;
	for (size_t i = 0; i + 1 < hi - lo; i++)
		if (memcmp(img + i, SYSCALL_BYTES, 2) == 0) {
			*ret = lo + i;
			return 0;
		}
	return -ENOENT;
}

/* Where the thread can make a 64-bit system call: rip - 2 if it came from one, else the vDSO. */
static int syscall_insn(const struct thread *t, uint64_t *ret)
{
	unsigned char b[2];

	if ((int64_t)t->regs.orig_rax >= 0 && mem_io(t->tid, t->regs.rip - 2, b, 2, false) == 0 &&
	    memcmp(b, SYSCALL_BYTES, 2) == 0) {
		*ret = t->regs.rip - 2;
		return 0;
	}
	return vdso_syscall(t->tid, ret);
}

/* The address the call's data goes to: below the red zone, 16-byte aligned. */
static uint64_t scratch_addr(const struct thread *t, size_t len)
{
	return (t->regs.rsp - RED_ZONE - len) & ~(uint64_t)15;
}

/* --- one call ---------------------------------------------------------------- */

struct call {
	long nr;
	uint64_t arg[6];
	const void *data; /* written at scratch_addr(t, len) first */
	size_t len;
};

/*
 * A signal-delivery-stop came before the call was entered: put registers and
 * memory back, deliver the signal, and wait for the thread to stop again.
 * Return: -EAGAIN (try again), or -errno.
 */
static int undo_for_signal(struct thread *t, int st, uint64_t addr, const unsigned char *saved,
			   size_t len)
{
	int sig = is_event_stop(st) ? 0 : WSTOPSIG(st);
	int r;

	if (ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0)
		return -errno;
	if (len && (r = mem_io(t->tid, addr, (void *)saved, len, true)) < 0)
		return r;
	if (ptrace(PTRACE_CONT, t->tid, 0, sig) < 0 || ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0)
		return -errno;
	r = wait_interrupted(t);
	return r < 0 ? r : -EAGAIN;
}

/*
 * Run the call in the stopped thread (step 2 and 3). -EAGAIN: a signal came
 * first; it was delivered and the thread is stopped again, ready for a retry.
 */
static int call_once(struct thread *t, const struct call *c, uint64_t ip, unsigned char *saved,
		     long *ret)
{
	struct user_regs_struct regs = t->regs;
	uint64_t addr = scratch_addr(t, c->len);
	int st, r = 0;

	regs.rip = ip;
	regs.rax = (uint64_t)c->nr;
	regs.orig_rax = (uint64_t)-1;
	regs.rdi = c->arg[0];
	regs.rsi = c->arg[1];
	regs.rdx = c->arg[2];
	regs.r10 = c->arg[3];
	regs.r8 = c->arg[4];
	regs.r9 = c->arg[5];
	if (c->len && ((r = mem_io(t->tid, addr, saved, c->len, false)) < 0 ||
		       (r = mem_io(t->tid, addr, (void *)c->data, c->len, true)) < 0))
		return r;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 ||
	    ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
		r = -errno;
	if (r >= 0)
		r = wait_stop(t->tid, &st);
	if (r >= 0 && !is_syscall_stop(st))
		return undo_for_signal(t, st, addr, saved, c->len);
	/* at the entry; the exit follows */
	if (r >= 0 && ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
		r = -errno;
	if (r >= 0)
		r = wait_stop(t->tid, &st);
	if (r >= 0 && !is_syscall_stop(st))
		r = -EPROTO;
	if (r >= 0 && ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
		r = -errno;
	if (r >= 0)
		*ret = (long)regs.rax;
	if (c->len && r != -ESRCH)
		(void)mem_io(t->tid, addr, saved, c->len, true);
	return r;
}

/* Make the stopped thread t call the kernel; *ret is what the call returned (-errno on failure). */
static int remote_call(struct thread *t, const struct call *c, long *ret)
{
	_cleanup_free_ unsigned char *saved = c->len ? malloc(c->len) : NULL;
	uint64_t ip;
	int r = -EAGAIN;

	if (c->len && !saved)
		return -ENOMEM;
	if (t->regs.cs != USER64_CS)
		return -EOPNOTSUPP; /* running 32-bit code: no `syscall` to borrow */
	for (int i = 0; r == -EAGAIN && i < INJECT_TRIES; i++) {
		r = syscall_insn(t, &ip);
		if (r >= 0)
			r = call_once(t, c, ip, saved, ret);
	}
	return r == -EAGAIN ? -EINTR : r;
}

/* --- threads ---------------------------------------------------------------- */

static bool has_thread(const struct threads *ts, pid_t tid)
{
	for (size_t i = 0; i < ts->n; i++)
		if (ts->t[i].tid == tid)
			return true;
	return false;
}

/*
 * A thread that has exited but not been reaped (a leader gone through
 * pthread_exit() stays so until the last thread ends) never stops: skip it.
 */
static bool is_dead(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *paren, state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (paren = strrchr(buf, ')')) && paren[1] == ' ')
		state = paren[2];
	(void)fclose(f);
	return state == 'Z' || state == 'X' || state == 0;
}

static int add_thread(struct threads *ts, pid_t tid, nslab_error *err)
{
	struct thread *t = realloc(ts->t, (ts->n + 1) * sizeof(*t));
	int r;

	if (!t)
		return nslab_err_set(err, ENOMEM, "thread %d", (int)tid);
	ts->t = t;
	t[ts->n] = (struct thread){ .tid = tid };
	r = seize(&t[ts->n]);
	if (r == -ESRCH)
		return 0; /* it ended: nothing to change there */
	if (r < 0)
		return nslab_err_set(err, -r, "thread %d: stop it with ptrace%s", (int)tid,
				     r == -EPERM ? " (traced already, not ours, or refused by "
						   "kernel.yama.ptrace_scope)"
						 : "");
	ts->n++;
	return 1;
}

/* One pass over /proc/PID/task. Return: how many threads were new, or -errno. */
static int seize_new(pid_t pid, struct threads *ts, size_t max, nslab_error *err)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int r = 0, added = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d && errno == ENOENT)
		return nslab_err_setx(err, ESRCH, "pid %d: no such process", (int)pid);
	if (!d)
		return nslab_err_set(err, errno, "pid %d", (int)pid);
	while (r >= 0 && ts->n < max && (de = readdir(d))) {
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);

		if (tid <= 0 || has_thread(ts, tid) || is_dead(pid, tid))
			continue;
		r = add_thread(ts, tid, err);
		added += r > 0;
	}
	(void)closedir(d);
	return r < 0 ? r : added;
}

static void release_all(struct threads *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		(void)release(&ts->t[i]);
	free(ts->t);
	*ts = (struct threads){ 0 };
}

/*
 * Stop max threads of pid (SIZE_MAX: all). Listed again until a pass finds
 * none new: a thread created by one not yet stopped shows up in the next.
 */
static int seize_threads(pid_t pid, struct threads *ts, size_t max, nslab_error *err)
{
	int r;

	do
		r = seize_new(pid, ts, max, err);
	while (r > 0 && ts->n < max);
	if (r >= 0 && ts->n == 0)
		r = nslab_err_setx(err, ESRCH, "pid %d: no thread left", (int)pid);
	if (r < 0)
		release_all(ts);
	return r < 0 ? r : 0;
}

/* --- seccomp ------------------------------------------------------------------ */

int jail_inject_seccomp(pid_t pid, const struct sock_fprog *prog, nslab_error *err)
{
	struct threads ts = { 0 };
	size_t len =
		sizeof(struct sock_fprog) + (prog ? prog->len : 0) * sizeof(struct sock_filter);
	_cleanup_free_ unsigned char *buf = NULL;
	struct sock_fprog remote;
	long ret = 0;
	int r;

	if (!prog || !prog->filter || !prog->len || len > SCRATCH_MAX)
		return nslab_err_setx(err, EINVAL, "pid %d: a filter of %u instructions", (int)pid,
				      prog ? prog->len : 0);
	buf = malloc(len);
	if (!buf)
		return nslab_err_set(err, ENOMEM, "pid %d: seccomp", (int)pid);
	r = seize_threads(pid, &ts, 1, err); /* TSYNC: one thread installs it for all */
	if (r < 0)
		return nslab_err_prefix(err, r, "seccomp");
	remote = (struct sock_fprog){ prog->len, (void *)(uintptr_t)(scratch_addr(&ts.t[0], len) +
								     sizeof(remote)) };
	memcpy(buf, &remote, sizeof(remote));
	memcpy(buf + sizeof(remote), prog->filter, len - sizeof(remote));
	r = remote_call(&ts.t[0],
			&(struct call){ SYS_seccomp,
					{ SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
					  scratch_addr(&ts.t[0], len) },
					buf,
					len },
			&ret);
	release_all(&ts);
	if (r < 0)
		return nslab_err_set(err, -r, "pid %d: make it call seccomp()", (int)pid);
	if (ret > 0)
		return nslab_err_setx(err, EBUSY,
				      "pid %d: thread %ld has filters of its own, so the new one "
				      "cannot cover every thread (nothing installed)",
				      (int)pid, ret);
	if (ret < 0)
		return nslab_err_set(err, (int)-ret, "pid %d: seccomp()%s", (int)pid,
				     ret == -EACCES ? " (no_new_privs is not set there)" : "");
	return 0;
}

/* --- capabilities ---------------------------------------------------------------- */

/* The thread's effective, permitted and inheritable sets from /proc (it is stopped). */
static int read_capsets(pid_t pid, pid_t tid, uint64_t sets[3])
{
	static const char *const keys[] = { "CapEff:", "CapPrm:", "CapInh:" };
	char path[64], line[128];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		for (int i = 0; i < 3; i++)
			if (strncmp(line, keys[i], 7) == 0 &&
			    sscanf(line + 7, "%" SCNx64, &sets[i]) == 1)
				found |= 1 << i;
	(void)fclose(f);
	return found == 7 ? 0 : -EPROTO;
}

static int call_simple(struct thread *t, long nr, uint64_t a0, uint64_t a1, uint64_t a2, long *ret)
{
	return remote_call(t, &(struct call){ nr, { a0, a1, a2, 0, 0, 0 }, NULL, 0 }, ret);
}

/* capset() in the thread with cap removed from the three sets. */
static int call_capset(pid_t pid, struct thread *t, int cap, long *ret)
{
	struct {
		struct __user_cap_header_struct hdr;
		struct __user_cap_data_struct d[2];
	} buf = { { _LINUX_CAPABILITY_VERSION_3, 0 }, { { 0 } } };
	uint64_t s[3], addr = scratch_addr(t, sizeof(buf));
	int r = read_capsets(pid, t->tid, s);

	if (r < 0)
		return r;
	for (int i = 0; i < 3; i++)
		s[i] &= ~(UINT64_C(1) << cap);
	buf.d[0] =
		(struct __user_cap_data_struct){ (uint32_t)s[0], (uint32_t)s[1], (uint32_t)s[2] };
	buf.d[1] = (struct __user_cap_data_struct){ (uint32_t)(s[0] >> 32), (uint32_t)(s[1] >> 32),
						    (uint32_t)(s[2] >> 32) };
	return remote_call(t,
			   &(struct call){ SYS_capset,
					   { addr, addr + sizeof(buf.hdr), 0, 0, 0, 0 },
					   &buf,
					   sizeof(buf) },
			   ret);
}

/*
 * Ambient first (needs nothing), then the bounding set (needs CAP_SETPCAP,
 * which the capset may take away: EPERM without it is fine, the permitted set
 * is what matters under no_new_privs), then the three sets.
 */
static int drop_in_thread(pid_t pid, struct thread *t, int cap, nslab_error *err)
{
	long ret = 0;
	int r = call_simple(t, SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, (uint64_t)cap,
			    &ret);

	if (r >= 0 && ret < 0 && ret != -EINVAL)
		return nslab_err_set(err, (int)-ret, "thread %d: lower %d in the ambient set",
				     (int)t->tid, cap);
	if (r >= 0)
		r = call_simple(t, SYS_prctl, PR_CAPBSET_DROP, (uint64_t)cap, 0, &ret);
	if (r >= 0 && ret < 0 && ret != -EPERM)
		return nslab_err_set(err, (int)-ret, "thread %d: drop %d from the bounding set",
				     (int)t->tid, cap);
	if (r >= 0)
		r = call_capset(pid, t, cap, &ret);
	if (r >= 0 && ret < 0)
		return nslab_err_set(err, (int)-ret, "thread %d: capset()", (int)t->tid);
	if (r < 0 && r != -ESRCH)
		return nslab_err_set(err, -r, "thread %d: make it drop capability %d", (int)t->tid,
				     cap);
	return 0;
}

int jail_inject_drop_cap(pid_t pid, int cap, nslab_error *err)
{
	struct threads ts = { 0 };
	int r;

	if (cap < 0 || cap > 63)
		return nslab_err_setx(err, EINVAL, "capability %d: must be 0..63", cap);
	/* every thread stopped first: none can start another with the old sets meanwhile */
	r = seize_threads(pid, &ts, SIZE_MAX, err);
	for (size_t i = 0; r >= 0 && i < ts.n; i++)
		r = drop_in_thread(pid, &ts.t[i], cap, err);
	release_all(&ts);
	if (r < 0)
		return nslab_err_prefix(err, r, "drop capability %d", cap);
	return 0;
}

#else /* !__x86_64__ */

int jail_inject_seccomp(pid_t pid, const struct sock_fprog *prog, nslab_error *err)
{
	(void)prog;
	return nslab_err_setx(err, EOPNOTSUPP,
			      "pid %d: changing a running sandbox is implemented for x86_64 only",
			      (int)pid);
}

int jail_inject_drop_cap(pid_t pid, int cap, nslab_error *err)
{
	(void)cap;
	return nslab_err_setx(err, EOPNOTSUPP,
			      "pid %d: changing a running sandbox is implemented for x86_64 only",
			      (int)pid);
}

#endif
