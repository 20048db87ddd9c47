/* SPDX-License-Identifier: MIT */
/* cli: `nslab serve [DIR...]`: the devtools server over run directories and live labs. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static int cmd_serve(int argc, char **argv)
{
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
		c.ui_dir = getenv("NSLAB_UI_DIR") ? getenv("NSLAB_UI_DIR") : NSLAB_UI_DIR;
	if (httpd_run(&c, &err) < 0)
		return cli_fail(&err, err.code == EINVAL ? EXIT_USAGE : 1);
	return 0;
}
