/* SPDX-License-Identifier: MIT */
/*
 * cli/options: every command's options come from its table (struct cli_opt):
 * getopt_long()'s arguments, the --help text and the "did you mean" candidates.
 * -h/--help and -v/--verbose are taken by every command, before or after it.
 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "shared/closest.h"
#include "shared/macro.h"

int cli_verbose;

#define OPTS_MAX 64

static const struct cli_opt common_opts[] = {
	{ 'h', "help", NULL, "print this help and exit" },
	{ 'v', "verbose", NULL, "more output: up logs debug messages, test prints trace paths" },
	{ 0 },
};

/* The @i-th option of @cmd, its own then the common ones; NULL past the end. */
static const struct cli_opt *opt_at(const struct cli_cmd *cmd, size_t i)
{
	size_t n = 0;

	while (cmd->opts && cmd->opts[n].key)
		n++;
	if (i < n)
		return &cmd->opts[i];
	i -= n;
	return i < ARRAY_SIZE(common_opts) - 1 ? &common_opts[i] : NULL;
}

static const struct cli_opt *opt_by_key(const struct cli_cmd *cmd, int key)
{
	const struct cli_opt *o;

	for (size_t i = 0; (o = opt_at(cmd, i)); i++)
		if (o->key == key)
			return o;
	return NULL;
}

/* getopt_long()'s tables: '+' stops at the first operand (verbatim commands), ':' reports a
 * missing argument apart from an unknown option. */
static void build_getopt(const struct cli_cmd *cmd, struct option *lo, char *so)
{
	const struct cli_opt *o;
	size_t s = 0, i;

	if (cmd->verbatim)
		so[s++] = '+';
	so[s++] = ':';
	for (i = 0; i < OPTS_MAX && (o = opt_at(cmd, i)); i++) {
		lo[i] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
					 o->key };
		if (o->key >= CLI_LONG)
			continue;
		so[s++] = (char)o->key;
		if (o->arg)
			so[s++] = ':';
	}
	lo[i] = (struct option){ 0 };
	so[s] = '\0';
}

const char *cli_closest(const char *word, const char *const *cands, size_t n)
{
	return closest_word(word, cands, n);
}

static void print_forms(const struct cli_cmd *cmd, FILE *f)
{
	for (size_t i = 0; cmd->forms[i]; i++)
		fprintf(f, "%s nslab %s%s%s\n", i ? "      " : "usage:", cmd->name,
			*cmd->forms[i] ? " " : "", cmd->forms[i]);
}

static void vprint_error(const struct cli_cmd *cmd, const char *fmt, va_list ap)
{
	if (cmd->name)
		fprintf(stderr, "nslab %s: ", cmd->name);
	else
		fputs("nslab: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_input_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(cmd, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(cmd, fmt, ap);
	va_end(ap);
	if (!cmd->name) {
		fprintf(stderr, "see 'nslab help'\n");
		return EXIT_USAGE;
	}
	print_forms(cmd, stderr);
	fprintf(stderr, "see 'nslab %s --help'\n", cmd->name);
	return EXIT_USAGE;
}

/* "-f, --format F" */
static int opt_label(const struct cli_opt *o, char *buf, size_t size)
{
	char s[8] = "    ";

	if (o->key < CLI_LONG)
		snprintf(s, sizeof(s), "-%c, ", o->key);
	return snprintf(buf, size, "%s--%s%s%s", s, o->name, o->arg ? " " : "",
			o->arg ? o->arg : "");
}

void cli_print_opts(const struct cli_cmd *cmd, FILE *f)
{
	const struct cli_opt *o;
	char label[64];
	int width = 0;

	fputs("options:\n", f);
	for (size_t i = 0; (o = opt_at(cmd, i)); i++) {
		int n = opt_label(o, label, sizeof(label));

		width = n > width ? n : width;
	}
	for (size_t i = 0; (o = opt_at(cmd, i)); i++) {
		opt_label(o, label, sizeof(label));
		fprintf(f, "  %-*s  %s\n", width, label, o->help);
	}
}

void cli_help(const struct cli_cmd *cmd, FILE *f)
{
	print_forms(cmd, f);
	fprintf(f, "\n%s\n\n", cmd->help);
	cli_print_opts(cmd, f);
}

/* An unknown long option: ambiguous prefix, or the closest long name. */
static int bad_long(const struct cli_cmd *cmd, const char *text)
{
	const char *names[OPTS_MAX], *close;
	size_t n = 0, len = strcspn(text + 2, "="), match = 0;
	char list[256] = "";
	_cleanup_free_ char *name = strndup(text + 2, len);
	const struct cli_opt *o;

	if (!name)
		return cli_usage_error(cmd, "unknown option '%s'", text);
	for (size_t i = 0; n < OPTS_MAX && (o = opt_at(cmd, i)); i++) {
		names[n++] = o->name;
		if (len && strncmp(o->name, name, len) == 0) {
			match++;
			strncat(list, " --", sizeof(list) - strlen(list) - 1);
			strncat(list, o->name, sizeof(list) - strlen(list) - 1);
		}
	}
	if (match > 1)
		return cli_usage_error(cmd, "option '--%s' is ambiguous; possibilities:%s", name,
				       list);
	close = cli_closest(name, names, n);
	if (close)
		return cli_usage_error(cmd, "unknown option '--%s'; did you mean '--%s'?", name,
				       close);
	return cli_usage_error(cmd, "unknown option '--%s'", name);
}

/* An unknown short option; "-json" is most likely --json. */
static int bad_short(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *names[OPTS_MAX], *close = NULL;
	const struct cli_opt *o;
	size_t n = 0;

	for (size_t i = 0; n < OPTS_MAX && (o = opt_at(cmd, i)); i++)
		names[n++] = o->name;
	for (int k = optind - 1; k <= optind && k < argc && !close; k++)
		if (k > 0 && argv[k][0] == '-' && argv[k][1] == optopt && argv[k][2])
			close = cli_closest(argv[k] + 1, names, n);
	if (close)
		return cli_usage_error(cmd, "unknown option '-%c'; did you mean '--%s'?", optopt,
				       close);
	if (optopt > ' ' && optopt < 127)
		return cli_usage_error(cmd, "unknown option '-%c'", optopt);
	return cli_usage_error(cmd, "unknown option");
}

static int bad_option(const struct cli_cmd *cmd, int argc, char **argv, int c)
{
	const char *text = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	const struct cli_opt *o = optopt ? opt_by_key(cmd, optopt) : NULL;

	if (c == ':' && o)
		return cli_usage_error(
			cmd, "option '%s' needs a value: --%s %s",
			strncmp(text, "--", 2) == 0 ? text : (char[]){ '-', (char)optopt, 0 },
			o->name, o->arg);
	if (o && strncmp(text, "--", 2) == 0 && strchr(text, '='))
		return cli_usage_error(cmd, "option '--%s' takes no value", o->name);
	if (!optopt && strncmp(text, "--", 2) == 0)
		return bad_long(cmd, text);
	return bad_short(cmd, argc, argv);
}

/* A verbatim command's operand at optind: move it before the options taken so far. */
static void take_operand(char **argv, int *n_ops)
{
	char *op = argv[optind];
	int first = 1 + *n_ops;

	memmove(&argv[first + 1], &argv[first], (size_t)(optind - first) * sizeof(*argv));
	argv[first] = op;
	(*n_ops)++;
	optind++;
}

/**
 * cli_parse() - take @cmd's options from @argv, calling @fn for each of its own
 * @cmd:  the command, whose table drives getopt_long()
 * @argc: argument count, @argv[0] being the command's name
 * @argv: arguments; reordered (operands after options, or lead operands first)
 * @fn:   called with each option's key and argument (NULL for a flag) and @data; returns
 *        CLI_GO_ON or an exit status. NULL when @cmd has no options of its own.
 * @ret:  operands, and for verbatim commands the untouched rest
 *
 * -h prints the help (exit 0), -v raises cli_verbose. A verbatim command stops taking options
 * after @cmd->lead operands or at "--": the rest is someone else's (exec's command).
 * Return: CLI_GO_ON to go on, or the exit status to return now (0 after --help, 2 after a
 * usage error, which is printed).
 */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, cli_opt_fn fn, void *data,
	      struct cli_args *ret)
{
	struct option lo[OPTS_MAX + 1];
	char so[3 * OPTS_MAX + 3];
	int n_ops = 0, c, r;

	build_getopt(cmd, lo, so);
	*ret = (struct cli_args){ 0 };
	optind = 0; /* glibc: start over (the global options were parsed already) */
	opterr = 0;
	for (;;) {
		int before = optind ? optind : 1;

		c = getopt_long(argc, argv, so, lo, NULL);
		if (c == -1) {
			if (!cmd->verbatim)
				break;
			if (optind > before && strcmp(argv[optind - 1], "--") == 0) {
				ret->dashdash = true;
				break;
			}
			if (optind >= argc || n_ops == cmd->lead)
				break;
			take_operand(argv, &n_ops);
			continue;
		}
		if (c == 'h') {
			if (cmd->usage)
				cmd->usage(stdout);
			else
				cli_help(cmd, stdout);
			return 0;
		}
		if (c == 'v') {
			cli_verbose++;
			continue;
		}
		if (c == '?' || c == ':')
			return bad_option(cmd, argc, argv, c);
		r = fn ? fn(c, optarg, data) : CLI_GO_ON;
		if (r != CLI_GO_ON)
			return r;
	}
	if (cmd->verbatim) {
		ret->ops = argv + 1;
		ret->n_ops = n_ops;
		ret->rest = argv + optind;
		ret->n_rest = argc - optind;
	} else {
		ret->ops = argv + optind;
		ret->n_ops = argc - optind;
		ret->rest = argv + argc;
	}
	return CLI_GO_ON;
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}
