/* fd_score_eval.c — evaluation; see fd_score.h. */
#include "fd_score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fd_eval.h"
#include "fd_writer.h"
#include "fd_score_impl.h"
#include "banned.h"

/* ---- evaluation ------------------------------------------------------------------------- */

enum { C_TP, C_FP, C_FN, C_TN };

struct fd_score_eval {
	const struct fd_model *m;
	int present[FD_NLAYERS];
	struct fd_eval *ev[FD_NLAYERS];
	int64_t conf[FD_NLAYERS][2][4];   /* layer, MEDIUM/HIGH, tp fp fn tn */
	size_t rows, frauds;
};

struct fd_score_eval *fd_score_eval_create(const struct fd_model *m, int rules_present)
{
	struct fd_score_eval *e = calloc(1, sizeof(*e));
	int i;

	if (!e)
		return NULL;
	e->m = m;
	e->present[FD_LAYER_AE] = m->nn != NULL;
	e->present[FD_LAYER_FOREST] = m->forest != NULL;
	e->present[FD_LAYER_GB] = m->gb != NULL;
	e->present[FD_LAYER_RULES] = rules_present;
	e->present[FD_LAYER_COMBINED] = 1;
	for (i = 0; i < FD_NLAYERS; i++)
		if (!(e->ev[i] = fd_eval_create())) {
			fd_score_eval_free(e);
			return NULL;
		}
	return e;
}

void fd_score_eval_free(struct fd_score_eval *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < FD_NLAYERS; i++)
		fd_eval_free(e->ev[i]);
	free(e);
}

static void count(int64_t *c, int predicted, int label)
{
	c[predicted ? (label ? C_TP : C_FP) : (label ? C_FN : C_TN)]++;
}

int fd_score_eval_add(struct fd_score_eval *e, const struct fd_score_row *row)
{
	const struct fd_thresholds *t = &e->m->thr;
	const struct fd_score_layers *l = &row->l;
	int y = row->label;
	double rules = (double)l->rule_points + (l->nhits ? 0.5 : 0.0);

	if (y != 0 && y != 1)
		return 0;
	e->rows++;
	e->frauds += (size_t)y;
	if (fd_eval_add(e->ev[FD_LAYER_AE], l->ae_error, y) ||
	    fd_eval_add(e->ev[FD_LAYER_FOREST], l->if_score, y) ||
	    fd_eval_add(e->ev[FD_LAYER_GB], l->gb_p, y) ||
	    fd_eval_add(e->ev[FD_LAYER_RULES], rules, y) ||
	    fd_eval_add(e->ev[FD_LAYER_COMBINED], row->v.risk_raw, y))
		return -1;
	count(e->conf[FD_LAYER_AE][0], l->ae_error >= t->ae_medium, y);
	count(e->conf[FD_LAYER_AE][1], l->ae_error >= t->ae_high, y);
	count(e->conf[FD_LAYER_FOREST][0], l->if_score >= t->if_medium, y);
	count(e->conf[FD_LAYER_FOREST][1], l->if_score >= t->if_high, y);
	count(e->conf[FD_LAYER_GB][0], l->gb_p >= e->m->gb_medium, y);
	count(e->conf[FD_LAYER_GB][1], l->gb_p >= e->m->gb_high, y);
	count(e->conf[FD_LAYER_RULES][0], l->nhits > 0, y);
	count(e->conf[FD_LAYER_RULES][1], l->block, y);
	count(e->conf[FD_LAYER_COMBINED][0], row->v.level >= FD_LEVEL_MEDIUM, y);
	count(e->conf[FD_LAYER_COMBINED][1], row->v.level == FD_LEVEL_HIGH, y);
	return 0;
}

size_t fd_score_eval_count(const struct fd_score_eval *e, size_t *frauds)
{
	if (frauds)
		*frauds = e->frauds;
	return e->rows;
}

static double threshold_of(const struct fd_score_eval *e, int layer, int high)
{
	const struct fd_thresholds *t = &e->m->thr;

	switch (layer) {
	case FD_LAYER_AE: return high ? t->ae_high : t->ae_medium;
	case FD_LAYER_FOREST: return high ? t->if_high : t->if_medium;
	case FD_LAYER_GB: return high ? e->m->gb_high : e->m->gb_medium;
	case FD_LAYER_COMBINED: {
		double med, hi;

		fd_score_level_thresholds(e->m, e->present[FD_LAYER_RULES], &med, &hi);
		return high ? hi : med;
	}
	default: return NAN;
	}
}

static const char *const eval_cols[] = {
	"layer", "rows", "frauds", "auc_roc", "avg_precision", "recall_at_fpr_1pct",
	"recall_at_fpr_5pct", "k", "precision_at_k",
	"medium_threshold", "medium_tp", "medium_fp", "medium_fn", "medium_tn",
	"high_threshold", "high_tp", "high_fp", "high_fn", "high_tn",
};

/* "0.9731" or "n/a" */
static void cell(char *buf, size_t n, double v, int decimals)
{
	if (isnan(v))
		snprintf(buf, n, "n/a");
	else
		snprintf(buf, n, "%.*f", decimals, v);
}

int fd_score_eval_write(struct fd_score_eval *e, struct fd_out *out, int format, size_t k,
			struct fd_err *err)
{
	struct fd_eval_metrics mt[FD_NLAYERS];
	int i, h;

	if (!k)
		k = 100;
	for (i = 0; i < FD_NLAYERS; i++)
		if (e->present[i])
			fd_eval_compute(e->ev[i], k, &mt[i]);
	if (format == FD_FMT_CSV || format == FD_FMT_NDJSON) {
		struct fd_writer *w = fd_writer_create(out, format, eval_cols,
						       sizeof(eval_cols) / sizeof(eval_cols[0]));

		if (!w)
			return fd_score_oom(err);
		for (i = 0; i < FD_NLAYERS; i++) {
			if (!e->present[i])
				continue;
			fd_writer_begin(w);
			fd_writer_cstr(w, fd_layer_name[i]);
			fd_writer_i64(w, (int64_t)e->rows);
			fd_writer_i64(w, (int64_t)e->frauds);
			fd_writer_f64_sig(w, mt[i].auc, 6);
			fd_writer_f64_sig(w, mt[i].ap, 6);
			fd_writer_f64_sig(w, mt[i].recall_fpr1, 6);
			fd_writer_f64_sig(w, mt[i].recall_fpr5, 6);
			fd_writer_i64(w, (int64_t)mt[i].k);
			fd_writer_f64_sig(w, mt[i].precision_k, 6);
			for (h = 0; h < 2; h++) {
				const int64_t *c = e->conf[i][h];

				fd_writer_f64_sig(w, threshold_of(e, i, h), 9);
				fd_writer_i64(w, c[C_TP]);
				fd_writer_i64(w, c[C_FP]);
				fd_writer_i64(w, c[C_FN]);
				fd_writer_i64(w, c[C_TN]);
			}
			fd_writer_end(w);
		}
		fd_writer_free(w);
		return FD_OK;
	}
	fd_out_printf(out, "%lld labelled transactions, %lld fraud (%.2f%%)\n\n", (long long)e->rows,
		      (long long)e->frauds, e->rows ? 100.0 * (double)e->frauds / (double)e->rows : 0.0);
	fd_out_printf(out, "%-12s %8s %9s %13s %13s %10s\n", "layer", "AUC-ROC", "avg prec",
		      "recall@1%FPR", "recall@5%FPR", "prec@top");
	for (i = 0; i < FD_NLAYERS; i++) {
		char a[16], b[16], c[16], d[16], p[16];

		if (!e->present[i])
			continue;
		cell(a, sizeof(a), mt[i].auc, 4);
		cell(b, sizeof(b), mt[i].ap, 4);
		cell(c, sizeof(c), mt[i].recall_fpr1, 4);
		cell(d, sizeof(d), mt[i].recall_fpr5, 4);
		cell(p, sizeof(p), mt[i].precision_k, 4);
		fd_out_printf(out, "%-12s %8s %9s %13s %13s %10s\n", fd_layer_name[i], a, b, c, d, p);
	}
	fd_out_printf(out, "(prec@top: precision of the %zu highest scores)\n\n", mt[FD_LAYER_COMBINED].k);
	fd_out_printf(out, "at the model's thresholds (flagged: at or above the threshold)\n");
	fd_out_printf(out, "%-12s %-6s %12s %8s %8s %8s %9s %9s %7s\n", "layer", "level", "threshold",
		      "TP", "FP", "FN", "TN", "precision", "recall");
	for (i = 0; i < FD_NLAYERS; i++) {
		if (!e->present[i])
			continue;
		for (h = 0; h < 2; h++) {
			const int64_t *c = e->conf[i][h];
			char thr[32], pr[16], rc[16];
			double t = threshold_of(e, i, h);

			if (i == FD_LAYER_RULES)
				snprintf(thr, sizeof(thr), "%s", h ? "block" : "any hit");
			else if (i == FD_LAYER_COMBINED && (isnan(t) || t == floor(t)))
				cell(thr, sizeof(thr), t, 0);  /* whole risks, or a stacker's quantile below */
			else if (isnan(t))
				snprintf(thr, sizeof(thr), "unset");
			else
				snprintf(thr, sizeof(thr), "%.6g", t);
			cell(pr, sizeof(pr), c[C_TP] + c[C_FP] ? (double)c[C_TP] / (double)(c[C_TP] + c[C_FP]) : NAN, 4);
			cell(rc, sizeof(rc), c[C_TP] + c[C_FN] ? (double)c[C_TP] / (double)(c[C_TP] + c[C_FN]) : NAN, 4);
			fd_out_printf(out, "%-12s %-6s %12s %8lld %8lld %8lld %9lld %9s %7s\n", fd_layer_name[i],
				      h ? "HIGH" : "MEDIUM", thr, (long long)c[C_TP], (long long)c[C_FP],
				      (long long)c[C_FN], (long long)c[C_TN], pr, rc);
		}
	}
	return FD_OK;
}

static int json_num(struct fd_buf *b, const char *key, double v)
{
	if (isnan(v))
		return fd_buf_addf(b, "\"%s\":null", key);
	return fd_buf_addf(b, "\"%s\":%.4f", key, v);
}

int fd_score_eval_json(struct fd_score_eval *e, size_t k, struct fd_buf *b)
{
	int i, bad = 0, first = 1;

	if (!k)
		k = 100;
	bad |= fd_buf_addc(b, '{');
	for (i = 0; i < FD_NLAYERS; i++) {
		struct fd_eval_metrics mt;

		if (!e->present[i])
			continue;
		fd_eval_compute(e->ev[i], k, &mt);
		bad |= fd_buf_addf(b, "%s\"%s\":{", first ? "" : ",", fd_layer_name[i]);
		bad |= json_num(b, "auc_roc", mt.auc) || fd_buf_addc(b, ',');
		bad |= json_num(b, "avg_precision", mt.ap) || fd_buf_addc(b, ',');
		bad |= json_num(b, "recall_at_fpr_1pct", mt.recall_fpr1) || fd_buf_addc(b, ',');
		bad |= json_num(b, "recall_at_fpr_5pct", mt.recall_fpr5) || fd_buf_addc(b, ',');
		bad |= fd_buf_addf(b, "\"k\":%zu,", mt.k);
		bad |= json_num(b, "precision_at_k", mt.precision_k) || fd_buf_addc(b, '}');
		first = 0;
	}
	bad |= fd_buf_addf(b, ",\"rows\":%zu,\"frauds\":%zu}", e->rows, e->frauds);
	return bad ? -1 : 0;
}
