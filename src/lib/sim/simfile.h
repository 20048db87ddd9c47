/* SPDX-License-Identifier: MIT */
/*
 * sim/simfile: the model of a sim file and its parser (errors at FILE:LINE:COL).
 *
 * DOC: sim file
 *   sim: NAME                 (default: the file's name without .yaml)
 *   extends: PATH             (a base sim: its lab, timeout and templates
 *                              unless this file sets them, its steps first)
 *   lab: PATH | {routers:...} (a lab file, relative to the sim file, or the
 *                              lab itself, inline)
 *   step-templates: {NAME: [STEP...]}
 *   timeout: 2m               (the whole sim; default 10m)
 *   steps:
 *     - {id: srv, spawn: [CMD, ARG...], node: N, ready: {stdout: REGEX} | {stderr: REGEX}
 *        | {port: P}, timeout: 10s}
 *     - {id: c, run: [CMD...], node: N, timeout: 30s, parse: json | text,
 *        expect_exit: 0, captures: {NAME: SOURCE}, results: {NAME: SOURCE}}
 *     - {wait: 500ms}
 *     - {wait-for: srv, timeout: 10s}
 *     - {assert: EXPR} or {assert: [EXPR...]}
 *     - {id: cfg, gen-file: NAME, content: TEXT}   (files/NAME in the sim's
 *        directory, TEXT interpolated; ${cfg.path} is its absolute path,
 *        ${cfg.dir} its directory)
 *     - {link: {node: N, iface: I, set: PRESET | "delay 40ms loss 1%" | [WORDS],
 *        clear: true, state: up | down}}   (a link's condition or carrier, at once)
 *     - {device: {name: D, iface: I, set:, clear:, state:}}   (as link, on every
 *        interface of the device when iface: is not given)
 *     - {router: {name: R, nat: MODE, flush-nat: true, firewall: MODE}}
 *     - {device: {name: D, replug: {iface: I, router: R}, default-via: I}}
 *        (plugged into another router; its default routes through I)
 *     - {region: {a: A, b: B, break: true | restore: true, set: WORDS, clear: true}}
 *        (the link of regions A and B; set's words as `nslab region`'s, up: A to B)
 *     - {id: c, capture: {node: N, iface: I, filter: "tcp port 80"}}
 *     - {capture: {stop: c}}    (captures/c.pcap; ${c.packets}, ${c.bytes}, ${c.path})
 *     - {dns: {name: H, target: NODE | ADDRESS | null}}   (the lab's /etc/hosts)
 *     - {id: flap, repeat: 3 | 10s, steps: [STEP...]}   (the steps N times, or
 *        again until the time is up; ${flap.iterations})
 *     - {id: chaos, every: 1s, for: 10s | times: N, seed: 7, choose: [STEP...]}
 *        (at each interval one of the steps, a seeded random choice;
 *        ${chaos.ticks}, ${chaos.picks}: the ids chosen, comma-separated)
 *     - {id: f1, use: TEMPLATE, with: {KEY: VALUE...}}   (the template's steps,
 *        each ${group.KEY} in them replaced by VALUE, ${group.id} by f1)
 *     - {id: tls, gen-certs: {node: N, names: [H...], days: 30}}   (certs/tls.crt
 *        and .key; ${tls.path} the certificate, ${tls.key} the key)
 * A capture SOURCE is a JSON path (.a.b[0]) with parse: json, else a regular
 * expression over stdout (group 1); {regex: R, stream: stdout|stderr} or
 * {pick: PATH} say it explicitly; {match: REGEX, pick: PATH} picks from the
 * first line of NDJSON output that matches REGEX and has PATH. results: are captures that also go to the
 * sim's results table. Every string of a step is interpolated when the step
 * runs: ${NODE.ip}, ${NODE.ip6}, ${STEP.stdout}, ${STEP.stderr}, ${STEP.exit},
 * ${STEP.ms}, ${STEP.CAPTURE}.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/yaml.h"
#include "nslab/error.h"

enum sim_step_kind {
	SIM_RUN,
	SIM_SPAWN,
	SIM_WAIT,
	SIM_WAIT_FOR,
	SIM_ASSERT,
	SIM_GEN_FILE,
	SIM_LINK,
	SIM_ROUTER,    /* a router's NAT changed or flushed */
	SIM_DEVICE,    /* link changes on every interface of a device (or one) */
	SIM_CAPTURE,   /* a pcap of a node's interface started, or stopped */
	SIM_DNS,       /* a name of the lab's /etc/hosts set or removed */
	SIM_GEN_CERTS, /* a self-signed certificate for a node */
	SIM_REPEAT,    /* its body (the n_body steps after it) N times or for a while */
	SIM_EVERY,     /* one of its body's steps, a seeded random choice, at each interval */
	SIM_GROUP,     /* use: a template's steps (its body), with ${group.KEY} given */
	SIM_REGION,    /* the link of two regions broken, restored or conditioned */
};

enum sim_stream { SIM_STDOUT, SIM_STDERR };

struct sim_capture {
	char *name;
	bool pick;		/* a JSON path, else a regular expression */
	char *match;		/* pick: from the first NDJSON line matching it (or NULL) */
	enum sim_stream stream; /* regex: which output */
	char *source;
	bool result; /* from results: (it goes to the results table too) */
	struct yaml_loc loc;
};

struct sim_step {
	enum sim_step_kind kind;
	struct yaml_loc loc;
	char *id;   /* "step-N" (1-based) when the file names none */
	char *node; /* run, spawn */
	char **argv;
	size_t argc;
	uint64_t timeout_ms; /* run, spawn's ready, wait-for; 0: none of its own */
	uint64_t wait_ms;    /* wait */
	char *target;	     /* wait-for: a spawn step's id; gen-file: the file's name */
	char *content;	     /* gen-file */
	/* link: node and iface above/below, the condition's words (none: keep it);
	 * device: node is the device, iface NULL for every one of its interfaces */
	char *iface;
	char **words;
	size_t n_words;
	bool clear;
	int link_state; /* -1 keep, 0 down, 1 up */
	char *nat;	/* router: the NAT mode to set, or NULL (node: the router) */
	bool flush_nat; /* router: forget its mappings (after nat:, if both) */
	char *firewall; /* router: the firewall preset to set, or NULL */
	/* device: its iface replugged into replug_router, its default routes
	 * through default_via (each NULL: not changed) */
	char *replug_iface, *replug_router, *default_via;
	char *region_b; /* region: the link of node (region a) and region_b */
	char *filter;	/* capture: a pcap filter, or NULL; target: the capture to stop */
	char *dns_name; /* dns: the name, and its target (NULL: remove it) */
	char *dns_target;
	unsigned days; /* gen-certs: validity (names: in words) */
	/* repeat, every: the steps of its body follow it in steps[], nested ones
	 * included (its span is 1 + n_body); repeat runs them in order, every
	 * runs one of its direct children (n_choices) per tick */
	size_t n_body, n_choices;
	uint64_t times;	 /* repeat: N; every: ticks (0: until for_ms) */
	uint64_t for_ms; /* repeat, every: for how long (0: times) */
	uint64_t seed;	 /* every: the choices' PRNG seed */
	bool json;	 /* parse: json */
	int expect_exit; /* run: -1 any, default 0 */
	/* spawn's ready: */
	enum sim_stream ready_stream;
	char *ready_regex;
	unsigned ready_port;
	char **asserts;
	size_t n_asserts;
	struct sim_capture *caps;
	size_t n_caps;
};

struct sim_file {
	char *path;
	char *name;
	char *lab_path; /* resolved against the sim file's directory; an inline lab: the sim file */
	struct yaml_loc lab_loc;
	struct ynode *lab_tree; /* an inline lab (lab: {...}), or NULL */
	uint64_t timeout_ms;
	struct sim_step *steps;
	size_t n_steps;
};

struct sim_file *sim_file_free(struct sim_file *s);
DEFINE_CLEANUP_FUNC(struct sim_file, sim_file_free)

/*
 * sim_file_parse() - A sim file from its text (path: for messages and the lab's place)
 * Return: 0, or -EINVAL "PATH:LINE:COL: ..." for the first thing wrong.
 */
int sim_file_parse(const char *path, const char *text, size_t len, struct sim_file **ret,
		   nslab_error *err);
/* sim_file_parse() of a file's content (at most 4 MiB). */
int sim_file_read(const char *path, struct sim_file **ret, nslab_error *err);
/* The step with this id, or NULL. */
const struct sim_step *sim_file_step(const struct sim_file *s, const char *id);
