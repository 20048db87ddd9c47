/* SPDX-License-Identifier: MIT */
/*
 * ns/netns: network namespaces held by fd only, each with one rtnetlink socket
 * opened inside it once and used from anywhere afterwards.
 *
 * DOC: creating a namespace without a thread per namespace
 * 1. unshare(CLONE_NEWNET) on the calling thread (it now sits in the new netns)
 * 2. open /proc/thread-self/ns/net (the only reference that will remain)
 * 3. open the rtnetlink socket (it stays bound to this netns forever)
 * 4. write the namespace's sysctls (/proc/sys/net resolves per thread)
 * 5. run the caller's work inside it, if any (links, later sysctls)
 * 6. setns() back to the home namespace, on success and on every failure
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

/* Work done while the thread is inside the new namespace (step 5). */
typedef int (*netns_inside_fn)(struct netns *ns, void *data, nslab_error *err);

/**
 * netns_new() - Create a network namespace with its socket and sysctls
 * @home_fd:    netns fd to return the calling thread to (borrowed)
 * @sysctls:    written inside the new namespace, in order (borrowed)
 * @n_sysctls:  number of @sysctls
 * @inside:     optional work done inside the new namespace before going home
 *              (step 5), given the new namespace and @data; < 0 fails the call
 * @data:       @inside's argument
 * @ret:        on success, the namespace; free with netns_free()
 * @err:        on failure, the cause
 *
 * Moves the *calling thread* in and out of the namespace (see the DOC block), so
 * call it on a thread of its own, never one whose netns others rely on; it needs
 * CAP_SYS_ADMIN in the current user namespace.
 * Return: 0, or -errno from unshare(), the socket or a sysctl write; nothing is
 * left behind. The thread is back in @home_fd's namespace in those cases; if the
 * setns() back itself fails, that -errno is returned ("setns back to the home
 * network namespace", replacing any earlier error) and the thread is stranded in
 * the dropped namespace.
 */
int netns_new(int home_fd, const struct sysctl_kv *sysctls, size_t n_sysctls,
	      netns_inside_fn inside, void *data, struct netns **ret, nslab_error *err);
/**
 * netns_free() - Close the socket and the fd
 * @ns:  namespace, or NULL
 *
 * The namespace itself dies with its last reference (processes, other fds).
 * Return: NULL
 */
struct netns *netns_free(struct netns *ns);
DEFINE_CLEANUP_FUNC(struct netns, netns_free)
/**
 * netns_open_current() - Open the calling thread's current netns (/proc/thread-self/ns/net)
 * @ret_fd:  on success, an O_CLOEXEC fd the caller closes; untouched on failure
 * @err:     on failure, the cause
 * Return: 0, or open()'s -errno
 */
int netns_open_current(int *ret_fd, nslab_error *err);

/* Work run by netns_call() on a thread inside a namespace. */
typedef int (*netns_call_fn)(void *data, nslab_error *err);

/**
 * netns_call() - Run fn on a short-lived thread that entered a network namespace
 * @netns_fd:  namespace to enter (borrowed), or -1 to stay in the caller's (a
 *             thread of its own for work that unshares, e.g. a scratch home)
 * @fn:        the work; it may open sockets, which stay bound to that namespace
 * @data:      @fn's argument
 * @err:       on failure, the cause (setns(), thread creation, or @fn's own)
 *
 * The calling thread never changes namespace, so this is safe from any thread,
 * and the thread's mount namespace stays the caller's (/proc/sys/net on such
 * a thread is the caller's view: write sysctls with netns_new()'s step 4).
 * Return: @fn's result, or -errno from setns()/pthread_create()
 */
int netns_call(int netns_fd, netns_call_fn fn, void *data, nslab_error *err);
