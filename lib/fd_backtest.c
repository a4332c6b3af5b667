/* fd_backtest.c — see fd_backtest.h. */
#include "fd_backtest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"


/* Sums per currency, kept sorted by code: few currencies, so a sorted array is enough. */
struct purse {
	struct fd_money *m;
	size_t n, cap;
};

struct acc {
	int64_t hits, tp, fp, unl;
	struct purse caught;
};

struct fd_backtest {
	size_t nrules;
	struct acc *acc;             /* nrules + 1: the last is the whole set */
	int64_t txns, fraud, legit;
	int64_t first_ts, last_ts;
	struct purse fraud_amount;
};

int fd_backtest_create(struct fd_backtest **out, size_t nrules, struct fd_err *err)
{
	struct fd_backtest *bt = calloc(1, sizeof(*bt));

	*out = NULL;
	if (!bt || !(bt->acc = calloc(nrules + 1, sizeof(*bt->acc)))) {
		free(bt);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	bt->nrules = nrules;
	*out = bt;
	return FD_OK;
}

void fd_backtest_free(struct fd_backtest *bt)
{
	size_t i;

	if (!bt)
		return;
	for (i = 0; i <= bt->nrules; i++)
		free(bt->acc[i].caught.m);
	free(bt->acc);
	free(bt->fraud_amount.m);
	free(bt);
}

/* The slot of t's currency in p, inserted (zero) when missing; NULL when out of memory. */
static struct fd_money *slot(struct purse *p, const struct fd_txn *t)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		int c = strcmp(p->m[i].currency, t->currency);

		if (c == 0)
			return &p->m[i];
		if (c > 0)
			break;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct fd_money *m = realloc(p->m, cap * sizeof(*m));

		if (!m)
			return NULL;
		p->m = m;
		p->cap = cap;
	}
	memmove(&p->m[i + 1], &p->m[i], (p->n - i) * sizeof(*p->m));
	memset(&p->m[i], 0, sizeof(p->m[i]));
	memcpy(p->m[i].currency, t->currency, sizeof(p->m[i].currency));
	p->m[i].currency[3] = '\0';
	p->m[i].exponent = t->exponent;
	p->n++;
	return &p->m[i];
}

/* Check that t's amount can be added to every purse named, so that a failure changes
 * nothing: slots are made first (an empty slot is harmless), then sums are checked. */
static int prepare(struct purse *p, const struct fd_txn *t, struct fd_err *err)
{
	struct fd_money *m = slot(p, t);
	int64_t sum;

	if (!m)
		return fd_err_set(err, FD_EIO, "out of memory");
	if (__builtin_add_overflow(m->minor, t->amount, &sum))
		return fd_err_set(err, FD_EINPUT, "sum of fraud amounts in %s out of range", t->currency);
	return FD_OK;
}

int fd_backtest_add(struct fd_backtest *bt, const struct fd_txn *t, const struct fd_rule_hit *hits,
		    size_t n, struct fd_err *err)
{
	struct acc *all = &bt->acc[bt->nrules];
	int rc;
	size_t k;

	if (t->label == 1) {
		if ((rc = prepare(&bt->fraud_amount, t, err)))
			return rc;
		if (n) {
			if ((rc = prepare(&all->caught, t, err)))
				return rc;
			for (k = 0; k < n; k++)
				if ((rc = prepare(&bt->acc[hits[k].rule].caught, t, err)))
					return rc;
		}
	}
	/* nothing can fail from here on */
	if (bt->txns == 0 || t->ts < bt->first_ts)
		bt->first_ts = t->ts;
	if (bt->txns == 0 || t->ts > bt->last_ts)
		bt->last_ts = t->ts;
	bt->txns++;
	if (t->label == 1) {
		bt->fraud++;
		slot(&bt->fraud_amount, t)->minor += t->amount;
	} else if (t->label == 0)
		bt->legit++;
	for (k = 0; k <= n; k++) {
		struct acc *a;

		if (k == n) {
			if (n == 0)
				break;
			a = all;
		} else
			a = &bt->acc[hits[k].rule];
		a->hits++;
		if (t->label == 1) {
			a->tp++;
			slot(&a->caught, t)->minor += t->amount;
		} else if (t->label == 0)
			a->fp++;
		else
			a->unl++;
	}
	return FD_OK;
}

static int64_t days(const struct fd_backtest *bt)
{
	/* floor division: timestamps before 1970 are negative */
	int64_t a = bt->first_ts / FD_DAY_MS - (bt->first_ts % FD_DAY_MS < 0);
	int64_t b = bt->last_ts / FD_DAY_MS - (bt->last_ts % FD_DAY_MS < 0);

	return bt->txns ? b - a + 1 : 0;
}

void fd_backtest_row(const struct fd_backtest *bt, size_t i, struct fd_backtest_row *row)
{
	const struct acc *a = &bt->acc[i == FD_BACKTEST_ALL || i >= bt->nrules ? bt->nrules : i];
	int64_t d = days(bt);

	row->hits = a->hits;
	row->tp = a->tp;
	row->fp = a->fp;
	row->unlabelled = a->unl;
	row->alerts_per_day = d ? (double)a->hits / (double)d : NAN;
	row->precision = a->tp + a->fp ? (double)a->tp / (double)(a->tp + a->fp) : NAN;
	row->recall = bt->fraud ? (double)a->tp / (double)bt->fraud : NAN;
	row->caught = a->caught.m;
	row->ncaught = a->caught.n;
}

void fd_backtest_totals(const struct fd_backtest *bt, struct fd_backtest_totals *tot)
{
	tot->transactions = bt->txns;
	tot->labelled = bt->fraud + bt->legit;
	tot->fraud = bt->fraud;
	tot->legit = bt->legit;
	tot->first_ts = bt->txns ? bt->first_ts : 0;
	tot->last_ts = bt->txns ? bt->last_ts : 0;
	tot->days = days(bt);
	tot->fraud_amount = bt->fraud_amount.m;
	tot->nfraud_amount = bt->fraud_amount.n;
}

int fd_backtest_changes_add(struct fd_backtest_changes *c, const struct fd_txn *t,
			    const struct fd_rules *base, const struct fd_rule_hit *hb, size_t nb,
			    const struct fd_rules *other, const struct fd_rule_hit *ho, size_t no,
			    struct fd_err *err)
{
	const struct fd_rules *r = nb ? base : other;
	const struct fd_rule_hit *h = nb ? hb : ho;
	size_t n = nb ? nb : no, k, len;
	struct fd_buf ids = FD_BUF_INIT;
	struct fd_backtest_change *ch;

	if (!nb == !no)
		return FD_OK;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct fd_backtest_change *p = realloc(c->v, cap * sizeof(*p));

		if (!p)
			return fd_err_set(err, FD_EIO, "out of memory");
		c->v = p;
		c->cap = cap;
	}
	for (k = 0; k < n; k++)
		fd_buf_addf(&ids, "%s%s", k ? " " : "", fd_rules_id(r, h[k].rule));
	ch = &c->v[c->n];
	memset(ch, 0, sizeof(*ch));
	len = strlen(t->txn_id) + 1;
	if (fd_buf_failed(&ids) || !(ch->txn_id = malloc(len))) {
		fd_buf_release(&ids);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	memcpy(ch->txn_id, t->txn_id, len);
	if (!(ch->rules = fd_buf_detach(&ids, NULL))) {
		free(ch->txn_id);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	ch->ts = t->ts;
	ch->amount = t->amount;
	ch->exponent = t->exponent;
	memcpy(ch->currency, t->currency, sizeof(ch->currency));
	ch->label = t->label;
	ch->appears = no != 0;
	c->n++;
	return FD_OK;
}

void fd_backtest_changes_release(struct fd_backtest_changes *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].txn_id);
		free(c->v[i].rules);
	}
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

int fd_money_text(const struct fd_money *m, size_t n, struct fd_buf *out)
{
	char a[FD_AMOUNT_BUFSZ];
	size_t i;

	if (n == 0)
		return fd_buf_addc(out, '0');
	for (i = 0; i < n; i++)
		if (fd_buf_addf(out, "%s%s %s", i ? "; " : "", fd_format_amount(m[i].minor, m[i].exponent, a),
				m[i].currency))
			return -1;
	return 0;
}

int fd_money_json(const struct fd_money *m, size_t n, struct fd_buf *out)
{
	char a[FD_AMOUNT_BUFSZ];
	size_t i;

	if (fd_buf_addc(out, '{'))
		return -1;
	for (i = 0; i < n; i++)
		if (fd_buf_addf(out, "%s\"%s\":%s", i ? "," : "", m[i].currency,
				fd_format_amount(m[i].minor, m[i].exponent, a)))
			return -1;
	return fd_buf_addc(out, '}');
}
