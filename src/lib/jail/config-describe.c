// SPDX-License-Identifier: MIT
/*
 * jail/config-describe: the effective policy of a sandbox configuration as
 * JSON (nslab_sandbox_config_describe(), `nslab run --dry-run`).
 */
#include "jail/jail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <linux/capability.h>
#include "jail/libcap-dl.h"

#include "core/json.h"
#include "shared/macro.h"

static const char *const ns_names[] = { "user", "pid", "net", "mount", "uts", "ipc", "cgroup" };

static const char *net_name(enum nslab_sandbox_net net)
{
	switch (net) {
	case NSLAB_SANDBOX_NET_NONE:
		return "none";
	case NSLAB_SANDBOX_NET_HOST:
		return "host";
	case NSLAB_SANDBOX_NET_JOIN:
		return "join";
	}
	return "unknown";
}

/* The namespaces the command gets: a network namespace of its own only with --net none. */
static unsigned effective_ns(const nslab_sandbox_config *c)
{
	if (c->net != NSLAB_SANDBOX_NET_NONE)
		return c->ns & ~(unsigned)NSLAB_SANDBOX_NS_NET;
	return c->ns;
}

static void describe_ns(const nslab_sandbox_config *c, struct jw *w)
{
	unsigned ns = effective_ns(c);

	jw_arr_open(w, "namespaces");
	for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
		if (ns & (1u << i))
			jw_str(w, NULL, ns_names[i]);
	jw_arr_close(w);
	jw_obj_open(w, "network");
	jw_str(w, "mode", net_name(c->net));
	if (c->net == NSLAB_SANDBOX_NET_JOIN)
		jw_bool(w, "lab_user_namespace", c->net_userns_fd >= 0);
	if (c->net == NSLAB_SANDBOX_NET_NONE && !(c->ns & NSLAB_SANDBOX_NS_NET))
		jw_str(w, "note", "no network namespace asked for: the host's network");
	jw_obj_close(w);
}

static void describe_ids(const nslab_sandbox_config *c, struct jw *w)
{
	uid_t uid;
	gid_t gid;

	jail_config_ids(c, &uid, &gid);
	jw_obj_open(w, "ids");
	jw_uint(w, "uid", uid);
	jw_uint(w, "gid", gid);
	jw_bool(w, "as_root", c->as_root);
	jw_obj_close(w);
}

static void describe_limits(const nslab_sandbox_config *c, struct jw *w)
{
	jw_obj_open(w, "limits");
	for (int l = NSLAB_SANDBOX_LIMIT_NONE + 1; l < NSLAB_SANDBOX_LIMIT__COUNT; l++) {
		if (!c->limit[l]) {
			jw_raw(w, nslab_sandbox_limit_name(l), "null");
			continue;
		}
		jw_obj_open(w, nslab_sandbox_limit_name(l));
		jw_uint(w, "value", c->limit[l]);
		jw_str(w, "unit", jail_limit_unit(l));
		jw_obj_close(w);
	}
	if (c->cpu_shares)
		jw_uint(w, "cpu_shares", c->cpu_shares);
	else
		jw_raw(w, "cpu_shares", "null");
	jw_obj_close(w);
}

static void describe_mount(struct jw *w, const char *type, const char *src, const char *dst,
			   bool ro)
{
	jw_obj_open(w, NULL);
	jw_str(w, "type", type);
	if (src)
		jw_str(w, "src", src);
	jw_str(w, "dst", dst);
	jw_bool(w, "ro", ro);
	jw_obj_close(w);
}

static void describe_fs(const nslab_sandbox_config *c, struct jw *w)
{
	bool own_mounts = c->ns & NSLAB_SANDBOX_NS_MOUNT;

	jw_obj_open(w, "filesystem");
	jw_str(w, "rootfs", c->rootfs ? c->rootfs : "/");
	jw_bool(w, "host_root", !c->rootfs);
	jw_bool(w, "readonly_root", c->readonly_root);
	jw_arr_open(w, "mounts");
	if (own_mounts) {
		describe_mount(w, "proc", NULL, "/proc", false);
		describe_mount(w, "dev", NULL, "/dev", false);
		describe_mount(w, "tmpfs", NULL, "/tmp", false);
	}
	for (size_t i = 0; own_mounts && i < c->n_mounts; i++) {
		const struct jail_mount *m = &c->mounts[i];

		if (m->kind == JAIL_MOUNT_TMPFS) {
			describe_mount(w, "tmpfs", NULL, m->dst, false);
			continue;
		}
		jw_obj_open(w, NULL);
		jw_str(w, "type", "bind");
		jw_str(w, "src", m->src);
		jw_str(w, "dst", m->dst);
		jw_bool(w, "ro", m->flags & NSLAB_SANDBOX_BIND_RO);
		jw_bool(w, "try", m->flags & NSLAB_SANDBOX_BIND_TRY);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_obj_close(w);
}

static void describe_seccomp(const nslab_sandbox_config *c, struct jw *w)
{
	static const char *const modes[] = { "default", "none", "file" };

	jw_obj_open(w, "seccomp");
	jw_str(w, "mode", (unsigned)c->seccomp < ARRAY_SIZE(modes) ? modes[c->seccomp] : "unknown");
	if (c->seccomp == NSLAB_SANDBOX_SECCOMP_FILE)
		jw_str(w, "file", c->seccomp_path);
	jw_str(w, "violation", c->violation == NSLAB_SANDBOX_VIOLATION_KILL ? "kill" : "eperm");
	jw_obj_close(w);
}

static void describe_caps(const nslab_sandbox_config *c, struct jw *w)
{
	jw_obj_open(w, "capabilities");
	jw_arr_open(w, "keep");
	for (int cap = 0; cap < 64; cap++) {
		char *name, upper[64];
		size_t i;

		if (!(c->keep_caps & (UINT64_C(1) << cap)))
			continue;
		name = dl_cap_load(NULL) < 0 ? NULL : dl_cap.cap_to_name(cap);
		if (!name) {
			jw_int(w, NULL, cap);
			continue;
		}
		/* libcap says "cap_net_raw"; people (and capabilities(7)) say CAP_NET_RAW */
		for (i = 0; name[i] && i < sizeof(upper) - 1; i++)
			upper[i] = (char)toupper((unsigned char)name[i]);
		upper[i] = '\0';
		dl_cap.cap_free(name);
		jw_str(w, NULL, upper);
	}
	jw_arr_close(w);
	jw_bool(w, "ambient", c->ambient);
	jw_bool(w, "no_new_privs", true);
	jw_obj_close(w);
}

static void describe_env(const nslab_sandbox_config *c, struct jw *w)
{
	jw_obj_open(w, "environment");
	jw_bool(w, "clear", c->clear_env);
	jw_arr_open(w, "changes");
	for (size_t i = 0; i < c->n_env; i++) {
		const char *t = c->env[i].text, *eq = strchr(t, '=');
		_cleanup_free_ char *name = strndup(t, eq ? (size_t)(eq - t) : strlen(t));

		jw_obj_open(w, NULL);
		jw_str(w, eq ? "set" : "unset", name ? name : "");
		if (eq)
			jw_str(w, "value", eq + 1);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_obj_close(w);
}

char *nslab_sandbox_config_describe(const nslab_sandbox_config *c)
{
	struct jw w;
	const char *text;
	char *copy;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_int(&w, "schema", 1);
	describe_ns(c, &w);
	describe_ids(c, &w);
	describe_limits(c, &w);
	describe_fs(c, &w);
	describe_seccomp(c, &w);
	describe_caps(c, &w);
	describe_env(c, &w);
	jw_str(&w, "hostname",
	       c->ns & NSLAB_SANDBOX_NS_UTS ? (c->hostname ? c->hostname : "nslab") : NULL);
	jw_str(&w, "cwd", c->cwd);
	jw_obj_close(&w);
	text = jw_get(&w);
	copy = text ? strdup(text) : NULL;
	jw_free(&w);
	return copy;
}
