/* SPDX-License-Identifier: MIT */
/* core/log: the library's debug hook; it does nothing until a front end sets a function. */
#pragma once

#include "shared/macro.h"

typedef void (*log_func)(int level, const char *msg, void *data);

struct logger {
	log_func fn;
	void *data;
};

#define LOG_LEVEL_DEBUG 7

/**
 * log_debugf() - Format a debug message and pass it to the logger's function
 * @lg:   logger, or NULL; nothing is formatted while it has no function
 * @fmt:  printf format and arguments; the message is cut at 1023 bytes
 *
 * The function gets LOG_LEVEL_DEBUG, the message (borrowed for the call) and lg->data.
 */
void log_debugf(const struct logger *lg, const char *fmt, ...) _printf_(2, 3);
