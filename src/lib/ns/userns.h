/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ns/userns: the rootless bootstrap. Without root, the process enters a new user
 * namespace mapping the caller to 0 while it is still single-threaded (the
 * kernel refuses CLONE_NEWUSER to a multithreaded process).
 */
#pragma once

#include <stdbool.h>

#include "nslab/error.h"

/*
 * userns_bootstrap() - Enter a user namespace if not root
 * NSLAB_ROOTLESS=1 in the environment forces the user namespace even as root (tests).
 * Return: 1 if a user namespace was entered, 0 if not needed, -errno with the cause.
 */
int userns_bootstrap(nslab_error *err);
/* True if the process runs in a user namespace other than the initial one. */
bool userns_is_nested(void);
/* A hint for an EPERM from a network operation inside our user namespace. */
const char *userns_eperm_hint(void);
