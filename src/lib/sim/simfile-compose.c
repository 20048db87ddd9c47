/* SPDX-License-Identifier: MIT */
/*
 * sim/simfile-compose: what makes one sim of several parts: extends: (a
 * base file read in the same parse, its messages naming it), step templates
 * filled in by use:/with: (${group.KEY}), and a lab inline in the sim file
 * (its tree copied for the lab parser).
 */
#include "sim/simfile-parse.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		return simf_oom(p);
	if (n->type == Y_MAP) {
		p->s->lab_tree = ynode_copy(n);
		p->s->lab_path = strdup(p->y.file); /* its messages name the file it is in */
		return p->s->lab_tree && p->s->lab_path ? 0 : simf_oom(p);
	}
	r = y_str(&p->y, n, "lab", &s);
	if (r < 0)
		return r;
	if (*s == '/')
		p->s->lab_path = strdup(s);
	else if (asprintf(&p->s->lab_path, "%s/%s", dirname(copy), s) < 0)
		p->s->lab_path = NULL;
	return p->s->lab_path ? 0 : simf_oom(p);
}

int simf_default_name(struct sp *p)
{
	_cleanup_free_ char *copy = strdup(p->s->path);
	char *b, *dot;

	if (!copy)
		return simf_oom(p);
	b = basename(copy);
	dot = strrchr(b, '.');
	if (dot && dot != b)
		*dot = '\0';
	p->s->name = strdup(b);
	return p->s->name ? 0 : simf_oom(p);
}

/* Keep a tree (or a path) until the parse ends. */
static int keep_tree(struct sp *p, struct ynode *t)
{
	struct ynode **a = reallocarray(p->trees, p->n_trees + 1, sizeof(*a));

	if (!a) {
		ynode_free(t);
		return simf_oom(p);
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
		return simf_oom(p);
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
		if (!simf_is_id(name))
			return y_error(&p->y, n->kids[i],
				       "template '%s': letters, digits, '-' and '_' only", name);
		a = reallocarray(p->templates, p->n_templates + 1, sizeof(*a));
		if (!a)
			return simf_oom(p);
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
		return simf_oom(p);
	if (*s == '/')
		path = strdup(s);
	else if (asprintf(&path, "%s/%s", dirname(copy), s) < 0)
		path = NULL;
	r = keep_path(p, path);
	return r < 0 ? r : parse_file(p, path, n);
}

enum top_key { T_SIM, T_LAB, T_TIMEOUT, T_STEPS, T_TEMPLATES, T_EXTENDS, T_N };

/* One file's top level; base: read through extends: (steps: may be left out). */
int simf_parse_top(struct sp *p, const struct ynode *root, bool base)
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
		r = simf_dup_str(p, v[T_SIM], "sim", &p->s->name);
	}
	if (r >= 0 && v[T_LAB])
		r = lab_of(p, v[T_LAB]);
	if (r >= 0 && v[T_TIMEOUT])
		r = simf_duration(p, v[T_TIMEOUT], "timeout", &p->s->timeout_ms);
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
	return simf_parse_steps(p, v[T_STEPS], "steps", &index, &direct);
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
		r = simf_parse_top(p, root, true);
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
			return simf_oom(p);
		free(t->text);
		t->text = out;
		t->len = strlen(out);
		t->plain = false; /* a filled-in value is text, never YAML's null */
	}
	return 0;
}

/* use: NAME with: {KEY: VALUE}: the template's steps, filled in, as this step's body. */
int simf_use_template(struct sp *p, const struct ynode *const *v, size_t at, size_t *index)
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
	r = copy ? keep_tree(p, copy) : simf_oom(p);
	p->y.file = t->file;
	if (r >= 0)
		r = fill_group(p, copy,
			       &(struct group_use){ .with = v[K_WITH],
						    .id = p->s->steps[at].id,
						    .file = outer,
						    .loc = v[K_USE]->loc });
	if (r >= 0 && copy->type == Y_MAP)
		r = simf_parse_step(p, copy, index);
	else if (r >= 0)
		r = simf_parse_steps(p, copy, "template", index, &direct);
	p->y.file = outer;
	p->depth--;
	p->s->steps[at].n_body = *index - at - 1;
	return r;
}

void simf_clear(struct sp *p)
{
	for (size_t i = 0; i < p->n_trees; i++)
		ynode_free(p->trees[i]);
	free(p->trees);
	for (size_t i = 0; i < p->n_paths; i++)
		free(p->paths[i]);
	free(p->paths);
	free(p->templates);
}
