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
#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "nl/nftables-dl.h"

#include "core/hash.h"
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
static int run_text(struct nft_ctx *ctx, const char *text, nslab_error *err)
{
	_cleanup_close_ int fd = memfd_create("nslab-rules", MFD_CLOEXEC);
	size_t len = strlen(text), done = 0;
	char path[64];

	if (fd < 0)
		return nslab_err_set(err, errno, "memfd for the ruleset");
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nslab_err_set(err, errno, "write the ruleset to a memfd");
		done += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return dl_nft.nft_run_cmd_from_filename(ctx, path) != 0 ? 1 : 0;
}

/* A ruleset text found to load, and with which text (see nftbl_ctx_load()). */
struct checked {
	uint64_t hash;
	char *text;
	bool compat;
};

/*
 * The texts checked so far, for the whole process (under nft_lock): what
 * crashes libnftables depends on the text, not on the namespace. Once a text
 * is here no child is forked for it again: a child made while other threads
 * run holds a copy of every fd they have (test jobs' listeners and flows,
 * which then outlive their close() until it ends).
 */
#define CHECKED_MAX 4096
static struct checked *checked;
static size_t n_checked;

struct nftbl_ctx {
	struct nft_ctx *nft;
};

/*
 * libnftables keeps state of its own beyond a context (xtables, its caches'
 * globals): one thread at a time in it, whatever the context (several test
 * jobs load rulesets at once, fwtest/jobs.c).
 */
static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;

int nftbl_ctx_new(struct nftbl_ctx **ret, nslab_error *err)
{
	struct nftbl_ctx *c;
	int r = dl_nft_load(err);

	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return nslab_err_set(err, ENOMEM, "allocate an nftables context");
	pthread_mutex_lock(&nft_lock);
	c->nft = dl_nft.nft_ctx_new(NFT_CTX_DEFAULT);
	pthread_mutex_unlock(&nft_lock);
	if (!c->nft || dl_nft.nft_ctx_buffer_output(c->nft) < 0 ||
	    dl_nft.nft_ctx_buffer_error(c->nft) < 0) {
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
	if (c->nft) {
		pthread_mutex_lock(&nft_lock);
		dl_nft.nft_ctx_free(c->nft);
		pthread_mutex_unlock(&nft_lock);
	}
	free(c);
	return NULL;
}

int nftbl_ctx_run(struct nftbl_ctx *c, const char *text, bool with_handles, char **ret_output,
		  nslab_error *err)
{
	const char *out, *errs;
	int r;

	pthread_mutex_lock(&nft_lock);
	dl_nft.nft_ctx_output_set_flags(c->nft, with_handles ? NFT_CTX_OUTPUT_HANDLE : 0);
	r = run_text(c->nft, text, err);
	/* reading a buffer also empties it for the next run */
	out = dl_nft.nft_ctx_get_output_buffer(c->nft);
	errs = dl_nft.nft_ctx_get_error_buffer(c->nft);
	if (r > 0)
		r = run_error(errs, err);
	else if (r == 0 && ret_output && !(*ret_output = strdup(out ? out : "")))
		r = nslab_err_set(err, ENOMEM, "copy nftables output");
	pthread_mutex_unlock(&nft_lock);
	return r;
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

/* What a '{' opens: what may stand inside it, and whether its '}' ends statements. */
enum brace_kind {
	BRACE_TOP,   /* the file itself */
	BRACE_TABLE, /* a table's body: chains, sets, objects */
	BRACE_BODY,  /* a chain's, set's, map's, flowtable's or object's body */
	BRACE_EXPR,  /* a set, map or vmap expression, elements = { }, devices = { } */
};

/* The word of @len bytes at @w, lower-cased, into @buf (empty if it does not fit). */
static void word_at(const char *w, size_t len, char *buf, size_t size)
{
	size_t n;

	for (n = 0; n < len && n + 1 < size; n++)
		buf[n] = (char)tolower((unsigned char)w[n]);
	buf[n < len ? 0 : n] = '\0';
}

/* The first word of a statement, past "add", "create" or "insert". */
static void first_word(const char *stmt, size_t len, char *buf, size_t size)
{
	for (int k = 0; k < 2; k++) {
		size_t n = 0;

		while (len && isspace((unsigned char)*stmt)) {
			stmt++;
			len--;
		}
		while (n < len && is_word_char(stmt[n]))
			n++;
		word_at(stmt, n, buf, size);
		if (strcmp(buf, "add") && strcmp(buf, "create") && strcmp(buf, "insert"))
			return;
		stmt += n;
		len -= n;
	}
}

/* The last word before the '{' ("jump" opens an anonymous chain). */
static void last_word(const char *stmt, size_t len, char *buf, size_t size)
{
	size_t n = 0;

	while (len && isspace((unsigned char)stmt[len - 1]))
		len--;
	while (n < len && is_word_char(stmt[len - n - 1]))
		n++;
	word_at(stmt + len - n, n, buf, size);
}

/*
 * What the '{' ending the statement @stmt opens inside @parent. Only the
 * ruleset's top level and a table's body declare blocks; in a chain's body a
 * '{' is a set expression (ct state { established, related }), except the
 * anonymous chain of "jump { ... }"; inside an expression, all are expressions.
 */
static enum brace_kind brace_opens(enum brace_kind parent, const char *stmt, size_t len)
{
	static const char *const objects[] = { "chain",	  "set",      "map",   "flowtable",
					       "counter", "quota",    "ct",    "limit",
					       "secmark", "synproxy", "tunnel" };
	char w[16];

	if (parent == BRACE_EXPR)
		return BRACE_EXPR;
	last_word(stmt, len, w, sizeof(w));
	if (strcmp(w, "jump") == 0 || strcmp(w, "goto") == 0)
		return BRACE_BODY;
	if (parent == BRACE_BODY)
		return BRACE_EXPR;
	first_word(stmt, len, w, sizeof(w));
	if (parent == BRACE_TOP && strcmp(w, "table") == 0)
		return BRACE_TABLE;
	for (size_t i = 0; i < ARRAY_SIZE(objects); i++)
		if (strcmp(w, objects[i]) == 0)
			return BRACE_BODY;
	return BRACE_EXPR;
}

#define BRACE_DEPTH 64

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

/*
 * Walk the braces of @text (strings and comments skipped). With @fix, end
 * statements before the '}' of tables and bodies; with @ret_line, stop at the
 * first '{' inside a set expression and say where it is.
 * Return: true if such a brace was found
 */
static bool walk_braces(char *text, bool fix, unsigned *ret_line, unsigned *ret_col)
{
	enum brace_kind kind[BRACE_DEPTH];
	size_t depth = 0, stmt = 0;
	unsigned line = 1;
	const char *ls = text;

	for (char *p = text; *p;) {
		enum brace_kind parent = depth ? kind[depth - 1] : BRACE_TOP;

		if (*p == '"') {
			p = (char *)skip_string(p, &line, &ls);
			continue;
		}
		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		if (*p == '{' && parent == BRACE_EXPR && ret_line) {
			*ret_line = line;
			*ret_col = (unsigned)(p - ls) + 1;
			return true;
		}
		if (*p == '{' && depth < BRACE_DEPTH) {
			kind[depth++] = brace_opens(parent, text + stmt, (size_t)(p - text) - stmt);
		} else if (*p == '{') {
			return false; /* deeper than any sane ruleset: leave the rest alone */
		} else if (*p == '}' && depth) {
			if (kind[--depth] != BRACE_EXPR && fix)
				terminate_before(text, p);
		}
		if (*p == '\n') {
			line++;
			ls = p + 1;
		}
		if (*p == ';' || *p == '{' || *p == '}' || *p == '\n')
			stmt = (size_t)(p - text) + 1;
		p++;
	}
	return false;
}

char *nftbl_compat_text(const char *text)
{
	char *out = strdup(text);

	if (out)
		(void)walk_braces(out, true, NULL, NULL);
	return out;
}

bool nftbl_find_nested_set(const char *text, unsigned *ret_line, unsigned *ret_col)
{
	_cleanup_free_ char *copy = strdup(text);

	return copy && walk_braces(copy, false, ret_line, ret_col);
}

/*
 * DOC: Untrusted rulesets
 * libnftables 1.0.6 aborts on some inputs (assert() and BUG() in its
 * evaluator and netlink code: a set inside a set of one element,
 * "tcp dport {{22}}"), and it runs in our process. So a ruleset text is first
 * run in a forked child: a crash kills only the child and is reported as an
 * error. The child also decides between the text and its compat rewrite: the
 * text as it is when nft accepts it; the rewrite only when nft refuses the
 * text and accepts the rewrite, which then loads the same rules (the rewrite
 * adds empty statements). The child loads the chosen text itself: a check
 * (nft -c) is a transaction the kernel aborts, and an abort waits for an RCU
 * grace period (10-25 ms on a loaded host), where a load commits once. A text
 * with a table owned by its socket ("flags owner") would lose the table when
 * the child exits: the child only checks such a text, and the parent loads it.
 * A text found good is remembered by its context, so a suite forks once per
 * distinct ruleset, not per test; later loads of it run in the parent. A
 * child still running after nftbl_check_timeout_s() is killed (through its
 * pidfd) and reaped, and the ruleset refused: a hang of libnftables must not
 * hang nslab either.
 */

/* What the checking child reports through its memfd. */
struct check_result {
	int which;   /* 0: the text loads; 1: its rewrite loads; -1: neither (err) */
	bool loaded; /* the child loaded it (it only checked a text with an owned table) */
	nslab_error err;
};

/* Whether a text may declare a table owned by the socket that loads it (a word "owner"). */
static bool may_own_table(const char *text)
{
	return strstr(text, "owner") != NULL;
}

/* Byte offset of 1-based line:col in text, or SIZE_MAX if it is past the end. */
static size_t offset_of(const char *text, unsigned line, unsigned col)
{
	const char *p = text;

	for (unsigned l = 1; l < line; l++) {
		p = strchr(p, '\n');
		if (!p)
			return SIZE_MAX;
		p++;
	}
	if (!col || strnlen(p, col) < col)
		return SIZE_MAX;
	return (size_t)(p - text) + col - 1;
}

/* The error "L:C: ..." sits on a ';' the rewrite put in, or just after it. */
static bool error_at_rewrite(const char *text, const char *compat, const nslab_error *e)
{
	unsigned line, col;
	size_t off;

	if (sscanf(e->msg, "%u:%u:", &line, &col) != 2)
		return false;
	off = offset_of(text, line, col);
	if (off == SIZE_MAX)
		return false;
	return text[off] != compat[off] || (off && text[off - 1] != compat[off - 1]);
}

/*
 * One text run in ctx: a load, or nft -c in dry-run mode.
 * Return: 0, or -errno with err located as run_error() does.
 */
static int check_one(struct nft_ctx *ctx, const char *text, nslab_error *err)
{
	int r = run_text(ctx, text, err);
	const char *errs = dl_nft.nft_ctx_get_error_buffer(ctx);

	(void)dl_nft.nft_ctx_get_output_buffer(ctx);
	return r > 0 ? run_error(errs, err) : r;
}

static void write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		done += (size_t)n;
	}
}

/*
 * The child: no core file, libnftables' stderr (BUG: lines, assertions) into
 * log_fd, the result into res_fd. compat is NULL when the rewrite changes nothing.
 * It loads what it finds good, unless the text may own a table (see DOC above).
 * When both texts are refused, the text's own error is reported, unless it
 * sits where the rewrite ended a statement (nft 1.0.6 refusing NSE's
 * one-liners): then the rewrite's error is the one to fix.
 */
_Noreturn static void check_child(const char *text, const char *compat, int res_fd, int log_fd)
{
	static const struct rlimit no_core = { 0, 0 };
	struct check_result res = { .which = -1, .loaded = !may_own_table(text) };
	struct nft_ctx *ctx;
	nslab_error cerr = { 0 };

	/* killed with the thread that forked it, should nslab die while it runs */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)setrlimit(RLIMIT_CORE, &no_core);
	(void)dup2(log_fd, STDERR_FILENO);
	ctx = dl_nft.nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx || dl_nft.nft_ctx_buffer_output(ctx) < 0 || dl_nft.nft_ctx_buffer_error(ctx) < 0)
		_exit(126);
	dl_nft.nft_ctx_set_dry_run(ctx, !res.loaded);
	if (check_one(ctx, text, &res.err) == 0)
		res.which = 0;
	else if (compat && res.err.code == EINVAL && check_one(ctx, compat, &cerr) == 0)
		res.which = 1;
	else if (compat && res.err.code == EINVAL && error_at_rewrite(text, compat, &res.err))
		res.err = cerr;
	write_all(res_fd, &res, sizeof(res));
	_exit(0);
}

/* "nftables crashed ..." with libnftables' last words, at the first set inside a set if any. */
static int crash_error(const char *text, int sig, int log_fd, nslab_error *err)
{
	char log[2048] = "", said[512] = "", where[32] = "";
	ssize_t n = pread(log_fd, log, sizeof(log) - 1, 0);
	unsigned line, col;

	log[n > 0 ? n : 0] = '\0';
	for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n"))
		if (!said[0] || strstr(l, "BUG"))
			snprintf(said, sizeof(said), ": %s", l);
	if (nftbl_find_nested_set(text, &line, &col))
		snprintf(where, sizeof(where), "%u:%u: ", line, col);
	return nslab_err_setx(err, EINVAL, "%snftables crashed on this ruleset (SIG%s%s)%s", where,
			      sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", said,
			      where[0] ? "; a set inside a set, as here, crashes nft 1.0.6" : "");
}

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until the child's pidfd is readable (it exited) or the deadline.
 * Return: 1 exited, 0 timed out, -errno
 */
static int await_exit(int pidfd, int64_t deadline)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	for (;;) {
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

unsigned nftbl_check_timeout_s(size_t len)
{
	return NFTBL_CHECK_TIMEOUT_S + NFTBL_CHECK_TIMEOUT_S_PER_MIB * (unsigned)(len >> 20);
}

/*
 * Reap the checking child, killed first if it is still running after
 * timeout_s or if it cannot be waited for.
 * Return: 0 with *ret_status, or -errno (-EINVAL: it ran out of time)
 */
static int reap_check(pid_t pid, unsigned timeout_s, int *ret_status, nslab_error *err)
{
	_cleanup_close_ int pidfd = pidfd_open(pid, 0);
	int r = pidfd < 0 ? -errno : await_exit(pidfd, now_ms() + (int64_t)timeout_s * 1000);

	/* an unreaped child's pid cannot be reused: kill() is safe without a pidfd too */
	if (r == 0)
		(void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
	else if (r < 0)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, ret_status, 0) < 0)
		if (errno != EINTR)
			return nslab_err_set(err, errno, "wait for the ruleset check");
	if (r == 0)
		return nslab_err_setx(err, EINVAL,
				      "nftables did not finish checking this ruleset within its "
				      "timeout of %u s (the check was stopped)",
				      timeout_s);
	if (r < 0)
		return nslab_err_set(err, -r, "wait for the ruleset check");
	return 0;
}

/*
 * Check text in a child, which loads it too when it can (see DOC above).
 * Return: 0 with *ret_compat and *ret_loaded, or -errno
 */
static int check_forked(const char *text, bool *ret_compat, bool *ret_loaded, nslab_error *err)
{
	_cleanup_free_ char *compat = nftbl_compat_text(text);
	_cleanup_close_ int res_fd = memfd_create("nslab-check", MFD_CLOEXEC);
	_cleanup_close_ int log_fd = memfd_create("nslab-check-log", MFD_CLOEXEC);
	struct check_result res;
	pid_t pid;
	int st, r;

	if (!compat)
		return nslab_err_set(err, ENOMEM, "ruleset text");
	if (res_fd < 0 || log_fd < 0)
		return nslab_err_set(err, errno, "memfd for the ruleset check");
	/* loaded here: the child must not dlopen (this process may have threads) */
	r = dl_nft_load(err);
	if (r < 0)
		return r;
	/* not while another thread is inside libnftables: the child gets its state as it is */
	pthread_mutex_lock(&nft_lock);
	pid = fork();
	if (pid != 0)
		pthread_mutex_unlock(&nft_lock);
	if (pid < 0)
		return nslab_err_set(err, errno, "fork to check the ruleset");
	if (pid == 0)
		check_child(text, strcmp(compat, text) ? compat : NULL, res_fd, log_fd);
	r = reap_check(pid, nftbl_check_timeout_s(strlen(text)), &st, err);
	if (r < 0)
		return r;
	if (WIFSIGNALED(st))
		return crash_error(text, WTERMSIG(st), log_fd, err);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
	    pread(res_fd, &res, sizeof(res), 0) != (ssize_t)sizeof(res))
		return nslab_err_setx(err, EPROTO, "the ruleset check ended without a result");
	if (res.which < 0) {
		res.err.code = res.err.code > 0 ? res.err.code : EINVAL;
		if (err)
			*err = res.err;
		return -res.err.code;
	}
	*ret_compat = res.which == 1;
	*ret_loaded = res.loaded;
	return 0;
}

int nftbl_check(const char *text, bool *ret_compat, nslab_error *err)
{
	bool loaded;

	return check_forked(text, ret_compat, &loaded, err);
}

/* Whether text was checked, and whether it loads as its compat text (nft_lock held). */
static bool find_checked(const char *text, uint64_t hash, bool *ret_compat)
{
	for (size_t i = 0; i < n_checked; i++)
		if (checked[i].hash == hash && strcmp(checked[i].text, text) == 0) {
			*ret_compat = checked[i].compat;
			return true;
		}
	return false;
}

static bool was_checked(const char *text, uint64_t hash, bool *ret_compat)
{
	bool found;

	pthread_mutex_lock(&nft_lock);
	found = find_checked(text, hash, ret_compat);
	pthread_mutex_unlock(&nft_lock);
	return found;
}

/* Best effort: a text not remembered is only checked again. */
static void remember(const char *text, uint64_t hash, bool compat)
{
	struct checked *a;
	bool known;

	pthread_mutex_lock(&nft_lock);
	if (n_checked < CHECKED_MAX && !find_checked(text, hash, &known) &&
	    (a = reallocarray(checked, n_checked + 1, sizeof(*a)))) {
		checked = a;
		a[n_checked] = (struct checked){ hash, strdup(text), compat };
		n_checked += a[n_checked].text != NULL;
	}
	pthread_mutex_unlock(&nft_lock);
}

/*
 * The kernel destroys what a transaction replaced in a work item after an RCU
 * grace period; releasing a bound nfnetlink socket flushes that work
 * (nft_rcv_nl_event()), as the end of `nft -f` or of the checking child does.
 */
void nftbl_settle(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

	if (fd < 0)
		return;
	(void)bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	(void)close(fd);
}

int nftbl_ctx_load(struct nftbl_ctx *c, const char *text, nslab_error *err)
{
	uint64_t hash = hash_str(0, text);
	_cleanup_free_ char *compat = NULL;
	bool use_compat = false, loaded = false;
	int r;

	if (!was_checked(text, hash, &use_compat)) {
		r = check_forked(text, &use_compat, &loaded, err);
		if (r < 0)
			return r;
		remember(text, hash, use_compat);
		if (loaded)
			return 0;
	}
	if (use_compat && !(compat = nftbl_compat_text(text)))
		return nslab_err_set(err, ENOMEM, "ruleset text");
	return nftbl_ctx_run(c, compat ? compat : text, false, NULL, err);
}

int nftbl_load(const char *text, nslab_error *err)
{
	struct nftbl_ctx *c = NULL;
	int r = nftbl_ctx_new(&c, err);

	if (r >= 0)
		r = nftbl_ctx_load(c, text, err);
	nftbl_ctx_free(c);
	return r;
}
