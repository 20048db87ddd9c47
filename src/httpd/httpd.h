/* SPDX-License-Identifier: MIT */
/*
 * httpd: `nslab serve`, the devtools server. One process: libmicrohttpd's
 * threads answer a read-only JSON API over run directories (lab outdirs, sim
 * runs, test reports) and the caller's live labs, events as server-sent
 * events, and the web UI's files. Only the public API and core's leaf helpers
 * (dl, json) are used: the server is a front end, like the CLI.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <nslab/error.h>

#define HTTPD_DEFAULT_BIND "127.0.0.1:7421"
#define HTTPD_DEFAULT_RATE 200 /* requests per second and client address */

/**
 * struct httpd_config - what `nslab serve` was asked for
 * @dirs, @n_dirs: the served directories (each one opened once, at start)
 * @bind:       "ADDR:PORT" (IPv6 as "[ADDR]:PORT"); port 0 picks a free one
 * @playground: accept POST /api/playground (firewall tests in throwaway namespaces)
 * @open:       start the user's browser on the URL
 * @rate:       requests per second per client address (burst twice that)
 * @ui_dir:     the built web UI, NULL or missing: a page says how to build it
 */
struct httpd_config {
	char *const *dirs;
	size_t n_dirs;
	const char *bind;
	bool playground;
	bool open;
	unsigned rate;
	const char *ui_dir;
};

/**
 * httpd_run() - Serve until SIGINT, SIGTERM or SIGHUP
 * Prints "nslab serve: URL" on stdout once listening (with the token when one
 * is required). Call it from a single-threaded process: it blocks those
 * signals for every thread it starts.
 * Return: 0 after a signal, -errno with err set if it could not start.
 */
int httpd_run(const struct httpd_config *cfg, nslab_error *err);
