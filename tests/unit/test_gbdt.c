/*
 * test_gbdt.c — the supervised layer (lib/fd_gbdt.c over XGBoost), on hand-made sets whose
 * answer is known: the label is a threshold on one feature, the other is noise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>

#include "fd_gbdt.c"

#define N 400
#define NF 3

/* x0 in 0..9 decides (fraud when x0 >= 7), x1 is noise, x2 is missing on every other row. */
static void make(float *X, float *y, size_t n, unsigned salt)
{
	size_t i;
	uint32_t s = 12345u + salt;

	for (i = 0; i < n; i++) {
		s = s * 1103515245u + 12345u;
		X[i * NF] = (float)(i % 10);
		X[i * NF + 1] = (float)((s >> 16) % 100) / 10.0f;
		X[i * NF + 2] = (i & 1) ? NAN : (float)(i % 7);
		y[i] = X[i * NF] >= 7 ? 1.0f : 0.0f;
	}
}

static struct fd_gbdt *trained(struct fd_gbdt_result *res)
{
	static float X[N * NF], y[N], Xv[N * NF], yv[N];
	struct fd_gbdt_opts o;
	struct fd_gbdt *g = NULL;
	struct fd_err err = {0};

	make(X, y, N, 0);
	make(Xv, yv, N, 1);
	fd_gbdt_opts_init(&o);
	assert_float_equal(o.scale_pos_weight, 1.0, 0.0);
	assert_int_equal(o.max_depth, 4);
	o.max_rounds = 50;
	o.patience = 5;
	o.scale_pos_weight = 0;
	assert_int_equal(fd_gbdt_train(&g, X, y, N, Xv, yv, N, NF, &o, res, &err), FD_OK);
	return g;
}

static void test_learns_threshold(void **state)
{
	struct fd_gbdt_result res;
	struct fd_gbdt *g = trained(&res);
	float X[4 * NF] = { 9, 5, 1, 7, 0.3f, NAN, 6, 9.9f, 2, 0, 1, NAN };
	float p[4];
	double gain[NF];
	struct fd_err err = {0};

	(void)state;
	/* 400 rows, 30% fraud: scale_pos_weight 1 by default (trained() asks for 0, the balance: 280/120) */
	assert_int_equal(res.n_train, N);
	assert_int_equal(res.pos_train, 120);
	assert_float_equal(res.scale_pos_weight, 280.0 / 120.0, 1e-12);
	/* the separable set is learned at once: AP 1 on validation, and no later round beats it */
	assert_float_equal(res.best_val_ap, 1.0, 1e-9);
	assert_true(res.best_rounds >= 1 && res.best_rounds < res.rounds);
	assert_int_equal(fd_gbdt_rounds(g), res.best_rounds);
	assert_int_equal(fd_gbdt_predict(g, X, 4, p, &err), FD_OK);
	assert_true(p[0] > 0.5f && p[1] > 0.5f);
	assert_true(p[2] < 0.5f && p[3] < 0.5f);
	/* only x0 splits */
	assert_int_equal(fd_gbdt_importance(g, gain, &err), FD_OK);
	assert_true(gain[0] > 0);
	assert_float_equal(gain[1], 0.0, 0.0);
	assert_float_equal(gain[2], 0.0, 0.0);
	fd_gbdt_free(g);
}

/* TreeSHAP and the approximate contributions: each row's sum to the margin, logit(p), computed
 * here from p. */
static void test_contrib_sum_to_margin(void **state)
{
	struct fd_gbdt_result res;
	struct fd_gbdt *g = trained(&res);
	float X[3 * NF] = { 9, 5, 1, 2, 0.3f, NAN, 7, 9.9f, 2 };
	float p[3], c[3 * (NF + 1)];
	struct fd_err err = {0};
	size_t i;

	(void)state;
	int exact;


	assert_int_equal(fd_gbdt_predict(g, X, 3, p, &err), FD_OK);
	for (exact = 0; exact <= 1; exact++) {
	assert_int_equal(fd_gbdt_contrib(g, X, 3, exact, c, &err), FD_OK);
	for (i = 0; i < 3; i++) {
		double sum = c[i * 4] + c[i * 4 + 1] + c[i * 4 + 2] + c[i * 4 + 3];
		double margin = log((double)p[i] / (1.0 - (double)p[i]));

		assert_float_equal(sum, margin, 1e-3);
		/* the noise features contribute nothing: no tree splits on them */
		assert_float_equal(c[i * 4 + 1], 0.0, 1e-7);
		assert_float_equal(c[i * 4 + 2], 0.0, 1e-7);
	}
	/* x0 = 9 raises the risk, x0 = 2 lowers it */
	assert_true(c[0] > 0);
	assert_true(c[4] < 0);
	}
	fd_gbdt_free(g);
}

/*
 * The flattened trees against XGBoost itself: a booster with many real splits (a noisy,
 * non-separable label over three features, one often missing), its probabilities and its
 * approximate contributions from fd's walk and from XGBoost's predictor, on rows it was not
 * trained on, and again after a save and load.
 */
#define NB 3000
static void test_flat_trees_equal_xgboost(void **state)
{
	static float X[NB * NF], y[NB], Xv[NB * NF], yv[NB], T[NB * NF];
	static float pf[NB], px[NB], cf[NB * (NF + 1)], cx[NB * (NF + 1)];
	struct fd_gbdt_opts o;
	struct fd_gbdt_result res;
	struct fd_gbdt *g = NULL, *h = NULL;
	struct fd_buf b = FD_BUF_INIT;
	struct fd_err err = {0};
	uint32_t s = 777;
	size_t i, j, pass;

	(void)state;
	for (i = 0; i < NB; i++) {
		float *x[3] = {X + i * NF, Xv + i * NF, T + i * NF};
		float *lab[2] = {y + i, yv + i};

		for (j = 0; j < 3; j++) {
			double a, c;

			s = s * 1103515245u + 12345u;
			a = (double)((s >> 8) % 10000) / 1000.0;
			s = s * 1103515245u + 12345u;
			c = (double)((s >> 8) % 10000) / 1000.0;
			x[j][0] = (float)a;
			x[j][1] = (float)c;
			x[j][2] = (s >> 3) % 3 == 0 ? NAN : (float)(a - c);
			if (j < 2) {
				s = s * 1103515245u + 12345u;
				/* fraud more likely with large a and small c; one label in five flipped */
				*lab[j] = (a - c > 3.0) != ((s >> 10) % 5 == 0) ? 1.0f : 0.0f;
			}
		}
	}
	fd_gbdt_opts_init(&o);
	o.max_rounds = 60;
	o.patience = 0;
	assert_int_equal(fd_gbdt_train(&g, X, y, NB, Xv, yv, NB, NF, &o, &res, &err), FD_OK);
	assert_true(fd_gbdt_rounds(g) >= 20);
	assert_true(g->nnode > 60 * 7);  /* depth-4 trees with real splits, not stumps */
	assert_int_equal(fd_gbdt_save(g, &b, &err), FD_OK);
	assert_int_equal(fd_gbdt_load(&h, b.s, b.len, NF, &err), FD_OK);
	for (pass = 0; pass < 2; pass++) {
		struct fd_gbdt *m = pass ? h : g;

		assert_int_equal(fd_gbdt_predict(m, T, NB, pf, &err), FD_OK);
		assert_int_equal(fd_gbdt_predict_xgb(m, T, NB, px, &err), FD_OK);
		assert_int_equal(fd_gbdt_contrib(m, T, NB, 0, cf, &err), FD_OK);
		assert_int_equal(fd_gbdt_contrib_xgb(m, T, NB, 0, cx, &err), FD_OK);
		for (i = 0; i < NB; i++)
			assert_float_equal(pf[i], px[i], 1e-6);
		for (i = 0; i < NB * (NF + 1); i++)
			assert_float_equal(cf[i], cx[i], 1e-5);
	}
	fd_buf_release(&b);
	fd_gbdt_free(g);
	fd_gbdt_free(h);
}

/*
 * Keys order as the floats do (IEEE 754: -inf < -FLT_MAX < ... < -denormal < -0 = +0 <
 * denormal < ... < FLT_MAX < inf), and a missing value's two keys lie below and above all of
 * them, in lane 0 of a group at the offsets a split reads.
 */
static void test_keys_order_as_floats(void **state)
{
	static const float v[] = { -INFINITY, -FLT_MAX, -1e30f, -2.0f, -1.0f, -1.5e-38f, -1e-45f, 0.0f,
				   1e-45f, 1.5e-38f, 1.0f, 2.0f, 1e30f, FLT_MAX, INFINITY };
	float x[3] = { -0.0f, NAN, 1.0f };
	uint32_t k[3 * 2 * FLAT_LANES];
	size_t i;

	(void)state;
	for (i = 0; i + 1 < sizeof(v) / sizeof(v[0]); i++) {
		assert_true(key_of(v[i]) < key_of(v[i + 1]));
		assert_true(key_of(v[i]) > 0 && key_of(v[i + 1]) < UINT32_MAX);
	}
	assert_int_equal(key_of(-0.0f), key_of(0.0f));
	memset(k, 0xa5, sizeof(k));
	keys_of(x, 3, k);
	assert_int_equal(k[0], key_of(0.0f));
	assert_int_equal(k[FLAT_LANES], key_of(0.0f));
	assert_int_equal(k[2 * FLAT_LANES], 0);             /* missing, sent left: below all */
	assert_int_equal(k[3 * FLAT_LANES], UINT32_MAX);    /* missing, sent right: above all */
	assert_int_equal(k[4 * FLAT_LANES], key_of(1.0f));
	assert_int_equal(k[1], 0xa5a5a5a5u);               /* other lanes untouched */
}

/*
 * A block's keys, the AVX2 way and the portable way, the same to the bit: every special
 * value (missing, -0, the infinities, denormals) in every lane, and a last group filled up
 * with copies of its last row.
 */
static void test_keys_block_both_ways(void **state)
{
	static const float v[] = { NAN, -0.0f, 0.0f, -INFINITY, INFINITY, -FLT_MAX, FLT_MAX, -1e-45f, 1e-45f,
				   -1.5e-38f, 1.5e-38f, -2.5f, 2.5f, 1e30f, -1e30f, 7.0f };
	enum { NV = sizeof(v) / sizeof(v[0]), NR = 13, NK = 5 };
	struct fd_gbdt g;
	float X[NR * NK];
	static uint32_t a[2 * 2 * NK * FLAT_LANES], b[2 * 2 * NK * FLAT_LANES];
	size_t r, j;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.nf = NK;
	for (r = 0; r < NR; r++)
		for (j = 0; j < NK; j++)
			X[r * NK + j] = v[(r * 7 + j * 3) % NV];
	memset(a, 0xa5, sizeof(a));
	memset(b, 0x5a, sizeof(b));
	gbdt_simd = 0;
	keys_block(&g, X, NR, 16, a);
	gbdt_simd = 1;
	keys_block(&g, X, NR, 16, b);
	assert_memory_equal(a, b, sizeof(a));
	/* and as key_of says, lane by lane, the filled-up lanes as the last row */
	for (r = 0; r < 16; r++)
		for (j = 0; j < NK; j++) {
			const float x = X[(r < NR ? r : NR - 1) * NK + j];
			const uint32_t *k = b + r / FLAT_LANES * 2 * NK * FLAT_LANES + r % FLAT_LANES;

			assert_int_equal(k[2 * j * FLAT_LANES], isnan(x) ? 0 : key_of(x));
			assert_int_equal(k[(2 * j + 1) * FLAT_LANES], isnan(x) ? UINT32_MAX : key_of(x));
		}
}

/*
 * The padded heap walk, the breadth-first walk of deeper trees, and groups of eight rows
 * filled up at the end, against XGBoost's own predictor: boosters of depth 1, 2 and 5, one
 * of up to depth 14 where some trees stay within FLAT_PAD_DEPTH and others grow past it (both
 * walks in one model), one where all grow past it, and one of single-leaf trees (no split is
 * allowed),
 * each on row counts that are and are not multiples of the group and the block, from an
 * unaligned first row, on rows with missing values.
 */
#define ND 2000
#define NFD 6
static void test_walks_equal_xgboost(void **state)
{
	static float X[ND * NFD], y[ND], T[ND * NFD];
	static float pf[ND], px[ND], cf[40 * (NFD + 1)], cx[40 * (NFD + 1)];
	static const size_t counts[] = { 1, 7, 8, 9, 31, 32, 33, ND - 5 };
	static const struct { unsigned depth; double mcw; } cfg[] = {
		{ 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 }, { 5, 1 }, { 6, 1 }, { 7, 1 }, { 14, 10 }, { 14, 0 },
		{ 4, 1e9 },
	};
	static float ps[ND];
	uint32_t s = 4242;
	size_t i, j, c, k;

	(void)state;
	for (i = 0; i < ND; i++) {
		for (k = 0; k < 2; k++) {
			float *x = (k ? T : X) + i * NFD;

			for (j = 0; j < NFD; j++) {
				s = s * 1103515245u + 12345u;
				x[j] = (float)((s >> 8) % 20000) / 100.0f - 50.0f;
				/* missing: often in feature 1, now and then in the others, all of a row
				 * in one row of 50 */
				if ((j == 1 && (s >> 4) % 3 == 0) || (s >> 5) % 17 == 0 || i % 50 == 3)
					x[j] = NAN;
			}
			if (!k) {
				s = s * 1103515245u + 12345u;
				y[i] = (x[0] + (isnan(x[1]) ? 30 : x[1]) > 20) != ((s >> 10) % 4 == 0) ? 1.0f : 0.0f;
			}
		}
	}
	for (c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		struct fd_gbdt_opts o;
		struct fd_gbdt_result res;
		struct fd_gbdt *g = NULL;
		struct fd_err err = {0};
		unsigned maxd = 0, padded = 0;

		fd_gbdt_opts_init(&o);
		o.max_rounds = 25;
		o.patience = 0;
		o.max_depth = cfg[c].depth;
		o.min_child_weight = cfg[c].mcw;
		assert_int_equal(fd_gbdt_train(&g, X, y, ND, NULL, NULL, 0, NFD, &o, &res, &err), FD_OK);
		for (i = 0; i < g->ntree; i++) {
			assert_true(g->depth[i] <= cfg[c].depth);
			maxd = g->depth[i] > maxd ? g->depth[i] : maxd;
			padded += g->hroot[2 * i] != SIZE_MAX;
		}
		if (cfg[c].depth == 14) {
			assert_true(maxd > FLAT_PAD_DEPTH);      /* the breadth-first walk is used */
			assert_true(padded < g->ntree);
			if (cfg[c].mcw > 0)
				assert_true(padded > 0);         /* ... beside the padded one */
			else
				assert_int_equal(padded, 0);     /* ... alone */
		} else if (cfg[c].mcw > 1e6) {
			assert_int_equal(maxd, 0);               /* a leaf alone */
		} else {
			assert_int_equal(maxd, cfg[c].depth);
			assert_int_equal(padded, g->ntree);
		}
		for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			const float *at = T + 5 * NFD;
			int simd;

			/* the portable walk, then the AVX2 one where the CPU has it: each as
			 * XGBoost, and the two the same to the bit */
			for (simd = 0; simd < 2; simd++) {
				gbdt_simd = simd;
				assert_int_equal(fd_gbdt_predict(g, at, counts[k], simd ? pf : ps, &err), FD_OK);
			}
			assert_int_equal(fd_gbdt_predict_xgb(g, at, counts[k], px, &err), FD_OK);
			for (i = 0; i < counts[k]; i++) {
				assert_float_equal(ps[i], px[i], 1e-6);
				assert_float_equal(pf[i], px[i], 1e-6);
			}
			assert_memory_equal(pf, ps, counts[k] * sizeof(*pf));
		}
		for (k = 0; k < 3; k++) {
			static const size_t cn[3] = { 1, 9, 40 };  /* a group and a bit; five groups */

			static float cs[40 * (NFD + 1)];

			gbdt_simd = 0;
			assert_int_equal(fd_gbdt_contrib(g, T + 141 * NFD, cn[k], 0, cs, &err), FD_OK);
			gbdt_simd = 1;
			assert_int_equal(fd_gbdt_contrib(g, T + 141 * NFD, cn[k], 0, cf, &err), FD_OK);
			assert_int_equal(fd_gbdt_contrib_xgb(g, T + 141 * NFD, cn[k], 0, cx, &err), FD_OK);
			for (i = 0; i < cn[k] * (NFD + 1); i++) {
				assert_float_equal(cs[i], cx[i], 1e-5);
				assert_float_equal(cf[i], cx[i], 1e-5);
			}
			assert_memory_equal(cf, cs, cn[k] * (NFD + 1) * sizeof(*cf));
		}
		fd_gbdt_free(g);
	}
	/* the AVX2 walk is taken wherever the CPU has it, and only then */
	gbdt_simd = 1;
#ifdef FD_GBDT_AVX2
	assert_int_equal(use_avx2(), __builtin_cpu_supports("avx2") != 0);
#else
	assert_int_equal(use_avx2(), 0);
#endif
}

static void test_round_trip_and_determinism(void **state)
{
	struct fd_gbdt_result res;
	struct fd_gbdt *a = trained(&res), *b = trained(&res), *c = NULL;
	struct fd_buf ba = FD_BUF_INIT, bb = FD_BUF_INIT, bc = FD_BUF_INIT;
	float X[2 * NF] = { 8, 1, NAN, 3, 2, 4 }, pa[2], pc[2];
	struct fd_err err = {0};

	(void)state;
	assert_int_equal(fd_gbdt_save(a, &ba, &err), FD_OK);
	assert_int_equal(fd_gbdt_save(b, &bb, &err), FD_OK);
	assert_true(ba.len > 0);
	assert_int_equal(ba.len, bb.len);
	assert_memory_equal(ba.s, bb.s, ba.len);
	assert_int_equal(fd_gbdt_load(&c, ba.s, ba.len, NF, &err), FD_OK);
	assert_int_equal(fd_gbdt_rounds(c), fd_gbdt_rounds(a));
	assert_int_equal(fd_gbdt_save(c, &bc, &err), FD_OK);
	assert_int_equal(bc.len, ba.len);
	assert_memory_equal(bc.s, ba.s, ba.len);
	assert_int_equal(fd_gbdt_predict(a, X, 2, pa, &err), FD_OK);
	assert_int_equal(fd_gbdt_predict(c, X, 2, pc, &err), FD_OK);
	assert_memory_equal(pa, pc, sizeof(pa));
	fd_gbdt_free(c);
	c = NULL;
	/* the wrong number of features, and bytes that are no model */
	assert_int_equal(fd_gbdt_load(&c, ba.s, ba.len, NF + 1, &err), FD_EINPUT);
	assert_null(c);
	assert_int_equal(fd_gbdt_load(&c, "{not a model", 12, NF, &err), FD_EINPUT);
	assert_null(c);
	fd_gbdt_free(a);
	fd_gbdt_free(b);
	fd_buf_release(&ba);
	fd_buf_release(&bb);
	fd_buf_release(&bc);
}

static void test_errors(void **state)
{
	float X[4 * NF] = {0}, y1[4] = { 0, 0, 0, 0 }, y2[4] = { 0, 1, 2, 0 };
	struct fd_gbdt_opts o;
	struct fd_gbdt_result res;
	struct fd_gbdt *g = NULL;
	struct fd_err err = {0};

	(void)state;
	fd_gbdt_opts_init(&o);
	assert_int_equal(fd_gbdt_train(&g, X, y1, 4, NULL, NULL, 0, NF, &o, &res, &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "both fraud and legitimate"));
	assert_int_equal(fd_gbdt_train(&g, X, y2, 4, NULL, NULL, 0, NF, &o, &res, &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "not 0 or 1"));
	o.max_rounds = 0;
	assert_int_equal(fd_gbdt_train(&g, X, y1, 4, NULL, NULL, 0, NF, &o, &res, &err), FD_EUSAGE);
	assert_null(g);
}

/*
 * Weights: one constant feature, so no split is possible and the model converges to the
 * weighted share of fraud.  2 fraud and 8 legitimate rows, each legitimate row weighing 4 (a
 * 1-in-4 sample): 2 / (2 + 32) = 0.0588; unweighted it is 2 / 10.
 */
static void test_weights(void **state)
{
	float X[10], y[10], w[10], p[1], x0[1] = { 0 };
	struct fd_gbdt_opts o;
	struct fd_gbdt_result res;
	struct fd_gbdt *g = NULL;
	struct fd_err err = {0};
	size_t i;

	(void)state;
	for (i = 0; i < 10; i++) {
		X[i] = 0;
		y[i] = i < 2;
		w[i] = i < 2 ? 1.0f : 4.0f;
	}
	fd_gbdt_opts_init(&o);
	o.max_rounds = 300;
	o.eta = 0.3;
	o.min_child_weight = 0;
	assert_int_equal(fd_gbdt_train_weighted(&g, X, y, w, 10, NULL, NULL, NULL, 0, 1, &o, &res, &err), FD_OK);
	assert_int_equal(fd_gbdt_predict(g, x0, 1, p, &err), FD_OK);
	assert_float_equal(p[0], 2.0 / 34.0, 2e-3);
	fd_gbdt_free(g);
	assert_int_equal(fd_gbdt_train_weighted(&g, X, y, NULL, 10, NULL, NULL, NULL, 0, 1, &o, &res, &err), FD_OK);
	assert_int_equal(fd_gbdt_predict(g, x0, 1, p, &err), FD_OK);
	assert_float_equal(p[0], 0.2, 2e-3);
	fd_gbdt_free(g);
	g = NULL;
	/* a weight must be finite and positive */
	w[3] = 0;
	assert_int_equal(fd_gbdt_train_weighted(&g, X, y, w, 10, NULL, NULL, NULL, 0, 1, &o, &res, &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "training weight 3"));
	w[3] = NAN;
	assert_int_equal(fd_gbdt_train_weighted(&g, X, y, NULL, 10, X, y, w, 10, 1, &o, &res, &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "validation weight 3"));
	assert_null(g);
}

/*
 * Measuring every 3 rounds: the separable set reaches AP 1 by the first measure (round 3);
 * with patience 5 the measures at 6 (3 rounds after the best) and 9 (6 >= 5) follow, and
 * training stops at round 9 with the trees cut back to 3.
 */
static void test_eval_every(void **state)
{
	static float X[N * NF], y[N], Xv[N * NF], yv[N];
	struct fd_gbdt_opts o;
	struct fd_gbdt_result res;
	struct fd_gbdt *g = NULL;
	struct fd_err err = {0};

	(void)state;
	make(X, y, N, 0);
	make(Xv, yv, N, 1);
	fd_gbdt_opts_init(&o);
	assert_int_equal(o.eval_every, 1);
	o.max_rounds = 50;
	o.patience = 5;
	o.eval_every = 3;
	assert_int_equal(fd_gbdt_train(&g, X, y, N, Xv, yv, N, NF, &o, &res, &err), FD_OK);
	assert_float_equal(res.best_val_ap, 1.0, 1e-9);
	assert_int_equal(res.best_rounds, 3);
	assert_int_equal(res.rounds, 9);
	assert_int_equal(fd_gbdt_rounds(g), 3);
	fd_gbdt_free(g);
	/* the last round is measured even off the step: 4 rounds, every 3 -> measures at 3 and 4 */
	o.max_rounds = 4;
	o.patience = 0;
	assert_int_equal(fd_gbdt_train(&g, X, y, N, Xv, yv, N, NF, &o, &res, &err), FD_OK);
	assert_int_equal(res.rounds, 4);
	assert_int_equal(res.best_rounds, 3);
	fd_gbdt_free(g);
	g = NULL;
	o.eval_every = 0;
	assert_int_equal(fd_gbdt_train(&g, X, y, N, Xv, yv, N, NF, &o, &res, &err), FD_EUSAGE);
	assert_null(g);
}

/* Two flattenings of one booster, the same to the bit. */
static void assert_same_flat(const struct fd_gbdt *a, const struct fd_gbdt *b)
{
	size_t t, ns = 0, nl = 0;

	assert_int_equal(a->ntree, b->ntree);
	assert_int_equal(a->nnode, b->nnode);
	assert_memory_equal(&a->base_margin, &b->base_margin, sizeof(a->base_margin));
	assert_memory_equal(a->node, b->node, a->nnode * sizeof(*a->node));
	assert_memory_equal(a->mean, b->mean, a->nnode * sizeof(*a->mean));
	assert_memory_equal(a->root, b->root, a->ntree * sizeof(*a->root));
	assert_memory_equal(a->depth, b->depth, a->ntree * sizeof(*a->depth));
	assert_memory_equal(a->hroot, b->hroot, 2 * a->ntree * sizeof(*a->hroot));
	for (t = 0; t < a->ntree; t++)
		if (a->hroot[2 * t] != SIZE_MAX) {
			ns += ((size_t)1 << a->depth[t]) - 1;
			nl += (size_t)1 << a->depth[t];
		}
	assert_memory_equal(a->hsplit, b->hsplit, ns * sizeof(*a->hsplit));
	assert_memory_equal(a->hfeat, b->hfeat, ns * sizeof(*a->hfeat));
	assert_memory_equal(a->hleaf, b->hleaf, nl * sizeof(*a->hleaf));
	assert_memory_equal(a->hmean, b->hmean, (ns + nl) * sizeof(*a->hmean));
	assert_memory_equal(a->hpoff, b->hpoff, a->ntree * sizeof(*a->hpoff));
	for (t = 0; t < a->ntree; t++)
		if (a->hpoff[t] != SIZE_MAX)
			assert_memory_equal(a->hpath + a->hpoff[t], b->hpath + b->hpoff[t],
					    (a->depth[t] << a->depth[t]) * sizeof(*a->hpath));
}

/*
 * The trees read from the model's UBJSON bytes as from XGBoost's JSON form (jansson), the
 * same to the bit, for a trained booster (its bytes written by XGBoost) and a loaded one (the
 * bytes given); bytes of a layout the reader does not know fall back to the JSON form; and
 * the reader stops inside every cut of the bytes (AddressSanitizer watches it in
 * make check-sanitize) and reads them whole.
 */
static void test_ubj_reader_as_json(void **state)
{
	struct fd_gbdt_result res;
	struct fd_gbdt *g = trained(&res), *u = NULL, *j = NULL, *f = NULL;
	struct fd_buf b = FD_BUF_INIT;
	struct fd_err err = {0};
	struct src sr;
	size_t cut, whole = 0;
	int oomp;

	(void)state;
	assert_int_equal(fd_gbdt_save(g, &b, &err), FD_OK);
	gbdt_ubj = 1;
	assert_int_equal(fd_gbdt_load(&u, b.s, b.len, NF, &err), FD_OK);
	gbdt_ubj = 0;
	assert_int_equal(fd_gbdt_load(&j, b.s, b.len, NF, &err), FD_OK);
	gbdt_ubj = 1;
	assert_same_flat(u, j);
	assert_same_flat(g, j);  /* trained: flattened from the bytes XGBoost wrote */
	/* the UBJSON reader does read these bytes (no silent fallback) */
	memset(&sr, 0, sizeof(sr));
	assert_int_equal(read_ubj(b.s, b.len, &sr, &oomp), 0);
	assert_int_equal(sr.ntree, u->ntree);
	src_release(&sr);
	/* a layout it does not know: the JSON form, the same trees */
	assert_int_equal(fd_gbdt_load(&f, b.s, b.len, NF, &err), FD_OK);
	free(f->node);
	free(f->mean);
	free(f->root);
	free(f->depth);
	free(f->hsplit);
	free(f->hleaf);
	free(f->hfeat);
	free(f->hmean);
	free(f->hroot);
	free(f->hpath);
	free(f->hpoff);
	assert_int_equal(flatten(f, "[]", 2, &err), FD_OK);
	assert_same_flat(f, j);
	for (cut = 0; cut <= b.len; cut++) {
		unsigned char *copy = malloc(cut ? cut : 1);

		memcpy(copy, b.s, cut);
		memset(&sr, 0, sizeof(sr));
		if (read_ubj(copy, cut, &sr, &oomp) == 0)
			whole++;
		assert_int_equal(oomp, 0);
		src_release(&sr);
		free(copy);
	}
	/* only whole bytes read whole (the last member after the trees may be cut and the
	 * trees still be read, so: at least the whole, and nothing shorter than the trees) */
	assert_true(whole >= 1);
	memset(&sr, 0, sizeof(sr));
	assert_int_equal(read_ubj(b.s, b.len / 2, &sr, &oomp), -1);
	src_release(&sr);
	fd_buf_release(&b);
	fd_gbdt_free(g);
	fd_gbdt_free(u);
	fd_gbdt_free(j);
	fd_gbdt_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ubj_reader_as_json),
		cmocka_unit_test(test_learns_threshold),
		cmocka_unit_test(test_contrib_sum_to_margin),
		cmocka_unit_test(test_flat_trees_equal_xgboost),
		cmocka_unit_test(test_keys_order_as_floats),
		cmocka_unit_test(test_keys_block_both_ways),
		cmocka_unit_test(test_walks_equal_xgboost),
		cmocka_unit_test(test_round_trip_and_determinism),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_eval_every),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
