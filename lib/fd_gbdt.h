/*
 * fd_gbdt.h — the supervised layer: gradient-boosted decision trees for "is this fraud?",
 * through the XGBoost C API (Debian's libxgboost-dev; <xgboost/c_api.h>).
 *
 * Training (fd_gbdt_train): binary:logistic on the labelled rows of a training part, with
 * early stopping on a validation part that follows it in time (the caller splits; the last
 * part of the training period is what the future looks like).  After every round (every
 * opts.eval_every rounds) the validation set's average precision (XGBoost's "aucpr",
 * weighted when the rows carry weights) is measured; training stops when `patience` rounds
 * pass without a better value, and the booster is cut back to the best measured round
 * (XGBoosterSlice), so the model holds exactly the trees that did best.
 *
 * Weights (fd_gbdt_train_weighted) let a caller learn from a sample: fd-train keeps every
 * fraud row and a share of the legitimate ones, each weighing the inverse of that share, so
 * the trees fit the probabilities of the whole data at a fraction of the cost.
 *
 * Class imbalance is handled by what training optimises and how the scores are read, not by
 * reweighting: early stopping on the validation rows' average precision (a measure of the
 * rare class), and levels set at quantiles of the validation risks (fd_score.h).  Fraud rows
 * are not up-weighted by default (scale_pos_weight 1): on two third-party data sets
 * (models/README.md, make eval) weighting the classes equally (scale_pos_weight = legitimate
 * / fraud, opts 0) lowered the test period's AUC by 0.01-0.03 and its AP by 0.03-0.09, with
 * twice the trees.  Depth 4 for the same reason (depth 6 fitted the training period's
 * accidents).  Either way fd-score never reads the probability as a rate: the stacker maps
 * it to a calibrated probability on the validation rows.
 *
 * Determinism: tree_method "hist", no row or column subsampling, and nthread 1 (by default;
 * opts.threads): XGBoost's histogram method then gives the same trees, and the saved model
 * the same bytes, for the same data and options on the same build.  The seed is passed on
 * (it matters only if subsampling is ever turned on).
 *
 * Data: row-major float, rows × n features, raw values (trees do not need scaling); NaN is a
 * missing value, which each split sends the way that was best in training.
 *
 * The model is kept as XGBoost's own Universal Binary JSON (XGBoosterSaveModelToBuffer,
 * "ubj"), which fd_model.h stores in its GBDT section.
 *
 * Contributions (fd_gbdt_contrib): per row n + 1 values, one per feature and the bias last,
 * summing to the margin (the log-odds before the sigmoid); a positive value raises the risk.
 * Exact: XGBoost's TreeSHAP (prediction type 2), O(trees x leaves x depth^2) a row, about
 * 1.6 ms at 229 trees of depth 6 (the default depth was 6 then).  Approximate: XGBoost's path attribution (type 3, Saabas:
 * each split's change of the expected value credited to its feature along the row's path),
 * O(trees x depth), the cost of a prediction; what fd-score uses for its reasons, since it
 * gives them for every MEDIUM and HIGH row.
 *
 * Scoring: XGBoost's predictor is general (any tree kind, any adapter) and cost fd-score about
 * 1 µs a row per 100 trees; after training or loading, the trees are read once from the
 * booster's JSON form into flat arrays, and fd_gbdt_predict and the approximate
 * fd_gbdt_contrib walk those without branching on the data: each row's values become integer
 * keys that order as the floats do (a missing value's key below or above every threshold, as
 * each split sends it), eight rows walk a tree side by side, a step is one integer compare,
 * and trees up to depth 10 are padded to complete ones in heap order so that a step loads no
 * child index (deeper trees are walked node by node, a leaf stepping to itself).  About 0.3
 * µs a row per 100 trees of depth 4.  Where the CPU has AVX2 (checked at run time; the same
 * build runs on any x86-64, and elsewhere the portable walk is compiled alone), trees up to
 * depth 6 are walked another way: every split of a level compared for the eight rows at once
 * (one load and two instructions a split, no gather), each row's choice picked among them
 * by its choices above, the leaf looked up by a permute, and a group's keys built eight
 * rows at a time; about 2.3x fewer instructions for depth 4.  The arithmetic is XGBoost's
 * own, in float and in the same order (margin = logit(base_score) + the trees' leaves,
 * sigmoid; means filled leaves up), on either path: the unit tests compare both with
 * XGBoost's predictions on trained boosters and with each other, to the bit.  Only
 * numerical splits of gbtree boosters are accepted (fd trains nothing else).
 *
 * Loading reads the trees' arrays straight from the UBJSON bytes (big-endian typed arrays),
 * not from XGBoost's JSON form through jansson (0.17 G instructions fewer per load of 272
 * trees); a layout that reader does not know falls back to the JSON form.
 *
 * XGBoost itself never prints here: its verbosity is set to 0.  Errors come back as fd_status
 * with XGBoost's own message (XGBGetLastError) in err.
 */
#ifndef FD_GBDT_H
#define FD_GBDT_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"

#define FD_GBDT_MAX_ROUNDS 10000

struct fd_gbdt;

struct fd_gbdt_opts {
	unsigned max_rounds;      /* at most this many boosting rounds: 400 */
	unsigned patience;        /* stop after this many rounds without a better validation
				     AP: 30 (0 = never stop early) */
	unsigned max_depth;       /* 4 */
	double eta;               /* learning rate: 0.1 */
	double min_child_weight;  /* 1 */
	double scale_pos_weight;  /* weight of a fraud row: 1 (none); 0 = legitimate / fraud of
				     the training rows (the classes weighed equally) */
	uint64_t seed;            /* 0 */
	int threads;              /* 1 (deterministic); more is faster but see above */
	unsigned eval_every;      /* measure the validation AP every this many rounds: 1.
				     Early stopping then sees rounds K, 2K, ... (and the last
				     one); patience still counts rounds, so patience 30 with
				     eval_every 2 stops after 15 measures without a better AP,
				     and the trees are cut back to a measured round. */
};

void fd_gbdt_opts_init(struct fd_gbdt_opts *o);

struct fd_gbdt_result {
	unsigned rounds;          /* rounds run */
	unsigned best_rounds;     /* rounds kept (the best validation AP after that many) */
	double best_val_ap;       /* validation AP of the kept trees (NaN without validation) */
	double scale_pos_weight;  /* as used */
	size_t n_train, pos_train, n_val, pos_val;
};

/*
 * Train on X (n × nf) with labels y (0 or 1) and validate on Xv (nv × nf, yv); nv may be 0
 * (no early stopping: max_rounds rounds).  FD_EUSAGE for bad options; FD_EINPUT when the
 * training rows lack one of the classes, a label is not 0 or 1, or nf is 0; FD_EIO when
 * XGBoost fails (its message) or out of memory.
 */
int fd_gbdt_train(struct fd_gbdt **g, const float *X, const float *y, size_t n, const float *Xv,
		  const float *yv, size_t nv, size_t nf, const struct fd_gbdt_opts *o,
		  struct fd_gbdt_result *res, struct fd_err *err);

/*
 * The same with a weight per row (w for X, wv for Xv; either may be NULL: every weight 1).
 * A weight is what one row stands for: a legitimate row kept with probability 1/10 in a
 * sample weighs 10, and the trees then learn the probabilities of the whole data (the
 * gradients and hessians, the leaf values, min_child_weight and the validation AP are all
 * weighted; scale_pos_weight multiplies the fraud rows' weights).  FD_EINPUT for a weight
 * that is not finite and positive.
 */
int fd_gbdt_train_weighted(struct fd_gbdt **g, const float *X, const float *y, const float *w, size_t n,
			   const float *Xv, const float *yv, const float *wv, size_t nv, size_t nf,
			   const struct fd_gbdt_opts *o, struct fd_gbdt_result *res, struct fd_err *err);

/* Accepts NULL. */
void fd_gbdt_free(struct fd_gbdt *g);

size_t fd_gbdt_features(const struct fd_gbdt *g);
/* Boosting rounds held (one tree per round). */
unsigned fd_gbdt_rounds(const struct fd_gbdt *g);

/*
 * Fraud probabilities of X (n × nf): prob[i] in [0, 1], from the flattened trees (see
 * "Scoring" above); never fails.  fd_gbdt_predict_xgb: the same through XGBoost's in-place
 * prediction (FD_EIO with its message on failure), the tests' reference.
 */
int fd_gbdt_predict(const struct fd_gbdt *g, const float *X, size_t n, float *prob,
		    struct fd_err *err);
int fd_gbdt_predict_xgb(const struct fd_gbdt *g, const float *X, size_t n, float *prob,
			struct fd_err *err);

/*
 * Contributions of X (n × nf), exact SHAP (exact 1) or approximate (0): contrib[i * (nf + 1)
 * + j] for feature j, and the bias at j = nf; each row sums to the margin logit(prob).
 * FD_EIO on failure.
 */
int fd_gbdt_contrib(const struct fd_gbdt *g, const float *X, size_t n, int exact, float *contrib,
		    struct fd_err *err);
/* The same, both kinds through XGBoost (the tests' reference for the approximate ones). */
int fd_gbdt_contrib_xgb(const struct fd_gbdt *g, const float *X, size_t n, int exact, float *contrib,
			struct fd_err *err);

/*
 * Total gain of each feature over the trees (XGBoost's "total_gain" importance), gain[0 ..
 * nf-1]; 0 for features no tree splits on.  FD_EIO on failure.
 */
int fd_gbdt_importance(const struct fd_gbdt *g, double *gain, struct fd_err *err);

/* Append the model's bytes (UBJ) to out.  FD_EIO on failure. */
int fd_gbdt_save(const struct fd_gbdt *g, struct fd_buf *out, struct fd_err *err);

/*
 * A model from the bytes fd_gbdt_save wrote (borrowed), for nf features.  FD_EINPUT when
 * XGBoost cannot read them, or the model is not a binary:logistic tree model over exactly
 * nf features.
 */
int fd_gbdt_load(struct fd_gbdt **g, const void *p, size_t n, size_t nf, struct fd_err *err);

#endif
