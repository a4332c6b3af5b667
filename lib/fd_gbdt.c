/* fd_gbdt.c — gradient-boosted trees through the XGBoost C API.  See fd_gbdt.h. */
#include "fd_gbdt.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FD_GBDT_AVX2 1
#endif

#include "banned.h"

/*
 * The trees, flattened for scoring (see fd_gbdt.h, "Scoring").
 *
 * Rows are walked as keys, not floats: each value becomes a uint32 that orders as the floats
 * do (key_of), twice, once with a missing value below every threshold (key 0, for splits
 * that send it left) and once above (UINT32_MAX, for those that send it right), so that a
 * step is one unsigned compare: right when the key is >= the threshold's.  The keys of
 * FLAT_LANES rows are interleaved (key i of row r at i x FLAT_LANES + r), and a split holds
 * its key's offset in that layout, so that the rows of a group walk a tree side by side from
 * one base address, each step computed, not branched on.
 *
 * Every tree's nodes are in node[], renumbered breadth first so that a split's right child is
 * its left child + 1; a leaf steps to itself (its left is its own index - 1, its threshold
 * key 0), so that every row of a group can take the same number of steps, the tree's depth,
 * whatever its path.  mean[] is each node's expected value (the cover-weighted mean of its
 * leaves) for the approximate contributions.
 *
 * Predictions and contributions walk a second form where a tree is at most FLAT_PAD_DEPTH
 * deep (any tree fd trains): the tree padded to a complete one of its depth D, a leaf above
 * the bottom standing for all the leaves below it, with its 2^D - 1 splits in heap order (the
 * children of split i are 2i + 1 and 2i + 2, so a step loads no child index), its 2^D leaf
 * values, and the expected values of all its positions.  Deeper trees are walked in node[].
 */
struct flat_node {
	uint32_t thr;             /* the split threshold's key (go left when below); a leaf: 0 */
	uint32_t key;             /* the offset of the key a split reads: (2 x feature + 1 when a
				     missing value goes right) x FLAT_LANES; 0 at a leaf */
	int32_t left;             /* absolute index of the left child, the right one is left + 1;
				     a leaf: its own index - 1 (a split's children follow it) */
	float value;              /* a leaf's value (0 for a split) */
};

struct heap_split {
	uint32_t key, thr;        /* as in struct flat_node; a padding split: 0, 0 (goes right) */
};

/* A step of a padded tree's path to a leaf, for the approximate contributions: the split's
 * feature (nf + 1 for a padding split) and the change of the expected value below it, as
 * contrib_tree computes it (the child's mean less the split's, in float). */
struct path_step {
	uint32_t f;
	float delta;
};

/* Padded trees up to this depth get paths (and are walked with AVX2 where the CPU has it;
 * deeper ones, 2^depth - 1 compares a group, take the portable walk). */
#define SIMD_DEPTH 6

#define FLAT_LANES 8
#define FLAT_PAD_DEPTH 10
/* floats readable past the last padded tree's leaves (the AVX2 walk loads 8 or 16 at once) */
#define FLAT_LEAF_SLACK 16

struct fd_gbdt {
	BoosterHandle h;
	size_t nf;
	unsigned rounds;
	struct flat_node *node;   /* all trees' nodes */
	float *mean;              /* each node's expected value */
	size_t *root;             /* each tree's first node */
	unsigned *depth;          /* each tree's depth (steps from its root to its deepest leaf) */
	size_t ntree, nnode;
	struct heap_split *hsplit; /* the padded trees' splits */
	float *hleaf;             /* their leaves */
	uint32_t *hfeat;          /* each padded split's feature; nf + 1 for a padding split */
	float *hmean;             /* each heap position's expected value, splits then leaves:
				     tree t's from hroot[2t] + hroot[2t + 1] */
	size_t *hroot;            /* tree t's first split and first leaf; SIZE_MAX: not padded */
	struct path_step *hpath;  /* padded trees up to SIMD_DEPTH deep: each leaf's path */
	size_t *hpoff;            /* tree t's paths from hpath[hpoff[t]], leaf p's D steps at
				     + p x D; SIZE_MAX: none */
	float base_margin;        /* logit(base_score) */
};

static int flatten(struct fd_gbdt *g, const void *ubj, size_t ubj_len, struct fd_err *err);

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
	free(g->depth);
	free(g->hsplit);
	free(g->hleaf);
	free(g->hfeat);
	free(g->hmean);
	free(g->hroot);
	free(g->hpath);
	free(g->hpoff);
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
	rc = flatten(g, NULL, 0, err);
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

/*
 * The key of a value that is not missing: its bits as a uint32, the sign bit set for a
 * positive value and every bit flipped for a negative one, so that keys order as the floats
 * do; -0 as +0 (they compare equal).  The infinities are keys like the others; the missing
 * keys 0 and UINT32_MAX lie beyond them.
 */
static inline uint32_t key_of(float v)
{
	uint32_t b;

	memcpy(&b, &v, sizeof(b));
	if (b == 0x80000000u)
		b = 0;
	return b & 0x80000000u ? ~b : b | 0x80000000u;
}

/* Row x's keys into lane k of a group (see struct flat_node): feature j's with a missing
 * value below every threshold at k[2j x FLAT_LANES], above at k[(2j + 1) x FLAT_LANES]. */
static void keys_of(const float *x, size_t nf, uint32_t *k)
{
	size_t j;

	for (j = 0; j < nf; j++) {
		uint32_t v = key_of(x[j]);
		int miss = x[j] != x[j];

		k[2 * j * FLAT_LANES] = miss ? 0 : v;
		k[(2 * j + 1) * FLAT_LANES] = miss ? UINT32_MAX : v;
	}
}

/* The padded, heap-ordered form of the trees no deeper than FLAT_PAD_DEPTH (see struct
 * flat_node) from node[]. */
static int pad(struct fd_gbdt *g, struct fd_err *err)
{
	size_t t, p, ns = 0, nl = 0, *src = NULL;
	int rc = FD_OK;

	if (!(g->hroot = malloc(2 * g->ntree * sizeof(*g->hroot))))
		return oom(err);
	for (t = 0; t < g->ntree; t++) {
		if (g->depth[t] > FLAT_PAD_DEPTH) {
			g->hroot[2 * t] = g->hroot[2 * t + 1] = SIZE_MAX;
			continue;
		}
		g->hroot[2 * t] = ns;
		g->hroot[2 * t + 1] = nl;
		ns += ((size_t)1 << g->depth[t]) - 1;
		nl += (size_t)1 << g->depth[t];
	}
	if (!(g->hsplit = malloc((ns ? ns : 1) * sizeof(*g->hsplit))) ||
	    !(g->hleaf = calloc(nl + FLAT_LEAF_SLACK, sizeof(*g->hleaf))) ||
	    !(g->hfeat = malloc((ns ? ns : 1) * sizeof(*g->hfeat))) ||
	    !(g->hmean = malloc((ns + nl ? ns + nl : 1) * sizeof(*g->hmean))) ||
	    !(src = malloc(((size_t)2 << FLAT_PAD_DEPTH) * sizeof(*src)))) {
		rc = oom(err);
		goto out;
	}
	for (t = 0; t < g->ntree; t++) {
		size_t nsp = ((size_t)1 << g->depth[t]) - 1;
		struct heap_split *hs = g->hsplit + g->hroot[2 * t];
		uint32_t *hf = g->hfeat + g->hroot[2 * t];
		float *hm = g->hmean + g->hroot[2 * t] + g->hroot[2 * t + 1];

		if (g->hroot[2 * t] == SIZE_MAX)
			continue;
		/* src[p]: the node of node[] heap position p stands for; a leaf above the
		 * bottom stands for both its children */
		src[0] = g->root[t];
		for (p = 0; p < nsp; p++) {
			const struct flat_node *nd = &g->node[src[p]];
			int leaf = nd->left < (int32_t)src[p];

			hs[p].key = leaf ? 0 : nd->key;
			hs[p].thr = leaf ? 0 : nd->thr;
			hf[p] = leaf ? (uint32_t)g->nf + 1 : nd->key / (2 * FLAT_LANES);
			src[2 * p + 1] = leaf ? src[p] : (size_t)nd->left;
			src[2 * p + 2] = leaf ? src[p] : (size_t)nd->left + 1;
		}
		for (p = 0; p <= nsp; p++)
			g->hleaf[g->hroot[2 * t + 1] + p] = g->node[src[nsp + p]].value;
		for (p = 0; p <= 2 * nsp; p++)
			hm[p] = g->mean[src[p]];
	}
out:
	free(src);
	return rc;
}

/* Each leaf's path in the padded trees up to SIMD_DEPTH deep (g->hpath), from pad()'s forms. */
static int paths(struct fd_gbdt *g, struct fd_err *err)
{
	size_t t, total = 0, p;
	unsigned d;

	if (!(g->hpoff = malloc(g->ntree * sizeof(*g->hpoff))))
		return oom(err);
	for (t = 0; t < g->ntree; t++) {
		if (g->hroot[2 * t] == SIZE_MAX || g->depth[t] > SIMD_DEPTH) {
			g->hpoff[t] = SIZE_MAX;
			continue;
		}
		g->hpoff[t] = total;
		total += ((size_t)g->depth[t]) << g->depth[t];
	}
	if (!(g->hpath = malloc((total ? total : 1) * sizeof(*g->hpath))))
		return oom(err);
	for (t = 0; t < g->ntree; t++) {
		const unsigned D = g->depth[t];
		const uint32_t *hf = g->hfeat + g->hroot[2 * t];
		const float *hm = g->hmean + g->hroot[2 * t] + g->hroot[2 * t + 1];

		if (g->hpoff[t] == SIZE_MAX)
			continue;
		for (p = 0; p < ((size_t)1 << D); p++) {
			struct path_step *ps = g->hpath + g->hpoff[t] + p * D;

			/* the split at level d is heap position 2^d - 1 + (p >> (D - d)) */
			for (d = 0; d < D; d++) {
				size_t k = ((size_t)1 << d) - 1 + (p >> (D - d));
				size_t kn = ((size_t)2 << d) - 1 + (p >> (D - d - 1));

				ps[d].f = hf[k];
				ps[d].delta = hm[kn] - hm[k];
			}
		}
	}
	return FD_OK;
}

/*
 * Reading the trees.  The flattening needs, per tree, seven arrays in XGBoost's numbering
 * (children, split feature, condition, default direction, hessian sums, split type).  They
 * are read from the model's UBJSON (the bytes fd_gbdt_save writes and fd_gbdt_load gets) as
 * they lie, big-endian typed arrays, without building an object per node: parsing the JSON
 * form with jansson took 0.2 G instructions per start with 272 trees, more than fd-score
 * spent on its first 15,000 rows.  Should XGBoost ever write a layout this reader does not
 * know, the JSON form is read instead (slower, same trees).
 */
struct ubj {
	const unsigned char *p, *end;
};

/* A typed array's elements: type t, n of them, big-endian at b. */
struct ubj_arr {
	unsigned char t;
	size_t n;
	const unsigned char *b;
};

/* Bytes of a number of UBJSON type t; 0: not a fixed-size number. */
static size_t ubj_width(unsigned char t)
{
	switch (t) {
	case 'i': case 'U': return 1;
	case 'I': return 2;
	case 'l': case 'd': return 4;
	case 'L': case 'D': return 8;
	default: return 0;
	}
}

static int ubj_byte(struct ubj *u, unsigned char *c)
{
	if (u->p >= u->end)
		return -1;
	*c = *u->p++;
	return 0;
}

static int ubj_take(struct ubj *u, size_t n, const unsigned char **at)
{
	if ((size_t)(u->end - u->p) < n)
		return -1;
	*at = u->p;
	u->p += n;
	return 0;
}

/* The integer of type t (1, 2, 4 or 8 bytes, big-endian; 'U' unsigned) at b. */
static int64_t ubj_int_at(unsigned char t, const unsigned char *b)
{
	uint64_t v = 0;
	size_t i, w = ubj_width(t);

	for (i = 0; i < w; i++)
		v = v << 8 | b[i];
	switch (t) {
	case 'i': return (int8_t)v;
	case 'U': return (uint8_t)v;
	case 'I': return (int16_t)v;
	case 'l': return (int32_t)v;
	default: return (int64_t)v;
	}
}

/* The number of type t at b as a double (floats as they are). */
static double ubj_num_at(unsigned char t, const unsigned char *b)
{
	uint32_t v32;
	uint64_t v64;
	float f;
	double d;

	if (t == 'd') {
		v32 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		memcpy(&f, &v32, sizeof(f));
		return f;
	}
	if (t == 'D') {
		v64 = (uint64_t)ubj_int_at('L', b);
		memcpy(&d, &v64, sizeof(d));
		return d;
	}
	return (double)ubj_int_at(t, b);
}

static int ubj_is_int(unsigned char t)
{
	return t == 'i' || t == 'U' || t == 'I' || t == 'l' || t == 'L';
}

/* A count or length: an integer type marker and a value from 0 to what is left. */
static int ubj_count(struct ubj *u, size_t *n)
{
	unsigned char t;
	const unsigned char *b;
	int64_t v;

	if (ubj_byte(u, &t) || !ubj_is_int(t) || ubj_take(u, ubj_width(t), &b))
		return -1;
	v = ubj_int_at(t, b);
	if (v < 0 || (uint64_t)v > (uint64_t)(u->end - u->p) + ((uint64_t)1 << 20))
		return -1;  /* more elements than bytes (a typed array of nothing-size is not written) */
	*n = (size_t)v;
	return 0;
}

/* Skip a value of type t (its marker read), containers at most `depth` deep. */
static int ubj_skip(struct ubj *u, unsigned char t, int depth)
{
	const unsigned char *b;
	unsigned char c;
	size_t n, i, w;

	if (depth <= 0)
		return -1;
	if ((w = ubj_width(t)))
		return ubj_take(u, w, &b);
	switch (t) {
	case 'T': case 'F': case 'Z': case 'N':
		return 0;
	case 'C':
		return ubj_take(u, 1, &b);
	case 'S': case 'H':
		return ubj_count(u, &n) || ubj_take(u, n, &b);
	case '[':
		if (u->p < u->end && *u->p == '$') {
			u->p++;
			if (ubj_byte(u, &c) || ubj_byte(u, &t) || t != '#' || ubj_count(u, &n))
				return -1;
			if ((w = ubj_width(c)))
				return n > (size_t)(u->end - u->p) / w ? -1 : ubj_take(u, n * w, &b);
			for (i = 0; i < n; i++)
				if (ubj_skip(u, c, depth - 1))
					return -1;
			return 0;
		}
		if (u->p < u->end && *u->p == '#') {
			u->p++;
			if (ubj_count(u, &n))
				return -1;
			for (i = 0; i < n; i++)
				if (ubj_byte(u, &c) || ubj_skip(u, c, depth - 1))
					return -1;
			return 0;
		}
		for (;;) {
			if (ubj_byte(u, &c))
				return -1;
			if (c == ']')
				return 0;
			if (ubj_skip(u, c, depth - 1))
				return -1;
		}
	case '{':
		for (;;) {
			if (u->p >= u->end || *u->p == '$' || *u->p == '#')
				return -1;  /* XGBoost writes plain objects only */
			if (*u->p == '}') {
				u->p++;
				return 0;
			}
			if (ubj_count(u, &n) || ubj_take(u, n, &b) || ubj_byte(u, &c) || ubj_skip(u, c, depth - 1))
				return -1;
		}
	default:
		return -1;
	}
}

#define UBJ_DEPTH 64

/*
 * In the plain object whose members start at o (after its '{'), the value of key: *v left
 * after the value's type marker, which goes to *t.  -1 when absent or unreadable.
 */
static int ubj_find(struct ubj o, const char *key, struct ubj *v, unsigned char *t)
{
	const size_t kl = strlen(key);
	const unsigned char *b;
	size_t n;

	for (;;) {
		if (o.p >= o.end || *o.p == '}' || *o.p == '$' || *o.p == '#')
			return -1;
		if (ubj_count(&o, &n) || ubj_take(&o, n, &b) || ubj_byte(&o, t))
			return -1;
		if (n == kl && memcmp(b, key, kl) == 0) {
			*v = o;
			return 0;
		}
		if (ubj_skip(&o, *t, UBJ_DEPTH))
			return -1;
	}
}

/* The object at path (keys, NULL-terminated) from the object whose members start at o. */
static int ubj_object(struct ubj o, const char *const *path, struct ubj *out)
{
	unsigned char t;

	for (; *path; path++)
		if (ubj_find(o, *path, &o, &t) || t != '{')
			return -1;
	*out = o;
	return 0;
}

/* The string value of key in object o, NUL-terminated into buf (of size bs). */
static int ubj_string(struct ubj o, const char *key, char *buf, size_t bs)
{
	struct ubj v;
	unsigned char t;
	const unsigned char *b;
	size_t n;

	if (ubj_find(o, key, &v, &t) || t != 'S' || ubj_count(&v, &n) || n >= bs || ubj_take(&v, n, &b))
		return -1;
	memcpy(buf, b, n);
	buf[n] = '\0';
	return 0;
}

/* The typed numeric array value of key in object o. */
static int ubj_typed(struct ubj o, const char *key, struct ubj_arr *a)
{
	struct ubj v;
	unsigned char t;
	size_t w;

	if (ubj_find(o, key, &v, &t) || t != '[' || ubj_byte(&v, &t) || t != '$' || ubj_byte(&v, &a->t) ||
	    !(w = ubj_width(a->t)) || ubj_byte(&v, &t) || t != '#' || ubj_count(&v, &a->n) ||
	    a->n > (size_t)(v.end - v.p) / w || ubj_take(&v, a->n * w, &a->b))
		return -1;
	return 0;
}

/* A tree's arrays, from either reader: j (borrowed from the JSON document) when not NULL,
 * else a. */
enum { C_LEFT, C_RIGHT, C_FEAT, C_COND, C_DEFL, C_HESS, C_STYPE, C_N };
static const char *const col_key[C_N] = {
	"left_children", "right_children", "split_indices", "split_conditions", "default_left",
	"sum_hessian", "split_type",
};
struct col {
	json_t *j;
	struct ubj_arr a;
	int present;
};

static int64_t col_int(const struct col *c, size_t i)
{
	return c->j ? json_integer_value(json_array_get(c->j, i)) : ubj_int_at(c->a.t, c->a.b + i * ubj_width(c->a.t));
}

static double col_num(const struct col *c, size_t i)
{
	return c->j ? json_number_value(json_array_get(c->j, i)) : ubj_num_at(c->a.t, c->a.b + i * ubj_width(c->a.t));
}

/* What flatten needs from a model, read by either reader. */
struct src {
	char name[32], base[64];
	size_t ntree;
	struct col (*cols)[C_N];  /* ntree x C_N; C_STYPE may be absent */
	json_t *doc;              /* the JSON reader's document */
};

static void src_release(struct src *sr)
{
	free(sr->cols);
	json_decref(sr->doc);
	memset(sr, 0, sizeof(*sr));
}

/*
 * The UBJSON reader: 0 when it found the model's parts where XGBoost puts them (the checks
 * of their values are flatten's), -1 when it did not (the JSON reader then tries) or out of
 * memory (*oomp set).
 */
static int read_ubj(const void *p, size_t len, struct src *sr, int *oomp)
{
	static const char *const gbm[] = { "learner", "gradient_booster", NULL };
	static const char *const lmp[] = { "learner", "learner_model_param", NULL };
	static const char *const mdl[] = { "learner", "gradient_booster", "model", NULL };
	struct ubj root = { p, (const unsigned char *)p + len }, o, trees;
	unsigned char t;
	size_t i, k, n;

	*oomp = 0;
	if (ubj_byte(&root, &t) || t != '{' || ubj_object(root, gbm, &o) ||
	    ubj_string(o, "name", sr->name, sizeof(sr->name)) || ubj_object(root, lmp, &o) ||
	    ubj_string(o, "base_score", sr->base, sizeof(sr->base)) || ubj_object(root, mdl, &o) ||
	    ubj_find(o, "trees", &trees, &t) || t != '[')
		return -1;
	/* a counted or a plain list of plain objects */
	if (trees.p < trees.end && *trees.p == '#') {
		trees.p++;
		if (ubj_count(&trees, &n))
			return -1;
	} else {
		struct ubj q = trees;

		for (n = 0; q.p < q.end && *q.p != ']'; n++)
			if (ubj_byte(&q, &t) || t != '{' || ubj_skip(&q, t, UBJ_DEPTH))
				return -1;
	}
	if (n == 0 || !(sr->cols = calloc(n, sizeof(*sr->cols)))) {
		*oomp = n != 0;
		return -1;
	}
	sr->ntree = n;
	for (i = 0; i < n; i++) {
		if (ubj_byte(&trees, &t) || t != '{')
			return -1;
		for (k = 0; k < C_N; k++) {
			struct col *c = &sr->cols[i][k];

			c->present = ubj_typed(trees, col_key[k], &c->a) == 0;
			if (!c->present && k != C_STYPE)
				return -1;
			/* children, features, directions and split types are integers */
			if (c->present && k != C_COND && k != C_HESS && !ubj_is_int(c->a.t))
				return -1;
		}
		if (ubj_skip(&trees, '{', UBJ_DEPTH))
			return -1;
	}
	return 0;
}

/* The JSON reader: the booster's JSON form through jansson.  FD_OK or an fd error. */
static int read_json(const struct fd_gbdt *g, struct src *sr, const char *bad, struct fd_err *err)
{
	bst_ulong len;
	const char *p;
	json_t *trees, *name, *base;
	size_t t, k;

	if (XGBoosterSaveModelToBuffer(g->h, "{\"format\":\"json\"}", &len, &p) != 0)
		return xgb_fail(err, FD_EIO, "cannot read the trees");
	if (!(sr->doc = json_loadb(p, (size_t)len, 0, NULL)))
		return fd_err_set(err, FD_EINPUT, "%s", bad);
	name = json_object_get(json_object_get(json_object_get(sr->doc, "learner"), "gradient_booster"), "name");
	base = json_object_get(json_object_get(json_object_get(sr->doc, "learner"), "learner_model_param"), "base_score");
	trees = json_object_get(json_object_get(json_object_get(json_object_get(sr->doc, "learner"), "gradient_booster"),
						"model"), "trees");
	if (!json_is_string(name) || !json_is_string(base) || !json_is_array(trees) || json_array_size(trees) == 0 ||
	    strlen(json_string_value(name)) >= sizeof(sr->name) || strlen(json_string_value(base)) >= sizeof(sr->base))
		return fd_err_set(err, FD_EINPUT, "%s", bad);
	memcpy(sr->name, json_string_value(name), strlen(json_string_value(name)) + 1);
	memcpy(sr->base, json_string_value(base), strlen(json_string_value(base)) + 1);
	sr->ntree = json_array_size(trees);
	if (!(sr->cols = calloc(sr->ntree, sizeof(*sr->cols))))
		return oom(err);
	for (t = 0; t < sr->ntree; t++) {
		json_t *tr = json_array_get(trees, t), *l = json_object_get(tr, "left_children");
		size_t n = json_array_size(l);

		for (k = 0; k < C_N; k++) {
			struct col *c = &sr->cols[t][k];
			json_t *a = json_object_get(tr, col_key[k]);
			size_t i;

			c->present = json_is_array(a) && json_array_size(a) == n;
			for (i = 0; c->present && i < n; i++)
				c->present = json_is_number(json_array_get(a, i));
			if (!c->present && k != C_STYPE)
				return fd_err_set(err, FD_EINPUT, "%s", bad);
			c->j = c->present ? a : NULL;
			c->a.n = n;
		}
	}
	return FD_OK;
}

/* 1: flatten reads the UBJSON bytes when it has them; 0: always the JSON form (the unit
 * tests compare the two). */
static int gbdt_ubj = 1;

/* The number of nodes of column c (either reader). */
static size_t col_len(const struct col *c)
{
	return c->a.n;
}

/*
 * Read the booster's trees into g->node, g->mean and g->root, from its UBJSON bytes ubj
 * (NULL: XGBoost writes them) or else its JSON form.  FD_EINPUT when the booster is not
 * plain numerical gbtree splits over g->nf features.
 */
static int flatten(struct fd_gbdt *g, const void *ubj, size_t ubj_len, struct fd_err *err)
{
	static const char bad[] = "boosted trees of a kind fd cannot score (not numerical gbtree splits)";
	struct src sr;
	size_t t, i, total = 0, at = 0, maxn = 0, *ord = NULL;
	float *om = NULL;         /* a tree's expected values, in XGBoost's numbering */
	unsigned *lev = NULL;     /* its nodes' depths (UINT_MAX: not reached yet) */
	int rc = FD_OK, oomp = 0, got = 0;

	memset(&sr, 0, sizeof(sr));
	if (gbdt_ubj) {
		bst_ulong len;
		const char *p;

		if (!ubj && XGBoosterSaveModelToBuffer(g->h, "{\"format\":\"ubj\"}", &len, &p) == 0) {
			ubj = p;
			ubj_len = (size_t)len;
		}
		if (ubj) {
			got = read_ubj(ubj, ubj_len, &sr, &oomp) == 0;
			if (oomp)
				return oom(err);
			if (!got)
				src_release(&sr);
		}
	}
	if (!got && (rc = read_json(g, &sr, bad, err)))
		goto out;
	/* a split's key offset, (2 x feature + 1) x FLAT_LANES, is a uint32 */
	if (strcmp(sr.name, "gbtree") != 0 || sr.ntree == 0 || g->nf >= UINT32_MAX / (2 * FLAT_LANES)) {
		rc = fd_err_set(err, FD_EINPUT, "%s", bad);
		goto out;
	}
	{
		char *end;
		double b = strtod(sr.base, &end);

		if (end == sr.base || *end || !(b > 0 && b < 1)) {
			rc = fd_err_set(err, FD_EINPUT, "%s", bad);
			goto out;
		}
		/* XGBoost's ProbToMargin for binary:logistic, in float as it computes it */
		g->base_margin = -logf(1.0f / (float)b - 1.0f);
	}
	g->ntree = sr.ntree;
	for (t = 0; t < g->ntree; t++) {
		size_t n = col_len(&sr.cols[t][C_LEFT]), k;

		for (k = 0; k < C_N; k++)
			if (sr.cols[t][k].present && col_len(&sr.cols[t][k]) != n) {
				rc = fd_err_set(err, FD_EINPUT, "%s", bad);
				goto out;
			}
		if (n == 0 || n > INT32_MAX - total) {
			rc = fd_err_set(err, FD_EINPUT, "%s", bad);
			goto out;
		}
		total += n;
		if (n > maxn)
			maxn = n;
	}
	if (!(g->node = calloc(total, sizeof(*g->node))) || !(g->mean = calloc(total, sizeof(*g->mean))) ||
	    !(g->root = calloc(g->ntree, sizeof(*g->root))) || !(g->depth = calloc(g->ntree, sizeof(*g->depth))) ||
	    !(om = malloc(maxn * sizeof(*om))) || !(ord = malloc(maxn * sizeof(*ord))) ||
	    !(lev = malloc(maxn * sizeof(*lev)))) {
		rc = oom(err);
		goto out;
	}
	for (t = 0; t < g->ntree; t++) {
		const struct col *L = &sr.cols[t][C_LEFT], *R = &sr.cols[t][C_RIGHT], *F = &sr.cols[t][C_FEAT],
				 *C = &sr.cols[t][C_COND], *D = &sr.cols[t][C_DEFL], *H = &sr.cols[t][C_HESS],
				 *S = sr.cols[t][C_STYPE].present ? &sr.cols[t][C_STYPE] : NULL;
		size_t n = col_len(L), q;

		/* check every split, and the expected values in XGBoost's numbering, leaves up
		 * (XGBoost's FillNodeMeanValue, in float); children come after their parent in
		 * XGBoost's trees, which the means rely on */
		for (i = n; i-- > 0;) {
			int64_t l = col_int(L, i), r = col_int(R, i), f = col_int(F, i);

			if (l == -1) {
				om[i] = (float)col_num(C, i);
				continue;
			}
			if (l <= (int64_t)i || r <= (int64_t)i || l >= (int64_t)n || r >= (int64_t)n || f < 0 ||
			    (uint64_t)f >= g->nf || (S && col_int(S, i) != 0)) {
				rc = fd_err_set(err, FD_EINPUT, "%s", bad);
				goto out;
			}
			{
				float res = om[l] * (float)col_num(H, (size_t)l);

				res += om[r] * (float)col_num(H, (size_t)r);
				res /= (float)col_num(H, i);
				om[i] = res;
			}
		}
		/* breadth first from the root: ord[] lists XGBoost's indices in the new order, a
		 * split's two children side by side; a node reached twice is not a tree */
		memset(lev, 0xff, n * sizeof(*lev));
		ord[0] = 0;
		lev[0] = 0;
		g->root[t] = at;
		g->depth[t] = 0;
		for (q = 0, i = 1; q < i; q++) {
			size_t o = ord[q];
			struct flat_node *nd = &g->node[at + q];
			int64_t l = col_int(L, o);

			g->mean[at + q] = om[o];
			if (lev[o] > g->depth[t])
				g->depth[t] = lev[o];
			if (l == -1) {
				nd->thr = 0;
				nd->key = 0;
				nd->left = (int32_t)(at + q) - 1;
				nd->value = om[o];
				continue;
			}
			{
				size_t lc = (size_t)l, rc2 = (size_t)col_int(R, o);

				if (lev[lc] != UINT_MAX || lev[rc2] != UINT_MAX || lc == rc2) {
					rc = fd_err_set(err, FD_EINPUT, "%s", bad);
					goto out;
				}
				nd->thr = key_of((float)col_num(C, o));
				/* no float is below a NaN threshold: only a missing value sent left goes left */
				if (isnan(col_num(C, o)))
					nd->thr = 1;
				nd->key = (2 * (uint32_t)col_int(F, o) + (col_int(D, o) == 0)) * FLAT_LANES;
				nd->left = (int32_t)(at + i);
				nd->value = 0;
				lev[lc] = lev[rc2] = lev[o] + 1;
				ord[i++] = lc;
				ord[i++] = rc2;
			}
		}
		at += i;  /* nodes no path reaches are left out */
	}
	g->nnode = at;
	if (!(rc = pad(g, err)))
		rc = paths(g, err);
out:
	src_release(&sr);
	free(om);
	free(ord);
	free(lev);
	if (rc) {
		free(g->node);
		free(g->mean);
		free(g->root);
		free(g->depth);
		free(g->hsplit);
		free(g->hleaf);
		free(g->hfeat);
		free(g->hmean);
		free(g->hroot);
		free(g->hpath);
		free(g->hpoff);
		g->hpath = NULL;
		g->hpoff = NULL;
		g->hfeat = NULL;
		g->hmean = NULL;
		g->node = NULL;
		g->mean = NULL;
		g->root = NULL;
		g->depth = NULL;
		g->hsplit = NULL;
		g->hleaf = NULL;
		g->hroot = NULL;
		g->ntree = g->nnode = 0;
	}
	return rc;
}

/*
 * One step down a tree in node[] from node k for the row whose keys are at lane (see struct
 * flat_node): to the right child unless the key is below the threshold's.  Computed, not
 * branched on, so that the rows of a group walk side by side; a leaf steps to itself.
 */
static inline int32_t step(const struct flat_node *node, int32_t k, const uint32_t *lane)
{
	const struct flat_node *nd = &node[k];

	return nd->left + (lane[nd->key] >= nd->thr);
}

/* The same in a padded tree's splits hs from heap position i: 2i + 2 less one when the key is
 * below the threshold's, which compilers turn into a compare and a subtract with borrow. */
static inline size_t heap_step(const struct heap_split *hs, size_t i, const uint32_t *lane)
{
	return 2 * i + 2 - (size_t)(lane[hs[i].key] < hs[i].thr);
}

/* Rows scored per pass over the trees (whole groups of FLAT_LANES): their keys stay in cache
 * while every tree is walked. */
#define FLAT_BLOCK 32

/* Tree t's leaf values for the group of rows at gr added to sum[0 .. FLAT_LANES - 1]. */
static inline void walk_group(const struct fd_gbdt *g, size_t t, const uint32_t *gr, float *sum)
{
	const unsigned depth = g->depth[t];
	unsigned d, r;

	if (g->hroot[2 * t] != SIZE_MAX) {
		const struct heap_split *hs = g->hsplit + g->hroot[2 * t];
		const float *lf = g->hleaf + g->hroot[2 * t + 1];
		const size_t nsp = ((size_t)1 << depth) - 1;
		size_t k[FLAT_LANES];

#pragma GCC unroll 8
		for (r = 0; r < FLAT_LANES; r++)
			k[r] = 0;
		for (d = 0; d < depth; d++) {
#pragma GCC unroll 8
			for (r = 0; r < FLAT_LANES; r++)
				k[r] = heap_step(hs, k[r], gr + r);
		}
#pragma GCC unroll 8
		for (r = 0; r < FLAT_LANES; r++)
			sum[r] += lf[k[r] - nsp];
	} else {
		const struct flat_node *node = g->node;
		int32_t k[FLAT_LANES];

#pragma GCC unroll 8
		for (r = 0; r < FLAT_LANES; r++)
			k[r] = (int32_t)g->root[t];
		for (d = 0; d < depth; d++) {
#pragma GCC unroll 8
			for (r = 0; r < FLAT_LANES; r++)
				k[r] = step(node, k[r], gr + r);
		}
#pragma GCC unroll 8
		for (r = 0; r < FLAT_LANES; r++)
			sum[r] += node[k[r]].value;
	}
}

/*
 * 1: fd_gbdt_predict walks the trees with AVX2 when the CPU has it (checked at run time, so
 * the one build runs anywhere); 0: the portable walk only.  The unit tests set it to compare
 * the two.
 */
static int gbdt_simd = 1;

#ifdef FD_GBDT_AVX2
/*
 * The leaf positions (0 .. 2^D - 1) reached by the group of rows at gr in the padded tree of
 * depth D with splits hs.  Every split is compared for all eight rows at once, level by
 * level (a split reads the same key of each row, eight adjacent uint32s, so a compare is one
 * load, no gather): "the key is >= the threshold's" as max(key, thr) == key, unsigned.  A
 * row's choice at level d is then picked among that level's 2^d compares by its choices
 * above (2^d - 1 blends), and is the next bit of its position.  The same path as heap_step's,
 * computed for every split, where D steps would be eight rows' dependent loads each.
 */
__attribute__((target("avx2"), always_inline))
static inline __m256i leaf_pos_avx2(const struct heap_split *hs, const uint32_t *gr, const unsigned D)
{
	__m256i s[SIMD_DEPTH], c[1 << (SIMD_DEPTH - 1)], pos = _mm256_setzero_si256();
	unsigned d, i, j;

#pragma GCC unroll 8
	for (d = 0; d < D; d++) {
		const unsigned first = (1u << d) - 1, cnt = 1u << d;

#pragma GCC unroll 32
		for (i = 0; i < cnt; i++) {
			const struct heap_split *sp = &hs[first + i];
			__m256i k = _mm256_loadu_si256((const __m256i *)(gr + sp->key));

			c[i] = _mm256_cmpeq_epi32(_mm256_max_epu32(k, _mm256_set1_epi32((int)sp->thr)), k);
		}
		/* position within the level: bits s[0] (most significant) .. s[d - 1]; the
		 * least significant choice halves the candidates first */
#pragma GCC unroll 8
		for (j = d; j-- > 0;) {
#pragma GCC unroll 16
			for (i = 0; i < (1u << j); i++)
				c[i] = _mm256_blendv_epi8(c[2 * i], c[2 * i + 1], s[j]);
		}
		s[d] = c[0];
		/* right (all ones) adds 1 */
		pos = _mm256_sub_epi32(_mm256_add_epi32(pos, pos), s[d]);
	}
	return pos;
}

/* The leaf values of tree depth D at positions pos, from its leaves lf. */
__attribute__((target("avx2"), always_inline))
static inline __m256 leaf_val_avx2(const float *lf, __m256i pos, const unsigned D)
{
	if (D <= 3)
		return _mm256_permutevar8x32_ps(_mm256_loadu_ps(lf), pos);
	if (D == 4) {
		__m256 lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(lf), pos);
		__m256 hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(lf + 8), pos);

		/* bit 3 of the position to the sign bit, which blendv reads */
		return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(pos, 28)));
	}
	return _mm256_i32gather_ps(lf, pos, 4);
}

/*
 * Every tree's leaf values for the group of rows at gr added to sum[0 .. FLAT_LANES - 1],
 * tree after tree as walk_group adds them: the same float additions in the same order, so
 * the same margins to the bit.
 */
__attribute__((target("avx2")))
static void predict_group_avx2(const struct fd_gbdt *g, const uint32_t *gr, float *sum)
{
	__m256 acc = _mm256_loadu_ps(sum);
	size_t t;

	for (t = 0; t < g->ntree; t++) {
		const unsigned D = g->depth[t];
		const struct heap_split *hs;
		const float *lf;

		if (g->hroot[2 * t] == SIZE_MAX || D > SIMD_DEPTH) {
			_mm256_storeu_ps(sum, acc);
			walk_group(g, t, gr, sum);
			acc = _mm256_loadu_ps(sum);
			continue;
		}
		hs = g->hsplit + g->hroot[2 * t];
		lf = g->hleaf + g->hroot[2 * t + 1];
		switch (D) {
		case 0: acc = _mm256_add_ps(acc, _mm256_set1_ps(lf[0])); break;
		case 1: acc = _mm256_add_ps(acc, leaf_val_avx2(lf, leaf_pos_avx2(hs, gr, 1), 1)); break;
		case 2: acc = _mm256_add_ps(acc, leaf_val_avx2(lf, leaf_pos_avx2(hs, gr, 2), 2)); break;
		case 3: acc = _mm256_add_ps(acc, leaf_val_avx2(lf, leaf_pos_avx2(hs, gr, 3), 3)); break;
		case 4: acc = _mm256_add_ps(acc, leaf_val_avx2(lf, leaf_pos_avx2(hs, gr, 4), 4)); break;
		case 5: acc = _mm256_add_ps(acc, leaf_val_avx2(lf, leaf_pos_avx2(hs, gr, 5), 5)); break;
		default: acc = _mm256_add_ps(acc, leaf_val_avx2(lf, leaf_pos_avx2(hs, gr, 6), 6)); break;
		}
	}
	_mm256_storeu_ps(sum, acc);
}

/*
 * keys_of for a group: the keys of the eight rows at x + off[r] (floats), each feature's
 * eight values gathered and turned into keys side by side, exactly as key_of does one.
 */
__attribute__((target("avx2")))
static void keys_group_avx2(const float *x, size_t nf, const int32_t *off, uint32_t *k)
{
	const __m256i o = _mm256_loadu_si256((const __m256i *)off), sign = _mm256_set1_epi32(INT32_MIN);
	size_t j;

	for (j = 0; j < nf; j++) {
		__m256 v = _mm256_i32gather_ps(x + j, o, 4);
		__m256i b = _mm256_castps_si256(v), miss = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)), u;

		b = _mm256_andnot_si256(_mm256_cmpeq_epi32(b, sign), b);  /* -0 as +0 */
		/* negative: every bit flipped; else the sign bit set */
		u = _mm256_xor_si256(b, _mm256_or_si256(_mm256_srai_epi32(b, 31), sign));
		_mm256_storeu_si256((__m256i *)(k + 2 * j * FLAT_LANES), _mm256_andnot_si256(miss, u));
		_mm256_storeu_si256((__m256i *)(k + (2 * j + 1) * FLAT_LANES), _mm256_or_si256(u, miss));
	}
}

static int use_avx2(void)
{
	return gbdt_simd && __builtin_cpu_supports("avx2");
}
#else
static int use_avx2(void)
{
	return 0;
}
#endif

/* The keys of rows X[0 .. m - 1] into groups at keys, mg rows (whole groups): the rows past
 * m are copies of the last one. */
static void keys_block(const struct fd_gbdt *g, const float *X, size_t m, size_t mg, uint32_t *keys)
{
	const size_t gk = 2 * g->nf * FLAT_LANES;
	size_t i;

#ifdef FD_GBDT_AVX2
	/* a group's offsets are int32: rows of fewer than INT32_MAX / 8 features */
	if (use_avx2() && g->nf < INT32_MAX / FLAT_LANES) {
		for (i = 0; i < mg; i += FLAT_LANES) {
			int32_t off[FLAT_LANES];
			size_t r;

			for (r = 0; r < FLAT_LANES; r++)
				off[r] = (int32_t)(((i + r < m ? i + r : m - 1) - i) * g->nf);
			keys_group_avx2(X + i * g->nf, g->nf, off, keys + i / FLAT_LANES * gk);
		}
		return;
	}
#endif
	for (i = 0; i < mg; i++)
		keys_of(X + (i < m ? i : m - 1) * g->nf, g->nf, keys + i / FLAT_LANES * gk + i % FLAT_LANES);
}

int fd_gbdt_predict(const struct fd_gbdt *g, const float *X, size_t n, float *prob, struct fd_err *err)
{
	const size_t gk = 2 * g->nf * FLAT_LANES;  /* keys of a group */
	const int avx2 = use_avx2();
	uint32_t *keys;
	size_t i0, i, t;

	(void)avx2;
	if (n == 0)
		return FD_OK;
	if (!(keys = malloc(FLAT_BLOCK / FLAT_LANES * gk * sizeof(*keys))))
		return oom(err);
	for (i0 = 0; i0 < n; i0 += FLAT_BLOCK) {
		size_t m = n - i0 < FLAT_BLOCK ? n - i0 : FLAT_BLOCK;
		/* a last group of fewer rows is filled up with the block's last row, its sums
		 * written past m and dropped */
		size_t mg = (m + FLAT_LANES - 1) / FLAT_LANES * FLAT_LANES;
		float margin[FLAT_BLOCK];

		for (i = 0; i < mg; i++)
			margin[i] = g->base_margin;
		keys_block(g, X + i0 * g->nf, m, mg, keys);
#ifdef FD_GBDT_AVX2
		if (avx2)
			for (i = 0; i < mg; i += FLAT_LANES)
				predict_group_avx2(g, keys + i / FLAT_LANES * gk, margin + i);
		else
#endif
			for (t = 0; t < g->ntree; t++)
				for (i = 0; i < mg; i += FLAT_LANES)
					walk_group(g, t, keys + i / FLAT_LANES * gk, margin + i);
		for (i = 0; i < m; i++)
			prob[i0 + i] = 1.0f / (1.0f + expf(-margin[i]));
	}
	free(keys);
	return FD_OK;
}

/*
 * Path attribution (XGBoost's CalculateContributionsApprox) of tree t for the group of rows
 * at gr, into c[r x cs + 0 .. nf] for lane r: the tree's expected value to the bias (c[nf]),
 * and at each split on a row's path the change of the expected value to the split's feature.
 * In a padded tree the lanes walk side by side; a padding split's change (none) goes to
 * c[nf + 1], a slot the caller drops, so that the real ones are added exactly as XGBoost
 * adds them, in the same order.
 */
static void contrib_tree(const struct fd_gbdt *g, size_t t, const uint32_t *gr, float *c, size_t cs)
{
	const unsigned depth = g->depth[t];
	unsigned d, r;

	if (g->hroot[2 * t] != SIZE_MAX) {
		const struct heap_split *hs = g->hsplit + g->hroot[2 * t];
		const uint32_t *hf = g->hfeat + g->hroot[2 * t];
		const float *hm = g->hmean + g->hroot[2 * t] + g->hroot[2 * t + 1];
		size_t k[FLAT_LANES];
		float v[FLAT_LANES];

#pragma GCC unroll 8
		for (r = 0; r < FLAT_LANES; r++) {
			k[r] = 0;
			v[r] = hm[0];
			c[r * cs + g->nf] += v[r];
		}
		for (d = 0; d < depth; d++) {
#pragma GCC unroll 8
			for (r = 0; r < FLAT_LANES; r++) {
				uint32_t f = hf[k[r]];

				k[r] = heap_step(hs, k[r], gr + r);
				c[r * cs + f] += hm[k[r]] - v[r];
				v[r] = hm[k[r]];
			}
		}
		return;
	}
	for (r = 0; r < FLAT_LANES; r++) {
		int32_t k = (int32_t)g->root[t];
		float v = g->mean[k];

		c[r * cs + g->nf] += v;
		while (g->node[k].left > k) {
			uint32_t f = g->node[k].key / (2 * FLAT_LANES);

			k = step(g->node, k, gr + r);
			c[r * cs + f] += g->mean[k] - v;
			v = g->mean[k];
		}
	}
}

#ifdef FD_GBDT_AVX2
/*
 * contrib_tree for every tree, the padded trees' leaves found with AVX2: a row's leaf names
 * its whole path, whose steps paths() wrote down at load (each split's feature and change of
 * the expected value), so only the additions are left, lane by lane, level by level, the
 * same float additions as contrib_tree's in the same order.
 */
__attribute__((target("avx2"), always_inline))
static inline void contrib_paths_avx2(const struct fd_gbdt *g, size_t t, const uint32_t *gr, float *c,
				      size_t cs, const unsigned D)
{
	const float bias = g->hmean[g->hroot[2 * t] + g->hroot[2 * t + 1]];
	const struct path_step *tp = g->hpath + g->hpoff[t];
	uint32_t p[FLAT_LANES];
	unsigned r, d;

	_mm256_storeu_si256((__m256i *)p, leaf_pos_avx2(g->hsplit + g->hroot[2 * t], gr, D));
	for (r = 0; r < FLAT_LANES; r++) {
		float *cr = c + r * cs;
		const struct path_step *ps = tp + (size_t)p[r] * D;

		cr[g->nf] += bias;
#pragma GCC unroll 8
		for (d = 0; d < D; d++)
			cr[ps[d].f] += ps[d].delta;
	}
}

__attribute__((target("avx2")))
static void contrib_group_avx2(const struct fd_gbdt *g, const uint32_t *gr, float *c, size_t cs)
{
	size_t t;

	for (t = 0; t < g->ntree; t++) {
		switch (g->hpoff[t] == SIZE_MAX ? SIMD_DEPTH + 1 : g->depth[t]) {
		case 1: contrib_paths_avx2(g, t, gr, c, cs, 1); break;
		case 2: contrib_paths_avx2(g, t, gr, c, cs, 2); break;
		case 3: contrib_paths_avx2(g, t, gr, c, cs, 3); break;
		case 4: contrib_paths_avx2(g, t, gr, c, cs, 4); break;
		case 5: contrib_paths_avx2(g, t, gr, c, cs, 5); break;
		case 6: contrib_paths_avx2(g, t, gr, c, cs, 6); break;
		default: contrib_tree(g, t, gr, c, cs); break;  /* a leaf alone, or deeper */
		}
	}
}
#endif

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
	const size_t gk = 2 * g->nf * FLAT_LANES, cs = g->nf + 2;
	const int avx2 = use_avx2();
	uint32_t *keys;
	float *c;
	size_t i0, t, r;

	(void)avx2;
	if (exact)
		return fd_gbdt_contrib_xgb(g, X, n, 1, contrib, err);
	if (n == 0)
		return FD_OK;
	keys = malloc(gk * sizeof(*keys));
	c = malloc(FLAT_LANES * cs * sizeof(*c));
	if (!keys || !c) {
		free(keys);
		free(c);
		return oom(err);
	}
	/* FLAT_LANES rows at a time, a last group filled up with the last row */
	for (i0 = 0; i0 < n; i0 += FLAT_LANES) {
		size_t m = n - i0 < FLAT_LANES ? n - i0 : FLAT_LANES;

		keys_block(g, X + i0 * g->nf, m, FLAT_LANES, keys);
		memset(c, 0, FLAT_LANES * cs * sizeof(*c));
#ifdef FD_GBDT_AVX2
		if (avx2)
			contrib_group_avx2(g, keys, c, cs);
		else
#endif
			for (t = 0; t < g->ntree; t++)
				contrib_tree(g, t, keys, c, cs);
		for (r = 0; r < m; r++) {
			c[r * cs + g->nf] += g->base_margin;
			memcpy(contrib + (i0 + r) * (g->nf + 1), c + r * cs, (g->nf + 1) * sizeof(*c));
		}
	}
	free(keys);
	free(c);
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
	/* out's error is sticky: a buffer an earlier addition cut is refused as well */
	if (fd_buf_add(out, p, (size_t)len) || fd_buf_failed(out))
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
	if ((rc = flatten(g, p, n, err))) {
		fd_gbdt_free(g);
		return rc;
	}
	*out = g;
	return FD_OK;
}
