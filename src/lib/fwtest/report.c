/* SPDX-License-Identifier: MIT */
/* fwtest/report: results as text, TAP, JUnit XML or JSON, with rule coverage. */
#include "nslab/fwtest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter/nf_conntrack_common.h>

#include "core/json.h"
#include "fwtest/api.h"
#include "shared/macro.h"

#define FW_JSON_SCHEMA 1 /* docs/fwtest-json.md: bump when a member changes meaning or goes */

struct tally {
	size_t pass, fail, inconclusive, error, skipped;
};

static struct tally count(const nslab_fwtest *ft)
{
	struct tally t = { 0 };

	for (size_t i = 0; i < ft->n_results; i++)
		switch (ft->results[i].status) {
		case FW_STATUS_PASS:
			t.pass++;
			break;
		case FW_STATUS_FAIL:
			t.fail++;
			break;
		case FW_STATUS_INCONCLUSIVE:
			t.inconclusive++;
			break;
		case FW_STATUS_ERROR:
			t.error++;
			break;
		case FW_STATUS_SKIPPED:
			t.skipped++;
			break;
		}
	return t;
}

static void text_coverage(const nslab_fwtest *ft, FILE *out)
{
	const struct fw_runner *r = ft->runner;

	for (size_t c = 0; r && c < r->n_cov; c++) {
		const struct fw_coverage *cov = &r->cov[c];
		size_t hit = 0;

		for (size_t i = 0; i < cov->n; i++)
			hit += cov->rules_hit[i].hits > 0;
		fprintf(out, "\ncoverage (%s ruleset): %zu of %zu rules hit\n", cov->origin, hit,
			cov->n);
		for (size_t i = 0; i < cov->n; i++) {
			const struct fw_rule_hits *h = &cov->rules_hit[i];

			fprintf(out, "  %6u  %s %s %s: %s%s\n", h->hits, h->family, h->table,
				h->chain, h->text, h->hits ? "" : "   <- never hit");
		}
	}
}

/* The text coverage as a string, for the formats that wrap it (TAP comments, JUnit). */
static char *coverage_text(const nslab_fwtest *ft)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	text_coverage(ft, m);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static const char *status_word(enum fw_status s)
{
	static const char *const words[] = { "PASS", "FAIL", "INCONCLUSIVE", "ERROR", "NOT RUN" };

	return (size_t)s < ARRAY_SIZE(words) ? words[s] : "?";
}

static void write_summary(const struct tally *t, FILE *out)
{
	fprintf(out, "%zu passed, %zu failed, %zu inconclusive, %zu errors", t->pass, t->fail,
		t->inconclusive, t->error);
	if (t->skipped)
		fprintf(out, ", %zu not selected", t->skipped);
	fputc('\n', out);
}

/* @lines: each test that ran with its status and what failed (the CLI streams them instead) */
static void write_text(const nslab_fwtest *ft, bool lines, bool coverage, FILE *out)
{
	struct tally t = count(ft);

	for (size_t i = 0; lines && i < ft->n_results; i++) {
		const struct fw_result *res = &ft->results[i];

		if (res->status == FW_STATUS_SKIPPED)
			continue;
		fprintf(out, "%-12s %s (%.1f ms)\n", status_word(res->status),
			ft->suite->tests[i].name, res->ms);
		if (res->log)
			fputs(res->log, out);
	}
	if (coverage)
		text_coverage(ft, out);
	fputc('\n', out);
	write_summary(&t, out);
}

/* TAP 13/14: a '#' in a description starts a directive and '\' escapes, so both are escaped. */
static void tap_escaped(FILE *out, const char *s)
{
	for (; *s; s++)
		if (*s == '#' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', out);
		else
			fputc(*s, out);
}

/* Each line of text as a TAP comment ("# ..."). */
static void tap_comment(FILE *out, const char *text)
{
	for (const char *l = text; l && *l;) {
		const char *e = strchr(l, '\n');
		int len = e ? (int)(e - l) : (int)strlen(l);

		fprintf(out, "# %.*s\n", len, l);
		l += len + (e ? 1 : 0);
	}
}

static void write_tap(const nslab_fwtest *ft, bool coverage, FILE *out)
{
	fprintf(out, "TAP version 13\n1..%zu\n", ft->n_results);
	for (size_t i = 0; i < ft->n_results; i++) {
		const struct fw_result *res = &ft->results[i];
		bool ok = res->status == FW_STATUS_PASS || res->status == FW_STATUS_SKIPPED;

		fprintf(out, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
		tap_escaped(out, ft->suite->tests[i].name);
		fputs(res->status == FW_STATUS_SKIPPED ? " # SKIP not selected\n" : "\n", out);
		tap_comment(out, res->log);
	}
	if (coverage) {
		_cleanup_free_ char *buf = coverage_text(ft);

		if (buf)
			tap_comment(out, buf);
	}
}

static void xml_escaped_char(FILE *out, char c)
{
	switch (c) {
	case '<':
		fputs("&lt;", out);
		break;
	case '>':
		fputs("&gt;", out);
		break;
	case '&':
		fputs("&amp;", out);
		break;
	case '"':
		fputs("&quot;", out);
		break;
	case '\n':
		fputs("&#10;", out); /* kept in attributes too */
		break;
	default:
		/* XML 1.0 allows no other control character, even escaped */
		if ((unsigned char)c >= 0x20 || c == '\t')
			fputc(c, out);
	}
}

static void xml_escaped(FILE *out, const char *s)
{
	for (; s && *s; s++)
		xml_escaped_char(out, *s);
}

/* Text in an element: newlines as they are (readable), the rest escaped. */
static void xml_text(FILE *out, const char *s)
{
	for (; s && *s; s++)
		if (*s == '\n')
			fputc('\n', out);
		else
			xml_escaped_char(out, *s);
}

/*
 * What failed, in one line for a failure's message attribute: the checks that failed
 * ("expected verdict drop, got accept; ..."), not the packet headers and trace lines.
 */
static void failure_message(FILE *out, const struct fw_result *res)
{
	const char *l = res->log ? res->log : "";
	bool any = false;

	while (*l) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		size_t lead = strspn(l, " ");

		if (lead >= 4 && lead < len && strncmp(l + lead, "trace:", 6) != 0) {
			_cleanup_free_ char *line = strndup(l + lead, len - lead);

			if (any)
				fputs("; ", out);
			xml_escaped(out, line);
			any = true;
		}
		l += len + (e ? 1 : 0);
	}
	if (!any && res->log && *res->log) {
		size_t lead = strspn(res->log, " ");
		_cleanup_free_ char *line =
			strndup(res->log + lead, strcspn(res->log + lead, "\n"));

		xml_escaped(out, line);
		any = true;
	}
	if (!any)
		fputs(fw_status_name(res->status), out);
}

/* Every packet of the test with its verdict and trace path. */
static void junit_traces(FILE *out, const struct fw_result *res)
{
	fputs("    <system-out>", out);
	for (size_t k = 0; k < res->n_tracks; k++) {
		const struct fw_track *t = &res->tracks[k];
		char line[512];

		snprintf(line, sizeof(line), "%s: %s\n  trace: %s\n", t->desc,
			 t->decided ? fw_verdict_name(t->dec.verdict) : "no verdict",
			 t->dec.path[0] ? t->dec.path : "(none)");
		xml_text(out, line);
	}
	fputs("</system-out>\n", out);
}

static void junit_header(FILE *out, const char *path, time_t started)
{
	char host[256] = "localhost", stamp[32] = "1970-01-01T00:00:00";
	struct tm tm;

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	if (gmtime_r(&started, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
	fprintf(out, "  <testsuite name=\"");
	xml_escaped(out, path);
	fprintf(out, "\" timestamp=\"%s\" hostname=\"", stamp);
	xml_escaped(out, host);
	fputc('"', out);
}

/* The suite file's name without directory and extension: what CI tools group tests by. */
static void classname(FILE *out, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(base);

	if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
		n -= 5;
	else if (n > 4 && strcmp(base + n - 4, ".yml") == 0)
		n -= 4;
	_cleanup_free_ char *name = strndup(base, n);

	xml_escaped(out, name ? name : "fwtest");
}

static void write_junit(const nslab_fwtest *ft, bool coverage, FILE *out)
{
	struct tally t = count(ft);
	double total = 0;

	for (size_t i = 0; i < ft->n_results; i++)
		total += ft->results[i].ms;
	junit_header(out, ft->suite->path, ft->started ? ft->started : time(NULL));
	fprintf(out,
		" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
		ft->n_results, t.fail + t.inconclusive, t.error, t.skipped, total / 1000.0);
	for (size_t i = 0; i < ft->n_results; i++) {
		const struct fw_result *res = &ft->results[i];
		const char *tag = res->status == FW_STATUS_ERROR ? "error" : "failure";

		fprintf(out, "    <testcase classname=\"");
		classname(out, ft->suite->path);
		fprintf(out, "\" name=\"");
		xml_escaped(out, ft->suite->tests[i].name);
		fprintf(out, "\" time=\"%.3f\"", res->ms / 1000.0);
		if (res->status == FW_STATUS_SKIPPED) {
			fprintf(out,
				">\n      <skipped message=\"not selected\"/>\n    </testcase>\n");
			continue;
		}
		if (res->status == FW_STATUS_PASS) {
			fprintf(out, "/>\n");
			continue;
		}
		fprintf(out, ">\n      <%s type=\"%s\" message=\"", tag,
			fw_status_name(res->status));
		failure_message(out, res);
		fputs("\">", out);
		xml_text(out, res->log);
		fprintf(out, "</%s>\n", tag);
		junit_traces(out, res);
		fprintf(out, "    </testcase>\n");
	}
	if (coverage) {
		_cleanup_free_ char *buf = coverage_text(ft);

		if (buf) {
			fputs("    <system-out>", out);
			xml_text(out, buf);
			fputs("</system-out>\n", out);
		}
	}
	fprintf(out, "  </testsuite>\n</testsuites>\n");
}

/*
 * What came back: a packet's reply when the test waited for one (else null: nobody looked);
 * a flow's first answer (syn-ack, rst, icmp-..., udp), "none" when it timed out.
 */
static const char *track_reply(const struct fw_track *t)
{
	if (t->reply != FW_REPLY_UNSET)
		return fw_reply_name(t->reply);
	if (t->is_flow)
		return t->connect == FW_CONNECT_TIMEOUT ? fw_reply_name(FW_REPLY_NONE) : NULL;
	return t->expect && t->expect->reply != FW_REPLY_UNSET ? fw_reply_name(FW_REPLY_NONE)
							       : NULL;
}

/* A packet the trace never decided has no verdict, table or delivery: null, not false. */
static void json_track(struct jw *w, const struct fw_track *t)
{
	char ct[64];

	jw_obj_open(w, NULL);
	jw_str(w, "kind", t->is_flow ? "flow" : "packet");
	jw_str(w, "packet", t->desc);
	jw_str(w, "verdict", t->decided ? fw_verdict_name(t->dec.verdict) : NULL);
	jw_str(w, "table", t->dec.decided ? t->dec.table : NULL);
	jw_str(w, "chain", t->dec.decided ? t->dec.chain : NULL);
	jw_str(w, "rule", !t->dec.decided ? NULL : t->dec.by_policy ? "policy" : t->dec.rule_text);
	if (t->decided)
		jw_bool(w, "delivered", t->dec.delivered);
	else
		jw_str(w, "delivered", NULL);
	jw_str(w, "reply", track_reply(t));
	if (t->is_flow)
		jw_str(w, "connect",
		       t->connect == FW_CONNECT_UNSET ? NULL : fw_connect_name(t->connect));
	jw_str(w, "ct_state",
	       t->dec.has_ct_state ? fw_ct_state_format(t->dec.ct_state, ct, sizeof(ct)) : NULL);
	jw_uint(w, "trace_events", t->n_evs);
	jw_str(w, "trace", t->dec.path);
	if (t->n_ct) {
		jw_obj_open(w, "conntrack");
		if (t->ct.has_tcp_state)
			jw_str(w, "state", ct_tcp_state_name(t->ct.tcp_state));
		jw_bool(w, "replied", t->ct.status & IPS_SEEN_REPLY);
		jw_bool(w, "assured", t->ct.status & IPS_ASSURED);
		jw_obj_close(w);
	} else {
		jw_str(w, "conntrack", NULL);
	}
	jw_obj_close(w);
}

static void json_coverage(struct jw *w, const struct fw_runner *r)
{
	jw_arr_open(w, "coverage");
	for (size_t c = 0; r && c < r->n_cov; c++) {
		jw_obj_open(w, NULL);
		jw_str(w, "ruleset", r->cov[c].origin);
		jw_arr_open(w, "rules");
		for (size_t i = 0; i < r->cov[c].n; i++) {
			const struct fw_rule_hits *h = &r->cov[c].rules_hit[i];

			jw_obj_open(w, NULL);
			jw_str(w, "family", h->family);
			jw_str(w, "table", h->table);
			jw_str(w, "chain", h->chain);
			jw_uint(w, "handle", h->handle);
			jw_str(w, "rule", h->text);
			jw_uint(w, "hits", h->hits);
			jw_obj_close(w);
		}
		jw_arr_close(w);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

static void json_counts(struct jw *w, const struct tally *t, size_t total)
{
	jw_uint(w, "total", total);
	jw_uint(w, "passed", t->pass);
	jw_uint(w, "failed", t->fail);
	jw_uint(w, "inconclusive", t->inconclusive);
	jw_uint(w, "errors", t->error);
	jw_uint(w, "skipped", t->skipped);
}

static int json_emit(struct jw *w, FILE *out, nslab_error *err)
{
	if (!jw_get(w)) {
		jw_free(w);
		return nslab_err_set(err, ENOMEM, "write the JSON report");
	}
	fprintf(out, "%s\n", jw_get(w));
	jw_free(w);
	return 0;
}

static int write_json(const nslab_fwtest *ft, bool coverage, FILE *out, nslab_error *err)
{
	struct tally t = count(ft);
	struct jw w;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_uint(&w, "schema", FW_JSON_SCHEMA);
	jw_str(&w, "suite", ft->suite->path);
	jw_uint(&w, "jobs", ft->jobs_used);
	jw_str(&w, "error", NULL);
	jw_arr_open(&w, "tests");
	for (size_t i = 0; i < ft->n_results; i++) {
		const struct fw_result *res = &ft->results[i];

		jw_obj_open(&w, NULL);
		jw_str(&w, "name", ft->suite->tests[i].name);
		jw_str(&w, "status", fw_status_name(res->status));
		jw_double(&w, "ms", res->ms, 3);
		jw_str(&w, "log", res->log ? res->log : "");
		jw_arr_open(&w, "packets");
		for (size_t k = 0; k < res->n_tracks; k++)
			json_track(&w, &res->tracks[k]);
		jw_arr_close(&w);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	json_counts(&w, &t, ft->n_results);
	if (coverage)
		json_coverage(&w, ft->runner);
	jw_obj_close(&w);
	return json_emit(&w, out, err);
}

static int finish(FILE *out, int r, nslab_error *err)
{
	if (r >= 0 && (fflush(out) != 0 || ferror(out)))
		return nslab_err_set(err, errno ? errno : EIO, "write the report");
	return r;
}

int nslab_fwtest_report(const nslab_fwtest *ft, enum nslab_fwtest_format format, bool coverage,
			FILE *out, nslab_error *err)
{
	int r = 0;

	switch (format) {
	case NSLAB_FWTEST_FORMAT_TEXT:
		write_text(ft, true, coverage, out);
		break;
	case NSLAB_FWTEST_FORMAT_SUMMARY:
		write_text(ft, false, coverage, out);
		break;
	case NSLAB_FWTEST_FORMAT_TAP:
		write_tap(ft, coverage, out);
		break;
	case NSLAB_FWTEST_FORMAT_JUNIT:
		write_junit(ft, coverage, out);
		break;
	case NSLAB_FWTEST_FORMAT_JSON:
		r = write_json(ft, coverage, out, err);
		break;
	}
	return finish(out, r, err);
}

int nslab_fwtest_report_error(const char *suite_path, enum nslab_fwtest_format format,
			      const char *message, FILE *out, nslab_error *err)
{
	struct tally t = { .error = 1 };
	struct jw w;
	int r = 0;

	switch (format) {
	case NSLAB_FWTEST_FORMAT_TEXT:
	case NSLAB_FWTEST_FORMAT_SUMMARY:
		fprintf(out, "ERROR        %s\n  %s\n\n", suite_path, message);
		write_summary(&t, out);
		break;
	case NSLAB_FWTEST_FORMAT_TAP:
		fprintf(out, "TAP version 13\n1..1\nnot ok 1 - ");
		tap_escaped(out, suite_path);
		fputc('\n', out);
		tap_comment(out, message);
		break;
	case NSLAB_FWTEST_FORMAT_JUNIT:
		junit_header(out, suite_path, time(NULL));
		fprintf(out,
			" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000\">\n"
			"    <testcase classname=\"");
		classname(out, suite_path);
		fprintf(out, "\" name=\"");
		xml_escaped(out, suite_path);
		fprintf(out, "\" time=\"0.000\">\n      <error type=\"error\" message=\"");
		xml_escaped(out, message);
		fputs("\">", out);
		xml_text(out, message);
		fprintf(out, "</error>\n    </testcase>\n  </testsuite>\n</testsuites>\n");
		break;
	case NSLAB_FWTEST_FORMAT_JSON:
		jw_init(&w);
		jw_obj_open(&w, NULL);
		jw_uint(&w, "schema", FW_JSON_SCHEMA);
		jw_str(&w, "suite", suite_path);
		jw_str(&w, "error", message);
		jw_arr_open(&w, "tests");
		jw_arr_close(&w);
		json_counts(&w, &(struct tally){ 0 }, 0);
		jw_obj_close(&w);
		r = json_emit(&w, out, err);
		break;
	}
	return finish(out, r, err);
}
