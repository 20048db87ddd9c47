/* SPDX-License-Identifier: MIT */
/* sim/appev: programs' own events into the lab's stream (see the DOC in appev.h). */
#include "sim/appev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "shared/macro.h"
#include "sim/expr.h"

#define APPEV_QUEUE_MAX 100000u
#define APPEV_DGRAM_MAX 65536u /* an event longer than this is cut, then refused */

struct appev_item {
	size_t node;
	double at;
	char *json; /* one line, or NULL: not a JSON object (logged as such) */
};

struct appev_node {
	char *name, *env; /* env: "NSLAB_EVENTS=PATH" */
	char sockname[300];
	int fd;
};

struct sim_appev {
	nslab_lab *lab;
	int dir_fd; /* borrowed: the sim's directory, to remove events/ at the end */
	int events_fd, wake;
	int queued; /* eventfd: the queue went from empty to not (the sim thread flushes) */
	struct appev_node *nodes;
	size_t n_nodes;
	pthread_t thread;
	bool running;
	pthread_mutex_t mu; /* guards the queue below */
	struct appev_item *q;
	size_t n_q, cap_q, dropped, logged_drops;
	char *buf;
};

static void push(struct sim_appev *a, size_t node, double at, char *json)
{
	pthread_mutex_lock(&a->mu);
	if (a->n_q == a->cap_q && a->cap_q < APPEV_QUEUE_MAX) {
		size_t ncap = a->cap_q ? a->cap_q * 2 : 64;
		struct appev_item *q = reallocarray(a->q, ncap, sizeof(*q));

		if (q) {
			a->q = q;
			a->cap_q = ncap;
		}
	}
	if (a->n_q < a->cap_q) {
		a->q[a->n_q++] = (struct appev_item){ .node = node, .at = at, .json = json };
		if (a->n_q == 1)
			(void)eventfd_write(a->queued, 1);
	} else {
		a->dropped++;
		free(json);
	}
	pthread_mutex_unlock(&a->mu);
}

/* One datagram of a node's socket; false when there is none left. */
static bool receive_one(struct sim_appev *a, size_t node)
{
	char cbuf[CMSG_SPACE(sizeof(struct timeval))];
	struct iovec iov = { .iov_base = a->buf, .iov_len = APPEV_DGRAM_MAX };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct timeval tv;
	char *json = NULL;
	ssize_t n = recvmsg(a->nodes[node].fd, &mh, MSG_DONTWAIT);

	if (n < 0)
		return errno == EINTR;
	gettimeofday(&tv, NULL);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMP)
			memcpy(&tv, CMSG_DATA(c), sizeof(tv));
	if (!(mh.msg_flags & MSG_TRUNC))
		(void)sim_json_object(a->buf, (size_t)n, &json);
	push(a, node, (double)tv.tv_sec + (double)tv.tv_usec / 1e6, json);
	return true;
}

static void *appev_thread(void *arg)
{
	struct sim_appev *a = arg;
	struct pollfd *pfd = calloc(a->n_nodes + 1, sizeof(*pfd));
	bool stop = false;

	if (!pfd)
		return NULL;
	for (size_t i = 0; i < a->n_nodes; i++)
		pfd[i] = (struct pollfd){ .fd = a->nodes[i].fd, .events = POLLIN };
	pfd[a->n_nodes] = (struct pollfd){ .fd = a->wake, .events = POLLIN };
	while (!stop) {
		if (poll(pfd, a->n_nodes + 1, -1) < 0 && errno != EINTR)
			break;
		/* on a stop, first what the sockets hold */
		stop = pfd[a->n_nodes].revents & POLLIN;
		for (size_t i = 0; i < a->n_nodes; i++)
			while ((stop || (pfd[i].revents & POLLIN)) && receive_one(a, i))
				;
	}
	free(pfd);
	return NULL;
}

/* events/NODE.sock, bound through the directory's fd (no length limit on the way there). */
static int open_socket(struct sim_appev *a, struct appev_node *n, const char *dir, nslab_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return nslab_err_set(err, errno, "NSLAB_EVENTS: socket");
	n->fd = fd;
	snprintf(n->sockname, sizeof(n->sockname), "%s.sock", n->name);
	(void)unlinkat(a->events_fd, n->sockname, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/proc/self/fd/%d/%s", a->events_fd,
		 n->sockname);
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return nslab_err_set(err, errno, "NSLAB_EVENTS: bind events/%s", n->sockname);
	/* the lab's commands may run as another user (a sandbox, --uid) */
	if (fchmodat(a->events_fd, n->sockname, 0666, 0) < 0)
		return nslab_err_set(err, errno, "NSLAB_EVENTS: chmod events/%s", n->sockname);
	if (asprintf(&n->env, "NSLAB_EVENTS=%s/events/%s", dir, n->sockname) < 0) {
		n->env = NULL;
		return nslab_err_set(err, ENOMEM, "NSLAB_EVENTS");
	}
	return 0;
}

static int open_all(struct sim_appev *a, int dir_fd, const char *dir, nslab_error *err)
{
	size_t n = nslab_lab_node_count(a->lab);
	int r;

	if (mkdirat(dir_fd, "events", 0755) < 0 && errno != EEXIST)
		return nslab_err_set(err, errno, "NSLAB_EVENTS: create events/");
	a->events_fd = openat(dir_fd, "events", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (a->events_fd < 0)
		return nslab_err_set(err, errno, "NSLAB_EVENTS: open events/");
	a->nodes = calloc(n + 1, sizeof(*a->nodes));
	a->buf = malloc(APPEV_DGRAM_MAX + 1);
	a->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->queued = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!a->nodes || !a->buf || a->wake < 0 || a->queued < 0)
		return nslab_err_set(err, ENOMEM, "NSLAB_EVENTS");
	for (size_t i = 0; i < n; i++) {
		struct appev_node *node = &a->nodes[a->n_nodes++];

		node->fd = -1;
		node->name = strdup(nslab_node_name(nslab_lab_node_at(a->lab, i)));
		if (!node->name)
			return nslab_err_set(err, ENOMEM, "NSLAB_EVENTS");
		r = open_socket(a, node, dir, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int sim_appev_open(nslab_lab *lab, int dir_fd, const char *dir, struct sim_appev **ret,
		   nslab_error *err)
{
	struct sim_appev *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return nslab_err_set(err, ENOMEM, "NSLAB_EVENTS");
	a->lab = lab;
	a->dir_fd = dir_fd;
	a->events_fd = a->wake = a->queued = -1;
	pthread_mutex_init(&a->mu, NULL);
	r = open_all(a, dir_fd, dir, err);
	if (r >= 0) {
		r = -pthread_create(&a->thread, NULL, appev_thread, a);
		if (r < 0)
			(void)nslab_err_set(err, -r, "NSLAB_EVENTS: thread");
	}
	if (r < 0) {
		sim_appev_free(a);
		return r;
	}
	a->running = true;
	*ret = a;
	return 0;
}

const char *sim_appev_env(const struct sim_appev *a, const char *node)
{
	for (size_t i = 0; a && i < a->n_nodes; i++)
		if (strcmp(a->nodes[i].name, node) == 0)
			return a->nodes[i].env;
	return NULL;
}

int sim_appev_fd(const struct sim_appev *a)
{
	return a ? a->queued : -1;
}

void sim_appev_flush(struct sim_appev *a)
{
	struct appev_item *q;
	eventfd_t v;
	size_t n, dropped;

	/* read before the queue is taken: a push after it signals again */
	(void)eventfd_read(a->queued, &v);
	pthread_mutex_lock(&a->mu);
	q = a->q;
	n = a->n_q;
	dropped = a->dropped - a->logged_drops;
	a->logged_drops = a->dropped;
	a->q = NULL;
	a->n_q = a->cap_q = 0;
	pthread_mutex_unlock(&a->mu);
	for (size_t i = 0; i < n; i++) {
		nslab_lab_emit_app(a->lab, a->nodes[q[i].node].name, q[i].at,
				   q[i].json ? q[i].json : "{\"kind\":\"invalid\"}");
		free(q[i].json);
	}
	free(q);
	if (dropped) {
		char json[96];

		snprintf(json, sizeof(json), "{\"kind\":\"dropped\",\"count\":%zu}", dropped);
		nslab_lab_emit_app(a->lab, "", 0, json);
	}
}

struct sim_appev *sim_appev_free(struct sim_appev *a)
{
	if (!a)
		return NULL;
	if (a->running) {
		(void)eventfd_write(a->wake, 1);
		(void)pthread_join(a->thread, NULL);
		sim_appev_flush(a);
	}
	for (size_t i = 0; i < a->n_nodes; i++) {
		if (a->nodes[i].fd >= 0)
			(void)close(a->nodes[i].fd);
		if (a->nodes[i].fd >= 0 && a->events_fd >= 0)
			(void)unlinkat(a->events_fd, a->nodes[i].sockname, 0);
		free(a->nodes[i].name);
		free(a->nodes[i].env);
	}
	for (size_t i = 0; i < a->n_q; i++)
		free(a->q[i].json);
	free(a->q);
	free(a->nodes);
	free(a->buf);
	if (a->wake >= 0)
		(void)close(a->wake);
	if (a->queued >= 0)
		(void)close(a->queued);
	if (a->events_fd >= 0) {
		(void)close(a->events_fd);
		(void)unlinkat(a->dir_fd, "events", AT_REMOVEDIR); /* only if empty */
	}
	pthread_mutex_destroy(&a->mu);
	free(a);
	return NULL;
}
