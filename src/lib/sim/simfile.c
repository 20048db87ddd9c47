/* SPDX-License-Identifier: MIT */
/* sim/simfile: reading a sim file into its model (see the DOC in simfile.h). */
#include "sim/simfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/expr.h"
#include "sim/simfile-parse.h"

#define SIM_TIMEOUT_MS	  (10u * 60u * 1000u)
#define SIM_READY_TIMEOUT (30u * 1000u) /* a spawn's ready, when the step says nothing */

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
	free(st->firewall);
	free(st->replug_iface);
	free(st->replug_router);
	free(st->default_via);
	free(st->region_b);
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
		free(st->caps[i].match);
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

int simf_oom(struct sp *p)
{
	return nslab_err_set(p->y.err, ENOMEM, "%s", p->y.file);
}

/* A scalar's copy. */
int simf_dup_str(struct sp *p, const struct ynode *n, const char *what, char **ret)
{
	const char *s;
	int r = y_str(&p->y, n, what, &s);

	if (r < 0)
		return r;
	*ret = strdup(s);
	return *ret ? 0 : simf_oom(p);
}

int simf_duration(struct sp *p, const struct ynode *n, const char *what, uint64_t *ret)
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
int simf_command(struct sp *p, const struct ynode *n, struct sim_step *st)
{
	if (n->type == Y_SCALAR) {
		_cleanup_free_ char *copy = NULL;
		char *save = NULL;
		const char *s;
		int r = y_str(&p->y, n, "command", &s);

		if (r < 0)
			return r;
		if (!(copy = strdup(s)))
			return simf_oom(p);
		for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
			char **a = reallocarray(st->argv, st->argc + 2, sizeof(*a));

			if (!a)
				return simf_oom(p);
			st->argv = a;
			if (!(a[st->argc] = strdup(w)))
				return simf_oom(p);
			a[++st->argc] = NULL;
		}
	} else {
		int r = y_seq(&p->y, n, "command");

		if (r < 0)
			return r;
		st->argv = calloc(n->n + 1, sizeof(*st->argv));
		if (!st->argv)
			return simf_oom(p);
		for (size_t i = 0; i < n->n; i++) {
			const char *t;

			/* a word may be a block scalar: a script given to python3 -c, sh -c */
			r = y_text(&p->y, n->kids[i], "command word", &t);
			if (r >= 0 && !(st->argv[i] = strdup(t)))
				r = simf_oom(p);
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
			r = simf_dup_str(p, v, "ready", &st->ready_regex);
		}
	}
	if (r >= 0 && !st->ready_regex && !st->ready_port)
		return y_error(&p->y, n, "ready: expected stdout, stderr or port");
	return r;
}

/* ${ID.NAME} that every step (or a kind of step) has: no capture may take them (values.c). */
static bool reserved_value(const char *name)
{
	static const char *const names[] = { "stdout", "stderr",     "exit",  "ms",
					     "path",   "dir",	     "key",   "packets",
					     "bytes",  "iterations", "ticks", "picks" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* One capture: "SOURCE" or {regex: R, stream: S} or {pick: PATH} or {match: R, pick: PATH}. */
static int capture(struct sp *p, const struct ynode *k, const struct ynode *v, bool result,
		   struct sim_step *st)
{
	static const char *const keys[] = { "regex", "stream", "pick", "match", NULL };
	struct sim_capture *c = reallocarray(st->caps, st->n_caps + 1, sizeof(*c));
	static const char *const streams[] = { "stdout", "stderr", NULL };
	uint32_t seen = 0;
	unsigned s;
	int r;

	if (!c)
		return simf_oom(p);
	st->caps = c;
	c = &st->caps[st->n_caps++];
	*c = (struct sim_capture){ .result = result, .loc = k->loc, .pick = st->json };
	r = simf_dup_str(p, k, "capture name", &c->name);
	if (r >= 0 && reserved_value(c->name))
		return y_error(&p->y, k, "capture '%s': the name of a step's own value", c->name);
	if (r >= 0 && v->type == Y_SCALAR)
		return simf_dup_str(p, v, "capture", &c->source);
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
		if (key == 3) {
			r = simf_dup_str(p, v->kids[i + 1], "match", &c->match);
			continue;
		}
		c->pick = key == 2;
		free(c->source);
		r = simf_dup_str(p, v->kids[i + 1], keys[key], &c->source);
	}
	if (r >= 0 && !c->source)
		return y_error(&p->y, v, "capture '%s': expected regex or pick", c->name);
	if (r >= 0 && c->match && !c->pick)
		return y_error(&p->y, v, "capture '%s': match picks from JSON lines (pick:)",
			       c->name);
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
		return simf_oom(p);
	for (size_t i = 0; i < count; i++) {
		int r = simf_dup_str(p, n->type == Y_SEQ ? n->kids[i] : n, "assert",
				     &st->asserts[i]);

		if (r < 0)
			return r;
		st->n_asserts++;
	}
	return 0;
}

static const char *const step_keys[] = {
	"id",	  "run",    "spawn",	"wait",	   "wait-for",	  "assert",   "node",	 "timeout",
	"ready",  "parse",  "captures", "results", "expect_exit", "gen-file", "content", "link",
	"router", "device", "capture",	"dns",	   "gen-certs",	  "repeat",   "every",	 "for",
	"times",  "seed",   "steps",	"choose",  "use",	  "with",     "region",	 NULL
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
		      { K_USE, SIM_GROUP },	{ K_REGION, SIM_REGION } };
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
			"device, router, region, capture, dns, gen-certs, repeat, every or use");
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

static int step_values(struct sp *p, const struct ynode *const *v, struct sim_step *st, int what)
{
	static const char *const parses[] = { "text", "json", NULL };
	uint64_t u;
	unsigned e;
	int r = 0;

	if (v[K_NODE])
		r = simf_dup_str(p, v[K_NODE], "node", &st->node);
	if (r >= 0 && v[K_TIMEOUT])
		r = simf_duration(p, v[K_TIMEOUT], "timeout", &st->timeout_ms);
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
		r = simf_command(p, v[what], st);
	if (r >= 0 && what == K_WAIT)
		r = simf_duration(p, v[K_WAIT], "wait", &st->wait_ms);
	if (r >= 0 && what == K_WAIT_FOR)
		r = simf_dup_str(p, v[K_WAIT_FOR], "wait-for", &st->target);
	if (r >= 0 && what == K_ASSERT)
		r = asserts(p, v[K_ASSERT], st);
	if (r >= 0 && what == K_GEN_FILE)
		r = simf_file_name(p, v[K_GEN_FILE], st);
	if (r >= 0 && (what == K_LINK || what == K_DEVICE))
		r = simf_link_change(p, v[what], st, what == K_DEVICE);
	if (r >= 0 && what == K_ROUTER)
		r = simf_router_change(p, v[K_ROUTER], st);
	if (r >= 0 && what == K_REGION)
		r = simf_region_change(p, v[K_REGION], st);
	if (r >= 0 && what == K_CAPTURE)
		r = simf_capture_change(p, v[K_CAPTURE], v[K_ID], st);
	if (r >= 0 && what == K_DNS)
		r = simf_dns_change(p, v[K_DNS], st);
	if (r >= 0 && what == K_GEN_CERTS)
		r = simf_certs_change(p, v[K_GEN_CERTS], st);
	if (r >= 0 && what == K_REPEAT)
		r = simf_repeat_how(p, v[K_REPEAT], st);
	if (r >= 0 && what == K_EVERY)
		r = simf_duration(p, v[K_EVERY], "every", &st->wait_ms);
	if (r >= 0 && what == K_EVERY && !st->wait_ms)
		r = y_error(&p->y, v[K_EVERY], "every: an interval above 0");
	if (r >= 0 && v[K_FOR])
		r = simf_duration(p, v[K_FOR], "for", &st->for_ms);
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
			r = simf_oom(p);
	}
	if (r >= 0 && v[K_READY])
		r = ready(p, v[K_READY], st);
	if (r >= 0 && v[K_CAPTURES])
		r = captures(p, v[K_CAPTURES], false, st);
	if (r >= 0 && v[K_RESULTS])
		r = captures(p, v[K_RESULTS], true, st);
	return r;
}

bool simf_is_id(const char *s)
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
		return asprintf(&st->id, "step-%zu", index + 1) < 0 ? simf_oom(p) : 0;
	r = simf_dup_str(p, idn, "id", &st->id);
	if (r < 0)
		return r;
	if (!simf_is_id(st->id))
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
			return simf_oom(p);
		p->s->steps = a;
		p->cap = ncap;
	}
	*ret = p->s->n_steps;
	return 0;
}

int simf_parse_step(struct sp *p, const struct ynode *n, size_t *index)
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

		r = simf_parse_steps(p, v[K_STEPS] ? v[K_STEPS] : v[K_CHOOSE],
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
		r = simf_use_template(p, v, at, index);
	return r;
}

/* A sequence of steps into steps[*index...]; ret_direct: how many are its own. */
int simf_parse_steps(struct sp *p, const struct ynode *seq, const char *what, size_t *index,
		     size_t *ret_direct)
{
	int r = y_seq(&p->y, seq, what);

	if (r >= 0 && !seq->n && strcmp(what, "steps") != 0)
		return y_error(&p->y, seq, "%s: no steps", what);
	for (size_t i = 0; r >= 0 && i < seq->n; i++)
		r = simf_parse_step(p, seq->kids[i], index);
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
		r = simf_parse_top(&p, root, false);
	if (r >= 0 && !s->name)
		r = simf_default_name(&p);
	if (r >= 0)
		r = check_targets(&p);
	simf_clear(&p);
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
