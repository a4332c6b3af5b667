/*
 * test_backtest.c — unit tests of lib/fd_backtest.c.
 *
 * Every expected figure is worked out by hand from the definitions in fd_backtest.h (the
 * comment above each case shows the arithmetic); nothing is compared with the module's own
 * earlier output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fd_backtest.h"

#define DAY 86400000LL
#define T0 1772409600000LL   /* 2026-03-02T00:00:00Z */

static struct fd_txn tx(int64_t ts, int64_t amount, const char *cur, int exponent, int label)
{
	struct fd_txn t;

	fd_txn_clear(&t);
	t.txn_id = "T";
	t.sender_id = "S";
	t.ts = ts;
	t.amount = amount;
	memcpy(t.currency, cur, 4);
	t.exponent = exponent;
	t.label = label;
	return t;
}

/* hits for the rules listed (-1 ends the list) */
static size_t hits_of(struct fd_rule_hit *h, ...)
{
	va_list ap;
	size_t n = 0;
	int r;

	va_start(ap, h);
	while ((r = va_arg(ap, int)) >= 0) {
		h[n].rule = (size_t)r;
		h[n].points = 10;
		h[n].action = FD_RULE_REVIEW;
		n++;
	}
	va_end(ap);
	return n;
}

static void add(struct fd_backtest *bt, struct fd_txn t, struct fd_rule_hit *h, size_t n)
{
	struct fd_err err;

	assert_int_equal(fd_backtest_add(bt, &t, h, n, &err), FD_OK);
}

static void text_is(const struct fd_money *m, size_t n, const char *want)
{
	struct fd_buf b = FD_BUF_INIT;

	assert_int_equal(fd_money_text(m, n, &b), 0);
	assert_string_equal(b.s, want);
	fd_buf_release(&b);
}

static void json_is(const struct fd_money *m, size_t n, const char *want)
{
	struct fd_buf b = FD_BUF_INIT;

	assert_int_equal(fd_money_json(m, n, &b), 0);
	assert_string_equal(b.s, want);
	fd_buf_release(&b);
}

/* Nothing counted: every ratio is 0/0. */
static void test_empty(void **state)
{
	struct fd_backtest *bt;
	struct fd_backtest_row row;
	struct fd_backtest_totals tot;
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_backtest_create(&bt, 2, &err), FD_OK);
	fd_backtest_totals(bt, &tot);
	assert_int_equal(tot.transactions, 0);
	assert_int_equal(tot.days, 0);
	assert_int_equal(tot.nfraud_amount, 0);
	fd_backtest_row(bt, 0, &row);
	assert_int_equal(row.hits, 0);
	assert_true(isnan(row.alerts_per_day));
	assert_true(isnan(row.precision));
	assert_true(isnan(row.recall));
	assert_int_equal(row.ncaught, 0);
	fd_backtest_row(bt, FD_BACKTEST_ALL, &row);
	assert_true(isnan(row.precision));
	fd_backtest_free(bt);
	fd_backtest_free(NULL);
}

/*
 * Three rules over 8 transactions on 3 UTC days (2026-03-02 .. 2026-03-04):
 *   t1 fraud  12.50 USD  rules 0, 1     t5 legit   3.00 USD  rule 0
 *   t2 fraud 100.00 USD  rule 1         t6 fraud   5.00 USD  none
 *   t3 legit   1.00 USD  rules 0, 2     t7 unknown 9.00 USD  rules 1, 2
 *   t4 fraud   700 JPY   rule 0         t8 legit   2.00 USD  none
 * Fraud: t1 t2 t4 t6 = 4; legit: t3 t5 t8 = 3; labelled 7; days 3.
 *   rule 0: hits t1 t3 t4 t5 = 4; TP t1 t4 = 2, FP t3 t5 = 2; precision 2/4 = 0.5,
 *           recall 2/4 = 0.5, alerts/day 4/3; caught 700 JPY, 12.50 USD
 *   rule 1: hits t1 t2 t7 = 3; TP 2, FP 0, unlabelled 1; precision 1, recall 0.5;
 *           caught 112.50 USD
 *   rule 2: hits t3 t7 = 2; TP 0, FP 1, unlabelled 1; precision 0, recall 0; caught none
 *   all:    alerts t1 t2 t3 t4 t5 t7 = 6 (t1, t3, t7 once each); TP 3, FP 2, unl 1;
 *           precision 3/5 = 0.6, recall 3/4; alerts/day 2; caught 700 JPY, 112.50 USD
 */
static void test_figures(void **state)
{
	struct fd_backtest *bt;
	struct fd_backtest_row row;
	struct fd_backtest_totals tot;
	struct fd_rule_hit h[4];
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_backtest_create(&bt, 3, &err), FD_OK);
	add(bt, tx(T0 + 3600000, 1250, "USD", 2, 1), h, hits_of(h, 0, 1, -1));
	add(bt, tx(T0 + 7200000, 10000, "USD", 2, 1), h, hits_of(h, 1, -1));
	add(bt, tx(T0 + DAY, 100, "USD", 2, 0), h, hits_of(h, 0, 2, -1));
	add(bt, tx(T0 + DAY + 5, 700, "JPY", 0, 1), h, hits_of(h, 0, -1));
	add(bt, tx(T0 + DAY + 6, 300, "USD", 2, 0), h, hits_of(h, 0, -1));
	add(bt, tx(T0 + DAY + 7, 500, "USD", 2, 1), h, 0);
	add(bt, tx(T0 + 2 * DAY, 900, "USD", 2, -1), h, hits_of(h, 1, 2, -1));
	add(bt, tx(T0 + 3 * DAY - 1, 200, "USD", 2, 0), h, 0);   /* 2026-03-04T23:59:59.999Z */

	fd_backtest_totals(bt, &tot);
	assert_int_equal(tot.transactions, 8);
	assert_int_equal(tot.labelled, 7);
	assert_int_equal(tot.fraud, 4);
	assert_int_equal(tot.legit, 3);
	assert_int_equal(tot.first_ts, T0 + 3600000);
	assert_int_equal(tot.last_ts, T0 + 3 * DAY - 1);
	assert_int_equal(tot.days, 3);
	/* 12.50 + 100.00 + 5.00 USD, 700 JPY; by currency code */
	text_is(tot.fraud_amount, tot.nfraud_amount, "700 JPY; 117.50 USD");

	fd_backtest_row(bt, 0, &row);
	assert_int_equal(row.hits, 4);
	assert_int_equal(row.tp, 2);
	assert_int_equal(row.fp, 2);
	assert_int_equal(row.unlabelled, 0);
	assert_true(row.precision == 0.5);
	assert_true(row.recall == 0.5);
	assert_true(row.alerts_per_day == 4.0 / 3.0);
	text_is(row.caught, row.ncaught, "700 JPY; 12.50 USD");
	json_is(row.caught, row.ncaught, "{\"JPY\":700,\"USD\":12.50}");

	fd_backtest_row(bt, 1, &row);
	assert_int_equal(row.hits, 3);
	assert_int_equal(row.tp, 2);
	assert_int_equal(row.fp, 0);
	assert_int_equal(row.unlabelled, 1);
	assert_true(row.precision == 1.0);
	assert_true(row.recall == 0.5);
	assert_true(row.alerts_per_day == 1.0);
	text_is(row.caught, row.ncaught, "112.50 USD");

	fd_backtest_row(bt, 2, &row);
	assert_int_equal(row.hits, 2);
	assert_int_equal(row.tp, 0);
	assert_int_equal(row.fp, 1);
	assert_int_equal(row.unlabelled, 1);
	assert_true(row.precision == 0.0);
	assert_true(row.recall == 0.0);
	assert_int_equal(row.ncaught, 0);
	text_is(row.caught, row.ncaught, "0");
	json_is(row.caught, row.ncaught, "{}");

	fd_backtest_row(bt, FD_BACKTEST_ALL, &row);
	assert_int_equal(row.hits, 6);
	assert_int_equal(row.tp, 3);
	assert_int_equal(row.fp, 2);
	assert_int_equal(row.unlabelled, 1);
	assert_true(row.precision == 0.6);
	assert_true(row.recall == 0.75);
	assert_true(row.alerts_per_day == 2.0);
	text_is(row.caught, row.ncaught, "700 JPY; 112.50 USD");
	fd_backtest_free(bt);
}

/* Only unlabelled hits: precision 0/0; no fraud at all: recall 0/0. */
static void test_zero_over_zero(void **state)
{
	struct fd_backtest *bt;
	struct fd_backtest_row row;
	struct fd_rule_hit h[2];
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_backtest_create(&bt, 1, &err), FD_OK);
	add(bt, tx(T0, 100, "USD", 2, -1), h, hits_of(h, 0, -1));
	add(bt, tx(T0 + 1, 100, "USD", 2, 0), h, 0);
	fd_backtest_row(bt, 0, &row);
	assert_int_equal(row.hits, 1);
	assert_true(isnan(row.precision));
	assert_true(isnan(row.recall));
	assert_true(row.alerts_per_day == 1.0);     /* one day */
	fd_backtest_free(bt);
}

/* Days are UTC calendar days, floored also before 1970: -1 ms is 1969-12-31. */
static void test_days(void **state)
{
	struct fd_backtest *bt;
	struct fd_backtest_totals tot;
	struct fd_rule_hit h[1];
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_backtest_create(&bt, 1, &err), FD_OK);
	add(bt, tx(0, 1, "USD", 2, 0), h, 0);
	fd_backtest_totals(bt, &tot);
	assert_int_equal(tot.days, 1);
	add(bt, tx(-1, 1, "USD", 2, 0), h, 0);      /* out of order is fine: min and max */
	fd_backtest_totals(bt, &tot);
	assert_int_equal(tot.first_ts, -1);
	assert_int_equal(tot.days, 2);
	add(bt, tx(DAY - 1, 1, "USD", 2, 0), h, 0); /* still 1970-01-01 */
	fd_backtest_totals(bt, &tot);
	assert_int_equal(tot.days, 2);
	add(bt, tx(-DAY, 1, "USD", 2, 0), h, 0);    /* 1969-12-31T00:00Z */
	fd_backtest_totals(bt, &tot);
	assert_int_equal(tot.days, 2);
	add(bt, tx(-DAY - 1, 1, "USD", 2, 0), h, 0); /* 1969-12-30T23:59:59.999Z */
	fd_backtest_totals(bt, &tot);
	assert_int_equal(tot.days, 3);
	fd_backtest_free(bt);
}

/* Reversals subtract; a sum leaving int64 is refused and changes nothing. */
static void test_sums(void **state)
{
	struct fd_backtest *bt;
	struct fd_backtest_row row;
	struct fd_backtest_totals tot;
	struct fd_rule_hit h[2];
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_backtest_create(&bt, 1, &err), FD_OK);
	add(bt, tx(T0, 5000, "BHD", 3, 1), h, hits_of(h, 0, -1));
	add(bt, tx(T0 + 1, -7250, "BHD", 3, 1), h, hits_of(h, 0, -1));
	fd_backtest_row(bt, 0, &row);
	text_is(row.caught, row.ncaught, "-2.250 BHD");
	json_is(row.caught, row.ncaught, "{\"BHD\":-2.250}");

	add(bt, tx(T0 + 2, INT64_MAX, "EUR", 2, 1), h, hits_of(h, 0, -1));
	{
		struct fd_txn t = tx(T0 + 3, 1, "EUR", 2, 1);

		assert_int_equal(fd_backtest_add(bt, &t, h, hits_of(h, 0, -1), &err), FD_EINPUT);
		assert_string_equal(err.msg, "sum of fraud amounts in EUR out of range");
	}
	/* the refused transaction is not counted anywhere */
	fd_backtest_totals(bt, &tot);
	assert_int_equal(tot.transactions, 3);
	assert_int_equal(tot.fraud, 3);
	fd_backtest_row(bt, 0, &row);
	assert_int_equal(row.hits, 3);
	assert_int_equal(row.tp, 3);
	text_is(row.caught, row.ncaught, "-2.250 BHD; 92233720368547758.07 EUR");
	fd_backtest_free(bt);
}

/* --compare's changes: noted only when exactly one set alerts, with that set's rule ids. */
static void test_changes(void **state)
{
	static const char base_text[] = "rule big\n  when amount >= 100\n  points 10\n  action review\n"
					"rule huge\n  when amount >= 1000\n  points 20\n  action block\n";
	static const char other_text[] = "rule mid\n  when amount >= 500\n  points 5\n  action review\n";
	struct fd_backtest_changes c = FD_BACKTEST_CHANGES_INIT;
	struct fd_rules *base = NULL, *other = NULL;
	struct fd_rule_hit hb[2], ho[1];
	struct fd_err err = { 0, "" };
	struct fd_txn t = tx(T0 + 5, 150000, "EUR", 2, 1);
	size_t nb, no;

	(void)state;
	assert_int_equal(fd_rules_parse(&base, base_text, sizeof(base_text) - 1, "b.rules", NULL, &err), FD_OK);
	assert_int_equal(fd_rules_parse(&other, other_text, sizeof(other_text) - 1, "o.rules", NULL, &err), FD_OK);
	/* both alert, then neither: nothing */
	nb = hits_of(hb, 0, 1, -1);
	no = hits_of(ho, 0, -1);
	assert_int_equal(fd_backtest_changes_add(&c, &t, base, hb, nb, other, ho, no, &err), FD_OK);
	assert_int_equal(fd_backtest_changes_add(&c, &t, base, hb, 0, other, ho, 0, &err), FD_OK);
	assert_int_equal(c.n, 0);
	/* only the base: it disappears with the other set; both its rules, in hit order */
	t.txn_id = "X1";
	assert_int_equal(fd_backtest_changes_add(&c, &t, base, hb, nb, other, ho, 0, &err), FD_OK);
	/* only the other: it appears */
	t = tx(T0 + 9, -700, "JPY", 0, -1);
	t.txn_id = "X2";
	assert_int_equal(fd_backtest_changes_add(&c, &t, base, hb, 0, other, ho, no, &err), FD_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].txn_id, "X1");
	assert_string_equal(c.v[0].rules, "big huge");
	assert_int_equal(c.v[0].appears, 0);
	assert_int_equal(c.v[0].ts, T0 + 5);
	assert_int_equal(c.v[0].amount, 150000);
	assert_int_equal(c.v[0].exponent, 2);
	assert_string_equal(c.v[0].currency, "EUR");
	assert_int_equal(c.v[0].label, 1);
	assert_string_equal(c.v[1].txn_id, "X2");
	assert_string_equal(c.v[1].rules, "mid");
	assert_int_equal(c.v[1].appears, 1);
	assert_int_equal(c.v[1].amount, -700);
	assert_string_equal(c.v[1].currency, "JPY");
	assert_int_equal(c.v[1].label, -1);
	/* the ids are copies: the transaction's text may go */
	t.txn_id = "changed";
	assert_string_equal(c.v[1].txn_id, "X2");
	fd_backtest_changes_release(&c);
	assert_null(c.v);
	assert_int_equal(c.n, 0);
	fd_rules_free(base);
	fd_rules_free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_figures),
		cmocka_unit_test(test_zero_over_zero),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
