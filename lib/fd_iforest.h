/*
 * fd_iforest.h — the isolation forest (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008).
 *
 * An anomaly is isolated by fewer random splits than a normal point.  Each of the trees is
 * grown on a random subsample of psi rows (drawn without replacement; psi = min(256, rows) by
 * default) down to the height limit ceil(log2 psi).  At each node a feature is drawn uniformly
 * among those that are not constant in the node (a node whose rows are all equal, or of one
 * row, is external), and a split value p uniformly between the node's minimum and maximum of
 * that feature; rows with x < p go left, x >= p right.
 *
 * The path length of x in a tree is the depth of the external node it reaches plus c(size),
 * the expected path length of an unbuilt subtree of that many training rows:
 *     c(n) = 2 H(n − 1) − 2 (n − 1)/n,   H(i) = ln(i) + 0.5772156649 (Euler's constant),
 *     c(2) = 1, c(1) = c(0) = 0.
 * The anomaly score is s(x) = 2^(−E[h(x)] / c(psi)), in (0, 1]: near 1 for anomalies, below
 * about 0.5 for normal points.  (Exactly 1 only when a tree could not split at all because
 * every sampled row was identical.)
 *
 * Scoring layout: each tree is expanded into a complete binary tree of the height limit, in
 * flat arrays (node i's children are 2i+1 and 2i+2; external nodes above the last level
 * become pass-through nodes whose every descendant leaf holds their path length), so scoring
 * is a fixed number of branch-free steps per tree and several rows go through a tree
 * together.  The compact tree (preorder, as grown) is kept for the model file.
 *
 * Data: row-major float, rows × n_in; standardised values are expected but not required.  A
 * NaN never satisfies x >= p, so it always goes left.  Determinism: the subsamples, features
 * and split values come from fd's own PRNG seeded by opts.seed (xoshiro256** via splitmix64).
 */
#ifndef FD_IFOREST_H
#define FD_IFOREST_H

#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"

#define FD_IFOREST_MAX_TREES 1000
#define FD_IFOREST_MAX_PSI 4096    /* height limit 12 */
#define FD_IFOREST_MAX_INPUTS 1024  /* scoring keeps a block of rows on the stack: 32 KB */

struct fd_iforest;

struct fd_iforest_opts {
	unsigned trees;     /* 100 */
	size_t subsample;   /* psi: 256 (min(psi, rows) is used) */
	uint64_t seed;      /* 0 */
};
void fd_iforest_opts_init(struct fd_iforest_opts *o);

/*
 * Grow a forest on X (rows × cols, row-major).  FD_EUSAGE for bad options (trees 1 ..
 * FD_IFOREST_MAX_TREES, subsample 2 .. FD_IFOREST_MAX_PSI, cols 1 .. FD_IFOREST_MAX_INPUTS);
 * FD_EINPUT when rows < 2 or a value is not finite; FD_EIO when out of memory.  X is only
 * read.
 */
int fd_iforest_train(struct fd_iforest **f, const float *X, size_t rows, size_t cols,
		     const struct fd_iforest_opts *o, struct fd_err *err);
/* Accepts NULL. */
void fd_iforest_free(struct fd_iforest *f);

/* c(n) above: the average path length of an unsuccessful search in a binary search tree. */
double fd_iforest_c(double n);

size_t fd_iforest_inputs(const struct fd_iforest *f);
unsigned fd_iforest_trees(const struct fd_iforest *f);
size_t fd_iforest_subsample(const struct fd_iforest *f);   /* psi actually used */
unsigned fd_iforest_height(const struct fd_iforest *f);    /* ceil(log2 psi) */

/*
 * Scores of X (rows × n_in): scores[r] = s(row r).  No allocation; any number of threads may
 * score with the same forest.  fd_iforest_score_row() is the single-row form.
 */
void fd_iforest_score(const struct fd_iforest *f, const float *X, size_t rows, float *scores);
float fd_iforest_score_row(const struct fd_iforest *f, const float *x);

/*
 * The compact trees, for the model file.  A tree is its nodes in preorder (a node, then its
 * left subtree, then its right subtree).  feature >= 0: an internal node splitting on that
 * feature at value (x < value goes left); feature == -1: an external node, and size is the
 * number of training rows that reached it (>= 1).  size of an internal node is the number of
 * rows that reached it too: the sum of its children's, and psi at the root.
 */
struct fd_iforest_node {
	int32_t feature;
	float value;
	uint32_t size;
};
/* Tree t (0 .. trees-1): its nodes (borrowed, valid while f lives) and their count. */
const struct fd_iforest_node *fd_iforest_tree(const struct fd_iforest *f, unsigned t, size_t *n);

/*
 * Rebuild a forest from compact trees (as a model file stores them): n_in inputs, psi the
 * subsample size used, trees trees whose nodes are nodes[0 .. counts[0]-1], then the next
 * counts[1], and so on (copied).  Every tree is checked: a well-formed preorder tree using
 * exactly its nodes, depth within the height limit of psi, features < n_in, finite split
 * values, sizes >= 1 at external nodes and consistent with the parents' (psi at the root).  FD_EINPUT naming the tree otherwise; FD_EIO when out
 * of memory.
 */
int fd_iforest_from_trees(struct fd_iforest **f, size_t n_in, size_t psi, unsigned trees,
			  const struct fd_iforest_node *nodes, const size_t *counts,
			  struct fd_err *err);

#endif
