/* SPDX-License-Identifier: MIT */
/* cli/egress-ask: `nslab run --interactive`: each new destination asked on the terminal. */
#pragma once

#include "nslab/egress.h"

struct egress_log;

struct egress_ask {
	int tty;		/* /dev/tty, read and written: the command keeps its stdin */
	unsigned timeout_s;	/* no answer within it: denied */
	struct egress_log *log; /* its live lines get an ASKED line per question (borrowed) */
};

/* Open the controlling terminal. Return: 0, or -errno (no terminal). */
int egress_ask_open(struct egress_ask *a, unsigned timeout_s);
void egress_ask_close(struct egress_ask *a);
/* nslab_egress_ask_func: data is the struct egress_ask. */
enum nslab_egress_answer egress_ask(const struct nslab_egress_question *q, void *data);
