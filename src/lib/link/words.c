/* SPDX-License-Identifier: MIT */
/*
 * link/words: a condition from command-line words, in netem's grammar
 * (`delay 50ms 5ms 25%`, `loss 2%`, `loss gemodel 1% 30%`, `rate 5mbit`, a
 * trailing `up` or `down`), also as PARAM=VALUE words, and back to words.
 *
 * The words become a YAML flow mapping read by link/cond's decoder, so that
 * a value means the same here as in a lab file.
 */
#include "link/cond.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const params[] = { "delay",	   "jitter",  "distribution", "correlation", "loss",
				      "rate",	   "burst",   "limit",	      "reorder",     "gap",
				      "duplicate", "corrupt", "mtu",	      "trace",	     "seed",
				      "preset",	   NULL };

static bool is_param(const char *w)
{
	for (size_t i = 0; params[i]; i++)
		if (strcmp(params[i], w) == 0)
			return true;
	return false;
}

/* A YAML double-quoted scalar; control characters refused. Return: 0 or -EINVAL. */
static int put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -EINVAL;
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
	return 0;
}

static int put_pair(FILE *f, bool *first, const char *key, const char *val)
{
	fprintf(f, "%s%s: ", *first ? "" : ", ", key);
	*first = false;
	return put_quoted(f, val);
}

/* Optional words after a parameter: taken while they are no parameter or direction. */
static bool is_value(const char *const *argv, size_t argc, size_t i)
{
	return i < argc && !is_param(argv[i]) && !strchr(argv[i], '=') &&
	       strcmp(argv[i], "up") != 0 && strcmp(argv[i], "down") != 0;
}

static int words_loss(FILE *f, bool *first, const char *const *argv, size_t argc, size_t *i)
{
	static const char *const ge[] = { "p", "r", "1-h", "1-k" };
	bool inner = true;
	int r = 0;

	if (!is_value(argv, argc, *i))
		return -EINVAL;
	if (strcmp(argv[*i], "random") == 0)
		(*i)++;
	if (*i < argc && strcmp(argv[*i], "gemodel") == 0) {
		(*i)++;
		fprintf(f, "%sloss: {gilbert: {", *first ? "" : ", ");
		*first = false;
		for (size_t k = 0; k < 4 && r >= 0 && is_value(argv, argc, *i); k++)
			r = put_pair(f, &inner, ge[k], argv[(*i)++]);
		fputs("}}", f);
		return r;
	}
	if (!is_value(argv, argc, *i))
		return -EINVAL;
	fprintf(f, "%sloss: {", *first ? "" : ", ");
	*first = false;
	r = put_pair(f, &inner, "percent", argv[(*i)++]);
	if (r >= 0 && is_value(argv, argc, *i))
		r = put_pair(f, &inner, "correlation", argv[(*i)++]);
	fputc('}', f);
	return r;
}

/* One parameter at argv[*i] (already known to be one) and its values. */
static int words_param(FILE *f, bool *first, const char *const *argv, size_t argc, size_t *i)
{
	const char *p = argv[(*i)++];
	int r;

	if (strcmp(p, "loss") == 0)
		return words_loss(f, first, argv, argc, i);
	if (!is_value(argv, argc, *i))
		return -EINVAL;
	/* netem: reorder|duplicate|corrupt PERCENT [CORRELATION] */
	if ((strcmp(p, "reorder") == 0 || strcmp(p, "duplicate") == 0 ||
	     strcmp(p, "corrupt") == 0) &&
	    is_value(argv, argc, *i + 1)) {
		bool inner = true;

		fprintf(f, "%s%s: {", *first ? "" : ", ", p);
		*first = false;
		r = put_pair(f, &inner, "percent", argv[(*i)++]);
		if (r >= 0)
			r = put_pair(f, &inner, "correlation", argv[(*i)++]);
		fputc('}', f);
		return r;
	}
	r = put_pair(f, first, p, argv[(*i)++]);
	/* netem: delay TIME [JITTER [CORRELATION]] */
	if (r >= 0 && strcmp(p, "delay") == 0 && is_value(argv, argc, *i)) {
		r = put_pair(f, first, "jitter", argv[(*i)++]);
		if (r >= 0 && is_value(argv, argc, *i))
			r = put_pair(f, first, "correlation", argv[(*i)++]);
	}
	return r;
}

/* The words as one flow mapping; *which from a final up/down. On error *bad is the word. */
static int words_to_flow(const char *const *argv, size_t argc, char **ret, size_t *ret_len,
			 enum nslab_link_which *which, size_t *bad)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0, i = 0;
	bool first = true;
	FILE *f = open_memstream(&text, &len);
	int r = 0;

	if (!f)
		return -ENOMEM;
	*which = NSLAB_LINK_BOTH;
	if (argc && (strcmp(argv[argc - 1], "up") == 0 || strcmp(argv[argc - 1], "down") == 0)) {
		*which = argv[argc - 1][0] == 'u' ? NSLAB_LINK_UP : NSLAB_LINK_DOWN;
		argc--;
	}
	fputc('{', f);
	if (argc && !is_param(argv[0]) && !strchr(argv[0], '='))
		r = put_pair(f, &first, "preset", argv[i++]);
	while (r >= 0 && i < argc) {
		const char *eq = strchr(argv[i], '=');

		*bad = i;
		if (eq) {
			_cleanup_free_ char *key = strndup(argv[i], (size_t)(eq - argv[i]));

			if (!key || !is_param(key)) {
				r = -EINVAL;
				break;
			}
			r = strcmp(key, "loss") == 0 ? put_pair(f, &first, "loss", eq + 1)
						     : put_pair(f, &first, key, eq + 1);
			i++;
		} else if (is_param(argv[i])) {
			r = words_param(f, &first, argv, argc, &i);
		} else {
			r = -EINVAL;
		}
	}
	fputc('}', f);
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(text);
	*ret_len = len;
	return 0;
}

static void apply_which(nslab_link_condition *c, enum nslab_link_which which)
{
	if (which == NSLAB_LINK_UP)
		memset(&c->down, 0, sizeof(c->down));
	else if (which == NSLAB_LINK_DOWN)
		memset(&c->up, 0, sizeof(c->up));
}

int linkcond_from_words(const char *const *argv, size_t argc, const struct linkcond_user *user,
			nslab_link_condition *ret, enum nslab_link_which *which, nslab_error *err)
{
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	_cleanup_free_ char *text = NULL;
	struct yctx c = { .file = NULL, .err = err };
	nslab_link_condition cond;
	enum nslab_link_which w;
	size_t len = 0, bad = 0;
	int r;

	if (argc == 0)
		return nslab_err_setx(err, EINVAL, "no link condition given");
	r = words_to_flow(argv, argc, &text, &len, &w, &bad);
	if (r == -ENOMEM)
		return nslab_err_set(err, ENOMEM, "link condition");
	if (r < 0)
		return nslab_err_setx(err, EINVAL,
				      "link condition: unexpected '%s' (expected PRESET, or PARAM "
				      "VALUE words such as delay 50ms loss 1%%, then up or down)",
				      YAML_Q(argv[bad]));
	r = yaml_read(&c, text, len, 0, &root);
	if (r >= 0)
		r = linkcond_decode(&c, root, user, &cond);
	if (r < 0)
		return nslab_err_prefix(err, r, "link condition");
	apply_which(&cond, w);
	*ret = cond;
	*which = w;
	return 0;
}

int nslab_link_condition_parse(const char *const *argv, size_t argc, nslab_link_condition *ret,
			       nslab_error *err)
{
	enum nslab_link_which which;

	return linkcond_from_words(argv, argc, NULL, ret, &which, err);
}

bool nslab_link_dir_is_none(const nslab_link_dir *d)
{
	static const nslab_link_dir none;

	return memcmp(d, &none, sizeof(none)) == 0;
}

static void put(char *buf, size_t len, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(buf);

	if (n < len)
		snprintf(buf + n, len - n, fmt, n ? " " : "", a, b ? b : "");
}

/* "NAME P" or, with a correlation, "NAME P CORR" (netem's order). */
static void put_pct_corr(char *buf, size_t len, const char *name, uint32_t p, uint32_t corr)
{
	char a[32], b[40] = "";
	size_t n = strlen(buf);

	if (corr) {
		b[0] = ' ';
		linkcond_fmt_percent(corr, b + 1, sizeof(b) - 1);
	}
	if (n < len)
		snprintf(buf + n, len - n, "%s%s %s%s", n ? " " : "", name,
			 linkcond_fmt_percent(p, a, sizeof(a)), b);
}

const char *nslab_link_dir_format(const nslab_link_dir *d, char *buf, size_t len)
{
	static const char *const dists[] = { "uniform", "normal", "pareto", "paretonormal" };
	char a[32], b[32], num[24];

	if (!len)
		return buf;
	buf[0] = '\0';
	if (d->delay_ns)
		put(buf, len, "%sdelay %s%s", linkcond_fmt_time(d->delay_ns, a, sizeof(a)), NULL);
	if (d->jitter_ns)
		put(buf, len, "%sjitter %s distribution %s",
		    linkcond_fmt_time(d->jitter_ns, a, sizeof(a)), dists[d->dist & 3]);
	if (d->delay_corr)
		put(buf, len, "%scorrelation %s%s",
		    linkcond_fmt_percent(d->delay_corr, a, sizeof(a)), NULL);
	if (d->loss_model == NSLAB_LINK_LOSS_RANDOM)
		put_pct_corr(buf, len, "loss", d->loss, d->loss_corr);
	if (d->loss_model == NSLAB_LINK_LOSS_GE)
		put(buf, len, "%sloss gemodel %s %s", linkcond_fmt_percent(d->ge_p, a, sizeof(a)),
		    linkcond_fmt_percent(d->ge_r, b, sizeof(b)));
	if (d->rate_bps)
		put(buf, len, "%srate %s%s", linkcond_fmt_rate(d->rate_bps, a, sizeof(a)), NULL);
	if (d->burst) {
		snprintf(num, sizeof(num), "%" PRIu32 "b", d->burst);
		put(buf, len, "%sburst %s%s", num, NULL);
	}
	if (d->limit_bytes) {
		snprintf(num, sizeof(num), "%" PRIu32 "b", d->limit_bytes);
		put(buf, len, "%slimit %s%s", num, NULL);
	}
	if (d->limit_ns)
		put(buf, len, "%slimit %s%s", linkcond_fmt_time(d->limit_ns, a, sizeof(a)), NULL);
	if (d->reorder)
		put_pct_corr(buf, len, "reorder", d->reorder, d->reorder_corr);
	if (d->gap) {
		snprintf(num, sizeof(num), "%" PRIu32, d->gap);
		put(buf, len, "%sgap %s%s", num, NULL);
	}
	if (d->duplicate)
		put_pct_corr(buf, len, "duplicate", d->duplicate, d->duplicate_corr);
	if (d->corrupt)
		put_pct_corr(buf, len, "corrupt", d->corrupt, d->corrupt_corr);
	if (d->mtu) {
		snprintf(num, sizeof(num), "%" PRIu32, d->mtu);
		put(buf, len, "%smtu %s%s", num, NULL);
	}
	if (d->trace[0])
		put(buf, len, "%strace %s%s", d->trace, NULL);
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}
