// SPDX-License-Identifier: MIT
/*
 * cli/egress-ask: the questions of `nslab run --interactive`, on /dev/tty
 * (the command keeps its stdin and stdout): one line a question,
 *   nslab run: ASK  TCP 198.18.1.3:8000  allow? [y]es / [n]o / [a]lways / [d]etails (30 s)
 * answered with a line. The library asks one question at a time and
 * remembers the answers; no answer before the deadline is a deny.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "egress-ask.h"
#include "egress-log.h"

int egress_ask_open(struct egress_ask *a, unsigned timeout_s)
{
	a->timeout_s = timeout_s;
	a->tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	return a->tty < 0 ? -errno : 0;
}

void egress_ask_close(struct egress_ask *a)
{
	if (a->tty >= 0)
		close(a->tty);
	a->tty = -1;
}

static void what(const struct nslab_egress_question *q, char *buf, size_t len)
{
	if (q->name)
		snprintf(buf, len, "DNS  %-5s %s", q->type, q->name);
	else if (!q->port)
		snprintf(buf, len, "%-4s %s", q->type, q->addr);
	else if (strchr(q->addr, ':'))
		snprintf(buf, len, "%-4s [%s]:%u", q->type, q->addr, q->port);
	else
		snprintf(buf, len, "%-4s %s:%u", q->type, q->addr, q->port);
}

static void details(const struct egress_ask *a, const struct nslab_egress_question *q)
{
	if (q->name)
		dprintf(a->tty,
			"  a DNS query (%s) for %s, which no --allow entry names.\n"
			"  y: answer it, and allow its addresses (any port) for their TTL and "
			"grace;\n"
			"     the name is not asked about again in this run\n"
			"  a: the same for %s and every name below it\n"
			"  n: refuse it (and every later query for it)\n",
			q->type, q->name, q->name);
	else
		dprintf(a->tty,
			"  a new %s flow to %s, port %u, that no --allow entry or DNS answer "
			"allows\n"
			"  (held: the client retries once it is allowed).\n"
			"  y: this address, protocol and port, for the run\n"
			"  a: every port and protocol of %s, for the run\n"
			"  n: refuse it (and its retries)\n",
			q->type, q->addr, q->port, q->addr);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A line from the terminal before the deadline: its first letter, lower case; 0 none, -1 EOF. */
static int read_answer(const struct egress_ask *a, long long deadline)
{
	struct pollfd pfd = { .fd = a->tty, .events = POLLIN };
	char line[128];
	ssize_t n;

	for (;;) {
		long long left = deadline - now_ms();

		if (left <= 0)
			return 0;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(a->tty, line, sizeof(line) - 1);
		if (n <= 0)
			return n < 0 && errno == EINTR ? 0 : -1;
		for (ssize_t i = 0; i < n; i++)
			if (!isspace((unsigned char)line[i]))
				return tolower((unsigned char)line[i]);
		return '\n'; /* an empty line: asked again */
	}
}

enum nslab_egress_answer egress_ask(const struct nslab_egress_question *q, void *data)
{
	const struct egress_ask *a = data;
	long long deadline = now_ms() + (long long)a->timeout_s * 1000;
	char dest[320];
	int c;

	what(q, dest, sizeof(dest));
	/* a transcript on stderr (redirected, it keeps what was asked; the answer follows as a line) */
	if (a->log)
		egress_log_asked(a->log, q);
	/* what was typed before the question is no answer to it */
	(void)tcflush(a->tty, TCIFLUSH);
	for (;;) {
		dprintf(a->tty,
			"nslab run: ASK  %s  allow? [y]es / [n]o / [a]lways / [d]etails (%u s) ",
			dest, a->timeout_s);
		c = read_answer(a, deadline);
		switch (c) {
		case 'y':
			return NSLAB_EGRESS_ANSWER_ALLOW;
		case 'a':
			return NSLAB_EGRESS_ANSWER_ALWAYS;
		case 'n':
			return NSLAB_EGRESS_ANSWER_DENY;
		case 'd':
			details(a, q);
			continue;
		case 0:
			dprintf(a->tty, "\nnslab run: no answer within %u s: %s denied\n",
				a->timeout_s, dest);
			return NSLAB_EGRESS_ANSWER_TIMEOUT;
		case -1:
			dprintf(a->tty, "\nnslab run: the terminal closed: %s denied\n", dest);
			return NSLAB_EGRESS_ANSWER_DENY;
		default:
			continue;
		}
	}
}
