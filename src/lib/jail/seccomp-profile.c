/* SPDX-License-Identifier: MIT */
/*
 * jail/seccomp-profile: OCI and Docker JSON seccomp profiles.
 *
 * The shape runc and Docker read:
 *   { "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
 *     "architectures": ["SCMP_ARCH_X86_64", ...]  or  "archMap": [{"architecture": ...,
 *     "subArchitectures": [...]}],
 *     "syscalls": [{ "names": [...] (or Docker's old "name": "..."), "action": "SCMP_ACT_...",
 *                    "errnoRet": N, "args": [{"index", "value", "valueTwo", "op"}],
 *                    "includes"/"excludes": {"caps", "arches", "minKernel"}, "comment" }] }
 *
 * System call names unknown to this libseccomp (profiles list calls newer than
 * it, Docker's default.json does) are skipped with a warning, as runc does,
 * when skipping cannot let through a call the profile refuses: the rule lets
 * the call through, or the default action refuses it as well. A rule refusing
 * an unknown call under a permissive default is an error at its place: the
 * filter would silently allow what the profile means to refuse.
 *
 * Several conditions on the same argument: libseccomp cannot AND them, so
 * each becomes a rule of its own (OR), as runc does.
 */
#include "jail/seccomp-profile.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

struct scp_parser {
	struct yctx y;
	struct jail_seccomp_profile *p;
};

/* --- freeing ------------------------------------------------------------ */

static void rule_clear(struct scp_rule *r)
{
	for (size_t i = 0; i < r->n_calls; i++)
		free(r->calls[i].name);
	free(r->calls);
	free(r->args);
}

void jail_seccomp_profile_free(struct jail_seccomp_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rules; i++)
		rule_clear(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->n_warnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	free(p->cached.filter);
	(void)pthread_mutex_destroy(&p->lock);
	free(p->path);
	free(p);
}

size_t jail_seccomp_profile_warnings(const struct jail_seccomp_profile *p, const char *const **ret)
{
	*ret = p ? (const char *const *)p->warnings : NULL;
	return p ? p->n_warnings : 0;
}

/* --- helpers ------------------------------------------------------------ */

static int oom(struct scp_parser *ps)
{
	return nslab_err_set(ps->y.err, ENOMEM, "seccomp profile");
}

static int warn(struct scp_parser *ps, const struct ynode *n, const char *fmt, ...) _printf_(3, 4);
static int warn(struct scp_parser *ps, const struct ynode *n, const char *fmt, ...)
{
	struct jail_seccomp_profile *p = ps->p;
	char msg[256], **w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w = realloc(p->warnings, (p->n_warnings + 1) * sizeof(*w));
	if (!w)
		return oom(ps);
	p->warnings = w;
	if (asprintf(&w[p->n_warnings], "%s:%u:%u: %s", ps->y.file ? ps->y.file : "<profile>",
		     n->loc.line, n->loc.col, msg) < 0)
		return oom(ps);
	p->n_warnings++;
	return 0;
}

/* A mapping's values by key (keys NULL-terminated, at most 32); unknown and repeated keys refused. */
static int collect(struct scp_parser *ps, const struct ynode *n, const char *what,
		   const char *const *keys, const struct ynode **vals)
{
	uint32_t seen = 0;
	int r = y_map(&ps->y, n, what, NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		r = y_key(&ps->y, n->kids[i], keys, SIZE_MAX, &seen);
		if (r >= 0)
			vals[r] = n->kids[i + 1];
	}
	return r < 0 ? r : 0;
}

/* A sequence, or null (JSON's "args": null): *ret_n items. */
static int seq_or_null(struct scp_parser *ps, const struct ynode *n, const char *what,
		       size_t *ret_n)
{
	int r;

	if (!n || y_is_null(n)) {
		*ret_n = 0;
		return 0;
	}
	r = y_seq(&ps->y, n, what);
	if (r >= 0)
		*ret_n = n->n;
	return r;
}

/* --- actions ------------------------------------------------------------ */

enum {
	ACT_KILL,
	ACT_KILL_THREAD,
	ACT_KILL_PROCESS,
	ACT_TRAP,
	ACT_ERRNO,
	ACT_TRACE,
	ACT_ALLOW,
	ACT_LOG,
	ACT_NOTIFY
};

bool scp_action_permits(uint32_t action)
{
	return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG;
}

/* An action name with its errno (ERRNO, TRACE: errno_node's, else EPERM as runc). */
static int decode_action(struct scp_parser *ps, const struct ynode *n, const struct ynode *errno_n,
			 const char *what, uint32_t *ret)
{
	static const char *const names[] = { "SCMP_ACT_KILL",	      "SCMP_ACT_KILL_THREAD",
					     "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
					     "SCMP_ACT_ERRNO",	      "SCMP_ACT_TRACE",
					     "SCMP_ACT_ALLOW",	      "SCMP_ACT_LOG",
					     "SCMP_ACT_NOTIFY",	      NULL };
	uint64_t code = EPERM;
	unsigned a;
	int r = y_enum(&ps->y, n, what, names, "SCMP_ACT_ALLOW, _ERRNO, _KILL_PROCESS, ...", &a);

	if (r < 0)
		return r;
	if (a == ACT_NOTIFY)
		return y_error(&ps->y, n,
			       "%s: SCMP_ACT_NOTIFY needs a listener, which nslab does not run",
			       what);
	if (errno_n && a != ACT_ERRNO && a != ACT_TRACE)
		return y_error(&ps->y, errno_n,
			       "errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one");
	if (errno_n)
		r = y_uint(&ps->y, errno_n, "errno", 0, 4095, "0..4095", &code);
	if (r < 0)
		return r;
	switch (a) {
	case ACT_KILL:
	case ACT_KILL_THREAD:
		*ret = SCMP_ACT_KILL_THREAD;
		break;
	case ACT_KILL_PROCESS:
		*ret = SCMP_ACT_KILL_PROCESS;
		break;
	case ACT_TRAP:
		*ret = SCMP_ACT_TRAP;
		break;
	case ACT_ERRNO:
		*ret = SCMP_ACT_ERRNO((uint32_t)code);
		break;
	case ACT_TRACE:
		*ret = SCMP_ACT_TRACE((uint32_t)code);
		break;
	case ACT_LOG:
		*ret = SCMP_ACT_LOG;
		break;
	default:
		*ret = SCMP_ACT_ALLOW;
	}
	return 0;
}

/* --- architectures ------------------------------------------------------ */

/* "SCMP_ARCH_X86_64" (or libseccomp's own "x86_64") to its token. */
static int decode_arch(struct scp_parser *ps, const struct ynode *n, uint32_t *ret)
{
	char name[32];
	const char *s;
	size_t i;
	int r = y_str(&ps->y, n, "architecture", &s);

	if (r < 0)
		return r;
	if (strncmp(s, "SCMP_ARCH_", 10) == 0)
		s += 10;
	for (i = 0; s[i] && i + 1 < sizeof(name); i++)
		name[i] = (char)tolower((unsigned char)s[i]);
	name[i] = '\0';
	*ret = s[i] ? 0 : dl_scmp.seccomp_arch_resolve_name(name);
	if (!*ret)
		return y_error(&ps->y, n, "unknown architecture '%s'", YAML_Q(n->text));
	return 0;
}

static int add_arch(struct scp_parser *ps, const struct ynode *n)
{
	struct jail_seccomp_profile *p = ps->p;
	uint32_t a;
	int r = decode_arch(ps, n, &a);

	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_arches; i++)
		if (p->arches[i] == a)
			return 0;
	if (a == dl_scmp.seccomp_arch_native())
		return 0; /* every filter has it */
	if (p->n_arches == SECCOMP_PROFILE_ARCH_MAX)
		return y_error(&ps->y, n, "more than %d architectures", SECCOMP_PROFILE_ARCH_MAX);
	p->arches[p->n_arches++] = a;
	return 0;
}

static int decode_arches(struct scp_parser *ps, const struct ynode *n)
{
	size_t k = 0;
	int r = seq_or_null(ps, n, "architectures", &k);

	for (size_t i = 0; r >= 0 && i < k; i++)
		r = add_arch(ps, n->kids[i]);
	return r;
}

/* Docker's archMap: the entry of the native architecture brings its sub-architectures. */
static int decode_arch_map(struct scp_parser *ps, const struct ynode *n)
{
	static const char *const keys[] = { "architecture", "subArchitectures", NULL };
	size_t k = 0;
	int r = seq_or_null(ps, n, "archMap", &k);

	for (size_t i = 0; r >= 0 && i < k; i++) {
		const struct ynode *v[2] = { 0 };
		uint32_t a;

		r = collect(ps, n->kids[i], "archMap entry", keys, v);
		if (r >= 0 && !v[0])
			return y_error(&ps->y, n->kids[i], "archMap entry needs 'architecture'");
		if (r >= 0)
			r = decode_arch(ps, v[0], &a);
		if (r >= 0 && a == dl_scmp.seccomp_arch_native())
			r = decode_arches(ps, v[1]);
	}
	return r;
}

/* --- includes and excludes ---------------------------------------------- */

/* Docker names architectures as Go does; libseccomp's spelling is accepted too. */
static bool is_native_arch_name(const char *s)
{
#if defined(__x86_64__)
	static const char *const native[] = { "amd64", "x86_64", NULL };
#elif defined(__aarch64__)
	static const char *const native[] = { "arm64", "aarch64", NULL };
#elif defined(__i386__)
	static const char *const native[] = { "386", "x86", NULL };
#else
	static const char *const native[] = { NULL };
#endif
	for (size_t i = 0; native[i]; i++)
		if (strcmp(s, native[i]) == 0)
			return true;
	return false;
}

/* "4.8" against the running kernel: *ret_at_least. */
static int kernel_at_least(struct scp_parser *ps, const struct ynode *n, bool *ret_at_least)
{
	unsigned want_major, want_minor, major = 0, minor = 0;
	struct utsname u;
	const char *s;
	int used = 0;
	int r = y_str(&ps->y, n, "minKernel", &s);

	if (r < 0)
		return r;
	if (sscanf(s, "%u.%u%n", &want_major, &want_minor, &used) != 2 || s[used])
		return y_error(&ps->y, n, "bad minKernel '%s' (expected MAJOR.MINOR)", YAML_Q(s));
	if (uname(&u) == 0)
		(void)sscanf(u.release, "%u.%u", &major, &minor);
	*ret_at_least = major > want_major || (major == want_major && minor >= want_minor);
	return 0;
}

static int decode_caps(struct scp_parser *ps, const struct ynode *n, uint64_t *ret)
{
	size_t k = 0;
	int r = seq_or_null(ps, n, "caps", &k);

	for (size_t i = 0; r >= 0 && i < k; i++) {
		const char *s;
		int cap;

		r = y_str(&ps->y, n->kids[i], "capability", &s);
		if (r < 0)
			break;
		cap = jail_cap_from_name(s);
		if (cap < 0 || cap > 63)
			return y_error(&ps->y, n->kids[i], "unknown capability '%s'", YAML_Q(s));
		*ret |= UINT64_C(1) << cap;
	}
	return r;
}

/*
 * Docker's "includes" (include = true) or "excludes": whether the rule is off on
 * this machine for its arches or kernel version; caps are left in *ret_caps.
 */
static int decode_cond(struct scp_parser *ps, const struct ynode *n, bool include, bool *off,
		       uint64_t *ret_caps)
{
	static const char *const keys[] = { "caps", "arches", "minKernel", NULL };
	const struct ynode *v[3] = { 0 };
	bool native = false, at_least;
	size_t k = 0;
	int r = collect(ps, n, include ? "includes" : "excludes", keys, v);

	if (r >= 0 && v[0])
		r = decode_caps(ps, v[0], ret_caps);
	if (r >= 0 && v[1])
		r = seq_or_null(ps, v[1], "arches", &k);
	for (size_t i = 0; r >= 0 && i < k; i++) {
		const char *s;

		r = y_str(&ps->y, v[1]->kids[i], "arch", &s);
		native = native || (r >= 0 && is_native_arch_name(s));
	}
	if (r >= 0 && k > 0 && native != include)
		*off = true;
	if (r >= 0 && v[2] && !y_is_null(v[2])) {
		r = kernel_at_least(ps, v[2], &at_least);
		if (r >= 0 && at_least != include)
			*off = true;
	}
	return r;
}

/* --- rules -------------------------------------------------------------- */

static int decode_arg(struct scp_parser *ps, const struct ynode *n, struct scp_arg *a)
{
	static const char *const keys[] = { "index", "value", "valueTwo", "op", NULL };
	static const char *const ops[] = { "SCMP_CMP_NE",	 "SCMP_CMP_LT", "SCMP_CMP_LE",
					   "SCMP_CMP_EQ",	 "SCMP_CMP_GE", "SCMP_CMP_GT",
					   "SCMP_CMP_MASKED_EQ", NULL };
	const struct ynode *v[4] = { 0 };
	uint64_t index = 0;
	unsigned op = 0;
	int r = collect(ps, n, "argument", keys, v);

	if (r >= 0 && (!v[0] || !v[1] || !v[3]))
		return y_error(&ps->y, n, "argument needs 'index', 'value' and 'op'");
	if (r >= 0)
		r = y_uint(&ps->y, v[0], "index", 0, 5, "0..5", &index);
	if (r >= 0)
		r = y_uint(&ps->y, v[1], "value", 0, UINT64_MAX, "a number", &a->value);
	if (r >= 0 && v[2])
		r = y_uint(&ps->y, v[2], "valueTwo", 0, UINT64_MAX, "a number", &a->value_two);
	if (r >= 0)
		r = y_enum(&ps->y, v[3], "op", ops,
			   "SCMP_CMP_EQ, _NE, _LT, _LE, _GE, _GT, _MASKED_EQ", &op);
	a->index = (unsigned)index;
	a->op = (enum scmp_compare)(SCMP_CMP_NE + op); /* libseccomp's order, NE first */
	return r;
}

static int decode_args(struct scp_parser *ps, const struct ynode *n, struct scp_rule *rule)
{
	size_t k = 0;
	int r = seq_or_null(ps, n, "args", &k);

	if (r < 0 || k == 0)
		return r;
	rule->args = calloc(k, sizeof(*rule->args));
	if (!rule->args)
		return oom(ps);
	rule->n_args = k;
	for (size_t i = 0; r >= 0 && i < k; i++)
		r = decode_arg(ps, n->kids[i], &rule->args[i]);
	return r;
}

/* One name: resolved, or skipped with a warning, or refused (see the top of this file). */
static int add_call(struct scp_parser *ps, const struct ynode *n, struct scp_rule *rule)
{
	struct scp_call *c = &rule->calls[rule->n_calls];
	const char *s;
	int r = y_str(&ps->y, n, "system call", &s);

	if (r < 0)
		return r;
	c->nr = dl_scmp.seccomp_syscall_resolve_name(s);
	if (c->nr == __NR_SCMP_ERROR) {
		if (!scp_action_permits(rule->action) && scp_action_permits(ps->p->default_action))
			return y_error(&ps->y, n,
				       "system call '%s' is unknown to libseccomp: refusing it "
				       "cannot be compiled, and skipping it would allow it",
				       YAML_Q(s));
		return warn(ps, n, "system call '%s' unknown to libseccomp, skipped", YAML_Q(s));
	}
	c->name = strdup(s);
	if (!c->name)
		return oom(ps);
	c->loc = n->loc;
	rule->n_calls++;
	return 0;
}

static int decode_names(struct scp_parser *ps, const struct ynode *names, const struct ynode *name,
			struct scp_rule *rule)
{
	size_t k = 1;
	int r = 0;

	if (names && name)
		return y_error(&ps->y, name, "'name' and 'names' together");
	if (names)
		r = y_seq(&ps->y, names, "names");
	if (r < 0)
		return r;
	if (names)
		k = names->n;
	if (k == 0)
		return y_error(&ps->y, names, "names: expected at least one system call");
	rule->calls = calloc(k, sizeof(*rule->calls));
	if (!rule->calls)
		return oom(ps);
	for (size_t i = 0; r >= 0 && i < k; i++)
		r = add_call(ps, names ? names->kids[i] : name, rule);
	return r;
}

enum { R_NAMES, R_NAME, R_ACTION, R_ARGS, R_ERRNO, R_COMMENT, R_INCLUDES, R_EXCLUDES, R__MAX };

static int decode_rule(struct scp_parser *ps, const struct ynode *n, struct scp_rule *rule)
{
	static const char *const keys[] = { "names",   "name",	   "action",   "args", "errnoRet",
					    "comment", "includes", "excludes", NULL };
	const struct ynode *v[R__MAX] = { 0 };
	int r = collect(ps, n, "syscalls entry", keys, v);

	rule->loc = n->loc;
	if (r >= 0 && !v[R_ACTION])
		return y_error(&ps->y, n, "syscalls entry needs 'action'");
	if (r >= 0)
		r = decode_action(ps, v[R_ACTION], v[R_ERRNO], "action", &rule->action);
	if (r >= 0 && v[R_INCLUDES])
		r = decode_cond(ps, v[R_INCLUDES], true, &rule->off, &rule->caps_all);
	if (r >= 0 && v[R_EXCLUDES])
		r = decode_cond(ps, v[R_EXCLUDES], false, &rule->off, &rule->caps_none);
	if (r >= 0)
		r = decode_args(ps, v[R_ARGS], rule);
	if (r >= 0 && !v[R_NAMES] && !v[R_NAME])
		return y_error(&ps->y, n, "syscalls entry needs 'names'");
	if (r >= 0)
		r = decode_names(ps, v[R_NAMES], v[R_NAME], rule);
	return r;
}

static int decode_rules(struct scp_parser *ps, const struct ynode *n)
{
	struct jail_seccomp_profile *p = ps->p;
	size_t k = 0;
	int r = seq_or_null(ps, n, "syscalls", &k);

	if (r < 0 || k == 0)
		return r;
	p->rules = calloc(k, sizeof(*p->rules));
	if (!p->rules)
		return oom(ps);
	for (size_t i = 0; r >= 0 && i < k; i++) {
		r = decode_rule(ps, n->kids[i], &p->rules[i]);
		p->n_rules = i + 1; /* freed with the profile, even half-filled */
	}
	return r;
}

/* --- to libseccomp ------------------------------------------------------ */

static bool rule_applies(const struct scp_rule *rule, uint64_t keep)
{
	return !rule->off && (rule->caps_all & keep) == rule->caps_all && !(rule->caps_none & keep);
}

/* libseccomp cannot AND two conditions on one argument: then each is a rule (OR), as in runc. */
static bool has_repeated_index(const struct scp_rule *rule)
{
	unsigned seen = 0;

	for (size_t i = 0; i < rule->n_args; i++) {
		if (seen & (1u << rule->args[i].index))
			return true;
		seen |= 1u << rule->args[i].index;
	}
	return false;
}

static struct scmp_arg_cmp arg_cmp(const struct scp_arg *a)
{
	return (struct scmp_arg_cmp){ a->index, a->op, a->value, a->value_two };
}

static int add_call_rule(const struct jail_seccomp_profile *p, scmp_filter_ctx ctx,
			 const struct scp_rule *rule, const struct scp_call *call, nslab_error *err)
{
	struct yctx y = { .file = p->path, .err = err };
	struct scmp_arg_cmp cmp[6];
	int r = 0;

	if (has_repeated_index(rule)) {
		for (size_t i = 0; r >= 0 && i < rule->n_args; i++) {
			cmp[0] = arg_cmp(&rule->args[i]);
			r = dl_scmp.seccomp_rule_add_array(ctx, rule->action, call->nr, 1, cmp);
		}
	} else {
		/* distinct indexes 0..5: at most six */
		for (size_t i = 0; i < rule->n_args; i++)
			cmp[i] = arg_cmp(&rule->args[i]);
		r = dl_scmp.seccomp_rule_add_array(ctx, rule->action, call->nr,
						   (unsigned)rule->n_args, cmp);
	}
	if (r == -EEXIST)
		return yaml_error(
			&y, call->loc,
			"system call '%s': this rule conflicts with an earlier one for it",
			call->name);
	if (r < 0)
		return yaml_error(&y, call->loc,
				  "system call '%s': libseccomp refused the rule (%s)", call->name,
				  strerrordesc_np(-r));
	return 0;
}

int scp_filter_new(const struct jail_seccomp_profile *p, uint64_t keep, scmp_filter_ctx *ret,
		   nslab_error *err)
{
	scmp_filter_ctx ctx = NULL;
	int r = scp_ctx_new(p->default_action, p->arches, p->n_arches, &ctx, err);

	for (size_t i = 0; r >= 0 && i < p->n_rules; i++) {
		const struct scp_rule *rule = &p->rules[i];

		/* runc skips these too: libseccomp refuses a rule that repeats the default */
		if (!rule_applies(rule, keep) || rule->action == p->default_action)
			continue;
		for (size_t j = 0; r >= 0 && j < rule->n_calls; j++)
			r = add_call_rule(p, ctx, rule, &rule->calls[j], err);
	}
	if (r < 0) {
		if (ctx)
			dl_scmp.seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

/* Checked when read: with no capability kept and with every one (includes and excludes). */
static int check_compiles(const struct jail_seccomp_profile *p, nslab_error *err)
{
	scmp_filter_ctx ctx;
	int r = scp_filter_new(p, 0, &ctx, err);

	if (r < 0)
		return r;
	dl_scmp.seccomp_release(ctx);
	r = scp_filter_new(p, UINT64_MAX, &ctx, err);
	if (r < 0)
		return r;
	dl_scmp.seccomp_release(ctx);
	return 0;
}

/* --- the document ------------------------------------------------------- */

enum {
	P_DEFAULT,
	P_ERRNO,
	P_ARCHES,
	P_ARCHMAP,
	P_SYSCALLS,
	P_FLAGS,
	P_LISTENER,
	P_METADATA,
	P__MAX
};

static int decode_profile(struct scp_parser *ps, const struct ynode *root)
{
	static const char *const keys[] = { "defaultAction", "defaultErrnoRet",	 "architectures",
					    "archMap",	     "syscalls",	 "flags",
					    "listenerPath",  "listenerMetadata", NULL };
	const struct ynode *v[P__MAX] = { 0 };
	int r;

	if (!root || y_is_null(root))
		return yaml_error(&ps->y, (struct yaml_loc){ 1, 1 },
				  "empty seccomp profile: expected {\"defaultAction\": ...}");
	r = collect(ps, root, "seccomp profile", keys, v);
	if (r >= 0 && !v[P_DEFAULT])
		return y_error(&ps->y, root, "seccomp profile needs 'defaultAction'");
	if (r >= 0)
		r = decode_action(ps, v[P_DEFAULT], v[P_ERRNO], "defaultAction",
				  &ps->p->default_action);
	if (r >= 0 && v[P_ARCHES])
		r = decode_arches(ps, v[P_ARCHES]);
	if (r >= 0 && v[P_ARCHMAP])
		r = decode_arch_map(ps, v[P_ARCHMAP]);
	if (r >= 0 && v[P_LISTENER] && !y_is_null(v[P_LISTENER]))
		return y_error(&ps->y, v[P_LISTENER],
			       "listenerPath: nslab runs no seccomp notification listener");
	if (r >= 0 && v[P_FLAGS] && !y_is_null(v[P_FLAGS]))
		r = warn(ps, v[P_FLAGS], "flags ignored (the filter is installed without flags)");
	if (r >= 0)
		r = decode_rules(ps, v[P_SYSCALLS]);
	return r;
}

int jail_seccomp_parse_string(const char *text, size_t len, const char *filename,
			      struct jail_seccomp_profile **ret, nslab_error *err)
{
	struct jail_seccomp_profile *p = calloc(1, sizeof(*p));
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct scp_parser ps = { .p = p };
	int r;

	if (!p || (filename && !(p->path = strdup(filename)))) {
		jail_seccomp_profile_free(p);
		return nslab_err_set(err, ENOMEM, "seccomp profile");
	}
	(void)pthread_mutex_init(&p->lock, NULL);
	ps.y = (struct yctx){ .file = p->path, .err = err };
	/* names and architectures are resolved while parsing */
	r = dl_scmp_load(err);
	if (r >= 0)
		r = yaml_read(&ps.y, text ? text : "", text ? len : 0, 0, &root);
	if (r >= 0)
		r = decode_profile(&ps, root);
	if (r >= 0)
		r = check_compiles(p, err);
	if (r < 0) {
		jail_seccomp_profile_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int jail_seccomp_load_file(const char *path, struct jail_seccomp_profile **ret, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = yaml_read_file(path, SECCOMP_PROFILE_SIZE_MAX, &text, &len, err);

	if (r < 0)
		return nslab_err_prefix(err, r, "seccomp profile");
	return jail_seccomp_parse_string(text, len, path, ret, err);
}
