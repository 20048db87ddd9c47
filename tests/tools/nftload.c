/* SPDX-License-Identifier: MIT */
/*
 * nftload: what nslab loads for a ruleset file, for tests/e2e/nftcorpus.sh
 * (built with the tests, never installed). Each run is in a network namespace
 * of its own (in a user namespace of its own unless root), so it never touches
 * the host's ruleset.
 *   nftload text FILE   the text nslab loads: FILE as it is when nft accepts it,
 *                       else its compatibility rewrite (nftbl_check())
 *   nftload list FILE   load FILE as nslab does (nftbl_load()), then list the
 *                       namespace's ruleset: `nft -j list ruleset`, then
 *                       `nft -a -s list ruleset` (JSON leaves out anonymous
 *                       chains: "stmt ops chain have no json callback")
 * Exit: 0, 2 when nslab refuses the ruleset (its message on stderr), 1 otherwise.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nslab/nslab.h>
#include "core/yaml.h"
#include "nl/nftables.h"
#include "shared/macro.h"

static int usage(void)
{
	fputs("usage: nftload text|list FILE\n", stderr);
	return 1;
}

static int refused(const char *path, const nslab_error *err)
{
	fprintf(stderr, "nftload: %s: %s\n", path, err->msg);
	return 2;
}

static int print_text(const char *path, const char *text)
{
	_cleanup_free_ char *compat = NULL;
	nslab_error err = { 0 };
	bool use_compat = false;

	if (nftbl_check(text, &use_compat, &err) < 0)
		return refused(path, &err);
	if (use_compat && !(compat = nftbl_compat_text(text)))
		return 1;
	fputs(compat ? compat : text, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int list_loaded(const char *path, const char *text)
{
	nslab_error err = { 0 };

	if (nftbl_load(text, &err) < 0)
		return refused(path, &err);
	fflush(NULL);
	execlp("sh", "sh", "-c", "nft -j list ruleset && nft -a -s list ruleset", (char *)NULL);
	fprintf(stderr, "nftload: exec sh: %s\n", strerrordesc_np(errno));
	return 1;
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *text = NULL;
	nslab_error err = { 0 };
	size_t len = 0;

	if (argc != 3 || (strcmp(argv[1], "text") && strcmp(argv[1], "list")))
		return usage();
	if (nslab_bootstrap(&err) < 0 || unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "nftload: a network namespace: %s\n",
			err.code ? err.msg : strerrordesc_np(errno));
		return 1;
	}
	if (yaml_read_file(argv[2], 16u << 20, &text, &len, &err) < 0) {
		fprintf(stderr, "nftload: %s\n", err.msg);
		return 1;
	}
	if (!text || strlen(text) != len) {
		fprintf(stderr, "nftload: %s: empty, or a NUL byte in it\n", argv[2]);
		return 1;
	}
	return strcmp(argv[1], "text") ? list_loaded(argv[2], text) : print_text(argv[2], text);
}
