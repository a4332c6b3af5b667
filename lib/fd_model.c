/*
 * fd_model.c — see fd_model.h for the file format.
 *
 * Writing builds the payload in memory (models are small: kilobytes to a few megabytes),
 * compresses it in one call and writes header and frame.  Reading takes the whole file in
 * memory, checks the header, the length and the checksum before decompressing anything, and
 * parses the payload with a bounded reader whose every read is checked against the bytes that
 * remain: a corrupt or hostile file can make loading fail, never read out of bounds or
 * allocate more than the file could describe.
 */
#include "fd_model.h"

#include "fd_io.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include "banned.h"

#define MAGIC "FDMODEL\0"
#define HEADER_SIZE 64
#define FLAG_NN 1u
#define FLAG_FOREST 2u
#define FLAG_GBDT 4u
#define MAX_FILE ((size_t)1 << 30)
#define ZSTD_LEVEL 19
#define ECDF_POINTS 101

/* ---- the model in memory ---------------------------------------------------------- */

static void thresholds_unset(struct fd_thresholds *t)
{
	t->ae_medium = t->ae_high = NAN;
	t->if_medium = t->if_high = NAN;
	t->risk_medium = t->risk_high = NAN;
}

int fd_model_create(struct fd_model **out, const char *const *names, size_t n, struct fd_err *err)
{
	struct fd_model *m;
	size_t i, j;
	char vis[80];

	*out = NULL;
	if (n == 0 || n > FD_MODEL_MAX_FEATURES)
		return fd_err_set(err, FD_EUSAGE, "a model needs 1 to %d features, not %zu",
				  FD_MODEL_MAX_FEATURES, n);
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		if (len == 0 || len > FD_MODEL_MAX_NAME) {
			fd_visible(vis, sizeof(vis), names[i], len);
			return fd_err_set(err, FD_EUSAGE, "bad feature name '%s' (1 to %d bytes)", vis,
					  FD_MODEL_MAX_NAME);
		}
		for (j = 0; j < i; j++)
			if (!strcmp(names[i], names[j])) {
				fd_visible(vis, sizeof(vis), names[i], len);
				return fd_err_set(err, FD_EUSAGE, "feature '%s' appears twice", vis);
			}
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return fd_err_set(err, FD_EIO, "out of memory");
	m->version = 1;
	m->rows_per_day = NAN;
	m->gb_medium = m->gb_high = NAN;
	thresholds_unset(&m->thr);
	m->features = calloc(n, sizeof(*m->features));
	m->mean = calloc(n, sizeof(*m->mean));
	m->std = calloc(n, sizeof(*m->std));
	if (!m->features || !m->mean || !m->std)
		goto oom;
	m->n_features = n;
	for (i = 0; i < n; i++) {
		if (!(m->features[i] = strdup(names[i])))
			goto oom;
		m->std[i] = 1.0;
	}
	*out = m;
	return FD_OK;
oom:
	fd_model_free(m);
	return fd_err_set(err, FD_EIO, "out of memory");
}

void fd_model_free(struct fd_model *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; m->features && i < m->n_features; i++)
		free(m->features[i]);
	free(m->features);
	free(m->mean);
	free(m->std);
	fd_nn_free(m->nn);
	fd_iforest_free(m->forest);
	fd_gbdt_free(m->gb);
	free(m->stack[0].q);
	free(m->stack[1].q);
	free(m->hist);
	free(m->ecdf);
	free(m->meta.metrics_json);
	free(m);
}

int fd_model_set_nn(struct fd_model *m, struct fd_nn *nn, struct fd_err *err)
{
	if (nn && fd_nn_inputs(nn) != m->n_features)
		return fd_err_set(err, FD_EUSAGE, "the autoencoder has %zu inputs, the model %zu features",
				  fd_nn_inputs(nn), m->n_features);
	if (nn != m->nn)
		fd_nn_free(m->nn);
	m->nn = nn;
	return FD_OK;
}

int fd_model_set_forest(struct fd_model *m, struct fd_iforest *f, struct fd_err *err)
{
	if (f && fd_iforest_inputs(f) != m->n_features)
		return fd_err_set(err, FD_EUSAGE, "the forest has %zu inputs, the model %zu features",
				  fd_iforest_inputs(f), m->n_features);
	if (f != m->forest)
		fd_iforest_free(m->forest);
	m->forest = f;
	return FD_OK;
}

int fd_model_set_gbdt(struct fd_model *m, struct fd_gbdt *g, struct fd_err *err)
{
	if (g && fd_gbdt_features(g) != m->n_features)
		return fd_err_set(err, FD_EUSAGE, "the boosted trees have %zu inputs, the model %zu features",
				  fd_gbdt_features(g), m->n_features);
	if (g != m->gb)
		fd_gbdt_free(m->gb);
	m->gb = g;
	return FD_OK;
}

int fd_model_set_metrics(struct fd_model *m, const char *json, struct fd_err *err)
{
	char *copy = NULL;

	if (json) {
		if (strlen(json) > FD_MODEL_MAX_METRICS)
			return fd_err_set(err, FD_EUSAGE, "metrics text longer than %u bytes",
					  FD_MODEL_MAX_METRICS);
		if (!(copy = strdup(json)))
			return fd_err_set(err, FD_EIO, "out of memory");
	}
	free(m->meta.metrics_json);
	m->meta.metrics_json = copy;
	return FD_OK;
}

/* ---- scaling and calibration -------------------------------------------------------- */

void fd_model_fit_scaler(struct fd_model *m, const float *X, size_t rows)
{
	const size_t d = m->n_features;
	double *sum = calloc(d ? d : 1, sizeof(*sum)), *ss = calloc(d ? d : 1, sizeof(*ss));
	size_t *cnt = calloc(d ? d : 1, sizeof(*cnt)), r, j;

	if (!sum || !ss || !cnt) {
		/* no room for the sums: standardise nothing rather than fail */
		for (j = 0; j < d; j++) {
			m->mean[j] = 0.0;
			m->std[j] = 1.0;
		}
		goto out;
	}
	/* Two passes over the rows (means, then squared deviations), every feature in each, in
	 * double: exact enough for amounts and epoch seconds alike, where one-pass sums of squares
	 * are not.  Each feature's sums are added in row order, as one feature at a time would. */
	for (r = 0; r < rows; r++) {
		const float *x = X + r * d;

		for (j = 0; j < d; j++)
			if (isfinite(x[j])) {
				sum[j] += x[j];
				cnt[j]++;
			}
	}
	for (j = 0; j < d; j++)
		m->mean[j] = cnt[j] ? sum[j] / (double)cnt[j] : 0.0;
	for (r = 0; r < rows; r++) {
		const float *x = X + r * d;

		for (j = 0; j < d; j++)
			if (isfinite(x[j]))
				ss[j] += ((double)x[j] - m->mean[j]) * ((double)x[j] - m->mean[j]);
	}
	for (j = 0; j < d; j++) {
		if (cnt[j] == 0) {
			m->std[j] = 1.0;
			continue;
		}
		m->std[j] = sqrt(ss[j] / (double)cnt[j]);
		if (!(m->std[j] > 0.0) || !isfinite(m->std[j]))
			m->std[j] = 1.0;
	}
out:
	free(sum);
	free(ss);
	free(cnt);
}

void fd_model_standardise(const struct fd_model *m, float *X, size_t rows)
{
	const size_t d = m->n_features;
	size_t r, j;

	for (r = 0; r < rows; r++)
		for (j = 0; j < d; j++) {
			float v = X[r * d + j];

			X[r * d + j] = isnan(v) ? 0.0f : (float)(((double)v - m->mean[j]) / m->std[j]);
		}
}

void fd_model_standardise_row(const struct fd_model *m, const double *in, float *out)
{
	size_t j;

	for (j = 0; j < m->n_features; j++)
		out[j] = isnan(in[j]) ? 0.0f : (float)((in[j] - m->mean[j]) / m->std[j]);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

#define RADIX_BITS 11
#define RADIX_N (1u << RADIX_BITS)
#define RADIX_PASSES 3   /* 33 bits cover a 32-bit key */

/* An order-preserving key: negative floats reversed below the positive ones. */
static inline uint32_t float_key(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u & 0x80000000u ? ~u : u | 0x80000000u;
}

static inline float key_float(uint32_t k)
{
	uint32_t u = k & 0x80000000u ? k & 0x7fffffffu : ~k;
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

int fd_model_sort_floats(float *v, size_t n)
{
	uint32_t *a, *b, *t;
	size_t (*cnt)[RADIX_N], i;
	unsigned p;

	if (n < 2)
		return 0;
	a = malloc(n * sizeof(*a));
	b = malloc(n * sizeof(*b));
	cnt = calloc(RADIX_PASSES, sizeof(*cnt));
	if (!a || !b || !cnt) {
		free(a);
		free(b);
		free(cnt);
		return -1;
	}
	/* the keys and every pass's digit counts in one read */
	for (i = 0; i < n; i++) {
		uint32_t k = float_key(v[i]);

		a[i] = k;
		for (p = 0; p < RADIX_PASSES; p++)
			cnt[p][(k >> (p * RADIX_BITS)) & (RADIX_N - 1)]++;
	}
	for (p = 0; p < RADIX_PASSES; p++) {
		size_t sum = 0, d, c;
		unsigned sh = p * RADIX_BITS;

		if (cnt[p][(a[0] >> sh) & (RADIX_N - 1)] == n)
			continue;  /* one digit for all: the order stands */
		for (d = 0; d < RADIX_N; d++) {
			c = cnt[p][d];
			cnt[p][d] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			b[cnt[p][(a[i] >> sh) & (RADIX_N - 1)]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (i = 0; i < n; i++)
		v[i] = key_float(a[i]);
	free(a);
	free(b);
	free(cnt);
	return 0;
}

/* Sort, by radix and by qsort if out of memory for it. */
static void sort_floats(float *s, size_t n)
{
	if (fd_model_sort_floats(s, n) != 0)
		qsort(s, n, sizeof(*s), cmp_float);
}

/* Quantile of sorted s[0 .. n-1], n > 0. */
static double quantile_sorted(const float *s, size_t n, double q)
{
	double pos = q * (double)(n - 1), frac;
	size_t k = (size_t)pos;

	if (k >= n - 1)
		return s[n - 1];
	frac = pos - (double)k;
	return (double)s[k] + frac * ((double)s[k + 1] - (double)s[k]);
}

double fd_model_quantile(const float *v, size_t n, double q)
{
	float *s;
	double r;

	if (n == 0 || !(q >= 0.0 && q <= 1.0) || !(s = malloc(n * sizeof(*s))))
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	sort_floats(s, n);
	r = quantile_sorted(s, n, q);
	free(s);
	return r;
}

int fd_model_calibrate_ae(struct fd_model *m, const float *val_errors, size_t n, double q_medium,
			  double q_high, struct fd_err *err)
{
	float *s, *ecdf;
	size_t i;

	if (n == 0)
		return fd_err_set(err, FD_EUSAGE, "no validation errors to calibrate on");
	if (!(q_medium >= 0.0 && q_high <= 1.0 && q_medium <= q_high))
		return fd_err_set(err, FD_EUSAGE, "bad quantiles %g and %g (0 <= MEDIUM <= HIGH <= 1)",
				  q_medium, q_high);
	for (i = 0; i < n; i++)
		if (!isfinite(val_errors[i]))
			return fd_err_set(err, FD_EUSAGE, "validation error %zu is not finite", i + 1);
	s = malloc(n * sizeof(*s));
	ecdf = malloc(ECDF_POINTS * sizeof(*ecdf));
	if (!s || !ecdf) {
		free(s);
		free(ecdf);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	memcpy(s, val_errors, n * sizeof(*s));
	sort_floats(s, n);
	m->thr.ae_medium = quantile_sorted(s, n, q_medium);
	m->thr.ae_high = quantile_sorted(s, n, q_high);
	for (i = 0; i < ECDF_POINTS; i++)
		ecdf[i] = (float)quantile_sorted(s, n, (double)i / (ECDF_POINTS - 1));
	free(s);
	free(m->ecdf);
	m->ecdf = ecdf;
	m->n_ecdf = ECDF_POINTS;
	return FD_OK;
}

double fd_model_ae_score(const struct fd_model *m, double e)
{
	const float *q = m->ecdf;
	size_t n = m->n_ecdf, lo = 0, hi;

	if (!q || n < 2 || isnan(e))
		return NAN;
	if (e < q[0])
		return 0.0;
	if (e >= q[n - 1])
		return 1.0;
	/* the last k with q[k] <= e: then q[k] <= e < q[k+1] */
	hi = n - 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (q[mid] <= e)
			lo = mid;
		else
			hi = mid;
	}
	return ((double)lo + (e - q[lo]) / ((double)q[lo + 1] - q[lo])) / (double)(n - 1);
}

/* ---- drift: training histograms ---------------------------------------------------- */

#define HIST_GROUP 8  /* columns copied out in one pass over the row-major matrix */

int fd_model_fit_hist(struct fd_model *m, const float *X, size_t rows, struct fd_err *err)
{
	const size_t d = m->n_features;
	struct fd_feat_hist *h = calloc(d ? d : 1, sizeof(*h));
	float *cols = malloc((rows ? rows : 1) * HIST_GROUP * sizeof(*cols));
	size_t j0, i;

	if (!h || !cols) {
		free(h);
		free(cols);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	for (j0 = 0; j0 < d; j0 += HIST_GROUP) {
		size_t ng = d - j0 < HIST_GROUP ? d - j0 : HIST_GROUP, nn[HIST_GROUP] = {0}, g;

		/* up to HIST_GROUP columns without their missing values, in one read of X */
		for (i = 0; i < rows; i++) {
			const float *x = X + i * d + j0;

			for (g = 0; g < ng; g++)
				if (!isnan(x[g]))
					cols[g * rows + nn[g]++] = x[g];
		}
		for (g = 0; g < ng; g++) {
			size_t j = j0 + g, n = nn[g], b, cnt[FD_MODEL_HIST_BINS] = {0};
			float *col = cols + g * rows;

			h[j].missing = rows ? (float)((double)(rows - n) / (double)rows) : 0.0f;
			if (n == 0)
				continue;
			sort_floats(col, n);
			for (b = 1; b < FD_MODEL_HIST_BINS; b++) {
				float e = (float)quantile_sorted(col, n, (double)b / FD_MODEL_HIST_BINS);

				/* an edge at the minimum would leave its bin empty; repeated ones merge */
				if (e > col[0] && (h[j].ne == 0 || e > h[j].edge[h[j].ne - 1]))
					h[j].edge[h[j].ne++] = e;
			}
			/* the column is sorted: each value's bin (the number of edges <= it) by one walk */
			for (i = 0, b = 0; i < n; i++) {
				while (b < h[j].ne && h[j].edge[b] <= col[i])
					b++;
				cnt[b]++;
			}
			for (b = 0; b <= h[j].ne; b++)
				h[j].share[b] = (float)((double)cnt[b] / (double)rows);
		}
	}
	free(cols);
	free(m->hist);
	m->hist = h;
	return FD_OK;
}

int fd_model_hist_bin(const struct fd_feat_hist *h, double v)
{
	size_t b;
	int lo = 0;

	if (isnan(v))
		return -1;
	/* the number of edges <= v: counted, not searched, for fd-score calls this for every
	 * feature of every transaction and a search's branches go either way at random (the
	 * edges ascend strictly, fd_model_load checks it, so the count is the search's answer) */
	for (b = 0; b < h->ne; b++)
		lo += h->edge[b] <= v;
	return lo;
}

static double psi_term(double a, double e)
{
	if (a < 1e-4)
		a = 1e-4;
	if (e < 1e-4)
		e = 1e-4;
	return (a - e) * log(a / e);
}

double fd_model_psi(const struct fd_feat_hist *h, const uint64_t *counts, uint64_t missing)
{
	uint64_t total = missing;
	double psi;
	size_t b;

	for (b = 0; b <= h->ne; b++)
		total += counts[b];
	if (total == 0)
		return NAN;
	psi = psi_term((double)missing / (double)total, h->missing);
	for (b = 0; b <= h->ne; b++)
		psi += psi_term((double)counts[b] / (double)total, h->share[b]);
	return psi;
}

/* ---- writing ------------------------------------------------------------------------ */

/* Little-endian writers into a buffer; failures are sticky in *bad. */
struct wr {
	struct fd_buf *b;
	int bad;
};

static void put(struct wr *w, const void *p, size_t n)
{
	if (!w->bad && fd_buf_add(w->b, p, n))
		w->bad = 1;
}

static void put_u32(struct wr *w, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };

	put(w, b, 4);
}

static void put_u64(struct wr *w, uint64_t v)
{
	put_u32(w, (uint32_t)v);
	put_u32(w, (uint32_t)(v >> 32));
}

static void put_f32(struct wr *w, float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	put_u32(w, u);
}

static void put_f64(struct wr *w, double f)
{
	uint64_t u;

	memcpy(&u, &f, sizeof(u));
	put_u64(w, u);
}

static void put_str(struct wr *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	put_u32(w, (uint32_t)n);
	put(w, s, n);
}

/* Start a section: its tag and a length patched by end_section(). */
static size_t begin_section(struct wr *w, const char tag[4])
{
	size_t at;

	put(w, tag, 4);
	at = w->b->len;
	put_u64(w, 0);
	return at;
}

static void end_section(struct wr *w, size_t at)
{
	uint64_t len;
	int i;

	if (w->bad)
		return;
	len = w->b->len - at - 8;
	for (i = 0; i < 8; i++)
		w->b->s[at + (size_t)i] = (char)(unsigned char)(len >> (8 * i));
}

static void put_payload(struct wr *w, const struct fd_model *m, const struct fd_buf *gb)
{
	const double thr[6] = { m->thr.ae_medium, m->thr.ae_high, m->thr.if_medium,
				m->thr.if_high, m->thr.risk_medium, m->thr.risk_high };
	size_t at, i;

	at = begin_section(w, "FEAT");
	put_u32(w, (uint32_t)m->n_features);
	for (i = 0; i < m->n_features; i++)
		put_str(w, m->features[i]);
	end_section(w, at);

	at = begin_section(w, "SCAL");
	for (i = 0; i < m->n_features; i++)
		put_f64(w, m->mean[i]);
	for (i = 0; i < m->n_features; i++)
		put_f64(w, m->std[i]);
	end_section(w, at);

	at = begin_section(w, "THRS");
	for (i = 0; i < 6; i++)
		put_f64(w, thr[i]);
	end_section(w, at);

	at = begin_section(w, "META");
	put_u64(w, m->meta.rows);
	put_str(w, m->meta.data_sha256);
	put_u64(w, m->meta.seed);
	put_u64(w, (uint64_t)m->meta.created_ms);
	put_str(w, m->meta.tool_version);
	put_str(w, m->meta.metrics_json);
	end_section(w, at);

	if (m->nn) {
		size_t hidden[FD_NN_MAX_HIDDEN], nh = fd_nn_hidden(m->nn, hidden, FD_NN_MAX_HIDDEN), np, nb;
		const float *p = fd_nn_params(m->nn, &np), *bn = fd_nn_bn_state(m->nn, &nb);

		at = begin_section(w, "AENC");
		put_u32(w, (uint32_t)fd_nn_inputs(m->nn));
		put_u32(w, (uint32_t)nh);
		for (i = 0; i < nh; i++)
			put_u32(w, (uint32_t)hidden[i]);
		put_u32(w, (uint32_t)np);
		for (i = 0; i < np; i++)
			put_f32(w, p[i]);
		put_u32(w, (uint32_t)nb);
		for (i = 0; i < nb; i++)
			put_f32(w, bn[i]);
		end_section(w, at);
	}
	if (m->forest) {
		unsigned t, trees = fd_iforest_trees(m->forest);

		at = begin_section(w, "IFOR");
		put_u32(w, (uint32_t)fd_iforest_inputs(m->forest));
		put_u32(w, (uint32_t)fd_iforest_subsample(m->forest));
		put_u32(w, trees);
		for (t = 0; t < trees; t++) {
			size_t n;
			const struct fd_iforest_node *nd = fd_iforest_tree(m->forest, t, &n);

			put_u32(w, (uint32_t)n);
			for (i = 0; i < n; i++) {
				put_u32(w, (uint32_t)nd[i].feature);
				put_f32(w, nd[i].value);
				put_u32(w, nd[i].size);
			}
		}
		end_section(w, at);
	}
	if (m->ecdf) {
		at = begin_section(w, "ECDF");
		put_u32(w, (uint32_t)m->n_ecdf);
		for (i = 0; i < m->n_ecdf; i++)
			put_f32(w, m->ecdf[i]);
		end_section(w, at);
	}
	if (gb) {
		at = begin_section(w, "GBDT");
		put_u64(w, gb->len);
		put(w, gb->s, gb->len);
		end_section(w, at);
	}
	if (m->stack[0].present || m->stack[1].present) {
		int k;

		at = begin_section(w, "STAK");
		put_f64(w, m->rows_per_day);
		put_f64(w, m->gb_medium);
		put_f64(w, m->gb_high);
		put_u32(w, (uint32_t)(m->stack[0].present + m->stack[1].present));
		for (k = 0; k < 2; k++) {
			const struct fd_stacker *sk = &m->stack[k];

			if (!sk->present)
				continue;
			put_u32(w, (uint32_t)k);
			put_u32(w, (uint32_t)sk->k);
			for (i = 0; i < sk->k; i++)
				put_f64(w, sk->w[i]);
			put_f64(w, sk->bias);
			put_f64(w, sk->risk_medium);
			put_f64(w, sk->risk_high);
			put_u32(w, (uint32_t)sk->nq);
			for (i = 0; i < sk->nq; i++)
				put_f32(w, sk->q[i]);
		}
		end_section(w, at);
	}
	if (m->hist) {
		size_t b;

		at = begin_section(w, "HIST");
		for (i = 0; i < m->n_features; i++) {
			const struct fd_feat_hist *h = &m->hist[i];

			put_u32(w, (uint32_t)h->ne);
			for (b = 0; b < h->ne; b++)
				put_f32(w, h->edge[b]);
			for (b = 0; b <= h->ne; b++)
				put_f32(w, h->share[b]);
			put_f32(w, h->missing);
		}
		end_section(w, at);
	}
}

/* Does the model need format version 2? */
static int needs_v2(const struct fd_model *m)
{
	return m->gb || m->stack[0].present || m->stack[1].present || m->hist;
}

int fd_model_encode(const struct fd_model *m, struct fd_buf *out, struct fd_err *err)
{
	struct fd_buf pl = FD_BUF_INIT;
	struct wr w = { &pl, 0 }, h = { out, 0 };
	unsigned char sum[crypto_hash_sha256_BYTES];
	size_t bound, clen, start = out->len;
	uint32_t flags = (m->nn ? FLAG_NN : 0) | (m->forest ? FLAG_FOREST : 0) | (m->gb ? FLAG_GBDT : 0);
	struct fd_buf gb = FD_BUF_INIT;
	int rc;

	if (!(m->nn || m->forest))
		return fd_err_set(err, FD_EUSAGE, "the model has neither an autoencoder nor a forest");
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "cannot initialise libsodium");
	if (m->gb && (rc = fd_gbdt_save(m->gb, &gb, err)))
		return rc;
	put_payload(&w, m, m->gb ? &gb : NULL);
	fd_buf_release(&gb);
	if (w.bad)
		goto oom;
	bound = ZSTD_compressBound(pl.len);
	put(&h, MAGIC, 8);
	put_u32(&h, needs_v2(m) ? 2 : 1);
	put_u32(&h, flags);
	put_u64(&h, pl.len);
	put_u64(&h, 0);             /* compressed length, patched below */
	put(&h, sum, sizeof(sum));  /* checksum, patched below */
	if (h.bad || fd_buf_grow(out, bound))
		goto oom;
	clen = ZSTD_compress(out->s + out->len, bound, pl.s, pl.len, ZSTD_LEVEL);
	if (ZSTD_isError(clen)) {
		fd_buf_release(&pl);
		out->len = start;
		return fd_err_set(err, FD_EIO, "cannot compress the model: %s", ZSTD_getErrorName(clen));
	}
	crypto_hash_sha256(sum, (unsigned char *)out->s + out->len, clen);
	out->len += clen;
	out->s[out->len] = '\0';
	{
		unsigned char *hd = (unsigned char *)out->s + start;
		int i;

		for (i = 0; i < 8; i++)
			hd[24 + i] = (unsigned char)((uint64_t)clen >> (8 * i));
		memcpy(hd + 32, sum, sizeof(sum));
	}
	fd_buf_release(&pl);
	return FD_OK;
oom:
	fd_buf_release(&pl);
	if (out->s) {
		out->len = start;
		out->s[start] = '\0';
	}
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* ---- reading ------------------------------------------------------------------------ */

/* A bounded little-endian reader: a read past the end sets bad and returns zeros. */
struct rd {
	const unsigned char *p;
	size_t n, off;
	int bad;
};

static int rd_has(struct rd *r, size_t k)
{
	if (r->bad || r->n - r->off < k) {
		r->bad = 1;
		return 0;
	}
	return 1;
}

static uint32_t rd_u32(struct rd *r)
{
	const unsigned char *b;

	if (!rd_has(r, 4))
		return 0;
	b = r->p + r->off;
	r->off += 4;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t rd_u64(struct rd *r)
{
	uint64_t lo = rd_u32(r);

	return lo | (uint64_t)rd_u32(r) << 32;
}

static float rd_f32(struct rd *r)
{
	uint32_t u = rd_u32(r);
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static double rd_f64(struct rd *r)
{
	uint64_t u = rd_u64(r);
	double f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* A string of at most max bytes without NUL; its bytes stay in the buffer.  NULL if bad. */
static const char *rd_str(struct rd *r, size_t max, size_t *len)
{
	uint32_t n = rd_u32(r);
	const char *s;

	*len = 0;
	if (r->bad || n > max || !rd_has(r, n) || memchr(r->p + r->off, '\0', n)) {
		r->bad = 1;
		return NULL;
	}
	s = (const char *)r->p + r->off;
	r->off += n;
	*len = n;
	return s;
}

/* Copy a string into a fixed field of cap bytes (the NUL included). */
static void rd_str_into(struct rd *r, char *dst, size_t cap)
{
	size_t n;
	const char *s = rd_str(r, cap - 1, &n);

	if (s)
		memcpy(dst, s, n);
	dst[s ? n : 0] = '\0';
}

enum { S_FEAT, S_SCAL, S_THRS, S_META, S_AENC, S_IFOR, S_ECDF, S_GBDT, S_STAK, S_HIST, S_COUNT };
static const char section_tags[S_COUNT][5] = { "FEAT", "SCAL", "THRS", "META", "AENC", "IFOR",
					       "ECDF", "GBDT", "STAK", "HIST" };

/* Decoding context: the message prefix and the sections found. */
struct dec {
	const char *name;
	struct fd_err *err;
	struct rd sec[S_COUNT];
	int have[S_COUNT];
};

static int corrupt(struct dec *d, const char *what)
{
	return fd_err_set(d->err, FD_EINPUT, "%s%scorrupt model file: %s", d->name ? d->name : "",
			  d->name ? ": " : "", what);
}

/* Section bodies must be read exactly to their end. */
static int section_done(struct dec *d, struct rd *r, const char *tag)
{
	char what[64];

	if (!r->bad && r->off == r->n)
		return 0;
	snprintf(what, sizeof(what), "bad %s section", tag);
	return corrupt(d, what);
}

static int parse_features(struct dec *d, struct fd_model **out)
{
	struct rd *r = &d->sec[S_FEAT];
	uint32_t n = rd_u32(r), i;
	char **names = NULL;
	struct fd_err e2;
	int rc;

	if (r->bad || n == 0 || n > FD_MODEL_MAX_FEATURES || (size_t)n * 4 > r->n - r->off)
		return corrupt(d, "bad feature count");
	names = calloc(n, sizeof(*names));
	if (!names)
		return fd_err_set(d->err, FD_EIO, "out of memory");
	for (i = 0; i < n; i++) {
		size_t len;
		const char *s = rd_str(r, FD_MODEL_MAX_NAME, &len);

		if (!s)
			break;
		if (!(names[i] = strndup(s, len))) {
			rc = fd_err_set(d->err, FD_EIO, "out of memory");
			goto out;
		}
	}
	if (section_done(d, r, "FEAT")) {
		rc = FD_EINPUT;
		goto out;
	}
	rc = fd_model_create(out, (const char *const *)names, n, &e2);
	if (rc == FD_EUSAGE)
		rc = corrupt(d, e2.msg);
	else if (rc)
		fd_err_set(d->err, rc, "%s", e2.msg);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int parse_scaler(struct dec *d, struct fd_model *m)
{
	struct rd *r = &d->sec[S_SCAL];
	size_t i;

	for (i = 0; i < m->n_features; i++)
		m->mean[i] = rd_f64(r);
	for (i = 0; i < m->n_features; i++)
		m->std[i] = rd_f64(r);
	if (section_done(d, r, "SCAL"))
		return FD_EINPUT;
	for (i = 0; i < m->n_features; i++)
		if (!isfinite(m->mean[i]) || !isfinite(m->std[i]) || !(m->std[i] > 0.0))
			return corrupt(d, "bad scaler value");
	return FD_OK;
}

static int parse_thresholds(struct dec *d, struct fd_model *m)
{
	struct rd *r = &d->sec[S_THRS];
	double v[6];
	int i;

	for (i = 0; i < 6; i++) {
		v[i] = rd_f64(r);
		if (isinf(v[i]))
			return corrupt(d, "bad threshold");
	}
	if (section_done(d, r, "THRS"))
		return FD_EINPUT;
	/* unset (NaN), or in range and in order: a model that would score everything HIGH, or
	 * nothing, is as corrupt as one with a bad checksum */
	if ((!isnan(v[0]) && v[0] < 0) || (!isnan(v[1]) && v[1] < 0))
		return corrupt(d, "reconstruction-error threshold below 0");
	for (i = 2; i < 4; i++)
		if (!isnan(v[i]) && (v[i] < 0 || v[i] > 1))
			return corrupt(d, "isolation-forest threshold outside 0-1");
	for (i = 4; i < 6; i++)
		if (!isnan(v[i]) && (v[i] < 0 || v[i] > 100))
			return corrupt(d, "risk threshold outside 0-100");
	for (i = 0; i < 6; i += 2)
		if (!isnan(v[i]) && !isnan(v[i + 1]) && v[i] > v[i + 1])
			return corrupt(d, "MEDIUM threshold above the HIGH one");
	m->thr.ae_medium = v[0];
	m->thr.ae_high = v[1];
	m->thr.if_medium = v[2];
	m->thr.if_high = v[3];
	m->thr.risk_medium = v[4];
	m->thr.risk_high = v[5];
	return FD_OK;
}

static int parse_meta(struct dec *d, struct fd_model *m)
{
	struct rd *r = &d->sec[S_META];
	const char *s;
	size_t len, i;

	m->meta.rows = rd_u64(r);
	rd_str_into(r, m->meta.data_sha256, sizeof(m->meta.data_sha256));
	m->meta.seed = rd_u64(r);
	m->meta.created_ms = (int64_t)rd_u64(r);
	rd_str_into(r, m->meta.tool_version, sizeof(m->meta.tool_version));
	s = rd_str(r, FD_MODEL_MAX_METRICS, &len);
	if (section_done(d, r, "META"))
		return FD_EINPUT;
	for (i = 0; m->meta.data_sha256[i]; i++) {
		char c = m->meta.data_sha256[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return corrupt(d, "bad data SHA-256");
	}
	if (i != 0 && i != 64)
		return corrupt(d, "bad data SHA-256");
	if (len && !(m->meta.metrics_json = strndup(s, len)))
		return fd_err_set(d->err, FD_EIO, "out of memory");
	return FD_OK;
}

static int parse_nn(struct dec *d, struct fd_model *m)
{
	struct rd *r = &d->sec[S_AENC];
	size_t hidden[FD_NN_MAX_HIDDEN], np, nb, i;
	uint32_t n_in = rd_u32(r), nh = rd_u32(r), cnt;
	float *p = NULL, *bn = NULL;
	struct fd_nn *nn = NULL;
	struct fd_err e2;
	int rc;

	if (r->bad || n_in != m->n_features || nh > FD_NN_MAX_HIDDEN)
		return corrupt(d, "bad autoencoder shape");
	for (i = 0; i < nh; i++)
		hidden[i] = rd_u32(r);
	if (r->bad || fd_nn_param_count(n_in, hidden, nh, &np, &nb, &e2))
		return corrupt(d, "bad autoencoder shape");
	cnt = rd_u32(r);
	if (r->bad || cnt != np || np > (r->n - r->off) / 4)
		return corrupt(d, "bad autoencoder parameter count");
	p = malloc((np ? np : 1) * sizeof(*p));
	if (!p)
		return fd_err_set(d->err, FD_EIO, "out of memory");
	for (i = 0; i < np; i++)
		p[i] = rd_f32(r);
	cnt = rd_u32(r);
	if (r->bad || cnt != nb || nb > (r->n - r->off) / 4) {
		rc = corrupt(d, "bad autoencoder statistics count");
		goto out;
	}
	bn = malloc((nb ? nb : 1) * sizeof(*bn));
	if (!bn) {
		rc = fd_err_set(d->err, FD_EIO, "out of memory");
		goto out;
	}
	for (i = 0; i < nb; i++)
		bn[i] = rd_f32(r);
	if ((rc = section_done(d, r, "AENC")))
		goto out;
	if ((rc = fd_nn_create(&nn, n_in, hidden, nh, 0, &e2))) {
		fd_err_set(d->err, rc == FD_EIO ? FD_EIO : FD_EINPUT, "%s", e2.msg);
		goto out;
	}
	if (fd_nn_set_params(nn, p, np, bn, nb, &e2)) {
		rc = corrupt(d, e2.msg);
		goto out;
	}
	m->nn = nn;
	nn = NULL;
out:
	fd_nn_free(nn);
	free(p);
	free(bn);
	return rc;
}

static int parse_forest(struct dec *d, struct fd_model *m)
{
	struct rd *r = &d->sec[S_IFOR], scan;
	uint32_t n_in = rd_u32(r), psi = rd_u32(r), trees = rd_u32(r), t;
	struct fd_iforest_node *nodes = NULL;
	size_t *counts = NULL, total = 0, k = 0, i;
	struct fd_iforest *f = NULL;
	struct fd_err e2;
	int rc = FD_OK;

	if (r->bad || n_in != m->n_features || psi < 2 || psi > FD_IFOREST_MAX_PSI || trees < 1 ||
	    trees > FD_IFOREST_MAX_TREES)
		return corrupt(d, "bad forest shape");
	counts = malloc(trees * sizeof(*counts));
	if (!counts)
		return fd_err_set(d->err, FD_EIO, "out of memory");
	/* First pass: the node counts, each bounded by the tree size and the remaining bytes,
	 * so the allocation below is bounded by the file. */
	scan = *r;
	for (t = 0; t < trees; t++) {
		uint32_t c = rd_u32(&scan);

		if (scan.bad || c < 1 || c > 2 * psi - 1 || (size_t)c > (scan.n - scan.off) / 12) {
			rc = corrupt(d, "bad forest node count");
			goto out;
		}
		counts[t] = c;
		total += c;
		scan.off += (size_t)c * 12;
	}
	nodes = malloc(total * sizeof(*nodes));
	if (!nodes) {
		rc = fd_err_set(d->err, FD_EIO, "out of memory");
		goto out;
	}
	for (t = 0; t < trees; t++) {
		rd_u32(r);
		for (i = 0; i < counts[t]; i++, k++) {
			nodes[k].feature = (int32_t)rd_u32(r);
			nodes[k].value = rd_f32(r);
			nodes[k].size = rd_u32(r);
		}
	}
	if ((rc = section_done(d, r, "IFOR")))
		goto out;
	rc = fd_iforest_from_trees(&f, n_in, psi, trees, nodes, counts, &e2);
	if (rc == FD_EINPUT)
		rc = corrupt(d, e2.msg);
	else if (rc)
		fd_err_set(d->err, rc, "%s", e2.msg);
	else
		m->forest = f;
out:
	free(counts);
	free(nodes);
	return rc;
}

static int parse_ecdf(struct dec *d, struct fd_model *m)
{
	struct rd *r = &d->sec[S_ECDF];
	uint32_t n = rd_u32(r), i;

	if (r->bad || n < 2 || n > FD_MODEL_MAX_ECDF || (size_t)n * 4 != r->n - r->off)
		return corrupt(d, "bad ECDF section");
	if (!(m->ecdf = malloc(n * sizeof(*m->ecdf))))
		return fd_err_set(d->err, FD_EIO, "out of memory");
	m->n_ecdf = n;
	for (i = 0; i < n; i++) {
		m->ecdf[i] = rd_f32(r);
		if (!isfinite(m->ecdf[i]) || (i && m->ecdf[i] < m->ecdf[i - 1]))
			return corrupt(d, "bad ECDF section");
	}
	return section_done(d, r, "ECDF");
}

static int parse_gbdt(struct dec *d, struct fd_model *m)
{
	struct rd *r = &d->sec[S_GBDT];
	uint64_t len = rd_u64(r);
	struct fd_err e2;
	int rc;

	if (r->bad || len == 0 || len > FD_MODEL_MAX_GBDT || len != r->n - r->off)
		return corrupt(d, "bad GBDT section");
	rc = fd_gbdt_load(&m->gb, r->p + r->off, (size_t)len, m->n_features, &e2);
	if (rc == FD_EINPUT)
		return corrupt(d, e2.msg);
	if (rc)
		return fd_err_set(d->err, rc, "%s", e2.msg);
	r->off += (size_t)len;
	return section_done(d, r, "GBDT");
}

static int parse_stack(struct dec *d, struct fd_model *m)
{
	struct rd *r = &d->sec[S_STAK];
	uint32_t count, c, i;

	m->rows_per_day = rd_f64(r);
	m->gb_medium = rd_f64(r);
	m->gb_high = rd_f64(r);
	count = rd_u32(r);
	if (isinf(m->gb_medium) || isinf(m->gb_high))
		return corrupt(d, "bad STAK section");
	if (r->bad || count < 1 || count > 2 || !(isnan(m->rows_per_day) || m->rows_per_day > 0))
		return corrupt(d, "bad STAK section");
	for (c = 0; c < count; c++) {
		uint32_t kind = rd_u32(r), k = rd_u32(r), nq;
		struct fd_stacker *sk;

		if (r->bad || kind > 1 || m->stack[kind].present || k < 1 || k > FD_MODEL_MAX_STACK_INPUTS)
			return corrupt(d, "bad STAK section");
		sk = &m->stack[kind];
		sk->present = 1;
		sk->k = k;
		for (i = 0; i < k; i++)
			sk->w[i] = rd_f64(r);
		sk->bias = rd_f64(r);
		sk->risk_medium = rd_f64(r);
		sk->risk_high = rd_f64(r);
		nq = rd_u32(r);
		if (r->bad || nq < 2 || nq > FD_MODEL_MAX_ECDF || (size_t)nq * 4 > r->n - r->off)
			return corrupt(d, "bad STAK section");
		for (i = 0; i < k; i++)
			if (!isfinite(sk->w[i]))
				return corrupt(d, "bad STAK section");
		if (!isfinite(sk->bias) || !(sk->risk_medium >= 0 && sk->risk_medium <= sk->risk_high &&
					     sk->risk_high <= 100))
			return corrupt(d, "bad STAK section");
		if (!(sk->q = malloc(nq * sizeof(*sk->q))))
			return fd_err_set(d->err, FD_EIO, "out of memory");
		sk->nq = nq;
		for (i = 0; i < nq; i++) {
			sk->q[i] = rd_f32(r);
			if (!(sk->q[i] >= 0 && sk->q[i] <= 100) || (i && sk->q[i] < sk->q[i - 1]))
				return corrupt(d, "bad STAK section");
		}
	}
	return section_done(d, r, "STAK");
}

static int parse_hist(struct dec *d, struct fd_model *m)
{
	struct rd *r = &d->sec[S_HIST];
	size_t j, b;

	if (!(m->hist = calloc(m->n_features, sizeof(*m->hist))))
		return fd_err_set(d->err, FD_EIO, "out of memory");
	for (j = 0; j < m->n_features; j++) {
		struct fd_feat_hist *h = &m->hist[j];
		uint32_t ne = rd_u32(r);

		if (r->bad || ne > FD_MODEL_HIST_BINS - 1)
			return corrupt(d, "bad HIST section");
		h->ne = ne;
		for (b = 0; b < ne; b++) {
			h->edge[b] = rd_f32(r);
			if (!isfinite(h->edge[b]) || (b && !(h->edge[b] > h->edge[b - 1])))
				return corrupt(d, "bad HIST section");
		}
		for (b = 0; b <= ne; b++) {
			h->share[b] = rd_f32(r);
			if (!(h->share[b] >= 0 && h->share[b] <= 1))
				return corrupt(d, "bad HIST section");
		}
		h->missing = rd_f32(r);
		if (!(h->missing >= 0 && h->missing <= 1))
			return corrupt(d, "bad HIST section");
	}
	return section_done(d, r, "HIST");
}

static int parse_payload(struct dec *d, const unsigned char *p, size_t n, uint32_t flags,
			 uint32_t version, struct fd_model **out)
{
	struct rd r = { p, n, 0, 0 };
	struct fd_model *m = NULL;
	int rc, i;

	while (r.off < r.n) {
		char tag[5];
		uint64_t len;

		if (!rd_has(&r, 12))
			return corrupt(d, "truncated section header");
		memcpy(tag, r.p + r.off, 4);
		tag[4] = '\0';
		r.off += 4;
		len = rd_u64(&r);
		if (len > r.n - r.off)
			return corrupt(d, "section longer than the data");
		for (i = 0; i < S_COUNT; i++)
			if (!memcmp(tag, section_tags[i], 4))
				break;
		if (i < S_COUNT) {
			if (d->have[i])
				return corrupt(d, "repeated section");
			d->have[i] = 1;
			d->sec[i].p = r.p + r.off;
			d->sec[i].n = (size_t)len;
		}
		r.off += (size_t)len;
	}
	for (i = 0; i <= S_META; i++)
		if (!d->have[i]) {
			char what[48];

			snprintf(what, sizeof(what), "no %s section", section_tags[i]);
			return corrupt(d, what);
		}
	if ((flags & FLAG_NN) != (d->have[S_AENC] ? FLAG_NN : 0u) ||
	    (flags & FLAG_FOREST) != (d->have[S_IFOR] ? FLAG_FOREST : 0u) ||
	    (flags & FLAG_GBDT) != (d->have[S_GBDT] ? FLAG_GBDT : 0u) || !(flags & (FLAG_NN | FLAG_FOREST)))
		return corrupt(d, "the header's flags do not match the sections");
	if (version < 2 && (d->have[S_GBDT] || d->have[S_STAK] || d->have[S_HIST]))
		return corrupt(d, "version 2 sections in a version 1 file");
	if ((rc = parse_features(d, &m)))
		return rc;
	if ((rc = parse_scaler(d, m)) || (rc = parse_thresholds(d, m)) || (rc = parse_meta(d, m)) ||
	    (d->have[S_AENC] && (rc = parse_nn(d, m))) ||
	    (d->have[S_IFOR] && (rc = parse_forest(d, m))) ||
	    (d->have[S_ECDF] && (rc = parse_ecdf(d, m))) ||
	    (d->have[S_GBDT] && (rc = parse_gbdt(d, m))) ||
	    (d->have[S_STAK] && (rc = parse_stack(d, m))) ||
	    (d->have[S_HIST] && (rc = parse_hist(d, m)))) {
		fd_model_free(m);
		return rc;
	}
	*out = m;
	return FD_OK;
}

static uint64_t le64(const unsigned char *b)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static uint32_t le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int fd_model_decode(struct fd_model **out, const void *data, size_t n, const char *name,
		    struct fd_err *err)
{
	const unsigned char *b = data;
	struct dec d;
	const char *pre = name ? name : "", *sep = name ? ": " : "";
	unsigned char sum[crypto_hash_sha256_BYTES];
	uint32_t version, flags;
	uint64_t ulen, clen;
	unsigned long long fsize;
	unsigned char *pl;
	size_t got;
	int rc;

	*out = NULL;
	memset(&d, 0, sizeof(d));
	d.name = name;
	d.err = err;
	if (n == 0 || memcmp(b, MAGIC, n < 8 ? n : 8) != 0)
		return fd_err_set(err, FD_EINPUT, "%s%snot an fd model file", pre, sep);
	if (n < 12)
		return fd_err_set(err, FD_EINPUT, "%s%struncated model file", pre, sep);
	version = le32(b + 8);
	if (version > FD_MODEL_VERSION)
		return fd_err_set(err, FD_EINPUT,
				  "%s%smodel format version %u is newer than this fd supports (%d)", pre,
				  sep, version, FD_MODEL_VERSION);
	if (version == 0)
		return corrupt(&d, "format version 0");
	if (n < HEADER_SIZE)
		return fd_err_set(err, FD_EINPUT, "%s%struncated model file", pre, sep);
	flags = le32(b + 12);
	ulen = le64(b + 16);
	clen = le64(b + 24);
	if (clen > n - HEADER_SIZE)
		return fd_err_set(err, FD_EINPUT, "%s%struncated model file", pre, sep);
	if (clen < n - HEADER_SIZE)
		return corrupt(&d, "data after the end of the model");
	if (flags & ~(FLAG_NN | FLAG_FOREST | (version >= 2 ? FLAG_GBDT : 0u)))
		return corrupt(&d, "unknown flags");
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "cannot initialise libsodium");
	crypto_hash_sha256(sum, b + HEADER_SIZE, (unsigned long long)clen);
	if (memcmp(sum, b + 32, sizeof(sum)) != 0)
		return fd_err_set(err, FD_EINPUT, "%s%smodel file checksum mismatch: corrupt", pre, sep);
	fsize = ZSTD_getFrameContentSize(b + HEADER_SIZE, (size_t)clen);
	if (fsize == ZSTD_CONTENTSIZE_ERROR || fsize == ZSTD_CONTENTSIZE_UNKNOWN || fsize != ulen ||
	    ulen > MAX_FILE)
		return corrupt(&d, "bad compressed payload");
	pl = malloc(ulen ? (size_t)ulen : 1);
	if (!pl)
		return fd_err_set(err, FD_EIO, "out of memory");
	got = ZSTD_decompress(pl, (size_t)ulen, b + HEADER_SIZE, (size_t)clen);
	if (ZSTD_isError(got) || got != ulen) {
		free(pl);
		return corrupt(&d, "bad compressed payload");
	}
	rc = parse_payload(&d, pl, (size_t)ulen, flags, version, out);
	if (rc == FD_OK)
		(*out)->version = version;
	free(pl);
	return rc;
}

/* ---- files -------------------------------------------------------------------------- */

int fd_model_save(const struct fd_model *m, const char *path, struct fd_err *err)
{
	struct fd_buf b = FD_BUF_INIT;
	struct fd_out *out;
	int rc;

	if ((rc = fd_model_encode(m, &b, err)))
		return rc;
	if ((rc = fd_out_open(&out, path, NULL, err)) == FD_OK) {
		fd_out_write_buf(out, &b);
		rc = fd_out_commit(out, err);
	}
	fd_buf_release(&b);
	return rc;
}

int fd_model_load(struct fd_model **m, const char *path, struct fd_err *err)
{
	char vis[256];
	struct stat st;
	unsigned char *p = NULL;
	size_t n = 0;
	int fd, rc;

	*m = NULL;
	fd_visible(vis, sizeof(vis), path, strlen(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fd_err_set(err, FD_EIO, "cannot open '%s': %s", vis, strerror(errno));
	if (fstat(fd, &st)) {
		rc = fd_err_set(err, FD_EIO, "cannot read '%s': %s", vis, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fd_err_set(err, FD_EIO, "cannot read '%s': not a regular file", vis);
		goto out;
	}
	if ((uint64_t)st.st_size > MAX_FILE + HEADER_SIZE) {
		rc = fd_err_set(err, FD_EINPUT, "%s: corrupt model file: larger than 1 GiB", vis);
		goto out;
	}
	p = malloc((size_t)st.st_size + 1);
	if (!p) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, p + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fd_err_set(err, FD_EIO, "read error on '%s': %s", vis, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	rc = fd_model_decode(m, p, n, vis, err);
out:
	close(fd);
	free(p);
	return rc;
}

/* ---- describing --------------------------------------------------------------------- */

static void add_thr(struct fd_buf *o, const char *what, double med, double high, int *bad)
{
	*bad |= fd_buf_addf(o, "  %-18s", what);
	if (isnan(med))
		*bad |= fd_buf_adds(o, " MEDIUM unset");
	else
		*bad |= fd_buf_addf(o, " MEDIUM >= %.6g", med);
	if (isnan(high))
		*bad |= fd_buf_adds(o, "  HIGH unset\n");
	else
		*bad |= fd_buf_addf(o, "  HIGH >= %.6g\n", high);
}

struct gain_rank {
	double g;
	size_t j;
};

static int cmp_gain(const void *a, const void *b)
{
	const struct gain_rank *x = a, *y = b;

	return x->g < y->g ? 1 : x->g > y->g ? -1 : (x->j > y->j) - (x->j < y->j);
}

/* The boosted trees and the features dropped, from the model and its metrics JSON. */
static int describe_gbdt(const struct fd_model *m, struct fd_buf *o)
{
	json_t *mj = m->meta.metrics_json ? json_loads(m->meta.metrics_json, 0, NULL) : NULL;
	json_t *g = mj ? json_object_get(mj, "gbdt") : NULL, *dropped = mj ? json_object_get(mj, "dropped_features") : NULL;
	int bad = 0;

	if (m->gb) {
		struct gain_rank *r = malloc(m->n_features * sizeof(*r));
		double *gain = malloc(m->n_features * sizeof(*gain)), total = 0;
		struct fd_err e2;
		size_t j, shown;

		bad |= fd_buf_addf(o, "boosted trees: %u trees (one per round, binary:logistic)", fd_gbdt_rounds(m->gb));
		if (json_is_object(g))
			bad |= fd_buf_addf(o, ", best iteration %lld of %lld rounds run, validation average precision %.4f, "
					   "%lld training rows (%lld fraud), scale_pos_weight %.4g",
					   (long long)json_integer_value(json_object_get(g, "best_rounds")),
					   (long long)json_integer_value(json_object_get(g, "rounds")),
					   json_number_value(json_object_get(g, "val_ap")),
					   (long long)json_integer_value(json_object_get(g, "n_train")),
					   (long long)json_integer_value(json_object_get(g, "pos_train")),
					   json_number_value(json_object_get(g, "scale_pos_weight")));
		bad |= fd_buf_addc(o, '\n');
		if (json_is_object(g) && json_object_get(g, "legit_train_all")) {
			/* fd-train --gb-rows: the rows the trees saw, sampled or not */
			static const char *const part[2] = {"train", "val"};
			int k;

			for (k = 0; k < 2; k++) {
				char kl[32], ka[32], kw[32];
				long long n, all;

				snprintf(kl, sizeof(kl), "legit_%s", part[k]);
				snprintf(ka, sizeof(ka), "legit_%s_all", part[k]);
				snprintf(kw, sizeof(kw), "legit_%s_weight", part[k]);
				n = json_integer_value(json_object_get(g, kl));
				all = json_integer_value(json_object_get(g, ka));
				bad |= fd_buf_addf(o, "  %s rows: %lld (%lld fraud", k ? "early-stopping validation" : "training",
						   (long long)json_integer_value(json_object_get(g, k ? "n_val" : "n_train")),
						   (long long)json_integer_value(json_object_get(g, k ? "pos_val" : "pos_train")));
				if (n < all)
					bad |= fd_buf_addf(o, ", %lld of %lld legitimate sampled, each weighing %.4g)\n", n, all,
							   json_number_value(json_object_get(g, kw)));
				else
					bad |= fd_buf_addf(o, ", all %lld legitimate)\n", all);
			}
		}
		if (json_is_object(mj) && json_is_object(json_object_get(mj, "gbdt_refit"))) {
			/* fd-train --gb-refit: the trees kept were grown again on both parts */
			json_t *rf = json_object_get(mj, "gbdt_refit");

			bad |= fd_buf_addf(o, "  refit: grown again for %lld rounds on %lld rows (training and validation)\n",
					   (long long)json_integer_value(json_object_get(rf, "rounds")),
					   (long long)json_integer_value(json_object_get(rf, "n_train")));
		}
		if (r && gain && !fd_gbdt_importance(m->gb, gain, &e2)) {
			for (j = 0; j < m->n_features; j++) {
				r[j].g = gain[j];
				r[j].j = j;
				total += gain[j];
			}
			qsort(r, m->n_features, sizeof(*r), cmp_gain);
			bad |= fd_buf_adds(o, "  top features by gain:");
			for (shown = 0; shown < 10 && shown < m->n_features && r[shown].g > 0; shown++) {
				char name[4 * FD_MODEL_MAX_NAME + 8];

				fd_visible(name, sizeof(name), m->features[r[shown].j], strlen(m->features[r[shown].j]));
				bad |= fd_buf_addf(o, "%s %s %.1f%%", shown ? "," : "", name, 100 * r[shown].g / total);
			}
			bad |= fd_buf_addc(o, '\n');
		}
		free(r);
		free(gain);
	} else {
		const char *why = json_is_object(mj) ? json_string_value(json_object_get(mj, "gbdt_skipped")) : NULL;
		char vis[512];

		if (why)
			fd_visible(vis, sizeof(vis), why, strlen(why));
		bad |= fd_buf_addf(o, "boosted trees: none%s%s\n", why ? ": " : "", why ? vis : "");
	}
	if (json_is_array(dropped) && json_array_size(dropped)) {
		size_t i;
		json_t *v;

		bad |= fd_buf_addf(o, "dropped features (constant or missing in the training data): %zu:",
				   json_array_size(dropped));
		json_array_foreach(dropped, i, v) {
			const char *sv = json_string_value(v);
			char vis[4 * FD_MODEL_MAX_NAME + 8];

			if (!sv)
				continue;
			fd_visible(vis, sizeof(vis), sv, strlen(sv));
			bad |= fd_buf_addf(o, "%s %s", i ? "," : "", vis);
		}
		bad |= fd_buf_addc(o, '\n');
	}
	json_decref(mj);
	return bad;
}

int fd_model_describe(const struct fd_model *m, struct fd_buf *o)
{
	size_t i;
	int bad = 0;

	bad |= fd_buf_addf(o, "fd model, format version %u\n", m->version);
	bad |= fd_buf_addf(o, "features: %zu (mean and standard deviation used to standardise)\n",
			   m->n_features);
	for (i = 0; i < m->n_features; i++) {
		char name[4 * FD_MODEL_MAX_NAME + 8];

		fd_visible(name, sizeof(name), m->features[i], strlen(m->features[i]));
		bad |= fd_buf_addf(o, "  %3zu  %-32s %14.6g %14.6g\n", i + 1, name, m->mean[i],
				   m->std[i]);
	}
	if (m->nn) {
		size_t hidden[FD_NN_MAX_HIDDEN], nh = fd_nn_hidden(m->nn, hidden, FD_NN_MAX_HIDDEN), np;

		fd_nn_params(m->nn, &np);
		bad |= fd_buf_addf(o, "autoencoder: %zu", fd_nn_inputs(m->nn));
		for (i = 0; i < nh; i++)
			bad |= fd_buf_addf(o, "-%zu", hidden[i]);
		bad |= fd_buf_addf(o, "-%zu (hidden layers: batch normalisation, ReLU), %zu parameters\n",
				   fd_nn_inputs(m->nn), np);
		if (m->meta.metrics_json) {
			json_t *mj = json_loads(m->meta.metrics_json, 0, NULL);
			json_t *ar = json_object_get(mj, "ae_rows"), *af = json_object_get(mj, "ae_rows_from");

			if (json_is_integer(ar) && json_is_integer(af))
				bad |= fd_buf_addf(o, "  trained on %lld of %lld rows not labelled fraud%s\n",
						   (long long)json_integer_value(ar), (long long)json_integer_value(af),
						   json_integer_value(ar) < json_integer_value(af) ? " (a sample)" : "");
			json_decref(mj);
		}
	} else
		bad |= fd_buf_adds(o, "autoencoder: none\n");
	if (m->forest) {
		size_t nodes = 0, n;
		unsigned t;

		for (t = 0; t < fd_iforest_trees(m->forest); t++) {
			fd_iforest_tree(m->forest, t, &n);
			nodes += n;
		}
		bad |= fd_buf_addf(o, "isolation forest: %u trees, subsample %zu, height limit %u, %zu nodes\n",
				   fd_iforest_trees(m->forest), fd_iforest_subsample(m->forest),
				   fd_iforest_height(m->forest), nodes);
	} else
		bad |= fd_buf_adds(o, "isolation forest: none\n");
	bad |= describe_gbdt(m, o);
	bad |= fd_buf_adds(o, "thresholds:\n");
	add_thr(o, "autoencoder error", m->thr.ae_medium, m->thr.ae_high, &bad);
	add_thr(o, "forest score", m->thr.if_medium, m->thr.if_high, &bad);
	add_thr(o, "risk score", m->thr.risk_medium, m->thr.risk_high, &bad);
	{
		int k;

		for (k = 1; k >= 0; k--) {
			const struct fd_stacker *sk = &m->stack[k];
			size_t i2;

			if (!sk->present)
				continue;
			bad |= fd_buf_addf(o, "stacker %s rules: risk = 100 * sigmoid(%.6g", k ? "with" : "without", sk->bias);
			for (i2 = 0; i2 < sk->k; i2++)
				bad |= fd_buf_addf(o, " %+.6g*z%zu", sk->w[i2], i2 + 1);
			bad |= fd_buf_addf(o, "); MEDIUM >= %.4g, HIGH >= %.4g\n", sk->risk_medium, sk->risk_high);
		}
		if (!isnan(m->rows_per_day))
			bad |= fd_buf_addf(o, "traffic: %.1f transactions a day in training\n", m->rows_per_day);
		if (m->hist)
			bad |= fd_buf_addf(o, "drift: training histograms of %zu features (PSI)\n", m->n_features);
	}
	if (m->ecdf)
		bad |= fd_buf_addf(o, "error calibration: %zu quantiles of the validation errors, median %.6g, max %.6g\n",
				   m->n_ecdf, m->ecdf[m->n_ecdf / 2], m->ecdf[m->n_ecdf - 1]);
	bad |= fd_buf_adds(o, "training:\n");
	bad |= fd_buf_addf(o, "  rows           %llu\n", (unsigned long long)m->meta.rows);
	bad |= fd_buf_addf(o, "  data sha256    %s\n",
			   m->meta.data_sha256[0] ? m->meta.data_sha256 : "unknown");
	bad |= fd_buf_addf(o, "  seed           %llu\n", (unsigned long long)m->meta.seed);
	{
		time_t s = (time_t)(m->meta.created_ms >= 0 ? m->meta.created_ms / 1000
							     : -((-m->meta.created_ms + 999) / 1000));
		int ms = (int)(m->meta.created_ms - (int64_t)s * 1000);
		struct tm tm;
		char when[64];

		if (gmtime_r(&s, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
			bad |= fd_buf_addf(o, "  created        %s.%03dZ\n", when, ms);
		else
			bad |= fd_buf_addf(o, "  created        %lld ms\n", (long long)m->meta.created_ms);
	}
	{
		/* Text from a file may hold control bytes: shown escaped, never raw. */
		const char *tv = m->meta.tool_version[0] ? m->meta.tool_version : "unknown";
		const char *mj = m->meta.metrics_json ? m->meta.metrics_json : "none";
		size_t cap = 4 * strlen(mj) + 8;
		char tool[4 * sizeof(m->meta.tool_version) + 8], *metrics = malloc(cap);

		fd_visible(tool, sizeof(tool), tv, strlen(tv));
		bad |= fd_buf_addf(o, "  tool           %s\n", tool);
		if (metrics) {
			fd_visible(metrics, cap, mj, strlen(mj));
			bad |= fd_buf_addf(o, "  metrics        %s\n", metrics);
			free(metrics);
		} else
			bad = 1;
	}
	return bad || fd_buf_failed(o) ? -1 : 0;
}
