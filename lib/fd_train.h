/*
 * fd_train.h — training a model file's layers from labelled history (what fd-train does,
 * without the printing).
 *
 * fd_train_run() reads the rows (transactions through the feature engine, with the rules'
 * points, or feature rows from fd-features), applies the labels known at training time (case
 * outcomes from the store, the label delay with an as-of time), splits the rows in time (the
 * last FD_TRAIN_VAL_SHARE validates), drops the features missing or constant in every row,
 * and assembles the model: histograms, boosted trees (labelled rows, sampled), scaler,
 * autoencoder and isolation forest (rows not labelled fraud), thresholds and stackers
 * calibrated on the validation rows, and the metrics JSON that --inspect shows.  Everything
 * that goes into the model is deterministic for the options' seed; timings go to the result
 * only.
 *
 * Never prints, never exits: messages for a person (a skipped bad record, the features dropped,
 * a layer that could not be trained) go to the note callback, the reading progress to the
 * progress callback, the autoencoder's epochs to the epoch callback; the caller decides what to
 * show.  Writing the model file and registering it in a store are the caller's.
 */
#ifndef FD_TRAIN_H
#define FD_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"
#include "fd_gbdt.h"
#include "fd_nn.h"

struct fd_colmap;
struct fd_model;
struct fd_rules;
struct fd_store;
struct fd_txn_bad;
struct fd_txnsrc;

#define FD_TRAIN_VAL_SHARE 0.2   /* the last fifth of the training period in time validates */
#define FD_TRAIN_MIN_ROWS 10     /* rows needed to train on and to validate */
#define FD_TRAIN_MIN_FRAUD_GB 20 /* labelled frauds the boosted trees need in the training part */

enum fd_train_input { FD_TRAIN_TXNS, FD_TRAIN_FEATURES };

/* What a note is: a bad record skipped (always worth showing), a fact about the training
 * (shown unless quiet), a step starting (shown with progress). */
enum fd_train_note { FD_TRAIN_NOTE_BAD, FD_TRAIN_NOTE_INFO, FD_TRAIN_NOTE_PROGRESS };

/* CPU seconds of the process per phase, in this order. */
enum { FD_TRAIN_P_FEAT, FD_TRAIN_P_PREP, FD_TRAIN_P_TREES, FD_TRAIN_P_AE, FD_TRAIN_P_FOREST,
       FD_TRAIN_P_STACK, FD_TRAIN_P_N };

struct fd_train_opts {
	/* the input: transactions or feature rows from paths (none: standard input), or with
	 * store_input the store's transactions in [since, until) (earlier ones warm the state) */
	int input;                      /* enum fd_train_input */
	const char *const *paths;       /* borrowed */
	size_t npaths;
	struct fd_store *store;         /* borrowed; case outcomes are read from it when set */
	int store_input;
	int64_t since, until;           /* ms; INT64_MIN / INT64_MAX for open ends */
	const struct fd_colmap *map;    /* borrowed; NULL: fd's own columns */
	char delimiter;                 /* 0: ',' */
	int tz_offset_min;              /* zone of timestamps without one */
	const char *tz;                 /* its name as given, NULL: none given */
	const char *currency;           /* NULL: USD */
	int sort, strict;               /* read all and sort; stop at the first bad record */
	double label_delay;             /* days: 7 */
	const char *features;           /* comma-separated list, NULL: the catalog / the file's */
	const struct fd_rules *rules;   /* borrowed; transactions only; NULL: no rules */
	const char *rules_sha256;       /* recorded with the rules */
	/* labels */
	int has_as_of;
	int64_t as_of;                  /* labels later than as_of minus the delay are unused */
	/* the layers */
	const char *layers;             /* hidden layers "12,6,12"; NULL: the default */
	unsigned epochs, patience;      /* 100, 5 */
	size_t batch;                   /* 64 */
	unsigned trees;                 /* isolation trees: 100 */
	size_t subsample;               /* rows per tree: 256 */
	uint64_t seed;                  /* 1 */
	int no_gbdt;
	unsigned gb_rounds, gb_eval_every;  /* 400, 2 */
	size_t gb_rows, ae_rows;        /* 100000 each; 0 = every row */
	double gb_pos_weight;           /* 1 */
	double gb_eta;                  /* learning rate: 0.1 */
	unsigned gb_depth;              /* tree depth: 3 */
	int gb_refit;                   /* 1 (the default): after early stopping, boost again for the rounds
					   kept on the training and validation rows together
					   (the stackers still learn from the first trees'
					   validation scores) */
	double alerts_per_day;          /* > 0: thresholds from this budget, not quantiles */
	int has_created;
	int64_t created_ms;             /* the model's time; without: the data's latest */
	/* callbacks, each may be NULL */
	void (*note)(void *user, int kind, const char *msg);
	void (*progress)(void *user, int64_t records, uint64_t bytes, int done);
	int (*epoch)(unsigned epoch, double train_loss, double val_loss, double rows_per_s, void *user);
	void *user;
};

/* The defaults above, no input, no callbacks. */
void fd_train_opts_init(struct fd_train_opts *o);

struct fd_train_result {
	struct fd_model *model;         /* owned; fd_train_result_release frees it */
	int64_t read, fraud, bad;       /* rows read, labelled fraud, bad records skipped */
	size_t rows, nf;                /* rows kept and features after dropping */
	size_t n_train, n_val;          /* the split */
	size_t n_unsup, n_ae;           /* rows not labelled fraud in the training part; those
					   the autoencoder learnt from (a sample) */
	size_t train_fraud, val_fraud, val_legit, val_unknown;
	size_t hidden[FD_NN_MAX_HIDDEN], nh;
	struct fd_nn_train_result nn;
	double ae_seconds;              /* wall time of the autoencoder's training */
	int has_gbdt;
	struct fd_gbdt_result gb;
	size_t gb_n, gb_fraud, gb_legit, gb_legit_all, gb_val_n;
	size_t gb_refit_n;              /* rows of the refit (0: none) */
	double gb_seconds;
	double qm, qh;                  /* the MEDIUM and HIGH quantiles */
	double cpu[FD_TRAIN_P_N];
};

/*
 * Train.  On success res->model is complete but for nothing the caller must add (its file is
 * fd_model_encode's).  FD_EUSAGE when --alerts-per-day cannot apply to the data; FD_EINPUT
 * for input that cannot be trained on (too few rows, every feature dropped, a bad record with
 * strict); FD_EIO for reading failures and out of memory.  res is filled as far as training
 * got; release it either way.
 */
int fd_train_run(const struct fd_train_opts *o, struct fd_train_result *res, struct fd_err *err);
void fd_train_result_release(struct fd_train_result *res);

/* CPU seconds of the process so far (every thread): the per-phase breakdown's clock. */
double fd_train_cpu_seconds(void);

/* The name of a phase of res->cpu ("features", "preparation", ...). */
const char *fd_train_phase_name(int phase);

/* Does the file at path hold feature rows (no sender column) rather than transactions? */
int fd_train_looks_like_features(const char *path, char delimiter, const struct fd_colmap *map,
				 int *features, struct fd_err *err);

/* Open the transactions as training reads them (the input, zone, currency and map of o):
 * fd-train eval reads its rows the same way. */
int fd_train_source_open(struct fd_txnsrc **src, const struct fd_train_opts *o, struct fd_err *err);

/* A bad record at where: a note (and FD_OK), or with o->strict FD_EINPUT with it in err. */
int fd_train_bad_record(const struct fd_train_opts *o, const char *where, const struct fd_txn_bad *b,
			struct fd_err *err);

#endif
