/* fd_eval.c — see fd_eval.h. */
#include "fd_eval.h"

#include <math.h>
#include <stdlib.h>
#include "banned.h"

struct pair {
	double score;
	int label;
};

struct fd_eval {
	struct pair *p;
	size_t n, cap, pos;
	int sorted;
};

struct fd_eval *fd_eval_create(void)
{
	return calloc(1, sizeof(struct fd_eval));
}

void fd_eval_free(struct fd_eval *ev)
{
	if (!ev)
		return;
	free(ev->p);
	free(ev);
}

int fd_eval_add(struct fd_eval *ev, double score, int label)
{
	if (label != 0 && label != 1)
		return 0;
	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? 2 * ev->cap : 1024;
		struct pair *p = realloc(ev->p, cap * sizeof(*p));

		if (!p)
			return -1;
		ev->p = p;
		ev->cap = cap;
	}
	ev->p[ev->n].score = score;
	ev->p[ev->n].label = label;
	ev->n++;
	ev->pos += (size_t)label;
	ev->sorted = 0;
	return 0;
}

size_t fd_eval_count(const struct fd_eval *ev, size_t *positives)
{
	if (positives)
		*positives = ev->pos;
	return ev->n;
}

/* Descending score, NaN last (all NaNs equal). */
static int cmp_desc(const void *a, const void *b)
{
	double x = ((const struct pair *)a)->score, y = ((const struct pair *)b)->score;
	int nx = isnan(x), ny = isnan(y);

	if (nx || ny)
		return nx - ny;
	return x > y ? -1 : x < y;
}

static void sort_pairs(struct fd_eval *ev)
{
	if (!ev->sorted) {
		if (ev->n > 1)
			qsort(ev->p, ev->n, sizeof(*ev->p), cmp_desc);
		ev->sorted = 1;
	}
}

static int same(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

/* The end of the group of tied scores that starts at i, and its counts. */
static size_t group(const struct fd_eval *ev, size_t i, size_t *dpos, size_t *dneg)
{
	size_t j = i, p = 0;

	while (j < ev->n && same(ev->p[j].score, ev->p[i].score)) {
		p += (size_t)ev->p[j].label;
		j++;
	}
	*dpos = p;
	*dneg = (j - i) - p;
	return j;
}

double fd_eval_recall_at_fpr(struct fd_eval *ev, double fpr)
{
	size_t pos = ev->pos, neg = ev->n - ev->pos, i = 0, tp = 0, fp = 0, dp, dn;
	double best = 0.0;

	if (pos == 0 || neg == 0 || isnan(fpr))
		return NAN;
	sort_pairs(ev);
	while (i < ev->n) {
		i = group(ev, i, &dp, &dn);
		tp += dp;
		fp += dn;
		if ((double)fp > fpr * (double)neg)
			break;  /* the rate only grows from here */
		best = (double)tp / (double)pos;
	}
	return best;
}

void fd_eval_compute(struct fd_eval *ev, size_t k, struct fd_eval_metrics *m)
{
	size_t pos = ev->pos, neg = ev->n - ev->pos, i = 0, tp = 0, fp = 0, dp, dn, cum = 0;
	double area = 0.0, ap = 0.0, topk = 0.0;

	sort_pairs(ev);
	m->n = ev->n;
	m->pos = pos;
	m->neg = neg;
	m->k = k < ev->n ? k : ev->n;
	while (i < ev->n) {
		size_t j = group(ev, i, &dp, &dn), g = j - i;

		/* ROC: the negatives of this group pair with the positives above it (win) and in it
		 * (tie, one half) */
		area += (double)dn * ((double)tp + 0.5 * (double)dp);
		tp += dp;
		fp += dn;
		if (dp)
			ap += ((double)dp / (double)pos) * ((double)tp / (double)(tp + fp));
		if (cum < m->k) {
			size_t take = m->k - cum < g ? m->k - cum : g;

			topk += (double)dp * (double)take / (double)g;
			cum += take;
		}
		i = j;
	}
	m->auc = pos && neg ? area / ((double)pos * (double)neg) : NAN;
	m->ap = pos ? ap : NAN;
	m->precision_k = m->k ? topk / (double)m->k : NAN;
	m->recall_fpr1 = fd_eval_recall_at_fpr(ev, 0.01);
	m->recall_fpr5 = fd_eval_recall_at_fpr(ev, 0.05);
}

void fd_eval_confusion(const struct fd_eval *ev, double threshold, struct fd_eval_confusion *c)
{
	size_t i;

	c->tp = c->fp = c->tn = c->fn = 0;
	for (i = 0; i < ev->n; i++) {
		int hit = ev->p[i].score >= threshold;  /* false for NaN on either side */

		if (ev->p[i].label)
			hit ? c->tp++ : c->fn++;
		else
			hit ? c->fp++ : c->tn++;
	}
	c->precision = c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : NAN;
	c->recall = c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : NAN;
	c->fpr = c->fp + c->tn ? (double)c->fp / (double)(c->fp + c->tn) : NAN;
}
