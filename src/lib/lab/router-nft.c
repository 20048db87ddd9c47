/* SPDX-License-Identifier: MIT */
/*
 * lab/router-nft: a router's nslab tables (NAT, firewall) loaded together as
 * one libnftables transaction when the router is built, then its own
 * `rules_file:` beside them.
 */
#include "lab/router-nft.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "nl/nftables.h"
#include "shared/macro.h"

/*
 * `block_icmp_frag_needed:` a PMTU black hole, as a router whose operator
 * filters ICMP makes one: the IPv4 "fragmentation needed" and IPv6 "packet
 * too big" errors the router makes (output) or forwards are dropped, so a
 * sender of packets larger than the path's MTU is never told.
 */
static const char pmtu_text[] =
	"table inet nslab-pmtu {\n"
	"\tchain forward {\n\t\ttype filter hook forward priority filter - 1; policy accept;\n"
	"\t\ticmp type destination-unreachable icmp code frag-needed drop\n"
	"\t\ticmpv6 type packet-too-big drop\n\t}\n"
	"\tchain output {\n\t\ttype filter hook output priority filter - 1; policy accept;\n"
	"\t\ticmp type destination-unreachable icmp code frag-needed drop\n"
	"\t\ticmpv6 type packet-too-big drop\n\t}\n}\n";

/* The NAT's and the firewall's text, one after the other: a table each. */
static int tables_text(const struct spec_router *sr, const struct plan_node *pn, char **ret,
		       nslab_error *err)
{
	_cleanup_free_ char *nat = NULL, *nat6 = NULL, *fw = NULL;
	struct nat6_where n6w;
	struct nat_where nw;
	struct fw_where fwh;
	int r;

	if (sr->nat.enabled) {
		if (!nat_where_of(pn, &nw))
			return nslab_err_setx(err, EINVAL, "NAT needs an IPv4 uplink address");
		r = nat_ruleset_text(&sr->nat, &nw, &nat, err);
		if (r < 0)
			return r;
	}
	if (sr->nat6 != NAT6_NONE && nat6_where_of(pn, sr->nat6, &n6w)) {
		r = nat6_ruleset_text(sr->nat6, &n6w, &nat6, err);
		if (r < 0)
			return r;
	}
	if (sr->fw.enabled && fw_where_of(pn, &fwh)) {
		r = fw_ruleset_text(&sr->fw, &fwh, &fw, err);
		if (r < 0)
			return r;
	}
	if (asprintf(ret, "%s%s%s%s", nat ? nat : "", nat6 ? nat6 : "", fw ? fw : "",
		     sr->block_frag ? pmtu_text : "") < 0)
		return nslab_err_set(err, ENOMEM, "router tables");
	return 0;
}

/* A rules_file's error "LINE:COL: ..." becomes "FILE:LINE:COL: ...". */
static int rules_error(nslab_error *err, int r, const char *file)
{
	char msg[sizeof(err->msg)];

	if (!err || !isdigit((unsigned char)err->msg[0]))
		return nslab_err_prefix(err, r, "rules_file '%s'", file);
	snprintf(msg, sizeof(msg), "%s:%s", file, err->msg);
	memcpy(err->msg, msg, sizeof(msg));
	return r;
}

static bool has_tables(const struct spec_router *sr)
{
	return sr->nat.enabled || sr->nat6 != NAT6_NONE || sr->fw.enabled || sr->block_frag;
}

bool router_nft_wanted(const struct nslab_lab *lab, const struct plan_node *pn)
{
	const struct spec_router *sr;

	if (pn->kind != PLAN_ROUTER || pn->spec_index < 0)
		return false;
	sr = &lab->spec->routers[pn->spec_index];
	return has_tables(sr) || sr->rules_text;
}

int router_nft_build_in_ns(const struct nslab_lab *lab, const struct plan_node *pn,
			   nslab_error *err)
{
	const struct spec_router *sr;
	_cleanup_free_ char *text = NULL;
	int r;

	if (pn->kind != PLAN_ROUTER)
		return 0;
	sr = &lab->spec->routers[pn->spec_index];
	if (has_tables(sr)) {
		r = tables_text(sr, pn, &text, err);
		if (r >= 0)
			r = nftbl_run(text, false, NULL, err);
		if (r < 0)
			return nslab_err_prefix(err, r, "load NAT and firewall");
	}
	if (!sr->rules_text)
		return 0;
	r = nftbl_load(sr->rules_text, err);
	return r < 0 ? rules_error(err, r, sr->rules_file) : 0;
}

/*
 * A queue of node indexes filled by the builder, emptied by one thread that
 * enters each router's namespace (setns() of a network namespace is per
 * thread) and loads its tables there. Its first error stops it; the builder
 * sees it at its next push or at the end.
 */
struct router_nft_queue {
	const struct nslab_lab *lab;
	pthread_mutex_t lock;
	pthread_cond_t more;
	size_t *items, head, tail, cap;
	bool closed, failed;
	int result;
	nslab_error err;
	pthread_t tid;
};

static int load_one(struct router_nft_queue *q, size_t idx)
{
	const struct nslab_node *n = &q->lab->nodes[idx];
	int r = setns(n->ns->fd, CLONE_NEWNET) < 0
			? nslab_err_set(&q->err, errno, "enter the namespace")
			: router_nft_build_in_ns(q->lab, n->pn, &q->err);

	return r < 0 ? nslab_err_prefix(&q->err, r, "router '%s'", n->pn->name) : 0;
}

static void *queue_thread(void *arg)
{
	struct router_nft_queue *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		size_t idx;
		int r;

		while (q->head == q->tail && !q->closed)
			pthread_cond_wait(&q->more, &q->lock);
		if (q->head == q->tail || q->failed)
			break;
		idx = q->items[q->head++];
		pthread_mutex_unlock(&q->lock);
		r = load_one(q, idx); /* q->err is this thread's until it sets failed */
		pthread_mutex_lock(&q->lock);
		if (r < 0) {
			q->result = r;
			q->failed = true;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int router_nft_queue_start(const struct nslab_lab *lab, size_t n_max, struct router_nft_queue **ret,
			   nslab_error *err)
{
	struct router_nft_queue *q = calloc(1, sizeof(*q));
	int r;

	if (!q || !(q->items = calloc(n_max ? n_max : 1, sizeof(*q->items)))) {
		free(q);
		return nslab_err_set(err, ENOMEM, "router tables queue");
	}
	q->lab = lab;
	q->cap = n_max;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->more, NULL);
	r = pthread_create(&q->tid, NULL, queue_thread, q);
	if (r != 0) {
		free(q->items);
		free(q);
		return nslab_err_set(err, r, "start the router tables thread");
	}
	*ret = q;
	return 0;
}

int router_nft_queue_push(struct router_nft_queue *q, const struct nslab_node *n, nslab_error *err)
{
	int r = 0;

	pthread_mutex_lock(&q->lock);
	if (q->failed) {
		r = q->result;
		if (err)
			*err = q->err;
	} else if (q->tail == q->cap) {
		r = nslab_err_setx(err, ENOSPC, "router tables queue full");
	} else {
		q->items[q->tail++] = n->idx;
		pthread_cond_signal(&q->more);
	}
	pthread_mutex_unlock(&q->lock);
	return r;
}

int router_nft_queue_finish(struct router_nft_queue *q, bool failed, nslab_error *err)
{
	int r;

	if (!q)
		return 0;
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	q->failed |= failed;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->lock);
	(void)pthread_join(q->tid, NULL);
	r = failed ? 0 : q->result;
	if (r < 0 && err)
		*err = q->err;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->more);
	free(q->items);
	free(q);
	return r;
}
