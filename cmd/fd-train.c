/*
 * fd-train — train the autoencoder and the isolation forest on feature rows or transactions,
 * calibrate the thresholds, write the model file; evaluate a model on labelled data; describe a
 * model file.  See man/fd-train.1.
 *
 * Training holds the feature matrix in memory (4 bytes per feature per row, fraud left out):
 * the network makes many passes over it.  Everything that goes into the model file is
 * deterministic (the seed drives every random choice; the file's time is the data's), so the
 * same input and seed give the same bytes; timings go to stderr and the store only.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "datafile.h"
#include "fd_buf.h"
#include "fd_features.h"
#include "fd_gbdt.h"
#include "fd_io.h"
#include "fd_iforest.h"
#include "fd_metrics.h"
#include "fd_model.h"
#include "fd_nn.h"
#include "fd_reader.h"
#include "fd_rng.h"
#include "fd_rules.h"
#include "fd_score.h"
#include "fd_role.h"
#include "fd_store.h"
#include "fd_txnsrc.h"
#include "fd_txnstream.h"
#include "fd_txn.h"
#include "banned.h"

static const char usage[] =
	"usage: fd-train [options] [FILE...]\n"
	"       fd-train eval [options] [FILE...]\n"
	"       fd-train --inspect MODEL\n"
	"Train the autoencoder and the isolation forest (on rows not labelled fraud) and the\n"
	"boosted trees (on labelled rows) on transactions or on feature rows from fd-features (CSV\n"
	"or NDJSON, plain or zstd; '-' or none = stdin), stack them on the last 20% in time, and\n"
	"write the model file.  eval: AUC-ROC, average precision, recall at 1% and 5%\n"
	"false-positive rate, precision of the top k and the confusion matrices of each layer on\n"
	"labelled transactions.  --inspect: what a model file holds.\n"
	"\n"
	"  -o, --output FILE   model file (default models/model-VERSION.fdm)\n"
	"  --input KIND        features or transactions (default: a FILE without a sender_id\n"
	"                      column holds feature rows; stdin holds transactions)\n"
	"  --features LIST     comma-separated features (default: all of the catalog, or every\n"
	"                      feature column of feature rows)\n"
	"  --layers LIST       hidden layers, e.g. 12,6,12 (default 2n/3, n/3, 2n/3 of n features)\n"
	"  --epochs N          at most N epochs (default 100)\n"
	"  --patience N        stop after N epochs without a better validation loss (default 5)\n"
	"  --batch N           mini-batch rows (default 64)\n"
	"  --trees N           isolation trees (default 100)\n"
	"  --subsample N       rows per tree (default 256)\n"
	"  --seed N            random seed (default 1)\n"
	"  --gb-rounds N       at most N boosting rounds (default 400)\n"
	"  --gb-pos-weight W   weight of a fraud row in boosting (default 1; 0 = legitimate/fraud)\n"
	"  --gb-rows N         boost on every fraud row and a weighted sample of legitimate ones,\n"
	"                      N rows in all (default 100000; 0 = every labelled row); the same\n"
	"                      for the validation rows that stop the boosting early\n"
	"  --gb-eval-every K   measure the validation AP every K rounds (default 2)\n"
	"  --ae-rows N         train the autoencoder on a sample of N rows (default 100000;\n"
	"                      0 = every row)\n"
	"  --no-gbdt           no boosted trees, even with labels\n"
	"  --as-of T           train as at T: labels later than T minus the label delay unused\n"
	"  --promote           with --store: make the model the store's promoted model\n"
	"  --alerts-per-day N  thresholds from an alert budget instead of the 95th/99th percentiles\n"
	"  --rules FILE        rules whose points enter the risk calibration (default $FD_RULES,\n"
	"                      else default.rules of the tools' tree)\n"
	"  --no-rules          calibrate without rules\n"
	"  --store PATH        register the model in this store's models table\n"
	"  --since T, --until T  train on (eval: evaluate) the store's transactions in [T, T')\n"
	"  --model FILE        eval: the model (default $FD_MODEL, else models/default.fdm)\n"
	"  --top K             eval: precision of the K highest scores (default 100)\n"
	"  --format FMT        eval: table, csv or ndjson (default table)\n"
	"  --map SPEC          column mapping file, or a preset: fd, sparkov\n"
	"  --delimiter C       CSV input field delimiter (default ',')\n"
	"  --tz TZ             zone of timestamps without one (default UTC)\n"
	"  --currency CODE     currency of rows without one (default USD)\n"
	"  --sort              accept input out of time order (read into memory and sorted)\n"
	"  --strict            stop at the first bad record (exit 3) instead of skipping it\n"
	"  --label-delay DAYS  labels reach the features this long after a transaction (default 7)\n"
	"  --actor NAME        who is acting (default $FD_ACTOR, else the login name)\n"
	"  --metrics FILE      write Prometheus textfile metrics there\n"
	"  -q, --quiet         no summary on stderr\n"
	"  --progress, --no-progress   force the per-epoch progress lines on or off\n"
	"  -h, --help          show this help\n"
	"  --version           show the version\n";

enum {
	OPT_INPUT = FD_OPT_TOOL_BASE, OPT_FEATURES, OPT_LAYERS, OPT_EPOCHS, OPT_PATIENCE, OPT_BATCH,
	OPT_TREES, OPT_SUBSAMPLE, OPT_SEED, OPT_ALERTS, OPT_RULES, OPT_NO_RULES, OPT_SINCE, OPT_UNTIL,
	OPT_MODEL, OPT_TOP, OPT_MAP, OPT_DELIM, OPT_TZ, OPT_CURRENCY, OPT_SORT, OPT_STRICT,
	OPT_LABEL_DELAY, OPT_INSPECT, OPT_AS_OF, OPT_PROMOTE, OPT_NO_GBDT, OPT_GB_ROUNDS, OPT_GB_POS_WEIGHT,
	OPT_GB_ROWS, OPT_GB_EVAL_EVERY, OPT_AE_ROWS,
};

static const struct option longopts[] = {
	FD_CLI_LONGOPTS,
	{"output", required_argument, NULL, 'o'},
	{"input", required_argument, NULL, OPT_INPUT},
	{"features", required_argument, NULL, OPT_FEATURES},
	{"layers", required_argument, NULL, OPT_LAYERS},
	{"epochs", required_argument, NULL, OPT_EPOCHS},
	{"patience", required_argument, NULL, OPT_PATIENCE},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"trees", required_argument, NULL, OPT_TREES},
	{"subsample", required_argument, NULL, OPT_SUBSAMPLE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"alerts-per-day", required_argument, NULL, OPT_ALERTS},
	{"rules", required_argument, NULL, OPT_RULES},
	{"no-rules", no_argument, NULL, OPT_NO_RULES},
	{"since", required_argument, NULL, OPT_SINCE},
	{"until", required_argument, NULL, OPT_UNTIL},
	{"model", required_argument, NULL, OPT_MODEL},
	{"top", required_argument, NULL, OPT_TOP},
	{"map", required_argument, NULL, OPT_MAP},
	{"delimiter", required_argument, NULL, OPT_DELIM},
	{"tz", required_argument, NULL, OPT_TZ},
	{"currency", required_argument, NULL, OPT_CURRENCY},
	{"sort", no_argument, NULL, OPT_SORT},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"label-delay", required_argument, NULL, OPT_LABEL_DELAY},
	{"inspect", required_argument, NULL, OPT_INSPECT},
	{"as-of", required_argument, NULL, OPT_AS_OF},
	{"promote", no_argument, NULL, OPT_PROMOTE},
	{"no-gbdt", no_argument, NULL, OPT_NO_GBDT},
	{"gb-rounds", required_argument, NULL, OPT_GB_ROUNDS},
	{"gb-pos-weight", required_argument, NULL, OPT_GB_POS_WEIGHT},
	{"gb-rows", required_argument, NULL, OPT_GB_ROWS},
	{"gb-eval-every", required_argument, NULL, OPT_GB_EVAL_EVERY},
	{"ae-rows", required_argument, NULL, OPT_AE_ROWS},
	{NULL, 0, NULL, 0},
};

#define DAY_MS 86400000LL
#define MIN_ROWS 10
#define FMT_TABLE 0

enum { IN_AUTO, IN_FEATURES, IN_TXNS };

struct opts {
	int eval;
	const char *output, *features, *layers, *rules, *model, *map_spec, *tz, *since_arg, *until_arg;
	const char *inspect, *fmt_arg, *as_of_arg;
	int input, no_rules, sort, strict, promote, no_gbdt;
	unsigned gb_rounds, gb_eval_every;
	size_t gb_rows, ae_rows;   /* 0 = every row */
	double gb_pos_weight;
	int64_t as_of;
	char delim;
	const char *currency;
	double label_delay, alerts_per_day;
	unsigned epochs, patience, trees;
	size_t batch, subsample, top;
	uint64_t seed;
	int64_t since, until;
	int tz_min;
};

/* The training rows, fraud included (the unsupervised layers leave it out, the boosted trees
 * learn from it). */
struct data {
	size_t nf;                 /* features */
	char **names;              /* their names */
	int *cidx;                 /* catalog indices (transactions mode) */
	float *X;                  /* rows x nf, raw values, NaN = missing */
	int *points;               /* rule points per row (when rules ran) */
	unsigned char *block;
	signed char *label;        /* per row: 1, 0, -1 unknown */
	int64_t *ts;               /* per row: ms, INT64_MIN unknown */
	char **txn_id;             /* per row when case outcomes are to be looked up, else NULL */
	int keep_ids;
	size_t rows, cap;
	int64_t read, fraud, bad, warm;
	int64_t ts_min, ts_max;
	int have_ts;
};

static struct fd_cli cli;
static const char *argv0;

static int oom(struct fd_err *err)
{
	return fd_err_set(err, FD_EIO, "out of memory");
}

static char parse_delim(const char *s)
{
	if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0 || strcmp(s, "\t") == 0)
		return '\t';
	if (strlen(s) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r')
		fd_cli_usage_error(&cli, "--delimiter needs one character other than a quote or newline, or 'tab', not '%s'", s);
	return s[0];
}

#define MIN_SAMPLE 100   /* the smallest sample --gb-rows and --ae-rows take */

/* A sample size: 0 (every row) or at least MIN_SAMPLE. */
static size_t sample_size(const char *opt, const char *arg)
{
	long long v = fd_cli_int(&cli, opt, arg, 0, 1000000000);

	if (v > 0 && v < MIN_SAMPLE)
		fd_cli_usage_error(&cli, "%s needs 0 (every row) or at least %d rows, not '%s'", opt, MIN_SAMPLE, arg);
	return (size_t)v;
}

/* ---- collecting rows ------------------------------------------------------------------ */

static void data_release(struct data *d)
{
	size_t i;

	for (i = 0; d->names && i < d->nf; i++)
		free(d->names[i]);
	free(d->names);
	free(d->cidx);
	free(d->X);
	free(d->points);
	free(d->block);
	free(d->label);
	free(d->ts);
	for (i = 0; d->txn_id && i < d->rows; i++)
		free(d->txn_id[i]);
	free(d->txn_id);
	memset(d, 0, sizeof(*d));
}

/* Room for one more row; returns it.  The caller sets label[rows], ts[rows] and, with
 * keep_ids, txn_id[rows] (or NULL) before counting the row. */
static float *data_row(struct data *d, int with_rules)
{
	if (d->rows == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 4096;
		float *X = realloc(d->X, cap * d->nf * sizeof(*X));

		if (!X)
			return NULL;
		d->X = X;
		{
			signed char *l = realloc(d->label, cap);
			int64_t *t = l ? realloc(d->ts, cap * sizeof(*t)) : NULL;

			if (l)
				d->label = l;
			if (!t)
				return NULL;
			d->ts = t;
		}
		if (d->keep_ids) {
			char **ids = realloc(d->txn_id, cap * sizeof(*ids));

			if (!ids)
				return NULL;
			d->txn_id = ids;
		}
		if (with_rules) {
			int *p = realloc(d->points, cap * sizeof(*p));
			unsigned char *b;

			if (!p)
				return NULL;
			d->points = p;
			if (!(b = realloc(d->block, cap)))
				return NULL;
			d->block = b;
		}
		d->cap = cap;
	}
	return d->X + d->rows * d->nf;
}

static void note_ts(struct data *d, int64_t ts)
{
	if (!d->have_ts || ts < d->ts_min)
		d->ts_min = ts;
	if (!d->have_ts || ts > d->ts_max)
		d->ts_max = ts;
	d->have_ts = 1;
}

static int set_names(struct data *d, const int *cidx, size_t n, struct fd_err *err)
{
	const struct fd_feat_def *defs;
	size_t i;

	fd_feat_catalog(&defs);
	d->nf = n;
	d->names = calloc(n ? n : 1, sizeof(*d->names));
	d->cidx = malloc((n ? n : 1) * sizeof(*d->cidx));
	if (!d->names || !d->cidx)
		return oom(err);
	for (i = 0; i < n; i++) {
		d->cidx[i] = cidx[i];
		if (!(d->names[i] = strdup(defs[cidx[i]].name)))
			return oom(err);
	}
	return FD_OK;
}

/* The catalog indices of a --features list (NULL = the whole catalog). */
static int feature_list(const char *list, int **idx, size_t *n, struct fd_err *err)
{
	struct fd_features *f = NULL;
	size_t i;
	int rc;

	*idx = NULL;
	if ((rc = fd_features_create(&f, NULL, err)) || (rc = fd_features_select(f, list, err))) {
		fd_features_free(f);
		return rc;
	}
	*n = fd_features_count(f);
	if (!(*idx = malloc((*n ? *n : 1) * sizeof(**idx)))) {
		fd_features_free(f);
		return oom(err);
	}
	for (i = 0; i < *n; i++)
		(*idx)[i] = fd_features_catalog_index(f, i);
	fd_features_free(f);
	return FD_OK;
}

/* Report a bad record: go on, or stop under --strict. */
static int bad_record(const char *where, const struct fd_txn_bad *b, int strict, struct fd_err *err)
{
	const char *stop = strict ? " (--strict: stopped here)" : "";

	if (strict) {
		if (b->field < 0)
			return fd_err_set(err, FD_EINPUT, "%s: %s%s", where, b->msg, stop);
		return fd_err_set(err, FD_EINPUT, "%s: field '%s': %s%s", where, b->field_name, b->msg, stop);
	}
	if (b->field < 0)
		fd_cli_msg(&cli, "%s: %s", where, b->msg);
	else
		fd_cli_msg(&cli, "%s: field '%s': %s", where, b->field_name, b->msg);
	return FD_OK;
}

static int open_source(const struct opts *o, char **paths, size_t npaths, struct fd_store *st,
		       const struct fd_colmap *map, struct fd_txnsrc **src, struct fd_err *err)
{
	struct fd_txnsrc_opts so;

	memset(&so, 0, sizeof(so));
	so.stream.delimiter = o->delim;
	so.stream.tz_offset_min = o->tz_min;
	so.stream.currency = o->currency;
	so.stream.map = map;
	so.stream.no_metadata = 1;  /* features read canonical fields only */
	so.paths = (const char *const *)paths;
	so.npaths = npaths;
	so.sort = o->sort;
	if (st) {
		so.store = st;
		so.since = o->since;
		so.until = o->until;
		so.warm_ms = -1;  /* all earlier history: see fd_txnsrc.h */
	}
	return fd_txnsrc_open(src, &so, err);
}

/* Transactions in, features computed by the engine fd-features uses. */
static int read_transactions(const struct opts *o, char **paths, size_t npaths, struct fd_store *st,
			     const struct fd_colmap *map, const struct fd_rules *rules, struct data *d,
			     struct fd_err *err)
{
	struct fd_feat_opts fo = {0};
	struct fd_features *fe = NULL;
	struct fd_txnsrc *src = NULL;
	const struct fd_feat_def *defs;
	size_t ncat = fd_feat_catalog(&defs), j;
	double *sel = NULL, *all = NULL;
	struct fd_rule_hit *hits = NULL;
	int *idx = NULL, rc;
	size_t n;

	fo.label_delay_ms = llround(o->label_delay * (double)DAY_MS);
	/* local_hour on the export's clock (the store's records are UTC) */
	fo.zone_fixed = o->tz != NULL && !st;
	fo.zone_offset_min = o->tz_min;
	fo.zone_name = o->tz;
	if ((rc = feature_list(o->features, &idx, &n, err)) || (rc = set_names(d, idx, n, err)))
		goto out;
	if ((rc = fd_features_create(&fe, &fo, err)) || (rc = fd_features_select_idx(fe, idx, n, 0, err)))
		goto out;
	if (rules) {
		const int *ridx;
		size_t nr = fd_rules_features(rules, &ridx);

		if (nr && (rc = fd_features_select_idx(fe, ridx, nr, 1, err)))
			goto out;
		if (!(hits = malloc((fd_rules_count(rules) + 1) * sizeof(*hits)))) {
			rc = oom(err);
			goto out;
		}
	}
	sel = malloc((fd_features_count(fe) + 1) * sizeof(*sel));
	all = malloc(ncat * sizeof(*all));
	if (!sel || !all) {
		rc = oom(err);
		goto out;
	}
	if ((rc = open_source(o, paths, npaths, st, map, &src, err)))
		goto out;
	for (;;) {
		struct fd_txn t;
		struct fd_txn_bad b;
		int warm, r = fd_txnsrc_next(src, &t, &warm, &b, err);
		float *x;

		if (r == 0)
			break;
		if (r < 0) {
			rc = -r;
			goto out;
		}
		if (r == 2) {
			d->bad++;
			if ((rc = bad_record(fd_txnsrc_where(src), &b, o->strict, err)))
				goto out;
			continue;
		}
		if (warm) {
			d->warm++;
			if ((rc = fd_features_warm(fe, &t, err)))
				goto where;
			continue;
		}
		if ((rc = fd_features_push(fe, &t, sel, all, err)))
			goto where;
		d->read++;
		note_ts(d, t.ts);
		d->fraud += t.label == 1;
		if (!(x = data_row(d, rules != NULL))) {
			rc = oom(err);
			goto out;
		}
		d->label[d->rows] = (signed char)(t.label == 0 || t.label == 1 ? t.label : -1);
		d->ts[d->rows] = t.ts;
		if (d->keep_ids && !(d->txn_id[d->rows] = strdup(t.txn_id))) {
			rc = oom(err);
			goto out;
		}
		for (j = 0; j < n; j++)
			x[j] = (float)all[idx[j]];
		if (rules) {
			size_t k, nh = fd_rules_eval(rules, &t, all, hits);
			int p = 0, blk = 0;

			for (k = 0; k < nh; k++) {
				p += hits[k].points;
				blk |= hits[k].action == FD_RULE_BLOCK;
			}
			d->points[d->rows] = p;
			d->block[d->rows] = (unsigned char)(blk | (nh > 0) << 1);  /* bit 1: any hit */
		}
		d->rows++;
		if ((d->read & 65535) == 0)
			fd_cli_progress(&cli, fd_txnsrc_count(src), fd_txnsrc_bytes(src), -1);
	}
	fd_cli_progress_end(&cli);
	goto out;
where:
	fd_err_prefix(err, "%s", fd_txnsrc_where(src));
out:
	fd_txnsrc_free(src);
	fd_features_free(fe);
	free(idx);
	free(sel);
	free(all);
	free(hits);
	return rc;
}

/* Does this file hold feature rows (no sender column) rather than transactions? */
static int looks_like_features(const char *path, const struct opts *o, const struct fd_colmap *map,
			       int *features, struct fd_err *err)
{
	struct fd_in *in = NULL;
	struct fd_reader *r = NULL;
	struct fd_reader_opts ro = {.format = FD_FMT_AUTO, .delimiter = o->delim};
	const char *sender = map ? fd_colmap_source(map, FD_F_SENDER_ID) : "sender_id", *s;
	size_t n;
	int rc, slot;

	*features = 0;
	if ((rc = fd_in_open(&in, path, 0, err)) || (rc = fd_reader_open(&r, in, &ro, err)))
		goto out;
	if (fd_reader_format(r) == FD_FMT_CSV) {
		*features = !fd_reader_has_column(r, sender) && fd_reader_columns(r, NULL) > 0;
		goto out;
	}
	slot = fd_reader_bind(r, sender);
	if (fd_reader_next(r, err) == 1)
		*features = !fd_reader_get(r, slot, &s, &n);
	fd_err_clear(err);
out:
	fd_reader_free(r);
	fd_in_free(in);
	return rc;
}

/*
 * Feature rows in (fd-features output): txn_id, ts and label are read when present; the
 * features are the --features list, or for CSV every column that is a catalog feature (in the
 * file's order), for NDJSON every catalog feature that some record holds (in catalog order).
 */
static int read_feature_rows(const struct opts *o, char **paths, size_t npaths, struct data *d,
			     struct fd_err *err)
{
	static const char *const stdin_only[] = {"-"};
	const struct fd_feat_def *defs;
	size_t p, j, nidx = 0;
	int *idx = NULL, *slot = NULL, s_ts = -1, s_label = -1, s_id = -1, rc = FD_OK, ndjson = 0;
	unsigned char *seen = NULL;
	struct fd_buf ignored = FD_BUF_INIT;
	size_t nignored = 0;

	fd_feat_catalog(&defs);
	if (npaths == 0) {
		paths = (char **)stdin_only;
		npaths = 1;
	}
	for (p = 0; p < npaths && rc == FD_OK; p++) {
		struct fd_in *in = NULL;
		struct fd_reader *r = NULL;
		struct fd_reader_opts ro = {.format = FD_FMT_AUTO, .delimiter = o->delim};
		const char *const *cols;
		size_t ncols, c;

		if ((rc = fd_in_open(&in, paths[p], 0, err)) || (rc = fd_reader_open(&r, in, &ro, err)))
			goto next;
		ncols = fd_reader_columns(r, &cols);
		if (!idx) {
			/* the feature set, from the first input */
			ndjson = fd_reader_format(r) == FD_FMT_NDJSON;
			if (o->features || ndjson) {
				if ((rc = feature_list(o->features, &idx, &nidx, err)))
					goto next;
			} else {
				if (!(idx = malloc((ncols ? ncols : 1) * sizeof(*idx)))) {
					rc = oom(err);
					goto next;
				}
				for (c = 0; c < ncols; c++) {
					int k = fd_feat_lookup(cols[c]);
					size_t q;

					if (strcmp(cols[c], "txn_id") == 0 || strcmp(cols[c], "ts") == 0 ||
					    strcmp(cols[c], "label") == 0)
						continue;
					for (q = 0; q < nidx && k >= 0 && idx[q] != k; q++)
						;
					if (k >= 0 && q == nidx)
						idx[nidx++] = k;
					else if (k < 0 && nignored++ < 8)
						fd_buf_addf(&ignored, "%s'%s'", ignored.len ? ", " : "", cols[c]);
				}
				if (nidx == 0) {
					rc = fd_err_set(err, FD_EINPUT, "%s: no feature columns (names from fd-features --list)",
							fd_in_name(in));
					goto next;
				}
			}
			if ((rc = set_names(d, idx, nidx, err)))
				goto next;
			if (!(slot = malloc(nidx * sizeof(*slot))) || !(seen = calloc(nidx, 1))) {
				rc = oom(err);
				goto next;
			}
		}
		if (fd_reader_format(r) == FD_FMT_CSV)
			for (j = 0; j < nidx; j++)
				if (!fd_reader_has_column(r, defs[idx[j]].name)) {
					rc = fd_err_set(err, FD_EINPUT, "%s:1: no column for the feature '%s'",
							fd_in_name(in), defs[idx[j]].name);
					goto next;
				}
		for (j = 0; j < nidx; j++)
			slot[j] = fd_reader_bind(r, defs[idx[j]].name);
		s_ts = fd_reader_bind(r, "ts");
		s_label = fd_reader_bind(r, "label");
		s_id = fd_reader_bind(r, "txn_id");
		for (;;) {
			int got = fd_reader_next(r, err), label = -1;
			const char *v;
			size_t n;
			float *x;
			int64_t row_ts;
			char num[64], where[600], vis[80];

			if (got == 0)
				break;
			snprintf(where, sizeof(where), "%s:%lld", fd_in_name(in), (long long)fd_reader_line(r));
			if (got == -FD_EIO) {
				rc = err->code ? err->code : FD_EIO;
				goto next;
			}
			if (got < 0) {
				struct fd_txn_bad b = {-1, "record", "bad record", ""};

				d->bad++;
				snprintf(b.msg, sizeof(b.msg), "%.390s", err->msg);
				if ((rc = bad_record(where, &b, o->strict, err)))
					goto next;
				continue;
			}
			if (fd_reader_get(r, s_label, &v, &n) && n && fd_parse_label(v, n, &label)) {
				struct fd_txn_bad b = {FD_F_LABEL, "label", "bad label", ""};

				fd_visible(vis, sizeof(vis), v, n);
				snprintf(b.msg, sizeof(b.msg), "bad label '%s'", vis);
				d->bad++;
				if ((rc = bad_record(where, &b, o->strict, err)))
					goto next;
				continue;
			}
			row_ts = INT64_MIN;
			if (fd_reader_get(r, s_ts, &v, &n) && n) {
				int64_t ts;

				if (!fd_parse_ts(v, n, o->tz_min, &ts)) {
					note_ts(d, ts);
					row_ts = ts;
				}
			}
			d->read++;
			d->fraud += label == 1;
			if (!(x = data_row(d, 0))) {
				rc = oom(err);
				goto next;
			}
			d->label[d->rows] = (signed char)label;
			d->ts[d->rows] = row_ts;
			if (d->keep_ids) {
				d->txn_id[d->rows] = NULL;
				if (fd_reader_get(r, s_id, &v, &n) && n && !(d->txn_id[d->rows] = strndup(v, n))) {
					rc = oom(err);
					goto next;
				}
			}
			for (j = 0; j < nidx; j++) {
				char *end = num;
				double dv = NAN;

				x[j] = NAN;
				if (!fd_reader_get(r, slot[j], &v, &n) || n == 0)
					continue;
				if (n < sizeof(num)) {
					memcpy(num, v, n);
					num[n] = '\0';
					dv = strtod(num, &end);
				}
				if (n >= sizeof(num) || end == num || *end || !isfinite(dv) || !isfinite((float)dv)) {
					struct fd_txn_bad b = {-1, defs[idx[j]].name, "bad number", ""};

					fd_visible(vis, sizeof(vis), v, n);
					snprintf(b.msg, sizeof(b.msg), "feature '%s': not a finite number: '%s'",
						 defs[idx[j]].name, vis);
					d->bad++;
					d->read--;
					d->fraud -= label == 1;
					if (d->keep_ids)
						free(d->txn_id[d->rows]);
					if ((rc = bad_record(where, &b, o->strict, err)))
						goto next;
					x = NULL;
					break;
				}
				x[j] = (float)dv;
				seen[j] = 1;
			}
			if (x)
				d->rows++;
		}
next:
		fd_reader_free(r);
		fd_in_free(in);
	}
	if (rc == FD_OK && ndjson && !o->features) {
		/* keep the catalog features some record held */
		size_t keep = 0, r2;

		for (j = 0; j < nidx; j++)
			if (seen[j])
				keep++;
		if (keep == 0)
			rc = fd_err_set(err, FD_EINPUT, "no record holds a feature of the catalog");
		else if (keep < nidx) {
			size_t w = 0;

			for (r2 = 0; r2 < d->rows; r2++)
				for (j = 0; j < nidx; j++)
					if (seen[j])
						d->X[w++] = d->X[r2 * nidx + j];
			for (j = 0, w = 0; j < nidx; j++) {
				if (seen[j]) {
					d->names[w] = d->names[j];
					d->cidx[w++] = d->cidx[j];
				} else
					free(d->names[j]);
			}
			d->nf = keep;
		}
	}
	if (rc == FD_OK && nignored && !cli.quiet)
		fd_cli_msg(&cli, "ignored %zu column%s that are not features of the catalog: %s%s", nignored,
			   nignored == 1 ? "" : "s", ignored.s, nignored > 8 ? ", ..." : "");
	fd_buf_release(&ignored);
	free(idx);
	free(slot);
	free(seen);
	return rc;
}

/* ---- training ---------------------------------------------------------------------------- */

struct progress {
	double t_last, t_start;
	unsigned epochs, patience, best_epoch;
	double best;
	size_t n_train;
};

static void add_duration(char *buf, size_t n, double s)
{
	if (s < 90)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 5400)
		snprintf(buf, n, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
	else
		snprintf(buf, n, "%.0fh%02.0fm", floor(s / 3600), fmod(s / 60, 60));
}

static int on_epoch(unsigned epoch, double train_loss, double val_loss, double rows_per_s, void *user)
{
	struct progress *p = user;
	double now = fd_now(), per = (now - p->t_start) / epoch;
	char left[32], most[32];
	unsigned rest_stop, rest_max = p->epochs - epoch;

	if (!(val_loss >= p->best) || epoch == 1) {
		p->best = val_loss;
		p->best_epoch = epoch;
	}
	/* if the validation loss stops improving now, training ends patience epochs after the best */
	rest_stop = p->patience ? p->best_epoch + p->patience - epoch : rest_max;
	if (rest_stop > rest_max)
		rest_stop = rest_max;
	add_duration(left, sizeof(left), per * rest_stop);
	add_duration(most, sizeof(most), per * rest_max);
	fd_cli_msg(&cli, "epoch %u/%u: train loss %.5f, validation loss %.5f%s, %.0f rows/s, %.1f s/epoch; "
		   "%s left if it stops improving (at most %s)", epoch, p->epochs, train_loss, val_loss,
		   p->best_epoch == epoch ? " (best)" : "", rows_per_s, now - p->t_last, left, most);
	p->t_last = now;
	return 0;
}

/* SOURCE_DATE_EPOCH (seconds), if set and sane. */
static int source_date_epoch(int64_t *ms)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!e || !*e)
		return 0;
	errno = 0;
	v = strtoll(e, &end, 10);
	if (errno || *end || v < 0 || v > 253402300799LL)
		fd_cli_usage_error(&cli, "SOURCE_DATE_EPOCH must be whole seconds since 1970, not '%s'", e);
	*ms = v * 1000;
	return 1;
}

static int make_dirs_for(const char *path, struct fd_err *err)
{
	char dir[4096], *slash;

	if (strlen(path) >= sizeof(dir))
		return FD_OK;
	memcpy(dir, path, strlen(path) + 1);
	if (!(slash = strrchr(dir, '/')) || slash == dir)
		return FD_OK;
	*slash = '\0';
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return fd_err_set(err, FD_EIO, "cannot create the directory '%s': %s", dir, strerror(errno));
	return FD_OK;
}

/* ---- labels: case outcomes, the label delay ------------------------------------------- */

struct case_label {
	char *txn_id;
	int label;
};

static int cmp_case_label(const void *a, const void *b)
{
	return strcmp(((const struct case_label *)a)->txn_id, ((const struct case_label *)b)->txn_id);
}

/*
 * Case outcomes from the store's effective_labels view override the labels read (the
 * newest outcome of each transaction, known by as_of).  *changed: rows whose label changed.
 */
static int apply_case_labels(struct fd_store *st, struct data *d, int64_t as_of, int64_t *changed,
			     struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	struct case_label *cl = NULL;
	size_t n = 0, cap = 0, i;
	int rc = FD_OK, r;

	*changed = 0;
	if ((rc = fd_store_prepare(st, &q, "SELECT txn_id, label FROM effective_labels"
				   " WHERE origin = 'case' AND labelled_at <= ?1", err)))
		return rc;
	sqlite3_bind_int64(q, 1, as_of);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 0);

		if (!id || sqlite3_column_type(q, 1) == SQLITE_NULL)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 256;
			struct case_label *p = realloc(cl, nc * sizeof(*p));

			if (!p) {
				rc = oom(err);
				goto out;
			}
			cl = p;
			cap = nc;
		}
		if (!(cl[n].txn_id = strdup(id))) {
			rc = oom(err);
			goto out;
		}
		cl[n++].label = sqlite3_column_int(q, 1) ? 1 : 0;
	}
	if (r != SQLITE_DONE) {
		rc = fd_store_error(st, "cannot read effective_labels", err);
		goto out;
	}
	if (n)
		qsort(cl, n, sizeof(*cl), cmp_case_label);
	for (i = 0; n && i < d->rows; i++) {
		struct case_label key, *hit;

		if (!d->txn_id[i])
			continue;
		key.txn_id = d->txn_id[i];
		if ((hit = bsearch(&key, cl, n, sizeof(*cl), cmp_case_label)) && d->label[i] != hit->label) {
			d->fraud += (hit->label == 1) - (d->label[i] == 1);
			d->label[i] = (signed char)hit->label;
			(*changed)++;
		}
	}
out:
	sqlite3_finalize(q);
	for (i = 0; i < n; i++)
		free(cl[i].txn_id);
	free(cl);
	return rc;
}

/* ---- the split and the training -------------------------------------------------------- */

#define VAL_SHARE 0.2     /* the last fifth of the training period in time validates */
#define MIN_FRAUD_GB 20   /* labelled frauds the boosted trees need in the training part */

/* Row groups after the split, in this order in the matrix. */
enum { G_TU, G_TL, G_TF, G_VU, G_VL, G_VF, G_N };  /* train/validation x unknown/legit/fraud */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Split in time: validation is every row at or after the time that leaves VAL_SHARE of the
 * timed rows after it (by position when rows have no time), and reorder the rows (stably)
 * into the groups above; g[] receives the groups' sizes, *cut the time (INT64_MIN by
 * position).
 */
static int split_groups(struct data *d, size_t g[G_N], int64_t *cut, struct fd_err *err)
{
	size_t i, ntimed = 0, at[G_N], nf = d->nf;
	int64_t *t = NULL;
	unsigned char *grp = malloc(d->rows ? d->rows : 1);
	float *X2 = NULL;
	int *p2 = NULL;
	unsigned char *b2 = NULL;
	signed char *l2 = NULL;
	int64_t *ts2 = NULL;
	char **id2 = NULL;
	int rc = FD_OK;

	memset(g, 0, G_N * sizeof(*g));
	*cut = INT64_MIN;
	if (!grp || !(t = malloc((d->rows ? d->rows : 1) * sizeof(*t))))
		goto oom;
	for (i = 0; i < d->rows; i++)
		if (d->ts[i] != INT64_MIN)
			t[ntimed++] = d->ts[i];
	if (ntimed == d->rows && ntimed > 1) {
		qsort(t, ntimed, sizeof(*t), cmp_i64);
		*cut = t[(size_t)floor((1.0 - VAL_SHARE) * (double)ntimed)];
		if (*cut <= t[0])
			*cut = INT64_MIN;  /* one instant: split by position */
	}
	for (i = 0; i < d->rows; i++) {
		int val = *cut != INT64_MIN ? d->ts[i] >= *cut : (double)i >= (1.0 - VAL_SHARE) * (double)d->rows;
		int kind = d->label[i] < 0 ? 0 : d->label[i] == 0 ? 1 : 2;

		grp[i] = (unsigned char)(val * 3 + kind);
		g[grp[i]]++;
	}
	at[0] = 0;
	for (i = 1; i < G_N; i++)
		at[i] = at[i - 1] + g[i - 1];
	X2 = malloc((d->rows ? d->rows : 1) * nf * sizeof(*X2));
	l2 = malloc(d->rows ? d->rows : 1);
	ts2 = malloc((d->rows ? d->rows : 1) * sizeof(*ts2));
	if (!X2 || !l2 || !ts2)
		goto oom;
	if (d->points && (!(p2 = malloc(d->rows * sizeof(*p2))) || !(b2 = malloc(d->rows))))
		goto oom;
	if (d->txn_id && !(id2 = malloc(d->rows * sizeof(*id2))))
		goto oom;
	for (i = 0; i < d->rows; i++) {
		size_t w = at[grp[i]]++;

		memcpy(X2 + w * nf, d->X + i * nf, nf * sizeof(*X2));
		l2[w] = d->label[i];
		ts2[w] = d->ts[i];
		if (p2) {
			p2[w] = d->points[i];
			b2[w] = d->block[i];
		}
		if (id2)
			id2[w] = d->txn_id[i];
	}
	free(d->X);
	free(d->label);
	free(d->ts);
	d->X = X2;
	d->label = l2;
	d->ts = ts2;
	X2 = NULL;
	l2 = NULL;
	ts2 = NULL;
	if (p2) {
		free(d->points);
		free(d->block);
		d->points = p2;
		d->block = b2;
		p2 = NULL;
		b2 = NULL;
	}
	if (id2) {
		free(d->txn_id);
		d->txn_id = id2;
		id2 = NULL;
	}
	d->cap = d->rows;
	goto out;
oom:
	rc = oom(err);
out:
	free(grp);
	free(t);
	free(X2);
	free(p2);
	free(b2);
	free(l2);
	free(ts2);
	free(id2);
	return rc;
}

/* Drop the features that are missing or constant in every row; their names go to dropped
 * (a JSON array's members) and, as words, to words. */
static int drop_features(struct data *d, struct fd_buf *dropped, struct fd_buf *words, size_t *ndropped,
			 struct fd_err *err)
{
	size_t j, i, w = 0, nf = d->nf;
	unsigned char *keep = malloc(nf ? nf : 1);
	float *lo = malloc((nf ? nf : 1) * sizeof(*lo)), *hi = malloc((nf ? nf : 1) * sizeof(*hi));

	*ndropped = 0;
	if (!keep || !lo || !hi) {
		free(keep);
		free(lo);
		free(hi);
		return oom(err);
	}
	/* every feature's range in one pass over the rows (NaN compares false: skipped) */
	for (j = 0; j < nf; j++) {
		lo[j] = INFINITY;
		hi[j] = -INFINITY;
	}
	for (i = 0; i < d->rows; i++) {
		const float *x = d->X + i * nf;

		for (j = 0; j < nf; j++) {
			if (x[j] < lo[j])
				lo[j] = x[j];
			if (x[j] > hi[j])
				hi[j] = x[j];
		}
	}
	for (j = 0; j < nf; j++) {
		int missing = lo[j] > hi[j];

		keep[j] = !missing && hi[j] > lo[j];
		if (!keep[j]) {
			if ((dropped->len && fd_buf_addc(dropped, ',')) ||
			    fd_buf_add_json_str(dropped, d->names[j], strlen(d->names[j])) ||
			    fd_buf_addf(words, "%s%s (%s)", *ndropped ? ", " : "", d->names[j],
					missing ? "missing" : "constant")) {
				free(keep);
				free(lo);
				free(hi);
				return oom(err);
			}
			(*ndropped)++;
		}
	}
	free(lo);
	free(hi);
	if (*ndropped == nf) {
		free(keep);
		return fd_err_set(err, FD_EINPUT, "every feature is missing or constant in the training data: %s", words->s);
	}
	if (*ndropped) {
		for (i = 0; i < d->rows; i++)
			for (j = 0; j < nf; j++)
				if (keep[j])
					d->X[w++] = d->X[i * nf + j];
		for (j = 0, w = 0; j < nf; j++) {
			if (keep[j]) {
				d->names[w] = d->names[j];
				d->cidx[w++] = d->cidx[j];
			} else
				free(d->names[j]);
		}
		d->nf = w;
	}
	free(keep);
	return FD_OK;
}

/* ---- samples ----------------------------------------------------------------------------- */

#define RNG_GB_TRAIN 0x6762747261696eULL  /* the streams of the samples */
#define RNG_GB_VAL 0x676276616cULL
#define RNG_AE 0x6165ULL

/* CPU seconds of the process (every thread), for the per-phase breakdown. */
static double cpu_now(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) != 0)
		return 0;
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/*
 * Choose k of the rows 0 .. n-1 (k <= n), each k-set equally likely, in ascending order
 * (selection sampling, Knuth's Algorithm S): row i is kept with probability (k - kept) /
 * (n - i).  Deterministic for a seed and stream.
 */
static void choose_rows(size_t n, size_t k, uint64_t seed, uint64_t stream, size_t *idx)
{
	struct fd_rng r;
	size_t i, kept = 0;

	fd_rng_seed(&r, seed, stream);
	for (i = 0; i < n && kept < k; i++)
		if (fd_rng_below(&r, n - i) < k - kept)
			idx[kept++] = i;
}

/* The boosting rows of one part of the split. */
struct gb_part {
	float *X, *y, *w;      /* rows x nf, labels, weights (w NULL: all 1) */
	size_t n, legit, legit_all, fraud;
	double legit_weight;   /* what a sampled legitimate row stands for */
	int own_X;             /* X allocated here (a sample), not borrowed */
};

static void gb_part_release(struct gb_part *p)
{
	if (p->own_X)
		free(p->X);
	free(p->y);
	free(p->w);
	memset(p, 0, sizeof(*p));
}

/*
 * The boosting rows of a part: its nl legitimate rows at Xl and its nfr fraud rows right after
 * them.  With cap 0, or when the part holds at most cap rows, all of them (borrowed); else
 * every fraud row and cap minus their number (at least cap / 2) legitimate rows chosen at
 * random, each weighing nl / chosen, so the weighted rows stand for the whole part and the
 * trees' probabilities stay calibrated.
 */
static int gb_part_make(struct gb_part *p, const float *Xl, size_t nl, size_t nfr, size_t nf, size_t cap,
			uint64_t seed, uint64_t stream, struct fd_err *err)
{
	size_t k = nl, i, *idx = NULL;

	memset(p, 0, sizeof(*p));
	if (cap && nl + nfr > cap)
		k = cap > nfr && cap - nfr > cap / 2 ? cap - nfr : cap / 2;
	if (k > nl)
		k = nl;
	p->n = k + nfr;
	p->legit = k;
	p->legit_all = nl;
	p->fraud = nfr;
	p->legit_weight = k ? (double)nl / (double)k : 1.0;
	if (!(p->y = malloc((p->n ? p->n : 1) * sizeof(*p->y))))
		return oom(err);
	for (i = 0; i < p->n; i++)
		p->y[i] = i >= k;
	if (k == nl) {
		p->X = (float *)Xl;
		return FD_OK;
	}
	idx = malloc(k * sizeof(*idx));
	p->X = malloc(p->n * nf * sizeof(*p->X));
	p->w = malloc(p->n * sizeof(*p->w));
	p->own_X = 1;
	if (!idx || !p->X || !p->w) {
		free(idx);
		return oom(err);
	}
	choose_rows(nl, k, seed, stream, idx);
	for (i = 0; i < k; i++) {
		memcpy(p->X + i * nf, Xl + idx[i] * nf, nf * sizeof(*p->X));
		p->w[i] = (float)p->legit_weight;
	}
	memcpy(p->X + k * nf, Xl + nl * nf, nfr * nf * sizeof(*p->X));
	for (i = k; i < p->n; i++)
		p->w[i] = 1.0f;
	free(idx);
	return FD_OK;
}

/* Rows for the autoencoder: n rows of X, or a sample of cap of them (copied to *own). */
static int ae_sample(const float *X, size_t n, size_t nf, size_t cap, uint64_t seed, const float **Xa, size_t *na,
		     float **own, struct fd_err *err)
{
	size_t *idx, i;

	*own = NULL;
	*Xa = X;
	*na = n;
	if (!cap || n <= cap)
		return FD_OK;
	idx = malloc(cap * sizeof(*idx));
	*own = malloc(cap * nf * sizeof(**own));
	if (!idx || !*own) {
		free(idx);
		return oom(err);
	}
	choose_rows(n, cap, seed, RNG_AE, idx);
	for (i = 0; i < cap; i++)
		memcpy(*own + i * nf, X + idx[i] * nf, nf * sizeof(**own));
	free(idx);
	*Xa = *own;
	*na = cap;
	return FD_OK;
}

/* ---- training ---------------------------------------------------------------------------- */

static int train(const struct opts *o, char **paths, size_t npaths, struct fd_err *err)
{
	struct data d;
	struct fd_store *st = NULL;
	struct fd_colmap *map = NULL;
	struct fd_rules *rules = NULL;
	struct fd_model *m = NULL;
	struct fd_nn *nn = NULL;
	struct fd_nn_ws *ws = NULL;
	struct fd_iforest *forest = NULL;
	struct fd_gbdt *gb = NULL;
	struct fd_gbdt_opts go;
	struct fd_gbdt_result gres;
	struct fd_nn_train_opts to;
	struct fd_nn_train_result res;
	struct fd_iforest_opts fo;
	struct fd_metrics *metrics = NULL;
	struct fd_buf mj = FD_BUF_INIT, file = FD_BUF_INIT, path = FD_BUF_INIT, dropped = FD_BUF_INIT;
	struct fd_buf dropped_words = FD_BUF_INIT, gb_skip = FD_BUF_INIT, stack_skip = FD_BUF_INIT;
	struct fd_out *out = NULL;
	struct progress prog;
	struct fd_score_layers *sl = NULL;
	size_t hidden[FD_NN_MAX_HIDDEN], nh, i, g[G_N], n_unsup, n_val, v0, ndropped = 0;
	float *verr = NULL, *ifs = NULL, *gbp = NULL, *ae_own = NULL;
	const float *Xa;
	size_t n_ae = 0;
	struct gb_part gbt, gbv;
	/* CPU seconds per phase */
	enum { P_FEAT, P_PREP, P_TREES, P_AE, P_FOREST, P_STACK, P_WRITE, P_N };
	static const char *const phase_name[P_N] = {"features", "preparation", "trees", "autoencoder", "forest",
						    "stackers", "writing"};
	double cpu[P_N] = {0}, c_mark = cpu_now();
	int *vpoints = NULL, *slab = NULL;
	unsigned char *vblock = NULL;
	char *rules_path = NULL, rules_sha[65] = "", sha[65], version[FD_MODEL_VERSION_LEN + 1];
	int rc, kind = o->input, store_input = o->since_arg || o->until_arg, registered = 0;
	int64_t model_id = 0, cut, case_changed = 0, delayed = 0;
	double qm = 0.95, qh = 0.99, t0 = fd_now(), t_train = 0, t_gb = 0;

	memset(&d, 0, sizeof(d));
	memset(&res, 0, sizeof(res));
	memset(&gres, 0, sizeof(gres));
	memset(&gbt, 0, sizeof(gbt));
	memset(&gbv, 0, sizeof(gbv));
#define PHASE(p) do { double c_ = cpu_now(); cpu[p] += c_ - c_mark; c_mark = c_; } while (0)
	if (o->map_spec && (rc = fd_colmap_load(&map, o->map_spec, err)))
		goto out;
	if (kind == IN_AUTO) {
		kind = IN_TXNS;
		if (!store_input && npaths > 0 && strcmp(paths[0], "-") != 0) {
			int feat;

			if ((rc = looks_like_features(paths[0], o, map, &feat, err)))
				goto out;
			if (feat)
				kind = IN_FEATURES;
		}
	}
	if (kind == IN_FEATURES && store_input)
		fd_cli_usage_error(&cli, "--since and --until read transactions from the store, not feature rows");
	if (kind == IN_FEATURES && o->rules)
		fd_cli_usage_error(&cli, "--rules needs transactions: %s holds feature rows", paths[0]);
	/* the rules: their points enter the risk calibration (transactions only) */
	if (kind == IN_TXNS && !o->no_rules) {
		const char *rp = o->rules;

		if (!rp && !(rp = rules_path = fd_datafile_find(argv0, "FD_RULES", "rules/default.rules",
								"rules file", "--rules", err))) {
			char msg[sizeof(err->msg)];

			memcpy(msg, err->msg, sizeof(msg));
			rc = fd_err_set(err, err->code, "%s; or train with --no-rules", msg);
			goto out;
		}
		if ((rc = fd_rules_load(&rules, rp, err)) || (rc = fd_sha256_file(rp, rules_sha, NULL, err)))
			goto out;
	}
	if (store_input || cli.store_opt) {
		struct fd_who who = {cli.actor, "fd-train", FD_VERSION};
		int flags = cli.store_opt ? FD_STORE_CREATE : FD_STORE_READONLY;

		if (store_input && cli.store_opt)
			flags = 0;
		if ((rc = fd_store_open(&st, cli.store, flags, &who, err)) ||
		    (cli.store_opt && (rc = fd_role_authorize(st, FD_ACT_TRAIN, "new model", err))))
			goto out;
	}
	d.keep_ids = st != NULL;
	if (kind == IN_TXNS)
		rc = read_transactions(o, paths, npaths, store_input ? st : NULL, map, rules, &d, err);
	else
		rc = read_feature_rows(o, paths, npaths, &d, err);
	if (rc)
		goto out;
	PHASE(P_FEAT);

	if (o->alerts_per_day > 0) {
		double days, share;

		if (!d.have_ts || d.ts_max <= d.ts_min) {
			rc = fd_err_set(err, FD_EUSAGE, "--alerts-per-day needs timestamps spanning more than an instant");
			goto out;
		}
		days = (double)(d.ts_max - d.ts_min) / (double)DAY_MS;
		share = o->alerts_per_day * days / (double)d.read;
		if (!(share > 0 && share < 0.5)) {
			rc = fd_err_set(err, FD_EUSAGE, "--alerts-per-day %g over %.1f days of %lld transactions is %.1f%% of them: "
					"give fewer than half", o->alerts_per_day, days, (long long)d.read, 100 * share);
			goto out;
		}
		qm = 1.0 - share;
		qh = 1.0 - share / 5.0;
	}

	/* the labels as known at training time: case outcomes, then the delay */
	if (st && (rc = apply_case_labels(st, &d, o->as_of_arg ? o->as_of : INT64_MAX, &case_changed, err)))
		goto out;
	if (o->as_of_arg) {
		int64_t delay = llround(o->label_delay * (double)DAY_MS);

		for (i = 0; i < d.rows; i++)
			if (d.label[i] >= 0 && d.ts[i] != INT64_MIN && d.ts[i] > o->as_of - delay) {
				d.label[i] = -1;
				delayed++;
			}
	}
	if ((rc = split_groups(&d, g, &cut, err)))
		goto out;
	n_unsup = g[G_TU] + g[G_TL];
	v0 = g[G_TU] + g[G_TL] + g[G_TF];
	n_val = d.rows - v0;
	if (n_unsup < MIN_ROWS || n_val < MIN_ROWS) {
		rc = fd_err_set(err, FD_EINPUT, "%zu rows to train on and %zu to validate (%lld read, %lld labelled fraud): "
				"at least %d of each needed", n_unsup, n_val, (long long)d.read, (long long)d.fraud, MIN_ROWS);
		goto out;
	}
	if ((rc = drop_features(&d, &dropped, &dropped_words, &ndropped, err)))
		goto out;
	if (ndropped && !cli.quiet)
		fd_cli_msg(&cli, "dropped %zu feature%s missing or constant in the training data: %s", ndropped,
			   ndropped == 1 ? "" : "s", dropped_words.s);
	/* the model: histograms, the boosted trees (raw values), scaler, autoencoder, forest */
	if ((rc = fd_model_create(&m, (const char *const *)d.names, d.nf, err)))
		goto out;
	{
		char hex[65];

		/* the training data as the model saw it: the raw matrix (float32, row-major) */
		fd_sha256_hex(d.X, d.rows * d.nf * sizeof(float), hex);
		memcpy(m->meta.data_sha256, hex, sizeof(hex));
	}
	if ((rc = fd_model_fit_hist(m, d.X, d.rows, err)))
		goto out;
	if (d.have_ts && d.ts_max > d.ts_min)
		m->rows_per_day = (double)d.read / ((double)(d.ts_max - d.ts_min) / (double)DAY_MS);
	if (o->no_gbdt)
		fd_buf_adds(&gb_skip, "--no-gbdt");
	else if (g[G_TF] < MIN_FRAUD_GB || g[G_VF] < FD_SCORE_MIN_FRAUD || !g[G_TL] || !g[G_VL])
		fd_buf_addf(&gb_skip, "too few labels: %zu labelled fraud in the training part and %zu in the validation part "
			    "(at least %d and %d needed)", g[G_TF], g[G_VF], MIN_FRAUD_GB, FD_SCORE_MIN_FRAUD);
	PHASE(P_PREP);
	if (!gb_skip.len) {
		if ((rc = gb_part_make(&gbt, d.X + g[G_TU] * d.nf, g[G_TL], g[G_TF], d.nf, o->gb_rows, o->seed, RNG_GB_TRAIN,
				       err)) ||
		    (rc = gb_part_make(&gbv, d.X + (v0 + g[G_VU]) * d.nf, g[G_VL], g[G_VF], d.nf, o->gb_rows, o->seed,
				       RNG_GB_VAL, err)))
			goto out;
		fd_gbdt_opts_init(&go);
		go.seed = o->seed;
		go.max_rounds = o->gb_rounds;
		go.scale_pos_weight = o->gb_pos_weight;
		go.eval_every = o->gb_eval_every;
		if (cli.progress)
			fd_cli_msg(&cli, "boosting on %zu labelled rows (%zu fraud, %zu of %zu legitimate), validating on %zu "
				   "(%zu fraud, %zu of %zu legitimate)", gbt.n, gbt.fraud, gbt.legit, gbt.legit_all, gbv.n,
				   gbv.fraud, gbv.legit, gbv.legit_all);
		t_gb = fd_now();
		if ((rc = fd_gbdt_train_weighted(&gb, gbt.X, gbt.y, gbt.w, gbt.n, gbv.X, gbv.y, gbv.w, gbv.n, d.nf, &go,
						 &gres, err)))
			goto out;
		t_gb = fd_now() - t_gb;
		if ((rc = fd_model_set_gbdt(m, gb, err)))
			goto out;
		gb = NULL;
		/* the stackers see every validation row */
		if (!(gbp = malloc(n_val * sizeof(*gbp)))) {
			rc = oom(err);
			goto out;
		}
		if ((rc = fd_gbdt_predict(m->gb, d.X + v0 * d.nf, n_val, gbp, err)))
			goto out;
	} else if (!cli.quiet && !o->no_gbdt)
		fd_cli_msg(&cli, "no boosted trees: %s; the autoencoder and the forest carry on", gb_skip.s);
	PHASE(P_TREES);
	fd_model_fit_scaler(m, d.X, n_unsup);
	fd_model_standardise(m, d.X, d.rows);
	if ((rc = ae_sample(d.X, n_unsup, d.nf, o->ae_rows, o->seed, &Xa, &n_ae, &ae_own, err)))
		goto out;
	if (o->layers) {
		if ((rc = fd_nn_parse_layers(o->layers, hidden, &nh, err)))
			goto out;
	} else
		fd_nn_default_layers(d.nf, hidden, &nh);
	if ((rc = fd_nn_create(&nn, d.nf, hidden, nh, o->seed, err)))
		goto out;
	fd_nn_train_opts_init(&to);
	to.batch = o->batch;
	to.max_epochs = o->epochs;
	to.patience = o->patience;
	to.seed = o->seed;
	memset(&prog, 0, sizeof(prog));
	prog.t_start = prog.t_last = fd_now();
	prog.epochs = o->epochs;
	prog.patience = o->patience;
	if (cli.progress) {
		to.progress = on_epoch;
		to.user = &prog;
		fd_cli_msg(&cli, "training the autoencoder on %zu of %zu rows of %zu features (%lld labelled fraud left out)",
			   n_ae, n_unsup, d.nf, (long long)g[G_TF]);
	}
	t_train = fd_now();
	if ((rc = fd_nn_train(nn, Xa, n_ae, d.nf, &to, &res, err)))
		goto out;
	t_train = fd_now() - t_train;
	free(ae_own);
	ae_own = NULL;
	PHASE(P_AE);
	if ((rc = fd_model_set_nn(m, nn, err)))
		goto out;
	nn = NULL;
	fd_iforest_opts_init(&fo);
	fo.trees = o->trees;
	fo.subsample = o->subsample;
	fo.seed = o->seed ^ 0x9e3779b97f4a7c15ULL;
	if ((rc = fd_iforest_train(&forest, d.X, n_unsup, d.nf, &fo, err)))
		goto out;
	if ((rc = fd_model_set_forest(m, forest, err)))
		goto out;
	forest = NULL;
	PHASE(P_FOREST);

	/* the validation rows, later in time than every training row: calibration */
	verr = malloc(n_val * sizeof(*verr));
	ifs = malloc(n_val * sizeof(*ifs));
	if (!verr || !ifs || (rc = fd_nn_ws_create(&ws, m->nn, 256, err))) {
		rc = rc ? rc : oom(err);
		goto out;
	}
	fd_nn_errors(m->nn, ws, d.X + v0 * d.nf, n_val, verr, NULL);
	fd_iforest_score(m->forest, d.X + v0 * d.nf, n_val, ifs);
	if (rules) {
		vpoints = malloc(n_val * sizeof(*vpoints));
		vblock = malloc(n_val);
		if (!vpoints || !vblock) {
			rc = oom(err);
			goto out;
		}
		for (i = 0; i < n_val; i++) {
			vpoints[i] = d.points[v0 + i];
			vblock[i] = d.block[v0 + i] & 1;
		}
	}
	/* the layers' own thresholds on the validation rows not known to be fraud */
	if ((rc = fd_score_calibrate(m, verr, ifs, vpoints, vblock, g[G_VU] + g[G_VL], qm, qh, err)))
		goto out;
	/* the stackers on the labelled validation rows */
	{
		size_t nl = g[G_VL] + g[G_VF], k;

		sl = calloc(nl ? nl : 1, sizeof(*sl));
		slab = malloc((nl ? nl : 1) * sizeof(*slab));
		if (!sl || !slab) {
			rc = oom(err);
			goto out;
		}
		for (k = 0; k < nl; k++) {
			size_t r = g[G_VU] + k;  /* index within the validation rows */

			sl[k].ae_error = verr[r];
			sl[k].ae_u = fd_score_ae_surprise(m, verr[r]);
			sl[k].if_score = ifs[r];
			sl[k].if_u = fd_score_forest_surprise(m, ifs[r]);
			sl[k].gb_p = gbp ? gbp[r] : NAN;
			sl[k].rules_present = rules != NULL;
			sl[k].rule_points = rules ? d.points[v0 + r] : 0;
			sl[k].nhits = rules ? (d.block[v0 + r] >> 1) : 0;
			sl[k].block = rules ? d.block[v0 + r] & 1 : 0;
			slab[k] = d.label[v0 + r];
		}
		rc = fd_score_fit_stack(m, sl, slab, nl, qm, qh, err);
		if (rc == FD_EINPUT) {
			fd_buf_adds(&stack_skip, err->msg);
			fd_err_clear(err);
			if (!cli.quiet)
				fd_cli_msg(&cli, "no stacker: %s; the layers combine with fixed weights", stack_skip.s);
		} else if (rc)
			goto out;
		rc = FD_OK;
	}

	PHASE(P_STACK);
	/* metadata: nothing here depends on the clock, so the file is reproducible */
	m->meta.rows = n_unsup;
	m->meta.seed = o->seed;
	if (!source_date_epoch(&m->meta.created_ms))
		m->meta.created_ms = d.have_ts ? d.ts_max : 0;
	snprintf(m->meta.tool_version, sizeof(m->meta.tool_version), "fd-train %s", FD_VERSION);
	fd_buf_addf(&mj, "{\"input\":\"%s\",\"rows_read\":%lld,\"fraud_left_out\":%lld,\"rows\":%zu,"
		    "\"features\":%zu,\"layers\":[", kind == IN_TXNS ? "transactions" : "features",
		    (long long)d.read, (long long)(g[G_TF] + g[G_VF]), n_unsup, d.nf);
	for (i = 0; i < nh; i++)
		fd_buf_addf(&mj, "%s%zu", i ? "," : "", hidden[i]);
	fd_buf_addf(&mj, "],\"batch\":%zu,\"max_epochs\":%u,\"patience\":%u,\"epochs\":%u,\"best_epoch\":%u,"
		    "\"stopped_early\":%s,\"train_loss\":%.9g,\"val_loss\":%.9g,\"n_train\":%zu,\"n_val\":%zu,"
		    "\"trees\":%u,\"subsample\":%zu,\"quantiles\":[%.9g,%.9g]", o->batch, o->epochs, o->patience,
		    res.epochs, res.best_epoch, res.stopped_early ? "true" : "false", res.train_loss, res.val_loss,
		    n_ae, n_val, fd_iforest_trees(m->forest), fd_iforest_subsample(m->forest), qm, qh);
	fd_buf_addf(&mj, ",\"ae_rows\":%zu,\"ae_rows_from\":%zu", n_ae, n_unsup);
	fd_buf_addf(&mj, ",\"split\":{\"train\":%zu,\"validation\":%zu,\"validation_from\":", v0, n_val);
	if (cut != INT64_MIN)
		fd_buf_addf(&mj, "%lld}", (long long)cut);
	else
		fd_buf_adds(&mj, "null}");
	fd_buf_addf(&mj, ",\"labels\":{\"train_fraud\":%zu,\"train_legit\":%zu,\"validation_fraud\":%zu,"
		    "\"validation_legit\":%zu,\"unknown\":%zu,\"from_cases\":%lld,\"hidden_by_delay\":%lld}",
		    g[G_TF], g[G_TL], g[G_VF], g[G_VL], g[G_TU] + g[G_VU], (long long)case_changed, (long long)delayed);
	if (o->as_of_arg)
		fd_buf_addf(&mj, ",\"as_of\":%lld,\"label_delay_days\":%.9g", (long long)o->as_of, o->label_delay);
	fd_buf_addf(&mj, ",\"dropped_features\":[%s]", dropped.s ? dropped.s : "");
	if (m->gb)
		fd_buf_addf(&mj, ",\"gbdt\":{\"rounds\":%u,\"best_rounds\":%u,\"val_ap\":%.9g,\"n_train\":%zu,\"pos_train\":%zu,"
			    "\"n_val\":%zu,\"pos_val\":%zu,\"scale_pos_weight\":%.9g,\"max_depth\":%u,\"eta\":%.9g,"
			    "\"patience\":%u,\"eval_every\":%u,\"legit_train\":%zu,\"legit_train_all\":%zu,"
			    "\"legit_train_weight\":%.9g,\"legit_val\":%zu,\"legit_val_all\":%zu,\"legit_val_weight\":%.9g}",
			    gres.rounds, gres.best_rounds, gres.best_val_ap, gres.n_train, gres.pos_train, gres.n_val, gres.pos_val,
			    gres.scale_pos_weight, go.max_depth, go.eta, go.patience, go.eval_every, gbt.legit, gbt.legit_all,
			    gbt.legit_weight, gbv.legit, gbv.legit_all, gbv.legit_weight);
	else {
		fd_buf_adds(&mj, ",\"gbdt_skipped\":");
		fd_buf_add_json_str(&mj, gb_skip.s ? gb_skip.s : "", gb_skip.len);
	}
	if (stack_skip.len) {
		fd_buf_adds(&mj, ",\"stacker_skipped\":");
		fd_buf_add_json_str(&mj, stack_skip.s, stack_skip.len);
	}
	if (o->alerts_per_day > 0)
		fd_buf_addf(&mj, ",\"alerts_per_day\":%.9g", o->alerts_per_day);
	if (rules)
		fd_buf_addf(&mj, ",\"rules_sha256\":\"%s\"", rules_sha);
	else
		fd_buf_adds(&mj, ",\"rules_sha256\":null");
	if (fd_buf_addc(&mj, '}')) {
		rc = oom(err);
		goto out;
	}
	if ((rc = fd_model_set_metrics(m, mj.s, err)) || (rc = fd_model_encode(m, &file, err)))
		goto out;
	fd_sha256_hex(file.s, file.len, sha);
	fd_score_model_version(sha, version);
	if (o->output)
		fd_buf_adds(&path, o->output);
	else
		fd_buf_addf(&path, "models/model-%s.fdm", version);
	if (!path.s) {
		rc = oom(err);
		goto out;
	}
	if (!o->output && (rc = make_dirs_for(path.s, err)))
		goto out;
	{
		if ((rc = fd_out_open(&out, path.s, NULL, err)))
			goto out;
		fd_out_write(out, file.s, file.len);
		rc = fd_out_commit(out, err);
		out = NULL;
		if (rc)
			goto out;
	}
	if (cli.store_opt) {
		/* a promoted model is found by path from anywhere: register it absolute */
		char *abs = o->promote && strcmp(path.s, "-") != 0 ? realpath(path.s, NULL) : NULL;

		rc = fd_score_register_model(st, m, abs ? abs : path.s, sha, fd_wall_ms(), &model_id, &registered, err);
		free(abs);
		if (rc)
			goto out;
		if (o->promote && (rc = fd_score_promote_model(st, model_id, err)))
			goto out;
	}
	if (strcmp(path.s, "-") != 0)
		printf("%s\n", path.s);
	if (!cli.quiet) {
		fd_cli_msg(&cli, "%zu rows of %zu features (%lld labelled fraud, %lld bad records skipped): %zu to train, "
			   "%zu to validate (the last %.0f%% in time); the autoencoder and the forest learn from the %zu "
			   "not labelled fraud", d.rows, d.nf, (long long)d.fraud, (long long)d.bad, v0, n_val,
			   100 * VAL_SHARE, n_unsup);
		char arch[FD_NN_MAX_HIDDEN * 8 + 16];
		size_t at = 0;

		for (i = 0; i < nh && at < sizeof(arch); i++)
			at += (size_t)snprintf(arch + at, sizeof(arch) - at, "%zu-", hidden[i]);
		fd_cli_msg(&cli, "autoencoder %zu-%s%zu on %zu of %zu rows: %u epochs, %.3g s/epoch, best %u (validation loss %.6g)%s",
			   d.nf, arch, d.nf, n_ae, n_unsup, res.epochs, res.epochs ? t_train / res.epochs : 0.0,
			   res.best_epoch, res.val_loss, res.stopped_early ? ", stopped early" : "");
		if (m->gb)
			fd_cli_msg(&cli, "boosted trees on %zu rows (%zu fraud, %zu of %zu legitimate): %u rounds kept of %u run "
				   "(validation average precision %.4f on %zu rows), %.1f s", gbt.n, gbt.fraud, gbt.legit,
				   gbt.legit_all, gres.best_rounds, gres.rounds, gres.best_val_ap, gbv.n, t_gb);
		if (fd_score_stacker(m, rules != NULL)) {
			double med, high;

			fd_score_level_thresholds(m, rules != NULL, &med, &high);
			fd_cli_msg(&cli, "stacked risk on %zu labelled validation rows (%zu fraud): MEDIUM >= %.4g, HIGH >= %.4g "
				   "(the %.4g%% and %.4g%% quantiles)%s", g[G_VL] + g[G_VF], g[G_VF], med, high, 100 * qm,
				   100 * qh, rules ? " (rule points included; a second stacker for scoring without rules)"
						   : " (without rules)");
		} else
			fd_cli_msg(&cli, "thresholds at the %.4g%% and %.4g%% quantiles of %zu validation rows: risk MEDIUM >= %.0f, HIGH >= %.0f%s",
				   100 * qm, 100 * qh, g[G_VU] + g[G_VL], m->thr.risk_medium, m->thr.risk_high,
				   rules ? " (rule points included)" : " (without rules)");
		PHASE(P_WRITE);
		{
			struct fd_buf line = FD_BUF_INIT;
			double total = 0;
			int p;

			for (p = 0; p < P_N; p++)
				total += cpu[p];
			fd_buf_addf(&line, "cpu %.1f s (wall %.1f s):", total, fd_now() - t0);
			for (p = 0; p < P_N; p++)
				fd_buf_addf(&line, "%s %s %.1f", p ? "," : "", phase_name[p], cpu[p]);
			if (line.s)
				fd_cli_msg(&cli, "%s", line.s);
			fd_buf_release(&line);
		}
		fd_cli_msg(&cli, "model %s, version %s%s%s", path.s, version,
			   !cli.store_opt ? "" : registered ? " (registered in the store)" : " (already registered in the store)",
			   o->promote ? ", promoted" : "");
	}
	if (cli.metrics) {
		double dur = fd_now() - t0;

		if (!(metrics = fd_metrics_create("fd-train"))) {
			rc = oom(err);
			goto out;
		}
		fd_metrics_add(metrics, "fd_train_rows_total", "counter", "Rows trained on.", NULL, (double)n_unsup);
		fd_metrics_add(metrics, "fd_train_fraud_left_out_total", "counter", "Labelled fraud left out.", NULL,
			       (double)(g[G_TF] + g[G_VF]));
		fd_metrics_add(metrics, "fd_train_epochs", "gauge", "Epochs run.", NULL, res.epochs);
		fd_metrics_add(metrics, "fd_train_epoch_seconds", "gauge", "Seconds per epoch.", NULL,
			       res.epochs ? t_train / res.epochs : 0.0);
		fd_metrics_add(metrics, "fd_train_validation_loss", "gauge", "Validation loss of the kept weights.", NULL,
			       res.val_loss);
		if ((rc = fd_metrics_write(metrics, cli.metrics, 1, dur, err)))
			goto out;
	}
out:
	fd_out_abort(out);
	fd_metrics_free(metrics);
	fd_nn_train_result_release(&res);
	fd_nn_free(nn);
	fd_nn_ws_free(ws);
	fd_iforest_free(forest);
	fd_gbdt_free(gb);
	fd_model_free(m);
	fd_rules_free(rules);
	fd_colmap_free(map);
	fd_store_close(st);
	data_release(&d);
	free(rules_path);
	free(verr);
	free(ifs);
	free(gbp);
	free(ae_own);
	gb_part_release(&gbt);
	gb_part_release(&gbv);
	free(sl);
	free(slab);
	free(vpoints);
	free(vblock);
	fd_buf_release(&mj);
	fd_buf_release(&file);
	fd_buf_release(&path);
	fd_buf_release(&dropped);
	fd_buf_release(&dropped_words);
	fd_buf_release(&gb_skip);
	fd_buf_release(&stack_skip);
	return rc;
}

/* ---- eval ------------------------------------------------------------------------------ */

struct eval_ctx {
	struct fd_score_eval *ev;
};

static int eval_emit(void *user, const struct fd_score_row *row, struct fd_err *err)
{
	struct eval_ctx *c = user;

	if (fd_score_eval_add(c->ev, row))
		return oom(err);
	return FD_OK;
}

static int evaluate(const struct opts *o, char **paths, size_t npaths, struct fd_err *err)
{
	struct fd_model *m = NULL;
	struct fd_rules *rules = NULL;
	struct fd_store *st = NULL;
	struct fd_colmap *map = NULL;
	struct fd_txnsrc *src = NULL;
	struct fd_scorer *sc = NULL;
	struct fd_out *out = NULL;
	struct fd_feat_opts fo = {0};
	struct fd_scorer_opts so;
	struct eval_ctx ctx = {NULL};
	char *model_path = NULL, *rules_path = NULL;
	const char *mp = o->model, *rp = o->rules;
	int64_t txns = 0, bad = 0, warm = 0;
	size_t frauds, rows;
	int rc, fmt = FMT_TABLE;

	if (o->fmt_arg && strcmp(o->fmt_arg, "table") != 0 && (fmt = fd_format_parse(o->fmt_arg)) < 0)
		fd_cli_usage_error(&cli, "--format must be table, csv or ndjson, not '%s'", o->fmt_arg);
	if (!mp && !(mp = model_path = fd_datafile_find(argv0, "FD_MODEL", "models/default.fdm", "model",
							"--model", err))) {
		rc = err->code;
		goto out;
	}
	if ((rc = fd_model_load(&m, mp, err)))
		goto out;
	if (!o->no_rules) {
		if (!rp && !(rp = rules_path = fd_datafile_find(argv0, "FD_RULES", "rules/default.rules",
								"rules file", "--rules", err))) {
			rc = err->code;
			goto out;
		}
		if ((rc = fd_rules_load(&rules, rp, err)))
			goto out;
	}
	fo.label_delay_ms = llround(o->label_delay * (double)DAY_MS);
	/* local_hour on the export's clock (the store's records are UTC) */
	fo.zone_fixed = o->tz != NULL && !o->since_arg && !o->until_arg;
	fo.zone_offset_min = o->tz_min;
	fo.zone_name = o->tz;
	memset(&so, 0, sizeof(so));
	so.no_reasons = 1;
	so.feat = &fo;
	so.emit = eval_emit;
	so.user = &ctx;
	if (!(ctx.ev = fd_score_eval_create(m, rules != NULL))) {
		rc = oom(err);
		goto out;
	}
	if ((rc = fd_scorer_create(&sc, m, rules, &so, err))) {
		fd_err_prefix(err, "%s", mp);
		goto out;
	}
	if (o->map_spec && (rc = fd_colmap_load(&map, o->map_spec, err)))
		goto out;
	if (o->since_arg || o->until_arg) {
		struct fd_who who = {cli.actor, "fd-train", FD_VERSION};

		if ((rc = fd_store_open(&st, cli.store, FD_STORE_READONLY, &who, err)))
			goto out;
	}
	if ((rc = open_source(o, paths, npaths, st, map, &src, err)))
		goto out;
	for (;;) {
		struct fd_txn t;
		struct fd_txn_bad b;
		int w, r = fd_txnsrc_next(src, &t, &w, &b, err);

		if (r == 0)
			break;
		if (r < 0) {
			rc = -r;
			goto out;
		}
		if (r == 2) {
			bad++;
			if ((rc = bad_record(fd_txnsrc_where(src), &b, o->strict, err)))
				goto out;
			continue;
		}
		if (w) {
			warm++;
			if ((rc = fd_scorer_warm(sc, &t, err)))
				goto where;
			continue;
		}
		if ((rc = fd_scorer_push(sc, &t, err)))
			goto where;
		if ((++txns & 65535) == 0)
			fd_cli_progress(&cli, fd_txnsrc_count(src), fd_txnsrc_bytes(src), -1);
	}
	fd_cli_progress_end(&cli);
	if ((rc = fd_scorer_flush(sc, err)))
		goto out;
	rows = fd_score_eval_count(ctx.ev, &frauds);
	if (rows == 0) {
		rc = fd_err_set(err, FD_EINPUT,
				"no labelled transactions: an evaluation needs the label (1 fraud, 0 legitimate) of some of the %lld read",
				(long long)txns);
		goto out;
	}
	if ((rc = fd_out_open(&out, NULL, NULL, err)) ||
	    (rc = fd_score_eval_write(ctx.ev, out, fmt, o->top, err)))
		goto out;
	rc = fd_out_commit(out, err);
	out = NULL;
	if (rc)
		goto out;
	if (!cli.quiet)
		fd_cli_msg(&cli, "%lld transactions (%zu labelled, %zu fraud), %lld bad records skipped; model %s%s%s",
			   (long long)txns, rows, frauds, (long long)bad, mp, rules ? ", rules " : ", no rules",
			   rules ? rp : "");
	goto out;
where:
	fd_err_prefix(err, "%s", fd_txnsrc_where(src));
out:
	fd_out_abort(out);
	fd_txnsrc_free(src);
	fd_scorer_free(sc);
	fd_score_eval_free(ctx.ev);
	fd_colmap_free(map);
	fd_store_close(st);
	fd_rules_free(rules);
	fd_model_free(m);
	free(model_path);
	free(rules_path);
	return rc;
}

/* ---- inspect ----------------------------------------------------------------------------- */

static int inspect(const char *path, struct fd_err *err)
{
	struct fd_model *m = NULL;
	struct fd_buf b = FD_BUF_INIT;
	char sha[65], version[FD_MODEL_VERSION_LEN + 1];
	int rc;

	if ((rc = fd_model_load(&m, path, err)))
		return rc;
	if ((rc = fd_sha256_file(path, sha, NULL, err))) {
		fd_model_free(m);
		return rc;
	}
	fd_score_model_version(sha, version);
	if (fd_buf_addf(&b, "file: %s\nversion: %s (sha256 %s)\n", path, version, sha) ||
	    fd_model_describe(m, &b)) {
		fd_model_free(m);
		fd_buf_release(&b);
		return oom(err);
	}
	fputs(b.s, stdout);
	fd_buf_release(&b);
	fd_model_free(m);
	return fd_cli_close_stdout(&cli);
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	struct opts o;
	struct fd_err err = {0};
	const char *why;
	int c, rc, i;

	memset(&o, 0, sizeof(o));
	o.label_delay = 7;
	o.epochs = 100;
	o.patience = 5;
	o.batch = 64;
	o.trees = 100;
	o.subsample = 256;
	o.seed = 1;
	o.top = 100;
	o.gb_rounds = 400;
	o.gb_pos_weight = 1;
	o.gb_rows = 100000;
	o.gb_eval_every = 2;
	o.ae_rows = 100000;
	o.since = INT64_MIN;
	o.until = INT64_MAX;
	fd_cli_init(&cli, "fd-train", usage);
	argv0 = argv[0];
	if (argc > 1 && strcmp(argv[1], "eval") == 0) {
		o.eval = 1;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	while ((c = getopt_long(argc, argv, FD_CLI_SHORTOPTS "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case OPT_INPUT:
			if (strcmp(optarg, "features") == 0)
				o.input = IN_FEATURES;
			else if (strcmp(optarg, "transactions") == 0)
				o.input = IN_TXNS;
			else
				fd_cli_usage_error(&cli, "--input must be features or transactions, not '%s'", optarg);
			break;
		case OPT_FEATURES: o.features = optarg; break;
		case OPT_LAYERS: o.layers = optarg; break;
		case OPT_EPOCHS: o.epochs = (unsigned)fd_cli_int(&cli, "--epochs", optarg, 1, 100000); break;
		case OPT_PATIENCE: o.patience = (unsigned)fd_cli_int(&cli, "--patience", optarg, 0, 100000); break;
		case OPT_BATCH: o.batch = (size_t)fd_cli_int(&cli, "--batch", optarg, 2, 1000000); break;
		case OPT_TREES: o.trees = (unsigned)fd_cli_int(&cli, "--trees", optarg, 1, FD_IFOREST_MAX_TREES); break;
		case OPT_SUBSAMPLE:
			o.subsample = (size_t)fd_cli_int(&cli, "--subsample", optarg, 2, FD_IFOREST_MAX_PSI);
			break;
		case OPT_SEED: o.seed = (uint64_t)fd_cli_int(&cli, "--seed", optarg, 0, INT64_MAX); break;
		case OPT_ALERTS: o.alerts_per_day = fd_cli_double(&cli, "--alerts-per-day", optarg, 1e-9, 1e12); break;
		case OPT_RULES: o.rules = optarg; break;
		case OPT_NO_RULES: o.no_rules = 1; break;
		case OPT_SINCE: o.since_arg = optarg; break;
		case OPT_UNTIL: o.until_arg = optarg; break;
		case OPT_MODEL: o.model = optarg; break;
		case OPT_TOP: o.top = (size_t)fd_cli_int(&cli, "--top", optarg, 1, 1000000000); break;
		case OPT_MAP: o.map_spec = optarg; break;
		case OPT_DELIM: o.delim = parse_delim(optarg); break;
		case OPT_TZ: o.tz = optarg; break;
		case OPT_CURRENCY: o.currency = optarg; break;
		case OPT_SORT: o.sort = 1; break;
		case OPT_STRICT: o.strict = 1; break;
		case OPT_LABEL_DELAY: o.label_delay = fd_cli_double(&cli, "--label-delay", optarg, 0, 3650); break;
		case OPT_INSPECT: o.inspect = optarg; break;
		case OPT_AS_OF: o.as_of_arg = optarg; break;
		case OPT_PROMOTE: o.promote = 1; break;
		case OPT_NO_GBDT: o.no_gbdt = 1; break;
		case OPT_GB_ROUNDS: o.gb_rounds = (unsigned)fd_cli_int(&cli, "--gb-rounds", optarg, 1, FD_GBDT_MAX_ROUNDS); break;
		case OPT_GB_POS_WEIGHT: o.gb_pos_weight = fd_cli_double(&cli, "--gb-pos-weight", optarg, 0, 1e6); break;
		case OPT_GB_ROWS: o.gb_rows = sample_size("--gb-rows", optarg); break;
		case OPT_GB_EVAL_EVERY:
			o.gb_eval_every = (unsigned)fd_cli_int(&cli, "--gb-eval-every", optarg, 1, 1000);
			break;
		case OPT_AE_ROWS: o.ae_rows = sample_size("--ae-rows", optarg); break;
		case FD_OPT_FORMAT: o.fmt_arg = optarg; break;
		default:
			if (!fd_cli_option(&cli, c, optarg))
				fd_cli_usage_error(&cli, "unexpected option");
		}
	}
	fd_cli_finish(&cli);
	fd_cli_inputs(&cli, argc - optind, argv + optind);
	fd_cli_inputs(&cli, 3, (char *const[]){(char *)o.rules, (char *)o.model, (char *)o.map_spec});

	/* what the options mean together */
	if (o.inspect) {
		if (o.eval || optind < argc)
			fd_cli_usage_error(&cli, "--inspect takes one model file and nothing else");
		if ((rc = inspect(o.inspect, &err)))
			return fd_cli_report(&cli, &err);
		return 0;
	}
	if (o.tz && (why = fd_parse_tz(o.tz, &o.tz_min)))
		fd_cli_usage_error(&cli, "--tz '%s': %s", o.tz, why);
	if (o.currency && (strlen(o.currency) != 3 || fd_currency_exponent(o.currency) < 0))
		fd_cli_usage_error(&cli, "--currency '%s' is not an ISO 4217 code (upper case, e.g. EUR)", o.currency);
	if (o.since_arg)
		o.since = fd_cli_time(&cli, "--since", o.since_arg, o.tz_min);
	if (o.until_arg)
		o.until = fd_cli_time(&cli, "--until", o.until_arg, o.tz_min);
	if (o.since_arg && o.until_arg && o.until <= o.since)
		fd_cli_usage_error(&cli, "--until must be later than --since");
	if (o.as_of_arg)
		o.as_of = fd_cli_time(&cli, "--as-of", o.as_of_arg, o.tz_min);
	if (o.promote && !cli.store_opt)
		fd_cli_usage_error(&cli, "--promote marks the model in a store's models table: give --store");
	if ((o.since_arg || o.until_arg) && optind < argc)
		fd_cli_usage_error(&cli, "--since and --until read the store's transactions: give no FILE");
	if ((o.since_arg || o.until_arg) && o.sort)
		fd_cli_usage_error(&cli, "--sort is for FILEs: the store is read in time order");
	if (o.rules && o.no_rules)
		fd_cli_usage_error(&cli, "--rules and --no-rules contradict each other");
	for (i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0) {
			int j;

			for (j = i + 1; j < argc; j++)
				if (strcmp(argv[j], "-") == 0)
					fd_cli_usage_error(&cli, "standard input ('-') given twice");
		}
	if (o.eval) {
		if (o.output || o.layers || o.input || o.alerts_per_day > 0 || o.as_of_arg || o.promote || o.no_gbdt)
			fd_cli_usage_error(&cli, "eval takes no training options (--output, --layers, --input, --alerts-per-day, "
					   "--as-of, --promote, --no-gbdt)");
		if (cli.store_opt && !(o.since_arg || o.until_arg))
			fd_cli_usage_error(&cli, "eval records nothing: --store reads the store only with --since or --until");
		rc = evaluate(&o, argv + optind, (size_t)(argc - optind), &err);
	} else {
		if (o.model || o.fmt_arg)
			fd_cli_usage_error(&cli, "--model and --format belong to fd-train eval");
		if (o.input == IN_FEATURES && o.rules)
			fd_cli_usage_error(&cli, "--rules needs transactions: feature rows cannot be checked against rules");
		/* an output that may not be written is refused before the work, not after it */
		if (!(o.output && (rc = fd_out_check(o.output, &err))))
			rc = train(&o, argv + optind, (size_t)(argc - optind), &err);
	}
	if (rc)
		return fd_cli_report(&cli, &err);
	return fd_cli_close_stdout(&cli);
}
