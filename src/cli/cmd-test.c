/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cli/cmd-test: firewall tests.
 *   nslab test SUITE [--format text|tap|junit|json] [-o FILE] [--coverage] [-k TEXT]
 *   nslab test --check RULES.nft
 *   nslab test --compare OLD.nft NEW.nft SUITE
 * Exit: 0 every test passed, 1 a test failed, was inconclusive or could not
 * run, 2 a usage or suite error.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"

struct test_opts {
	const char *suite, *output, *check, *old_rules, *new_rules, *only;
	enum nslab_fwtest_format format;
	bool coverage, quiet;
	unsigned flags;
};

static const char *status_word(enum nslab_fwtest_status s)
{
	switch (s) {
	case NSLAB_FWTEST_PASS:
		return "PASS";
	case NSLAB_FWTEST_FAIL:
		return "FAIL";
	case NSLAB_FWTEST_INCONCLUSIVE:
		return "INCONCLUSIVE";
	case NSLAB_FWTEST_ERROR:
		return "ERROR";
	case NSLAB_FWTEST_NOT_RUN:
		break;
	}
	return "NOT RUN";
}

/* nslab -v test: what the kernel did with each packet of a passing test. */
static void print_paths(const nslab_fwtest *ft, size_t i)
{
	for (size_t k = 0; k < nslab_fwtest_packet_count(ft, i); k++) {
		const char *path = nslab_fwtest_packet_trace(ft, i, k);

		printf("  %s: %s\n    trace: %s\n", nslab_fwtest_packet_desc(ft, i, k),
		       nslab_fwtest_packet_verdict(ft, i, k), *path ? path : "(no user chain)");
	}
}

static void on_test(nslab_fwtest *ft, size_t i, void *data)
{
	const struct test_opts *o = data;
	enum nslab_fwtest_status s = nslab_fwtest_status(ft, i);

	if (o->quiet && s == NSLAB_FWTEST_PASS)
		return;
	printf("%-12s %s (%.1f ms)\n", status_word(s), nslab_fwtest_name(ft, i),
	       nslab_fwtest_ms(ft, i));
	if (s != NSLAB_FWTEST_PASS)
		fputs(nslab_fwtest_log(ft, i), stdout);
	else if (cli_verbose)
		print_paths(ft, i);
	fflush(stdout);
}

static int parse_format(const char *s, enum nslab_fwtest_format *ret)
{
	static const char *const names[] = { "text", "tap", "junit", "json" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum nslab_fwtest_format)i;
			return 0;
		}
	return cli_usage_error("test", "unknown format '%s' (text, tap, junit, json)", s);
}

static int parse_test(int argc, char **argv, struct test_opts *o)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "coverage", no_argument, NULL, 'c' },
		{ "check", required_argument, NULL, 'C' },
		{ "compare", no_argument, NULL, 'm' },
		{ "allow-include", no_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "only", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	bool compare = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:qk:", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->only = optarg;
			break;
		case 'f':
			if (parse_format(optarg, &o->format) != 0)
				return EXIT_USAGE;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'c':
			o->coverage = true;
			break;
		case 'C':
			o->check = optarg;
			break;
		case 'm':
			compare = true;
			break;
		case 'i':
			o->flags |= NSLAB_FWTEST_ALLOW_INCLUDE;
			break;
		case 'q':
			o->quiet = true;
			break;
		default:
			return cli_usage_error("test", "bad option");
		}
	}
	if (o->check)
		return optind == argc ? 0 : cli_usage_error("test", "--check takes one ruleset");
	if (compare) {
		if (argc - optind != 3)
			return cli_usage_error("test", "--compare takes OLD.nft NEW.nft SUITE");
		o->old_rules = argv[optind];
		o->new_rules = argv[optind + 1];
		o->suite = argv[optind + 2];
		return 0;
	}
	if (optind != argc - 1)
		return cli_usage_error("test", "expected one suite file");
	o->suite = argv[optind];
	return 0;
}

/* A bad file or value from the user (exit 2), rather than a failure of the machinery. */
static bool is_input_error(int r)
{
	return r == -EINVAL || r == -EPERM || r == -ENOENT || r == -EFBIG || r == -EISDIR ||
	       r == -EACCES;
}

static int check_rules(const struct test_opts *o)
{
	nslab_error err = { 0 };
	int r = nslab_fwtest_check_rules(o->check, o->flags, &err);

	if (r < 0)
		return cli_fail(&err, is_input_error(r) ? EXIT_USAGE : 1);
	printf("%s: ok\n", o->check);
	return 0;
}

static int worst_status(const nslab_fwtest *ft)
{
	for (size_t i = 0; i < nslab_fwtest_count(ft); i++)
		if (nslab_fwtest_status(ft, i) != NSLAB_FWTEST_PASS &&
		    nslab_fwtest_status(ft, i) != NSLAB_FWTEST_NOT_RUN)
			return 1;
	return 0;
}

static int report(const nslab_fwtest *ft, const struct test_opts *o)
{
	nslab_error err = { 0 };
	FILE *out = stdout;
	int r;

	if (o->output && !(out = fopen(o->output, "we"))) {
		nslab_err_set(&err, errno, "open '%s'", o->output);
		return cli_fail(&err, 1);
	}
	r = nslab_fwtest_report(ft, o->format, o->coverage, out, &err);
	if (out != stdout && fclose(out) != 0 && r >= 0)
		r = nslab_err_set(&err, errno, "write '%s'", o->output);
	return r < 0 ? cli_fail(&err, 1) : 0;
}

static int load(const struct test_opts *o, const char *rules, nslab_fwtest **ret)
{
	nslab_error err = { 0 };

	if (nslab_fwtest_from_file(o->suite, o->flags, ret, &err) < 0)
		return cli_fail(&err, EXIT_USAGE);
	if (o->only && nslab_fwtest_select(*ret, o->only, &err) < 0) {
		*ret = nslab_fwtest_free(*ret);
		return cli_fail(&err, EXIT_USAGE);
	}
	if (rules && nslab_fwtest_set_rules_file(*ret, rules, &err) < 0) {
		*ret = nslab_fwtest_free(*ret);
		return cli_fail(&err, EXIT_USAGE);
	}
	return 0;
}

static int run_suite(const struct test_opts *o)
{
	nslab_fwtest *ft = NULL;
	nslab_error err = { 0 };
	bool stream = o->format == NSLAB_FWTEST_FORMAT_TEXT || o->output;
	int r = load(o, NULL, &ft);

	if (r)
		return r;
	r = nslab_fwtest_run(ft, stream ? on_test : NULL, (void *)o, &err);
	if (r < 0) {
		nslab_fwtest_free(ft);
		return cli_fail(&err, r == -EINVAL ? EXIT_USAGE : 1);
	}
	r = report(ft, o);
	if (!r)
		r = worst_status(ft);
	nslab_fwtest_free(ft);
	return r;
}

/* Run the suite's packets against both rulesets; list every packet whose verdict differs. */
static int compare(const struct test_opts *o)
{
	nslab_fwtest *a = NULL, *b = NULL;
	nslab_error err = { 0 };
	size_t differ = 0;
	int r = load(o, o->old_rules, &a);

	if (!r)
		r = load(o, o->new_rules, &b);
	if (!r && (nslab_fwtest_run(a, NULL, NULL, &err) < 0 ||
		   nslab_fwtest_run(b, NULL, NULL, &err) < 0))
		r = cli_fail(&err, 1);
	for (size_t i = 0; !r && i < nslab_fwtest_count(a); i++)
		for (size_t k = 0; k < nslab_fwtest_packet_count(a, i); k++) {
			const char *va = nslab_fwtest_packet_verdict(a, i, k);
			const char *vb = nslab_fwtest_packet_verdict(b, i, k);

			if (!vb || strcmp(va, vb) == 0)
				continue;
			differ++;
			printf("%s: %s: %s -> %s\n", nslab_fwtest_name(a, i),
			       nslab_fwtest_packet_desc(a, i, k), va, vb);
		}
	if (!r)
		printf("%zu packet%s differ between %s and %s\n", differ, differ == 1 ? "" : "s",
		       o->old_rules, o->new_rules);
	nslab_fwtest_free(a);
	nslab_fwtest_free(b);
	return r ? r : (differ ? 1 : 0);
}

int cmd_test(int argc, char **argv)
{
	struct test_opts o = { 0 };
	nslab_error err = { 0 };
	int r = parse_test(argc, argv, &o);

	if (r)
		return r;
	if (nslab_bootstrap(&err) < 0)
		return cli_fail(&err, 1);
	if (o.check)
		return check_rules(&o);
	if (o.old_rules)
		return compare(&o);
	return run_suite(&o);
}

/* nslab trace --rules FILE [--topology direct|gateway] 'PACKET' */
int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "topology", required_argument, NULL, 't' },
		{ "allow-include", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules = NULL, *topology = NULL;
	nslab_error err = { 0 };
	unsigned flags = 0;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:t:", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rules = optarg;
			break;
		case 't':
			topology = optarg;
			break;
		case 'i':
			flags |= NSLAB_FWTEST_ALLOW_INCLUDE;
			break;
		default:
			return cli_usage_error("trace", "bad option");
		}
	}
	if (!rules || optind != argc - 1)
		return cli_usage_error("trace", "expected --rules FILE and one packet");
	if (nslab_bootstrap(&err) < 0)
		return cli_fail(&err, 1);
	r = nslab_fwtest_trace(rules, argv[optind], topology, flags, stdout, &err);
	if (r < 0)
		return cli_fail(&err, is_input_error(r) ? EXIT_USAGE : 1);
	return 0;
}
