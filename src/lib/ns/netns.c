/* SPDX-License-Identifier: MIT */
/* ns/netns: see the DOC block in netns.h for the order of steps. */
#include "ns/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "nl/sysctl.h"

int netns_open_current(int *ret_fd, nslab_error *err)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return nslab_err_set(err, errno, "open /proc/thread-self/ns/net");
	*ret_fd = fd_move_high(fd);
	return 0;
}

struct netns *netns_free(struct netns *ns)
{
	if (!ns)
		return NULL;
	nlsock_free(ns->nl);
	if (ns->fd >= 0)
		(void)close(ns->fd);
	free(ns);
	return NULL;
}

/* Steps 2-4, run while the thread is inside the new namespace. */
static int netns_setup_inside(struct netns *ns, const struct sysctl_kv *sysctls, size_t n,
			      nslab_error *err)
{
	int r = netns_open_current(&ns->fd, err);

	if (r < 0)
		return r;
	r = nlsock_open(NETLINK_ROUTE, &ns->nl, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = sysctl_write_in_ns(sysctls[i].key, sysctls[i].value, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int netns_new(int home_fd, const struct sysctl_kv *sysctls, size_t n_sysctls,
	      netns_inside_fn inside, void *data, struct netns **ret, nslab_error *err)
{
	_cleanup_(netns_freep) struct netns *ns = calloc(1, sizeof(*ns));
	int r;

	if (!ns)
		return nslab_err_set(err, ENOMEM, "allocate namespace");
	ns->fd = -1;
	if (unshare(CLONE_NEWNET) < 0)
		return nslab_err_set(err, errno, "unshare(CLONE_NEWNET)");
	r = netns_setup_inside(ns, sysctls, n_sysctls, err);
	if (r >= 0 && inside)
		r = inside(ns, data, err);
	if (setns(home_fd, CLONE_NEWNET) < 0)
		/* The thread is stranded in a namespace we are about to drop: report it loudly. */
		return nslab_err_set(err, errno, "setns back to the home network namespace");
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ns);
	return 0;
}

struct netns_call_req {
	int netns_fd;
	netns_call_fn fn;
	void *data;
	nslab_error err;
	int r;
};

static void *netns_call_thread(void *arg)
{
	struct netns_call_req *req = arg;

	if (req->netns_fd >= 0 && setns(req->netns_fd, CLONE_NEWNET) < 0)
		req->r = nslab_err_set(&req->err, errno, "setns(CLONE_NEWNET)");
	else
		req->r = req->fn(req->data, &req->err);
	return NULL;
}

int netns_call(int netns_fd, netns_call_fn fn, void *data, nslab_error *err)
{
	struct netns_call_req req = { .netns_fd = netns_fd, .fn = fn, .data = data };
	pthread_t tid;
	int r;

	r = pthread_create(&tid, NULL, netns_call_thread, &req);
	if (r != 0)
		return nslab_err_set(err, r, "create a thread to enter a network namespace");
	(void)pthread_join(tid, NULL);
	if (req.r < 0 && err)
		*err = req.err;
	return req.r;
}
