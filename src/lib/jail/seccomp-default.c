/* SPDX-License-Identifier: MIT */
/*
 * jail/seccomp-default: the default profile (the table and its rules), the
 * libseccomp context every filter starts from, and its export as classic BPF.
 * Built twice: into the library, and into seccomp-gen, the build's tool that
 * compiles the default profile ahead (seccomp-default-bpf.c): so nothing here
 * calls into the rest of the library but core/dl and core/error.
 */
#include "jail/seccomp-profile.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "jail/seccomp-dl.h"
#include "shared/macro.h"

/*
 * DOC: the default profile
 * What container runtimes refuse (Docker's default list), as data: the call,
 * when it is refused, and why (`nslab run --dry-run` prints the table).
 *
 * Deliberately not in it:
 * - mount, umount2, pivot_root and the new mount API (open_tree, move_mount,
 *   fsopen, fsconfig, fsmount, fspick, mount_setattr): the command holds no
 *   capability in the sandbox's user namespace, so the kernel refuses them on
 *   every mount the sandbox did not create itself, while a nested sandbox
 *   (`nslab run` inside `nslab run`, which the issue requires) must mount its
 *   own root in the namespaces it creates. Refusing them here would forbid
 *   nesting without protecting anything the kernel does not.
 * - New user namespaces (clone, unshare with CLONE_NEWUSER, and other
 *   namespaces created together with one): nesting again. Other namespace
 *   flags alone and setns() are refused.
 */
enum deny_when {
	WHEN_ALWAYS,
	WHEN_NS_ALONE,	 /* namespace flags without CLONE_NEWUSER in the same call */
	WHEN_PERSONA,	 /* personas that weaken what the programs it runs get */
	WHEN_TTY_INJECT, /* ioctl TIOCSTI, TIOCLINUX */
	WHEN_ENOSYS,	 /* always, with ENOSYS instead of the violation action */
};

static const char *const when_text[] = {
	[WHEN_ALWAYS] = "always",
	[WHEN_NS_ALONE] = "namespace flags without CLONE_NEWUSER",
	[WHEN_PERSONA] =
		"READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, ADDR_COMPAT_LAYOUT or MMAP_PAGE_ZERO",
	[WHEN_TTY_INJECT] = "TIOCSTI, TIOCLINUX",
	[WHEN_ENOSYS] = "always, with ENOSYS",
};

#define WHY_MODULE "loads or unloads kernel code"
#define WHY_KEXEC  "replaces the running kernel"
#define WHY_OLD	   "obsolete, no program needs it"
#define WHY_KEYS   "the kernel keyrings are not namespaced"
#define WHY_CLOCK  "the system clock is not namespaced"
#define WHY_URING  "io_uring makes system calls that seccomp never sees"
#define WHY_PEER   "reaches into another process (ptrace access)"
#define WHY_NS	   "new namespaces only with a new user namespace (nested sandboxes)"

/* X(name, when, why) */
#define DEFAULT_PROFILE(X)                                                                      \
	X(kexec_load, ALWAYS, WHY_KEXEC)                                                        \
	X(kexec_file_load, ALWAYS, WHY_KEXEC)                                                   \
	X(init_module, ALWAYS, WHY_MODULE)                                                      \
	X(finit_module, ALWAYS, WHY_MODULE)                                                     \
	X(delete_module, ALWAYS, WHY_MODULE)                                                    \
	X(create_module, ALWAYS, WHY_MODULE)                                                    \
	X(get_kernel_syms, ALWAYS, WHY_OLD)                                                     \
	X(query_module, ALWAYS, WHY_OLD)                                                        \
	X(bpf, ALWAYS, "loads programs into the kernel, a frequent exploit path")               \
	X(perf_event_open, ALWAYS, "observes the kernel and other processes")                   \
	X(userfaultfd, ALWAYS, "stalls kernel accesses at will, a building block of exploits")  \
	X(io_uring_setup, ALWAYS, WHY_URING)                                                    \
	X(io_uring_enter, ALWAYS, WHY_URING)                                                    \
	X(io_uring_register, ALWAYS, WHY_URING)                                                 \
	X(keyctl, ALWAYS, WHY_KEYS)                                                             \
	X(add_key, ALWAYS, WHY_KEYS)                                                            \
	X(request_key, ALWAYS, WHY_KEYS)                                                        \
	X(ptrace, ALWAYS,                                                                       \
	  "a traced process would keep nslab's dynamic updates out (one tracer per process)")   \
	X(process_vm_readv, ALWAYS, WHY_PEER)                                                   \
	X(process_vm_writev, ALWAYS, WHY_PEER)                                                  \
	X(kcmp, ALWAYS, WHY_PEER)                                                               \
	X(pidfd_getfd, ALWAYS, WHY_PEER)                                                        \
	X(setns, ALWAYS, "joins namespaces held by descriptors, possibly the host's")           \
	X(unshare, NS_ALONE, WHY_NS)                                                            \
	X(clone, NS_ALONE, WHY_NS)                                                              \
	X(clone3, ENOSYS,                                                                       \
	  "its flags are in memory, out of seccomp's reach: libc falls back to clone")          \
	X(swapon, ALWAYS, "host swap")                                                          \
	X(swapoff, ALWAYS, "host swap")                                                         \
	X(reboot, ALWAYS, "restarts the host, or ends the PID namespace")                       \
	X(settimeofday, ALWAYS, WHY_CLOCK)                                                      \
	X(clock_settime, ALWAYS, WHY_CLOCK)                                                     \
	X(adjtimex, ALWAYS, WHY_CLOCK)                                                          \
	X(clock_adjtime, ALWAYS, WHY_CLOCK)                                                     \
	X(stime, ALWAYS, WHY_CLOCK)                                                             \
	X(acct, ALWAYS, "host process accounting")                                              \
	X(lookup_dcookie, ALWAYS, "kernel profiling")                                           \
	X(name_to_handle_at, ALWAYS, "file handles reach around the mount namespace")           \
	X(open_by_handle_at, ALWAYS, "file handles reach around the mount namespace")           \
	X(quotactl, ALWAYS, "host disk quotas")                                                 \
	X(quotactl_fd, ALWAYS, "host disk quotas")                                              \
	X(iopl, ALWAYS, "direct hardware I/O")                                                  \
	X(ioperm, ALWAYS, "direct hardware I/O")                                                \
	X(personality, PERSONA, "weakens address space randomisation for the programs it runs") \
	X(vm86, ALWAYS, WHY_OLD)                                                                \
	X(vm86old, ALWAYS, WHY_OLD)                                                             \
	X(nfsservctl, ALWAYS, WHY_OLD)                                                          \
	X(uselib, ALWAYS, WHY_OLD)                                                              \
	X(ustat, ALWAYS, WHY_OLD)                                                               \
	X(sysfs, ALWAYS, WHY_OLD)                                                               \
	X(_sysctl, ALWAYS, WHY_OLD)                                                             \
	X(syslog, ALWAYS, "reads and clears the host's kernel log")                             \
	X(ioctl, TTY_INJECT, "types into the terminal, whose reader may be outside the sandbox")

#define ENTRY(name, when, why) { #name, WHEN_##when, why },
static const struct {
	const char *name;
	enum deny_when when;
	const char *why;
} default_rules[] = { DEFAULT_PROFILE(ENTRY) };
#undef ENTRY

#define NAME(name, when, why) #name,
static const char *const default_names[] = { DEFAULT_PROFILE(NAME) };
#undef NAME

size_t jail_seccomp_default_names(const char *const **ret)
{
	*ret = default_names;
	return ARRAY_SIZE(default_names);
}

int jail_seccomp_default_entry(size_t i, struct jail_seccomp_entry *ret)
{
	if (i >= ARRAY_SIZE(default_rules))
		return -ENOENT;
	*ret = (struct jail_seccomp_entry){ default_rules[i].name, when_text[default_rules[i].when],
					    default_rules[i].why };
	return 0;
}

/* --- the libseccomp context --------------------------------------------- */

/* The 32-bit relatives of the native architecture, which its kernel also runs. */
size_t scp_native_family(uint32_t *ret, size_t max)
{
	static const struct {
		uint32_t native, sub[2];
	} families[] = {
		{ SCMP_ARCH_X86_64, { SCMP_ARCH_X86, SCMP_ARCH_X32 } },
		{ SCMP_ARCH_AARCH64, { SCMP_ARCH_ARM, 0 } },
	};
	uint32_t native = dl_scmp.seccomp_arch_native();
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		for (size_t j = 0; families[i].native == native && j < 2 && n < max; j++)
			if (families[i].sub[j])
				ret[n++] = families[i].sub[j];
	return n;
}

int scp_ctx_new(uint32_t def, const uint32_t *arches, size_t n_arches, scmp_filter_ctx *ret,
		nslab_error *err)
{
	scmp_filter_ctx ctx = dl_scmp.seccomp_init(def);
	int r;

	if (!ctx)
		return nslab_err_setx(err, ENOMEM, "seccomp: libseccomp context");
	r = dl_scmp.seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* a binary tree of system call numbers: long allow lists stay cheap per call */
	if (r >= 0)
		r = dl_scmp.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t i = 0; r >= 0 && i < n_arches; i++) {
		r = dl_scmp.seccomp_arch_add(ctx, arches[i]);
		if (r == -EEXIST)
			r = 0;
	}
	if (r < 0) {
		dl_scmp.seccomp_release(ctx);
		return nslab_err_set(err, -r, "seccomp: libseccomp context");
	}
	*ret = ctx;
	return 0;
}

/* ctx as classic BPF, through a memfd (libseccomp 2.5 exports only to an fd). */
int scp_export_bpf(scmp_filter_ctx ctx, struct sock_fprog *ret, nslab_error *err)
{
	_cleanup_close_ int fd = memfd_create("nslab-seccomp", MFD_CLOEXEC);
	struct sock_filter *insns;
	off_t size;
	int r;

	if (fd < 0)
		return nslab_err_set(err, errno, "seccomp: memfd");
	r = dl_scmp.seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return nslab_err_set(err, -r, "seccomp: export the filter");
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(*insns) || size / sizeof(*insns) > BPF_MAXINSNS)
		return nslab_err_setx(err, E2BIG,
				      "seccomp: the filter has %lld bytes (at most %d "
				      "instructions of %zu)",
				      (long long)size, BPF_MAXINSNS, sizeof(*insns));
	insns = malloc(size);
	if (!insns)
		return nslab_err_set(err, ENOMEM, "seccomp: filter");
	if (pread(fd, insns, size, 0) != size) {
		free(insns);
		return nslab_err_set(err, errno ? errno : EIO, "seccomp: read the filter back");
	}
	*ret = (struct sock_fprog){ .len = (unsigned short)(size / sizeof(*insns)),
				    .filter = insns };
	return 0;
}

/* --- the default profile's rules ---------------------------------------- */

static int rule_add(scmp_filter_ctx ctx, uint32_t act, int nr, unsigned n,
		    const struct scmp_arg_cmp *cmp)
{
	return dl_scmp.seccomp_rule_add_array(ctx, act, nr, n, cmp);
}

/* Namespace flag f refused unless CLONE_NEWUSER is in the same call. */
static int add_ns_rules(scmp_filter_ctx ctx, uint32_t act, int nr, bool is_unshare)
{
	static const uint64_t flags[] = { CLONE_NEWNS,	CLONE_NEWCGROUP, CLONE_NEWUTS,
					  CLONE_NEWIPC, CLONE_NEWPID,	 CLONE_NEWNET };
	int r = 0;

	/* only 32 bits count: the kernel reads the flags as an int (clone) or checks them */
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(flags); i++) {
		struct scmp_arg_cmp c =
			SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i] | CLONE_NEWUSER, flags[i]);
		r = rule_add(ctx, act, nr, 1, &c);
	}
	/* clone's low byte is the exit signal, where CLONE_NEWTIME's bit lies */
	if (r >= 0 && is_unshare) {
		struct scmp_arg_cmp c =
			SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWTIME | CLONE_NEWUSER, CLONE_NEWTIME);
		r = rule_add(ctx, act, nr, 1, &c);
	}
	return r;
}

/*
 * personality(): the flags the kernel itself clears for setuid programs
 * (PER_CLEAR_ON_SETID) are refused; the query 0xffffffff and the harmless
 * personas (PER_LINUX, PER_LINUX32, UNAME26) stay. The kernel reads the
 * persona as 32 bits; no persona uses bit 31, which sets apart the query.
 * libseccomp cannot AND two tests of one argument, hence one rule per bit:
 * an unsafe flag with bit 31 clear, or bit 31 with any other bit clear.
 */
static int add_persona_rules(scmp_filter_ctx ctx, uint32_t act, int nr)
{
	static const uint32_t unsafe[] = { READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, ADDR_COMPAT_LAYOUT,
					   MMAP_PAGE_ZERO };
	const uint64_t top = UINT32_C(1) << 31;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(unsafe); i++) {
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, unsafe[i] | top, unsafe[i]);
		r = rule_add(ctx, act, nr, 1, &c);
	}
	for (unsigned bit = 0; r >= 0 && bit < 31; bit++) {
		struct scmp_arg_cmp c =
			SCMP_A0(SCMP_CMP_MASKED_EQ, top | (UINT64_C(1) << bit), top);
		r = rule_add(ctx, act, nr, 1, &c);
	}
	return r;
}

/* ioctl's request is an unsigned int: the upper 32 bits of the register are ignored. */
static int add_tty_rules(scmp_filter_ctx ctx, uint32_t act, int nr)
{
	static const uint64_t requests[] = { TIOCSTI, TIOCLINUX };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(requests); i++) {
		struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, UINT32_MAX, requests[i]);
		r = rule_add(ctx, act, nr, 1, &c);
	}
	return r;
}

static int add_default_rule(scmp_filter_ctx ctx, uint32_t act, size_t i, nslab_error *err)
{
	const char *name = default_rules[i].name;
	int nr = dl_scmp.seccomp_syscall_resolve_name(name);
	int r;

	/* fail closed: a libseccomp too old to know a call cannot build the profile */
	if (nr == __NR_SCMP_ERROR)
		return nslab_err_setx(err, ENOSYS, "seccomp: libseccomp does not know '%s'", name);
	switch (default_rules[i].when) {
	case WHEN_NS_ALONE:
		r = add_ns_rules(ctx, act, nr, strcmp(name, "unshare") == 0);
		break;
	case WHEN_PERSONA:
		r = add_persona_rules(ctx, act, nr);
		break;
	case WHEN_TTY_INJECT:
		r = add_tty_rules(ctx, act, nr);
		break;
	case WHEN_ENOSYS:
		r = rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0, NULL);
		break;
	case WHEN_ALWAYS:
	default:
		r = rule_add(ctx, act, nr, 0, NULL);
		break;
	}
	if (r < 0)
		return nslab_err_set(err, -r, "seccomp: default rule for '%s'", name);
	return 0;
}

uint32_t scp_violation_action(enum nslab_sandbox_violation v)
{
	return v == NSLAB_SANDBOX_VIOLATION_KILL ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM);
}

int scp_default_build(enum nslab_sandbox_violation v, struct sock_fprog *ret, nslab_error *err)
{
	uint32_t arches[4];
	scmp_filter_ctx ctx;
	size_t n;
	int r = dl_scmp_load(err);

	if (r < 0)
		return r;
	n = scp_native_family(arches, ARRAY_SIZE(arches));
	r = scp_ctx_new(SCMP_ACT_ALLOW, arches, n, &ctx, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(default_rules); i++)
		r = add_default_rule(ctx, scp_violation_action(v), i, err);
	if (r >= 0)
		r = scp_export_bpf(ctx, ret, err);
	dl_scmp.seccomp_release(ctx);
	return r;
}
