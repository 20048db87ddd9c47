/* SPDX-License-Identifier: LGPL-2.1-or-later */
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

char *nftbl_compat_text(const char *text)
{
	char *out = strdup(text);
	bool quoted = false;

	for (char *p = out; p && *p; p++) {
		if (*p == '"') {
			quoted = !quoted;
		} else if (quoted) {
			if (*p == '\\' && p[1])
				p++;
		} else if (*p == '#') {
			p += strcspn(p, "\n");
			if (!*p)
				break;
		} else if (*p == '}') {
			size_t blanks = strspn(p + 1, " \t");

			if (blanks && p[1 + blanks] == '}')
				p[1] = ';';
		}
	}
	return out;
}

/* Skip a quoted string starting at s[0] == '"'; counts lines it spans. */
static const char *skip_string(const char *s, unsigned *line, const char **line_start)
{
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '\n') {
			(*line)++;
			*line_start = s + 1;
		}
	}
	return *s ? s + 1 : s;
}

/* "include" as a word (nft's keywords are matched without regard to case). */
static bool is_include_at(const char *s)
{
	return strncasecmp(s, "include", 7) == 0 && !isalnum((unsigned char)s[7]) && s[7] != '_' &&
	       s[7] != '-';
}

bool nftbl_find_include(const char *text, unsigned *ret_line, unsigned *ret_col)
{
	const char *line_start = text;
	unsigned line = 1;
	bool stmt_start = true;

	for (const char *s = text; s && *s;) {
		if (*s == '\n') {
			line++;
			line_start = ++s;
			stmt_start = true;
		} else if (isspace((unsigned char)*s)) {
			s++;
		} else if (*s == '#') {
			while (*s && *s != '\n')
				s++;
		} else if (*s == '"') {
			s = skip_string(s, &line, &line_start);
			stmt_start = false;
		} else if (*s == ';' || *s == '{' || *s == '}') {
			s++;
			stmt_start = true;
		} else {
			if (stmt_start && is_include_at(s)) {
				*ret_line = line;
				*ret_col = (unsigned)(s - line_start) + 1;
				return true;
			}
			stmt_start = false;
			s++;
		}
	}
	return false;
}
