/*
 * fd_nn.c — see fd_nn.h.
 *
 * Layout: every trainable parameter lives in one float array (params), so Adam is one loop
 * and the model file writes one block; gradients and Adam's moments are arrays of the same
 * layout.  Activations are row-major (rows × units) and a layer is z = a·W with W stored
 * in × out, so every product is a plain row-major sgemm:
 *     forward   Z  = A · W          (B × out)
 *     weights   dW = Aᵀ · dZ        (in × out)
 *     inputs    dA = dZ · Wᵀ        (B × in)
 * The element-wise work of a layer (batch statistics, normalisation, ReLU, dropout) is done in
 * one pass over the sgemm's output, which matters because with 6 to 18 units per layer the
 * element-wise passes cost as much as the products.
 */
#include "fd_nn.h"
#include "fd_rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banned.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
#define ADAM_B1 0.9   /* double: 1 − 0.999f in float would be 1.3e-5 off */
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8f
#define INFER_BLOCK 256
#define PAD4(n) (((n) + 3) & ~(size_t)3)

/*
 * Four floats at a time, with the compilers' generic vector extension (GCC and clang, any
 * target): the inference element-wise loops must not branch on the sign of a value (a
 * mispredicted branch per unit costs more than the unit's share of the matrix product).
 * Inference activations are stored with rows padded to a multiple of 4 floats, and the folded
 * biases are padded with zeros, so these loops have no remainder.
 */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4f ld4(const float *p)
{
	v4f v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void st4(float *p, v4f v)
{
	memcpy(p, &v, sizeof(v));
}

/* Stream tags: each use of randomness draws from its own stream of the seed, so changing
 * e.g. the dropout rate does not change the validation split. */
enum { RNG_INIT = 1, RNG_SPLIT, RNG_SHUFFLE, RNG_DROPOUT };

/* Uniform in [0, 1) with 24 random bits: exact in float. */
static inline float rng_float(struct fd_rng *r)
{
	return (float)(fd_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

struct layer {
	size_t in, out;
	int hidden;
	size_t w, g, b;   /* offsets in params: W; gamma (hidden); beta (hidden) or bias (output) */
	size_t rm, rv;    /* offsets in bn: running mean and variance (hidden) */
	size_t fw, fb;    /* offsets in folded: inference W and bias */
};

struct fd_nn {
	size_t n_in, n_layers, max_width;
	struct layer L[FD_NN_MAX_HIDDEN + 1];
	float *params;
	size_t n_params;
	float *bn;
	size_t n_bn;
	float *folded;    /* batch normalisation folded into W and a bias, for inference */
	size_t n_folded;
};

struct fd_nn_ws {
	size_t cap, width;
	float *a, *b;
};

/* 64-byte aligned, zeroed float arrays: sgemm packs its operands anyway, but alignment keeps
 * the element-wise loops vectorisable and results independent of where malloc put things. */
static float *falloc(size_t n)
{
	size_t bytes;
	float *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX / sizeof(float) - 16)
		return NULL;
	bytes = (n * sizeof(float) + 63) & ~(size_t)63;
	p = aligned_alloc(64, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

int fd_nn_parse_layers(const char *spec, size_t hidden[FD_NN_MAX_HIDDEN], size_t *n,
		       struct fd_err *err)
{
	const char *p = spec;
	char vis[64];

	*n = 0;
	if (!spec)
		return fd_err_set(err, FD_EUSAGE, "no layer sizes given");
	for (;;) {
		unsigned long long v = 0;
		const char *start;

		while (*p == ' ')
			p++;
		start = p;
		while (*p >= '0' && *p <= '9') {
			if (v <= FD_NN_MAX_WIDTH)
				v = v * 10 + (unsigned)(*p - '0');
			p++;
		}
		if (p == start || v == 0 || v > FD_NN_MAX_WIDTH) {
			fd_visible(vis, sizeof(vis), spec, strlen(spec));
			return fd_err_set(err, FD_EUSAGE,
					  "bad layer sizes '%s': each must be a number from 1 to %d",
					  vis, FD_NN_MAX_WIDTH);
		}
		if (*n == FD_NN_MAX_HIDDEN) {
			fd_visible(vis, sizeof(vis), spec, strlen(spec));
			return fd_err_set(err, FD_EUSAGE, "bad layer sizes '%s': at most %d layers",
					  vis, FD_NN_MAX_HIDDEN);
		}
		hidden[(*n)++] = (size_t)v;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return FD_OK;
		if (*p != ',') {
			fd_visible(vis, sizeof(vis), spec, strlen(spec));
			return fd_err_set(err, FD_EUSAGE,
					  "bad layer sizes '%s': expected numbers separated by commas",
					  vis);
		}
		p++;
	}
}

void fd_nn_default_layers(size_t n_in, size_t hidden[FD_NN_MAX_HIDDEN], size_t *n)
{
	size_t wide = (2 * n_in + 1) / 3, narrow = (n_in + 1) / 3;

	hidden[0] = hidden[2] = wide ? wide : 1;
	hidden[1] = narrow ? narrow : 1;
	*n = 3;
}

/* Recompute the inference weights from params and bn. */
static void nn_fold(struct fd_nn *nn)
{
	size_t l, i, j;

	for (l = 0; l < nn->n_layers; l++) {
		const struct layer *ly = &nn->L[l];
		const float *W = nn->params + ly->w, *b = nn->params + ly->b;
		float *fw = nn->folded + ly->fw, *fb = nn->folded + ly->fb;

		if (!ly->hidden) {
			memcpy(fw, W, ly->in * ly->out * sizeof(float));
			memcpy(fb, b, ly->out * sizeof(float));
			continue;
		}
		for (j = 0; j < ly->out; j++) {
			float s = nn->params[ly->g + j] / sqrtf(nn->bn[ly->rv + j] + BN_EPS);

			fb[j] = b[j] - nn->bn[ly->rm + j] * s;
			for (i = 0; i < ly->in; i++)
				fw[i * ly->out + j] = W[i * ly->out + j] * s;
		}
	}
}

int fd_nn_create(struct fd_nn **out, size_t n_in, const size_t *hidden, size_t n_hidden,
		 uint64_t seed, struct fd_err *err)
{
	struct fd_nn *nn;
	struct fd_rng r;
	size_t l, i, np = 0, nb = 0, nf = 0, prev = n_in;

	*out = NULL;
	if (n_in == 0 || n_in > FD_NN_MAX_WIDTH)
		return fd_err_set(err, FD_EUSAGE, "bad number of inputs %zu (1 to %d)", n_in,
				  FD_NN_MAX_WIDTH);
	if (n_hidden > FD_NN_MAX_HIDDEN)
		return fd_err_set(err, FD_EUSAGE, "too many hidden layers (%zu, at most %d)",
				  n_hidden, FD_NN_MAX_HIDDEN);
	for (l = 0; l < n_hidden; l++)
		if (hidden[l] == 0 || hidden[l] > FD_NN_MAX_WIDTH)
			return fd_err_set(err, FD_EUSAGE, "bad layer size %zu (1 to %d)", hidden[l],
					  FD_NN_MAX_WIDTH);
	openblas_set_num_threads(1);
	nn = calloc(1, sizeof(*nn));
	if (!nn)
		return fd_err_set(err, FD_EIO, "out of memory");
	nn->n_in = n_in;
	nn->n_layers = n_hidden + 1;
	nn->max_width = n_in;
	for (l = 0; l <= n_hidden; l++) {
		struct layer *ly = &nn->L[l];

		ly->in = prev;
		ly->out = l < n_hidden ? hidden[l] : n_in;
		ly->hidden = l < n_hidden;
		ly->w = np;
		np += ly->in * ly->out;
		ly->fw = nf;
		nf += ly->in * ly->out;
		ly->fb = nf;
		nf += PAD4(ly->out);
		if (ly->hidden) {
			ly->g = np;
			np += ly->out;
			ly->rm = nb;
			ly->rv = nb + ly->out;
			nb += 2 * ly->out;
		}
		ly->b = np;
		np += ly->out;
		if (ly->out > nn->max_width)
			nn->max_width = ly->out;
		prev = ly->out;
	}
	nn->n_params = np;
	nn->n_bn = nb;
	nn->n_folded = nf;
	nn->params = falloc(np);
	nn->bn = falloc(nb);
	nn->folded = falloc(nf);
	if (!nn->params || !nn->bn || !nn->folded) {
		fd_nn_free(nn);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	fd_rng_seed(&r, seed, RNG_INIT);
	for (l = 0; l < nn->n_layers; l++) {
		struct layer *ly = &nn->L[l];
		float lim = ly->hidden ? sqrtf(6.0f / (float)ly->in)
				       : sqrtf(6.0f / (float)(ly->in + ly->out));

		for (i = 0; i < ly->in * ly->out; i++)
			nn->params[ly->w + i] = (2.0f * rng_float(&r) - 1.0f) * lim;
		if (ly->hidden) {
			for (i = 0; i < ly->out; i++) {
				nn->params[ly->g + i] = 1.0f;
				nn->bn[ly->rv + i] = 1.0f;
			}
		}
	}
	nn_fold(nn);
	*out = nn;
	return FD_OK;
}

void fd_nn_free(struct fd_nn *nn)
{
	if (!nn)
		return;
	free(nn->params);
	free(nn->bn);
	free(nn->folded);
	free(nn);
}

size_t fd_nn_inputs(const struct fd_nn *nn)
{
	return nn->n_in;
}

size_t fd_nn_hidden(const struct fd_nn *nn, size_t *sizes, size_t max)
{
	size_t l;

	for (l = 0; sizes && l + 1 < nn->n_layers && l < max; l++)
		sizes[l] = nn->L[l].out;
	return nn->n_layers - 1;
}

int fd_nn_param_count(size_t n_in, const size_t *hidden, size_t n_hidden, size_t *n_params,
		      size_t *n_bn, struct fd_err *err)
{
	size_t l, prev = n_in, np = 0, nb = 0;

	*n_params = *n_bn = 0;
	if (n_in == 0 || n_in > FD_NN_MAX_WIDTH || n_hidden > FD_NN_MAX_HIDDEN)
		return fd_err_set(err, FD_EINPUT, "bad autoencoder shape");
	for (l = 0; l <= n_hidden; l++) {
		size_t o = l < n_hidden ? hidden[l] : n_in;

		if (o == 0 || o > FD_NN_MAX_WIDTH)
			return fd_err_set(err, FD_EINPUT, "bad autoencoder layer size %zu", o);
		np += prev * o + o + (l < n_hidden ? o : 0);
		nb += l < n_hidden ? 2 * o : 0;
		prev = o;
	}
	*n_params = np;
	*n_bn = nb;
	return FD_OK;
}

const float *fd_nn_params(const struct fd_nn *nn, size_t *n)
{
	*n = nn->n_params;
	return nn->params;
}

const float *fd_nn_bn_state(const struct fd_nn *nn, size_t *n)
{
	*n = nn->n_bn;
	return nn->bn;
}

int fd_nn_set_params(struct fd_nn *nn, const float *params, size_t n_params, const float *bn,
		     size_t n_bn, struct fd_err *err)
{
	size_t i;

	if (n_params != nn->n_params || n_bn != nn->n_bn)
		return fd_err_set(err, FD_EINPUT,
				  "autoencoder has %zu parameters and %zu statistics, expected %zu and %zu",
				  n_params, n_bn, nn->n_params, nn->n_bn);
	for (i = 0; i < n_params; i++)
		if (!isfinite(params[i]))
			return fd_err_set(err, FD_EINPUT, "autoencoder parameter %zu is not finite", i);
	for (i = 0; i < n_bn; i++)
		if (!isfinite(bn[i]))
			return fd_err_set(err, FD_EINPUT, "autoencoder statistic %zu is not finite", i);
	for (i = 0; i + 1 < nn->n_layers; i++) {
		size_t j;

		for (j = 0; j < nn->L[i].out; j++)
			if (bn[nn->L[i].rv + j] < 0)
				return fd_err_set(err, FD_EINPUT, "autoencoder running variance is negative");
	}
	memcpy(nn->params, params, n_params * sizeof(float));
	if (n_bn)
		memcpy(nn->bn, bn, n_bn * sizeof(float));
	nn_fold(nn);
	return FD_OK;
}

/* ---- inference ---------------------------------------------------------------------- */

int fd_nn_ws_create(struct fd_nn_ws **out, const struct fd_nn *nn, size_t max_rows,
		    struct fd_err *err)
{
	struct fd_nn_ws *ws;

	*out = NULL;
	if (max_rows == 0)
		max_rows = INFER_BLOCK;
	if (max_rows > SIZE_MAX / sizeof(float) / nn->max_width)
		return fd_err_set(err, FD_EIO, "out of memory");
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return fd_err_set(err, FD_EIO, "out of memory");
	ws->cap = max_rows;
	ws->width = nn->max_width;
	ws->a = falloc(max_rows * PAD4(nn->max_width));
	ws->b = falloc(max_rows * PAD4(nn->max_width));
	if (!ws->a || !ws->b) {
		fd_nn_ws_free(ws);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	*out = ws;
	return FD_OK;
}

void fd_nn_ws_free(struct fd_nn_ws *ws)
{
	if (!ws)
		return;
	free(ws->a);
	free(ws->b);
	free(ws);
}

/* z = max(z + b, 0) over R rows of stride s (a multiple of 4; b has s entries). */
static void bias_relu(float *z, const float *b, size_t R, size_t s)
{
	const v4f zero = { 0.0f, 0.0f, 0.0f, 0.0f };
	size_t r, j;

	for (r = 0; r < R; r++)
		for (j = 0; j < s; j += 4) {
			v4f v = ld4(z + r * s + j) + ld4(b + j);

			st4(z + r * s + j, (v4f)((v4i)v & (v4i)(v > zero)));
		}
}

/* err[r] = mean over j < d of (z + b − x)², rows of z of stride s, of x of stride d; the
 * squares go to fe (stride d) too when it is not NULL. */
static void recon_error(const float *z, const float *b, const float *X, size_t R, size_t s,
			size_t d, float *err, float *fe)
{
	const float inv_d = 1.0f / (float)d;
	size_t r, j;

	for (r = 0; r < R; r++) {
		const float *zr = z + r * s, *xr = X + r * d;
		v4f acc = { 0.0f, 0.0f, 0.0f, 0.0f };
		float sum;

		for (j = 0; j + 4 <= d; j += 4) {
			v4f e = ld4(zr + j) + ld4(b + j) - ld4(xr + j);

			e *= e;
			acc += e;
			if (fe)
				st4(fe + r * d + j, e);
		}
		sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
		for (; j < d; j++) {
			float e = zr[j] + b[j] - xr[j];

			sum += e * e;
			if (fe)
				fe[r * d + j] = e * e;
		}
		err[r] = sum * inv_d;
	}
}

/* One block of R <= ws->cap contiguous rows, through the folded weights. */
static void infer_block(const struct fd_nn *nn, struct fd_nn_ws *ws, const float *X, size_t R,
			float *err, float *feat_err)
{
	const float *a = X;
	size_t l, lda = nn->n_in;

	for (l = 0; l < nn->n_layers; l++) {
		const struct layer *ly = &nn->L[l];
		const float *W = nn->folded + ly->fw, *b = nn->folded + ly->fb;
		float *z = (l & 1) ? ws->b : ws->a;
		const size_t o = ly->out, s = PAD4(o);

		if (R == 1)
			cblas_sgemv(CblasRowMajor, CblasTrans, (int)ly->in, (int)o, 1.0f, W, (int)o, a, 1,
				    0.0f, z, 1);
		else
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)o,
				    (int)ly->in, 1.0f, a, (int)lda, W, (int)o, 0.0f, z, (int)s);
		if (ly->hidden) {
			bias_relu(z, b, R, s);
			a = z;
			lda = s;
		} else
			recon_error(z, b, X, R, s, nn->n_in, err, feat_err);
	}
}

void fd_nn_errors(const struct fd_nn *nn, struct fd_nn_ws *ws, const float *X, size_t rows,
		  float *err, float *feat_err)
{
	size_t done = 0;

	if (ws->width < nn->max_width) { /* a workspace made for another network */
		for (; done < rows; done++)
			err[done] = NAN;
		return;
	}
	while (done < rows) {
		size_t R = rows - done < ws->cap ? rows - done : ws->cap;

		infer_block(nn, ws, X + done * nn->n_in, R, err + done,
			    feat_err ? feat_err + done * nn->n_in : NULL);
		done += R;
	}
}

/* ---- training ----------------------------------------------------------------------- */

/* Scratch for one mini-batch of up to cap rows. */
struct train_ws {
	size_t cap;
	float *x;                          /* the batch's input rows */
	float *act[FD_NN_MAX_HIDDEN + 1];  /* each layer's output (after dropout for hidden) */
	float *xhat[FD_NN_MAX_HIDDEN];     /* normalised z */
	float *gate[FD_NN_MAX_HIDDEN];     /* d a / d y: 0, or 1/(1-p) where kept and y > 0 */
	float *invstd[FD_NN_MAX_HIDDEN];
	float *d1, *d2;                    /* gradients flowing back, cap × max_width */
	float *grad, *m, *v;               /* per parameter */
	double b1t, b2t;                   /* beta1^t, beta2^t */
};

static void train_ws_release(struct train_ws *w)
{
	size_t l;

	free(w->x);
	for (l = 0; l <= FD_NN_MAX_HIDDEN; l++)
		free(w->act[l]);
	for (l = 0; l < FD_NN_MAX_HIDDEN; l++) {
		free(w->xhat[l]);
		free(w->gate[l]);
		free(w->invstd[l]);
	}
	free(w->d1);
	free(w->d2);
	free(w->grad);
	free(w->m);
	free(w->v);
	memset(w, 0, sizeof(*w));
}

static int train_ws_init(struct train_ws *w, const struct fd_nn *nn, size_t cap)
{
	size_t l;

	memset(w, 0, sizeof(*w));
	w->cap = cap;
	w->b1t = w->b2t = 1.0;
	if (cap > SIZE_MAX / sizeof(float) / nn->max_width / 2)
		return -1;
	w->x = falloc(cap * nn->n_in);
	w->d1 = falloc(cap * nn->max_width);
	w->d2 = falloc(cap * nn->max_width);
	w->grad = falloc(nn->n_params);
	w->m = falloc(nn->n_params);
	w->v = falloc(nn->n_params);
	if (!w->x || !w->d1 || !w->d2 || !w->grad || !w->m || !w->v)
		goto fail;
	for (l = 0; l < nn->n_layers; l++) {
		size_t o = nn->L[l].out;

		if (!(w->act[l] = falloc(cap * o)))
			goto fail;
		if (!nn->L[l].hidden)
			continue;
		w->xhat[l] = falloc(cap * o);
		w->gate[l] = falloc(cap * o);
		w->invstd[l] = falloc(o);
		if (!w->xhat[l] || !w->gate[l] || !w->invstd[l])
			goto fail;
	}
	return 0;
fail:
	train_ws_release(w);
	return -1;
}

/* v when c, else 0, by masking its bits: signs and dropout draws are unpredictable, so a
 * branch here would be mispredicted often (and int-to-float conversion is slower still). */
static inline float keep_if(float v, int c)
{
	uint32_t u;

	memcpy(&u, &v, sizeof(u));
	u &= -(uint32_t)(c != 0);
	memcpy(&v, &u, sizeof(v));
	return v;
}

/*
 * Batch normalisation of z (B × o, B >= 2) in training mode, with ReLU and dropout, in place:
 * z becomes the layer's output a.  Keeps xhat, the gate and 1/std for the backward pass and
 * updates the running statistics when update is set.  keep_lim: a unit is kept when its 24-bit
 * random draw is >= keep_lim (keep_lim = p·2^24; 0 = no dropout, and no draws are made).
 */
static void bn_relu_drop(float *z, size_t B, size_t o, const float *gamma, const float *beta,
			 float *rmean, float *rvar, int update, float *xhat, float *gate,
			 float *invstd, struct fd_rng *dr, uint32_t keep_lim, float scale)
{
	float mean[FD_NN_MAX_WIDTH], var[FD_NN_MAX_WIDTH];
	size_t r, j;

	for (j = 0; j < o; j++)
		mean[j] = var[j] = 0.0f;
	for (r = 0; r < B; r++)
		for (j = 0; j < o; j++)
			mean[j] += z[r * o + j];
	for (j = 0; j < o; j++)
		mean[j] /= (float)B;
	for (r = 0; r < B; r++)
		for (j = 0; j < o; j++) {
			float c = z[r * o + j] - mean[j];

			var[j] += c * c;
		}
	for (j = 0; j < o; j++) {
		var[j] /= (float)B;
		invstd[j] = 1.0f / sqrtf(var[j] + BN_EPS);
		if (update) {
			rmean[j] = (1.0f - BN_MOMENTUM) * rmean[j] + BN_MOMENTUM * mean[j];
			rvar[j] = (1.0f - BN_MOMENTUM) * rvar[j] +
				  BN_MOMENTUM * var[j] * (float)B / (float)(B - 1);
		}
	}
	for (r = 0; r < B; r++) {
		float *zr = z + r * o, *xr = xhat + r * o, *gr = gate + r * o;

		for (j = 0; j < o; j++) {
			float xh = (zr[j] - mean[j]) * invstd[j];
			float y = gamma[j] * xh + beta[j];

			xr[j] = xh;
			gr[j] = keep_if(scale, y > 0.0f);
		}
		if (keep_lim)
			for (j = 0; j < o; j++)
				gr[j] = keep_if(gr[j], (uint32_t)(fd_rng_next(dr) >> 40) >= keep_lim);
		for (j = 0; j < o; j++)
			zr[j] = (gamma[j] * xr[j] + beta[j]) * gr[j];
	}
}

/*
 * Forward pass in training mode over the B rows in w->x; returns the batch loss (mean squared
 * error over B × n_in elements) and leaves dLoss/dyhat in w->d1.
 */
static double fwd_train(struct fd_nn *nn, struct train_ws *w, size_t B, struct fd_rng *dr,
			float dropout, int update)
{
	const float *a = w->x;
	const size_t d = nn->n_in;
	uint32_t keep_lim = (uint32_t)(dropout * 16777216.0f);
	float scale = 1.0f / (1.0f - dropout);
	size_t l, r, j;
	double loss = 0.0;

	for (l = 0; l < nn->n_layers; l++) {
		const struct layer *ly = &nn->L[l];
		float *z = w->act[l];

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)ly->out,
			    (int)ly->in, 1.0f, a, (int)ly->in, nn->params + ly->w, (int)ly->out, 0.0f, z,
			    (int)ly->out);
		if (ly->hidden) {
			bn_relu_drop(z, B, ly->out, nn->params + ly->g, nn->params + ly->b,
				     nn->bn + ly->rm, nn->bn + ly->rv, update, w->xhat[l], w->gate[l],
				     w->invstd[l], dr, keep_lim, scale);
			a = z;
			continue;
		}
		{
			const float *b = nn->params + ly->b;
			const float k = 2.0f / (float)(B * d);

			for (r = 0; r < B; r++) {
				float s = 0.0f;

				for (j = 0; j < d; j++) {
					float e = z[r * d + j] + b[j] - w->x[r * d + j];

					z[r * d + j] += b[j];
					s += e * e;
					w->d1[r * d + j] = e * k;
				}
				loss += s;
			}
		}
	}
	return loss / (double)(B * d);
}

/* Backward pass: from dLoss/dyhat in w->d1 to the gradient of every parameter in w->grad. */
static void bwd_train(struct fd_nn *nn, struct train_ws *w, size_t B)
{
	float *dcur = w->d1, *dnext = w->d2, *t;
	size_t l = nn->n_layers, r, j;

	while (l-- > 0) {
		const struct layer *ly = &nn->L[l];
		const size_t o = ly->out;
		const float *aprev = l ? w->act[l - 1] : w->x;
		float *g = w->grad;

		if (ly->hidden) {
			const float *gate = w->gate[l], *xh = w->xhat[l], *inv = w->invstd[l];
			const float *gamma = nn->params + ly->g;
			float *dgamma = g + ly->g, *dbeta = g + ly->b;

			for (j = 0; j < o; j++)
				dgamma[j] = dbeta[j] = 0.0f;
			for (r = 0; r < B; r++)
				for (j = 0; j < o; j++) {
					float dy = dcur[r * o + j] * gate[r * o + j];

					dcur[r * o + j] = dy;
					dbeta[j] += dy;
					dgamma[j] += dy * xh[r * o + j];
				}
			for (r = 0; r < B; r++)
				for (j = 0; j < o; j++) {
					float k = gamma[j] * inv[j] / (float)B;

					dcur[r * o + j] = k * ((float)B * dcur[r * o + j] - dbeta[j] -
							       xh[r * o + j] * dgamma[j]);
				}
		} else {
			float *db = g + ly->b;

			for (j = 0; j < o; j++)
				db[j] = 0.0f;
			for (r = 0; r < B; r++)
				for (j = 0; j < o; j++)
					db[j] += dcur[r * o + j];
		}
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ly->in, (int)o, (int)B, 1.0f,
			    aprev, (int)ly->in, dcur, (int)o, 0.0f, g + ly->w, (int)o);
		if (l == 0)
			break;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)ly->in, (int)o, 1.0f,
			    dcur, (int)o, nn->params + ly->w, (int)o, 0.0f, dnext, (int)ly->in);
		t = dcur;
		dcur = dnext;
		dnext = t;
	}
}

/* One Adam step over every parameter (PyTorch's formulation, no weight decay). */
static void adam_step(float *p, const float *g, float *m, float *v, size_t n, float lr,
		      struct train_ws *w)
{
	const float b1 = (float)ADAM_B1, b2 = (float)ADAM_B2;
	const float c1 = (float)(1.0 - ADAM_B1), c2 = (float)(1.0 - ADAM_B2);
	float step, rs;
	size_t i;

	w->b1t *= ADAM_B1;
	w->b2t *= ADAM_B2;
	step = (float)(lr / (1.0 - w->b1t));
	rs = (float)(1.0 / sqrt(1.0 - w->b2t));
	for (i = 0; i < n; i++) {
		m[i] = b1 * m[i] + c1 * g[i];
		v[i] = b2 * v[i] + c2 * g[i] * g[i];
		p[i] -= step * m[i] / (sqrtf(v[i]) * rs + ADAM_EPS);
	}
}

void fd_nn_train_opts_init(struct fd_nn_train_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->batch = 64;
	o->max_epochs = 100;
	o->patience = 5;
	o->lr = 1e-3f;
	o->dropout = 0.2f;
	o->val_fraction = 0.2;
	o->seed = 0;
}

void fd_nn_train_result_release(struct fd_nn_train_result *res)
{
	if (!res)
		return;
	free(res->val_errors);
	free(res->val_rows);
	res->val_errors = NULL;
	res->val_rows = NULL;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int fd_nn_train(struct fd_nn *nn, const float *X, size_t rows, size_t cols,
		const struct fd_nn_train_opts *o, struct fd_nn_train_result *res,
		struct fd_err *err)
{
	struct train_ws w;
	struct fd_nn_ws *iws = NULL;
	struct fd_rng rs, rd;
	size_t *idx = NULL, *val_rows = NULL, n_val, n_train, i, wait = 0;
	float *Xval = NULL, *verr = NULL, *best_err = NULL, *best_p = NULL, *best_bn = NULL;
	double best = INFINITY, best_train = NAN;
	unsigned epoch, best_epoch = 0, epochs = 0;
	int rc = FD_OK, stopped = 0;

	memset(&w, 0, sizeof(w));
	if (res)
		memset(res, 0, sizeof(*res));
	if (cols != nn->n_in)
		return fd_err_set(err, FD_EUSAGE, "data has %zu features, the autoencoder %zu", cols,
				  nn->n_in);
	if (o->batch < 2 || o->batch > 1u << 20 || o->max_epochs == 0 || !(o->lr > 0.0f) ||
	    !(o->dropout >= 0.0f && o->dropout < 1.0f) ||
	    !(o->val_fraction >= 0.0 && o->val_fraction <= 0.5))
		return fd_err_set(err, FD_EUSAGE,
				  "bad training options (batch >= 2, epochs >= 1, lr > 0, 0 <= dropout < 1, 0 <= validation share <= 0.5)");
	for (i = 0; i < rows * cols; i++)
		if (!isfinite(X[i]))
			return fd_err_set(err, FD_EINPUT, "row %zu feature %zu is not finite", i / cols + 1,
					  i % cols + 1);
	n_val = (size_t)((double)rows * o->val_fraction);
	if (o->val_fraction > 0 && n_val == 0 && rows > 0)
		n_val = 1;
	n_train = rows - n_val;
	if (rows < n_val || n_train < 2)
		return fd_err_set(err, FD_EINPUT, "too few rows to train on (%zu)", rows);

	openblas_set_num_threads(1);
	idx = malloc(rows * sizeof(*idx));
	if (!idx || train_ws_init(&w, nn, o->batch + 1) ||
	    fd_nn_ws_create(&iws, nn, 0, err) != FD_OK)
		goto oom;
	best_p = falloc(nn->n_params);
	best_bn = falloc(nn->n_bn);
	if (!best_p || !best_bn)
		goto oom;
	memcpy(best_p, nn->params, nn->n_params * sizeof(float));
	memcpy(best_bn, nn->bn, nn->n_bn * sizeof(float));

	/* The split: a seeded permutation; its first n_val entries, in row order, validate. */
	for (i = 0; i < rows; i++)
		idx[i] = i;
	fd_rng_seed(&rs, o->seed, RNG_SPLIT);
	for (i = 0; i < n_val; i++) {
		size_t k = i + (size_t)fd_rng_below(&rs, rows - i), t = idx[i];

		idx[i] = idx[k];
		idx[k] = t;
	}
	if (n_val) {
		val_rows = malloc(n_val * sizeof(*val_rows));
		Xval = falloc(n_val * cols);
		verr = falloc(n_val);
		best_err = falloc(n_val);
		if (!val_rows || !Xval || !verr || !best_err)
			goto oom;
		memcpy(val_rows, idx, n_val * sizeof(*val_rows));
		qsort(val_rows, n_val, sizeof(*val_rows), cmp_size);
		for (i = 0; i < n_val; i++)
			memcpy(Xval + i * cols, X + val_rows[i] * cols, cols * sizeof(float));
	}
	/* The training rows keep the permutation's remaining order, which the epochs reshuffle. */
	memmove(idx, idx + n_val, n_train * sizeof(*idx));

	fd_rng_seed(&rs, o->seed, RNG_SHUFFLE);
	fd_rng_seed(&rd, o->seed, RNG_DROPOUT);
	for (epoch = 1; epoch <= o->max_epochs; epoch++) {
		double t0 = now_s(), tl = 0.0, vl = NAN, dt;
		size_t start = 0;

		for (i = n_train - 1; i > 0; i--) {
			size_t k = (size_t)fd_rng_below(&rs, i + 1), t = idx[i];

			idx[i] = idx[k];
			idx[k] = t;
		}
		while (start < n_train) {
			size_t B = n_train - start < o->batch ? n_train - start : o->batch, r;
			double bl;

			if (n_train - start - B == 1) /* never leave a batch of one row */
				B++;
			for (r = 0; r < B; r++)
				memcpy(w.x + r * cols, X + idx[start + r] * cols, cols * sizeof(float));
			bl = fwd_train(nn, &w, B, &rd, o->dropout, 1);
			if (!isfinite(bl)) {
				rc = fd_err_set(err, FD_EINPUT,
						"training diverged: the loss is not finite at epoch %u", epoch);
				goto out;
			}
			tl += bl * (double)B;
			bwd_train(nn, &w, B);
			adam_step(nn->params, w.grad, w.m, w.v, nn->n_params, o->lr, &w);
			start += B;
		}
		tl /= (double)n_train;
		nn_fold(nn);
		if (n_val) {
			fd_nn_errors(nn, iws, Xval, n_val, verr, NULL);
			vl = 0.0;
			for (i = 0; i < n_val; i++)
				vl += verr[i];
			vl /= (double)n_val;
			if (!isfinite(vl)) {
				rc = fd_err_set(err, FD_EINPUT,
						"training diverged: the validation loss is not finite at epoch %u",
						epoch);
				goto out;
			}
		}
		dt = now_s() - t0;
		epochs = epoch;
		if (n_val == 0 || vl < best) {
			best = n_val ? vl : best;
			best_train = tl;
			best_epoch = epoch;
			wait = 0;
			memcpy(best_p, nn->params, nn->n_params * sizeof(float));
			memcpy(best_bn, nn->bn, nn->n_bn * sizeof(float));
			if (n_val)
				memcpy(best_err, verr, n_val * sizeof(float));
		} else
			wait++;
		if (o->progress && o->progress(epoch, tl, vl, dt > 0 ? (double)n_train / dt : 0.0, o->user)) {
			stopped = 1;
			break;
		}
		if (n_val && o->patience && wait >= o->patience) {
			stopped = 1;
			break;
		}
	}
	memcpy(nn->params, best_p, nn->n_params * sizeof(float));
	memcpy(nn->bn, best_bn, nn->n_bn * sizeof(float));
	nn_fold(nn);
	if (res) {
		res->epochs = epochs;
		res->best_epoch = best_epoch;
		res->stopped_early = stopped;
		res->train_loss = best_train;
		res->val_loss = n_val ? best : NAN;
		res->n_train = n_train;
		res->n_val = n_val;
		res->val_errors = best_err;
		res->val_rows = val_rows;
		best_err = NULL;
		val_rows = NULL;
	}
	goto out;
oom:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	train_ws_release(&w);
	fd_nn_ws_free(iws);
	free(idx);
	free(val_rows);
	free(Xval);
	free(verr);
	free(best_err);
	free(best_p);
	free(best_bn);
	return rc;
}
