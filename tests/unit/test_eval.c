/*
 * test_eval.c — evaluation metrics (lib/fd_eval.c).  Expected values are worked by hand on a
 * small example (below), and for a larger one with many ties computed by an independent
 * brute-force implementation in python3 (pairwise Mann-Whitney count for the AUC, every
 * threshold recounted from scratch for the average precision and the recall at a
 * false-positive rate, exact fractions for the precision of the top k):
 *
 *	def ev(data, k):                      # data: [(score, label)], NaN = lowest
 *	    key = lambda s: -inf if s != s else s
 *	    P = [s for s, l in data if l == 1]; N = [s for s, l in data if l == 0]
 *	    auc = sum(1 if key(p) > key(n) else .5 if key(p) == key(n) else 0
 *	              for p in P for n in N) / (len(P) * len(N))
 *	    ... for t in sorted(distinct keys, reverse=True): tp, fp of key(s) >= t counted anew;
 *	        ap += (tp/len(P) - previous recall) * tp/(tp+fp); ROC point (fp/len(N), tp/len(P))
 *	    recall at f = max recall of the points (with (0, 0)) whose fpr <= f
 *	    precision@k: whole tie groups while they fit, the group across k in proportion
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "fd_eval.h"

#define EPS 1e-12

/*
 * The small example: four frauds 0.9 0.7 0.6 0.3, six legitimate 0.8 0.7 0.5 0.4 NaN 0.1,
 * and one unlabelled pair (ignored).
 *  AUC: 0.9 beats all 6; 0.7 beats 4 and ties 1 (4.5); 0.6 beats 4; 0.3 beats NaN and 0.1
 *       (2): 16.5 / 24 = 0.6875.
 *  AP: steps at 0.9 (recall .25, precision 1), 0.7 (.5, 2/4), 0.6 (.75, 3/5), 0.3 (1, 4/8):
 *       .25 + .25 * .5 + .25 * .6 + .25 * .5 = 0.65.
 *  Recall at FPR: thresholds' (fp, tp): 0.9 (0,1) 0.8 (1,1) 0.7 (2,2) 0.6 (2,3) 0.5 (3,3)
 *       0.4 (4,3) ...; with 6 negatives, FPR <= 1% or 5% or 20% allows fp 0 or 1: recall .25;
 *       FPR <= 50% allows fp 3: recall .75.
 *  Top 3: 0.9 (fraud), 0.8, then one of the tied 0.7 pair (half a fraud): 1.5 / 3 = .5.
 *  Top 5: 0.9 0.8 0.7 0.7 0.6: 3 / 5.  Top 100: cut to 10: 4 / 10.
 *  Confusion at 0.6: predicted 0.9 0.8 0.7 0.7 0.6 -> tp 3 fp 2; fn 1 (0.3); tn 4.
 */
static struct fd_eval *small(void)
{
	static const double s[] = { 0.9, 0.8, 0.7, 0.7, 0.6, 0.5, 0.4, 0.3, NAN, 0.1, 0.2 };
	static const int l[] = { 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, -1 };
	struct fd_eval *ev = fd_eval_create();
	size_t i;

	assert_non_null(ev);
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		assert_int_equal(fd_eval_add(ev, s[i], l[i]), 0);
	return ev;
}

static void test_small_by_hand(void **state)
{
	struct fd_eval *ev = small();
	struct fd_eval_metrics m;
	size_t pos;

	(void)state;
	assert_int_equal(fd_eval_count(ev, &pos), 10);
	assert_int_equal(pos, 4);
	fd_eval_compute(ev, 3, &m);
	assert_int_equal(m.n, 10);
	assert_int_equal(m.pos, 4);
	assert_int_equal(m.neg, 6);
	assert_float_equal(m.auc, 0.6875, EPS);
	assert_float_equal(m.ap, 0.65, EPS);
	assert_float_equal(m.recall_fpr1, 0.25, EPS);
	assert_float_equal(m.recall_fpr5, 0.25, EPS);
	assert_int_equal(m.k, 3);
	assert_float_equal(m.precision_k, 0.5, EPS);
	assert_float_equal(fd_eval_recall_at_fpr(ev, 0.2), 0.25, EPS);
	assert_float_equal(fd_eval_recall_at_fpr(ev, 0.5), 0.75, EPS);
	assert_float_equal(fd_eval_recall_at_fpr(ev, 1.0), 1.0, EPS);
	fd_eval_compute(ev, 5, &m);
	assert_float_equal(m.precision_k, 0.6, EPS);
	fd_eval_compute(ev, 1, &m);
	assert_float_equal(m.precision_k, 1.0, EPS);
	fd_eval_compute(ev, 100, &m);
	assert_int_equal(m.k, 10);
	assert_float_equal(m.precision_k, 0.4, EPS);
	fd_eval_free(ev);
}

static void test_confusion(void **state)
{
	struct fd_eval *ev = small();
	struct fd_eval_confusion c;

	(void)state;
	fd_eval_confusion(ev, 0.6, &c);
	assert_int_equal(c.tp, 3);
	assert_int_equal(c.fp, 2);
	assert_int_equal(c.fn, 1);
	assert_int_equal(c.tn, 4);
	assert_float_equal(c.precision, 0.6, EPS);
	assert_float_equal(c.recall, 0.75, EPS);
	assert_float_equal(c.fpr, 2.0 / 6.0, EPS);
	/* above everything: nothing predicted, precision undefined */
	fd_eval_confusion(ev, 2.0, &c);
	assert_int_equal(c.tp + c.fp, 0);
	assert_int_equal(c.fn, 4);
	assert_int_equal(c.tn, 6);
	assert_true(isnan(c.precision));
	assert_float_equal(c.recall, 0.0, EPS);
	/* a NaN threshold predicts nothing; NaN scores are never at or above a threshold */
	fd_eval_confusion(ev, NAN, &c);
	assert_int_equal(c.tp + c.fp, 0);
	fd_eval_confusion(ev, -INFINITY, &c);
	assert_int_equal(c.tp, 4);
	assert_int_equal(c.fp, 5);
	assert_int_equal(c.tn, 1);
	fd_eval_free(ev);
}

/* All scores equal: the ROC is the diagonal, precision is the base rate at every step. */
static void test_all_tied(void **state)
{
	struct fd_eval *ev = fd_eval_create();
	struct fd_eval_metrics m;
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_int_equal(fd_eval_add(ev, 0.5, i < 2), 0);
	fd_eval_compute(ev, 4, &m);
	assert_float_equal(m.auc, 0.5, EPS);
	assert_float_equal(m.ap, 0.25, EPS);
	assert_float_equal(m.precision_k, 0.25, EPS);
	/* the only thresholds: +inf (recall 0, fpr 0) and 0.5 (recall 1, fpr 1) */
	assert_float_equal(m.recall_fpr5, 0.0, EPS);
	assert_float_equal(fd_eval_recall_at_fpr(ev, 1.0), 1.0, EPS);
	fd_eval_free(ev);
}

static void test_degenerate(void **state)
{
	struct fd_eval *ev = fd_eval_create();
	struct fd_eval_metrics m;

	(void)state;
	fd_eval_compute(ev, 10, &m);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.k, 0);
	assert_true(isnan(m.auc) && isnan(m.ap) && isnan(m.precision_k) && isnan(m.recall_fpr1));
	/* one class only: no AUC or recall at FPR; AP is defined with fraud, not without */
	fd_eval_add(ev, 0.3, 0);
	fd_eval_add(ev, 0.7, 0);
	fd_eval_compute(ev, 1, &m);
	assert_true(isnan(m.auc) && isnan(m.ap) && isnan(m.recall_fpr5));
	assert_float_equal(m.precision_k, 0.0, EPS);
	fd_eval_free(ev);
	ev = fd_eval_create();
	fd_eval_add(ev, 0.3, 1);
	fd_eval_add(ev, 0.7, 1);
	fd_eval_compute(ev, 1, &m);
	assert_true(isnan(m.auc));
	assert_float_equal(m.ap, 1.0, EPS);
	assert_float_equal(m.precision_k, 1.0, EPS);
	fd_eval_free(ev);
	fd_eval_free(NULL);
}

/* Perfect and reversed rankings. */
static void test_extremes(void **state)
{
	struct fd_eval *ev = fd_eval_create();
	struct fd_eval_metrics m;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		fd_eval_add(ev, (double)i, i >= 90);
	fd_eval_compute(ev, 10, &m);
	assert_float_equal(m.auc, 1.0, EPS);
	assert_float_equal(m.ap, 1.0, EPS);
	assert_float_equal(m.recall_fpr1, 1.0, EPS);
	assert_float_equal(m.precision_k, 1.0, EPS);
	fd_eval_free(ev);
	ev = fd_eval_create();
	for (i = 0; i < 100; i++)
		fd_eval_add(ev, (double)-i, i >= 90);
	fd_eval_compute(ev, 10, &m);
	assert_float_equal(m.auc, 0.0, EPS);
	/* the frauds come last: precision 1/91 .. 10/100 at recall steps of 1/10 */
	{
		double ap = 0;

		for (i = 1; i <= 10; i++)
			ap += 0.1 * i / (90.0 + i);
		assert_float_equal(m.ap, ap, EPS);
	}
	assert_float_equal(m.recall_fpr5, 0.0, EPS);
	assert_float_equal(m.precision_k, 0.0, EPS);
	fd_eval_free(ev);
}

/* 300 pairs from an LCG, scores on a grid of 0.01 (many ties), fraud shifted up by 0.25;
 * expected values from the python3 brute force above on the same numbers. */
static void test_against_brute_force(void **state)
{
	struct fd_eval *ev = fd_eval_create();
	struct fd_eval_metrics m;
	uint64_t x = 12345;
	size_t pos;
	int i;

	(void)state;
	for (i = 0; i < 300; i++) {
		unsigned u;
		int lab;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		u = (unsigned)((x >> 40) % 1000);
		lab = (x >> 20) % 7 == 0;
		assert_int_equal(fd_eval_add(ev, (double)(u / 10) / 100.0 + (lab ? 0.25 : 0.0), lab), 0);
	}
	assert_int_equal(fd_eval_count(ev, &pos), 300);
	assert_int_equal(pos, 36);
	fd_eval_compute(ev, 30, &m);
	assert_float_equal(m.auc, 0.7430029461279462, 1e-12);
	assert_float_equal(m.ap, 0.46032083073519203, 1e-12);
	assert_float_equal(m.recall_fpr1, 0.2777777777777778, 1e-12);
	assert_float_equal(m.recall_fpr5, 0.3333333333333333, 1e-12);
	assert_float_equal(fd_eval_recall_at_fpr(ev, 0.2), 0.4166666666666667, 1e-12);
	assert_float_equal(fd_eval_recall_at_fpr(ev, 0.5), 0.7777777777777778, 1e-12);
	assert_float_equal(m.precision_k, 0.4666666666666667, 1e-12);
	fd_eval_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_by_hand),
		cmocka_unit_test(test_confusion),
		cmocka_unit_test(test_all_tied),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_against_brute_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
