/* SPDX-License-Identifier: MIT */
/* core/error: filling and prefixing nslab_error values. */
#include "nslab/error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int err_vformat(nslab_error *err, int code, bool with_cause, const char *fmt, va_list ap)
{
	int n;

	if (code <= 0)
		code = EIO; /* a failure never has code 0 */
	if (!err)
		return -code;
	err->code = code;
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (with_cause && n >= 0 && (size_t)n < sizeof(err->msg)) {
		const char *cause = strerrordesc_np(code);

		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
			 cause ? cause : "unknown error");
	}
	return -code;
}

int nslab_err_set(nslab_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_vformat(err, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int nslab_err_setx(nslab_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_vformat(err, code, false, fmt, ap);
	va_end(ap);
	return r;
}

int nslab_err_prefix(nslab_error *err, int r, const char *fmt, ...)
{
	char prefix[NSLAB_ERROR_MSG_MAX], old[NSLAB_ERROR_MSG_MAX];
	int code = r < 0 ? -r : (err && err->code > 0 ? err->code : EIO);
	va_list ap;

	if (!err)
		return -code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return -code;
}

int nslab_abi_version(void)
{
	return NSLAB_ABI_VERSION;
}
