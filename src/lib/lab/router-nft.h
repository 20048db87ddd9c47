/* SPDX-License-Identifier: MIT */
/* lab/router-nft: a router's nftables tables at build time (see router-nft.c). */
#pragma once

#include "lab/fw.h"
#include "lab/nat.h"

struct nslab_lab;
struct plan_node;

/**
 * router_nft_build_in_ns() - The NAT, firewall and rules_file of router pn, in the calling thread's netns
 * NAT and firewall are one transaction (through libnftables, no fork); the
 * rules_file is loaded after them as nftbl_load() loads a user's ruleset.
 * Nothing to do for a node that is not a router or has none of them.
 * Return: 0, or -errno (a rules_file's errors as "FILE:LINE:COL: ...";
 * the builder adds "router 'NAME': ")
 */
int router_nft_build_in_ns(const struct nslab_lab *lab, const struct plan_node *pn,
			   nslab_error *err);

/*
 * The routers' tables loaded on a thread of their own while the builder makes
 * the next namespaces: libnftables' parsing and evaluation (about two thirds
 * of a router's load) then take the other CPU instead of the builder's time.
 */
struct router_nft_queue;
struct nslab_node;

/** router_nft_wanted() - Whether router_nft_build_in_ns() has anything to load for pn */
bool router_nft_wanted(const struct nslab_lab *lab, const struct plan_node *pn);

/** router_nft_queue_start() - Start the loading thread (n_max: the most routers queued) */
int router_nft_queue_start(const struct nslab_lab *lab, size_t n_max, struct router_nft_queue **ret,
			   nslab_error *err);

/**
 * router_nft_queue_push() - Queue node n, its namespace made (n->ns set)
 * Return: 0, or the loading thread's first error so far (the build stops)
 */
int router_nft_queue_push(struct router_nft_queue *q, const struct nslab_node *n, nslab_error *err);

/**
 * router_nft_queue_finish() - Wait for every queued load (none more started
 * when @failed: the build is being undone), stop the thread, free q
 * Return: 0, or the first error ("router 'NAME': ...")
 */
int router_nft_queue_finish(struct router_nft_queue *q, bool failed, nslab_error *err);
