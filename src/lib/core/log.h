/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/log: the library's debug hook; it does nothing until a front end sets a function. */
#pragma once

#include "shared/macro.h"

typedef void (*log_func)(int level, const char *msg, void *data);

struct logger {
	log_func fn;
	void *data;
};

#define LOG_LEVEL_DEBUG 7

void log_debugf(const struct logger *lg, const char *fmt, ...) _printf_(2, 3);
