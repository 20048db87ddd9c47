/* SPDX-License-Identifier: MIT */
/*
 * link/engine: the wire backend's decisions, without I/O. For each frame of
 * one direction: lost or not (Bernoulli or Gilbert-Elliott), when it leaves
 * (token-bucket rate or a delivery trace, then delay and jitter), whether it
 * overtakes (reorder), is doubled (duplicate) or damaged (corrupt), or falls
 * off a full queue (tail drop).
 *
 * Randomness comes from one xoshiro256** generator per direction, seeded from
 * the link's seed and the direction, and drawn a fixed number of times per
 * decision step: the same seed and the same frame sequence give the same
 * decisions, on every run and every machine with IEEE doubles.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/link.h"

struct prng {
	uint64_t s[4];
};
/* Seed through splitmix64, so that seeds 0, 1, 2 give unrelated streams. */
void prng_seed(struct prng *p, uint64_t seed);
uint64_t prng_next(struct prng *p);
/* Uniform in [0, 2^32). */
static inline uint32_t prng_u32(struct prng *p)
{
	return (uint32_t)(prng_next(p) >> 32);
}
/* Uniform in [0, 1). */
double prng_unit(struct prng *p);

/* A Mahimahi delivery trace: millisecond offsets of 1500-byte opportunities, looping. */
struct wire_trace {
	uint64_t *ms; /* non-decreasing */
	size_t n;
	uint64_t period_ms; /* the last offset: the trace repeats after it */
};
/**
 * wire_trace_parse() - Read a trace from memory
 * @file:  name for messages
 * Each line a whole number of milliseconds, non-decreasing; blank lines ignored.
 * Return: 0, or -EINVAL with "FILE:LINE: message", -ENOMEM.
 */
int wire_trace_parse(const char *file, const char *text, size_t len, struct wire_trace *ret,
		     nslab_error *err);
int wire_trace_load(const char *path, struct wire_trace *ret, nslab_error *err);
void wire_trace_clear(struct wire_trace *t);

#define WIRE_TRACE_MTU 1500 /* bytes one trace opportunity carries */

/* Counters of one direction. */
struct wire_stats {
	uint64_t passed;     /* frames sent on (a duplicate counts once more) */
	uint64_t lost;	     /* dropped by the loss model */
	uint64_t overflow;   /* dropped by the queue limit */
	uint64_t too_big;    /* dropped by mtu */
	uint64_t reordered;  /* sent ahead of the delayed ones */
	uint64_t duplicated; /* extra copies */
	uint64_t corrupted;  /* frames with a flipped bit */
	uint64_t bytes;	     /* bytes sent on */
};

/* One direction's state. Fill with wire_dir_init(); owns its trace. */
struct wire_dir {
	nslab_link_dir cfg;
	struct prng rng;
	struct wire_trace trace;
	uint64_t trace_base_ns; /* when the trace's loop 0 started */
	uint64_t trace_next;	/* index of the next unused opportunity, over all loops */
	uint32_t loss_last;	/* correlated loss: the previous draw */
	uint32_t reorder_last;
	uint32_t duplicate_last; /* correlated duplicate and corrupt draws, as loss_last */
	uint32_t corrupt_last;
	double delay_last; /* correlated jitter: the previous standard variate */
	bool ge_bad;	   /* Gilbert-Elliott: in the bad state */
	uint32_t gap_count;
	uint64_t next_free_ns; /* rate: when the link finishes what it holds */
	uint64_t last_out_ns;  /* the latest departure so far: jitter never reorders */
	struct wire_stats stats;
};

/**
 * wire_dir_init() - Start a direction with cfg and seed
 * @trace:  the loaded trace when cfg->trace is set (taken: cleared in the caller), else NULL
 * @now_ns: the clock, for the trace's start
 */
void wire_dir_init(struct wire_dir *d, const nslab_link_dir *cfg, uint64_t seed,
		   struct wire_trace *trace, uint64_t now_ns);
void wire_dir_clear(struct wire_dir *d);

enum wire_fate { WIRE_SEND = 0, WIRE_LOST, WIRE_OVERFLOW, WIRE_TOO_BIG };

struct wire_verdict {
	enum wire_fate fate;
	unsigned copies;     /* 1, or 2 when duplicated (WIRE_SEND only) */
	uint64_t when_ns[2]; /* departure of each copy */
	bool reordered;	     /* picked to go ahead: skips the delay */
	bool corrupt;	     /* flip bit corrupt_bit of the frame (counted from byte 14) */
	uint32_t corrupt_bit;
};

/**
 * wire_decide() - What happens to one frame of len bytes arriving at now_ns
 * @seg_len:  its largest segment's size (a GSO super-frame is several frames
 *            on the wire: len counts them all, seg_len is what mtu is checked on)
 * The random draws are made in a fixed order whatever the outcome, so that a
 * change in one parameter does not shift the others' streams. Counters are
 * updated here.
 */
void wire_decide(struct wire_dir *d, uint64_t now_ns, uint32_t len, uint32_t seg_len,
		 struct wire_verdict *v);

/**
 * wire_decide_control() - What happens to a neighbour discovery frame (ARP, IPv6 ND)
 * Such frames take the rate and the base delay but no random draw: never
 * lost, jittered, reordered, doubled or damaged, so that a neighbour cache
 * refresh does not shift the loss pattern of the traffic (determinism).
 */
void wire_decide_control(struct wire_dir *d, uint64_t now_ns, uint32_t len, struct wire_verdict *v);

/* Seed of one direction: the link seed mixed with "up"/"down". */
uint64_t wire_dir_seed(uint64_t link_seed, bool up);
