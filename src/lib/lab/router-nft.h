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
