/* SPDX-License-Identifier: MIT */
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
#include <fcntl.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <strings.h>
#include <sys/stat.h>

#include "shared/macro.h"

struct test_opts {
	const char *suite, *output, *check, *old_rules, *new_rules, *only;
	enum nslab_fwtest_format format;
	bool coverage, quiet, has_seed;
	unsigned flags;
	enum nslab_fwtest_order order; /* --order, --seed */
	unsigned long long seed;
	unsigned jobs; /* --jobs; 0: the library's choice */
	FILE *out;     /* -o, opened before any test runs */
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
	return cli_usage_error(&cli_cmd_test, "unknown format '%s' (text, tap, junit, json)", s);
}

enum {
	OPT_COVERAGE = CLI_LONG,
	OPT_CHECK,
	OPT_COMPARE,
	OPT_ALLOW_INCLUDE,
	OPT_TOPOLOGY,
	OPT_ORDER,
	OPT_SEED
};

/* --order suite|reverse|shuffle; --seed N (a shuffle's, implies it). */
static int parse_order(int key, const char *s, struct test_opts *o)
{
	static const char *const names[] = { "suite", "reverse", "shuffle" };
	char *end;

	if (key == OPT_SEED) {
		errno = 0;
		o->seed = strtoull(s, &end, 0);
		if (errno || end == s || *end || *s == '-')
			return cli_usage_error(&cli_cmd_test, "--seed: '%s' is not a number", s);
		o->has_seed = true;
		if (o->order == NSLAB_FWTEST_ORDER_SUITE)
			o->order = NSLAB_FWTEST_ORDER_SHUFFLE;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0) {
			o->order = (enum nslab_fwtest_order)i;
			return 0;
		}
	return cli_usage_error(&cli_cmd_test, "unknown order '%s' (suite, reverse, shuffle)", s);
}

static int cmd_test(int argc, char **argv);
static int cmd_trace(int argc, char **argv);

const struct cli_cmd cli_cmd_test = {
	.name = "test",
	.run = cmd_test,
	.forms = (const char *const[]){ "SUITE [OPTIONS]", "--check RULES",
					"--compare OLD NEW SUITE [OPTIONS]", NULL },
	.help = "run firewall tests: nftables rulesets against crafted packets and flows",
	.opts =
		(const struct cli_opt[]){
			{ 'f', "format", "F", "report format: text (default), tap, junit or json" },
			{ 'o', "output", "FILE",
			  "write the report to FILE; the test lines still go to stdout" },
			{ OPT_COVERAGE, "coverage", NULL,
			  "add every rule with its hit count to the report" },
			{ 'k', "only", "TEXT", "run only the tests whose name contains TEXT" },
			{ 'q', "quiet", NULL, "print only the tests that did not pass" },
			{ OPT_CHECK, "check", "RULES",
			  "only load the ruleset RULES; errors at FILE:LINE:COL" },
			{ OPT_COMPARE, "compare", NULL,
			  "list the packets whose verdict differs, OLD vs NEW" },
			{ OPT_ALLOW_INCLUDE, "allow-include", NULL,
			  "accept `include` in rulesets" },
			{ OPT_ORDER, "order", "O",
			  "run the tests in suite (default), reverse or shuffle order" },
			{ OPT_SEED, "seed", "N",
			  "shuffle with seed N (the same N, the same order)" },
			{ 'j', "jobs", "N",
			  "run up to N tests at once, each job in namespaces of its own "
			  "(default: one per CPU, at most 4, one per 64 tests; 1: one at a time)" },
			{ 0 } },
};

const struct cli_cmd cli_cmd_trace = {
	.name = "trace",
	.run = cmd_trace,
	.forms = (const char *const[]){ "--rules RULES [--topology T] PACKET", NULL },
	.help = "one packet through a ruleset, every trace event shown (-v: nslab's own too); "
		"exit 1 if the trace decides nothing",
	.opts =
		(const struct cli_opt[]){
			{ 'r', "rules", "RULES", "the nftables ruleset file (required)" },
			{ 't', "topology", "T",
			  "direct (default: rules in the target), gateway (rules in "
			  "the router), or a lab file as FILE[:NODE] (rules in NODE, "
			  "by default its first router)" },
			{ OPT_ALLOW_INCLUDE, "allow-include", NULL,
			  "accept `include` in the ruleset" },
			{ 0 } },
};

/* --jobs N: 1 .. NSLAB_FWTEST_JOBS_MAX. */
static int parse_jobs(const char *s, struct test_opts *o)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || n < 1 || n > NSLAB_FWTEST_JOBS_MAX)
		return cli_usage_error(&cli_cmd_test, "--jobs: '%s' is not a number from 1 to %u",
				       s, NSLAB_FWTEST_JOBS_MAX);
	o->jobs = (unsigned)n;
	return 0;
}

struct test_parse {
	struct test_opts *o;
	bool compare;
};

static int test_opt(int key, char *arg, void *data)
{
	struct test_parse *p = data;
	struct test_opts *o = p->o;

	switch (key) {
	case 'k':
		o->only = arg;
		break;
	case 'f':
		return parse_format(arg, &o->format) == 0 ? CLI_GO_ON : EXIT_USAGE;
	case 'o':
		o->output = arg;
		break;
	case OPT_COVERAGE:
		o->coverage = true;
		break;
	case OPT_CHECK:
		o->check = arg;
		break;
	case OPT_COMPARE:
		p->compare = true;
		break;
	case OPT_ALLOW_INCLUDE:
		o->flags |= NSLAB_FWTEST_ALLOW_INCLUDE;
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_ORDER:
	case OPT_SEED:
		return parse_order(key, arg, o) == 0 ? CLI_GO_ON : EXIT_USAGE;
	case 'j':
		return parse_jobs(arg, o) == 0 ? CLI_GO_ON : EXIT_USAGE;
	}
	return CLI_GO_ON;
}

DEFINE_CLEANUP_FUNC(FILE, fclose)

/*
 * The first word of @path that is not blank or in a comment, into @buf; false if it cannot be
 * read. Enough to tell an nftables ruleset ("table", "flush", ...) from a YAML suite ("rules:").
 */
static bool first_word(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	_cleanup_(fclosep) FILE *f = NULL;
	struct stat st;
	char line[512];

	/* only a regular file is read here: a FIFO would block (the library says what it is) */
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)))
		fd = close_fd(fd);
	f = fd >= 0 ? fdopen(fd, "re") : NULL;
	if (!f) {
		(void)close_fd(fd);
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		char *w = line + strspn(line, " \t\r\n");

		if (!*w || *w == '#' || strncmp(w, "---", 3) == 0)
			continue;
		w[strcspn(w, " \t\r\n")] = '\0';
		snprintf(buf, size, "%s", w);
		return true;
	}
	return false;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool looks_like_ruleset(const char *path)
{
	static const char *const words[] = { "table",  "flush",	 "add",	   "define", "include",
					     "delete", "insert", "create", "destroy" };
	char w[64];

	if (has_suffix(path, ".nft"))
		return true;
	if (has_suffix(path, ".yaml") || has_suffix(path, ".yml") ||
	    !first_word(path, w, sizeof(w)))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

static bool looks_like_suite(const char *path)
{
	char w[64];

	if (has_suffix(path, ".yaml") || has_suffix(path, ".yml"))
		return true;
	if (has_suffix(path, ".nft") || !first_word(path, w, sizeof(w)))
		return false;
	return has_suffix(w, ":");
}

/* Rulesets and suites where they belong, with what to type instead when they are swapped. */
static int check_files(const struct test_opts *o)
{
	const char *rules[] = { o->check, o->old_rules, o->new_rules };

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		if (rules[i] && looks_like_suite(rules[i]))
			return cli_input_error(&cli_cmd_test,
					       "'%s' is a test suite, not a ruleset: run it with "
					       "`nslab test %s`",
					       rules[i], rules[i]);
	if (o->suite && looks_like_ruleset(o->suite))
		return cli_input_error(
			&cli_cmd_test,
			"'%s' is an nftables ruleset, not a test suite: check that it "
			"loads with `nslab test --check %s`",
			o->suite, o->suite);
	return CLI_GO_ON;
}

static int parse_test(int argc, char **argv, struct test_opts *o)
{
	struct test_parse p = { .o = o };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_test, argc, argv, test_opt, &p, &a);

	if (r != CLI_GO_ON)
		return r;
	if (o->check) {
		if (a.n_ops)
			return cli_usage_error(&cli_cmd_test,
					       "--check takes one ruleset and no suite ('%s')",
					       a.ops[0]);
	} else if (p.compare) {
		if (a.n_ops != 3)
			return cli_usage_error(&cli_cmd_test, "--compare takes OLD NEW SUITE");
		o->old_rules = a.ops[0];
		o->new_rules = a.ops[1];
		o->suite = a.ops[2];
	} else if (a.n_ops != 1) {
		return cli_usage_error(&cli_cmd_test, "expected one suite file");
	} else {
		o->suite = a.ops[0];
	}
	return check_files(o);
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

/* Close -o's file; a failed write is an error (the report is what CI reads). */
static int close_output(struct test_opts *o, int r, nslab_error *err)
{
	FILE *f = o->out;

	if (!f)
		return r;
	o->out = NULL;
	if (fclose(f) != 0 && r >= 0)
		r = nslab_err_set(err, errno, "write '%s'", o->output);
	return r;
}

/*
 * The report to -o (or stdout); with -o, the summary line on the terminal as well (the test
 * lines were streamed there already).
 */
static int report(const nslab_fwtest *ft, struct test_opts *o)
{
	nslab_error err = { 0 };
	int r;

	if (o->out) {
		r = nslab_fwtest_report(ft, o->format, o->coverage, o->out, &err);
		r = close_output(o, r, &err);
		if (r >= 0)
			r = nslab_fwtest_report(ft, NSLAB_FWTEST_FORMAT_SUMMARY, false, stdout,
						&err);
	} else {
		r = nslab_fwtest_report(ft,
					o->format == NSLAB_FWTEST_FORMAT_TEXT
						? NSLAB_FWTEST_FORMAT_SUMMARY
						: o->format,
					o->coverage, stdout, &err);
	}
	return r < 0 ? cli_fail(&err, 1) : 0;
}

/*
 * A suite that cannot run (exit 2): the report still says so, as one errored test, in -o's
 * file or on stdout for a machine format, so that CI finds a report rather than none.
 */
static int refused(struct test_opts *o, const nslab_error *why, int code)
{
	nslab_error err = { 0 };
	FILE *f = o->out ? o->out : o->format != NSLAB_FWTEST_FORMAT_TEXT ? stdout : NULL;
	int r = 0;

	if (f)
		r = nslab_fwtest_report_error(o->suite, o->format, why->msg, f, &err);
	r = close_output(o, r, &err);
	if (r < 0)
		fprintf(stderr, "nslab: %s, ignoring\n", err.msg);
	return cli_fail(why, code);
}

/* "nslab: warning: FILE:LINE:COL: ..." on stderr for each thing the suite reader ignored. */
static void print_warnings(const nslab_fwtest *ft)
{
	const char *w = nslab_fwtest_warnings(ft);

	while (*w) {
		size_t n = strcspn(w, "\n");

		fprintf(stderr, "nslab: warning: %.*s\n", (int)n, w);
		w += n + (w[n] == '\n');
	}
}

static int load(struct test_opts *o, const char *rules, nslab_fwtest **ret)
{
	unsigned long long seed = o->seed;
	nslab_error err = { 0 };
	unsigned flags = o->flags | (rules ? NSLAB_FWTEST_RULES_LATER : 0);

	if (nslab_fwtest_from_file(o->suite, flags, ret, &err) < 0)
		return refused(o, &err, EXIT_USAGE);
	print_warnings(*ret);
	if (o->only && nslab_fwtest_select(*ret, o->only, &err) < 0) {
		*ret = nslab_fwtest_free(*ret);
		return refused(o, &err, EXIT_USAGE);
	}
	if (rules && nslab_fwtest_set_rules_file(*ret, rules, &err) < 0) {
		*ret = nslab_fwtest_free(*ret);
		return refused(o, &err, is_input_error(-err.code) ? EXIT_USAGE : 1);
	}
	if (o->order == NSLAB_FWTEST_ORDER_SHUFFLE && !o->has_seed) {
		/* a seed of its own, said, so that a failing order can be run again */
		seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
		fprintf(stderr, "nslab test: shuffled with --seed %llu\n", seed);
	}
	if (nslab_fwtest_set_order(*ret, o->order, seed, &err) < 0 ||
	    nslab_fwtest_set_jobs(*ret, o->jobs, &err) < 0) {
		*ret = nslab_fwtest_free(*ret);
		return cli_fail(&err, EXIT_USAGE);
	}
	return 0;
}

static int run_suite(struct test_opts *o)
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
		return refused(o, &err, r == -EINVAL ? EXIT_USAGE : 1);
	}
	r = report(ft, o);
	if (!r)
		r = worst_status(ft);
	nslab_fwtest_free(ft);
	return r;
}

/* s as a JSON string (RFC 8259: quote, backslash and control characters escaped) */
static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++)
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	fputc('"', out);
}

static void compare_line(FILE *out, const struct test_opts *o, const nslab_fwtest *a,
			 const nslab_fwtest *b, size_t i, size_t k, bool first)
{
	if (o->format != NSLAB_FWTEST_FORMAT_JSON) {
		fprintf(out, "%s: %s: %s -> %s\n", nslab_fwtest_name(a, i),
			nslab_fwtest_packet_desc(a, i, k), nslab_fwtest_packet_verdict(a, i, k),
			nslab_fwtest_packet_verdict(b, i, k));
		return;
	}
	fputs(first ? "\n    {\"test\": " : ",\n    {\"test\": ", out);
	json_string(out, nslab_fwtest_name(a, i));
	fputs(", \"packet\": ", out);
	json_string(out, nslab_fwtest_packet_desc(a, i, k));
	fputs(", \"old\": ", out);
	json_string(out, nslab_fwtest_packet_verdict(a, i, k));
	fputs(", \"new\": ", out);
	json_string(out, nslab_fwtest_packet_verdict(b, i, k));
	fputs(", \"old_trace\": ", out);
	json_string(out, nslab_fwtest_packet_trace(a, i, k));
	fputs(", \"new_trace\": ", out);
	json_string(out, nslab_fwtest_packet_trace(b, i, k));
	fputc('}', out);
}

/* Every packet whose verdict differs, as lines or (--format json) one object. */
static size_t compare_report(FILE *out, const struct test_opts *o, const nslab_fwtest *a,
			     const nslab_fwtest *b)
{
	bool json = o->format == NSLAB_FWTEST_FORMAT_JSON;
	size_t differ = 0;

	if (json) {
		fputs("{\"schema\": 1, \"old\": ", out);
		json_string(out, o->old_rules);
		fputs(", \"new\": ", out);
		json_string(out, o->new_rules);
		fputs(", \"suite\": ", out);
		json_string(out, o->suite);
		fputs(", \"differ\": [", out);
	}
	for (size_t i = 0; i < nslab_fwtest_count(a); i++)
		for (size_t k = 0; k < nslab_fwtest_packet_count(a, i); k++) {
			const char *va = nslab_fwtest_packet_verdict(a, i, k);
			const char *vb = nslab_fwtest_packet_verdict(b, i, k);

			if (!vb || strcmp(va, vb) == 0)
				continue;
			compare_line(out, o, a, b, i, k, differ == 0);
			differ++;
		}
	if (json)
		fprintf(out, "%s], \"count\": %zu}\n", differ ? "\n  " : "", differ);
	else
		fprintf(out, "%zu packet%s differ between %s and %s\n", differ,
			differ == 1 ? "" : "s", o->old_rules, o->new_rules);
	return differ;
}

/*
 * Run the suite's packets against both rulesets (the suite's own rules, if any, are replaced);
 * list every packet whose verdict differs. A ruleset nftables refuses is exit 2, as --check.
 */
static int compare(struct test_opts *o)
{
	nslab_fwtest *a = NULL, *b = NULL;
	nslab_error err = { 0 };
	size_t differ = 0;
	int r = load(o, o->old_rules, &a), k = 0;

	if (!r)
		r = load(o, o->new_rules, &b);
	if (!r && ((k = nslab_fwtest_run(a, NULL, NULL, &err)) < 0 ||
		   (k = nslab_fwtest_run(b, NULL, NULL, &err)) < 0))
		r = refused(o, &err, k == -EINVAL ? EXIT_USAGE : 1);
	if (!r) {
		differ = compare_report(o->out ? o->out : stdout, o, a, b);
		r = close_output(o, 0, &err) < 0 ? cli_fail(&err, 1) : 0;
	}
	nslab_fwtest_free(a);
	nslab_fwtest_free(b);
	return r ? r : (differ ? 1 : 0);
}

static int cmd_test(int argc, char **argv)
{
	struct test_opts o = { 0 };
	nslab_error err = { 0 };
	int r = parse_test(argc, argv, &o);

	if (r != CLI_GO_ON)
		return r;
	/* a report that cannot be written is bad input, said before any test runs */
	if (o.output && !o.check && !(o.out = fopen(o.output, "we"))) {
		nslab_err_set(&err, errno, "-o '%s'", o.output);
		return cli_fail(&err, EXIT_USAGE);
	}
	if (nslab_bootstrap(&err) < 0)
		r = cli_fail(&err, 1);
	else if (o.check)
		r = check_rules(&o);
	else if (o.old_rules)
		r = compare(&o);
	else
		r = run_suite(&o);
	if (o.out)
		(void)fclose(o.out);
	return r;
}

/*
 * tcp and udp endpoints have a port, so an IPv6 address needs brackets: '2001:db8::1:80' is an
 * address without a port. Say how to write it rather than "needs dport".
 */
static int check_packet(const char *packet)
{
	char buf[256], *save = NULL, *proto, *w;

	snprintf(buf, sizeof(buf), "%s", packet);
	proto = strtok_r(buf, " \t", &save);
	if (!proto || (strcasecmp(proto, "tcp") != 0 && strcasecmp(proto, "udp") != 0))
		return CLI_GO_ON;
	while ((w = strtok_r(NULL, " \t", &save))) {
		char *colon = strrchr(w, ':');
		struct in6_addr a6;

		if (strchr(w, '[') || !colon || colon == strchr(w, ':'))
			continue;
		*colon = '\0';
		if (colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
		    inet_pton(AF_INET6, w, &a6) == 1)
			return cli_input_error(&cli_cmd_trace,
					       "'%s:%s': write an IPv6 address with a port in "
					       "brackets: [%s]:%s",
					       w, colon + 1, w, colon + 1);
		*colon = ':';
		return cli_input_error(&cli_cmd_trace,
				       "'%s': write an IPv6 address with a port in brackets: "
				       "[ADDRESS]:PORT",
				       w);
	}
	return CLI_GO_ON;
}

struct trace_opts {
	const char *rules, *topology;
	unsigned flags;
};

static int trace_opt(int key, char *arg, void *data)
{
	struct trace_opts *o = data;

	switch (key) {
	case 'r':
		o->rules = arg;
		break;
	case 't':
		o->topology = arg;
		break;
	case OPT_ALLOW_INCLUDE:
		o->flags |= NSLAB_FWTEST_ALLOW_INCLUDE;
		break;
	}
	return CLI_GO_ON;
}

/* nslab trace --rules FILE [--topology direct|gateway|LAB[:NODE]] 'PACKET' */
static int cmd_trace(int argc, char **argv)
{
	struct trace_opts o = { 0 };
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_trace, argc, argv, trace_opt, &o, &a);

	if (r != CLI_GO_ON)
		return r;
	if (!o.rules)
		return cli_usage_error(&cli_cmd_trace, "expected --rules FILE");
	if (a.n_ops != 1)
		return cli_usage_error(&cli_cmd_trace, "expected one packet, quoted: 'tcp "
						       "10.0.0.1:40000 > 10.0.0.2:22 S'");
	if (looks_like_suite(o.rules))
		return cli_input_error(&cli_cmd_trace,
				       "'%s' is a test suite, not a ruleset: run it with "
				       "`nslab test %s`",
				       o.rules, o.rules);
	r = check_packet(a.ops[0]);
	if (r != CLI_GO_ON)
		return r;
	if (nslab_bootstrap(&err) < 0)
		return cli_fail(&err, 1);
	if (cli_verbose)
		o.flags |= NSLAB_FWTEST_TRACE_ALL;
	r = nslab_fwtest_trace(o.rules, a.ops[0], o.topology, o.flags, stdout, &err);
	if (r < 0)
		return cli_fail(&err, is_input_error(r) ? EXIT_USAGE : 1);
	return 0;
}
