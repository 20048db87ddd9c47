/* SPDX-License-Identifier: MIT */
/* cli: `nslab serve [DIR...]`: the devtools server over run directories and live labs. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"

#ifndef NSLAB_UI_DIR
#define NSLAB_UI_DIR "/usr/local/share/nslab/ui"
#endif

static int cmd_serve(int argc, char **argv);

enum { OPT_BIND = CLI_LONG + 1, OPT_OPEN, OPT_PLAYGROUND, OPT_RATE, OPT_UI };

const struct cli_cmd cli_cmd_serve = {
	.name = "serve",
	.run = cmd_serve,
	.forms = (const char *const[]){ "[DIR...] [--bind ADDR:PORT] [--open] [--playground]",
					NULL },
	.help = "serve run directories and live labs to the web UI and a JSON API",
	.opts =
		(const struct cli_opt[]){
			{ OPT_BIND, "bind", "ADDR:PORT",
			  "listen there (default " HTTPD_DEFAULT_BIND "; off loopback, a token is "
			  "required)" },
			{ OPT_OPEN, "open", NULL, "open the URL in the browser (xdg-open)" },
			{ OPT_PLAYGROUND, "playground", NULL,
			  "accept firewall test suites by POST, run in throwaway namespaces (a "
			  "token is "
			  "required)" },
			{ OPT_RATE, "rate", "N",
			  "requests per second per client address (default 200)" },
			{ OPT_UI, "ui", "DIR",
			  "the built web UI (default $NSLAB_UI_DIR or " NSLAB_UI_DIR ")" },
			{ 0 } },
};

static int serve_opt(int key, char *arg, void *data)
{
	struct httpd_config *c = data;
	char *end;
	unsigned long n;

	switch (key) {
	case OPT_BIND:
		c->bind = arg;
		break;
	case OPT_OPEN:
		c->open = true;
		break;
	case OPT_PLAYGROUND:
		c->playground = true;
		break;
	case OPT_UI:
		c->ui_dir = arg;
		break;
	case OPT_RATE:
		n = strtoul(arg, &end, 10);
		if (*arg == '-' || end == arg || *end || n < 1 || n > 100000)
			return cli_usage_error(&cli_cmd_serve,
					       "--rate: '%s' is not a number from 1 to 100000",
					       arg);
		c->rate = (unsigned)n;
		break;
	default:
		break;
	}
	return CLI_GO_ON;
}

/*
 * The UI: --ui, $NSLAB_UI_DIR, the one `make` built next to this binary when it
 * runs from a build tree (BUILD/src/cli/, nslab or nslab-full: BUILD/ui), else the installed one.
 */
static const char *ui_dir(char *buf, size_t len)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (getenv("NSLAB_UI_DIR"))
		return getenv("NSLAB_UI_DIR");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash && slash - exe > 8 && strncmp(slash - 8, "/src/cli/", 9) == 0) {
			*slash = '\0';
			snprintf(buf, len, "%s/../../ui", exe);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	}
	return NSLAB_UI_DIR;
}

static int cmd_serve(int argc, char **argv)
{
	char built[PATH_MAX + 16];
	static char *const here[] = { (char *)"." };
	struct httpd_config c = { .bind = HTTPD_DEFAULT_BIND, .rate = HTTPD_DEFAULT_RATE };
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_serve, argc, argv, serve_opt, &c, &a);

	if (r != CLI_GO_ON)
		return r;
	c.dirs = a.n_ops ? a.ops : here;
	c.n_dirs = a.n_ops ? (size_t)a.n_ops : 1;
	if (!c.ui_dir)
		c.ui_dir = ui_dir(built, sizeof(built));
	if (httpd_run(&c, &err) < 0)
		return cli_fail(&err, err.code == EINVAL ? EXIT_USAGE : 1);
	return 0;
}
