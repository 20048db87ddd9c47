/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ns/netns: network namespaces held by fd only, each with one rtnetlink socket
 * opened inside it once and used from anywhere afterwards.
 *
 * DOC: creating a namespace without a thread per namespace
 * 1. unshare(CLONE_NEWNET) on the calling thread (it now sits in the new netns)
 * 2. open /proc/thread-self/ns/net (the only reference that will remain)
 * 3. open the rtnetlink socket (it stays bound to this netns forever)
 * 4. write the namespace's sysctls (/proc/sys/net resolves per thread)
 * 5. setns() back to the home namespace, on success and on every failure
 */
#pragma once

#include "nl/nlsock.h"
#include "nslab/error.h"
#include "shared/macro.h"

struct netns {
	int fd;		   /* /proc/thread-self/ns/net of the namespace */
	struct nlsock *nl; /* NETLINK_ROUTE socket opened inside it */
};

struct sysctl_kv {
	const char *key; /* relative to /proc/sys, e.g. "net/ipv4/ip_forward" */
	const char *value;
};

/*
 * netns_new() - Create a network namespace with its socket and sysctls
 * @home_fd: netns fd to return the calling thread to
 * Return: 0 and *ret (free with netns_free()), or -errno; the thread is home either way.
 */
int netns_new(int home_fd, const struct sysctl_kv *sysctls, size_t n_sysctls, struct netns **ret,
	      nslab_error *err);
/* Close the socket and the fd (the namespace dies with its last reference). Return: NULL. */
struct netns *netns_free(struct netns *ns);
DEFINE_CLEANUP_FUNC(struct netns, netns_free)
/* Open the calling thread's current netns fd (O_CLOEXEC). */
int netns_open_current(int *ret_fd, nslab_error *err);
