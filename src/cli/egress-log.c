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
static void log_time(FILE *f)
{
	struct timespec ts;
	struct tm tm;
	char buf[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "\"%s.%03ldZ\"", buf, ts.tv_nsec / 1000000);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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

void egress_log_session(struct egress_log *l, char **argv, const char *mode,
			const struct egress_log_opt *opts, size_t n)
{
	if (!l->f)
		return;
	fprintf(l->f, "{\"schema\":%d,\"kind\":\"session\",\"id\":\"%d-%" PRIu64 "\",\"start\":",
		EGRESS_LOG_SCHEMA, (int)getpid(), (uint64_t)time(NULL));
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
	fputs("]}\n", l->f);
	fflush(l->f);
}

/* --interactive: a new connection decided by asking (a "decision" record). */
static void log_decision(struct egress_log *l, const struct nslab_egress_event *ev, bool allowed)
{
	bool v6 = strchr(ev->name, ':') != NULL;

	l->decisions++;
	if (l->lines) {
		fprintf(stderr, "nslab run: %-4s %-8s %s%s%s", ev->type, ev->verdict,
			v6 && ev->port ? "[" : "", ev->name, v6 && ev->port ? "]" : "");
		if (ev->port)
			fprintf(stderr, ":%u", ev->port);
		fputc('\n', stderr);
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

void egress_log_event(const struct nslab_egress_event *ev, void *data)
{
	struct egress_log *l = data;
	bool allowed = strncmp(ev->verdict, "ALLOWED", 7) == 0;

	pthread_mutex_lock(&l->lock);
	if (ev->connection)
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
		fprintf(stderr, "nslab run: DNS %-5s %-8s %s", ev->type, ev->verdict, ev->name);
		if (ev->n_addr)
			fprintf(stderr, " (%zu address%s allowed)", ev->n_addr,
				ev->n_addr == 1 ? "" : "es");
		fputc('\n', stderr);
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
	fprintf(l->f, ",\"allowed\":%s,\"addresses\":%zu}\n", allowed ? "true" : "false",
		ev->n_addr);
	fflush(l->f);
}

static const char *proto_name(int proto)
{
	switch (proto) {
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 1:
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

	pthread_mutex_lock(&l->lock);
	if (l->lines)
		fprintf(stderr, "nslab run: %-4s %-8s %s:%u -> %s:%u\n", proto_name(c->proto),
			end ? "END" : "NEW", c->src, c->sport, c->dst, c->dport);
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
		fprintf(stderr, "nslab run: %-4s %s:%u -> %s:%u", proto_name(c->proto), c->src,
			c->sport, c->dst, c->dport);
		if (c->has_counters)
			fprintf(stderr,
				", out %" PRIu64 " packets %" PRIu64 " bytes, in %" PRIu64
				" packets %" PRIu64 " bytes",
				c->packets_out, c->bytes_out, c->packets_in, c->bytes_in);
		fputc('\n', stderr);
	}
	if (l->f) {
		fputs("{\"kind\":\"connection\",", l->f);
		put_tuple(l->f, c);
		put_counters(l->f, c);
		fputs("}\n", l->f);
		fflush(l->f);
	}
	pthread_mutex_unlock(&l->lock);
}

int egress_log_close(struct egress_log *l, int exit_code)
{
	int r = 0;

	pthread_mutex_destroy(&l->lock);
	if (!l->f)
		return 0;
	fputs("{\"kind\":\"summary\",\"end\":", l->f);
	log_time(l->f);
	fprintf(l->f,
		",\"duration_ms\":%" PRIu64 ",\"exit_code\":%d,\"queries\":%u,\"allowed\":%u,"
		"\"blocked\":%u,\"connections\":%u,\"decisions\":%u}\n",
		mono_ms() - l->t0, exit_code, l->queries, l->allowed, l->blocked, l->connections,
		l->decisions);
	if (fclose(l->f) != 0)
		r = -errno;
	l->f = NULL;
	return r;
}
