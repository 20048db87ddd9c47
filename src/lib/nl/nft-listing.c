/* SPDX-License-Identifier: MIT */
/*
 * nl/nft-listing: the rules of `nft -a list ruleset` with their handles, so
 * that a trace's (table, chain, handle) can be shown as the rule the user
 * wrote. The listing is nft's own output: one rule per line, blocks opened by
 * a line ending in '{' and closed by a line holding '}'.
 */
#include "nl/nftables.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"

struct listing_state {
	int depth;     /* open blocks */
	bool in_chain; /* the block at depth 2 is a chain */
	char family[8];
	char table[NFT_NAME_MAXLEN];
	char chain[NFT_NAME_MAXLEN];
};

/* Braces this line opens minus those it closes, strings skipped. */
static int brace_delta(const char *s, size_t len)
{
	int d = 0;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '{')
			d++;
		else if (!quoted && s[i] == '}')
			d--;
	}
	return d;
}

/* "... # handle N" at the end of the line: N and where the marker starts. */
static bool rule_handle(const char *s, size_t len, uint64_t *ret, size_t *ret_text_len)
{
	static const char mark[] = " # handle ";
	const char *m = NULL;
	char *end;

	for (const char *p = s; p + sizeof(mark) - 1 <= s + len; p++)
		if (memcmp(p, mark, sizeof(mark) - 1) == 0)
			m = p;
	if (!m)
		return false;
	*ret = strtoull(m + sizeof(mark) - 1, &end, 10);
	if (end == m + sizeof(mark) - 1 || end != s + len)
		return false;
	*ret_text_len = (size_t)(m - s);
	return true;
}

/* The text of comment "..." in a rule, unescaped as nft prints it (no escapes). */
static char *rule_comment(const char *text)
{
	const char *c = strstr(text, " comment \""), *e;

	if (!c && strncmp(text, "comment \"", 9) == 0)
		c = text - 1;
	if (!c)
		return NULL;
	c += 10;
	e = strchr(c, '"');
	return e ? strndup(c, (size_t)(e - c)) : NULL;
}

static int add_rule(struct nftbl_listing *l, const struct listing_state *st, const char *text,
		    size_t len, uint64_t handle, unsigned line, nslab_error *err)
{
	struct nftbl_rule *r, *rules = reallocarray(l->rules, l->n + 1, sizeof(*rules));

	if (!rules)
		return nslab_err_set(err, ENOMEM, "list rules");
	l->rules = rules;
	r = &rules[l->n];
	*r = (struct nftbl_rule){ .handle = handle, .line = line };
	snprintf(r->family, sizeof(r->family), "%s", st->family);
	snprintf(r->table, sizeof(r->table), "%s", st->table);
	snprintf(r->chain, sizeof(r->chain), "%s", st->chain);
	r->text = strndup(text, len);
	if (!r->text)
		return nslab_err_set(err, ENOMEM, "list rules");
	r->comment = rule_comment(r->text);
	l->n++;
	return 0;
}

static int add_chain(struct nftbl_listing *l, const struct listing_state *st, nslab_error *err)
{
	struct nftbl_chain *c = reallocarray(l->chains, l->n_chains + 1, sizeof(*c));

	if (!c)
		return nslab_err_set(err, ENOMEM, "list chains");
	l->chains = c;
	c = &c[l->n_chains++];
	*c = (struct nftbl_chain){ 0 };
	snprintf(c->family, sizeof(c->family), "%s", st->family);
	snprintf(c->table, sizeof(c->table), "%s", st->table);
	snprintf(c->chain, sizeof(c->chain), "%s", st->chain);
	return 0;
}

/*
 * A line opening a block: a table or chain header takes its names, which nft
 * allows up to NFT_NAME_MAXLEN - 1 (255) bytes long; a longer one is an error.
 */
static int open_block(struct nftbl_listing *l, struct listing_state *st, const char *s, size_t len,
		      unsigned line, nslab_error *err)
{
	char a[NFT_NAME_MAXLEN + 1] = "", b[NFT_NAME_MAXLEN + 1] = "";
	char tmp[2 * NFT_NAME_MAXLEN + 32];

	snprintf(tmp, sizeof(tmp), "%.*s", (int)(len < sizeof(tmp) ? len : sizeof(tmp) - 1), s);
	if (st->depth == 0 && sscanf(tmp, "table %7s %256s", a, b) == 2) {
		if (strlen(b) >= sizeof(st->table))
			return nslab_err_setx(err, EPROTO,
					      "nft listing line %u: table name too long", line);
		snprintf(st->family, sizeof(st->family), "%s", a);
		snprintf(st->table, sizeof(st->table), "%s", b);
	} else if (st->depth == 1 && sscanf(tmp, "chain %256s", a) == 1) {
		if (strlen(a) >= sizeof(st->chain))
			return nslab_err_setx(err, EPROTO,
					      "nft listing line %u: chain name too long", line);
		snprintf(st->chain, sizeof(st->chain), "%s", a);
		st->in_chain = true;
		return add_chain(l, st, err);
	}
	return 0;
}

/* "type filter hook input priority ..." inside a chain: the base chain's type and hook. */
static void chain_type(struct nftbl_listing *l, const char *s, size_t len)
{
	struct nftbl_chain *c = l->n_chains ? &l->chains[l->n_chains - 1] : NULL;
	char tmp[256];

	if (!c || len < 5 || strncmp(s, "type ", 5) != 0)
		return;
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(len < sizeof(tmp) ? len : sizeof(tmp) - 1), s);
	(void)sscanf(tmp, "type %15s hook %15s", c->type, c->hook);
}

static int parse_line(struct nftbl_listing *l, struct listing_state *st, const char *s, size_t len,
		      unsigned line, nslab_error *err)
{
	int delta = brace_delta(s, len);
	uint64_t handle;
	size_t text_len;

	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	if (delta > 0) {
		int r = open_block(l, st, s, len, line, err);

		st->depth += delta;
		return r;
	}
	if (delta < 0) {
		st->depth += delta;
		if (st->depth < 0)
			return nslab_err_setx(err, EPROTO, "nft listing line %u: unbalanced '}'",
					      line);
		if (st->depth < 2)
			st->in_chain = false;
		return 0;
	}
	if (st->depth == 2 && st->in_chain && rule_handle(s, len, &handle, &text_len))
		return add_rule(l, st, s, text_len, handle, line, err);
	if (st->depth == 2 && st->in_chain)
		chain_type(l, s, len);
	return 0;
}

int nftbl_parse_listing(const char *text, struct nftbl_listing *ret, nslab_error *err)
{
	struct nftbl_listing l = { 0 };
	struct listing_state st = { 0 };
	unsigned line = 1;
	int r = 0;

	for (const char *s = text; s && *s && r >= 0; line++) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		r = parse_line(&l, &st, s, len, line, err);
		s = nl ? nl + 1 : NULL;
	}
	if (r < 0) {
		nftbl_listing_clear(&l);
		return r;
	}
	*ret = l;
	return 0;
}

void nftbl_listing_clear(struct nftbl_listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->rules[i].text);
		free(l->rules[i].comment);
	}
	free(l->rules);
	free(l->chains);
	*l = (struct nftbl_listing){ 0 };
}

const struct nftbl_chain *nftbl_listing_chain(const struct nftbl_listing *l, const char *family,
					      const char *table, const char *chain)
{
	for (size_t i = 0; i < l->n_chains; i++) {
		const struct nftbl_chain *c = &l->chains[i];

		if (strcmp(c->table, table) == 0 && strcmp(c->chain, chain) == 0 &&
		    (!family || strcmp(c->family, family) == 0))
			return c;
	}
	return NULL;
}

const struct nftbl_rule *nftbl_listing_find(const struct nftbl_listing *l, const char *family,
					    const char *table, const char *chain, uint64_t handle)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct nftbl_rule *r = &l->rules[i];

		if (r->handle == handle && strcmp(r->table, table) == 0 &&
		    strcmp(r->chain, chain) == 0 && (!family || strcmp(r->family, family) == 0))
			return r;
	}
	return NULL;
}
