// SPDX-License-Identifier: MIT
/*
 * jail/config-profile: profiles (YAML, every option of `nslab run` by its
 * long name) applied to a copy of a configuration, which replaces the
 * original only if the whole profile applied (nslab_sandbox_config_load()).
 */
#include "jail/jail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/yaml.h"
#include "shared/closest.h"
#include "shared/macro.h"
#include "shared/units.h"

DEFINE_CLEANUP_FUNC(nslab_sandbox_config, nslab_sandbox_config_free)

#define PROFILE_SIZE_MAX (1u << 20)

enum profile_key {
	PK_NET,
	PK_MEM,
	PK_CPU,
	PK_PIDS,
	PK_FDS,
	PK_FSIZE,
	PK_TIMEOUT,
	PK_ROOTFS,
	PK_RO,
	PK_BIND,
	PK_RO_BIND,
	PK_TMPFS,
	PK_CHDIR,
	PK_SECCOMP,
	PK_CAP_ADD,
	PK_UID,
	PK_GID,
	PK_AS_ROOT,
	PK_HOSTNAME,
	PK_ENV,
	PK_CLEARENV,
};

static const char *const profile_keys[] = {
	"net", "mem",	  "cpu",      "pids",  "fds",	   "fsize",   "timeout", "rootfs",
	"ro",  "bind",	  "ro-bind",  "tmpfs", "chdir",	   "seccomp", "cap-add", "uid",
	"gid", "as-root", "hostname", "env",   "clearenv", NULL,
};

/* Reading one profile: where messages point, and paths relative to the file's directory. */
struct profile {
	struct yctx y;
	const char *dir; /* the profile's directory, for relative outside paths */
	bool rootfs_seen, ro_seen;
};

/* A setter's failure, placed at the value that caused it. */
static int at_node(const struct profile *p, const struct ynode *n, int r)
{
	return nslab_err_prefix(p->y.err, r, "%s:%u:%u", p->y.file, n->loc.line, n->loc.col);
}

/* An outside path of the profile: relative ones are relative to the profile's directory. */
static int profile_path(const struct profile *p, const char *path, char **ret)
{
	if (path[0] == '/' || !p->dir)
		return (*ret = strdup(path)) ? 0 : -ENOMEM;
	return asprintf(ret, "%s/%s", p->dir, path) < 0 ? -ENOMEM : 0;
}

static int profile_size(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n,
			enum nslab_sandbox_limit l)
{
	const char *what = profile_keys[l == NSLAB_SANDBOX_LIMIT_MEMORY ? PK_MEM : PK_FSIZE], *s;
	uint64_t v;
	int r = y_str(&p->y, n, what, &s);

	if (r < 0)
		return r;
	r = parse_size(s, &v);
	if (r < 0)
		return y_error(&p->y, n,
			       "%s: '%s' is not a size (bytes, or a number with K, M, G or T: "
			       "1024 multiples)",
			       what, YAML_Q(s));
	r = nslab_sandbox_config_set_limit(c, l, v, p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_duration(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n,
			    enum nslab_sandbox_limit l)
{
	const char *what = nslab_sandbox_limit_name(l), *s;
	uint64_t ms;
	int r = y_str(&p->y, n, what, &s);

	if (r < 0)
		return r;
	r = parse_duration_ms(s, &ms);
	if (r < 0)
		return y_error(&p->y, n,
			       "%s: '%s' is not a duration (seconds, decimals allowed, or a number "
			       "with ms, s, m or h)",
			       what, YAML_Q(s));
	if (l == NSLAB_SANDBOX_LIMIT_CPU && ms % 1000)
		return y_error(&p->y, n, "cpu: '%s': CPU time is limited in whole seconds",
			       YAML_Q(s));
	r = nslab_sandbox_config_set_limit(c, l, l == NSLAB_SANDBOX_LIMIT_CPU ? ms / 1000 : ms,
					   p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_count(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n,
			 enum profile_key k)
{
	uint64_t v;
	int r = y_uint(&p->y, n, profile_keys[k], 0, UINT32_MAX, "a whole number", &v);

	if (r < 0)
		return r;
	r = nslab_sandbox_config_set_limit(
		c, k == PK_PIDS ? NSLAB_SANDBOX_LIMIT_PIDS : NSLAB_SANDBOX_LIMIT_FILES, v,
		p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_id(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n,
		      enum profile_key k)
{
	uint64_t v;
	int r = y_uint(&p->y, n, profile_keys[k], 0, UINT32_MAX - 1, "0..4294967294", &v);

	if (r < 0)
		return r;
	r = k == PK_UID ? nslab_sandbox_config_set_uid(c, (uid_t)v, p->y.err)
			: nslab_sandbox_config_set_gid(c, (gid_t)v, p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_flag(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			enum profile_key k)
{
	bool b;
	int r = y_bool(&p->y, n, profile_keys[k], &b);

	if (r < 0)
		return r;
	if (k == PK_RO) {
		nslab_sandbox_config_set_readonly_root(c, b);
		p->ro_seen = true;
	} else if (k == PK_AS_ROOT) {
		nslab_sandbox_config_set_as_root(c, b);
	} else if (b) {
		nslab_sandbox_config_clear_env(c);
	} else {
		c->clear_env = false;
	}
	return 0;
}

static int profile_net(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n)
{
	static const char *const vals[] = { "none", "host", NULL };
	unsigned i;
	int r = y_enum(&p->y, n, "net", vals, "none or host", &i);

	if (r < 0)
		return r;
	r = nslab_sandbox_config_set_network(c, i ? NSLAB_SANDBOX_NET_HOST : NSLAB_SANDBOX_NET_NONE,
					     p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

/* A scalar, or a sequence of them: each item is handed to fn. */
static int profile_list(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			enum profile_key k,
			int (*fn)(nslab_sandbox_config *c, struct profile *p,
				  const struct ynode *item, enum profile_key k))
{
	int r;

	if (n->type != Y_SEQ)
		return fn(c, p, n, k);
	for (size_t i = 0; i < n->n; i++) {
		r = fn(c, p, n->kids[i], k);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "SRC[:DST]" of bind and ro-bind, the same as on the command line. */
static int profile_bind(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			enum profile_key k)
{
	_cleanup_free_ char *src = NULL, *path = NULL;
	const char *s, *colon;
	int r = y_str(&p->y, n, profile_keys[k], &s);

	if (r < 0)
		return r;
	colon = strchr(s, ':');
	src = strndup(s, colon ? (size_t)(colon - s) : strlen(s));
	if (!src || (*src && profile_path(p, src, &path) < 0))
		return nslab_err_set(p->y.err, ENOMEM, "profile");
	if (colon && !colon[1])
		return y_error(&p->y, n, "%s '%s': empty destination after ':'", profile_keys[k],
			       YAML_Q(s));
	r = nslab_sandbox_config_add_bind(c, path ? path : src, colon ? colon + 1 : NULL,
					  k == PK_RO_BIND ? NSLAB_SANDBOX_BIND_RO : 0, p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_string(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			  enum profile_key k)
{
	const char *s, *eq;
	_cleanup_free_ char *name = NULL;
	int r = y_str(&p->y, n, profile_keys[k], &s);

	if (r < 0)
		return r;
	if (k == PK_TMPFS) {
		r = nslab_sandbox_config_add_tmpfs(c, s, p->y.err);
	} else if (k == PK_CHDIR) {
		r = nslab_sandbox_config_set_cwd(c, s, p->y.err);
	} else if (k == PK_HOSTNAME) {
		r = nslab_sandbox_config_set_hostname(c, s, p->y.err);
	} else if (k == PK_CAP_ADD) {
		/* as on the command line: a kept capability is usable after exec */
		r = nslab_sandbox_config_keep_cap_name(c, s, p->y.err);
		if (r >= 0)
			nslab_sandbox_config_set_ambient(c, true);
	} else {
		/* env: "K=V" sets K, "K" alone removes it */
		eq = strchr(s, '=');
		name = strndup(s, eq ? (size_t)(eq - s) : strlen(s));
		if (!name)
			return nslab_err_set(p->y.err, ENOMEM, "profile");
		r = nslab_sandbox_config_set_env(c, name, eq ? eq + 1 : NULL, p->y.err);
	}
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_outside(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			   enum profile_key k)
{
	_cleanup_free_ char *path = NULL;
	const char *s;
	int r = y_str(&p->y, n, profile_keys[k], &s);

	if (r < 0)
		return r;
	if (k == PK_SECCOMP && (strcmp(s, "default") == 0 || strcmp(s, "none") == 0)) {
		r = nslab_sandbox_config_set_seccomp(
			c, *s == 'd' ? NSLAB_SANDBOX_SECCOMP_DEFAULT : NSLAB_SANDBOX_SECCOMP_NONE,
			NULL, p->y.err);
		return r < 0 ? at_node(p, n, r) : 0;
	}
	if (!*s)
		return y_error(&p->y, n, "%s: empty path", profile_keys[k]);
	if (profile_path(p, s, &path) < 0)
		return nslab_err_set(p->y.err, ENOMEM, "profile");
	if (k == PK_ROOTFS) {
		r = nslab_sandbox_config_set_rootfs(c, path, p->y.err);
		p->rootfs_seen = true;
	} else {
		r = nslab_sandbox_config_set_seccomp(c, NSLAB_SANDBOX_SECCOMP_FILE, path, p->y.err);
	}
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_apply(nslab_sandbox_config *c, struct profile *p, enum profile_key k,
			 const struct ynode *v)
{
	switch (k) {
	case PK_NET:
		return profile_net(c, p, v);
	case PK_MEM:
		return profile_size(c, p, v, NSLAB_SANDBOX_LIMIT_MEMORY);
	case PK_FSIZE:
		return profile_size(c, p, v, NSLAB_SANDBOX_LIMIT_FSIZE);
	case PK_CPU:
		return profile_duration(c, p, v, NSLAB_SANDBOX_LIMIT_CPU);
	case PK_TIMEOUT:
		return profile_duration(c, p, v, NSLAB_SANDBOX_LIMIT_TIMEOUT);
	case PK_PIDS:
	case PK_FDS:
		return profile_count(c, p, v, k);
	case PK_UID:
	case PK_GID:
		return profile_id(c, p, v, k);
	case PK_RO:
	case PK_AS_ROOT:
	case PK_CLEARENV:
		return profile_flag(c, p, v, k);
	case PK_ROOTFS:
	case PK_SECCOMP:
		return profile_outside(c, p, v, k);
	case PK_BIND:
	case PK_RO_BIND:
		return profile_list(c, p, v, k, profile_bind);
	case PK_TMPFS:
	case PK_CAP_ADD:
	case PK_ENV:
		return profile_list(c, p, v, k, profile_string);
	case PK_CHDIR:
	case PK_HOSTNAME:
		return profile_string(c, p, v, k);
	}
	return y_error(&p->y, v, "unhandled key");
}

/*
 * An unknown key that looks like one (a word: the text of a file that is no
 * profile is not repeated): "did you mean" the closest key, or the key it
 * starts with ("memory": mem, "environment": env). Return: -EINVAL, or 0 to
 * leave the message to y_key().
 */
static int profile_key_hint(const struct profile *p, const struct ynode *k)
{
	const size_t n = ARRAY_SIZE(profile_keys) - 1;
	const char *s = k->text, *hint;
	size_t len;

	if (k->type != Y_SCALAR || !s)
		return 0;
	len = strlen(s);
	if (len == 0 || len > 32 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_-") != len)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, profile_keys[i]) == 0)
			return 0;
	hint = closest_word(s, profile_keys, n);
	for (size_t i = 0; !hint && i < n; i++)
		if (strlen(profile_keys[i]) >= 3 &&
		    strncmp(s, profile_keys[i], strlen(profile_keys[i])) == 0)
			hint = profile_keys[i];
	if (!hint)
		return 0;
	return y_error(&p->y, k, "unknown key '%s'; did you mean '%s'?", s, hint);
}

static int profile_apply_all(nslab_sandbox_config *c, struct profile *p, const struct ynode *root)
{
	uint32_t seen = 0;
	int r = y_map(&p->y, root, "a sandbox profile", NULL);

	if (r < 0)
		return r;
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		int k = profile_key_hint(p, root->kids[i]);

		if (k < 0)
			return k;
		k = y_key(&p->y, root->kids[i], profile_keys, SIZE_MAX, &seen);
		if (k < 0)
			return k;
		r = profile_apply(c, p, (enum profile_key)k, root->kids[i + 1]);
		if (r < 0)
			return r;
	}
	/* A root of one's own is writable unless the profile says ro, as with --rootfs */
	if (p->rootfs_seen && !p->ro_seen)
		c->readonly_root = false;
	return 0;
}

/*
 * Make c what the copy d became, and d hold what c was (for freeing). The
 * seccomp profile, which cannot be copied, was lent: d has none while its mode
 * is still the file c had (see nslab_sandbox_config_load()).
 */
static void config_commit(nslab_sandbox_config *c, nslab_sandbox_config *d)
{
	nslab_sandbox_config old = *c;

	if (d->seccomp == NSLAB_SANDBOX_SECCOMP_FILE && !d->seccomp_profile) {
		d->seccomp_profile = old.seccomp_profile;
		old.seccomp_profile = NULL;
	}
	*c = *d;
	*d = old;
}

int nslab_sandbox_config_load(nslab_sandbox_config *c, const char *path, nslab_error *err)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *d = NULL;
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	_cleanup_free_ char *text = NULL, *dir = NULL;
	struct profile p = { .y = { .file = path, .err = err } };
	size_t len = 0;
	int r;

	r = yaml_read_file(path, PROFILE_SIZE_MAX, &text, &len, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "profile");
	r = yaml_read(&p.y, text, len, 0, &root);
	if (r < 0)
		return r;
	if (!root) /* an empty profile changes nothing */
		return 0;
	dir = strdup(path);
	if (!dir)
		return nslab_err_set(err, ENOMEM, "profile '%s'", path);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	p.dir = strchr(path, '/') ? (*dir ? dir : "/") : NULL;
	r = jail_config_dup(c, &d, err);
	if (r < 0)
		return r;
	r = profile_apply_all(d, &p, root);
	if (r < 0)
		return r;
	config_commit(c, d);
	return 0;
}
