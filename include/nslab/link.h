/* SPDX-License-Identifier: MIT */
/*
 * nslab/link.h - link conditions: delay, jitter, loss, rate, reordering,
 * duplication, corruption and trace-driven delivery, per direction
 *
 * The words and units are netem's, so that `tc` users read them at once:
 * times "50ms", "250us", "1s"; percentages "1%", "0.05%"; rates "5mbit",
 * "100kbit", "1gbit" (bit/s, powers of 1000) or "2mbps" (bytes/s); sizes
 * "1500b", "32kb", "1mb" (powers of 1024). A condition has two directions:
 * `up` is what the node sends (the egress of its interface), `down` what it
 * receives. Probabilities are held in parts per billion so that the values
 * are exact integers (100 % = NSLAB_LINK_PPB_ONE).
 */
#ifndef NSLAB_LINK_H
#define NSLAB_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nslab/error.h>
#include <nslab/lab.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NSLAB_LINK_PPB_ONE   1000000000u /* 100 % */
#define NSLAB_LINK_TRACE_MAX 256	 /* a trace file's path, NUL included */

/* How jitter is spread around the delay (netem's tables, computed instead of loaded). */
enum nslab_link_dist {
	NSLAB_LINK_DIST_UNIFORM = 0,
	NSLAB_LINK_DIST_NORMAL,
	NSLAB_LINK_DIST_PARETO,
	NSLAB_LINK_DIST_PARETONORMAL,
};

enum nslab_link_loss {
	NSLAB_LINK_LOSS_NONE = 0,
	NSLAB_LINK_LOSS_RANDOM, /* Bernoulli with `loss` and `loss_corr` */
	NSLAB_LINK_LOSS_GE,	/* Gilbert-Elliott: ge_p, ge_r, ge_1h, ge_1k */
};

/* One direction. All zero: the direction passes unchanged. */
typedef struct nslab_link_dir {
	uint64_t delay_ns;  /* added one-way delay */
	uint64_t jitter_ns; /* spread of the delay (uniform: +/-, normal: sigma) */
	enum nslab_link_dist dist;
	uint32_t delay_corr; /* ppb: how much a delay follows the previous one */
	enum nslab_link_loss loss_model;
	uint32_t loss, loss_corr; /* RANDOM: probability and correlation (ppb) */
	uint32_t ge_p, ge_r;	  /* GE: good->bad and bad->good transition probabilities */
	uint32_t ge_1h, ge_1k;	  /* GE: loss probability in the bad (1-h) and good (1-k) state */
	uint64_t rate_bps;	  /* token bucket rate; 0: no limit */
	uint32_t burst;		  /* bytes sent at line speed before the rate bites; 0: one MTU */
	uint32_t limit_bytes;	  /* queue limit in bytes (tail drop); 0: see limit_ns */
	uint64_t limit_ns;	  /* queue limit as time at `rate`; both 0: 1000 packets */
	uint32_t reorder, reorder_corr;	  /* ppb: sent at once, ahead of the delayed ones */
	uint32_t gap;			  /* reorder every gap-th packet (netem's `gap`); 0: any */
	uint32_t duplicate;		  /* ppb */
	uint32_t duplicate_corr;	  /* ppb: netem's correlation with the previous draw */
	uint32_t corrupt;		  /* ppb: one random bit flipped */
	uint32_t corrupt_corr;		  /* ppb, as duplicate_corr */
	uint32_t mtu;			  /* larger frames are dropped; 0: no limit */
	char trace[NSLAB_LINK_TRACE_MAX]; /* Mahimahi trace file; "": none */
} nslab_link_dir;

typedef struct nslab_link_condition {
	nslab_link_dir up, down;
	bool has_seed; /* false: derived from the lab seed and the link's name */
	uint64_t seed;
} nslab_link_condition;

/* Which directions a change applies to. */
enum nslab_link_which { NSLAB_LINK_BOTH = 0, NSLAB_LINK_UP = 1, NSLAB_LINK_DOWN = 2 };

/**
 * nslab_link_condition_parse() - A condition from netem-like words
 * @argv, @argc:  a preset name, and/or PARAM VALUE... pairs, optionally
 *                ending with `up` or `down` (the change is for that direction
 *                only), e.g. { "delay", "50ms", "jitter", "5ms", "loss", "2%" };
 *                PARAM=VALUE words are accepted too
 * @ret:          the condition, written only on success
 * Built-in presets only (a lab's own presets are resolved by the lab).
 * Return: 0, or -EINVAL naming the offending word.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_link_condition_parse(const char *const *argv, size_t argc,
							    nslab_link_condition *ret,
							    nslab_error *err);
/**
 * nslab_link_preset() - A built-in preset by name (lan, wifi, mobile-4g, ...)
 * Return: 0, or -ENOENT naming it.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_link_preset(const char *name, nslab_link_condition *ret,
						   nslab_error *err);
/**
 * nslab_link_preset_at() - The i-th built-in preset, for listings
 * @ret_name:  borrowed, static
 * @ret_text:  its definition (a YAML flow mapping), borrowed, static
 * Return: true, or false past the last one.
 */
NSLAB_EXPORT bool nslab_link_preset_at(size_t i, const char **ret_name, const char **ret_text);
/**
 * nslab_link_dir_format() - One direction in netem's words ("delay 5ms jitter 2ms loss 0.1%")
 * Return: buf ("none" when nothing is set).
 */
NSLAB_EXPORT const char *nslab_link_dir_format(const nslab_link_dir *d, char *buf, size_t len);
/* True if d changes nothing. */
NSLAB_EXPORT bool nslab_link_dir_is_none(const nslab_link_dir *d);

/* Counters of one direction of a conditioned link. */
typedef struct nslab_link_stats {
	uint64_t passed;     /* frames sent on (duplicates included) */
	uint64_t lost;	     /* dropped by the loss model */
	uint64_t overflow;   /* dropped by a full queue (tail drop) */
	uint64_t too_big;    /* dropped by mtu */
	uint64_t reordered;  /* sent ahead of the delayed ones */
	uint64_t duplicated; /* extra copies sent */
	uint64_t corrupted;  /* frames with a flipped bit */
	uint64_t bytes;	     /* bytes sent on, on the wire */
} nslab_link_stats;

/*
 * Run-time conditions of a built lab. A link is named by a node and one of its
 * interfaces: a device's ("laptop", "eth0") or a router's uplink ("home",
 * "wan", or "ix" for a top-level router). `up` is what that node sends.
 */

/**
 * nslab_lab_set_condition() - Change a link's condition, atomically
 * @which:  NSLAB_LINK_BOTH replaces both directions; UP or DOWN only that one
 *          (taken from cond->up or cond->down), the other is kept
 * @cond:   the new condition; NULL or all-zero directions clear it
 * Frames already held keep their departure times; the link never goes down.
 * Emits a "link_condition" event.
 * Return: 0, -ENOENT (no such node or interface), -EINVAL, or the backend's -errno.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_condition(nslab_lab *lab, const char *node,
							 const char *iface,
							 enum nslab_link_which which,
							 const nslab_link_condition *cond,
							 nslab_error *err);
/* As nslab_lab_set_condition(), from words (nslab_link_condition_parse()); the lab's presets too. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_condition_words(nslab_lab *lab, const char *node,
							       const char *iface,
							       const char *const *argv, size_t argc,
							       nslab_error *err);
/**
 * nslab_lab_set_link_up() - Plug or unplug a link (the upstream's end goes down or up)
 * The node's interface keeps its addresses and routes and sees its carrier
 * go; frames held by the link's condition are delivered or dropped by the
 * kernel as on a cable pulled. Emits a "link_state" event.
 * Return: 0, -ENOENT, or the kernel's -errno.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_link_up(nslab_lab *lab, const char *node,
						       const char *iface, bool up,
						       nslab_error *err);
/* The link's current condition (all zero: none). Return: 0 or -ENOENT. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_get_condition(nslab_lab *lab, const char *node,
							 const char *iface,
							 nslab_link_condition *ret,
							 nslab_error *err);
/* Counters of both directions (zero when the link is not conditioned). Return: 0 or -ENOENT. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_link_stats(nslab_lab *lab, const char *node,
						      const char *iface, nslab_link_stats *ret_up,
						      nslab_link_stats *ret_down, nslab_error *err);

/*
 * Regions (lab file `regions:`, `region_links:`): a link between two regions
 * is named by the two regions, in either order; `up` is a -> b in the order given.
 */

/*
 * Building regions (before nslab_lab_build(), as `regions:`, `region_links:`
 * and a router's `region:` in a lab file; names copied).
 */
/* A region: a namespace on the IX its routers plug into. Return: 0 or -errno. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_add_region(nslab_lab *lab, const char *name,
						      nslab_error *err);
/* A link between regions a and b; cond (up: a -> b) may be NULL. Return: 0 or -errno. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_link_regions(nslab_lab *lab, const char *a,
							const char *b,
							const nslab_link_condition *cond,
							nslab_error *err);
/* Put a router (without an upstream) in a region. Return: 0, -ENOENT or -errno. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_router_region(nslab_lab *lab, const char *router,
							     const char *region, nslab_error *err);

/**
 * nslab_lab_region_link_set() - Break (up false) or restore (up true) a region link
 * Breaking routes every region's traffic around the link first (through a
 * third region where one is linked to both sides; otherwise the two sides
 * become unreachable from each other, "network unreachable"), then pulls its
 * cable; restoring plugs it back, then routes over it again. Emits a
 * "region_link" event.
 * Return: 0, -ENOENT (no link between a and b), or the kernel's -errno.
 */
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_lab_region_link_set(nslab_lab *lab, const char *a, const char *b, bool up, nslab_error *err);
/**
 * nslab_lab_region_path() - The regions traffic from one region to another crosses now
 * @buf:  on success, "eu asia us" (from, each region passed, to); truncated to len
 * Return: 0, -ENOENT (no such region) or -EHOSTUNREACH (no path of links is left).
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_region_path(nslab_lab *lab, const char *from,
						       const char *to, char *buf, size_t len,
						       nslab_error *err);
/**
 * nslab_lab_set_region_condition() - nslab_lab_set_condition() for the link of two regions
 * @which:  UP is a -> b, DOWN b -> a (whichever region holds the link's interface)
 * Routes between regions are recomputed (delay breaks ties between paths).
 * Return: 0, -ENOENT, -EINVAL, or the backend's -errno.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_lab_set_region_condition(nslab_lab *lab, const char *a,
								const char *b,
								enum nslab_link_which which,
								const nslab_link_condition *cond,
								nslab_error *err);
/*
 * As nslab_lab_set_region_condition(), from words (nslab_link_condition_parse(),
 * `up`/`down` last for one direction; the lab's presets too), as `nslab region
 * LAB A B set ...` takes them.
 */
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_lab_set_region_condition_words(nslab_lab *lab, const char *a, const char *b,
				     const char *const *argv, size_t argc, nslab_error *err);

#ifdef __cplusplus
}
#endif
#endif
