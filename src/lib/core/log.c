/* SPDX-License-Identifier: MIT */
/* core/log: format only when someone listens. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

void log_debugf(const struct logger *lg, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!lg || !lg->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lg->fn(LOG_LEVEL_DEBUG, msg, lg->data);
}
