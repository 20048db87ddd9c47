/* SPDX-License-Identifier: MIT */
/*
 * nl/nftables: nftables rulesets through libnftables (text in, errors with
 * locations out), and pure helpers over nft's text: where an error is, whether
 * a ruleset includes files, and the rules of a listing with their handles.
 * Every call that talks to the kernel acts in the calling thread's network
 * namespace: run it through netns_call().
 */
#pragma once

#include <linux/netfilter/nf_tables.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

/**
 * nftbl_run() - Run nft commands in the calling thread's netns
 * @text:        commands or ruleset text, as `nft -f` reads it
 * @with_handles: list rules with their "# handle N" (for listings)
 * @ret_output:  if non-NULL, on success what the commands printed (malloc'd; caller frees)
 * @err:         on failure, libnftables' first error message, located:
 *               "LINE:COL: message" (LINE:COL within @text), code EINVAL for a
 *               rejected ruleset, or the errno of a system failure
 * Return: 0, or -errno
 */
int nftbl_run(const char *text, bool with_handles, char **ret_output, nslab_error *err);

/*
 * A libnftables context kept for many runs: creating one costs about a
 * millisecond (it reads iproute2's tables and builds caches). Its socket
 * belongs to the namespace of the thread that first runs a command with it,
 * so create and use it only on threads inside one namespace (netns_call()).
 */
struct nftbl_ctx;
int nftbl_ctx_new(struct nftbl_ctx **ret, nslab_error *err);
struct nftbl_ctx *nftbl_ctx_free(struct nftbl_ctx *c);
/* As nftbl_run(), with a kept context. */
int nftbl_ctx_run(struct nftbl_ctx *c, const char *text, bool with_handles, char **ret_output,
		  nslab_error *err);

/**
 * nftbl_ctx_load() - Load an untrusted ruleset as `nft -f` would, without crashing
 * @c:    kept context (its namespace: see above)
 * @text: ruleset text
 * @err:  as nftbl_run(); a crash of libnftables on the text is an EINVAL
 *        "[LINE:COL: ]nftables crashed on this ruleset (SIGABRT: ...)"
 * The text is first run in a forked child, once per distinct text in the
 * process: libnftables 1.0.6 aborts on some rulesets. The child loads it
 * (only checks it, nft -c, when a table may be owned by the loading socket,
 * "flags owner": then this process loads it). The text is loaded as it is
 * when nft accepts it; only when nft refuses it and accepts its
 * nftbl_compat_text() is the rewrite loaded instead. Later loads of a text
 * the process checked run in this process, whatever the context: a child
 * forked while other threads hold sockets would keep them open until it ends.
 * Return: 0, or -errno
 */
int nftbl_ctx_load(struct nftbl_ctx *c, const char *text, nslab_error *err);

/*
 * nftbl_settle() - Wait until what the last transaction replaced is destroyed
 * In the calling thread's netns. Until then a replaced ruleset's holds stay:
 * its hold on conntrack (a ct expression, NAT) keeps the netns's packets
 * tracked under a ruleset that never asked for it. Costs a grace period.
 */
void nftbl_settle(void);

/*
 * How long the check of one ruleset may take before it is stopped: 10 s, and
 * 4 s more per whole MiB of text. nft -c takes about 1 s per MiB of rules or
 * set elements here (5 s for 100000 rules and as many elements), and a
 * refused text is checked twice (as it is, then rewritten): the bound stays
 * well above that on a slower machine, and below what a CI job waits for a
 * silent step (the largest rules file, 16 MiB, gets 74 s).
 */
#define NFTBL_CHECK_TIMEOUT_S	      10
#define NFTBL_CHECK_TIMEOUT_S_PER_MIB 4
/* The timeout in seconds for a ruleset text of len bytes. */
unsigned nftbl_check_timeout_s(size_t len);

/**
 * nftbl_check() - Vet an untrusted ruleset in a forked child, which also loads it
 * (unless it has a "flags owner" table: then only nft -c) into the calling
 * thread's netns, as nftbl_ctx_load() does for a text it has not seen
 * @text:       ruleset text
 * @ret_compat: on success, whether what loads is nftbl_compat_text() of @text
 *              (nft refused @text itself) rather than @text as it is
 * @err:        as nftbl_ctx_load(); a check still running after
 *              nftbl_check_timeout_s() is killed and reaped, and is an EINVAL
 *              "nftables did not finish checking this ruleset within its timeout of 10 s ..."
 * In the calling thread's netns; nftbl_ctx_load() calls it once per distinct text.
 * Return: 0, or -errno
 */
int nftbl_check(const char *text, bool *ret_compat, nslab_error *err);
/* As nftbl_ctx_load(), with a context of its own. */
int nftbl_load(const char *text, nslab_error *err);

/**
 * nftbl_compat_text() - The text with a blank before a block's '}' as ';' where needed
 * @text:  ruleset text
 * nft 1.0.6 (Debian 12) wants every statement in a chain's body ended by ';'
 * or a line break before its '}', and a block inside a table ended before the
 * table's '}': it refuses "table t { chain c { ...; drop; } }" (NSE's examples
 * are written so) and "{ tcp dport vmap @m }". A ';' there is an empty
 * statement to every version, so the blank before such a brace is passed as
 * ';': same length, error places do not move. Only the '}' of tables, chains,
 * anonymous chains (jump { }), sets', maps', flowtables' and objects' bodies
 * are touched; the braces of set, map and vmap expressions (ct state
 * { established, related }, elements = { }), strings and comments never are.
 * Used only on text nft refused (nftbl_ctx_load()).
 * Return: a malloc'd copy, or NULL without memory
 */
char *nftbl_compat_text(const char *text);

/**
 * nftbl_find_nested_set() - The first '{' inside a set expression ("{{22}}")
 * @text:     ruleset text
 * @ret_line: on a find, its 1-based line
 * @ret_col:  and column
 * Such sets of one element abort libnftables 1.0.6: the place of a crash.
 * Return: true if there is one
 */
bool nftbl_find_nested_set(const char *text, unsigned *ret_line, unsigned *ret_col);

/* Where libnftables' error text says the first error is. */
struct nftbl_error_loc {
	unsigned line, col; /* 1-based; 0 when the text names no place */
	const char *msg;    /* borrowed from the error text: after "Error: " */
	size_t msg_len;	    /* up to the end of that line */
};
/**
 * nftbl_parse_error() - Locate the first error in libnftables' error text
 * @text: e.g. "/dev/stdin:2:84-84: Error: syntax error, unexpected '}'\n..."
 * Pure. A text without a location still yields its first line as the message.
 * Return: 0, or -EINVAL when text is empty (@ret untouched)
 */
int nftbl_parse_error(const char *text, struct nftbl_error_loc *ret);

/**
 * nftbl_find_include() - The first `include` statement of a ruleset, if any
 * @text:      ruleset text
 * @ret_line:  on a find, its 1-based line
 * @ret_col:   and column
 * Statements start a line or follow ';', '{' or '}'; comments and quoted
 * strings are skipped.
 * Return: true if there is one
 */
bool nftbl_find_include(const char *text, unsigned *ret_line, unsigned *ret_col);

/* One rule of a listing (nftbl_run(.., with_handles=true) of "list ruleset"). */
struct nftbl_rule {
	char family[8];		     /* "inet", "ip", "ip6", "arp", "bridge", "netdev" */
	char table[NFT_NAME_MAXLEN]; /* nft names take up to 255 bytes */
	char chain[NFT_NAME_MAXLEN];
	uint64_t handle;
	char *text;    /* the rule without its "# handle N" (malloc'd) */
	char *comment; /* its comment "...", or NULL (malloc'd) */
	unsigned line; /* 1-based line in the listing */
};
/* One base or regular chain of a listing. */
struct nftbl_chain {
	char family[8];
	char table[NFT_NAME_MAXLEN];
	char chain[NFT_NAME_MAXLEN];
	char type[16]; /* "filter", "nat", "route"; "" for a regular chain */
	char hook[16]; /* "input", ...; "" for a regular chain */
};
struct nftbl_listing {
	struct nftbl_rule *rules;
	size_t n;
	struct nftbl_chain *chains;
	size_t n_chains;
};
/**
 * nftbl_parse_listing() - Rules of a "list ruleset" output with handles
 * @text: the listing
 * @ret:  on success, its rules in order (free with nftbl_listing_clear())
 * Pure; lines that are not rules (chain types, sets, maps' elements) are skipped.
 * Return: 0, -ENOMEM, or -EPROTO for a listing it cannot follow
 */
int nftbl_parse_listing(const char *text, struct nftbl_listing *ret, nslab_error *err);
void nftbl_listing_clear(struct nftbl_listing *l);
/* The chain with this family/table/name, or NULL. */
const struct nftbl_chain *nftbl_listing_chain(const struct nftbl_listing *l, const char *family,
					      const char *table, const char *chain);
/* The rule with this family/table/chain/handle, or NULL. */
const struct nftbl_rule *nftbl_listing_find(const struct nftbl_listing *l, const char *family,
					    const char *table, const char *chain, uint64_t handle);
