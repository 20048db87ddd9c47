/* SPDX-License-Identifier: MIT */
/*
 * nslab/error.h - the error value every fallible call fills
 *
 * Fallible calls return >= 0 on success and -errno on failure, and take a
 * nslab_error *err last. err may be NULL; success leaves it untouched. The
 * value is fixed-size: nothing to free, and it can cross a pipe.
 */
#ifndef NSLAB_ERROR_H
#define NSLAB_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define NSLAB_EXPORT	    __attribute__((visibility("default")))
/* A fallible call whose result must be looked at (as iproute2's libnetlink.h does). */
#define NSLAB_NODISCARD	    __attribute__((warn_unused_result))
#define NSLAB_ERROR_MSG_MAX 512
/*
 * The ABI this header describes: raised when a public struct's layout or an
 * exported call's meaning changes, so that a binding that declares the calls
 * itself (python/nslab over ctypes) refuses a library it was not written for.
 */
#define NSLAB_ABI_VERSION   1

typedef struct nslab_error {
	int code;		       /* positive errno value; 0 while unset */
	char msg[NSLAB_ERROR_MSG_MAX]; /* "outer context: inner context: cause" */
} nslab_error;

/* Set err to code and "fmt: strerror(code)". Return: -code. */
NSLAB_EXPORT int nslab_err_set(nslab_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Set err to code and fmt, without strerror (synthetic errors). Return: -code. */
NSLAB_EXPORT int nslab_err_setx(nslab_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/**
 * nslab_err_prefix() - Add context to the error of a call that just failed
 * @err: the error that call filled, or NULL
 * @r:   what that call returned (a negative errno)
 * @fmt: printf-style context, prepended to err's message as "fmt: "
 *
 * The code travels in @r, not in @err, so that it survives when the caller
 * passed err = NULL: `return nslab_err_prefix(err, r, "node '%s'", name);`
 * returns the same value either way. err->code is set to -@r, keeping the
 * error and the return value in step. An @r >= 0 (a bug: nothing failed)
 * falls back to err's own code, then to EIO: a failure never has code 0.
 *
 * Return: @r if negative, otherwise -err->code or -EIO as above.
 */
NSLAB_EXPORT int nslab_err_prefix(nslab_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Return: the library's NSLAB_ABI_VERSION (compare with the header's). */
NSLAB_EXPORT int nslab_abi_version(void);

#ifdef __cplusplus
}
#endif
#endif
