/*
 * fd-score — score transactions with a model and rules: features, rule hits, the isolation
 * forest and the autoencoder, combined into a risk, a level, a decision and reasons.  See
 * man/fd-score.1; the scoring itself is lib/fd_score.c.
 *
 * One pass in time order.  Each transaction's features and rules are computed as it is read;
 * the model runs over blocks of 256 (one at a time with --flush, for a pipe that wants each
 * answer at once), and each result is written, recorded (--store) and counted.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "datafile.h"
#include "fd_buf.h"
#include "fd_case.h"
#include "fd_features.h"
#include "fd_io.h"
#include "fd_metrics.h"
#include "fd_model.h"
#include "fd_reader.h"
#include "fd_rule_lists.h"
#include "fd_rules.h"
#include "fd_score.h"
#include "fd_role.h"
#include "fd_store.h"
#include "fd_txnsrc.h"
#include "fd_txnstream.h"
#include "fd_writer.h"
#include "fd_txn.h"
#include "banned.h"

static const char synopsis[] =
	"usage: fd-score [options] [FILE...]\n"
	"Score transactions read in time order from FILEs (CSV or NDJSON, plain or zstd; '-' or\n"
	"none = stdin) or from the store: features, rule hits, isolation forest, autoencoder; per\n"
	"transaction the risk 0-100, level LOW/MEDIUM/HIGH, decision APPROVE/REVIEW/BLOCK,\n"
	"confidence and reasons.\n"
	"\n";

enum {
	OPT_MODEL = FD_OPT_TOOL_BASE, OPT_RULES, OPT_NO_RULES, OPT_SINCE, OPT_UNTIL, OPT_AUTO_CASE,
	OPT_FAIL_ON, OPT_EVAL, OPT_TOP, OPT_ALL_REASONS, OPT_FLUSH, OPT_SORT, OPT_LABEL_DELAY,
	OPT_THRESHOLD, OPT_ALERTS,
};

static const struct fd_cli_opt opts[] = {
	{"model", required_argument, OPT_MODEL,
	 "  --model FILE        the model (default $FD_MODEL, else the store's promoted model, else\n"
	 "                      models/default.fdm of the tools' tree)\n"},
	{"rules", required_argument, OPT_RULES,
	 "  --rules FILE        the rules (default $FD_RULES, else default.rules of the tools' tree)\n"},
	{"no-rules", no_argument, OPT_NO_RULES, "  --no-rules          score without rules\n"},
	{"store", 0, 0, "  --store PATH        record the scores in the store (one per transaction and model version)\n"},
	{"since", required_argument, OPT_SINCE, "  --since T, --until T  score the store's transactions with T <= ts < T'\n"},
	{"until", required_argument, OPT_UNTIL, NULL},
	{"auto-case", no_argument, OPT_AUTO_CASE,
	 "  --auto-case         with --store: open or extend a case per suspect for HIGH risk\n"},
	{"fail-on", required_argument, OPT_FAIL_ON,
	 "  --fail-on LEVEL     exit 1 when a transaction reached LEVEL (MEDIUM or HIGH)\n"},
	{"threshold", required_argument, OPT_THRESHOLD,
	 "  --threshold RISK    HIGH from this risk (0-100) instead of the model's threshold\n"},
	{"alerts-per-day", required_argument, OPT_ALERTS,
	 "  --alerts-per-day N  MEDIUM and HIGH thresholds for about N alerts a day (HIGH: N/5)\n"},
	{"eval", no_argument, OPT_EVAL,
	 "  --eval              write the evaluation of each layer on labelled input instead of scores\n"},
	{"top", required_argument, OPT_TOP, "  --top K             --eval: precision of the K highest scores (default 100)\n"},
	{"all-reasons", no_argument, OPT_ALL_REASONS,
	 "  --all-reasons       feature reasons for every transaction, not only MEDIUM and HIGH\n"},
	{"flush", no_argument, OPT_FLUSH, "  --flush             score and write each transaction at once (for pipes)\n"},
	{"format", required_argument, FD_OPT_FORMAT,
	 "  --format FMT        csv or ndjson (default: the input's); --eval: table, csv or ndjson\n"},
	{"sort", no_argument, OPT_SORT, "  --sort              accept input out of time order (read into memory and sorted)\n"},
	{"label-delay", required_argument, OPT_LABEL_DELAY,
	 "  --label-delay DAYS  labels reach the features this long after a transaction (default 7)\n"},
	{NULL, 0, 0, NULL},
};

#define FMT_TABLE 0
#define PROGRESS_EVERY 65536

static const char *const out_cols[] = {
	"txn_id", "ts", "risk", "level", "decision", "confidence", "ae_error", "ae_score", "if_score",
	"gb_score", "rule_points", "rules", "reasons", "model_version",
};
#define NCOLS (sizeof(out_cols) / sizeof(out_cols[0]))

/* Latency histogram bounds, seconds. */
static const double lat_bounds[] = { 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
				     1e-3, 2.5e-3, 1e-2, 1e-1, 1.0 };
#define NLAT (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

struct run {
	struct fd_cli cli;
	const struct fd_rules *rules;
	char version[FD_MODEL_VERSION_LEN + 1];
	struct fd_out *out;
	struct fd_writer *w;
	int format, flush;
	struct fd_buf a, b;              /* the rules and reasons of a row, as text */
	struct fd_score_store *ss;       /* --store */
	struct fd_score_eval *ev;        /* --eval */
	int auto_case;
	struct fd_buf flags;             /* HIGH rows for --auto-case: txn_id NUL suspect NUL reasons NUL */
	struct { int64_t ts; int risk; } *fl;
	size_t nfl, capfl;
	int64_t rows, by_level[FD_NLEVELS], by_decision[FD_NDECISIONS];
	long long lat[NLAT + 1];
	double lat_sum;
	int timing;
};

static int oom(struct fd_err *err)
{
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* Read a whole file's SHA-256 (the ruleset id, as fd-rules records it). */
static int file_sha(const char *path, char hex[65], struct fd_err *err)
{
	return fd_sha256_file(path, hex, NULL, err);
}

/*
 * The model's risk thresholds were calibrated with the points of some rules (fd-train records
 * their SHA-256 in the metrics, or null): scoring with other rules shifts the levels away from
 * the percentiles the model promises, so say so.
 */
static void calibration_note(const struct fd_cli *cli, const struct fd_model *m, const char *rules_sha)
{
	const char *mj = m->meta.metrics_json, *p;
	char cal[65] = "";

	if (!mj || !(p = strstr(mj, "\"rules_sha256\":")))
		return;
	p += strlen("\"rules_sha256\":");
	if (*p == '"' && strspn(p + 1, "0123456789abcdef") == 64 && p[65] == '"')
		memcpy(cal, p + 1, 64);
	else if (strncmp(p, "null", 4) != 0)
		return;
	if (fd_score_stacker(m, rules_sha != NULL) && (!rules_sha || !cal[0]))
		return;  /* a stacker for scoring with or without rules: the risk means the same */
	if (!rules_sha && cal[0])
		fd_cli_msg(cli, "note: the model's risk thresholds were calibrated with rules (sha256 %.12s...); "
			   "without them fewer transactions reach MEDIUM and HIGH", cal);
	else if (rules_sha && !cal[0] && fd_score_stacker(m, 0))
		fd_cli_msg(cli, "note: the model's risk was calibrated without rules: a block rule still gives 100, "
			   "other rules' points do not change it (train with --rules to weigh them)");
	else if (rules_sha && !cal[0])
		fd_cli_msg(cli, "note: the model's risk thresholds were calibrated without rules; "
			   "the rules' points raise more transactions to MEDIUM and HIGH than its percentiles say");
	else if (rules_sha && strcmp(cal, rules_sha) != 0)
		fd_cli_msg(cli, "note: the model's risk thresholds were calibrated with other rules (sha256 %.12s..., "
			   "these are %.12s...); the levels may not keep to its percentiles", cal, rules_sha);
}

/*
 * The store's promoted model (fd-train --promote), when the store (--store, $FD_STORE, else
 * ./fd.db) exists: *path NULL when there is none.  A store that cannot be read is an error
 * only when --store named it.
 */
static int promoted_model(const struct fd_cli *cli, char **path, struct fd_err *err)
{
	struct fd_store *st = NULL;
	struct fd_who who = {cli->actor, "fd-score", FD_VERSION};
	char version[FD_MODEL_VERSION_LEN + 1];
	int rc;

	*path = NULL;
	if (access(cli->store, F_OK) != 0)
		return FD_OK;  /* no store yet: nothing promoted */
	if ((rc = fd_store_open(&st, cli->store, FD_STORE_READONLY, &who, err))) {
		if (!cli->store_opt) {
			fd_err_clear(err);  /* ./fd.db that is no store of ours: not our business here */
			return FD_OK;
		}
		return rc;
	}
	rc = fd_score_promoted_model(st, path, version, err);
	fd_store_close(st);
	return rc;
}

#define DRIFT_MIN_ROWS 1000
#define DRIFT_RATE_FACTOR 1.5
#define DRIFT_PSI 0.25

/*
 * Compare the share of transactions at MEDIUM or above with the share the model's thresholds
 * were calibrated for, and when it is more than DRIFT_RATE_FACTOR times off (either way), say
 * so with the features whose PSI against their training histograms exceeds DRIFT_PSI.
 */
static void drift_warning(const struct fd_cli *cli, const struct fd_model *m, const struct fd_scorer *sc,
			  int rules, const struct fd_scorer_opts *so)
{
	uint64_t rows, flagged;
	double *psi = malloc((m->n_features + 1) * sizeof(*psi)), rate, expect, med, high, qm, qh;
	size_t j, named = 0;

	if (!psi)
		return;
	fd_scorer_summary(sc, &rows, &flagged, psi);
	fd_score_level_thresholds(m, rules, &med, &high);
	if (so->thresholds)
		med = so->medium;
	expect = fd_score_calibrated_rate(m, rules, med);
	if (isnan(expect) && !so->thresholds) {
		fd_score_threshold_quantiles(m, &qm, &qh);
		expect = 1.0 - qm;
	}
	rate = rows ? (double)flagged / (double)rows : 0;
	if (rows < DRIFT_MIN_ROWS || !(expect > 0) ||
	    (rate <= DRIFT_RATE_FACTOR * expect && rate >= expect / DRIFT_RATE_FACTOR)) {
		free(psi);
		return;
	}
	fd_cli_msg(cli, "warning: %.2f%% of the %llu transactions reached MEDIUM or HIGH, the model's thresholds were "
		   "calibrated for %.2f%%: the data may differ from the training data", 100 * rate,
		   (unsigned long long)rows, 100 * expect);
	for (;;) {
		size_t best = m->n_features;

		for (j = 0; j < m->n_features; j++)
			if (psi[j] > DRIFT_PSI && (best == m->n_features || psi[j] > psi[best]))
				best = j;
		if (best == m->n_features)
			break;
		fd_cli_msg(cli, "warning: feature %s: population stability index %.2f against training (> %.2f: shifted)",
			   m->features[best], psi[best], DRIFT_PSI);
		psi[best] = NAN;
		named++;
	}
	if (!named && m->hist)
		fd_cli_msg(cli, "warning: no feature's population stability index exceeds %.2f", DRIFT_PSI);
	free(psi);
}

/* Keep a HIGH row for --auto-case. */
static int keep_flag(struct run *run, const struct fd_score_row *row, struct fd_err *err)
{
	size_t k;
	int bad = 0;

	if (run->nfl == run->capfl) {
		size_t cap = run->capfl ? 2 * run->capfl : 256;
		void *p = realloc(run->fl, cap * sizeof(*run->fl));

		if (!p)
			return oom(err);
		run->fl = p;
		run->capfl = cap;
	}
	run->fl[run->nfl].ts = row->ts;
	run->fl[run->nfl].risk = row->v.risk;
	run->nfl++;
	bad |= fd_buf_add(&run->flags, row->txn_id, strlen(row->txn_id) + 1);
	bad |= fd_buf_adds(&run->flags, "account:") || fd_buf_add(&run->flags, row->sender_id, strlen(row->sender_id) + 1);
	bad |= fd_buf_addc(&run->flags, '[');
	for (k = 0; k < row->nreasons; k++)
		bad |= (k && fd_buf_addc(&run->flags, ',')) ||
		       fd_buf_add_json_str(&run->flags, row->reasons[k], strlen(row->reasons[k]));
	bad |= fd_buf_add(&run->flags, "]", 2);
	return bad ? oom(err) : FD_OK;
}

static int emit(void *user, const struct fd_score_row *row, struct fd_err *err)
{
	struct run *run = user;
	struct fd_writer *w = run->w;
	size_t k;
	int rc, bad = 0;

	run->rows++;
	run->by_level[row->v.level]++;
	run->by_decision[row->v.decision]++;
	if (run->timing) {
		for (k = 0; k < NLAT && row->latency_s > lat_bounds[k]; k++)
			;
		run->lat[k]++;
		run->lat_sum += row->latency_s;
	}
	if (run->ev) {
		if (fd_score_eval_add(run->ev, row))
			return oom(err);
		return FD_OK;
	}
	if (run->ss && (rc = fd_score_store_add(run->ss, row, err)))
		return rc;
	if (run->auto_case && row->v.level == FD_LEVEL_HIGH && (rc = keep_flag(run, row, err)))
		return rc;
	/* rules and reasons: JSON arrays in NDJSON; in CSV ids joined by spaces, reasons by "; " */
	fd_buf_reset(&run->a);
	fd_buf_reset(&run->b);
	if (run->format == FD_FMT_NDJSON) {
		bad |= fd_buf_addc(&run->a, '[') || fd_buf_addc(&run->b, '[');
		for (k = 0; k < row->l.nhits; k++) {
			const char *id = fd_rules_id(run->rules, row->hits[k].rule);

			bad |= (k && fd_buf_addc(&run->a, ',')) || fd_buf_add_json_str(&run->a, id, strlen(id));
		}
		for (k = 0; k < row->nreasons; k++)
			bad |= (k && fd_buf_addc(&run->b, ',')) ||
			       fd_buf_add_json_str(&run->b, row->reasons[k], strlen(row->reasons[k]));
		bad |= fd_buf_addc(&run->a, ']') || fd_buf_addc(&run->b, ']');
	} else {
		for (k = 0; k < row->l.nhits; k++)
			bad |= (k && fd_buf_addc(&run->a, ' ')) || fd_buf_adds(&run->a, fd_rules_id(run->rules, row->hits[k].rule));
		for (k = 0; k < row->nreasons; k++)
			bad |= (k && fd_buf_adds(&run->b, "; ")) || fd_buf_adds(&run->b, row->reasons[k]);
	}
	if (bad)
		return oom(err);
	fd_writer_begin(w);
	fd_writer_cstr(w, row->txn_id);
	fd_writer_ts(w, row->ts);
	fd_writer_fixed(w, row->v.risk, 2);
	fd_writer_cstr(w, fd_level_name[row->v.level]);
	fd_writer_cstr(w, fd_decision_name[row->v.decision]);
	fd_writer_f64_sig(w, row->v.confidence, 2);
	fd_writer_f64_sig(w, row->l.ae_error, 6);
	fd_writer_f64_sig(w, row->l.ae_p, 4);
	fd_writer_f64_sig(w, row->l.if_score, 4);
	fd_writer_f64_sig(w, row->l.gb_p, 4);
	fd_writer_i64(w, row->l.rule_points);
	if (run->format == FD_FMT_NDJSON) {
		fd_writer_json(w, run->a.s, run->a.len);
		fd_writer_json(w, run->b.s, run->b.len);
	} else {
		fd_writer_str(w, run->a.s ? run->a.s : "", run->a.len);
		fd_writer_str(w, run->b.s ? run->b.s : "", run->b.len);
	}
	fd_writer_cstr(w, run->version);
	fd_writer_end(w);
	if (run->flush)
		fd_out_flush(run->out);
	return FD_OK;
}

/* Open or extend the automatic cases of the HIGH rows, in the store transaction. */
static int auto_cases(struct run *run, struct fd_store *st, struct fd_case_auto_result *res, struct fd_err *err)
{
	struct fd_case_flag *f = calloc(run->nfl + 1, sizeof(*f));
	struct fd_case_auto_opts ao = {0};
	const char *p = run->flags.s;
	size_t i;
	int rc;

	if (!f)
		return oom(err);
	for (i = 0; i < run->nfl; i++) {
		f[i].txn_id = p;
		p += strlen(p) + 1;
		f[i].suspect = p;
		p += strlen(p) + 1;
		f[i].reasons = p;
		p += strlen(p) + 1;
		f[i].ts = run->fl[i].ts;
		f[i].risk = run->fl[i].risk;
	}
	rc = fd_case_auto(st, f, run->nfl, &ao, res, err);
	free(f);
	return rc;
}

static void add_metrics(struct run *run, struct fd_metrics *m, double dur, int64_t bad)
{
	static const char help_l[] = "Transactions scored, by risk level.";
	static const char help_d[] = "Transactions scored, by decision.";
	char lab[64];
	int i;

	for (i = 0; i < FD_NLEVELS; i++) {
		snprintf(lab, sizeof(lab), "level=\"%s\"", fd_level_name[i]);
		fd_metrics_add(m, "fd_score_transactions_total", "counter", help_l, lab, (double)run->by_level[i]);
	}
	for (i = 0; i < FD_NDECISIONS; i++) {
		snprintf(lab, sizeof(lab), "decision=\"%s\"", fd_decision_name[i]);
		fd_metrics_add(m, "fd_score_decisions_total", "counter", help_d, lab, (double)run->by_decision[i]);
	}
	fd_metrics_add(m, "fd_score_bad_records_total", "counter", "Records skipped as not valid transactions.",
		       NULL, (double)bad);
	fd_metrics_add(m, "fd_score_rows_per_second", "gauge", "Transactions scored per second (wall time).",
		       NULL, dur > 0 ? (double)run->rows / dur : 0);
	{
		long long cum[NLAT];
		long long c = 0;
		size_t k;

		for (k = 0; k < NLAT; k++) {
			c += run->lat[k];
			cum[k] = c;
		}
		fd_metrics_histogram(m, "fd_score_latency_seconds",
				     "Time from reading a transaction to having its score (blocks of 256 unless --flush).",
				     lat_bounds, cum, NLAT, run->lat_sum, c + run->lat[NLAT]);
	}
}

/* What the command line asked for, beyond what the option groups keep in run->cli. */
struct args {
	const char *model, *rules, *since, *until, *fmt;
	int no_rules, sort, eval, all_reasons, fail_on;
	double label_delay, threshold, alerts_per_day;
	size_t top;
	/* derived */
	int tz_min, store_input, recording;
	int64_t since_ms, until_ms;
};

static void parse_args(struct run *run, struct args *a, int argc, char **argv)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->fail_on = -1;
	a->label_delay = 7;
	a->threshold = NAN;
	a->top = 100;
	a->since_ms = INT64_MIN;
	a->until_ms = INT64_MAX;
	fd_cli_setup(&run->cli, "fd-score", synopsis,
		     FD_CLI_G_STORE | FD_CLI_G_ACTOR | FD_CLI_G_INPUT | FD_CLI_G_STRICT | FD_CLI_G_FORMAT |
		     FD_CLI_G_OUTPUT | FD_CLI_G_EXCEL | FD_CLI_G_METRICS | FD_CLI_G_PROGRESS, opts);
	while ((c = fd_cli_getopt(&run->cli, argc, argv)) != -1) {
		switch (c) {
		case OPT_MODEL: a->model = optarg; break;
		case OPT_RULES: a->rules = optarg; break;
		case OPT_NO_RULES: a->no_rules = 1; break;
		case OPT_SINCE: a->since = optarg; break;
		case OPT_UNTIL: a->until = optarg; break;
		case OPT_AUTO_CASE: run->auto_case = 1; break;
		case OPT_FAIL_ON:
			a->fail_on = fd_level_parse(optarg);
			if (a->fail_on != FD_LEVEL_MEDIUM && a->fail_on != FD_LEVEL_HIGH)
				fd_cli_usage_error(&run->cli, "--fail-on must be MEDIUM or HIGH, not '%s'", optarg);
			break;
		case OPT_EVAL: a->eval = 1; break;
		case OPT_TOP: a->top = (size_t)fd_cli_int(&run->cli, "--top", optarg, 1, 1000000000); break;
		case OPT_ALL_REASONS: a->all_reasons = 1; break;
		case OPT_FLUSH: run->flush = 1; break;
		case OPT_SORT: a->sort = 1; break;
		case OPT_LABEL_DELAY: a->label_delay = fd_cli_double(&run->cli, "--label-delay", optarg, 0, 3650); break;
		case OPT_THRESHOLD: a->threshold = fd_cli_double(&run->cli, "--threshold", optarg, 0, 100); break;
		case OPT_ALERTS: a->alerts_per_day = fd_cli_double(&run->cli, "--alerts-per-day", optarg, 1e-9, 1e12); break;
		case FD_OPT_FORMAT: a->fmt = optarg; break;
		}
	}
	fd_cli_finish(&run->cli);
	fd_cli_inputs(&run->cli, argc - optind, argv + optind);
	fd_cli_inputs(&run->cli, 2, (char *const[]){(char *)a->model, (char *)a->rules});
}

/* What the options mean together (after --tz is loaded: --since and --until are in its zone). */
static void check_args(struct run *run, struct args *a, struct fd_feat_opts *fo, int argc, char **argv)
{
	struct fd_cli *cli = &run->cli;
	int i, j;

	if (a->fmt) {
		if (a->eval && strcmp(a->fmt, "table") == 0)
			run->format = FMT_TABLE;
		else if ((run->format = fd_format_parse(a->fmt)) < 0)
			fd_cli_usage_error(cli, "--format must be %s, not '%s'",
					   a->eval ? "table, csv or ndjson" : "csv or ndjson", a->fmt);
	} else
		run->format = a->eval ? FMT_TABLE : FD_FMT_AUTO;
	if (a->since)
		a->since_ms = fd_cli_time(cli, "--since", a->since, a->tz_min);
	if (a->until)
		a->until_ms = fd_cli_time(cli, "--until", a->until, a->tz_min);
	if (a->since && a->until && a->until_ms <= a->since_ms)
		fd_cli_usage_error(cli, "--until must be later than --since");
	a->store_input = a->since || a->until;
	if (!a->store_input)  /* local_hour on the export's clock (the store's records are UTC) */
		fd_cli_feat_zone(cli, a->tz_min, fo);
	if (a->store_input && optind < argc)
		fd_cli_usage_error(cli, "--since and --until read the store's transactions: give no FILE");
	if (a->store_input && a->sort)
		fd_cli_usage_error(cli, "--sort is for FILEs: the store is read in time order");
	if (a->rules && a->no_rules)
		fd_cli_usage_error(cli, "--rules and --no-rules contradict each other");
	if (a->eval && cli->store_opt && !a->store_input)
		fd_cli_usage_error(cli, "--eval records nothing: --store reads the store only with --since or --until");
	if (a->eval && (run->auto_case || a->fail_on >= 0 || a->all_reasons || run->flush))
		fd_cli_usage_error(cli, "--eval writes a report: no --auto-case, --fail-on, --all-reasons or --flush");
	if (run->auto_case && !cli->store_opt)
		fd_cli_usage_error(cli, "--auto-case writes cases into the store: give --store");
	if (!isnan(a->threshold) && a->alerts_per_day > 0)
		fd_cli_usage_error(cli, "--threshold and --alerts-per-day both set the thresholds: give one");
	for (i = optind; i < argc; i++)
		for (j = i + 1; strcmp(argv[i], "-") == 0 && j < argc; j++)
			if (strcmp(argv[j], "-") == 0)
				fd_cli_usage_error(cli, "standard input ('-') given twice");
	a->recording = cli->store_opt && !a->eval;
	run->timing = cli->metrics != NULL;
}

/* The loaded model and rules, and what they were loaded from. */
struct loaded {
	struct fd_model *m;
	struct fd_rules *rules;
	const char *model_path, *rules_path;
	char *model_found, *rules_found, *list_dir;
	char model_sha[65], rules_sha[65];
	/* rules: list files also from the bundled directory; named lists from the store */
	struct fd_who lwho;
	struct fd_rule_lists_src lsrc;
};

/* The model (--model, $FD_MODEL, the store's promoted one, the bundled default) and the
 * rules, with the notes about them; the thresholds that --threshold and --alerts-per-day set. */
static int load_model(struct run *run, const struct args *a, struct loaded *l, struct fd_scorer_opts *so,
		      const char *argv0, struct fd_err *err)
{
	struct fd_rules_opts ropts = {NULL, NULL, fd_rule_lists_get, &l->lsrc};
	const char *model_src = NULL;
	int rc;

	l->model_path = a->model;
	l->rules_path = a->rules;
	if (!a->model && !getenv("FD_MODEL") && (rc = promoted_model(&run->cli, &l->model_found, err)))
		return rc;
	if (l->model_found) {
		l->model_path = l->model_found;
		model_src = "the store's promoted model";
	}
	if (!l->model_path) {
		const char *e = getenv("FD_MODEL");

		if (!(l->model_path = l->model_found = fd_datafile_find(argv0, "FD_MODEL", "models/default.fdm", "model",
									"--model", err)))
			return err->code ? err->code : FD_EIO;
		model_src = e && *e ? NULL : "the bundled default";  /* the user's choices need no note */
	}
	if ((rc = fd_model_load(&l->m, l->model_path, err)) || (rc = file_sha(l->model_path, l->model_sha, err)))
		return rc;
	fd_score_model_version(l->model_sha, run->version);
	if (!a->no_rules) {
		if (!l->rules_path && !(l->rules_path = l->rules_found = fd_datafile_find(argv0, "FD_RULES",
				"rules/default.rules", "rules file", "--rules", err)))
			return err->code ? err->code : FD_EIO;
		l->lwho = (struct fd_who){run->cli.actor, "fd-score", FD_VERSION};
		l->lsrc.who = &l->lwho;
		l->lsrc.store = run->cli.store;
		ropts.list_dir = l->list_dir = fd_datafile_dir(argv0, "rules/default.rules");
		if ((rc = fd_rules_load_opts(&l->rules, l->rules_path, &ropts, err)) ||
		    (rc = file_sha(l->rules_path, l->rules_sha, err)))
			return rc;
	}
	run->rules = l->rules;
	if (!run->cli.quiet && model_src)
		fd_cli_msg(&run->cli, "model %s (%s, version %s)", l->model_path, model_src, run->version);
	if (!run->cli.quiet)
		calibration_note(&run->cli, l->m, l->rules ? l->rules_sha : NULL);
	if (!isnan(a->threshold)) {
		double med, high;

		fd_score_level_thresholds(l->m, l->rules != NULL, &med, &high);
		so->thresholds = 1;
		so->high = a->threshold;
		so->medium = isnan(med) || med > a->threshold ? a->threshold : med;
	} else if (a->alerts_per_day > 0) {
		if ((rc = fd_score_alert_thresholds(l->m, l->rules != NULL, a->alerts_per_day, &so->medium, &so->high, err)))
			return fd_err_prefix(err, "%s", l->model_path), rc;
		so->thresholds = 1;
		if (!run->cli.quiet)
			fd_cli_msg(&run->cli, "--alerts-per-day %g: MEDIUM >= %.4g, HIGH >= %.4g (at the training data's %.0f transactions a day)",
				   a->alerts_per_day, so->medium, so->high, l->m->rows_per_day);
	}
	return FD_OK;
}

static void loaded_release(struct loaded *l)
{
	fd_rules_free(l->rules);
	fd_model_free(l->m);
	free(l->model_found);
	free(l->rules_found);
	free(l->list_dir);
	fd_named_lists_free(l->lsrc.lists);
}

/* The store: read from it (--since/--until), record scores in it (--store). */
static int open_store(struct run *run, const struct args *a, const struct loaded *l, struct fd_store **st,
		      struct fd_err *err)
{
	struct fd_who who = {run->cli.actor, "fd-score", FD_VERSION};
	int flags = !a->recording ? FD_STORE_READONLY : a->store_input ? 0 : FD_STORE_CREATE;
	int64_t model_id;
	int created, rc;

	if (!a->store_input && !a->recording)
		return FD_OK;
	if ((rc = fd_store_open(st, run->cli.store, flags, &who, err)))
		return rc;
	if (!a->recording)
		return FD_OK;
	if ((rc = fd_role_authorize(*st, FD_ACT_SCORE, run->version, err)) || (rc = fd_store_begin(*st, err)) ||
	    (rc = fd_score_register_model(*st, l->m, l->model_path, l->model_sha, fd_wall_ms(), &model_id, &created, err)))
		return rc;
	return fd_score_store_begin(&run->ss, *st, run->version, l->rules ? l->rules_sha : NULL, fd_wall_ms(),
				    l->rules, err);
}

/* The header and writer of the scores, once the input's format is known. */
static int start_writer(struct run *run, const struct fd_cli_txns *src, struct fd_err *err)
{
	if (run->format == FD_FMT_AUTO)
		run->format = fd_cli_txns_format(src);
	if (!(run->w = fd_writer_create(run->out, run->format, out_cols, NCOLS)))
		return oom(err);
	fd_writer_excel_safe(run->w, run->cli.excel_safe);
	return FD_OK;
}

/* Every transaction through the scorer (warm-up history only warms it). */
static int score_all(struct run *run, const struct args *a, struct fd_scorer *sc, struct fd_cli_txns *src,
		     struct fd_err *err)
{
	int rc;

	for (;;) {
		struct fd_txn t;
		int w = 0, r = fd_cli_txns_next(src, &t, &w, err);

		if (r <= 0)
			return -r;
		if (w) {
			if ((rc = fd_scorer_warm(sc, &t, err)))
				return fd_err_prefix(err, "%s", fd_cli_txns_where(src)), rc;
			continue;
		}
		if (!a->eval && !run->w && (rc = start_writer(run, src, err)))
			return rc;
		if ((rc = fd_scorer_push(sc, &t, err))) {
			if (err->code == FD_EINPUT)
				fd_err_prefix(err, "%s", fd_cli_txns_where(src));
			return rc;
		}
	}
}

struct rec_result {
	int64_t added, already, run_id, audit_seq;
};

/* Close the scores' run in the store (and open the automatic cases): commit, or roll back
 * when nothing was new. */
static int record(struct run *run, const struct args *a, const struct loaded *l, struct fd_store *st,
		  struct fd_case_auto_result *ares, struct rec_result *rr, struct fd_err *err)
{
	struct fd_buf d = FD_BUF_INIT;
	int rc;

	rr->added = fd_score_store_added(run->ss, &rr->already);
	fd_buf_addf(&d, "{\"model_path\":");
	fd_buf_add_json_str(&d, l->model_path, strlen(l->model_path));
	fd_buf_addf(&d, ",\"input\":\"%s\",\"transactions\":%lld", a->store_input ? "store" : "stream",
		    (long long)run->rows);
	if (a->store_input && a->since_ms != INT64_MIN)
		fd_buf_addf(&d, ",\"since\":%lld", (long long)a->since_ms);
	if (a->store_input && a->until_ms != INT64_MAX)
		fd_buf_addf(&d, ",\"until\":%lld", (long long)a->until_ms);
	if (fd_buf_addc(&d, '}')) {
		fd_buf_release(&d);
		return oom(err);
	}
	rc = fd_score_store_finish(run->ss, d.s, &rr->run_id, &rr->audit_seq, err);
	run->ss = NULL;
	fd_buf_release(&d);
	if (rc)
		return rc;
	if (run->auto_case && run->nfl && (rc = auto_cases(run, st, ares, err)))
		return rc;
	if (rr->run_id || ares->created || ares->extended || ares->reopened || ares->added)
		return fd_store_commit(st, err);
	fd_store_rollback(st);
	return FD_OK;
}

/* The summary on stderr. */
static void summary(struct run *run, const struct args *a, const struct loaded *l, struct fd_store *st,
		    const struct fd_case_auto_result *ares, const struct rec_result *rr, int64_t bad, int fail_hit)
{
	struct fd_cli *cli = &run->cli;

	if (cli->quiet)
		return;
	fd_cli_msg(cli, "%lld transactions%s, %lld bad records skipped: %lld LOW, %lld MEDIUM, %lld HIGH; "
		   "%lld APPROVE, %lld REVIEW, %lld BLOCK (model %s, version %s; %s%s)",
		   (long long)run->rows, a->store_input ? " from the store" : "", (long long)bad,
		   (long long)run->by_level[0], (long long)run->by_level[1], (long long)run->by_level[2],
		   (long long)run->by_decision[0], (long long)run->by_decision[1], (long long)run->by_decision[2],
		   l->model_path, run->version, l->rules ? "rules " : "no rules", l->rules ? l->rules_path : "");
	if (a->recording) {
		if (rr->run_id)
			fd_cli_msg(cli, "%s: scores: %lld new, %lld already recorded (run %lld, audit entry %lld)",
				   fd_store_path(st), (long long)rr->added, (long long)rr->already, (long long)rr->run_id,
				   (long long)rr->audit_seq);
		else
			fd_cli_msg(cli, "%s: scores: nothing new, %lld already recorded", fd_store_path(st),
				   (long long)rr->already);
	}
	if (run->auto_case)
		fd_cli_msg(cli, "cases: %lld HIGH-risk transactions; %lld cases opened, %lld extended, %lld reopened, "
			   "%lld transactions added, %lld already in their case",
			   (long long)ares->flags, (long long)ares->created, (long long)ares->extended,
			   (long long)ares->reopened, (long long)ares->added, (long long)ares->already);
	if (fail_hit)
		fd_cli_msg(cli, "--fail-on %s: %lld transactions at %s or above", fd_level_name[a->fail_on],
			   (long long)(a->fail_on == FD_LEVEL_MEDIUM ? run->by_level[1] + run->by_level[2] : run->by_level[2]),
			   fd_level_name[a->fail_on]);
}

int main(int argc, char **argv)
{
	struct run run;
	struct args a;
	struct loaded l;
	struct fd_err err = {0};
	struct fd_store *st = NULL;
	struct fd_cli_txns *src = NULL;
	struct fd_scorer *sc = NULL;
	struct fd_metrics *metrics = NULL;
	struct fd_feat_opts fo = {0};
	struct fd_scorer_opts so;
	struct fd_txnsrc_opts src_o;
	struct fd_case_auto_result ares;
	struct rec_result rr = {0};
	int rc = 0, fail_hit = 0, i;
	int64_t bad = 0;
	double t0;

	memset(&run, 0, sizeof(run));
	memset(&so, 0, sizeof(so));
	memset(&src_o, 0, sizeof(src_o));
	memset(&ares, 0, sizeof(ares));
	memset(&l, 0, sizeof(l));
	parse_args(&run, &a, argc, argv);
	t0 = fd_now();
	if ((rc = fd_cli_input_open(&run.cli, &src_o.stream, &err)))
		goto fail;
	a.tz_min = src_o.stream.tz_offset_min;
	check_args(&run, &a, &fo, argc, argv);
	if ((rc = load_model(&run, &a, &l, &so, argv[0], &err)))
		goto fail;
	so.drift = l.m->hist != NULL;
	fo.label_delay_ms = llround(a.label_delay * (double)FD_DAY_MS);
	so.batch = run.flush ? 1 : 256;
	so.reasons_all = a.all_reasons;
	so.no_reasons = a.eval;
	so.timing = run.timing;
	so.feat = &fo;
	so.emit = emit;
	so.user = &run;
	if ((rc = fd_scorer_create(&sc, l.m, l.rules, &so, &err))) {
		fd_err_prefix(&err, "%s", l.model_path);
		goto fail;
	}
	if ((a.eval && !(run.ev = fd_score_eval_create(l.m, l.rules != NULL))) ||
	    (run.cli.metrics && !(metrics = fd_metrics_create("fd-score")))) {
		rc = oom(&err);
		goto fail;
	}
	if ((rc = open_store(&run, &a, &l, &st, &err)))
		goto fail;

	/* ---- the transactions */
	src_o.stream.no_metadata = !(l.rules && fd_rules_uses_metadata(l.rules));  /* else canonical fields only */
	src_o.paths = (const char *const *)(argv + optind);
	src_o.npaths = (size_t)(argc - optind);
	src_o.sort = a.sort;
	if (a.store_input) {
		src_o.store = st;
		src_o.since = a.since_ms;
		src_o.until = a.until_ms;
		src_o.warm_ms = -1;  /* all earlier history, as when the model was trained */
	}
	if ((rc = fd_cli_txns_open(&src, &run.cli, &src_o, 0, &err)))
		goto fail;
	fd_cli_txns_strict_note(src, a.recording ? "stopped here, nothing recorded" : "stopped here");
	if ((rc = fd_cli_output_open(&run.cli, &run.out, &err)) || (rc = score_all(&run, &a, sc, src, &err)) ||
	    (rc = fd_scorer_flush(sc, &err)))
		goto fail;
	fd_cli_progress_end(&run.cli);
	bad = fd_cli_txns_bad(src);

	/* ---- results */
	if (a.eval) {
		size_t frauds, nl = fd_score_eval_count(run.ev, &frauds);

		if (nl == 0) {
			rc = fd_err_set(&err, FD_EINPUT,
					"no labelled transactions: an evaluation needs the label (1 fraud, 0 legitimate) of some of the %lld read",
					(long long)run.rows);
			goto fail;
		}
		if ((rc = fd_score_eval_write(run.ev, run.out, run.format, a.top, &err)))
			goto fail;
	} else if (!run.w && (rc = start_writer(&run, src, &err)))  /* no record: still a header */
		goto fail;
	fd_writer_free(run.w);
	run.w = NULL;
	if (a.recording && (rc = record(&run, &a, &l, st, &ares, &rr, &err)))
		goto fail;
	rc = fd_out_commit(run.out, &err);
	run.out = NULL;
	if (rc)
		goto fail;
	fd_cli_txns_free(src);  /* says how many bad records were not shown */
	src = NULL;
	for (i = a.fail_on; a.fail_on >= 0 && i < FD_NLEVELS; i++)
		if (run.by_level[i])
			fail_hit = 1;
	summary(&run, &a, &l, st, &ares, &rr, bad, fail_hit);
	drift_warning(&run.cli, l.m, sc, l.rules != NULL, &so);
	if (metrics) {
		double dur = fd_now() - t0;

		add_metrics(&run, metrics, dur, bad);
		if ((rc = fd_metrics_write(metrics, run.cli.metrics, 1, dur, &err)))
			goto fail;
	}
	rc = fail_hit ? FD_EFINDINGS : FD_OK;
	goto out;
fail:
	fd_cli_progress_end(&run.cli);
	rc = fd_cli_report(&run.cli, &err);
	if (metrics) {
		struct fd_err e2 = {0};

		add_metrics(&run, metrics, fd_now() - t0, fd_cli_txns_bad(src));
		if (fd_metrics_write(metrics, run.cli.metrics, 0, fd_now() - t0, &e2))
			fd_cli_report(&run.cli, &e2);
	}
out:
	fd_score_store_free(run.ss);
	fd_store_close(st);  /* rolls back what was not committed */
	fd_cli_txns_free(src);
	fd_writer_free(run.w);
	fd_out_abort(run.out);
	fd_scorer_free(sc);
	fd_score_eval_free(run.ev);
	fd_cli_input_release(&run.cli);
	fd_metrics_free(metrics);
	loaded_release(&l);
	free(run.fl);
	fd_buf_release(&run.flags);
	fd_buf_release(&run.a);
	fd_buf_release(&run.b);
	{
		int r2 = fd_cli_close_stdout(&run.cli);

		if (!rc)
			rc = r2;
	}
	return rc;
}
