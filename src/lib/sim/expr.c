/* SPDX-License-Identifier: MIT */
/* sim/expr: numbers, durations, interpolation, assertions and captures (see expr.h). */
#include "sim/expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/yaml.h"
#include "shared/macro.h"

#define INTERP_NAME_MAX 256

static const struct {
	const char *suffix;
	double factor;
} si[] = {
	{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 }, { "Ti", 1099511627776.0 },
	{ "k", 1e3 },	  { "K", 1e3 },	       { "M", 1e6 },	       { "G", 1e9 },
	{ "T", 1e12 },	  { "P", 1e15 },       { "m", 1e-3 },	       { "u", 1e-6 },
	{ "n", 1e-9 },
};

bool sim_number(const char *s, double *ret)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		return false;
	if (!*end) {
		*ret = v;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(si); i++)
		if (strcmp(end, si[i].suffix) == 0) {
			*ret = v * si[i].factor;
			return true;
		}
	return false;
}

int sim_duration_ms(const char *s, uint64_t *ret, nslab_error *err)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = { { "", 1000 },    { "s", 1000 },  { "ms", 1 },
		      { "us", 0.001 }, { "m", 60000 }, { "h", 3600000 } };
	char *end;
	double v;

	errno = 0;
	v = s && *s && !isspace((unsigned char)*s) ? strtod(s, &end) : NAN;
	if (isfinite(v) && v >= 0 && errno == 0 && end != s)
		for (size_t i = 0; i < ARRAY_SIZE(units); i++)
			if (strcmp(end, units[i].unit) == 0 && v * units[i].ms < 1e15) {
				*ret = (uint64_t)(v * units[i].ms + 0.5);
				return 0;
			}
	return nslab_err_setx(err, EINVAL,
			      "'%s' is not a duration (a number with ms, s, m or h: 500ms, 10s)",
			      s ? s : "");
}

/* Append n bytes to a growing string. */
static int put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 64;
		char *b;

		while (*len + n + 1 > c)
			c *= 2;
		b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

int sim_interpolate(const char *in, sim_lookup_fn fn, void *data, char **ret, nslab_error *err)
{
	_cleanup_free_ char *out = NULL;
	size_t len = 0, cap = 0;
	const char *p = in;
	int r = put(&out, &len, &cap, "", 0);

	while (r >= 0 && *p) {
		const char *d = strchr(p, '$'), *close, *val;
		char name[INTERP_NAME_MAX];

		if (!d)
			d = p + strlen(p);
		r = put(&out, &len, &cap, p, (size_t)(d - p));
		if (r < 0 || !*d)
			break;
		if (d[1] == '$' || d[1] != '{') {
			r = put(&out, &len, &cap, "$", 1);
			p = d + 1 + (d[1] == '$');
			continue;
		}
		close = strchr(d + 2, '}');
		if (!close)
			return nslab_err_setx(err, EINVAL, "'${' without its '}' in '%s'", in);
		if ((size_t)(close - d - 2) >= sizeof(name) || close == d + 2)
			return nslab_err_setx(err, EINVAL, "'%.*s': not a name",
					      (int)(close - d + 1), d);
		snprintf(name, sizeof(name), "%.*s", (int)(close - d - 2), d + 2);
		val = fn(name, data);
		if (!val)
			return nslab_err_setx(err, EINVAL, "unknown ${%s}", name);
		r = put(&out, &len, &cap, val, strlen(val));
		p = close + 1;
	}
	if (r < 0)
		return nslab_err_set(err, ENOMEM, "interpolate");
	*ret = TAKE_PTR(out);
	return 0;
}

/* Assertions */

static const char *const ops[] = { "==", "!=", "<=", ">=", "<", ">", "contains", "matches" };

/* One side: a quoted string (its text) or a bare word; *p moves past it. */
static char *take_operand(const char **p)
{
	const char *s = *p + strspn(*p, " \t");
	const char *end;

	if (*s == '\'' || *s == '"') {
		end = strchr(s + 1, *s);
		if (!end)
			return NULL;
		*p = end + 1;
		return strndup(s + 1, (size_t)(end - s - 1));
	}
	end = s + strcspn(s, " \t");
	*p = end;
	return end > s ? strndup(s, (size_t)(end - s)) : NULL;
}

static int take_op(const char **p)
{
	const char *s = *p + strspn(*p, " \t");
	size_t n = strcspn(s, " \t");

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (strlen(ops[i]) == n && strncmp(s, ops[i], n) == 0) {
			*p = s + n;
			return (int)i;
		}
	return -1;
}

static int regex_holds(const char *text, const char *re, nslab_error *err)
{
	regex_t rx;
	int k = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);

	if (k != 0) {
		char msg[128];

		regerror(k, &rx, msg, sizeof(msg));
		return nslab_err_setx(err, EINVAL, "'%s': %s", re, msg);
	}
	k = regexec(&rx, text, 0, NULL, 0);
	regfree(&rx);
	return k == 0;
}

/* op applied to the interpolated sides: 1, 0 or -EINVAL. */
static int compare(int op, const char *l, const char *r, nslab_error *err)
{
	double a, b;
	bool nums = sim_number(l, &a) && sim_number(r, &b);

	switch (op) {
	case 0:
		return nums ? a == b : strcmp(l, r) == 0;
	case 1:
		return nums ? a != b : strcmp(l, r) != 0;
	case 6:
		return strstr(l, r) != NULL;
	case 7:
		return regex_holds(l, r, err);
	default:
		break;
	}
	if (!nums)
		return nslab_err_setx(err, EINVAL, "'%s' %s '%s': %s compares numbers", l, ops[op],
				      r, ops[op]);
	return op == 2 ? a <= b : op == 3 ? a >= b : op == 4 ? a < b : a > b;
}

int sim_assert(const char *expr, sim_lookup_fn fn, void *data, char **detail, nslab_error *err)
{
	_cleanup_free_ char *l = NULL, *r = NULL, *li = NULL, *ri = NULL;
	const char *p = expr;
	int op, k;

	*detail = NULL;
	l = take_operand(&p);
	op = l ? take_op(&p) : -1;
	r = op >= 0 ? take_operand(&p) : NULL;
	if (!r || p[strspn(p, " \t")])
		return nslab_err_setx(err, EINVAL,
				      "'%s' is not an assertion: LEFT OP RIGHT, with OP one of "
				      "==, !=, <, <=, >, >=, contains, matches",
				      expr);
	k = sim_interpolate(l, fn, data, &li, err);
	if (k >= 0)
		k = sim_interpolate(r, fn, data, &ri, err);
	if (k < 0)
		return nslab_err_prefix(err, k, "'%s'", expr);
	if (asprintf(detail, "'%s' %s '%s'", li, ops[op], ri) < 0) {
		*detail = NULL;
		return nslab_err_set(err, ENOMEM, "assertion");
	}
	return compare(op, li, ri, err);
}

/* Captures */

int sim_regex_capture(const char *text, const char *re, char **ret, nslab_error *err)
{
	regmatch_t m[2];
	regex_t rx;
	int k = regcomp(&rx, re, REG_EXTENDED);
	size_t g;

	if (k != 0) {
		char msg[128];

		regerror(k, &rx, msg, sizeof(msg));
		return nslab_err_setx(err, EINVAL, "regex '%s': %s", re, msg);
	}
	k = regexec(&rx, text, 2, m, 0);
	g = rx.re_nsub > 0 ? 1 : 0;
	regfree(&rx);
	if (k != 0 || m[g].rm_so < 0)
		return nslab_err_setx(err, ENOENT, "no match for '%s'", re);
	*ret = strndup(text + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
	return *ret ? 0 : nslab_err_set(err, ENOMEM, "capture");
}

static void json_node(struct jw *w, const char *key, const struct ynode *n)
{
	double v;

	if (n->type == Y_SCALAR) {
		if (n->plain && (y_is_null(n)))
			jw_raw(w, key, "null");
		else if (n->plain &&
			 (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0))
			jw_raw(w, key, n->text);
		else if (n->plain && sim_number(n->text, &v))
			jw_raw(w, key, n->text);
		else
			jw_str(w, key, n->text);
		return;
	}
	if (n->type == Y_MAP) {
		jw_obj_open(w, key);
		for (size_t i = 0; i + 1 < n->n; i += 2)
			json_node(w, n->kids[i]->type == Y_SCALAR ? n->kids[i]->text : "?",
				  n->kids[i + 1]);
		jw_obj_close(w);
		return;
	}
	jw_arr_open(w, key);
	for (size_t i = 0; i < n->n; i++)
		json_node(w, NULL, n->kids[i]);
	jw_arr_close(w);
}

/* The child of n named by the path step at *p ("key" after a '.', or "[N]"). */
static const struct ynode *step(const struct ynode *n, const char **p)
{
	const char *s = *p;

	if (*s == '[') {
		char *end;
		unsigned long i = strtoul(s + 1, &end, 10);

		if (end == s + 1 || *end != ']' || n->type != Y_SEQ || i >= n->n)
			return NULL;
		*p = end + 1;
		return n->kids[i];
	}
	if (*s == '.') {
		size_t len = strcspn(s + 1, ".[");

		*p = s + 1 + len;
		if (len == 0)
			return n;
		for (size_t i = 0; n->type == Y_MAP && i + 1 < n->n; i += 2)
			if (n->kids[i]->type == Y_SCALAR && strlen(n->kids[i]->text) == len &&
			    strncmp(n->kids[i]->text, s + 1, len) == 0)
				return n->kids[i + 1];
	}
	return NULL;
}

int sim_json_pick(const char *json, const char *path, char **ret, nslab_error *err)
{
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct yctx c = { .file = "output", .err = err };
	const struct ynode *n;
	const char *p = path;
	int k;

	if (*path != '.' && *path != '[')
		return nslab_err_setx(err, EINVAL, "'%s': a path starts with '.' (.a.b[0])", path);
	k = yaml_read(&c, json, strlen(json), 0, &root);
	if (k < 0)
		return nslab_err_prefix(err, k, "not JSON");
	n = root;
	while (n && *p)
		n = step(n, &p);
	if (!n)
		return nslab_err_setx(err, ENOENT, "nothing at %s", path);
	if (n->type == Y_SCALAR) {
		*ret = strdup(n->text ? n->text : "");
	} else {
		struct jw w;

		jw_init(&w);
		json_node(&w, NULL, n);
		*ret = strdup(jw_get(&w));
		jw_free(&w);
	}
	return *ret ? 0 : nslab_err_set(err, ENOMEM, "pick");
}

int sim_json_object(const char *text, size_t len, char **ret)
{
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct yctx c = { .file = NULL, .err = NULL };
	struct jw w;

	/* JSON is YAML's flow style: one reader for both, and the text is written anew */
	if (yaml_read(&c, text, len, 0, &root) < 0 || !root || root->type != Y_MAP)
		return -EINVAL;
	jw_init(&w);
	json_node(&w, NULL, root);
	*ret = jw_get(&w) ? strdup(jw_get(&w)) : NULL;
	jw_free(&w);
	return *ret ? 0 : -ENOMEM;
}

/* The first line from *pos (which moves past it), as a NUL-terminated copy in buf; false at the end. */
static bool next_line(const char **pos, char **buf)
{
	const char *start = *pos, *end;

	if (!*start)
		return false;
	end = strchrnul(start, '\n');
	*pos = *end ? end + 1 : end;
	free(*buf);
	*buf = strndup(start, (size_t)(end - start));
	return *buf != NULL;
}

int sim_ndjson_capture(const char *text, const char *match, const char *path, char **ret,
		       nslab_error *err)
{
	_cleanup_free_ char *line = NULL;
	const char *pos = text;
	regex_t rx;
	int k = regcomp(&rx, match, REG_EXTENDED | REG_NOSUB);

	if (k != 0) {
		char msg[128];

		regerror(k, &rx, msg, sizeof(msg));
		return nslab_err_setx(err, EINVAL, "regex '%s': %s", match, msg);
	}
	while (next_line(&pos, &line)) {
		nslab_error skip = { 0 };

		/* a line that matches but is not JSON, or lacks the path: the next one */
		if (regexec(&rx, line, 0, NULL, 0) == 0 &&
		    sim_json_pick(line, path, ret, &skip) >= 0) {
			regfree(&rx);
			return 0;
		}
	}
	regfree(&rx);
	return nslab_err_setx(err, ENOENT, "no JSON line matching '%s' has %s", match, path);
}
