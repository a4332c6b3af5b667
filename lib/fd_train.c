/*
 * fd_train.c — training: rows in, labels as known, the split in time, the layers, calibration
 * and the model's metrics (see fd_train.h).
 *
 * Training holds the feature matrix in memory (4 bytes per feature per row): the network makes
 * many passes over it.  Everything that goes into the model is deterministic (the seed drives
 * every random choice; the model's time is the data's), so the same input and seed give the
 * same bytes; timings go to the result only.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fd_buf.h"
#include "fd_features.h"
#include "fd_gbdt.h"
#include "fd_io.h"
#include "fd_iforest.h"
#include "fd_model.h"
#include "fd_nn.h"
#include "fd_reader.h"
#include "fd_rng.h"
#include "fd_rules.h"
#include "fd_score.h"
#include "fd_store.h"
#include "fd_train.h"
#include "fd_txnsrc.h"
#include "fd_txnstream.h"
#include "fd_txn.h"
#include "banned.h"

#define DAY_MS 86400000LL

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

static int oom(struct fd_err *err)
{
	return fd_err_set(err, FD_EIO, "out of memory");
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

static void note(const struct fd_train_opts *o, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A message for the caller's note callback. */
static void note(const struct fd_train_opts *o, int kind, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!o->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->note(o->user, kind, msg);
}

int fd_train_bad_record(const struct fd_train_opts *o, const char *where, const struct fd_txn_bad *b,
			struct fd_err *err)
{
	const char *stop = o->strict ? " (--strict: stopped here)" : "";

	if (o->strict) {
		if (b->field < 0)
			return fd_err_set(err, FD_EINPUT, "%s: %s%s", where, b->msg, stop);
		return fd_err_set(err, FD_EINPUT, "%s: field '%s': %s%s", where, b->field_name, b->msg, stop);
	}
	if (b->field < 0)
		note(o, FD_TRAIN_NOTE_BAD, "%s: %s", where, b->msg);
	else
		note(o, FD_TRAIN_NOTE_BAD, "%s: field '%s': %s", where, b->field_name, b->msg);
	return FD_OK;
}

int fd_train_source_open(struct fd_txnsrc **src, const struct fd_train_opts *o, struct fd_err *err)
{
	struct fd_txnsrc_opts so;

	memset(&so, 0, sizeof(so));
	so.stream.delimiter = o->delimiter;
	so.stream.tz_offset_min = o->tz_offset_min;
	so.stream.currency = o->currency;
	so.stream.map = o->map;
	so.stream.no_metadata = 1;  /* features read canonical fields only */
	so.paths = o->paths;
	so.npaths = o->npaths;
	so.sort = o->sort;
	if (o->store_input) {
		so.store = o->store;
		so.since = o->since;
		so.until = o->until;
		so.warm_ms = -1;  /* all earlier history: see fd_txnsrc.h */
	}
	return fd_txnsrc_open(src, &so, err);
}

/* Transactions in, features computed by the engine fd-features uses. */
static int read_transactions(const struct fd_train_opts *o, struct data *d, struct fd_err *err)
{
	const struct fd_rules *rules = o->rules;
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
	fo.zone_fixed = o->tz != NULL && !o->store_input;
	fo.zone_offset_min = o->tz_offset_min;
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
	if ((rc = fd_train_source_open(&src, o, err)))
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
			if ((rc = fd_train_bad_record(o, fd_txnsrc_where(src), &b, err)))
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
		if ((d->read & 65535) == 0 && o->progress)
			o->progress(o->user, fd_txnsrc_count(src), fd_txnsrc_bytes(src), 0);
	}
	if (o->progress)
		o->progress(o->user, fd_txnsrc_count(src), fd_txnsrc_bytes(src), 1);
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

int fd_train_looks_like_features(const char *path, char delimiter, const struct fd_colmap *map,
				 int *features, struct fd_err *err)
{
	struct fd_in *in = NULL;
	struct fd_reader *r = NULL;
	struct fd_reader_opts ro = {.format = FD_FMT_AUTO, .delimiter = delimiter};
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
static int read_feature_rows(const struct fd_train_opts *o, struct data *d, struct fd_err *err)
{
	const char *const *paths = o->paths;
	size_t npaths = o->npaths;
	static const char *const stdin_only[] = {"-"};
	const struct fd_feat_def *defs;
	size_t p, j, nidx = 0;
	int *idx = NULL, *slot = NULL, s_ts = -1, s_label = -1, s_id = -1, rc = FD_OK, ndjson = 0;
	unsigned char *seen = NULL;
	struct fd_buf ignored = FD_BUF_INIT;
	size_t nignored = 0;

	fd_feat_catalog(&defs);
	if (npaths == 0) {
		paths = stdin_only;
		npaths = 1;
	}
	for (p = 0; p < npaths && rc == FD_OK; p++) {
		struct fd_in *in = NULL;
		struct fd_reader *r = NULL;
		struct fd_reader_opts ro = {.format = FD_FMT_AUTO, .delimiter = o->delimiter};
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
				if ((rc = fd_train_bad_record(o, where, &b, err)))
					goto next;
				continue;
			}
			if (fd_reader_get(r, s_label, &v, &n) && n && fd_parse_label(v, n, &label)) {
				struct fd_txn_bad b = {FD_F_LABEL, "label", "bad label", ""};

				fd_visible(vis, sizeof(vis), v, n);
				snprintf(b.msg, sizeof(b.msg), "bad label '%s'", vis);
				d->bad++;
				if ((rc = fd_train_bad_record(o, where, &b, err)))
					goto next;
				continue;
			}
			row_ts = INT64_MIN;
			if (fd_reader_get(r, s_ts, &v, &n) && n) {
				int64_t ts;

				if (!fd_parse_ts(v, n, o->tz_offset_min, &ts)) {
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
					if ((rc = fd_train_bad_record(o, where, &b, err)))
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
	if (rc == FD_OK && nignored)
		note(o, FD_TRAIN_NOTE_INFO, "ignored %zu column%s that are not features of the catalog: %s%s", nignored,
			   nignored == 1 ? "" : "s", ignored.s, nignored > 8 ? ", ..." : "");
	fd_buf_release(&ignored);
	free(idx);
	free(slot);
	free(seen);
	return rc;
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

#define VAL_SHARE FD_TRAIN_VAL_SHARE
#define MIN_FRAUD_GB FD_TRAIN_MIN_FRAUD_GB
#define MIN_ROWS FD_TRAIN_MIN_ROWS

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

double fd_train_cpu_seconds(void)
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

/* Both parts' rows in one (their weights kept): the refit's rows. */
static int gb_part_join(struct gb_part *p, const struct gb_part *a, const struct gb_part *b, size_t nf,
			struct fd_err *err)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->n = a->n + b->n;
	p->fraud = a->fraud + b->fraud;
	p->legit = a->legit + b->legit;
	p->legit_all = a->legit_all + b->legit_all;
	p->own_X = 1;
	p->X = malloc((p->n ? p->n : 1) * nf * sizeof(*p->X));
	p->y = malloc((p->n ? p->n : 1) * sizeof(*p->y));
	p->w = malloc((p->n ? p->n : 1) * sizeof(*p->w));
	if (!p->X || !p->y || !p->w)
		return oom(err);
	memcpy(p->X, a->X, a->n * nf * sizeof(*p->X));
	memcpy(p->X + a->n * nf, b->X, b->n * nf * sizeof(*p->X));
	memcpy(p->y, a->y, a->n * sizeof(*p->y));
	memcpy(p->y + a->n, b->y, b->n * sizeof(*p->y));
	for (i = 0; i < a->n; i++)
		p->w[i] = a->w ? a->w[i] : 1.0f;
	for (i = 0; i < b->n; i++)
		p->w[a->n + i] = b->w ? b->w[i] : 1.0f;
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

/* Wall seconds on the monotonic clock, for the layers' timings. */
static double mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void fd_train_opts_init(struct fd_train_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->input = FD_TRAIN_TXNS;
	o->since = INT64_MIN;
	o->until = INT64_MAX;
	o->label_delay = 7;
	o->epochs = 100;
	o->patience = 5;
	o->batch = 64;
	o->trees = 100;
	o->subsample = 256;
	o->seed = 1;
	o->gb_rounds = 400;
	o->gb_pos_weight = 1;
	o->gb_eta = 0.1;
	o->gb_depth = 3;
	o->gb_refit = 1;
	o->gb_rows = 100000;
	o->gb_eval_every = 2;
	o->ae_rows = 100000;
}

void fd_train_result_release(struct fd_train_result *res)
{
	if (!res)
		return;
	fd_model_free(res->model);
	fd_nn_train_result_release(&res->nn);
	memset(res, 0, sizeof(*res));
}

const char *fd_train_phase_name(int phase)
{
	static const char *const name[FD_TRAIN_P_N] = {"features", "preparation", "trees", "autoencoder", "forest",
						       "stackers"};

	return phase >= 0 && phase < FD_TRAIN_P_N ? name[phase] : "?";
}

/* The thresholds' quantiles: the 95th and 99th percentiles, or from an alert budget. */
static int quantiles(const struct fd_train_opts *o, const struct data *d, double *qm, double *qh, struct fd_err *err)
{
	double days, share;

	*qm = 0.95;
	*qh = 0.99;
	if (!(o->alerts_per_day > 0))
		return FD_OK;
	if (!d->have_ts || d->ts_max <= d->ts_min)
		return fd_err_set(err, FD_EUSAGE, "--alerts-per-day needs timestamps spanning more than an instant");
	days = (double)(d->ts_max - d->ts_min) / (double)DAY_MS;
	share = o->alerts_per_day * days / (double)d->read;
	if (!(share > 0 && share < 0.5))
		return fd_err_set(err, FD_EUSAGE, "--alerts-per-day %g over %.1f days of %lld transactions is %.1f%% of them: "
				  "give fewer than half", o->alerts_per_day, days, (long long)d->read, 100 * share);
	*qm = 1.0 - share;
	*qh = 1.0 - share / 5.0;
	return FD_OK;
}

/*
 * The model's metrics JSON, what --inspect shows of the training.  go: the boosting options
 * (with trees); gbt, gbv: the boosting rows.
 */
static int metrics_json(const struct fd_train_opts *o, const struct data *d, const struct fd_train_result *res,
			const size_t g[G_N], int64_t cut, int64_t case_changed, int64_t delayed,
			const struct fd_buf *dropped, const struct fd_buf *gb_skip, const struct fd_buf *stack_skip,
			const struct fd_gbdt_opts *go, const struct gb_part *gbt, const struct gb_part *gbv,
			struct fd_buf *mj)
{
	const struct fd_model *m = res->model;
	size_t i;

	fd_buf_addf(mj, "{\"input\":\"%s\",\"rows_read\":%lld,\"fraud_left_out\":%lld,\"rows\":%zu,"
		    "\"features\":%zu,\"layers\":[", o->input == FD_TRAIN_TXNS ? "transactions" : "features",
		    (long long)d->read, (long long)(g[G_TF] + g[G_VF]), res->n_unsup, d->nf);
	for (i = 0; i < res->nh; i++)
		fd_buf_addf(mj, "%s%zu", i ? "," : "", res->hidden[i]);
	fd_buf_addf(mj, "],\"batch\":%zu,\"max_epochs\":%u,\"patience\":%u,\"epochs\":%u,\"best_epoch\":%u,"
		    "\"stopped_early\":%s,\"train_loss\":%.9g,\"val_loss\":%.9g,\"n_train\":%zu,\"n_val\":%zu,"
		    "\"trees\":%u,\"subsample\":%zu,\"quantiles\":[%.9g,%.9g]", o->batch, o->epochs, o->patience,
		    res->nn.epochs, res->nn.best_epoch, res->nn.stopped_early ? "true" : "false", res->nn.train_loss,
		    res->nn.val_loss, res->n_ae, res->n_val, fd_iforest_trees(m->forest), fd_iforest_subsample(m->forest),
		    res->qm, res->qh);
	fd_buf_addf(mj, ",\"ae_rows\":%zu,\"ae_rows_from\":%zu", res->n_ae, res->n_unsup);
	fd_buf_addf(mj, ",\"split\":{\"train\":%zu,\"validation\":%zu,\"validation_from\":", res->n_train, res->n_val);
	if (cut != INT64_MIN)
		fd_buf_addf(mj, "%lld}", (long long)cut);
	else
		fd_buf_adds(mj, "null}");
	fd_buf_addf(mj, ",\"labels\":{\"train_fraud\":%zu,\"train_legit\":%zu,\"validation_fraud\":%zu,"
		    "\"validation_legit\":%zu,\"unknown\":%zu,\"from_cases\":%lld,\"hidden_by_delay\":%lld}",
		    g[G_TF], g[G_TL], g[G_VF], g[G_VL], g[G_TU] + g[G_VU], (long long)case_changed, (long long)delayed);
	if (o->has_as_of)
		fd_buf_addf(mj, ",\"as_of\":%lld,\"label_delay_days\":%.9g", (long long)o->as_of, o->label_delay);
	fd_buf_addf(mj, ",\"dropped_features\":[%s]", dropped->s ? dropped->s : "");
	if (m->gb)
		fd_buf_addf(mj, ",\"gbdt\":{\"rounds\":%u,\"best_rounds\":%u,\"val_ap\":%.9g,\"n_train\":%zu,\"pos_train\":%zu,"
			    "\"n_val\":%zu,\"pos_val\":%zu,\"scale_pos_weight\":%.9g,\"max_depth\":%u,\"eta\":%.9g,"
			    "\"patience\":%u,\"eval_every\":%u,\"legit_train\":%zu,\"legit_train_all\":%zu,"
			    "\"legit_train_weight\":%.9g,\"legit_val\":%zu,\"legit_val_all\":%zu,\"legit_val_weight\":%.9g}",
			    res->gb.rounds, res->gb.best_rounds, res->gb.best_val_ap, res->gb.n_train, res->gb.pos_train,
			    res->gb.n_val, res->gb.pos_val, res->gb.scale_pos_weight, go->max_depth, go->eta, go->patience,
			    go->eval_every, gbt->legit, gbt->legit_all, gbt->legit_weight, gbv->legit, gbv->legit_all,
			    gbv->legit_weight);
	if (m->gb && res->gb_refit_n)
		fd_buf_addf(mj, ",\"gbdt_refit\":{\"rounds\":%u,\"n_train\":%zu}", res->gb.best_rounds, res->gb_refit_n);
	if (!m->gb) {
		fd_buf_adds(mj, ",\"gbdt_skipped\":");
		fd_buf_add_json_str(mj, gb_skip->s ? gb_skip->s : "", gb_skip->len);
	}
	if (stack_skip->len) {
		fd_buf_adds(mj, ",\"stacker_skipped\":");
		fd_buf_add_json_str(mj, stack_skip->s, stack_skip->len);
	}
	if (o->alerts_per_day > 0)
		fd_buf_addf(mj, ",\"alerts_per_day\":%.9g", o->alerts_per_day);
	if (o->rules)
		fd_buf_addf(mj, ",\"rules_sha256\":\"%s\"", o->rules_sha256 ? o->rules_sha256 : "");
	else
		fd_buf_adds(mj, ",\"rules_sha256\":null");
	fd_buf_addc(mj, '}');
	return fd_buf_failed(mj);
}

int fd_train_run(const struct fd_train_opts *o, struct fd_train_result *res, struct fd_err *err)
{
	struct data d;
	const struct fd_rules *rules = o->rules;
	struct fd_model *m = NULL;
	struct fd_nn *nn = NULL;
	struct fd_nn_ws *ws = NULL;
	struct fd_iforest *forest = NULL;
	struct fd_gbdt *gb = NULL;
	struct fd_gbdt_opts go;
	struct fd_nn_train_opts to;
	struct fd_iforest_opts fo;
	struct fd_buf mj = FD_BUF_INIT, dropped = FD_BUF_INIT;
	struct fd_buf dropped_words = FD_BUF_INIT, gb_skip = FD_BUF_INIT, stack_skip = FD_BUF_INIT;
	struct fd_score_layers *sl = NULL;
	size_t i, g[G_N], n_unsup, n_val, v0, ndropped = 0;
	float *verr = NULL, *ifs = NULL, *gbp = NULL, *ae_own = NULL;
	const float *Xa;
	size_t n_ae = 0;
	struct gb_part gbt, gbv, gba;
	double *cpu = res->cpu, c_mark = fd_train_cpu_seconds();
	int *vpoints = NULL, *slab = NULL;
	unsigned char *vblock = NULL;
	int rc;
	int64_t cut, case_changed = 0, delayed = 0;

	memset(res, 0, sizeof(*res));
	memset(&d, 0, sizeof(d));
	memset(&gbt, 0, sizeof(gbt));
	memset(&gbv, 0, sizeof(gbv));
	memset(&gba, 0, sizeof(gba));
	fd_gbdt_opts_init(&go);
#define PHASE(p) do { double c_ = fd_train_cpu_seconds(); cpu[p] += c_ - c_mark; c_mark = c_; } while (0)
	d.keep_ids = o->store != NULL;
	if (o->input == FD_TRAIN_TXNS)
		rc = read_transactions(o, &d, err);
	else
		rc = read_feature_rows(o, &d, err);
	res->read = d.read;
	res->fraud = d.fraud;
	res->bad = d.bad;
	if (rc)
		goto out;
	PHASE(FD_TRAIN_P_FEAT);
	if ((rc = quantiles(o, &d, &res->qm, &res->qh, err)))
		goto out;

	/* the labels as known at training time: case outcomes, then the delay */
	if (o->store && (rc = apply_case_labels(o->store, &d, o->has_as_of ? o->as_of : INT64_MAX, &case_changed, err)))
		goto out;
	res->fraud = d.fraud;
	if (o->has_as_of) {
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
	res->rows = d.rows;
	res->n_train = v0;
	res->n_val = n_val;
	res->n_unsup = n_unsup;
	res->train_fraud = g[G_TF];
	res->val_fraud = g[G_VF];
	res->val_legit = g[G_VL];
	res->val_unknown = g[G_VU];
	if (n_unsup < MIN_ROWS || n_val < MIN_ROWS) {
		rc = fd_err_set(err, FD_EINPUT, "%zu rows to train on and %zu to validate (%lld read, %lld labelled fraud): "
				"at least %d of each needed", n_unsup, n_val, (long long)d.read, (long long)d.fraud, MIN_ROWS);
		goto out;
	}
	if ((rc = drop_features(&d, &dropped, &dropped_words, &ndropped, err)))
		goto out;
	res->nf = d.nf;
	if (ndropped)
		note(o, FD_TRAIN_NOTE_INFO, "dropped %zu feature%s missing or constant in the training data: %s", ndropped,
		     ndropped == 1 ? "" : "s", dropped_words.s);
	/* the model: histograms, the boosted trees (raw values), scaler, autoencoder, forest */
	if ((rc = fd_model_create(&m, (const char *const *)d.names, d.nf, err)))
		goto out;
	res->model = m;
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
	if (fd_buf_failed(&gb_skip)) {
		rc = oom(err);
		goto out;
	}
	PHASE(FD_TRAIN_P_PREP);
	if (!gb_skip.len) {
		if ((rc = gb_part_make(&gbt, d.X + g[G_TU] * d.nf, g[G_TL], g[G_TF], d.nf, o->gb_rows, o->seed, RNG_GB_TRAIN,
				       err)) ||
		    (rc = gb_part_make(&gbv, d.X + (v0 + g[G_VU]) * d.nf, g[G_VL], g[G_VF], d.nf, o->gb_rows, o->seed,
				       RNG_GB_VAL, err)))
			goto out;
		go.seed = o->seed;
		go.max_rounds = o->gb_rounds;
		go.scale_pos_weight = o->gb_pos_weight;
		go.eval_every = o->gb_eval_every;
		go.eta = o->gb_eta;
		go.max_depth = o->gb_depth;
		note(o, FD_TRAIN_NOTE_PROGRESS, "boosting on %zu labelled rows (%zu fraud, %zu of %zu legitimate), validating "
		     "on %zu (%zu fraud, %zu of %zu legitimate)", gbt.n, gbt.fraud, gbt.legit, gbt.legit_all, gbv.n,
		     gbv.fraud, gbv.legit, gbv.legit_all);
		res->gb_seconds = mono_now();
		if ((rc = fd_gbdt_train_weighted(&gb, gbt.X, gbt.y, gbt.w, gbt.n, gbv.X, gbv.y, gbv.w, gbv.n, d.nf, &go,
						 &res->gb, err)))
			goto out;
		res->gb_seconds = mono_now() - res->gb_seconds;
		if ((rc = fd_model_set_gbdt(m, gb, err)))
			goto out;
		gb = NULL;
		res->has_gbdt = 1;
		res->gb_n = gbt.n;
		res->gb_fraud = gbt.fraud;
		res->gb_legit = gbt.legit;
		res->gb_legit_all = gbt.legit_all;
		res->gb_val_n = gbv.n;
		/* the stackers see every validation row */
		if (!(gbp = malloc(n_val * sizeof(*gbp)))) {
			rc = oom(err);
			goto out;
		}
		if ((rc = fd_gbdt_predict(m->gb, d.X + v0 * d.nf, n_val, gbp, err)))
			goto out;
		if (o->gb_refit) {
			/* the same rounds again on every labelled row: the stackers keep the first trees'
			 * validation scores, the model the refit trees */
			struct fd_gbdt_opts ro = go;
			struct fd_gbdt_result rr;
			double t = mono_now();

			if ((rc = gb_part_join(&gba, &gbt, &gbv, d.nf, err)))
				goto out;
			ro.max_rounds = res->gb.best_rounds;
			note(o, FD_TRAIN_NOTE_PROGRESS, "boosting again for %u rounds on the %zu rows of both parts",
			     ro.max_rounds, gba.n);
			if ((rc = fd_gbdt_train_weighted(&gb, gba.X, gba.y, gba.w, gba.n, NULL, NULL, NULL, 0, d.nf, &ro, &rr,
							 err)) ||
			    (rc = fd_model_set_gbdt(m, gb, err)))
				goto out;
			gb = NULL;
			res->gb_refit_n = gba.n;
			res->gb_seconds += mono_now() - t;
		}
	} else if (!o->no_gbdt)
		note(o, FD_TRAIN_NOTE_INFO, "no boosted trees: %s; the autoencoder and the forest carry on", gb_skip.s);
	PHASE(FD_TRAIN_P_TREES);
	fd_model_fit_scaler(m, d.X, n_unsup);
	fd_model_standardise(m, d.X, d.rows);
	if ((rc = ae_sample(d.X, n_unsup, d.nf, o->ae_rows, o->seed, &Xa, &n_ae, &ae_own, err)))
		goto out;
	res->n_ae = n_ae;
	if (o->layers) {
		if ((rc = fd_nn_parse_layers(o->layers, res->hidden, &res->nh, err)))
			goto out;
	} else
		fd_nn_default_layers(d.nf, res->hidden, &res->nh);
	if ((rc = fd_nn_create(&nn, d.nf, res->hidden, res->nh, o->seed, err)))
		goto out;
	fd_nn_train_opts_init(&to);
	to.batch = o->batch;
	to.max_epochs = o->epochs;
	to.patience = o->patience;
	to.seed = o->seed;
	to.progress = o->epoch;
	to.user = o->user;
	note(o, FD_TRAIN_NOTE_PROGRESS, "training the autoencoder on %zu of %zu rows of %zu features (%lld labelled fraud "
	     "left out)", n_ae, n_unsup, d.nf, (long long)g[G_TF]);
	res->ae_seconds = mono_now();
	if ((rc = fd_nn_train(nn, Xa, n_ae, d.nf, &to, &res->nn, err)))
		goto out;
	res->ae_seconds = mono_now() - res->ae_seconds;
	free(ae_own);
	ae_own = NULL;
	PHASE(FD_TRAIN_P_AE);
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
	PHASE(FD_TRAIN_P_FOREST);

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
	if ((rc = fd_score_calibrate(m, verr, ifs, vpoints, vblock, g[G_VU] + g[G_VL], res->qm, res->qh, err)))
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
		rc = fd_score_fit_stack(m, sl, slab, nl, res->qm, res->qh, err);
		if (rc == FD_EINPUT) {
			fd_buf_adds(&stack_skip, err->msg);
			fd_err_clear(err);
			note(o, FD_TRAIN_NOTE_INFO, "no stacker: %s; the layers combine with fixed weights", stack_skip.s);
		} else if (rc)
			goto out;
		rc = FD_OK;
	}
	PHASE(FD_TRAIN_P_STACK);

	/* metadata: nothing here depends on the clock, so the file is reproducible */
	m->meta.rows = n_unsup;
	m->meta.seed = o->seed;
	m->meta.created_ms = o->has_created ? o->created_ms : d.have_ts ? d.ts_max : 0;
	snprintf(m->meta.tool_version, sizeof(m->meta.tool_version), "fd-train %s", FD_VERSION);
	if (metrics_json(o, &d, res, g, cut, case_changed, delayed, &dropped, &gb_skip, &stack_skip, &go, &gbt, &gbv,
			 &mj)) {
		rc = oom(err);
		goto out;
	}
	rc = fd_model_set_metrics(m, mj.s, err);
#undef PHASE
out:
	fd_nn_free(nn);
	fd_nn_ws_free(ws);
	fd_iforest_free(forest);
	fd_gbdt_free(gb);
	data_release(&d);
	free(verr);
	free(ifs);
	free(gbp);
	free(ae_own);
	gb_part_release(&gbt);
	gb_part_release(&gbv);
	gb_part_release(&gba);
	free(sl);
	free(slab);
	free(vpoints);
	free(vblock);
	fd_buf_release(&mj);
	fd_buf_release(&dropped);
	fd_buf_release(&dropped_words);
	fd_buf_release(&gb_skip);
	fd_buf_release(&stack_skip);
	return rc;
}
