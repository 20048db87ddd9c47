/* SPDX-License-Identifier: MIT */
/*
 * fwtest/suite: a firewall test suite (YAML) into a validated fw_suite.
 *
 * core/yaml reads the file into a tree that keeps line:col (literal block
 * scalars allowed, for rules); the decoders below fill the model. Each
 * mapping is decoded in two steps: its keys first (unknown keys, duplicates,
 * NSE's spellings folded into ours), then its values field by field, then the
 * checks that involve several fields (families, ports and protocols).
 */
#include "fwtest/suite.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/yaml.h"
#include "fwtest/suite-parse.h"
#include "lab/labfile.h"
#include "lab/plan.h"
#include "lab/spec.h"
#include "link/cond.h"
#include "nl/nftables.h"

/* Freeing */

void sp_endpoint_clear(struct fw_endpoint *e)
{
	free(e->node);
	e->node = NULL;
}

static void expect_clear(struct fw_expect *e)
{
	free(e->rule);
	free(e->chain);
	sp_endpoint_clear(&e->nat.src);
	sp_endpoint_clear(&e->nat.dst);
	for (size_t i = 0; i < e->n_captures; i++) {
		free(e->captures[i].node);
		free(e->captures[i].iface);
		free(e->captures[i].filter);
	}
	free(e->captures);
	for (size_t i = 0; i < e->n_counters; i++)
		free(e->counters[i].name);
	free(e->counters);
}

static void test_clear(struct fw_test *t)
{
	free(t->name);
	free(t->rules);
	for (size_t i = 0; i < t->n_packets; i++) {
		struct fw_packet *p = &t->packets[i];

		sp_endpoint_clear(&p->src);
		sp_endpoint_clear(&p->dst);
		free(p->from);
		free(p->payload);
		expect_clear(&p->expect);
	}
	free(t->packets);
	for (size_t i = 0; i < t->n_flows; i++) {
		struct fw_flow *f = &t->flows[i];

		sp_endpoint_clear(&f->src);
		sp_endpoint_clear(&f->dst);
		free(f->from);
		free(f->send);
	}
	free(t->flows);
	expect_clear(&t->expect);
}

struct fw_suite *fw_suite_free(struct fw_suite *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_tests; i++)
		test_clear(&s->tests[i]);
	free(s->tests);
	free(s->path);
	free(s->lab_file);
	free(s->rules_in);
	free(s->rules);
	free(s->rules_file);
	free(s->warnings);
	free(s);
	return NULL;
}

/* Names */

const char *const sp_verdict_names[] = { "accept", "drop", "reject", NULL };
const char *const sp_reply_names[] = { "none",
				       "rst",
				       "syn-ack",
				       "echo-reply",
				       "icmp-port-unreachable",
				       "icmp-admin-prohibited",
				       "icmp-host-unreachable",
				       "icmp-net-unreachable",
				       "icmp-prot-unreachable",
				       "udp",
				       NULL };
const char *const sp_connect_names[] = { "ok", "refused", "timeout", NULL };
/* in bit order, as nft lists them */
const char *const sp_ct_names[] = { "invalid", "established", "related", "new", "untracked", NULL };
const unsigned sp_ct_bits[] = { FW_CT_INVALID, FW_CT_ESTABLISHED, FW_CT_RELATED, FW_CT_NEW,
				FW_CT_UNTRACKED };

const char *fw_verdict_name(enum fw_verdict v)
{
	if (v < FW_VERDICT_ACCEPT || v > FW_VERDICT_REJECT)
		return "unset";
	return sp_verdict_names[v - FW_VERDICT_ACCEPT];
}

const char *fw_reply_name(enum fw_reply r)
{
	if (r < FW_REPLY_NONE || r > FW_REPLY_UDP)
		return "unset";
	return sp_reply_names[r - FW_REPLY_NONE];
}

const char *fw_connect_name(enum fw_connect c)
{
	if (c < FW_CONNECT_OK || c > FW_CONNECT_TIMEOUT)
		return "unset";
	return sp_connect_names[c - FW_CONNECT_OK];
}

const char *fw_topology_name(enum fw_topology t)
{
	switch (t) {
	case FW_TOPO_DIRECT:
		return "direct";
	case FW_TOPO_GATEWAY:
		return "gateway";
	case FW_TOPO_LAB:
		return "lab";
	}
	return "unknown";
}

const char *fw_ct_state_format(unsigned bits, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!bits) {
		snprintf(buf, len, "unset");
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sp_ct_bits); i++)
		if (bits & sp_ct_bits[i]) {
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
					      sp_ct_names[i]);
			bits &= ~sp_ct_bits[i];
		}
	if (bits && n < len)
		snprintf(buf + n, len - n, "%s0x%x", n ? "," : "", bits);
	return buf;
}

/* Rules */

/* Refuse an include in rules from file (NULL: the suite) at rules_loc, unless allowed. */
static int check_rules(struct sp *sp, const char *rules, const char *file, struct fw_loc rules_loc)
{
	struct yctx in = { .file = file ? file : sp->y.file, .err = sp->y.err };
	unsigned line, col;
	struct fw_loc at;

	if (sp->allow_include || !nftbl_find_include(rules, &line, &col))
		return 0;
	at = fw_rules_loc(rules_loc, line, col);
	return yaml_error(&in, (struct yaml_loc){ at.line, at.col },
			  "'include' is not allowed in rules (they are loaded with privileges; "
			  "--allow-include accepts it)");
}

/* Inline rules: their text and where its first character is. */
static int decode_rules(struct sp *sp, const struct ynode *v, char **ret, struct fw_loc *ret_loc)
{
	int r = sp_strdup(sp, v, "rules", true, ret);

	if (r < 0)
		return r;
	*ret_loc = sp_loc(v);
	/* a quoted scalar's place is its opening quote */
	if (!v->plain && !v->block)
		ret_loc->col++;
	ret_loc->flat = !v->block && strchr(*ret, '\n');
	return check_rules(sp, *ret, NULL, *ret_loc);
}

/* A path relative to the suite's folder. */
static char *resolve(const struct sp *sp, const char *rel)
{
	const char *slash = sp->s->path ? strrchr(sp->s->path, '/') : NULL;
	char *p;

	if (rel[0] == '/' || !slash)
		return strdup(rel);
	if (asprintf(&p, "%.*s/%s", (int)(slash - sp->s->path), sp->s->path, rel) < 0)
		return NULL;
	return p;
}

static int read_rules_file(struct sp *sp, const struct ynode *v)
{
	struct fw_suite *s = sp->s;
	size_t len = 0;
	const char *rel;
	int r = y_str(&sp->y, v, "rules_file", &rel);

	if (r < 0)
		return r;
	if (!*rel)
		return y_error(&sp->y, v, "rules_file: expected a path");
	s->rules_file = resolve(sp, rel);
	if (!s->rules_file)
		return sp_oom(sp, "rules_file");
	r = yaml_read_file(s->rules_file, FW_SUITE_SIZE_MAX, &s->rules, &len, sp->y.err);
	if (r < 0) {
		if (sp->y.err && sp->y.file)
			(void)nslab_err_prefix(sp->y.err, r, "%s:%u:%u", sp->y.file, v->loc.line,
					       v->loc.col);
		return r;
	}
	if (!s->rules && !(s->rules = strdup("")))
		return sp_oom(sp, "rules_file");
	if (strlen(s->rules) != len)
		return y_error(&sp->y, v, "rules_file '%s' holds a NUL character",
			       YAML_Q(s->rules_file));
	s->rules_loc = (struct fw_loc){ 1, 1 };
	return check_rules(sp, s->rules, s->rules_file, s->rules_loc);
}

/*
 * The lab file is read now, not when the suite runs: a missing or bad one is
 * the suite's error at its lab: value, and node names can be checked against it.
 */
static int read_lab(struct sp *sp, const struct ynode *v)
{
	int r = labfile_parse(sp->s->lab_file, &sp->lab, sp->y.err);

	/* planned as the lab will be built: its interface names (a router's uplink) */
	if (r >= 0)
		r = lab_plan_make(sp->lab, &sp->plan, sp->y.err);

	if (r < 0 && sp->y.err && sp->y.file)
		(void)nslab_err_prefix(sp->y.err, r, "%s:%u:%u", sp->y.file, v->loc.line,
				       v->loc.col);
	return r;
}

/* Tests */

enum { T_NAME, T_RULES, T_TOPOLOGY, T_PACKETS, T_FLOWS, T_EXPECT, T_LISTEN, T__MAX };

static int decode_list(struct sp *sp, const struct ynode *v, const char *what, void **ret,
		       size_t *ret_n, size_t size)
{
	int r = y_seq(&sp->y, v, what);

	if (r < 0 || v->n == 0)
		return r;
	*ret = calloc(v->n, size);
	if (!*ret)
		return sp_oom(sp, what);
	*ret_n = v->n;
	return 0;
}

static int decode_test_items(struct sp *sp, const struct ynode **v, struct fw_test *t)
{
	int r = 0;

	if (v[T_PACKETS])
		r = decode_list(sp, v[T_PACKETS], "packets", (void **)&t->packets, &t->n_packets,
				sizeof(*t->packets));
	for (size_t i = 0; r >= 0 && i < t->n_packets; i++)
		r = sp_decode_packet(sp, v[T_PACKETS]->kids[i], &t->packets[i]);
	if (r >= 0 && v[T_FLOWS])
		r = decode_list(sp, v[T_FLOWS], "flows", (void **)&t->flows, &t->n_flows,
				sizeof(*t->flows));
	for (size_t i = 0; r >= 0 && i < t->n_flows; i++)
		r = sp_decode_flow(sp, v[T_FLOWS]->kids[i], &t->flows[i]);
	return r;
}

static int decode_test(struct sp *sp, const struct ynode *n, struct fw_test *t)
{
	static const char *const names[] = { "name",  "rules",	"topology", "packets",
					     "flows", "expect", "listen",   NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	static const char *const topos[] = { "direct", "gateway", "simple", NULL };
	const struct ynode *k[T__MAX] = { 0 }, *v[T__MAX] = { 0 }, *connect = NULL;
	int r;

	t->listen = true;
	t->loc = sp_loc(n);
	sp_expect_init(&t->expect, sp_loc(n));
	r = sp_collect(sp, n, "test", &ks, k, v);
	if (r >= 0 && !v[T_NAME])
		return y_error(&sp->y, n, "test needs 'name'");
	if (r >= 0)
		r = sp_strdup(sp, v[T_NAME], "name", false, &t->name);
	if (r >= 0 && !*t->name)
		return y_error(&sp->y, v[T_NAME], "name: expected a test name, not ''");
	if (r >= 0 && v[T_RULES])
		r = decode_rules(sp, v[T_RULES], &t->rules, &t->rules_loc);
	if (r >= 0 && v[T_TOPOLOGY]) {
		r = sp_name(sp, v[T_TOPOLOGY], "topology", topos, "direct, gateway or simple");
		if (r < 0)
			return r;
		t->has_topology = true;
		t->topology = r == 1 ? FW_TOPO_GATEWAY : FW_TOPO_DIRECT;
	}
	/* node names in its packets, flows and expectations are the test's topology's */
	sp->topo = t->has_topology ? t->topology : sp->s->topology;
	if (r >= 0)
		r = decode_test_items(sp, v, t);
	if (r >= 0 && v[T_EXPECT])
		r = sp_decode_expect(sp, v[T_EXPECT], &t->expect, &connect);
	if (r >= 0 && v[T_LISTEN])
		r = y_bool(&sp->y, v[T_LISTEN], "listen", &t->listen);
	if (r < 0)
		return r;
	if (!t->n_packets && !t->n_flows)
		return y_error(&sp->y, n, "test '%s' has no packets or flows", YAML_Q(t->name));
	if (connect && !t->n_flows)
		return y_error(&sp->y, connect, "connect: test '%s' has no flows", YAML_Q(t->name));
	if (sp->s->nse) {
		sp_nse_drop(&t->expect);
		sp_nse_default_verdicts(t);
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	const struct fw_test *x = *(struct fw_test *const *)a, *y = *(struct fw_test *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : x < y ? -1 : x > y;
}

/* Test names are unique: report the first test (in the file) that repeats a name. */
static int check_names(struct sp *sp)
{
	struct fw_suite *s = sp->s;
	_cleanup_free_ struct fw_test **by_name = calloc(s->n_tests, sizeof(*by_name));
	struct fw_test *dup = NULL, *first = NULL;

	if (!by_name)
		return sp_oom(sp, "tests");
	for (size_t i = 0; i < s->n_tests; i++)
		by_name[i] = &s->tests[i];
	/* by name, then in file order: the second of a run is its first repeat */
	qsort(by_name, s->n_tests, sizeof(*by_name), cmp_names);
	for (size_t i = 0, j; i < s->n_tests; i = j) {
		for (j = i + 1; j < s->n_tests && strcmp(by_name[j]->name, by_name[i]->name) == 0;
		     j++)
			;
		if (j - i > 1 && (!dup || by_name[i + 1] < dup)) {
			first = by_name[i];
			dup = by_name[i + 1];
		}
	}
	if (!dup)
		return 0;
	return yaml_error(&sp->y, (struct yaml_loc){ dup->loc.line, dup->loc.col },
			  "duplicate test name '%s' (already used by the test at %u:%u)",
			  YAML_Q(dup->name), first->loc.line, first->loc.col);
}

static int decode_tests(struct sp *sp, const struct ynode *v)
{
	struct fw_suite *s = sp->s;
	int r = decode_list(sp, v, "tests", (void **)&s->tests, &s->n_tests, sizeof(*s->tests));

	if (r >= 0 && !s->n_tests)
		return y_error(&sp->y, v, "tests: expected at least one test");
	for (size_t i = 0; r >= 0 && i < s->n_tests; i++)
		r = decode_test(sp, v->kids[i], &s->tests[i]);
	if (r >= 0)
		r = check_names(sp);
	return r;
}

/* The suite */

enum {
	S_TOPOLOGY,
	S_LAB,
	S_RULES_IN,
	S_RULES,
	S_RULES_FILE,
	S_TESTS,
	S_LINK,
	S_SERVER_LINK,
	S__MAX
};

static int decode_topology(struct sp *sp, const struct ynode **k, const struct ynode **v)
{
	static const char *const topos[] = { "direct", "gateway", "lab", "simple", NULL };
	static const enum fw_topology values[] = { FW_TOPO_DIRECT, FW_TOPO_GATEWAY, FW_TOPO_LAB,
						   FW_TOPO_DIRECT };
	struct fw_suite *s = sp->s;
	const char *lab;
	int r;

	if (v[S_TOPOLOGY]) {
		r = sp_name(sp, v[S_TOPOLOGY], "topology", topos, "direct, gateway, simple or lab");
		if (r < 0)
			return r;
		s->topology = values[r];
	} else if (v[S_LAB]) {
		s->topology = FW_TOPO_LAB;
	}
	if (s->topology != FW_TOPO_LAB) {
		if (k[S_LAB] || k[S_RULES_IN])
			return y_error(&sp->y, k[S_LAB] ? k[S_LAB] : k[S_RULES_IN],
				       "'%s' needs 'topology: lab'", k[S_LAB] ? "lab" : "rules_in");
		return 0;
	}
	if (!v[S_LAB])
		return y_error(&sp->y, v[S_TOPOLOGY], "topology lab needs 'lab: FILE'");
	if (!v[S_RULES_IN])
		return y_error(&sp->y, v[S_LAB], "topology lab needs 'rules_in: NODE'");
	r = y_str(&sp->y, v[S_LAB], "lab", &lab);
	if (r >= 0 && !*lab)
		return y_error(&sp->y, v[S_LAB], "lab: expected a path");
	if (r >= 0 && !(s->lab_file = resolve(sp, lab)))
		return sp_oom(sp, "lab");
	if (r >= 0)
		r = read_lab(sp, v[S_LAB]);
	if (r >= 0)
		r = sp_node(sp, v[S_RULES_IN], "rules_in", &s->rules_in);
	if (r >= 0 && lab_spec_router_index(sp->lab, s->rules_in) < 0 &&
	    lab_spec_device_index(sp->lab, s->rules_in) < 0)
		return y_error(&sp->y, v[S_RULES_IN], "rules_in: no node '%s' in the lab file",
			       YAML_Q(s->rules_in));
	return r;
}

/*
 * `link:` conditions the client's link of a direct or gateway topology (a
 * preset or a mapping, as in a lab file); `server_link:` the gateway's other
 * link, the server's (up: what the server sends). A lab's links are its file's.
 */
static int decode_link(struct sp *sp, const struct ynode *k, const struct ynode *v, bool server)
{
	struct fw_suite *s = sp->s;
	int r;

	if (s->topology == FW_TOPO_LAB)
		return y_error(&sp->y, k,
			       "%s: a lab's links are conditioned in its lab file ('link:' "
			       "on a device or router there)",
			       k->text);
	/* direct: one link, whose server end is link:'s down direction */
	if (server && s->topology != FW_TOPO_GATEWAY)
		return y_error(&sp->y, k,
			       "server_link: the direct topology has one link; condition what "
			       "reaches the server with 'link: {down: ...}'");
	r = linkcond_decode(&sp->y, v, NULL, server ? &s->server_link : &s->link);
	if (r >= 0)
		*(server ? &s->has_server_link : &s->has_link) = true;
	return r;
}

/* Every test has rules: its own or the suite's. */
static int check_has_rules(struct sp *sp)
{
	struct fw_suite *s = sp->s;

	for (size_t i = 0; !s->rules && !sp->rules_later && i < s->n_tests; i++)
		if (!s->tests[i].rules)
			return yaml_error(
				&sp->y,
				(struct yaml_loc){ s->tests[i].loc.line, s->tests[i].loc.col },
				"test '%s' has no rules: set 'rules' in the test, or "
				"'rules' or 'rules_file' in the suite",
				YAML_Q(s->tests[i].name));
	return 0;
}

static int decode_suite_map(struct sp *sp, const struct ynode *root)
{
	static const char *const names[] = { "topology", "lab",		"rules_in",
					     "rules",	 "rules_file",	"tests",
					     "link",	 "server_link", NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	const struct ynode *k[S__MAX] = { 0 }, *v[S__MAX] = { 0 };
	int r = sp_collect(sp, root, "suite", &ks, k, v);

	if (r >= 0)
		r = decode_topology(sp, k, v);
	if (r >= 0 && v[S_LINK])
		r = decode_link(sp, k[S_LINK], v[S_LINK], false);
	if (r >= 0 && v[S_SERVER_LINK])
		r = decode_link(sp, k[S_SERVER_LINK], v[S_SERVER_LINK], true);
	if (r >= 0 && v[S_RULES] && v[S_RULES_FILE])
		return y_error(&sp->y, k[S_RULES_FILE],
			       "'rules' and 'rules_file' cannot be used together");
	if (r >= 0 && v[S_RULES])
		r = decode_rules(sp, v[S_RULES], &sp->s->rules, &sp->s->rules_loc);
	if (r >= 0 && v[S_RULES_FILE])
		r = read_rules_file(sp, v[S_RULES_FILE]);
	if (r >= 0 && !v[S_TESTS])
		return y_error(&sp->y, root, "suite needs 'tests'");
	if (r >= 0)
		r = decode_tests(sp, v[S_TESTS]);
	return r;
}

/* A mapping's value for key, or NULL. */
static const struct ynode *map_get(const struct ynode *m, const char *key)
{
	for (size_t i = 0; m->type == Y_MAP && i + 1 < m->n; i += 2)
		if (m->kids[i]->type == Y_SCALAR && strcmp(m->kids[i]->text, key) == 0)
			return m->kids[i + 1];
	return NULL;
}

/*
 * is_nse_runner() - Whether a mapping is NSE's runner format
 * Its only key is tests: (nse-runner reads nothing else) and a packet uses
 * expected_verdict. Without one, nothing tells it from nslab's format, which
 * it then gets (and the defaults of nslab's format are stricter).
 */
static bool is_nse_runner(const struct ynode *root)
{
	const struct ynode *tests = map_get(root, "tests");

	if (root->n != 2 || !tests || tests->type != Y_SEQ)
		return false;
	for (size_t i = 0; i < tests->n; i++) {
		const struct ynode *packets = map_get(tests->kids[i], "packets");

		for (size_t j = 0; packets && packets->type == Y_SEQ && j < packets->n; j++)
			if (map_get(packets->kids[j], "expected_verdict"))
				return true;
	}
	return false;
}

static int decode_suite(struct sp *sp, const struct ynode *root)
{
	int r;

	/* NSE's formats, read with NSE's semantics */
	sp->s->nse = root && (root->type == Y_SEQ || (root->type == Y_MAP && is_nse_runner(root)));

	if (!root || y_is_null(root))
		return yaml_error(&sp->y, (struct yaml_loc){ 1, 1 },
				  "empty suite: expected 'tests:' or a list of tests");
	if (root->type == Y_SEQ) /* NSE's documented format: a list of tests */
		r = decode_tests(sp, root);
	else if (root->type == Y_MAP)
		r = decode_suite_map(sp, root);
	else
		r = y_error(&sp->y, root, "suite: expected a mapping or a list of tests, not %s",
			    y_kind(root));
	if (r >= 0)
		r = check_has_rules(sp);
	return r;
}

static int parse_string(const char *text, size_t len, const char *filename, unsigned flags,
			struct fw_suite **ret, nslab_error *err)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s = calloc(1, sizeof(*s));
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct sp sp = { .s = s,
			 .allow_include = flags & FW_SUITE_ALLOW_INCLUDE,
			 .rules_later = flags & FW_SUITE_RULES_LATER };
	int r;

	if (!s || (filename && !(s->path = strdup(filename))))
		return nslab_err_set(err, ENOMEM, "parse suite");
	sp.y = (struct yctx){ .file = s->path, .err = err };
	r = yaml_read(&sp.y, text ? text : "", text ? len : 0, YAML_LITERAL_BLOCKS, &root);
	if (r >= 0)
		r = decode_suite(&sp, root);
	lab_plan_free(sp.plan);
	lab_spec_free(sp.lab);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int fw_suite_parse_string(const char *text, size_t len, const char *filename, bool allow_include,
			  struct fw_suite **ret, nslab_error *err)
{
	return parse_string(text, len, filename, allow_include ? FW_SUITE_ALLOW_INCLUDE : 0, ret,
			    err);
}

int fw_suite_parse(const char *path, unsigned flags, struct fw_suite **ret, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = yaml_read_file(path, FW_SUITE_SIZE_MAX, &text, &len, err);

	if (r < 0)
		return r;
	return parse_string(text ? text : "", len, path, flags, ret, err);
}
