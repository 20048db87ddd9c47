// SPDX-License-Identifier: MIT
/*
 * jail/egress-policy: the allow-list of `nslab run --allow LIST` and
 * `--allow-file FILE` (pure: text in, rules out, errors with the offending
 * entry and its place), and the name matching the DNS gate uses.
 */
#include "jail/egress.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/macro.h"

/* An allow file larger than this is refused (a list of 1 MiB is far past any real use). */
#define EGRESS_FILE_MAX (1u << 20)

static bool is_label_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

int egress_name_canon(const char *name, size_t len, char *buf, size_t buflen)
{
	size_t label = 0;

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > EGRESS_NAME_MAX || len >= buflen)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (!is_label_char(name[i]) || ++label > 63) {
			return -EINVAL;
		}
		buf[i] = (char)tolower((unsigned char)name[i]);
	}
	if (label == 0)
		return -EINVAL;
	buf[len] = '\0';
	return 0;
}

/* "PORT[/PROTO]" of entry e (for messages), at s (n bytes). */
static int parse_port(const char *e, size_t elen, const char *s, size_t n, struct egress_rule *r,
		      size_t *ret_col, nslab_error *err)
{
	const char *slash = memchr(s, '/', n);
	size_t digits = slash ? (size_t)(slash - s) : n;
	unsigned long v = 0;

	*ret_col = (size_t)(s - e) + 1;
	if (digits == 0 || digits > 5)
		return nslab_err_setx(err, EINVAL, "'%.*s': port must be a number 1..65535",
				      (int)elen, e);
	for (size_t i = 0; i < digits; i++) {
		if (!isdigit((unsigned char)s[i]))
			return nslab_err_setx(err, EINVAL, "'%.*s': port must be a number 1..65535",
					      (int)elen, e);
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return nslab_err_setx(err, EINVAL, "'%.*s': port %lu out of range 1..65535",
				      (int)elen, e, v);
	r->port = (uint16_t)v;
	if (!slash)
		return 0;
	*ret_col = (size_t)(slash - e) + 2;
	n -= digits + 1;
	if (n == 3 && strncasecmp(slash + 1, "tcp", 3) == 0)
		r->proto = IPPROTO_TCP;
	else if (n == 3 && strncasecmp(slash + 1, "udp", 3) == 0)
		r->proto = IPPROTO_UDP;
	else
		return nslab_err_setx(err, EINVAL, "'%.*s': protocol must be tcp or udp", (int)elen,
				      e);
	return 0;
}

/* An address or prefix (IPv4, or IPv6 from inside brackets) of entry e. */
static int parse_prefix(const char *e, size_t elen, const char *s, size_t n, int family,
			struct egress_rule *r, nslab_error *err)
{
	char buf[PREFIX_STRLEN], net[PREFIX_STRLEN];
	struct nslab_prefix p;

	if (n >= sizeof(buf))
		return nslab_err_setx(err, EINVAL, "'%.*s': not an IP address or prefix", (int)elen,
				      e);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (prefix_parse(buf, false, &p, NULL) < 0 || p.family != family)
		return nslab_err_setx(err, EINVAL, "'%.*s': not an %s address or prefix", (int)elen,
				      e, family == AF_INET ? "IPv4" : "IPv6");
	if (!prefix_is_network(&p)) {
		struct nslab_prefix q = p;
		size_t alen = prefix_addr_len(&q);

		for (size_t bit = q.len; bit < alen * 8; bit++)
			q.addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
		return nslab_err_setx(err, EINVAL, "'%.*s': host bits set (the network is %s)",
				      (int)elen, e, prefix_format(&q, true, net, sizeof(net)));
	}
	r->kind = EGRESS_PREFIX;
	r->prefix = p;
	return 0;
}

/* Whether s (n bytes) is made of IPv4 characters only: digits, dots, one '/'. */
static bool looks_ipv4(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.' && s[i] != '/')
			return false;
	return n > 0;
}

static int parse_host(const char *e, size_t elen, const char *s, size_t n, struct egress_rule *r,
		      nslab_error *err)
{
	bool wild = n >= 2 && s[0] == '*' && s[1] == '.';

	if (!wild && looks_ipv4(s, n))
		return parse_prefix(e, elen, s, n, AF_INET, r, err);
	if (wild) {
		s += 2;
		n -= 2;
	}
	if (egress_name_canon(s, n, r->name, sizeof(r->name)) < 0)
		return nslab_err_setx(err, EINVAL,
				      "'%.*s': not a host name, *.name, IPv4 address or prefix, "
				      "or [IPv6]",
				      (int)elen, e);
	r->kind = wild ? EGRESS_WILDCARD : EGRESS_NAME;
	return 0;
}

/* "[v6]" or "[v6/len]", then what follows the ']'. */
static int parse_bracketed(const char *s, size_t len, struct egress_rule *r, size_t *col,
			   nslab_error *err)
{
	const char *close = memchr(s, ']', len);
	size_t after;

	if (!close)
		return nslab_err_setx(err, EINVAL, "'%.*s': '[' without ']'", (int)len, s);
	if (parse_prefix(s, len, s + 1, (size_t)(close - s) - 1, AF_INET6, r, err) < 0)
		return -EINVAL;
	after = (size_t)(close - s) + 1;
	if (after == len)
		return 0;
	*col = after + 1;
	if (s[after] != ':')
		return nslab_err_setx(err, EINVAL, "'%.*s': expected ':PORT' after ']'", (int)len,
				      s);
	return parse_port(s, len, s + after + 1, len - after - 1, r, col, err);
}

int egress_rule_parse(const char *s, size_t len, struct egress_rule *ret, size_t *ret_col,
		      nslab_error *err)
{
	struct egress_rule r = { 0 };
	const char *colon;
	size_t col = 1, hlen;
	int res;

	if (len == 0) {
		res = nslab_err_setx(err, EINVAL, "empty entry");
	} else if (memchr(s, '\0', len)) {
		res = nslab_err_setx(err, EINVAL, "a NUL byte in an entry");
	} else if (s[0] == '[') {
		res = parse_bracketed(s, len, &r, &col, err);
	} else if ((colon = memchr(s, ':', len)) &&
		   memchr(colon + 1, ':', len - (size_t)(colon - s) - 1)) {
		/* two colons and no brackets: a bare IPv6 address, which cannot carry a port */
		res = parse_prefix(s, len, s, len, AF_INET6, &r, err);
	} else {
		hlen = colon ? (size_t)(colon - s) : len;
		res = parse_host(s, len, s, hlen, &r, err);
		if (res == 0 && colon)
			res = parse_port(s, len, colon + 1, len - hlen - 1, &r, &col, err);
	}
	if (res < 0) {
		if (ret_col)
			*ret_col = col;
		return res;
	}
	*ret = r;
	return 0;
}

static int list_push(struct egress_list *l, const struct egress_rule *r)
{
	struct egress_rule *v = reallocarray(l->v, l->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = *r;
	return 0;
}

/* Blanks around [*s, *s + *n) dropped. */
static void trim(const char **s, size_t *n)
{
	while (*n && isblank((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isblank((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/*
 * The comma-separated entries of one line (n bytes) appended to l; on
 * failure *ret_col is the 1-based column of the error in the line.
 */
static int parse_entries(struct egress_list *l, const char *line, size_t n, size_t *ret_col,
			 nslab_error *err)
{
	size_t start = 0;

	while (start <= n) {
		const char *comma = memchr(line + start, ',', n - start);
		size_t end = comma ? (size_t)(comma - line) : n, col = 1, elen = end - start;
		const char *e = line + start;
		struct egress_rule r;
		int res;

		trim(&e, &elen);
		res = egress_rule_parse(e, elen, &r, &col, err);
		if (res < 0) {
			*ret_col = (size_t)(e - line) + col;
			return res;
		}
		if (list_push(l, &r) < 0)
			return nslab_err_set(err, ENOMEM, "allow-list");
		start = end + 1;
	}
	return 0;
}

int egress_list_parse(struct egress_list *l, const char *text, nslab_error *err)
{
	size_t n0 = l->n, col = 1;
	int r = parse_entries(l, text, strlen(text), &col, err);

	if (r < 0) {
		l->n = n0;
		if (r == -EINVAL)
			return nslab_err_prefix(err, r, "'%s', column %zu", text, col);
	}
	return r;
}

int egress_text_parse(struct egress_list *l, const char *text, size_t len, const char *fname,
		      nslab_error *err)
{
	size_t n0 = l->n, lineno = 1, pos = 0;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos, body = n, col = 1;
		const char *hash = memchr(line, '#', n);
		const char *b = line;
		int r;

		if (hash)
			body = (size_t)(hash - line);
		while (body && (isspace((unsigned char)line[body - 1])))
			body--;
		trim(&b, &body);
		if (body) {
			r = parse_entries(l, b, body, &col, err);
			if (r < 0) {
				l->n = n0;
				return nslab_err_prefix(err, r, "%s:%zu:%zu", fname, lineno,
							(size_t)(b - line) + col);
			}
		}
		pos += n + 1;
		lineno++;
	}
	return 0;
}

int egress_file_parse(struct egress_list *l, const char *path, nslab_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return nslab_err_set(err, errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return nslab_err_setx(err, EINVAL, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > EGRESS_FILE_MAX)
		return nslab_err_setx(err, EFBIG, "%s: larger than %u bytes", path,
				      EGRESS_FILE_MAX);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return nslab_err_set(err, ENOMEM, "%s", path);
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k < 0)
			return nslab_err_set(err, errno, "%s", path);
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return egress_text_parse(l, buf, got, path, err);
}

void egress_list_clear(struct egress_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * Public DoH resolvers (their documented host names) and the names below
 * them: a wildcard like *.google would otherwise open dns.google.
 */
static const char *const doh_names[] = {
	"dns.google",	       "dns.google.com",
	"cloudflare-dns.com",  "mozilla.cloudflare-dns.com",
	"one.one.one.one",     "1dot1dot1dot1.cloudflare-dns.com",
	"dns.quad9.net",       "dns9.quad9.net",
	"dns10.quad9.net",     "dns11.quad9.net",
	"doh.opendns.com",     "dns.adguard.com",
	"dns.adguard-dns.com", "doh.cleanbrowsing.org",
	"dns.nextdns.io",      "doh.dns.sb",
	"dns.alidns.com",      "doh.pub",
};

/* One PORT or FIRST-LAST of --host-port; false if it is neither. */
static bool port_item(const char *s, size_t n, unsigned *ret_lo, unsigned *ret_hi)
{
	unsigned v[2] = { 0, 0 }, k = 0;
	size_t digits = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-' && k == 0 && digits) {
			k = 1;
			digits = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || ++digits > 5)
			return false;
		v[k] = v[k] * 10 + (unsigned)(s[i] - '0');
	}
	if (!digits || v[0] < 1 || v[0] > 65535 || (k && (v[1] < v[0] || v[1] > 65535)))
		return false;
	*ret_lo = v[0];
	*ret_hi = k ? v[1] : v[0];
	return true;
}

int egress_host_ports_parse(const char *text, char *ret, size_t len, nslab_error *err)
{
	char out[128] = "";
	size_t used = 0;

	for (const char *s = text;;) {
		size_t n = strcspn(s, ",");
		unsigned lo, hi;
		int w;

		if (!port_item(s, n, &lo, &hi))
			return nslab_err_setx(
				err, EINVAL,
				"'%.*s' is not a port (1..65535) or a range FIRST-LAST", (int)n, s);
		if (lo <= 53 && 53 <= hi)
			return nslab_err_setx(err, EINVAL, "'%.*s': port 53 is the DNS gate's",
					      (int)n, s);
		w = lo == hi ? snprintf(out + used, sizeof(out) - used, "%s%u", used ? "," : "", lo)
			     : snprintf(out + used, sizeof(out) - used, "%s%u-%u", used ? "," : "",
					lo, hi);
		if (w < 0 || (size_t)w >= sizeof(out) - used || used + (size_t)w >= len)
			return nslab_err_setx(err, EINVAL, "'%s': too many ports", text);
		used += (size_t)w;
		if (!s[n])
			break;
		s += n + 1;
	}
	memcpy(ret, out, used + 1);
	return 0;
}

bool egress_host_ports_has(const char *ports, unsigned port)
{
	for (const char *s = ports; *s;) {
		size_t n = strcspn(s, ",");
		unsigned lo, hi;

		if (port_item(s, n, &lo, &hi) && lo <= port && port <= hi)
			return true;
		if (!s[n])
			break;
		s += n + 1;
	}
	return false;
}

bool egress_host_ports_every(const char *ports, bool (*fn)(unsigned port, void *data), void *data)
{
	for (const char *s = ports; *s;) {
		size_t n = strcspn(s, ",");
		unsigned lo, hi;

		if (port_item(s, n, &lo, &hi))
			for (unsigned port = lo; port <= hi; port++)
				if (!fn(port, data))
					return false;
		if (!s[n])
			break;
		s += n + 1;
	}
	return true;
}

bool egress_name_doh(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(doh_names) / sizeof(doh_names[0]); i++) {
		size_t k = strlen(doh_names[i]);

		if (strcmp(name, doh_names[i]) == 0 || (n > k + 1 && name[n - k - 1] == '.' &&
							strcmp(name + n - k, doh_names[i]) == 0))
			return true;
	}
	return false;
}

bool egress_name_match(const struct egress_rule *r, const char *name)
{
	char canon[EGRESS_NAME_MAX + 1];
	size_t n, rn;

	if (r->kind != EGRESS_NAME && r->kind != EGRESS_WILDCARD)
		return false;
	if (egress_name_canon(name, strlen(name), canon, sizeof(canon)) < 0)
		return false;
	if (r->kind == EGRESS_NAME)
		return strcmp(canon, r->name) == 0;
	n = strlen(canon);
	rn = strlen(r->name);
	return n > rn + 1 && canon[n - rn - 1] == '.' && strcmp(canon + n - rn, r->name) == 0;
}
