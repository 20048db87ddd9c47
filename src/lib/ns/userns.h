/* SPDX-License-Identifier: MIT */
/*
 * ns/userns: the rootless bootstrap. Without root, the process enters a new user
 * namespace mapping the caller to 0 while it is still single-threaded (the
 * kernel refuses CLONE_NEWUSER to a multithreaded process).
 */
#pragma once

#include <stdbool.h>

#include "nslab/error.h"

/**
 * userns_bootstrap() - Enter a user namespace if not root
 * @err:  on failure, the cause
 *
 * Call first thing in main(), before any thread starts. Root means effective
 * uid 0. NSLAB_ROOTLESS=1 in the environment forces the user namespace even as
 * root (tests). The effective uid and gid are mapped to 0, setgroups is denied.
 * Return: 1 if a user namespace was entered, 0 if not needed, or -errno: -EBUSY if
 * the process has threads (or /proc/self/status is unreadable), unshare()'s error,
 * or a failed write to setgroups/uid_map/gid_map. After a failed write the process
 * stays in the new, partly mapped user namespace.
 */
int userns_bootstrap(nslab_error *err);
/**
 * userns_is_nested() - Whether the process runs in a user namespace other than the initial one
 *
 * Judged from /proc/self/uid_map: anything but the identity map of the whole range.
 * Return: true if nested; false also when uid_map cannot be read
 */
bool userns_is_nested(void);
/**
 * userns_eperm_hint() - A hint for an EPERM from a network operation inside our user namespace
 * Return: static text (borrowed, valid forever), to append to the error message
 */
const char *userns_eperm_hint(void);
