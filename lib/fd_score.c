/* fd_score.c — see fd_score.h: levels, combining the layers, calibration, stacking, alert
 * thresholds.  The rest of fd_score.h: fd_score_reasons.c (reasons in words), fd_scorer.c (the
 * scorer), fd_score_eval.c (evaluation), fd_score_store.c (models and scores in the store). */
#include "fd_score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fd_score_impl.h"
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

int fd_score_oom(struct fd_err *err)
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

void fd_score_cal_init(const struct fd_model *m, struct fd_score_cal *c)
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

double fd_score_ae_u(const struct fd_score_cal *c, const struct fd_model *m, double e)
{
	double p;

	if (isnan(e) || !m->ecdf)
		return NAN;
	if (c->tail && e > m->thr.ae_high)
		return c->ae_uh + c->ae_a * log10(e / m->thr.ae_high);
	p = fd_model_ae_score(m, e);
	return p >= 1.0 ? c->ae_uh : -log10(1.0 - p);
}

double fd_score_if_u(const struct fd_score_cal *c, double s)
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
	struct fd_score_cal c;

	fd_score_cal_init(m, &c);
	return fd_score_ae_u(&c, m, e);
}

double fd_score_forest_surprise(const struct fd_model *m, double s)
{
	struct fd_score_cal c;

	fd_score_cal_init(m, &c);
	return fd_score_if_u(&c, s);
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
const struct fd_stacker *fd_score_stacker_for(const struct fd_model *m, int rules, int *fitted)
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
	const struct fd_stacker *sk = fd_score_stacker_for(m, rules, &fitted);

	*medium = sk ? sk->risk_medium : m->thr.risk_medium;
	*high = sk ? sk->risk_high : m->thr.risk_high;
}

/* The stacker's inputs for layers l (see STACKING); returns their count. */
size_t fd_score_stack_inputs(const struct fd_model *m, const struct fd_score_layers *l, int rules, double *z)
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
	const struct fd_stacker *sk = fd_score_stacker_for(m, l->rules_present, &fitted);
	double u = 0.0, raw, z[FD_MODEL_MAX_STACK_INPUTS];
	int nu = 0, flag;

	v->layers = v->agree = 0;
	if (sk && fd_score_stack_inputs(m, l, fitted, z) == sk->k) {
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
	struct fd_score_cal c;
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
			return fd_score_oom(err);
		/* a forest whose scores barely vary still needs increasing thresholds */
		if (!(m->thr.if_high > m->thr.if_medium))
			m->thr.if_high = nextafter(m->thr.if_medium, INFINITY);
	}
	if (!(risk = malloc(n * sizeof(*risk))))
		return fd_score_oom(err);
	/* the risk of each validation row, as fd-score will compute it */
	m->thr.risk_medium = m->thr.risk_high = INFINITY;
	fd_score_cal_init(m, &c);
	for (i = 0; i < n; i++) {
		struct fd_score_layers l;
		struct fd_score_verdict v;

		l.ae_error = m->nn && ae_error ? ae_error[i] : NAN;
		l.ae_p = fd_model_ae_score(m, l.ae_error);
		l.ae_u = fd_score_ae_u(&c, m, l.ae_error);
		l.if_score = m->forest && if_score ? if_score[i] : NAN;
		l.if_u = fd_score_if_u(&c, l.if_score);
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
		rc = fd_score_oom(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		double z[FD_MODEL_MAX_STACK_INPUTS];

		k = fd_score_stack_inputs(m, &rows[i], rules, z);
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
		rc = fd_score_oom(err);
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
			return fd_score_oom(err);
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
	const struct fd_stacker *sk = fd_score_stacker_for(m, rules, &fitted);
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
	const struct fd_stacker *sk = fd_score_stacker_for(m, rules, &fitted);
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
