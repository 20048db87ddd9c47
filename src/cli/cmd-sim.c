/* SPDX-License-Identifier: MIT */
/* cli: `nslab sim FILE|DIR...`: scripted scenarios over labs (nslab/sim.h). */
#include "cli.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"
#include "sim-progress.h"

#define SIMS_MAX 1024

enum sim_format { FMT_TEXT, FMT_JSON, FMT_JUNIT, FMT_TAP };

struct sim_opts {
	struct sim_progress *progress; /* while the sims run */
	nslab_sim **sims_view;	       /* its lists of the sims and their directories */
	const char **dirs_view;
	const char *outdir, *output;
	enum sim_format format;
	bool quiet;
	unsigned jobs; /* sims at once, each with its own lab */
	char **files;  /* the sims, DIRs expanded */
	size_t n_files;
};

static int cmd_sim(int argc, char **argv);

const struct cli_cmd cli_cmd_sim = {
	.name = "sim",
	.run = cmd_sim,
	.forms = (const char *const[]){ "[FILE|DIR...] [OPTIONS]", NULL },
	.help = "run scripted scenarios over labs: spawn, run, wait, assert, with an output "
		"directory",
	.opts =
		(const struct cli_opt[]){
			{ 'd', "outdir", "DIR",
			  "the run's directory (default ./nslab-runs/TIME-NAME, and "
			  "./nslab-runs/latest pointing at it)" },
			{ 'f', "format", "F", "report format: text (default), json, junit or tap" },
			{ 'o', "output", "FILE",
			  "write the report to FILE; step lines still go to stdout" },
			{ 'q', "quiet", NULL, "print only the sims that did not pass" },
			{ 'j', "jobs", "N",
			  "run up to N sims at once, each with its own lab (default 1)" },
			{ 0 } },
};

static int sim_opt(int key, char *arg, void *data)
{
	static const char *const formats[] = { "text", "json", "junit", "tap" };
	struct sim_opts *o = data;

	switch (key) {
	case 'd':
		o->outdir = arg;
		break;
	case 'o':
		o->output = arg;
		break;
	case 'q':
		o->quiet = true;
		break;
	case 'j': {
		char *end;
		unsigned long n = strtoul(arg, &end, 10);

		if (*arg == '-' || end == arg || *end || n < 1 || n > 64)
			return cli_usage_error(&cli_cmd_sim,
					       "--jobs: '%s' is not a number from 1 to 64", arg);
		o->jobs = (unsigned)n;
		break;
	}
	case 'f':
		for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
			if (strcmp(arg, formats[i]) == 0) {
				o->format = (enum sim_format)i;
				return CLI_GO_ON;
			}
		return cli_usage_error(&cli_cmd_sim, "unknown format '%s' (text, json, junit, tap)",
				       arg);
	}
	return CLI_GO_ON;
}

/* Discovery */

static int add_file(struct sim_opts *o, const char *path)
{
	char **f;

	if (o->n_files >= SIMS_MAX)
		return cli_input_error(&cli_cmd_sim, "more than %d sims", SIMS_MAX);
	f = reallocarray(o->files, o->n_files + 1, sizeof(*f));
	if (!f || !(f[o->n_files] = strdup(path)))
		return cli_input_error(&cli_cmd_sim, "out of memory");
	o->files = f;
	o->n_files++;
	return CLI_GO_ON;
}

/* A YAML file in a directory is a sim when a line starts with "steps:". */
static bool looks_like_sim(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	bool yes = false;

	while (f && !yes && fgets(line, sizeof(line), f))
		yes = strncmp(line, "steps:", 6) == 0;
	if (f)
		fclose(f);
	return yes;
}

static bool yaml_name(const char *n)
{
	size_t len = strlen(n);

	return (len > 5 && strcmp(n + len - 5, ".yaml") == 0) ||
	       (len > 4 && strcmp(n + len - 4, ".yml") == 0);
}

/* The sims under dir, sorted by path, in its subdirectories too. */
static int add_dir(struct sim_opts *o, const char *dir, int depth)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort), r = CLI_GO_ON;

	if (n < 0)
		return cli_input_error(&cli_cmd_sim, "'%s': %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		struct stat st;

		if (r == CLI_GO_ON && ents[i]->d_name[0] != '.' &&
		    asprintf(&path, "%s/%s", dir, ents[i]->d_name) >= 0 && stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth < 8)
				r = add_dir(o, path, depth + 1);
			else if (S_ISREG(st.st_mode) && yaml_name(path) && looks_like_sim(path))
				r = add_file(o, path);
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

/* No file given: the sims directory of the project's nslab.yaml. */
static int project_sims(struct sim_opts *o)
{
	_cleanup_free_ char *dir = NULL;
	nslab_error err = { 0 };
	size_t before = o->n_files;
	int r = nslab_sim_project_dir(".", &dir, &err);

	if (r == -ENOENT)
		return cli_usage_error(&cli_cmd_sim,
				       "expected a sim file or a directory of them "
				       "(or an nslab.yaml naming sims: DIR, here or above)");
	if (r < 0)
		return cli_fail(&err, EXIT_USAGE);
	r = add_dir(o, dir, 0);
	if (r == CLI_GO_ON && o->n_files == before)
		return cli_input_error(&cli_cmd_sim, "'%s' (nslab.yaml's sims): no sim file in it",
				       dir);
	return r;
}

static int parse_sim(int argc, char **argv, struct sim_opts *o)
{
	struct cli_args a;
	int r = cli_parse(&cli_cmd_sim, argc, argv, sim_opt, o, &a);
	struct stat st;

	if (r != CLI_GO_ON)
		return r;
	if (!a.n_ops)
		return project_sims(o);
	for (int i = 0; r == CLI_GO_ON && i < a.n_ops; i++) {
		if (stat(a.ops[i], &st) < 0)
			return cli_input_error(&cli_cmd_sim, "'%s': %s", a.ops[i], strerror(errno));
		if (S_ISDIR(st.st_mode)) {
			size_t before = o->n_files;

			r = add_dir(o, a.ops[i], 0);
			if (r == CLI_GO_ON && o->n_files == before)
				return cli_input_error(&cli_cmd_sim, "'%s': no sim file in it",
						       a.ops[i]);
		} else {
			r = add_file(o, a.ops[i]);
		}
	}
	return r;
}

/* The run directory */

static int make_run_dir(struct sim_opts *o, const char *first_name, char **ret)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (o->outdir) {
		if (mkdir(o->outdir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*ret = strdup(o->outdir);
		return *ret ? 0 : -ENOMEM;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	if (mkdir("nslab-runs", 0755) < 0 && errno != EEXIST)
		return -errno;
	for (int k = 0; k < 100; k++) {
		_cleanup_free_ char *d = NULL;

		if (asprintf(&d, "nslab-runs/%s-%s%.0d", stamp, first_name, k) < 0)
			return -ENOMEM;
		if (mkdir(d, 0755) == 0) {
			(void)unlink("nslab-runs/latest");
			(void)!symlink(d + strlen("nslab-runs/"), "nslab-runs/latest");
			*ret = TAKE_PTR(d);
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Reports */

static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++)
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
			fputc(*s, f);
}

struct outcome {
	nslab_sim *sim;
	char *dir;
};

static void report_json(FILE *f, const char *run_dir, const struct outcome *out, size_t n)
{
	size_t passed = 0;

	fprintf(f, "{\"schema\": 1, \"run\": ");
	cli_json_str(f, run_dir);
	fprintf(f, ", \"sims\": [");
	for (size_t i = 0; i < n; i++) {
		const nslab_sim *s = out[i].sim;

		passed += nslab_sim_status(s) == NSLAB_SIM_PASSED;
		fprintf(f, "%s{\"name\": ", i ? ", " : "");
		cli_json_str(f, nslab_sim_name(s));
		fprintf(f, ", \"file\": ");
		cli_json_str(f, nslab_sim_path(s));
		fprintf(f, ", \"dir\": ");
		cli_json_str(f, out[i].dir);
		fprintf(f, ", \"status\": \"%s\", \"ms\": %.3f, \"error\": ",
			nslab_sim_status_name(nslab_sim_status(s)), nslab_sim_ms(s));
		if (*nslab_sim_error(s))
			cli_json_str(f, nslab_sim_error(s));
		else
			fputs("null", f);
		fputc('}', f);
	}
	fprintf(f, "], \"total\": %zu, \"passed\": %zu, \"failed\": %zu}\n", n, passed, n - passed);
}

static void report_junit(FILE *f, const struct outcome *out, size_t n)
{
	size_t failed = 0, errors = 0;
	double ms = 0;

	for (size_t i = 0; i < n; i++) {
		failed += nslab_sim_status(out[i].sim) == NSLAB_SIM_FAILED;
		errors += nslab_sim_status(out[i].sim) == NSLAB_SIM_ERROR;
		ms += nslab_sim_ms(out[i].sim);
	}
	char host[256] = "", stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
	fprintf(f,
		"  <testsuite name=\"nslab sim\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"skipped=\"0\" time=\"%.3f\" timestamp=\"%s\" hostname=\"",
		n, failed, errors, ms / 1000, stamp);
	xml_text(f, host);
	fprintf(f, "\">\n");
	for (size_t i = 0; i < n; i++) {
		const nslab_sim *s = out[i].sim;
		enum nslab_sim_status st = nslab_sim_status(s);

		fprintf(f, "    <testcase classname=\"nslab.sim\" name=\"");
		xml_text(f, nslab_sim_name(s));
		fprintf(f, "\" time=\"%.3f\"", nslab_sim_ms(s) / 1000);
		if (st == NSLAB_SIM_PASSED) {
			fprintf(f, "/>\n");
			continue;
		}
		fprintf(f, ">\n      <%s message=\"", st == NSLAB_SIM_ERROR ? "error" : "failure");
		xml_text(f, nslab_sim_error(s));
		fprintf(f, "\"/>\n      <system-out>");
		xml_text(f, nslab_sim_path(s));
		fputc('\n', f);
		xml_text(f, out[i].dir);
		fprintf(f, "</system-out>\n    </testcase>\n");
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
}

static void report_tap(FILE *f, const struct outcome *out, size_t n)
{
	fprintf(f, "TAP version 13\n1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		const nslab_sim *s = out[i].sim;
		bool ok = nslab_sim_status(s) == NSLAB_SIM_PASSED;

		fprintf(f, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
		for (const char *c = nslab_sim_name(s); *c; c++)
			fprintf(f, *c == '#' || *c == '\\' ? "\\%c" : "%c", *c);
		fputc('\n', f);
		if (!ok)
			fprintf(f, "  # %s\n", nslab_sim_error(s));
	}
}

/* Running */

/* What a sim's step callback gets. */
struct sim_ctx {
	const struct sim_opts *o;
	size_t index;
};

static void on_step(nslab_sim *sim, size_t i, int done, void *data)
{
	const struct sim_ctx *c = data;
	const struct sim_opts *o = c->o;
	const char *st = nslab_sim_step_status(sim, i);

	sim_progress_step(sim, i, done, sim_progress_cb_data(o->progress, c->index));
	/* -j N: step lines of sims side by side would interleave; the summaries say enough */
	if (!done || o->quiet || (o->format != FMT_TEXT && !o->output) || o->jobs > 1)
		return;
	sim_progress_print(o->progress, "  %-7s %-20s %-8s %9.1f ms\n",
			   strcmp(st, "failed") == 0	? "FAIL"
			   : strcmp(st, "skipped") == 0 ? "skip"
							: "ok",
			   nslab_sim_step_id(sim, i), nslab_sim_step_kind(sim, i),
			   nslab_sim_step_ms(sim, i));
}

static bool text_lines(const struct sim_opts *o)
{
	return o->format == FMT_TEXT || o->output;
}

static void summary_line(const struct sim_opts *o, const nslab_sim *s, const char *dir)
{
	enum nslab_sim_status st = nslab_sim_status(s);

	if (!text_lines(o) || (o->quiet && st == NSLAB_SIM_PASSED))
		return;
	if (st == NSLAB_SIM_PASSED)
		sim_progress_print(o->progress, "PASS %s (%.2f s) %s\n", nslab_sim_name(s),
				   nslab_sim_ms(s) / 1000, dir);
	else
		sim_progress_print(o->progress, "%s %s (%.2f s) %s\n  %s\n",
				   st == NSLAB_SIM_ERROR ? "ERROR" : "FAIL", nslab_sim_name(s),
				   nslab_sim_ms(s) / 1000, dir, nslab_sim_error(s));
}

/* One sim run, its progress around it. */
static void run_one_sim(struct sim_opts *o, struct outcome *oc, size_t i)
{
	struct sim_ctx c = { .o = o, .index = i };
	nslab_error err = { 0 };

	sim_progress_sim(o->progress, i, false);
	/* its status and message say how it went */
	if (nslab_sim_run(oc[i].sim, oc[i].dir, on_step, &c, &err) < 0)
		err.code = 0;
	sim_progress_sim(o->progress, i, true);
	summary_line(o, oc[i].sim, oc[i].dir);
}

static char *sim_dir(const char *run_dir, const nslab_sim *s, size_t i, size_t n)
{
	char *d = NULL;

	if (n == 1 ? asprintf(&d, "%s/%s", run_dir, nslab_sim_name(s)) < 0
		   : asprintf(&d, "%s/%02zu-%s", run_dir, i + 1, nslab_sim_name(s)) < 0)
		return NULL;
	return d;
}

static int write_report(const struct sim_opts *o, FILE *out, const char *run_dir,
			const struct outcome *oc, size_t n)
{
	FILE *mf;
	_cleanup_free_ char *manifest = NULL;

	if (asprintf(&manifest, "%s/manifest.json", run_dir) >= 0 && (mf = fopen(manifest, "we"))) {
		report_json(mf, run_dir, oc, n);
		fclose(mf);
	}
	if (o->format == FMT_JSON)
		report_json(out, run_dir, oc, n);
	else if (o->format == FMT_JUNIT)
		report_junit(out, oc, n);
	else if (o->format == FMT_TAP)
		report_tap(out, oc, n);
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

struct pool {
	struct sim_opts *o;
	struct outcome *oc;
	atomic_size_t next;
};

/* A job: the next sim not taken, until there is none (its lab is built on this thread). */
static void *sim_job(void *arg)
{
	struct pool *p = arg;

	for (size_t i = atomic_fetch_add(&p->next, 1); i < p->o->n_files;
	     i = atomic_fetch_add(&p->next, 1))
		run_one_sim(p->o, p->oc, i);
	return NULL;
}

/* -j N: N threads take the sims in turn; step lines would interleave, so only summaries. */
static void run_parallel(struct sim_opts *o, struct outcome *oc)
{
	struct pool p = { .o = o, .oc = oc };
	size_t n = o->jobs < o->n_files ? o->jobs : o->n_files, started = 0;
	pthread_t tids[64];
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t j = 1; j < n; j++)
		started += pthread_create(&tids[started], NULL, sim_job, &p) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sim_job(&p);
	for (size_t j = 0; j < started; j++)
		(void)pthread_join(tids[j], NULL);
}

/*
 * progress.json for every run; the terminal's block when stdout is one and
 * the step lines go there (NSLAB_PROGRESS=0 keeps plain lines on a terminal).
 */
static int start_progress(struct sim_opts *o, struct outcome *oc, const char *run_dir)
{
	_cleanup_free_ nslab_sim **sims = calloc(o->n_files + 1, sizeof(*sims));
	_cleanup_free_ const char **dirs = calloc(o->n_files + 1, sizeof(*dirs));
	const char *env = getenv("NSLAB_PROGRESS");
	bool tty = isatty(STDOUT_FILENO) && text_lines(o) && !o->quiet &&
		   !(env && strcmp(env, "0") == 0);

	if (!sims || !dirs)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_files; i++) {
		sims[i] = oc[i].sim;
		dirs[i] = oc[i].dir;
	}
	o->sims_view = TAKE_PTR(sims);
	o->dirs_view = TAKE_PTR(dirs);
	o->progress = sim_progress_new(run_dir, o->sims_view, o->dirs_view, o->n_files, tty);
	return o->progress ? 0 : -ENOMEM;
}

static int run_all(struct sim_opts *o, struct outcome *oc, FILE *out)
{
	_cleanup_free_ char *run_dir = NULL;
	nslab_error err = { 0 };
	int worst = 0, r;

	r = make_run_dir(o, nslab_sim_name(oc[0].sim), &run_dir);
	if (r < 0) {
		nslab_err_set(&err, -r, "the run directory");
		return cli_fail(&err, 1);
	}
	for (size_t i = 0; i < o->n_files; i++)
		if (!(oc[i].dir = sim_dir(run_dir, oc[i].sim, i, o->n_files)))
			return EXIT_FAILURE;
	r = start_progress(o, oc, run_dir);
	if (r < 0) {
		nslab_err_set(&err, -r, "progress");
		return cli_fail(&err, 1);
	}
	if (o->jobs > 1)
		run_parallel(o, oc);
	for (size_t i = 0; o->jobs <= 1 && i < o->n_files; i++) {
		if (text_lines(o) && !o->quiet)
			sim_progress_print(o->progress, "%s (%s)\n", nslab_sim_name(oc[i].sim),
					   nslab_sim_path(oc[i].sim));
		run_one_sim(o, oc, i);
	}
	sim_progress_free(o->progress);
	o->progress = NULL;
	for (size_t i = 0; i < o->n_files; i++)
		if (nslab_sim_status(oc[i].sim) != NSLAB_SIM_PASSED)
			worst = 1;
	if (write_report(o, out, run_dir, oc, o->n_files) < 0) {
		nslab_err_set(&err, EIO, "write the report");
		return cli_fail(&err, 1);
	}
	return worst;
}

static int cmd_sim(int argc, char **argv)
{
	struct sim_opts o = { 0 };
	struct outcome *oc = NULL;
	nslab_error err = { 0 };
	FILE *out = stdout;
	int r = parse_sim(argc, argv, &o);

	if (r == CLI_GO_ON && o.output && !(out = fopen(o.output, "we"))) {
		nslab_err_set(&err, errno, "-o '%s'", o.output);
		r = cli_fail(&err, EXIT_USAGE);
	}
	if (r == CLI_GO_ON && !(oc = calloc(o.n_files, sizeof(*oc))))
		r = EXIT_FAILURE;
	/* every file is read (and its lab checked) before anything runs */
	for (size_t i = 0; r == CLI_GO_ON && i < o.n_files; i++)
		if (nslab_sim_from_file(o.files[i], &oc[i].sim, &err) < 0)
			r = cli_fail(&err, EXIT_USAGE);
	if (r == CLI_GO_ON && nslab_bootstrap(&err) < 0)
		r = cli_fail(&err, 1);
	if (r == CLI_GO_ON)
		r = run_all(&o, oc, out);
	for (size_t i = 0; oc && i < o.n_files; i++) {
		nslab_sim_free(oc[i].sim);
		free(oc[i].dir);
	}
	free(oc);
	for (size_t i = 0; i < o.n_files; i++)
		free(o.files[i]);
	free(o.files);
	free(o.sims_view);
	free(o.dirs_view);
	if (out != stdout)
		fclose(out);
	return r;
}
