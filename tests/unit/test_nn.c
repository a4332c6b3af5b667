/*
 * test_nn.c — the autoencoder (lib/fd_nn.c, included to reach the forward, backward, batch
 * normalisation and Adam steps).  Expected numbers come from hand calculation or python3
 * (noted at each), and the backward pass is checked against central finite differences.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fd_nn.c"

/* Deterministic test data: low-rank rows (2 latent factors) plus a little noise. */
static float *lowrank(size_t rows, size_t d, uint64_t seed)
{
	float *X = malloc(rows * d * sizeof(*X));
	struct fd_rng r;
	size_t i, j;

	fd_rng_seed(&r, seed, 99);
	for (i = 0; i < rows; i++) {
		float a = 2.0f * rng_float(&r) - 1.0f, b = 2.0f * rng_float(&r) - 1.0f;

		for (j = 0; j < d; j++)
			X[i * d + j] = a * (float)(j + 1) / (float)d - b * (float)(j % 3) * 0.5f +
				       0.05f * (2.0f * rng_float(&r) - 1.0f);
	}
	return X;
}

static void test_parse_layers(void **state)
{
	size_t h[FD_NN_MAX_HIDDEN], n;
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_nn_parse_layers("12,6,12", h, &n, &err), FD_OK);
	assert_int_equal(n, 3);
	assert_int_equal(h[0], 12);
	assert_int_equal(h[1], 6);
	assert_int_equal(h[2], 12);
	assert_int_equal(fd_nn_parse_layers(" 64, 32 ,14,32,64 ", h, &n, &err), FD_OK);
	assert_int_equal(n, 5);
	assert_int_equal(h[2], 14);
	assert_int_equal(fd_nn_parse_layers("", h, &n, &err), FD_EUSAGE);
	assert_int_equal(fd_nn_parse_layers("12,,6", h, &n, &err), FD_EUSAGE);
	assert_int_equal(fd_nn_parse_layers("0", h, &n, &err), FD_EUSAGE);
	assert_int_equal(fd_nn_parse_layers("5000", h, &n, &err), FD_EUSAGE);
	assert_int_equal(fd_nn_parse_layers("99999999999999999999999", h, &n, &err), FD_EUSAGE);
	assert_int_equal(fd_nn_parse_layers("12;6", h, &n, &err), FD_EUSAGE);
	assert_non_null(strstr(err.msg, "12;6"));
	assert_int_equal(fd_nn_parse_layers("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", h, &n, &err),
			 FD_EUSAGE);
	assert_int_equal(fd_nn_parse_layers("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", h, &n, &err),
			 FD_OK);
}

static void test_default_layers(void **state)
{
	size_t h[FD_NN_MAX_HIDDEN], n;

	(void)state;
	fd_nn_default_layers(18, h, &n); /* the reference 18-12-6-12-18 */
	assert_int_equal(n, 3);
	assert_int_equal(h[0], 12);
	assert_int_equal(h[1], 6);
	assert_int_equal(h[2], 12);
	fd_nn_default_layers(41, h, &n); /* 27.3, 13.7 */
	assert_int_equal(h[0], 27);
	assert_int_equal(h[1], 14);
	assert_int_equal(h[2], 27);
	fd_nn_default_layers(60, h, &n);
	assert_int_equal(h[0], 40);
	assert_int_equal(h[1], 20);
	fd_nn_default_layers(1, h, &n);  /* never 0 units */
	assert_int_equal(h[0], 1);
	assert_int_equal(h[1], 1);
}

static void test_param_count(void **state)
{
	const size_t ref[] = { 12, 6, 12 };
	size_t np, nb, n;
	struct fd_err err;
	struct fd_nn *nn;

	(void)state;
	/* 18-12-6-12-18 by hand: W 18·12 + gamma, beta 2·12; 12·6 + 2·6; 6·12 + 2·12;
	 * output 12·18 + bias 18 = 240 + 84 + 96 + 234 = 654; statistics 2·(12+6+12) = 60. */
	assert_int_equal(fd_nn_param_count(18, ref, 3, &np, &nb, &err), FD_OK);
	assert_int_equal(np, 654);
	assert_int_equal(nb, 60);
	assert_int_equal(fd_nn_create(&nn, 18, ref, 3, 1, &err), FD_OK);
	fd_nn_params(nn, &n);
	assert_int_equal(n, 654);
	fd_nn_bn_state(nn, &n);
	assert_int_equal(n, 60);
	assert_int_equal(fd_nn_hidden(nn, NULL, 0), 3);
	fd_nn_free(nn);
	fd_nn_free(NULL);
	assert_int_equal(fd_nn_param_count(0, ref, 3, &np, &nb, &err), FD_EINPUT);
	assert_int_equal(fd_nn_create(&nn, 18, (const size_t[]){ 0 }, 1, 1, &err), FD_EUSAGE);
	assert_null(nn);
}

/* Batch normalisation forward on a 2×2 batch, by hand (python3 for the digits):
 * column 0: z = 1, 3: mean 2, biased var 1, xhat = ∓1/sqrt(1 + 1e-5) = ∓0.99999500004;
 *           gamma 2, beta 0.1: y = -1.89999, 2.09999 → ReLU → 0, 2.0999900000749996
 * column 1: z = 2, 6: mean 4, var 4, xhat = ∓2/sqrt(4 + 1e-5) = ∓0.99999875000;
 *           gamma 0.5, beta 1: y = 0.5000006249988281, 1.4999993750011718
 * running mean = 0.9·0 + 0.1·mean = 0.2, 0.4;
 * running var = 0.9·1 + 0.1·unbiased var (2, 8) = 1.1, 1.7. */
static void test_batchnorm_forward(void **state)
{
	float z[4] = { 1, 2, 3, 6 }, gamma[2] = { 2, 0.5f }, beta[2] = { 0.1f, 1 };
	float rm[2] = { 0, 0 }, rv[2] = { 1, 1 }, xhat[4], gate[4], inv[2];

	(void)state;
	bn_relu_drop(z, 2, 2, gamma, beta, rm, rv, 1, xhat, gate, inv, NULL, 0, 1.0f);
	assert_float_equal(xhat[0], -0.9999950000374997, 1e-6);
	assert_float_equal(xhat[2], 0.9999950000374997, 1e-6);
	assert_float_equal(xhat[1], -0.9999987500023437, 1e-6);
	assert_float_equal(xhat[3], 0.9999987500023437, 1e-6);
	assert_float_equal(z[0], 0.0, 0.0);
	assert_float_equal(z[2], 2.0999900000749996, 1e-6);
	assert_float_equal(z[1], 0.5000006249988281, 1e-6);
	assert_float_equal(z[3], 1.4999993750011718, 1e-6);
	assert_float_equal(gate[0], 0.0, 0.0);
	assert_float_equal(gate[2], 1.0, 0.0);
	assert_float_equal(rm[0], 0.2, 1e-7);
	assert_float_equal(rm[1], 0.4, 1e-7);
	assert_float_equal(rv[0], 1.1, 1e-6);
	assert_float_equal(rv[1], 1.7, 1e-6);
}

/* Adam on one parameter, by hand: p = 1, g = 0.5: m = 0.05, v = 0.00025, bias-corrected
 * 0.5 and 0.25, p = 1 − 1e-3·0.5/(0.5 + 1e-8) = 0.99900000002; then g = −1: m = −0.055,
 * v = 0.00124975, p = 0.9993661035424056 (python3). */
static void test_adam_step(void **state)
{
	struct train_ws w;
	float p = 1.0f, g = 0.5f, m = 0.0f, v = 0.0f;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.b1t = w.b2t = 1.0;
	adam_step(&p, &g, &m, &v, 1, 1e-3f, &w);
	assert_float_equal(m, 0.05, 1e-8);
	assert_float_equal(v, 0.00025, 1e-10);
	assert_float_equal(p, 0.99900000002, 1e-7);
	g = -1.0f;
	adam_step(&p, &g, &m, &v, 1, 1e-3f, &w);
	assert_float_equal(m, -0.055, 1e-8);
	assert_float_equal(v, 0.00124975, 1e-9);
	assert_float_equal(p, 0.9993661035424056, 1e-7);
}

/* Backward pass against central finite differences of the training loss, with and without
 * dropout (the same mask for every evaluation: the dropout generator is restored). */
static void gradcheck(float dropout)
{
	const size_t hidden[] = { 5, 3 }, d = 4, B = 6;
	struct fd_nn *nn;
	struct train_ws w;
	struct fd_rng r0, r;
	struct fd_err err;
	float *X = lowrank(B, d, 7), *ana;
	double num2 = 0.0, diff2 = 0.0;
	size_t i;

	assert_int_equal(fd_nn_create(&nn, d, hidden, 2, 3, &err), FD_OK);
	/* move gamma and beta away from their initial values so their gradients are generic */
	for (i = 0; i < nn->n_params; i++)
		nn->params[i] += 0.1f * (float)((int)(i % 7) - 3);
	assert_int_equal(train_ws_init(&w, nn, B), 0);
	memcpy(w.x, X, B * d * sizeof(float));
	fd_rng_seed(&r0, 11, RNG_DROPOUT);
	r = r0;
	fwd_train(nn, &w, B, &r, dropout, 0);
	bwd_train(nn, &w, B);
	ana = malloc(nn->n_params * sizeof(*ana));
	memcpy(ana, w.grad, nn->n_params * sizeof(*ana));
	for (i = 0; i < nn->n_params; i++) {
		const float h = 1e-2f;
		float keep = nn->params[i];
		double lp, lm, num;

		nn->params[i] = keep + h;
		r = r0;
		lp = fwd_train(nn, &w, B, &r, dropout, 0);
		nn->params[i] = keep - h;
		r = r0;
		lm = fwd_train(nn, &w, B, &r, dropout, 0);
		nn->params[i] = keep;
		num = (lp - lm) / (2.0 * h);
		/* each parameter: within 1e-2 relative, or 2e-4 absolute for tiny gradients */
		if (fabs(num - ana[i]) > 1e-2 * fabs(num) + 2e-4)
			fail_msg("parameter %zu: finite difference %.6g, backward %.6g", i, num,
				 (double)ana[i]);
		num2 += num * num;
		diff2 += (num - ana[i]) * (num - ana[i]);
	}
	assert_true(num2 > 1e-6); /* the check checked something */
	assert_true(sqrt(diff2 / num2) < 1e-2);
	free(ana);
	free(X);
	train_ws_release(&w);
	fd_nn_free(nn);
}

static void test_gradient_no_dropout(void **state)
{
	(void)state;
	gradcheck(0.0f);
}

static void test_gradient_dropout(void **state)
{
	(void)state;
	gradcheck(0.2f);
}

/* Inference by hand.  A network with no hidden layer, W = 0 and b = 0 reconstructs 0, so the
 * error of x = (1, 2, 3) is (1 + 4 + 9)/3; with W = I it is 0. */
static void test_errors_linear(void **state)
{
	struct fd_nn *nn;
	struct fd_nn_ws *ws;
	struct fd_err err;
	float p[12] = { 0 }, x[6] = { 1, 2, 3, -1, 0, 1 }, e[2], fe[6];

	(void)state;
	assert_int_equal(fd_nn_create(&nn, 3, NULL, 0, 1, &err), FD_OK);
	assert_int_equal(fd_nn_set_params(nn, p, 12, NULL, 0, &err), FD_OK);
	assert_int_equal(fd_nn_ws_create(&ws, nn, 0, &err), FD_OK);
	fd_nn_errors(nn, ws, x, 2, e, fe);
	assert_float_equal(e[0], 14.0 / 3.0, 1e-6);
	assert_float_equal(e[1], 2.0 / 3.0, 1e-6);
	assert_float_equal(fe[0], 1.0, 0);
	assert_float_equal(fe[1], 4.0, 0);
	assert_float_equal(fe[2], 9.0, 0);
	assert_float_equal(fe[4], 0.0, 0);
	fd_nn_errors(nn, ws, x, 1, e, NULL);
	assert_float_equal(e[0], 14.0 / 3.0, 1e-6);
	p[0] = p[4] = p[8] = 1.0f; /* W = I */
	assert_int_equal(fd_nn_set_params(nn, p, 12, NULL, 0, &err), FD_OK);
	fd_nn_errors(nn, ws, x, 2, e, NULL);
	assert_float_equal(e[0], 0.0, 1e-7);
	assert_float_equal(e[1], 0.0, 1e-7);
	fd_nn_ws_free(ws);
	fd_nn_free(nn);
}

/* One hidden layer, W1 = I, gamma 1, beta 0, running mean 0, var 1, W2 = I, b 0: the output is
 * relu(x)/sqrt(1 + 1e-5), so for x = (1, −2, 3) the squared errors are (python3)
 * 2.4999625e-11, 4, 2.24996625e-10 and the error 1.3333333334166655: batch normalisation is
 * folded into the layer at inference. */
static void test_errors_folded_bn(void **state)
{
	const size_t hidden[] = { 3 };
	struct fd_nn *nn;
	struct fd_nn_ws *ws;
	struct fd_err err;
	float p[9 + 3 + 3 + 9 + 3] = { 0 }, bn[6] = { 0, 0, 0, 1, 1, 1 };
	float x[3] = { 1, -2, 3 }, e, fe[3];
	size_t np, nb, i;

	(void)state;
	assert_int_equal(fd_nn_create(&nn, 3, hidden, 1, 1, &err), FD_OK);
	fd_nn_params(nn, &np);
	fd_nn_bn_state(nn, &nb);
	assert_int_equal(np, 27);
	assert_int_equal(nb, 6);
	for (i = 0; i < 3; i++) {
		p[i * 3 + i] = 1.0f;           /* W1 */
		p[9 + i] = 1.0f;               /* gamma; beta = p[12..14] = 0 */
		p[15 + i * 3 + i] = 1.0f;      /* W2; bias p[24..26] = 0 */
	}
	assert_int_equal(fd_nn_set_params(nn, p, np, bn, nb, &err), FD_OK);
	assert_int_equal(fd_nn_ws_create(&ws, nn, 0, &err), FD_OK);
	fd_nn_errors(nn, ws, x, 1, &e, fe);
	assert_float_equal(e, 1.3333333334166655, 1e-6);
	assert_float_equal(fe[1], 4.0, 1e-6);
	assert_true(fe[0] < 1e-9 && fe[2] < 1e-8);
	fd_nn_ws_free(ws);
	fd_nn_free(nn);
}

static void test_set_params_refused(void **state)
{
	struct fd_nn *nn;
	struct fd_err err;
	const size_t hidden[] = { 2 };
	float p[64] = { 0 }, bn[4] = { 0, 0, 1, 1 };
	size_t np, nb;

	(void)state;
	assert_int_equal(fd_nn_create(&nn, 3, hidden, 1, 1, &err), FD_OK);
	fd_nn_params(nn, &np);
	fd_nn_bn_state(nn, &nb);
	assert_int_equal(fd_nn_set_params(nn, p, np - 1, bn, nb, &err), FD_EINPUT);
	p[3] = NAN;
	assert_int_equal(fd_nn_set_params(nn, p, np, bn, nb, &err), FD_EINPUT);
	p[3] = 0;
	bn[3] = -1;
	assert_int_equal(fd_nn_set_params(nn, p, np, bn, nb, &err), FD_EINPUT);
	bn[3] = 1;
	assert_int_equal(fd_nn_set_params(nn, p, np, bn, nb, &err), FD_OK);
	fd_nn_free(nn);
}

/* Batch and single-row inference agree (to float rounding: sgemm and sgemv), and the
 * per-feature squares add up to the error. */
static void test_single_row_matches_batch(void **state)
{
	const size_t hidden[] = { 12, 6, 12 }, d = 18, rows = 300;
	struct fd_nn *nn;
	struct fd_nn_ws *ws;
	struct fd_err err;
	float *X = lowrank(rows, d, 5), e[300], fe[300 * 18];
	size_t i, j;

	(void)state;
	assert_int_equal(fd_nn_create(&nn, d, hidden, 3, 9, &err), FD_OK);
	assert_int_equal(fd_nn_ws_create(&ws, nn, 64, &err), FD_OK);
	fd_nn_errors(nn, ws, X, rows, e, fe);
	for (i = 0; i < rows; i++) {
		float one, s = 0;

		fd_nn_errors(nn, ws, X + i * d, 1, &one, NULL);
		assert_float_equal(one, e[i], 1e-5 * (1 + e[i]));
		for (j = 0; j < d; j++)
			s += fe[i * d + j];
		assert_float_equal(s / d, e[i], 1e-6 * (1 + e[i]));
	}
	fd_nn_ws_free(ws);
	fd_nn_free(nn);
	free(X);
}

static void test_train_learns_and_stops(void **state)
{
	const size_t hidden[] = { 4, 2, 4 }, d = 6, rows = 2000;
	struct fd_nn *nn;
	struct fd_nn_ws *ws;
	struct fd_nn_train_opts o;
	struct fd_nn_train_result res;
	struct fd_err err;
	float *X = lowrank(rows, d, 1), *Xv, *before, *after;
	double mb = 0, ma = 0;
	size_t i;

	(void)state;
	assert_int_equal(fd_nn_create(&nn, d, hidden, 3, 42, &err), FD_OK);
	assert_int_equal(fd_nn_ws_create(&ws, nn, 0, &err), FD_OK);
	fd_nn_train_opts_init(&o);
	assert_int_equal(o.batch, 64);
	assert_int_equal(o.max_epochs, 100);
	assert_int_equal(o.patience, 5);
	assert_float_equal(o.lr, 1e-3, 1e-9);
	assert_float_equal(o.dropout, 0.2, 1e-7);
	o.seed = 42;
	o.max_epochs = 30;
	o.patience = 2;
	/* the validation rows are 20% of the rows: 400 */
	Xv = malloc(400 * d * sizeof(*Xv));
	before = malloc(400 * sizeof(*before));
	after = malloc(400 * sizeof(*after));
	assert_int_equal(fd_nn_train(nn, X, rows, d, &o, &res, &err), FD_OK);
	assert_int_equal(res.n_val, 400);
	assert_int_equal(res.n_train, 1600);
	assert_non_null(res.val_errors);
	for (i = 0; i < res.n_val; i++) {
		if (i)
			assert_true(res.val_rows[i] > res.val_rows[i - 1]);
		memcpy(Xv + i * d, X + res.val_rows[i] * d, d * sizeof(float));
	}
	/* the returned errors are the inference path's on the kept weights */
	fd_nn_errors(nn, ws, Xv, res.n_val, after, NULL);
	for (i = 0; i < res.n_val; i++) {
		assert_float_equal(after[i], res.val_errors[i], 0.0);
		ma += after[i];
	}
	ma /= (double)res.n_val;
	assert_float_equal(ma, res.val_loss, 1e-6);
	/* early stopping: the best epoch is patience epochs before the last */
	assert_true(res.epochs >= 1 && res.epochs <= 30);
	if (res.stopped_early)
		assert_int_equal(res.best_epoch + o.patience, res.epochs);
	/* and training helped: a fresh network reconstructs the same rows worse */
	{
		struct fd_nn *fresh;

		assert_int_equal(fd_nn_create(&fresh, d, hidden, 3, 42, &err), FD_OK);
		fd_nn_errors(fresh, ws, Xv, res.n_val, before, NULL);
		for (i = 0; i < res.n_val; i++)
			mb += before[i];
		mb /= (double)res.n_val;
		fd_nn_free(fresh);
	}
	assert_true(ma < 0.5 * mb);
	fd_nn_train_result_release(&res);
	fd_nn_train_result_release(NULL);
	free(Xv);
	free(before);
	free(after);
	fd_nn_ws_free(ws);
	fd_nn_free(nn);
	free(X);
}

static int stop_at_two(unsigned epoch, double tl, double vl, double rps, void *user)
{
	(void)tl;
	(void)vl;
	(void)rps;
	++*(unsigned *)user;
	return epoch == 2;
}

static void test_train_progress_stops(void **state)
{
	const size_t hidden[] = { 3 }, d = 4;
	struct fd_nn *nn;
	struct fd_nn_train_opts o;
	struct fd_nn_train_result res;
	struct fd_err err;
	float *X = lowrank(300, d, 2);
	unsigned calls = 0;

	(void)state;
	assert_int_equal(fd_nn_create(&nn, d, hidden, 1, 1, &err), FD_OK);
	fd_nn_train_opts_init(&o);
	o.progress = stop_at_two;
	o.user = &calls;
	assert_int_equal(fd_nn_train(nn, X, 300, d, &o, &res, &err), FD_OK);
	assert_int_equal(calls, 2);
	assert_int_equal(res.epochs, 2);
	assert_true(res.stopped_early);
	fd_nn_train_result_release(&res);
	fd_nn_free(nn);
	free(X);
}

static void train_once(uint64_t seed, float **params, size_t *n)
{
	const size_t hidden[] = { 8, 3, 8 }, d = 10, rows = 1500;
	struct fd_nn *nn;
	struct fd_nn_train_opts o;
	struct fd_err err;
	float *X = lowrank(rows, d, 3);
	const float *p;

	assert_int_equal(fd_nn_create(&nn, d, hidden, 3, seed, &err), FD_OK);
	fd_nn_train_opts_init(&o);
	o.seed = seed;
	o.max_epochs = 4;
	assert_int_equal(fd_nn_train(nn, X, rows, d, &o, NULL, &err), FD_OK);
	p = fd_nn_params(nn, n);
	*params = malloc(*n * sizeof(float));
	memcpy(*params, p, *n * sizeof(float));
	fd_nn_free(nn);
	free(X);
}

static void test_train_deterministic(void **state)
{
	float *a, *b, *c;
	size_t na, nb, nc;

	(void)state;
	train_once(7, &a, &na);
	train_once(7, &b, &nb);
	train_once(8, &c, &nc);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(float));
	assert_memory_not_equal(a, c, na * sizeof(float));
	free(a);
	free(b);
	free(c);
}

static void test_train_refuses(void **state)
{
	const size_t hidden[] = { 2 };
	struct fd_nn *nn;
	struct fd_nn_train_opts o;
	struct fd_nn_train_result res;
	struct fd_err err;
	float X[30] = { 0 };

	(void)state;
	assert_int_equal(fd_nn_create(&nn, 3, hidden, 1, 1, &err), FD_OK);
	fd_nn_train_opts_init(&o);
	assert_int_equal(fd_nn_train(nn, X, 10, 4, &o, &res, &err), FD_EUSAGE);
	assert_null(res.val_errors);
	X[7] = NAN;
	assert_int_equal(fd_nn_train(nn, X, 10, 3, &o, &res, &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "row 3 feature 2"));
	X[7] = 0;
	assert_int_equal(fd_nn_train(nn, X, 2, 3, &o, &res, &err), FD_EINPUT);
	o.dropout = 1.0f;
	assert_int_equal(fd_nn_train(nn, X, 10, 3, &o, &res, &err), FD_EUSAGE);
	fd_nn_free(nn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_layers),
		cmocka_unit_test(test_default_layers),
		cmocka_unit_test(test_param_count),
		cmocka_unit_test(test_batchnorm_forward),
		cmocka_unit_test(test_adam_step),
		cmocka_unit_test(test_gradient_no_dropout),
		cmocka_unit_test(test_gradient_dropout),
		cmocka_unit_test(test_errors_linear),
		cmocka_unit_test(test_errors_folded_bn),
		cmocka_unit_test(test_set_params_refused),
		cmocka_unit_test(test_single_row_matches_batch),
		cmocka_unit_test(test_train_learns_and_stops),
		cmocka_unit_test(test_train_progress_stops),
		cmocka_unit_test(test_train_deterministic),
		cmocka_unit_test(test_train_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
