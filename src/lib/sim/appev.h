/* SPDX-License-Identifier: MIT */
/*
 * sim/appev: application events. Every command a sim starts gets NSLAB_EVENTS,
 * the path of a datagram socket of its node; each datagram written there (a
 * JSON object: {"kind": "connected", ...}) becomes an "app" event of the lab's
 * events.jsonl, with the node and the time the kernel received it.
 *
 * DOC: application events
 * 1. one AF_UNIX datagram socket per node, events/NODE.sock in the sim's
 *    directory, bound through /proc/self/fd/DIRFD/ (so a deep directory is
 *    no obstacle to the bind) and open to every user of the lab (0666);
 * 2. a thread receives datagrams as they come (a program never blocks on a
 *    full socket while the sim thread waits), with SO_TIMESTAMP's time, into
 *    a queue under a lock (at most APPEV_QUEUE_MAX; more are counted, dropped);
 * 3. the sim thread moves the queue into the event log as it comes: every
 *    wait of a step (a command's end, a ready line, a wait, an every's
 *    interval) also polls sim_appev_fd(), and between steps and at the end
 *    (the log keeps one writer): the event's "at" is when it was sent, its
 *    "ts" when it was logged, within milliseconds of it during a long step.
 */
#pragma once

#include <stddef.h>

#include "nslab/lab.h"

struct sim_appev;

/*
 * sim_appev_open() - A socket per node of the built lab under dir_fd's events/
 * @dir: the path of dir_fd, for NSLAB_EVENTS
 * Return: 0 and *ret (free with sim_appev_free()), or -errno.
 */
int sim_appev_open(nslab_lab *lab, int dir_fd, const char *dir, struct sim_appev **ret,
		   nslab_error *err);
/* "NSLAB_EVENTS=PATH" for a node's commands (borrowed), or NULL for a node it does not know. */
const char *sim_appev_env(const struct sim_appev *a, const char *node);
/* Readable while events wait for sim_appev_flush(); -1 for a NULL a. */
int sim_appev_fd(const struct sim_appev *a);
/* The events received so far into the lab's event log; the dropped ones counted in one. */
void sim_appev_flush(struct sim_appev *a);

/* Stops the thread (after it read what the sockets hold), flushes, removes the sockets. */
struct sim_appev *sim_appev_free(struct sim_appev *a);
