/* SPDX-License-Identifier: MIT */
/* nl/sysctl: /proc/sys writes; net/ entries act on the calling thread's network namespace. */
#pragma once

#include <stddef.h>

#include "nslab/error.h"

/*
 * sysctl_write_in_ns() - Write value to /proc/sys/<key> ("net/ipv4/ip_forward")
 * The netns is the calling thread's at the time of the call (the kernel
 * resolves /proc/sys/net per opener), so call it while inside the namespace.
 * A value the kernel accepts but does not keep (a vector cut short, a string
 * cut at its size) is -EINVAL naming the key, the value asked and the value
 * kept; a value with a newline is -EINVAL (details in sysctl.c).
 */
int sysctl_write_in_ns(const char *key, const char *value, nslab_error *err);
int sysctl_read_in_ns(const char *key, char *buf, size_t len, nslab_error *err);
