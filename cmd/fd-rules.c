/*
 * fd-rules — evaluate a rules file over transactions and write the hits; backtest rule sets
 * on labelled transactions.  See man/fd-rules.1 and fd-rules(5).
 *
 * One pass, in time order: each transaction's features (only those the rules read) are
 * computed by fd_features, the rules evaluated by fd_rules, and either the hits written (with
 * their reasons, expanded only for hits) or the backtest counters updated.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "datafile.h"
#include "fd_backtest.h"
#include "fd_buf.h"
#include "fd_features.h"
#include "fd_io.h"
#include "fd_metrics.h"
#include "fd_reader.h"
#include "fd_rule_lists.h"
#include "fd_rules.h"
#include "fd_rules_store.h"
#include "fd_role.h"
#include "fd_store.h"
#include "fd_txnsrc.h"
#include "fd_txnstream.h"
#include "fd_verify.h"
#include "fd_writer.h"
#include "fd_txn.h"
#include "banned.h"

static const char synopsis[] =
	"usage: fd-rules [options] [FILE...]\n"
	"       fd-rules backtest [options] [--compare OTHER.rules] [FILE...]\n"
	"       fd-rules list add|remove|show [NAME [VALUE...]]   (see fd-rules list --help)\n"
	"Evaluate a rules file over transactions in time order (CSV or NDJSON, plain or zstd;\n"
	"'-' or none = stdin) and write the hits: txn_id, rule_id, points, action, reason.\n"
	"backtest: per rule and for the whole set, hits, alerts per day, TP, FP, precision, recall\n"
	"and fraud amount caught, on labelled transactions.\n"
	"\n";

enum {
	OPT_RULES = FD_OPT_TOOL_BASE, OPT_SINCE, OPT_UNTIL, OPT_COMPARE, OPT_SORT, OPT_LABEL_DELAY,
};

/* The options in the order of the usage; the groups' lines where a NULL help stands. */
static const struct fd_cli_opt opts[] = {
	{"rules", required_argument, OPT_RULES,
		"  --rules FILE        rules (default $FD_RULES, else default.rules of the tools' tree)\n"},
	{"store", required_argument, 0,
		"  --store PATH        record the hits in the store's rule_hits (not with backtest)\n"},
	{"since", required_argument, OPT_SINCE,
		"  --since T           read the store's transactions with ts >= T instead of FILEs\n"},
	{"until", required_argument, OPT_UNTIL,
		"  --until T           ... and ts < T (RFC 3339, a date, or epoch; zone of --tz)\n"},
	{"format", required_argument, FD_OPT_FORMAT,
		"  --format FMT        hits: csv or ndjson (default: the input's); backtest: table, csv, ndjson\n"},
	{"output", required_argument, 0, "  -o, --output FILE   write there (atomically) instead of stdout\n"},
	{"compare", required_argument, OPT_COMPARE,
		"  --compare FILE      backtest: the alerts that appear and disappear with these rules\n"},
	{"map", required_argument, 0, NULL},
	{"delimiter", required_argument, 0, NULL},
	{"currency", required_argument, 0, NULL},
	{"tz", required_argument, 0, NULL},
	{"dst", required_argument, 0, NULL},
	{"date-format", required_argument, 0, NULL},
	{"decimal-comma", no_argument, 0, NULL},
	{"round-amounts", no_argument, 0, NULL},
	{"amount-sign", required_argument, 0, NULL},
	{"encoding", required_argument, 0, NULL},
	{"sort", no_argument, OPT_SORT,
		"  --sort              accept input out of time order (read into memory and sorted)\n"},
	{"strict", no_argument, 0, NULL},
	{"label-delay", required_argument, OPT_LABEL_DELAY,
		"  --label-delay DAYS  labels reach the features this long after a transaction (default 7)\n"},
	{"actor", required_argument, 0, NULL},
	{"excel-safe", no_argument, 0, NULL},
	{"metrics", required_argument, 0, NULL},
	{"quiet", no_argument, 0, NULL},
	{"progress", no_argument, 0, NULL},
	{"no-progress", no_argument, 0, NULL},
	{NULL, 0, 0, NULL},
};
#define GROUPS (FD_CLI_G_STORE | FD_CLI_G_ACTOR | FD_CLI_G_OUTPUT | FD_CLI_G_EXCEL | FD_CLI_G_INPUT | \
		FD_CLI_G_STRICT | FD_CLI_G_METRICS | FD_CLI_G_PROGRESS)

#define FMT_TABLE 100           /* backtest --format table (beside FD_FMT_CSV/NDJSON) */
#define PROGRESS_EVERY 65536

/* A loaded rule set and what a run counted for it. */
struct ruleset {
	char *path;
	char sha[65];               /* SHA-256 of the file's bytes: the ruleset id */
	struct fd_rules *r;
	size_t n;                   /* rules */
	struct fd_rule_hit *hits;   /* n entries, for fd_rules_eval */
	int64_t *per_rule;          /* hits per rule */
	int64_t hits_total, alerts; /* hits, transactions with at least one */
	struct fd_backtest *bt;
};

struct run {
	struct fd_cli cli;
	int backtest;
	int out_format;             /* asked for: FD_FMT_AUTO/CSV/NDJSON or FMT_TABLE */
	struct ruleset base, other; /* other: --compare */
	int compare;
	struct fd_features *fe;
	double *all;                /* the catalog-indexed feature vector */
	struct fd_out *out;         /* stdout */
	struct fd_writer *w;        /* hits */
	struct fd_buf reason;
	/* store */
	struct fd_store *st;
	int recording;              /* --store given: hits go to rule_hits */
	struct fd_rules_store *rec; /* the run being recorded */
	int64_t new_rows;           /* hits it added */
	/* counts */
	int64_t txns, bad, warm;
	struct fd_backtest_changes chg; /* --compare: alerts of one rule set only */
};

/* ---- small helpers -------------------------------------------------------------------- */

static int oom(struct fd_err *err)
{
	return fd_err_set(err, FD_EIO, "out of memory");
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* Read, hash and compile a rules file. */
static int ruleset_load(struct ruleset *rs, const char *path, const struct fd_rules_opts *o, struct fd_err *err)
{
	int rc;

	if (!(rs->path = xstrdup(path)))
		return oom(err);
	if ((rc = fd_rules_load_sha(&rs->r, path, o, rs->sha, err)))
		return rc;
	rs->n = fd_rules_count(rs->r);
	rs->hits = calloc(rs->n + 1, sizeof(*rs->hits));
	rs->per_rule = calloc(rs->n + 1, sizeof(*rs->per_rule));
	if (!rs->hits || !rs->per_rule)
		return oom(err);
	return FD_OK;
}

static void ruleset_release(struct ruleset *rs)
{
	fd_rules_free(rs->r);
	fd_backtest_free(rs->bt);
	free(rs->hits);
	free(rs->per_rule);
	free(rs->path);
	memset(rs, 0, sizeof(*rs));
}

/* ---- per transaction ------------------------------------------------------------------ */

static const char *const hit_cols[] = {"txn_id", "rule_id", "points", "action", "reason"};

static int write_hits(struct run *run, const struct fd_txn *t, size_t n, struct fd_err *err)
{
	struct ruleset *rs = &run->base;
	size_t k;
	int rc;

	for (k = 0; k < n; k++) {
		const struct fd_rule_hit *h = &rs->hits[k];

		fd_buf_reset(&run->reason);
		if ((rc = fd_rules_reason(rs->r, h->rule, t, run->all, &run->reason, err)))
			return rc;
		fd_writer_begin(run->w);
		fd_writer_cstr(run->w, t->txn_id);
		fd_writer_cstr(run->w, fd_rules_id(rs->r, h->rule));
		fd_writer_i64(run->w, h->points);
		fd_writer_cstr(run->w, fd_rule_action_name(h->action));
		fd_writer_str(run->w, run->reason.s ? run->reason.s : "", run->reason.len);
		fd_writer_end(run->w);
		if (run->rec) {
			struct fd_rules_store_hit sh = {t->txn_id, fd_rules_id(rs->r, h->rule), h->points,
							fd_rule_action_name(h->action), run->reason.s, run->reason.len};

			if ((rc = fd_rules_store_add(run->rec, &sh, err)))
				return rc;
		}
	}
	return FD_OK;
}

static int evaluate(struct run *run, const struct fd_txn *t, struct fd_err *err)
{
	struct ruleset *b = &run->base, *o = &run->other;
	size_t n, n2 = 0, k;
	int rc;

	if ((rc = fd_features_push(run->fe, t, NULL, run->all, err)))
		return rc;
	run->txns++;
	n = fd_rules_eval(b->r, t, run->all, b->hits);
	if (n) {
		b->alerts++;
		b->hits_total += (int64_t)n;
		for (k = 0; k < n; k++)
			b->per_rule[b->hits[k].rule]++;
	}
	if (!run->backtest)
		return n ? write_hits(run, t, n, err) : FD_OK;
	if ((rc = fd_backtest_add(b->bt, t, b->hits, n, err)))
		return rc;
	if (!run->compare)
		return FD_OK;
	n2 = fd_rules_eval(o->r, t, run->all, o->hits);
	if (n2) {
		o->alerts++;
		o->hits_total += (int64_t)n2;
		for (k = 0; k < n2; k++)
			o->per_rule[o->hits[k].rule]++;
	}
	if ((rc = fd_backtest_add(o->bt, t, o->hits, n2, err)))
		return rc;
	return fd_backtest_changes_add(&run->chg, t, b->r, b->hits, n, o->r, o->hits, n2, err);
}

/* ---- backtest reports ----------------------------------------------------------------- */

static const char *label_word(int label)
{
	return label == 1 ? "fraud" : label == 0 ? "legitimate" : "unlabelled";
}

static void fixed_or_na(struct fd_buf *b, double v, int decimals)
{
	if (isnan(v))
		fd_buf_adds(b, "n/a");
	else
		fd_buf_addf(b, "%.*f", decimals, v);
}

/* A text table of ncols columns, cells added row by row: the first column left-aligned, the
 * others right-aligned, but the last left-aligned when last_left. */
#define TMAXCOLS 8
struct table {
	size_t ncols;
	int last_left;
	struct fd_buf *cell;
	size_t n, cap;
	int bad;                    /* out of memory on the way */
};

static void table_add(struct table *t, struct fd_buf *b)
{
	if (fd_buf_failed(b) || (!b->s && fd_buf_grow(b, 1)))
		t->bad = 1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct fd_buf *p = realloc(t->cell, cap * sizeof(*p));

		if (!p) {
			t->bad = 1;
			fd_buf_release(b);
			return;
		}
		t->cell = p;
		t->cap = cap;
	}
	t->cell[t->n++] = *b;
	fd_buf_init(b);
}

static void table_adds(struct table *t, const char *s)
{
	struct fd_buf b = FD_BUF_INIT;

	if (fd_buf_adds(&b, s))
		t->bad = 1;
	table_add(t, &b);
}

/* Print (when complete) and free; FD_EIO when out of memory. */
static int table_print(struct fd_out *out, struct table *t, struct fd_err *err)
{
	size_t wid[TMAXCOLS] = {0}, i, c, nc = t->ncols;
	int rc = FD_OK;

	if (t->bad || t->n % nc)
		rc = oom(err);
	for (i = 0; !rc && i < t->n; i++)
		if (t->cell[i].len > wid[i % nc])
			wid[i % nc] = t->cell[i].len;
	for (i = 0; !rc && i < t->n; i += nc) {
		for (c = 0; c < nc; c++) {
			const char *s = t->cell[i + c].s;

			if (c == 0)
				fd_out_printf(out, "%-*s", (int)wid[c], s);
			else if (c == nc - 1 && t->last_left)
				fd_out_printf(out, "  %s", s);
			else
				fd_out_printf(out, "  %*s", (int)wid[c], s);
		}
		fd_out_puts(out, "\n");
	}
	for (i = 0; i < t->n; i++)
		fd_buf_release(&t->cell[i]);
	free(t->cell);
	memset(t, 0, sizeof(*t));
	return rc;
}

static void table_row(struct table *t, const char *name, const struct fd_backtest_row *r)
{
	struct fd_buf b = FD_BUF_INIT;

	table_adds(t, name);
	fd_buf_add_i64(&b, r->hits);
	table_add(t, &b);
	fixed_or_na(&b, r->alerts_per_day, 2);
	table_add(t, &b);
	fd_buf_add_i64(&b, r->tp);
	table_add(t, &b);
	fd_buf_add_i64(&b, r->fp);
	table_add(t, &b);
	fixed_or_na(&b, r->precision, 3);
	table_add(t, &b);
	fixed_or_na(&b, r->recall, 3);
	table_add(t, &b);
	fd_money_text(r->caught, r->ncaught, &b);
	table_add(t, &b);
}

/* The per-rule table of one rule set, with its "all rules" row. */
static int print_rule_table(struct run *run, const struct ruleset *rs, struct fd_err *err)
{
	static const char *const head[] = {"rule", "hits", "alerts/day", "TP", "FP", "precision", "recall",
					   "fraud caught"};
	struct table t = {8, 1, NULL, 0, 0, 0};
	struct fd_backtest_row row;
	size_t i;

	for (i = 0; i < t.ncols; i++)
		table_adds(&t, head[i]);
	for (i = 0; i < rs->n; i++) {
		fd_backtest_row(rs->bt, i, &row);
		table_row(&t, fd_rules_id(rs->r, i), &row);
	}
	fd_backtest_row(rs->bt, FD_BACKTEST_ALL, &row);
	table_row(&t, "all rules", &row);
	return table_print(run->out, &t, err);
}

/* "a -> b" of a figure of a rule in the base set (x, NULL when it has no such rule) and in
 * the other (y). */
static void cell_change(struct table *t, const struct fd_backtest_row *x, const struct fd_backtest_row *y,
			int what)
{
	struct fd_buf b = FD_BUF_INIT;
	const struct fd_backtest_row *r[2] = {x, y};
	int k;

	for (k = 0; k < 2; k++) {
		if (k)
			fd_buf_adds(&b, " -> ");
		if (!r[k])
			fd_buf_addc(&b, '-');
		else if (what < 3)
			fd_buf_add_i64(&b, what == 0 ? r[k]->hits : what == 1 ? r[k]->tp : r[k]->fp);
		else
			fixed_or_na(&b, what == 3 ? r[k]->precision : r[k]->recall, 3);
	}
	table_add(t, &b);
}

/* The rules of the two sets matched by id: how each rule's figures change. */
static int print_rule_changes(struct run *run, struct fd_err *err)
{
	static const char *const head[] = {"rule", "in", "hits", "TP", "FP", "precision", "recall"};
	const struct ruleset *b = &run->base, *o = &run->other;
	struct table t = {7, 0, NULL, 0, 0, 0};
	struct fd_backtest_row x, y;
	size_t i, w;

	for (i = 0; i < t.ncols; i++)
		table_adds(&t, head[i]);
	for (i = 0; i < b->n + o->n; i++) {
		const char *id;
		long j;

		if (i < b->n) {
			id = fd_rules_id(b->r, i);
			j = fd_rules_find(o->r, id);
			fd_backtest_row(b->bt, i, &x);
			if (j >= 0)
				fd_backtest_row(o->bt, (size_t)j, &y);
		} else {
			id = fd_rules_id(o->r, i - b->n);
			if (fd_rules_find(b->r, id) >= 0)
				continue;  /* shown with the base's */
			j = (long)(i - b->n);
			fd_backtest_row(o->bt, (size_t)j, &y);
		}
		table_adds(&t, id);
		table_adds(&t, i >= b->n ? "other" : j >= 0 ? "both" : "base");
		for (w = 0; w < 5; w++)
			cell_change(&t, i < b->n ? &x : NULL, j >= 0 ? &y : NULL, (int)w);
	}
	return table_print(run->out, &t, err);
}

static void describe_rules(struct run *run, const char *what, const struct ruleset *rs)
{
	fd_out_printf(run->out, "%s: %s (%zu rule%s, sha256 %s)\n", what, rs->path, rs->n, rs->n == 1 ? "" : "s",
		      rs->sha);
}

/* "data: N transactions on D days (first to last); L labelled: F fraud (amount), G legitimate" */
static int describe_data(const struct ruleset *rs, struct fd_buf *b)
{
	struct fd_backtest_totals tot;
	char a[FD_TS_BUFSZ], z[FD_TS_BUFSZ];

	fd_backtest_totals(rs->bt, &tot);
	fd_format_ts(tot.first_ts, a);
	fd_format_ts(tot.last_ts, z);
	fd_buf_addf(b, "%lld transaction%s on %lld day%s (%.10s to %.10s); %lld labelled: %lld fraud (",
		    (long long)tot.transactions, tot.transactions == 1 ? "" : "s", (long long)tot.days,
		    tot.days == 1 ? "" : "s", a, z, (long long)tot.labelled, (long long)tot.fraud);
	fd_money_text(tot.fraud_amount, tot.nfraud_amount, b);
	return fd_buf_addf(b, "), %lld legitimate; %lld unlabelled", (long long)tot.legit,
			   (long long)(tot.transactions - tot.labelled));
}

/* "alerts 5 -> 6 (+1), TP ..., precision 0.600 -> 0.667 (+0.067), recall ..." */
static void describe_change(const struct ruleset *b, const struct ruleset *o, struct fd_buf *out)
{
	struct fd_backtest_row x, y;
	const char *name[2] = {"precision", "recall"};
	double v[2][2];
	int i;

	fd_backtest_row(b->bt, FD_BACKTEST_ALL, &x);
	fd_backtest_row(o->bt, FD_BACKTEST_ALL, &y);
	fd_buf_addf(out, "alerts %lld -> %lld (%+lld), TP %lld -> %lld (%+lld), FP %lld -> %lld (%+lld)",
		    (long long)x.hits, (long long)y.hits, (long long)(y.hits - x.hits), (long long)x.tp,
		    (long long)y.tp, (long long)(y.tp - x.tp), (long long)x.fp, (long long)y.fp,
		    (long long)(y.fp - x.fp));
	v[0][0] = x.precision;
	v[0][1] = y.precision;
	v[1][0] = x.recall;
	v[1][1] = y.recall;
	for (i = 0; i < 2; i++) {
		fd_buf_addf(out, ", %s ", name[i]);
		fixed_or_na(out, v[i][0], 3);
		fd_buf_adds(out, " -> ");
		fixed_or_na(out, v[i][1], 3);
		if (!isnan(v[i][0]) && !isnan(v[i][1])) {
			/* the difference of the rounded figures, so that the line adds up */
			double d = round(v[i][1] * 1000) / 1000 - round(v[i][0] * 1000) / 1000;

			fd_buf_addf(out, " (%+.3f)", d == 0 ? 0.0 : d);
		}
	}
	fd_buf_addf(out, "; fraud caught ");
	fd_money_text(x.caught, x.ncaught, out);
	fd_buf_adds(out, " -> ");
	fd_money_text(y.caught, y.ncaught, out);
}

static void print_changes(struct run *run, int appears)
{
	char amt[FD_AMOUNT_BUFSZ];
	size_t i, k = 0, wid = 0, awid = 0;

	for (i = 0; i < run->chg.n; i++)
		if (run->chg.v[i].appears == appears) {
			size_t l = strlen(run->chg.v[i].txn_id), a;

			k++;
			wid = l > wid ? l : wid;
			a = strlen(fd_format_amount(run->chg.v[i].amount, run->chg.v[i].exponent, amt));
			awid = a > awid ? a : awid;
		}
	if (appears)
		fd_out_printf(run->out, "alerts that appear (only %s flags them): %zu\n", run->other.path, k);
	else
		fd_out_printf(run->out, "alerts that disappear (only %s flags them): %zu\n", run->base.path, k);
	for (i = 0; i < run->chg.n; i++) {
		const struct fd_backtest_change *c = &run->chg.v[i];
		char ts[FD_TS_BUFSZ];

		if (c->appears != appears)
			continue;
		fd_out_printf(run->out, "  %-*s  %s  %-10s  %*s %s  %s\n", (int)wid, c->txn_id, fd_format_ts(c->ts, ts),
			      label_word(c->label), (int)awid, fd_format_amount(c->amount, c->exponent, amt), c->currency,
			      c->rules);
	}
}

static int report_table(struct run *run, struct fd_err *err)
{
	struct fd_buf b = FD_BUF_INIT;
	int rc;

	describe_rules(run, "rules", &run->base);
	if (describe_data(&run->base, &b)) {
		fd_buf_release(&b);
		return oom(err);
	}
	fd_out_printf(run->out, "data: %s\n\n", b.s);
	if ((rc = print_rule_table(run, &run->base, err)))
		goto out;
	if (run->compare) {
		fd_out_puts(run->out, "\n");
		describe_rules(run, "compared with", &run->other);
		fd_out_puts(run->out, "\n");
		if ((rc = print_rule_table(run, &run->other, err)))
			goto out;
		fd_out_puts(run->out, "\nrules matched by id (base -> other):\n");
		if ((rc = print_rule_changes(run, err)))
			goto out;
		fd_out_puts(run->out, "\n");
		print_changes(run, 1);
		print_changes(run, 0);
		fd_buf_reset(&b);
		describe_change(&run->base, &run->other, &b);
		if (!b.s || fd_buf_failed(&b)) {
			rc = oom(err);
			goto out;
		}
		fd_out_printf(run->out, "change: %s\n", b.s);
	}
out:
	fd_buf_release(&b);
	return rc;
}

static const char *const bt_cols[] = {"rule", "hits", "alerts_per_day", "tp", "fp", "unlabelled",
				      "precision", "recall", "fraud_caught"};
static const char *const chg_cols[] = {"txn_id", "ts", "change", "label", "amount", "currency", "rules"};

static void write_bt_row(struct run *run, struct fd_writer *w, const char *name, const struct fd_backtest_row *r,
			 int fmt)
{
	fd_writer_begin(w);
	fd_writer_cstr(w, name);
	fd_writer_i64(w, r->hits);
	fd_writer_f64(w, r->alerts_per_day);
	fd_writer_i64(w, r->tp);
	fd_writer_i64(w, r->fp);
	fd_writer_i64(w, r->unlabelled);
	fd_writer_f64(w, r->precision);
	fd_writer_f64(w, r->recall);
	fd_buf_reset(&run->reason);
	if (fmt == FD_FMT_NDJSON) {
		fd_money_json(r->caught, r->ncaught, &run->reason);
		fd_writer_json(w, run->reason.s, run->reason.len);
	} else {
		fd_money_text(r->caught, r->ncaught, &run->reason);
		fd_writer_str(w, run->reason.s, run->reason.len);
	}
	fd_writer_end(w);
}

/* Backtest as CSV/NDJSON: the per-rule rows, or with --compare the changed alerts. */
static int report_records(struct run *run, int fmt, struct fd_err *err)
{
	struct fd_writer *w;
	struct fd_backtest_row row;
	size_t i;

	if (run->compare)
		w = fd_writer_create(run->out, fmt, chg_cols, sizeof(chg_cols) / sizeof(chg_cols[0]));
	else
		w = fd_writer_create(run->out, fmt, bt_cols, sizeof(bt_cols) / sizeof(bt_cols[0]));
	if (!w)
		return oom(err);
	fd_writer_excel_safe(w, run->cli.excel_safe);
	if (run->compare) {
		int pass;

		for (pass = 1; pass >= 0; pass--)
			for (i = 0; i < run->chg.n; i++) {
				const struct fd_backtest_change *c = &run->chg.v[i];

				if (c->appears != pass)
					continue;
				fd_writer_begin(w);
				fd_writer_cstr(w, c->txn_id);
				fd_writer_ts(w, c->ts);
				fd_writer_cstr(w, c->appears ? "appears" : "disappears");
				if (c->label >= 0)
					fd_writer_i64(w, c->label);
				else
					fd_writer_null(w);
				fd_writer_amount(w, c->amount, c->exponent);
				fd_writer_cstr(w, c->currency);
				fd_writer_cstr(w, c->rules);
				fd_writer_end(w);
			}
	} else {
		for (i = 0; i < run->base.n; i++) {
			fd_backtest_row(run->base.bt, i, &row);
			write_bt_row(run, w, fd_rules_id(run->base.r, i), &row, fmt);
		}
		fd_backtest_row(run->base.bt, FD_BACKTEST_ALL, &row);
		write_bt_row(run, w, "all rules", &row, fmt);
	}
	fd_writer_free(w);
	/* the money cells were built in run->reason, whose error is sticky: a cut one fails the run */
	if (fd_buf_failed(&run->reason))
		return oom(err);
	return FD_OK;
}

/* ---- metrics -------------------------------------------------------------------------- */

static void add_metrics(struct run *run, struct fd_metrics *m, double dur)
{
	struct fd_buf lab = FD_BUF_INIT;
	size_t i;

	fd_metrics_add(m, "fd_rules_transactions_total", "counter", "Transactions evaluated.", NULL, (double)run->txns);
	fd_metrics_add(m, "fd_rules_bad_records_total", "counter", "Records skipped as not valid transactions.", NULL,
		       (double)run->bad);
	fd_metrics_add(m, "fd_rules_alerts_total", "counter", "Transactions hit by at least one rule.", NULL,
		       (double)run->base.alerts);
	for (i = 0; i < run->base.n; i++) {
		fd_buf_reset(&lab);
		fd_buf_addf(&lab, "rule=\"%s\"", fd_rules_id(run->base.r, i));
		if (lab.s && !fd_buf_failed(&lab))
			fd_metrics_add(m, "fd_rules_hits_total", "counter", "Hits, by rule.", lab.s,
				       (double)run->base.per_rule[i]);
	}
	if (run->recording)
		fd_metrics_add(m, "fd_rules_hits_recorded_total", "counter", "Hits newly recorded in rule_hits.", NULL,
			       (double)run->new_rows);
	if (run->backtest && run->base.bt) {
		struct fd_backtest_row row;
		int pass;

		/* each metric's samples together, as the exposition format wants */
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i <= run->base.n; i++) {
				double v;

				fd_backtest_row(run->base.bt, i < run->base.n ? i : FD_BACKTEST_ALL, &row);
				v = pass ? row.recall : row.precision;
				fd_buf_reset(&lab);
				fd_buf_addf(&lab, "rule=\"%s\"", i < run->base.n ? fd_rules_id(run->base.r, i) : "all rules");
				if (!lab.s || fd_buf_failed(&lab) || isnan(v))
					continue;
				if (pass)
					fd_metrics_add(m, "fd_rules_backtest_recall", "gauge",
						       "Backtest recall, by rule (\"all rules\": the whole set).", lab.s, v);
				else
					fd_metrics_add(m, "fd_rules_backtest_precision", "gauge",
						       "Backtest precision, by rule (\"all rules\": the whole set).", lab.s, v);
			}
	}
	fd_metrics_add(m, "fd_rules_records_per_second", "gauge", "Transactions evaluated per second.", NULL,
		       dur > 0 ? (double)run->txns / dur : 0);
	fd_buf_release(&lab);
}

/* ---- main ----------------------------------------------------------------------------- */

/* ---- fd-rules list: named lists in the store ------------------------------------------- */

static const char list_synopsis[] =
	"usage: fd-rules list add NAME [VALUE...] [--from FILE]\n"
	"       fd-rules list remove NAME [VALUE...]\n"
	"       fd-rules list show [NAME] [-o FILE]\n"
	"Named lists in the store, for rules that say 'x in list NAME': add values (creating the\n"
	"list), remove values (or, with none, the whole list), show the lists or one list's values.\n"
	"\n";

enum { OPT_FROM = FD_OPT_TOOL_BASE + 100 };

static const struct fd_cli_opt list_opts[] = {
	{"from", required_argument, OPT_FROM,
		"  --from FILE         add: the values of a list file too (one a line, '#' comments)\n"},
	{"store", required_argument, 0, "  --store PATH        the store (default $FD_STORE, else ./fd.db)\n"},
	{"actor", required_argument, 0, NULL},
	{"format", required_argument, 0, "  --format FMT        show: csv or ndjson (default csv)\n"},
	{"output", required_argument, 0, "  -o, --output FILE   show: write there (atomically) instead of stdout\n"},
	{NULL, 0, 0, NULL},
};

static const char *const list_cols[] = {"name", "values", "created_by", "created_at"};
static const char *const value_cols[] = {"value", "added_by", "added_at"};

static int show_row(void *ctx, const struct fd_rule_list_row *row)
{
	struct fd_writer *w = ctx;

	fd_writer_begin(w);
	if (row->value) {
		fd_writer_cstr(w, row->value);
		fd_writer_cstr(w, row->by);
		fd_writer_ts(w, row->at);
	} else {
		fd_writer_cstr(w, row->name);
		fd_writer_i64(w, row->values);
		fd_writer_cstr(w, row->by);
		fd_writer_ts(w, row->at);
	}
	fd_writer_end(w);
	return FD_OK;
}

static int list_main(int argc, char **argv)
{
	struct fd_cli cli;
	struct fd_err err = {0};
	struct fd_store *st = NULL;
	struct fd_out *out = NULL;
	struct fd_writer *w = NULL;
	struct fd_buf text = FD_BUF_INIT, what = FD_BUF_INIT;
	const char *from = NULL, *verb, *name = NULL, *output = NULL;
	struct fd_rule_values values = FD_RULE_VALUES_INIT;
	int c, rc = FD_OK, i, nargs;
	int64_t count = 0, seq = 0;

	fd_cli_setup(&cli, "fd-rules", list_synopsis, FD_CLI_G_STORE | FD_CLI_G_ACTOR | FD_CLI_G_FORMAT | FD_CLI_G_OUTPUT,
		     list_opts);
	while ((c = fd_cli_getopt(&cli, argc, argv)) != -1)
		if (c == OPT_FROM)
			from = optarg;
	output = cli.output;
	fd_cli_finish(&cli);
	nargs = argc - optind;
	if (nargs < 1)
		fd_cli_usage_error(&cli, "list needs add, remove or show");
	verb = argv[optind];
	if (strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0 && strcmp(verb, "show") != 0)
		fd_cli_usage_error(&cli, "list takes add, remove or show, not '%s'", verb);
	if (nargs >= 2)
		name = argv[optind + 1];
	if (!name && strcmp(verb, "show") != 0)
		fd_cli_usage_error(&cli, "list %s needs the name of a list", verb);
	if (strcmp(verb, "show") == 0 && nargs > 2)
		fd_cli_usage_error(&cli, "list show takes one name at most");
	if (from && strcmp(verb, "add") != 0)
		fd_cli_usage_error(&cli, "--from belongs to list add");
	if (cli.format != FD_FMT_AUTO && strcmp(verb, "show") != 0)
		fd_cli_usage_error(&cli, "--format belongs to list show");
	if (output && strcmp(verb, "show") != 0)
		fd_cli_usage_error(&cli, "-o belongs to list show");
	if (name) {
		const char *why = fd_rule_list_name_check(name);

		if (why) {
			char vis[128];

			fd_cli_usage_error(&cli, "bad list name '%s': %s", fd_visible(vis, sizeof(vis), name, strlen(name)), why);
		}
	}
	for (i = optind + 2; i < argc; i++) {
		const char *why = fd_rule_list_value_check(argv[i]);

		if (why) {
			char vis[128];

			fd_cli_usage_error(&cli, "bad value '%s': %s", fd_visible(vis, sizeof(vis), argv[i], strlen(argv[i])), why);
		}
		if ((rc = fd_rule_values_add(&values, argv[i], &err)))
			goto fail;
	}
	if (from && (rc = fd_rule_values_read_file(&values, from, &text, &err)))
		goto fail;

	if (strcmp(verb, "show") == 0) {
		struct fd_who who = {cli.actor, "fd-rules", FD_VERSION};
		int fmt = cli.format != FD_FMT_AUTO ? cli.format : FD_FMT_CSV;

		if ((output && (rc = fd_out_check(output, &err))) ||
		    (rc = fd_store_open(&st, cli.store, FD_STORE_READONLY, &who, &err)) ||
		    (rc = fd_out_open(&out, output, NULL, &err)))
			goto fail;
		if (!(w = fd_writer_create(out, fmt, name ? value_cols : list_cols, name ? 3 : 4))) {
			rc = oom(&err);
			goto fail;
		}
		if ((rc = fd_rule_lists_show(st, name, show_row, w, &err)))
			goto fail;
		fd_writer_free(w);
		w = NULL;
		if ((rc = fd_out_commit(out, &err)))
			goto fail;
		out = NULL;
	} else {
		struct fd_who who = {cli.actor, "fd-rules", FD_VERSION};
		int add = strcmp(verb, "add") == 0, created = 0;

		if (fd_buf_addf(&what, "rule list %s", name)) {
			rc = oom(&err);
			goto fail;
		}
		if ((rc = fd_store_open(&st, cli.store, add ? FD_STORE_CREATE : 0, &who, &err)) ||
		    (rc = fd_role_authorize(st, FD_ACT_RULES, what.s, &err)))
			goto fail;
		if (add)
			rc = fd_rule_lists_add(st, name, values.v, values.n, &count, &created, &seq, &err);
		else
			rc = fd_rule_lists_remove(st, name, values.v, values.n, &count, &seq, &err);
		if (rc)
			goto fail;
		if (!cli.quiet) {
			if (add && !seq)
				fd_cli_msg(&cli, "%s: list '%s': nothing new, every value already in it", fd_store_path(st), name);
			else if (add)
				fd_cli_msg(&cli, "%s: list '%s'%s: %lld value%s added (audit entry %lld)", fd_store_path(st), name,
					   created ? " created" : "", (long long)count, count == 1 ? "" : "s", (long long)seq);
			else
				fd_cli_msg(&cli, "%s: list '%s'%s: %lld value%s removed (audit entry %lld)", fd_store_path(st),
					   name, values.n ? "" : " removed whole", (long long)count, count == 1 ? "" : "s",
					   (long long)seq);
		}
	}
	goto out;
fail:
	rc = fd_cli_report(&cli, &err);
out:
	fd_writer_free(w);
	fd_out_abort(out);
	fd_store_close(st);
	fd_rule_values_release(&values);
	fd_buf_release(&text);
	fd_buf_release(&what);
	{
		int r2 = fd_cli_close_stdout(&cli);

		if (!rc)
			rc = r2;
	}
	return rc;
}

/* ---- fd-rules and fd-rules backtest ---------------------------------------------------- */

/* The command line, parsed and checked. */
struct args {
	const char *rules, *compare, *map, *tz, *currency, *output;
	char delim;
	int sort, strict;
	int store_opt;              /* --store itself, before $FD_STORE is looked at */
	int store_input;            /* --since or --until: the store's transactions */
	int tz_min;
	int64_t since, until;
	double label_delay;
	char **inputs;              /* FILE... */
	int ninputs;
	struct fd_feat_opts fo;
};

/* Parse and check the options (a usage error exits 2). */
static void parse_args(struct run *run, struct args *a, int argc, char **argv)
{
	const char *since_arg = NULL, *until_arg = NULL, *fmt_arg = NULL;
	int c, i;

	while ((c = fd_cli_getopt(&run->cli, argc, argv)) != -1) {
		switch (c) {
		case OPT_RULES: a->rules = optarg; break;
		case OPT_SINCE: since_arg = optarg; break;
		case OPT_UNTIL: until_arg = optarg; break;
		case OPT_COMPARE: a->compare = optarg; break;
		case OPT_SORT: a->sort = 1; break;
		case OPT_LABEL_DELAY:
			a->label_delay = fd_cli_double(&run->cli, "--label-delay", optarg, 0, 3650);
			break;
		case FD_OPT_FORMAT: fmt_arg = optarg; break;
		}
	}
	a->output = run->cli.output;
	a->map = run->cli.map_spec;
	a->delim = run->cli.delimiter;
	a->tz = run->cli.tz;
	a->currency = run->cli.currency;  /* checked by the input group */
	a->strict = run->cli.strict;
	a->store_opt = run->cli.store != NULL;
	fd_cli_finish(&run->cli);
	fd_cli_inputs(&run->cli, argc - optind, argv + optind);
	fd_cli_inputs(&run->cli, 3, (char *const[]){(char *)a->rules, (char *)a->map, (char *)a->compare});
	a->inputs = argv + optind;
	a->ninputs = argc - optind;

	if (fmt_arg) {
		if (run->backtest && strcmp(fmt_arg, "table") == 0)
			run->out_format = FMT_TABLE;
		else if ((run->out_format = fd_format_parse(fmt_arg)) < 0)
			fd_cli_usage_error(&run->cli, "--format must be %s, not '%s'",
					   run->backtest ? "table, csv or ndjson" : "csv or ndjson", fmt_arg);
	} else
		run->out_format = run->backtest ? FMT_TABLE : FD_FMT_AUTO;
	fd_cli_input_tz(&run->cli, a->tz, &a->tz_min);
	if (since_arg)
		a->since = fd_cli_time(&run->cli, "--since", since_arg, a->tz_min);
	if (until_arg)
		a->until = fd_cli_time(&run->cli, "--until", until_arg, a->tz_min);
	if (since_arg && until_arg && a->until <= a->since)
		fd_cli_usage_error(&run->cli, "--until must be later than --since");
	a->store_input = since_arg || until_arg;
	if (!a->store_input)  /* local_hour on the export's clock (the store's records are UTC) */
		fd_cli_feat_zone(&run->cli, a->tz_min, &a->fo);
	if (a->store_input && a->ninputs)
		fd_cli_usage_error(&run->cli, "--since and --until read the store's transactions: give no FILE");
	if (a->store_input && a->sort)
		fd_cli_usage_error(&run->cli, "--sort is for FILEs: the store is read in time order");
	if (a->compare && !run->backtest)
		fd_cli_usage_error(&run->cli, "--compare belongs to fd-rules backtest");
	if (run->backtest && a->store_opt && !a->store_input)
		fd_cli_usage_error(&run->cli, "backtest records nothing: --store reads the store only with --since or --until");
	for (i = 0; i < a->ninputs; i++)
		if (strcmp(a->inputs[i], "-") == 0) {
			int j;

			for (j = i + 1; j < a->ninputs; j++)
				if (strcmp(a->inputs[j], "-") == 0)
					fd_cli_usage_error(&run->cli, "standard input ('-') given twice");
		}
}

/* What main() holds besides the run: the rules' helpers and the input. */
struct setup {
	char *rules_found, *list_dir;
	struct fd_who lwho;
	struct fd_rule_lists_src lsrc;
	struct fd_colmap *map;
	struct fd_metrics *metrics;
	struct fd_txnsrc *src;
};

/* Load the rules (and --compare's), and make the features they read. */
static int load_rules(struct run *run, struct args *a, struct setup *su, const char *argv0, struct fd_err *err)
{
	struct fd_rules_opts ropts;
	size_t nfeat;
	const struct fd_feat_def *defs;
	const int *idx;
	size_t nidx;
	int rc;

	if (!a->rules) {
		if (!(a->rules = su->rules_found = fd_datafile_find(argv0, "FD_RULES", "rules/default.rules", "rules file",
								    "--rules", err)))
			return FD_EIO;
		fd_cli_inputs(&run->cli, 1, &su->rules_found);
	}
	su->lwho.actor = run->cli.actor;
	su->lwho.tool = "fd-rules";
	su->lwho.version = FD_VERSION;
	su->lsrc.store = run->cli.store;
	su->lsrc.who = &su->lwho;
	memset(&ropts, 0, sizeof(ropts));
	ropts.list_dir = su->list_dir = fd_datafile_dir(argv0, "rules/default.rules");
	ropts.get_lists = fd_rule_lists_get;
	ropts.arg = &su->lsrc;
	if ((rc = ruleset_load(&run->base, a->rules, &ropts, err)))
		return rc;
	if (a->compare) {
		run->compare = 1;
		if ((rc = ruleset_load(&run->other, a->compare, &ropts, err)))
			return rc;
	}
	a->fo.label_delay_ms = llround(a->label_delay * (double)FD_DAY_MS);
	if ((rc = fd_features_create(&run->fe, &a->fo, err)))
		return rc;
	nidx = fd_rules_features(run->base.r, &idx);
	if ((rc = fd_features_select_idx(run->fe, idx, nidx, 0, err)))
		return rc;
	if (run->compare) {
		nidx = fd_rules_features(run->other.r, &idx);
		if ((rc = fd_features_select_idx(run->fe, idx, nidx, 1, err)))
			return rc;
	}
	nfeat = fd_feat_catalog(&defs);
	if (!(run->all = malloc(nfeat * sizeof(double))))
		return oom(err);
	if (run->backtest) {
		if ((rc = fd_backtest_create(&run->base.bt, run->base.n, err)) ||
		    (run->compare && (rc = fd_backtest_create(&run->other.bt, run->other.n, err))))
			return rc;
	}
	return FD_OK;
}

/* Open the store (to read from and to record in), the transactions and the output. */
static int open_io(struct run *run, const struct args *a, struct setup *su, struct fd_err *err)
{
	struct fd_txnsrc_opts src_o;
	int rc;

	/* -o naming a protected file is refused before anything is recorded */
	if (a->output && (rc = fd_out_check(a->output, err)))
		return rc;
	run->recording = a->store_opt && !run->backtest;
	if (a->store_input || run->recording) {
		struct fd_who who = {run->cli.actor, "fd-rules", FD_VERSION};
		int flags = !run->recording ? FD_STORE_READONLY : a->store_input ? 0 : FD_STORE_CREATE;

		if ((rc = fd_store_open(&run->st, run->cli.store, flags, &who, err)))
			return rc;
		if (run->recording && ((rc = fd_role_authorize(run->st, FD_ACT_RULES, a->rules, err)) ||
				       (rc = fd_rules_store_begin(&run->rec, run->st, run->base.sha, run->base.path,
								  fd_wall_ms(), err))))
			return rc;
	}
	memset(&src_o, 0, sizeof(src_o));
	src_o.stream.format = FD_FMT_AUTO;
	src_o.stream.delimiter = a->delim;
	src_o.stream.tz_offset_min = a->tz_min;
	src_o.stream.currency = a->currency;
	src_o.stream.map = su->map;
	fd_cli_input_apply(&run->cli, &src_o.stream);
	src_o.paths = (const char *const *)a->inputs;
	src_o.npaths = (size_t)a->ninputs;
	/* the other columns are read only for rules that read metadata.NAME */
	src_o.stream.no_metadata = !fd_rules_uses_metadata(run->base.r) &&
				   !(run->compare && fd_rules_uses_metadata(run->other.r));
	src_o.sort = a->sort;
	if (a->store_input) {
		src_o.store = run->st;
		src_o.since = a->since;
		src_o.until = a->until;
		src_o.warm_ms = -1;  /* all earlier history: see fd_txnsrc.h */
	}
	if ((rc = fd_txnsrc_open(&su->src, &src_o, err)))
		return rc;
	return fd_out_open(&run->out, a->output, NULL, err);
}

/* The hits' writer, in the format asked for, else the input's. */
static int hits_writer(struct run *run, struct fd_txnsrc *src, struct fd_err *err)
{
	int fmt = run->out_format != FD_FMT_AUTO ? run->out_format : fd_txnsrc_format(src);

	if (!(run->w = fd_writer_create(run->out, fmt, hit_cols, 5)))
		return oom(err);
	fd_writer_excel_safe(run->w, run->cli.excel_safe);
	return FD_OK;
}

/* Evaluate every transaction.  A bad record is reported and skipped; under --strict it stops
 * the run: *stopped = 1 and FD_EINPUT, already reported. */
static int read_all(struct run *run, const struct args *a, struct fd_txnsrc *src, int *stopped, struct fd_err *err)
{
	struct fd_txn t;
	struct fd_txn_bad bad;
	int r, warm, rc;

	for (;;) {
		r = fd_txnsrc_next(src, &t, &warm, &bad, err);
		if (r == 0)
			break;
		if (r < 0)
			return -r;
		if (r == 2) {
			const char *where = fd_txnsrc_where(src);
			const char *stop = a->strict ? " (--strict: stopped here, nothing recorded)" : "";

			run->bad++;
			if (bad.field < 0)
				fd_cli_msg(&run->cli, "%s: %s%s", where, bad.msg, stop);
			else
				fd_cli_msg(&run->cli, "%s: field '%s': %s%s", where, bad.field_name, bad.msg, stop);
			if (a->strict) {
				*stopped = 1;
				return FD_EINPUT;
			}
			continue;
		}
		if (warm) {
			run->warm++;
			if ((rc = fd_features_warm(run->fe, &t, err)))
				return rc;
			continue;
		}
		if (!run->backtest && !run->w && (rc = hits_writer(run, src, err)))
			return rc;
		if ((rc = evaluate(run, &t, err))) {
			fd_err_prefix(err, "%s", fd_txnsrc_where(src));
			return rc;
		}
		if ((run->txns & (PROGRESS_EVERY - 1)) == 0)
			fd_cli_progress(&run->cli, fd_txnsrc_count(src), fd_txnsrc_bytes(src), -1);
	}
	fd_cli_progress_end(&run->cli);
	return FD_OK;
}

/* The hits' end (and their record in the store), or the backtest's report; then the output
 * is committed. */
static int finish(struct run *run, const struct args *a, struct fd_txnsrc *src, int64_t *audit_seq,
		  struct fd_err *err)
{
	int rc;

	if (!run->backtest) {
		if (!run->w && (rc = hits_writer(run, src, err)))
			return rc;
		fd_writer_free(run->w);
		run->w = NULL;
		if (run->recording) {
			struct fd_rules_store_info info = {run->txns, run->base.hits_total, a->store_input, a->since, a->until};

			run->new_rows = fd_rules_store_added(run->rec);
			rc = fd_rules_store_finish(run->rec, &info, audit_seq, err);
			fd_rules_store_free(run->rec);
			run->rec = NULL;
			if (rc)
				return rc;
		}
	} else {
		struct fd_backtest_totals tot;

		fd_backtest_totals(run->base.bt, &tot);
		if (tot.labelled == 0)
			return fd_err_set(err, FD_EINPUT,
					  "no labelled transactions: a backtest needs the label (1 fraud, 0 legitimate) of some of the %lld read",
					  (long long)run->txns);
		if ((rc = run->out_format == FMT_TABLE ? report_table(run, err) : report_records(run, run->out_format, err)))
			return rc;
	}
	rc = fd_out_commit(run->out, err);
	run->out = NULL;
	return rc;
}

/* The summary on stderr. */
static void summary(struct run *run, const struct args *a, int64_t audit_seq)
{
	char from[96] = "";

	if (a->store_input)
		snprintf(from, sizeof(from), " from the store (after replaying %lld earlier ones)", (long long)run->warm);
	fd_cli_msg(&run->cli, "%lld transactions%s, %lld bad records skipped; %lld hits on %lld transactions (rules %s, %zu rule%s, sha256 %s)",
		   (long long)run->txns, from, (long long)run->bad,
		   (long long)run->base.hits_total, (long long)run->base.alerts, run->base.path, run->base.n,
		   run->base.n == 1 ? "" : "s", run->base.sha);
	if (run->recording) {
		if (audit_seq)
			fd_cli_msg(&run->cli, "%s: rule_hits: %lld new, %lld already recorded (audit entry %lld)",
				   fd_store_path(run->st), (long long)run->new_rows,
				   (long long)(run->base.hits_total - run->new_rows), (long long)audit_seq);
		else
			fd_cli_msg(&run->cli, "%s: rule_hits: nothing new, %lld already recorded",
				   fd_store_path(run->st), (long long)run->base.hits_total);
	}
	if (run->backtest && run->out_format != FMT_TABLE) {
		struct fd_buf b = FD_BUF_INIT;

		describe_data(&run->base, &b);
		if (b.s && !fd_buf_failed(&b))
			fd_cli_msg(&run->cli, "backtest data: %s", b.s);
		if (run->compare) {
			fd_buf_reset(&b);
			describe_change(&run->base, &run->other, &b);
			if (b.s && !fd_buf_failed(&b))
				fd_cli_msg(&run->cli, "compared with %s: %s", run->other.path, b.s);
		}
		fd_buf_release(&b);
	}
}

static void run_release(struct run *run)
{
	fd_rules_store_free(run->rec);
	fd_store_close(run->st);  /* rolls back what was not committed */
	fd_writer_free(run->w);
	fd_out_abort(run->out);
	fd_cli_input_release(&run->cli);
	fd_features_free(run->fe);
	ruleset_release(&run->base);
	ruleset_release(&run->other);
	fd_backtest_changes_release(&run->chg);
	free(run->all);
	fd_buf_release(&run->reason);
}

int main(int argc, char **argv)
{
	struct run run;
	struct args a;
	struct setup su;
	struct fd_err err = {0};
	int rc = 0, stopped = 0;
	int64_t audit_seq = 0;
	double t0;

	memset(&run, 0, sizeof(run));
	memset(&a, 0, sizeof(a));
	memset(&su, 0, sizeof(su));
	if (argc > 1 && strcmp(argv[1], "list") == 0) {
		argv[1] = argv[0];
		return list_main(argc - 1, argv + 1);
	}
	fd_cli_setup(&run.cli, "fd-rules", synopsis, GROUPS, opts);
	if (argc > 1 && strcmp(argv[1], "backtest") == 0) {
		run.backtest = 1;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	a.since = INT64_MIN;
	a.until = INT64_MAX;
	a.label_delay = 7;
	parse_args(&run, &a, argc, argv);
	t0 = fd_now();

	if ((rc = load_rules(&run, &a, &su, argv[0], &err)))
		goto fail;
	if (a.map && (rc = fd_colmap_load(&su.map, a.map, &err)))
		goto fail;
	if (run.cli.metrics && !(su.metrics = fd_metrics_create("fd-rules"))) {
		rc = oom(&err);
		goto fail;
	}
	if ((rc = open_io(&run, &a, &su, &err)))
		goto fail;
	if ((rc = read_all(&run, &a, su.src, &stopped, &err))) {
		if (stopped)
			goto out;
		goto fail;
	}
	if ((rc = finish(&run, &a, su.src, &audit_seq, &err)))
		goto fail;
	if (!run.cli.quiet)
		summary(&run, &a, audit_seq);
	if (su.metrics) {
		double dur = fd_now() - t0;

		add_metrics(&run, su.metrics, dur);
		if ((rc = fd_metrics_write(su.metrics, run.cli.metrics, 1, dur, &err)))
			goto fail;
	}
	goto out;
fail:
	fd_cli_progress_end(&run.cli);
	rc = fd_cli_report(&run.cli, &err);
	if (su.metrics) {
		struct fd_err e2 = {0};

		add_metrics(&run, su.metrics, fd_now() - t0);
		if (fd_metrics_write(su.metrics, run.cli.metrics, 0, fd_now() - t0, &e2))
			fd_cli_report(&run.cli, &e2);
	}
out:
	fd_txnsrc_free(su.src);
	fd_colmap_free(su.map);
	fd_metrics_free(su.metrics);
	fd_named_lists_free(su.lsrc.lists);
	free(su.rules_found);
	free(su.list_dir);
	run_release(&run);
	{
		int r2 = fd_cli_close_stdout(&run.cli);

		if (!rc)
			rc = r2;
	}
	return rc;
}
