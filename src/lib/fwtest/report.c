/* SPDX-License-Identifier: MIT */
/* fwtest/report: results as text, TAP, JUnit XML or JSON, with rule coverage. */
#include "nslab/fwtest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/netfilter/nf_conntrack_common.h>

#include "core/json.h"
#include "fwtest/api.h"

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

static void write_text(const nslab_fwtest *ft, bool coverage, FILE *out)
{
	struct tally t = count(ft);

	if (coverage)
		text_coverage(ft, out);
	fprintf(out, "\n%zu passed, %zu failed, %zu inconclusive, %zu errors", t.pass, t.fail,
		t.inconclusive, t.error);
	if (t.skipped)
		fprintf(out, ", %zu not selected", t.skipped);
	fputc('\n', out);
}

static void write_tap(const nslab_fwtest *ft, FILE *out)
{
	fprintf(out, "TAP version 13\n1..%zu\n", ft->n_results);
	for (size_t i = 0; i < ft->n_results; i++) {
		const struct fw_result *res = &ft->results[i];
		const char *log = res->log ? res->log : "";

		bool ok = res->status == FW_STATUS_PASS || res->status == FW_STATUS_SKIPPED;

		fprintf(out, "%s %zu - %s%s\n", ok ? "ok" : "not ok", i + 1,
			ft->suite->tests[i].name,
			res->status == FW_STATUS_INCONCLUSIVE ? " # inconclusive"
			: res->status == FW_STATUS_SKIPPED    ? " # SKIP not selected"
							      : "");
		for (const char *l = log; *l;) {
			const char *e = strchr(l, '\n');
			int len = e ? (int)(e - l) : (int)strlen(l);

			fprintf(out, "#%.*s\n", len, l);
			l += len + (e ? 1 : 0);
		}
	}
}

static void xml_escaped(FILE *out, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
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
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, out);
		}
}

static void write_junit(const nslab_fwtest *ft, FILE *out)
{
	struct tally t = count(ft);
	double total = 0;

	for (size_t i = 0; i < ft->n_results; i++)
		total += ft->results[i].ms;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuite name=\"");
	xml_escaped(out, ft->suite->path);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n",
		ft->n_results, t.fail + t.inconclusive, t.error, total / 1000.0);
	for (size_t i = 0; i < ft->n_results; i++) {
		const struct fw_result *res = &ft->results[i];

		fprintf(out, "  <testcase name=\"");
		xml_escaped(out, ft->suite->tests[i].name);
		fprintf(out, "\" time=\"%.3f\"", res->ms / 1000.0);
		if (res->status == FW_STATUS_SKIPPED) {
			fprintf(out, ">\n    <skipped message=\"not selected\"/>\n  </testcase>\n");
			continue;
		}
		if (res->status == FW_STATUS_PASS) {
			fprintf(out, "/>\n");
			continue;
		}
		fprintf(out, ">\n    <%s message=\"%s\">",
			res->status == FW_STATUS_ERROR ? "error" : "failure",
			res->status == FW_STATUS_INCONCLUSIVE ? "inconclusive" : "failed");
		xml_escaped(out, res->log);
		fprintf(out, "</%s>\n  </testcase>\n",
			res->status == FW_STATUS_ERROR ? "error" : "failure");
	}
	fprintf(out, "</testsuite>\n");
}

static void json_track(struct jw *w, const struct fw_track *t)
{
	char ct[64];

	jw_obj_open(w, NULL);
	jw_str(w, "kind", t->is_flow ? "flow" : "packet");
	jw_str(w, "packet", t->desc);
	jw_str(w, "verdict", t->decided ? fw_verdict_name(t->dec.verdict) : "inconclusive");
	if (t->dec.decided) {
		jw_str(w, "table", t->dec.table);
		jw_str(w, "chain", t->dec.chain);
		jw_str(w, "rule", t->dec.by_policy ? "policy" : t->dec.rule_text);
	}
	jw_bool(w, "delivered", t->dec.delivered);
	jw_str(w, "reply", fw_reply_name(t->reply == FW_REPLY_UNSET ? FW_REPLY_NONE : t->reply));
	if (t->dec.has_ct_state)
		jw_str(w, "ct_state", fw_ct_state_format(t->dec.ct_state, ct, sizeof(ct)));
	jw_str(w, "trace", t->dec.path);
	if (t->n_ct) {
		jw_obj_open(w, "conntrack");
		if (t->ct.has_tcp_state)
			jw_str(w, "state", ct_tcp_state_name(t->ct.tcp_state));
		jw_bool(w, "replied", t->ct.status & IPS_SEEN_REPLY);
		jw_bool(w, "assured", t->ct.status & IPS_ASSURED);
		jw_obj_close(w);
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

static int write_json(const nslab_fwtest *ft, bool coverage, FILE *out, nslab_error *err)
{
	struct tally t = count(ft);
	struct jw w;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "suite", ft->suite->path);
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
	jw_uint(&w, "passed", t.pass);
	jw_uint(&w, "failed", t.fail);
	jw_uint(&w, "inconclusive", t.inconclusive);
	jw_uint(&w, "errors", t.error);
	if (coverage)
		json_coverage(&w, ft->runner);
	jw_obj_close(&w);
	if (!jw_get(&w)) {
		jw_free(&w);
		return nslab_err_set(err, ENOMEM, "write the JSON report");
	}
	fprintf(out, "%s\n", jw_get(&w));
	jw_free(&w);
	return 0;
}

int nslab_fwtest_report(const nslab_fwtest *ft, enum nslab_fwtest_format format, bool coverage,
			FILE *out, nslab_error *err)
{
	int r = 0;

	switch (format) {
	case NSLAB_FWTEST_FORMAT_TEXT:
		write_text(ft, coverage, out);
		break;
	case NSLAB_FWTEST_FORMAT_TAP:
		write_tap(ft, out);
		break;
	case NSLAB_FWTEST_FORMAT_JUNIT:
		write_junit(ft, out);
		break;
	case NSLAB_FWTEST_FORMAT_JSON:
		r = write_json(ft, coverage, out, err);
		break;
	}
	if (r >= 0 && (fflush(out) != 0 || ferror(out)))
		return nslab_err_set(err, errno ? errno : EIO, "write the report");
	return r;
}
