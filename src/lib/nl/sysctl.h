/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nl/sysctl: /proc/sys writes; net/ entries act on the calling thread's network namespace. */
#pragma once

#include <stddef.h>

#include "nslab/error.h"

/*
 * sysctl_write_in_ns() - Write value to /proc/sys/<key> ("net/ipv4/ip_forward")
 * The netns is the calling thread's at the time of the call (the kernel
 * resolves /proc/sys/net per opener), so call it while inside the namespace.
 */
int sysctl_write_in_ns(const char *key, const char *value, nslab_error *err);
int sysctl_read_in_ns(const char *key, char *buf, size_t len, nslab_error *err);
