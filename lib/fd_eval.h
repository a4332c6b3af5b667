/*
 * fd_eval.h — how well a score separates labelled fraud from legitimate transactions.
 *
 * An evaluation collects (score, label) pairs, a higher score meaning more suspicious, and
 * then measures (fd-train eval, fd-score --eval, the model card):
 *
 *  - AUC-ROC: the probability that a random fraud scores above a random legitimate
 *    transaction, ties counting one half (the Mann-Whitney statistic; equal to the area under
 *    the ROC curve drawn through every distinct threshold).
 *  - Average precision: the sum over the distinct thresholds t, from the highest down, of
 *    (R(t) - R(previous t)) * P(t), where R and P are the recall and precision of "score >= t"
 *    (scikit-learn's average_precision_score: no interpolation; tied scores form one step).
 *  - Recall at a false-positive rate f: the highest recall of any threshold "score >= t" whose
 *    false-positive rate is at most f.  Thresholds are the distinct scores (and +infinity,
 *    recall 0), so a group of tied scores is never split: the figure is an operating point one
 *    can actually set, not an interpolation.
 *  - Precision of the top k: the share of fraud among the k highest scores.  When the k-th
 *    place falls inside a group of tied scores, that group counts in proportion (the expected
 *    value when ties are broken at random), so the figure does not depend on input order.
 *    k larger than the number of labelled pairs is cut to it.
 *  - The confusion matrix of "score >= threshold".
 *
 * A NaN score (a layer that had nothing to say) ranks below every number and ties with other
 * NaNs; it is never at or above a threshold.  Pairs whose label is not 0 or 1 are not counted.
 * Memory: 16 bytes per labelled pair.
 */
#ifndef FD_EVAL_H
#define FD_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"

struct fd_eval;

/* NULL when out of memory. */
struct fd_eval *fd_eval_create(void);
/* Accepts NULL. */
void fd_eval_free(struct fd_eval *ev);

/* Add one pair.  label 1 fraud, 0 legitimate; anything else is ignored (returns 0).
 * 0, or -1 when out of memory (the pair is then not added). */
int fd_eval_add(struct fd_eval *ev, double score, int label);

/* Labelled pairs added so far, and how many of them are fraud. */
size_t fd_eval_count(const struct fd_eval *ev, size_t *positives);

struct fd_eval_metrics {
	size_t n, pos, neg;      /* labelled pairs, fraud, legitimate */
	double auc;              /* NaN unless pos > 0 and neg > 0 */
	double ap;               /* NaN unless pos > 0 */
	double recall_fpr1;      /* recall at a false-positive rate of 1%; NaN unless pos, neg > 0 */
	double recall_fpr5;      /* ... of 5% */
	size_t k;                /* the k used: min(asked, n) */
	double precision_k;      /* NaN when k is 0 */
};

/*
 * Compute the ranking metrics above, with k for the precision of the top k.  Sorts the pairs
 * (later adds are allowed; the next call sorts again).  Never fails.
 */
void fd_eval_compute(struct fd_eval *ev, size_t k, struct fd_eval_metrics *m);

/* Recall at false-positive rate fpr (0..1), as above; NaN unless there are both classes. */
double fd_eval_recall_at_fpr(struct fd_eval *ev, double fpr);

struct fd_eval_confusion {
	int64_t tp, fp, tn, fn;  /* predicted positive: score >= threshold */
	double precision;        /* tp / (tp + fp); NaN when nothing is predicted positive */
	double recall;           /* tp / (tp + fn); NaN without fraud */
	double fpr;              /* fp / (fp + tn); NaN without legitimate pairs */
};

/* The confusion matrix of "score >= threshold" (a NaN threshold predicts nothing positive). */
void fd_eval_confusion(const struct fd_eval *ev, double threshold, struct fd_eval_confusion *c);

#endif
