/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the lab file parser and the planner behind it: the input is a lab
 * file. Parsing must succeed or fail with "fuzz.yaml:LINE:COL: message" (the
 * parser never prints), and a parsed lab must plan or fail with -ENOSPC.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lab/labfile.h"
#include "lab/plan.h"

static void check_error(int r, const nslab_error *err)
{
	if (r == -ENOMEM)
		return;
	/* every parse or plan error names its place in the file */
	if (err->code != -r || strncmp(err->msg, "fuzz.yaml:", 10) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lab_spec *spec = NULL;
	struct lab_plan *plan = NULL;
	nslab_error err = { 0 };
	int r;

	if (size > 1 << 16)
		return 0;
	r = labfile_parse_string((const char *)data, size, "fuzz.yaml", &spec, &err);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		check_error(r, &err);
		return 0;
	}
	r = lab_plan_make(spec, &plan, &err);
	if (r < 0) {
		if (r != -ENOSPC && r != -ENOMEM)
			abort();
		check_error(r, &err);
	} else if (plan->n_nodes != 1 + spec->n_routers + spec->n_devices ||
		   lab_plan_find(plan, "") != 0) {
		abort();
	}
	lab_plan_free(plan);
	lab_spec_free(spec);
	return 0;
}
