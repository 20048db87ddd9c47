/* SPDX-License-Identifier: MIT */
/* fwtest/api: the object behind nslab_fwtest (shared by api.c and report.c). */
#pragma once

#include <time.h>

#include "nslab/fwtest.h"

#include "fwtest/run.h"
#include "fwtest/suite.h"

struct nslab_fwtest {
	unsigned flags;
	struct fw_suite *suite;
	struct fw_runner *runner; /* kept after the run: coverage */
	struct fw_result *results;
	size_t n_results;
	bool *unselected; /* tests left out by nslab_fwtest_select(), or NULL: all run */
	time_t started;	  /* when nslab_fwtest_run() began (JUnit's timestamp) */
	enum nslab_fwtest_order order;
	unsigned long long seed; /* NSLAB_FWTEST_ORDER_SHUFFLE's */
	bool keep_events;	 /* the results keep every trace event (nslab trace) */
	unsigned jobs;		 /* topologies at once (fwtest/jobs.h); 0: as many as worth it */
	unsigned jobs_used;	 /* what the run took */
};

/* Read a whole text file (rulesets), at most 16 MiB, no NUL bytes. */
int fw_read_text(const char *path, char **ret, nslab_error *err);
