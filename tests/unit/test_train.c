/*
 * test_train.c — training's own steps (lib/fd_train.c, included to reach its statics): the
 * boosting samples and their weights, the refit's rows, the split in time, the features
 * dropped, the quantiles of an alert budget.  Every expected value is worked out by hand in
 * the comments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fd_train.c"

/* 10 legitimate rows then 3 fraud rows of one feature, x = row number. */
static float X13[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static void test_gb_part_all(void **state)
{
	struct gb_part p;
	struct fd_err err = {0};
	size_t i;

	(void)state;
	/* cap 0: every row, borrowed, no weights */
	assert_int_equal(gb_part_make(&p, X13, 10, 3, 1, 0, 1, 7, &err), FD_OK);
	assert_int_equal(p.n, 13);
	assert_ptr_equal(p.X, X13);
	assert_null(p.w);
	assert_int_equal(p.own_X, 0);
	for (i = 0; i < 13; i++)
		assert_float_equal(p.y[i], i >= 10, 0);
	gb_part_release(&p);
	/* cap at least the rows: the same */
	assert_int_equal(gb_part_make(&p, X13, 10, 3, 1, 13, 1, 7, &err), FD_OK);
	assert_ptr_equal(p.X, X13);
	gb_part_release(&p);
}

static void test_gb_part_sample(void **state)
{
	struct gb_part p;
	struct fd_err err = {0};
	size_t i;

	(void)state;
	/* cap 8 of 13: the 3 frauds and 8 - 3 = 5 legitimate rows (5 > 8 / 2), each standing for
	 * 10 / 5 = 2 rows */
	assert_int_equal(gb_part_make(&p, X13, 10, 3, 1, 8, 1, 7, &err), FD_OK);
	assert_int_equal(p.n, 8);
	assert_int_equal(p.legit, 5);
	assert_int_equal(p.legit_all, 10);
	assert_int_equal(p.fraud, 3);
	assert_float_equal(p.legit_weight, 2.0, 0);
	for (i = 0; i < 5; i++) {
		assert_float_equal(p.w[i], 2.0, 0);
		assert_float_equal(p.y[i], 0, 0);
		assert_true(p.X[i] < 10);                  /* a legitimate row */
		if (i)
			assert_true(p.X[i] > p.X[i - 1]);  /* in order, no repeat */
	}
	for (i = 5; i < 8; i++) {
		assert_float_equal(p.w[i], 1.0, 0);
		assert_float_equal(p.y[i], 1, 0);
		assert_float_equal(p.X[i], (float)(i + 5), 0);  /* rows 10, 11, 12 */
	}
	gb_part_release(&p);
	/* cap 4 with 3 frauds: cap - frauds = 1 is not above cap / 2 = 2, so 2 legitimate rows,
	 * each standing for 5 */
	assert_int_equal(gb_part_make(&p, X13, 10, 3, 1, 4, 1, 7, &err), FD_OK);
	assert_int_equal(p.legit, 2);
	assert_int_equal(p.n, 5);
	assert_float_equal(p.legit_weight, 5.0, 0);
	gb_part_release(&p);
}

static void test_choose_rows(void **state)
{
	size_t a[4], b[4], c[4], i;
	int differs = 0;

	(void)state;
	choose_rows(100, 4, 1, 9, a);
	choose_rows(100, 4, 1, 9, b);
	choose_rows(100, 4, 2, 9, c);
	for (i = 0; i < 4; i++) {
		assert_int_equal(a[i], b[i]);   /* the seed decides */
		assert_true(a[i] < 100);
		if (i)
			assert_true(a[i] > a[i - 1]);
		differs |= a[i] != c[i];
	}
	assert_true(differs);
	/* k = n: every row */
	choose_rows(4, 4, 1, 9, a);
	for (i = 0; i < 4; i++)
		assert_int_equal(a[i], i);
}

static void test_gb_part_join(void **state)
{
	struct gb_part a, b, j;
	struct fd_err err = {0};

	(void)state;
	/* a: every row of 2 legitimate + 1 fraud (weights NULL: 1); b: 4 legitimate sampled to 2
	 * (weight 2) + 1 fraud */
	assert_int_equal(gb_part_make(&a, X13, 2, 1, 1, 0, 1, 7, &err), FD_OK);
	assert_int_equal(gb_part_make(&b, X13 + 3, 4, 1, 1, 3, 1, 8, &err), FD_OK);
	assert_int_equal(b.legit, 2);
	assert_int_equal(gb_part_join(&j, &a, &b, 1, &err), FD_OK);
	assert_int_equal(j.n, 6);
	assert_int_equal(j.fraud, 2);
	assert_int_equal(j.legit, 4);
	assert_int_equal(j.legit_all, 6);
	assert_float_equal(j.X[0], 0, 0);
	assert_float_equal(j.X[2], 2, 0);
	assert_float_equal(j.X[5], 7, 0);  /* b's fraud: row 3 + 4 */
	assert_float_equal(j.y[2], 1, 0);
	assert_float_equal(j.y[3], 0, 0);
	assert_float_equal(j.y[5], 1, 0);
	assert_float_equal(j.w[0], 1, 0);
	assert_float_equal(j.w[2], 1, 0);
	assert_float_equal(j.w[3], 2, 0);
	assert_float_equal(j.w[4], 2, 0);
	assert_float_equal(j.w[5], 1, 0);
	gb_part_release(&a);
	gb_part_release(&b);
	gb_part_release(&j);
}

/* A data set of n rows of one feature x = i, times ts[i], labels lab[i]. */
static void make_data(struct data *d, size_t n, const int64_t *ts, const signed char *lab)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->nf = 1;
	d->rows = d->cap = n;
	d->X = malloc(n * sizeof(*d->X));
	d->label = malloc(n);
	d->ts = malloc(n * sizeof(*d->ts));
	assert_non_null(d->X);
	assert_non_null(d->label);
	assert_non_null(d->ts);
	for (i = 0; i < n; i++) {
		d->X[i] = (float)i;
		d->label[i] = lab[i];
		d->ts[i] = ts[i];
	}
}

static void test_split(void **state)
{
	/* 10 rows at times 10..100; validation from the time leaving 20%: sorted t[floor(0.8 * 10)]
	 * = t[8] = 90, so rows 8 and 9.  Groups: train unknown (row 1), train legitimate (0, 2,
	 * 3, 5, 6, 7), train fraud (4), validation unknown (none), legitimate (9), fraud (8). */
	static const int64_t ts[10] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
	static const signed char lab[10] = {0, -1, 0, 0, 1, 0, 0, 0, 1, 0};
	static const float order[10] = {1, 0, 2, 3, 5, 6, 7, 4, 9, 8};
	struct data d;
	struct fd_err err = {0};
	size_t g[G_N], i;
	int64_t cut;

	(void)state;
	make_data(&d, 10, ts, lab);
	assert_int_equal(split_groups(&d, g, &cut, &err), FD_OK);
	assert_int_equal(cut, 90);
	assert_int_equal(g[G_TU], 1);
	assert_int_equal(g[G_TL], 6);
	assert_int_equal(g[G_TF], 1);
	assert_int_equal(g[G_VU], 0);
	assert_int_equal(g[G_VL], 1);
	assert_int_equal(g[G_VF], 1);
	for (i = 0; i < 10; i++)
		assert_float_equal(d.X[i], order[i], 0);
	assert_int_equal(d.label[9], 1);
	assert_int_equal(d.ts[0], 20);
	data_release(&d);
}

static void test_split_one_instant(void **state)
{
	/* every row at one time: by position, the last 20% (rows 8, 9) validate */
	static const int64_t ts[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
	static const signed char lab[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	struct data d;
	struct fd_err err = {0};
	size_t g[G_N];
	int64_t cut;

	(void)state;
	make_data(&d, 10, ts, lab);
	assert_int_equal(split_groups(&d, g, &cut, &err), FD_OK);
	assert_true(cut == INT64_MIN);
	assert_int_equal(g[G_TL], 8);
	assert_int_equal(g[G_VL], 2);
	data_release(&d);
}

static void test_drop_features(void **state)
{
	/* 3 rows of 4 features: a varies, b constant, c missing, d varies with a NaN */
	static const float x[12] = {1, 7, NAN, NAN,
				    2, 7, NAN, 4,
				    3, 7, NAN, 5};
	static const char *const names[4] = {"a", "b", "c", "d"};
	struct data d;
	struct fd_buf dropped = FD_BUF_INIT, words = FD_BUF_INIT;
	struct fd_err err = {0};
	size_t n, i;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.nf = 4;
	d.rows = 3;
	d.X = malloc(sizeof(x));
	d.names = calloc(4, sizeof(*d.names));
	d.cidx = malloc(4 * sizeof(*d.cidx));
	assert_non_null(d.X);
	memcpy(d.X, x, sizeof(x));
	for (i = 0; i < 4; i++) {
		d.names[i] = strdup(names[i]);
		d.cidx[i] = (int)i;
	}
	assert_int_equal(drop_features(&d, &dropped, &words, &n, &err), FD_OK);
	assert_int_equal(n, 2);
	assert_int_equal(d.nf, 2);
	assert_string_equal(d.names[0], "a");
	assert_string_equal(d.names[1], "d");
	assert_int_equal(d.cidx[1], 3);
	assert_string_equal(dropped.s, "\"b\",\"c\"");
	assert_string_equal(words.s, "b (constant), c (missing)");
	assert_float_equal(d.X[0], 1, 0);
	assert_true(isnan(d.X[1]));
	assert_float_equal(d.X[4], 3, 0);
	assert_float_equal(d.X[5], 5, 0);
	fd_buf_release(&dropped);
	fd_buf_release(&words);
	data_release(&d);
}

static void test_drop_every_feature(void **state)
{
	struct data d;
	struct fd_buf dropped = FD_BUF_INIT, words = FD_BUF_INIT;
	struct fd_err err = {0};
	size_t n;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.nf = 1;
	d.rows = 2;
	d.X = malloc(2 * sizeof(*d.X));
	d.names = calloc(1, sizeof(*d.names));
	d.cidx = malloc(sizeof(*d.cidx));
	d.X[0] = d.X[1] = 3;
	d.names[0] = strdup("amount");
	assert_int_equal(drop_features(&d, &dropped, &words, &n, &err), FD_EINPUT);
	assert_string_equal(err.msg, "every feature is missing or constant in the training data: amount (constant)");
	fd_buf_release(&dropped);
	fd_buf_release(&words);
	data_release(&d);
}

static void test_quantiles(void **state)
{
	struct fd_train_opts o;
	struct data d;
	struct fd_err err = {0};
	double qm, qh;

	(void)state;
	fd_train_opts_init(&o);
	memset(&d, 0, sizeof(d));
	d.read = 1000;
	d.have_ts = 1;
	d.ts_min = 0;
	d.ts_max = 10 * DAY_MS;
	assert_int_equal(quantiles(&o, &d, &qm, &qh, &err), FD_OK);
	assert_float_equal(qm, 0.95, 0);
	assert_float_equal(qh, 0.99, 0);
	/* 10 alerts a day over 10 days of 1,000 rows: a share of 0.1; HIGH a fifth of it */
	o.alerts_per_day = 10;
	assert_int_equal(quantiles(&o, &d, &qm, &qh, &err), FD_OK);
	assert_float_equal(qm, 0.9, 1e-12);
	assert_float_equal(qh, 0.98, 1e-12);
	/* 50 a day is half of the rows */
	o.alerts_per_day = 50;
	assert_int_equal(quantiles(&o, &d, &qm, &qh, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "--alerts-per-day 50 over 10.0 days of 1000 transactions is 50.0% of them: "
			    "give fewer than half");
	d.ts_max = 0;
	assert_int_equal(quantiles(&o, &d, &qm, &qh, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "--alerts-per-day needs timestamps spanning more than an instant");
}

static void test_defaults(void **state)
{
	struct fd_train_opts o;

	(void)state;
	fd_train_opts_init(&o);
	assert_int_equal(o.epochs, 100);
	assert_int_equal(o.gb_rounds, 400);
	assert_int_equal(o.gb_rows, 100000);
	assert_float_equal(o.gb_eta, 0.1, 0);
	assert_int_equal(o.gb_refit, 1);
	assert_int_equal(o.gb_depth, 3);
	assert_float_equal(o.label_delay, 7, 0);
	assert_string_equal(fd_train_phase_name(FD_TRAIN_P_STACK), "stackers");
	assert_string_equal(fd_train_phase_name(FD_TRAIN_P_N), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gb_part_all),
		cmocka_unit_test(test_gb_part_sample),
		cmocka_unit_test(test_choose_rows),
		cmocka_unit_test(test_gb_part_join),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_one_instant),
		cmocka_unit_test(test_drop_features),
		cmocka_unit_test(test_drop_every_feature),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
