/* fd_score.c — see fd_score.h. */
#include "fd_score.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fd_audit.h"
#include "fd_eval.h"
#include "fd_num.h"
#include "fd_reader.h"
#include "fd_verify.h"
#include "fd_writer.h"
#include "banned.h"

const char *const fd_level_name[FD_NLEVELS] = { "LOW", "MEDIUM", "HIGH" };
const char *const fd_decision_name[FD_NDECISIONS] = { "APPROVE", "REVIEW", "BLOCK" };
const char *const fd_layer_name[FD_NLAYERS] = { "autoencoder", "forest", "gbdt", "rules", "combined" };

int fd_level_parse(const char *s)
{
	int i;

	for (i = 0; i < FD_NLEVELS; i++)
		if (strcasecmp(s, fd_level_name[i]) == 0)
			return i;
	return -1;
}

static int oom(struct fd_err *err)
{
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* ---- combining the layers ------------------------------------------------------------- */

void fd_score_threshold_quantiles(const struct fd_model *m, double *q_m, double *q_h)
{
	double a = fd_model_ae_score(m, m->thr.ae_medium), b = fd_model_ae_score(m, m->thr.ae_high);

	if (isnan(a) || isnan(b) || !(a > 0.0 && a < b && b < 1.0)) {
		a = 0.95;
		b = 0.99;
	}
	*q_m = a;
	*q_h = b;
}

static double logit(double p)
{
	return log(p / (1.0 - p));
}

/* The parameters of both surprises, computed once per model (see SURPRISE). */
struct cal {
	double qm, qh;
	int tail;            /* the autoencoder's power-law tail applies above ae_high */
	double ae_a, ae_uh;  /* its exponent, and u at ae_high */
	int forest;          /* the forest's logistic is defined */
	double if_c, if_d;
};

static void cal_init(const struct fd_model *m, struct cal *c)
{
	fd_score_threshold_quantiles(m, &c->qm, &c->qh);
	c->ae_uh = -log10(1.0 - c->qh);
	c->tail = m->thr.ae_high > m->thr.ae_medium && m->thr.ae_medium > 0;
	c->ae_a = c->tail ? log10((1.0 - c->qm) / (1.0 - c->qh)) / log10(m->thr.ae_high / m->thr.ae_medium) : 0;
	c->forest = m->thr.if_high > m->thr.if_medium;
	if (c->forest) {
		double lm = logit(c->qm), lh = logit(c->qh);

		c->if_d = (lh - lm) / (m->thr.if_high - m->thr.if_medium);
		c->if_c = lm - c->if_d * m->thr.if_medium;
	}
}

static double ae_u(const struct cal *c, const struct fd_model *m, double e)
{
	double p;

	if (isnan(e) || !m->ecdf)
		return NAN;
	if (c->tail && e > m->thr.ae_high)
		return c->ae_uh + c->ae_a * log10(e / m->thr.ae_high);
	p = fd_model_ae_score(m, e);
	return p >= 1.0 ? c->ae_uh : -log10(1.0 - p);
}

static double if_u(const struct cal *c, double s)
{
	double z;

	if (isnan(s) || !c->forest)
		return NAN;
	z = c->if_c + c->if_d * s;
	/* -log10(1 - 1/(1 + e^-z)) = log10(1 + e^z), kept finite for large z */
	return (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) / M_LN10;
}

double fd_score_ae_surprise(const struct fd_model *m, double e)
{
	struct cal c;

	cal_init(m, &c);
	return ae_u(&c, m, e);
}

double fd_score_forest_surprise(const struct fd_model *m, double s)
{
	struct cal c;

	cal_init(m, &c);
	return if_u(&c, s);
}

const struct fd_stacker *fd_score_stacker(const struct fd_model *m, int rules)
{
	const struct fd_stacker *sk = &m->stack[rules ? 1 : 0];

	return sk->present ? sk : NULL;
}

/*
 * The stacker that scores with (rules 1) or without rules: the one fitted so, else, scoring
 * with rules a model fitted without them, its model-only stacker (see STACKING: a block rule
 * still gives 100; other rules' points, which are not on its scale, leave the risk alone).
 * *fitted says which inputs it takes.
 */
static const struct fd_stacker *stacker_for(const struct fd_model *m, int rules, int *fitted)
{
	const struct fd_stacker *sk = fd_score_stacker(m, rules);

	*fitted = rules;
	if (!sk && rules) {
		sk = fd_score_stacker(m, 0);
		*fitted = 0;
	}
	return sk;
}

void fd_score_level_thresholds(const struct fd_model *m, int rules, double *medium, double *high)
{
	int fitted;
	const struct fd_stacker *sk = stacker_for(m, rules, &fitted);

	*medium = sk ? sk->risk_medium : m->thr.risk_medium;
	*high = sk ? sk->risk_high : m->thr.risk_high;
}

/* The stacker's inputs for layers l (see STACKING); returns their count. */
static size_t stack_inputs(const struct fd_model *m, const struct fd_score_layers *l, int rules, double *z)
{
	size_t k = 0;

	/* With boosted trees the unsupervised layers stay out of the risk (see STACKING). */
	if (m->nn && !m->gb)
		z[k++] = isnan(l->ae_u) ? 0.0 : l->ae_u;
	if (m->forest && !m->gb)
		z[k++] = isnan(l->if_u) ? 0.0 : l->if_u;
	if (m->gb) {
		double p = l->gb_p, g = isnan(p) ? 0.0 : p <= 0 ? -20.0 : p >= 1 ? 20.0 : logit(p);

		z[k++] = g < -20.0 ? -20.0 : g > 20.0 ? 20.0 : g;
	}
	if (rules) {
		z[k++] = l->rule_points / 100.0;
		z[k++] = l->nhits > 0;
	}
	return k;
}

static double stack_risk(const struct fd_stacker *sk, const double *z)
{
	double a = sk->bias;
	size_t i;

	for (i = 0; i < sk->k; i++)
		a += sk->w[i] * z[i];
	return 100.0 / (1.0 + exp(-a));
}

void fd_score_combine(const struct fd_model *m, const struct fd_score_layers *l,
		      struct fd_score_verdict *v)
{
	double med, high;

	fd_score_level_thresholds(m, l->rules_present, &med, &high);
	fd_score_combine_at(m, l, med, high, v);
}

double fd_score_risk_round(double raw)
{
	if (!(raw > 0.0))
		return 0.0;  /* NaN too */
	if (raw >= 100.0)
		return 100.0;
	return (double)lround(raw * 100.0) / 100.0;
}

int fd_score_risk_reaches(double risk, double t)
{
	if (isnan(t) || isnan(risk) || t > 100.0)
		return 0;
	if (t <= 0.0)
		return 1;
	return lround(risk * 100.0) >= (long)ceil(t * 100.0 - 1e-6);
}

void fd_score_combine_at(const struct fd_model *m, const struct fd_score_layers *l, double medium,
			 double high, struct fd_score_verdict *v)
{
	int fitted;
	const struct fd_stacker *sk = stacker_for(m, l->rules_present, &fitted);
	double u = 0.0, raw, z[FD_MODEL_MAX_STACK_INPUTS];
	int nu = 0, flag;

	v->layers = v->agree = 0;
	if (sk && stack_inputs(m, l, fitted, z) == sk->k) {
		raw = stack_risk(sk, z);
		if (l->block)
			raw = 100.0;
	} else {
		if (!isnan(l->ae_u)) {
			u += l->ae_u;
			nu++;
		}
		if (!isnan(l->if_u)) {
			u += l->if_u;
			nu++;
		}
		raw = nu ? FD_SCORE_MODEL_WEIGHT * u / nu : 0.0;
		if (l->rule_points > raw)
			raw = l->rule_points;
	}
	v->risk_raw = raw;
	v->risk = fd_score_risk_round(raw);
	/* levels on the written risk, so that a row shown at 80.00 never disagrees with its level */
	if (fd_score_risk_reaches(v->risk, high))
		v->level = FD_LEVEL_HIGH;
	else if (fd_score_risk_reaches(v->risk, medium))
		v->level = FD_LEVEL_MEDIUM;
	else
		v->level = FD_LEVEL_LOW;
	v->decision = l->block ? FD_DECISION_BLOCK
		      : v->level >= FD_LEVEL_MEDIUM ? FD_DECISION_REVIEW : FD_DECISION_APPROVE;
	/* each present layer votes; it agrees when its flag matches the decision's direction */
	if (!isnan(l->ae_error)) {
		flag = l->ae_error >= m->thr.ae_medium;
		v->layers++;
		v->agree += flag == (v->decision != FD_DECISION_APPROVE);
	}
	if (!isnan(l->if_score)) {
		flag = l->if_score >= m->thr.if_medium;
		v->layers++;
		v->agree += flag == (v->decision != FD_DECISION_APPROVE);
	}
	if (!isnan(l->gb_p)) {
		flag = l->gb_p >= m->gb_medium;
		v->layers++;
		v->agree += flag == (v->decision != FD_DECISION_APPROVE);
	}
	if (l->rules_present) {
		flag = l->nhits > 0;
		v->layers++;
		v->agree += flag == (v->decision != FD_DECISION_APPROVE);
	}
	v->confidence = v->layers ? (double)v->agree / v->layers : NAN;
}

/* ---- calibration ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_float_asc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of ascending s[0 .. n-1], linear between order statistics. */
static double quantile_of_sorted(const float *s, size_t n, double q)
{
	double pos = q * (double)(n - 1), f = floor(pos);
	size_t i = (size_t)f;

	if (n == 0)
		return NAN;
	if (i + 1 >= n)
		return s[n - 1];
	return s[i] + (pos - f) * ((double)s[i + 1] - s[i]);
}

/* The lowest whole risk t (0..100) such that at most share of the sorted risks r[] are >= t. */
static double risk_threshold(const double *r, size_t n, double share)
{
	size_t allowed = (size_t)floor(share * (double)n + 1e-9), i;
	int t;

	for (t = 0; t <= 100; t++) {
		/* rows with risk >= t: those from the first index whose risk >= t */
		size_t lo = 0, hi = n;

		while (lo < hi) {
			i = lo + (hi - lo) / 2;
			if (r[i] < t)
				lo = i + 1;
			else
				hi = i;
		}
		if (n - lo <= allowed)
			return t;
	}
	return 100;
}

int fd_score_calibrate(struct fd_model *m, const float *ae_error, const float *if_score,
		       const int *rule_points, const unsigned char *block, size_t n, double q_m,
		       double q_h, struct fd_err *err)
{
	double *risk = NULL;
	struct cal c;
	size_t i;
	int rc;

	if (n == 0)
		return fd_err_set(err, FD_EUSAGE, "no validation rows to calibrate on");
	if (!(q_m > 0.0 && q_m < q_h && q_h < 1.0))
		return fd_err_set(err, FD_EUSAGE, "bad quantiles %g and %g (0 < MEDIUM < HIGH < 1)", q_m, q_h);
	if (m->nn && ae_error && (rc = fd_model_calibrate_ae(m, ae_error, n, q_m, q_h, err)))
		return rc;
	if (m->forest && if_score) {
		m->thr.if_medium = fd_model_quantile(if_score, n, q_m);
		m->thr.if_high = fd_model_quantile(if_score, n, q_h);
		if (isnan(m->thr.if_medium) || isnan(m->thr.if_high))
			return oom(err);
		/* a forest whose scores barely vary still needs increasing thresholds */
		if (!(m->thr.if_high > m->thr.if_medium))
			m->thr.if_high = nextafter(m->thr.if_medium, INFINITY);
	}
	if (!(risk = malloc(n * sizeof(*risk))))
		return oom(err);
	/* the risk of each validation row, as fd-score will compute it */
	m->thr.risk_medium = m->thr.risk_high = INFINITY;
	cal_init(m, &c);
	for (i = 0; i < n; i++) {
		struct fd_score_layers l;
		struct fd_score_verdict v;

		l.ae_error = m->nn && ae_error ? ae_error[i] : NAN;
		l.ae_p = fd_model_ae_score(m, l.ae_error);
		l.ae_u = ae_u(&c, m, l.ae_error);
		l.if_score = m->forest && if_score ? if_score[i] : NAN;
		l.if_u = if_u(&c, l.if_score);
		l.gb_p = NAN;
		l.rules_present = rule_points != NULL;
		l.rule_points = rule_points ? rule_points[i] : 0;
		l.nhits = 0;
		l.block = block ? block[i] : 0;
		fd_score_combine(m, &l, &v);
		risk[i] = v.risk;
	}
	qsort(risk, n, sizeof(*risk), cmp_double);
	m->thr.risk_medium = risk_threshold(risk, n, 1.0 - q_m);
	m->thr.risk_high = risk_threshold(risk, n, 1.0 - q_h);
	free(risk);
	return FD_OK;
}

/* ---- stacking ------------------------------------------------------------------------- */

/* Solve A x = b (k × k, row-major, A and b destroyed) by Gaussian elimination with partial
 * pivoting.  -1 when singular. */
static int solve(double *A, double *b, size_t k, double *x)
{
	size_t i, j, r, p;

	for (i = 0; i < k; i++) {
		p = i;
		for (r = i + 1; r < k; r++)
			if (fabs(A[r * k + i]) > fabs(A[p * k + i]))
				p = r;
		if (!(fabs(A[p * k + i]) > 1e-300))
			return -1;
		if (p != i) {
			for (j = 0; j < k; j++) {
				double t = A[i * k + j];

				A[i * k + j] = A[p * k + j];
				A[p * k + j] = t;
			}
			{
				double t = b[i];

				b[i] = b[p];
				b[p] = t;
			}
		}
		for (r = i + 1; r < k; r++) {
			double f = A[r * k + i] / A[i * k + i];

			for (j = i; j < k; j++)
				A[r * k + j] -= f * A[i * k + j];
			b[r] -= f * b[i];
		}
	}
	for (i = k; i-- > 0;) {
		double t = b[i];

		for (j = i + 1; j < k; j++)
			t -= A[i * k + j] * x[j];
		x[i] = t / A[i * k + i];
	}
	return 0;
}

/* Penalised log-likelihood of weights w (k inputs, bias last) over Z (n × k). */
static double lr_loglik(const double *Z, const int *y, size_t n, size_t k, const double *w, double lambda)
{
	double ll = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		double a = w[k];

		for (j = 0; j < k; j++)
			a += w[j] * Z[i * k + j];
		/* log sigmoid(a) if y else log sigmoid(-a), stably */
		a = y[i] ? a : -a;
		ll += a >= 0 ? -log1p(exp(-a)) : a - log1p(exp(a));
	}
	for (j = 0; j < k; j++)
		ll -= 0.5 * lambda * w[j] * w[j];
	return ll;
}

/* Logistic regression by Newton's method with step halving; w gets k weights and the bias. */
static int fit_lr(const double *Z, const int *y, size_t n, size_t k, double *w)
{
	double H[(FD_MODEL_MAX_STACK_INPUTS + 1) * (FD_MODEL_MAX_STACK_INPUTS + 1)];
	double g[FD_MODEL_MAX_STACK_INPUTS + 1], step[FD_MODEL_MAX_STACK_INPUTS + 1];
	double trial[FD_MODEL_MAX_STACK_INPUTS + 1], lambda = 1e-6 * (double)n, ll, ll2;
	size_t d = k + 1, i, j, l;
	int it, half;

	for (j = 0; j < d; j++)
		w[j] = 0;
	ll = lr_loglik(Z, y, n, k, w, lambda);
	for (it = 0; it < 100; it++) {
		double biggest = 0;

		memset(H, 0, sizeof(H));
		memset(g, 0, sizeof(g));
		for (i = 0; i < n; i++) {
			double x[FD_MODEL_MAX_STACK_INPUTS + 1], a = w[k], p, q;

			for (j = 0; j < k; j++) {
				x[j] = Z[i * k + j];
				a += w[j] * x[j];
			}
			x[k] = 1.0;
			p = 1.0 / (1.0 + exp(-a));
			q = p * (1.0 - p);
			for (j = 0; j < d; j++) {
				g[j] += (y[i] - p) * x[j];
				for (l = 0; l <= j; l++)
					H[j * d + l] += q * x[j] * x[l];
			}
		}
		for (j = 0; j < d; j++)
			for (l = 0; l < j; l++)
				H[l * d + j] = H[j * d + l];
		for (j = 0; j < k; j++) {
			g[j] -= lambda * w[j];
			H[j * d + j] += lambda;
		}
		H[k * d + k] += 1e-12 * (double)n;
		if (solve(H, g, d, step))
			return -1;
		/* halve the step until the likelihood does not fall */
		for (half = 0; half < 30; half++) {
			double f = ldexp(1.0, -half);

			for (j = 0; j < d; j++)
				trial[j] = w[j] + f * step[j];
			ll2 = lr_loglik(Z, y, n, k, trial, lambda);
			if (ll2 >= ll - 1e-12 * fabs(ll))
				break;
		}
		for (j = 0; j < d; j++) {
			double delta = fabs(trial[j] - w[j]);

			if (delta > biggest)
				biggest = delta;
			w[j] = trial[j];
		}
		ll = ll2;
		if (biggest < 1e-9)
			break;
	}
	for (j = 0; j < d; j++)
		if (!isfinite(w[j]))
			return -1;
	return 0;
}

#define STACK_QUANTILES 10001

static int fit_one(struct fd_model *m, struct fd_stacker *sk, const struct fd_score_layers *rows,
		   const int *label, size_t n, int rules, double q_m, double q_h, struct fd_err *err)
{
	double *Z = malloc(n * FD_MODEL_MAX_STACK_INPUTS * sizeof(*Z)), w[FD_MODEL_MAX_STACK_INPUTS + 1];
	float *risk = malloc(n * sizeof(*risk));
	size_t i, k = 0, j;
	int rc = FD_OK;

	free(sk->q);
	memset(sk, 0, sizeof(*sk));
	if (!Z || !risk) {
		rc = oom(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		double z[FD_MODEL_MAX_STACK_INPUTS];

		k = stack_inputs(m, &rows[i], rules, z);
		memcpy(Z + i * k, z, k * sizeof(*z));
	}
	if (k == 0 || fit_lr(Z, label, n, k, w)) {
		rc = fd_err_set(err, FD_EINPUT, "the stacker's logistic regression did not converge");
		goto out;
	}
	sk->k = k;
	for (j = 0; j < k; j++)
		sk->w[j] = w[j];
	sk->bias = w[k];
	for (i = 0; i < n; i++)
		risk[i] = (float)(rows[i].block && rules ? 100.0 : stack_risk(sk, Z + i * k));
	if (!(sk->q = malloc(STACK_QUANTILES * sizeof(*sk->q)))) {
		rc = oom(err);
		goto out;
	}
	qsort(risk, n, sizeof(*risk), cmp_float_asc);
	for (j = 0; j < STACK_QUANTILES; j++)
		sk->q[j] = (float)quantile_of_sorted(risk, n, (double)j / (STACK_QUANTILES - 1));
	sk->nq = STACK_QUANTILES;
	sk->risk_medium = quantile_of_sorted(risk, n, q_m);
	sk->risk_high = quantile_of_sorted(risk, n, q_h);
	/* thresholds strictly inside the scale so that ties at the top still leave a HIGH level */
	if (!(sk->risk_high > sk->risk_medium))
		sk->risk_high = nextafter(sk->risk_medium, INFINITY);
	sk->present = 1;
out:
	free(Z);
	free(risk);
	return rc;
}

int fd_score_fit_stack(struct fd_model *m, const struct fd_score_layers *rows, const int *label,
		       size_t n, double q_m, double q_h, struct fd_err *err)
{
	size_t i, pos = 0;
	int rc;

	if (!(q_m > 0.0 && q_m < q_h && q_h < 1.0))
		return fd_err_set(err, FD_EUSAGE, "bad quantiles %g and %g (0 < MEDIUM < HIGH < 1)", q_m, q_h);
	for (i = 0; i < n; i++)
		pos += label[i] == 1;
	if (pos < FD_SCORE_MIN_FRAUD || n - pos < FD_SCORE_MIN_FRAUD)
		return fd_err_set(err, FD_EINPUT, "%zu labelled validation rows with %zu fraud: the stacker needs at least %d of each",
				  n, pos, FD_SCORE_MIN_FRAUD);
	if (m->gb) {
		float *p = malloc(n * sizeof(*p));

		if (!p)
			return oom(err);
		for (i = 0; i < n; i++)
			p[i] = (float)rows[i].gb_p;
		m->gb_medium = fd_model_quantile(p, n, q_m);
		m->gb_high = fd_model_quantile(p, n, q_h);
		free(p);
	}
	if ((rc = fit_one(m, &m->stack[0], rows, label, n, 0, q_m, q_h, err)))
		return rc;
	if (n && rows[0].rules_present && (rc = fit_one(m, &m->stack[1], rows, label, n, 1, q_m, q_h, err)))
		return rc;
	return FD_OK;
}

int fd_score_alert_thresholds(const struct fd_model *m, int rules, double alerts_per_day,
			      double *medium, double *high, struct fd_err *err)
{
	int fitted;
	const struct fd_stacker *sk = stacker_for(m, rules, &fitted);
	double share;

	if (!sk)
		return fd_err_set(err, FD_EUSAGE, "--alerts-per-day needs a model whose risk was calibrated on labelled "
				  "validation rows (this one has no stacker %s rules)", rules ? "with" : "without");
	if (!(m->rows_per_day > 0))
		return fd_err_set(err, FD_EUSAGE, "--alerts-per-day needs the training data's traffic, which the model does not record");
	share = alerts_per_day / m->rows_per_day;
	if (!(share > 0 && share < 0.5))
		return fd_err_set(err, FD_EUSAGE, "--alerts-per-day %g of %.1f transactions a day is %.1f%% of them: give fewer than half",
				  alerts_per_day, m->rows_per_day, 100 * share);
	*medium = quantile_of_sorted(sk->q, sk->nq, 1.0 - share);
	*high = quantile_of_sorted(sk->q, sk->nq, 1.0 - share / 5.0);
	if (!(*high > *medium))
		*high = nextafter(*medium, INFINITY);
	return FD_OK;
}

double fd_score_calibrated_rate(const struct fd_model *m, int rules, double t)
{
	int fitted;
	const struct fd_stacker *sk = stacker_for(m, rules, &fitted);
	size_t lo = 0, hi;

	if (!sk)
		return NAN;
	/* the first quantile >= t; quantiles are evenly spaced in share */
	hi = sk->nq;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sk->q[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (double)(sk->nq - lo) / (double)sk->nq;
}

/* ---- numbers in words ------------------------------------------------------------------ */

/* v rounded to decimals in the one number format (fd_num.h): 3912.4 -> "3,912" */
static int add_num(struct fd_buf *b, double v, int decimals)
{
	return fd_num_add(b, v, decimals);
}

/* A whole number below 1000 in full, else with separators. */
static int add_count(struct fd_buf *b, double v)
{
	return add_num(b, v, 0);
}

/* Major units of the transaction's currency: "1,250.00 USD". */
static int add_money(struct fd_buf *b, double major, const struct fd_score_basis *bs)
{
	int e = bs->exponent < 0 ? 2 : bs->exponent > 4 ? 4 : bs->exponent;

	if (add_num(b, major, e))
		return -1;
	return bs->currency[0] ? fd_buf_addf(b, " %s", bs->currency) : 0;
}

/* A ratio: "41.2×", "1,250×". */
static int add_ratio(struct fd_buf *b, double r)
{
	if (add_num(b, r, fabs(r) < 100 ? 1 : 0))
		return -1;
	return fd_buf_adds(b, "\xc3\x97");  /* × */
}

/* A duration in seconds: "12 seconds", "42 minutes", "3.5 hours", "12 days". */
static int add_duration(struct fd_buf *b, double s)
{
	if (isnan(s))
		return fd_buf_adds(b, "an unknown time");
	if (s < 0)
		s = 0;
	if (s < 120)
		return add_count(b, s) || fd_buf_adds(b, lround(s) == 1 ? " second" : " seconds");
	if (s < 7200)
		return add_count(b, s / 60) || fd_buf_adds(b, " minutes");
	if (s < 172800)
		return add_num(b, s / 3600, s < 36000 ? 1 : 0) || fd_buf_adds(b, " hours");
	return add_count(b, s / 86400) || fd_buf_adds(b, " days");
}

static double feat(const struct fd_score_basis *b, const char *name)
{
	int i = fd_feat_lookup(name);

	return i >= 0 && b->all ? b->all[i] : NAN;
}

static double amount_major(const struct fd_score_basis *b)
{
	return (double)b->amount / pow(10.0, b->exponent);
}

/* The sentence kinds (one per group of features that read alike). */
enum kind {
	K_GENERIC, K_HOUR, K_LOCAL_HOUR, K_DOW, K_WEEKEND, K_NIGHT, K_SECS_LAST, K_DAYS_LAST, K_AGE, K_AMOUNT,
	K_REVERSAL, K_ZSCORE, K_TO_MAX, K_PCTL, K_TO_MEAN, K_DEV, K_ROUND, K_BELOW_THR, K_COUNT,
	K_SUM, K_NEAR_THR, K_NEW, K_RCPT30, K_GEO_DIST, K_GEO_SPEED, K_MINS_GEO, K_DIST_USUAL,
	K_FOREIGN, K_FOREIGN_SHARE, K_RCPT_COUNT, K_RCPT_SENDERS, K_MERCH_COUNT, K_MERCH_FRAUD,
	K_DEV_SENDERS, K_IP_SENDERS, K_SENDER_DEVICES, K_CHANNEL, K_HIGH_RISK,
	K_WMEAN, K_WZSCORE, K_KNOWN_TXNS, K_KNOWN_FRAUDS, K_FRAUD_SHARE, K_FIRST_FRAUD,
};

struct phrase {
	const char *name;
	enum kind kind;
	const char *arg;   /* a window in words, a noun, a channel */
	const char *win;   /* the window of a delayed-label feature (arg is its party) */
};

static const struct phrase phrases[] = {
	{"hour", K_HOUR, NULL, NULL},
	{"local_hour", K_LOCAL_HOUR, NULL, NULL},
	{"day_of_week", K_DOW, NULL, NULL},
	{"is_weekend", K_WEEKEND, NULL, NULL},
	{"is_night", K_NIGHT, NULL, NULL},
	{"secs_since_last", K_SECS_LAST, NULL, NULL},
	{"days_since_last", K_DAYS_LAST, NULL, NULL},
	{"sender_age_days", K_AGE, NULL, NULL},
	{"amount", K_AMOUNT, NULL, NULL},
	{"log_amount", K_AMOUNT, NULL, NULL},
	{"is_reversal", K_REVERSAL, NULL, NULL},
	{"amount_zscore", K_ZSCORE, NULL, NULL},
	{"amount_to_max_ratio", K_TO_MAX, NULL, NULL},
	{"amount_percentile_20", K_PCTL, NULL, NULL},
	{"amount_to_mean_7d", K_TO_MEAN, "7-day", NULL},
	{"amount_to_mean_30d", K_TO_MEAN, "30-day", NULL},
	{"amount_dev_7d", K_DEV, "7-day", NULL},
	{"amount_dev_30d", K_DEV, "30-day", NULL},
	{"is_round_amount", K_ROUND, NULL, NULL},
	{"is_just_below_threshold", K_BELOW_THR, NULL, NULL},
	{"sender_txn_count_30s", K_COUNT, "30 seconds", NULL},
	{"sender_txn_count_5m", K_COUNT, "5 minutes", NULL},
	{"sender_txn_count_10m", K_COUNT, "10 minutes", NULL},
	{"sender_txn_count_1h", K_COUNT, "an hour", NULL},
	{"sender_txn_count_24h", K_COUNT, "24 hours", NULL},
	{"sender_txn_count_7d", K_COUNT, "7 days", NULL},
	{"sender_txn_count_30d", K_COUNT, "30 days", NULL},
	{"sender_amount_sum_30s", K_SUM, "30 seconds", NULL},
	{"sender_amount_sum_5m", K_SUM, "5 minutes", NULL},
	{"sender_amount_sum_10m", K_SUM, "10 minutes", NULL},
	{"sender_amount_sum_1h", K_SUM, "an hour", NULL},
	{"sender_amount_sum_24h", K_SUM, "24 hours", NULL},
	{"sender_amount_sum_7d", K_SUM, "7 days", NULL},
	{"sender_amount_sum_30d", K_SUM, "30 days", NULL},
	{"sender_near_threshold_count_24h", K_NEAR_THR, NULL, NULL},
	{"new_merchant", K_NEW, "a merchant", NULL},
	{"new_device", K_NEW, "a device", NULL},
	{"new_ip", K_NEW, "an IP address", NULL},
	{"new_recipient", K_NEW, "a recipient", NULL},
	{"new_country", K_NEW, "a country", NULL},
	{"recipient_txn_count_30d", K_RCPT30, NULL, NULL},
	{"geo_distance_km", K_GEO_DIST, NULL, NULL},
	{"geo_speed_kmh", K_GEO_SPEED, NULL, NULL},
	{"mins_since_prev_geo", K_MINS_GEO, NULL, NULL},
	{"dist_from_usual_km", K_DIST_USUAL, NULL, NULL},
	{"is_foreign", K_FOREIGN, NULL, NULL},
	{"foreign_share", K_FOREIGN_SHARE, NULL, NULL},
	{"recipient_txn_count", K_RCPT_COUNT, NULL, NULL},
	{"recipient_sender_count", K_RCPT_SENDERS, NULL, NULL},
	{"merchant_txn_count", K_MERCH_COUNT, NULL, NULL},
	{"merchant_fraud_rate", K_MERCH_FRAUD, NULL, NULL},
	{"device_sender_count", K_DEV_SENDERS, NULL, NULL},
	{"ip_sender_count", K_IP_SENDERS, NULL, NULL},
	{"sender_device_count", K_SENDER_DEVICES, NULL, NULL},
	{"channel_card", K_CHANNEL, "card", NULL},
	{"channel_transfer", K_CHANNEL, "transfer", NULL},
	{"channel_atm", K_CHANNEL, "atm", NULL},
	{"channel_online", K_CHANNEL, "online", NULL},
	{"channel_mobile", K_CHANNEL, "mobile", NULL},
	{"channel_other", K_CHANNEL, "other", NULL},
	{"is_high_risk_category", K_HIGH_RISK, NULL, NULL},
	{"sender_amount_mean_24h", K_WMEAN, "24 hours", NULL},
	{"sender_amount_mean_7d", K_WMEAN, "7 days", NULL},
	{"sender_amount_mean_30d", K_WMEAN, "30 days", NULL},
	{"amount_zscore_24h", K_WZSCORE, "24 hours", NULL},
	{"amount_zscore_7d", K_WZSCORE, "7 days", NULL},
	{"amount_zscore_30d", K_WZSCORE, "30 days", NULL},
	{"merchant_known_txns_1d", K_KNOWN_TXNS, "merchant", "a day"},
	{"merchant_known_txns_7d", K_KNOWN_TXNS, "merchant", "7 days"},
	{"merchant_known_txns_30d", K_KNOWN_TXNS, "merchant", "30 days"},
	{"merchant_known_frauds_1d", K_KNOWN_FRAUDS, "merchant", "a day"},
	{"merchant_known_frauds_7d", K_KNOWN_FRAUDS, "merchant", "7 days"},
	{"merchant_known_frauds_30d", K_KNOWN_FRAUDS, "merchant", "30 days"},
	{"merchant_fraud_share_1d", K_FRAUD_SHARE, "merchant", "a day"},
	{"merchant_fraud_share_7d", K_FRAUD_SHARE, "merchant", "7 days"},
	{"merchant_fraud_share_30d", K_FRAUD_SHARE, "merchant", "30 days"},
	{"recipient_known_txns_1d", K_KNOWN_TXNS, "recipient", "a day"},
	{"recipient_known_txns_7d", K_KNOWN_TXNS, "recipient", "7 days"},
	{"recipient_known_txns_30d", K_KNOWN_TXNS, "recipient", "30 days"},
	{"recipient_known_frauds_1d", K_KNOWN_FRAUDS, "recipient", "a day"},
	{"recipient_known_frauds_7d", K_KNOWN_FRAUDS, "recipient", "7 days"},
	{"recipient_known_frauds_30d", K_KNOWN_FRAUDS, "recipient", "30 days"},
	{"recipient_fraud_share_1d", K_FRAUD_SHARE, "recipient", "a day"},
	{"recipient_fraud_share_7d", K_FRAUD_SHARE, "recipient", "7 days"},
	{"recipient_fraud_share_30d", K_FRAUD_SHARE, "recipient", "30 days"},
	{"days_since_merchant_first_fraud", K_FIRST_FRAUD, "merchant", NULL},
};

static const struct phrase *phrase_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (strcmp(phrases[i].name, name) == 0)
			return &phrases[i];
	return NULL;
}

/* Each catalog feature's phrase (NULL: none), found once: fd-score asks for every candidate
 * reason of every row that has reasons, and a search by name cost some 3% of its time. */
#define PHRASE_CAT_MAX 512
static const struct phrase *phrase_cat[PHRASE_CAT_MAX];
static size_t phrase_ncat;  /* 0: the catalog is larger, search by name */
static pthread_once_t phrase_once = PTHREAD_ONCE_INIT;

static void phrase_cat_init(void)
{
	const struct fd_feat_def *defs;
	size_t i, n = fd_feat_catalog(&defs);

	if (n > PHRASE_CAT_MAX)
		return;
	for (i = 0; i < n; i++)
		phrase_cat[i] = phrase_of(defs[i].name);
	phrase_ncat = n;
}

/* The phrase of catalog feature cat, named name. */
static const struct phrase *phrase_at(int cat, const char *name)
{
	pthread_once(&phrase_once, phrase_cat_init);
	if (cat >= 0 && (size_t)cat < phrase_ncat)
		return phrase_cat[cat];
	return phrase_of(name);
}

/* ", typically T over all senders" */
static int add_typical(struct fd_buf *o, double typical, int decimals)
{
	if (isnan(typical))
		return 0;
	return fd_buf_adds(o, " (typically ") || add_num(o, typical, decimals) ||
	       fd_buf_adds(o, " over all senders)");
}

/* "amount 1,250.00 USD" */
static int add_amount_words(struct fd_buf *o, const struct fd_score_basis *b)
{
	return fd_buf_adds(o, "amount ") || add_money(o, amount_major(b), b);
}

static int add_count_word(struct fd_buf *o, double v, const char *one, const char *many)
{
	return add_count(o, v) || fd_buf_addf(o, " %s", lround(v) == 1 ? one : many);
}

int fd_score_feature_reason(int cat, double v, double typical, const struct fd_score_basis *b,
			    struct fd_buf *o)
{
	static const char *const days[7] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
					     "Saturday", "Sunday" };
	const struct fd_feat_def *defs;
	size_t ncat = fd_feat_catalog(&defs);
	const char *name = cat >= 0 && (size_t)cat < ncat ? defs[cat].name : "feature";
	const struct phrase *ph = phrase_at(cat, name);
	double mean30 = b->ctx.sender_mean_30d, x;
	int bad = 0;

	switch (ph ? ph->kind : K_GENERIC) {
	case K_HOUR:
		bad = fd_buf_addf(o, "at %ldh UTC", lround(v));
		break;
	case K_LOCAL_HOUR:
		/* say which clock: the export's zone, the sun's at a place, or UTC */
		switch (b->ctx.local_clock) {
		case FD_CLOCK_ZONE:
			bad = fd_buf_addf(o, "at %ldh local time (%s)", lround(v),
					  b->ctx.zone_name ? b->ctx.zone_name : "the export's zone");
			break;
		case FD_CLOCK_SOLAR:
			bad = fd_buf_addf(o, "at %ldh solar time at the transaction's place", lround(v));
			break;
		case FD_CLOCK_SOLAR_USUAL:
			bad = fd_buf_addf(o, "at %ldh solar time at the sender's usual place", lround(v));
			break;
		default:
			bad = fd_buf_addf(o, "at %ldh UTC (no zone or place known)", lround(v));
		}
		break;
	case K_DOW:
		bad = v >= 0 && v < 7 ? fd_buf_addf(o, "on a %s", days[(int)v]) : fd_buf_adds(o, "day unknown");
		break;
	case K_WEEKEND:
		bad = fd_buf_adds(o, v >= 0.5 ? "on a weekend" : "on a weekday");
		break;
	case K_NIGHT:
		x = feat(b, "hour");
		if (isnan(x))
			x = (double)((b->ts / 3600000 % 24 + 24) % 24);
		bad = fd_buf_addf(o, v >= 0.5 ? "at night (%ldh UTC)" : "in the daytime (%ldh UTC)", lround(x));
		break;
	case K_SECS_LAST:
		if (isnan(v))
			bad = fd_buf_adds(o, "the sender's first transaction");
		else
			bad = add_duration(o, v) || fd_buf_adds(o, " after the sender's previous transaction");
		break;
	case K_DAYS_LAST:
		if (isnan(v))
			bad = fd_buf_adds(o, "the sender's first transaction");
		else
			bad = fd_buf_adds(o, "first transaction from the sender in ") || add_duration(o, v * 86400);
		break;
	case K_AGE:
		if (v < 1.0 / 1440)
			bad = fd_buf_adds(o, "a sender seen for the first time");
		else
			bad = fd_buf_adds(o, "a sender first seen ") || add_duration(o, v * 86400) ||
			      fd_buf_adds(o, " ago");
		break;
	case K_AMOUNT:
		bad = add_amount_words(o, b);
		if (mean30 > 0)
			bad = bad || fd_buf_adds(o, ", ") || add_ratio(o, amount_major(b) / mean30) ||
			      fd_buf_adds(o, " this sender's 30-day mean of ") || add_money(o, mean30, b);
		else
			bad = bad || fd_buf_adds(o, ", no earlier amounts from this sender in 30 days");
		break;
	case K_REVERSAL:
		bad = v >= 0.5 ? fd_buf_adds(o, "a reversal (") || add_amount_words(o, b) || fd_buf_addc(o, ')')
			       : add_amount_words(o, b) || fd_buf_adds(o, ", not a reversal");
		break;
	case K_ZSCORE:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_num(o, fabs(v), 1) ||
		      fd_buf_adds(o, v >= 0 ? " standard deviations above" : " standard deviations below") ||
		      fd_buf_adds(o, " this sender's mean");
		break;
	case K_TO_MAX:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_ratio(o, v) ||
		      fd_buf_adds(o, " this sender's largest earlier amount");
		break;
	case K_PCTL:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", above ") || add_num(o, 100 * v, 0) ||
		      fd_buf_adds(o, "% of this sender's last 20 amounts");
		break;
	case K_TO_MEAN:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_ratio(o, v) ||
		      fd_buf_addf(o, " this sender's %s mean", ph->arg);
		if (v > 0 && isfinite(v))
			bad = bad || fd_buf_adds(o, " of ") || add_money(o, amount_major(b) / v, b);
		break;
	case K_DEV:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_money(o, fabs(v), b) ||
		      fd_buf_addf(o, " %s this sender's %s mean of ", v >= 0 ? "above" : "below", ph->arg) ||
		      add_money(o, amount_major(b) - v, b);
		break;
	case K_ROUND:
		bad = v >= 0.5 ? fd_buf_adds(o, "a round ") || add_amount_words(o, b)
			       : add_amount_words(o, b) || fd_buf_adds(o, ", not a round figure");
		break;
	case K_BELOW_THR:
		bad = add_amount_words(o, b) ||
		      fd_buf_adds(o, v >= 0.5 ? ", just below the 10,000 reporting threshold"
					      : ", not just below the 10,000 reporting threshold");
		break;
	case K_COUNT:
		bad = add_count_word(o, v, "transaction", "transactions") ||
		      fd_buf_addf(o, " from the sender in %s", ph->arg);
		x = feat(b, "sender_txn_count_30d");
		if (!isnan(x) && strcmp(ph->name, "sender_txn_count_30d") != 0)
			bad = bad || fd_buf_adds(o, " (") || add_count(o, x) || fd_buf_adds(o, " in 30 days)");
		else
			bad = bad || add_typical(o, typical, 1);
		break;
	case K_SUM:
		bad = add_money(o, v, b) || fd_buf_addf(o, " sent by the sender in %s", ph->arg);
		if (mean30 > 0)
			bad = bad || fd_buf_adds(o, " (30-day mean per transaction ") || add_money(o, mean30, b) ||
			      fd_buf_addc(o, ')');
		break;
	case K_NEAR_THR:
		bad = (v == 0 ? fd_buf_adds(o, "no amounts") : add_count_word(o, v, "amount", "amounts")) ||
		      fd_buf_adds(o, " between 9,000 and 10,000 from the sender in 24 hours");
		break;
	case K_NEW:
		if (isnan(v))
			bad = fd_buf_addf(o, "no %s given", strchr(ph->arg, ' ') + 1);
		else
			bad = fd_buf_addf(o, v >= 0.5 ? "%s new to this sender" : "%s this sender has used before",
					  ph->arg);
		break;
	case K_RCPT30:
		bad = fd_buf_adds(o, "recipient received ") || add_count_word(o, v, "transaction", "transactions") ||
		      fd_buf_adds(o, " in 30 days") || add_typical(o, typical, 1);
		break;
	case K_GEO_DIST:
		if (isnan(v)) {
			bad = fd_buf_adds(o, "no earlier located transaction");
			break;
		}
		bad = add_count(o, v) || fd_buf_adds(o, " km from the previous transaction");
		if (b->ctx.prev_geo_ts >= 0 && !isnan(b->ctx.prev_lat))
			bad = bad || fd_buf_addc(o, ' ') ||
			      add_duration(o, (double)(b->ts - b->ctx.prev_geo_ts) / 1000.0) ||
			      fd_buf_adds(o, " earlier");
		break;
	case K_GEO_SPEED:
		if (isnan(v)) {
			bad = fd_buf_adds(o, "no earlier located transaction");
			break;
		}
		bad = add_count(o, v) || fd_buf_adds(o, " km/h from the previous located transaction");
		x = feat(b, "geo_distance_km");
		if (!isnan(x))
			bad = bad || fd_buf_adds(o, " (") || add_count(o, x) || fd_buf_adds(o, " km)");
		break;
	case K_MINS_GEO:
		if (isnan(v))
			bad = fd_buf_adds(o, "no earlier located transaction");
		else
			bad = add_duration(o, v * 60) || fd_buf_adds(o, " after the previous located transaction");
		break;
	case K_DIST_USUAL:
		if (isnan(v))
			bad = fd_buf_adds(o, "no earlier located transaction");
		else
			bad = add_count(o, v) || fd_buf_adds(o, " km from where this sender usually transacts");
		break;
	case K_FOREIGN:
		bad = fd_buf_adds(o, v >= 0.5 ? "outside this sender's home country"
					      : "in this sender's home country");
		break;
	case K_FOREIGN_SHARE:
		bad = add_num(o, 100 * v, 0) || fd_buf_adds(o, "% of this sender's earlier transactions abroad");
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (typically ") || add_num(o, 100 * typical, 0) ||
			      fd_buf_adds(o, "%)");
		break;
	case K_RCPT_COUNT:
		bad = fd_buf_adds(o, "recipient paid ") || add_count_word(o, v, "time", "times") ||
		      fd_buf_adds(o, " before by all senders") || add_typical(o, typical, 0);
		break;
	case K_RCPT_SENDERS:
		bad = fd_buf_adds(o, "recipient paid by ") || add_count_word(o, v, "sender", "different senders") ||
		      add_typical(o, typical, 1);
		break;
	case K_MERCH_COUNT:
		bad = fd_buf_adds(o, "merchant seen ") || add_count_word(o, v, "time", "times") ||
		      fd_buf_adds(o, " before") || add_typical(o, typical, 0);
		break;
	case K_MERCH_FRAUD:
		bad = fd_buf_adds(o, "merchant's known fraud rate ") || add_num(o, 100 * v, 1) ||
		      fd_buf_addc(o, '%');
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (typically ") || add_num(o, 100 * typical, 1) ||
			      fd_buf_adds(o, "%)");
		break;
	case K_DEV_SENDERS:
		bad = fd_buf_adds(o, "device used by ") || add_count_word(o, v, "sender", "different senders") ||
		      add_typical(o, typical, 1);
		break;
	case K_IP_SENDERS:
		bad = fd_buf_adds(o, "IP address used by ") || add_count_word(o, v, "sender", "different senders") ||
		      add_typical(o, typical, 1);
		break;
	case K_SENDER_DEVICES:
		bad = fd_buf_adds(o, "sender has used ") || add_count_word(o, v, "device", "devices") ||
		      add_typical(o, typical, 1);
		break;
	case K_CHANNEL:
		bad = fd_buf_addf(o, v >= 0.5 ? "channel %s" : "a channel other than %s", ph->arg);
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (") || add_num(o, 100 * typical, 0) ||
			      fd_buf_addf(o, "%% of all transactions are %s)", ph->arg);
		break;
	case K_HIGH_RISK:
		bad = fd_buf_adds(o, v >= 0.5 ? "a high-risk merchant category" : "not a high-risk merchant category");
		break;
	case K_WMEAN:
		bad = fd_buf_addf(o, "the sender's mean amount over %s ", ph->arg) || add_money(o, v, b);
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (typically ") || add_money(o, typical, b) ||
			      fd_buf_adds(o, " over all senders)");
		break;
	case K_WZSCORE:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_num(o, fabs(v), 1) ||
		      fd_buf_adds(o, v >= 0 ? " standard deviations above" : " standard deviations below") ||
		      fd_buf_addf(o, " this sender's mean over %s", ph->arg);
		break;
	case K_KNOWN_TXNS:
		bad = fd_buf_addf(o, "%s had ", ph->arg) ||
		      add_count_word(o, v, "transaction", "transactions") ||
		      fd_buf_addf(o, " with a known outcome in %s", ph->win) || add_typical(o, typical, 0);
		break;
	case K_KNOWN_FRAUDS:
		bad = add_count_word(o, v, "known fraud", "known frauds") ||
		      fd_buf_addf(o, " at the %s in %s", ph->arg, ph->win);
		break;
	case K_FRAUD_SHARE:
		bad = fd_buf_addf(o, "%s's known fraud share ", ph->arg) || add_num(o, 100 * v, 1) ||
		      fd_buf_addf(o, "%% in %s", ph->win);
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (typically ") || add_num(o, 100 * typical, 1) ||
			      fd_buf_adds(o, "%)");
		break;
	case K_FIRST_FRAUD:
		bad = fd_buf_addf(o, "the %s's first known fraud ", ph->arg) || add_duration(o, v * 86400) ||
		      fd_buf_adds(o, " ago");
		break;
	case K_GENERIC:
	default:
		bad = fd_buf_addf(o, "%s ", name) || add_num(o, v, fabs(v) < 10 ? 2 : 0) ||
		      add_typical(o, typical, fabs(typical) < 10 ? 2 : 0);
		break;
	}
	return bad ? -1 : 0;
}

/*
 * Whether a fact is unusual enough in words to be a reason (fd_score.h, REASONS: the
 * thresholds are documented there and in fd-score(1)).  A feature can raise a model's risk
 * and still say nothing an investigator can act on: the transaction itself counted in a
 * window, an amount below the sender's mean, the channel most traffic uses.
 */
int fd_score_feature_notable(int cat, double v, double typical, const struct fd_score_basis *b)
{
	const struct fd_feat_def *defs;
	size_t ncat = fd_feat_catalog(&defs);
	const char *name = cat >= 0 && (size_t)cat < ncat ? defs[cat].name : "feature";
	const struct phrase *ph = phrase_at(cat, name);
	const double r = FD_REASON_RATIO, amt = amount_major(b), mean30 = b->ctx.sender_mean_30d;
	double x;

	if (isnan(v))
		return 0;  /* an undefined value says nothing */
	switch (ph ? ph->kind : K_GENERIC) {
	case K_HOUR:
	case K_NIGHT:
		/* the UTC clock is a reason only where no local clock says otherwise */
		x = feat(b, "local_hour");
		if (!isnan(x))
			return lround(x) < FD_REASON_NIGHT_END;
		return ph->kind == K_NIGHT ? v >= 0.5 : lround(v) < FD_REASON_NIGHT_END;
	case K_LOCAL_HOUR:
		return lround(v) < FD_REASON_NIGHT_END;
	case K_DOW:
		return 0;  /* a day of the week is a seventh of all traffic */
	case K_WEEKEND:
		/* like a channel: a weekend day is no reason where weekends are common */
		return v >= 0.5 && (isnan(typical) || typical <= FD_REASON_RARE_SHARE);
	case K_REVERSAL: case K_ROUND: case K_BELOW_THR: case K_NEW:
	case K_FOREIGN: case K_HIGH_RISK:
		return v >= 0.5;  /* a flag speaks only when it is on */
	case K_SECS_LAST:
		return v < FD_REASON_QUICK_S;
	case K_DAYS_LAST:
		return v >= FD_REASON_DORMANT_DAYS;
	case K_AGE:
		return v < FD_REASON_NEW_SENDER_DAYS;
	case K_AMOUNT:
		if (mean30 > 0)
			return amt >= r * mean30;
		if (isnan(typical))
			return 1;
		/* no history of its own: against all senders (log_amount on its own scale) */
		return strcmp(name, "log_amount") == 0 ? v >= typical + log(r) : v >= r * typical;
	case K_ZSCORE: case K_WZSCORE:
		return v >= FD_REASON_ZSCORE;
	case K_TO_MAX:
		return v >= FD_REASON_MAX_RATIO;
	case K_PCTL:
		return v >= FD_REASON_PERCENTILE;
	case K_TO_MEAN:
		return v >= r;
	case K_DEV:
		return v > 0 && 2 * v >= amt;  /* the amount at least twice the mean (amount - v) */
	case K_COUNT: case K_RCPT30: case K_RCPT_SENDERS: case K_DEV_SENDERS: case K_IP_SENDERS:
	case K_SENDER_DEVICES:
		/* a count of 1 is the transaction (or the sender) itself */
		return v >= 2 && (isnan(typical) || v >= r * typical);
	case K_SUM:
		/* what the window holds besides this transaction must itself be unusual: else the
		 * sentence only repeats the amount */
		x = v - amt;
		return x >= 0.5 * pow(10.0, -b->exponent) && (isnan(typical) || x >= r * typical);
	case K_WMEAN:
		/* the mean of the window's other transactions (this one is included) must be
		 * unusual, else the sentence only repeats the amount: it needs their count */
		x = feat(b, strcmp(ph->arg, "24 hours") == 0 ? "sender_txn_count_24h"
			    : strcmp(ph->arg, "7 days") == 0 ? "sender_txn_count_7d" : "sender_txn_count_30d");
		if (!(x >= 2))
			return 0;
		x = (v * x - amt) / (x - 1);
		return isnan(typical) || x >= r * typical;
	case K_NEAR_THR:
		return v >= 2;
	case K_GEO_DIST:
		/* far, and sooner than travel at FD_REASON_FAST_KMH allows */
		if (!(v >= FD_REASON_FAR_KM))
			return 0;
		if (b->ctx.prev_geo_ts < 0 || b->ts <= b->ctx.prev_geo_ts)
			return 1;
		return v / ((double)(b->ts - b->ctx.prev_geo_ts) / 3600000.0) >= FD_REASON_FAST_KMH;
	case K_DIST_USUAL:
		return v >= FD_REASON_FAR_KM;
	case K_GEO_SPEED:
		return v >= FD_REASON_FAST_KMH;
	case K_MINS_GEO:
		x = feat(b, "geo_distance_km");
		return v < 60 && x >= FD_REASON_FAR_KM;
	case K_FOREIGN_SHARE:
		return 0;  /* the sender's habit, not this transaction's (is_foreign says that) */
	case K_MERCH_FRAUD: case K_FRAUD_SHARE:
		return v > 0 && (isnan(typical) || v >= r * typical);
	case K_RCPT_COUNT: case K_MERCH_COUNT:
		/* a party rarely seen before: a tenth of the usual or less */
		return v <= FD_REASON_RARE_PARTY && !isnan(typical) && v * 10 <= typical;
	case K_KNOWN_TXNS:
		return 0;  /* the denominator of a fraud share, not a fact about risk */
	case K_KNOWN_FRAUDS:
		return v >= 1;
	case K_FIRST_FRAUD:
		return 1;
	case K_CHANNEL:
		return v >= 0.5 && (isnan(typical) || typical <= FD_REASON_RARE_SHARE);
	case K_GENERIC:
	default:
		return 1;
	}
}

/* ---- the scorer --------------------------------------------------------------------------- */

/*
 * A model feature's histogram edges (fd_model.h, HIST) as doubles, padded with +inf to 15, so
 * that drift_bin finds a value's bin in four steps, without branches.
 */
#define DRIFT_SLOTS 15
_Static_assert(FD_MODEL_HIST_BINS - 1 <= DRIFT_SLOTS, "drift_bin searches at most 15 edges");
struct drift_edges {
	double e[DRIFT_SLOTS + 1];
	size_t ne;
};

static void drift_edges_init(struct drift_edges *d, const struct fd_feat_hist *h)
{
	size_t b;

	for (b = 0; b <= DRIFT_SLOTS; b++)
		d->e[b] = b < h->ne ? (double)h->edge[b] : INFINITY;
	d->ne = h->ne;
}

/*
 * fd_model_hist_bin's answer (the number of edges <= v, -1 for a missing value), called for
 * every feature of every transaction: the edges ascend (fd_model_load checks it), so the
 * count is a binary search's, and the padding counts only for v = +inf, where every edge does.
 */
static inline int drift_bin(const struct drift_edges *d, double v)
{
	size_t lo = 0;

	if (isnan(v))
		return -1;
	lo += d->e[lo + 7] <= v ? 8 : 0;
	lo += d->e[lo + 3] <= v ? 4 : 0;
	lo += d->e[lo + 1] <= v ? 2 : 0;
	lo += d->e[lo] <= v ? 1 : 0;
	return (int)(lo < d->ne ? lo : d->ne);
}

/* A transaction waiting in the batch for the model. */
struct slot {
	char txn_id[FD_TXN_ID_MAX + 1];
	struct fd_buf sender;
	int label;
	struct fd_score_basis basis;   /* basis.all points at all below */
	double *all;                   /* catalog-indexed features */
	struct fd_rule_hit *hits;
	size_t nhits;
	int points, block;
	struct fd_buf text;            /* reasons, each ending in a NUL */
	size_t *roff;                  /* their offsets in text */
	double *rw;                    /* their weights (rank_scale), for the order */
	size_t nreasons;
	double t_push;
	struct fd_score_layers l;      /* the verdict, between the two passes of score_batch */
	struct fd_score_verdict v;
	int need;                      /* needs feature reasons */
};

struct fd_scorer {
	const struct fd_model *m;
	const struct fd_rules *r;
	struct fd_scorer_opts o;
	struct fd_features *fe;
	size_t ncat, nin, nrules, maxreasons;
	int *cidx;              /* model feature j -> catalog index */
	int *group;             /* model feature j -> its sentence kind when one reason of that kind
				   is enough (the same measure over other windows), else -1 */
	unsigned char *covered; /* nrules x nin: rule i's expression reads model feature j */
	double *sel;            /* fd_features_push's selected output (unused but required) */
	size_t cap, n;          /* batch capacity, rows pending */
	struct slot *slots;
	float *X;               /* cap x nin, standardised */
	float *err, *ferr, *ifs;
	float *R;               /* cap x nin, raw values (NaN missing), for the boosted trees */
	float *gbp;             /* cap: their probabilities */
	float *RC, *contrib;    /* the rows that need reasons, and their SHAP contributions */
	size_t *crow;           /* slot -> row in RC */
	uint64_t *hcnt, *hmiss; /* drift: nin x FD_MODEL_HIST_BINS bin counts, nin missing */
	struct drift_edges *hedge; /* nin: each feature's histogram edges, for drift_bin */
	uint64_t rows, flagged;
	struct fd_nn_ws *ws;
	const char **rptr;      /* reason pointers handed to emit */
	size_t *ord;            /* their order, when there are many */
	struct cal cal;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void fd_scorer_free(struct fd_scorer *sc)
{
	size_t i;

	if (!sc)
		return;
	for (i = 0; sc->slots && i < sc->cap; i++) {
		fd_buf_release(&sc->slots[i].sender);
		fd_buf_release(&sc->slots[i].text);
		free(sc->slots[i].all);
		free(sc->slots[i].hits);
		free(sc->slots[i].roff);
		free(sc->slots[i].rw);
	}
	free(sc->slots);
	fd_features_free(sc->fe);
	fd_nn_ws_free(sc->ws);
	free(sc->cidx);
	free(sc->group);
	free(sc->covered);
	free(sc->sel);
	free(sc->X);
	free(sc->err);
	free(sc->ferr);
	free(sc->ifs);
	free(sc->R);
	free(sc->gbp);
	free(sc->RC);
	free(sc->contrib);
	free(sc->crow);
	free(sc->hcnt);
	free(sc->hmiss);
	free(sc->hedge);
	free(sc->rptr);
	free(sc->ord);
	free(sc);
}

/* 1 when name occurs in expr as a whole identifier. */
static int reads_name(const char *expr, const char *name)
{
	size_t n = strlen(name);
	const char *p = expr;

	while ((p = strstr(p, name))) {
		int before = p > expr && (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
					  (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9'));
		char c = p[n];
		int after = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!before && !after)
			return 1;
		p += n;
	}
	return 0;
}

/* What feature reasons must leave out: measures a hit rule already speaks of (in its
 * expression or its reason), and a second sentence about one measure. */
static int reason_tables(struct fd_scorer *sc, struct fd_err *err)
{
	size_t i, j;

	sc->group = malloc((sc->nin + 1) * sizeof(*sc->group));
	sc->covered = calloc(sc->nrules * sc->nin + 1, 1);
	if (!sc->group || !sc->covered)
		return oom(err);
	for (j = 0; j < sc->nin; j++) {
		const struct phrase *ph = phrase_of(sc->m->features[j]);
		enum kind k = ph ? ph->kind : K_GENERIC;

		/* one sentence per measure: the amount against the sender's history, counts, sums,
		 * the distance from the previous located transaction */
		switch (k) {
		case K_AMOUNT: case K_ZSCORE: case K_TO_MAX: case K_PCTL: case K_TO_MEAN: case K_DEV:
		case K_WZSCORE:
			sc->group[j] = K_AMOUNT;
			break;
		case K_GEO_DIST: case K_GEO_SPEED: case K_MINS_GEO:
			sc->group[j] = K_GEO_DIST;
			break;
		case K_COUNT:
			sc->group[j] = (int)k;
			break;
		case K_SUM: case K_WMEAN:
			sc->group[j] = K_SUM;
			break;
		case K_HOUR: case K_LOCAL_HOUR: case K_NIGHT:  /* the time of day, on any clock */
			sc->group[j] = K_HOUR;
			break;
		case K_DOW: case K_WEEKEND:
			sc->group[j] = K_DOW;
			break;
		case K_BELOW_THR: case K_NEAR_THR:  /* amounts just below the reporting threshold */
			sc->group[j] = K_NEAR_THR;
			break;
		case K_KNOWN_FRAUDS: case K_FRAUD_SHARE: case K_FIRST_FRAUD: case K_MERCH_FRAUD:
			/* the labelled history of one party, over any window */
			sc->group[j] = strcmp(ph->arg ? ph->arg : "merchant", "recipient") == 0 ? K_FRAUD_SHARE
												  : K_MERCH_FRAUD;
			break;
		default:
			sc->group[j] = -1;
		}
		for (i = 0; i < sc->nrules; i++)
			sc->covered[i * sc->nin + j] =
				(unsigned char)(reads_name(fd_rules_expr(sc->r, i), sc->m->features[j]) ||
						reads_name(fd_rules_reason_template(sc->r, i), sc->m->features[j]));
	}
	/* a rule that speaks of one feature of a measure speaks of the measure: the amount against
	 * the sender's history over any window is its to say */
	for (i = 0; i < sc->nrules; i++)
		for (j = 0; j < sc->nin; j++) {
			size_t k;

			if (!sc->covered[i * sc->nin + j] || sc->group[j] < 0)
				continue;
			for (k = 0; k < sc->nin; k++)
				if (sc->group[k] == sc->group[j])
					sc->covered[i * sc->nin + k] |= 2;
		}
	return FD_OK;
}

int fd_scorer_create(struct fd_scorer **out, const struct fd_model *m, const struct fd_rules *r,
		     const struct fd_scorer_opts *o, struct fd_err *err)
{
	struct fd_scorer *sc;
	const struct fd_feat_def *defs;
	struct fd_buf unknown = FD_BUF_INIT;
	size_t i, j, nunknown = 0;
	int rc;

	*out = NULL;
	if (!m->nn && !m->forest)
		return fd_err_set(err, FD_EINPUT, "the model has neither an autoencoder nor a forest");
	if (!o->emit)
		return fd_err_set(err, FD_EUSAGE, "no emit callback");
	if (!(sc = calloc(1, sizeof(*sc))))
		return oom(err);
	sc->m = m;
	sc->r = r;
	sc->o = *o;
	if (!sc->o.batch)
		sc->o.batch = 256;
	if (!sc->o.top)
		sc->o.top = 3;
	sc->ncat = fd_feat_catalog(&defs);
	sc->nin = m->n_features;
	sc->nrules = r ? fd_rules_count(r) : 0;
	sc->maxreasons = sc->nrules + sc->o.top;
	sc->cap = sc->o.batch;
	cal_init(m, &sc->cal);
	if (!(sc->cidx = malloc(sc->nin * sizeof(*sc->cidx)))) {
		rc = oom(err);
		goto fail;
	}
	for (i = 0; i < sc->nin; i++) {
		sc->cidx[i] = fd_feat_lookup(m->features[i]);
		if (sc->cidx[i] < 0) {
			char vis[128];

			fd_visible(vis, sizeof(vis), m->features[i], strlen(m->features[i]));
			if (nunknown++ < 10)
				fd_buf_addf(&unknown, "%s%s", nunknown > 1 ? ", " : "", vis);
		}
	}
	if (nunknown) {
		rc = fd_err_set(err, FD_EINPUT, "the model needs %zu feature%s this fd does not know: %s%s",
				nunknown, nunknown == 1 ? "" : "s", unknown.s ? unknown.s : "",
				nunknown > 10 ? ", ..." : "");
		goto fail;
	}
	if ((rc = reason_tables(sc, err)))
		goto fail;
	if ((rc = fd_features_create(&sc->fe, o->feat, err)) ||
	    (rc = fd_features_select_idx(sc->fe, sc->cidx, sc->nin, 0, err)))
		goto fail;
	if (r) {
		const int *idx;
		size_t nidx = fd_rules_features(r, &idx);

		if (nidx && (rc = fd_features_select_idx(sc->fe, idx, nidx, 1, err)))
			goto fail;
	}
	sc->sel = malloc((fd_features_count(sc->fe) + 1) * sizeof(*sc->sel));
	sc->slots = calloc(sc->cap, sizeof(*sc->slots));
	sc->X = malloc(sc->cap * sc->nin * sizeof(*sc->X));
	sc->err = malloc(sc->cap * sizeof(*sc->err));
	sc->ferr = malloc(sc->cap * sc->nin * sizeof(*sc->ferr));
	sc->ifs = malloc(sc->cap * sizeof(*sc->ifs));
	sc->rptr = malloc((sc->maxreasons + 1) * sizeof(*sc->rptr));
	sc->ord = malloc((sc->maxreasons + 1) * sizeof(*sc->ord));
	if (!sc->sel || !sc->slots || !sc->X || !sc->err || !sc->ferr || !sc->ifs || !sc->rptr || !sc->ord) {
		rc = oom(err);
		goto fail;
	}
	for (i = 0; i < sc->cap; i++) {
		struct slot *s = &sc->slots[i];

		s->all = malloc(sc->ncat * sizeof(*s->all));
		s->hits = malloc((sc->nrules + 1) * sizeof(*s->hits));
		s->roff = malloc((sc->maxreasons + 1) * sizeof(*s->roff));
		s->rw = malloc((sc->maxreasons + 1) * sizeof(*s->rw));
		/* room for the usual reasons up front, so that scoring does not allocate */
		if (!s->all || !s->hits || !s->roff || !s->rw || fd_buf_grow(&s->text, 512) ||
		    fd_buf_grow(&s->sender, 64)) {
			rc = oom(err);
			goto fail;
		}
		s->basis.all = s->all;
	}
	if (m->nn && (rc = fd_nn_ws_create(&sc->ws, m->nn, sc->cap, err)))
		goto fail;
	if (m->gb) {
		sc->R = malloc(sc->cap * sc->nin * sizeof(*sc->R));
		sc->gbp = malloc(sc->cap * sizeof(*sc->gbp));
		sc->RC = malloc(sc->cap * sc->nin * sizeof(*sc->RC));
		sc->contrib = malloc(sc->cap * (sc->nin + 1) * sizeof(*sc->contrib));
		sc->crow = malloc(sc->cap * sizeof(*sc->crow));
		if (!sc->R || !sc->gbp || !sc->RC || !sc->contrib || !sc->crow) {
			rc = oom(err);
			goto fail;
		}
	}
	if (sc->o.drift && m->hist) {
		sc->hcnt = calloc(sc->nin * FD_MODEL_HIST_BINS, sizeof(*sc->hcnt));
		sc->hmiss = calloc(sc->nin, sizeof(*sc->hmiss));
		sc->hedge = malloc(sc->nin * sizeof(*sc->hedge));
		if (!sc->hcnt || !sc->hmiss || !sc->hedge) {
			rc = oom(err);
			goto fail;
		}
		for (j = 0; j < sc->nin; j++)
			drift_edges_init(&sc->hedge[j], &m->hist[j]);
	}
	fd_buf_release(&unknown);
	*out = sc;
	return FD_OK;
fail:
	fd_buf_release(&unknown);
	fd_scorer_free(sc);
	return rc;
}

int64_t fd_scorer_lookback_ms(const struct fd_scorer *sc)
{
	return fd_features_lookback_ms(sc->fe);
}

int fd_scorer_warm(struct fd_scorer *sc, const struct fd_txn *t, struct fd_err *err)
{
	return fd_features_warm(sc->fe, t, err);
}

/* Indices of the k largest of c[0 .. n-1], largest first (k <= n, small). */
static size_t top_k(const float *c, size_t n, size_t k, size_t *idx)
{
	size_t i, j, got = 0;

	for (i = 0; i < n; i++) {
		float v = c[i];

		if (!(v == v))
			continue;
		if (got < k)
			got++;
		else if (!(v > c[idx[got - 1]]))
			continue;
		for (j = got - 1; j > 0 && v > c[idx[j - 1]]; j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
	}
	return got;
}

/*
 * The scale reasons are ranked on (fd_score.h, REASONS): what each reason added to the risk.
 * With a stacker, log-odds: a rule hit w_points * points / 100 + w_hit / hits, a feature
 * w_gb times its contribution to the trees' margin (or, without trees, its share of the
 * reconstruction error or deviation times the model layers' w * u).  Without one, risk
 * points: a rule hit its points, a feature its share of the model's risk 25 * mean(u).
 * A rule that blocks decides: it ranks above everything.
 */
struct rank {
	int logodds;        /* a stacker's scale */
	double model;       /* the model layers' total, shared among features (non-SHAP) */
	double gbw;         /* the stacker's weight on the trees' margin (SHAP), else 1 */
	double per_point;   /* a rule's weight per point, and per hit */
	double per_hit;
};

static void rank_scale(const struct fd_scorer *sc, const struct slot *s, struct rank *rk)
{
	const struct fd_model *m = sc->m;
	const struct fd_score_layers *l = &s->l;
	int fitted;
	const struct fd_stacker *sk = stacker_for(m, l->rules_present, &fitted);
	double z[FD_MODEL_MAX_STACK_INPUTS], u = 0;
	size_t k = 0;
	int nu = 0;

	memset(rk, 0, sizeof(*rk));
	rk->gbw = 1.0;
	/* a stacker fitted without rules scoring with them: the rules add nothing to the risk
	 * (per_point and per_hit 0), so their reasons follow the features' (a block still first) */
	if (sk && stack_inputs(m, l, fitted, z) == sk->k) {
		rk->logodds = 1;
		if (m->nn && !m->gb) {
			rk->model += sk->w[k] * z[k];
			k++;
		}
		if (m->forest && !m->gb) {
			rk->model += sk->w[k] * z[k];
			k++;
		}
		if (m->gb)
			rk->gbw = sk->w[k++];
		if (fitted) {
			rk->per_point = sk->w[k] / 100.0;
			rk->per_hit = l->nhits ? sk->w[k + 1] / (double)l->nhits : 0.0;
		}
		return;
	}
	if (!isnan(l->ae_u)) {
		u += l->ae_u;
		nu++;
	}
	if (!isnan(l->if_u)) {
		u += l->if_u;
		nu++;
	}
	rk->model = nu ? FD_SCORE_MODEL_WEIGHT * u / nu : 0.0;
	rk->per_point = 1.0;
}

/* The weight of the reason of hit h. */
static double rule_weight(const struct rank *rk, const struct fd_rule_hit *h)
{
	if (h->action == FD_RULE_BLOCK)
		return INFINITY;
	return rk->per_point * h->points + rk->per_hit;
}

static int add_feature_reasons(struct fd_scorer *sc, struct slot *s, size_t row, const struct rank *rk,
			       struct fd_err *err)
{
	const int shap = sc->m->gb != NULL;
	/* every feature is a candidate: rule-covered ones, repeats of a measure, flags that are
	 * off, undefined values and facts too weak to say are passed over, and three must still
	 * be found */
	size_t idx[FD_MODEL_MAX_FEATURES], k = sc->nin, got, i, h, added = 0;
	int used[16], nused = 0, u;
	float absx[FD_MODEL_MAX_FEATURES];
	double total = 0;
	const float *c;

	if (shap)
		c = sc->contrib + sc->crow[row] * (sc->nin + 1);
	else if (sc->m->nn)
		c = sc->ferr + row * sc->nin;
	else {
		for (i = 0; i < sc->nin; i++)
			absx[i] = fabsf(sc->X[row * sc->nin + i]);
		c = absx;
	}
	for (i = 0; i < sc->nin; i++)
		if (c[i] > 0)
			total += c[i];
	got = top_k(c, sc->nin, k, idx);
	for (i = 0; i < got && added < sc->o.top; i++) {
		size_t j = idx[i];
		double v = s->all[sc->cidx[j]];

		if (!(c[j] > 0))
			break;  /* only what raised the risk is a reason */
		for (h = 0; h < s->nhits; h++)
			if (sc->covered[s->hits[h].rule * sc->nin + j])
				break;
		if (h < s->nhits)
			continue;  /* the rule's own reason says it */
		if (!fd_score_feature_notable(sc->cidx[j], v, sc->m->mean[j], &s->basis))
			continue;  /* true, but nothing an investigator would call unusual */
		if (sc->group[j] >= 0) {
			for (u = 0; u < nused && used[u] != sc->group[j]; u++)
				;
			if (u < nused)
				continue;  /* said already, over another window */
			if (nused < (int)(sizeof(used) / sizeof(used[0])))
				used[nused++] = sc->group[j];
		}
		s->rw[s->nreasons] = shap && rk->logodds ? rk->gbw * c[j]
				     : total > 0 ? rk->model * c[j] / total : 0.0;
		s->roff[s->nreasons++] = s->text.len;
		if (fd_score_feature_reason(sc->cidx[j], v, sc->m->mean[j], &s->basis, &s->text) ||
		    (shap && fd_buf_adds(&s->text, " (raises risk)")) || fd_buf_addc(&s->text, '\0'))
			return oom(err);
		added++;
	}
	return FD_OK;
}

/*
 * Hand the reasons of s to emit in sc->rptr: most decisive first (stable, so rules of equal
 * weight keep their order, and a rule before a feature of the same weight), a sentence
 * already given left out.  Returns how many.
 */
static size_t order_reasons(struct fd_scorer *sc, struct slot *s)
{
	size_t *o = sc->ord, n = s->nreasons, i, j, k, out = 0;

	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && s->rw[o[j - 1]] < s->rw[i]; j--)
			o[j] = o[j - 1];
		o[j] = i;
	}
	for (i = 0; i < n; i++) {
		const char *t = s->text.s + s->roff[o[i]];

		for (k = 0; k < out && strcmp(sc->rptr[k], t) != 0; k++)
			;
		if (k == out)
			sc->rptr[out++] = t;
	}
	return out;
}

/* Run the model over the pending rows and emit them. */
static int score_batch(struct fd_scorer *sc, struct fd_err *err)
{
	const struct fd_model *m = sc->m;
	size_t n = sc->n, i, k;
	double now = 0;
	int rc = FD_OK;

	if (n == 0)
		return FD_OK;
	sc->n = 0;
	if (m->nn)
		fd_nn_errors(m->nn, sc->ws, sc->X, n, sc->err, sc->ferr);
	if (m->forest) {
		if (n == 1)
			sc->ifs[0] = fd_iforest_score_row(m->forest, sc->X);
		else
			fd_iforest_score(m->forest, sc->X, n, sc->ifs);
	}
	if (m->gb && (rc = fd_gbdt_predict(m->gb, sc->R, n, sc->gbp, err)))
		return rc;
	/* first pass: the verdicts, and which rows need reasons */
	for (i = 0; i < n; i++) {
		struct slot *s = &sc->slots[i];
		struct fd_score_layers *l = &s->l;

		l->ae_error = m->nn ? sc->err[i] : NAN;
		l->ae_p = m->nn ? fd_model_ae_score(m, l->ae_error) : NAN;
		l->ae_u = ae_u(&sc->cal, m, l->ae_error);
		l->if_score = m->forest ? sc->ifs[i] : NAN;
		l->if_u = if_u(&sc->cal, l->if_score);
		l->gb_p = m->gb ? sc->gbp[i] : NAN;
		l->rules_present = sc->r != NULL;
		l->rule_points = s->points;
		l->nhits = s->nhits;
		l->block = s->block;
		if (sc->o.thresholds)
			fd_score_combine_at(m, l, sc->o.medium, sc->o.high, &s->v);
		else
			fd_score_combine(m, l, &s->v);
		s->need = !sc->o.no_reasons && (sc->o.reasons_all || s->v.level >= FD_LEVEL_MEDIUM);
		sc->rows++;
		sc->flagged += s->v.level >= FD_LEVEL_MEDIUM;
	}
	/* the SHAP contributions of those rows, in one call */
	if (m->gb) {
		size_t nc = 0;

		for (i = 0; i < n; i++)
			if (sc->slots[i].need) {
				memcpy(sc->RC + nc * sc->nin, sc->R + i * sc->nin, sc->nin * sizeof(*sc->RC));
				sc->crow[i] = nc++;
			}
		if (nc && (rc = fd_gbdt_contrib(m->gb, sc->RC, nc, 0, sc->contrib, err)))
			return rc;
	}
	if (sc->o.timing)
		now = mono_s();
	for (i = 0; i < n; i++) {
		struct slot *s = &sc->slots[i];
		struct fd_score_row row;

		row.txn_id = s->txn_id;
		row.ts = s->basis.ts;
		row.sender_id = s->sender.s ? s->sender.s : "";
		row.label = s->label;
		row.l = s->l;
		row.v = s->v;
		row.hits = s->hits;
		if (s->nreasons || s->need) {
			struct rank rk;

			rank_scale(sc, s, &rk);
			for (k = 0; k < s->nreasons; k++)  /* the rule reasons, one per hit */
				s->rw[k] = rule_weight(&rk, &s->hits[k]);
			if (s->need && (rc = add_feature_reasons(sc, s, i, &rk, err)))
				return rc;
		}
		row.nreasons = order_reasons(sc, s);
		row.reasons = sc->rptr;
		row.latency_s = sc->o.timing ? now - s->t_push : 0.0;
		if ((rc = sc->o.emit(sc->o.user, &row, err)))
			return rc;
	}
	return FD_OK;
}

int fd_scorer_push(struct fd_scorer *sc, const struct fd_txn *t, struct fd_err *err)
{
	const struct fd_model *m = sc->m;
	struct slot *s = &sc->slots[sc->n];
	float *x = sc->X + sc->n * sc->nin;
	size_t j, k, len;
	int rc;

	if (sc->o.timing)
		s->t_push = mono_s();
	if ((rc = fd_features_push(sc->fe, t, sc->sel, s->all, err)))
		return rc;
	len = strlen(t->txn_id);
	if (len > FD_TXN_ID_MAX)
		len = FD_TXN_ID_MAX;
	memcpy(s->txn_id, t->txn_id, len);
	s->txn_id[len] = '\0';
	fd_buf_reset(&s->sender);
	if (fd_buf_adds(&s->sender, t->sender_id))
		return oom(err);
	s->label = t->label;
	s->basis.ts = t->ts;
	s->basis.amount = t->amount;
	s->basis.exponent = t->exponent;
	memcpy(s->basis.currency, t->currency, sizeof(s->basis.currency));
	fd_features_context(sc->fe, &s->basis.ctx);
	/* each model feature once: standardised, raw for the trees, counted for drift */
	{
		float *r = sc->R ? sc->R + sc->n * sc->nin : NULL;
		const size_t nin = sc->nin;

		for (j = 0; j < nin; j++) {
			double v = s->all[sc->cidx[j]];

			x[j] = isnan(v) ? 0.0f : (float)((v - m->mean[j]) / m->std[j]);
			if (r)
				r[j] = (float)v;
			if (sc->hcnt) {
				int b = drift_bin(&sc->hedge[j], v);

				if (b < 0)
					sc->hmiss[j]++;
				else
					sc->hcnt[j * FD_MODEL_HIST_BINS + (size_t)b]++;
			}
		}
	}
	s->nhits = 0;
	s->points = s->block = 0;
	s->nreasons = 0;
	fd_buf_reset(&s->text);
	if (sc->r) {
		s->nhits = fd_rules_eval(sc->r, t, s->all, s->hits);
		for (k = 0; k < s->nhits; k++) {
			s->points += s->hits[k].points;
			s->block |= s->hits[k].action == FD_RULE_BLOCK;
			if (sc->o.no_reasons)
				continue;
			s->roff[s->nreasons++] = s->text.len;
			if ((rc = fd_rules_reason(sc->r, s->hits[k].rule, t, s->all, &s->text, err)))
				return rc;
			if (fd_buf_addc(&s->text, '\0'))
				return oom(err);
		}
	}
	if (++sc->n == sc->cap)
		return score_batch(sc, err);
	return FD_OK;
}

int fd_scorer_flush(struct fd_scorer *sc, struct fd_err *err)
{
	return score_batch(sc, err);
}

void fd_scorer_summary(const struct fd_scorer *sc, uint64_t *rows, uint64_t *flagged, double *psi)
{
	size_t j;

	*rows = sc->rows;
	*flagged = sc->flagged;
	if (!psi)
		return;
	for (j = 0; j < sc->nin; j++)
		psi[j] = sc->hcnt ? fd_model_psi(&sc->m->hist[j], sc->hcnt + j * FD_MODEL_HIST_BINS, sc->hmiss[j]) : NAN;
}

/* ---- evaluation ------------------------------------------------------------------------- */

enum { C_TP, C_FP, C_FN, C_TN };

struct fd_score_eval {
	const struct fd_model *m;
	int present[FD_NLAYERS];
	struct fd_eval *ev[FD_NLAYERS];
	int64_t conf[FD_NLAYERS][2][4];   /* layer, MEDIUM/HIGH, tp fp fn tn */
	size_t rows, frauds;
};

struct fd_score_eval *fd_score_eval_create(const struct fd_model *m, int rules_present)
{
	struct fd_score_eval *e = calloc(1, sizeof(*e));
	int i;

	if (!e)
		return NULL;
	e->m = m;
	e->present[FD_LAYER_AE] = m->nn != NULL;
	e->present[FD_LAYER_FOREST] = m->forest != NULL;
	e->present[FD_LAYER_GB] = m->gb != NULL;
	e->present[FD_LAYER_RULES] = rules_present;
	e->present[FD_LAYER_COMBINED] = 1;
	for (i = 0; i < FD_NLAYERS; i++)
		if (!(e->ev[i] = fd_eval_create())) {
			fd_score_eval_free(e);
			return NULL;
		}
	return e;
}

void fd_score_eval_free(struct fd_score_eval *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < FD_NLAYERS; i++)
		fd_eval_free(e->ev[i]);
	free(e);
}

static void count(int64_t *c, int predicted, int label)
{
	c[predicted ? (label ? C_TP : C_FP) : (label ? C_FN : C_TN)]++;
}

int fd_score_eval_add(struct fd_score_eval *e, const struct fd_score_row *row)
{
	const struct fd_thresholds *t = &e->m->thr;
	const struct fd_score_layers *l = &row->l;
	int y = row->label;
	double rules = (double)l->rule_points + (l->nhits ? 0.5 : 0.0);

	if (y != 0 && y != 1)
		return 0;
	e->rows++;
	e->frauds += (size_t)y;
	if (fd_eval_add(e->ev[FD_LAYER_AE], l->ae_error, y) ||
	    fd_eval_add(e->ev[FD_LAYER_FOREST], l->if_score, y) ||
	    fd_eval_add(e->ev[FD_LAYER_GB], l->gb_p, y) ||
	    fd_eval_add(e->ev[FD_LAYER_RULES], rules, y) ||
	    fd_eval_add(e->ev[FD_LAYER_COMBINED], row->v.risk_raw, y))
		return -1;
	count(e->conf[FD_LAYER_AE][0], l->ae_error >= t->ae_medium, y);
	count(e->conf[FD_LAYER_AE][1], l->ae_error >= t->ae_high, y);
	count(e->conf[FD_LAYER_FOREST][0], l->if_score >= t->if_medium, y);
	count(e->conf[FD_LAYER_FOREST][1], l->if_score >= t->if_high, y);
	count(e->conf[FD_LAYER_GB][0], l->gb_p >= e->m->gb_medium, y);
	count(e->conf[FD_LAYER_GB][1], l->gb_p >= e->m->gb_high, y);
	count(e->conf[FD_LAYER_RULES][0], l->nhits > 0, y);
	count(e->conf[FD_LAYER_RULES][1], l->block, y);
	count(e->conf[FD_LAYER_COMBINED][0], row->v.level >= FD_LEVEL_MEDIUM, y);
	count(e->conf[FD_LAYER_COMBINED][1], row->v.level == FD_LEVEL_HIGH, y);
	return 0;
}

size_t fd_score_eval_count(const struct fd_score_eval *e, size_t *frauds)
{
	if (frauds)
		*frauds = e->frauds;
	return e->rows;
}

static double threshold_of(const struct fd_score_eval *e, int layer, int high)
{
	const struct fd_thresholds *t = &e->m->thr;

	switch (layer) {
	case FD_LAYER_AE: return high ? t->ae_high : t->ae_medium;
	case FD_LAYER_FOREST: return high ? t->if_high : t->if_medium;
	case FD_LAYER_GB: return high ? e->m->gb_high : e->m->gb_medium;
	case FD_LAYER_COMBINED: {
		double med, hi;

		fd_score_level_thresholds(e->m, e->present[FD_LAYER_RULES], &med, &hi);
		return high ? hi : med;
	}
	default: return NAN;
	}
}

static const char *const eval_cols[] = {
	"layer", "rows", "frauds", "auc_roc", "avg_precision", "recall_at_fpr_1pct",
	"recall_at_fpr_5pct", "k", "precision_at_k",
	"medium_threshold", "medium_tp", "medium_fp", "medium_fn", "medium_tn",
	"high_threshold", "high_tp", "high_fp", "high_fn", "high_tn",
};

/* "0.9731" or "n/a" */
static void cell(char *buf, size_t n, double v, int decimals)
{
	if (isnan(v))
		snprintf(buf, n, "n/a");
	else
		snprintf(buf, n, "%.*f", decimals, v);
}

int fd_score_eval_write(struct fd_score_eval *e, struct fd_out *out, int format, size_t k,
			struct fd_err *err)
{
	struct fd_eval_metrics mt[FD_NLAYERS];
	int i, h;

	if (!k)
		k = 100;
	for (i = 0; i < FD_NLAYERS; i++)
		if (e->present[i])
			fd_eval_compute(e->ev[i], k, &mt[i]);
	if (format == FD_FMT_CSV || format == FD_FMT_NDJSON) {
		struct fd_writer *w = fd_writer_create(out, format, eval_cols,
						       sizeof(eval_cols) / sizeof(eval_cols[0]));

		if (!w)
			return oom(err);
		for (i = 0; i < FD_NLAYERS; i++) {
			if (!e->present[i])
				continue;
			fd_writer_begin(w);
			fd_writer_cstr(w, fd_layer_name[i]);
			fd_writer_i64(w, (int64_t)e->rows);
			fd_writer_i64(w, (int64_t)e->frauds);
			fd_writer_f64_sig(w, mt[i].auc, 6);
			fd_writer_f64_sig(w, mt[i].ap, 6);
			fd_writer_f64_sig(w, mt[i].recall_fpr1, 6);
			fd_writer_f64_sig(w, mt[i].recall_fpr5, 6);
			fd_writer_i64(w, (int64_t)mt[i].k);
			fd_writer_f64_sig(w, mt[i].precision_k, 6);
			for (h = 0; h < 2; h++) {
				const int64_t *c = e->conf[i][h];

				fd_writer_f64_sig(w, threshold_of(e, i, h), 9);
				fd_writer_i64(w, c[C_TP]);
				fd_writer_i64(w, c[C_FP]);
				fd_writer_i64(w, c[C_FN]);
				fd_writer_i64(w, c[C_TN]);
			}
			fd_writer_end(w);
		}
		fd_writer_free(w);
		return FD_OK;
	}
	fd_out_printf(out, "%lld labelled transactions, %lld fraud (%.2f%%)\n\n", (long long)e->rows,
		      (long long)e->frauds, e->rows ? 100.0 * (double)e->frauds / (double)e->rows : 0.0);
	fd_out_printf(out, "%-12s %8s %9s %13s %13s %10s\n", "layer", "AUC-ROC", "avg prec",
		      "recall@1%FPR", "recall@5%FPR", "prec@top");
	for (i = 0; i < FD_NLAYERS; i++) {
		char a[16], b[16], c[16], d[16], p[16];

		if (!e->present[i])
			continue;
		cell(a, sizeof(a), mt[i].auc, 4);
		cell(b, sizeof(b), mt[i].ap, 4);
		cell(c, sizeof(c), mt[i].recall_fpr1, 4);
		cell(d, sizeof(d), mt[i].recall_fpr5, 4);
		cell(p, sizeof(p), mt[i].precision_k, 4);
		fd_out_printf(out, "%-12s %8s %9s %13s %13s %10s\n", fd_layer_name[i], a, b, c, d, p);
	}
	fd_out_printf(out, "(prec@top: precision of the %zu highest scores)\n\n", mt[FD_LAYER_COMBINED].k);
	fd_out_printf(out, "at the model's thresholds (flagged: at or above the threshold)\n");
	fd_out_printf(out, "%-12s %-6s %12s %8s %8s %8s %9s %9s %7s\n", "layer", "level", "threshold",
		      "TP", "FP", "FN", "TN", "precision", "recall");
	for (i = 0; i < FD_NLAYERS; i++) {
		if (!e->present[i])
			continue;
		for (h = 0; h < 2; h++) {
			const int64_t *c = e->conf[i][h];
			char thr[32], pr[16], rc[16];
			double t = threshold_of(e, i, h);

			if (i == FD_LAYER_RULES)
				snprintf(thr, sizeof(thr), "%s", h ? "block" : "any hit");
			else if (i == FD_LAYER_COMBINED && (isnan(t) || t == floor(t)))
				cell(thr, sizeof(thr), t, 0);  /* whole risks, or a stacker's quantile below */
			else if (isnan(t))
				snprintf(thr, sizeof(thr), "unset");
			else
				snprintf(thr, sizeof(thr), "%.6g", t);
			cell(pr, sizeof(pr), c[C_TP] + c[C_FP] ? (double)c[C_TP] / (double)(c[C_TP] + c[C_FP]) : NAN, 4);
			cell(rc, sizeof(rc), c[C_TP] + c[C_FN] ? (double)c[C_TP] / (double)(c[C_TP] + c[C_FN]) : NAN, 4);
			fd_out_printf(out, "%-12s %-6s %12s %8lld %8lld %8lld %9lld %9s %7s\n", fd_layer_name[i],
				      h ? "HIGH" : "MEDIUM", thr, (long long)c[C_TP], (long long)c[C_FP],
				      (long long)c[C_FN], (long long)c[C_TN], pr, rc);
		}
	}
	return FD_OK;
}

static int json_num(struct fd_buf *b, const char *key, double v)
{
	if (isnan(v))
		return fd_buf_addf(b, "\"%s\":null", key);
	return fd_buf_addf(b, "\"%s\":%.4f", key, v);
}

int fd_score_eval_json(struct fd_score_eval *e, size_t k, struct fd_buf *b)
{
	int i, bad = 0, first = 1;

	if (!k)
		k = 100;
	bad |= fd_buf_addc(b, '{');
	for (i = 0; i < FD_NLAYERS; i++) {
		struct fd_eval_metrics mt;

		if (!e->present[i])
			continue;
		fd_eval_compute(e->ev[i], k, &mt);
		bad |= fd_buf_addf(b, "%s\"%s\":{", first ? "" : ",", fd_layer_name[i]);
		bad |= json_num(b, "auc_roc", mt.auc) || fd_buf_addc(b, ',');
		bad |= json_num(b, "avg_precision", mt.ap) || fd_buf_addc(b, ',');
		bad |= json_num(b, "recall_at_fpr_1pct", mt.recall_fpr1) || fd_buf_addc(b, ',');
		bad |= json_num(b, "recall_at_fpr_5pct", mt.recall_fpr5) || fd_buf_addc(b, ',');
		bad |= fd_buf_addf(b, "\"k\":%zu,", mt.k);
		bad |= json_num(b, "precision_at_k", mt.precision_k) || fd_buf_addc(b, '}');
		first = 0;
	}
	bad |= fd_buf_addf(b, ",\"rows\":%zu,\"frauds\":%zu}", e->rows, e->frauds);
	return bad ? -1 : 0;
}

/* ---- the store ------------------------------------------------------------------------- */

void fd_score_model_version(const char sha256_hex[65], char version[FD_MODEL_VERSION_LEN + 1])
{
	memcpy(version, sha256_hex, FD_MODEL_VERSION_LEN);
	version[FD_MODEL_VERSION_LEN] = '\0';
}

int fd_score_register_model(struct fd_store *st, const struct fd_model *m, const char *path,
			    const char *sha256, int64_t trained_at, int64_t *id, int *created,
			    struct fd_err *err)
{
	static const struct fd_verify_part part = {"models", "id"};
	char version[FD_MODEL_VERSION_LEN + 1];
	struct fd_buf feats = FD_BUF_INIT, details = FD_BUF_INIT;
	sqlite3_stmt *q = NULL;
	int own = !fd_store_in_txn(st), rc, bad = 0;
	size_t i;

	*id = 0;
	*created = 0;
	fd_score_model_version(sha256, version);
	if (own && (rc = fd_store_begin(st, err)))
		return rc;
	if ((rc = fd_store_prepare(st, &q, "SELECT id FROM models WHERE version = ?1", err)))
		goto out;
	sqlite3_bind_text(q, 1, version, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		rc = FD_OK;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(st, "cannot read models", err);
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	bad |= fd_buf_addc(&feats, '[');
	for (i = 0; i < m->n_features; i++)
		bad |= (i && fd_buf_addc(&feats, ',')) ||
		       fd_buf_add_json_str(&feats, m->features[i], strlen(m->features[i]));
	bad |= fd_buf_addc(&feats, ']');
	bad |= fd_buf_adds(&details, "{\"version\":") || fd_buf_add_json_str(&details, version, strlen(version)) ||
	       fd_buf_adds(&details, ",\"path\":") || fd_buf_add_json_str(&details, path, strlen(path)) ||
	       fd_buf_adds(&details, ",\"sha256\":") || fd_buf_add_json_str(&details, sha256, strlen(sha256)) ||
	       fd_buf_addc(&details, '}');
	if (bad) {
		rc = oom(err);
		goto out;
	}
	if ((rc = fd_store_prepare(st, &q, "INSERT INTO models (version, path, sha256, features, metrics, trained_at, actor)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err)))
		goto out;
	sqlite3_bind_text(q, 1, version, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, feats.s, (int)feats.len, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, m->meta.metrics_json ? m->meta.metrics_json : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, trained_at);
	sqlite3_bind_text(q, 7, fd_store_who(st)->actor, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc = fd_store_error(st, "cannot register the model", err);
		goto out;
	}
	*id = sqlite3_last_insert_rowid(fd_store_db(st));
	*created = 1;
	rc = fd_verify_record(st, "model.register", "model", *id, &part, 1, details.s, NULL, err);
out:
	sqlite3_finalize(q);
	if (own) {
		if (rc == FD_OK && *created)
			rc = fd_store_commit(st, err);
		else
			fd_store_rollback(st);
	}
	if (rc)
		*created = 0;
	fd_buf_release(&feats);
	fd_buf_release(&details);
	return rc;
}

int fd_score_promote_model(struct fd_store *st, int64_t id, struct fd_err *err)
{
	static const struct fd_verify_part part = {"models", "id"};
	sqlite3_stmt *q = NULL, *u = NULL;
	int own = !fd_store_in_txn(st), rc, r, found = 0;

	if (own && (rc = fd_store_begin(st, err)))
		return rc;
	if ((rc = fd_store_prepare(st, &q, "SELECT id, promoted FROM models WHERE id = ?1 OR promoted <> 0 ORDER BY id", err)) ||
	    (rc = fd_store_prepare(st, &u, "UPDATE models SET promoted = ?2 WHERE id = ?1", err)))
		goto out;
	sqlite3_bind_int64(q, 1, id);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t mid = sqlite3_column_int64(q, 0);
		int want = mid == id, was = sqlite3_column_int(q, 1) != 0;

		found |= want;
		if (want == was)
			continue;
		sqlite3_reset(u);
		sqlite3_bind_int64(u, 1, mid);
		sqlite3_bind_int(u, 2, want);
		if (sqlite3_step(u) != SQLITE_DONE) {
			rc = fd_store_error(st, "cannot promote the model", err);
			goto out;
		}
		if ((rc = fd_verify_record(st, want ? "model.promote" : "model.demote", "model", mid, &part, 1, NULL, NULL,
					   err)))
			goto out;
	}
	if (r != SQLITE_DONE) {
		rc = fd_store_error(st, "cannot read models", err);
		goto out;
	}
	if (!found)
		rc = fd_err_set(err, FD_EINPUT, "no model %lld in the store", (long long)id);
out:
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	if (own) {
		if (rc == FD_OK)
			rc = fd_store_commit(st, err);
		else
			fd_store_rollback(st);
	}
	return rc;
}

int fd_score_promoted_model(struct fd_store *st, char **path, char version[FD_MODEL_VERSION_LEN + 1],
			    struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc, r;

	*path = NULL;
	version[0] = '\0';
	if ((rc = fd_store_prepare(st, &q, "SELECT path, version FROM models WHERE promoted <> 0 ORDER BY id DESC LIMIT 1",
				   err)))
		return rc;
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(q, 0), *v = (const char *)sqlite3_column_text(q, 1);

		if (p && !(*path = strdup(p)))
			rc = oom(err);
		snprintf(version, FD_MODEL_VERSION_LEN + 1, "%s", v ? v : "");
	} else if (r != SQLITE_DONE)
		rc = fd_store_error(st, "cannot read models", err);
	sqlite3_finalize(q);
	return rc;
}

struct fd_score_store {
	struct fd_store *st;
	const struct fd_rules *r;
	sqlite3_stmt *ins;
	int64_t run_id, started_at, added, already;
	char version[FD_MODEL_VERSION_LEN + 8];
	char *ruleset;
	struct fd_buf rules, reasons;
};

void fd_score_store_free(struct fd_score_store *ss)
{
	if (!ss)
		return;
	sqlite3_finalize(ss->ins);
	fd_buf_release(&ss->rules);
	fd_buf_release(&ss->reasons);
	free(ss->ruleset);
	free(ss);
}

int fd_score_store_begin(struct fd_score_store **out, struct fd_store *st, const char *model_version,
			 const char *ruleset, int64_t started_at, const struct fd_rules *r,
			 struct fd_err *err)
{
	struct fd_score_store *ss;
	sqlite3_stmt *q = NULL;
	int rc;

	*out = NULL;
	if (!fd_store_in_txn(st))
		return fd_err_set(err, FD_EUSAGE, "scores are recorded inside a store transaction");
	if (!(ss = calloc(1, sizeof(*ss))))
		return oom(err);
	ss->st = st;
	ss->r = r;
	ss->started_at = started_at;
	snprintf(ss->version, sizeof(ss->version), "%s", model_version);
	if (ruleset && !(ss->ruleset = strdup(ruleset))) {
		fd_score_store_free(ss);
		return oom(err);
	}
	if ((rc = fd_store_prepare(st, &q, "INSERT INTO score_runs (model_version, ruleset, rows, started_at, actor)"
				   " VALUES (?1, ?2, 0, ?3, ?4)", err)))
		goto fail;
	sqlite3_bind_text(q, 1, ss->version, -1, SQLITE_STATIC);
	if (ruleset)
		sqlite3_bind_text(q, 2, ruleset, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 2);
	sqlite3_bind_int64(q, 3, started_at);
	sqlite3_bind_text(q, 4, fd_store_who(st)->actor, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc = fd_store_error(st, "cannot record the scoring run", err);
		goto fail;
	}
	ss->run_id = sqlite3_last_insert_rowid(fd_store_db(st));
	sqlite3_finalize(q);
	q = NULL;
	if ((rc = fd_store_prepare(st, &ss->ins,
				   "INSERT OR IGNORE INTO scores (run_id, txn_id, model_version, ae_error, ae_score,"
				   " if_score, rule_points, rules, risk, level, decision, confidence, reasons, scored_at)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", err)))
		goto fail;
	sqlite3_bind_int64(ss->ins, 1, ss->run_id);
	sqlite3_bind_text(ss->ins, 3, ss->version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ss->ins, 14, started_at);
	*out = ss;
	return FD_OK;
fail:
	sqlite3_finalize(q);
	fd_score_store_free(ss);
	return rc;
}

static void bind_real(sqlite3_stmt *q, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_double(q, i, v);
}

int fd_score_store_add(struct fd_score_store *ss, const struct fd_score_row *row, struct fd_err *err)
{
	sqlite3_stmt *q = ss->ins;
	size_t k;
	int bad = 0, r;

	fd_buf_reset(&ss->rules);
	fd_buf_reset(&ss->reasons);
	bad |= fd_buf_addc(&ss->rules, '[');
	for (k = 0; k < row->l.nhits && ss->r; k++) {
		const char *id = fd_rules_id(ss->r, row->hits[k].rule);

		bad |= (k && fd_buf_addc(&ss->rules, ',')) || fd_buf_add_json_str(&ss->rules, id, strlen(id));
	}
	bad |= fd_buf_addc(&ss->rules, ']');
	bad |= fd_buf_addc(&ss->reasons, '[');
	for (k = 0; k < row->nreasons; k++)
		bad |= (k && fd_buf_addc(&ss->reasons, ',')) ||
		       fd_buf_add_json_str(&ss->reasons, row->reasons[k], strlen(row->reasons[k]));
	bad |= fd_buf_addc(&ss->reasons, ']');
	if (bad)
		return oom(err);
	sqlite3_bind_text(q, 2, row->txn_id, -1, SQLITE_STATIC);
	bind_real(q, 4, row->l.ae_error);
	bind_real(q, 5, row->l.ae_p);
	bind_real(q, 6, row->l.if_score);
	sqlite3_bind_int(q, 7, row->l.rule_points);
	sqlite3_bind_text(q, 8, ss->rules.s, (int)ss->rules.len, SQLITE_STATIC);
	sqlite3_bind_double(q, 9, row->v.risk);
	sqlite3_bind_text(q, 10, fd_level_name[row->v.level], -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 11, fd_decision_name[row->v.decision], -1, SQLITE_STATIC);
	bind_real(q, 12, row->v.confidence);
	sqlite3_bind_text(q, 13, ss->reasons.s, (int)ss->reasons.len, SQLITE_STATIC);
	r = sqlite3_step(q);
	sqlite3_reset(q);
	if (r != SQLITE_DONE)
		return fd_store_error(ss->st, "cannot record a score", err);
	if (sqlite3_changes(fd_store_db(ss->st)))
		ss->added++;
	else
		ss->already++;
	return FD_OK;
}

int64_t fd_score_store_added(const struct fd_score_store *ss, int64_t *already)
{
	if (already)
		*already = ss->already;
	return ss->added;
}

int fd_score_store_finish(struct fd_score_store *ss, const char *extra_json, int64_t *run_id,
			  int64_t *seq, struct fd_err *err)
{
	static const struct fd_verify_part parts[2] = {{"score_runs", "id"}, {"scores", "run_id"}};
	struct fd_buf d = FD_BUF_INIT;
	sqlite3_stmt *q = NULL;
	int rc, bad = 0;

	*run_id = *seq = 0;
	sqlite3_finalize(ss->ins);
	ss->ins = NULL;
	if (ss->added == 0) {
		if ((rc = fd_store_prepare(ss->st, &q, "DELETE FROM score_runs WHERE id = ?1", err)))
			goto out;
		sqlite3_bind_int64(q, 1, ss->run_id);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = fd_store_error(ss->st, "cannot record the scoring run", err);
		goto out;
	}
	if ((rc = fd_store_prepare(ss->st, &q, "UPDATE score_runs SET rows = ?1 WHERE id = ?2", err)))
		goto out;
	sqlite3_bind_int64(q, 1, ss->added);
	sqlite3_bind_int64(q, 2, ss->run_id);
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc = fd_store_error(ss->st, "cannot record the scoring run", err);
		goto out;
	}
	/* details: the caller's members, then the run's */
	if (extra_json && *extra_json) {
		const char *e = strrchr(extra_json, '}');

		if (extra_json[0] != '{' || !e) {
			rc = fd_err_set(err, FD_EUSAGE, "extra details must be a JSON object");
			goto out;
		}
		bad |= fd_buf_add(&d, extra_json, (size_t)(e - extra_json));
		if (d.len > 1)
			bad |= fd_buf_addc(&d, ',');
	} else
		bad |= fd_buf_addc(&d, '{');
	bad |= fd_buf_adds(&d, "\"model_version\":") || fd_buf_add_json_str(&d, ss->version, strlen(ss->version));
	bad |= fd_buf_adds(&d, ",\"ruleset\":");
	bad |= ss->ruleset ? fd_buf_add_json_str(&d, ss->ruleset, strlen(ss->ruleset)) : fd_buf_adds(&d, "null");
	bad |= fd_buf_addf(&d, ",\"added\":%lld,\"already\":%lld}", (long long)ss->added, (long long)ss->already);
	if (bad) {
		rc = oom(err);
		goto out;
	}
	if ((rc = fd_verify_record(ss->st, "score.run", "score_run", ss->run_id, parts, 2, d.s, seq, err)))
		goto out;
	*run_id = ss->run_id;
out:
	sqlite3_finalize(q);
	fd_buf_release(&d);
	fd_score_store_free(ss);
	return rc;
}
