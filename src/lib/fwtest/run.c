/* SPDX-License-Identifier: MIT */
/* fwtest/run: environments, rulesets and the order of a test (see the DOC in run.h). */
#include "fwtest/run.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netfilter/nf_tables.h>

#include "nl/ct.h"

#define SPARE_SOCKETS_NODES 16	   /* topologies up to this size get spare sockets (io.h) */
#define LINKS_UP_MS	    5000   /* the kernel's linkwatch work, late on a loaded machine */
#define TAG_BASE	    0x4e00 /* never 0: the kernel sends DF packets with IP ID 0 */

uint64_t fw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *fw_status_name(enum fw_status s)
{
	switch (s) {
	case FW_STATUS_PASS:
		return "pass";
	case FW_STATUS_FAIL:
		return "fail";
	case FW_STATUS_INCONCLUSIVE:
		return "inconclusive";
	case FW_STATUS_ERROR:
		return "error";
	case FW_STATUS_SKIPPED:
		return "skipped";
	}
	return "?";
}

static struct fw_env *env_free(struct fw_env *e)
{
	if (!e)
		return NULL;
	if (e->io)
		fw_io_close_all(e->io, e->topo->n);
	free(e->io);
	nlsock_free(e->trace);
	nlsock_free(e->req);
	nftbl_listing_clear(&e->listing);
	nftbl_ctx_free(e->nft);
	free(e->ct_left);
	fw_topo_free(e->topo);
	free(e);
	return NULL;
}
DEFINE_CLEANUP_FUNC(struct fw_env, env_free)

static int env_new(const struct fw_suite *suite, enum fw_topology kind, struct fw_env **ret,
		   nslab_error *err)
{
	_cleanup_(env_freep) struct fw_env *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return nslab_err_set(err, ENOMEM, "allocate a test environment");
	e->neigh_dirty = FW_FAMILIES_ALL; /* links coming up: router solicitations and the like */
	if (kind == FW_TOPO_LAB)
		r = fw_topo_new_lab(suite->lab_file, suite->rules_in, &e->topo, err);
	else
		r = fw_topo_new(kind, suite->has_link ? &suite->link : NULL,
				suite->has_server_link ? &suite->server_link : NULL, &e->topo, err);
	if (r < 0)
		return r;
	e->io = calloc(e->topo->n, sizeof(*e->io));
	if (!e->io)
		return nslab_err_set(err, ENOMEM, "allocate a test environment");
	for (size_t i = 0; i < e->topo->n; i++)
		e->io[i] = FW_NODE_IO_INIT;
	for (size_t i = 0; r >= 0 && i < e->topo->n; i++)
		r = fw_io_open(&e->topo->nodes[i], &e->io[i], e->topo->n <= SPARE_SOCKETS_NODES,
			       err);
	/* the first packet of the run must not be sent into a link still coming up */
	for (size_t i = 0; r >= 0 && i < e->topo->n; i++)
		r = fw_io_wait_links(&e->topo->nodes[i], &e->io[i], LINKS_UP_MS, err);
	if (r >= 0)
		r = fw_io_open_nf(&e->topo->nodes[e->topo->rules_node], &e->trace, &e->req, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(e);
	return 0;
}

int fw_runner_new(const struct fw_suite *suite, struct fw_runner **ret, nslab_error *err)
{
	struct fw_runner *r = calloc(1, sizeof(*r));

	if (!r)
		return nslab_err_set(err, ENOMEM, "allocate a test runner");
	r->suite = suite;
	r->next_tag = TAG_BASE;
	r->next_sport = FW_SPORT_BASE;
	*ret = r;
	return 0;
}

void fw_runner_number_from(struct fw_runner *r, uint64_t seq, uint64_t ports, uint64_t tests)
{
	/* one spare tag a test: take_tag() may skip one an IPv4 ID cannot carry */
	r->next_tag = (uint32_t)(TAG_BASE + seq + tests);
	r->next_sport = (uint16_t)(FW_SPORT_BASE + ports % (65536u - FW_SPORT_BASE));
}

static void coverage_free(struct fw_coverage *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->rules_hit[i].text);
	free(c->rules_hit);
}

struct fw_runner *fw_runner_free(struct fw_runner *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(r->envs); i++)
		env_free(r->envs[i]);
	for (size_t i = 0; i < r->n_cov; i++)
		coverage_free(&r->cov[i]);
	free(r->cov);
	free(r->frame);
	free(r->resets);
	free(r);
	return NULL;
}

void fw_result_clear(struct fw_result *res)
{
	for (size_t i = 0; i < res->n_tracks; i++) {
		free(res->tracks[i].evs);
		fw_decision_clear(&res->tracks[i].dec);
	}
	free(res->tracks);
	free(res->log);
	*res = (struct fw_result){ 0 };
}

/* Rules */

/* Lines of a text (a last line without '\n' counts). */
static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; s && *s; s++)
		n += *s == '\n' || !s[1];
	return n;
}

/*
 * "LINE:COL: msg" from nftbl_run() moved to where the text sits in the suite
 * file (or rules_file); skip is the number of lines nslab put before the
 * user's text. An error past its end (nft read on into our trace table) means
 * the user's text left a block open: report its last line.
 */
static int rules_error(const struct fw_suite *s, const char *origin, const char *rules,
		       struct fw_loc at, unsigned skip, const nslab_error *nerr, nslab_error *err)
{
	unsigned line = 0, col = 0, lines = count_lines(rules);
	int off = 0;
	const char *file = origin ? origin : s->path;
	struct fw_loc p;

	if (sscanf(nerr->msg, "%u:%u: %n", &line, &col, &off) != 2 || off <= 0 || line <= skip)
		return nslab_err_setx(err, EINVAL, "%s:%u:%u: ruleset: %s", file, at.line, at.col,
				      nerr->msg);
	if (line - skip > lines) {
		p = fw_rules_loc(at, lines ? lines : 1, 1);
		return nslab_err_setx(err, EINVAL,
				      "%s:%u:%u: ruleset: the text ends inside a block (a '}' "
				      "missing?); nft: %s",
				      file, p.line, p.col, nerr->msg + off);
	}
	p = fw_rules_loc(at, line - skip, col);
	return nslab_err_setx(err, EINVAL, "%s:%u:%u: ruleset: %s", file, p.line, p.col,
			      nerr->msg + off);
}

static int load_listing(struct fw_env *e, nslab_error *err)
{
	struct fw_node *rn = &e->topo->nodes[e->topo->rules_node];
	_cleanup_free_ char *out = NULL;
	int r = fw_io_nft_on(rn, &e->io[e->topo->rules_node], &e->nft, "list ruleset", true, &out,
			     err);

	nftbl_listing_clear(&e->listing);
	if (r >= 0)
		r = nftbl_parse_listing(out, &e->listing, err);
	return r;
}

/*
 * State a ruleset keeps besides counters and conntrack (sets filled by rules,
 * limits, quotas, meters): such a ruleset is loaded afresh for every test.
 */
static bool keeps_state(const char *rules)
{
	static const char *const words[] = { "limit",	 "quota",    "meter", "dynamic",
					     "timeout",	 "ct count", "add @", "update @",
					     "delete @", "numgen",   "last",  "include" };

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strstr(rules, words[i]))
			return true;
	return false;
}

/* The original tuple of a packet or flow, as conntrack keys it. */
static struct ct_entry tuple_of(const struct pkt_spec *s)
{
	struct ct_entry q = { .family = s->family, .proto = s->proto };

	memcpy(q.src, s->src, 16);
	memcpy(q.dst, s->dst, 16);
	q.sport = s->sport;
	q.dport = s->dport;
	q.has_icmp_id = (s->proto == IPPROTO_ICMP && s->icmp_type == 8) ||
			(s->proto == IPPROTO_ICMPV6 && s->icmp_type == 128);
	q.icmp_id = s->icmp_id;
	return q;
}

/*
 * An empty conntrack table in the rules node. A flush walks the hash table
 * every namespace of the host shares (~50 us, more on a busy host); the last
 * test's entries are deleted by tuple instead, in one batch with the
 * namespace's own entry count (no walk), which says whether anything else is
 * left, which a flush then clears: the table ends empty either way.
 */
static int reset_conntrack(struct fw_env *e, nslab_error *err)
{
	unsigned left = 1;
	int k = 0;

	if (!e->ct_unknown)
		k = ct_delete_and_count(e->req, e->ct_left, e->n_ct_left, &left, err);
	e->n_ct_left = 0;
	if (k < 0 || left)
		k = ct_flush(e->req, err);
	e->ct_unknown = k < 0;
	return k;
}

/* Remember the tuples of the test's packets and flows, for reset_conntrack(). */
static void note_conntrack(struct fw_env *e, const struct fw_track *t, size_t n)
{
	struct ct_entry *q = reallocarray(e->ct_left, n ? n : 1, sizeof(*q));

	if (!q) {
		e->ct_unknown = true;
		return;
	}
	e->ct_left = q;
	for (size_t i = 0; i < n; i++)
		q[i] = tuple_of(&t[i].spec);
	e->n_ct_left = n;
}

/* Named counters to zero: a ruleset without any (nor an include that may hold some) has none. */
static bool has_counters(const char *rules)
{
	return rules && (strstr(rules, "counter") || strstr(rules, "include"));
}

/*
 * The neighbour tables of every node emptied for the test's families and
 * for the last test's. A table the test does not use may keep entries of its
 * own (a router's IPv6 entries made by router solicitations during an IPv4
 * test): a packet never consults another family's table. A lab's nodes may
 * run anything: both tables, always.
 */
static int reset_neighbours(struct fw_runner *r, struct fw_env *e, const struct fw_test *test,
			    nslab_error *err)
{
	unsigned used = fw_test_families(r, test);
	unsigned bits = e->topo->kind == FW_TOPO_LAB ? FW_FAMILIES_ALL : used | e->neigh_dirty;
	int family = bits == FW_FAMILIES_ALL
			     ? AF_UNSPEC
			     : (bits == FW_FAMILY_BIT(AF_INET) ? AF_INET : AF_INET6);
	int k = 0;

	e->neigh_dirty = FW_FAMILIES_ALL;
	for (size_t i = 0; bits && k >= 0 && i < e->topo->n; i++)
		k = fw_io_flush_neigh(&e->topo->nodes[i], &e->io[i], family, err);
	if (k >= 0)
		e->neigh_dirty = used;
	return k;
}

/*
 * What a test leaves in the kernel besides the ruleset, cleared before the
 * next whatever it is: conntrack in the rules node, and the nodes' neighbour
 * entries (a test that blocks ARP or ND must not find the address resolved by
 * the test before it). Sockets are closed when each test ends.
 */
static int reset_kernel_state(struct fw_runner *r, struct fw_env *e, const struct fw_test *test,
			      nslab_error *err)
{
	int k = reset_conntrack(e, err);

	return k < 0 ? k : reset_neighbours(r, e, test, err);
}

/* Same ruleset as the last test's: reset what tests change (counters). */
static int reset_state(struct fw_env *e, const char *rules, nslab_error *err)
{
	struct fw_node *rn = &e->topo->nodes[e->topo->rules_node];

	if (!has_counters(rules))
		return 0;
	return fw_io_nft_on(rn, &e->io[e->topo->rules_node], &e->nft, "reset counters", false, NULL,
			    err);
}

/* Whether word w stands in text as a word of its own (nft's words: letters, digits, _ and -). */
static bool has_word(const char *text, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = strstr(text, w); p; p = strstr(p + 1, w)) {
		bool before =
			p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '-');
		bool after = isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-';

		if (!before && !after)
			return true;
	}
	return false;
}

/* A ruleset that may make the kernel track connections in its namespace (or may not say). */
static bool may_track(const char *rules)
{
	static const char *const words[] = { "ct",	   "nat",      "snat",	   "dnat",
					     "masquerade", "redirect", "synproxy", "flowtable",
					     "notrack",	   "flow",     "include" };

	for (size_t i = 0; rules && i < ARRAY_SIZE(words); i++)
		if (has_word(rules, words[i]))
			return true;
	return false;
}

/*
 * The user's rules and our trace table in one transaction after a flush (each
 * transaction that deletes waits for an RCU grace period: one, not three).
 * When the ruleset replaced may have turned conntrack on and this one may not
 * need it, the load waits until the kernel let go of the old one: its tests
 * see the namespace as a fresh one would, whatever ran before.
 */
static int load_rules(struct fw_runner *r, struct fw_env *e, const char *rules, struct fw_loc at,
		      nslab_error *err)
{
	struct fw_node *rn = &e->topo->nodes[e->topo->rules_node];
	_cleanup_free_ char *text = NULL, *trace = NULL;
	nslab_error nerr = { 0 };
	bool settle;
	int k;

	if (e->loaded && e->loaded == rules && !keeps_state(rules))
		return reset_state(e, rules, err);
	e->loaded = NULL;
	k = fw_trace_table_for(rn, &trace, err);
	if (k < 0)
		return k;
	if (asprintf(&text, "flush ruleset\n%s\n%s", rules ? rules : "", trace) < 0)
		return nslab_err_set(err, ENOMEM, "ruleset text");
	settle = e->last && may_track(e->last) && !may_track(rules);
	if (fw_io_nft_load(rn, &e->io[e->topo->rules_node], &e->nft, text, settle, &nerr) < 0)
		return rules_error(r->suite,
				   r->suite->rules_file && rules == r->suite->rules
					   ? r->suite->rules_file
					   : NULL,
				   rules, at, 1, &nerr, err);
	e->last = rules;
	k = load_listing(e, err);
	if (k >= 0)
		e->loaded = rules;
	return k;
}

/* Coverage: hits per rule, per distinct ruleset */

static struct fw_coverage *coverage_for(struct fw_runner *r, const char *rules, const char *origin,
					const struct nftbl_listing *l)
{
	struct fw_coverage *c;

	for (size_t i = 0; i < r->n_cov; i++)
		if (r->cov[i].rules == rules)
			return &r->cov[i];
	c = reallocarray(r->cov, r->n_cov + 1, sizeof(*c));
	if (!c)
		return NULL;
	r->cov = c;
	c = &r->cov[r->n_cov];
	*c = (struct fw_coverage){ .rules = rules, .origin = origin };
	c->rules_hit = calloc(l->n ? l->n : 1, sizeof(*c->rules_hit));
	if (!c->rules_hit)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		struct fw_rule_hits *h = &c->rules_hit[c->n];

		if (strcmp(l->rules[i].table, FW_TRACE_TABLE) == 0)
			continue;
		snprintf(h->family, sizeof(h->family), "%s", l->rules[i].family);
		snprintf(h->table, sizeof(h->table), "%s", l->rules[i].table);
		snprintf(h->chain, sizeof(h->chain), "%s", l->rules[i].chain);
		h->handle = l->rules[i].handle;
		h->text = strdup(l->rules[i].text);
		c->n++;
	}
	r->n_cov++;
	return c;
}

static void coverage_add(struct fw_coverage *dst, const struct fw_coverage *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct fw_rule_hits *h = &src->rules_hit[i];

		for (size_t k = 0; k < dst->n; k++) {
			struct fw_rule_hits *d = &dst->rules_hit[k];

			if (d->handle == h->handle && strcmp(d->family, h->family) == 0 &&
			    strcmp(d->table, h->table) == 0 && strcmp(d->chain, h->chain) == 0) {
				d->hits += h->hits;
				break;
			}
		}
	}
}

/* Where in the run a ruleset was first used (n when never). */
static size_t first_use(const struct fw_suite *s, const char *rules, const size_t *order, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct fw_test *t = &s->tests[order[k]];

		if ((t->rules ? t->rules : s->rules) == rules)
			return k;
	}
	return n;
}

/* A coverage entry and where its ruleset was first used (then where it stood: no ties). */
struct ranked {
	size_t at, was;
	struct fw_coverage c;
};

static int by_first_use(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->was < y->was ? -1 : x->was > y->was;
}

int fw_runner_take_coverage(struct fw_runner *dst, struct fw_runner *src, const size_t *order,
			    size_t n, nslab_error *err)
{
	struct ranked *rk;
	struct fw_coverage *c = reallocarray(dst->cov, dst->n_cov + src->n_cov + 1, sizeof(*c));

	if (!c)
		return nslab_err_set(err, ENOMEM, "coverage");
	dst->cov = c;
	for (size_t i = 0; i < src->n_cov; i++) {
		size_t k = 0;

		while (k < dst->n_cov && dst->cov[k].rules != src->cov[i].rules)
			k++;
		if (k < dst->n_cov) {
			coverage_add(&dst->cov[k], &src->cov[i]);
			coverage_free(&src->cov[i]);
		} else {
			dst->cov[dst->n_cov++] = src->cov[i];
		}
	}
	src->n_cov = 0;
	/* one pass over the run per ruleset (an NSE suite has one a test), then a sort */
	rk = calloc(dst->n_cov ? dst->n_cov : 1, sizeof(*rk));
	if (!rk)
		return nslab_err_set(err, ENOMEM, "coverage");
	for (size_t i = 0; i < dst->n_cov; i++)
		rk[i] = (struct ranked){ first_use(dst->suite, dst->cov[i].rules, order, n), i,
					 dst->cov[i] };
	qsort(rk, dst->n_cov, sizeof(*rk), by_first_use);
	for (size_t i = 0; i < dst->n_cov; i++)
		dst->cov[i] = rk[i].c;
	free(rk);
	return 0;
}

static void coverage_count(struct fw_coverage *c, const struct fw_track *t)
{
	for (size_t i = 0; c && i < t->n_evs; i++) {
		const struct nftrace_event *ev = &t->evs[i];

		if (ev->type != NFT_TRACETYPE_RULE || !ev->has_rule)
			continue;
		for (size_t k = 0; k < c->n; k++)
			if (c->rules_hit[k].handle == ev->rule_handle &&
			    strcmp(c->rules_hit[k].family, fw_family_name(ev->family)) == 0 &&
			    strcmp(c->rules_hit[k].table, ev->table) == 0 &&
			    strcmp(c->rules_hit[k].chain, ev->chain) == 0)
				c->rules_hit[k].hits++;
	}
}

/* A test */

static int run_steps(struct fw_runner *r, const struct fw_test *test, nslab_error *err)
{
	int k = fw_start_listeners(r, test, err);

	for (size_t i = 0; k >= 0 && i < test->n_packets; i++)
		for (unsigned c = 0; k >= 0 && c < test->packets[i].count; c++)
			k = fw_inject_packet(r, test, i, c, err);
	for (size_t i = 0; k >= 0 && i < test->n_flows; i++)
		k = fw_run_flow(r, test, i, err);
	return k;
}

static int env_for(struct fw_runner *r, const struct fw_test *test, nslab_error *err)
{
	enum fw_topology kind = test->has_topology ? test->topology : r->suite->topology;
	size_t slot = kind == FW_TOPO_LAB ? 2 : (kind == FW_TOPO_GATEWAY ? 1 : 0);
	int k;

	if (!r->envs[slot]) {
		k = env_new(r->suite, kind, &r->envs[slot], err);
		if (k < 0)
			return k;
	}
	r->env = r->envs[slot];
	return 0;
}

/* Each track's conntrack entry in the rules node's table as the test left it. */
static void read_conntrack(struct fw_runner *r)
{
	for (size_t i = 0; i < r->n_tracks; i++) {
		struct fw_track *t = &r->tracks[i];
		struct ct_entry q = tuple_of(&t->spec);
		nslab_error err = { 0 };
		int k = ct_get(r->env->req, &q, &t->ct, &err);

		t->n_ct = k == 0;
		if (k < 0 && k != -ENOENT) {
			fprintf(r->log, "  note: %s\n", err.msg);
			return;
		}
	}
}

static void finish(struct fw_runner *r, const struct fw_test *test, struct fw_result *res)
{
	const char *rules = test->rules ? test->rules : r->suite->rules;
	struct fw_coverage *cov =
		coverage_for(r, rules, test->rules ? test->name : "suite", &r->env->listing);

	fw_collect_captures(r);
	read_conntrack(r);
	for (size_t i = 0; i < r->n_tracks; i++) {
		coverage_count(cov, &r->tracks[i]);
		fw_check_track(r, &r->tracks[i], r->tracks[i].expect, res);
	}
}

int fw_runner_check_rules(struct fw_runner *r, nslab_error *err)
{
	for (size_t i = 0; i < r->suite->n_tests; i++) {
		const struct fw_test *test = &r->suite->tests[i];
		const char *rules = test->rules ? test->rules : r->suite->rules;
		struct fw_loc at = test->rules ? test->rules_loc : r->suite->rules_loc;
		bool seen = false;
		int k;

		for (size_t j = 0; j < i && !seen; j++)
			seen = (r->suite->tests[j].rules ? r->suite->tests[j].rules
							 : r->suite->rules) == rules &&
			       r->suite->tests[j].has_topology == test->has_topology &&
			       r->suite->tests[j].topology == test->topology;
		if (seen)
			continue;
		k = env_for(r, test, err);
		if (k >= 0)
			k = load_rules(r, r->env, rules, at, err);
		if (k < 0)
			return k;
	}
	return 0;
}

int fw_runner_run_test(struct fw_runner *r, size_t i, struct fw_result *res, nslab_error *err)
{
	const struct fw_test *test = &r->suite->tests[i];
	const char *rules = test->rules ? test->rules : r->suite->rules;
	struct fw_loc at = test->rules ? test->rules_loc : r->suite->rules_loc;
	uint64_t t0 = fw_now_us();
	nslab_error terr = { 0 };
	size_t logsz = 0;
	int k;

	*res = (struct fw_result){ 0 };
	k = env_for(r, test, err);
	if (k < 0)
		return k;
	r->log = open_memstream(&res->log, &logsz);
	if (!r->log)
		return nslab_err_set(err, ENOMEM, "test log");
	k = load_rules(r, r->env, rules, at, &terr);
	if (k >= 0)
		k = reset_kernel_state(r, r->env, test, &terr);
	fw_collect_drain(r);
	if (k >= 0)
		k = run_steps(r, test, &terr);
	if (k >= 0)
		finish(r, test, res);
	if (k < 0) {
		res->status = FW_STATUS_ERROR;
		fprintf(r->log, "  error: %s\n", terr.msg);
	}
	fw_listeners_close(r);
	note_conntrack(r->env, r->tracks, r->n_tracks);
	for (size_t t = 0; !r->keep_events && t < r->n_tracks; t++) {
		free(r->tracks[t].evs);
		r->tracks[t].evs = NULL;
		r->tracks[t].cap_evs = 0;
	}
	for (size_t c = 0; c < r->n_caps; c++)
		free(r->caps[c].data);
	free(r->caps);
	r->caps = NULL;
	r->n_caps = 0;
	r->n_resets = 0;
	res->tracks = TAKE_PTR(r->tracks);
	res->n_tracks = r->n_tracks;
	r->n_tracks = 0;
	r->n_id_map = 0;
	fclose(r->log);
	r->log = NULL;
	res->ms = (double)(fw_now_us() - t0) / 1000.0;
	return 0;
}
