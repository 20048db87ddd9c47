/* SPDX-License-Identifier: MIT */
/* nl/nftables: libnftables runs and pure helpers over nft's text (see nftables.h). */
#include "nl/nftables.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/mman.h>
#include <nftables/libnftables.h>

#include "shared/macro.h"

/* Copy the first error of libnftables' text into err as "LINE:COL: message". */
static int run_error(const char *text, nslab_error *err)
{
	struct nftbl_error_loc loc;

	if (!text || nftbl_parse_error(text, &loc) < 0)
		return nslab_err_setx(err, EINVAL, "nftables refused the commands");
	if (loc.line)
		return nslab_err_setx(err, EINVAL, "%u:%u: %.*s", loc.line, loc.col,
				      (int)loc.msg_len, loc.msg);
	return nslab_err_setx(err, EINVAL, "%.*s", (int)loc.msg_len, loc.msg);
}

/*
 * libnftables 1.0.6 reports errors in a buffer without their line (it shows
 * the buffer's first line instead); read from a file, it names "FILE:L:C".
 * So the text goes through a memfd read back as /proc/self/fd/N.
 * Return: 0 ran, 1 nftables refused it (error buffer filled), -errno
 */
static int run_text(struct nft_ctx *ctx, const char *orig, nslab_error *err)
{
	_cleanup_close_ int fd = memfd_create("nslab-rules", MFD_CLOEXEC);
	_cleanup_free_ char *text = nftbl_compat_text(orig);
	size_t len, done = 0;
	char path[64];

	if (!text)
		return nslab_err_set(err, ENOMEM, "ruleset text");
	if (fd < 0)
		return nslab_err_set(err, errno, "memfd for the ruleset");
	len = strlen(text);
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nslab_err_set(err, errno, "write the ruleset to a memfd");
		done += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return nft_run_cmd_from_filename(ctx, path) != 0 ? 1 : 0;
}

struct nftbl_ctx {
	struct nft_ctx *nft;
};

int nftbl_ctx_new(struct nftbl_ctx **ret, nslab_error *err)
{
	struct nftbl_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return nslab_err_set(err, ENOMEM, "allocate an nftables context");
	c->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!c->nft || nft_ctx_buffer_output(c->nft) < 0 || nft_ctx_buffer_error(c->nft) < 0) {
		nftbl_ctx_free(c);
		return nslab_err_setx(err, ENOMEM, "create an nftables context");
	}
	*ret = c;
	return 0;
}

struct nftbl_ctx *nftbl_ctx_free(struct nftbl_ctx *c)
{
	if (!c)
		return NULL;
	if (c->nft)
		nft_ctx_free(c->nft);
	free(c);
	return NULL;
}

int nftbl_ctx_run(struct nftbl_ctx *c, const char *text, bool with_handles, char **ret_output,
		  nslab_error *err)
{
	const char *out, *errs;
	int r;

	nft_ctx_output_set_flags(c->nft, with_handles ? NFT_CTX_OUTPUT_HANDLE : 0);
	r = run_text(c->nft, text, err);
	/* reading a buffer also empties it for the next run */
	out = nft_ctx_get_output_buffer(c->nft);
	errs = nft_ctx_get_error_buffer(c->nft);
	if (r < 0)
		return r;
	if (r > 0)
		return run_error(errs, err);
	if (!ret_output)
		return 0;
	*ret_output = strdup(out ? out : "");
	if (!*ret_output)
		return nslab_err_set(err, ENOMEM, "copy nftables output");
	return 0;
}

int nftbl_run(const char *text, bool with_handles, char **ret_output, nslab_error *err)
{
	struct nftbl_ctx *c = NULL;
	int r = nftbl_ctx_new(&c, err);

	if (r >= 0)
		r = nftbl_ctx_run(c, text, with_handles, ret_output, err);
	nftbl_ctx_free(c);
	return r;
}

static bool parse_uint(const char **p, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)**p))
		return false;
	v = strtoul(*p, &end, 10);
	if (v > 1000000000)
		return false;
	*p = end;
	*ret = (unsigned)v;
	return true;
}

/* "NAME:LINE:COL-COL: Error: ..." -> line, col. The name is libnftables' ("<cmdline>"). */
static void parse_error_place(const char *start, const char *end, struct nftbl_error_loc *loc)
{
	for (const char *p = start; p < end; p++) {
		const char *q = p + 1;
		unsigned line, col;

		if (*p != ':' || !parse_uint(&q, &line) || *q != ':')
			continue;
		q++;
		if (!parse_uint(&q, &col))
			continue;
		loc->line = line;
		loc->col = col;
		return;
	}
}

int nftbl_parse_error(const char *text, struct nftbl_error_loc *ret)
{
	static const char tag[] = "Error: ";
	struct nftbl_error_loc loc = { 0 };
	const char *line = text, *e;

	if (!text || !*text)
		return -EINVAL;
	/* the first line that says "Error: "; else the first line as it is */
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *nl = strchr(l, '\n'), *hit = strstr(l, tag);

		if (hit && (!nl || hit < nl)) {
			parse_error_place(l, hit, &loc);
			line = hit + strlen(tag);
			break;
		}
	}
	e = strchr(line, '\n');
	loc.msg = line;
	loc.msg_len = e ? (size_t)(e - line) : strlen(line);
	*ret = loc;
	return 0;
}

/* nft's identifiers and variables: what may touch a keyword without ending it. */
static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || strchr("_-$@./", c);
}

/* Past a quoted string starting at s[0] == '"': nft's strings have no escapes. */
static const char *skip_string(const char *s, unsigned *line, const char **line_start)
{
	for (s++; *s && *s != '"'; s++)
		if (*s == '\n') {
			(*line)++;
			*line_start = s + 1;
		}
	return *s ? s + 1 : s;
}

bool nftbl_find_include(const char *text, unsigned *ret_line, unsigned *ret_col)
{
	const char *line_start = text;
	unsigned line = 1;

	for (const char *s = text; s && *s;) {
		if (*s == '\n') {
			line++;
			line_start = ++s;
		} else if (*s == '#') {
			s += strcspn(s, "\n");
		} else if (*s == '"') {
			s = skip_string(s, &line, &line_start);
		} else if (strncasecmp(s, "include", 7) == 0 && !is_word_char(s[7]) &&
			   (s == text || !is_word_char(s[-1]))) {
			*ret_line = line;
			*ret_col = (unsigned)(s - line_start) + 1;
			return true;
		} else {
			s++;
		}
	}
	return false;
}

/* Statements whose '{' opens a block of statements (not a set expression). */
static bool opens_block(const char *stmt, size_t len)
{
	static const char *const words[] = { "table",	  "chain",   "set",	 "map",
					     "flowtable", "counter", "quota",	 "ct",
					     "limit",	  "secmark", "synproxy", "tunnel" };
	char w[16];
	size_t n;

	for (int k = 0; k < 2; k++) {
		while (len && isspace((unsigned char)*stmt)) {
			stmt++;
			len--;
		}
		for (n = 0; n < len && n + 1 < sizeof(w) && is_word_char(stmt[n]); n++)
			w[n] = (char)tolower((unsigned char)stmt[n]);
		w[n] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(words); i++)
			if (strcmp(w, words[i]) == 0)
				return true;
		if (strcmp(w, "add") && strcmp(w, "create") && strcmp(w, "insert"))
			return false;
		stmt += n; /* "add table ...": the second word decides */
		len -= n;
	}
	return false;
}

#define COMPAT_DEPTH 64

/* The blank before a block's closing brace as ';' when no terminator ends the statement. */
static void terminate_before(char *start, char *brace)
{
	char *q = brace;

	while (q > start && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	if (q == brace || q == start || q[-1] == ';' || q[-1] == '{' || q[-1] == '\n')
		return;
	brace[-1] = ';';
}

char *nftbl_compat_text(const char *text)
{
	char *out = strdup(text);
	bool block[COMPAT_DEPTH];
	size_t depth = 0, stmt = 0;
	unsigned line = 1;
	const char *ls = out;

	for (char *p = out; p && *p;) {
		if (*p == '"') {
			p = (char *)skip_string(p, &line, &ls);
			continue;
		}
		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		if (*p == '{' && depth < COMPAT_DEPTH) {
			/* a block, or a set expression (inside one, or inside a rule) */
			block[depth] = (depth == 0 || block[depth - 1]) &&
				       opens_block(out + stmt, (size_t)(p - out) - stmt);
			depth++;
		} else if (*p == '}' && depth) {
			depth--;
			if (block[depth])
				terminate_before(out, p);
		}
		if (*p == ';' || *p == '{' || *p == '}' || *p == '\n')
			stmt = (size_t)(p - out) + 1;
		p++;
	}
	return out;
}
