/*
 * fd_iforest.c — see fd_iforest.h.
 *
 * Two representations of each tree:
 *  - compact: the nodes in preorder as grown (what the model file stores, and what
 *    fd_iforest_from_trees() validates);
 *  - scoring: a complete binary tree of the height limit in flat arrays, internal nodes
 *    then leaves (path length = depth + c(size)).  Walking it is
 *    `i = 2i + 1 + (x[feature] >= value)` height times, with no test for leaves and no
 *    unpredictable branch; an external node above the last level becomes pass-through nodes
 *    that always send left, and its path length is copied to every leaf below it.  With
 *    psi = 256 a tree is 255 nodes of 8 bytes and 256 leaves of 4: the 100 trees fit in
 *    300 KB, in the L2 cache.
 *
 * A walk is a chain of dependent loads (node, then the row's value of the node's feature),
 * so scoring speed is set by the length of that chain and by how many independent walks run
 * at once.  To shorten it, values are compared as order-preserving unsigned keys (fkey()),
 * one integer compare instead of a float compare and a flag move, and a node holds its
 * feature's offset in a transposed block of rows (xt, feature-major, ROW_BLOCK values per
 * feature), so the value's address needs no arithmetic.  ROW_BLOCK rows walk each tree
 * together, their indices in registers.
  */
#include "fd_iforest.h"
#include "fd_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

#define EULER_GAMMA 0.5772156649
#define ROW_BLOCK 8    /* rows walked through a tree together: independent chains of loads */

enum { RNG_FOREST = 16 };

struct snode {
	uint32_t key;   /* fkey(split value); PASS_KEY for a pass-through node */
	uint32_t off;   /* feature · ROW_BLOCK: the feature's first value in a transposed block */
};

/* Greater than any fkey() of a value, so x >= it never holds: the walk goes left. */
#define PASS_KEY 0xffffffffu

/*
 * An unsigned key that orders as the floats do: fkey(a) >= fkey(b) exactly when a >= b, for
 * non-NaN a and b (-0 and +0 get the same key).  NaN gets 0, below every real value, so a NaN
 * goes left as the float comparison would send it; PASS_KEY is above +infinity's key.
 */
static inline uint32_t fkey(float f)
{
	uint32_t u;

	if (f != f)
		return 0;
	if (f == 0.0f)
		f = 0.0f;
	memcpy(&u, &f, sizeof(u));
	return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

struct fd_iforest {
	size_t n_in, psi;
	unsigned trees, height;
	double inv_norm;                /* 1 / (trees · c(psi)) */
	struct fd_iforest_node *nodes;  /* compact trees, concatenated */
	size_t *start;                  /* trees + 1 offsets into nodes */
	size_t n_int;                   /* internal slots per tree: 2^height − 1 */
	struct snode *sn;               /* trees × n_int */
	float *leaf;                    /* trees × (n_int + 1) */
};

double fd_iforest_c(double n)
{
	if (n <= 1.0)
		return 0.0;
	if (n <= 2.0)
		return 1.0;
	return 2.0 * (log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n;
}

static unsigned height_of(size_t psi)
{
	unsigned h = 0;

	while (((size_t)1 << h) < psi)
		h++;
	return h;
}

void fd_iforest_opts_init(struct fd_iforest_opts *o)
{
	o->trees = 100;
	o->subsample = 256;
	o->seed = 0;
}

void fd_iforest_free(struct fd_iforest *f)
{
	if (!f)
		return;
	free(f->nodes);
	free(f->start);
	free(f->sn);
	free(f->leaf);
	free(f);
}

size_t fd_iforest_inputs(const struct fd_iforest *f)
{
	return f->n_in;
}

unsigned fd_iforest_trees(const struct fd_iforest *f)
{
	return f->trees;
}

size_t fd_iforest_subsample(const struct fd_iforest *f)
{
	return f->psi;
}

unsigned fd_iforest_height(const struct fd_iforest *f)
{
	return f->height;
}

const struct fd_iforest_node *fd_iforest_tree(const struct fd_iforest *f, unsigned t, size_t *n)
{
	*n = f->start[t + 1] - f->start[t];
	return f->nodes + f->start[t];
}

/* Fill the scoring slots of the subtree at slot (depth d) below an external node. */
static void fill_external(struct snode *sn, float *leaf, size_t n_int, size_t slot, float pl)
{
	if (slot >= n_int) {
		leaf[slot - n_int] = pl;
		return;
	}
	sn[slot].key = PASS_KEY;
	sn[slot].off = 0;
	fill_external(sn, leaf, n_int, 2 * slot + 1, pl);
	fill_external(sn, leaf, n_int, 2 * slot + 2, pl);
}

/* Expand compact nodes from *k (preorder) into the scoring slots from slot; trees are
 * already validated. */
static void expand(const struct fd_iforest_node *nd, size_t *k, struct snode *sn, float *leaf,
		   size_t n_int, size_t slot, unsigned depth)
{
	const struct fd_iforest_node *n = &nd[(*k)++];

	if (n->feature < 0) {
		fill_external(sn, leaf, n_int, slot,
			      (float)((double)depth + fd_iforest_c((double)n->size)));
		return;
	}
	sn[slot].key = fkey(n->value);
	sn[slot].off = (uint32_t)n->feature * ROW_BLOCK;
	expand(nd, k, sn, leaf, n_int, 2 * slot + 1, depth + 1);
	expand(nd, k, sn, leaf, n_int, 2 * slot + 2, depth + 1);
}

/* Allocate the scoring arrays and expand every tree into them. */
static int build_scoring(struct fd_iforest *f)
{
	unsigned t;

	f->n_int = ((size_t)1 << f->height) - 1;
	f->sn = malloc((size_t)f->trees * f->n_int * sizeof(*f->sn) + 1);
	f->leaf = malloc((size_t)f->trees * (f->n_int + 1) * sizeof(*f->leaf));
	if (!f->sn || !f->leaf)
		return -1;
	for (t = 0; t < f->trees; t++) {
		size_t k = f->start[t];

		expand(f->nodes, &k, f->sn + t * f->n_int, f->leaf + t * (f->n_int + 1), f->n_int,
		       0, 0);
	}
	f->inv_norm = 1.0 / ((double)f->trees * fd_iforest_c((double)f->psi));
	return 0;
}

/* ---- growing ----------------------------------------------------------------------- */

struct grow {
	const float *X;
	size_t cols;
	unsigned hlim;
	struct fd_rng r;
	struct fd_iforest_node *out;  /* room for 2·psi − 1 nodes */
	size_t n;
	uint32_t *cand;               /* cols */
	float *lo, *hi;               /* cols */
};

static void grow(struct grow *g, size_t *ids, size_t n, unsigned depth)
{
	struct fd_iforest_node *nd = &g->out[g->n++];
	size_t c, i, nc = 0, left;
	uint32_t q;
	float p;
	double lo, hi;

	nd->feature = -1;
	nd->value = 0.0f;
	nd->size = (uint32_t)n;
	if (depth >= g->hlim || n <= 1)
		return;
	for (c = 0; c < g->cols; c++)
		g->lo[c] = g->hi[c] = g->X[ids[0] * g->cols + c];
	for (i = 1; i < n; i++) {
		const float *x = g->X + ids[i] * g->cols;

		for (c = 0; c < g->cols; c++) {
			g->lo[c] = x[c] < g->lo[c] ? x[c] : g->lo[c];
			g->hi[c] = x[c] > g->hi[c] ? x[c] : g->hi[c];
		}
	}
	for (c = 0; c < g->cols; c++)
		if (g->lo[c] < g->hi[c])
			g->cand[nc++] = (uint32_t)c;
	if (nc == 0) /* every row of the node is the same point */
		return;
	q = g->cand[fd_rng_below(&g->r, nc)];
	lo = g->lo[q];
	hi = g->hi[q];
	p = (float)(lo + fd_rng_unif(&g->r) * (hi - lo));
	/* keep lo < p <= hi after rounding to float, so neither side is empty */
	if (p <= g->lo[q])
		p = nextafterf(g->lo[q], g->hi[q]);
	if (p > g->hi[q])
		p = g->hi[q];
	left = 0;
	for (i = 0; i < n; i++)
		if (g->X[ids[i] * g->cols + q] < p) {
			size_t t = ids[i];

			ids[i] = ids[left];
			ids[left++] = t;
		}
	nd->feature = (int32_t)q;
	nd->value = p;
	grow(g, ids, left, depth + 1);
	grow(g, ids + left, n - left, depth + 1);
}

int fd_iforest_train(struct fd_iforest **out, const float *X, size_t rows, size_t cols,
		     const struct fd_iforest_opts *o, struct fd_err *err)
{
	struct fd_iforest *f = NULL;
	struct grow g;
	size_t *perm = NULL, *ids = NULL, i, max_nodes;
	unsigned t;
	int rc = FD_OK;

	*out = NULL;
	memset(&g, 0, sizeof(g));
	if (o->trees < 1 || o->trees > FD_IFOREST_MAX_TREES || o->subsample < 2 ||
	    o->subsample > FD_IFOREST_MAX_PSI || cols < 1 || cols > FD_IFOREST_MAX_INPUTS)
		return fd_err_set(err, FD_EUSAGE,
				  "bad forest options: trees 1 to %d, subsample 2 to %d, features 1 to %d",
				  FD_IFOREST_MAX_TREES, FD_IFOREST_MAX_PSI, FD_IFOREST_MAX_INPUTS);
	if (rows < 2)
		return fd_err_set(err, FD_EINPUT, "too few rows to grow a forest (%zu)", rows);
	for (i = 0; i < rows * cols; i++)
		if (!isfinite(X[i]))
			return fd_err_set(err, FD_EINPUT, "row %zu feature %zu is not finite", i / cols + 1,
					  i % cols + 1);
	f = calloc(1, sizeof(*f));
	if (!f)
		goto oom;
	f->n_in = cols;
	f->psi = o->subsample < rows ? o->subsample : rows;
	f->trees = o->trees;
	f->height = height_of(f->psi);
	max_nodes = 2 * f->psi - 1;
	f->nodes = malloc((size_t)f->trees * max_nodes * sizeof(*f->nodes));
	f->start = malloc(((size_t)f->trees + 1) * sizeof(*f->start));
	perm = malloc(rows * sizeof(*perm));
	ids = malloc(f->psi * sizeof(*ids));
	g.cand = malloc(cols * sizeof(*g.cand));
	g.lo = malloc(cols * sizeof(*g.lo));
	g.hi = malloc(cols * sizeof(*g.hi));
	if (!f->nodes || !f->start || !perm || !ids || !g.cand || !g.lo || !g.hi)
		goto oom;
	g.X = X;
	g.cols = cols;
	g.hlim = f->height;
	g.out = f->nodes;
	fd_rng_seed(&g.r, o->seed, RNG_FOREST);
	for (i = 0; i < rows; i++)
		perm[i] = i;
	for (t = 0; t < f->trees; t++) {
		/* A partial Fisher-Yates shuffle draws psi distinct rows; perm is not reset between
		 * trees, which keeps each draw uniform and avoids touching all rows per tree. */
		for (i = 0; i < f->psi; i++) {
			size_t k = i + (size_t)fd_rng_below(&g.r, rows - i), tmp = perm[i];

			perm[i] = perm[k];
			perm[k] = tmp;
		}
		memcpy(ids, perm, f->psi * sizeof(*ids));
		f->start[t] = g.n;
		grow(&g, ids, f->psi, 0);
	}
	f->start[f->trees] = g.n;
	{	/* give back the room the trees did not use */
		struct fd_iforest_node *shrunk = realloc(f->nodes, g.n * sizeof(*f->nodes));

		if (shrunk)
			f->nodes = shrunk;
	}
	if (build_scoring(f))
		goto oom;
	*out = f;
	f = NULL;
	goto out;
oom:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	fd_iforest_free(f);
	free(perm);
	free(ids);
	free(g.cand);
	free(g.lo);
	free(g.hi);
	return rc;
}

/* ---- loading ----------------------------------------------------------------------- */

/* Check one preorder subtree from *k; its row count goes to *size.  -1 when malformed. */
static int check_tree(const struct fd_iforest_node *nd, size_t n, size_t *k, unsigned depth,
		      unsigned hlim, size_t n_in, uint64_t *size)
{
	const struct fd_iforest_node *x;
	uint64_t a, b;

	if (*k >= n)
		return -1;
	x = &nd[(*k)++];
	if (x->feature == -1) {
		if (x->size < 1)
			return -1;
		*size = x->size;
		return 0;
	}
	if (x->feature < 0 || (size_t)x->feature >= n_in || depth >= hlim || !isfinite(x->value))
		return -1;
	if (check_tree(nd, n, k, depth + 1, hlim, n_in, &a) ||
	    check_tree(nd, n, k, depth + 1, hlim, n_in, &b))
		return -1;
	if (a + b != x->size)
		return -1;
	*size = x->size;
	return 0;
}

int fd_iforest_from_trees(struct fd_iforest **out, size_t n_in, size_t psi, unsigned trees,
			  const struct fd_iforest_node *nodes, const size_t *counts,
			  struct fd_err *err)
{
	struct fd_iforest *f;
	size_t total = 0, off = 0;
	unsigned t;

	*out = NULL;
	if (n_in < 1 || n_in > FD_IFOREST_MAX_INPUTS || psi < 2 || psi > FD_IFOREST_MAX_PSI ||
	    trees < 1 || trees > FD_IFOREST_MAX_TREES)
		return fd_err_set(err, FD_EINPUT,
				  "bad forest: %zu inputs, subsample %zu, %u trees", n_in, psi, trees);
	for (t = 0; t < trees; t++) {
		size_t k = 0;
		uint64_t size;

		if (counts[t] < 1 || counts[t] > 2 * psi - 1 ||
		    check_tree(nodes + off, counts[t], &k, 0, height_of(psi), n_in, &size) ||
		    k != counts[t] || size != psi)
			return fd_err_set(err, FD_EINPUT, "bad forest: tree %u is malformed", t + 1);
		off += counts[t];
	}
	total = off;
	f = calloc(1, sizeof(*f));
	if (!f)
		return fd_err_set(err, FD_EIO, "out of memory");
	f->n_in = n_in;
	f->psi = psi;
	f->trees = trees;
	f->height = height_of(psi);
	f->nodes = malloc(total * sizeof(*f->nodes));
	f->start = malloc(((size_t)trees + 1) * sizeof(*f->start));
	if (!f->nodes || !f->start) {
		fd_iforest_free(f);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	memcpy(f->nodes, nodes, total * sizeof(*f->nodes));
	for (off = 0, t = 0; t < trees; t++) {
		f->start[t] = off;
		off += counts[t];
	}
	f->start[trees] = off;
	if (build_scoring(f)) {
		fd_iforest_free(f);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	*out = f;
	return FD_OK;
}

/* ---- scoring ----------------------------------------------------------------------- */

static inline float to_score(const struct fd_iforest *f, double sum)
{
	return (float)exp2(-sum * f->inv_norm);
}

/* Walk step of the chain i (a local variable) of row r of the block: i = 2i + 1 + (x >= key),
 * written as 2i + 2 − (x < key) so that compilers use the compare's carry (sbb) rather than
 * set, extend and add: one step is then about six instructions. */
#define STEP(i, r) (i = 2 * i + 2 - (size_t)(xt[(size_t)sn[i].off + (r)] < sn[i].key))

/* Transpose rows into xt as keys: xt[c·ROW_BLOCK + r] = fkey(X[r][c]). */
static void load_block(uint32_t *xt, const float *X, size_t rows, size_t d)
{
	size_t r, c;

	for (r = 0; r < rows; r++)
		for (c = 0; c < d; c++)
			xt[c * ROW_BLOCK + r] = fkey(X[r * d + c]);
}

/*
 * ng groups of ROW_BLOCK rows (group g transposed at xt + g·d·ROW_BLOCK) through every tree.
 * All groups go through a tree before the next tree, so the tree's 3 KB stay in the L1 cache
 * for all of them: with one group per pass over the forest (300 KB) every node load would come
 * from L2, which lengthens each walk step by some 10 cycles.
 */
#define MAX_GROUPS 8
#define XT_WORDS (FD_IFOREST_MAX_INPUTS * ROW_BLOCK)

static void score_groups(const struct fd_iforest *f, const uint32_t *xtall, unsigned ng,
			 float *scores)
{
	const size_t ni = f->n_int, d = f->n_in;
	const unsigned H = f->height;
	float sum[MAX_GROUPS * ROW_BLOCK] = { 0 };
	unsigned t, h, g;

	for (t = 0; t < f->trees; t++) {
		const struct snode *sn = f->sn + t * ni;
		const float *lf = f->leaf + t * (ni + 1) - ni;

		for (g = 0; g < ng; g++) {
			const uint32_t *xt = xtall + g * d * ROW_BLOCK;
			float *sm = sum + g * ROW_BLOCK;
			size_t i0 = 0, i1 = 0, i2 = 0, i3 = 0, i4 = 0, i5 = 0, i6 = 0, i7 = 0;

			for (h = 0; h < H; h++) {
				STEP(i0, 0);
				STEP(i1, 1);
				STEP(i2, 2);
				STEP(i3, 3);
				STEP(i4, 4);
				STEP(i5, 5);
				STEP(i6, 6);
				STEP(i7, 7);
			}
			sm[0] += lf[i0];
			sm[1] += lf[i1];
			sm[2] += lf[i2];
			sm[3] += lf[i3];
			sm[4] += lf[i4];
			sm[5] += lf[i5];
			sm[6] += lf[i6];
			sm[7] += lf[i7];
		}
	}
	for (g = 0; g < ng * ROW_BLOCK; g++)
		scores[g] = to_score(f, sum[g]);
}

float fd_iforest_score_row(const struct fd_iforest *f, const float *x)
{
	/* One row through ROW_BLOCK trees at a time, for the same overlap of loads; the sum
	 * runs in tree order, as in score_groups(), so both give identical scores. */
	const size_t ni = f->n_int;
	const unsigned H = f->height;
	uint32_t xt[XT_WORDS];
	float sum = 0.0f;
	unsigned t, h, k;

	load_block(xt, x, 1, f->n_in);
	for (t = 0; t < f->trees; t += ROW_BLOCK) {
		unsigned m = f->trees - t < ROW_BLOCK ? f->trees - t : ROW_BLOCK;
		size_t idx[ROW_BLOCK] = { 0 };

		for (h = 0; h < H; h++)
			for (k = 0; k < m; k++) {
				const struct snode *sn = f->sn + (t + k) * ni;

				STEP(idx[k], 0);
			}
		for (k = 0; k < m; k++)
			sum += f->leaf[(t + k) * (ni + 1) + idx[k] - ni];
	}
	return to_score(f, sum);
}

void fd_iforest_score(const struct fd_iforest *f, const float *X, size_t rows, float *scores)
{
	const size_t d = f->n_in, fit = XT_WORDS / (d * ROW_BLOCK);
	const unsigned ng = fit < MAX_GROUPS ? (unsigned)fit : MAX_GROUPS;
	uint32_t xt[XT_WORDS];  /* 32 KB: with up to 128 features, 8 groups of 8 rows */
	size_t r = 0;
	unsigned g;

	for (; r + (size_t)ng * ROW_BLOCK <= rows; r += (size_t)ng * ROW_BLOCK) {
		for (g = 0; g < ng; g++)
			load_block(xt + g * d * ROW_BLOCK, X + (r + g * ROW_BLOCK) * d, ROW_BLOCK, d);
		score_groups(f, xt, ng, scores + r);
	}
	for (; r + ROW_BLOCK <= rows; r += ROW_BLOCK) {
		load_block(xt, X + r * d, ROW_BLOCK, d);
		score_groups(f, xt, 1, scores + r);
	}
	for (; r < rows; r++)
		scores[r] = fd_iforest_score_row(f, X + r * d);
}
