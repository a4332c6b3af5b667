/*
 * fd_model.h — a trained model and its file (*.fdm): the feature names in order, the scaler,
 * the autoencoder and/or the isolation forest, the calibrated thresholds and the training
 * metadata.  fd-train writes it, fd-score reads it, `fd-train --inspect` describes it.
 *
 * The file (all integers little-endian, written field by field, never as struct dumps):
 *
 *   offset  size  header
 *        0     8  magic "FDMODEL\0"
 *        8     4  format version: 1, or 2 (FD_MODEL_VERSION) when the model holds any of
 *                 GBDT, STAK or HIST (a reader of version 1 must not score without them);
 *                 version 1 files still load
 *       12     4  flags: bit 0 autoencoder present, bit 1 forest present, bit 2 boosted
 *                 trees present (version 2; must match the payload; other bits 0)
 *       16     8  payload length, uncompressed
 *       24     8  payload length, compressed (the file is 64 + this long, exactly)
 *       32    32  SHA-256 of the compressed payload
 *       64     …  the payload, one zstd frame
 *
 *   The payload is a sequence of sections: a 4-byte tag, a u64 body length, the body.
 *   Strings are a u32 length and that many bytes (no NUL); floats are IEEE 754 bit patterns.
 *     FEAT  u32 n; n strings: the feature names, in input order
 *     SCAL  n f64 means, n f64 standard deviations
 *     THRS  6 f64: ae_medium, ae_high, if_medium, if_high, risk_medium, risk_high (NaN = unset)
 *     META  u64 rows, string data_sha256, u64 seed, i64 created_ms, string tool_version,
 *           string metrics_json
 *     AENC  u32 inputs, u32 hidden layers, u32 size each; u32 count, floats: parameters;
 *           u32 count, floats: running statistics (layouts in fd_nn.h)        [optional]
 *     IFOR  u32 inputs, u32 psi, u32 trees; per tree u32 node count, then per node i32
 *           feature, f32 value, u32 size (preorder, fd_iforest.h)              [optional]
 *     ECDF  u32 n; n f32: quantiles 0, 1/(n−1), …, 1 of the validation errors [optional]
 *     GBDT  u64 length, that many bytes: XGBoost's UBJ model (fd_gbdt.h)       [optional, v2]
 *     STAK  f64 rows per day of the training data (NaN unknown); f64 gb_medium, f64 gb_high
 *           (the boosted trees' probability at the MEDIUM and HIGH quantiles of the
 *           validation rows, NaN without trees); u32 count (1 or 2); per
 *           stacker: u32 rules (0 without, 1 with), u32 k inputs, k f64 weights, f64 bias,
 *           f64 risk_medium, f64 risk_high, u32 nq, nq f32 ascending quantiles 0 … 1 of the
 *           validation risks (fd_score.h, STACKING)                          [optional, v2]
 *     HIST  n_features times: u32 e edges (0 … FD_MODEL_HIST_BINS − 1), e f32 ascending
 *           edges, e + 1 f32 shares of the training rows per bin (bin b holds edges[b−1] <=
 *           x < edges[b]), f32 the share of missing values (for PSI, fd_model_psi)
 *                                                                             [optional, v2]
 *   FEAT, SCAL, THRS and META are required, and AENC or IFOR or both; a section appears at
 *   most once; sections with other tags are skipped (room for additions that older readers
 *   may ignore; a change they must not ignore raises the format version).
 *
 * Loading refuses, with FD_EINPUT and a message naming the file:
 *   "not an fd model file" (magic), "model format version N is newer than this fd supports
 *   (1)", "truncated model file", "model file checksum mismatch: corrupt", and "corrupt
 *   model file: …" for anything wrong inside (decompression, a count or length beyond its
 *   bound or beyond the data, a missing or repeated section, inconsistent sizes, non-finite
 *   parameters).  Every length is checked against the bytes that remain before it is used.
 *
 * Scaling: x' = (x − mean) / std per feature; a std of 0 (or not finite) is stored as 1; a
 * missing value (NaN: features that have no value yet) becomes 0, the mean.
 *
 * Reproducibility: the file holds no time or randomness of its own.  The same inputs, seed,
 * options and metadata (including created_ms: a caller that wants identical files passes a
 * fixed time, e.g. from SOURCE_DATE_EPOCH) give a byte-identical file on the same build and
 * CPU type (see fd_nn.h on OpenBLAS kernels).
 */
#ifndef FD_MODEL_H
#define FD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_gbdt.h"
#include "fd_iforest.h"
#include "fd_nn.h"

#define FD_MODEL_VERSION 2
#define FD_MODEL_HIST_BINS 10
#define FD_MODEL_MAX_STACK_INPUTS 8
#define FD_MODEL_MAX_GBDT ((size_t)256 << 20)
#define FD_MODEL_MAX_FEATURES 1024
#define FD_MODEL_MAX_NAME 256           /* bytes in a feature name */
#define FD_MODEL_MAX_METRICS (1u << 20) /* bytes of metrics JSON */
#define FD_MODEL_MAX_ECDF 10001

/* Thresholds: NaN when not set. */
struct fd_thresholds {
	double ae_medium, ae_high;      /* reconstruction error */
	double if_medium, if_high;      /* forest score */
	double risk_medium, risk_high;  /* combined risk score 0–100 */
};

/* Fixed-size text fields are NUL-terminated. */
struct fd_model_meta {
	uint64_t rows;           /* rows trained on (labelled fraud excluded) */
	char data_sha256[65];    /* lowercase hex of the training data, "" when unknown */
	uint64_t seed;
	int64_t created_ms;      /* ms since the epoch, UTC; supplied by the caller */
	char tool_version[64];   /* "fd-train 0.1.0" */
	char *metrics_json;      /* owned; NULL or a JSON text (epochs, losses, options, ...) */
};

/*
 * A stacker: the combined risk as a logistic regression over the layers' scores (and the
 * rules' points for the one with rules), fitted on validation rows; fd_score.h says which
 * inputs in which order.  risk = 100 * sigmoid(w . z + bias).
 */
struct fd_stacker {
	int present;
	size_t k;                              /* inputs */
	double w[FD_MODEL_MAX_STACK_INPUTS], bias;
	double risk_medium, risk_high;         /* its level thresholds (risk 0-100, not rounded) */
	float *q;                              /* nq ascending quantiles of the validation risks */
	size_t nq;
};

/* A feature's training distribution, for the population stability index. */
struct fd_feat_hist {
	size_t ne;                             /* edges: 0 .. FD_MODEL_HIST_BINS - 1 */
	float edge[FD_MODEL_HIST_BINS - 1];
	float share[FD_MODEL_HIST_BINS];       /* ne + 1 used */
	float missing;
};

/*
 * A model.  Fields may be read directly; the model owns everything it points to, and
 * fd_model_free() frees it all.  Set nn and forest with the setters (they take ownership);
 * thr and the scalar metadata fields may be assigned directly.
 */
struct fd_model {
	size_t n_features;
	char **features;         /* n_features NUL-terminated names */
	double *mean, *std;      /* the scaler: n_features each */
	struct fd_nn *nn;        /* NULL when absent */
	struct fd_iforest *forest;
	struct fd_gbdt *gb;      /* the supervised layer, NULL when absent */
	struct fd_stacker stack[2];  /* [0] for scoring without rules, [1] with rules */
	double rows_per_day;     /* of the training data, NaN when unknown (--alerts-per-day) */
	double gb_medium, gb_high;   /* the boosted trees' own thresholds (NaN unset) */
	struct fd_feat_hist *hist;   /* n_features histograms, or NULL */
	struct fd_thresholds thr;
	float *ecdf;             /* n_ecdf ascending quantiles of the validation errors, or NULL */
	size_t n_ecdf;
	struct fd_model_meta meta;
	uint32_t version;        /* format version it was read from (1 when new; saving writes 2
				    when the model holds boosted trees, stackers or histograms) */
};

/*
 * A new model for the features names[0 .. n-1] (copied): scaler mean 0 / std 1, no networks,
 * thresholds unset.  FD_EUSAGE for no features, too many, an empty, too long or repeated
 * name; FD_EIO when out of memory.
 */
int fd_model_create(struct fd_model **m, const char *const *names, size_t n, struct fd_err *err);
/* Accepts NULL. */
void fd_model_free(struct fd_model *m);

/* Take ownership of nn / forest (freeing one held before; NULL removes it).  FD_EUSAGE when
 * its input count is not n_features (ownership is then not taken). */
int fd_model_set_nn(struct fd_model *m, struct fd_nn *nn, struct fd_err *err);
int fd_model_set_forest(struct fd_model *m, struct fd_iforest *f, struct fd_err *err);
int fd_model_set_gbdt(struct fd_model *m, struct fd_gbdt *g, struct fd_err *err);
/* Copy the metrics JSON text (NULL clears it).  FD_EIO when out of memory, FD_EUSAGE when
 * longer than FD_MODEL_MAX_METRICS. */
int fd_model_set_metrics(struct fd_model *m, const char *json, struct fd_err *err);

/*
 * Fit the scaler on X (rows × n_features, row-major, raw feature values; NaN = missing, not
 * counted): mean and population standard deviation per feature, in double.  A feature with
 * no values gets mean 0, std 1.
 */
void fd_model_fit_scaler(struct fd_model *m, const float *X, size_t rows);
/* Standardise X in place (rows × n_features).  NaN becomes 0. */
void fd_model_standardise(const struct fd_model *m, float *X, size_t rows);
/* Standardise one row of raw doubles (as fd_features_push() gives them) into out. */
void fd_model_standardise_row(const struct fd_model *m, const double *in, float *out);

/*
 * The q-quantile (0 <= q <= 1) of v[0 .. n-1] with linear interpolation between order
 * statistics (position q·(n−1), as numpy's default).  v is not changed.  NaN when n is 0 or
 * when out of memory.
 */
double fd_model_quantile(const float *v, size_t n, double q);

/*
 * Sort v[0 .. n-1] ascending (no NaN) in linear time: an LSD radix sort on the floats' bits
 * mapped to order-preserving unsigned keys, 11 bits a pass, passes where every key has the
 * same digit skipped.  -0 sorts before +0.  Returns -1 (v unchanged) out of memory.  What
 * the quantiles, the drift histograms and fd-train's split use instead of qsort: 1M values
 * in about 10 ms instead of 100.
 */
int fd_model_sort_floats(float *v, size_t n);

/*
 * Calibrate the autoencoder from its validation errors: thr.ae_medium and thr.ae_high at the
 * quantiles q_medium and q_high (0.95 and 0.99 by default in fd-train; an alert budget b,
 * the share of rows that may alert, is q = 1 − b), and the ECDF (101 quantiles, 0% to 100%)
 * used by fd_model_ae_score().  FD_EUSAGE for n == 0 or quantiles outside [0, 1] or
 * q_medium > q_high; FD_EIO when out of memory.
 */
int fd_model_calibrate_ae(struct fd_model *m, const float *val_errors, size_t n, double q_medium,
			  double q_high, struct fd_err *err);

/*
 * The calibrated autoencoder score of a reconstruction error: the share of validation errors
 * below it (the ECDF, interpolated linearly between its quantiles), in [0, 1].  NaN when the
 * model has no ECDF or err is NaN.
 */
double fd_model_ae_score(const struct fd_model *m, double err);

/*
 * The training histograms: for each feature, edges at its deciles over the rows of X (rows ×
 * n_features, raw values, NaN missing; repeated deciles merged) and the share of the rows in
 * each bin and missing.  FD_EIO when out of memory.
 */
int fd_model_fit_hist(struct fd_model *m, const float *X, size_t rows, struct fd_err *err);
/* The bin of value v in histogram h (0 .. ne), or -1 for a missing value. */
int fd_model_hist_bin(const struct fd_feat_hist *h, double v);
/*
 * The population stability index of counts[0 .. ne] (bins) and missing against h:
 * sum over bins (incl. missing) of (a − e) ln(a / e), shares a (observed) and e (training)
 * floored at 1e-4.  NaN when the counts are all 0.
 */
double fd_model_psi(const struct fd_feat_hist *h, const uint64_t *counts, uint64_t missing);

/*
 * Serialise the model into out (the bytes of a .fdm file; appended).  FD_EUSAGE when the
 * model has neither network; FD_EIO when out of memory or compression fails.
 */
int fd_model_encode(const struct fd_model *m, struct fd_buf *out, struct fd_err *err);
/*
 * Parse the bytes of a .fdm file (borrowed; name is used in messages, may be NULL).  The
 * errors of loading above; FD_EIO when out of memory.
 */
int fd_model_decode(struct fd_model **m, const void *p, size_t n, const char *name,
		    struct fd_err *err);

/*
 * Write the model to path atomically, through fd_out (fd_io.h): a temporary file beside it,
 * written, fsync'ed and renamed over path, then the directory fsync'ed, so path holds either
 * the old or the complete new model, never a part.  "-" writes to standard output.  FD_EIO
 * naming the file on any failure (the temporary is removed).
 */
int fd_model_save(const struct fd_model *m, const char *path, struct fd_err *err);
/* Read a model file (at most 1 GiB).  FD_EIO when it cannot be read; see above for FD_EINPUT. */
int fd_model_load(struct fd_model **m, const char *path, struct fd_err *err);

/*
 * Append a human-readable description (for `fd-train --inspect`): format, features with their
 * scaler, the networks' shapes, thresholds and training metadata.  0 or -1 when out of memory.
 */
int fd_model_describe(const struct fd_model *m, struct fd_buf *out);

#endif
