/* SPDX-License-Identifier: MIT */
/* sim/simfile: reading a sim file into its model (see the DOC in simfile.h). */
#include "sim/simfile.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/capture.h"
#include "sim/expr.h"

#define SIM_FILE_MAX	  (4u << 20)
#define SIM_TIMEOUT_MS	  (10u * 60u * 1000u)
#define SIM_READY_TIMEOUT (30u * 1000u) /* a spawn's ready, when the step says nothing */
#define SIM_ID_MAX	  64

#define SIM_DEPTH_MAX 16 /* extends: and use: nested this deep at most (a cycle otherwise) */

/* A step template: its steps (a sequence, or one step) in a tree kept until the parse ends. */
struct sim_template {
	const char *name;
	const struct ynode *steps;
	const char *file; /* for messages about its steps */
};

struct sp {
	struct yctx y;
	struct sim_file *s;
	size_t cap; /* of s->steps */
	unsigned depth;
	/* extends: and use: make trees and names that live until the parse ends */
	struct ynode **trees;
	size_t n_trees;
	char **paths;
	size_t n_paths;
	struct sim_template *templates; /* the base's first: a lookup goes from the end */
	size_t n_templates;
};

static void step_clear(struct sim_step *st)
{
	free(st->id);
	free(st->node);
	for (size_t i = 0; i < st->argc; i++)
		free(st->argv[i]);
	free(st->argv);
	free(st->target);
	free(st->content);
	free(st->iface);
	free(st->nat);
	free(st->filter);
	free(st->dns_name);
	free(st->dns_target);
	for (size_t i = 0; i < st->n_words; i++)
		free(st->words[i]);
	free(st->words);
	free(st->ready_regex);
	for (size_t i = 0; i < st->n_asserts; i++)
		free(st->asserts[i]);
	free(st->asserts);
	for (size_t i = 0; i < st->n_caps; i++) {
		free(st->caps[i].name);
		free(st->caps[i].source);
	}
	free(st->caps);
}

struct sim_file *sim_file_free(struct sim_file *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_steps; i++)
		step_clear(&s->steps[i]);
	free(s->steps);
	free(s->path);
	free(s->name);
	free(s->lab_path);
	ynode_free(s->lab_tree);
	free(s);
	return NULL;
}

static int oom(struct sp *p)
{
	return nslab_err_set(p->y.err, ENOMEM, "%s", p->y.file);
}

/* A scalar's copy. */
static int dup_str(struct sp *p, const struct ynode *n, const char *what, char **ret)
{
	const char *s;
	int r = y_str(&p->y, n, what, &s);

	if (r < 0)
		return r;
	*ret = strdup(s);
	return *ret ? 0 : oom(p);
}

static int duration(struct sp *p, const struct ynode *n, const char *what, uint64_t *ret)
{
	nslab_error e = { 0 };
	const char *s;
	int r = y_str(&p->y, n, what, &s);

	if (r < 0)
		return r;
	if (sim_duration_ms(s, ret, &e) < 0)
		return y_error(&p->y, n, "%s: %s", what, e.msg);
	return 0;
}

/* A command: a sequence of words (or one string, split on blanks). */
static int command(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	if (n->type == Y_SCALAR) {
		_cleanup_free_ char *copy = NULL;
		char *save = NULL;
		const char *s;
		int r = y_str(&p->y, n, "command", &s);

		if (r < 0)
			return r;
		if (!(copy = strdup(s)))
			return oom(p);
		for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
			char **a = reallocarray(st->argv, st->argc + 2, sizeof(*a));

			if (!a)
				return oom(p);
			st->argv = a;
			if (!(a[st->argc] = strdup(w)))
				return oom(p);
			a[++st->argc] = NULL;
		}
	} else {
		int r = y_seq(&p->y, n, "command");

		if (r < 0)
			return r;
		st->argv = calloc(n->n + 1, sizeof(*st->argv));
		if (!st->argv)
			return oom(p);
		for (size_t i = 0; i < n->n; i++) {
			const char *t;

			/* a word may be a block scalar: a script given to python3 -c, sh -c */
			r = y_text(&p->y, n->kids[i], "command word", &t);
			if (r >= 0 && !(st->argv[i] = strdup(t)))
				r = oom(p);
			if (r < 0)
				return r;
			st->argc++;
		}
	}
	if (!st->argc)
		return y_error(&p->y, n, "an empty command");
	return 0;
}

static int ready(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	static const char *const keys[] = { "stdout", "stderr", "port", NULL };
	uint32_t seen = 0;
	uint64_t port;
	int r = y_map(&p->y, n, "ready", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *v = n->kids[i + 1];
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 2) {
			r = y_uint(&p->y, v, "ready port", 1, 65535, "1..65535", &port);
			st->ready_port = (unsigned)port;
		} else {
			st->ready_stream = k == 1 ? SIM_STDERR : SIM_STDOUT;
			free(st->ready_regex);
			r = dup_str(p, v, "ready", &st->ready_regex);
		}
	}
	if (r >= 0 && !st->ready_regex && !st->ready_port)
		return y_error(&p->y, n, "ready: expected stdout, stderr or port");
	return r;
}

/* One capture: "SOURCE" or {regex: R, stream: S} or {pick: PATH}. */
static int capture(struct sp *p, const struct ynode *k, const struct ynode *v, bool result,
		   struct sim_step *st)
{
	static const char *const keys[] = { "regex", "stream", "pick", NULL };
	struct sim_capture *c = reallocarray(st->caps, st->n_caps + 1, sizeof(*c));
	static const char *const streams[] = { "stdout", "stderr", NULL };
	uint32_t seen = 0;
	unsigned s;
	int r;

	if (!c)
		return oom(p);
	st->caps = c;
	c = &st->caps[st->n_caps++];
	*c = (struct sim_capture){ .result = result, .loc = k->loc, .pick = st->json };
	r = dup_str(p, k, "capture name", &c->name);
	if (r >= 0 && v->type == Y_SCALAR)
		return dup_str(p, v, "capture", &c->source);
	if (r >= 0)
		r = y_map(&p->y, v, "capture", c->name);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		int key = y_key(&p->y, v->kids[i], keys, SIZE_MAX, &seen);

		if (key < 0)
			return key;
		if (key == 1) {
			r = y_enum(&p->y, v->kids[i + 1], "stream", streams, "stdout or stderr",
				   &s);
			c->stream = (enum sim_stream)s;
			continue;
		}
		c->pick = key == 2;
		free(c->source);
		r = dup_str(p, v->kids[i + 1], keys[key], &c->source);
	}
	if (r >= 0 && !c->source)
		return y_error(&p->y, v, "capture '%s': expected regex or pick", c->name);
	return r;
}

static int captures(struct sp *p, const struct ynode *n, bool result, struct sim_step *st)
{
	int r = y_map(&p->y, n, result ? "results" : "captures", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2)
		r = capture(p, n->kids[i], n->kids[i + 1], result, st);
	return r;
}

static int asserts(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	size_t count = n->type == Y_SEQ ? n->n : 1;

	st->asserts = calloc(count, sizeof(*st->asserts));
	if (!st->asserts)
		return oom(p);
	for (size_t i = 0; i < count; i++) {
		int r = dup_str(p, n->type == Y_SEQ ? n->kids[i] : n, "assert", &st->asserts[i]);

		if (r < 0)
			return r;
		st->n_asserts++;
	}
	return 0;
}

enum step_key {
	K_ID,
	K_RUN,
	K_SPAWN,
	K_WAIT,
	K_WAIT_FOR,
	K_ASSERT,
	K_NODE,
	K_TIMEOUT,
	K_READY,
	K_PARSE,
	K_CAPTURES,
	K_RESULTS,
	K_EXPECT_EXIT,
	K_GEN_FILE,
	K_CONTENT,
	K_LINK,
	K_ROUTER,
	K_DEVICE,
	K_CAPTURE,
	K_DNS,
	K_GEN_CERTS,
	K_REPEAT,
	K_EVERY,
	K_FOR,
	K_TIMES,
	K_SEED,
	K_STEPS,
	K_CHOOSE,
	K_USE,
	K_WITH,
	K_N
};

static const char *const step_keys[] = {
	"id",	  "run",    "spawn",	"wait",	   "wait-for",	  "assert",   "node",	 "timeout",
	"ready",  "parse",  "captures", "results", "expect_exit", "gen-file", "content", "link",
	"router", "device", "capture",	"dns",	   "gen-certs",	  "repeat",   "every",	 "for",
	"times",  "seed",   "steps",	"choose",  "use",	  "with",     NULL
};

/* Which kind the step is: exactly one of the kinds' keys. */
static int step_kind(struct sp *p, const struct ynode *n, const struct ynode *const *v,
		     struct sim_step *st)
{
	static const struct {
		enum step_key key;
		enum sim_step_kind kind;
	} kinds[] = { { K_RUN, SIM_RUN },	{ K_SPAWN, SIM_SPAWN },
		      { K_WAIT, SIM_WAIT },	{ K_WAIT_FOR, SIM_WAIT_FOR },
		      { K_ASSERT, SIM_ASSERT }, { K_GEN_FILE, SIM_GEN_FILE },
		      { K_LINK, SIM_LINK },	{ K_ROUTER, SIM_ROUTER },
		      { K_DEVICE, SIM_DEVICE }, { K_CAPTURE, SIM_CAPTURE },
		      { K_DNS, SIM_DNS },	{ K_GEN_CERTS, SIM_GEN_CERTS },
		      { K_REPEAT, SIM_REPEAT }, { K_EVERY, SIM_EVERY },
		      { K_USE, SIM_GROUP } };
	int found = -1;

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		int k = (int)kinds[i].key;

		if (!v[k])
			continue;
		if (found >= 0)
			return y_error(&p->y, v[k], "a step does one thing: '%s' and '%s' together",
				       step_keys[found], step_keys[k]);
		found = k;
		st->kind = kinds[i].kind;
	}
	if (found < 0)
		return y_error(
			&p->y, n,
			"a step needs one of run, spawn, wait, wait-for, assert, gen-file, link, "
			"device, router, capture, dns, gen-certs, repeat, every or use");
	return found;
}

/* Keys that make sense for the kind only. */
static int step_extra_keys(struct sp *p, const struct ynode *const *v, const struct sim_step *st)
{
	static const struct {
		enum step_key key;
		unsigned kinds; /* bit per enum sim_step_kind */
	} allowed[] = {
		{ K_NODE, 1u << SIM_RUN | 1u << SIM_SPAWN },
		{ K_TIMEOUT,
		  1u << SIM_RUN | 1u << SIM_SPAWN | 1u << SIM_WAIT_FOR | 1u << SIM_GEN_CERTS },
		{ K_READY, 1u << SIM_SPAWN },
		{ K_PARSE, 1u << SIM_RUN },
		{ K_CAPTURES, 1u << SIM_RUN },
		{ K_RESULTS, 1u << SIM_RUN },
		{ K_EXPECT_EXIT, 1u << SIM_RUN },
		{ K_CONTENT, 1u << SIM_GEN_FILE },
		{ K_FOR, 1u << SIM_EVERY },
		{ K_TIMES, 1u << SIM_EVERY },
		{ K_SEED, 1u << SIM_EVERY },
		{ K_STEPS, 1u << SIM_REPEAT },
		{ K_CHOOSE, 1u << SIM_EVERY },
		{ K_WITH, 1u << SIM_GROUP },
	};

	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (v[allowed[i].key] && !(allowed[i].kinds & (1u << st->kind)))
			return y_error(&p->y, v[allowed[i].key], "'%s' does not go with this step",
				       step_keys[allowed[i].key]);
	if (st->kind == SIM_REPEAT && !v[K_STEPS])
		return y_error(&p->y, v[K_REPEAT], "repeat needs its steps:");
	if (st->kind == SIM_EVERY && !v[K_CHOOSE])
		return y_error(&p->y, v[K_EVERY], "every needs the steps to choose from (choose:)");
	if (st->kind == SIM_EVERY && !v[K_FOR] == !v[K_TIMES])
		return y_error(&p->y, v[K_EVERY], "every needs for: DURATION or times: N (one)");
	if (st->kind == SIM_GEN_FILE && !v[K_CONTENT])
		return y_error(&p->y, v[K_GEN_FILE], "gen-file needs its content:");
	if ((st->kind == SIM_RUN || st->kind == SIM_SPAWN) && !v[K_NODE])
		return y_error(&p->y, v[st->kind == SIM_RUN ? K_RUN : K_SPAWN],
			       "a command needs the node it runs in (node:)");
	return 0;
}

/* gen-file's NAME: one path component of the sim's files/ directory. */
static int file_name(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	int r = dup_str(p, n, "gen-file", &st->target);

	if (r < 0)
		return r;
	if (strchr(st->target, '/') || strcmp(st->target, ".") == 0 ||
	    strcmp(st->target, "..") == 0 || strlen(st->target) > 200)
		return y_error(&p->y, n, "gen-file '%s': a file name, without '/'", st->target);
	return 0;
}

/*
 * link: {node, iface, set, clear, state}: what to change on one link;
 * device: {name, iface, set, clear, state}: the same on each of the device's
 * interfaces (iface: narrows it to one).
 */
static int link_change(struct sp *p, const struct ynode *n, struct sim_step *st, bool device)
{
	static const char *const link_keys[] = { "node", "iface", "set", "clear", "state", NULL };
	static const char *const device_keys[] = { "name", "iface", "set", "clear", "state", NULL };
	static const char *const states[] = { "down", "up", NULL };
	const char *what = device ? "device" : "link";
	const struct ynode *set = NULL;
	uint32_t seen = 0;
	unsigned e;
	int r = y_map(&p->y, n, what, NULL);

	st->link_state = -1;
	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *v = n->kids[i + 1];
		int k = y_key(&p->y, n->kids[i], device ? device_keys : link_keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 0)
			r = dup_str(p, v, device ? "device name" : "link node", &st->node);
		else if (k == 1)
			r = dup_str(p, v, "iface", &st->iface);
		else if (k == 2)
			set = v;
		else if (k == 3)
			r = y_bool(&p->y, v, "clear", &st->clear);
		else {
			r = y_enum(&p->y, v, "state", states, "up or down", &e);
			st->link_state = (int)e;
		}
	}
	if (r < 0)
		return r;
	if (device && !st->node)
		return y_error(&p->y, n, "device: name says which device");
	if (!device && (!st->node || !st->iface))
		return y_error(&p->y, n, "link: node and iface say which link");
	if (set && st->clear)
		return y_error(&p->y, set, "%s: set and clear together", what);
	if (!set && !st->clear && st->link_state < 0)
		return y_error(&p->y, n, "%s: expected set, clear or state", what);
	if (set) {
		struct sim_step words = { 0 };

		r = command(p, set, &words);
		st->words = words.argv;
		st->n_words = words.argc;
	}
	return r;
}

/* router: {name, nat, flush-nat}: the run-time changes `nslab router` makes. */
static int router_change(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	static const char *const keys[] = { "name", "nat", "flush-nat", NULL };
	uint32_t seen = 0;
	int r = y_map(&p->y, n, "router", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *v = n->kids[i + 1];
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 0)
			r = dup_str(p, v, "router name", &st->node);
		else if (k == 1)
			r = dup_str(p, v, "nat", &st->nat);
		else
			r = y_bool(&p->y, v, "flush-nat", &st->flush_nat);
	}
	if (r < 0)
		return r;
	if (!st->node)
		return y_error(&p->y, n, "router: name says which router");
	if (!st->nat && !st->flush_nat)
		return y_error(&p->y, n, "router: expected nat or flush-nat");
	return 0;
}

/* A capture's filter, compiled once here so that a typo is the file's error. */
static int capture_filter(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	nslab_error e = { 0 };
	int r = dup_str(p, n, "capture filter", &st->filter);

	if (r >= 0 && pkt_capture_check_filter(st->filter, &e) < 0)
		return y_error(&p->y, n, "%s", e.msg);
	return r;
}

/*
 * capture: {node, iface, filter} starts one (the step needs an id: the stop
 * and the values name it); capture: {stop: ID} stops it.
 */
static int capture_change(struct sp *p, const struct ynode *n, const struct ynode *idn,
			  struct sim_step *st)
{
	static const char *const keys[] = { "node", "iface", "filter", "stop", NULL };
	uint32_t seen = 0;
	int r = y_map(&p->y, n, "capture", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *v = n->kids[i + 1];
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 0)
			r = dup_str(p, v, "capture node", &st->node);
		else if (k == 1)
			r = dup_str(p, v, "capture iface", &st->iface);
		else if (k == 2)
			r = capture_filter(p, v, st);
		else
			r = dup_str(p, v, "capture stop", &st->target);
	}
	if (r < 0)
		return r;
	if (st->target && (st->node || st->iface || st->filter))
		return y_error(&p->y, n, "capture: stop goes alone");
	if (!st->target && (!st->node || !st->iface))
		return y_error(&p->y, n, "capture: node and iface say where (or stop: ID)");
	if (!st->target && !idn)
		return y_error(&p->y, n, "capture: a capture needs an id (its file and values)");
	return 0;
}

/* gen-certs: {node, names, days}: a certificate for the node's names and addresses. */
static int certs_change(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	static const char *const keys[] = { "node", "names", "days", NULL };
	uint32_t seen = 0;
	uint64_t days = 30;
	int r = y_map(&p->y, n, "gen-certs", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *v = n->kids[i + 1];
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);
		struct sim_step names = { 0 };

		if (k < 0)
			return k;
		if (k == 0) {
			r = dup_str(p, v, "gen-certs node", &st->node);
		} else if (k == 1) {
			r = command(p, v, &names);
			st->words = names.argv;
			st->n_words = names.argc;
		} else {
			r = y_uint(&p->y, v, "days", 1, 36500, "1..36500", &days);
		}
	}
	st->days = (unsigned)days;
	if (r >= 0 && !st->node)
		return y_error(&p->y, n, "gen-certs: node says whose certificate");
	return r;
}

/* repeat: N (a count) or a duration (again until it is over). */
static int repeat_how(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	const char *s;
	int r = y_str(&p->y, n, "repeat", &s);

	if (r < 0)
		return r;
	if (strspn(s, "0123456789") == strlen(s))
		return y_uint(&p->y, n, "repeat", 1, 1000000, "1..1000000 or a duration",
			      &st->times);
	r = duration(p, n, "repeat", &st->for_ms);
	if (r >= 0 && !st->for_ms)
		return y_error(&p->y, n, "repeat: a duration above 0");
	return r;
}

/* dns: {name, target}: a name of the lab's /etc/hosts; target null removes it. */
static int dns_change(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	static const char *const keys[] = { "name", "target", NULL };
	const struct ynode *target = NULL;
	uint32_t seen = 0;
	int r = y_map(&p->y, n, "dns", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		int k = y_key(&p->y, n->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		if (k == 0)
			r = dup_str(p, n->kids[i + 1], "dns name", &st->dns_name);
		else
			target = n->kids[i + 1];
	}
	if (r < 0)
		return r;
	if (!st->dns_name || !target)
		return y_error(&p->y, n,
			       "dns: expected name and target (a node, an address or null)");
	return y_is_null(target) ? 0 : dup_str(p, target, "dns target", &st->dns_target);
}

static int step_values(struct sp *p, const struct ynode *const *v, struct sim_step *st, int what)
{
	static const char *const parses[] = { "text", "json", NULL };
	uint64_t u;
	unsigned e;
	int r = 0;

	if (v[K_NODE])
		r = dup_str(p, v[K_NODE], "node", &st->node);
	if (r >= 0 && v[K_TIMEOUT])
		r = duration(p, v[K_TIMEOUT], "timeout", &st->timeout_ms);
	if (r >= 0 && v[K_PARSE]) {
		r = y_enum(&p->y, v[K_PARSE], "parse", parses, "text or json", &e);
		st->json = e == 1;
	}
	if (r >= 0 && v[K_EXPECT_EXIT]) {
		if (y_is_null(v[K_EXPECT_EXIT])) {
			st->expect_exit = -1;
		} else {
			r = y_uint(&p->y, v[K_EXPECT_EXIT], "expect_exit", 0, 255, "0..255 or null",
				   &u);
			st->expect_exit = (int)u;
		}
	}
	if (r >= 0 && (what == K_RUN || what == K_SPAWN))
		r = command(p, v[what], st);
	if (r >= 0 && what == K_WAIT)
		r = duration(p, v[K_WAIT], "wait", &st->wait_ms);
	if (r >= 0 && what == K_WAIT_FOR)
		r = dup_str(p, v[K_WAIT_FOR], "wait-for", &st->target);
	if (r >= 0 && what == K_ASSERT)
		r = asserts(p, v[K_ASSERT], st);
	if (r >= 0 && what == K_GEN_FILE)
		r = file_name(p, v[K_GEN_FILE], st);
	if (r >= 0 && (what == K_LINK || what == K_DEVICE))
		r = link_change(p, v[what], st, what == K_DEVICE);
	if (r >= 0 && what == K_ROUTER)
		r = router_change(p, v[K_ROUTER], st);
	if (r >= 0 && what == K_CAPTURE)
		r = capture_change(p, v[K_CAPTURE], v[K_ID], st);
	if (r >= 0 && what == K_DNS)
		r = dns_change(p, v[K_DNS], st);
	if (r >= 0 && what == K_GEN_CERTS)
		r = certs_change(p, v[K_GEN_CERTS], st);
	if (r >= 0 && what == K_REPEAT)
		r = repeat_how(p, v[K_REPEAT], st);
	if (r >= 0 && what == K_EVERY)
		r = duration(p, v[K_EVERY], "every", &st->wait_ms);
	if (r >= 0 && what == K_EVERY && !st->wait_ms)
		r = y_error(&p->y, v[K_EVERY], "every: an interval above 0");
	if (r >= 0 && v[K_FOR])
		r = duration(p, v[K_FOR], "for", &st->for_ms);
	if (r >= 0 && v[K_TIMES])
		r = y_uint(&p->y, v[K_TIMES], "times", 1, 1000000, "1..1000000", &st->times);
	if (r >= 0 && what == K_EVERY)
		st->seed = 1;
	if (r >= 0 && v[K_SEED])
		r = y_uint(&p->y, v[K_SEED], "seed", 0, UINT64_MAX, "a number", &st->seed);
	if (r >= 0 && v[K_CONTENT]) {
		const char *t;

		r = y_text(&p->y, v[K_CONTENT], "content", &t);
		if (r >= 0 && !(st->content = strdup(t)))
			r = oom(p);
	}
	if (r >= 0 && v[K_READY])
		r = ready(p, v[K_READY], st);
	if (r >= 0 && v[K_CAPTURES])
		r = captures(p, v[K_CAPTURES], false, st);
	if (r >= 0 && v[K_RESULTS])
		r = captures(p, v[K_RESULTS], true, st);
	return r;
}

static bool is_id(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > SIM_ID_MAX)
		return false;
	for (const char *c = s; *c; c++)
		if (!(*c == '-' || *c == '_' || (*c >= '0' && *c <= '9') ||
		      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
			return false;
	return true;
}

static int step_id(struct sp *p, const struct ynode *idn, struct sim_step *st, size_t index)
{
	int r;

	if (!idn)
		return asprintf(&st->id, "step-%zu", index + 1) < 0 ? oom(p) : 0;
	r = dup_str(p, idn, "id", &st->id);
	if (r < 0)
		return r;
	if (!is_id(st->id))
		return y_error(&p->y, idn, "id '%s': letters, digits, '-' and '_' only", st->id);
	for (size_t i = 0; i < index; i++)
		if (strcmp(p->s->steps[i].id, st->id) == 0)
			return y_error(&p->y, idn, "id '%s' is taken by step %zu", st->id, i + 1);
	return 0;
}

/* A new entry at the end of steps[] (which may move: hold indexes, not pointers, across calls). */
static int new_step(struct sp *p, size_t *ret)
{
	if (p->s->n_steps == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct sim_step *a = reallocarray(p->s->steps, ncap, sizeof(*a));

		if (!a)
			return oom(p);
		p->s->steps = a;
		p->cap = ncap;
	}
	*ret = p->s->n_steps;
	return 0;
}

static int parse_steps(struct sp *p, const struct ynode *seq, const char *what, size_t *index,
		       size_t *ret_direct);

static int use_template(struct sp *p, const struct ynode *const *v, size_t at, size_t *index);

static int parse_step(struct sp *p, const struct ynode *n, size_t *index)
{
	const struct ynode *v[K_N] = { 0 };
	size_t at = 0;
	struct sim_step *st;
	uint32_t seen = 0;
	int r = new_step(p, &at), what;

	if (r < 0)
		return r;
	r = y_map(&p->y, n, "step", NULL);
	st = &p->s->steps[at];
	*st = (struct sim_step){ .loc = n->loc };
	p->s->n_steps = at + 1;
	(*index)++;
	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		int k = y_key(&p->y, n->kids[i], step_keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		v[k] = n->kids[i + 1];
	}
	if (r < 0)
		return r;
	what = step_kind(p, n, v, st);
	if (what < 0)
		return what;
	r = step_extra_keys(p, v, st);
	if (r >= 0)
		r = step_id(p, v[K_ID], st, at);
	if (r >= 0)
		r = step_values(p, v, st, what);
	if (r >= 0 && st->kind == SIM_SPAWN && !st->timeout_ms)
		st->timeout_ms = SIM_READY_TIMEOUT;
	if (r >= 0 && (v[K_STEPS] || v[K_CHOOSE])) {
		size_t direct = 0;

		r = parse_steps(p, v[K_STEPS] ? v[K_STEPS] : v[K_CHOOSE],
				v[K_STEPS] ? "steps" : "choose", index, &direct);
		/* steps[] may have moved: at, not st */
		p->s->steps[at].n_body = *index - at - 1;
		p->s->steps[at].n_choices = direct;
		/* an empty body repeated for a while would spin */
		if (r >= 0 && !direct)
			r = y_error(&p->y, v[K_STEPS] ? v[K_STEPS] : v[K_CHOOSE], "%s: no steps",
				    v[K_STEPS] ? "steps" : "choose");
	}
	if (r >= 0 && v[K_USE])
		r = use_template(p, v, at, index);
	return r;
}

/* A sequence of steps into steps[*index...]; ret_direct: how many are its own. */
static int parse_steps(struct sp *p, const struct ynode *seq, const char *what, size_t *index,
		       size_t *ret_direct)
{
	int r = y_seq(&p->y, seq, what);

	if (r >= 0 && !seq->n && strcmp(what, "steps") != 0)
		return y_error(&p->y, seq, "%s: no steps", what);
	for (size_t i = 0; r >= 0 && i < seq->n; i++)
		r = parse_step(p, seq->kids[i], index);
	*ret_direct = seq->n;
	return r;
}

/* wait-for names an earlier spawn step; a capture's stop an earlier capture's start. */
static int check_targets(struct sp *p)
{
	for (size_t i = 0; i < p->s->n_steps; i++) {
		const struct sim_step *st = &p->s->steps[i], *t;
		bool capture = st->kind == SIM_CAPTURE;

		if ((st->kind != SIM_WAIT_FOR && !capture) || !st->target)
			continue;
		t = NULL;
		for (size_t k = 0; k < i && !t; k++)
			if (strcmp(p->s->steps[k].id, st->target) == 0)
				t = &p->s->steps[k];
		if (!t || t->kind != (capture ? SIM_CAPTURE : SIM_SPAWN) || (capture && t->target))
			return yaml_error(&p->y, st->loc,
					  "%s '%s': no %s step of that id before it",
					  capture ? "capture stop" : "wait-for", st->target,
					  capture ? "capture" : "spawn");
	}
	return 0;
}

/* A copy of a tree: inline labs outlive the parse, templates are copied to be filled in. */
static struct ynode *ynode_copy(const struct ynode *n)
{
	struct ynode *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	*c = (struct ynode){
		.type = n->type, .plain = n->plain, .block = n->block, .loc = n->loc, .len = n->len
	};
	if (n->text && !(c->text = strndup(n->text, n->len)))
		return ynode_free(c);
	if (n->n && !(c->kids = calloc(n->n, sizeof(*c->kids))))
		return ynode_free(c);
	c->cap = n->n;
	for (; c->n < n->n; c->n++)
		if (!(c->kids[c->n] = ynode_copy(n->kids[c->n])))
			return ynode_free(c);
	return c;
}

/* lab: FILE (relative to the file naming it) or the lab itself (a mapping, copied). */
static int lab_of(struct sp *p, const struct ynode *n)
{
	_cleanup_free_ char *copy = strdup(p->y.file);
	const char *s;
	int r;

	free(p->s->lab_path);
	p->s->lab_path = NULL;
	p->s->lab_tree = ynode_free(p->s->lab_tree);
	p->s->lab_loc = n->loc;
	if (!copy)
		return oom(p);
	if (n->type == Y_MAP) {
		p->s->lab_tree = ynode_copy(n);
		p->s->lab_path = strdup(p->y.file); /* its messages name the file it is in */
		return p->s->lab_tree && p->s->lab_path ? 0 : oom(p);
	}
	r = y_str(&p->y, n, "lab", &s);
	if (r < 0)
		return r;
	if (*s == '/')
		p->s->lab_path = strdup(s);
	else if (asprintf(&p->s->lab_path, "%s/%s", dirname(copy), s) < 0)
		p->s->lab_path = NULL;
	return p->s->lab_path ? 0 : oom(p);
}

static int default_name(struct sp *p)
{
	_cleanup_free_ char *copy = strdup(p->s->path);
	char *b, *dot;

	if (!copy)
		return oom(p);
	b = basename(copy);
	dot = strrchr(b, '.');
	if (dot && dot != b)
		*dot = '\0';
	p->s->name = strdup(b);
	return p->s->name ? 0 : oom(p);
}

/* Keep a tree (or a path) until the parse ends. */
static int keep_tree(struct sp *p, struct ynode *t)
{
	struct ynode **a = reallocarray(p->trees, p->n_trees + 1, sizeof(*a));

	if (!a) {
		ynode_free(t);
		return oom(p);
	}
	p->trees = a;
	a[p->n_trees++] = t;
	return 0;
}

static int keep_path(struct sp *p, char *path)
{
	char **a = path ? reallocarray(p->paths, p->n_paths + 1, sizeof(*a)) : NULL;

	if (!a) {
		free(path);
		return oom(p);
	}
	p->paths = a;
	a[p->n_paths++] = path;
	return 0;
}

/* step-templates: {NAME: [STEP...] or STEP}: remembered, read when a step uses one. */
static int templates(struct sp *p, const struct ynode *n)
{
	int r = y_map(&p->y, n, "step-templates", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		struct sim_template *a;
		const char *name;

		r = y_str(&p->y, n->kids[i], "template name", &name);
		if (r < 0)
			return r;
		if (!is_id(name))
			return y_error(&p->y, n->kids[i],
				       "template '%s': letters, digits, '-' and '_' only", name);
		a = reallocarray(p->templates, p->n_templates + 1, sizeof(*a));
		if (!a)
			return oom(p);
		p->templates = a;
		a[p->n_templates++] = (struct sim_template){ .name = name,
							     .steps = n->kids[i + 1],
							     .file = p->y.file };
	}
	return r;
}

static int parse_file(struct sp *p, const char *path, const struct ynode *at);

/* extends: PATH: the base's lab, timeout, templates and steps come first. */
static int extends(struct sp *p, const struct ynode *n)
{
	_cleanup_free_ char *copy = strdup(p->y.file);
	char *path = NULL;
	const char *s;
	int r = y_str(&p->y, n, "extends", &s);

	if (r < 0)
		return r;
	if (!copy)
		return oom(p);
	if (*s == '/')
		path = strdup(s);
	else if (asprintf(&path, "%s/%s", dirname(copy), s) < 0)
		path = NULL;
	r = keep_path(p, path);
	return r < 0 ? r : parse_file(p, path, n);
}

enum top_key { T_SIM, T_LAB, T_TIMEOUT, T_STEPS, T_TEMPLATES, T_EXTENDS, T_N };

/* One file's top level; base: read through extends: (steps: may be left out). */
static int parse_top(struct sp *p, const struct ynode *root, bool base)
{
	static const char *const keys[] = { "sim",     "lab", "timeout", "steps", "step-templates",
					    "extends", NULL };
	const struct ynode *v[T_N] = { 0 };
	size_t index, direct;
	uint32_t seen = 0;
	int r = y_map(&p->y, root, "a sim file", NULL);

	for (size_t i = 0; r >= 0 && i + 1 < root->n; i += 2) {
		int k = y_key(&p->y, root->kids[i], keys, SIZE_MAX, &seen);

		if (k < 0)
			return k;
		v[k] = root->kids[i + 1];
	}
	if (r >= 0 && v[T_EXTENDS])
		r = extends(p, v[T_EXTENDS]);
	if (r >= 0 && v[T_SIM] && !base) {
		free(p->s->name);
		r = dup_str(p, v[T_SIM], "sim", &p->s->name);
	}
	if (r >= 0 && v[T_LAB])
		r = lab_of(p, v[T_LAB]);
	if (r >= 0 && v[T_TIMEOUT])
		r = duration(p, v[T_TIMEOUT], "timeout", &p->s->timeout_ms);
	if (r >= 0 && v[T_TEMPLATES])
		r = templates(p, v[T_TEMPLATES]);
	if (r < 0)
		return r;
	if (!p->s->lab_path && !base)
		return y_error(&p->y, root, "a sim needs its lab (lab: FILE)");
	if (!v[T_STEPS] && !base)
		return y_error(&p->y, root, "a sim needs steps");
	if (!v[T_STEPS])
		return 0;
	index = p->s->n_steps;
	return parse_steps(p, v[T_STEPS], "steps", &index, &direct);
}

/* A base file's text read and parsed in the same context (its messages name it). */
static int parse_file(struct sp *p, const char *path, const struct ynode *at)
{
	_cleanup_free_ char *text = NULL;
	const char *outer = p->y.file;
	struct ynode *root = NULL;
	size_t len;
	int r;

	if (++p->depth > SIM_DEPTH_MAX)
		return y_error(&p->y, at, "extends: more than %d deep (a cycle?)", SIM_DEPTH_MAX);
	r = yaml_read_file(path, SIM_FILE_MAX, &text, &len, p->y.err);
	if (r < 0)
		return nslab_err_prefix(p->y.err, r, "%s:%u:%u: extends", outer, at->loc.line,
					at->loc.col);
	p->y.file = path;
	r = yaml_read(&p->y, text, len, YAML_LITERAL_BLOCKS, &root);
	if (r >= 0 && !root)
		r = yaml_error(&p->y, (struct yaml_loc){ 1, 1 }, "empty");
	if (r >= 0)
		r = keep_tree(p, root);
	if (r >= 0)
		r = parse_top(p, root, true);
	p->y.file = outer;
	p->depth--;
	return r;
}

/* The template a step names, the closest file's first. */
static const struct sim_template *find_template(const struct sp *p, const char *name)
{
	for (size_t i = p->n_templates; i-- > 0;)
		if (strcmp(p->templates[i].name, name) == 0)
			return &p->templates[i];
	return NULL;
}

/* The value for ${group.KEY}: with:'s, or the group step's id. */
static const char *group_value(const struct ynode *with, const char *id, const char *key,
			       size_t len)
{
	if (len == 2 && strncmp(key, "id", 2) == 0)
		return id;
	for (size_t i = 0; with && i + 1 < with->n; i += 2)
		if (with->kids[i]->text && strlen(with->kids[i]->text) == len &&
		    strncmp(with->kids[i]->text, key, len) == 0)
			return with->kids[i + 1]->text ? with->kids[i + 1]->text : "";
	return NULL;
}

/* Where a template is used, for messages about its steps. */
struct group_use {
	const struct ynode *with;
	const char *id, *file;
	struct yaml_loc loc;
};

/* In every scalar of t, each ${group.KEY} replaced; -EINVAL names an unknown KEY. */
static int fill_group(struct sp *p, struct ynode *t, const struct group_use *u)
{
	static const char mark[] = "${group.";
	char *at;

	for (size_t i = 0; i < t->n; i++) {
		int r = fill_group(p, t->kids[i], u);

		if (r < 0)
			return r;
	}
	while (t->text && (at = strstr(t->text, mark))) {
		const char *key = at + sizeof(mark) - 1, *end = strchr(key, '}'), *v;
		char *out = NULL;

		v = end ? group_value(u->with, u->id, key, (size_t)(end - key)) : NULL;
		if (!v)
			return y_error(&p->y, t,
				       "no value for %.*s in the use of it at %s:%u:%u (with:)",
				       end ? (int)(end - at + 1) : (int)strlen(at), at, u->file,
				       u->loc.line, u->loc.col);
		if (asprintf(&out, "%.*s%s%s", (int)(at - t->text), t->text, v, end + 1) < 0)
			return oom(p);
		free(t->text);
		t->text = out;
		t->len = strlen(out);
		t->plain = false; /* a filled-in value is text, never YAML's null */
	}
	return 0;
}

/* use: NAME with: {KEY: VALUE}: the template's steps, filled in, as this step's body. */
static int use_template(struct sp *p, const struct ynode *const *v, size_t at, size_t *index)
{
	const struct sim_template *t;
	const char *name, *outer = p->y.file;
	struct ynode *copy;
	size_t direct;
	int r = y_str(&p->y, v[K_USE], "use", &name);

	if (r >= 0 && v[K_WITH])
		r = y_map(&p->y, v[K_WITH], "with", NULL);
	for (size_t i = 0; r >= 0 && v[K_WITH] && i < v[K_WITH]->n; i++)
		r = y_str(&p->y, v[K_WITH]->kids[i], "with", &(const char *){ NULL });
	if (r < 0)
		return r;
	t = find_template(p, name);
	if (!t)
		return y_error(&p->y, v[K_USE], "no step template '%s'", name);
	if (++p->depth > SIM_DEPTH_MAX)
		return y_error(&p->y, v[K_USE], "use: more than %d deep (a cycle?)", SIM_DEPTH_MAX);
	copy = ynode_copy(t->steps);
	r = copy ? keep_tree(p, copy) : oom(p);
	p->y.file = t->file;
	if (r >= 0)
		r = fill_group(p, copy,
			       &(struct group_use){ .with = v[K_WITH],
						    .id = p->s->steps[at].id,
						    .file = outer,
						    .loc = v[K_USE]->loc });
	if (r >= 0 && copy->type == Y_MAP)
		r = parse_step(p, copy, index);
	else if (r >= 0)
		r = parse_steps(p, copy, "template", index, &direct);
	p->y.file = outer;
	p->depth--;
	p->s->steps[at].n_body = *index - at - 1;
	return r;
}

static void sp_clear(struct sp *p)
{
	for (size_t i = 0; i < p->n_trees; i++)
		ynode_free(p->trees[i]);
	free(p->trees);
	for (size_t i = 0; i < p->n_paths; i++)
		free(p->paths[i]);
	free(p->paths);
	free(p->templates);
}

int sim_file_parse(const char *path, const char *text, size_t len, struct sim_file **ret,
		   nslab_error *err)
{
	_cleanup_(sim_file_freep) struct sim_file *s = calloc(1, sizeof(*s));
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct sp p = { .y = { .file = path, .err = err }, .s = s };
	int r;

	if (!s || !(s->path = strdup(path)))
		return nslab_err_set(err, ENOMEM, "%s", path);
	s->timeout_ms = SIM_TIMEOUT_MS;
	r = yaml_read(&p.y, text, len, YAML_LITERAL_BLOCKS, &root);
	if (r >= 0 && !root)
		r = nslab_err_setx(err, EINVAL, "%s: empty", path);
	if (r >= 0)
		r = parse_top(&p, root, false);
	if (r >= 0 && !s->name)
		r = default_name(&p);
	if (r >= 0)
		r = check_targets(&p);
	sp_clear(&p);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int sim_file_read(const char *path, struct sim_file **ret, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = yaml_read_file(path, SIM_FILE_MAX, &text, &len, err);

	return r < 0 ? r : sim_file_parse(path, text, len, ret, err);
}

const struct sim_step *sim_file_step(const struct sim_file *s, const char *id)
{
	for (size_t i = 0; i < s->n_steps; i++)
		if (strcmp(s->steps[i].id, id) == 0)
			return &s->steps[i];
	return NULL;
}
