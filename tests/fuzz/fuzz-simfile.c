/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the sim file parser (steps, blocks, templates, an inline lab): the
 * input is a sim file. Parsing must succeed or fail with "fuzz.yaml:LINE:COL:
 * message", and a parsed file must hold together: every block's body inside
 * steps[], every id unique, an inline lab parsed or refused at its place.
 * Inputs naming `extends:` are skipped: a base is read from the disk, not
 * from the fuzzer.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lab/labfile.h"
#include "sim/simfile.h"

static void check_error(int r, const nslab_error *err)
{
	if (r == -ENOMEM)
		return;
	if (r != -EINVAL || err->code != EINVAL || strncmp(err->msg, "fuzz.yaml:", 10) != 0)
		abort();
}

static void check_model(const struct sim_file *s)
{
	for (size_t i = 0; i < s->n_steps; i++) {
		const struct sim_step *st = &s->steps[i];

		if (i + st->n_body >= s->n_steps + (st->n_body ? 0 : 1) || !st->id)
			abort();
		for (size_t k = 0; k < i; k++)
			if (strcmp(s->steps[k].id, st->id) == 0)
				abort();
		if (st->kind == SIM_EVERY && (!st->n_choices || !st->wait_ms))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_file *s = NULL;
	struct lab_spec *spec = NULL;
	nslab_error err = { 0 };
	int r;

	if (size > 1 << 16 || memmem(data, size, "extends", 7))
		return 0;
	r = sim_file_parse("fuzz.yaml", (const char *)data, size, &s, &err);
	if (r < 0) {
		check_error(r, &err);
		return 0;
	}
	check_model(s);
	if (s->lab_tree) {
		r = labfile_parse_tree(s->lab_tree, "fuzz.yaml", &spec, &err);
		if (r < 0)
			check_error(r, &err);
		lab_spec_free(spec);
	}
	sim_file_free(s);
	return 0;
}
