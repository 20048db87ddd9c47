/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd-up: build a lab and hold it (the supervisor).
 * With -d the supervisor forks into its own session; the foreground process
 * waits until the lab is ready (exit 0) or the supervisor failed (its status).
 */
/**
 * DOC: Stages of the supervisor (passt's isolation.c idea, for a process that
 * outlives the command line that started it)
 *
 * The CLI process is the supervisor; the library never changes process-wide
 * state, so these steps live here, in this order:
 *
 * 1. Start: parse options; every path the user gave is used now, relative to
 *    the caller's directory: the lab file is read, --outdir is opened and from
 *    then on held as a directory fd (its absolute path kept for `nslab ls`
 *    only), and the control socket is an abstract name (no path at all).
 * 2. Build: nslab_lab_build(), with progress on a terminal; --persist.
 * 3. Report: the table on stdout. With -d, stdin, stdout and stderr then go to
 *    /dev/null (detach_stdio()): the terminal may close, nothing waits on
 *    input, and the foreground process has already said what there was to say.
 * 4. Quiet state (isolate()), before serving the first request:
 *    a. chdir("/"): the supervisor does not pin the caller's directory (a
 *       mount point stays unmountable, a deleted directory is not held), and
 *       no later relative path can depend on where `nslab up` was run;
 *    b. umask(077): whatever it still creates (state.json at teardown) is
 *       the user's alone, whatever mode a later change asks for;
 *    c. PR_SET_NO_NEW_PRIVS: serving only answers the control socket and
 *       never executes a program (exec runs in the client's helper), so no
 *       exec of a setuid file or file capabilities can ever raise what a bug in
 *       the supervisor could do. Processes forked from here on inherit it.
 *    The supervisor stays dumpable: `nslab` tests and tools read
 *    /proc/<supervisor>/fd, which a non-dumpable process hides.
 * 5. Serve: nslab_lab_serve() until SIGINT/SIGTERM/SIGHUP or `nslab down`,
 *    then tear down through the fds held since stage 1.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct up_opts {
	const char *file, *name, *outdir, *link_backend;
	bool detach, persist, quiet;
};

/*
 * Progress while building: "building: DONE/TOTAL nodes" on stderr, rewritten
 * in place with '\r', only when stderr is a terminal (never into a pipe or a
 * file), not with -q, and not with -v (debug lines would break it up). Plain
 * text: nslab prints no colour, so there is nothing for NO_COLOR to turn off.
 */
struct progress {
	size_t done, total;
	unsigned shown_pct; /* last percentage printed + 1; 0: nothing printed yet */
	bool show;
};

static void progress_print(struct progress *p)
{
	unsigned pct = p->total ? (unsigned)(p->done * 100 / p->total) : 0;

	/* at most ~100 writes, whatever the lab's size, and always the last count */
	if (pct + 1 == p->shown_pct && p->done != p->total)
		return;
	p->shown_pct = pct + 1;
	fprintf(stderr, "\rbuilding: %zu/%zu nodes", p->done, p->total);
	fflush(stderr);
}

/* End the progress line, if one was printed, so what follows starts a line of its own. */
static void progress_end(struct progress *p)
{
	if (p->show && p->shown_pct)
		fputc('\n', stderr);
	p->show = false;
}

static void on_event(const char *kind, const char *json, void *data)
{
	struct progress *p = data;

	(void)json;
	if (strcmp(kind, "router_added") != 0 && strcmp(kind, "device_added") != 0)
		return;
	p->done++;
	if (p->show)
		progress_print(p);
}

static void on_log(int level, const char *msg, void *data)
{
	(void)level;
	(void)data;
	fprintf(stderr, "nslab: debug: %s\n", msg);
}

enum { OPT_PERSIST = CLI_LONG, OPT_LINK_BACKEND };

static int cmd_up(int argc, char **argv);

const struct cli_cmd cli_cmd_up = {
	.name = "up",
	.run = cmd_up,
	.forms = (const char *const[]){ "FILE [OPTIONS]", NULL },
	.help = "build a lab from a YAML file and hold it until Ctrl-C or `nslab down`",
	.opts =
		(const struct cli_opt[]){
			{ 'd', "detach", NULL,
			  "return once the lab is ready; the supervisor stays behind" },
			{ 'n', "name", "N", "name the lab N instead of the file's lab: or stem" },
			{ 'o', "outdir", "DIR",
			  "write events.jsonl, state.json and logs into DIR" },
			{ OPT_PERSIST, "persist", NULL,
			  "root only: name namespaces /run/netns/LAB-NODE" },
			{ OPT_LINK_BACKEND, "link-backend", "B",
			  "condition links with auto, wire or netem (over the file's "
			  "link_backend:)" },
			{ 'q', "quiet", NULL, "print no table and no progress" },
			{ 0 } },
};

static int up_opt(int key, char *arg, void *data)
{
	struct up_opts *o = data;

	switch (key) {
	case 'd':
		o->detach = true;
		break;
	case 'n':
		o->name = arg;
		break;
	case 'o':
		o->outdir = arg;
		break;
	case OPT_PERSIST:
		o->persist = true;
		break;
	case OPT_LINK_BACKEND:
		o->link_backend = arg;
		break;
	case 'q':
		o->quiet = true;
		break;
	}
	return CLI_GO_ON;
}

static int parse_up(int argc, char **argv, struct up_opts *o)
{
	struct cli_args a;
	int r = cli_parse(&cli_cmd_up, argc, argv, up_opt, o, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops != 1)
		return cli_usage_error(&cli_cmd_up, "expected one lab file");
	o->file = a.ops[0];
	if (!o->outdir)
		o->outdir = getenv("NSLAB_OUTDIR");
	return CLI_GO_ON;
}

/* Describe, name, claim the socket, build: the lab or an exit status. */
static int up_build(const struct up_opts *o, struct progress *pg, nslab_lab **ret)
{
	nslab_error err = { 0 };
	nslab_lab *lab = NULL;
	int status = 1, r;

	if (nslab_lab_from_file(o->file, &lab, &err) < 0)
		return cli_fail(&err, EXIT_USAGE);
	if ((o->name && nslab_lab_set_name(lab, o->name, &err) < 0) ||
	    (o->link_backend && nslab_lab_set_link_backend(lab, o->link_backend, &err) < 0) ||
	    nslab_lab_check(lab, &err) < 0) {
		status = EXIT_USAGE;
		goto fail;
	}
	if ((o->outdir && nslab_lab_set_outdir(lab, o->outdir, &err) < 0) ||
	    nslab_lab_listen(lab, &err) < 0)
		goto fail;
	pg->total = nslab_lab_node_count(lab);
	nslab_lab_set_event_func(lab, on_event, pg);
	if (cli_verbose)
		nslab_lab_set_log_func(lab, on_log, NULL);
	r = nslab_lab_build(lab, &err);
	progress_end(pg);
	if (r < 0 || (o->persist && nslab_lab_persist(lab, &err) < 0))
		goto fail;
	*ret = lab;
	return 0;
fail:
	nslab_lab_free(lab);
	return cli_fail(&err, status);
}

/* Beyond this many nodes `up` prints a summary; `nslab status` has the whole table. */
#define TABLE_MAX_NODES 200

static void print_table(nslab_lab *lab)
{
	nslab_error err = { 0 };
	size_t n = nslab_lab_node_count(lab);
	char *table = NULL;

	printf("lab '%s' is up (%s): %zu nodes\n", nslab_lab_name(lab),
	       nslab_lab_is_rootless(lab) ? "rootless" : "root", n);
	if (n > TABLE_MAX_NODES)
		printf("(the table of %zu nodes: nslab status %s)\n", n, nslab_lab_name(lab));
	else if (nslab_lab_table(lab, &table, &err) < 0)
		cli_fail(&err, 1);
	else
		fputs(table, stdout);
	if (!getenv("NSLAB_NO_HINT"))
		printf("\nnslab exec %s NODE -- CMD   |   nslab down %s\n", nslab_lab_name(lab),
		       nslab_lab_name(lab));
	fflush(stdout);
	free(table);
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		(void)dup2(fd, 0);
		(void)dup2(fd, 1);
		(void)dup2(fd, 2);
		(void)close(fd);
	}
}

/* Stage 4 of the DOC block: 0, or -errno with err set. */
static int isolate(nslab_error *err)
{
	if (chdir("/") < 0)
		return nslab_err_set(err, errno, "supervisor: chdir /");
	(void)umask(077);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return nslab_err_set(err, errno, "supervisor: PR_SET_NO_NEW_PRIVS");
	return 0;
}

static int up_run(const struct up_opts *o, int ready_fd)
{
	struct progress pg = { .show = !o->quiet && !cli_verbose && isatty(2) };
	nslab_error err = { 0 };
	nslab_lab *lab = NULL;
	int r;

	if (nslab_bootstrap(&err) < 0)
		return cli_fail(&err, 1);
	r = up_build(o, &pg, &lab);
	if (r)
		return r;
	if (!o->quiet)
		print_table(lab);
	if (o->detach)
		detach_stdio();
	r = isolate(&err);
	if (r >= 0)
		r = nslab_lab_serve(lab, ready_fd, &err);
	if (r >= 0 && !o->quiet && !o->detach)
		fprintf(stderr, "lab '%s': tearing down\n", nslab_lab_name(lab));
	nslab_lab_free(lab);
	return r < 0 ? cli_fail(&err, 1) : 0;
}

/* The foreground half of -d: wait for "ready" or for the supervisor's failure. */
static int up_detach(const struct up_opts *o)
{
	int p[2], status;
	char buf[8];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("nslab: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("nslab: fork");
		return 1;
	}
	if (pid == 0) {
		(void)close(p[0]);
		(void)setsid();
		_exit(up_run(o, p[1]));
	}
	(void)close(p[1]);
	if (read(p[0], buf, sizeof(buf)) > 0)
		return 0;
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return cli_exit_status(status) ?: 1;
}

static int cmd_up(int argc, char **argv)
{
	struct up_opts o = { 0 };
	int r = parse_up(argc, argv, &o);

	if (r != CLI_GO_ON)
		return r;
	if (o.detach)
		return up_detach(&o);
	return up_run(&o, -1);
}
