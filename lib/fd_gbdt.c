/* fd_gbdt.c — gradient-boosted trees through the XGBoost C API.  See fd_gbdt.h. */
#include "fd_gbdt.h"

#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

/*
 * The trees, flattened for scoring (see fd_gbdt.h, "Scoring"): every tree's nodes in one
 * array, children as absolute indices, a leaf's value in `value`; mean[] is each node's
 * expected value (the cover-weighted mean of its leaves) for the approximate contributions.
 */
struct flat_node {
	float value;              /* the split threshold (go left when x < value), or the leaf value */
	int32_t left, right;      /* absolute node indices; left -1 for a leaf */
	uint32_t feat;            /* the split feature */
	uint32_t dleft;           /* 1: a missing value goes left */
};

struct fd_gbdt {
	BoosterHandle h;
	size_t nf;
	unsigned rounds;
	struct flat_node *node;   /* all trees' nodes */
	float *mean;              /* each node's expected value */
	size_t *root;             /* each tree's first node */
	size_t ntree, nnode;
	float base_margin;        /* logit(base_score) */
};

static int flatten(struct fd_gbdt *g, struct fd_err *err);

static int oom(struct fd_err *err)
{
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* XGBoost's last error, as an fd error with code. */
static int xgb_fail(struct fd_err *err, int code, const char *what)
{
	const char *m = XGBGetLastError();
	char vis[600];

	/* its message may run over several lines and name its own source file first */
	fd_visible(vis, sizeof(vis), m ? m : "", m ? strlen(m) : 0);
	return fd_err_set(err, code, "XGBoost: %s: %s", what, vis);
}

/* Quiet, once per process: XGBoost writes warnings to stderr otherwise. */
static void quiet(void)
{
	static int done;

	if (!done) {
		XGBSetGlobalConfig("{\"verbosity\":0}");
		done = 1;
	}
}

void fd_gbdt_opts_init(struct fd_gbdt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_rounds = 400;
	o->patience = 30;
	o->max_depth = 4;
	o->scale_pos_weight = 1;
	o->eta = 0.1;
	o->min_child_weight = 1;
	o->threads = 1;
	o->eval_every = 1;
}

void fd_gbdt_free(struct fd_gbdt *g)
{
	if (!g)
		return;
	if (g->h)
		XGBoosterFree(g->h);
	free(g->node);
	free(g->mean);
	free(g->root);
	free(g);
}

size_t fd_gbdt_features(const struct fd_gbdt *g)
{
	return g->nf;
}

unsigned fd_gbdt_rounds(const struct fd_gbdt *g)
{
	return g->rounds;
}

static int set(BoosterHandle h, const char *k, const char *v, struct fd_err *err)
{
	if (XGBoosterSetParam(h, k, v) != 0)
		return xgb_fail(err, FD_EUSAGE, k);
	return FD_OK;
}

static int setf(BoosterHandle h, const char *k, double v, struct fd_err *err)
{
	char b[64];

	snprintf(b, sizeof(b), "%.17g", v);
	return set(h, k, b, err);
}

/* The value after the last ':' of "[3]\tval-aucpr:0.51234". */
static double eval_value(const char *s)
{
	const char *c = s ? strrchr(s, ':') : NULL;
	char *end;
	double v;

	if (!c)
		return NAN;
	v = strtod(c + 1, &end);
	return end == c + 1 ? NAN : v;
}

/* A training matrix, built on `threads` threads (OpenMP's default, every core, leaves the
 * others spinning after each parallel section: a third more CPU for the same trees). */
static int matrix_w(const float *X, const float *y, const float *w, size_t n, size_t nf, int threads,
		    DMatrixHandle *d, struct fd_err *err)
{
	*d = NULL;
	if (XGDMatrixCreateFromMat_omp(X, (bst_ulong)n, (bst_ulong)nf, NAN, d, threads) != 0)
		return xgb_fail(err, FD_EIO, "cannot build the data matrix");
	if (y && XGDMatrixSetFloatInfo(*d, "label", y, (bst_ulong)n) != 0)
		return xgb_fail(err, FD_EIO, "cannot set the labels");
	if (w && XGDMatrixSetFloatInfo(*d, "weight", w, (bst_ulong)n) != 0)
		return xgb_fail(err, FD_EIO, "cannot set the weights");
	return FD_OK;
}

static int matrix(const float *X, const float *y, size_t n, size_t nf, DMatrixHandle *d, struct fd_err *err)
{
	*d = NULL;
	if (XGDMatrixCreateFromMat(X, (bst_ulong)n, (bst_ulong)nf, NAN, d) != 0)
		return xgb_fail(err, FD_EIO, "cannot build the data matrix");
	if (y && XGDMatrixSetFloatInfo(*d, "label", y, (bst_ulong)n) != 0)
		return xgb_fail(err, FD_EIO, "cannot set the labels");
	return FD_OK;
}

int fd_gbdt_train(struct fd_gbdt **out, const float *X, const float *y, size_t n, const float *Xv,
		  const float *yv, size_t nv, size_t nf, const struct fd_gbdt_opts *o,
		  struct fd_gbdt_result *res, struct fd_err *err)
{
	return fd_gbdt_train_weighted(out, X, y, NULL, n, Xv, yv, NULL, nv, nf, o, res, err);
}

/* A weight a row may carry: finite and positive. */
static int weights_ok(const float *w, size_t n, const char *which, struct fd_err *err)
{
	size_t i;

	for (i = 0; w && i < n; i++)
		if (!(isfinite(w[i]) && w[i] > 0.0f))
			return fd_err_set(err, FD_EINPUT, "%s weight %zu is %g, not a finite positive number", which, i,
					  (double)w[i]);
	return FD_OK;
}

int fd_gbdt_train_weighted(struct fd_gbdt **out, const float *X, const float *y, const float *w, size_t n,
			   const float *Xv, const float *yv, const float *wv, size_t nv, size_t nf,
			   const struct fd_gbdt_opts *o, struct fd_gbdt_result *res, struct fd_err *err)
{
	struct fd_gbdt *g = NULL;
	DMatrixHandle dt = NULL, dv = NULL;
	BoosterHandle sliced = NULL;
	size_t i, pos = 0, vpos = 0;
	unsigned r, best = 0, every;
	double wpos = 0, wneg = 0;
	int omp_threads;
	double best_ap = -1, spw;
	char b[32], thr[32];
	int rc;

	*out = NULL;
	memset(res, 0, sizeof(*res));
	res->best_val_ap = NAN;
	quiet();
	if (nf == 0)
		return fd_err_set(err, FD_EINPUT, "no features to learn from");
	if (o->max_rounds < 1 || o->max_rounds > FD_GBDT_MAX_ROUNDS || o->max_depth < 1 || o->max_depth > 20 ||
	    !(o->eta > 0 && o->eta <= 1) || !(o->min_child_weight >= 0) || !(o->scale_pos_weight >= 0) ||
	    o->threads < 1 || o->eval_every < 1 || o->eval_every > FD_GBDT_MAX_ROUNDS)
		return fd_err_set(err, FD_EUSAGE, "bad boosting options");
	if ((rc = weights_ok(w, n, "training", err)) || (rc = weights_ok(wv, nv, "validation", err)))
		return rc;
	every = o->eval_every;
	for (i = 0; i < n; i++) {
		if (y[i] != 0.0f && y[i] != 1.0f)
			return fd_err_set(err, FD_EINPUT, "training label %zu is %g, not 0 or 1", i, (double)y[i]);
		pos += y[i] == 1.0f;
		*(y[i] == 1.0f ? &wpos : &wneg) += w ? w[i] : 1.0;
	}
	for (i = 0; i < nv; i++) {
		if (yv[i] != 0.0f && yv[i] != 1.0f)
			return fd_err_set(err, FD_EINPUT, "validation label %zu is %g, not 0 or 1", i, (double)yv[i]);
		vpos += yv[i] == 1.0f;
	}
	if (pos == 0 || pos == n)
		return fd_err_set(err, FD_EINPUT, "the training rows need both fraud and legitimate labels (%zu of %zu are fraud)",
				  pos, n);
	spw = o->scale_pos_weight > 0 ? o->scale_pos_weight : wneg / wpos;
	res->n_train = n;
	res->pos_train = pos;
	res->n_val = nv;
	res->pos_val = vpos;
	res->scale_pos_weight = spw;
	if (!(g = calloc(1, sizeof(*g))))
		return oom(err);
	g->nf = nf;
	/* some of XGBoost's parallel sections take OpenMP's default (every core), not nthread:
	 * the idle threads then spin after each one (a third more CPU for the same trees) */
	omp_threads = omp_get_max_threads();
	omp_set_num_threads(o->threads);
	if ((rc = matrix_w(X, y, w, n, nf, o->threads, &dt, err)) ||
	    (nv && (rc = matrix_w(Xv, yv, wv, nv, nf, o->threads, &dv, err))))
		goto out;
	if (XGBoosterCreate(&dt, 1, &g->h) != 0) {
		rc = xgb_fail(err, FD_EIO, "cannot create the booster");
		goto out;
	}
	snprintf(thr, sizeof(thr), "%d", o->threads);
	if ((rc = set(g->h, "verbosity", "0", err)) || (rc = set(g->h, "nthread", thr, err)) ||
	    (rc = set(g->h, "objective", "binary:logistic", err)) || (rc = set(g->h, "tree_method", "hist", err)) ||
	    (rc = set(g->h, "eval_metric", "aucpr", err)) || (rc = setf(g->h, "eta", o->eta, err)) ||
	    (rc = setf(g->h, "max_depth", o->max_depth, err)) ||
	    (rc = setf(g->h, "min_child_weight", o->min_child_weight, err)) ||
	    (rc = setf(g->h, "scale_pos_weight", spw, err)))
		goto out;
	snprintf(b, sizeof(b), "%llu", (unsigned long long)(o->seed & 0x7fffffffffffffffULL));
	if ((rc = set(g->h, "seed", b, err)))
		goto out;
	for (r = 0; r < o->max_rounds; r++) {
		const char *names[1] = {"val"}, *s = NULL;
		double ap;

		if (XGBoosterUpdateOneIter(g->h, (int)r, dt) != 0) {
			rc = xgb_fail(err, FD_EIO, "boosting failed");
			goto out;
		}
		res->rounds = r + 1;
		/* measured every `every` rounds and at the last */
		if (!nv || ((r + 1) % every != 0 && r + 1 != o->max_rounds))
			continue;
		if (XGBoosterEvalOneIter(g->h, (int)r, &dv, names, 1, &s) != 0) {
			rc = xgb_fail(err, FD_EIO, "validation failed");
			goto out;
		}
		ap = eval_value(s);
		if (ap > best_ap) {
			best_ap = ap;
			best = r + 1;
		} else if (o->patience && r + 1 - best >= o->patience)
			break;
	}
	if (!nv) {
		best = res->rounds;
	} else {
		res->best_val_ap = best_ap;
		if (best < res->rounds) {
			if (XGBoosterSlice(g->h, 0, (int)best, 1, &sliced) != 0) {
				rc = xgb_fail(err, FD_EIO, "cannot keep the best rounds");
				goto out;
			}
			XGBoosterFree(g->h);
			g->h = sliced;
			if ((rc = set(g->h, "nthread", thr, err)))
				goto out;
		}
	}
	res->best_rounds = g->rounds = best;
	rc = flatten(g, err);
out:
	if (dt)
		XGDMatrixFree(dt);
	if (dv)
		XGDMatrixFree(dv);
	omp_set_num_threads(omp_threads);
	if (rc)
		fd_gbdt_free(g);
	else
		*out = g;
	return rc;
}

/* ---- the flattened trees ---------------------------------------------------------------- */

/* An array member of a tree as numbers: NULL unless an array of n numbers. */
static json_t *num_array(json_t *tree, const char *key, size_t n)
{
	json_t *a = json_object_get(tree, key);
	size_t i;

	if (!json_is_array(a) || json_array_size(a) != n)
		return NULL;
	for (i = 0; i < n; i++)
		if (!json_is_number(json_array_get(a, i)))
			return NULL;
	return a;
}

/*
 * Read the booster's trees from its JSON form into g->node, g->mean and g->root.  FD_EINPUT
 * when the booster is not plain numerical gbtree splits over g->nf features.
 */
static int flatten(struct fd_gbdt *g, struct fd_err *err)
{
	static const char bad[] = "boosted trees of a kind fd cannot score (not numerical gbtree splits)";
	bst_ulong len;
	const char *p;
	json_t *j = NULL, *trees, *model, *name, *base;
	size_t t, i, total = 0, at = 0;
	int rc = FD_OK;

	if (XGBoosterSaveModelToBuffer(g->h, "{\"format\":\"json\"}", &len, &p) != 0)
		return xgb_fail(err, FD_EIO, "cannot read the trees");
	if (!(j = json_loadb(p, (size_t)len, 0, NULL)))
		return fd_err_set(err, FD_EINPUT, "%s", bad);
	model = json_object_get(json_object_get(json_object_get(j, "learner"), "gradient_booster"), "model");
	name = json_object_get(json_object_get(json_object_get(j, "learner"), "gradient_booster"), "name");
	base = json_object_get(json_object_get(json_object_get(j, "learner"), "learner_model_param"), "base_score");
	trees = json_object_get(model, "trees");
	if (!json_is_string(name) || strcmp(json_string_value(name), "gbtree") != 0 || !json_is_array(trees) ||
	    json_array_size(trees) == 0 || !json_is_string(base)) {
		rc = fd_err_set(err, FD_EINPUT, "%s", bad);
		goto out;
	}
	{
		char *end;
		double b = strtod(json_string_value(base), &end);

		if (*end || !(b > 0 && b < 1)) {
			rc = fd_err_set(err, FD_EINPUT, "%s", bad);
			goto out;
		}
		/* XGBoost's ProbToMargin for binary:logistic, in float as it computes it */
		g->base_margin = -logf(1.0f / (float)b - 1.0f);
	}
	g->ntree = json_array_size(trees);
	for (t = 0; t < g->ntree; t++) {
		json_t *l = json_object_get(json_array_get(trees, t), "left_children");

		if (!json_is_array(l) || json_array_size(l) == 0 || json_array_size(l) > INT32_MAX - total) {
			rc = fd_err_set(err, FD_EINPUT, "%s", bad);
			goto out;
		}
		total += json_array_size(l);
	}
	g->nnode = total;
	if (!(g->node = calloc(total, sizeof(*g->node))) || !(g->mean = calloc(total, sizeof(*g->mean))) ||
	    !(g->root = calloc(g->ntree, sizeof(*g->root)))) {
		rc = oom(err);
		goto out;
	}
	for (t = 0; t < g->ntree; t++) {
		json_t *tr = json_array_get(trees, t);
		size_t n = json_array_size(json_object_get(tr, "left_children"));
		json_t *L = num_array(tr, "left_children", n), *R = num_array(tr, "right_children", n),
		       *F = num_array(tr, "split_indices", n), *C = num_array(tr, "split_conditions", n),
		       *D = num_array(tr, "default_left", n), *H = num_array(tr, "sum_hessian", n),
		       *S = num_array(tr, "split_type", n);

		if (!L || !R || !F || !C || !D || !H) {
			rc = fd_err_set(err, FD_EINPUT, "%s", bad);
			goto out;
		}
		g->root[t] = at;
		for (i = 0; i < n; i++) {
			struct flat_node *nd = &g->node[at + i];
			json_int_t l = json_integer_value(json_array_get(L, i)), r = json_integer_value(json_array_get(R, i)),
				   f = json_integer_value(json_array_get(F, i));

			nd->value = (float)json_number_value(json_array_get(C, i));
			if (l == -1) {
				nd->left = nd->right = -1;
				continue;
			}
			/* children come after their parent in XGBoost's trees; the means rely on it */
			if (l <= (json_int_t)i || r <= (json_int_t)i || l >= (json_int_t)n || r >= (json_int_t)n || f < 0 ||
			    (size_t)f >= g->nf || (S && json_integer_value(json_array_get(S, i)) != 0)) {
				rc = fd_err_set(err, FD_EINPUT, "%s", bad);
				goto out;
			}
			nd->left = (int32_t)(at + (size_t)l);
			nd->right = (int32_t)(at + (size_t)r);
			nd->feat = (uint32_t)f;
			nd->dleft = json_integer_value(json_array_get(D, i)) != 0;
		}
		/* expected values, leaves up (XGBoost's FillNodeMeanValue, in float) */
		for (i = n; i-- > 0;) {
			struct flat_node *nd = &g->node[at + i];

			if (nd->left < 0) {
				g->mean[at + i] = nd->value;
			} else {
				size_t a = (size_t)nd->left - at, b = (size_t)nd->right - at;
				float res = g->mean[nd->left] * (float)json_number_value(json_array_get(H, a));

				res += g->mean[nd->right] * (float)json_number_value(json_array_get(H, b));
				res /= (float)json_number_value(json_array_get(H, i));
				g->mean[at + i] = res;
			}
		}
		at += n;
	}
out:
	json_decref(j);
	if (rc) {
		free(g->node);
		free(g->mean);
		free(g->root);
		g->node = NULL;
		g->mean = NULL;
		g->root = NULL;
		g->ntree = g->nnode = 0;
	}
	return rc;
}

/* The leaf a row reaches in the tree from node k.  Without branches on the data (a right
 * child is its left sibling + 1? not in XGBoost: both indices are kept), so that the rows of
 * a block walk the same tree side by side. */
static inline size_t leaf_of(const struct flat_node *node, size_t k, const float *x)
{
	while (node[k].left >= 0) {
		const struct flat_node *nd = &node[k];
		float v = x[nd->feat];
		int go_left = v != v ? (int)nd->dleft : v < nd->value;
		int32_t next = go_left ? nd->left : nd->right;

		k = (size_t)next;
	}
	return k;
}

/* Rows scored per pass over the trees: their features stay in cache while every tree is walked. */
#define FLAT_BLOCK 64

int fd_gbdt_predict(const struct fd_gbdt *g, const float *X, size_t n, float *prob, struct fd_err *err)
{
	size_t i0, i, t;

	(void)err;
	for (i0 = 0; i0 < n; i0 += FLAT_BLOCK) {
		size_t m = n - i0 < FLAT_BLOCK ? n - i0 : FLAT_BLOCK;
		float margin[FLAT_BLOCK];

		for (i = 0; i < m; i++)
			margin[i] = g->base_margin;
		for (t = 0; t < g->ntree; t++)
			for (i = 0; i < m; i++)
				margin[i] += g->node[leaf_of(g->node, g->root[t], X + (i0 + i) * g->nf)].value;
		for (i = 0; i < m; i++)
			prob[i0 + i] = 1.0f / (1.0f + expf(-margin[i]));
	}
	return FD_OK;
}

/* Path attribution of one row (XGBoost's CalculateContributionsApprox): c[0 .. nf]. */
static void contrib_approx(const struct fd_gbdt *g, const float *x, float *c)
{
	size_t t, j;

	for (j = 0; j <= g->nf; j++)
		c[j] = 0;
	for (t = 0; t < g->ntree; t++) {
		size_t k = g->root[t];
		float v = g->mean[k];

		c[g->nf] += v;
		while (g->node[k].left >= 0) {
			const struct flat_node *nd = &g->node[k];
			float xv = x[nd->feat];

			k = isnan(xv) ? (size_t)(nd->dleft ? nd->left : nd->right)
				      : (size_t)(xv < nd->value ? nd->left : nd->right);
			c[nd->feat] += g->mean[k] - v;
			v = g->mean[k];
		}
	}
	c[g->nf] += g->base_margin;
}

/* XGBoost's own in-place prediction (type 0, probability): the tests' independent reference. */
int fd_gbdt_predict_xgb(const struct fd_gbdt *g, const float *X, size_t n, float *prob, struct fd_err *err)
{
	static const char cfg[] = "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
				  "\"strict_shape\":false,\"missing\":NaN,\"cache_id\":0}";
	char arr[160];
	const bst_ulong *shape;
	bst_ulong dim;
	const float *res;

	if (n == 0)
		return FD_OK;
	snprintf(arr, sizeof(arr), "{\"data\":[%llu,true],\"shape\":[%zu,%zu],\"typestr\":\"<f4\",\"version\":3}",
		 (unsigned long long)(uintptr_t)X, n, g->nf);
	if (XGBoosterPredictFromDense(g->h, arr, cfg, NULL, &shape, &dim, &res) != 0)
		return xgb_fail(err, FD_EIO, "prediction failed");
	memcpy(prob, res, n * sizeof(*prob));
	return FD_OK;
}

int fd_gbdt_contrib_xgb(const struct fd_gbdt *g, const float *X, size_t n, int exact, float *contrib,
			struct fd_err *err)
{
	static const char cfg_exact[] = "{\"type\":2,\"training\":false,\"iteration_begin\":0,"
					"\"iteration_end\":0,\"strict_shape\":false}";
	static const char cfg_approx[] = "{\"type\":3,\"training\":false,\"iteration_begin\":0,"
					 "\"iteration_end\":0,\"strict_shape\":false}";
	const char *cfg = exact ? cfg_exact : cfg_approx;
	DMatrixHandle d = NULL;
	const bst_ulong *shape;
	bst_ulong dim;
	const float *res;
	int rc;

	if (n == 0)
		return FD_OK;
	if ((rc = matrix(X, NULL, n, g->nf, &d, err)))
		goto out;
	if (XGBoosterPredictFromDMatrix(g->h, d, cfg, &shape, &dim, &res) != 0) {
		rc = xgb_fail(err, FD_EIO, "contributions failed");
		goto out;
	}
	if (dim != 2 || shape[0] != n || shape[1] != g->nf + 1) {
		rc = fd_err_set(err, FD_EIO, "XGBoost: contributions of an unexpected shape");
		goto out;
	}
	memcpy(contrib, res, n * (g->nf + 1) * sizeof(*contrib));
out:
	if (d)
		XGDMatrixFree(d);
	return rc;
}

int fd_gbdt_contrib(const struct fd_gbdt *g, const float *X, size_t n, int exact, float *contrib,
		    struct fd_err *err)
{
	size_t i;

	if (exact)
		return fd_gbdt_contrib_xgb(g, X, n, 1, contrib, err);
	for (i = 0; i < n; i++)
		contrib_approx(g, X + i * g->nf, contrib + i * (g->nf + 1));
	return FD_OK;
}

int fd_gbdt_importance(const struct fd_gbdt *g, double *gain, struct fd_err *err)
{
	bst_ulong nfeat, dim;
	const char **names;
	const bst_ulong *shape;
	const float *scores;
	size_t i;

	for (i = 0; i < g->nf; i++)
		gain[i] = 0;
	if (XGBoosterFeatureScore(g->h, "{\"importance_type\":\"total_gain\"}", &nfeat, &names, &dim, &shape,
				  &scores) != 0)
		return xgb_fail(err, FD_EIO, "feature importance failed");
	/* features are named f0, f1, ... (no names were given) and listed only when used */
	for (i = 0; i < nfeat; i++) {
		char *end;
		unsigned long k;

		if (names[i][0] != 'f')
			continue;
		k = strtoul(names[i] + 1, &end, 10);
		if (*end == '\0' && end != names[i] + 1 && k < g->nf)
			gain[k] = scores[i];
	}
	return FD_OK;
}

int fd_gbdt_save(const struct fd_gbdt *g, struct fd_buf *out, struct fd_err *err)
{
	bst_ulong len;
	const char *p;

	if (XGBoosterSaveModelToBuffer(g->h, "{\"format\":\"ubj\"}", &len, &p) != 0)
		return xgb_fail(err, FD_EIO, "cannot save the booster");
	if (fd_buf_add(out, p, (size_t)len))
		return oom(err);
	return FD_OK;
}

/* The objective name of a loaded booster, from its JSON configuration. */
static int objective_ok(BoosterHandle h)
{
	bst_ulong len;
	const char *cfg;
	json_t *j;
	const char *name = NULL;
	int ok;

	if (XGBoosterSaveJsonConfig(h, &len, &cfg) != 0)
		return 0;
	if (!(j = json_loadb(cfg, (size_t)len, 0, NULL)))
		return 0;
	json_unpack(j, "{s:{s:{s:s}}}", "learner", "objective", "name", &name);
	ok = name && strcmp(name, "binary:logistic") == 0;
	json_decref(j);
	return ok;
}

int fd_gbdt_load(struct fd_gbdt **out, const void *p, size_t n, size_t nf, struct fd_err *err)
{
	struct fd_gbdt *g;
	bst_ulong got;
	int rounds, rc;

	*out = NULL;
	quiet();
	if (!(g = calloc(1, sizeof(*g))))
		return oom(err);
	g->nf = nf;
	if (XGBoosterCreate(NULL, 0, &g->h) != 0) {
		fd_gbdt_free(g);
		return xgb_fail(err, FD_EIO, "cannot create the booster");
	}
	if (XGBoosterLoadModelFromBuffer(g->h, p, (bst_ulong)n) != 0) {
		fd_gbdt_free(g);
		return xgb_fail(err, FD_EINPUT, "cannot read the boosted trees");
	}
	if (XGBoosterGetNumFeature(g->h, &got) != 0 || got != nf || XGBoosterBoostedRounds(g->h, &rounds) != 0 ||
	    rounds < 1 || !objective_ok(g->h)) {
		fd_gbdt_free(g);
		return fd_err_set(err, FD_EINPUT, "boosted trees that are not a fraud classifier over the model's %zu features", nf);
	}
	XGBoosterSetParam(g->h, "nthread", "1");
	XGBoosterSetParam(g->h, "verbosity", "0");
	g->rounds = (unsigned)rounds;
	if ((rc = flatten(g, err))) {
		fd_gbdt_free(g);
		return rc;
	}
	*out = g;
	return FD_OK;
}
