/* SPDX-License-Identifier: MIT */
/*
 * jail/seccomp: filters compiled in the parent (the default profile's ahead,
 * at build time), and their installation in the child. The default profile
 * itself is seccomp-default.c's.
 *
 * DOC: compile in the parent, install in the child
 * libseccomp allocates, so it never runs between clone and exec: the parent
 * exports the filter as classic BPF (seccomp_export_bpf() into a memfd, read
 * back into a malloc'd sock_fprog) and the child hands that program to the
 * seccomp() system call after no_new_privs, which caps.c sets.
 *
 * DOC: the default profile, compiled at build time
 * seccomp-gen (built and run by meson) builds the default profile with
 * libseccomp, for each violation action, into seccomp-default-bpf.c: a start
 * with the default profile copies that program and never loads libseccomp,
 * which costs about a millisecond per process to build it. The unit test
 * test-seccomp-prebuilt compares it with what libseccomp builds at run time.
 * A cross build has none (the tool runs on the build machine): then the
 * program is built at run time, once per process, as custom profiles are.
 *
 * Every filter covers the native architecture and its 32-bit relatives (i386
 * and x32 on x86_64): a call made through `int 0x80` or with the x32 bit set
 * meets the same rules under its own numbers. A call of any other
 * architecture kills the process.
 */
#include "jail/jail.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "jail/seccomp-dl.h"
#include "jail/seccomp-profile.h"
#include "shared/macro.h"

/*
 * Without a prebuilt program, the default profile's is built once per process
 * and violation action and copied for each start. A cache of a constant: the
 * one static state here.
 */
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sock_fprog default_cache[2];

static int copy_prog(const struct sock_fprog *from, struct sock_fprog *ret, nslab_error *err)
{
	size_t size = from->len * sizeof(*from->filter);
	struct sock_filter *insns = malloc(size);

	if (!insns)
		return nslab_err_set(err, ENOMEM, "seccomp: filter");
	memcpy(insns, from->filter, size);
	*ret = (struct sock_fprog){ .len = from->len, .filter = insns };
	return 0;
}

static int default_prog(enum nslab_sandbox_violation v, struct sock_fprog *ret, nslab_error *err)
{
	const struct sock_fprog *pre = &jail_seccomp_prebuilt[v == NSLAB_SANDBOX_VIOLATION_KILL];
	struct sock_fprog *cached = &default_cache[v == NSLAB_SANDBOX_VIOLATION_KILL];
	int r = 0;

	if (pre->filter)
		return copy_prog(pre, ret, err);
	(void)pthread_mutex_lock(&default_lock);
	if (!cached->filter)
		r = scp_default_build(v, cached, err);
	if (r >= 0)
		r = copy_prog(cached, ret, err);
	(void)pthread_mutex_unlock(&default_lock);
	return r;
}

/* --- compiling ------------------------------------------------------------ */

/* p's program for the capabilities kept, from its cache if they did not change. */
static int profile_prog(struct jail_seccomp_profile *p, uint64_t keep, struct sock_fprog *ret,
			nslab_error *err)
{
	struct sock_fprog fresh;
	scmp_filter_ctx ctx;
	int r = 0;

	(void)pthread_mutex_lock(&p->lock);
	if (!p->cached.filter || p->cached_keep != keep) {
		r = scp_filter_new(p, keep, &ctx, err);
		if (r >= 0) {
			r = scp_export_bpf(ctx, &fresh, err);
			dl_scmp.seccomp_release(ctx);
		}
		if (r >= 0) {
			free(p->cached.filter);
			p->cached = fresh;
			p->cached_keep = keep;
		}
	}
	if (r >= 0)
		r = copy_prog(&p->cached, ret, err);
	(void)pthread_mutex_unlock(&p->lock);
	return r;
}

static int file_prog(const struct nslab_sandbox_config *c, struct sock_fprog *ret, nslab_error *err)
{
	struct jail_seccomp_profile *loaded = NULL;
	int r;

	if (c->seccomp_profile)
		return profile_prog(c->seccomp_profile, c->keep_caps, ret, err);
	/* a copied config (jail_config_dup()) has the path but not the parsed profile */
	if (!c->seccomp_path)
		return nslab_err_setx(err, EINVAL, "seccomp: file mode without a profile");
	r = jail_seccomp_load_file(c->seccomp_path, &loaded, err);
	if (r >= 0)
		r = profile_prog(loaded, c->keep_caps, ret, err);
	jail_seccomp_profile_free(loaded);
	return r;
}

int jail_seccomp_compile(const struct nslab_sandbox_config *c, struct sock_fprog *ret,
			 nslab_error *err)
{
	switch (c->seccomp) {
	case NSLAB_SANDBOX_SECCOMP_NONE:
		*ret = (struct sock_fprog){ 0 };
		return 0;
	case NSLAB_SANDBOX_SECCOMP_FILE:
		return file_prog(c, ret, err);
	case NSLAB_SANDBOX_SECCOMP_DEFAULT:
		return default_prog(c->violation, ret, err);
	}
	return nslab_err_setx(err, EINVAL, "seccomp mode %d: unknown", (int)c->seccomp);
}

int jail_seccomp_compile_deny(const char *const names[], size_t n, enum nslab_sandbox_violation v,
			      struct sock_fprog *ret, nslab_error *err)
{
	uint32_t arches[4];
	size_t n_arches;
	scmp_filter_ctx ctx;
	int r;

	if (n == 0)
		return nslab_err_setx(err, EINVAL, "seccomp: no system call to refuse");
	r = dl_scmp_load(err);
	if (r < 0)
		return r;
	n_arches = scp_native_family(arches, ARRAY_SIZE(arches));
	r = scp_ctx_new(SCMP_ACT_ALLOW, arches, n_arches, &ctx, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		int nr =
			names[i] ? dl_scmp.seccomp_syscall_resolve_name(names[i]) : __NR_SCMP_ERROR;

		if (nr == __NR_SCMP_ERROR)
			r = nslab_err_setx(err, EINVAL, "seccomp: unknown system call '%s'",
					   names[i] ? names[i] : "(null)");
		else if ((r = dl_scmp.seccomp_rule_add_array(ctx, scp_violation_action(v), nr, 0,
							     NULL)) < 0)
			r = nslab_err_set(err, -r, "seccomp: refuse '%s'", names[i]);
	}
	if (r >= 0)
		r = scp_export_bpf(ctx, ret, err);
	dl_scmp.seccomp_release(ctx);
	return r;
}

/* --- the child side ------------------------------------------------------- */

int jail_seccomp_install(const struct sock_fprog *prog, nslab_error *err)
{
	if (!prog || prog->len == 0)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
		return nslab_err_set(err, errno, "seccomp: install the filter%s",
				     errno == EACCES ? " (no_new_privs is not set)" : "");
	return 0;
}
