/* SPDX-License-Identifier: MIT */
/*
 * jail/seccomp-profile: an OCI/Docker JSON seccomp profile, parsed.
 *
 * seccomp-profile.c reads the file (core/yaml: JSON is YAML's flow form, so
 * every complaint is at FILE:LINE:COL) into this model; seccomp.c turns it into
 * a libseccomp filter. Names are resolved and Docker's includes/excludes on
 * architectures and kernel versions are decided when the file is read; the
 * ones on capabilities wait for the compile, when the kept set is known.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jail/seccomp-dl.h" /* <seccomp.h>, called through dl_scmp */

#include "core/yaml.h"
#include "jail/jail.h"

#define SECCOMP_PROFILE_SIZE_MAX (4u << 20)
#define SECCOMP_PROFILE_ARCH_MAX 16

/* One comparison of a system call argument ("args" entry). */
struct scp_arg {
	unsigned index; /* 0..5 */
	enum scmp_compare op;
	uint64_t value, value_two; /* MASKED_EQ: value is the mask, value_two the datum */
};

/* A system call named in a rule, resolved by this libseccomp. */
struct scp_call {
	char *name;
	int nr; /* libseccomp's number (negative for calls not native to this arch) */
	struct yaml_loc loc;
};

struct scp_rule {
	struct scp_call *calls;
	size_t n_calls;
	uint32_t action; /* SCMP_ACT_* with its errno */
	struct scp_arg *args;
	size_t n_args;
	uint64_t caps_all;  /* includes.caps: applies only if every one is kept */
	uint64_t caps_none; /* excludes.caps: applies only if none is kept */
	bool off;	    /* its arches or kernel versions exclude it on this machine */
	struct yaml_loc loc;
};

struct jail_seccomp_profile {
	char *path;
	uint32_t default_action;
	uint32_t arches[SECCOMP_PROFILE_ARCH_MAX]; /* SCMP_ARCH_* besides the native one */
	size_t n_arches;
	struct scp_rule *rules;
	size_t n_rules;
	char **warnings; /* "FILE:LINE:COL: ..." for what was skipped */
	size_t n_warnings;

	/*
	 * The last program compiled from it, for the capabilities kept then: a
	 * Docker-sized profile takes milliseconds to compile, and a config runs
	 * it at every start (seccomp.c, under lock).
	 */
	pthread_mutex_t lock;
	uint64_t cached_keep;
	struct sock_fprog cached;
};

/**
 * jail_seccomp_parse_string() - A profile from text (jail_seccomp_load_file() without the file)
 * @text:      the JSON (or YAML) document
 * @len:       its length
 * @filename:  name for messages (NULL: none)
 * @ret:       the profile, free with jail_seccomp_profile_free()
 * @err:       on failure, "FILE:LINE:COL: ..."
 * Return: 0, -EINVAL or -ENOMEM.
 */
int jail_seccomp_parse_string(const char *text, size_t len, const char *filename,
			      struct jail_seccomp_profile **ret, nslab_error *err);

/* Whether action lets the call through (ALLOW, LOG). */
bool scp_action_permits(uint32_t action);

/* --- seccomp-default.c ---------------------------------------------------- */

/* The 32-bit relatives of the native architecture (i386, x32 on x86_64). Needs dl_scmp_load(). */
size_t scp_native_family(uint32_t *ret, size_t max);
/* SCMP_ACT_KILL_PROCESS or SCMP_ACT_ERRNO(EPERM). */
uint32_t scp_violation_action(enum nslab_sandbox_violation v);
/* ctx as classic BPF (malloc'd filter, the caller frees). Return: 0 or -errno. */
int scp_export_bpf(scmp_filter_ctx ctx, struct sock_fprog *ret, nslab_error *err);
/*
 * scp_default_build() - The default profile's program, built now with libseccomp
 * @v:    what a refused call gets
 * @ret:  the program (malloc'd filter, the caller frees)
 * Return: 0 or -errno (libseccomp missing or too old for a call of the profile)
 */
int scp_default_build(enum nslab_sandbox_violation v, struct sock_fprog *ret, nslab_error *err);
/*
 * The default profile's program built at build time (seccomp-gen, in
 * seccomp-default-bpf.c): [0] EPERM, [1] KILL; filter NULL in a cross build.
 */
extern const struct sock_fprog jail_seccomp_prebuilt[2];

/**
 * scp_ctx_new() - A libseccomp context with nslab's attributes (seccomp-default.c)
 * @def:      the default action
 * @arches:   architectures to add besides the native one (n_arches of them)
 * @ret:      the context, seccomp_release() it
 * A call of an architecture not in the filter kills the process.
 * Return: 0 or -errno.
 */
int scp_ctx_new(uint32_t def, const uint32_t *arches, size_t n_arches, scmp_filter_ctx *ret,
		nslab_error *err);

/**
 * scp_filter_new() - The filter of profile p
 * @keep:  the capabilities kept (bit 1 << CAP_*), for Docker's includes/excludes on caps
 * @ret:   the context, seccomp_release() it
 * @err:   on failure, "FILE:LINE:COL: ..." of the rule libseccomp refused
 * Return: 0 or -errno.
 */
int scp_filter_new(const struct jail_seccomp_profile *p, uint64_t keep, scmp_filter_ctx *ret,
		   nslab_error *err);
