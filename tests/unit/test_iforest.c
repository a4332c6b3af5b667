/*
 * test_iforest.c — the isolation forest (lib/fd_iforest.c, included to reach its statics).
 * c(n) literals were computed independently with python3 from the formula
 * c(n) = 2 (ln(n − 1) + 0.5772156649) − 2 (n − 1)/n, c(2) = 1, c(1) = 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fd_iforest.c"

static void test_c_of_n(void **state)
{
	(void)state;
	assert_float_equal(fd_iforest_c(0), 0.0, 0.0);
	assert_float_equal(fd_iforest_c(1), 0.0, 0.0);
	assert_float_equal(fd_iforest_c(2), 1.0, 0.0);
	assert_float_equal(fd_iforest_c(3), 1.207392357586557, 1e-12);
	assert_float_equal(fd_iforest_c(4), 1.8516559071362195, 1e-12);
	assert_float_equal(fd_iforest_c(256), 10.244770920116851, 1e-12);
	assert_float_equal(fd_iforest_c(1000), 12.969940887097108, 1e-12);
}

static void test_height(void **state)
{
	(void)state;
	assert_int_equal(height_of(2), 1);
	assert_int_equal(height_of(3), 2);
	assert_int_equal(height_of(4), 2);
	assert_int_equal(height_of(255), 8);
	assert_int_equal(height_of(256), 8);
	assert_int_equal(height_of(257), 9);
}

static void test_key_order(void **state)
{
	const float v[] = { -INFINITY, -1e30f, -2.5f, -1e-40f, 0.0f, 1e-40f, 1.0f, 3e38f, INFINITY };
	size_t i;

	(void)state;
	for (i = 1; i < sizeof(v) / sizeof(v[0]); i++)
		assert_true(fkey(v[i - 1]) < fkey(v[i]));
	assert_int_equal(fkey(-0.0f), fkey(0.0f));
	assert_true(fkey(NAN) < fkey(-INFINITY));
	assert_true(fkey(INFINITY) < PASS_KEY);
}

/*
 * A hand-made tree (psi 4, height 2):
 *             [x0 < 0.5 ?]
 *        left /          \ right
 *    external(1)      [x1 < 0 ?]
 *                     /        \
 *             external(2)   external(1)
 * Path lengths: left 1 + c(1) = 1; right-left 2 + c(2) = 3; right-right 2 + c(1) = 2.
 * s = 2^(−h / c(4)), c(4) = 1.8516559071362195: h = 1, 2, 3 give 0.6877436677784063,
 * 0.472991352569295, 0.3252968076434763 (python3).  NaN goes left.
 */
static const struct fd_iforest_node hand_tree[] = {
	{ 0, 0.5f, 4 }, { -1, 0.0f, 1 }, { 1, 0.0f, 3 }, { -1, 0.0f, 2 }, { -1, 0.0f, 1 },
};

static void test_hand_tree_scores(void **state)
{
	struct fd_iforest *f;
	struct fd_err err;
	const size_t counts[] = { 5 };
	float X[] = { 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, -1.0f, NAN, 5.0f, 0.5f, 0.0f, 0.4999f, -7.0f,
		      1.0f, NAN, 2.0f, -0.0f, 0.0f, 0.0f };
	const double want[] = { 0.6877436677784063, 0.472991352569295, 0.3252968076434763,
				0.6877436677784063, 0.472991352569295, 0.6877436677784063,
				0.3252968076434763, 0.472991352569295, 0.6877436677784063 };
	float s[9];
	size_t i;

	(void)state;
	assert_int_equal(fd_iforest_from_trees(&f, 2, 4, 1, hand_tree, counts, &err), FD_OK);
	assert_int_equal(fd_iforest_height(f), 2);
	fd_iforest_score(f, X, 9, s);
	for (i = 0; i < 9; i++) {
		assert_float_equal(s[i], want[i], 1e-6);
		assert_float_equal(fd_iforest_score_row(f, X + 2 * i), want[i], 1e-6);
	}
	fd_iforest_free(f);
	fd_iforest_free(NULL);
}

static void test_from_trees_refuses(void **state)
{
	struct fd_iforest *f;
	struct fd_err err;
	struct fd_iforest_node t[5];
	size_t counts[] = { 5 };

	(void)state;
	memcpy(t, hand_tree, sizeof(t));
	t[2].feature = 2; /* feature out of range */
	assert_int_equal(fd_iforest_from_trees(&f, 2, 4, 1, t, counts, &err), FD_EINPUT);
	assert_null(f);
	memcpy(t, hand_tree, sizeof(t));
	t[3].size = 1; /* sizes no longer add up */
	assert_int_equal(fd_iforest_from_trees(&f, 2, 4, 1, t, counts, &err), FD_EINPUT);
	memcpy(t, hand_tree, sizeof(t));
	t[1].size = 0;
	assert_int_equal(fd_iforest_from_trees(&f, 2, 4, 1, t, counts, &err), FD_EINPUT);
	memcpy(t, hand_tree, sizeof(t));
	t[0].value = NAN;
	assert_int_equal(fd_iforest_from_trees(&f, 2, 4, 1, t, counts, &err), FD_EINPUT);
	memcpy(t, hand_tree, sizeof(t));
	/* a count that cuts the tree short */
	counts[0] = 4;
	assert_int_equal(fd_iforest_from_trees(&f, 2, 4, 1, t, counts, &err), FD_EINPUT);
	counts[0] = 5;
	assert_int_equal(fd_iforest_from_trees(&f, 2, 3, 1, t, counts, &err), FD_EINPUT); /* root != psi */
	assert_int_equal(fd_iforest_from_trees(&f, 2, 4, 0, t, counts, &err), FD_EINPUT);
	assert_int_equal(fd_iforest_from_trees(&f, 2, 4, 1, t, counts, &err), FD_OK);
	fd_iforest_free(f);
	{
		/* depth 3 under psi 4 (height 2) */
		const struct fd_iforest_node deep[] = {
			{ 0, 0.5f, 4 }, { -1, 0, 1 }, { 1, 0.0f, 3 }, { -1, 0, 1 },
			{ 1, 1.0f, 2 }, { -1, 0, 1 }, { -1, 0, 1 },
		};
		const size_t c7[] = { 7 };

		assert_int_equal(fd_iforest_from_trees(&f, 2, 4, 1, deep, c7, &err), FD_EINPUT);
		assert_non_null(strstr(err.msg, "tree 1"));
	}
}

/* Deterministic 2-D cloud around the origin. */
static float *cloud(size_t rows, size_t d)
{
	float *X = malloc(rows * d * sizeof(*X));
	struct fd_rng r;
	size_t i;

	fd_rng_seed(&r, 1234, 5);
	for (i = 0; i < rows * d; i++)
		X[i] = (float)(fd_rng_unif(&r) + fd_rng_unif(&r) + fd_rng_unif(&r) - 1.5);
	return X;
}

static void test_outlier_scores_higher(void **state)
{
	const size_t rows = 2000, d = 3;
	struct fd_iforest *f;
	struct fd_iforest_opts o;
	struct fd_err err;
	float *X = cloud(rows, d), *s = malloc(rows * sizeof(*s));
	const float outlier[3] = { 6.0f, -6.0f, 6.0f };
	double mean = 0.0;
	float so;
	size_t i, above = 0;

	(void)state;
	fd_iforest_opts_init(&o);
	assert_int_equal(o.trees, 100);
	assert_int_equal(o.subsample, 256);
	assert_int_equal(fd_iforest_train(&f, X, rows, d, &o, &err), FD_OK);
	assert_int_equal(fd_iforest_trees(f), 100);
	assert_int_equal(fd_iforest_subsample(f), 256);
	assert_int_equal(fd_iforest_height(f), 8);
	assert_int_equal(fd_iforest_inputs(f), 3);
	fd_iforest_score(f, X, rows, s);
	for (i = 0; i < rows; i++) {
		assert_true(s[i] > 0.0f && s[i] < 1.0f);
		mean += s[i];
	}
	mean /= (double)rows;
	so = fd_iforest_score_row(f, outlier);
	for (i = 0; i < rows; i++)
		above += so > s[i];
	assert_true(so > 0.65f);
	assert_true(mean < 0.5);
	assert_true(above >= rows - 2);
	for (i = 0; i < fd_iforest_trees(f); i++) {
		size_t n;
		const struct fd_iforest_node *nd = fd_iforest_tree(f, (unsigned)i, &n);

		assert_int_equal(nd[0].size, 256);
		assert_true(n >= 3 && n <= 511);
	}
	fd_iforest_free(f);
	free(X);
	free(s);
}

/* Scores from batch (blocks of 8 rows) and single rows are identical, and a forest rebuilt
 * from its compact trees scores the same. */
static void test_batch_single_and_rebuild(void **state)
{
	const size_t rows = 203, d = 5;
	struct fd_iforest *f, *g;
	struct fd_iforest_opts o;
	struct fd_err err;
	float *X = cloud(rows, d), s1[203], s2[203];
	size_t *counts, i, total = 0, k = 0;
	struct fd_iforest_node *all;
	unsigned t;

	(void)state;
	fd_iforest_opts_init(&o);
	o.trees = 37;
	o.subsample = 64;
	o.seed = 3;
	assert_int_equal(fd_iforest_train(&f, X, rows, d, &o, &err), FD_OK);
	fd_iforest_score(f, X, rows, s1);
	for (i = 0; i < rows; i++)
		assert_memory_equal(&s1[i], &(float){ fd_iforest_score_row(f, X + i * d) }, sizeof(float));
	counts = malloc(37 * sizeof(*counts));
	for (t = 0; t < 37; t++) {
		fd_iforest_tree(f, t, &counts[t]);
		total += counts[t];
	}
	all = malloc(total * sizeof(*all));
	for (t = 0; t < 37; t++) {
		size_t n;
		const struct fd_iforest_node *nd = fd_iforest_tree(f, t, &n);

		memcpy(all + k, nd, n * sizeof(*nd));
		k += n;
	}
	assert_int_equal(fd_iforest_from_trees(&g, d, 64, 37, all, counts, &err), FD_OK);
	fd_iforest_score(g, X, rows, s2);
	assert_memory_equal(s1, s2, sizeof(s1));
	fd_iforest_free(f);
	fd_iforest_free(g);
	free(all);
	free(counts);
	free(X);
}

static void test_deterministic(void **state)
{
	const size_t rows = 500, d = 4;
	struct fd_iforest *a, *b, *c;
	struct fd_iforest_opts o;
	struct fd_err err;
	float *X = cloud(rows, d);
	size_t na, nb, nc;
	const struct fd_iforest_node *ta, *tb, *tc;

	(void)state;
	fd_iforest_opts_init(&o);
	o.seed = 99;
	assert_int_equal(fd_iforest_train(&a, X, rows, d, &o, &err), FD_OK);
	assert_int_equal(fd_iforest_train(&b, X, rows, d, &o, &err), FD_OK);
	o.seed = 100;
	assert_int_equal(fd_iforest_train(&c, X, rows, d, &o, &err), FD_OK);
	ta = fd_iforest_tree(a, 50, &na);
	tb = fd_iforest_tree(b, 50, &nb);
	tc = fd_iforest_tree(c, 50, &nc);
	assert_int_equal(na, nb);
	assert_memory_equal(ta, tb, na * sizeof(*ta));
	assert_true(na != nc || memcmp(ta, tc, na * sizeof(*ta)) != 0);
	fd_iforest_free(a);
	fd_iforest_free(b);
	fd_iforest_free(c);
	free(X);
}

/* Fewer rows than psi: psi becomes the row count; identical rows cannot be split. */
static void test_small_and_constant(void **state)
{
	struct fd_iforest *f;
	struct fd_iforest_opts o;
	struct fd_err err;
	float X[10 * 2] = { 0 }, s;
	size_t n;
	const struct fd_iforest_node *nd;

	(void)state;
	fd_iforest_opts_init(&o);
	assert_int_equal(fd_iforest_train(&f, X, 10, 2, &o, &err), FD_OK);
	assert_int_equal(fd_iforest_subsample(f), 10);
	assert_int_equal(fd_iforest_height(f), 4);
	nd = fd_iforest_tree(f, 0, &n);
	assert_int_equal(n, 1);               /* all rows equal: the root is external */
	assert_int_equal(nd[0].feature, -1);
	assert_int_equal(nd[0].size, 10);
	/* E[h] = c(10) = c(psi): s = 2^-1 */
	s = fd_iforest_score_row(f, X);
	assert_float_equal(s, 0.5, 1e-6);
	fd_iforest_free(f);
}

static void test_train_refuses(void **state)
{
	struct fd_iforest *f;
	struct fd_iforest_opts o;
	struct fd_err err;
	float X[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	fd_iforest_opts_init(&o);
	assert_int_equal(fd_iforest_train(&f, X, 1, 2, &o, &err), FD_EINPUT);
	X[3] = INFINITY;
	assert_int_equal(fd_iforest_train(&f, X, 4, 2, &o, &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "row 2 feature 2"));
	X[3] = 4;
	o.trees = 0;
	assert_int_equal(fd_iforest_train(&f, X, 4, 2, &o, &err), FD_EUSAGE);
	o.trees = 100;
	o.subsample = 1;
	assert_int_equal(fd_iforest_train(&f, X, 4, 2, &o, &err), FD_EUSAGE);
	assert_null(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c_of_n),
		cmocka_unit_test(test_height),
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_hand_tree_scores),
		cmocka_unit_test(test_from_trees_refuses),
		cmocka_unit_test(test_outlier_scores_higher),
		cmocka_unit_test(test_batch_single_and_rebuild),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_small_and_constant),
		cmocka_unit_test(test_train_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
