// SPDX-License-Identifier: MIT
/*
 * cli/egress-log: what `nslab run --allow/--analyse` reports: one line per DNS
 * query (and --interactive decision) on stderr (-v, --analyse, --interactive),
 * and the JSON log of --log FILE (schema 1,
 * docs/egress.md): a session record, one record per DNS query, a summary.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress-log.h"

/* Wall-clock time as RFC 3339 UTC with milliseconds. */
/* Now, as RFC 3339 UTC with milliseconds, in buf (EGRESS_LOG_TIME bytes). */
static void time_text(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

static void log_time(FILE *f)
{
	char buf[EGRESS_LOG_TIME];

	time_text(buf, sizeof(buf));
	fprintf(f, "\"%s\"", buf);
}

/* A connection's key: protocol and 5-tuple. */
static void conn_key(const struct nslab_egress_connection *c, char *buf, size_t len)
{
	snprintf(buf, len, "%d %s %u %s %u", c->proto, c->src, c->sport, c->dst, c->dport);
}

/* Under lock: the times kept for a connection, made (oldest forgotten) when make is set; or NULL. */
static struct egress_log_times *conn_times(struct egress_log *l,
					   const struct nslab_egress_connection *c, bool make)
{
	char key[sizeof(l->times[0].key)];
	struct egress_log_times *t;

	conn_key(c, key, sizeof(key));
	for (size_t i = 0; i < EGRESS_LOG_TIMES; i++)
		if (strcmp(l->times[i].key, key) == 0)
			return &l->times[i];
	if (!make)
		return NULL;
	t = &l->times[l->n_times++ % EGRESS_LOG_TIMES];
	*t = (struct egress_log_times){ 0 };
	snprintf(t->key, sizeof(t->key), "%s", key);
	return t;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- live lines: aligned columns (time, kind, verdict, destination, name) ------- */

#define LINE_RULE "----------------------------------------------------------------"

/*
 * A live line is composed apart and written to stderr at once (one write:
 * the command's own output on the same terminal cannot land inside it).
 */
struct line {
	char *buf;
	size_t len;
	FILE *f; /* a memstream, or stderr itself when none could be made */
};

static FILE *line_begin(struct line *ln)
{
	*ln = (struct line){ 0 };
	ln->f = open_memstream(&ln->buf, &ln->len);
	return ln->f ? ln->f : stderr;
}

static void line_end(struct line *ln)
{
	if (!ln->f)
		return;
	if (fclose(ln->f) == 0 && ln->buf)
		fputs(ln->buf, stderr);
	free(ln->buf);
}

/* "nslab run: HH:MM:SS " (local time: a person reads these). */
static void line_start(FILE *o)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[16];

	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	fprintf(o, "nslab run: %s ", buf);
}

/* The verdict's word ("ALLOWED", "BLOCKED", "SERVFAIL") and its detail ("asked"), apart. */
static void verdict_split(const char *v, char *word, size_t wlen, const char **detail)
{
	const char *sp = strchr(v, ' ');
	size_t n = sp ? (size_t)(sp - v) : strlen(v);

	snprintf(word, wlen, "%.*s", (int)n, v);
	*detail = sp && sp[1] == '(' ? sp + 1 : NULL;
}

/* ADDR:PORT, [ADDR6]:PORT, or ADDR without a port. */
static void put_dest(FILE *f, const char *addr, unsigned port)
{
	bool v6 = strchr(addr, ':') != NULL;

	if (!port)
		fputs(addr, f);
	else
		fprintf(f, v6 ? "[%s]:%u" : "%s:%u", addr, port);
}

/* A decimal id from the environment, 0..UINT32_MAX-1; false if absent or not one. */
static bool env_id(const char *name, unsigned long *ret)
{
	const char *s = getenv(name);
	char *end;

	if (!s || !*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*ret = strtoul(s, &end, 10);
	return errno == 0 && !*end && *ret < UINT32_MAX;
}

void egress_log_own(int fd)
{
	unsigned long uid, gid;

	/* the files a user asked for through sudo are the user's, as the command is */
	if (geteuid() == 0 && env_id("SUDO_UID", &uid) && env_id("SUDO_GID", &gid))
		(void)!fchown(fd, (uid_t)uid, (gid_t)gid);
}

#define RESOLV_STALE_S 10

/* One directory's stale resolv.conf files: ours, older than 10 s, named with a PID that no longer runs. */
static unsigned cleanup_dir(const char *dir)
{
	size_t plen = strlen(EGRESS_RESOLV_PREFIX);
	unsigned n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *end;
		long pid;
		struct stat st;

		if (strncmp(de->d_name, EGRESS_RESOLV_PREFIX, plen) != 0)
			continue;
		pid = strtol(de->d_name + plen, &end, 10);
		if (pid <= 0 || *end != '-' || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		/*
		 * a live run removes its file within milliseconds: an old one is
		 * stale even if the PID (seen from another PID namespace) is reused
		 */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    st.st_mtime > time(NULL) - RESOLV_STALE_S)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

unsigned egress_cleanup(void)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	unsigned n = cleanup_dir("/tmp");

	if (dir && *dir && strcmp(dir, "/tmp") != 0)
		n += cleanup_dir(dir);
	return n;
}

int egress_log_open(struct egress_log *l, const char *path)
{
	int fd;

	*l = (struct egress_log){ .t0 = mono_ms() };
	pthread_mutex_init(&l->lock, NULL);
	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	egress_log_own(fd);
	l->f = fdopen(fd, "w");
	if (!l->f) {
		int e = errno;

		(void)close(fd);
		return -e;
	}
	return 0;
}

/* The session's header on stderr: id, mode, the policy's size, the command. */
static void lines_header(const struct egress_log *l, char **argv, const char *mode,
			 const struct egress_log_opt *opts, size_t n)
{
	unsigned allow = 0;

	for (size_t i = 0; i < n; i++)
		allow += strcmp(opts[i].name, "allow") == 0 ||
			 strcmp(opts[i].name, "allow-file") == 0;
	fprintf(stderr, "nslab run: session %s started\nnslab run: mode %s", l->id, mode);
	if (allow)
		fprintf(stderr, ", %u allow option%s", allow, allow == 1 ? "" : "s");
	fputs("\nnslab run: executing:", stderr);
	for (size_t i = 0; argv[i]; i++)
		fprintf(stderr, " %s", argv[i]);
	fputs("\nnslab run: " LINE_RULE "\n", stderr);
}

void egress_log_session(struct egress_log *l, char **argv, const char *mode,
			const struct egress_log_opt *opts, size_t n, const char *policy)
{
	snprintf(l->id, sizeof(l->id), "%d-%" PRIu64, (int)getpid(), (uint64_t)time(NULL));
	if (l->lines)
		lines_header(l, argv, mode, opts, n);
	if (!l->f)
		return;
	fprintf(l->f,
		"{\"schema\":%d,\"kind\":\"session\",\"id\":\"%s\",\"start\":", EGRESS_LOG_SCHEMA,
		l->id);
	log_time(l->f);
	fputs(",\"command\":[", l->f);
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			fputc(',', l->f);
		cli_json_str(l->f, argv[i]);
	}
	fprintf(l->f, "],\"mode\":\"%s\",\"options\":[", mode);
	for (size_t i = 0; i < n; i++) {
		fprintf(l->f, "%s[", i ? "," : "");
		cli_json_str(l->f, opts[i].name);
		fputc(',', l->f);
		if (opts[i].value)
			cli_json_str(l->f, opts[i].value);
		else
			fputs("null", l->f);
		fputc(']', l->f);
	}
	fputc(']', l->f);
	if (policy)
		fprintf(l->f, ",\"policy\":%s", policy);
	fputs("}\n", l->f);
	fflush(l->f);
}

/* --interactive: a new connection decided by asking (a "decision" record). */
static void log_decision(struct egress_log *l, const struct nslab_egress_event *ev, bool allowed)
{
	char word[16];
	const char *detail;

	l->decisions++;
	if (l->lines) {
		struct line ln;
		FILE *o = line_begin(&ln);

		verdict_split(ev->verdict, word, sizeof(word), &detail);
		line_start(o);
		fprintf(o, "%-4s %-8s ", ev->type, word);
		put_dest(o, ev->name, ev->port);
		fprintf(o, "%s%s\n", detail ? " " : "", detail ? detail : "");
		line_end(&ln);
	}
	if (!l->f)
		return;
	fputs("{\"kind\":\"decision\",\"ts\":", l->f);
	log_time(l->f);
	fputs(",\"proto\":", l->f);
	cli_json_str(l->f, ev->type);
	fputs(",\"dst\":", l->f);
	cli_json_str(l->f, ev->name);
	fprintf(l->f, ",\"dport\":%u,\"verdict\":", ev->port);
	cli_json_str(l->f, ev->verdict);
	fprintf(l->f, ",\"allowed\":%s}\n", allowed ? "true" : "false");
	fflush(l->f);
}

static void log_query(struct egress_log *l, const struct nslab_egress_event *ev, bool allowed);

/* A new flow the policy denied: a line, and a "blocked" record. */
static void log_blocked(struct egress_log *l, const struct nslab_egress_event *ev)
{
	l->blocked_flows++;
	if (l->lines) {
		struct line ln;
		FILE *o = line_begin(&ln);

		line_start(o);
		fprintf(o, "%-4s %-8s ", ev->type, "BLOCKED");
		put_dest(o, ev->name, ev->port);
		fputc('\n', o);
		line_end(&ln);
	}
	if (!l->f)
		return;
	fputs("{\"kind\":\"blocked\",\"verdict\":\"BLOCKED\",\"ts\":", l->f);
	log_time(l->f);
	fputs(",\"proto\":", l->f);
	cli_json_str(l->f, ev->type);
	if (ev->src) {
		fputs(",\"src\":", l->f);
		cli_json_str(l->f, ev->src);
		fprintf(l->f, ",\"sport\":%u", ev->sport);
	}
	fputs(",\"dst\":", l->f);
	cli_json_str(l->f, ev->name);
	fprintf(l->f, ",\"dport\":%u}\n", ev->port);
	fflush(l->f);
}

void egress_log_asked(struct egress_log *l, const struct nslab_egress_question *q)
{
	if (!l->lines)
		return;
	struct line ln;
	FILE *o;

	pthread_mutex_lock(&l->lock);
	o = line_begin(&ln);
	line_start(o);
	fprintf(o, "%-4s %-8s ", q->name ? "DNS" : q->type, "ASKED");
	if (q->name)
		fprintf(o, "%s (%s)", q->name, q->type);
	else
		put_dest(o, q->addr, q->port);
	fputc('\n', o);
	line_end(&ln);
	pthread_mutex_unlock(&l->lock);
}

void egress_log_event(const struct nslab_egress_event *ev, void *data)
{
	struct egress_log *l = data;
	bool allowed = strncmp(ev->verdict, "ALLOWED", 7) == 0;

	pthread_mutex_lock(&l->lock);
	if (ev->blocked_flow)
		log_blocked(l, ev);
	else if (ev->connection)
		log_decision(l, ev, allowed);
	else
		log_query(l, ev, allowed);
	pthread_mutex_unlock(&l->lock);
}

static void log_query(struct egress_log *l, const struct nslab_egress_event *ev, bool allowed)
{
	l->queries++;
	if (allowed)
		l->allowed++;
	else
		l->blocked++;
	if (l->lines) {
		char word[16];
		const char *detail;
		struct line ln;
		FILE *o = line_begin(&ln);

		verdict_split(ev->verdict, word, sizeof(word), &detail);
		line_start(o);
		fprintf(o, "DNS  %-8s %s", word, ev->name);
		if (strcmp(ev->type, "A") != 0)
			fprintf(o, " (%s)", ev->type);
		if (ev->addr)
			fprintf(o, " \u2192 %s", ev->addr);
		if (ev->n_addr > 1)
			fprintf(o, " (+%zu)", ev->n_addr - 1);
		fprintf(o, "%s%s\n", detail ? " " : "", detail ? detail : "");
		line_end(&ln);
	}
	if (!l->f)
		return;
	fputs("{\"kind\":\"dns\",\"ts\":", l->f);
	log_time(l->f);
	fputs(",\"name\":", l->f);
	cli_json_str(l->f, ev->name);
	fputs(",\"type\":", l->f);
	cli_json_str(l->f, ev->type);
	fputs(",\"verdict\":", l->f);
	cli_json_str(l->f, ev->verdict);
	fprintf(l->f, ",\"allowed\":%s,\"addresses\":%zu", allowed ? "true" : "false", ev->n_addr);
	/* the answer as allowed: each address with its record's TTL */
	if (ev->n_answers) {
		fputs(",\"answers\":[", l->f);
		for (size_t i = 0; i < ev->n_answers; i++) {
			fprintf(l->f, "%s{\"addr\":", i ? "," : "");
			cli_json_str(l->f, ev->answers[i]);
			fprintf(l->f, ",\"ttl\":%" PRIu32 "}", ev->ttls[i]);
		}
		fputc(']', l->f);
	}
	fputs("}\n", l->f);
	fflush(l->f);
}

static const char *proto_name(int proto)
{
	switch (proto) {
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 1:	 /* ICMP */
	case 58: /* ICMPv6: the same word, the address says which */
		return "ICMP";
	default:
		return "IP";
	}
}

/* The 5-tuple's fields of a connection record. */
static void put_tuple(FILE *f, const struct nslab_egress_connection *c)
{
	fprintf(f, "\"proto\":\"%s\",\"src\":", proto_name(c->proto));
	cli_json_str(f, c->src);
	fprintf(f, ",\"sport\":%u,\"dst\":", c->sport);
	cli_json_str(f, c->dst);
	fprintf(f, ",\"dport\":%u", c->dport);
	if (c->name) {
		fputs(",\"name\":", f);
		cli_json_str(f, c->name);
	}
}

/* "TCP  ALLOWED  198.18.4.3:8000 (www.x.test)" and what follows, without the newline. */
static void line_conn(FILE *o, const struct nslab_egress_connection *c, const char *word)
{
	line_start(o);
	fprintf(o, "%-4s %-8s ", proto_name(c->proto), word);
	put_dest(o, c->dst, c->dport);
	if (c->name)
		fprintf(o, " (%s)", c->name);
}

static void line_counters(FILE *o, const struct nslab_egress_connection *c)
{
	if (c->has_counters)
		fprintf(o,
			", out %" PRIu64 " packets %" PRIu64 " bytes, in %" PRIu64
			" packets %" PRIu64 " bytes",
			c->packets_out, c->bytes_out, c->packets_in, c->bytes_in);
}

static void put_counters(FILE *f, const struct nslab_egress_connection *c)
{
	if (c->has_counters)
		fprintf(f,
			",\"packets_out\":%" PRIu64 ",\"bytes_out\":%" PRIu64
			",\"packets_in\":%" PRIu64 ",\"bytes_in\":%" PRIu64,
			c->packets_out, c->bytes_out, c->packets_in, c->bytes_in);
}

void egress_log_flow(const struct nslab_egress_connection *c, void *data)
{
	struct egress_log *l = data;
	bool end = c->event == NSLAB_EGRESS_CONN_END;
	struct egress_log_times *t;

	pthread_mutex_lock(&l->lock);
	/* the connection record at the end gives its start and end from these */
	t = conn_times(l, c, true);
	time_text(end ? t->end : t->start, sizeof(t->start));
	if (l->lines) {
		struct line ln;
		FILE *o = line_begin(&ln);

		/* a connection the gateway's conntrack confirmed passed its ruleset: allowed */
		line_conn(o, c, end ? "END" : "ALLOWED");
		if (end)
			line_counters(o, c);
		fputc('\n', o);
		line_end(&ln);
	}
	if (l->f) {
		fprintf(l->f, "{\"kind\":\"flow\",\"event\":\"%s\",\"ts\":", end ? "end" : "new");
		log_time(l->f);
		fputc(',', l->f);
		put_tuple(l->f, c);
		put_counters(l->f, c);
		fputs("}\n", l->f);
		fflush(l->f);
	}
	pthread_mutex_unlock(&l->lock);
}

void egress_log_connection(const struct nslab_egress_connection *c, void *data)
{
	struct egress_log *l = data;

	pthread_mutex_lock(&l->lock);
	l->connections++;
	if (l->lines) {
		struct line ln;
		FILE *o = line_begin(&ln);

		if (!l->ruled)
			fputs("nslab run: " LINE_RULE "\n", o);
		l->ruled = true;
		line_conn(o, c, "CONN");
		line_counters(o, c);
		fputc('\n', o);
		line_end(&ln);
	}
	if (l->f) {
		const struct egress_log_times *t = conn_times(l, c, false);

		/* in the gateway's conntrack: it passed the ruleset */
		fputs("{\"kind\":\"connection\",\"verdict\":\"ALLOWED\",", l->f);
		put_tuple(l->f, c);
		put_counters(l->f, c);
		if (t && t->start[0])
			fprintf(l->f, ",\"start\":\"%s\"", t->start);
		if (t && t->end[0])
			fprintf(l->f, ",\"end\":\"%s\"", t->end);
		fputs("}\n", l->f);
		fflush(l->f);
	}
	pthread_mutex_unlock(&l->lock);
}

int egress_log_close(struct egress_log *l, int exit_code)
{
	int r = 0;

	pthread_mutex_destroy(&l->lock);
	if (l->lines) {
		uint64_t ms = mono_ms() - l->t0;

		if (!l->ruled)
			fputs("nslab run: " LINE_RULE "\n", stderr);
		fprintf(stderr,
			"nslab run: session %s finished (exit code %d, duration %" PRIu64
			".%01" PRIu64 " s): %u DNS quer%s (%u allowed, %u blocked), %u "
			"connection%s (%u allowed, %u blocked), %u decision%s\n",
			l->id, exit_code, ms / 1000, ms % 1000 / 100, l->queries,
			l->queries == 1 ? "y" : "ies", l->allowed, l->blocked,
			l->connections + l->blocked_flows,
			l->connections + l->blocked_flows == 1 ? "" : "s", l->connections,
			l->blocked_flows, l->decisions, l->decisions == 1 ? "" : "s");
	}
	if (!l->f)
		return 0;
	fputs("{\"kind\":\"summary\",\"end\":", l->f);
	log_time(l->f);
	fprintf(l->f,
		",\"duration_ms\":%" PRIu64 ",\"exit_code\":%d,\"queries\":%u,\"allowed\":%u,"
		"\"blocked\":%u,\"connections\":%u,\"blocked_connections\":%u,\"decisions\":%u}\n",
		mono_ms() - l->t0, exit_code, l->queries, l->allowed, l->blocked, l->connections,
		l->blocked_flows, l->decisions);
	if (fclose(l->f) != 0)
		r = -errno;
	l->f = NULL;
	return r;
}
