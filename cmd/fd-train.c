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

#include "cli.h"
#include "datafile.h"
#include "fd_buf.h"
#include "fd_features.h"
#include "fd_io.h"
#include "fd_iforest.h"
#include "fd_metrics.h"
#include "fd_model.h"
#include "fd_nn.h"
#include "fd_reader.h"
#include "fd_rules.h"
#include "fd_score.h"
#include "fd_role.h"
#include "fd_store.h"
#include "fd_txnsrc.h"
#include "fd_txnstream.h"
#include "fd_txn.h"

static const char usage[] =
	"usage: fd-train [options] [FILE...]\n"
	"       fd-train eval [options] [FILE...]\n"
	"       fd-train --inspect MODEL\n"
	"Train the autoencoder and the isolation forest on transactions or on feature rows from\n"
	"fd-features (CSV or NDJSON, plain or zstd; '-' or none = stdin), leaving labelled fraud\n"
	"out, and write the model file.  eval: AUC-ROC, average precision, recall at 1% and 5%\n"
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
	OPT_LABEL_DELAY, OPT_INSPECT,
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
	{NULL, 0, NULL, 0},
};

#define DAY_MS 86400000LL
#define MIN_ROWS 10
#define FMT_TABLE 0

enum { IN_AUTO, IN_FEATURES, IN_TXNS };

struct opts {
	int eval;
	const char *output, *features, *layers, *rules, *model, *map_spec, *tz, *since_arg, *until_arg;
	const char *inspect, *fmt_arg;
	int input, no_rules, sort, strict;
	char delim;
	const char *currency;
	double label_delay, alerts_per_day;
	unsigned epochs, patience, trees;
	size_t batch, subsample, top;
	uint64_t seed;
	int64_t since, until;
	int tz_min;
};

/* The training rows: labelled fraud is counted, not kept. */
struct data {
	size_t nf;                 /* features */
	char **names;              /* their names */
	int *cidx;                 /* catalog indices (transactions mode) */
	float *X;                  /* rows x nf, raw values, NaN = missing */
	int *points;               /* rule points per row (when rules ran) */
	unsigned char *block;
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

static int64_t parse_time_opt(const char *opt, const char *arg, int tz)
{
	int64_t ms;
	const char *why = fd_parse_ts(arg, strlen(arg), tz, &ms);

	if (why)
		fd_cli_usage_error(&cli, "%s '%s': %s", opt, arg, why);
	return ms;
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
	memset(d, 0, sizeof(*d));
}

/* Room for one more row; returns it. */
static float *data_row(struct data *d, int with_rules)
{
	if (d->rows == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 4096;
		float *X = realloc(d->X, cap * d->nf * sizeof(*X));

		if (!X)
			return NULL;
		d->X = X;
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
		if (t.label == 1) {
			d->fraud++;
			continue;
		}
		if (!(x = data_row(d, rules != NULL))) {
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
			d->block[d->rows] = (unsigned char)blk;
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
	int *idx = NULL, *slot = NULL, s_ts = -1, s_label = -1, rc = FD_OK, ndjson = 0;
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
		for (;;) {
			int got = fd_reader_next(r, err), label = -1;
			const char *v;
			size_t n;
			float *x;
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
			if (fd_reader_get(r, s_ts, &v, &n) && n) {
				int64_t ts;

				if (!fd_parse_ts(v, n, o->tz_min, &ts))
					note_ts(d, ts);
			}
			d->read++;
			if (label == 1) {
				d->fraud++;
				continue;
			}
			if (!(x = data_row(d, 0))) {
				rc = oom(err);
				goto next;
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

/* Gather the validation rows (ascending indices) out of X, then close X up over the training
 * rows, in order. */
static float *split_rows(float *X, size_t rows, size_t nf, const size_t *val, size_t nval)
{
	float *V = malloc((nval ? nval : 1) * nf * sizeof(*V));
	size_t i, k = 0, w = 0;

	if (!V)
		return NULL;
	for (i = 0; i < nval; i++)
		memcpy(V + i * nf, X + val[i] * nf, nf * sizeof(*X));
	for (i = 0; i < rows; i++) {
		if (k < nval && val[k] == i) {
			k++;
			continue;
		}
		if (w != i)
			memmove(X + w * nf, X + i * nf, nf * sizeof(*X));
		w++;
	}
	return V;
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

static int train(const struct opts *o, char **paths, size_t npaths, struct fd_err *err)
{
	struct data d;
	struct fd_store *st = NULL;
	struct fd_colmap *map = NULL;
	struct fd_rules *rules = NULL;
	struct fd_model *m = NULL;
	struct fd_nn *nn = NULL;
	struct fd_iforest *forest = NULL;
	struct fd_nn_train_opts to;
	struct fd_nn_train_result res;
	struct fd_iforest_opts fo;
	struct fd_metrics *metrics = NULL;
	struct fd_buf mj = FD_BUF_INIT, file = FD_BUF_INIT, path = FD_BUF_INIT;
	struct fd_out *out = NULL;
	struct progress prog;
	size_t hidden[FD_NN_MAX_HIDDEN], nh, i;
	float *V = NULL, *ifs = NULL;
	int *vpoints = NULL;
	unsigned char *vblock = NULL;
	char *rules_path = NULL, rules_sha[65] = "", sha[65], version[FD_MODEL_VERSION_LEN + 1];
	int rc, kind = o->input, store_input = o->since_arg || o->until_arg, registered = 0;
	int64_t model_id = 0;
	double qm = 0.95, qh = 0.99, t0 = fd_now(), t_train = 0;

	memset(&d, 0, sizeof(d));
	memset(&res, 0, sizeof(res));
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
	if (kind == IN_TXNS)
		rc = read_transactions(o, paths, npaths, store_input ? st : NULL, map, rules, &d, err);
	else
		rc = read_feature_rows(o, paths, npaths, &d, err);
	if (rc)
		goto out;
	if (d.rows < MIN_ROWS) {
		rc = fd_err_set(err, FD_EINPUT, "%zu rows to train on (%lld read, %lld labelled fraud left out): at least %d needed",
				d.rows, (long long)d.read, (long long)d.fraud, MIN_ROWS);
		goto out;
	}
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

	/* the model: scaler, autoencoder, forest, calibration */
	if ((rc = fd_model_create(&m, (const char *const *)d.names, d.nf, err)))
		goto out;
	{
		char hex[65];

		/* the training data as the model saw it: the raw matrix (float32, row-major) */
		fd_sha256_hex(d.X, d.rows * d.nf * sizeof(float), hex);
		memcpy(m->meta.data_sha256, hex, sizeof(hex));
	}
	fd_model_fit_scaler(m, d.X, d.rows);
	fd_model_standardise(m, d.X, d.rows);
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
		fd_cli_msg(&cli, "training on %zu rows of %zu features (%lld labelled fraud left out)", d.rows, d.nf,
			   (long long)d.fraud);
	}
	t_train = fd_now();
	if ((rc = fd_nn_train(nn, d.X, d.rows, d.nf, &to, &res, err)))
		goto out;
	t_train = fd_now() - t_train;
	if ((rc = fd_model_set_nn(m, nn, err)))
		goto out;
	nn = NULL;
	/* the forest on the training rows only; the validation rows calibrate both layers */
	if (!(V = split_rows(d.X, d.rows, d.nf, res.val_rows, res.n_val))) {
		rc = oom(err);
		goto out;
	}
	if (rules) {
		vpoints = malloc((res.n_val + 1) * sizeof(*vpoints));
		vblock = malloc(res.n_val + 1);
		if (!vpoints || !vblock) {
			rc = oom(err);
			goto out;
		}
		for (i = 0; i < res.n_val; i++) {
			vpoints[i] = d.points[res.val_rows[i]];
			vblock[i] = d.block[res.val_rows[i]];
		}
	}
	fd_iforest_opts_init(&fo);
	fo.trees = o->trees;
	fo.subsample = o->subsample;
	fo.seed = o->seed ^ 0x9e3779b97f4a7c15ULL;
	if ((rc = fd_iforest_train(&forest, d.X, d.rows - res.n_val, d.nf, &fo, err)))
		goto out;
	if ((rc = fd_model_set_forest(m, forest, err)))
		goto out;
	forest = NULL;
	if (!(ifs = malloc((res.n_val + 1) * sizeof(*ifs)))) {
		rc = oom(err);
		goto out;
	}
	fd_iforest_score(m->forest, V, res.n_val, ifs);
	if ((rc = fd_score_calibrate(m, res.val_errors, ifs, vpoints, vblock, res.n_val, qm, qh, err)))
		goto out;

	/* metadata: nothing here depends on the clock, so the file is reproducible */
	m->meta.rows = d.rows;
	m->meta.seed = o->seed;
	if (!source_date_epoch(&m->meta.created_ms))
		m->meta.created_ms = d.have_ts ? d.ts_max : 0;
	snprintf(m->meta.tool_version, sizeof(m->meta.tool_version), "fd-train %s", FD_VERSION);
	fd_buf_addf(&mj, "{\"input\":\"%s\",\"rows_read\":%lld,\"fraud_left_out\":%lld,\"rows\":%zu,"
		    "\"features\":%zu,\"layers\":[", kind == IN_TXNS ? "transactions" : "features",
		    (long long)d.read, (long long)d.fraud, d.rows, d.nf);
	for (i = 0; i < nh; i++)
		fd_buf_addf(&mj, "%s%zu", i ? "," : "", hidden[i]);
	fd_buf_addf(&mj, "],\"batch\":%zu,\"max_epochs\":%u,\"patience\":%u,\"epochs\":%u,\"best_epoch\":%u,"
		    "\"stopped_early\":%s,\"train_loss\":%.9g,\"val_loss\":%.9g,\"n_train\":%zu,\"n_val\":%zu,"
		    "\"trees\":%u,\"subsample\":%zu,\"quantiles\":[%.9g,%.9g]", o->batch, o->epochs, o->patience,
		    res.epochs, res.best_epoch, res.stopped_early ? "true" : "false", res.train_loss, res.val_loss,
		    res.n_train, res.n_val, fd_iforest_trees(m->forest), fd_iforest_subsample(m->forest), qm, qh);
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
	if (cli.store_opt && (rc = fd_score_register_model(st, m, path.s, sha, fd_wall_ms(), &model_id, &registered, err)))
		goto out;
	if (strcmp(path.s, "-") != 0)
		printf("%s\n", path.s);
	if (!cli.quiet) {
		fd_cli_msg(&cli, "%zu rows of %zu features (%lld labelled fraud left out, %lld bad records skipped)",
			   d.rows, d.nf, (long long)d.fraud, (long long)d.bad);
		char arch[FD_NN_MAX_HIDDEN * 8 + 16];
		size_t at = 0;

		for (i = 0; i < nh && at < sizeof(arch); i++)
			at += (size_t)snprintf(arch + at, sizeof(arch) - at, "%zu-", hidden[i]);
		fd_cli_msg(&cli, "autoencoder %zu-%s%zu: %u epochs, %.3g s/epoch, best %u (validation loss %.6g)%s",
			   d.nf, arch, d.nf, res.epochs, res.epochs ? t_train / res.epochs : 0.0,
			   res.best_epoch, res.val_loss, res.stopped_early ? ", stopped early" : "");
		fd_cli_msg(&cli, "thresholds at the %.4g%% and %.4g%% quantiles of %zu validation rows: risk MEDIUM >= %.0f, HIGH >= %.0f%s",
			   100 * qm, 100 * qh, res.n_val, m->thr.risk_medium, m->thr.risk_high,
			   rules ? " (rule points included)" : " (without rules)");
		fd_cli_msg(&cli, "model %s, version %s%s", path.s, version,
			   !cli.store_opt ? "" : registered ? " (registered in the store)" : " (already registered in the store)");
	}
	if (cli.metrics) {
		double dur = fd_now() - t0;

		if (!(metrics = fd_metrics_create("fd-train"))) {
			rc = oom(err);
			goto out;
		}
		fd_metrics_add(metrics, "fd_train_rows_total", "counter", "Rows trained on.", NULL, (double)d.rows);
		fd_metrics_add(metrics, "fd_train_fraud_left_out_total", "counter", "Labelled fraud left out.", NULL,
			       (double)d.fraud);
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
	fd_iforest_free(forest);
	fd_model_free(m);
	fd_rules_free(rules);
	fd_colmap_free(map);
	fd_store_close(st);
	data_release(&d);
	free(rules_path);
	free(V);
	free(ifs);
	free(vpoints);
	free(vblock);
	fd_buf_release(&mj);
	fd_buf_release(&file);
	fd_buf_release(&path);
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
		o.since = parse_time_opt("--since", o.since_arg, o.tz_min);
	if (o.until_arg)
		o.until = parse_time_opt("--until", o.until_arg, o.tz_min);
	if (o.since_arg && o.until_arg && o.until <= o.since)
		fd_cli_usage_error(&cli, "--until must be later than --since");
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
		if (o.output || o.layers || o.input || o.alerts_per_day > 0)
			fd_cli_usage_error(&cli, "eval takes no training options (--output, --layers, --input, --alerts-per-day)");
		if (cli.store_opt && !(o.since_arg || o.until_arg))
			fd_cli_usage_error(&cli, "eval records nothing: --store reads the store only with --since or --until");
		rc = evaluate(&o, argv + optind, (size_t)(argc - optind), &err);
	} else {
		if (o.model || o.fmt_arg)
			fd_cli_usage_error(&cli, "--model and --format belong to fd-train eval");
		if (o.input == IN_FEATURES && o.rules)
			fd_cli_usage_error(&cli, "--rules needs transactions: feature rows cannot be checked against rules");
		rc = train(&o, argv + optind, (size_t)(argc - optind), &err);
	}
	if (rc)
		return fd_cli_report(&cli, &err);
	return fd_cli_close_stdout(&cli);
}
